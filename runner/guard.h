/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's guards: what keeps a trace inside its scope and its limits
 * beyond the cgroup check itself (docs/internals/runner.md, "Interrupt
 * context" and "Limits").
 *
 *  - THREAD_SIZE of the running kernel (from its BTF), for the interrupt
 *    check every scoped probe makes right after the cgroup check;
 *  - under a scope, BEGIN, END and interval bodies may not use what would
 *    describe the runner or read memory there (policy/unscoped.h);
 *  - under a scope, probes that can only fire in interrupt context are
 *    refused (profile, software) or run by the runner itself (interval
 *    bodies become BPF_PROG_TYPE_SYSCALL programs in "tg_timer/<N>"
 *    sections, fired from a timerfd in the poll loop);
 *  - the per-CPU token bucket of events_per_second (its two read-only
 *    globals), and the sliding window of the CPU budget.
 */
#ifndef TG_RUNNER_GUARD_H
#define TG_RUNNER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lang/ast.h"
#include "runner/probes.h"

#define GUARD_TIMER_PREFIX   "tg_timer/"
#define GUARD_MAX_TIMERS     64                 /* interval probes under a scope */
#define GUARD_MIN_TIMER_NS   1000000ull         /* 1 ms: faster intervals are refused */
#define GUARD_CPU_WINDOW_NS  1000000000ull      /* the CPU budget's sliding window */
#define GUARD_CPU_SAMPLE_NS  100000000ull       /* one sample per 100 ms at most */
#define GUARD_CPU_SAMPLES    32

/* What the interrupt check needs to know about the running kernel, read
 * from its BTF (/sys/kernel/btf/vmlinux, or btf_path when not NULL):
 *  - thread_size: THREAD_SIZE, the size of "struct irq_stack" (x86-64) or
 *    of "union thread_union";
 *  - rq_off, pc_off: per-CPU offsets (in ".data..percpu") of "runqueues"
 *    and of the preemption counter ("__preempt_count", or
 *    "pcpu_hot.preempt_count" before 6.15): the program finds this CPU's
 *    per-CPU base as current->se.cfs_rq->rq - rq_off and reads the counter
 *    at base + pc_off.
 * Fails when any is missing: a scoped trace must not run without the
 * check. */
struct guard_kernel {
	uint64_t thread_size;
	uint64_t rq_off;
	uint64_t pc_off;
};

/* btf_path NULL: the running kernel's, parsed once per process (a
 * process that forks sessions calls this first, so they inherit it). */
int guard_kernel_layout(const char *btf_path, struct guard_kernel *ret, char **ret_err);

/* Under a scope: -TG_EPOLICY with diag at the first builtin, function or
 * operator of a BEGIN, END or interval body that would observe the runner
 * or read memory there (policy/unscoped.h, the list the gateway's policy
 * evaluation uses).  Without a scope (local exec) everything stays, as in
 * bpftrace. */
int guard_unscoped(const struct lang_program *prog, bool scoped, struct lang_diag *diag);

/* Under a scope: guard_unscoped(), then -TG_EPOLICY with diag at the
 * attach point for profile and software probes, and interval probes moved
 * to GUARD_TIMER_PREFIX sections (their period is pl->progs[k].period, in
 * ns).  Without a scope nothing changes. */
int guard_plan_scope(const struct lang_program *prog, struct plan *pl, bool scoped,
		     struct lang_diag *diag);
bool guard_is_timer(const struct plan_prog *pp);

/* The token bucket's globals for events_per_second over ncpus CPUs (each
 * CPU gets rate / ncpus): credit in ns, one event costs *ret_cost, the
 * credit is capped at *ret_cap (one second's share, at least one event).
 * rate 0: both 0, unlimited. */
void guard_rate_params(uint64_t rate, int ncpus, uint64_t *ret_cost, uint64_t *ret_cap);

/* The CPU budget: samples of our programs' total run time; over budget
 * when, across the last GUARD_CPU_WINDOW_NS (or more), run time grew by
 * more than budget * wall time. */
struct guard_cpu {
	double budget;                  /* share of one CPU; 0: unlimited */
	size_t n, head;
	uint64_t t[GUARD_CPU_SAMPLES];  /* monotonic ns */
	uint64_t run[GUARD_CPU_SAMPLES];/* run_time_ns at t */
	double last_share;              /* share over the last full window */
};

void guard_cpu_init(struct guard_cpu *c, double budget);
/* Records a sample (at most one per GUARD_CPU_SAMPLE_NS); returns true
 * when the budget is exceeded over a full window. */
bool guard_cpu_sample(struct guard_cpu *c, uint64_t now_ns, uint64_t run_ns);

/* Interval programs under a scope: one timerfd each in an epoll set, so
 * the engine's poll loop waits on one more fd. */
struct guard_timers {
	int epfd;                       /* -1: none */
	size_t n;
	int tfd[GUARD_MAX_TIMERS];
	int prog_fd[GUARD_MAX_TIMERS];
	uint64_t fired;                 /* programs run */
};

void guard_timers_init(struct guard_timers *t);
/* Arms one timer (period ns) that runs prog_fd each time it expires. */
int guard_timers_add(struct guard_timers *t, int prog_fd, uint64_t period_ns, char **ret_err);
/* Runs, once each, the programs whose timer expired (does not wait). */
int guard_timers_run(struct guard_timers *t, char **ret_err);
void guard_timers_release(struct guard_timers *t);

#endif
