/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The language's output semantics, exactly as bpftrace 0.17 prints:
 * printf formatting and map printing.  Shared by the runner (local exec)
 * and the plugin (which prints what the gateway streams), so both print
 * the same bytes.
 */
#ifndef TG_POLICY_OUTPUT_H
#define TG_POLICY_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/buf.h"

enum tg_fmt_kind {
	TG_FMT_INT,     /* signed integer of `size` bytes (1,2,4,8) in i */
	TG_FMT_UINT,    /* unsigned integer of `size` bytes in u */
	TG_FMT_STR,     /* s, slen bytes (stop at the first NUL) */
	TG_FMT_TEXT,    /* preformatted text (ksym, usym, kstack, time...) in s */
};

struct tg_fmt_arg {
	enum tg_fmt_kind kind;
	int size;
	union {
		int64_t i;
		uint64_t u;
	};
	const char *s;
	size_t slen;
};

/* Checks a printf format against argument count and kinds, as bpftrace
 * does at compile time; -TG_ETYPE with msg naming the conversion. */
int tg_printf_check(const char *fmt, const enum tg_fmt_kind *kinds, size_t n, char *msg,
		    size_t msgsz);
/* Appends the formatted text to out. */
int tg_printf_format(struct buf *out, const char *fmt, const struct tg_fmt_arg *args, size_t n);

/*
 * Map records (docs/internals/contracts.md, "Map records"): a JSON object
 *   {"type":"map","name":"@x","kind":K,"entries":[{"key":KEY,"value":V}...]}
 * Formats one as bpftrace prints it at exit, including the trailing blank
 * line rules, with print()'s `top` and `div` (0 = none / 1).
 */
int tg_map_format(struct buf *out, const json_t *rec, uint64_t top, uint64_t div);
/* Adds b's entries into a (same name and kind): counts and sums add,
 * min/max combine, avg/stats combine count and total, hist/lhist add per
 * bucket, plain values: a's value wins.  Used to merge across pods and
 * nodes. -EINVAL when the records do not match. */
int tg_map_merge(json_t *a, const json_t *b);

#endif
