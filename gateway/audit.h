/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log: one JSON object per line, shaped like audit.k8s.io/v1
 * Event plus tracegate's fields, each line carrying the SHA-256 of the
 * line before it (and, with a key, an HMAC), so `tracegate audit verify`
 * detects an edited, dropped, inserted or reordered record.  A record is
 * on disk (fsync) before audit_log_append returns; rotation by size keeps
 * the chain across files.  Record format: docs/audit.md.
 */
#ifndef TG_GATEWAY_AUDIT_H
#define TG_GATEWAY_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct audit_opts {
	size_t sz;
	const char *key_file;     /* HMAC key; NULL: hash chain only */
	uint64_t rotate_bytes;    /* 0: never rotate */
	unsigned keep_files;      /* rotated files kept */
};

struct audit_log;
int audit_log_open(const char *path, const struct audit_opts *opts, struct audit_log **ret,
		   char **ret_err);
/* Adds the chain fields to ev (it must not have them), writes one line
 * and makes it durable.  On any failure nothing is considered written and
 * the caller must not start the trace. */
int audit_log_append(struct audit_log *log, json_t *ev, char **ret_err);
struct audit_log *audit_log_close(struct audit_log *log);

#endif
