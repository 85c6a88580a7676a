/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_SECCOMP_H
#define TG_LIB_CLEANUP_SECCOMP_H

#include <seccomp.h>
#include "lib/cleanup.h"

static inline void seccomp_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

#endif
