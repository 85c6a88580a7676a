/* SPDX-License-Identifier: Apache-2.0 */
/*
 * USDT probes (`usdt:PATH:[PROVIDER:]NAME`): the probes a file declares in
 * its `.note.stapsdt` notes, wildcard matching over them, and the C the
 * generated program needs to read arguments with libbpf's USDT support
 * (<bpf/usdt.bpf.h>: bpf_usdt_arg() against the maps `__bpf_usdt_specs` and
 * `__bpf_usdt_ip_to_spec_id`, which bpf_program__attach_usdt() fills).
 *
 * The notes come from a tenant's file (a pod's binary): every read is
 * bounded and a malformed note is skipped, never trusted.
 */
#ifndef TG_RUNNER_USDT_H
#define TG_RUNNER_USDT_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/buf.h"

#define USDT_MAX_PROBES 4096     /* distinct provider:name pairs read from one file */
#define USDT_MAX_SITES 16384    /* usdt notes (sites) read from one file */
#define USDT_MAX_NAME 256        /* bytes of a provider or a probe name */
#define USDT_MAX_ARGS 12         /* arg0..arg11: libbpf's BPF_USDT_MAX_ARG_CNT */

struct usdt_probe {
	char *provider;
	char *name;
	size_t sites;             /* notes naming it: the places libbpf arms */
};

/* The distinct provider:name pairs of the ELF file open at fd, in note
 * order.  A file without notes gives 0 probes.  path only names the file
 * in *ret_err. */
int usdt_list(int fd, const char *path, struct usdt_probe **ret, size_t *ret_n, char **ret_err);
void usdt_list_free(struct usdt_probe *v, size_t n);

/* Whether probe p matches `provider` (NULL: any, as `usdt:PATH:NAME`) and
 * `name`, both shell globs as bpftrace allows. */
bool usdt_match(const struct usdt_probe *p, const char *provider, const char *name);

/*
 * Appends to o the C that brings in <bpf/usdt.bpf.h> after the typedefs
 * and macros of the generated prelude and before its helper declarations
 * (`helpers_text`, scanned for every `(*bpf_xxx)` it declares: the
 * header's own declarations of those helpers are renamed out of the way,
 * so both sets compile), then `tg_usdt_arg(ctx, n)`, which is 0 when the
 * probe has no argument n.
 */
int usdt_cg_include(struct buf *o, const char *helpers_text);

#endif
