/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The preamble's directives, handled by the front end itself (never by a
 * C preprocessor: docs/internals/lang.md):
 *
 *   #include <name.h> / "name.h"   a system header by name: recorded, and
 *                                  only looked up on the node (types come
 *                                  from BTF); no path, no "..", no macro
 *   #define, #undef                macros (lang/macro.h)
 *   #if, #ifdef, #ifndef, #elif, #else, #endif
 *                                  evaluated here: integers, defined(X),
 *                                  ! && || == != < <= > >= + - ( ), object-like
 *                                  macros; BPFTRACE_HAVE_BTF is defined (1)
 *
 * Any other directive (#import, #pragma, #line, #error, #include_next ...)
 * is an error naming it, with its line and column.
 */
#ifndef TG_LANG_PREPROC_H
#define TG_LANG_PREPROC_H

#include <stdbool.h>
#include "lang/ast.h"
#include "lang/macro.h"

#define TG_MAX_IF_DEPTH      32
#define TG_MAX_INCLUDES      64
#define TG_MAX_INCLUDE_NAME  255

struct lang_pp {
	struct lang_macros macros;
	unsigned depth;                       /* open #if blocks */
	bool on[TG_MAX_IF_DEPTH + 1];         /* on[depth]: this block's branch is live */
	bool taken[TG_MAX_IF_DEPTH + 1];      /* a branch of this block was taken */
	bool seen_else[TG_MAX_IF_DEPTH + 1];
	struct lang_loc open[TG_MAX_IF_DEPTH + 1];
};

/* Starts with BPFTRACE_HAVE_BTF defined. */
int lang_pp_init(struct lang_pp *pp);
void lang_pp_release(struct lang_pp *pp);
/* One `#...` line (continuations included) at loc.  Adds #include lines to
 * prog->includes. */
int lang_pp_directive(struct lang_pp *pp, const char *line, struct lang_loc loc, struct lang_program *prog,
		    struct lang_diag *diag);
/* Whether text here is live (not in a false #if branch). */
bool lang_pp_live(const struct lang_pp *pp);
/* At the end of the preamble: an #if left open is an error. */
int lang_pp_finish(const struct lang_pp *pp, struct lang_diag *diag);

/* True when name is a valid header name for #include (and a policy's
 * includes pattern, with globs when glob is true). */
bool lang_include_name_ok(const char *name, bool glob);

#endif
