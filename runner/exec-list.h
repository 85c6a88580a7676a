/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tracegate-runner exec -l [PATTERN]` and `-lv`: the probes this host
 * offers, as bpftrace 0.17 lists them.
 */
#ifndef TG_RUNNER_EXEC_LIST_H
#define TG_RUNNER_EXEC_LIST_H

#include <stdbool.h>
#include <stdio.h>

/* Writes to out, one a line and sorted as bpftrace (byte order), every
 * probe whose full name matches the glob pattern (NULL or "": all):
 * "software:NAME:" for the software events the engine attaches, and
 * "tracepoint:CAT:NAME" for tracefs' available_events.  verbose (-lv):
 * after each tracepoint its fields other than common_*, one a line as the
 * format file declares them, indented by four spaces.  Errors as
 * negative errno with *ret_err. */
int exec_list(const char *pattern, bool verbose, FILE *out, char **ret_err);

#endif
