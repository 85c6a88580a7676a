/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session child's seccomp filter (docs/internals/runner.md, "Sandbox").
 *
 * Installed once every program of a session is loaded and attached, before
 * the event loop: from then on the child can read its ring buffer, timers
 * and stop pipe, look up, update and delete elements of the maps it already
 * holds, run its BEGIN/END/interval programs with BPF_PROG_TEST_RUN, read
 * its programs' run-time stats, read files (symbols, /proc) and write to the
 * file descriptors it already has.  It cannot load or attach a program,
 * open a perf event, create a socket that reaches anywhere, open a file for
 * writing, execute a program or trace another process: any system call the
 * filter does not name kills the whole process (SIGSYS), which frees every
 * BPF object it held; the serve parent reaps and logs the crash.
 */
#ifndef TG_RUNNER_SANDBOX_H
#define TG_RUNNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* The environment variable that selects the mode: unset, "" or "enforce"
 * kills on a forbidden call; "log" only logs it (kernel audit log, dmesg),
 * for finding what a new code path needs.  Anything else is an error. */
#define SANDBOX_ENV "TRACEGATE_SANDBOX"

struct sandbox_opts {
	size_t sz;              /* sizeof(struct sandbox_opts) */
	bool log_only;          /* SCMP_ACT_LOG instead of killing: debugging only */
};

/* Parses a SANDBOX_ENV value (NULL: unset) into *ret_log_only; -EINVAL
 * with a message naming the value otherwise. */
int sandbox_mode_parse(const char *value, bool *ret_log_only, char **ret_err);

/* Installs the filter on every thread of the calling process (TSYNC), with
 * no_new_privs set.  There is no way back.  Returns 0, or a negative code
 * with *ret_err (caller frees) naming what failed. */
int sandbox_apply(const struct sandbox_opts *opts, char **ret_err);

#endif
