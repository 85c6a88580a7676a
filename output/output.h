/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The language's output semantics, exactly as bpftrace 0.17 prints:
 * printf formatting and map printing.  Shared by the runner (local exec)
 * and the plugin (which prints what the gateway streams), so both print
 * the same bytes.
 */
#ifndef TG_OUTPUT_OUTPUT_H
#define TG_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/buf.h"

enum output_fmt_kind {
	TG_FMT_INT,     /* signed integer of `size` bytes (1,2,4,8) in i */
	TG_FMT_UINT,    /* unsigned integer of `size` bytes in u */
	TG_FMT_STR,     /* s, slen bytes (stop at the first NUL) */
	TG_FMT_TEXT,    /* preformatted text (ksym, usym, kstack, time...) in s */
	TG_FMT_BUF,     /* buf(): slen raw bytes at s, printed by %r/%rx/%rh */
};

/*
 * Limits on what a program (a client) controls here.  A width or precision
 * above TG_PRINTF_MAX_WIDTH is refused by output_printf_check (-TG_ELIMIT);
 * more than TG_PRINTF_MAX_ARGS arguments likewise.  A map record with more
 * than TG_MAP_MAX_ENTRIES entries (after a merge too) or a key of more
 * than TG_MAP_MAX_KEY_PARTS parts is refused with -TG_ELIMIT.
 */
#define TG_PRINTF_MAX_WIDTH 4096
#define TG_PRINTF_MAX_ARGS 128
#define TG_MAP_MAX_ENTRIES (1u << 20)
#define TG_MAP_MAX_KEY_PARTS 64
/* bpftrace 0.17's bucket counts: hist() has 65, lhist() at most 1000 plus
 * the two out-of-range buckets. */
#define TG_HIST_BUCKETS 65
/* bpftrace 0.2x's hist(x, k): a value's "bits" is k, 0..5 (k 0 is 0.17's) */
#define TG_HIST_MAX_BITS 5
#define TG_LHIST_MAX_BUCKETS 1000

/* size: 1, 2, 4 or 8 bytes (0 counts as 8); a TG_FMT_INT is sign-extended
 * from it and a TG_FMT_UINT zero-extended, as bpftrace reads the event. */
struct output_fmt_arg {
	enum output_fmt_kind kind;
	int size;
	union {
		int64_t i;
		uint64_t u;
	};
	const char *s;
	size_t slen;
};

/*
 * printf follows bpftrace 0.17 to the byte (docs/internals/output.md):
 * a conversion is `%[-][width][.prec][hh|h|l|ll|j|z|t](d|u|o|x|X|p)`,
 * `%[-][width][.prec](s|c)` or `%r`, `%rx`, `%rh`; nothing else (no `%i`,
 * no `+`, ` `, `#` flags) is a conversion.  Without a length modifier an
 * integer is printed as a 32-bit int, as C's printf reads it.  Text after
 * the last conversion is copied as is ("%%" stays "%%", as in 0.17).
 *
 * Checks a printf format against argument count and kinds, as bpftrace
 * does at compile time; -TG_ETYPE with msg naming the conversion (or the
 * count).  Also refuses a stray '%' before a conversion (bpftrace would
 * hand it to snprintf, which reads arguments that are not there) and
 * widths above TG_PRINTF_MAX_WIDTH (-TG_ELIMIT).  msg may be NULL. */
int output_printf_check(const char *fmt, const enum output_fmt_kind *kinds, size_t n, char *msg,
		    size_t msgsz);
/* Appends the formatted text to out.  -EINVAL when args do not match the
 * format's conversions (run output_printf_check first), -E2BIG when out is
 * full; out then holds what fitted of the text. */
int output_printf_format(struct buf *out, const char *fmt, const struct output_fmt_arg *args, size_t n);

/*
 * Map records (docs/internals/contracts.md, "Map records"): a JSON object
 *   {"type":"map","name":"@x","kind":K,"entries":[{"key":KEY,"value":V}...]}
 * Formats one as bpftrace prints it at exit, including the trailing blank
 * line rules, with print()'s `top` and `div` (0 = none / 1).  The bytes
 * are the same for print(@x) and for the exit-time dump; at exit bpftrace
 * first prints "\n\n" once (not per map), which is the caller's job.
 * -EINVAL for a malformed record, -TG_ELIMIT past a limit, -E2BIG when
 * out is full.
 */
int output_map_format(struct buf *out, const json_t *rec, uint64_t top, uint64_t div);
/* The same record as bpftrace 0.17's `-f json` prints it, one line:
 *   {"type": "map"|"hist"|"stats", "data": {"@x": V}}
 * V a value, or {"k1,k2": value, ...} for a keyed map (parts joined by
 * ","); hist/lhist as [{"min": a, "max": b, "count": c}, ...] from the
 * first to the last non-empty bucket; stats {"count", "average",
 * "total"}; a tuple (entry "valuev") as a compact array.  Sorted, top and
 * div as output_map_format.  Errors as output_map_format. */
int output_map_format_json(struct buf *out, const json_t *rec, uint64_t top, uint64_t div);
/* An output event as bpftrace's -f json: {"type": type, "data": D}\n, D
 * the text as a JSON string, or value (compact JSON) when not NULL; a
 * "value" event without one whose text is "DIGITS\n" (a uint64 past
 * int64) as that number. */
int output_json_event(struct buf *out, const char *type, const char *text, size_t len, const json_t *value);
/* bpftrace 0.17's -f json for "Attaching N probes..." and for the events
 * it lost:  {"type": "attached_probes", "data": {"probes": N}}\n  and
 * {"type": "lost_events", "data": {"events": N}}\n */
int output_json_attached_probes(struct buf *out, uint64_t probes);
int output_json_lost_events(struct buf *out, uint64_t events);

/*
 * A map record's entries as the runner builds them from its BPF maps: the
 * writing side of what output_map_format, output_map_format_json and output_map_merge
 * read, so that this file owns an entry's shape (contracts.md, "Map
 * records"; tests/unit/test-output-ment.c holds the two to each other).
 * Text is any bytes, made valid UTF-8 (U+FFFD per byte that is not).
 * NULL / -ENOMEM when memory runs out.
 */
/* A JSON string of bytes a traced program chose (str(), comm, a key,
 * printf text): made valid UTF-8 first (U+FFFD per byte that is not),
 * where json_stringn would refuse them.  NULL when memory runs out. */
json_t *output_json_text(const char *s, size_t len);
/* An entry; for a keyed map its key as bpftrace prints it (parts joined
 * by ", ") and keyv (stolen) its parts, integers and strings, for sorting
 * and -f json.  key NULL and keyv NULL: a scalar map's entry. */
json_t *output_ment_new(const char *key, size_t keylen, json_t *keyv);
/* Its value: an integer (count, sum, min, max, a plain value) ... */
int output_ment_set_int(json_t *e, int64_t v);
/* ... a string or text (a stack, a symbol, a tuple), valuev (stolen, may
 * be NULL) the typed form -f json prints for a tuple or a struct ... */
int output_ment_set_text(json_t *e, const char *s, size_t len, json_t *valuev);
/* ... avg and stats: their total and count ... */
int output_ment_set_stats(json_t *e, int64_t total, uint64_t count);
/* ... hist (bits: hist(x, k)'s k, 0 for 0.17's) and lhist (its range):
 * nbuckets buckets of 0, then counted with output_ment_add. */
int output_ment_set_hist(json_t *e, size_t nbuckets, unsigned bits);
int output_ment_set_lhist(json_t *e, int64_t min, int64_t max, int64_t step, size_t nbuckets);
/* Adds n to bucket idx of a hist or lhist entry; an idx past its buckets
 * changes nothing. */
int output_ment_add(json_t *e, size_t idx, int64_t n);
/* Each hist entry's buckets end at its last non-zero one (bpftrace
 * indexes no further); at least one bucket stays. */
void output_ment_trim_hist(json_t *entries);

/* Adds b's entries into a (same name and kind): counts and sums add,
 * min/max combine, avg/stats combine count and total, hist/lhist add per
 * bucket, plain values: a's value wins.  Used to merge across pods and
 * nodes. -EINVAL when the records do not match. */
int output_map_merge(json_t *a, const json_t *b);

#endif
