/* SPDX-License-Identifier: Apache-2.0 */
/* Attach points: splitting tg_lex_attach()'s text into struct tg_attach. */
#ifndef TG_LANG_ATTACH_H
#define TG_LANG_ATTACH_H

#include "lang/ast.h"
#include "lang/lexer.h"

/* Fills *a from a TG_T_ATTACH token (a must be zeroed; on failure it may
 * hold parts: release it either way).  0, or a negative code with diag. */
int tg_attach_parse(const struct tg_token *t, struct tg_attach *a, struct tg_diag *diag);
void tg_attach_release(struct tg_attach *a);
/* "k" -> "kprobe" ...; NULL when not a probe type. */
const char *tg_probe_type_canonical(const char *type);

#endif
