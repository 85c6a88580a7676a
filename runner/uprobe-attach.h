/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uprobes of a scoped trace act on the pod's processes only.
 *
 * A uprobe attached to a file the usual way (libbpf, pid -1) is armed in
 * every process on the node that maps that file: pods share files through
 * image layers, hostPaths and volumes, so the breakpoint, the return-address
 * swap of a uretprobe and the trap's cost reach processes outside the pod,
 * even though the scope check drops their events (a C++ exception unwinding
 * through a uretprobe's trampoline crashes; a hot function slows).  So under
 * a scope the runner creates a named uprobe in tracefs (group
 * "tg_<session pid>") and opens one perf event per process of the target
 * pods, with `inherit` so that their future children (and what those exec)
 * follow: the kernel arms the breakpoint only in those processes' memory.
 * The BPF program is attached once (the kernel refuses the same program
 * twice on one event source), through one more event on the first process
 * that has no `inherit`: the kernel copies a program to the inherited
 * copies of its event, and the first of those freed (a child's exit: a
 * shell's `sleep`) takes it off the probe for every process, so a pod
 * that forks would see its trace fall silent while the breakpoints stay.
 * The inheriting events only select processes.  Processes that enter the pod from outside after the
 * trace attached (a new `kubectl exec`, a restarted container) are not
 * traced.  usdt probes use libbpf's per-process attach (no children).
 *
 * The named uprobes outlive a crashed session: the session removes its
 * group when it can, and the serve parent removes a child's group after
 * reaping it (upods_remove_group) and every group of a dead session at
 * start (upods_sweep).
 */
#ifndef TG_RUNNER_UPROBE_ATTACH_H
#define TG_RUNNER_UPROBE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UPODS_MAX_PROCS   4096     /* processes of the target pods one probe arms */
#define UPODS_GROUP_PREFIX "tg_"

struct bpf_program;
struct bpf_link;
struct scope;

struct upods {
	int *fds;                 /* perf events that select processes only */
	size_t nfds, afds;
	unsigned nevents;         /* events created: tg_<owner>/p0 .. p<nevents-1> */
	pid_t owner;
	char *tracefs;
};

void upods_init(struct upods *u);
/* A uprobe (ret: uretprobe) at path:offset (a file offset, the function's
 * entry) armed in every process of scope's cgroups; *ret_link holds the
 * program's attachment, *ret_procs the processes armed (0: none to arm,
 * no link).  tracefs: the tracefs mount. */
int upods_attach_uprobe(struct upods *u, struct bpf_program *prog, const char *tracefs,
			const char *path, uint64_t offset, bool ret, const struct scope *scope,
			struct bpf_link **ret_link, size_t *ret_procs, char **ret_err);
/* The processes of scope's cgroups (at most max); -TG_ELIMIT beyond. */
int upods_pids(const struct scope *scope, pid_t *pids, size_t max, size_t *ret_n);
/* Closes the selecting events (the breakpoints go with the last one). */
void upods_detach(struct upods *u);
/* upods_detach, and frees; the events stay for their owner to remove
 * (a sandboxed session may not write to tracefs). */
void upods_release(struct upods *u);
/* Removes every event of group tg_<owner> (the serve parent, after
 * reaping a session child; exec, after its run).  tracefs NULL: found.
 * Returns how many were removed. */
int upods_remove_group(const char *tracefs, pid_t owner);
/* Removes the groups of sessions that are gone (tg_<pid> for a pid that
 * does not exist). */
int upods_sweep(const char *tracefs);

#endif
