/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Positional parameters in attach points.  bpftrace treats $1.. as
 * compile-time constants everywhere, also in attach points
 * (`interval:ms:$1`, `BEG$1` run with the argument IN, `uprobe:$1:main`);
 * the parser only knows attach points as written, so the text of every
 * attach point has its $N and $# replaced before parsing.  Predicates and
 * probe bodies are left alone (there $1 stays an expression).
 */
#ifndef TG_RUNNER_PARAMS_H
#define TG_RUNNER_PARAMS_H

#include <stddef.h>
#include "policy/ast.h"

/* Returns 0 with *ret NULL when no attach point has a parameter (use src
 * as is), 0 with *ret (caller frees, NUL-terminated, *ret_len bytes) the
 * substituted text, or -TG_ETYPE / -TG_ELIMIT with diag naming the
 * parameter (a missing one, or a result past TG_MAX_SOURCE_BYTES). */
int params_subst_attach(const char *src, size_t len, const char *const *params, size_t nparams,
			char **ret, size_t *ret_len, struct tg_diag *diag);

#endif
