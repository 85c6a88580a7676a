/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by sema.c (the language), sema-builtins.c (the builtin
 * functions and identifiers), sema-types.c (C types: pointers, struct
 * members, casts, sizeof, enum constants), sema-maps.c and sema-tuple.c. */
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

/* sema-builtins.c: a builtin function, one row of the table there.  A
 * call's arguments are checked against the row before call runs. */
struct sem_func {
	const char *name;
	/* n a call of the function, its arguments as the row wants them;
	 * a its record */
	int (*call)(struct sctx *c, struct lang_node *n, struct sem_node *a);
	size_t min_args, max_args;
	/* per argument, from the first: 's' a string literal, 'm' a map
	 * (@m), 'e' a map or its element (@m, @m[k]), '.' anything; NULL or
	 * shorter than the arguments: anything */
	const char *kinds;
	/* the error "NAME(): USAGE" when the arguments do not fit; NULL:
	 * nothing is checked before call (an aggregation, pton) */
	const char *usage;
	/* count, sum, ...: the map kind `@m = NAME(...)` gives
	 * (sem_assign_agg, which checks min_args and max_args itself);
	 * call refuses it anywhere else */
	enum sem_mkind agg;
};

/* A builtin identifier (pid, comm, ...): arg0 .. arg99 are one row, "argN". */
struct sem_ident {
	const char *name;
	int (*ident)(struct sctx *c, struct lang_node *n, struct sem_node *a);
};

/* The row of function name; NULL when it is none of them. */
const struct sem_func *sem_func_find(const char *name);
/* A call (TG_N_CALL) and a builtin identifier (TG_N_BUILTIN), through
 * their rows; one not in the tables is "not supported". */
int sem_call(struct sctx *c, struct lang_node *n, struct sem_node *a);
int sem_builtin(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* A record user space formats (printf, print, time, join), for n: a->site
 * is its index, allocated on first use.  sema.c hands it to sema-types.c
 * as ops.site. */
int sem_site_new(struct sctx *c, struct lang_node *n, struct sem_node *a, enum sem_rec_kind k,
		 const char *fmt);
/* The tables themselves, sorted by name (the unit test checks it). */
const struct sem_func *sem_func_table(size_t *ret_n);
const struct sem_ident *sem_ident_table(size_t *ret_n);

/* sema-maps.c: maps, their keys, values and kinds */
int sem_want_const(struct sctx *c, struct lang_node *n, const char *what, int64_t *ret);
struct sem_map *sem_map_get(struct sctx *c, struct lang_node *n, int *ret_idx);
int sem_merge_type(struct sctx *c, struct lang_node *at, struct sem_type *have, const struct sem_type *t,
		   const char *what);
int sem_map_ref(struct sctx *c, struct lang_node *n, struct sem_map **ret);
int sem_set_kind(struct sctx *c, struct lang_node *at, struct sem_map *m, enum sem_mkind k);
int sem_tuple_memval(struct sctx *c, struct lang_node *k, size_t i, struct sem_type *ret);
int sem_store_memval(struct sctx *c, struct lang_node *rhs, const char *what, const char *name,
		     struct sem_type *ret);
/* @m = value; @m = count() and the other aggregations, f the function's row */
int sem_assign_map(struct sctx *c, struct lang_node *n);
int sem_assign_agg(struct sctx *c, struct lang_node *n, const struct sem_func *f);

/* sema-tuple.c: `t.N`; have widened to hold t too (both tuples of the
 * same shape). */
int sem_tuple_index(struct sctx *c, struct lang_node *n, struct sem_node *a);
int sem_tuple_merge(struct sctx *c, struct lang_loc loc, struct sem_type *have, const struct sem_type *t);
/* The tuple type of n elements (interned). */
int sem_tuple_of(struct sctx *c, struct lang_loc loc, const struct sem_type *elems, size_t n,
		 struct sem_type *ret);

/* sema-types.c: expressions of C types; n the node, a its record. */
int st_field(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_index(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_deref(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_cast(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_ident(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* Rows of sema-builtins.c's tables: the builtins curtask and ctx, the
 * functions buf, sizeof, ntop, bswap and join. */
int st_builtin_curtask(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_builtin_ctx(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call_buf(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call_sizeof(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call_ntop(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call_bswap(struct sctx *c, struct lang_node *n, struct sem_node *a);
int st_call_join(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* ptr + int, ptr - int: the pointer's type, stepping by its pointee. */
int st_ptr_arith(struct sctx *c, struct lang_node *n, struct sem_node *a);
/* The pointer type args->FIELD has (tracepoint format "struct x *"). */
int st_tp_ptr(struct sctx *c, const char *ctype, bool user, struct sem_type *ret);
/* The types of the program's definitions, compiled once (sema_analyse). */
int st_ktypes(struct sctx *c, struct ktypes **ret);

#endif
