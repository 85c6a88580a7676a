/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compile jail (docs/internals/runner.md, "The compile jail"): where
 * code generation and clang run, with no power over the host.
 *
 * Two kinds of child, both with a user and group of their own (one uid per
 * child, taken from a range under a lock, so no two concurrent children
 * share one), no capabilities, no_new_privs, resource limits, a seccomp
 * filter, PR_SET_PDEATHSIG and a wall-clock limit:
 *
 *  - jail_call(): a fork of the caller that runs one function (code
 *    generation) and hands back bytes through a pipe.  Its filter allows
 *    no file, socket or process system call at all: it sees nothing of the
 *    host but the memory it was forked with, and can only write its answer.
 *
 *  - jail_exec(): a program (clang) in new PID, mount, IPC, UTS, network
 *    and cgroup namespaces.  Its root is an empty read-only tmpfs holding
 *    only the toolchain directories, bind-mounted read-only, and a small
 *    writable tmpfs scratch directory (/tmp); no /proc, /dev or /sys.  Its
 *    input comes from a pipe, its output and diagnostics go to pipes.  The
 *    namespace's init is our own code, which starts the program and exits
 *    when it does; killing that init (wall clock, cancel, the caller's own
 *    death) makes the kernel kill every process left in the namespace, and
 *    the caller's waitpid() returns only once they are all gone.
 *
 * A jail that cannot be set up refuses to run (fail closed) unless the
 * operator turned it off with TRACEGATE_COMPILE_JAIL=off.
 */
#ifndef TG_RUNNER_JAIL_H
#define TG_RUNNER_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/buf.h"

/* enforce (unset, ""): everything below; log: the seccomp filters only log
 * what they would kill (kernel audit log), the rest is enforced; off: no
 * jail at all, the runner's own privileges (debugging only). */
#define JAIL_ENV          "TRACEGATE_COMPILE_JAIL"
/* FIRST-LAST: the uids (and gids, the same numbers) of jailed children. */
#define JAIL_UIDS_ENV     "TRACEGATE_COMPILE_UIDS"
/* Milliseconds: the wall-clock limit of one jailed child. */
#define JAIL_TIMEOUT_ENV  "TRACEGATE_COMPILE_TIMEOUT_MS"

/* The default range: 1024 uids that systemd's UIDS-GIDS allocation leaves
 * unused (between the container range, which ends at 1879048191, and the
 * foreign range at 2147352576) and far above kubelet's user-namespace
 * ranges.  An operator whose nodes use these changes JAIL_UIDS_ENV. */
#define JAIL_DEFAULT_UID_FIRST 1900000000u
#define JAIL_DEFAULT_UID_COUNT 1024u
#define JAIL_MAX_UID_COUNT     65536u
/* One byte of this file per uid of the range is locked (an OFD lock,
 * released by the kernel when the holder exits) while a child runs. */
#define JAIL_LOCK_DIR      "/run/tracegate"
#define JAIL_LOCK_FILE     "compile-uids.lock"

/* Limits of one jailed child (and, for jail_exec, everything it starts). */
#define JAIL_DEFAULT_WALL_MS     60000            /* the whole tree is killed */
#define JAIL_MAX_WALL_MS         3600000
#define JAIL_DEFAULT_CPU_S       60               /* RLIMIT_CPU */
#define JAIL_DEFAULT_MEM_BYTES   (1024ull << 20)  /* RLIMIT_AS */
#define JAIL_DEFAULT_FSIZE_BYTES (64ull << 20)    /* RLIMIT_FSIZE */
#define JAIL_DEFAULT_NPROC       16               /* RLIMIT_NPROC: tasks of the uid */
#define JAIL_DEFAULT_NOFILE      128              /* RLIMIT_NOFILE */
#define JAIL_DEFAULT_SCRATCH     (16ull << 20)    /* bytes of the /tmp tmpfs */
#define JAIL_MAX_BINDS           32

enum jail_mode {
	JAIL_ENFORCE,
	JAIL_LOG,
	JAIL_OFF,
};

struct jail_limits {
	uint64_t wall_ms;
	uint64_t cpu_s;
	uint64_t mem_bytes;
	uint64_t fsize_bytes;
	uint64_t nproc;
	uint64_t nofile;
	uint64_t scratch_bytes;
};

struct jail_opts {
	size_t sz;                  /* sizeof(struct jail_opts) */
	enum jail_mode mode;
	uint32_t uid_first;
	uint32_t uid_count;
	const char *lock_dir;       /* NULL: JAIL_LOCK_DIR */
	struct jail_limits lim;
	int cancel_fd;              /* readable or hung up: the child is killed
				       and the call fails with -ECANCELED; -1: none */
};

/* The defaults above, then the environment (JAIL_ENV, JAIL_UIDS_ENV,
 * JAIL_TIMEOUT_ENV).  -EINVAL with a message naming the variable and
 * its value when one is malformed. */
int jail_opts_from_env(struct jail_opts *o, char **ret_err);

/* What happened to a jailed child; filled on success and on failure. */
struct jail_status {
	uint32_t uid;               /* the uid it ran as (0: none, mode off) */
	bool timed_out;             /* killed at the wall-clock limit */
	bool cancelled;             /* killed because cancel_fd fired */
	int exit_code;              /* exited: its code; else -1 */
	int signal;                 /* killed by a signal: which; else 0 */
	uint64_t wall_ns;
};

/* Runs fn in a jailed fork of the caller (see above).  fn fills out (at
 * most out_max bytes) and returns an int; the caller gets that int in
 * *ret_code and the bytes in out.  Returns 0 when fn ran to its end,
 * else a negative code with *ret_err (caller frees): the child was
 * killed (its filter, a limit, the wall clock), -ECANCELED, or the jail
 * could not be set up. */
int jail_call(const struct jail_opts *o, int (*fn)(void *ctx, struct buf *out), void *ctx,
	      size_t out_max, struct buf *out, int *ret_code, struct jail_status *st,
	      char **ret_err);

struct jail_exec_opts {
	size_t sz;                  /* sizeof(struct jail_exec_opts) */
	const char *path;           /* absolute path of the program */
	const char *const *argv;
	/* Host paths made visible read-only at the same place: directories
	 * or files; every symbolic link on the way is recreated inside.  The
	 * program's own directory, its ELF interpreter and the system library
	 * directories are added by jail_exec itself. */
	const char *const *binds;
	size_t nbinds;
	const void *in;             /* stdin */
	size_t in_len;
	size_t out_max;             /* stdout bytes kept; more is an error */
	size_t diag_max;            /* stderr bytes kept; more is dropped */
};

/* Runs a program in the namespace jail (see above) with in on its stdin.
 * Returns 0 when it ran and exited (whatever its exit code: see
 * st->exit_code), with stdout in out and stderr in diag; else a negative
 * code with *ret_err (caller frees): the jail could not be set up, the
 * program was killed (limits, filter, wall clock: st says which),
 * -ECANCELED, or its output passed out_max (-E2BIG). */
int jail_exec(const struct jail_opts *o, const struct jail_exec_opts *x, struct buf *out,
	      struct buf *diag, struct jail_status *st, char **ret_err);

const char *jail_mode_name(enum jail_mode m);

#endif
