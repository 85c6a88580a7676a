/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers: strict number parsing, bounded file reads, hex, SHA-256. */
#ifndef TG_LIB_UTIL_H
#define TG_LIB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whole-string parses; -EINVAL on junk, -ERANGE out of range. */
int parse_u64(const char *s, uint64_t *ret);
int parse_i64(const char *s, int64_t *ret);
int parse_double(const char *s, double *ret);

/* Reads a whole file of at most max bytes (-EFBIG beyond), NUL-terminated. */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes data to path atomically (temp file + rename), mode given. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);

/* SHA-256 of data as 64 lower-case hex characters plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);
void hex_encode(const void *data, size_t len, char *out /* 2*len+1 */);

/* Monotonic and wall clock in nanoseconds. */
uint64_t now_mono_ns(void);
uint64_t now_real_ns(void);
/* RFC 3339 with microseconds, UTC: 2026-01-02T03:04:05.123456Z */
void format_rfc3339_us(uint64_t real_ns, char out[32]);

bool str_has_prefix(const char *s, const char *prefix);
/* Shell-style glob match (fnmatch without flags). */
bool glob_match(const char *pattern, const char *s);

/* A probe listing's pattern (exec -l, kubectl trace list): at most
 * PROBE_PATTERN_MAX characters of letters, digits and _ - . : * ?  (a
 * glob over full probe names; no brackets, no escapes).  NULL or "" is
 * valid (every probe).  On false, *ret_why (static text) says what is
 * wrong. */
#define PROBE_PATTERN_MAX 256
bool probe_pattern_valid(const char *s, const char **ret_why);

#endif
