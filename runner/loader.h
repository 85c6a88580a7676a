/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and attaching with libbpf: open the compiled object from memory,
 * mark BEGIN/END as BPF_PROG_TYPE_SYSCALL programs (run only by us, with
 * BPF_PROG_TEST_RUN), load, fill the scope map, attach every planned
 * program, and detach in reverse.  Links and fds only: nothing is pinned,
 * so the kernel frees everything when the process ends for any reason.
 */
#ifndef TG_RUNNER_LOADER_H
#define TG_RUNNER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "runner/probes.h"
#include "runner/scope.h"
#include "runner/uprobe-attach.h"

struct bpf_object;
struct bpf_link;

/* A read-only global of the object (`const volatile __u64 name` in
 * .rodata, or element `index` of `const volatile __u64 name[N]`), set
 * between open and load. */
struct loader_global {
	const char *name;
	uint64_t value;
	uint32_t index;
};

struct loader {
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t nlinks, alinks;
	int begin_fd, end_fd;       /* -1 when absent */
	int stats_fd;               /* BPF_STATS_RUN_TIME while >= 0 */
	size_t attached;            /* programs with at least one attachment */
	const struct loader_global *globals;  /* set before loader_load; each must exist */
	size_t nglobals;
	/* set before loader_load: turn on BPF run-time stats (for a CPU
	 * budget).  They are global and cost every BPF program on the host
	 * two sched_clock() reads per run (~25 ns here), so only on demand;
	 * loader_run_time_ns() is 0 without them. */
	bool run_stats;
	/* set before loader_attach for a scoped trace: uprobes and usdt
	 * probes are armed in the scope's processes only (uprobe-attach.h) */
	const struct scope *scope;
	struct upods upods;
	/* set before loader_attach without a scope: usdt probes armed in
	 * this process only (exec -p / -c, as bpftrace 0.17; its uprobes
	 * stay on every process); 0: every process */
	pid_t pid;
	size_t usdt_events;         /* per-site, per-process usdt perf events made */
	/* set before loader_attach (may be NULL): called after each
	 * attachment with the number made so far; a negative return ends
	 * loader_attach with it */
	int (*progress)(void *ctx, size_t done);
	void *progress_ctx;
	/* the tracepoints' perf events, held apart from their links (see
	 * loader_take_events) */
	int *events;
	size_t nevents, aevents;
	/* the tracepoints' links, apart from the others: detached in
	 * parallel (each waits for an RCU tasks-trace grace period; threads
	 * waiting together share them) by a pool of threads started at the
	 * end of loader_attach, before any sandbox forbids new threads */
	struct bpf_link **tplinks;
	size_t ntplinks, atplinks;
	struct loader_pool *pool;
};

/* Under a scope libbpf 1.1 arms a usdt probe with one perf event per site
 * and process, and the kernel removes each with a grace period of its own
 * (synchronize_rcu_tasks_trace in perf_trace_event_unreg: ~1.3 s each
 * measured here), so 24 sites in one process kept a session past its
 * grace and a killed session's slot busy for minutes: a trace may make at
 * most this many. */
#define LOADER_MAX_USDT_EVENTS 16

typedef int (*loader_warn_fn)(void *ctx, const char *msg);

void loader_init(struct loader *l);
/* Opens, sets l->globals, loads; *ret_err has libbpf's and the kernel
 * verifier's words.  Sections "tg_begin", "tg_end" and "tg_timer/<N>"
 * become sleepable BPF_PROG_TYPE_SYSCALL programs (run by us only). */
int loader_load(struct loader *l, const void *obj, size_t len, char **ret_err);
int loader_set_scope(struct loader *l, const struct scope *s, char **ret_err);
int loader_map_fd(const struct loader *l, const char *name);
/* Runs a BEGIN/END program once (BPF_PROG_TEST_RUN). */
int loader_run_once(const struct loader *l, int prog_fd, char **ret_err);
/* Attaches every planned program except BEGIN/END and tg_timer/ ones
 * (the engine runs those); a missing probe is a warning; the
 * count of attached programs is in l->attached. */
int loader_attach(struct loader *l, const struct plan *pl, loader_warn_fn warn, void *ctx);
/* Total run time of all our programs so far (BPF stats); 0 unless our
 * own stats are on (run_stats), even while another process has them on. */
uint64_t loader_run_time_ns(const struct loader *l);
/* Destroys every link, newest first.  A tracepoint's program leaves it
 * at once (off its bpf_prog_array); its perf event stays open until
 * loader_release or loader_take_events, because closing it unregisters
 * the tracepoint, which waits for an RCU grace period under the kernel's
 * event_mutex: about 80 ms per tracepoint, one after the other (360
 * tracepoints: half a minute). */
void loader_detach(struct loader *l);
/* Hands the detached tracepoints' perf event fds to the caller, who
 * closes them once its output is out (closing is slow, above); *ret
 * NULL and *n 0 when there are none. */
void loader_take_events(struct loader *l, int **ret, size_t *n);
void loader_release(struct loader *l);

#endif
