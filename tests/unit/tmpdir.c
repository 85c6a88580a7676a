// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include "tests/unit/tmpdir.h"

int tu_tmpdir_make(char *tmpl)
{
	return mkdtemp(tmpl) ? 0 : -errno;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tu_tmpdir_remove(const char *dir)
{
	/* a failed remove() ends the walk with its errno */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
