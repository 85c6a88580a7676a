// SPDX-License-Identifier: Apache-2.0
/* `#define` macros, expanded on tokens by the front end (see macro.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/macro.h"
#include "lib/banned.h"

int lang_token_copy(struct lang_token *dst, const struct lang_token *src)
{
	*dst = *src;
	dst->text = NULL;
	if (src->text) {
		dst->text = malloc(src->text_len + 1);
		if (!dst->text)
			return -ENOMEM;
		memcpy(dst->text, src->text, src->text_len);
		dst->text[src->text_len] = '\0';
	}
	return 0;
}

static void macro_release(struct lang_macro *m)
{
	free(m->name);
	for (size_t i = 0; i < m->nparams; i++)
		free(m->params[i]);
	for (size_t i = 0; i < m->nbody; i++)
		lang_token_release(&m->body[i]);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

void lang_macros_release(struct lang_macros *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		macro_release(&ms->v[i]);
	ms->n = 0;
}

int lang_macro_find(const struct lang_macros *ms, const char *name)
{
	for (size_t i = 0; ms && name && i < ms->n; i++)
		if (!strcmp(ms->v[i].name, name))
			return (int)i;
	return -1;
}

void lang_macro_undef(struct lang_macros *ms, const char *name)
{
	int i = lang_macro_find(ms, name);

	if (i < 0)
		return;
	macro_release(&ms->v[i]);
	/* keep the order (and so each macro's bit) of the others stable
	 * within one expansion: definitions never change during one */
	memmove(&ms->v[i], &ms->v[i + 1], (ms->n - (size_t)i - 1) * sizeof(ms->v[0]));
	ms->n--;
	memset(&ms->v[ms->n], 0, sizeof(ms->v[0]));
}

static int parse_params(struct lang_macro *m, const char *text, struct lang_loc loc, const char **pp,
			struct lang_diag *diag)
{
	const char *p = *pp + 1;    /* after '(' */

	for (;;) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == ')' && m->nparams == 0) {
			p++;
			break;
		}
		if (p[0] == '.' && p[1] == '.' && p[2] == '.')
			return lang_diag_setf(diag, lang_loc_after(loc, text, p), 3, -TG_EUNSUPPORTED,
					    "macro \"%s\": variadic macros (\"...\") are not supported", m->name);
		n = lang_ident_len(p);
		if (!n)
			return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE,
					    "macro \"%s\": expected a parameter name", m->name);
		if (m->nparams == TG_MAX_MACRO_PARAMS)
			return lang_diag_setf(diag, lang_loc_after(loc, text, p), (uint32_t)n, -TG_ELIMIT,
					    "macro \"%s\" has more than %d parameters (TG_MAX_MACRO_PARAMS)",
					    m->name, TG_MAX_MACRO_PARAMS);
		m->params[m->nparams] = strndup(p, n);
		if (!m->params[m->nparams])
			return -ENOMEM;
		m->nparams++;
		for (size_t i = 0; i + 1 < m->nparams; i++)
			if (!strcmp(m->params[i], m->params[m->nparams - 1]))
				return lang_diag_setf(diag, lang_loc_after(loc, text, p), (uint32_t)n, -TG_EPARSE,
						    "macro \"%s\": parameter \"%s\" given twice", m->name,
						    m->params[i]);
		p += n;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')') {
			p++;
			break;
		}
		return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE,
				    "macro \"%s\": expected \",\" or \")\" in its parameter list", m->name);
	}
	*pp = p;
	return 0;
}

int lang_macro_define(struct lang_macros *ms, const char *text, struct lang_loc loc, struct lang_diag *diag)
{
	struct lang_macro m = { 0 };
	const char *p = text, *body;
	struct lang_lexer lx;
	size_t n;
	int r = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	n = lang_ident_len(p);
	if (!n)
		return lang_diag_setf(diag, lang_loc_after(loc, text, p), 1, -TG_EPARSE, "#define: expected a macro name");
	m.name = strndup(p, n);
	if (!m.name)
		return -ENOMEM;
	m.loc = lang_loc_after(loc, text, p);
	p += n;
	if (*p == '(') {
		m.fn = true;
		r = parse_params(&m, text, loc, &p, diag);
	}
	body = p;
	for (const char *q = body; r == 0 && *q; q++)
		if (*q == '#')
			r = lang_diag_setf(diag, lang_loc_after(loc, text, q), 1, -TG_EUNSUPPORTED,
					 "macro \"%s\": the operators \"#\" and \"##\" are not supported", m.name);
	/* the body, as tokens of the language (its text is never read again) */
	lang_lexer_init(&lx, text, strlen(text));
	lx.pos = (size_t)(body - text);
	lx.line = lang_loc_after(loc, text, body).line;
	lx.col = lang_loc_after(loc, text, body).col;
	while (r == 0) {
		struct lang_token t;
		struct lang_token *v;

		r = lang_lex(&lx, &t, diag);
		if (r < 0)
			break;
		if (t.kind == TG_T_EOF)
			break;
		if (m.nbody == TG_MAX_MACRO_TOKENS) {
			lang_token_release(&t);
			r = lang_diag_setf(diag, m.loc, (uint32_t)n, -TG_ELIMIT,
					 "macro \"%s\" is longer than %d tokens (TG_MAX_MACRO_TOKENS)", m.name,
					 TG_MAX_MACRO_TOKENS);
			break;
		}
		v = reallocarray(m.body, m.nbody + 1, sizeof(*v));
		if (!v) {
			lang_token_release(&t);
			r = -ENOMEM;
			break;
		}
		m.body = v;
		m.body[m.nbody++] = t;
	}
	if (r == 0 && lang_macro_find(ms, m.name) >= 0)
		lang_macro_undef(ms, m.name);     /* redefinition: the last one wins, as clang warns */
	if (r == 0 && ms->n == TG_MAX_MACROS)
		r = lang_diag_setf(diag, m.loc, (uint32_t)n, -TG_ELIMIT,
				 "more than %d macros (TG_MAX_MACROS)", TG_MAX_MACROS);
	if (r < 0) {
		macro_release(&m);
		return r;
	}
	ms->v[ms->n++] = m;
	return 0;
}

/* ---- the expanding stream ------------------------------------------------- */

static int push(struct lang_tstream *s, struct lang_token *t, uint64_t hide)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct lang_token *v = reallocarray(s->stack, cap, sizeof(*v));
		uint64_t *h;

		if (!v)
			return -ENOMEM;
		s->stack = v;
		h = reallocarray(s->hide, cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->hide = h;
		s->cap = cap;
	}
	s->stack[s->n] = *t;
	s->hide[s->n++] = hide;
	memset(t, 0, sizeof(*t));
	return 0;
}

static int pop(struct lang_tstream *s, struct lang_token *t, uint64_t *hide, struct lang_diag *diag)
{
	if (s->n) {
		s->n--;
		*t = s->stack[s->n];
		*hide = s->hide[s->n];
		return 0;
	}
	*hide = 0;
	return s->raw(s->ctx, t, diag);
}

bool lang_tstream_pending(const struct lang_tstream *s)
{
	return s->n > 0;
}

void lang_tstream_release(struct lang_tstream *s)
{
	for (size_t i = 0; i < s->n; i++)
		lang_token_release(&s->stack[i]);
	free(s->stack);
	free(s->hide);
	s->stack = NULL;
	s->hide = NULL;
	s->n = s->cap = 0;
}

/* A growable list of tokens with their hide sets. */
struct tlist {
	struct lang_token *t;
	uint64_t *h;
	size_t n, cap;
};

static void tlist_release(struct tlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		lang_token_release(&l->t[i]);
	free(l->t);
	free(l->h);
	memset(l, 0, sizeof(*l));
}

static int tlist_add(struct tlist *l, struct lang_token *t, uint64_t h)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct lang_token *v = reallocarray(l->t, cap, sizeof(*v));
		uint64_t *hv;

		if (!v)
			return -ENOMEM;
		l->t = v;
		hv = reallocarray(l->h, cap, sizeof(*hv));
		if (!hv)
			return -ENOMEM;
		l->h = hv;
		l->cap = cap;
	}
	l->t[l->n] = *t;
	l->h[l->n++] = h;
	memset(t, 0, sizeof(*t));
	return 0;
}

static int budget(struct lang_tstream *s, const struct lang_token *use, size_t more, struct lang_diag *diag)
{
	s->produced += more;
	if (s->produced > TG_MAX_MACRO_EXPANSION)
		return lang_diag_setf(diag, use->loc, (uint32_t)use->len, -TG_ELIMIT,
				    "macro \"%s\" expands to more than %d tokens in all (TG_MAX_MACRO_EXPANSION)",
				    use->text, TG_MAX_MACRO_EXPANSION);
	return 0;
}

/* The arguments of a function-like macro, after its `(`, up to the
 * matching `)`: at most TG_MAX_MACRO_PARAMS lists. */
static int collect_args(struct lang_tstream *s, const struct lang_macro *m, const struct lang_token *use,
			struct tlist *args, size_t *nargs, struct lang_diag *diag)
{
	unsigned depth = 0;

	*nargs = 1;
	for (;;) {
		struct lang_token t;
		uint64_t h;
		int r = pop(s, &t, &h, diag);

		if (r < 0)
			return r;
		if (t.kind == TG_T_EOF) {
			lang_token_release(&t);
			return lang_diag_setf(diag, use->loc, (uint32_t)use->len, -TG_EPARSE,
					    "macro \"%s\": its arguments are not closed with \")\"", m->name);
		}
		if (t.kind == TG_T_RPAREN && depth == 0) {
			lang_token_release(&t);
			break;
		}
		if (t.kind == TG_T_LPAREN)
			depth++;
		else if (t.kind == TG_T_RPAREN)
			depth--;
		if (t.kind == TG_T_COMMA && depth == 0) {
			lang_token_release(&t);
			if (*nargs == TG_MAX_MACRO_PARAMS)
				return lang_diag_setf(diag, use->loc, (uint32_t)use->len, -TG_ELIMIT,
						    "macro \"%s\": more than %d arguments", m->name,
						    TG_MAX_MACRO_PARAMS);
			(*nargs)++;
			continue;
		}
		r = budget(s, use, 1, diag);
		if (r == 0)
			r = tlist_add(&args[*nargs - 1], &t, h);
		if (r < 0) {
			lang_token_release(&t);
			return r;
		}
	}
	if (*nargs == 1 && args[0].n == 0 && m->nparams == 0)
		*nargs = 0;
	if (*nargs != m->nparams)
		return lang_diag_setf(diag, use->loc, (uint32_t)use->len, -TG_EPARSE,
				    "macro \"%s\" takes %zu argument%s, %zu given", m->name, m->nparams,
				    m->nparams == 1 ? "" : "s", *nargs);
	return 0;
}

static int param_index(const struct lang_macro *m, const struct lang_token *t)
{
	if (t->kind != TG_T_IDENT && t->kind != TG_T_BUILTIN && t->kind != TG_T_CALL &&
	    t->kind != TG_T_CALL_BUILTIN && t->kind != TG_T_STACK_MODE)
		return -1;
	for (size_t i = 0; i < m->nparams; i++)
		if (t->text && !strcmp(t->text, m->params[i]))
			return (int)i;
	return -1;
}

/* Pushes m's expansion at use (hide set h) so that it comes next. */
static int expand(struct lang_tstream *s, int mi, const struct lang_token *use, uint64_t h, struct tlist *args,
		  struct lang_diag *diag)
{
	const struct lang_macro *m = &s->ms->v[mi];
	struct tlist out = { 0 };
	uint64_t nh = h | (UINT64_C(1) << mi);
	int r = 0;

	for (size_t i = 0; i < m->nbody && r == 0; i++) {
		int pi = m->fn ? param_index(m, &m->body[i]) : -1;

		if (pi >= 0) {
			r = budget(s, use, args[pi].n, diag);
			for (size_t j = 0; r == 0 && j < args[pi].n; j++) {
				struct lang_token c;

				r = lang_token_copy(&c, &args[pi].t[j]);
				if (r == 0)
					r = tlist_add(&out, &c, args[pi].h[j] | nh);
			}
			continue;
		}
		{
			struct lang_token c;

			r = budget(s, use, 1, diag);
			if (r == 0)
				r = lang_token_copy(&c, &m->body[i]);
			if (r == 0) {
				/* errors point at the use, which is what the user wrote */
				c.loc = use->loc;
				c.off = use->off;
				c.len = use->len;
				r = tlist_add(&out, &c, nh);
			}
		}
	}
	/* last first: the stack hands out its top */
	for (size_t i = out.n; r == 0 && i > 0; i--)
		r = push(s, &out.t[i - 1], out.h[i - 1]);
	tlist_release(&out);
	return r;
}

int lang_tstream_next(struct lang_tstream *s, struct lang_token *t, struct lang_diag *diag)
{
	for (;;) {
		struct tlist args[TG_MAX_MACRO_PARAMS];
		struct lang_token nx;
		size_t nargs = 0;
		uint64_t h, nh;
		int mi, r;

		r = pop(s, t, &h, diag);
		if (r < 0)
			return r;
		if (!s->ms || !s->ms->n || t->kind != TG_T_IDENT || !t->text)
			return 0;
		mi = lang_macro_find(s->ms, t->text);
		if (mi < 0 || (h & (UINT64_C(1) << mi)))
			return 0;
		if (s->ms->v[mi].fn) {
			r = pop(s, &nx, &nh, diag);
			if (r < 0) {
				lang_token_release(t);
				return r;
			}
			if (nx.kind != TG_T_LPAREN) {
				/* a function-like name alone is a name */
				r = push(s, &nx, nh);
				if (r < 0) {
					lang_token_release(&nx);
					lang_token_release(t);
				}
				return r;
			}
			lang_token_release(&nx);
			memset(args, 0, sizeof(args));
			r = collect_args(s, &s->ms->v[mi], t, args, &nargs, diag);
		}
		if (r == 0)
			r = expand(s, mi, t, h, args, diag);
		for (size_t i = 0; s->ms->v[mi].fn && i < TG_MAX_MACRO_PARAMS; i++)
			tlist_release(&args[i]);
		lang_token_release(t);
		if (r < 0)
			return r;
	}
}
