/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log: one JSON object per line, shaped like audit.k8s.io/v1
 * Event plus tracegate's fields, each line carrying the SHA-256 of the
 * line before it (and, with a key, an HMAC), so `tracegate audit verify`
 * detects an edited, dropped, inserted or reordered record.  A record is
 * on disk (fsync) before audit_log_append returns (or, group commit, before
 * audit_log_write's done is called); rotation by size keeps
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
/* The same, and the record is refused unless reserve_after more bytes
 * after it can be allocated in the file too (fallocate, size kept): the
 * records that must follow (a trace's ResponseComplete) then find their
 * space even on a filesystem that has filled up meanwhile.  Space
 * reserved in a file is lost to it when the file is rotated.
 * audit_log_append keeps the amount last set by audit_log_set_reserve
 * (0 at first); UINT64_MAX here means the same. */
int audit_log_append_reserve(struct audit_log *log, json_t *ev, uint64_t reserve_after, char **ret_err);
/* The same with the event already serialized: obj[0..len) is one JSON
 * object, compact, its keys sorted at every level (json_dump_sorted's
 * bytes; gw_event_format writes them), without chain fields. */
int audit_log_append_text(struct audit_log *log, const char *obj, size_t len, uint64_t reserve_after,
			  char **ret_err);
void audit_log_set_reserve(struct audit_log *log, uint64_t bytes);

/*
 * Group commit (docs/audit.md, "Durability and failure").  After
 * audit_log_group_start, one thread makes records durable: each of its
 * fdatasync() calls covers every record written before it began, so the
 * records of concurrent requests share one sync.  audit_log_write writes
 * a record as audit_log_append does (space reserved, whole or rolled
 * back, chained) and returns without waiting for the disk; done(ud, 0,
 * NULL) is called by audit_log_dispatch once a sync that covers it has
 * returned, or done(ud, -errno, message) if that sync failed.  done NULL:
 * nobody waits (the record goes with the next group).  When
 * audit_log_write returns an error the record is not written and done is
 * never called.  Writing, dispatch and flush belong to one thread (the
 * gateway's loop); audit_log_append may be called besides.
 */
typedef void (*audit_done_fn)(void *ud, int result, const char *err);
/* *ret_fd (owned by the log) becomes readable when a sync has returned:
 * then call audit_log_dispatch. */
int audit_log_group_start(struct audit_log *log, int *ret_fd, char **ret_err);
int audit_log_write(struct audit_log *log, json_t *ev, uint64_t reserve_after, audit_done_fn done,
		    void *ud, char **ret_err);
/* The same with the event already serialized, as audit_log_append_text. */
int audit_log_write_text(struct audit_log *log, const char *obj, size_t len, uint64_t reserve_after,
			 audit_done_fn done, void *ud, char **ret_err);
/* Calls done for every record a returned sync covered; how many. */
size_t audit_log_dispatch(struct audit_log *log);
/* Waits until every waiting record's sync has returned and dispatches
 * them (the loop is over: the gateway stops).  How many were called. */
size_t audit_log_flush(struct audit_log *log);
struct audit_log *audit_log_close(struct audit_log *log);
/* Bytes of a torn last record (a write interrupted by a crash) that
 * audit_log_open cut off; 0 when the log ended whole.  For the caller's
 * log line. */
uint64_t audit_log_repaired(const struct audit_log *log);

/*
 * Additions for `tracegate audit` and the tests (the functions above are
 * the gateway's contract and do not change).
 */
#include <stdbool.h>

#define AUDIT_MAX_RECORD (256u * 1024)  /* one line, newline excluded */
#define AUDIT_MIN_KEY 16                /* HMAC key file size, bytes */
#define AUDIT_MAX_KEY 4096
#define AUDIT_COMPLETE_RESERVE (32u * 1024) /* kept free per running trace for its ResponseComplete */
#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The key file's bytes exactly as stored (a trailing newline is part of
 * the key), AUDIT_MIN_KEY..AUDIT_MAX_KEY bytes. */
int audit_key_load(const char *path, unsigned char **ret_key, size_t *ret_len, char **ret_err);

/* Reads a log line by line, each at most AUDIT_MAX_RECORD bytes. */
struct audit_reader;
int audit_reader_open(const char *path, struct audit_reader **ret, char **ret_err);
/* 1 with the line (no newline, NUL-terminated, valid until the next call)
 * and whether a newline ended it; 0 at end of file; -E2BIG for a line
 * over the limit; -errno on read errors. */
int audit_reader_next(struct audit_reader *r, const char **ret_line, size_t *ret_len,
		      bool *ret_terminated);
struct audit_reader *audit_reader_free(struct audit_reader *r);

struct audit_verify_opts {
	size_t sz;
	const unsigned char *key; /* NULL: chain only */
	size_t keylen;
	bool partial;             /* the first record may continue a chain
				     whose earlier files were not given */
};

struct audit_verify_result {
	uint64_t records;         /* records that checked out */
	uint64_t first_seq;
	char first_prev[65];      /* prevHash of the first record */
	char last_hash[65];       /* SHA-256 of the last good record */
	size_t file;              /* on failure: index into files */
	size_t line;              /* on failure: 1-based line in that file */
	char *problem;            /* on failure: what is wrong (caller frees
				     with audit_verify_result_release) */
};

/* Checks files in the order given, oldest first, as one chain.  0 when
 * it holds; -TG_EAUDIT with file, line and problem at the first broken
 * record; -errno (problem set, line 0) when a file cannot be read. */
int audit_verify(const char *const *files, size_t n, const struct audit_verify_opts *opts,
		 struct audit_verify_result *ret);
void audit_verify_result_release(struct audit_verify_result *r);

/* Orders names of one log and its rotations (B, B.1, B.2 ...) oldest
 * first: B.2, B.1, B.  Names that are not all of one log keep their
 * order.  Returns true when it reordered. */
bool audit_files_order(char **files, size_t n);

#endif
