/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The object verifier: reads a compiled BPF ELF object (libelf) before
 * anything is loaded and refuses it unless
 *  - every helper it calls is on the allowed list, and
 *  - every program (every executable section holding a probe) begins with
 *    the scope check: the generated prologue (see docs/internals/runner.md)
 *    runs before any other helper call, reads the task's ancestor cgroup id
 *    and looks it up in the scope map, returning when it is absent;
 *  - the programs exempt from that check (BEGIN, END, interval timers: the
 *    runner runs them itself, in its own context) and the subprograms they
 *    reach call only verify_unscoped_helpers and never use the scope map.
 * It trusts nothing in the object: hostile or truncated ELF is refused
 * with a reason, never crashes.
 */
#ifndef TG_RUNNER_VERIFY_H
#define TG_RUNNER_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

struct verify_opts {
	size_t sz;
	const char *const *allowed_helpers; /* helper names ("bpf_ringbuf_output");
					       NULL: the default tenant list */
	bool require_scope;                 /* false only for unscoped local exec */
	const char *scope_map;              /* name of the scope map ("tg_scope") */
};

/* 0 when acceptable; -TG_EVERIFY with *ret_err naming the section, the
 * instruction index and the rule broken; other negative codes for
 * malformed input. */
int verify_object(const void *elf, size_t len, const struct verify_opts *opts, char **ret_err);

/* The default allow-list for tenants, NULL-terminated. */
extern const char *const verify_default_helpers[];

/* What programs without the scope check may call (when require_scope is
 * set; they must be on the allow-list too), NULL-terminated: maps, the
 * ring buffer, clocks, the CPU and NUMA node number, random numbers. */
extern const char *const verify_unscoped_helpers[];

#endif
