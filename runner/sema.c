// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis (see sema.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

static const struct sem_type T_U64 = { .k = ST_INT, .size = 8, .sign = false };
static const struct sem_type T_S64 = { .k = ST_INT, .size = 8, .sign = true };

static int expr(struct sctx *c, struct lang_node *n);
static int stmt(struct sctx *c, struct lang_node *n);

static int want_int(struct sctx *c, struct lang_node *n, const char *what)
{
	int r = expr(c, n);

	if (r < 0)
		return r;
	if (sem_of(n)->t.k != ST_INT)
		return sem_err(c, n->loc, TG_ETYPE, "%s: expected an integer", what);
	return 0;
}

/* The variable a name means here: a `let` variable in scope, else the
 * probe's 0.17 variable of that name. */
static int var_find(struct sctx *c, const char *name)
{
	int plain = -1;

	for (size_t i = 0; i < c->p->nvars; i++) {
		const struct sem_var *v = &c->p->vars[i];

		if (strcmp(v->name, name))
			continue;
		if (v->decl && !v->hidden)
			return (int)i;
		if (!v->decl)
			plain = (int)i;
	}
	return plain;
}

static int posparam_int(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *v;
	char *end;
	long long x;

	a->t = T_S64;
	a->is_const = true;
	if (n->u64 == 0) {
		a->cval = (int64_t)c->s->nparams;
		return 0;
	}
	if (n->u64 > c->s->nparams) {
		a->cval = 0;
		return 0;
	}
	v = c->s->params[n->u64 - 1];
	errno = 0;
	x = strtoll(v, &end, 0);
	if (!*v || *end || errno)
		return sem_err(c, n->loc, TG_ETYPE,
			   "positional parameter $%llu: \"%s\" is not a number (use str($%llu))",
			   (unsigned long long)n->u64, v, (unsigned long long)n->u64);
	a->cval = x;
	return 0;
}

static int binop(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type *l, *r;
	int rc;

	rc = expr(c, n->kids[0]);
	if (rc < 0)
		return rc;
	rc = expr(c, n->kids[1]);
	if (rc < 0)
		return rc;
	l = &sem_of(n->kids[0])->t;
	r = &sem_of(n->kids[1])->t;
	if ((n->op == TG_OP_ADD || n->op == TG_OP_SUB) && l->k == ST_INT && r->k == ST_INT &&
	    (l->ptr || r->ptr))
		return st_ptr_arith(c, n, a);
	if ((l->k == ST_STR && r->k == ST_STR) ||
	    (l->k == ST_TEXT && r->k == ST_TEXT && l->text == TX_BUF && r->text == TX_BUF)) {
		if (n->op != TG_OP_EQ && n->op != TG_OP_NE)
			return sem_err(c, n->loc, TG_ETYPE, "operator \"%s\": not defined on strings",
				   lang_op_str(n->op));
		a->t = T_U64;
		return 0;
	}
	if (l->k != ST_INT || r->k != ST_INT)
		return sem_err(c, n->loc, TG_ETYPE, "operator \"%s\": operands must both be integers or both strings",
			   lang_op_str(n->op));
	a->t = (l->sign && r->sign) ? T_S64 : T_U64;
	if (n->op == TG_OP_LOR || n->op == TG_OP_LAND || (n->op >= TG_OP_EQ && n->op <= TG_OP_GE))
		a->t = T_U64;
	if (sem_of(n->kids[0])->is_const && sem_of(n->kids[1])->is_const) {
		int64_t x = sem_of(n->kids[0])->cval, y = sem_of(n->kids[1])->cval;
		uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
		bool ok = true;
		int64_t v = 0;

		switch (n->op) {
		case TG_OP_ADD: v = (int64_t)(ux + uy); break;
		case TG_OP_SUB: v = (int64_t)(ux - uy); break;
		case TG_OP_MUL: v = (int64_t)(ux * uy); break;
		case TG_OP_SHL: v = y < 64 && y >= 0 ? (int64_t)(ux << y) : 0; break;
		case TG_OP_BAND: v = x & y; break;
		case TG_OP_BOR: v = x | y; break;
		case TG_OP_BXOR: v = x ^ y; break;
		default: ok = false; break;
		}
		if (ok) {
			a->is_const = true;
			a->cval = v;
		}
	}
	return 0;
}

static int field(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct tp_field *f;
	int r;

	r = expr(c, n->kids[0]);
	if (r < 0)
		return r;
	if (n->flags & TG_F_TUPLE_INDEX)
		return sem_tuple_index(c, n, a);
	if (sem_of(n->kids[0])->t.k != ST_ARGS)
		return st_field(c, n, a);
	if (!c->p->args)
		return sem_err(c, n->loc, TG_ETYPE, "args: only tracepoint probes have args");
	f = tp_format_field(c->p->args, n->str);
	if (!f)
		return sem_err(c, n->loc, TG_ETYPE, "tracepoint \"%s:%s\": no field \"%s\"",
			   c->p->args->category, c->p->args->name, n->str);
	a->field = f;
	switch (f->kind) {
	case TPF_INT:
		a->t = (struct sem_type){ .k = ST_INT, .size = (uint8_t)f->size, .sign = f->is_signed };
		return 0;
	case TPF_PTR:
		/* syscalls' pointer arguments point into the caller's memory */
		return st_tp_ptr(c, f->type, !strcmp(c->p->args->category, "syscalls"), &a->t);
	case TPF_CHARARRAY:
		a->t = (struct sem_type){ .k = ST_STR, .slen = MIN(f->size, (uint32_t)SEM_MAX_STRING) };
		return 0;
	case TPF_DATALOC:
		a->t = (struct sem_type){ .k = ST_STR, .slen = SEM_STRLEN };
		return 0;
	default:
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "args->%s: type \"%s\" is not supported",
			   n->str, f->type);
	}
}

static int cast(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	static const struct { const char *n; uint8_t size; bool sign; } ints[] = {
		{ "uint8", 1, false }, { "uint16", 2, false }, { "uint32", 4, false },
		{ "uint64", 8, false }, { "int8", 1, true }, { "int16", 2, true },
		{ "int32", 4, true }, { "int64", 8, true },
	};
	int r = expr(c, n->kids[0]);

	if (r < 0)
		return r;
	if (strchr(n->str, '*'))
		return st_cast(c, n, a);
	if (sem_of(n->kids[0])->t.k != ST_INT)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "cast to \"%s\": expected an integer", n->str);
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (!strcmp(n->str, ints[i].n)) {
			const struct lang_node *x = n->kids[0];

			a->t = (struct sem_type){ .k = ST_INT, .size = ints[i].size, .sign = ints[i].sign };
			/* the size the value has in 0.17 (a variable: its first
			 * value's), which a wider cast extends (codegen) */
			a->esize = sem_of(x)->t.size ? sem_of(x)->t.size : 8;
			if (x->kind == TG_N_VAR && sem_of(x)->var >= 0 && c->p->vars[sem_of(x)->var].size0)
				a->esize = c->p->vars[sem_of(x)->var].size0;
			return 0;
		}
	}
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "cast to \"%s\": not supported", n->str);
}

/* (a, b, ...): its type from its elements' (runner/sema-tuple.c) */
static int tuple_lit(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type elems[SEM_MAX_TUPLE_ELEMS];
	int r;

	if (n->nkids > SEM_MAX_TUPLE_ELEMS)
		return sem_err(c, n->loc, TG_ELIMIT, "tuple: more than %d elements", SEM_MAX_TUPLE_ELEMS);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct sem_type *et;

		r = expr(c, n->kids[i]);
		if (r < 0)
			return r;
		et = &sem_of(n->kids[i])->t;
		if (et->k == ST_MEM) {
			r = sem_tuple_memval(c, n->kids[i], i, &elems[i]);
			if (r < 0)
				return r;
			continue;
		}
		if (et->k != ST_INT && !sem_is_blob(et))
			return sem_err(c, n->kids[i]->loc, TG_ETYPE, "tuple element %zu has no value", i);
		elems[i] = *et;
	}
	return sem_tuple_of(c, n->loc, elems, n->nkids, &a->t);
}

static int expr_int(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	(void)c;
	a->t = T_S64;
	a->is_const = true;
	a->cval = (int64_t)n->u64;
	return 0;
}

static int expr_str(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (n->u64 + 1 > SEM_MAX_STRING)
		return sem_err(c, n->loc, TG_ELIMIT, "string literal longer than %d bytes",
			   SEM_MAX_STRING - 1);
	a->t = (struct sem_type){ .k = ST_STR, .slen = (uint32_t)n->u64 + 1 };
	a->is_const = true;
	a->cstr = n->str;
	a->cstrlen = n->u64;
	return 0;
}

static int expr_var(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->var = var_find(c, n->str);
	if (a->var < 0 || !c->p->vars[a->var].assigned) {
		for (size_t i = 0; i < c->p->nvars; i++) {
			const struct sem_var *o = &c->p->vars[i];

			if (o->decl && o->hidden && !strcmp(o->name, n->str))
				return sem_err(c, n->loc, TG_ETYPE,
					       "variable \"%s\": not in scope here (the block of its let at %u:%u has ended)",
					       n->str, o->decl->loc.line, o->decl->loc.col);
		}
		return sem_err(c, n->loc, TG_ETYPE, "variable \"%s\": used before assignment",
			   n->str);
	}
	a->t = c->p->vars[a->var].t;
	if (a->t.k == ST_NONE)    /* `let $x;` typed by a later assignment */
		a->t = T_S64;
	return 0;
}

static int expr_map(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	r = sem_map_ref(c, n, &m);
	if (r < 0)
		return r;
	m->read = true;
	switch (m->kind) {
	case MK_INT: case MK_COUNT: case MK_SUM: case MK_MIN: case MK_MAX:
		a->t = m->kind == MK_INT ? m->val : T_S64;
		if (m->kind == MK_COUNT)
			a->t = T_U64;
		return 0;
	case MK_STR:
	case MK_TEXT:
		a->t = m->val;
		return 0;
	case MK_NONE:
		if (c->final)
			return sem_err(c, n->loc, TG_ETYPE, "map \"%s\": read but never assigned",
				   n->str);
		a->t = T_S64;
		return 0;
	default:
		return sem_err(c, n->loc, TG_EUNSUPPORTED,
			   "map \"%s\": a %s map cannot be read in an expression", n->str,
			   sem_mkind_str(m->kind));
	}
}

static int unop(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r;

	if (n->op == TG_OP_DEREF)
		return st_deref(c, n, a);
	if (n->op == TG_OP_ADDR)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "operator \"%s\": pointers are not supported",
			   lang_op_str(n->op));
	r = want_int(c, n->kids[0], lang_op_str(n->op));
	if (r < 0)
		return r;
	a->t = n->op == TG_OP_NOT ? T_U64 : sem_of(n->kids[0])->t;
	if (n->op == TG_OP_NEG)
		a->t = T_S64;
	if (sem_of(n->kids[0])->is_const) {
		int64_t x = sem_of(n->kids[0])->cval;

		a->is_const = true;
		a->cval = n->op == TG_OP_NOT ? !x : n->op == TG_OP_BNOT ? ~x : (int64_t)(0 - (uint64_t)x);
	}
	return 0;
}

static int incdec(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	if (n->kids[0]->kind == TG_N_MAP) {
		r = sem_map_ref(c, n->kids[0], &m);
		if (r < 0)
			return r;
		if (m->kind != MK_INT && m->kind != MK_NONE)
			return sem_set_kind(c, n, m, MK_INT);
		m->kind = MK_INT;
		if (m->val.k == ST_NONE)
			m->val = T_S64;
		a->t = m->val;
		return 0;
	}
	if (n->kids[0]->kind != TG_N_VAR)
		return sem_err(c, n->loc, TG_ETYPE, "%s: needs a variable or a map", lang_op_str(n->op));
	r = want_int(c, n->kids[0], "variable");
	if (r < 0)
		return r;
	a->t = sem_of(n->kids[0])->t;
	return 0;
}

static int ternary(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type *t1, *t2;
	int r;

	r = want_int(c, n->kids[0], "condition");
	if (r < 0)
		return r;
	if ((r = expr(c, n->kids[1])) < 0 || (r = expr(c, n->kids[2])) < 0)
		return r;
	t1 = &sem_of(n->kids[1])->t;
	t2 = &sem_of(n->kids[2])->t;
	if (sem_is_tuple(t1) && sem_is_tuple(t2)) {
		a->t = *t1;
		return sem_tuple_merge(c, n->loc, &a->t, t2);
	}
	if (t1->k != t2->k || (t1->k == ST_TEXT && (t1->text != t2->text || t1->arg != t2->arg)))
		return sem_err(c, n->loc, TG_ETYPE, "ternary: both branches must have the same type");
	a->t = *t1;
	if (t1->k == ST_STR)
		a->t.slen = MAX(t1->slen, t2->slen);
	if (t1->k == ST_INT)    /* 0.17: a 64-bit integer of the left branch's sign */
		a->t = t1->sign ? T_S64 : T_U64;
	return 0;
}

/* One function per expression kind; a kind not listed is refused. */
static int (*const expr_kinds[])(struct sctx *c, struct lang_node *n, struct sem_node *a) = {
	[TG_N_INT] = expr_int,
	[TG_N_STR] = expr_str,
	[TG_N_BUILTIN] = sem_builtin,
	[TG_N_POSPARAM] = posparam_int,
	[TG_N_VAR] = expr_var,
	[TG_N_MAP] = expr_map,
	[TG_N_CALL] = sem_call,
	[TG_N_BINOP] = binop,
	[TG_N_UNOP] = unop,
	[TG_N_INCDEC] = incdec,
	[TG_N_TERNARY] = ternary,
	[TG_N_FIELD] = field,
	[TG_N_CAST] = cast,
	[TG_N_INDEX] = st_index,
	[TG_N_IDENT] = st_ident,
	[TG_N_TUPLE] = tuple_lit,
};

static int expr(struct sctx *c, struct lang_node *n)
{
	struct sem_node *a = sem_aux(c, n);

	if (!a)
		return -ENOMEM;
	if ((size_t)n->kind < ARRAY_SIZE(expr_kinds) && expr_kinds[n->kind])
		return expr_kinds[n->kind](c, n, a);
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "\"%s\": not supported here",
		   lang_node_kind_str(n->kind));
}

static int assign_var(struct sctx *c, struct lang_node *n)
{
	struct lang_node *rhs = n->kids[1];
	struct sem_node *a = sem_aux(c, n->kids[0]);
	struct sem_type vt;
	struct sem_var *v;
	int r, idx;

	if (!a)
		return -ENOMEM;
	r = expr(c, rhs);
	if (r < 0)
		return r;
	vt = sem_of(rhs)->t;
	if (vt.k == ST_MEM && (r = sem_store_memval(c, rhs, "variable", n->kids[0]->str, &vt)) < 0)
		return r;
	if (vt.k != ST_INT && !sem_is_blob(&vt))
		return sem_err(c, rhs->loc, TG_ETYPE, "variable \"%s\": assigned value has no value",
			   n->kids[0]->str);
	idx = var_find(c, n->kids[0]->str);
	if (idx < 0) {
		if (c->p->nvars == SEM_MAX_VARS)
			return sem_err(c, n->loc, TG_ELIMIT, "more than %d variables in one probe",
				   SEM_MAX_VARS);
		idx = (int)c->p->nvars++;
		c->p->vars[idx] = (struct sem_var){ .name = n->kids[0]->str };
	}
	v = &c->p->vars[idx];
	if (n->op != TG_OP_NONE && (!v->assigned || vt.k != ST_INT))
		return sem_err(c, n->loc, TG_ETYPE, "variable \"%s\": compound assignment needs an integer variable",
			   v->name);
	if (!v->t.k && vt.k == ST_INT)
		v->size0 = vt.size;
	r = sem_merge_type(c, n, &v->t, &vt, "variable");
	if (r < 0)
		return r;
	v->assigned = true;
	a->var = idx;
	a->t = v->t;
	return 0;
}

/* let $x; / let $x = e; (bpftrace 0.2x, docs/language.md "Variables and
 * Maps"): a new variable to the end of the enclosing block, 0 until
 * assigned; one of the same name already in scope is an error. */
static int let_stmt(struct sctx *c, struct lang_node *n)
{
	struct sem_node *a = sem_aux(c, n->kids[0]);
	const char *name = n->kids[0]->str;
	struct sem_type vt = { 0 };
	struct sem_var *v;
	int idx = -1, r;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < c->p->nvars; i++) {
		const struct sem_var *o = &c->p->vars[i];

		if (o->decl == n)
			idx = (int)i;
		else if (!strcmp(o->name, name) && ((o->decl && !o->hidden) || (!o->decl && o->assigned)))
			return sem_err(c, n->kids[0]->loc, TG_ETYPE,
				       "variable \"%s\": already declared (let declares a new variable)", name);
	}
	if (n->kind == TG_N_LET && n->nkids > 1) {
		r = expr(c, n->kids[1]);
		if (r < 0)
			return r;
		vt = sem_of(n->kids[1])->t;
		if (vt.k == ST_MEM && (r = sem_store_memval(c, n->kids[1], "variable", name, &vt)) < 0)
			return r;
		if (vt.k != ST_INT && !sem_is_blob(&vt))
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "variable \"%s\": assigned value has no value",
				       name);
	}
	if (idx < 0) {
		if (c->p->nvars == SEM_MAX_VARS)
			return sem_err(c, n->loc, TG_ELIMIT, "more than %d variables in one probe", SEM_MAX_VARS);
		idx = (int)c->p->nvars++;
		c->p->vars[idx] = (struct sem_var){ .name = name, .decl = n };
	}
	v = &c->p->vars[idx];
	if (n->kind == TG_N_FOR) {
		/* the loop's variable: typed by the caller, visible in the body */
		v->hidden = false;
		v->assigned = true;
		c->lets[c->nlets++] = idx;
		a->var = idx;
		return 0;
	}
	if (n->nkids > 1) {
		if (!v->t.k && vt.k == ST_INT)
			v->size0 = vt.size;
		r = sem_merge_type(c, n, &v->t, &vt, "variable");
		if (r < 0)
			return r;
	} else if (c->final && v->t.k == ST_NONE) {
		v->t = T_S64;      /* never assigned a value: the integer 0 */
	}
	v->hidden = false;
	v->assigned = true;
	c->lets[c->nlets++] = idx;
	a->var = idx;
	a->t = v->t.k ? v->t : T_S64;
	return 0;
}

/* for ($kv : @m) { } and for ($i : a..b) { } (bpftrace 0.2x,
 * docs/language.md "For"): $kv is (key, value), the key a tuple of its
 * parts when there are several; $i an integer.  The variable lives in the
 * body.  The map's keys and values must be known: a map assigned only
 * later in the program's text is typed on the second pass. */
static int for_stmt(struct sctx *c, struct lang_node *n)
{
	struct lang_node *body = n->kids[n->nkids - 1];
	struct sem_node *a = sem_aux(c, n);
	struct sem_type kv = T_S64;
	size_t nlets = c->nlets;
	struct sem_var *v;
	int r;

	if (!a)
		return -ENOMEM;
	if (c->for_depth >= SEM_MAX_FOR_DEPTH || c->loop_depth || c->unroll_depth)
		return sem_err(c, n->loc, TG_ELIMIT,
			       "for: inside another loop (a for runs in the kernel at every event: not within a for, while or unroll)");
	if (++c->nfor > SEM_MAX_FOR_STMTS)
		return sem_err(c, n->loc, TG_ELIMIT, "for: more than %d in one probe (each runs in the kernel at every event)",
			       SEM_MAX_FOR_STMTS);
	if (n->nkids == 3) {
		struct lang_node *mn = n->kids[1];
		struct sem_type parts[2];
		struct sem_map *m;

		if (!sem_aux(c, mn))
			return -ENOMEM;
		m = sem_map_get(c, mn, &sem_of(mn)->map);
		if (!m)
			return sem_err(c, mn->loc, TG_ELIMIT, "more than %d maps", SEM_MAX_MAPS);
		a->map = sem_of(mn)->map;
		if (m->kind == MK_NONE || !m->keys_known) {
			if (c->final)
				return sem_err(c, mn->loc, TG_ETYPE, "for: map \"%s\" is never assigned", mn->str);
			return 0;   /* typed on the second pass */
		}
		if (!m->nkeys)
			return sem_err(c, mn->loc, TG_ETYPE,
				       "for: map \"%s\" has no keys (a scalar map cannot be iterated)", mn->str);
		if (m->kind == MK_AVG || m->kind == MK_STATS || m->kind == MK_HIST || m->kind == MK_LHIST)
			return sem_err(c, mn->loc, TG_ETYPE, "for: a %s() map cannot be iterated", sem_mkind_str(m->kind));
		if (m->nkeys == 1)
			parts[0] = m->keys[0];
		else if ((r = sem_tuple_of(c, mn->loc, m->keys, m->nkeys, &parts[0])) < 0)
			return r;
		parts[1] = m->kind == MK_INT || m->kind == MK_STR || m->kind == MK_TEXT ? m->val :
			   m->kind == MK_COUNT ? T_U64 : T_S64;
		r = sem_tuple_of(c, mn->loc, parts, 2, &kv);
		if (r < 0)
			return r;
	} else {
		if ((r = want_int(c, n->kids[1], "for range start")) < 0 ||
		    (r = want_int(c, n->kids[2], "for range end")) < 0)
			return r;
	}
	r = let_stmt(c, n);
	if (r < 0)
		return r;
	v = &c->p->vars[sem_of(n->kids[0])->var];
	if (v->t.k == ST_NONE || !c->final)
		v->t = kv;
	else if (memcmp(&v->t, &kv, sizeof(kv)) && !(sem_is_tuple(&v->t) && sem_is_tuple(&kv) && v->t.arg == kv.arg))
		v->t = kv;
	sem_of(n->kids[0])->t = v->t;
	c->loop_depth++;
	c->for_depth++;
	r = stmt(c, body);
	c->for_depth--;
	c->loop_depth--;
	while (c->nlets > nlets)
		c->p->vars[c->lets[--c->nlets]].hidden = true;
	return r;
}

/* @m = count() and the other aggregations (their rows in sema-builtins.c
 * say which) are assignments of their own; anything else is a value */
static int assign_map(struct sctx *c, struct lang_node *n)
{
	const struct lang_node *rhs = n->kids[1];
	const struct sem_func *f = NULL;

	if (rhs->kind == TG_N_CALL && n->op == TG_OP_NONE)
		f = sem_func_find(rhs->str);
	if (f && f->agg != MK_NONE)
		return sem_assign_agg(c, n, f);
	return sem_assign_map(c, n);
}

static int block(struct sctx *c, struct lang_node *n)
{
	size_t nlets = c->nlets;
	int r = 0;

	for (size_t i = 0; i < n->nkids && r >= 0; i++)
		r = stmt(c, n->kids[i]);
	/* the block's let variables end with it */
	while (c->nlets > nlets)
		c->p->vars[c->lets[--c->nlets]].hidden = true;
	return r;
}

static int stmt(struct sctx *c, struct lang_node *n)
{
	int r;

	if (!sem_aux(c, n))
		return -ENOMEM;
	switch (n->kind) {
	case TG_N_EXPR_STMT:
		return expr(c, n->kids[0]);
	case TG_N_ASSIGN:
		if (n->kids[0]->kind == TG_N_MAP)
			return assign_map(c, n);
		if (n->kids[0]->kind == TG_N_VAR)
			return assign_var(c, n);
		return sem_err(c, n->loc, TG_ETYPE, "assignment: needs a variable or a map on the left");
	case TG_N_BLOCK:
		return block(c, n);
	case TG_N_LET:
		return let_stmt(c, n);
	case TG_N_FOR:
		return for_stmt(c, n);
	case TG_N_IF:
		r = want_int(c, n->kids[0], "if condition");
		if (r < 0)
			return r;
		r = stmt(c, n->kids[1]);
		if (r < 0 || n->nkids < 3)
			return r;
		return stmt(c, n->kids[2]);
	case TG_N_UNROLL: {
		/* unroll ($1): positional parameters are compile-time constants */
		int64_t cnt = (int64_t)n->u64;

		if (!n->u64 && n->nkids > 1) {
			r = sem_want_const(c, n->kids[1], "unroll", &cnt);
			if (r < 0)
				return r;
		}
		if (cnt < 1 || cnt > TG_MAX_UNROLL)
			return sem_err(c, n->loc, TG_ELIMIT, "unroll: count must be 1..%d", TG_MAX_UNROLL);
		sem_of(n)->cval = cnt;
		c->unroll_depth++;
		r = stmt(c, n->kids[0]);
		c->unroll_depth--;
		return r;
	}
	case TG_N_WHILE:
		r = want_int(c, n->kids[0], "while condition");
		if (r < 0)
			return r;
		c->loop_depth++;
		r = stmt(c, n->kids[1]);
		c->loop_depth--;
		return r;
	case TG_N_BREAK:
	case TG_N_CONTINUE:
		if (!c->loop_depth)
			return sem_err(c, n->loc, TG_ETYPE, "%s: outside a loop",
				   n->kind == TG_N_BREAK ? "break" : "continue");
		return 0;
	case TG_N_RETURN:
		return 0;
	default:
		return expr(c, n);
	}
}

/* What the typing code (sema-types.c) calls back: the language's own
 * expressions inside C-typed ones (an index, a cast's operand, join()'s
 * site).  Handed over in the context so the two files do not call each
 * other. */
static const struct sem_ops ops = {
	.expr = expr,
	.want_int = want_int,
	.site = sem_site_new,
};

static int pass(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		struct lang_diag *diag, bool final)
{
	for (size_t i = 0; i < prog->nprobes; i++) {
		struct lang_probe *pr = &prog->probes[i];
		struct sctx c = { .s = s, .ops = &ops, .p = &s->probes[i], .tp = pr, .diag = diag,
				 .final = final };
		int r;

		for (size_t v = 0; v < c.p->nvars; v++) {
			c.p->vars[v].assigned = false;
			c.p->vars[v].hidden = c.p->vars[v].decl != NULL;
		}
		c.p->args = tp ? tp[i] : NULL;
		c.p->is_begin = !strcmp(pr->attach[0].type, "BEGIN");
		c.p->is_end = !strcmp(pr->attach[0].type, "END");
		c.p->is_probe_fn = !strcmp(pr->attach[0].type, "kprobe") ||
				   !strcmp(pr->attach[0].type, "kretprobe") ||
				   !strcmp(pr->attach[0].type, "uprobe") ||
				   !strcmp(pr->attach[0].type, "uretprobe");
		c.p->user_mem = !strcmp(pr->attach[0].type, "uprobe") ||
				!strcmp(pr->attach[0].type, "uretprobe") ||
				!strcmp(pr->attach[0].type, "usdt");
		if (pr->pred) {
			r = want_int(&c, pr->pred, "predicate");
			if (r < 0)
				return r;
		}
		r = stmt(&c, pr->body);
		if (r < 0)
			return r;
	}
	return 0;
}

int sem_analyse(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		const char *const *params, size_t nparams, struct lang_diag *diag)
{
	return sem_analyse_in(s, prog, tp, params, nparams, NULL, diag);
}

int sem_analyse_in(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		   const char *const *params, size_t nparams, const char *cache_dir,
		   struct lang_diag *diag)
{
	int r;

	uint64_t cpid = s->cpid;    /* the caller's, kept */
	uint32_t probe_slen = s->probe_slen;

	memset(s, 0, sizeof(*s));
	s->cpid = cpid;
	s->probe_slen = MIN(probe_slen, SEM_MAX_PROBE_SLEN);
	s->prog = prog;
	s->params = params;
	s->nparams = nparams;
	s->cache_dir = cache_dir;
	s->probes = calloc(prog->nprobes ? prog->nprobes : 1, sizeof(*s->probes));
	if (!s->probes)
		return -ENOMEM;
	if (prog->ncdefs) {
		/* the program's own definitions compile (or fail) first */
		struct sctx c = { .s = s, .ops = &ops, .p = &s->probes[0], .diag = diag };
		struct ktypes *kt;

		r = st_ktypes(&c, &kt);
		if (r < 0)
			return r;
	}
	r = pass(s, prog, tp, diag, false);
	if (r < 0)
		return r;
	r = pass(s, prog, tp, diag, true);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->nmaps; i++) {
		if (s->maps[i].kind == MK_NONE) {
			diag->loc = s->maps[i].loc;
			snprintf(diag->msg, sizeof(diag->msg), "map \"%s\": never assigned",
				 s->maps[i].name);
			return -TG_ETYPE;
		}
	}
	return 0;
}

static void clear_aux(struct lang_node *n)
{
	if (!n)
		return;
	n->aux = NULL;
	for (size_t i = 0; i < n->nkids; i++)
		clear_aux(n->kids[i]);
}

void sem_release(struct sem *s)
{
	/* aux pointers would dangle: clear them so the tree can be reused */
	for (size_t i = 0; s->prog && i < s->prog->nprobes; i++) {
		clear_aux(s->prog->probes[i].pred);
		clear_aux(s->prog->probes[i].body);
	}
	for (size_t i = 0; i < s->nallocs; i++)
		free(s->allocs[i]);
	free(s->allocs);
	ktype_free(s->kt);
	free(s->tuples);
	free(s->probes);
	free(s->sites);
	memset(s, 0, sizeof(*s));
}
