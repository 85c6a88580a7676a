// SPDX-License-Identifier: Apache-2.0
/* The program's C definitions, parsed and printed back (see cdecl.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/cdecl.h"
#include "lang/lexer.h"
#include "lib/banned.h"

/* ---- names --------------------------------------------------------------- */

bool lang_cdecl_reserved(const char *n)
{
	static const char *const words[] = {
		"auto", "break", "case", "char", "const", "continue", "default", "do", "double",
		"else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
		"register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
		"switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
		"_Complex", "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn",
		"_Static_assert", "_Thread_local", "_Pragma", "asm", "typeof", "__asm", "__asm__",
		"__attribute", "__attribute__", "__typeof", "__typeof__", "__extension__", "__inline",
		"__inline__", "__restrict", "__restrict__", "__volatile__", "__const", "__signed__",
		"__has_include", "__has_include_next", "__VA_ARGS__", "__VA_OPT__", "defined",
		"__declspec", "__label__", "__auto_type", "__int128", "__seg_fs", "__seg_gs", NULL,
	};

	if (!strncmp(n, "__builtin", 9) || !strncmp(n, "__has_", 6))
		return true;
	for (size_t i = 0; words[i]; i++)
		if (!strcmp(words[i], n))
			return true;
	return false;
}

/* Words that make up C's arithmetic types, in the order they print. */
static const char *const type_words[] = {
	"unsigned", "signed", "char", "short", "int", "long", "_Bool", "float", "double", "void",
};

static int type_word(const char *w)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_words); i++)
		if (!strcmp(type_words[i], w))
			return (int)i;
	if (!strcmp(w, "bool"))
		return 6;
	return -1;
}

/* ---- tokens: a small C tokenizer over the definition as written ---------- */

struct clex {
	const char *s;
	size_t len, pos;
	struct lang_loc loc;
};

static bool c_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool c_ident_char(int c)
{
	return c_ident_start(c) || (c >= '0' && c <= '9');
}

static void cadv(struct clex *x, size_t n)
{
	while (n-- && x->pos < x->len) {
		if (x->s[x->pos] == '\n') {
			x->loc.line++;
			x->loc.col = 1;
		} else {
			x->loc.col++;
		}
		x->pos++;
	}
}

static int cpeek(const struct clex *x, size_t k)
{
	return x->pos + k < x->len ? (unsigned char)x->s[x->pos + k] : -1;
}

static int craw(void *ctx, struct lang_token *t, struct lang_diag *diag)
{
	static const struct { char c; enum lang_tok k; } punct[] = {
		{ '{', TG_T_LBRACE }, { '}', TG_T_RBRACE }, { ';', TG_T_SEMI }, { '*', TG_T_MUL },
		{ '[', TG_T_LBRACKET }, { ']', TG_T_RBRACKET }, { ',', TG_T_COMMA }, { ':', TG_T_COLON },
		{ '(', TG_T_LPAREN }, { ')', TG_T_RPAREN }, { '=', TG_T_ASSIGN }, { '-', TG_T_MINUS },
		{ '+', TG_T_PLUS },
	};
	struct clex *x = ctx;
	char q[16];
	int c;

	memset(t, 0, sizeof(*t));
	for (;;) {
		c = cpeek(x, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			cadv(x, 1);
		} else if (c == '/' && cpeek(x, 1) == '/') {
			while (cpeek(x, 0) != -1 && cpeek(x, 0) != '\n')
				cadv(x, 1);
		} else if (c == '/' && cpeek(x, 1) == '*') {
			struct lang_loc at = x->loc;

			cadv(x, 2);
			while (cpeek(x, 0) != -1 && !(cpeek(x, 0) == '*' && cpeek(x, 1) == '/'))
				cadv(x, 1);
			if (cpeek(x, 0) == -1)
				return lang_diag_setf(diag, at, 2, -TG_EPARSE, "comment \"/*\" not closed");
			cadv(x, 2);
		} else {
			break;
		}
	}
	t->loc = x->loc;
	t->off = x->pos;
	if (c == -1) {
		t->kind = TG_T_EOF;
		return 0;
	}
	if (c_ident_start(c)) {
		size_t n = 1;

		while (c_ident_char(cpeek(x, n)))
			n++;
		t->kind = TG_T_IDENT;
		t->text = strndup(x->s + x->pos, n);
		if (!t->text)
			return -ENOMEM;
		t->text_len = n;
		t->len = n;
		cadv(x, n);
		return 0;
	}
	if (c >= '0' && c <= '9') {
		size_t n = 1;
		const char *err = NULL;

		while (c_ident_char(cpeek(x, n)))
			n++;
		if (lang_parse_int_literal(x->s + x->pos, n, &t->num, &err) < 0)
			return lang_diag_setf(diag, t->loc, (uint32_t)n, -TG_EPARSE, "integer \"%.*s\": %s",
					    (int)(n > 40 ? 40 : n), x->s + x->pos, err ? err : "not valid");
		t->kind = TG_T_INT;
		t->len = n;
		cadv(x, n);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(punct); i++)
		if (punct[i].c == c) {
			t->kind = punct[i].k;
			t->len = 1;
			cadv(x, 1);
			return 0;
		}
	lang_quote_text(x->s + x->pos, 1, 1, q, sizeof(q));
	return lang_diag_setf(diag, t->loc, 1, -TG_EPARSE,
			    "character \"%s\" is not valid in a definition (C definitions take types, names, "
			    "numbers and { } ; * [ ] , : ( ) =)", q);
}

/* ---- the parser ------------------------------------------------------------ */

struct cd {
	struct lang_tstream ts;
	struct lang_token la;
	bool have;
	struct lang_diag *diag;
	struct lang_cdef **defs;
	size_t *ndefs;
	unsigned depth;
	int err;
};

static struct lang_token *peek(struct cd *c)
{
	if (!c->have && !c->err) {
		int r = lang_tstream_next(&c->ts, &c->la, c->diag);

		if (r < 0) {
			c->err = r;
			memset(&c->la, 0, sizeof(c->la));
			c->la.kind = TG_T_EOF;
		}
		c->have = true;
	}
	return &c->la;
}

static void skip(struct cd *c)
{
	peek(c);
	lang_token_release(&c->la);
	c->have = false;
}

static int fail(struct cd *c, const struct lang_token *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct cd *c, const struct lang_token *t, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->err)
		return c->err;
	c->err = code;
	c->diag->loc = t->loc;
	c->diag->span = t->len ? (uint32_t)t->len : 1;
	va_start(ap, fmt);
	vsnprintf(c->diag->msg, sizeof(c->diag->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* A word: an identifier (or, from a macro body, what the language's lexer
 * made of one). */
static const char *word(const struct lang_token *t)
{
	if ((t->kind == TG_T_IDENT || t->kind == TG_T_BUILTIN || t->kind == TG_T_CALL ||
	     t->kind == TG_T_CALL_BUILTIN || t->kind == TG_T_STACK_MODE) && t->text &&
	    !strchr(t->text, ' '))
		return t->text;
	return NULL;
}

static const char *tok_desc(const struct lang_token *t, char *b, size_t sz)
{
	if (t->kind == TG_T_EOF)
		snprintf(b, sz, "the end of the definition");
	else if (t->text)
		snprintf(b, sz, "\"%.40s\"", t->text);
	else if (t->kind == TG_T_INT)
		snprintf(b, sz, "number %llu", (unsigned long long)t->num);
	else
		snprintf(b, sz, "%s", lang_tok_name(t->kind));
	return b;
}

static bool expect(struct cd *c, enum lang_tok k, const char *what)
{
	char d[64];

	if (peek(c)->kind == k) {
		skip(c);
		return true;
	}
	fail(c, peek(c), -TG_EPARSE, "definition: unexpected %s, expected %s", tok_desc(peek(c), d, sizeof(d)),
	     what);
	return false;
}

/* A name the definition gives (member, struct, enumerator): an identifier
 * that is not a C keyword or compiler builtin. */
static char *take_name(struct cd *c, const char *what)
{
	struct lang_token *t = peek(c);
	const char *w = word(t);
	char d[64], *n;

	if (!w) {
		fail(c, t, -TG_EPARSE, "definition: unexpected %s, expected %s", tok_desc(t, d, sizeof(d)), what);
		return NULL;
	}
	if (lang_cdecl_reserved(w)) {
		fail(c, t, -TG_EPARSE, "definition: \"%s\" is a C keyword or compiler name, not a valid %s", w,
		     what);
		return NULL;
	}
	n = strdup(w);
	if (!n) {
		c->err = -ENOMEM;
		return NULL;
	}
	skip(c);
	return n;
}

/* An integer: N, -N (enumerators), each possibly from a macro. */
static bool take_int(struct cd *c, bool allow_neg, int64_t *ret, const char *what)
{
	bool neg = false;
	struct lang_token *t;
	char d[64];

	if (allow_neg && peek(c)->kind == TG_T_MINUS) {
		neg = true;
		skip(c);
	} else if (allow_neg && peek(c)->kind == TG_T_PLUS) {
		skip(c);
	}
	t = peek(c);
	if (t->kind != TG_T_INT) {
		fail(c, t, -TG_EPARSE, "definition: unexpected %s, expected %s (a number, or a #define of one)",
		     tok_desc(t, d, sizeof(d)), what);
		return false;
	}
	if (t->num > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
		fail(c, t, -TG_EPARSE, "definition: %s %llu is out of range", what, (unsigned long long)t->num);
		return false;
	}
	*ret = neg ? (int64_t)(0 - t->num) : (int64_t)t->num;
	skip(c);
	return true;
}

static int add_def(struct cd *c, const char *kw, const char *name, struct buf *text, struct lang_loc loc)
{
	struct lang_cdef *v;

	if (*c->ndefs >= TG_MAX_CDEFS)
		return fail(c, peek(c), -TG_ELIMIT, "program has more than %d definitions (TG_MAX_CDEFS)",
			    TG_MAX_CDEFS);
	v = reallocarray(*c->defs, *c->ndefs + 1, sizeof(*v));
	if (!v)
		return c->err = -ENOMEM;
	*c->defs = v;
	v += *c->ndefs;
	memset(v, 0, sizeof(*v));
	if ((name ? asprintf(&v->name, "%s %s", kw, name) : asprintf(&v->name, "%s", kw)) < 0) {
		v->name = NULL;
		return c->err = -ENOMEM;
	}
	v->text = buf_detach(text, NULL);
	if (!v->text) {
		free(v->name);
		return c->err = -ENOMEM;
	}
	v->loc = loc;
	(*c->ndefs)++;
	return 0;
}

static int indent(struct buf *b, unsigned level)
{
	int r = 0;

	for (unsigned i = 0; i < level && r == 0; i++)
		r = buf_addc(b, '\t');
	return r;
}

static int members(struct cd *c, bool is_enum, struct buf *out, unsigned level);

/*
 * After `struct`/`union`/`enum` (kw): `NAME`, `NAME { ... }` or `{ ... }`.
 * A named body becomes its own definition (added to *defs) and the type
 * is "kw NAME"; an anonymous body is printed inline into *type.
 */
static int aggregate(struct cd *c, const char *kw, struct lang_loc loc, unsigned level, struct buf *type)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_buf_ struct buf body = BUF_INIT(TG_MAX_SOURCE_BYTES);
	bool is_enum = !strcmp(kw, "enum");
	int r;

	if (peek(c)->kind != TG_T_LBRACE) {
		name = take_name(c, is_enum ? "enum name" : "struct or union name");
		if (!name)
			return c->err;
	}
	if (peek(c)->kind != TG_T_LBRACE) {
		if (!name)
			return fail(c, peek(c), -TG_EPARSE, "definition: expected a name or \"{\" after \"%s\"", kw);
		return buf_printf(type, "%s %s", kw, name);
	}
	if (++c->depth > TG_MAX_CDEF_DEPTH)
		return fail(c, peek(c), -TG_ELIMIT, "definitions nested more than %d deep (TG_MAX_CDEF_DEPTH)",
			    TG_MAX_CDEF_DEPTH);
	skip(c);        /* { */
	r = buf_printf(&body, "%s%s%s {\n", kw, name ? " " : "", name ? name : "");
	if (r == 0)
		r = members(c, is_enum, &body, name ? 1 : level + 1);
	if (r < 0)
		return c->err ? c->err : r;
	if (!expect(c, TG_T_RBRACE, "\"}\" to end the definition"))
		return c->err;
	c->depth--;
	if (name) {
		r = buf_adds(&body, "};\n");
		if (r == 0)
			r = add_def(c, kw, name, &body, loc);
		if (r == 0)
			r = buf_printf(type, "%s %s", kw, name);
		return r;
	}
	r = indent(&body, level);
	if (r == 0)
		r = buf_addc(&body, '}');
	if (r == 0)
		r = buf_add(type, body.s, body.len);
	return r;
}

/* `[*...] NAME [[N]...] [: BITS]` or `(*NAME)(...)`, printed after type. */
static int declarator(struct cd *c, const char *type, struct buf *out, unsigned level, bool *bitfield)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_buf_ struct buf dims = BUF_INIT(4096);
	unsigned stars = 0;
	bool fnptr = false;
	int64_t n;
	int r;

	*bitfield = false;
	while (peek(c)->kind == TG_T_MUL || (word(peek(c)) && (!strcmp(word(peek(c)), "const") ||
							     !strcmp(word(peek(c)), "volatile")))) {
		if (peek(c)->kind == TG_T_MUL && ++stars > 8)
			return fail(c, peek(c), -TG_ELIMIT, "definition: more than 8 levels of pointer");
		skip(c);
	}
	if (peek(c)->kind == TG_T_LPAREN) {
		unsigned depth = 0;

		/* (*name)(args): a function pointer, as wide as any pointer */
		skip(c);
		if (!expect(c, TG_T_MUL, "\"*\" of a function pointer"))
			return c->err;
		name = take_name(c, "member name");
		if (!name || !expect(c, TG_T_RPAREN, "\")\" of a function pointer") ||
		    !expect(c, TG_T_LPAREN, "\"(\" of a function pointer's parameters"))
			return c->err;
		/* its parameters are never printed: only their shape is checked */
		while (!c->err && (depth || peek(c)->kind != TG_T_RPAREN)) {
			struct lang_token *t = peek(c);

			if (t->kind == TG_T_EOF || t->kind == TG_T_LBRACE || t->kind == TG_T_RBRACE ||
			    t->kind == TG_T_SEMI)
				return fail(c, t, -TG_EPARSE, "definition: function pointer parameters not closed with \")\"");
			if (t->kind == TG_T_LPAREN)
				depth++;
			if (t->kind == TG_T_RPAREN)
				depth--;
			skip(c);
		}
		if (!expect(c, TG_T_RPAREN, "\")\""))
			return c->err;
		fnptr = true;
	} else {
		name = take_name(c, "member name");
		if (!name)
			return c->err;
	}
	while (!fnptr && peek(c)->kind == TG_T_LBRACKET) {
		struct lang_token at;

		skip(c);
		at = (struct lang_token){ .loc = peek(c)->loc, .len = peek(c)->len };
		if (!take_int(c, false, &n, "array size"))
			return c->err;
		if (n <= 0 || n > (1 << 24))
			return fail(c, &at, -TG_ELIMIT, "definition: array size %lld is not between 1 and %d",
				    (long long)n, 1 << 24);
		if (!expect(c, TG_T_RBRACKET, "\"]\""))
			return c->err;
		if (buf_printf(&dims, "[%lld]", (long long)n) < 0)
			return c->err = -ENOMEM;
	}
	r = indent(out, level);
	if (r == 0 && fnptr)
		r = buf_printf(out, "void *%s", name);
	else if (r == 0)
		r = buf_printf(out, "%s %.*s%s%s", type, (int)stars, "********", name, dims.len ? dims.s : "");
	if (r == 0 && !fnptr && peek(c)->kind == TG_T_COLON) {
		struct lang_token at;

		skip(c);
		at = (struct lang_token){ .loc = peek(c)->loc, .len = peek(c)->len };
		if (!take_int(c, false, &n, "bit-field width"))
			return c->err;
		if (n > 64 || stars || dims.len)
			return fail(c, &at, -TG_EPARSE, "definition: bit-field \"%s\" of %lld bits is not valid",
				    name, (long long)n);
		r = buf_printf(out, " : %lld", (long long)n);
		*bitfield = true;
	}
	return r < 0 ? (c->err = r) : 0;
}

/* The type words of a member: [const] (int words | typedef name |
 * struct/union/enum ...), into *type. */
static int member_type(struct cd *c, unsigned level, struct buf *type)
{
	bool seen[ARRAY_SIZE(type_words)] = { false };
	unsigned longs = 0, nwords = 0;
	bool is_const = false;
	struct lang_token *t;
	const char *w;
	char d[64];

	while ((w = word(peek(c))) && (!strcmp(w, "const") || !strcmp(w, "volatile"))) {
		is_const = is_const || !strcmp(w, "const");
		skip(c);
	}
	if (is_const && buf_adds(type, "const ") < 0)
		return c->err = -ENOMEM;
	t = peek(c);
	w = word(t);
	if (t->kind == TG_T_IDENT && t->text && strchr(t->text, ' ')) {
		/* "struct foo" as the language's lexer gives it from a macro */
		_cleanup_free_ char *kw = strndup(t->text, strcspn(t->text, " "));
		const char *nm = strchr(t->text, ' ') + 1;

		if (!kw)
			return c->err = -ENOMEM;
		if ((strcmp(kw, "struct") && strcmp(kw, "union") && strcmp(kw, "enum")) ||
		    lang_cdecl_reserved(nm))
			return fail(c, t, -TG_EPARSE, "definition: type \"%s\" is not valid", t->text);
		if (buf_printf(type, "%s %s", kw, nm) < 0)
			return c->err = -ENOMEM;
		skip(c);
		return 0;
	}
	if (w && (!strcmp(w, "struct") || !strcmp(w, "union") || !strcmp(w, "enum"))) {
		_cleanup_free_ char *kw = strdup(w);
		struct lang_loc loc = t->loc;

		if (!kw)
			return c->err = -ENOMEM;
		skip(c);
		return aggregate(c, kw, loc, level, type);
	}
	while ((w = word(peek(c))) && type_word(w) >= 0) {
		int k = type_word(w);

		if (k == 5 && ++longs <= 2) {
			nwords++;
			skip(c);
			continue;
		}
		if (seen[k] || k == 5)
			return fail(c, peek(c), -TG_EPARSE, "definition: \"%s\" given twice in a type", w);
		seen[k] = true;
		nwords++;
		skip(c);
	}
	if (nwords) {
		int r = 0;
		bool first = true;

		for (size_t i = 0; i < ARRAY_SIZE(type_words) && r == 0; i++) {
			unsigned times = i == 5 ? longs : seen[i];

			for (unsigned k = 0; k < times && r == 0; k++) {
				r = buf_printf(type, "%s%s", first ? "" : " ", type_words[i]);
				first = false;
			}
		}
		return r < 0 ? (c->err = r) : 0;
	}
	if (!w) {
		fail(c, peek(c), -TG_EPARSE, "definition: unexpected %s, expected a member's type",
		     tok_desc(peek(c), d, sizeof(d)));
		return c->err;
	}
	if (lang_cdecl_reserved(w))
		return fail(c, peek(c), -TG_EPARSE, "definition: \"%s\" is not supported in a definition", w);
	/* a typedef name: uint64_t, u32, pid_t ... (kernel typedefs from BTF) */
	if (buf_adds(type, w) < 0)
		return c->err = -ENOMEM;
	skip(c);
	return 0;
}

static int enumerators(struct cd *c, struct buf *out)
{
	size_t n = 0;

	while (!c->err && peek(c)->kind != TG_T_RBRACE) {
		_cleanup_free_ char *name = take_name(c, "enumerator name");
		int64_t v;
		int r;

		if (!name)
			return c->err;
		if (++n > TG_MAX_CDEF_MEMBERS)
			return fail(c, peek(c), -TG_ELIMIT, "definition: more than %d enumerators", TG_MAX_CDEF_MEMBERS);
		r = buf_printf(out, "\t%s", name);
		if (r == 0 && peek(c)->kind == TG_T_ASSIGN) {
			skip(c);
			if (!take_int(c, true, &v, "enumerator value"))
				return c->err;
			r = buf_printf(out, " = %lld", (long long)v);
		}
		if (r == 0)
			r = buf_adds(out, ",\n");
		if (r < 0)
			return c->err = r;
		if (peek(c)->kind == TG_T_COMMA)
			skip(c);
		else if (peek(c)->kind != TG_T_RBRACE)
			return fail(c, peek(c), -TG_EPARSE, "definition: expected \",\" or \"}\" after enumerator \"%s\"",
				    name);
	}
	if (!n && !c->err)
		return fail(c, peek(c), -TG_EPARSE, "definition: an enum needs at least one enumerator");
	return c->err;
}

static int members(struct cd *c, bool is_enum, struct buf *out, unsigned level)
{
	size_t n = 0;

	if (is_enum)
		return enumerators(c, out);
	while (!c->err && peek(c)->kind != TG_T_RBRACE) {
		_cleanup_buf_ struct buf type = BUF_INIT(TG_MAX_SOURCE_BYTES);
		bool bits;
		int r;

		if (peek(c)->kind == TG_T_EOF)
			return fail(c, peek(c), -TG_EPARSE, "definition: unexpected end, expected a member or \"}\"");
		if (peek(c)->kind == TG_T_SEMI) {    /* a stray ";", as clang allows */
			skip(c);
			continue;
		}
		if (++n > TG_MAX_CDEF_MEMBERS)
			return fail(c, peek(c), -TG_ELIMIT, "definition: more than %d members", TG_MAX_CDEF_MEMBERS);
		r = member_type(c, level, &type);
		if (r < 0)
			return c->err ? c->err : r;
		if (peek(c)->kind == TG_T_SEMI && strchr(type.s, '{')) {
			/* an anonymous struct or union member */
			skip(c);
			if (indent(out, level) < 0 || buf_printf(out, "%s;\n", type.s) < 0)
				return c->err = -ENOMEM;
			continue;
		}
		for (;;) {
			r = declarator(c, type.s, out, level, &bits);
			if (r < 0)
				return c->err ? c->err : r;
			if (buf_adds(out, ";\n") < 0)
				return c->err = -ENOMEM;
			if (peek(c)->kind != TG_T_COMMA)
				break;
			skip(c);
		}
		/* clang only warns about a missing ";" before "}": accept it */
		if (peek(c)->kind == TG_T_RBRACE)
			break;
		if (!expect(c, TG_T_SEMI, "\";\" after a member"))
			return c->err;
	}
	return c->err;
}

int lang_cdecl_parse(const char *text, size_t len, struct lang_loc loc, const struct lang_macros *ms,
		   struct lang_cdef **defs, size_t *ndefs, struct lang_diag *diag)
{
	struct clex x = { .s = text, .len = len, .loc = loc };
	struct cd c = { .ts = { .raw = craw, .ctx = &x, .ms = ms }, .diag = diag, .defs = defs,
			.ndefs = ndefs };
	_cleanup_buf_ struct buf type = BUF_INIT(TG_MAX_SOURCE_BYTES);
	size_t first = *ndefs;
	const char *w;
	char *kw = NULL;
	struct lang_loc at;
	char d[64];

	w = word(peek(&c));
	at = peek(&c)->loc;
	if (!c.err && (!w || (strcmp(w, "struct") && strcmp(w, "union") && strcmp(w, "enum"))))
		fail(&c, peek(&c), -TG_EPARSE, "definition: expected \"struct\", \"union\" or \"enum\"");
	if (!c.err) {
		kw = strdup(w);
		if (!kw)
			c.err = -ENOMEM;
		else
			skip(&c);
	}
	if (!c.err)
		aggregate(&c, kw, at, 0, &type);
	/* "struct X" without a body declares, it does not define */
	if (!c.err && !strchr(type.s, '{') && first == *ndefs)
		fail(&c, peek(&c), -TG_EPARSE, "definition: \"%s\" has no body \"{ ... }\"", type.s);
	if (!c.err && strchr(type.s, '{')) {
		/* an anonymous top-level definition: kept, though nothing can name it */
		if (buf_adds(&type, ";\n") < 0)
			c.err = -ENOMEM;
		else
			add_def(&c, kw, NULL, &type, at);
	}
	if (!c.err && peek(&c)->kind == TG_T_SEMI)
		skip(&c);
	if (!c.err && peek(&c)->kind != TG_T_EOF)
		fail(&c, peek(&c), -TG_EPARSE, "definition: unexpected %s after its end",
		     tok_desc(peek(&c), d, sizeof(d)));
	free(kw);
	if (c.have)
		lang_token_release(&c.la);
	lang_tstream_release(&c.ts);
	if (c.err && *ndefs > first) {
		for (size_t i = first; i < *ndefs; i++) {
			free((*defs)[i].name);
			free((*defs)[i].text);
		}
		*ndefs = first;
	}
	return c.err;
}
