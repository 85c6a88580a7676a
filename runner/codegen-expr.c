// SPDX-License-Identifier: Apache-2.0
/*
 * BPF C for expressions and statements.  Every expression is evaluated
 * into a fresh temporary (integers) or a scratch slot (strings) in source
 * order, so side effects and short-circuits come out in bpftrace's order;
 * clang folds the temporaries away.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/codegen-int.h"
#include "runner/codegen-layout.h"
#include "runner/usdt.h"
#include "lib/banned.h"

int cg_err(struct gen *g, struct lang_loc loc, int code, const char *fmt, ...)
{
	va_list ap;

	g->diag->loc = loc;
	va_start(ap, fmt);
	vsnprintf(g->diag->msg, sizeof(g->diag->msg), fmt, ap);
	va_end(ap);
	return -code;
}

int cg_emit(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int r;

	r = buf_adds(g->o, "\t");
	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = buf_vprintf(g->o, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return buf_addc(g->o, '\n');
}

int cg_slot(struct gen *g, uint32_t size, struct lang_loc loc, uint32_t *ret_off)
{
	uint32_t sz = sem_round8(size ? size : 8);

	if (g->scratch + sz > CG_SCRATCH_MAX)
		return cg_err(g, loc, TG_ELIMIT, "probe needs more than %d bytes of string and key space",
			      CG_SCRATCH_MAX);
	*ret_off = g->scratch;
	g->scratch += sz;
	if (g->scratch > g->scratch_hi)
		g->scratch_hi = g->scratch;
	return 0;
}

static void cv_int(struct cv *v, bool sign, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cv_int(struct cv *v, bool sign, const char *fmt, ...)
{
	va_list ap;

	memset(v, 0, sizeof(*v));
	v->sign = sign;
	va_start(ap, fmt);
	vsnprintf(v->e, sizeof(v->e), fmt, ap);
	va_end(ap);
}

static void cv_str(struct cv *v, uint32_t off, uint32_t slen)
{
	memset(v, 0, sizeof(*v));
	v->str = true;
	v->slen = slen;
	snprintf(v->e, sizeof(v->e), "(tg_s + %" PRIu32 ")", off);
}

static const char *ity(bool sign)
{
	return sign ? "__s64" : "__u64";
}

/* A new integer temporary holding C expression `e`. */
static int tmp_int(struct gen *g, struct cv *v, bool sign, const char *e)
{
	int t = g->tmp++;
	int r = cg_emit(g, "%s t%d = (%s)(%s);", ity(sign), t, ity(sign), e);

	cv_int(v, sign, "t%d", t);
	return r;
}

/* A literal string, materialised in a scratch slot (clang turns the copy
 * into immediate stores; no .rodata section is needed). */
static int lit(struct gen *g, const char *s, size_t len, struct cv *v)
{
	uint32_t n = sem_round8((uint32_t)len + 1), off = 0;
	int r;

	r = cg_slot(g, n, (struct lang_loc){ 0, 0 }, &off);
	if (r < 0)
		return r;
	cv_str(v, off, (uint32_t)len + 1);
	r = buf_printf(g->o, "\t__builtin_memcpy((__u64 *)%s, \"", v->e);
	for (size_t i = 0; i < len && r >= 0; i++)
		r = buf_printf(g->o, "\\%03o", (unsigned char)s[i]);
	for (size_t i = len + 1; i < n && r >= 0; i++)
		r = buf_adds(g->o, "\\000");
	if (r >= 0)
		r = buf_printf(g->o, "\", %" PRIu32 ");\n", n);
	return r;
}

/* `probe` of a program shared by several tracepoints (runner/probes.h,
 * plan_share): the loader attaches tracepoint i with attach cookie i, so
 * the name is row i of a table in .rodata. */
static int probe_name(struct gen *g, struct cv *v)
{
	const struct plan_prog *pp = g->pp;
	static const char pfx[] = "tracepoint:";
	size_t max = 0;
	uint32_t n, off = 0;
	int id, r;

	if (pp->kind != PK_TRACEPOINT || pp->ntps < 2)
		return lit(g, pp->name, strlen(pp->name), v);
	for (size_t i = 0; i < pp->ntps; i++)
		max = MAX(max, strlen(pp->tps[i]));
	/* the probe's position: a refusal without one is shown as 0:0 */
	if (max > SEM_STRLEN * 4)
		return cg_err(g, g->s->prog->probes[pp->probe].loc, TG_ELIMIT,
			      "probe \"%s\": a tracepoint name is too long", pp->name);
	n = sem_round8((uint32_t)(sizeof(pfx) - 1 + max + 1));
	id = (*g->nlits)++;
	r = buf_printf(g->lits, "static const char tg_pn%d[%zu][%" PRIu32 "] = {\n", id, pp->ntps, n);
	for (size_t i = 0; i < pp->ntps && r >= 0; i++) {
		r = buf_printf(g->lits, "\t\"%s", pfx);
		for (const char *c = pp->tps[i]; *c && r >= 0; c++)
			r = buf_printf(g->lits, "\\%03o", (unsigned char)*c);
		if (r >= 0)
			r = buf_adds(g->lits, "\",\n");
	}
	if (r >= 0)
		r = buf_adds(g->lits, "};\n");
	if (r >= 0)
		r = cg_slot(g, n, (struct lang_loc){ 0, 0 }, &off);
	if (r < 0)
		return r;
	cv_str(v, off, n);
	return cg_emit(g, "{ __u64 tg_pc = tg_attach_cookie(ctx); if (tg_pc >= %zu) tg_pc = 0; "
		       "__builtin_memcpy((__u64 *)%s, tg_pn%d[tg_pc], %" PRIu32 "); }", pp->ntps, v->e, id, n);
}

/* Copies string value src into dst (dlen bytes, NUL-padded). */
static int str_copy(struct gen *g, const char *dst, uint32_t dlen, const struct cv *src)
{
	uint32_t n = MIN(dlen, src->slen);
	uint32_t n8 = n & ~7u;
	int r = 0;

	if (n8)
		r = cg_emit(g, "__builtin_memcpy((__u64 *)(%s), (const __u64 *)(%s), %" PRIu32 ");", dst,
			    src->e, n8);
	if (r >= 0 && n > n8)
		r = cg_emit(g, "__builtin_memcpy((char *)(%s) + %" PRIu32 ", (const char *)(%s) + %" PRIu32 ", %" PRIu32 ");",
			    dst, n8, src->e, n8, n - n8);
	if (r >= 0 && dlen > n)
		r = cg_emit(g, "__builtin_memset((char *)(%s) + %" PRIu32 ", 0, %" PRIu32 ");", dst, n,
			    dlen - n);
	if (r >= 0 && n == dlen && src->slen > dlen)
		r = cg_emit(g, "((char *)(%s))[%" PRIu32 "] = 0;", dst, dlen - 1);
	return r;
}

/* ---- tuples (runner/sema-tuple.c) ------------------------------------- */

/* Converts the tuple at src (type sidx) into dst (type didx, same shape,
 * strings and integers at least as wide): element by element, padding
 * zero. */
static int tuple_conv(struct gen *g, const char *dst, uint16_t didx, const char *src, uint16_t sidx)
{
	const struct sem_tuple *dt = &g->s->tuples[didx], *st = &g->s->tuples[sidx];
	int r;

	r = cg_emit(g, "__builtin_memset((char *)(%s), 0, %" PRIu32 ");", dst, dt->size);
	for (size_t i = 0; i < dt->n && r >= 0; i++) {
		const struct sem_type *de = &dt->elems[i], *se = &st->elems[i];
		int k = g->tmp++;
		char d[32];
		struct cv x;

		/* element pointers as temporaries: nesting never grows the text */
		r = cg_emit(g, "char *d%d = (char *)(%s) + %" PRIu32 ", *s%d = (char *)(%s) + %" PRIu32 ";",
			    k, dst, dt->off[i], k, src, st->off[i]);
		if (r < 0)
			return r;
		snprintf(d, sizeof(d), "d%d", k);
		memset(&x, 0, sizeof(x));
		x.str = true;
		x.slen = se->slen;
		snprintf(x.e, sizeof(x.e), "s%d", k);
		if (de->k == ST_INT)
			r = cg_emit(g, "*(%s%u *)d%d = *(%s%u *)s%d;", de->sign ? "__s" : "__u", de->size * 8, k,
				    se->sign ? "__s" : "__u", se->size * 8, k);
		else if (sem_is_tuple(de) && de->arg != se->arg)
			r = tuple_conv(g, d, de->arg, x.e, se->arg);
		else
			r = str_copy(g, d, de->slen, &x);
	}
	return r;
}

static const char *rd_helper(bool user);

/* Stores value src of type st into dst, a place of type dt and dlen
 * bytes: a tuple of another type is converted, any other blob copied. */
static int val_copy(struct gen *g, const char *dst, const struct sem_type *dt, uint32_t dlen,
		    const struct cv *src, const struct sem_type *st)
{
	int r;

	if (dt->k == ST_TEXT && dt->text == TX_MEMVAL && st->k == ST_MEM) {
		/* a struct or array read from memory: src is its address
		 * (mem_value); one already copied (a variable) is a blob */
		r = cg_emit(g, "%s((void *)%s, %" PRIu32 ", (const void *)(%s));",
			    rd_helper(st->user && !st->copy), dst, dt->slen, src->e);
		if (r >= 0 && dlen > dt->slen)
			r = cg_emit(g, "__builtin_memset((char *)(%s) + %" PRIu32 ", 0, %" PRIu32 ");", dst,
				    dt->slen, dlen - dt->slen);
		return r;
	}
	if (sem_is_tuple(dt) && sem_is_tuple(st) && dt->arg != st->arg) {
		r = tuple_conv(g, dst, dt->arg, src->e, st->arg);
		if (r >= 0 && dlen > dt->slen)
			r = cg_emit(g, "__builtin_memset((char *)(%s) + %" PRIu32 ", 0, %" PRIu32 ");", dst,
				    dt->slen, dlen - dt->slen);
		return r;
	}
	return str_copy(g, dst, dlen, src);
}

/* (a, b, ...): built in a scratch slot, padding zero. */
static int tuple_lit(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_tuple *t = &g->s->tuples[sem_of(n)->t.arg];
	struct cv x;
	uint32_t off = 0;
	int r;

	for (size_t i = 0; i < n->nkids; i++)
		if (!sem_of(n->kids[i]))
			return cg_err(g, n->loc, TG_ETYPE, "tuple element %zu: not typed", i);
	r = cg_slot(g, t->size, n->loc, &off);
	if (r < 0)
		return r;
	r = cg_emit(g, "__builtin_memset((__u64 *)(tg_s + %" PRIu32 "), 0, %" PRIu32 ");", off,
		    sem_round8(t->size));
	for (size_t i = 0; i < n->nkids && r >= 0; i++) {
		const struct sem_type *et = &t->elems[i];
		char d[64];

		r = cg_expr(g, n->kids[i], &x);
		if (r < 0)
			return r;
		snprintf(d, sizeof(d), "(tg_s + %" PRIu32 ")", off + t->off[i]);
		if (et->k == ST_INT)
			r = cg_emit(g, "*(%s%u *)%s = (%s%u)(%s);", et->sign ? "__s" : "__u", et->size * 8, d,
				    et->sign ? "__s" : "__u", et->size * 8, x.e);
		else
			r = val_copy(g, d, et, et->slen, &x, &sem_of(n->kids[i])->t);
	}
	cv_str(v, off, t->size);
	return r;
}

/* t.N: an integer read at its offset, or a blob that stays where it is. */
static int tuple_elem(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_type *t = &sem_of(n)->t;
	struct cv b;
	char e[96];
	int r, k;

	r = cg_expr(g, n->kids[0], &b);
	if (r < 0)
		return r;
	if (t->k == ST_INT) {
		snprintf(e, sizeof(e), "*(%s%u *)((char *)%s + %" PRIu32 ")", t->sign ? "__s" : "__u",
			 t->size * 8, b.e, sem_of(n)->esize);
		return tmp_int(g, v, t->sign, e);
	}
	k = g->tmp++;
	memset(v, 0, sizeof(*v));
	v->str = true;
	v->slen = t->slen;
	snprintf(v->e, sizeof(v->e), "t%d", k);
	return cg_emit(g, "char *t%d = (char *)%s + %" PRIu32 ";", k, b.e, sem_of(n)->esize);
}

static const char *var_name(struct gen *g, int idx, char *buf, size_t sz);

/* Leaves the probe (return, exit()): from a for loop's callback through
 * its context, which the caller tests after the helper returns. */
static int leave_probe(struct gen *g)
{
	if (g->cb_depth)
		return cg_emit(g, "{ tg_fc->ret = 1; return 1; }");
	return cg_emit(g, "goto tg_out_%zu;", g->probe);
}

/* A tuple value as the whole key (sema.c map_ref): its elements are the
 * key's parts, integers widened to 8 bytes, blobs copied. */
static int key_from_tuple(struct gen *g, const struct sem_map *m, struct lang_node *k, const char *kp)
{
	const struct sem_tuple *t = &g->s->tuples[sem_of(k)->t.arg];
	struct cv v;
	int r = cg_expr(g, k, &v), p = g->tmp++;

	if (r >= 0)
		r = cg_emit(g, "char *kt%d = (char *)%s;", p, v.e);
	for (size_t i = 0; i < t->n && r >= 0; i++) {
		const struct sem_type *et = &t->elems[i];
		char dst[96];
		struct cv e = { .str = true, .slen = et->slen };

		snprintf(dst, sizeof(dst), "(%s + %" PRIu32 ")", kp, cg_key_off(m, i));
		snprintf(e.e, sizeof(e.e), "(kt%d + %" PRIu32 ")", p, t->off[i]);
		if (et->k == ST_INT)
			r = cg_emit(g, "*(__u64 *)%s = (__u64)*(%s%u *)%s;", dst, et->sign ? "__s" : "__u",
				    et->size * 8, e.e);
		else
			r = val_copy(g, dst, &m->keys[i], sem_round8(m->keys[i].slen), &e, et);
	}
	return r;
}

static int key_build(struct gen *g, struct lang_node *mapn, const char *bucket, char *kp, size_t kpsz)
{
	const struct sem_map *m = &g->s->maps[sem_of(mapn)->map];
	uint32_t ks = cg_key_size(m), off = 0;
	bool ints = true;
	int r;

	for (size_t i = 0; i < m->nkeys; i++)
		ints = ints && !sem_is_blob(&m->keys[i]);
	if (ints && ks <= CG_STACK_KEY && g->stack_keys + ks <= CG_STACK_KEYS_MAX) {
		/* small integer keys on the stack: no per-CPU scratch lookup */
		int t = g->tmp++;

		g->stack_keys += ks;
		snprintf(kp, kpsz, "((char *)t%d)", t);
		r = cg_emit(g, "__u64 t%d[%" PRIu32 "] = { 0 };", t, ks / 8);
		if (r < 0 || (!m->nkeys && !bucket))
			return r;
	} else {
		r = cg_slot(g, ks, mapn->loc, &off);
		if (r < 0)
			return r;
		snprintf(kp, kpsz, "(tg_s + %" PRIu32 ")", off);
		if (!m->nkeys && !bucket)
			return cg_emit(g, "*(__u64 *)%s = 0;", kp);
	}
	size_t nkeys;
	struct lang_node **keys = sem_map_keys(mapn, &nkeys);

	if (nkeys == 1 && sem_is_tuple(&sem_of(keys[0])->t))
		return key_from_tuple(g, m, keys[0], kp);
	for (size_t i = 0; i < nkeys; i++) {
		struct cv v;
		char dst[96];

		r = cg_expr(g, keys[i], &v);
		if (r < 0)
			return r;
		snprintf(dst, sizeof(dst), "(%s + %" PRIu32 ")", kp, cg_key_off(m, i));
		if (sem_is_blob(&m->keys[i]))
			r = val_copy(g, dst, &m->keys[i], sem_round8(m->keys[i].slen), &v,
				     &sem_of(keys[i])->t);
		else
			r = cg_emit(g, "*(__u64 *)%s = (__u64)(%s);", dst, v.e);
		if (r < 0)
			return r;
	}
	if (bucket)
		return cg_emit(g, "*(__u64 *)(%s + %" PRIu32 ") = (__u64)(%s);", kp, ks - 8, bucket);
	return 0;
}

/* delete(@m[k]); of a hist()/lhist() map, whose entries are one per
 * bucket, every bucket of k (0.17 deletes only the bucket of the last
 * value the probe counted: docs/compat.md) */
static int map_delete(struct gen *g, struct lang_node *mapn)
{
	const struct sem_map *m = &g->s->maps[sem_of(mapn)->map];
	uint64_t nb;
	char kp[48];
	int r;

	r = key_build(g, mapn, m->kind == MK_HIST || m->kind == MK_LHIST ? "0" : NULL, kp, sizeof(kp));
	if (r < 0)
		return r;
	g->map_deleted[sem_of(mapn)->map] = true;
	if (m->kind != MK_HIST && m->kind != MK_LHIST)
		return cg_emit(g, "bpf_map_delete_elem(&tg_m%d, %s);", m->id, kp);
	/* tg_log2k's and tg_linear's largest bucket, plus one */
	nb = m->kind == MK_LHIST ? (uint64_t)(m->lmax - m->lmin) / (uint64_t)m->lstep + 2 :
	     ((uint64_t)(63 - m->hbits) << m->hbits) + (UINT64_C(1) << m->hbits) + 1;
	return cg_emit(g, "for (__u64 tg_b = 0; tg_b < %" PRIu64 "ULL; tg_b++) { *(__u64 *)(%s + %" PRIu32 ") = tg_b; bpf_map_delete_elem(&tg_m%d, %s); }",
		       nb, kp, cg_key_size(m) - 8, m->id, kp);
}

static int map_read(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_map *m = &g->s->maps[sem_of(n)->map];
	char kp[48];
	int r, t;

	r = key_build(g, n, NULL, kp, sizeof(kp));
	if (r < 0)
		return r;
	t = g->tmp++;
	if (m->kind == MK_STR || m->kind == MK_TEXT) {
		uint32_t off = 0;

		r = cg_slot(g, m->val.slen, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, m->val.slen);
		r = cg_emit(g, "{ char *p%d = bpf_map_lookup_elem(&tg_m%d, %s); if (p%d) __builtin_memcpy((__u64 *)%s, (__u64 *)p%d, %" PRIu32 "); else __builtin_memset((__u64 *)%s, 0, %" PRIu32 "); }",
			    t, m->id, kp, t, v->e, t, sem_round8(m->val.slen), v->e, sem_round8(m->val.slen));
		return r;
	}
	r = cg_emit(g, "__s64 t%d = 0; { __s64 *p = bpf_map_lookup_elem(&tg_m%d, %s); if (p) t%d = *p; }", t,
		    m->id, kp, t);
	cv_int(v, sem_of(n)->t.sign, "t%d", t);
	return r;
}

static int str_of_ptr(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct cv p, len;
	uint32_t off = 0, size;
	bool user;
	int r;

	r = cg_expr(g, n->kids[0], &p);
	if (r < 0)
		return r;
	if (p.str && n->nkids < 2) {
		*v = p;
		return 0;
	}
	/* a string value (`str($1, $n)`) is in the program's own memory */
	user = p.str ? false : sem_of(n->kids[0])->t.ptr ? sem_of(n->kids[0])->t.user : g->user_ptrs;
	size = p.str ? p.slen : SEM_STRLEN;
	r = cg_slot(g, sem_round8(size), n->loc, &off);
	if (r < 0)
		return r;
	cv_str(v, off, size);
	r = cg_emit(g, "__builtin_memset((__u64 *)%s, 0, %" PRIu32 ");", v->e, sem_round8(size));
	if (r < 0)
		return r;
	if (n->nkids == 2) {
		r = cg_expr(g, n->kids[1], &len);
		if (r < 0)
			return r;
		/* 0.17: the read's size is length + 1, wrapping (so a length
		 * of -1 reads nothing), at most the string's size */
		return cg_emit(g, "{ __u64 l = (__u64)(%s) + 1; if (l > %" PRIu32 ") l = %" PRIu32 "; if (l) %s(%s, (__u32)l, (const void *)(%s)); }",
			       len.e, size, size,
			       user ? "bpf_probe_read_user_str" : "bpf_probe_read_kernel_str",
			       v->e, p.e);
	}
	return cg_emit(g, "%s(%s, %d, (const void *)(%s));",
		       user ? "bpf_probe_read_user_str" : "bpf_probe_read_kernel_str", v->e,
		       SEM_STRLEN, p.e);
}

static int record(struct gen *g, struct lang_node *n, enum sem_rec_kind kind, uint32_t id,
		  uint32_t size, struct lang_node **args, size_t nargs, const struct sem_site *site)
{
	struct cv vals[SEM_MAX_FMT_ARGS];
	int r, t;

	for (size_t i = 0; i < nargs; i++) {
		r = cg_expr(g, args[i], &vals[i]);
		if (r < 0)
			return r;
	}
	t = g->tmp++;
	r = cg_emit(g, "{ char *r%d = tg_out_reserve(%" PRIu32 ");", t, size);
	if (r >= 0)
		r = cg_emit(g, "if (!r%d) { tg_drop(); } else {", t);
	if (r >= 0)
		r = cg_emit(g, "*(__u32 *)r%d = %d; *(__u32 *)(r%d + 4) = %" PRIu32 "; *(__u64 *)(r%d + 8) = tg_cgid;",
			    t, (int)kind, t, id, t);
	for (size_t i = 0; i < nargs && r >= 0; i++) {
		const struct sem_fmt_arg *fa = &site->args[i];
		char dst[48];

		snprintf(dst, sizeof(dst), "(r%d + %" PRIu32 ")", t, fa->off);
		if (sem_is_blob(&fa->t))
			r = str_copy(g, dst, fa->size, &vals[i]);
		else
			r = cg_emit(g, "*(__u64 *)%s = (__u64)(%s);", dst, vals[i].e);
	}
	if (r >= 0)
		r = cg_emit(g, "bpf_ringbuf_submit(r%d, 0); } }", t);
	(void)n;
	return r;
}

/* Records without a sem site: exit, print(@m), clear, zero. */
static int small_record(struct gen *g, enum sem_rec_kind kind, uint32_t id, const char *a,
			const char *b)
{
	int t = g->tmp++;

	return cg_emit(g, "{ char *r%d = bpf_ringbuf_reserve(&tg_events, 32, 0); if (!r%d) { tg_drop(); } else { *(__u32 *)r%d = %d; *(__u32 *)(r%d + 4) = %" PRIu32 "; *(__u64 *)(r%d + 8) = tg_cgid; *(__u64 *)(r%d + 16) = (__u64)(%s); *(__u64 *)(r%d + 24) = (__u64)(%s); bpf_ringbuf_submit(r%d, 0); } }",
		       t, t, t, (int)kind, t, id, t, t, a, t, b, t);
}

/* ---- memory: struct members, array elements, pointers ------------------ */

static const char *rd_helper(bool user)
{
	return user ? "bpf_probe_read_user" : "tg_read_kernel";
}

/* *x scaled for `p += x` / `p -= x` when the target is a pointer. */
static int scale(struct gen *g, enum lang_op op, const struct sem_type *t, struct cv *x)
{
	uint32_t step = sem_ptr_step(g->s, t);
	char e[96];

	if (!t->ptr || step <= 1 || (op != TG_OP_ADD && op != TG_OP_SUB))
		return 0;
	snprintf(e, sizeof(e), "(__u64)(%s) * %" PRIu32, x->e, step);
	return tmp_int(g, x, x->sign, e);
}

/* The value of n (typed by sema) found at address `addr`: integers and
 * pointers read (size bytes, sign-extended), strings read into scratch,
 * structs and arrays stay an address. */
static int mem_value(struct gen *g, struct lang_node *n, const char *addr, bool user, struct cv *v)
{
	const struct sem_type *t = &sem_of(n)->t;
	const struct ktype_member *m = &sem_of(n)->mem;
	char e[160];
	uint32_t off = 0;
	int r, k;

	switch (t->k) {
	case ST_MEM:
		return tmp_int(g, v, false, addr);
	case ST_STR:
		r = cg_slot(g, t->slen, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, t->slen);
		r = cg_emit(g, "__builtin_memset((__u64 *)%s, 0, %" PRIu32 ");", v->e, sem_round8(t->slen));
		if (r >= 0)
			r = cg_emit(g, "%s(%s, %" PRIu32 ", (const void *)(%s));", rd_helper(user), v->e,
				    t->slen, addr);
		return r;
	case ST_INT:
		k = g->tmp++;
		if (n->kind == TG_N_FIELD && m->bitfield) {
			uint32_t bytes = (m->bit_off % 8 + m->bitfield + 7) / 8, sh = 64 - m->bitfield;

			r = cg_emit(g, "__u64 t%d = 0; %s(&t%d, %" PRIu32 ", (const void *)(%s)); t%d = (t%d >> %" PRIu32 ") << %" PRIu32 ";",
				    k, rd_helper(user), k, bytes > 8 ? 8 : bytes, addr, k, k, m->bit_off % 8, sh);
			if (r < 0)
				return r;
			snprintf(e, sizeof(e), "%s(t%d) >> %" PRIu32, t->sign ? "(__s64)" : "", k, sh);
			return tmp_int(g, v, t->sign, e);
		}
		r = cg_emit(g, "__u64 t%d = 0; %s(&t%d, %u, (const void *)(%s));", k, rd_helper(user), k,
			    t->size ? t->size : 8, addr);
		if (r < 0)
			return r;
		if (t->sign && t->size < 8)
			snprintf(e, sizeof(e), "(__s%u)t%d", t->size * 8, k);
		else
			snprintf(e, sizeof(e), "t%d", k);
		return tmp_int(g, v, t->sign, e);
	default:
		return cg_err(g, n->loc, TG_ETYPE, "value of this type cannot be read");
	}
}

/* base->member / base.member: kernel members through CO-RE (the cast to
 * the named type makes clang record a field relocation), the program's
 * own types and anonymous ones at their BTF offset. */
static int mem_field(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct sem_node *a = sem_of(n);
	const struct sem_type *bt = &sem_of(n->kids[0])->t;
	char cname[160], addr[320];
	struct cv b;
	int r, len;

	r = cg_expr(g, n->kids[0], &b);
	if (r < 0)
		return r;
	if (!a->mem.bitfield && ktype_cname(g->s->kt, a->agg, cname, sizeof(cname)) == 0)
		len = snprintf(addr, sizeof(addr), "(__u64)&((%s *)(%s))->%s", cname, b.e, n->str);
	else
		len = snprintf(addr, sizeof(addr), "(__u64)(%s) + %" PRIu32, b.e, a->mem.bit_off / 8);
	if (len < 0 || (size_t)len >= sizeof(addr))
		return cg_err(g, n->loc, TG_ELIMIT, "field \"%s\": name too long", n->str);
	/* a struct stored whole ($s.m) is read from its copy, BPF memory */
	return mem_value(g, n, addr, bt->k == ST_TEXT || bt->copy ? false : bt->user, v);
}

static int mem_index(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct sem_node *a = sem_of(n);
	const struct sem_type *bt = &sem_of(n->kids[0])->t;
	char addr[200];
	struct cv b, i;
	int r;

	if ((r = cg_expr(g, n->kids[0], &b)) < 0 || (r = cg_expr(g, n->kids[1], &i)) < 0)
		return r;
	if (bt->k == ST_STR) {
		char e[320];

		snprintf(e, sizeof(e), "(__u64)(%s) < %" PRIu32 " ? (__s64)((signed char *)%s)[(__u64)(%s)] : 0",
			 i.e, bt->slen, b.e, i.e);
		return tmp_int(g, v, true, e);
	}
	snprintf(addr, sizeof(addr), "(__u64)(%s) + (__u64)(%s) * %" PRIu32, b.e, i.e, a->esize);
	/* an array stored whole ($a[1], sema: a constant index within it)
	 * is read from its copy, BPF memory */
	return mem_value(g, n, addr, bt->k == ST_TEXT || bt->copy ? false : bt->user, v);
}

/* join(argv [, delim]): the strings of a NULL-terminated array. */
static int join(struct gen *g, struct lang_node *n)
{
	struct sem_node *a = sem_of(n);
	const char *h = rd_helper(a->t.user);
	struct cv arr;
	int r, t;

	r = cg_expr(g, n->kids[0], &arr);
	if (r < 0)
		return r;
	t = g->tmp++;
	r = cg_emit(g, "{ char *r%d = tg_out_reserve(%u);", t, SEM_REC_HDR + SEM_JOIN_ARGS * SEM_JOIN_ARGSIZE);
	if (r >= 0)
		r = cg_emit(g, "if (!r%d) { tg_drop(); } else { int done = 0;", t);
	if (r >= 0)
		r = cg_emit(g, "*(__u32 *)r%d = %d; *(__u32 *)(r%d + 4) = %d; *(__u64 *)(r%d + 8) = tg_cgid;",
			    t, REC_JOIN, t, a->site, t);
	for (int i = 0; i < SEM_JOIN_ARGS && r >= 0; i++)
		r = cg_emit(g, "r%d[%d] = 0; if (!done) { __u64 p = 0; %s(&p, 8, (const void *)((__u64)(%s) + %d)); if (!p) done = 1; else %s(r%d + %d, %d, (const void *)p); }",
			    t, SEM_REC_HDR + i * SEM_JOIN_ARGSIZE, h, arr.e, i * 8,
			    a->t.user ? "bpf_probe_read_user_str" : "bpf_probe_read_kernel_str", t,
			    SEM_REC_HDR + i * SEM_JOIN_ARGSIZE, SEM_JOIN_ARGSIZE);
	if (r >= 0)
		r = cg_emit(g, "bpf_ringbuf_submit(r%d, 0); } }", t);
	return r;
}

/* buf(): __u64 length, then the bytes (zero beyond the length). */
static int buf_value(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_type *t = &sem_of(n)->t;
	const struct sem_type *xt = &sem_of(n->kids[0])->t;
	struct cv x, len;
	uint32_t off = 0, max = t->arg;
	int r;

	r = cg_expr(g, n->kids[0], &x);
	if (r < 0)
		return r;
	cv_int(&len, false, "%" PRIu32, max);
	if (n->nkids == 2 && (r = cg_expr(g, n->kids[1], &len)) < 0)
		return r;
	r = cg_slot(g, t->slen, n->loc, &off);
	if (r < 0)
		return r;
	cv_str(v, off, t->slen);
	r = cg_emit(g, "__builtin_memset((__u64 *)%s, 0, %" PRIu32 ");", v->e, sem_round8(t->slen));
	if (r < 0)
		return r;
	if (xt->k == ST_STR) {
		uint32_t n8 = MIN(max, xt->slen);

		r = cg_emit(g, "{ __u64 l = (__u64)(%s); if (l > %" PRIu32 ") l = %" PRIu32 "; *(__u64 *)%s = l; }",
			    len.e, max, max, v->e);
		if (r >= 0 && n8)
			r = cg_emit(g, "__builtin_memcpy(%s + 8, %s, %" PRIu32 ");", v->e, x.e, n8);
		return r;
	}
	if (!max)
		return 0;
	return cg_emit(g, "{ __u64 l = (__u64)(%s); if (l > %" PRIu32 ") l = %" PRIu32 "; *(__u64 *)%s = l; if (l) %s(%s + 8, l, (const void *)(%s)); }",
		       len.e, max, max, v->e, rd_helper(xt->ptr || xt->k == ST_MEM ? xt->user : g->user_ptrs),
		       v->e, x.e);
}

/* ntop(): __u64 family, then the address bytes. */
static int inet_value(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct sem_node *a = sem_of(n);
	struct lang_node *x = n->kids[n->nkids - 1];
	const struct sem_type *xt = &sem_of(x)->t;
	struct cv fam, val;
	uint32_t off = 0;
	int r;

	cv_int(&fam, false, "%d", a->esize == 16 ? 10 : 2);
	if (n->nkids == 2 && (r = cg_expr(g, n->kids[0], &fam)) < 0)
		return r;
	r = cg_expr(g, x, &val);
	if (r < 0)
		return r;
	r = cg_slot(g, 24, n->loc, &off);
	if (r < 0)
		return r;
	cv_str(v, off, 24);
	r = cg_emit(g, "*(__u64 *)%s = (__u64)(%s); *(__u64 *)(%s + 8) = 0; *(__u64 *)(%s + 16) = 0;",
		    v->e, fam.e, v->e, v->e);
	if (r < 0)
		return r;
	if (xt->k == ST_MEM)
		return cg_emit(g, "%s(%s + 8, %" PRIu32 ", (const void *)(%s));", rd_helper(xt->user), v->e,
			       a->esize, val.e);
	if (xt->k == ST_STR)
		return cg_emit(g, "__builtin_memcpy(%s + 8, %s, %" PRIu32 ");", v->e, val.e, a->esize);
	return cg_emit(g, "*(__u32 *)(%s + 8) = (__u32)(%s);", v->e, val.e);
}

/* len(kstack), len(ustack) (bpftrace 0.2x): the frames bpf_get_stack
 * writes into scratch, at most the stack's frame count; 0 in BEGIN and
 * END, whose stacks are empty (see text_value) */
static int stack_len(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_type *t = &sem_of(n->kids[0])->t;
	uint32_t off = 0;
	int k, r;

	if (g->cb_depth)   /* as the stack itself (cg_expr) */
		return cg_err(g, n->kids[0]->loc, TG_EUNSUPPORTED,
			      "%s \"%s\" in a for loop: not supported (the loop body runs without the probe's context; read it into a variable before the loop)",
			      n->kids[0]->kind == TG_N_CALL ? "function" : "builtin", n->kids[0]->str);
	if (g->pp->kind == PK_BEGIN || g->pp->kind == PK_END)
		return tmp_int(g, v, true, "0");
	r = cg_slot(g, (uint32_t)t->arg * 8, n->loc, &off);
	if (r < 0)
		return r;
	k = g->tmp++;
	cv_int(v, true, "t%d", k);
	return cg_emit(g, "__s64 t%d = bpf_get_stack(ctx, (void *)(tg_s + %" PRIu32 "), %u, %s); "
		       "t%d = t%d > 0 ? (__s64)((__u64)t%d / 8) : 0;", k, off, (unsigned)t->arg * 8,
		       t->text == TX_USTACK ? "256" : "0", k, k, k);
}

/* A value user space formats (sema.h, enum sem_text): its raw bytes in
 * a scratch slot. */
static int text_value(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct sem_type *t = &sem_of(n)->t;
	struct cv x;
	uint32_t off = 0;
	int r;

	if (t->text == TX_INET)
		return inet_value(g, n, v);
	if (t->text == TX_BUF)
		return buf_value(g, n, v);
	if (n->kind == TG_N_CALL && n->nkids && t->text != TX_KSTACK && t->text != TX_USTACK) {
		r = cg_expr(g, n->kids[t->text == TX_STRFTIME ? 1 : 0], &x);
		if (r < 0)
			return r;
	}
	r = cg_slot(g, t->slen, n->loc, &off);
	if (r < 0)
		return r;
	cv_str(v, off, t->slen);
	switch (t->text) {
	case TX_USERNAME:
		return cg_emit(g, "*(__u64 *)%s = (__u32)bpf_get_current_uid_gid();", v->e);
	case TX_KSTACK:
	case TX_USTACK:
		/* BEGIN/END run as sleepable SYSCALL programs, which may not
		 * use stack maps; bpftrace prints an empty stack there */
		if (g->pp->kind == PK_BEGIN || g->pp->kind == PK_END)
			return cg_emit(g, t->text == TX_USTACK ? "*(__s64 *)%s = -1; *(__u64 *)(%s + 8) = 0;" :
					  "*(__s64 *)%s = -1;", v->e, v->e);
		r = cg_emit(g, "*(__s64 *)%s = bpf_get_stackid(ctx, &tg_st%u, %s);", v->e, t->arg,
			    t->text == TX_USTACK ? "256" : "0");
		if (r >= 0 && t->text == TX_USTACK)
			r = cg_emit(g, "*(__u64 *)(%s + 8) = bpf_get_current_pid_tgid() >> 32;", v->e);
		return r;
	case TX_USYM:
		r = cg_emit(g, "*(__u64 *)%s = (__u64)(%s);", v->e, x.e);
		if (r >= 0)
			r = cg_emit(g, "*(__u64 *)(%s + 8) = bpf_get_current_pid_tgid() >> 32;", v->e);
		return r;
	default:   /* ksym, strftime, cgroup_path: one integer */
		return cg_emit(g, "*(__u64 *)%s = (__u64)(%s);", v->e, x.e);
	}
}

static int call(struct gen *g, struct lang_node *n, struct cv *v)
{
	const char *f = n->str;
	struct sem_node *a = sem_of(n);
	struct cv x, y;
	int r;

	cv_int(v, false, "0");
	if (a->t.k == ST_TEXT)
		return text_value(g, n, v);
	if (!strcmp(f, "printf") || !strcmp(f, "cat") || !strcmp(f, "time") ||
	    (!strcmp(f, "print") && a->site >= 0)) {
		const struct sem_site *st = &g->s->sites[a->site];
		bool pf = !strcmp(f, "printf") || !strcmp(f, "cat");

		/* time() has no arguments: no pointer arithmetic on NULL kids */
		return record(g, n, st->kind, (uint32_t)a->site, st->size,
			      n->kids ? n->kids + (pf ? 1 : 0) : NULL, st->nargs, st);
	}
	if (!strcmp(f, "pton"))   /* ntop's argument: the bytes sema parsed */
		return lit(g, a->cstr, a->cstrlen, v);
	if (!strcmp(f, "str")) {
		if (a->is_const)
			return lit(g, a->cstr, a->cstrlen, v);
		return str_of_ptr(g, n, v);
	}
	if (!strcmp(f, "exit")) {
		if (n->nkids) {
			r = cg_expr(g, n->kids[0], &x);
			if (r < 0)
				return r;
		} else {
			cv_int(&x, true, "0");
		}
		r = small_record(g, REC_EXIT, 0, x.e, "0");
		if (r < 0)
			return r;
		return leave_probe(g);
	}
	if (!strcmp(f, "print") || !strcmp(f, "clear") || !strcmp(f, "zero")) {
		char top[64] = "0", div[64] = "0";

		for (size_t i = 1; i < n->nkids; i++) {
			r = cg_expr(g, n->kids[i], &x);
			if (r < 0)
				return r;
			snprintf(i == 1 ? top : div, sizeof(top), "%s", x.e);
		}
		return small_record(g, !strcmp(f, "print") ? REC_PRINT_MAP : !strcmp(f, "clear") ? REC_CLEAR : REC_ZERO,
				    (uint32_t)g->s->maps[sem_of(n->kids[0])->map].id, top, div);
	}
	if (!strcmp(f, "has_key")) {
		struct lang_node mapn = *n->kids[0];
		const struct lang_node *k = n->kids[1];
		const struct sem_map *m = &g->s->maps[sem_of(n->kids[0])->map];
		char kp[48];

		if (m->kind == MK_HIST || m->kind == MK_LHIST)
			return cg_err(g, n->loc, TG_EUNSUPPORTED, "has_key(): not supported on a %s() map",
				      m->kind == MK_HIST ? "hist" : "lhist");
		mapn.kids = k->kind == TG_N_TUPLE ? k->kids : &n->kids[1];
		mapn.nkids = k->kind == TG_N_TUPLE ? k->nkids : 1;
		r = key_build(g, &mapn, NULL, kp, sizeof(kp));
		if (r < 0)
			return r;
		r = tmp_int(g, v, false, "0");
		if (r < 0)
			return r;
		return cg_emit(g, "%s = bpf_map_lookup_elem(&tg_m%d, %s) != 0;", v->e, m->id, kp);
	}
	if (!strcmp(f, "len") && n->kids[0]->kind != TG_N_MAP)   /* kstack, ustack */
		return stack_len(g, n, v);
	if (!strcmp(f, "len")) {
		/* bpftrace 0.2x: the entries, counted by a callback.  The count
		 * passes through scratch (volatile): the kernel verifier tracks
		 * a stack counter exactly through every callback iteration and
		 * gives up at a million instructions when the result is compared
		 * afterwards; a value read from a map is not tracked */
		int t = g->tmp++;
		uint32_t off = 0;

		r = cg_slot(g, 8, n->loc, &off);
		if (r < 0)
			return r;
		cv_int(v, true, "t%d", t);
		return cg_emit(g, "__s64 t%d = 0; { __u64 tg_n = 0; bpf_for_each_map_elem(&tg_m%d, tg_cb_len, &tg_n, 0); *(volatile __u64 *)(tg_s + %" PRIu32 ") = tg_n; t%d = (__s64)*(volatile __u64 *)(tg_s + %" PRIu32 "); }",
			       t, g->s->maps[sem_of(n->kids[0])->map].id, off, t, off);
	}
	if (!strcmp(f, "delete"))
		return map_delete(g, n->kids[0]);
	if (!strcmp(f, "strncmp")) {
		uint32_t len;

		if ((r = cg_expr(g, n->kids[0], &x)) < 0 || (r = cg_expr(g, n->kids[1], &y)) < 0)
			return r;
		len = (uint32_t)MIN((uint64_t)sem_of(n->kids[2])->cval, (uint64_t)MIN(x.slen, y.slen));
		return tmp_int(g, v, false, "0") < 0 ? -ENOMEM :
		       cg_emit(g, "%s = tg_strcmp(%s, %s, %" PRIu32 ") != 0;", v->e, x.e, y.e, len);
	}
	if (!strcmp(f, "cgroupid")) {
		cv_int(v, false, "%" PRIu64 "ULL", (uint64_t)a->cval);
		return 0;
	}
	if (!strcmp(f, "bswap")) {
		char e[96];

		r = cg_expr(g, n->kids[0], &x);
		if (r < 0)
			return r;
		if (a->esize == 1)
			snprintf(e, sizeof(e), "(__u8)(%s)", x.e);
		else
			snprintf(e, sizeof(e), "__builtin_bswap%u((__u%u)(%s))", a->esize * 8, a->esize * 8, x.e);
		return tmp_int(g, v, false, e);
	}
	if (!strcmp(f, "join"))
		return join(g, n);
	if (!strcmp(f, "reg")) {
		/* sema checked the name and the probe: its context is pt_regs
		 * (kprobe, uprobe, usdt) or begins with them (perf events) */
		char e[64];

		if (!sem_reg_valid(n->kids[0]->str))
			return cg_err(g, n->loc, TG_ETYPE, "reg(): no register \"%s\"", n->kids[0]->str);
		snprintf(e, sizeof(e), "((struct tg_pt_regs *)ctx)->%s", n->kids[0]->str);
		return tmp_int(g, v, false, e);
	}
	return cg_err(g, n->loc, TG_EUNSUPPORTED, "function \"%s\": not supported", f);
}

/* What reads the probe's context (its registers, tracepoint record,
 * attach cookie, stacks): a for body runs in a callback without it. */
static bool needs_ctx(const struct gen *g, const struct lang_node *n)
{
	const char *s = n->str;

	if (n->kind == TG_N_FIELD)
		return sem_of(n->kids[0])->t.k == ST_ARGS;
	if (n->kind == TG_N_CALL)
		return !strcmp(s, "kstack") || !strcmp(s, "ustack") || !strcmp(s, "reg");
	return !strcmp(s, "retval") || !strncmp(s, "arg", 3) || !strncmp(s, "sarg", 4) || !strcmp(s, "ctx") ||
	       !strcmp(s, "kstack") || !strcmp(s, "ustack") ||
	       (!strcmp(s, "probe") && g->pp->kind == PK_TRACEPOINT && g->pp->ntps > 1);
}

static int builtin(struct gen *g, struct lang_node *n, struct cv *v)
{
	static const struct { const char *n, *e; } ints[] = {
		{ "pid", "bpf_get_current_pid_tgid() >> 32" },
		{ "tid", "(__u32)bpf_get_current_pid_tgid()" },
		{ "uid", "(__u32)bpf_get_current_uid_gid()" },
		{ "gid", "bpf_get_current_uid_gid() >> 32" },
		{ "nsecs", "bpf_ktime_get_ns()" },
		{ "elapsed", "bpf_ktime_get_ns() - tg_start_ns()" },
		{ "cpu", "bpf_get_smp_processor_id()" },
		{ "cgroup", "bpf_get_current_cgroup_id()" },
		{ "rand", "bpf_get_prandom_u32()" },
		{ "numaid", "bpf_get_numa_node_id()" },
		{ "retval", "((struct tg_pt_regs *)ctx)->ax" },
	};
	static const char *const regs[] = { "di", "si", "dx", "cx", "r8", "r9" };
	uint32_t off = 0;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (!strcmp(n->str, ints[i].n))
			return tmp_int(g, v, false, ints[i].e);
	if (!strncmp(n->str, "arg", 3)) {
		unsigned long k = strtoul(n->str + 3, NULL, 10);
		char e[64];

		if (g->pp->kind == PK_USDT) {
			/* libbpf's bpf_usdt_arg(): the site's argument spec */
			if (k >= USDT_MAX_ARGS)
				return cg_err(g, n->loc, TG_EUNSUPPORTED, "builtin \"%s\": usdt probes have arg0..arg%d",
					      n->str, USDT_MAX_ARGS - 1);
			snprintf(e, sizeof(e), "tg_usdt_arg(ctx, %lu)", k);
			return tmp_int(g, v, false, e);
		}
		if (k >= ARRAY_SIZE(regs))
			return cg_err(g, n->loc, TG_EUNSUPPORTED, "builtin \"%s\": only arg0..arg5",
				      n->str);
		snprintf(e, sizeof(e), "((struct tg_pt_regs *)ctx)->%s", regs[k]);
		return tmp_int(g, v, false, e);
	}
	if (!strcmp(n->str, "comm")) {
		r = cg_slot(g, 16, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, 16);
		return cg_emit(g, "bpf_get_current_comm(%s, 16);", v->e);
	}
	if (!strcmp(n->str, "probe"))
		return probe_name(g, v);
	if (!strcmp(n->str, "curtask"))
		return tmp_int(g, v, false, "bpf_get_current_task()");
	if (!strcmp(n->str, "ctx"))
		return tmp_int(g, v, false, "(__u64)ctx");
	if (!strcmp(n->str, "func"))
		return lit(g, g->pp->func ? g->pp->func : "", g->pp->func ? strlen(g->pp->func) : 0, v);
	if (sem_of(n)->t.k == ST_TEXT)
		return text_value(g, n, v);
	return cg_err(g, n->loc, TG_EUNSUPPORTED, "builtin \"%s\": not supported", n->str);
}

static int field(struct gen *g, struct lang_node *n, struct cv *v)
{
	const struct tp_field *f;
	char e[96];
	uint32_t off = 0;
	int r;

	if (sem_of(n->kids[0])->t.k != ST_ARGS)
		return mem_field(g, n, v);
	f = tp_format_field(&g->pp->tp, n->str);
	if (!f)
		return cg_err(g, n->loc, TG_ETYPE, "tracepoint \"%s:%s\": no field \"%s\"",
			      g->pp->tp.category, g->pp->tp.name, n->str);
	switch (f->kind) {
	case TPF_INT:
	case TPF_PTR:
		snprintf(e, sizeof(e), "*(%s%u *)((char *)ctx + %" PRIu32 ")",
			 f->is_signed && f->kind == TPF_INT ? "__s" : "__u", f->size * 8, f->offset);
		return tmp_int(g, v, f->is_signed && f->kind == TPF_INT, e);
	case TPF_CHARARRAY: {
		uint32_t sl = sem_of(n)->t.slen;

		r = cg_slot(g, sl, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, sl);
		r = cg_emit(g, "__builtin_memset((__u64 *)%s, 0, %" PRIu32 ");", v->e, sem_round8(sl));
		if (r >= 0)
			/* a helper, not a copy: clang would keep ctx + offset in
			 * a register and the verifier refuses a modified ctx */
			r = cg_emit(g, "tg_read_kernel(%s, %" PRIu32 ", (char *)ctx + %" PRIu32 ");", v->e,
				    MIN(f->size, sl), f->offset);
		return r;
	}
	case TPF_DATALOC:
		r = cg_slot(g, SEM_STRLEN, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, SEM_STRLEN);
		r = cg_emit(g, "__builtin_memset((__u64 *)%s, 0, %d);", v->e, SEM_STRLEN);
		if (r >= 0)
			r = cg_emit(g, "{ __u32 dl = *(__u32 *)((char *)ctx + %" PRIu32 "); bpf_probe_read_kernel_str(%s, %d, (char *)ctx + (dl & 0xffff)); }",
				    f->offset, v->e, SEM_STRLEN);
		return r;
	default:
		return cg_err(g, n->loc, TG_EUNSUPPORTED, "args->%s: type \"%s\" is not supported",
			      n->str, f->type);
	}
}

/* The C spelling of the binary operators C evaluates as bpftrace does
 * (the language's spelling, lang_op_str); NULL for the others, which the
 * caller generates itself (division, modulo, logic). */
static const char *cop(enum lang_op op)
{
	switch (op) {
	case TG_OP_BOR: case TG_OP_BXOR: case TG_OP_BAND:
	case TG_OP_EQ: case TG_OP_NE: case TG_OP_LT: case TG_OP_LE: case TG_OP_GT: case TG_OP_GE:
	case TG_OP_SHL: case TG_OP_SHR: case TG_OP_ADD: case TG_OP_SUB: case TG_OP_MUL:
		return lang_op_str(op);
	default:
		return NULL;
	}
}

/* x op y on integer values, into a new temporary (sign: of the result). */
static int arith(struct gen *g, struct lang_loc loc, enum lang_op op, const struct cv *x,
		 const struct cv *y, bool sign, struct cv *v)
{
	char e[200];
	bool cmpsign = x->sign && y->sign;

	if (op == TG_OP_DIV || op == TG_OP_MOD) {
		/* bpftrace 0.17 divides as unsigned 64-bit whatever the signs
		 * (BPF has no signed division): -7 / 2 prints -4 with %d */
		snprintf(e, sizeof(e), "%s(%s, %s)", op == TG_OP_DIV ? "tg_udiv" : "tg_umod", x->e, y->e);
		return tmp_int(g, v, sign, e);
	}
	if (!cop(op))
		return cg_err(g, loc, TG_EUNSUPPORTED, "operator \"%s\": not supported", lang_op_str(op));
	snprintf(e, sizeof(e), "(%s)(%s) %s (%s)(%s)", ity(cmpsign), x->e, cop(op),
		 op == TG_OP_SHL || op == TG_OP_SHR ? "__u64" : ity(cmpsign), y->e);
	return tmp_int(g, v, sign, e);
}

static int binop(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct cv x, y;
	int r, t;

	if (n->op == TG_OP_LAND || n->op == TG_OP_LOR) {
		t = g->tmp++;
		r = cg_expr(g, n->kids[0], &x);
		if (r < 0)
			return r;
		r = cg_emit(g, "__u64 t%d = %d; if (%s(%s)) {", t, n->op == TG_OP_LOR, n->op == TG_OP_LOR ? "!" : "", x.e);
		if (r < 0)
			return r;
		r = cg_expr(g, n->kids[1], &y);
		if (r < 0)
			return r;
		r = cg_emit(g, "t%d = (%s) != 0; }", t, y.e);
		cv_int(v, false, "t%d", t);
		return r;
	}
	if ((r = cg_expr(g, n->kids[0], &x)) < 0 || (r = cg_expr(g, n->kids[1], &y)) < 0)
		return r;
	if (x.str && sem_of(n->kids[0])->t.k == ST_TEXT) {
		/* buffers: equal lengths and bytes */
		uint32_t mn = MIN(x.slen, y.slen) - 8;

		t = g->tmp++;
		r = cg_emit(g, "__u64 t%d = 0; { __u64 la = *(__u64 *)%s, lb = *(__u64 *)%s; if (la == lb) { t%d = 1; for (__u32 i = 0; i < %" PRIu32 "; i++) if (i < la && %s[8 + i] != %s[8 + i]) t%d = 0; } }",
			    t, x.e, y.e, t, mn, x.e, y.e, t);
		if (r < 0)
			return r;
		cv_int(v, false, "%st%d", n->op == TG_OP_EQ ? "" : "!", t);
		return 0;
	}
	if (x.str) {
		char e[200];

		snprintf(e, sizeof(e), "tg_strcmp(%s, %s, %" PRIu32 ") %s 0", x.e, y.e,
			 MIN(x.slen, y.slen), n->op == TG_OP_EQ ? "==" : "!=");
		return tmp_int(g, v, false, e);
	}
	if (sem_of(n)->esize > 1 && (n->op == TG_OP_ADD || n->op == TG_OP_SUB)) {
		/* pointer +/- integer steps by the pointee's size */
		char e[200];
		bool lp = sem_of(n->kids[0])->t.ptr;

		snprintf(e, sizeof(e), "(__u64)(%s) %s (__u64)(%s) * %" PRIu32 "", lp ? x.e : y.e,
			 n->op == TG_OP_ADD ? "+" : "-", lp ? y.e : x.e, sem_of(n)->esize);
		return tmp_int(g, v, false, e);
	}
	return arith(g, n->loc, n->op, &x, &y, sem_of(n)->t.sign, v);
}

static const char *var_name(struct gen *g, int idx, char *buf, size_t sz)
{
	if (g->vars_scratch)   /* a probe with a for: reachable from its callbacks */
		snprintf(buf, sz, "(*(%s *)(tg_s + %" PRIu32 "))", g->sp->vars[idx].t.sign ? "__s64" : "__u64",
			 g->var_slot[idx]);
	else
		snprintf(buf, sz, "V%zu_%d", g->probe, idx);
	return buf;
}

static int incdec(struct gen *g, struct lang_node *n, struct cv *v)
{
	bool pre = n->op == TG_OP_PREINC || n->op == TG_OP_PREDEC;
	bool inc = n->op == TG_OP_PREINC || n->op == TG_OP_POSTINC;
	struct lang_node *k = n->kids[0];
	char name[32], d[32];
	int r, t = g->tmp++;

	/* a pointer steps by its pointee's size */
	snprintf(d, sizeof(d), "%c %" PRIu32, inc ? '+' : '-', sem_ptr_step(g->s, &sem_of(n)->t));
	if (k->kind == TG_N_VAR) {
		var_name(g, sem_of(k)->var, name, sizeof(name));
		if (pre)
			r = cg_emit(g, "%s = %s %s; %s t%d = %s;", name, name, d, ity(sem_of(n)->t.sign), t, name);
		else
			r = cg_emit(g, "%s t%d = %s; %s = %s %s;", ity(sem_of(n)->t.sign), t, name, name, name, d);
		cv_int(v, sem_of(n)->t.sign, "t%d", t);
		return r;
	} else {
		const struct sem_map *m = &g->s->maps[sem_of(k)->map];
		char kp[48];

		r = key_build(g, k, NULL, kp, sizeof(kp));
		if (r < 0)
			return r;
		r = cg_emit(g, "__s64 t%d = 0; { __s64 *p = bpf_map_lookup_elem(&tg_m%d, %s), o = p ? *p : 0, nv = o %s; if (bpf_map_update_elem(&tg_m%d, %s, &nv, 0) < 0) tg_mdrop(); t%d = %s; }",
			    t, m->id, kp, d, m->id, kp, t, pre ? "nv" : "o");
		cv_int(v, true, "t%d", t);
		return r;
	}
}

static int ternary(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct cv c, x;
	struct sem_node *a = sem_of(n);
	uint32_t off = 0;
	int r, t = g->tmp++;

	r = cg_expr(g, n->kids[0], &c);
	if (r < 0)
		return r;
	if (sem_is_blob(&a->t)) {
		r = cg_slot(g, a->t.slen, n->loc, &off);
		if (r < 0)
			return r;
		cv_str(v, off, a->t.slen);
	} else if (a->t.k == ST_INT) {
		r = cg_emit(g, "%s t%d = 0;", ity(a->t.sign), t);
		if (r < 0)
			return r;
		cv_int(v, a->t.sign, "t%d", t);
	} else {
		cv_int(v, false, "0");
	}
	for (int i = 1; i <= 2; i++) {
		r = cg_emit(g, i == 1 ? "if (%s) {" : "} else {", c.e);
		if (r < 0)
			return r;
		r = cg_expr(g, n->kids[i], &x);
		if (r < 0)
			return r;
		if (sem_is_blob(&a->t))
			r = val_copy(g, v->e, &a->t, sem_round8(a->t.slen), &x, &sem_of(n->kids[i])->t);
		else if (a->t.k == ST_INT)
			r = cg_emit(g, "t%d = %s;", t, x.e);
		if (r < 0)
			return r;
	}
	return cg_emit(g, "}");
}

int cg_expr(struct gen *g, struct lang_node *n, struct cv *v)
{
	struct sem_node *a = sem_of(n);
	char name[32];
	int r;

	if (a->is_const && a->t.k == ST_INT) {
		cv_int(v, a->t.sign, "((%s)0x%" PRIx64 "ULL)", ity(a->t.sign), (uint64_t)a->cval);
		return 0;
	}
	if (a->is_const && a->t.k == ST_STR)
		return lit(g, a->cstr, a->cstrlen, v);
	if (g->cb_depth && (n->kind == TG_N_BUILTIN || n->kind == TG_N_CALL || n->kind == TG_N_FIELD) &&
	    needs_ctx(g, n))
		return cg_err(g, n->loc, TG_EUNSUPPORTED,
			      "%s \"%s\" in a for loop: not supported (the loop body runs without the probe's context; read it into a variable before the loop)",
			      n->kind == TG_N_CALL ? "function" : n->kind == TG_N_FIELD ? "args field" : "builtin",
			      n->str);
	switch (n->kind) {
	case TG_N_BUILTIN:
		return builtin(g, n, v);
	case TG_N_VAR:
		var_name(g, a->var, name, sizeof(name));
		if (sem_is_blob(&a->t)) {
			cv_str(v, g->var_slot[a->var], g->sp->vars[a->var].t.slen);
			return 0;
		}
		/* its value now, in a temporary: a later ++/-- in the same
		 * expression must not change it (printf("%d %d", $i, ++$i)
		 * reads 1 then 2, as 0.17 loads each operand in order) */
		return tmp_int(g, v, a->t.sign, name);
	case TG_N_MAP:
		return map_read(g, n, v);
	case TG_N_CALL:
		return call(g, n, v);
	case TG_N_BINOP:
		return binop(g, n, v);
	case TG_N_UNOP: {
		struct cv x;
		char e[96];

		r = cg_expr(g, n->kids[0], &x);
		if (r < 0)
			return r;
		if (n->op == TG_OP_DEREF)
			return mem_value(g, n, x.e, sem_of(n->kids[0])->t.user, v);
		snprintf(e, sizeof(e), "%s(%s)", n->op == TG_OP_NOT ? "!" : n->op == TG_OP_BNOT ? "~" : "-", x.e);
		return tmp_int(g, v, a->t.sign, e);
	}
	case TG_N_INCDEC:
		return incdec(g, n, v);
	case TG_N_TERNARY:
		return ternary(g, n, v);
	case TG_N_TUPLE:
		return tuple_lit(g, n, v);
	case TG_N_FIELD:
		if (n->flags & TG_F_TUPLE_INDEX)
			return tuple_elem(g, n, v);
		return field(g, n, v);
	case TG_N_INDEX:
		return mem_index(g, n, v);
	case TG_N_CAST: {
		struct cv x;
		char e[96];

		r = cg_expr(g, n->kids[0], &x);
		if (r < 0)
			return r;
		uint32_t from = a->esize;
		const char *sg = a->t.sign ? "__s" : "__u";

		/* to a wider type, bpftrace 0.17 extends the narrower value
		 * by the target's sign (LLVM's IntCast with the cast's
		 * signedness): (uint64)(int32)-3 is 4294967293,
		 * (int16)(uint8)200 is -56 */
		if (from && from < a->t.size)
			snprintf(e, sizeof(e), "(%s%d)(%s%" PRIu32 ")(%s)", sg, a->t.size * 8, sg, from * 8, x.e);
		else
			snprintf(e, sizeof(e), "(%s%d)(%s)", sg, a->t.size * 8, x.e);
		return tmp_int(g, v, a->t.sign, e);
	}
	default:
		return cg_err(g, n->loc, TG_EUNSUPPORTED, "\"%s\": not supported here",
			      lang_node_kind_str(n->kind));
	}
}

static int assign_map(struct gen *g, struct lang_node *n)
{
	struct lang_node *mn = n->kids[0], *rhs = n->kids[1];
	const struct sem_map *m = &g->s->maps[sem_of(mn)->map];
	struct cv x;
	char kp[48], bucket[160];
	int r;

	if (rhs->kind == TG_N_CALL && sem_of(rhs)->t.k == ST_AGG) {
		const char *bk = NULL;

		if (m->kind != MK_COUNT) {
			r = cg_expr(g, rhs->kids[0], &x);
			if (r < 0)
				return r;
		}
		if (m->kind == MK_HIST) {
			if (m->hbits)
				snprintf(bucket, sizeof(bucket), "tg_log2k((__s64)(%s), %u)", x.e, m->hbits);
			else
				snprintf(bucket, sizeof(bucket), "tg_log2((__s64)(%s))", x.e);
			bk = bucket;
		} else if (m->kind == MK_LHIST) {
			snprintf(bucket, sizeof(bucket), "tg_linear((__s64)(%s), %" PRId64 "LL, %" PRId64 "LL, %" PRId64 "LL)",
				 x.e, m->lmin, m->lmax, m->lstep);
			bk = bucket;
		}
		r = key_build(g, mn, bk, kp, sizeof(kp));
		if (r < 0)
			return r;
		switch (m->kind) {
		case MK_COUNT: case MK_HIST: case MK_LHIST:
			return cg_emit(g, "tg_add(&tg_m%d, %s, 1);", m->id, kp);
		case MK_SUM:
			return cg_emit(g, "tg_add(&tg_m%d, %s, (__s64)(%s));", m->id, kp, x.e);
		case MK_AVG: case MK_STATS:
			return cg_emit(g, "tg_avg(&tg_m%d, %s, (__s64)(%s));", m->id, kp, x.e);
		case MK_MIN: case MK_MAX:
			return cg_emit(g, "tg_minmax(&tg_m%d, %s, (__s64)(%s), %d);", m->id, kp, x.e,
				       m->kind == MK_MAX);
		default:
			return cg_err(g, n->loc, TG_ETYPE, "map \"%s\": bad aggregation", m->name);
		}
	}
	r = cg_expr(g, rhs, &x);
	if (r < 0)
		return r;
	r = key_build(g, mn, NULL, kp, sizeof(kp));
	if (r < 0)
		return r;
	if (m->kind == MK_STR || m->kind == MK_TEXT) {
		uint32_t off = 0;
		char dst[48];

		r = cg_slot(g, m->val.slen, n->loc, &off);
		if (r < 0)
			return r;
		snprintf(dst, sizeof(dst), "(tg_s + %" PRIu32 ")", off);
		r = val_copy(g, dst, &m->val, sem_round8(m->val.slen), &x, &sem_of(rhs)->t);
		if (r < 0)
			return r;
		return cg_emit(g, "if (bpf_map_update_elem(&tg_m%d, %s, %s, 0) < 0) tg_mdrop();", m->id,
			       kp, dst);
	}
	if (n->op != TG_OP_NONE) {
		struct cv old, res;
		int t = g->tmp++;

		r = cg_emit(g, "__s64 t%d = 0; { __s64 *p = bpf_map_lookup_elem(&tg_m%d, %s); if (p) t%d = *p; }",
			    t, m->id, kp, t);
		if (r < 0)
			return r;
		cv_int(&old, true, "t%d", t);
		r = scale(g, n->op, &m->val, &x);
		if (r < 0)
			return r;
		r = arith(g, n->loc, n->op, &old, &x, true, &res);
		if (r < 0)
			return r;
		return cg_emit(g, "{ __s64 nv = %s; if (bpf_map_update_elem(&tg_m%d, %s, &nv, 0) < 0) tg_mdrop(); }",
			       res.e, m->id, kp);
	}
	return cg_emit(g, "{ __s64 nv = (__s64)(%s); if (bpf_map_update_elem(&tg_m%d, %s, &nv, 0) < 0) tg_mdrop(); }",
		       x.e, m->id, kp);
}

static int assign_var(struct gen *g, struct lang_node *n)
{
	struct sem_node *a = sem_of(n->kids[0]);
	const struct sem_var *sv = &g->sp->vars[a->var];
	struct cv x, res;
	char name[32];
	int r;

	r = cg_expr(g, n->kids[1], &x);
	if (r < 0)
		return r;
	var_name(g, a->var, name, sizeof(name));
	if (sem_is_blob(&sv->t)) {
		char dst[48];

		snprintf(dst, sizeof(dst), "(tg_s + %" PRIu32 ")", g->var_slot[a->var]);
		return val_copy(g, dst, &sv->t, sem_round8(sv->t.slen), &x, &sem_of(n->kids[1])->t);
	}
	if (n->op != TG_OP_NONE) {
		struct cv old;

		cv_int(&old, sv->t.sign, "%s", name);
		r = scale(g, n->op, &sv->t, &x);
		if (r < 0)
			return r;
		r = arith(g, n->loc, n->op, &old, &x, sv->t.sign, &res);
		if (r < 0)
			return r;
		return cg_emit(g, "%s = %s;", name, res.e);
	}
	return cg_emit(g, "%s = (%s)(%s);", name, ity(sv->t.sign), x.e);
}

/* Copies the map entry at tg_key/tg_val into the tuple (key, value) at
 * dst (the loop variable's slot), as sema typed it. */
static int kv_fill(struct gen *g, const struct sem_map *m, const struct sem_type *kvt, uint32_t dst)
{
	const struct sem_tuple *kv = &g->s->tuples[kvt->arg];
	const struct sem_type *kt = &kv->elems[0], *vt = &kv->elems[1];
	uint32_t koff = dst + kv->off[0], voff = dst + kv->off[1];
	int r;

	r = cg_emit(g, "__builtin_memset((__u64 *)(tg_s + %" PRIu32 "), 0, %" PRIu32 ");", dst, sem_round8(kvt->slen));
	for (size_t i = 0; i < m->nkeys && r >= 0; i++) {
		const struct sem_type *pt = m->nkeys == 1 ? kt : &g->s->tuples[kt->arg].elems[i];
		uint32_t off = koff + (m->nkeys == 1 ? 0 : g->s->tuples[kt->arg].off[i]);

		if (pt->k == ST_INT)
			r = cg_emit(g, "*(__s64 *)(tg_s + %" PRIu32 ") = *(__s64 *)((char *)tg_key + %" PRIu32 ");", off,
				    cg_key_off(m, i));
		else
			r = cg_emit(g, "__builtin_memcpy(tg_s + %" PRIu32 ", (char *)tg_key + %" PRIu32 ", %" PRIu32 ");",
				    off, cg_key_off(m, i), pt->slen);
	}
	if (r < 0)
		return r;
	switch (m->kind) {
	case MK_STR:
	case MK_TEXT:
		return cg_emit(g, "__builtin_memcpy(tg_s + %" PRIu32 ", tg_val, %" PRIu32 ");", voff, vt->slen);
	case MK_INT:
		return cg_emit(g, "*(__s64 *)(tg_s + %" PRIu32 ") = *(__s64 *)tg_val;", voff);
	case MK_COUNT:
	case MK_SUM:
		/* per-CPU: every CPU's share */
		return cg_emit(g, "{ __s64 tg_t = 0; for (__u32 tg_c = 0; tg_c < %" PRIu32 "; tg_c++) { __s64 *tg_p = bpf_map_lookup_percpu_elem(&tg_m%d, tg_key, tg_c); if (tg_p) tg_t += *tg_p; } *(__s64 *)(tg_s + %" PRIu32 ") = tg_t; }",
			       g->ncpus, m->id, voff);
	case MK_MIN:
	case MK_MAX:
		return cg_emit(g, "{ __s64 tg_t = 0; int tg_set = 0; for (__u32 tg_c = 0; tg_c < %" PRIu32 "; tg_c++) { struct tg_pair *tg_p = bpf_map_lookup_percpu_elem(&tg_m%d, tg_key, tg_c); if (tg_p && tg_p->b && (!tg_set || tg_p->a %s tg_t)) { tg_t = tg_p->a; tg_set = 1; } } *(__s64 *)(tg_s + %" PRIu32 ") = tg_t; }",
			       g->ncpus, m->id, m->kind == MK_MAX ? ">" : "<", voff);
	default:
		return cg_err(g, m->loc, TG_ETYPE, "for: a %s() map cannot be iterated", sem_mkind_str(m->kind));
	}
}

/* for ($kv : @m) / for ($i : a..b): the body becomes a callback of
 * bpf_for_each_map_elem / bpf_loop (at most SEM_MAX_FOR_RANGE
 * iterations), written before the programs. */
static int for_loop(struct gen *g, struct lang_node *n)
{
	struct lang_node *body = n->kids[n->nkids - 1];
	int var = sem_of(n->kids[0])->var, k = (*g->ncbs)++, t = g->tmp++, loops = g->cb_loops;
	bool range = n->nkids == 4;
	_cleanup_buf_ struct buf cb = BUF_INIT(CG_MAX_SOURCE);
	struct buf *saved = g->o;
	struct cv a, b;
	char name[48];
	int r;

	if (var < 0 || !g->vars_scratch)
		return cg_err(g, n->loc, TG_ETYPE, "for: not typed");
	if (range) {
		if ((r = cg_expr(g, n->kids[1], &a)) < 0 || (r = cg_expr(g, n->kids[2], &b)) < 0)
			return r;
		r = cg_emit(g, "struct tg_fc fc%d = { tg_cgid, 0, (__s64)(%s) }; __s64 fe%d = (__s64)(%s);", t, a.e, t,
			    b.e);
		if (r >= 0)
			r = cg_emit(g, "if (fe%d > fc%d.start) bpf_loop((__u64)(fe%d - fc%d.start) > %d ? %d : (__u32)(fe%d - fc%d.start), tg_cb%d, &fc%d, 0);",
				    t, t, t, t, SEM_MAX_FOR_RANGE, SEM_MAX_FOR_RANGE, t, t, k, t);
	} else {
		r = cg_emit(g, "struct tg_fc fc%d = { tg_cgid, 0, 0 }; bpf_for_each_map_elem(&tg_m%d, tg_cb%d, &fc%d, 0);", t,
			    g->s->maps[sem_of(n)->map].id, k, t);
	}
	if (r >= 0)
		r = cg_emit(g, "if (fc%d.ret) %s", t, g->cb_depth ? "{ tg_fc->ret = 1; return 1; }" : "");
	if (r >= 0 && !g->cb_depth)
		r = cg_emit(g, "	goto tg_out_%zu;", g->probe);
	if (r < 0)
		return r;
	/* the callback: its own scratch lookup, the same slots */
	g->o = &cb;
	g->cb_depth++;
	g->cb_loops = 0;
	r = buf_printf(&cb, range ? "static long tg_cb%d(__u32 tg_i, void *tg_cx)\n{\n" :
			   "static long tg_cb%d(void *tg_map, void *tg_key, void *tg_val, void *tg_cx)\n{\n", k);
	if (r >= 0)
		r = cg_emit(g, "struct tg_fc *tg_fc = tg_cx; __u64 tg_cgid = tg_fc->cgid; __u32 tg_zero = 0;\n"
			    "\tchar *tg_s = bpf_map_lookup_elem(&tg_scratch, &tg_zero);\n\tif (!tg_s) return 1;");
	if (r >= 0 && range)
		r = cg_emit(g, "%s = tg_fc->start + (__s64)tg_i;", var_name(g, var, name, sizeof(name)));
	else if (r >= 0)
		r = kv_fill(g, &g->s->maps[sem_of(n)->map], &g->sp->vars[var].t, g->var_slot[var]);
	if (r >= 0)
		r = cg_stmt(g, body);
	if (r >= 0)
		r = buf_adds(&cb, "\treturn 0;\n}\n\n");
	g->cb_depth--;
	g->cb_loops = loops;
	g->o = saved;
	if (r >= 0)
		r = buf_add(g->cbs, cb.s, cb.len);
	return r;
}

int cg_stmt(struct gen *g, struct lang_node *n)
{
	uint32_t mark = g->scratch;
	struct cv c;
	int r = 0;

	switch (n->kind) {
	case TG_N_EXPR_STMT:
		r = cg_emit(g, "{");
		if (r >= 0)
			r = cg_expr(g, n->kids[0], &c);
		if (r >= 0)
			r = cg_emit(g, "}");
		break;
	case TG_N_ASSIGN:
		r = cg_emit(g, "{");
		if (r >= 0)
			r = n->kids[0]->kind == TG_N_MAP ? assign_map(g, n) : assign_var(g, n);
		if (r >= 0)
			r = cg_emit(g, "}");
		break;
	case TG_N_LET:
		/* the variable starts again at each let: a loop body's let is
		 * 0 (or its value) on every iteration */
		r = cg_emit(g, "{");
		if (r >= 0 && n->nkids > 1) {
			r = assign_var(g, n);
		} else if (r >= 0) {
			const struct sem_var *sv = &g->sp->vars[sem_of(n->kids[0])->var];
			char name[32];

			if (sem_is_blob(&sv->t))
				r = cg_emit(g, "__builtin_memset((__u64 *)(tg_s + %" PRIu32 "), 0, %" PRIu32 ");",
					    g->var_slot[sem_of(n->kids[0])->var], sem_round8(sv->t.slen));
			else
				r = cg_emit(g, "%s = 0;", var_name(g, sem_of(n->kids[0])->var, name, sizeof(name)));
		}
		if (r >= 0)
			r = cg_emit(g, "}");
		break;
	case TG_N_BLOCK:
		r = cg_emit(g, "{");
		for (size_t i = 0; i < n->nkids && r >= 0; i++)
			r = cg_stmt(g, n->kids[i]);
		if (r >= 0)
			r = cg_emit(g, "}");
		break;
	case TG_N_IF:
		r = cg_emit(g, "{");
		if (r >= 0)
			r = cg_expr(g, n->kids[0], &c);
		if (r >= 0)
			r = cg_emit(g, "if (%s) {", c.e);
		if (r >= 0)
			r = cg_stmt(g, n->kids[1]);
		if (r >= 0 && n->nkids > 2) {
			r = cg_emit(g, "} else {");
			if (r >= 0)
				r = cg_stmt(g, n->kids[2]);
		}
		if (r >= 0)
			r = cg_emit(g, "} }");
		break;
	case TG_N_UNROLL:
		for (int64_t i = 0; i < sem_of(n)->cval && r >= 0; i++)
			r = cg_stmt(g, n->kids[0]);
		break;
	case TG_N_WHILE:
		g->cb_loops++;
		r = cg_emit(g, "while (1) {");
		if (r >= 0)
			r = cg_expr(g, n->kids[0], &c);
		if (r >= 0)
			r = cg_emit(g, "if (!(%s)) break;", c.e);
		if (r >= 0)
			r = cg_stmt(g, n->kids[1]);
		if (r >= 0)
			r = cg_emit(g, "}");
		g->cb_loops--;
		break;
	case TG_N_BREAK:
		/* in a for body (not in a while inside it): the callback stops */
		r = cg_emit(g, g->cb_depth && !g->cb_loops ? "return 1;" : "break;");
		break;
	case TG_N_CONTINUE:
		r = cg_emit(g, g->cb_depth && !g->cb_loops ? "return 0;" : "continue;");
		break;
	case TG_N_RETURN:
		r = leave_probe(g);
		break;
	case TG_N_FOR:
		r = for_loop(g, n);
		break;
	default:
		r = cg_emit(g, "{");
		if (r >= 0)
			r = cg_expr(g, n, &c);
		if (r >= 0)
			r = cg_emit(g, "}");
		break;
	}
	/* temporaries of a statement die with it; variables have fixed slots */
	g->scratch = mark;
	return r;
}
