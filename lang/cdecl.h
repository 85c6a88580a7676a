/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program's C definitions (`struct X { ... };`, `union`, `enum`),
 * parsed by the front end and printed back as C built only from what it
 * understood: identifiers it checked, integers it printed, and C's own
 * keywords and punctuation.  No byte of the definition as written reaches
 * a compiler; a definition outside this subset is a line:column error.
 *
 * The subset (what bpftrace programs and tools write):
 *   struct|union [NAME] { MEMBER... } [;]      enum [NAME] { A [= N], ... } [;]
 *   MEMBER:  [const|volatile] TYPE DECL [, DECL]... ;
 *            struct|union [NAME] { MEMBER... } [DECL [, DECL]...] ;   (nested)
 *   TYPE:    C's integer words (unsigned long, char, _Bool ...), void, float,
 *            double, a typedef name (uint64_t, u32, pid_t ...), struct|union|
 *            enum NAME
 *   DECL:    [*...] NAME [\[N\]...] [: BITS]  |  (*NAME)(...)  (a function
 *            pointer, kept as void *NAME)
 * Integers may come from object-like #define macros (expanded first).
 */
#ifndef TG_LANG_CDECL_H
#define TG_LANG_CDECL_H

#include <stddef.h>
#include "lib/buf.h"
#include "lang/ast.h"
#include "lang/macro.h"

#define TG_MAX_CDEF_MEMBERS  1024   /* members of one struct, union or enum */
#define TG_MAX_CDEF_DEPTH    16     /* nesting of definitions */
#define TG_MAX_CDEFS         256    /* definitions in a program (nested ones too) */

/*
 * Parses one definition: text (len bytes) is the STRUCT_DEFN token as
 * written, starting at loc.  Appends to *defs (*ndefs grows; at most
 * TG_MAX_CDEFS) one lang_cdef per named struct, union or enum it defines,
 * nested ones first, each with its canonical C text; an anonymous
 * top-level definition adds one with name "struct" / "union" / "enum".
 * Returns 0, or -TG_EPARSE / -TG_EUNSUPPORTED / -TG_ELIMIT with diag.
 */
int lang_cdecl_parse(const char *text, size_t len, struct lang_loc loc, const struct lang_macros *ms,
		   struct lang_cdef **defs, size_t *ndefs, struct lang_diag *diag);

/* True when name is a C keyword or a name the compiler treats specially
 * (__attribute__, _Pragma, __builtin_*, asm ...): never a member or type
 * name in a definition. */
bool lang_cdecl_reserved(const char *name);

#endif
