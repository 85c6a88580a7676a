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

int lang_pp_init(struct lang_pp *pp)
{
	struct lang_diag d;

	memset(pp, 0, sizeof(*pp));
	pp->on[0] = true;
	/* tracegate always has the kernel's BTF, as bpftrace with BTF does */
	return lang_macro_define(&pp->macros, "BPFTRACE_HAVE_BTF 1", (struct lang_loc){ 1, 1 }, &d);
}

void lang_pp_release(struct lang_pp *pp)
{
	lang_macros_release(&pp->macros);
}

bool lang_pp_live(const struct lang_pp *pp)
{
	return pp->on[pp->depth];
}

int lang_pp_finish(const struct lang_pp *pp, struct lang_diag *diag)
{
	if (pp->depth)
		return lang_diag_setf(diag, pp->open[pp->depth], 1, -TG_EPARSE,
				    "#if (or #ifdef/#ifndef) is not closed by #endif before the first probe");
	return 0;
}

bool lang_include_name_ok(const char *name, bool glob)
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
static int end_of_line(const char *text, const char *p, struct lang_loc loc, const char *what,
		       struct lang_diag *diag)
{
	for (;;) {
		p = skip_blank(p);
		if (p[0] == '/' && p[1] == '/')
			return 0;
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			if (!e)
				return lang_diag_setf(diag, lang_loc_after(loc, text, p), 2, -TG_EPARSE, "comment \"/*\" not closed");
			p = e + 2;
			continue;
		}
		if (!*p)
			return 0;
		return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE,
				    "%s: unexpected text after its end", what);
	}
}

/* ---- #include ---------------------------------------------------------- */

static int include(struct lang_pp *pp, const char *text, const char *p, struct lang_loc loc,
		   struct lang_program *prog, struct lang_diag *diag)
{
	char close;
	const char *end;
	struct lang_include *v;
	_cleanup_free_ char *name = NULL;
	int r;

	(void)pp;
	p = skip_blank(p);
	if (*p != '<' && *p != '"')
		return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE,
				    "#include: expected <name.h> or \"name.h\" (a system header by name)");
	close = *p == '<' ? '>' : '"';
	end = strchr(p + 1, close);
	if (!end || memchr(p + 1, '\n', (size_t)(end - p - 1)))
		return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE, "#include: the name is not closed with '%c'",
				    close);
	name = strndup(p + 1, (size_t)(end - p - 1));
	if (!name)
		return -ENOMEM;
	if (!lang_include_name_ok(name, false)) {
		char q[4 * 64 + 8];

		lang_quote_text(name, strlen(name), 64, q, sizeof(q));
		return lang_diag_setf(diag, lang_loc_after(loc, text, p + 1), (uint32_t)strlen(name), -TG_EPARSE,
				    "#include \"%s\": not a header name (letters, digits, _ - . + and / between "
				    "names; no absolute path, no \".\" or \"..\")", q);
	}
	r = end_of_line(text, end + 1, loc, "#include", diag);
	if (r < 0)
		return r;
	if (prog->nincludes >= TG_MAX_INCLUDES)
		return lang_diag_setf(diag, loc, 1, -TG_ELIMIT, "more than %d #include lines (TG_MAX_INCLUDES)",
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
	struct lang_token *t;
	size_t n, i;
	struct lang_diag *diag;
	struct lang_loc loc;
	int err;
};

static int64_t ev_or(struct ev *e);

static int64_t ev_fail(struct ev *e, const char *msg)
{
	if (!e->err)
		e->err = lang_diag_setf(e->diag, e->i < e->n ? e->t[e->i].loc : e->loc, 1, -TG_EPARSE,
				      "#if: %s", msg);
	return 0;
}

static enum lang_tok ev_peek(const struct ev *e)
{
	return e->i < e->n ? e->t[e->i].kind : TG_T_EOF;
}

static int64_t ev_unary(struct ev *e)
{
	enum lang_tok k = ev_peek(e);
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
	enum lang_tok k = ev_peek(e);

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

static void toks_release(struct lang_token *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lang_token_release(&t[i]);
	free(t);
}

static int toks_add(struct lang_token **v, size_t *n, struct lang_token *t)
{
	struct lang_token *x;

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

static int int_token(struct lang_token *t, struct lang_loc loc, uint64_t v)
{
	memset(t, 0, sizeof(*t));
	t->kind = TG_T_INT;
	t->loc = loc;
	t->num = v;
	return 0;
}

/* The condition's tokens with defined(X) decided and object-like macros
 * replaced (a name that is no macro is 0, as in C). */
static int cond_tokens(const struct lang_pp *pp, const char *text, struct lang_loc loc, struct lang_token **ret,
		       size_t *ret_n, struct lang_diag *diag)
{
	struct lang_lexer lx;
	struct lang_token *v = NULL, t;
	size_t n = 0;
	int r = 0;

	lang_lexer_init(&lx, text, strlen(text));
	lx.line = loc.line;
	lx.col = loc.col;
	while (r == 0) {
		r = lang_lex(&lx, &t, diag);
		if (r < 0)
			break;
		if (t.kind == TG_T_EOF)
			break;
		if (t.kind == TG_T_IDENT && !strcmp(t.text, "defined")) {
			struct lang_token a, b;
			bool paren;

			lang_token_release(&t);
			r = lang_lex(&lx, &a, diag);
			if (r < 0)
				break;
			paren = a.kind == TG_T_LPAREN;
			if (paren) {
				lang_token_release(&a);
				r = lang_lex(&lx, &a, diag);
				if (r < 0)
					break;
			}
			if (!a.text || a.kind == TG_T_STR || a.kind == TG_T_INT) {
				r = lang_diag_setf(diag, a.loc, 1, -TG_EPARSE, "#if: defined needs a macro name");
				lang_token_release(&a);
				break;
			}
			if (paren) {
				r = lang_lex(&lx, &b, diag);
				if (r == 0 && b.kind != TG_T_RPAREN)
					r = lang_diag_setf(diag, b.loc, 1, -TG_EPARSE, "#if: defined( needs its \")\"");
				lang_token_release(&b);
			}
			if (r == 0) {
				int_token(&t, a.loc, lang_macro_find(&pp->macros, a.text) >= 0);
				r = toks_add(&v, &n, &t);
			}
			lang_token_release(&a);
			continue;
		}
		if (t.kind == TG_T_IDENT || t.kind == TG_T_BUILTIN || t.kind == TG_T_CALL ||
		    t.kind == TG_T_CALL_BUILTIN || t.kind == TG_T_STACK_MODE) {
			int mi = lang_macro_find(&pp->macros, t.text);
			const struct lang_macro *m = mi >= 0 ? &pp->macros.v[mi] : NULL;
			struct lang_loc at = t.loc;

			lang_token_release(&t);
			/* an object-like macro of one number (the form #if meets) */
			if (m && !m->fn && m->nbody == 1 && m->body[0].kind == TG_T_INT)
				int_token(&t, at, m->body[0].num);
			else if (m)
				r = lang_diag_setf(diag, at, 1, -TG_EUNSUPPORTED,
						 "#if: macro \"%s\" is not a single number", m->name);
			else
				int_token(&t, at, 0);
			if (r == 0)
				r = toks_add(&v, &n, &t);
			continue;
		}
		r = toks_add(&v, &n, &t);
		if (r < 0)
			lang_token_release(&t);
	}
	if (r == -TG_ELIMIT)
		r = lang_diag_setf(diag, loc, 1, -TG_ELIMIT, "#if: condition longer than 4096 tokens");
	if (r < 0) {
		toks_release(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int condition(const struct lang_pp *pp, const char *text, const char *p, struct lang_loc loc,
		     bool *ret, struct lang_diag *diag)
{
	struct ev e = { .diag = diag };
	struct lang_loc at = lang_loc_after(loc, text, p);
	int64_t v;
	int r = cond_tokens(pp, p, at, &e.t, &e.n, diag);

	if (r < 0)
		return r;
	e.loc = at;
	if (!e.n) {
		toks_release(e.t, e.n);
		return lang_diag_setf(diag, at, 1, -TG_EPARSE, "#if: no condition");
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

static int open_block(struct lang_pp *pp, bool cond, struct lang_loc loc, struct lang_diag *diag)
{
	bool parent = pp->on[pp->depth];

	if (pp->depth == TG_MAX_IF_DEPTH)
		return lang_diag_setf(diag, loc, 1, -TG_ELIMIT, "#if nested more than %d deep (TG_MAX_IF_DEPTH)",
				    TG_MAX_IF_DEPTH);
	pp->depth++;
	pp->on[pp->depth] = parent && cond;
	pp->taken[pp->depth] = !parent || cond;   /* a dead parent takes no branch */
	pp->seen_else[pp->depth] = false;
	pp->open[pp->depth] = loc;
	return 0;
}

int lang_pp_directive(struct lang_pp *pp, const char *line, struct lang_loc loc, struct lang_program *prog,
		    struct lang_diag *diag)
{
	_cleanup_free_ char *text = strdup(line);
	const char *p, *name;
	char dname[32];
	size_t n;
	bool live = lang_pp_live(pp), cond = false;
	int r;

	if (!text)
		return -ENOMEM;
	/* continuations: the backslash becomes a blank, so columns stay */
	for (char *q = text; *q; q++)
		if (q[0] == '\\' && q[1] == '\n')
			q[0] = ' ';
	p = skip_blank(text + 1);
	name = p;
	n = lang_ident_len(p);
	snprintf(dname, sizeof(dname), "%.*s", (int)(n < 24 ? n : 24), p);
	p += n;
	if (!strcmp(dname, "ifdef") || !strcmp(dname, "ifndef")) {
		const char *m = skip_blank(p);
		size_t mn = lang_ident_len(m);

		if (!mn)
			return lang_diag_setf(diag, lang_loc_after(loc, text, m), 1, -TG_EPARSE, "#%s: expected a macro name",
					    dname);
		{
			_cleanup_free_ char *mname = strndup(m, mn);

			if (!mname)
				return -ENOMEM;
			cond = lang_macro_find(&pp->macros, mname) >= 0;
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
			return lang_diag_setf(diag, loc, 1, -TG_EPARSE, "#%s without #if", dname);
		if (!strcmp(dname, "endif")) {
			r = end_of_line(text, p, loc, "#endif", diag);
			if (r == 0)
				pp->depth--;
			return r;
		}
		if (pp->seen_else[pp->depth])
			return lang_diag_setf(diag, loc, 1, -TG_EPARSE, "#%s after #else", dname);
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
			return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE, "#define: expected a macro name");
		return lang_macro_define(&pp->macros, p, lang_loc_after(loc, text, p), diag);
	}
	if (!strcmp(dname, "undef")) {
		const char *m = skip_blank(p);
		size_t mn = lang_ident_len(m);
		_cleanup_free_ char *mname = NULL;

		if (!mn)
			return lang_diag_setf(diag, lang_loc_after(loc, text, m), 1, -TG_EPARSE, "#undef: expected a macro name");
		r = end_of_line(text, m + mn, loc, "#undef", diag);
		if (r < 0)
			return r;
		mname = strndup(m, mn);
		if (!mname)
			return -ENOMEM;
		lang_macro_undef(&pp->macros, mname);
		return 0;
	}
	if (!n)
		return lang_diag_setf(diag, lang_loc_after(loc, text, name), 1, -TG_EPARSE,
				    "\"#\" must start a directive (#include, #define, #if ...)");
	return lang_diag_setf(diag, loc, (uint32_t)(name - text) + (uint32_t)n, -TG_EUNSUPPORTED,
			    "preprocessor directive \"#%s\" is not supported (only #include of a system "
			    "header, #define, #undef, #if, #ifdef, #ifndef, #elif, #else and #endif)",
			    dname);
}
