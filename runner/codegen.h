/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF C generation: one C translation unit for the whole program (a small
 * prelude with only the helpers and types used, the maps, one function
 * per planned program), compiled by compile.h.  With scope levels, every
 * probe program starts with the scope prologue of docs/internals/runner.md.
 */
#ifndef TG_RUNNER_CODEGEN_H
#define TG_RUNNER_CODEGEN_H

#include <stddef.h>
#include <stdint.h>
#include "lang/ast.h"
#include "runner/probes.h"
#include "runner/sema.h"

#define CG_MAX_LEVELS    16          /* distinct scope depths */
#define CG_SCOPE_FAST    4           /* ids the scope pre-check compares inline */
#define CG_SCRATCH_MAX   16384       /* per-CPU scratch bytes per program */
#define CG_MAX_SOURCE    (8u << 20)  /* generated C */

struct cg_opts {
	size_t sz;
	const int *levels;          /* distinct scope levels, ascending; NULL: no scope */
	size_t nlevels;
	uint64_t max_map_entries;
	uint32_t ringbuf_bytes;     /* power of two, >= 4096 */
	/* 1..CG_SCOPE_FAST (one level only): before the scope map lookup,
	 * return 0 unless the ancestor id equals one of tg_scope_fast[0..
	 * nfast-1], a .rodata array the loader fills with the scope's ids;
	 * 0: no pre-check (more targets or levels) */
	size_t nfast;
	uint32_t ncpus;             /* possible CPUs (a for over a per-CPU map sums them); 0: 1 */
};

int cg_generate(const struct sem *s, const struct plan *pl, const struct cg_opts *o,
		char **ret_src, struct lang_diag *diag);

#endif
