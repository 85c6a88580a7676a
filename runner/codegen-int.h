/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by codegen.c (programs, maps) and codegen-expr.c. */
#ifndef TG_RUNNER_CODEGEN_INT_H
#define TG_RUNNER_CODEGEN_INT_H

#include <stdbool.h>
#include "lib/buf.h"
#include "runner/codegen.h"

/* Integer map keys of at most CG_STACK_KEY bytes live on the BPF stack
 * (no scratch lookup needed), at most CG_STACK_KEYS_MAX bytes of them per
 * program so the 512-byte stack never overflows; the rest use scratch. */
#define CG_STACK_KEY      16
#define CG_STACK_KEYS_MAX 128

struct gen {
	const struct sem *s;
	const struct plan_prog *pp;
	const struct sem_probe *sp;
	size_t probe;               /* index of the probe block being generated */
	struct buf *o;              /* function body */
	struct buf *lits;           /* global literal arrays */
	int *nlits;
	int tmp;
	uint32_t scratch;           /* bytes of scratch in use */
	uint32_t scratch_hi;        /* high-water mark of this program */
	uint32_t *var_slot;         /* per variable: scratch offset of a string variable */
	uint32_t stack_keys;        /* bytes of map keys put on the stack (CG_STACK_KEYS_MAX) */
	bool *map_deleted;          /* per sem map: delete() in BPF (keeps it a hash) */
	bool user_ptrs;             /* str(int) reads user memory */
	/* for loops (bpftrace 0.2x) run their body in a callback of
	 * bpf_for_each_map_elem / bpf_loop: a function of its own, written to
	 * cbs (before the programs); a probe with a for keeps its integer
	 * variables in scratch so that the callback reaches them */
	struct buf *cbs;
	int *ncbs;
	int cb_depth;               /* > 0: generating a callback's body */
	int cb_loops;               /* while loops open inside the callback */
	bool vars_scratch;
	uint32_t ncpus;             /* possible CPUs: per-CPU values summed in a for */
	struct lang_diag *diag;
	int err;
};

/* A generated value: an integer C expression, or a pointer to slen
 * NUL-padded bytes. */
struct cv {
	bool str;
	bool sign;
	uint32_t slen;
	char e[64];
};

int cg_err(struct gen *g, struct lang_loc loc, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cg_stmt(struct gen *g, struct lang_node *n);
int cg_expr(struct gen *g, struct lang_node *n, struct cv *v);
int cg_emit(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Allocates size bytes (8-aligned) of scratch; -TG_ELIMIT beyond CG_SCRATCH_MAX. */
int cg_slot(struct gen *g, uint32_t size, struct lang_loc loc, uint32_t *ret_off);

#endif
