/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program's own preprocessor: `#define` macros, object-like and
 * function-like, expanded by the front end on tokens, never by handing
 * program text to a C preprocessor (docs/internals/lang.md).
 *
 *   #define N 16                  object-like
 *   #define MAX(a, b) ((a) > (b) ? (a) : (b))
 *
 * Expansion follows C where bpftrace programs meet it: a function-like
 * name without `(` after it stays a name; arguments are split at top-level
 * commas; the result is scanned again, and a macro is never expanded
 * inside its own expansion (each token carries the set of macros it came
 * from).  `#` and `##` are refused when the macro is defined.  Every
 * expanded token carries the location of the name that was expanded, so
 * errors point at the use.  Limits: TG_MAX_MACROS definitions, macro
 * bodies of TG_MAX_MACRO_TOKENS tokens, TG_MAX_MACRO_EXPANSION tokens
 * produced by expansion per program (a macro that doubles itself ten
 * times is an error, not a hang).
 */
#ifndef TG_LANG_MACRO_H
#define TG_LANG_MACRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lang/lexer.h"

#define TG_MAX_MACROS           64
#define TG_MAX_MACRO_PARAMS     16
#define TG_MAX_MACRO_TOKENS     1024
#define TG_MAX_MACRO_EXPANSION  100000

struct lang_macro {
	char *name;
	bool fn;                        /* function-like: NAME(params) */
	char *params[TG_MAX_MACRO_PARAMS];
	size_t nparams;
	struct lang_token *body;
	size_t nbody;
	struct lang_loc loc;
};

struct lang_macros {
	struct lang_macro v[TG_MAX_MACROS];
	size_t n;
};

void lang_macros_release(struct lang_macros *ms);
/* text: what follows "#define" on the directive's line(s), continuation
 * backslash-newlines already joined; loc: where that text starts.
 * Returns 0, or -TG_EPARSE / -TG_ELIMIT with diag. */
int lang_macro_define(struct lang_macros *ms, const char *text, struct lang_loc loc, struct lang_diag *diag);
/* #undef: a name that is not defined is fine, as in C. */
void lang_macro_undef(struct lang_macros *ms, const char *name);
/* The macro of that name, or -1. */
int lang_macro_find(const struct lang_macros *ms, const char *name);

/* A stream of tokens with macros expanded.  raw() gives the next token of
 * the underlying source (lexer); lang_tstream_next() gives the next token
 * after expansion. */
struct lang_tstream {
	int (*raw)(void *ctx, struct lang_token *t, struct lang_diag *diag);
	void *ctx;
	const struct lang_macros *ms;     /* NULL or empty: no expansion */
	struct lang_token *stack;         /* tokens to hand out first, last = next */
	size_t n, cap;
	size_t produced;                /* tokens made by expansion so far */
	uint64_t *hide;                 /* parallel to stack: macros a token came from */
};

int lang_tstream_next(struct lang_tstream *s, struct lang_token *t, struct lang_diag *diag);
/* True when expansion left tokens that the source has not reached yet. */
bool lang_tstream_pending(const struct lang_tstream *s);
void lang_tstream_release(struct lang_tstream *s);

/* A deep copy of a token (text duplicated). */
int lang_token_copy(struct lang_token *dst, const struct lang_token *src);

#endif
