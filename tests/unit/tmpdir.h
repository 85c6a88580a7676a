/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A unit test's scratch directory: made from a mkdtemp() template in the
 * group setup, removed with everything in it in the teardown.  Linked
 * into every unit test (tests/unit/tmpdir.c).
 */
#ifndef TG_TESTS_UNIT_TMPDIR_H
#define TG_TESTS_UNIT_TMPDIR_H

/* mkdtemp(tmpl): 0, or -errno */
int tu_tmpdir_make(char *tmpl);
/* dir and all below it, symbolic links not followed: 0, or -errno of
 * the first failure */
int tu_tmpdir_remove(const char *dir);

#endif
