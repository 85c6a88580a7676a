/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lexer of bpftrace 0.17's language: a cursor over the source that
 * hands out one token at a time.  It follows bpftrace's flex rules
 * (src/lexer.l) so that the same text splits into the same tokens:
 *
 *   - words are classified by bpftrace's fixed lists: builtins (pid, comm,
 *     arg0..arg9, ...), functions (printf, count, ...), kstack/ustack
 *     (either), the stack modes perf/bpftrace, keywords; anything else is
 *     an identifier;
 *   - `struct`/`union`/`enum` switch to C-text mode: up to a `*` or `)`
 *     the text is a type name (an IDENT "struct Foo"); up to the matching
 *     `}` (and a `;` right after it) it is a definition (STRUCT_DEFN);
 *   - `/` is ENDPRED when the next non-space character is `/` or `{`,
 *     else division (so predicates and division can share the character);
 *   - attach points have their own rules, so the parser asks for them
 *     with lang_lex_attach() where a probe starts.
 *
 * Errors fill a struct lang_diag (line, column, message) and return
 * -TG_EPARSE or -TG_ELIMIT; the lexer never reads past len.
 */
#ifndef TG_LANG_LEXER_H
#define TG_LANG_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lang/ast.h"

enum lang_tok {
	TG_T_EOF = 0,
	TG_T_IDENT,        /* text: name, or "struct Foo" from C-text mode */
	TG_T_BUILTIN,      /* text */
	TG_T_CALL,         /* text */
	TG_T_CALL_BUILTIN, /* kstack / ustack: a builtin or a call */
	TG_T_STACK_MODE,   /* perf / bpftrace */
	TG_T_STRUCT_DEFN,  /* text: "struct Foo { ... }" as written */
	TG_T_CPREPROC,     /* text: the whole `#...` line */
	TG_T_INT,          /* num */
	TG_T_STR,          /* text (decoded, may hold NUL), text_len */
	TG_T_MAP,          /* text: "@name" or "@" */
	TG_T_VAR,          /* text: "$name" */
	TG_T_PARAM,        /* num: N of $N (0 when too large or $0) */
	TG_T_PARAMCOUNT,   /* $# */
	TG_T_IF, TG_T_ELSE, TG_T_UNROLL, TG_T_WHILE, TG_T_FOR,
	TG_T_RETURN, TG_T_CONTINUE, TG_T_BREAK,
	TG_T_COLON, TG_T_SEMI, TG_T_LBRACE, TG_T_RBRACE, TG_T_LBRACKET,
	TG_T_RBRACKET, TG_T_LPAREN, TG_T_RPAREN, TG_T_ENDPRED, TG_T_COMMA,
	TG_T_QUES,
	TG_T_ASSIGN, TG_T_LEFTASSIGN, TG_T_RIGHTASSIGN, TG_T_PLUSASSIGN,
	TG_T_MINUSASSIGN, TG_T_MULASSIGN, TG_T_DIVASSIGN, TG_T_MODASSIGN,
	TG_T_BANDASSIGN, TG_T_BORASSIGN, TG_T_BXORASSIGN,
	TG_T_EQ, TG_T_NE, TG_T_LE, TG_T_GE, TG_T_LEFT, TG_T_RIGHT, TG_T_LT,
	TG_T_GT, TG_T_LAND, TG_T_LOR, TG_T_PLUS, TG_T_MINUS, TG_T_INCREMENT,
	TG_T_DECREMENT, TG_T_MUL, TG_T_DIV, TG_T_MOD, TG_T_BAND, TG_T_BOR,
	TG_T_BXOR, TG_T_LNOT, TG_T_BNOT, TG_T_DOT, TG_T_PTR,
	TG_T_ATTACH,       /* from lang_lex_attach: text = attach point text */
};

enum lang_tok_flags {
	TG_TOKF_HEX = 1u << 0,   /* INT written as 0x... */
};

struct lang_token {
	enum lang_tok kind;
	struct lang_loc loc;
	size_t off;         /* byte offset of the first character */
	size_t len;         /* bytes of source the token spans */
	uint64_t num;
	uint32_t flags;
	char *text;         /* owned; NULL for punctuation */
	size_t text_len;
};

struct lang_lexer {
	const char *src;
	size_t len;
	size_t pos;
	uint32_t line;
	uint32_t col;
	/* Positional parameters ($1 = params[0]): lang_lex_attach puts a
	 * checked value in place of `$N` (set by the parser's options). */
	const char *const *params;
	size_t nparams;
};

void lang_lexer_init(struct lang_lexer *lx, const char *src, size_t len);

/* The next token in normal mode.  tok is overwritten (release it first). */
int lang_lex(struct lang_lexer *lx, struct lang_token *tok, struct lang_diag *diag);

/*
 * One attach point's text, concatenated the way bpftrace's grammar does
 * (words, `:path` runs, `:`, strings re-quoted, integers as written, `.`
 * `+` `*` `[` `]`), skipping blanks and comments in between, except
 * that a word or number after a blank that follows a word or number ends
 * it.  Stops before anything else (`,` `/` `{` end of file ...).  An empty
 * text means no attach point starts here.  The text lexes back to itself.
 * `$N` is replaced by lx->params[N-1], which must be a name or a glob
 * (no separator, blank, brace, quote or `$`): a parameter can fill one
 * component of an attach point, never add probes or code.
 */
int lang_lex_attach(struct lang_lexer *lx, struct lang_token *tok, struct lang_diag *diag);

/* Skips blanks, comments and `#!` lines.  Returns the next byte (or -1 at
 * the end) without consuming it, or a negative code on an unterminated
 * comment. */
int lang_lex_skip_blank(struct lang_lexer *lx, struct lang_diag *diag);
/* True when the cursor is on the word `struct`, `union` or `enum`. */
bool lang_lex_at_cdef(const struct lang_lexer *lx);

void lang_token_release(struct lang_token *tok);

/* "\"{\"", "identifier" ... for messages about a kind of token. */
const char *lang_tok_name(enum lang_tok kind);

/*
 * An integer literal as bpftrace's int_parser reads it: `_` separators,
 * 0x hex, leading-0 octal, `1e6` exponents (coefficient 0-9, exponent up
 * to 16), u/l/ul/ll/ull suffixes.  On failure *ret_err names the problem.
 */
int lang_parse_int_literal(const char *s, size_t len, uint64_t *ret, const char **ret_err);

/* bpftrace 0.17's fixed word lists (kstack/ustack are in both). */
bool lang_lex_is_builtin(const char *word);
bool lang_lex_is_function(const char *word);

/* The location of p, in text that starts at base (front-end internal). */
struct lang_loc lang_loc_after(struct lang_loc base, const char *text, const char *p);
/* Length of the C identifier at s, 0 when none starts there. */
size_t lang_ident_len(const char *s);

/* Fills a diagnostic (front-end internal, shared by lexer and parser). */
int lang_diag_setf(struct lang_diag *diag, struct lang_loc loc, uint32_t span, int code,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Quotes up to max bytes of s for a message: printable ASCII as is, others
 * as \xHH, `...` when cut.  out must hold 4 * max + 8 bytes. */
void lang_quote_text(const char *s, size_t len, size_t max, char *out, size_t outsz);

#endif
