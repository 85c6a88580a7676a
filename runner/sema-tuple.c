// SPDX-License-Identifier: Apache-2.0
/*
 * Tuples, as bpftrace 0.17 has them: `(a, b, ...)` literals, tuple
 * variables and map values and keys, `t.N`, print.  A tuple is a value of
 * bytes (ST_TEXT, TX_TUPLE) laid out as C lays out a struct of its
 * elements (bpftrace 0.17 builds an unpacked LLVM struct: ((int8)1,
 * (int64)1) is 16 bytes), its type interned in sem.tuples so that types
 * compare by index.  Storing a tuple whose strings are shorter (or whose
 * integers are narrower) than the place it goes widens that place's type,
 * as bpftrace resizes strings; codegen converts element by element.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

/* As bpftrace 0.17 lays a tuple out: a struct or union is bytes to it
 * ([N x i8], no padding before it: ((int8)1, struct of 16) is 17 bytes),
 * an array of integers or pointers is aligned as its elements
 * (((int8)1, int[2]) is 12) */
static uint32_t memval_align(const struct sem *s, const struct sem_type *t)
{
	struct ktype_info in;

	if (!s->kt || ktype_resolve(s->kt, t->ref, &in) < 0 || in.k != KK_ARRAY)
		return 1;
	for (int d = 0; d < KTYPE_MAX_DEPTH && in.k == KK_ARRAY; d++)
		if (ktype_resolve(s->kt, in.target, &in) < 0)
			return 1;
	if (in.k == KK_PTR)
		return 8;
	if (in.k == KK_INT || in.k == KK_ENUM)
		return in.size && in.size <= 8 ? in.size : 1;
	return 1;
}

static uint32_t elem_align(const struct sem *s, const struct sem_type *t)
{
	switch (t->k) {
	case ST_INT:
		return t->size ? t->size : 8;
	case ST_STR:
		return 1;
	default:
		if (t->k == ST_TEXT && t->text == TX_MEMVAL)
			return memval_align(s, t);
		return sem_is_tuple(t) ? s->tuples[t->arg].align : 8;
	}
}

static uint32_t elem_size(const struct sem_type *t)
{
	return t->k == ST_INT ? (t->size ? t->size : 8) : t->slen;
}

static bool type_eq(const struct sem_type *a, const struct sem_type *b)
{
	if (a->k != b->k)
		return false;
	switch (a->k) {
	case ST_INT:
		return a->size == b->size && a->sign == b->sign;
	case ST_STR:
		return a->slen == b->slen;
	default:
		return a->text == b->text && a->arg == b->arg && a->slen == b->slen &&
		       a->stack_perf == b->stack_perf && a->ref.src == b->ref.src &&
		       a->ref.id == b->ref.id;
	}
}

/* Lays t out and returns its index in s->tuples (an equal type's, if
 * there is one). */
static int intern(struct sctx *c, struct lang_loc loc, struct sem_tuple *t, uint16_t *ret)
{
	struct sem *s = c->s;
	uint32_t off = 0;

	t->align = 1;
	t->depth = 1;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t al = elem_align(s, &t->elems[i]);

		off = (off + al - 1) / al * al;
		t->off[i] = off;
		off += elem_size(&t->elems[i]);
		t->align = MAX(t->align, al);
		if (sem_is_tuple(&t->elems[i]))
			t->depth = MAX(t->depth, s->tuples[t->elems[i].arg].depth + 1);
	}
	t->size = (off + t->align - 1) / t->align * t->align;
	if (t->depth > SEM_MAX_TUPLE_DEPTH)
		return sem_err(c, loc, TG_ELIMIT, "tuple: nested more than %d deep", SEM_MAX_TUPLE_DEPTH);
	if (t->size > SEM_MAX_TUPLE_BYTES)
		return sem_err(c, loc, TG_ELIMIT, "tuple: %u bytes, more than %d", t->size,
			       SEM_MAX_TUPLE_BYTES);
	for (size_t i = 0; i < s->ntuples; i++) {
		const struct sem_tuple *o = &s->tuples[i];
		bool eq = o->n == t->n;

		for (size_t j = 0; eq && j < t->n; j++)
			eq = type_eq(&o->elems[j], &t->elems[j]);
		if (eq) {
			*ret = (uint16_t)i;
			return 0;
		}
	}
	if (s->ntuples == SEM_MAX_TUPLES)
		return sem_err(c, loc, TG_ELIMIT, "tuple: more than %d tuple types in one program",
			       SEM_MAX_TUPLES);
	if (!(s->ntuples & 15)) {
		struct sem_tuple *v = realloc(s->tuples, (s->ntuples + 16) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->tuples = v;
	}
	s->tuples[s->ntuples] = *t;
	*ret = (uint16_t)s->ntuples++;
	return 0;
}

static struct sem_type tuple_type(const struct sem *s, uint16_t idx)
{
	return (struct sem_type){ .k = ST_TEXT, .text = TX_TUPLE, .slen = s->tuples[idx].size,
				  .arg = idx };
}

int sem_tuple_index(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_type *bt = &sem_of(n->kids[0])->t;
	const struct sem_tuple *t;

	if (!sem_is_tuple(bt))
		return sem_err(c, n->loc, TG_ETYPE, "tuple index \".%s\": the value is a %s, not a tuple",
			       n->str, sem_type_name(bt));
	t = &c->s->tuples[bt->arg];
	if (n->u64 >= t->n)
		return sem_err(c, n->loc, TG_ETYPE, "tuple index \".%s\": the tuple has %zu elements",
			       n->str, t->n);
	a->t = t->elems[n->u64];
	a->esize = t->off[n->u64];
	return 0;
}

/* The type both x and y fit in, element by element: strings of the
 * longer size, integers of the wider size (signed only if both are). */
static int unify(struct sctx *c, struct lang_loc loc, const struct sem_type *x, const struct sem_type *y,
		 struct sem_type *ret)
{
	const struct sem_tuple *tx, *ty;
	struct sem_tuple t;
	uint16_t idx = 0;
	int r;

	if (x->k != y->k || (x->k == ST_TEXT && (x->text != y->text ||
						   (!sem_is_tuple(x) && !type_eq(x, y)))))
		return sem_err(c, loc, TG_ETYPE, "tuple: element types differ (%s and %s)",
			       sem_type_name(x), sem_type_name(y));
	if (x->k == ST_INT) {
		*ret = (struct sem_type){ .k = ST_INT, .size = MAX(x->size, y->size), .sign = x->sign && y->sign };
		return 0;
	}
	if (x->k == ST_STR) {
		*ret = (struct sem_type){ .k = ST_STR, .slen = MAX(x->slen, y->slen) };
		return 0;
	}
	if (!sem_is_tuple(x) || x->arg == y->arg) {
		*ret = *x;
		return 0;
	}
	tx = &c->s->tuples[x->arg];
	ty = &c->s->tuples[y->arg];
	if (tx->n != ty->n)
		return sem_err(c, loc, TG_ETYPE, "tuple: %zu elements here and %zu before", ty->n, tx->n);
	memset(&t, 0, sizeof(t));
	t.n = tx->n;
	for (size_t i = 0; i < t.n; i++) {
		/* re-read: unify of an element may grow s->tuples */
		struct sem_type ex = c->s->tuples[x->arg].elems[i], ey = c->s->tuples[y->arg].elems[i];

		r = unify(c, loc, &ex, &ey, &t.elems[i]);
		if (r < 0)
			return r;
	}
	r = intern(c, loc, &t, &idx);
	if (r < 0)
		return r;
	*ret = tuple_type(c->s, idx);
	return 0;
}

int sem_tuple_merge(struct sctx *c, struct lang_loc loc, struct sem_type *have, const struct sem_type *t)
{
	struct sem_type u;
	int r = unify(c, loc, have, t, &u);

	if (r < 0)
		return r;
	*have = u;
	return 0;
}

int sem_tuple_of(struct sctx *c, struct lang_loc loc, const struct sem_type *elems, size_t n,
		 struct sem_type *ret)
{
	struct sem_tuple t;
	uint16_t idx = 0;
	int r;

	if (n > SEM_MAX_TUPLE_ELEMS)
		return sem_err(c, loc, TG_ELIMIT, "tuple: more than %d elements", SEM_MAX_TUPLE_ELEMS);
	memset(&t, 0, sizeof(t));
	t.n = n;
	for (size_t i = 0; i < n; i++)
		t.elems[i] = elems[i].k == ST_INT ? (struct sem_type){ .k = ST_INT, .size = elems[i].size ? elems[i].size : 8,
									.sign = elems[i].sign } : elems[i];
	r = intern(c, loc, &t, &idx);
	if (r < 0)
		return r;
	*ret = tuple_type(c->s, idx);
	return 0;
}
