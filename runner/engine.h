/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine: one program from text to printed results.
 *
 *   prepare:  parse (policy/) -> plan (tracefs, pod roots) -> analyse
 *             (kernel BTF): in the caller, which may need its privileges
 *   compile:  generate BPF C (scope check first in every probe) and clang
 *             -target bpf, both in the compile jail (runner/jail.h: no
 *             privilege, no view of the host), objects cached by content
 *             hash by the caller
 *   execute:  verify the ELF object -> load and attach (libbpf) -> read
 *             the ring buffer and hand each event to the sink -> on stop:
 *             run END, read maps, hand each to the sink, detach everything
 *
 * engine_run() is the three in a row.
 * Used by `tracegate-runner exec` (sink prints like bpftrace) and by each
 * session child of `tracegate-runner serve` (sink writes NDJSON).
 */
#ifndef TG_RUNNER_ENGINE_H
#define TG_RUNNER_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "policy/tpfields.h"
#include "runner/compile.h"
#include "runner/scope.h"

struct jail_opts;

struct engine_limits {
	size_t sz;
	uint64_t max_map_entries;     /* per map; 0 = default 4096 */
	uint64_t events_per_second;   /* 0 = unlimited; excess dropped and counted */
	uint64_t max_duration_ns;     /* 0 = unlimited */
	double cpu_budget;            /* share of one CPU; 0 = unlimited */
	uint64_t max_map_bytes;       /* all maps' entries together; 0 = unlimited:
					 each map's entries are capped so that the
					 program's maps cannot grow past it */
	uint64_t max_output_bytes;    /* text of output records, together; 0 =
					 unlimited: the record that would pass it
					 is not delivered, the run ends with
					 reason "output-limit" */
};

struct engine_sink {
	/* Text of one output event (printf, print of a non-map, time, cat...),
	 * in event order.  scope_cgid is the pod-level cgroup id the event
	 * matched (0 without a scope); look it up in the scope for a label. */
	int (*output)(void *ctx, uint64_t scope_cgid, const char *text, size_t len);
	/* One map's contents, as a map record (docs/internals/contracts.md),
	 * at exit or on print(@m).  The sink does not own rec. */
	int (*map)(void *ctx, json_t *rec);
	/* Phases: "compiled", "attached" (details: {"probes": N}). */
	int (*status)(void *ctx, const char *phase, json_t *details);
	/* A probe that does not exist here, skipped; other warnings. */
	int (*warning)(void *ctx, const char *msg);
	/* Optional (NULL: output() gets every output event).  When set, it
	 * gets them instead, with what bpftrace's JSON output tells apart:
	 * kind "printf", "value" (print() of a non-map), "time", "cat" or
	 * "join", and for "value" the value typed (integer, string, array
	 * for a tuple; NULL otherwise).  The sink does not own value. */
	int (*output_rec)(void *ctx, uint64_t scope_cgid, const char *kind, const char *text,
			  size_t len, const json_t *value);
	/* Optional: called after each drain of the ring buffer (up to
	 * 4096 records), so a sink that groups output
	 * events sends them before the engine waits for more: a lone event
	 * is not held.  Output, map, status and warning calls come in event
	 * order between flushes. */
	int (*flush)(void *ctx);
	/* Optional: asked before the engine waits for events.  An fd (>= 0)
	 * when the sink's reader is behind: the engine then reads no event
	 * until that fd is writable (POLLOUT), so a slow reader fills the
	 * ring buffer and its events are dropped and counted, while the
	 * duration, a stop and the CPU budget are still enforced.  -1: go on. */
	int (*backlog)(void *ctx);
};

struct engine_opts {
	size_t sz;                      /* sizeof(struct engine_opts) */
	const char *program;            /* text */
	size_t program_len;
	const char *program_name;       /* "stdin" or file name, for messages */
	const char *const *params;      /* $1..$N */
	size_t nparams;
	const struct scope *scope;      /* NULL: no scope (local exec only) */
	uint64_t duration_ns;           /* 0: until exit()/stop */
	int stop_fd;                    /* readable: stop as SIGINT does; -1: none */
	const struct engine_limits *limits;
	const char *cache_dir;          /* compiled-object cache; NULL: default */
	const char *const *allowed_helpers; /* verifier allow-list; NULL: default */
	uint64_t cat_bytes_max;         /* cat(): bytes per file; 0: 4096 (at most 1 MiB) */
	bool load_only;                 /* compile, verify, load, status "loaded", stop:
					   nothing runs or attaches (reason "loaded") */
	bool dry_run;                   /* prepare, compile, verify the object, status
					   "compiled", stop before the load: nothing is
					   loaded (reason "checked") */
	bool run_until_stopped;         /* a BEGIN/END-only program waits for exit(),
					   the duration or stop_fd, as bpftrace does */
	/* Called once BEGIN has run and every probe is attached, before the
	 * "attached" status and the event loop (a session child installs its
	 * seccomp filter here: runner/sandbox.h); nothing is loaded or
	 * attached after it.  Negative: the run ends with that code and
	 * *ret_err, everything detached.  NULL: none. */
	int (*after_attach)(void *ctx, char **ret_err);
	void *after_attach_ctx;
	/* A policy's tracepoint field rules (policy/tpfields.h): a probe that
	 * reads a field they refuse, of any tracepoint it attaches to here
	 * (the node's real format), is refused with -TG_EPOLICY before
	 * anything is compiled.  NULL: no such check. */
	const struct tg_tpf_rules *tp_fields;
	/* The compile jail's options; NULL: from the environment
	 * (jail_opts_from_env).  Without a cancel_fd of its own, stop_fd
	 * stops a compile that is still running. */
	const struct jail_opts *jail;
	/* The canonical form (lang_program_print) the program must parse to,
	 * with params, before anything else happens: a session runs only the
	 * form its gateway decided on.  NULL: no such check (local exec). */
	const char *canonical;
	/* exec -p PID / -c CMD (bpftrace 0.17's meaning): usdt probes armed
	 * in this process only (uprobes and the rest are not narrowed);
	 * ignored under a scope.  0: none */
	pid_t pid;
	/* exec -c CMD: the command's pid, the value of the "cpid" builtin
	 * (an error when 0, as bpftrace "without child command") */
	pid_t cpid;
	/* Optional: exec -c's hold of its command at its exit, so that the
	 * user stacks and symbols its events print (ustack, usym) resolve
	 * while its memory maps are there.  hold(hold_ctx) is called before
	 * the "attached" status of a program that formats any; whenever
	 * drain_fd is readable, the events in the ring buffer go to the sink,
	 * then drained(hold_ctx) is called.  NULL hold, drained: none. */
	void (*hold)(void *ctx);
	int drain_fd;
	void (*drained)(void *ctx);
	void *hold_ctx;
};

struct engine_result {
	uint64_t events;                /* events delivered */
	uint64_t drops;                 /* events lost (ring buffer full, rate limit) */
	uint64_t cpu_ns;                /* run time of our programs (bpf stats); 0 without a cpu budget */
	uint64_t map_drops;             /* map updates refused by the entry limit */
	uint64_t output_bytes;          /* text of the output records delivered */
	int exit_code;                  /* exit() code, else 0 */
	char reason[64];                /* "exit", "duration", "stop", "end", "cpu-budget",
					   "output-limit", "error" */
	/* The detached tracepoints' perf events, still open: closing one
	 * waits for an RCU grace period under a kernel-wide mutex (about
	 * 80 ms each, runner/loader.h), so the caller sends its output and
	 * end first, then engine_result_release(). */
	int *held_fds;
	size_t nheld_fds;
};

/* Closes res->held_fds (slow, see above); res stays usable. */
void engine_result_release(struct engine_result *res);

/* Runs until exit(), duration, stop_fd, or an END-only program finishes.
 * Returns 0, or a negative code with *ret_err (caller frees) naming what
 * failed and where (line:col for program errors). */
int engine_run(const struct engine_opts *opts, const struct engine_sink *sink, void *ctx,
	       struct engine_result *res, char **ret_err);

/* A program parsed, planned and analysed, ready to compile. */
struct engine_prog;

/* Parses opts->program (positional parameters first), plans its probes
 * (tracefs, pod roots: opts->scope), analyses it (kernel BTF, its own C
 * definitions through the compile jail) and checks its limits.  Plan
 * warnings go to sink->warning (sink may be NULL).  opts must outlive
 * *ret (its strings, scope and limits are used, not copied).  Errors as
 * engine_run's. */
int engine_prepare(const struct engine_opts *opts, const struct engine_sink *sink, void *ctx,
		   struct engine_prog **ret, char **ret_err);

/* Code generation and clang, both in the compile jail (runner/jail.h);
 * the object comes from the cache when the same C was compiled before.
 * Needs no privilege beyond what the jail takes to set up.  The caller
 * frees ret->obj. */
int engine_compile(struct engine_prog *p, struct compile_result *ret, char **ret_err);

/* Verifies cr's object and runs it as engine_run does (status
 * "compiled" first). */
int engine_execute(struct engine_prog *p, const struct compile_result *cr,
		   const struct engine_sink *sink, void *ctx, struct engine_result *res,
		   char **ret_err);

struct engine_prog *engine_prog_free(struct engine_prog *p);

#endif
