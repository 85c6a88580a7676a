/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by sema.c (the language), sema-types.c (C types:
 * pointers, struct members, casts, sizeof, enum constants), sema-maps.c
 * and sema-tuple.c. */
#ifndef TG_RUNNER_SEMA_INT_H
#define TG_RUNNER_SEMA_INT_H

#include "runner/sema.h"

struct sctx;

/* The language's analysis (sema.c) as the typing code (sema-types.c)
 * calls it back; sema.c hands it over in struct sctx. */
struct sem_ops {
	int (*expr)(struct sctx *c, struct lang_node *n);
	int (*want_int)(struct sctx *c, struct lang_node *n, const char *what);
	int (*site)(struct sctx *c, struct lang_node *n, struct sem_node *a, enum sem_rec_kind k,
		    const char *fmt);
};

struct sctx {
	struct sem *s;
	const struct sem_ops *ops;
	struct sem_probe *p;
	const struct lang_probe *tp;
	struct lang_diag *diag;
	bool final;          /* second pass: unknown maps are errors */
	int loop_depth;
	int for_depth;
	int unroll_depth;    /* unroll bodies around this statement */
	int nfor;            /* for statements of this probe so far */
	int lets[SEM_MAX_VARS];  /* `let` variables of the open blocks, innermost last */
	size_t nlets;
};

/* sema-diag.c: the error at loc; returns -code. */
int sem_err(struct sctx *c, struct lang_loc loc, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* sema-alloc.c: n's record, reset (allocated on first use). */
struct sem_node *sem_aux(struct sctx *c, struct lang_node *n);
/* size zeroed bytes that live until sem_release(); NULL when out of memory. */
void *sem_alloc(struct sctx *c, size_t size);

/* sema.c, through c->ops. */
static inline int sem_expr(struct sctx *c, struct lang_node *n)
{
	return c->ops->expr(c, n);
}

static inline int sem_want_int(struct sctx *c, struct lang_node *n, const char *what)
{
	return c->ops->want_int(c, n, what);
}

static inline int sem_site(struct sctx *c, struct lang_node *n, struct sem_node *a,
			   enum sem_rec_kind k, const char *fmt)
{
	return c->ops->site(c, n, a, k, fmt);
}

/* sema-maps.c: maps, their keys, values and kinds */
enum sem_mkind sem_agg_kind(const char *name);
int sem_want_const(struct sctx *c, struct lang_node *n, const char *what, int64_t *ret);
struct sem_map *sem_map_get(struct sctx *c, struct lang_node *n, int *ret_idx);
int sem_merge_type(struct sctx *c, struct lang_node *at, struct sem_type *have, const struct sem_type *t,
		   const char *what);
int sem_map_ref(struct sctx *c, struct lang_node *n, struct sem_map **ret);
int sem_set_kind(struct sctx *c, struct lang_node *at, struct sem_map *m, enum sem_mkind k);
int sem_tuple_memval(struct sctx *c, struct lang_node *k, size_t i, struct sem_type *ret);
int sem_store_memval(struct sctx *c, struct lang_node *rhs, const char *what, const char *name,
		     struct sem_type *ret);
int sem_assign_map(struct sctx *c, struct lang_node *n);

/* sema-tuple.c: `t.N`; have widened to hold t too (both tuples of the
 * same shape). */
int sem_tuple_index(struct sctx *c, struct lang_node *n, struct sem_node *a);
int sem_tuple_merge(struct sctx *c, struct lang_loc loc, struct sem_type *have, const struct sem_type *t);
/* The tuple type of n elements (interned). */
int sem_tuple_of(struct sctx *c, struct lang_loc loc, const struct sem_type *elems, size_t n,
		 struct sem_type *ret);

/* sema-types.c.  Each returns 1 when n is not its business. */
int st_field(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_index(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_deref(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_cast(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_ident(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_builtin(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* ptr + int, ptr - int: the pointer's type, stepping by its pointee. */
int st_ptr_arith(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* The pointer type args->FIELD has (tracepoint format "struct x *"). */
int st_tp_ptr(struct sctx *c, const char *ctype, bool user, struct sem_type *ret);
/* The types of the program's definitions, compiled once (sema_analyse). */
int st_ktypes(struct sctx *c, struct ktypes **ret);

#endif
