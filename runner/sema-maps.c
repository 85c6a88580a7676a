// SPDX-License-Identifier: Apache-2.0
/*
 * Maps in programs: a map's keys and value as its uses type them (merged
 * across uses, as bpftrace 0.17 sizes them), the kind an assignment gives
 * it (an integer, a string, a text value, count/sum/min/max/avg/stats,
 * hist/lhist), and struct, union and array values stored whole in maps,
 * variables, tuples and keys.  The language's own expressions are typed
 * through the context's callbacks (sem_expr), so this file calls nothing
 * of sema.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/ktypes.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

static const struct sem_type T_S64 = { .k = ST_INT, .size = 8, .sign = true };

static int memval_type(struct sctx *c, const struct sem_type *et, uint32_t max, struct sem_type *ret,
		       uint32_t *ret_size);

const char *sem_mkind_str(enum sem_mkind k)
{
	static const char *const names[] = {
		[MK_NONE] = "none", [MK_INT] = "int", [MK_STR] = "str", [MK_COUNT] = "count",
		[MK_SUM] = "sum", [MK_MIN] = "min", [MK_MAX] = "max", [MK_AVG] = "avg",
		[MK_STATS] = "stats", [MK_HIST] = "hist", [MK_LHIST] = "lhist", [MK_TEXT] = "text",
	};
	return k < ARRAY_SIZE(names) && names[k] ? names[k] : "none";
}

bool sem_map_percpu(const struct sem_map *m)
{
	return m->kind >= MK_COUNT && m->kind != MK_TEXT;
}

/* A constant integer argument (lhist bounds, strncmp length, print top). */
int sem_want_const(struct sctx *c, struct lang_node *n, const char *what, int64_t *ret)
{
	int r = sem_want_int(c, n, what);

	if (r < 0)
		return r;
	if (!sem_of(n)->is_const)
		return sem_err(c, n->loc, TG_ETYPE, "%s: expected a constant integer", what);
	*ret = sem_of(n)->cval;
	return 0;
}

struct sem_map *sem_map_get(struct sctx *c, struct lang_node *n, int *ret_idx)
{
	struct sem *s = c->s;

	for (size_t i = 0; i < s->nmaps; i++) {
		if (!strcmp(s->maps[i].name, n->str)) {
			*ret_idx = (int)i;
			return &s->maps[i];
		}
	}
	if (s->nmaps == SEM_MAX_MAPS)
		return NULL;
	memset(&s->maps[s->nmaps], 0, sizeof(s->maps[0]));
	s->maps[s->nmaps].name = n->str;
	s->maps[s->nmaps].id = (int)s->nmaps;
	s->maps[s->nmaps].loc = n->loc;
	*ret_idx = (int)s->nmaps;
	return &s->maps[s->nmaps++];
}

int sem_merge_type(struct sctx *c, struct lang_node *at, struct sem_type *have,
		      const struct sem_type *t, const char *what)
{
	if (have->k == ST_NONE) {
		*have = *t;
		if (have->k == ST_INT)
			have->size = 8;
		return 0;
	}
	if (sem_is_tuple(have) && sem_is_tuple(t))
		return sem_tuple_merge(c, at->loc, have, t);
	if (have->k != t->k || (have->k == ST_TEXT &&
				 (have->text != t->text || have->arg != t->arg ||
				  have->stack_perf != t->stack_perf || have->slen != t->slen ||
				  (have->text == TX_MEMVAL &&
				   (have->ref.src != t->ref.src || have->ref.id != t->ref.id)))))
		return sem_err(c, at->loc, TG_ETYPE, "%s: type mismatch (%s and %s)", what,
			   sem_type_name(have), sem_type_name(t));
	if (have->k == ST_STR && t->slen > have->slen)
		have->slen = t->slen;
	if (have->k == ST_INT && !t->sign)
		have->sign = have->sign && t->sign;
	return 0;
}

/* Types the map node's keys; ret is the map. */
int sem_map_ref(struct sctx *c, struct lang_node *n, struct sem_map **ret)
{
	struct sem_node *a = sem_aux(c, n);
	struct sem_type parts[SEM_MAX_MAP_KEYS];
	struct sem_map *m;
	uint32_t bytes = 0;
	size_t nkeys, nparts;
	struct lang_node **keys = sem_map_keys(n, &nkeys);
	int idx, r;

	if (!a)
		return -ENOMEM;
	m = sem_map_get(c, n, &idx);
	if (!m)
		return sem_err(c, n->loc, TG_ELIMIT, "map \"%s\": more than %d maps", n->str,
			   SEM_MAX_MAPS);
	a->map = idx;
	if (nkeys > SEM_MAX_MAP_KEYS)
		return sem_err(c, n->loc, TG_ELIMIT, "map \"%s\": more than %d keys", n->str,
			   SEM_MAX_MAP_KEYS);
	nparts = nkeys;
	for (size_t i = 0; i < nkeys; i++) {
		struct lang_node *k = keys[i];

		r = sem_expr(c, k);
		if (r < 0)
			return r;
		parts[i] = sem_of(k)->t;
		if (parts[i].k == ST_MEM) {
			/* a struct, union or array value: its bytes are the key,
			 * printed {.m=2,.n=3} and [1,2] (0.17) */
			uint32_t size;

			r = memval_type(c, &sem_of(k)->t, SEM_MAX_KEY_BYTES - 8, &parts[i], &size);
			if (r == -E2BIG)
				return sem_err(c, k->loc, TG_ELIMIT, "map \"%s\": key %zu: a value of %" PRIu32
					       " bytes (a key holds at most %d)", n->str, i + 1, size,
					       SEM_MAX_KEY_BYTES - 8);
		}
		if (parts[i].k != ST_INT && !sem_is_blob(&parts[i]))
			return sem_err(c, k->loc, TG_ETYPE, "map \"%s\": key %zu has no value", n->str,
				   i + 1);
	}
	if (nkeys == 1 && sem_is_tuple(&parts[0])) {
		/* a tuple value as the whole key is its parts, as @m[(a, b)]
		 * is @m[a, b] (codegen: key_build copies them out) */
		const struct sem_tuple *t = &c->s->tuples[parts[0].arg];

		if (t->n > SEM_MAX_MAP_KEYS)
			return sem_err(c, keys[0]->loc, TG_ELIMIT, "map \"%s\": more than %d keys", n->str,
				       SEM_MAX_MAP_KEYS);
		nparts = t->n;
		for (size_t i = 0; i < nparts; i++)
			parts[i] = t->elems[i];
	}
	if (m->keys_known && m->nkeys != nparts)
		return sem_err(c, n->loc, TG_ETYPE,
			   "map \"%s\": used with %zu keys here and %zu keys before", n->str,
			   nparts, m->nkeys);
	for (size_t i = 0; i < nparts; i++) {
		if (m->keys_known) {
			r = sem_merge_type(c, nkeys == nparts ? keys[i] : keys[0], &m->keys[i], &parts[i], "map key");
			if (r < 0)
				return r;
		} else {
			m->keys[i] = parts[i];
			if (m->keys[i].k == ST_INT)
				m->keys[i].size = 8;
		}
	}
	m->nkeys = nparts;
	m->keys_known = true;
	for (size_t i = 0; i < m->nkeys; i++)
		bytes += sem_is_blob(&m->keys[i]) ? sem_round8(m->keys[i].slen) : 8;
	if (bytes + 8 > SEM_MAX_KEY_BYTES)
		return sem_err(c, n->loc, TG_ELIMIT, "map \"%s\": key larger than %d bytes", n->str,
			   SEM_MAX_KEY_BYTES);
	*ret = m;
	return 0;
}

int sem_set_kind(struct sctx *c, struct lang_node *at, struct sem_map *m, enum sem_mkind k)
{
	if (m->kind == MK_NONE || m->kind == k) {
		m->kind = k;
		return 0;
	}
	return sem_err(c, at->loc, TG_ETYPE, "map \"%s\": used as %s here and as %s before", m->name,
		   sem_mkind_str(k), sem_mkind_str(m->kind));
}

/* The value of struct, union or array et (ST_MEM) as bytes of its own,
 * TX_MEMVAL: -ENOENT when it has none (no size), -E2BIG past max bytes;
 * *ret_size is its size either way. */
static int memval_type(struct sctx *c, const struct sem_type *et, uint32_t max, struct sem_type *ret,
		       uint32_t *ret_size)
{
	struct ktype_info in;

	*ret_size = 0;
	if (!c->s->kt || ktype_resolve(c->s->kt, et->ref, &in) < 0 ||
	    (in.k != KK_STRUCT && in.k != KK_UNION && in.k != KK_ARRAY) || !in.size)
		return -ENOENT;
	*ret_size = in.size;
	if (in.size > max)
		return -E2BIG;
	*ret = (struct sem_type){ .k = ST_TEXT, .text = TX_MEMVAL, .slen = in.size, .user = et->user,
				  .ref = et->ref };
	return 0;
}

/* A struct, union or array value as tuple element i (`(1, *ptr)`,
 * `(1, ptr->arr)`): its bytes, copied when the tuple is built, printed as
 * bpftrace 0.17 prints them (runner/values.c) */
int sem_tuple_memval(struct sctx *c, struct lang_node *k, size_t i, struct sem_type *ret)
{
	uint32_t size;
	int r = memval_type(c, &sem_of(k)->t, SEM_MAX_TUPLE_BYTES, ret, &size);

	if (r == -ENOENT)
		return sem_err(c, k->loc, TG_ETYPE, "tuple element %zu has no value", i);
	if (r < 0)
		return sem_err(c, k->loc, TG_ELIMIT, "tuple element %zu: a value of %" PRIu32
			       " bytes (a tuple holds at most %d)", i, size, SEM_MAX_TUPLE_BYTES);
	return 0;
}

/* A struct, union or array value stored whole in a variable or a map
 * (`$f = *ptr;`, `@m = ptr->arr;`, as bpftrace 0.17): its bytes, copied
 * when stored (codegen val_copy), printed as in a tuple.  what and name
 * say where, for messages: "variable", "map". */
int sem_store_memval(struct sctx *c, struct lang_node *rhs, const char *what, const char *name,
			struct sem_type *ret)
{
	uint32_t size;
	int r = memval_type(c, &sem_of(rhs)->t, SEM_MAX_MEMVAL_BYTES, ret, &size);

	if (r == -ENOENT)
		return sem_err(c, rhs->loc, TG_ETYPE, "%s \"%s\": assigned value has no value", what, name);
	if (r < 0)
		return sem_err(c, rhs->loc, TG_ELIMIT, "%s \"%s\": a value of %" PRIu32
			       " bytes (a struct or array value holds at most %d)", what, name, size,
			       SEM_MAX_MEMVAL_BYTES);
	return 0;
}

/* @m = count(), @m = hist(x, k), ...: f is the function's row
 * (sema-builtins.c), its arguments min_args of them, or max_args for
 * hist's k */
int sem_assign_agg(struct sctx *c, struct lang_node *n, const struct sem_func *f)
{
	struct lang_node *rhs = n->kids[1];
	enum sem_mkind k = f->agg;
	size_t want = f->min_args;
	struct sem_map *m;
	int r;

	r = sem_map_ref(c, n->kids[0], &m);
	if (r < 0)
		return r;
	if (!sem_aux(c, rhs))
		return -ENOMEM;
	if (k == MK_HIST && rhs->nkids == f->max_args) {
		/* bpftrace 0.2x (stdlib.md "hist"): hist(n, k), 2^k buckets
		 * per power of 2, 0 <= k <= 5 */
		int64_t bits;

		r = sem_want_const(c, rhs->kids[1], "hist() k", &bits);
		if (r < 0)
			return r;
		if (bits < 0 || bits > SEM_MAX_HIST_BITS)
			return sem_err(c, rhs->kids[1]->loc, TG_ETYPE, "hist(): k must be 0..%d",
				       SEM_MAX_HIST_BITS);
		if (m->kind == MK_HIST && m->hbits != bits)
			return sem_err(c, rhs->loc, TG_ETYPE, "hist(): map \"%s\" used with another k",
				       m->name);
		m->hbits = (uint8_t)bits;
		want = f->max_args;
	} else if (k == MK_HIST && m->kind == MK_HIST && m->hbits) {
		return sem_err(c, rhs->loc, TG_ETYPE, "hist(): map \"%s\" used with another k", m->name);
	}
	if (rhs->nkids != want)
		return sem_err(c, rhs->loc, TG_ETYPE, "%s(): takes %zu argument%s", rhs->str, want,
			   want == 1 ? "" : "s");
	if (want) {
		r = sem_want_int(c, rhs->kids[0], rhs->str);
		if (r < 0)
			return r;
	}
	if (k == MK_SUM)
		m->sum_unsigned = !sem_of(rhs->kids[0])->t.sign &&
				  (m->kind != MK_SUM || m->sum_unsigned);
	if (k == MK_LHIST) {
		int64_t mn, mx, st;

		if ((r = sem_want_const(c, rhs->kids[1], "lhist() min", &mn)) < 0 ||
		    (r = sem_want_const(c, rhs->kids[2], "lhist() max", &mx)) < 0 ||
		    (r = sem_want_const(c, rhs->kids[3], "lhist() step", &st)) < 0)
			return r;
		if (mn < 0 || mx <= mn || st <= 0 || (mx - mn) / st > 1000)
			return sem_err(c, rhs->loc, TG_ETYPE,
				   "lhist(): needs 0 <= min < max, step > 0 and at most 1000 buckets");
		if (m->kind == MK_LHIST && (m->lmin != mn || m->lmax != mx || m->lstep != st))
			return sem_err(c, rhs->loc, TG_ETYPE, "lhist(): map \"%s\" used with other bounds",
				   m->name);
		m->lmin = mn;
		m->lmax = mx;
		m->lstep = st;
	}
	sem_of(rhs)->t = (struct sem_type){ .k = ST_AGG };
	return sem_set_kind(c, n, m, k);
}

int sem_assign_map(struct sctx *c, struct lang_node *n)
{
	struct lang_node *rhs = n->kids[1];
	struct sem_map *m;
	struct sem_type vt;
	int r;

	r = sem_map_ref(c, n->kids[0], &m);
	if (r < 0)
		return r;
	r = sem_expr(c, rhs);
	if (r < 0)
		return r;
	if (n->op != TG_OP_NONE) {
		if (sem_of(rhs)->t.k != ST_INT)
			return sem_err(c, rhs->loc, TG_ETYPE, "compound assignment: expected an integer");
		if ((r = sem_set_kind(c, n, m, MK_INT)) < 0)
			return r;
		return sem_merge_type(c, n, &m->val, &T_S64, "map value");
	}
	vt = sem_of(rhs)->t;
	switch (vt.k) {
	case ST_INT:
		r = sem_set_kind(c, n, m, MK_INT);
		break;
	case ST_STR:
		r = sem_set_kind(c, n, m, MK_STR);
		break;
	case ST_MEM:
		r = sem_store_memval(c, rhs, "map", m->name, &vt);
		if (r < 0)
			return r;
		/* fall through */
	case ST_TEXT:
		r = sem_set_kind(c, n, m, MK_TEXT);
		break;
	default:
		return sem_err(c, rhs->loc, TG_ETYPE, "map \"%s\": assigned value has no value", m->name);
	}
	if (r < 0)
		return r;
	return sem_merge_type(c, n, &m->val, &vt, "map value");
}
