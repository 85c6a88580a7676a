// SPDX-License-Identifier: Apache-2.0
/*
 * Recursive-descent parser for bpftrace 0.17's grammar (src/parser.yy),
 * building the tree of ast.h.
 *
 * Limits: the source size, the nesting of the parse (recursion) and the
 * height of the tree are both bounded by TG_MAX_AST_DEPTH, so a long chain
 * like 1+1+1+... cannot make later recursive passes overflow the stack;
 * node, probe and attach point counts are bounded too.  The first error
 * wins: once one is recorded the parser unwinds, freeing what it built.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "lang/ast.h"
#include "lang/attach.h"
#include "lang/cdecl.h"
#include "lang/lexer.h"
#include "lang/macro.h"
#include "lang/preproc.h"
#include "lib/banned.h"

/* Every node the parser makes carries its subtree height. */
struct pnode {
	struct lang_node n;
	uint32_t height;
};

#define LOOKAHEAD 6

struct parser {
	struct lang_lexer lx;
	struct lang_pp pp;                /* the preamble's directives and macros */
	struct lang_tstream ts;           /* tokens with macros expanded */
	struct lang_token la[LOOKAHEAD];
	size_t nla;
	struct lang_diag *diag;
	int err;
	size_t nnodes;
	unsigned depth;
	size_t nattach;
	uint64_t unroll;                /* product of the enclosing unroll counts (0: none) */
	struct lang_token eof;
};

static void nodep_free(struct lang_node **n)
{
	lang_node_free(*n);
}
#define _cleanup_node_ _cleanup_(nodep_free)

/* ---- errors ------------------------------------------------------------- */

static void *fail(struct parser *p, struct lang_loc loc, uint32_t span, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void *fail(struct parser *p, struct lang_loc loc, uint32_t span, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return NULL;
	p->err = code;
	p->diag->loc = loc;
	p->diag->span = span;
	va_start(ap, fmt);
	vsnprintf(p->diag->msg, sizeof(p->diag->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

/* A token as the user wrote it, for messages: "}" / end of file / string "ab". */
static const char *desc(const struct parser *p, const struct lang_token *t, char *out, size_t outsz)
{
	char q[200];

	if (t->kind == TG_T_EOF) {
		snprintf(out, outsz, "end of file");
	} else if (t->kind == TG_T_STR) {
		lang_quote_text(t->text, t->text_len, 32, q, sizeof(q));
		snprintf(out, outsz, "string \"%s\"", q);
	} else {
		size_t n = t->len;

		while (n > 1 && (p->lx.src[t->off + n - 1] == ' ' || p->lx.src[t->off + n - 1] == '\t' ||
				 p->lx.src[t->off + n - 1] == '\n' || p->lx.src[t->off + n - 1] == '\r'))
			n--;
		lang_quote_text(p->lx.src + t->off, n, 40, q, sizeof(q));
		snprintf(out, outsz, "\"%s\"", q);
	}
	return out;
}

/* ---- tokens ------------------------------------------------------------- */

static struct lang_token *peek(struct parser *p, size_t k)
{
	while (!p->err && p->nla <= k) {
		int r = lang_tstream_next(&p->ts, &p->la[p->nla], p->diag);

		if (r < 0) {
			p->err = r;
			break;
		}
		p->nla++;
	}
	if (p->err) {
		p->eof.kind = TG_T_EOF;
		p->eof.loc = (struct lang_loc){ p->lx.line, p->lx.col };
		return &p->eof;
	}
	return &p->la[k];
}

static enum lang_tok pk(struct parser *p, size_t k)
{
	return peek(p, k)->kind;
}

/* Moves the next token into *t (caller releases). */
static void next(struct parser *p, struct lang_token *t)
{
	struct lang_token *h = peek(p, 0);

	if (h == &p->eof) {
		*t = p->eof;
		return;
	}
	*t = p->la[0];
	memmove(&p->la[0], &p->la[1], (p->nla - 1) * sizeof(p->la[0]));
	p->nla--;
	memset(&p->la[p->nla], 0, sizeof(p->la[0]));
}

static void skip(struct parser *p)
{
	struct lang_token t;

	next(p, &t);
	lang_token_release(&t);
}

/* Consumes a token of the given kind or records "unexpected X <where>, expected <what>". */
static bool expect(struct parser *p, enum lang_tok kind, const char *where, const char *what)
{
	struct lang_token *t = peek(p, 0);
	char d[256];

	if (t->kind == kind) {
		skip(p);
		return true;
	}
	fail(p, t->loc, (uint32_t)t->len, -TG_EPARSE, "unexpected %s%s%s, expected %s",
	     desc(p, t, d, sizeof(d)), where ? " " : "", where ? where : "", what);
	return false;
}

/* ---- nodes -------------------------------------------------------------- */

static struct lang_node *mk(struct parser *p, enum lang_node_kind kind, struct lang_loc loc)
{
	struct pnode *pn;

	if (p->err)
		return NULL;
	if (++p->nnodes > TG_MAX_AST_NODES)
		return fail(p, loc, 1, -TG_ELIMIT,
			    "program has more than %u syntax tree nodes (TG_MAX_AST_NODES)",
			    TG_MAX_AST_NODES);
	pn = calloc(1, sizeof(*pn));
	if (!pn) {
		p->err = -ENOMEM;
		return NULL;
	}
	pn->height = 1;
	pn->n.kind = kind;
	pn->n.loc = loc;
	return &pn->n;
}

static struct lang_node *mk_str(struct parser *p, enum lang_node_kind kind, struct lang_loc loc, char **text)
{
	struct lang_node *n = mk(p, kind, loc);

	if (n)
		n->str = TAKE_PTR(*text);
	return n;
}

static uint32_t height(const struct lang_node *n)
{
	return ((const struct pnode *)n)->height;
}

/* Adds kid to n (taking it in every case); false on error. */
static bool addkid(struct parser *p, struct lang_node *n, struct lang_node *kid)
{
	struct lang_node **k;

	if (!kid || p->err) {
		lang_node_free(kid);
		return false;
	}
	if (height(kid) + 1 > TG_MAX_AST_DEPTH) {
		lang_node_free(kid);
		fail(p, n->loc, 1, -TG_ELIMIT,
		     "%s is nested more than %u levels deep (TG_MAX_AST_DEPTH)",
		     lang_node_kind_str(n->kind), TG_MAX_AST_DEPTH);
		return false;
	}
	k = reallocarray(n->kids, n->nkids + 1, sizeof(*k));
	if (!k) {
		lang_node_free(kid);
		p->err = -ENOMEM;
		return false;
	}
	n->kids = k;
	k[n->nkids++] = kid;
	if (height(kid) + 1 > height(n))
		((struct pnode *)n)->height = height(kid) + 1;
	return true;
}

static bool enter(struct parser *p, struct lang_loc loc)
{
	if (++p->depth > TG_MAX_AST_DEPTH) {
		fail(p, loc, 1, -TG_ELIMIT, "program is nested more than %u levels deep (TG_MAX_AST_DEPTH)",
		     TG_MAX_AST_DEPTH);
		return false;
	}
	return true;
}

static void leave(struct parser *p)
{
	p->depth--;
}

/* ---- expressions ---------------------------------------------------------- */

static struct lang_node *parse_expr(struct parser *p);
static struct lang_node *parse_cast(struct parser *p);

static bool is_ident_like(enum lang_tok k)
{
	return k == TG_T_IDENT || k == TG_T_BUILTIN || k == TG_T_CALL || k == TG_T_CALL_BUILTIN ||
	       k == TG_T_STACK_MODE;
}

/* vargs up to the closing token; at least one. */
static bool parse_args(struct parser *p, struct lang_node *n, enum lang_tok close, const char *what)
{
	for (;;) {
		if (!addkid(p, n, parse_expr(p)))
			return false;
		if (pk(p, 0) == TG_T_COMMA) {
			skip(p);
			continue;
		}
		return expect(p, close, what, close == TG_T_RPAREN ? "\",\" or \")\"" : "\",\" or \"]\"");
	}
}

static struct lang_node *parse_map(struct parser *p)
{
	struct lang_token t;
	_cleanup_node_ struct lang_node *n = NULL;

	next(p, &t);
	n = mk_str(p, TG_N_MAP, t.loc, &t.text);
	lang_token_release(&t);
	if (!n)
		return NULL;
	if (pk(p, 0) == TG_T_LBRACKET) {
		skip(p);
		if (pk(p, 0) == TG_T_RBRACKET) {
			struct lang_token *r = peek(p, 0);

			return fail(p, r->loc, 1, -TG_EPARSE, "map \"%s\" has empty \"[]\": a key is needed",
				    n->str);
		}
		if (!parse_args(p, n, TG_T_RBRACKET, "in map key"))
			return NULL;
	}
	return TAKE_PTR(n);
}

static struct lang_node *parse_call(struct parser *p, struct lang_token *t)
{
	_cleanup_node_ struct lang_node *n = mk_str(p, TG_N_CALL, t->loc, &t->text);

	if (!n)
		return NULL;
	skip(p); /* ( */
	if (pk(p, 0) == TG_T_RPAREN) {
		skip(p);
		return TAKE_PTR(n);
	}
	for (;;) {
		struct lang_token *h = peek(p, 0);

		if (h->kind == TG_T_IDENT && strchr(h->text, ' ') && pk(p, 1) == TG_T_RPAREN) {
			/* sizeof(struct X): a C type, printed back the same way */
			struct lang_token ty;

			next(p, &ty);
			if (!addkid(p, n, mk_str(p, TG_N_IDENT, ty.loc, &ty.text))) {
				lang_token_release(&ty);
				return NULL;
			}
			lang_token_release(&ty);
			skip(p);
			return TAKE_PTR(n);
		}
		if (!addkid(p, n, parse_expr(p)))
			return NULL;
		if (pk(p, 0) == TG_T_COMMA) {
			skip(p);
			continue;
		}
		if (!expect(p, TG_T_RPAREN, "in call arguments", "\",\" or \")\""))
			return NULL;
		return TAKE_PTR(n);
	}
}

static struct lang_node *parse_primary(struct parser *p)
{
	struct lang_token *h = peek(p, 0);
	struct lang_token t;
	_cleanup_node_ struct lang_node *n = NULL;
	char d[256];

	switch (h->kind) {
	case TG_T_INT:
		next(p, &t);
		n = mk(p, TG_N_INT, t.loc);
		if (n) {
			n->u64 = t.num;
			if (t.flags & TG_TOKF_HEX)
				n->flags |= TG_F_HEX;
		}
		break;
	case TG_T_STR:
		next(p, &t);
		n = mk(p, TG_N_STR, t.loc);
		if (n) {
			n->u64 = t.text_len;
			n->str = TAKE_PTR(t.text);
		}
		break;
	case TG_T_PARAM:
		next(p, &t);
		if (t.num == 0) {
			fail(p, t.loc, (uint32_t)t.len, -TG_EPARSE,
			     "positional parameter %s is not valid: they start at \"$1\"",
			     desc(p, &t, d, sizeof(d)));
			break;
		}
		n = mk(p, TG_N_POSPARAM, t.loc);
		if (n)
			n->u64 = t.num;
		break;
	case TG_T_PARAMCOUNT:
		next(p, &t);
		n = mk(p, TG_N_POSPARAM, t.loc);
		break;
	case TG_T_VAR:
		next(p, &t);
		n = mk_str(p, TG_N_VAR, t.loc, &t.text);
		break;
	case TG_T_MAP:
		return parse_map(p);
	case TG_T_CALL:
	case TG_T_CALL_BUILTIN:
		if (pk(p, 1) == TG_T_LPAREN) {
			next(p, &t);
			n = parse_call(p, &t);
			break;
		}
		next(p, &t);
		if (t.kind == TG_T_CALL) {
			fail(p, t.loc, (uint32_t)t.len, -TG_EPARSE,
			     "function \"%s\" needs \"(\" and its arguments after it", t.text);
			break;
		}
		n = mk_str(p, TG_N_BUILTIN, t.loc, &t.text);
		break;
	case TG_T_BUILTIN:
	case TG_T_IDENT:
	case TG_T_STACK_MODE:
		if (pk(p, 1) == TG_T_LPAREN) {
			next(p, &t);
			fail(p, t.loc, (uint32_t)t.len, -TG_EPARSE, "function \"%s\" is not known", t.text);
			break;
		}
		if (h->kind == TG_T_IDENT && strchr(h->text, ' ')) {
			/* a C type ("struct X") is only a call's last argument (parse_call) */
			return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
				    "type \"%s\" is not a value: it can only be an argument, as in sizeof(%s)",
				    h->text, h->text);
		}
		next(p, &t);
		n = mk_str(p, t.kind == TG_T_BUILTIN ? TG_N_BUILTIN : TG_N_IDENT, t.loc, &t.text);
		if (n && t.kind == TG_T_STACK_MODE)
			n->flags |= TG_F_STACK_MODE;
		break;
	case TG_T_LPAREN: {
		_cleanup_node_ struct lang_node *first = NULL;
		struct lang_loc loc = h->loc;

		skip(p);
		first = parse_expr(p);
		if (!first)
			return NULL;
		if (pk(p, 0) != TG_T_COMMA) {
			if (!expect(p, TG_T_RPAREN, "in parentheses", "\")\""))
				return NULL;
			return TAKE_PTR(first);
		}
		skip(p);
		n = mk(p, TG_N_TUPLE, loc);
		if (!n || !addkid(p, n, TAKE_PTR(first)) || !parse_args(p, n, TG_T_RPAREN, "in tuple"))
			return NULL;
		return TAKE_PTR(n);
	}
	default:
		return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE, "unexpected %s, expected an expression",
			    desc(p, h, d, sizeof(d)));
	}
	lang_token_release(&t);
	return TAKE_PTR(n);
}

static struct lang_node *mk_incdec(struct parser *p, enum lang_op op, struct lang_loc loc, struct lang_node *kid)
{
	struct lang_node *n = mk(p, TG_N_INCDEC, loc);

	if (!n) {
		lang_node_free(kid);
		return NULL;
	}
	n->op = op;
	if (!addkid(p, n, kid))
		return lang_node_free(n);
	return n;
}

static struct lang_node *parse_postfix(struct parser *p)
{
	_cleanup_node_ struct lang_node *e = parse_primary(p);
	bool plain = true;      /* still a bare map or variable */
	char d[256];

	while (e) {
		struct lang_token *h = peek(p, 0);
		struct lang_node *n;

		if (h->kind == TG_T_DOT || h->kind == TG_T_PTR) {
			enum lang_op op = h->kind == TG_T_DOT ? TG_OP_DOT : TG_OP_ARROW;
			struct lang_token f;

			skip(p);
			h = peek(p, 0);
			if (op == TG_OP_DOT && h->kind == TG_T_INT) {
				char num[32];
				char *s = num;

				next(p, &f);
				snprintf(num, sizeof(num), "%llu", (unsigned long long)f.num);
				s = strdup(num);
				n = s ? mk(p, TG_N_FIELD, e->loc) : NULL;
				if (!n) {
					free(s);
					if (!p->err)
						p->err = -ENOMEM;
					return NULL;
				}
				n->str = s;
				n->u64 = f.num;
				n->flags |= TG_F_TUPLE_INDEX;
			} else if (is_ident_like(h->kind) && !strchr(h->text, ' ')) {
				/* ("struct x" from C-text mode is a type, not a field) */
				next(p, &f);
				n = mk_str(p, TG_N_FIELD, e->loc, &f.text);
				lang_token_release(&f);
				if (!n)
					return NULL;
			} else {
				return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
					    "unexpected %s after \"%s\", expected a field name%s",
					    desc(p, h, d, sizeof(d)), lang_op_str(op),
					    op == TG_OP_DOT ? " or a tuple index" : "");
			}
			n->op = op;
			if (!addkid(p, n, TAKE_PTR(e))) {
				lang_node_free(n);
				return NULL;
			}
			e = n;
			plain = false;
		} else if (h->kind == TG_T_LBRACKET) {
			skip(p);
			n = mk(p, TG_N_INDEX, e->loc);
			if (!n || !addkid(p, n, TAKE_PTR(e))) {
				lang_node_free(n);
				return NULL;
			}
			e = n;
			if (!addkid(p, n, parse_expr(p)) || !expect(p, TG_T_RBRACKET, "in index", "\"]\""))
				return NULL;
			plain = false;
		} else if (h->kind == TG_T_INCREMENT || h->kind == TG_T_DECREMENT) {
			if (!plain || (e->kind != TG_N_MAP && e->kind != TG_N_VAR))
				return fail(p, h->loc, 2, -TG_EPARSE,
					    "operator \"%s\" must be applied to a map or variable",
					    h->kind == TG_T_INCREMENT ? "++" : "--");
			enum lang_op op = h->kind == TG_T_INCREMENT ? TG_OP_POSTINC : TG_OP_POSTDEC;
			struct lang_loc loc = e->loc;

			skip(p);
			e = mk_incdec(p, op, loc, TAKE_PTR(e));
			plain = false;
		} else {
			break;
		}
	}
	return TAKE_PTR(e);
}

static struct lang_node *parse_unary(struct parser *p)
{
	struct lang_token *h = peek(p, 0);
	enum lang_op op = TG_OP_NONE;
	struct lang_loc loc = h->loc;
	_cleanup_node_ struct lang_node *n = NULL;

	switch (h->kind) {
	case TG_T_MUL: op = TG_OP_DEREF; break;
	case TG_T_BNOT: op = TG_OP_BNOT; break;
	case TG_T_LNOT: op = TG_OP_NOT; break;
	case TG_T_MINUS: op = TG_OP_NEG; break;
	case TG_T_BAND: op = TG_OP_ADDR; break;
	case TG_T_INCREMENT:
	case TG_T_DECREMENT: {
		bool inc = h->kind == TG_T_INCREMENT;

		skip(p);
		if (pk(p, 0) == TG_T_MAP)
			return mk_incdec(p, inc ? TG_OP_PREINC : TG_OP_PREDEC, loc, parse_map(p));
		if (pk(p, 0) == TG_T_VAR) {
			struct lang_token t;

			next(p, &t);
			n = mk_str(p, TG_N_VAR, t.loc, &t.text);
			lang_token_release(&t);
			return mk_incdec(p, inc ? TG_OP_PREINC : TG_OP_PREDEC, loc, TAKE_PTR(n));
		}
		return fail(p, loc, 2, -TG_EPARSE, "operator \"%s\" must be applied to a map or variable",
			    inc ? "++" : "--");
	}
	default:
		return parse_postfix(p);
	}
	skip(p);
	if (!enter(p, loc))
		return NULL;
	n = mk(p, TG_N_UNOP, loc);
	if (n) {
		n->op = op;
		if (!addkid(p, n, parse_cast(p)))
			n = lang_node_free(n);
	}
	leave(p);
	return TAKE_PTR(n);
}

/* `(` IDENT [`*` [`*`]] `)` ahead: a cast, as bpftrace's grammar has it. */
static int cast_stars(struct parser *p)
{
	if (pk(p, 0) != TG_T_LPAREN || pk(p, 1) != TG_T_IDENT)
		return -1;
	if (pk(p, 2) == TG_T_RPAREN)
		return 0;
	if (pk(p, 2) != TG_T_MUL)
		return -1;
	if (pk(p, 3) == TG_T_RPAREN)
		return 1;
	if (pk(p, 3) == TG_T_MUL && pk(p, 4) == TG_T_RPAREN)
		return 2;
	return -1;
}

static struct lang_node *parse_cast(struct parser *p)
{
	int stars = cast_stars(p);
	struct lang_loc loc = peek(p, 0)->loc;
	struct lang_token t;
	_cleanup_node_ struct lang_node *n = NULL;
	_cleanup_free_ char *type = NULL;

	if (stars < 0)
		return parse_unary(p);
	skip(p);
	next(p, &t);
	if (asprintf(&type, "%s%s", t.text, stars == 0 ? "" : stars == 1 ? " *" : " **") < 0) {
		type = NULL;
		p->err = -ENOMEM;
	}
	lang_token_release(&t);
	for (int i = 0; i < stars + 1; i++)
		skip(p);
	if (p->err || !enter(p, loc))
		return NULL;
	n = mk_str(p, TG_N_CAST, loc, &type);
	if (n && !addkid(p, n, parse_cast(p)))
		n = lang_node_free(n);
	leave(p);
	return TAKE_PTR(n);
}

static const struct {
	enum lang_tok tok;
	enum lang_op op;
	int level;
} binops[] = {
	{ TG_T_LOR, TG_OP_LOR, 0 },   { TG_T_LAND, TG_OP_LAND, 1 }, { TG_T_BOR, TG_OP_BOR, 2 },
	{ TG_T_BXOR, TG_OP_BXOR, 3 }, { TG_T_BAND, TG_OP_BAND, 4 }, { TG_T_EQ, TG_OP_EQ, 5 },
	{ TG_T_NE, TG_OP_NE, 5 },     { TG_T_LT, TG_OP_LT, 6 },     { TG_T_LE, TG_OP_LE, 6 },
	{ TG_T_GT, TG_OP_GT, 6 },     { TG_T_GE, TG_OP_GE, 6 },     { TG_T_LEFT, TG_OP_SHL, 7 },
	{ TG_T_RIGHT, TG_OP_SHR, 7 }, { TG_T_PLUS, TG_OP_ADD, 8 },  { TG_T_MINUS, TG_OP_SUB, 8 },
	{ TG_T_MUL, TG_OP_MUL, 9 },   { TG_T_DIV, TG_OP_DIV, 9 },   { TG_T_MOD, TG_OP_MOD, 9 },
};
#define BIN_LEVELS 10

static struct lang_node *parse_binary(struct parser *p, int level)
{
	_cleanup_node_ struct lang_node *lhs = NULL;

	if (level == BIN_LEVELS)
		return parse_cast(p);
	lhs = parse_binary(p, level + 1);
	while (lhs) {
		enum lang_tok k = pk(p, 0);
		enum lang_op op = TG_OP_NONE;
		struct lang_node *n;

		for (size_t i = 0; i < ARRAY_SIZE(binops); i++)
			if (binops[i].tok == k && binops[i].level == level)
				op = binops[i].op;
		if (op == TG_OP_NONE)
			break;
		skip(p);
		n = mk(p, TG_N_BINOP, lhs->loc);
		if (!n)
			return NULL;
		n->op = op;
		if (!addkid(p, n, TAKE_PTR(lhs)) || !addkid(p, n, parse_binary(p, level + 1))) {
			lang_node_free(n);
			return NULL;
		}
		lhs = n;
	}
	return TAKE_PTR(lhs);
}

static struct lang_node *parse_ternary(struct parser *p)
{
	_cleanup_node_ struct lang_node *c = parse_binary(p, 0);
	_cleanup_node_ struct lang_node *n = NULL;

	if (!c || pk(p, 0) != TG_T_QUES)
		return TAKE_PTR(c);
	skip(p);
	n = mk(p, TG_N_TERNARY, c->loc);
	if (!n || !addkid(p, n, TAKE_PTR(c)) || !addkid(p, n, parse_expr(p)) ||
	    !expect(p, TG_T_COLON, "in conditional expression", "\":\"") ||
	    !addkid(p, n, parse_ternary(p)))
		return NULL;
	return TAKE_PTR(n);
}

static struct lang_node *parse_expr(struct parser *p)
{
	struct lang_node *n;

	if (!enter(p, peek(p, 0)->loc))
		return NULL;
	n = parse_ternary(p);
	leave(p);
	return n;
}

/* ---- statements ------------------------------------------------------------ */

static struct lang_node *parse_block(struct parser *p, const char *after);
static struct lang_node *parse_if(struct parser *p);

static bool paren_expr(struct parser *p, struct lang_node *n, const char *kw)
{
	char where[32];

	snprintf(where, sizeof(where), "after \"%s\"", kw);
	if (!expect(p, TG_T_LPAREN, where, "\"(\""))
		return false;
	snprintf(where, sizeof(where), "in \"%s\" condition", kw);
	return addkid(p, n, parse_expr(p)) && expect(p, TG_T_RPAREN, where, "\")\"");
}

static struct lang_node *parse_if(struct parser *p)
{
	struct lang_loc loc = peek(p, 0)->loc;
	_cleanup_node_ struct lang_node *n = NULL;

	if (!enter(p, loc))
		return NULL;
	skip(p);
	n = mk(p, TG_N_IF, loc);
	if (!n || !paren_expr(p, n, "if") || !addkid(p, n, parse_block(p, "after \"if (...)\""))) {
		leave(p);
		return NULL;
	}
	if (pk(p, 0) == TG_T_ELSE) {
		skip(p);
		if (pk(p, 0) == TG_T_IF) {
			if (!addkid(p, n, parse_if(p)))
				n = lang_node_free(n);
		} else if (!addkid(p, n, parse_block(p, "after \"else\""))) {
			n = lang_node_free(n);
		}
	}
	leave(p);
	return TAKE_PTR(n);
}

static struct lang_node *parse_unroll(struct parser *p)
{
	struct lang_loc loc = peek(p, 0)->loc;
	_cleanup_node_ struct lang_node *n = NULL;
	_cleanup_node_ struct lang_node *param = NULL;
	struct lang_token *h;
	char d[256];
	bool neg = false;
	uint64_t cnt = 0, outer, saved;
	struct lang_node *body;

	skip(p);
	n = mk(p, TG_N_UNROLL, loc);
	if (!n || !expect(p, TG_T_LPAREN, "after \"unroll\"", "\"(\""))
		return NULL;
	if (pk(p, 0) == TG_T_MINUS) {
		neg = true;
		skip(p);
	}
	h = peek(p, 0);
	if (h->kind == TG_T_INT) {
		if (neg || h->num < 1)
			return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
				    "unroll count %s%s is not valid: the minimum is 1", neg ? "-" : "",
				    desc(p, h, d, sizeof(d)));
		if (h->num > TG_MAX_UNROLL)
			return fail(p, h->loc, (uint32_t)h->len, -TG_ELIMIT,
				    "unroll count %s is more than %u (TG_MAX_UNROLL)",
				    desc(p, h, d, sizeof(d)), TG_MAX_UNROLL);
		n->u64 = cnt = h->num;
		skip(p);
	} else if (!neg && (h->kind == TG_T_PARAM || h->kind == TG_T_PARAMCOUNT)) {
		/* the value the engine will use; one it cannot use (sema says
		 * so) counts as the most one unroll can be */
		const char *v = h->kind == TG_T_PARAM && h->num >= 1 && h->num <= p->lx.nparams
					? p->lx.params[h->num - 1] : NULL;
		const char *err = NULL;

		cnt = TG_MAX_UNROLL;
		if (h->kind == TG_T_PARAMCOUNT)
			cnt = p->lx.nparams;
		else if (v && lang_parse_int_literal(v, strlen(v), &cnt, &err) < 0)
			cnt = TG_MAX_UNROLL;
		if (cnt < 1 || cnt > TG_MAX_UNROLL)
			cnt = TG_MAX_UNROLL;
		param = parse_primary(p);
		if (!param)
			return NULL;
	} else {
		return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
			    "unexpected %s in \"unroll\", expected an integer or a positional parameter",
			    desc(p, h, d, sizeof(d)));
	}
	outer = p->unroll ? p->unroll : 1;
	if (outer * cnt > TG_MAX_UNROLL_PRODUCT)
		return fail(p, loc, 6, -TG_ELIMIT,
			    "nested unroll makes %llu copies of its body (%llu x %llu), more than %u "
			    "(TG_MAX_UNROLL_PRODUCT)", (unsigned long long)(outer * cnt),
			    (unsigned long long)outer, (unsigned long long)cnt, TG_MAX_UNROLL_PRODUCT);
	if (!expect(p, TG_T_RPAREN, "in \"unroll\"", "\")\""))
		return NULL;
	saved = p->unroll;
	p->unroll = outer * cnt;
	body = parse_block(p, "after \"unroll (...)\"");
	p->unroll = saved;
	if (!addkid(p, n, body))
		return NULL;
	if (param && !addkid(p, n, TAKE_PTR(param)))
		return NULL;
	return TAKE_PTR(n);
}

/* bpftrace 0.2x: for ($kv : @map) { } and for ($i : start..end) { }
 * (docs/language.md "For" of bpftrace). */
static struct lang_node *parse_for(struct parser *p)
{
	struct lang_loc loc = peek(p, 0)->loc;
	_cleanup_node_ struct lang_node *n = NULL;
	struct lang_token t;
	char d[256];

	skip(p);
	n = mk(p, TG_N_FOR, loc);
	if (!n || !expect(p, TG_T_LPAREN, "after \"for\"", "\"(\""))
		return NULL;
	if (pk(p, 0) != TG_T_VAR)
		return fail(p, peek(p, 0)->loc, (uint32_t)peek(p, 0)->len, -TG_EPARSE,
			    "unexpected %s in \"for\", expected a variable ($name)", desc(p, peek(p, 0), d, sizeof(d)));
	next(p, &t);
	if (!addkid(p, n, mk_str(p, TG_N_VAR, t.loc, &t.text)))
		return NULL;
	if (!expect(p, TG_T_COLON, "after the variable of \"for\"", "\":\""))
		return NULL;
	{
		/* @map, or start..end: two unary expressions (the lexer reads
		 * ".." as two dots; a start that is one token is taken alone, or
		 * its "." would read as a field access) */
		enum lang_tok k = pk(p, 0);

		if ((k == TG_T_INT || k == TG_T_VAR || k == TG_T_BUILTIN || k == TG_T_PARAM) &&
		    pk(p, 1) == TG_T_DOT && pk(p, 2) == TG_T_DOT) {
			if (!addkid(p, n, parse_primary(p)))
				return NULL;
		} else if (!addkid(p, n, parse_unary(p))) {
			return NULL;
		}
		if (n->kids[1]->kind == TG_N_MAP && pk(p, 0) == TG_T_RPAREN) {
			if (n->kids[1]->nkids)
				return fail(p, n->kids[1]->loc, 1, -TG_EPARSE,
					    "\"for\" iterates over a whole map: \"%s\" without keys", n->kids[1]->str);
			goto body;
		}
		if (pk(p, 0) != TG_T_DOT || pk(p, 1) != TG_T_DOT)
			return fail(p, peek(p, 0)->loc, (uint32_t)peek(p, 0)->len, -TG_EPARSE,
				    "unexpected %s in \"for\", expected a map or a range start..end",
				    desc(p, peek(p, 0), d, sizeof(d)));
		skip(p);
		skip(p);
		if (!addkid(p, n, parse_unary(p)))
			return NULL;
	}
body:
	if (!expect(p, TG_T_RPAREN, "in \"for\"", "\")\"") ||
	    !addkid(p, n, parse_block(p, "after \"for (...)\"")))
		return NULL;
	return TAKE_PTR(n);
}

static struct lang_node *parse_while(struct parser *p)
{
	struct lang_loc loc = peek(p, 0)->loc;
	_cleanup_node_ struct lang_node *n = NULL;

	skip(p);
	n = mk(p, TG_N_WHILE, loc);
	if (!n || !paren_expr(p, n, "while") || !addkid(p, n, parse_block(p, "after \"while (...)\"")))
		return NULL;
	return TAKE_PTR(n);
}

static const struct {
	enum lang_tok tok;
	enum lang_op op;
	const char *text;
} assign_ops[] = {
	{ TG_T_ASSIGN, TG_OP_NONE, "=" },      { TG_T_PLUSASSIGN, TG_OP_ADD, "+=" },
	{ TG_T_MINUSASSIGN, TG_OP_SUB, "-=" }, { TG_T_MULASSIGN, TG_OP_MUL, "*=" },
	{ TG_T_DIVASSIGN, TG_OP_DIV, "/=" },   { TG_T_MODASSIGN, TG_OP_MOD, "%=" },
	{ TG_T_BANDASSIGN, TG_OP_BAND, "&=" }, { TG_T_BORASSIGN, TG_OP_BOR, "|=" },
	{ TG_T_BXORASSIGN, TG_OP_BXOR, "^=" }, { TG_T_LEFTASSIGN, TG_OP_SHL, "<<=" },
	{ TG_T_RIGHTASSIGN, TG_OP_SHR, ">>=" },
};

static struct lang_node *parse_simple_stmt(struct parser *p)
{
	struct lang_token *h = peek(p, 0);
	_cleanup_node_ struct lang_node *e = NULL;
	_cleanup_node_ struct lang_node *n = NULL;

	if (h->kind == TG_T_IDENT && !strcmp(h->text, "let") && pk(p, 1) == TG_T_VAR) {
		/* bpftrace 0.2x: let $x; / let $x = e; ("let" is a name in 0.17,
		 * never followed by a variable) */
		struct lang_token t;

		n = mk(p, TG_N_LET, h->loc);
		skip(p);
		next(p, &t);
		if (!n || !addkid(p, n, mk_str(p, TG_N_VAR, t.loc, &t.text)))
			return NULL;
		if (pk(p, 0) == TG_T_ASSIGN) {
			skip(p);
			if (!addkid(p, n, parse_expr(p)))
				return NULL;
		}
		return TAKE_PTR(n);
	}
	if (h->kind == TG_T_BREAK || h->kind == TG_T_CONTINUE || h->kind == TG_T_RETURN) {
		enum lang_node_kind k = h->kind == TG_T_BREAK ? TG_N_BREAK
				    : h->kind == TG_T_CONTINUE ? TG_N_CONTINUE : TG_N_RETURN;
		struct lang_loc loc = h->loc;

		skip(p);
		return mk(p, k, loc);
	}
	e = parse_expr(p);
	if (!e)
		return NULL;
	h = peek(p, 0);
	for (size_t i = 0; i < ARRAY_SIZE(assign_ops); i++) {
		if (assign_ops[i].tok != h->kind)
			continue;
		if (e->kind == TG_N_FIELD && (e->flags & TG_F_TUPLE_INDEX))
			return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
				    "tuple element cannot be assigned with \"%s\": tuples are immutable once created, make a new tuple instead",
				    assign_ops[i].text);
		if (e->kind != TG_N_MAP && e->kind != TG_N_VAR)
			return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
				    "left side of \"%s\" is %s, not a map or variable",
				    assign_ops[i].text, lang_node_kind_str(e->kind));
		skip(p);
		n = mk(p, TG_N_ASSIGN, e->loc);
		if (!n)
			return NULL;
		n->op = assign_ops[i].op;
		if (!addkid(p, n, TAKE_PTR(e)) || !addkid(p, n, parse_expr(p)))
			return NULL;
		return TAKE_PTR(n);
	}
	n = mk(p, TG_N_EXPR_STMT, e->loc);
	if (!n || !addkid(p, n, TAKE_PTR(e)))
		return NULL;
	return TAKE_PTR(n);
}

static struct lang_node *parse_block(struct parser *p, const char *after)
{
	struct lang_token *h = peek(p, 0);
	struct lang_loc loc = h->loc;
	_cleanup_node_ struct lang_node *b = NULL;
	char d[256];

	if (!expect(p, TG_T_LBRACE, after, "\"{\"") || !enter(p, loc))
		return NULL;
	b = mk(p, TG_N_BLOCK, loc);
	while (b) {
		struct lang_node *s;

		h = peek(p, 0);
		switch (h->kind) {
		case TG_T_RBRACE:
			skip(p);
			leave(p);
			return TAKE_PTR(b);
		case TG_T_IF:
			s = parse_if(p);
			break;
		case TG_T_UNROLL:
			s = parse_unroll(p);
			break;
		case TG_T_WHILE:
			s = parse_while(p);
			break;
		case TG_T_FOR:
			s = parse_for(p);
			break;
		case TG_T_SEMI:
			fail(p, h->loc, 1, -TG_EPARSE, "unexpected \";\", expected a statement");
			s = NULL;
			break;
		case TG_T_EOF:
			fail(p, h->loc, 0, -TG_EPARSE, "unexpected end of file in block, expected \"}\"");
			s = NULL;
			break;
		default: {
			enum lang_tok first = h->kind;

			s = parse_simple_stmt(p);
			if (!addkid(p, b, s)) {
				s = NULL;
				break;
			}
			h = peek(p, 0);
			if (h->kind == TG_T_SEMI) {
				skip(p);
				continue;
			}
			if (h->kind == TG_T_RBRACE)
				continue;
			fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
			     "unexpected %s after %s, expected \";\" or \"}\"", desc(p, h, d, sizeof(d)),
			     first == TG_T_BREAK ? "\"break\""
			     : first == TG_T_CONTINUE ? "\"continue\""
			     : first == TG_T_RETURN ? "\"return\""
			     : s->kind == TG_N_ASSIGN ? "assignment" : "expression");
			s = NULL;
			break;
		}
		}
		/* addkid frees s when an error is already recorded */
		if (!addkid(p, b, s))
			break;
	}
	return NULL;
}

static bool parse_probe(struct parser *p, struct lang_probe *pr)
{
	char d[256];

	for (;;) {
		struct lang_token t;
		struct lang_attach *na;
		int r;

		if (lang_tstream_pending(&p->ts))
			return fail(p, peek(p, 0)->loc, 1, -TG_EPARSE,
				    "a macro's expansion cannot continue into an attach point");
		if (p->nla)
			return fail(p, peek(p, 0)->loc, 1, -TG_EPARSE, "internal error: lookahead at attach point");
		r = lang_lex_attach(&p->lx, &t, p->diag);
		if (r < 0) {
			p->err = r;
			return false;
		}
		if (t.text_len == 0) {
			struct lang_token *h;

			lang_token_release(&t);
			h = peek(p, 0);
			if (pr->nattach > 0 && (h->kind == TG_T_LBRACE || h->kind == TG_T_DIV))
				break;  /* a trailing comma, as bpftrace allows */
			if (h->kind == TG_T_CPREPROC || h->kind == TG_T_STRUCT_DEFN)
				return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
					    "%s %s must come before the first probe", lang_tok_name(h->kind),
					    desc(p, h, d, sizeof(d)));
			return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE, "unexpected %s, expected %s",
				    desc(p, h, d, sizeof(d)), pr->nattach ? "an attach point after \",\"" : "a probe");
		}
		if (++p->nattach > TG_MAX_ATTACH_POINTS) {
			lang_token_release(&t);
			return fail(p, t.loc, 1, -TG_ELIMIT,
				    "program has more than %u attach points (TG_MAX_ATTACH_POINTS)",
				    TG_MAX_ATTACH_POINTS);
		}
		na = reallocarray(pr->attach, pr->nattach + 1, sizeof(*na));
		if (!na) {
			lang_token_release(&t);
			p->err = -ENOMEM;
			return false;
		}
		pr->attach = na;
		memset(&na[pr->nattach], 0, sizeof(*na));
		if (pr->nattach == 0)
			pr->loc = t.loc;
		pr->nattach++;
		r = lang_attach_parse(&t, &na[pr->nattach - 1], p->diag);
		if (r < 0) {
			p->err = r;
			lang_token_release(&t);
			return false;
		}
		lang_token_release(&t);
		if (pk(p, 0) != TG_T_COMMA)
			break;
		skip(p);
	}
	if (pk(p, 0) == TG_T_DIV) {
		skip(p);
		pr->pred = parse_expr(p);
		if (!pr->pred)
			return false;
		if (!expect(p, TG_T_ENDPRED, "in predicate", "\"/\" to end the predicate"))
			return false;
	}
	if (pk(p, 0) != TG_T_LBRACE) {
		struct lang_token *h = peek(p, 0);

		return fail(p, h->loc, (uint32_t)h->len, -TG_EPARSE,
			    "unexpected %s after %s \"%s\", expected %s", desc(p, h, d, sizeof(d)),
			    pr->pred ? "predicate of" : "attach point", pr->attach[pr->nattach - 1].raw,
			    pr->pred ? "\"{\"" : "\",\", \"/\" or \"{\"");
	}
	pr->body = parse_block(p, NULL);
	return pr->body != NULL;
}

/* ---- program --------------------------------------------------------------------- */

static int lex_raw(void *ctx, struct lang_token *t, struct lang_diag *diag)
{
	return lang_lex(ctx, t, diag);
}

/*
 * The preamble: directives (lang/preproc.h) and definitions
 * (lang/cdecl.h), both understood by the front end; pre collects the
 * definitions' canonical C.  A definition in a false #if branch is lexed
 * (to find its end) but not read.
 */
static int parse_preamble(struct parser *p, struct lang_program *prog, struct buf *pre)
{
	for (;;) {
		struct lang_token t;
		int c = lang_lex_skip_blank(&p->lx, p->diag), r;

		if (c < -1)
			return c;
		if (c != '#' && !lang_lex_at_cdef(&p->lx))
			return lang_pp_finish(&p->pp, p->diag);
		r = lang_lex(&p->lx, &t, p->diag);
		if (r < 0)
			return r;
		if (t.kind == TG_T_CPREPROC) {
			r = lang_pp_directive(&p->pp, t.text, t.loc, prog, p->diag);
		} else if (t.kind == TG_T_STRUCT_DEFN) {
			size_t first = prog->ncdefs;

			if (lang_pp_live(&p->pp))
				r = lang_cdecl_parse(t.text, t.text_len, t.loc, &p->pp.macros, &prog->cdefs,
						   &prog->ncdefs, p->diag);
			for (size_t i = first; r == 0 && i < prog->ncdefs; i++)
				r = buf_adds(pre, prog->cdefs[i].text);
		} else {
			char d[256];

			r = lang_diag_setf(p->diag, t.loc, (uint32_t)t.len, -TG_EPARSE,
					 "unexpected %s, expected a definition (\"{\") or a probe",
					 desc(p, &t, d, sizeof(d)));
		}
		lang_token_release(&t);
		if (r < 0)
			return r;
	}
}

int lang_program_parse(const char *src, size_t len, struct lang_program **ret, struct lang_diag *diag)
{
	return lang_program_parse_opts(src, len, NULL, ret, diag);
}

static int copy_params(struct lang_program *prog, const struct lang_parse_opts *opts, struct lang_diag *diag)
{
	if (!opts || !opts->nparams)
		return 0;
	if (opts->nparams > TG_MAX_PARAMS)
		return lang_diag_setf(diag, (struct lang_loc){ 1, 1 }, 0, -TG_ELIMIT,
				    "%zu positional parameters, more than %u (TG_MAX_PARAMS)", opts->nparams,
				    TG_MAX_PARAMS);
	prog->params = calloc(opts->nparams, sizeof(*prog->params));
	if (!prog->params)
		return -ENOMEM;
	for (size_t i = 0; i < opts->nparams; i++) {
		const char *v = opts->params[i];

		if (!v)
			return lang_diag_setf(diag, (struct lang_loc){ 1, 1 }, 0, -EINVAL,
					    "positional parameter \"$%zu\" is missing", i + 1);
		if (strlen(v) > TG_MAX_PARAM_BYTES)
			return lang_diag_setf(diag, (struct lang_loc){ 1, 1 }, 0, -TG_ELIMIT,
					    "positional parameter \"$%zu\" is longer than %u bytes (TG_MAX_PARAM_BYTES)",
					    i + 1, TG_MAX_PARAM_BYTES);
		prog->params[i] = strdup(v);
		if (!prog->params[i])
			return -ENOMEM;
		prog->nparams++;
	}
	return 0;
}

int lang_program_parse_opts(const char *src, size_t len, const struct lang_parse_opts *opts,
			  struct lang_program **ret, struct lang_diag *diag)
{
	struct lang_diag dummy;
	struct parser p = { .diag = diag ? diag : &dummy };
	struct lang_program *prog = NULL;
	_cleanup_buf_ struct buf pre = BUF_INIT(TG_MAX_SOURCE_BYTES * 2);
	const char *nul;
	int r = 0;

	memset(p.diag, 0, sizeof(*p.diag));
	if (!src && len)
		return lang_diag_setf(p.diag, (struct lang_loc){ 1, 1 }, 0, -EINVAL, "program text missing");
	if (len > TG_MAX_SOURCE_BYTES)
		return lang_diag_setf(p.diag, (struct lang_loc){ 1, 1 }, 0, -TG_ELIMIT,
				    "program is %zu bytes, more than %u (TG_MAX_SOURCE_BYTES)", len,
				    TG_MAX_SOURCE_BYTES);
	nul = len ? memchr(src, '\0', len) : NULL;
	if (nul) {
		struct lang_lexer lx;

		lang_lexer_init(&lx, src, (size_t)(nul - src));
		while (lx.pos < lx.len) {
			if (src[lx.pos] == '\n')
				lx.line++, lx.col = 1;
			else
				lx.col++;
			lx.pos++;
		}
		return lang_diag_setf(p.diag, (struct lang_loc){ lx.line, lx.col }, 1, -TG_EPARSE,
				    "program text contains a NUL byte");
	}
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	prog->source = malloc(len + 1);
	if (!prog->source) {
		free(prog);
		return -ENOMEM;
	}
	if (len)
		memcpy(prog->source, src, len);
	prog->source[len] = '\0';
	prog->source_len = len;
	lang_lexer_init(&p.lx, prog->source, len);
	if (!OPTS_VALID(opts, struct lang_parse_opts)) {
		lang_program_free(prog);
		return lang_diag_setf(p.diag, (struct lang_loc){ 1, 1 }, 0, -EINVAL, "parse options: bad size");
	}
	r = copy_params(prog, opts, p.diag);
	if (r < 0) {
		lang_program_free(prog);
		return r;
	}
	p.lx.params = (const char *const *)prog->params;
	p.lx.nparams = prog->nparams;
	r = lang_pp_init(&p.pp);
	if (r < 0) {
		lang_program_free(prog);
		return r;
	}
	p.ts = (struct lang_tstream){ .raw = lex_raw, .ctx = &p.lx, .ms = &p.pp.macros };

	r = parse_preamble(&p, prog, &pre);
	if (r < 0)
		p.err = r;
	while (!p.err) {
		struct lang_probe *v;
		int c = lang_lex_skip_blank(&p.lx, p.diag);

		if (c < -1) {
			p.err = c;
			break;
		}
		if (c == -1) {
			if (prog->nprobes == 0)
				fail(&p, (struct lang_loc){ p.lx.line, p.lx.col }, 0, -TG_EPARSE,
				     "unexpected end of file, expected a probe");
			break;
		}
		if (lang_tstream_pending(&p.ts)) {
			fail(&p, peek(&p, 0)->loc, 1, -TG_EPARSE,
			     "a macro's expansion cannot continue past the end of a probe");
			break;
		}
		if (prog->nprobes >= TG_MAX_PROBES) {
			fail(&p, (struct lang_loc){ p.lx.line, p.lx.col }, 1, -TG_ELIMIT,
			     "program has more than %u probes (TG_MAX_PROBES)", TG_MAX_PROBES);
			break;
		}
		v = reallocarray(prog->probes, prog->nprobes + 1, sizeof(*v));
		if (!v) {
			p.err = -ENOMEM;
			break;
		}
		prog->probes = v;
		memset(&v[prog->nprobes], 0, sizeof(*v));
		prog->nprobes++;
		if (!parse_probe(&p, &v[prog->nprobes - 1]) && !p.err)
			p.err = -TG_EPARSE;
	}
	for (size_t i = 0; i < p.nla; i++)
		lang_token_release(&p.la[i]);
	lang_tstream_release(&p.ts);
	lang_pp_release(&p.pp);
	if (!p.err) {
		prog->preamble = buf_detach(&pre, NULL);
		*ret = prog;
		return 0;
	}
	if (p.err == -ENOMEM && !p.diag->msg[0])
		snprintf(p.diag->msg, sizeof(p.diag->msg), "out of memory while parsing");
	lang_program_free(prog);
	return p.err;
}

struct lang_node *lang_node_free(struct lang_node *n)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->nkids; i++)
		lang_node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
	return NULL;
}

struct lang_program *lang_program_free(struct lang_program *prog)
{
	if (!prog)
		return NULL;
	for (size_t i = 0; i < prog->nprobes; i++) {
		struct lang_probe *pr = &prog->probes[i];

		for (size_t j = 0; j < pr->nattach; j++)
			lang_attach_release(&pr->attach[j]);
		free(pr->attach);
		lang_node_free(pr->pred);
		lang_node_free(pr->body);
	}
	free(prog->probes);
	for (size_t i = 0; i < prog->ncdefs; i++) {
		free(prog->cdefs[i].name);
		free(prog->cdefs[i].text);
	}
	free(prog->cdefs);
	for (size_t i = 0; i < prog->nincludes; i++)
		free(prog->includes[i].name);
	free(prog->includes);
	free(prog->source);
	free(prog->preamble);
	for (size_t i = 0; i < prog->nparams; i++)
		free(prog->params[i]);
	free(prog->params);
	free(prog);
	return NULL;
}
