/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The probe plan: every attach point of a program expanded into the BPF
 * programs to generate and what each attaches to (tracepoint wildcards
 * expanded against tracefs, perf event parameters, uprobe targets).
 */
#ifndef TG_RUNNER_PROBES_H
#define TG_RUNNER_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lang/ast.h"
#include "runner/scope.h"
#include "runner/tracepoint.h"

#define PLAN_MAX_PROGS 1024   /* BPF programs one trace may load */

enum plan_kind {
	PK_BEGIN, PK_END, PK_TRACEPOINT, PK_PERF, PK_UPROBE, PK_URETPROBE, PK_KPROBE,
	PK_KRETPROBE, PK_USDT,
};

struct plan_prog {
	enum plan_kind kind;
	size_t probe;              /* index in prog->probes */
	char fn[32];               /* C function name: tg_p<N>, tg_prog_begin */
	char *section;
	char *name;                /* the `probe` builtin's value */
	struct tp_format tp;       /* PK_TRACEPOINT: the first tracepoint's layout */
	char **tps;                /* PK_TRACEPOINT: "cat:name" to attach (>= 1) */
	size_t ntps;
	/* PK_PERF */
	uint32_t perf_type;
	uint64_t perf_config;
	uint64_t period;           /* sample_period, or sample_freq when freq */
	bool freq;
	bool one_cpu;              /* interval: CPU 0 only */
	/* uprobes, kprobes, usdt */
	char *path;                /* to attach: a host path, or /proc/self/fd/N (pods) */
	char *func;                /* function; usdt: the probe's name */
	char *provider;            /* usdt */
	uint64_t offset;
	bool resolved;             /* uprobe: offset is the function's file offset + offset */
	size_t sites;              /* usdt: the probe's sites in the file (its notes) */
	int fd;                    /* pods: the file opened inside the pod's root, or -1 */
};

struct plan {
	char *tracefs;
	struct plan_prog *progs;
	size_t n;
	const struct tp_format **probe_tp;  /* per probe: its first tracepoint, or NULL */
	char **warnings;                    /* NULL-terminated */
	size_t nwarnings;
	/* while building: the program, and whether every tracepoint's
	 * format is read (plan_build_scoped) */
	const struct lang_program *prog;
	bool all_formats;
};

/* Expands prog's attach points.  Attach points that match nothing become
 * warnings; -TG_ENOATTACH when nothing at all is left; other errors with
 * diag naming the attach point. */
int plan_build(struct lang_program *prog, struct plan *pl, struct lang_diag *diag);
/* The same for a trace scoped to pods (scope != NULL and its targets are
 * pods): uprobe, uretprobe and usdt paths name files inside each pod's
 * containers (runner/uprobe.h), one program per distinct file; a pod
 * without a process is an error naming it.  scope NULL: plan_build.
 * A tracepoint's format (its fields, tp) is read for a probe whose
 * predicate or body uses args, and with all_formats (the policy's
 * tracepointFields rules classify formats) for every tracepoint outside
 * the syscalls category, which those rules do not classify; the other
 * programs do not depend on it (tp keeps its category and name only),
 * and 360 syscall formats were a good part of a wildcard's start. */
int plan_build_scoped(struct lang_program *prog, const struct scope *scope, bool all_formats,
		      struct plan *pl, struct lang_diag *diag);
/* Folds a probe's per-tracepoint programs into one when its body does
 * not depend on which tracepoint fired (no args, no probe builtin). */
void plan_share(struct plan *pl, size_t probe);
void plan_release(struct plan *pl);

/* The software events software:NAME attaches (bpftrace's list), in the
 * order bpftrace documents them; NULL past the last. */
const char *plan_software_event(size_t i);

#endif
