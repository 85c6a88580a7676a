/* SPDX-License-Identifier: Apache-2.0 */
/* Attach points: splitting lang_lex_attach()'s text into struct lang_attach. */
#ifndef TG_LANG_ATTACH_H
#define TG_LANG_ATTACH_H

#include "lang/ast.h"
#include "lang/lexer.h"

/* Fills *a from a TG_T_ATTACH token (a must be zeroed; on failure it may
 * hold parts: release it either way).  0, or a negative code with diag. */
int lang_attach_parse(const struct lang_token *t, struct lang_attach *a, struct lang_diag *diag);
void lang_attach_release(struct lang_attach *a);
/* "k" -> "kprobe" ...; NULL when not a probe type. */
const char *lang_probe_type_canonical(const char *type);

#endif
