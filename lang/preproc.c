// SPDX-License-Identifier: Apache-2.0
/* The preamble's directives (see preproc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/lexer.h"
#include "lang/preproc.h"
#include "lib/banned.h"

int tg_pp_init(struct tg_pp *pp)
{
	struct tg_diag d;

	memset(pp, 0, sizeof(*pp));
	pp->on[0] = true;
	/* tracegate always has the kernel's BTF, as bpftrace with BTF does */
	return tg_macro_define(&pp->macros, "BPFTRACE_HAVE_BTF 1", (struct tg_loc){ 1, 1 }, &d);
}

void tg_pp_release(struct tg_pp *pp)
{
	tg_macros_release(&pp->macros);
}

bool tg_pp_live(const struct tg_pp *pp)
{
	return pp->on[pp->depth];
}

int tg_pp_finish(const struct tg_pp *pp, struct tg_diag *diag)
{
	if (pp->depth)
		return tg_diag_setf(diag, pp->open[pp->depth], 1, -TG_EPARSE,
				    "#if (or #ifdef/#ifndef) is not closed by #endif before the first probe");
	return 0;
}

bool tg_include_name_ok(const char *name, bool glob)
{
	size_t n = strlen(name);

	if (!n || n > TG_MAX_INCLUDE_NAME || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+' || c == '/' ||
		      (glob && (c == '*' || c == '?'))))
			return false;
		if (c == '/' && p[1] == '/')
			return false;
		/* no component that is "." or "..": a name, never a way out */
		if ((p == name || p[-1] == '/') && c == '.' && (p[1] == '/' || !p[1] ||
							       (p[1] == '.' && (p[2] == '/' || !p[2]))))
			return false;
	}
	return true;
}

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Nothing but blanks and comments may follow a directive's operand. */
static int end_of_line(const char *text, const char *p, struct tg_loc loc, const char *what,
		       struct tg_diag *diag)
{
	for (;;) {
		p = skip_blank(p);
		if (p[0] == '/' && p[1] == '/')
			return 0;
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			if (!e)
				return tg_diag_setf(diag, tg_loc_after(loc, text, p), 2, -TG_EPARSE, "comment \"/*\" not closed");
			p = e + 2;
			continue;
		}
		if (!*p)
			return 0;
		return tg_diag_setf(diag, tg_loc_after(loc, text, p), 1, -TG_EPARSE,
				    "%s: unexpected text after its end", what);
	}
}

/* ---- #include ---------------------------------------------------------- */

static int include(struct tg_pp *pp, const char *text, const char *p, struct tg_loc loc,
		   struct tg_program *prog, struct tg_diag *diag)
{
	char close;
	const char *end;
	struct tg_include *v;
	_cleanup_free_ char *name = NULL;
	int r;

	(void)pp;
	p = skip_blank(p);
	if (*p != '<' && *p != '"')
		return tg_diag_setf(diag, tg_loc_after(loc, text, p), 1, -TG_EPARSE,
				    "#include: expected <name.h> or \"name.h\" (a system header by name)");
	close = *p == '<' ? '>' : '"';
	end = strchr(p + 1, close);
	if (!end || memchr(p + 1, '\n', (size_t)(end - p - 1)))
		return tg_diag_setf(diag, tg_loc_after(loc, text, p), 1, -TG_EPARSE, "#include: the name is not closed with '%c'",
				    close);
	name = strndup(p + 1, (size_t)(end - p - 1));
	if (!name)
		return -ENOMEM;
	if (!tg_include_name_ok(name, false)) {
		char q[4 * 64 + 8];

		tg_quote_text(name, strlen(name), 64, q, sizeof(q));
		return tg_diag_setf(diag, tg_loc_after(loc, text, p + 1), (uint32_t)strlen(name), -TG_EPARSE,
				    "#include \"%s\": not a header name (letters, digits, _ - . + and / between "
				    "names; no absolute path, no \".\" or \"..\")", q);
	}
	r = end_of_line(text, end + 1, loc, "#include", diag);
	if (r < 0)
		return r;
	if (prog->nincludes >= TG_MAX_INCLUDES)
		return tg_diag_setf(diag, loc, 1, -TG_ELIMIT, "more than %d #include lines (TG_MAX_INCLUDES)",
				    TG_MAX_INCLUDES);
	v = reallocarray(prog->includes, prog->nincludes + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	prog->includes = v;
	v[prog->nincludes].name = TAKE_PTR(name);
	v[prog->nincludes].quoted = close == '"';
	v[prog->nincludes].loc = loc;
	prog->nincludes++;
	return 0;
}

/* ---- #if expressions ---------------------------------------------------- */

struct ev {
	struct tg_token *t;
	size_t n, i;
	struct tg_diag *diag;
	struct tg_loc loc;
	int err;
};

static int64_t ev_or(struct ev *e);

static int64_t ev_fail(struct ev *e, const char *msg)
{
	if (!e->err)
		e->err = tg_diag_setf(e->diag, e->i < e->n ? e->t[e->i].loc : e->loc, 1, -TG_EPARSE,
				      "#if: %s", msg);
	return 0;
}

static enum tg_tok ev_peek(const struct ev *e)
{
	return e->i < e->n ? e->t[e->i].kind : TG_T_EOF;
}

static int64_t ev_unary(struct ev *e)
{
	enum tg_tok k = ev_peek(e);
	int64_t v;

	if (e->err)
		return 0;
	if (k == TG_T_LNOT) {
		e->i++;
		return !ev_unary(e);
	}
	if (k == TG_T_MINUS) {
		e->i++;
		return -ev_unary(e);
	}
	if (k == TG_T_LPAREN) {
		e->i++;
		v = ev_or(e);
		if (ev_peek(e) != TG_T_RPAREN)
			return ev_fail(e, "expected \")\"");
		e->i++;
		return v;
	}
	if (k == TG_T_INT) {
		return (int64_t)e->t[e->i++].num;
	}
	return ev_fail(e, "expected a number, defined(NAME) or a macro");
}

static int64_t ev_add(struct ev *e)
{
	int64_t v = ev_unary(e);

	while (!e->err && (ev_peek(e) == TG_T_PLUS || ev_peek(e) == TG_T_MINUS)) {
		bool plus = ev_peek(e) == TG_T_PLUS;
		int64_t w;

		e->i++;
		w = ev_unary(e);
		v = plus ? (int64_t)((uint64_t)v + (uint64_t)w) : (int64_t)((uint64_t)v - (uint64_t)w);
	}
	return v;
}

static int64_t ev_cmp(struct ev *e)
{
	int64_t v = ev_add(e), w;
	enum tg_tok k = ev_peek(e);

	if (e->err)
		return 0;
	if (k != TG_T_EQ && k != TG_T_NE && k != TG_T_LT && k != TG_T_LE && k != TG_T_GT && k != TG_T_GE)
		return v;
	e->i++;
	w = ev_add(e);
	switch (k) {
	case TG_T_EQ: return v == w;
	case TG_T_NE: return v != w;
	case TG_T_LT: return v < w;
	case TG_T_LE: return v <= w;
	case TG_T_GT: return v > w;
	default: return v >= w;
	}
}

static int64_t ev_and(struct ev *e)
{
	int64_t v = ev_cmp(e);

	while (!e->err && ev_peek(e) == TG_T_LAND) {
		int64_t w;

		e->i++;
		w = ev_cmp(e);
		v = v && w;
	}
	return v;
}

static int64_t ev_or(struct ev *e)
{
	int64_t v = ev_and(e);

	while (!e->err && ev_peek(e) == TG_T_LOR) {
		int64_t w;

		e->i++;
		w = ev_and(e);
		v = v || w;
	}
	return v;
}

static void toks_release(struct tg_token *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tg_token_release(&t[i]);
	free(t);
}

static int toks_add(struct tg_token **v, size_t *n, struct tg_token *t)
{
	struct tg_token *x;

	if (*n >= 4096)
		return -TG_ELIMIT;
	x = reallocarray(*v, *n + 1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	*v = x;
	x[(*n)++] = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

static int int_token(struct tg_token *t, struct tg_loc loc, uint64_t v)
{
	memset(t, 0, sizeof(*t));
	t->kind = TG_T_INT;
	t->loc = loc;
	t->num = v;
	return 0;
}

/* The condition's tokens with defined(X) decided and object-like macros
 * replaced (a name that is no macro is 0, as in C). */
static int cond_tokens(const struct tg_pp *pp, const char *text, struct tg_loc loc, struct tg_token **ret,
		       size_t *ret_n, struct tg_diag *diag)
{
	struct tg_lexer lx;
	struct tg_token *v = NULL, t;
	size_t n = 0;
	int r = 0;

	tg_lexer_init(&lx, text, strlen(text));
	lx.line = loc.line;
	lx.col = loc.col;
	while (r == 0) {
		r = tg_lex(&lx, &t, diag);
		if (r < 0)
			break;
		if (t.kind == TG_T_EOF)
			break;
		if (t.kind == TG_T_IDENT && !strcmp(t.text, "defined")) {
			struct tg_token a, b;
			bool paren;

			tg_token_release(&t);
			r = tg_lex(&lx, &a, diag);
			if (r < 0)
				break;
			paren = a.kind == TG_T_LPAREN;
			if (paren) {
				tg_token_release(&a);
				r = tg_lex(&lx, &a, diag);
				if (r < 0)
					break;
			}
			if (!a.text || a.kind == TG_T_STR || a.kind == TG_T_INT) {
				r = tg_diag_setf(diag, a.loc, 1, -TG_EPARSE, "#if: defined needs a macro name");
				tg_token_release(&a);
				break;
			}
			if (paren) {
				r = tg_lex(&lx, &b, diag);
				if (r == 0 && b.kind != TG_T_RPAREN)
					r = tg_diag_setf(diag, b.loc, 1, -TG_EPARSE, "#if: defined( needs its \")\"");
				tg_token_release(&b);
			}
			if (r == 0) {
				int_token(&t, a.loc, tg_macro_find(&pp->macros, a.text) >= 0);
				r = toks_add(&v, &n, &t);
			}
			tg_token_release(&a);
			continue;
		}
		if (t.kind == TG_T_IDENT || t.kind == TG_T_BUILTIN || t.kind == TG_T_CALL ||
		    t.kind == TG_T_CALL_BUILTIN || t.kind == TG_T_STACK_MODE) {
			int mi = tg_macro_find(&pp->macros, t.text);
			const struct tg_macro *m = mi >= 0 ? &pp->macros.v[mi] : NULL;
			struct tg_loc at = t.loc;

			tg_token_release(&t);
			/* an object-like macro of one number (the form #if meets) */
			if (m && !m->fn && m->nbody == 1 && m->body[0].kind == TG_T_INT)
				int_token(&t, at, m->body[0].num);
			else if (m)
				r = tg_diag_setf(diag, at, 1, -TG_EUNSUPPORTED,
						 "#if: macro \"%s\" is not a single number", m->name);
			else
				int_token(&t, at, 0);
			if (r == 0)
				r = toks_add(&v, &n, &t);
			continue;
		}
		r = toks_add(&v, &n, &t);
		if (r < 0)
			tg_token_release(&t);
	}
	if (r == -TG_ELIMIT)
		r = tg_diag_setf(diag, loc, 1, -TG_ELIMIT, "#if: condition longer than 4096 tokens");
	if (r < 0) {
		toks_release(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int condition(const struct tg_pp *pp, const char *text, const char *p, struct tg_loc loc,
		     bool *ret, struct tg_diag *diag)
{
	struct ev e = { .diag = diag };
	struct tg_loc at = tg_loc_after(loc, text, p);
	int64_t v;
	int r = cond_tokens(pp, p, at, &e.t, &e.n, diag);

	if (r < 0)
		return r;
	e.loc = at;
	if (!e.n) {
		toks_release(e.t, e.n);
		return tg_diag_setf(diag, at, 1, -TG_EPARSE, "#if: no condition");
	}
	v = ev_or(&e);
	if (!e.err && e.i < e.n)
		ev_fail(&e, "unexpected text after the condition");
	toks_release(e.t, e.n);
	if (e.err)
		return e.err;
	*ret = v != 0;
	return 0;
}

/* ---- directives --------------------------------------------------------- */

static int open_block(struct tg_pp *pp, bool cond, struct tg_loc loc, struct tg_diag *diag)
{
	bool parent = pp->on[pp->depth];

	if (pp->depth == TG_MAX_IF_DEPTH)
		return tg_diag_setf(diag, loc, 1, -TG_ELIMIT, "#if nested more than %d deep (TG_MAX_IF_DEPTH)",
				    TG_MAX_IF_DEPTH);
	pp->depth++;
	pp->on[pp->depth] = parent && cond;
	pp->taken[pp->depth] = !parent || cond;   /* a dead parent takes no branch */
	pp->seen_else[pp->depth] = false;
	pp->open[pp->depth] = loc;
	return 0;
}

int tg_pp_directive(struct tg_pp *pp, const char *line, struct tg_loc loc, struct tg_program *prog,
		    struct tg_diag *diag)
{
	_cleanup_free_ char *text = strdup(line);
	const char *p, *name;
	char dname[32];
	size_t n;
	bool live = tg_pp_live(pp), cond = false;
	int r;

	if (!text)
		return -ENOMEM;
	/* continuations: the backslash becomes a blank, so columns stay */
	for (char *q = text; *q; q++)
		if (q[0] == '\\' && q[1] == '\n')
			q[0] = ' ';
	p = skip_blank(text + 1);
	name = p;
	n = tg_ident_len(p);
	snprintf(dname, sizeof(dname), "%.*s", (int)(n < 24 ? n : 24), p);
	p += n;
	if (!strcmp(dname, "ifdef") || !strcmp(dname, "ifndef")) {
		const char *m = skip_blank(p);
		size_t mn = tg_ident_len(m);

		if (!mn)
			return tg_diag_setf(diag, tg_loc_after(loc, text, m), 1, -TG_EPARSE, "#%s: expected a macro name",
					    dname);
		{
			_cleanup_free_ char *mname = strndup(m, mn);

			if (!mname)
				return -ENOMEM;
			cond = tg_macro_find(&pp->macros, mname) >= 0;
		}
		r = end_of_line(text, m + mn, loc, dname, diag);
		if (r < 0)
			return r;
		return open_block(pp, dname[2] == 'd' ? cond : !cond, loc, diag);
	}
	if (!strcmp(dname, "if")) {
		if (live) {
			r = condition(pp, text, p, loc, &cond, diag);
			if (r < 0)
				return r;
		}
		return open_block(pp, cond, loc, diag);
	}
	if (!strcmp(dname, "elif") || !strcmp(dname, "else") || !strcmp(dname, "endif")) {
		if (!pp->depth)
			return tg_diag_setf(diag, loc, 1, -TG_EPARSE, "#%s without #if", dname);
		if (!strcmp(dname, "endif")) {
			r = end_of_line(text, p, loc, "#endif", diag);
			if (r == 0)
				pp->depth--;
			return r;
		}
		if (pp->seen_else[pp->depth])
			return tg_diag_setf(diag, loc, 1, -TG_EPARSE, "#%s after #else", dname);
		if (!strcmp(dname, "else")) {
			r = end_of_line(text, p, loc, "#else", diag);
			if (r < 0)
				return r;
			pp->seen_else[pp->depth] = true;
			pp->on[pp->depth] = !pp->taken[pp->depth];
			pp->taken[pp->depth] = true;
			return 0;
		}
		if (!pp->taken[pp->depth]) {
			r = condition(pp, text, p, loc, &cond, diag);
			if (r < 0)
				return r;
		}
		pp->on[pp->depth] = !pp->taken[pp->depth] && cond;
		pp->taken[pp->depth] = pp->taken[pp->depth] || cond;
		return 0;
	}
	if (!live)
		return 0;       /* a dead branch: its directives are not read */
	if (!strcmp(dname, "include"))
		return include(pp, text, p, loc, prog, diag);
	if (!strcmp(dname, "define")) {
		if (*p != ' ' && *p != '\t')
			return tg_diag_setf(diag, tg_loc_after(loc, text, p), 1, -TG_EPARSE, "#define: expected a macro name");
		return tg_macro_define(&pp->macros, p, tg_loc_after(loc, text, p), diag);
	}
	if (!strcmp(dname, "undef")) {
		const char *m = skip_blank(p);
		size_t mn = tg_ident_len(m);
		_cleanup_free_ char *mname = NULL;

		if (!mn)
			return tg_diag_setf(diag, tg_loc_after(loc, text, m), 1, -TG_EPARSE, "#undef: expected a macro name");
		r = end_of_line(text, m + mn, loc, "#undef", diag);
		if (r < 0)
			return r;
		mname = strndup(m, mn);
		if (!mname)
			return -ENOMEM;
		tg_macro_undef(&pp->macros, mname);
		return 0;
	}
	if (!n)
		return tg_diag_setf(diag, tg_loc_after(loc, text, name), 1, -TG_EPARSE,
				    "\"#\" must start a directive (#include, #define, #if ...)");
	return tg_diag_setf(diag, loc, (uint32_t)(name - text) + (uint32_t)n, -TG_EUNSUPPORTED,
			    "preprocessor directive \"#%s\" is not supported (only #include of a system "
			    "header, #define, #undef, #if, #ifdef, #ifndef, #elif, #else and #endif)",
			    dname);
}
