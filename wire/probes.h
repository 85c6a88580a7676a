/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runner's probe listing: the text/plain answer to GET /v1/probes,
 * which is also `tracegate-runner exec -l[v]`'s output, bpftrace's
 * (docs/internals/contracts.md, "Probe listing"): one full probe name a
 * line, each tracepoint's fields (with -v) under it, indented by four
 * spaces.  wire_probes_name_write() and wire_probes_field_write() are the
 * runner's writers, wire_probes_line_decode() the gateway's reader;
 * tests/unit/test-wire-probes.c and tests/fuzz/fuzz-wire-probes.c
 * round-trip it.
 *
 * Strict: a line longer than WIRE_PROBES_MAX_LINE, a name with a space or
 * a byte outside printable ASCII, a field line with a control character
 * or another indentation is refused, so what reaches the policy check
 * and the client's ProbeList is a name or a declaration, nothing else.
 */
#ifndef TG_WIRE_PROBES_H
#define TG_WIRE_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define WIRE_PROBES_INDENT "    "
#define WIRE_PROBES_MAX_LINE 4096

enum wire_probe_kind {
	WIRE_PROBE_BLANK,       /* an empty line: nothing */
	WIRE_PROBE_NAME,        /* "tracepoint:sched:sched_switch" */
	WIRE_PROBE_FIELD,       /* a field of the last name: "char prev_comm[16]" */
};

struct wire_probe_line {
	enum wire_probe_kind kind;
	const char *text;       /* into the line decoded: the name or the field, no indentation */
	size_t len;
};

/* One line, without its '\n': 0 and *ret, or -EINVAL with *ret_err
 * saying what is wrong (*ret untouched). */
int wire_probes_line_decode(const char *line, size_t len, struct wire_probe_line *ret, char **ret_err);
/* len bytes (not NUL-terminated: a NUL among them is refused) that are a
 * name, a field, as the decoder takes them (the ProbeList's readers check the same: wire/probe-list.h). */
bool wire_probes_name_ok(const char *s, size_t len);
bool wire_probes_field_ok(const char *s, size_t len);
/* One line of each kind, with its '\n': 0, -EINVAL for text the decoder
 * would refuse (nothing written), -EIO when out fails. */
int wire_probes_name_write(FILE *out, const char *name);
int wire_probes_field_write(FILE *out, const char *decl);

#endif
