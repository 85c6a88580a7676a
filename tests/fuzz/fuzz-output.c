// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for output/output.h: printf checking and formatting,
 * map record printing and merging.  Map records reach the gateway from
 * runners over the network and the plugin from the gateway, so every
 * byte of them is untrusted; printf formats come from tenants' programs.
 *
 * The first line of an input picks the mode:
 *
 *   "F"                then a format line, then one argument per line:
 *                      "i<size> <int>", "u<size> <uint>", "s <text>",
 *                      "t <text>", "b <bytes>" (size 0, 1, 2, 4 or 8)
 *   "M [top] [div]"    then one map record (JSON), printed
 *   "G"                then NDJSON lines from runners, merged by name as
 *                      the gateway does, then each map printed
 *
 * Properties checked beyond "no crash, no leak": a format that
 * output_printf_check accepts formats; every refusal has a message; printing
 * is deterministic and a full buffer gives -E2BIG, not a crash; a failed
 * merge leaves its target untouched; merging a record with a copy of
 * itself works whenever the record prints, keeps every count and sum
 * (mod 2^64) and the merged record prints too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/errors.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MAPS 16
#define FUZZ_SMALL_BUF 64

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-output: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* The next line of [*p, end) as a NUL-terminated copy (caller frees). */
static char *next_line(const char **p, const char *end, size_t *ret_len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	if (ret_len)
		*ret_len = n;
	return s;
}

/* ---- printf ---------------------------------------------------------------- */

static void fuzz_printf(const char *p, const char *end)
{
	struct output_fmt_arg args[TG_PRINTF_MAX_ARGS + 2];
	enum output_fmt_kind kinds[TG_PRINTF_MAX_ARGS + 2];
	char *lines[TG_PRINTF_MAX_ARGS + 2] = { 0 };
	struct buf out = BUF_INIT(0), small = BUF_INIT(FUZZ_SMALL_BUF), again = BUF_INIT(0);
	char msg[512];
	size_t n = 0, fl;
	char *fmt;
	int r, rf;

	fmt = next_line(&p, end, &fl);
	if (!fmt)
		return;
	while (p < end && n < TG_PRINTF_MAX_ARGS + 1) {
		struct output_fmt_arg *a = &args[n];
		size_t ll;
		char *l = next_line(&p, end, &ll);

		if (!l)
			break;
		lines[n] = l;
		memset(a, 0, sizeof(*a));
		switch (l[0]) {
		case 'i':
		case 'u':
			a->kind = l[0] == 'i' ? TG_FMT_INT : TG_FMT_UINT;
			a->size = (int)strtol(l + 1, NULL, 10);
			if (a->size != 1 && a->size != 2 && a->size != 4)
				a->size = a->size == 8 ? 8 : 0;
			{
				const char *v = strchr(l, ' ');

				if (l[0] == 'i')
					a->i = v ? strtoll(v + 1, NULL, 0) : 0;
				else
					a->u = v ? strtoull(v + 1, NULL, 0) : 0;
			}
			break;
		case 's':
		case 't':
		case 'b':
			a->kind = l[0] == 's' ? TG_FMT_STR : l[0] == 't' ? TG_FMT_TEXT : TG_FMT_BUF;
			/* not NUL-terminated on purpose when the text has no NUL:
			 * slen bytes are all there is */
			a->s = ll > 2 ? l + 2 : NULL;
			a->slen = ll > 2 ? ll - 2 : 0;
			break;
		default:
			a->kind = TG_FMT_INT;
			a->i = (int64_t)ll;
			break;
		}
		kinds[n] = a->kind;
		n++;
	}

	msg[0] = '\0';
	r = output_printf_check(fmt, kinds, n, msg, sizeof(msg));
	if (r < 0 && !msg[0])
		fail("printf check: refusal without a message", fmt);
	if (r < 0 && r != -TG_ETYPE && r != -TG_ELIMIT && r != -EINVAL && r != -ENOMEM)
		fail("printf check: unexpected error code", tg_strerror(r));
	rf = output_printf_format(&out, fmt, args, n);
	if (r == 0 && rf < 0 && rf != -TG_ELIMIT && rf != -ENOMEM)
		fail("printf: a checked format does not format", fmt);
	if (rf == 0) {
		if (output_printf_format(&again, fmt, args, n) != 0 || again.len != out.len ||
		    memcmp(again.s, out.s, out.len))
			fail("printf: formatting is not deterministic", fmt);
		r = output_printf_format(&small, fmt, args, n);
		if (out.len > FUZZ_SMALL_BUF ? r != -E2BIG : r != 0)
			fail("printf: a small buffer is not -E2BIG exactly when the text does not fit", fmt);
	}
	buf_release(&out);
	buf_release(&small);
	buf_release(&again);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(fmt);
}

/* ---- maps ------------------------------------------------------------------ */

/* Every entry has a keyv of integers and strings only, and no two keyv
 * are the same: then the printed order is fully determined, so it must
 * not depend on the order of the entries in the record. */
static bool keys_distinct(const json_t *rec)
{
	const json_t *entries = json_object_get(rec, "entries"), *e, *p;
	json_t *seen = json_object();
	bool ok = seen != NULL;
	size_t i, k;

	json_array_foreach(entries, i, e) {
		const json_t *keyv = json_object_get(e, "keyv");
		char *id;

		if (!ok || !json_is_array(keyv)) {
			ok = false;
			break;
		}
		json_array_foreach(keyv, k, p)
			if (!json_is_integer(p) && !json_is_string(p))
				ok = false;
		id = json_dumps(keyv, JSON_COMPACT);
		if (!id || json_object_get(seen, id) || json_object_set_new(seen, id, json_true()) < 0)
			ok = false;
		free(id);
	}
	json_decref(seen);
	return ok;
}

static void check_order_free(const json_t *rec, uint64_t top, uint64_t div, const struct buf *out)
{
	json_t *rev = json_deep_copy(rec), *entries, *r2;
	struct buf again = BUF_INIT(0);
	size_t n;

	entries = json_object_get(rev, "entries");
	r2 = json_array();
	if (!rev || !r2)
		goto out;
	n = json_array_size(entries);
	for (size_t i = n; i > 0; i--)
		json_array_append(r2, json_array_get(entries, i - 1));
	json_object_set(rev, "entries", r2);
	if (output_map_format(&again, rev, top, div) != 0 || again.len != out->len ||
	    memcmp(again.s, out->s, out->len)) {
		fprintf(stderr, "in record order:\n%s\nreversed:\n%s\n", out->s, again.s);
		fail("map format: the order printed depends on the order of the record's entries", NULL);
	}
out:
	json_decref(r2);
	json_decref(rev);
	buf_release(&again);
}

/* A map record prints; returns output_map_format's result, out holds the text. */
static int print_map(const json_t *rec, uint64_t top, uint64_t div, struct buf *out)
{
	struct buf again = BUF_INIT(0), small = BUF_INIT(FUZZ_SMALL_BUF);
	char *before = json_dumps(rec, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *after;
	int r, r2;

	r = output_map_format(out, rec, top, div);
	after = json_dumps(rec, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (before && after && strcmp(before, after))
		fail("map format: changed its record", before);
	if (r < 0 && r != -EINVAL && r != -TG_ELIMIT && r != -ENOMEM && r != -E2BIG)
		fail("map format: unexpected error code", tg_strerror(r));
	if (r == 0) {
		r2 = output_map_format(&again, rec, top, div);
		if (r2 != 0 || again.len != out->len || memcmp(again.s, out->s, out->len))
			fail("map format: printing is not deterministic", before);
		r2 = output_map_format(&small, rec, top, div);
		if (out->len > FUZZ_SMALL_BUF ? r2 != -E2BIG : r2 != 0)
			fail("map format: a small buffer is not -E2BIG exactly when the text does not fit",
			     before);
		if (keys_distinct(rec))
			check_order_free(rec, top, div, out);
	}
	{
		/* -f json: whatever text printed, JSON prints (or runs out of room) */
		struct buf js = BUF_INIT(FUZZ_SMALL_BUF * 64);

		r2 = output_map_format_json(&js, rec, top, div);
		if (r == 0 ? (r2 != 0 && r2 != -E2BIG && r2 != -ENOMEM) :
		    (r2 < 0 && r2 != -EINVAL && r2 != -TG_ELIMIT && r2 != -ENOMEM && r2 != -E2BIG))
			fail("map format json: disagrees with the text format", before);
		buf_release(&js);
	}
	free(before);
	free(after);
	buf_release(&again);
	buf_release(&small);
	return r;
}

/* count and sum values added up, mod 2^64 (other kinds: 0). */
static uint64_t value_total(const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	uint64_t t = 0;
	const json_t *e;
	size_t i;

	if (!kind || (strcmp(kind, "count") && strcmp(kind, "sum")))
		return 0;
	json_array_foreach(json_object_get(rec, "entries"), i, e)
		t += (uint64_t)json_integer_value(json_object_get(e, "value"));
	return t;
}

/* Merging a record with a copy of itself must work when it prints. */
static void self_merge(const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	json_t *a = json_deep_copy(rec), *b = json_deep_copy(rec);
	struct buf out = BUF_INIT(0);
	int r;

	if (!a || !b)
		goto out;
	r = output_map_merge(a, b);
	/* lhist entries with one key and different shapes cannot merge */
	if (r < 0 && r != -ENOMEM && !(kind && !strcmp(kind, "lhist")))
		fail("map merge: a record that prints does not merge with itself", NULL);
	if (r == 0) {
		if (json_array_size(json_object_get(a, "entries")) !=
		    json_array_size(json_object_get(rec, "entries")))
			fail("map merge: merging with itself changed the number of entries", NULL);
		if (value_total(a) != 2 * value_total(rec))
			fail("map merge: counts or sums were lost", NULL);
		r = print_map(a, 0, 0, &out);
		if (r < 0 && r != -ENOMEM)
			fail("map merge: the merged record does not print", tg_strerror(r));
	}
out:
	buf_release(&out);
	json_decref(a);
	json_decref(b);
}

static void fuzz_map(const char *head, const char *p, const char *end)
{
	unsigned long long top = 0, div = 0;
	struct buf out = BUF_INIT(0);
	json_t *rec;

	(void)sscanf(head, "M %llu %llu", &top, &div);
	rec = json_loadb(p, (size_t)(end - p), 0, NULL);
	if (!rec)
		return;
	if (print_map(rec, top, div, &out) == 0 && top == 0 && div <= 1)
		self_merge(rec);
	buf_release(&out);
	json_decref(rec);
}

/* As the gateway does with runner lines: the first record of a name is
 * kept, later ones merge into it. */
static void fuzz_merge(const char *p, const char *end)
{
	json_t *maps[FUZZ_MAX_MAPS];
	size_t nmaps = 0;

	while (p < end) {
		size_t ll;
		char *l = next_line(&p, end, &ll);
		json_t *rec;
		const char *name;
		size_t i;

		if (!l)
			break;
		rec = json_loadb(l, ll, 0, NULL);
		free(l);
		name = json_string_value(json_object_get(rec, "name"));
		if (!json_is_object(rec) || !name) {
			json_decref(rec);
			continue;
		}
		for (i = 0; i < nmaps; i++)
			if (!strcmp(json_string_value(json_object_get(maps[i], "name")), name))
				break;
		if (i < nmaps) {
			json_t *before = json_deep_copy(maps[i]);
			uint64_t ta = value_total(maps[i]), tb = value_total(rec);
			int r = output_map_merge(maps[i], rec);

			if (r < 0 && before && !json_equal(before, maps[i]))
				fail("map merge: a failed merge changed its target", NULL);
			if (r == 0 && value_total(maps[i]) != ta + tb)
				fail("map merge: counts or sums were lost", NULL);
			json_decref(before);
			json_decref(rec);
		} else if (nmaps < FUZZ_MAX_MAPS) {
			maps[nmaps++] = rec;
		} else {
			json_decref(rec);
		}
	}
	for (size_t i = 0; i < nmaps; i++) {
		struct buf out = BUF_INIT(0);

		(void)print_map(maps[i], 0, 0, &out);
		buf_release(&out);
		json_decref(maps[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *p = in, *end = in + size;
	char *head;

	if (size == 0)
		return 0;
	head = next_line(&p, end, NULL);
	if (!head)
		return 0;
	switch (head[0]) {
	case 'F':
		fuzz_printf(p, end);
		break;
	case 'M':
		fuzz_map(head, p, end);
		break;
	case 'G':
		fuzz_merge(p, end);
		break;
	default:
		/* anything else: the whole input as one record */
		fuzz_map("M", in, end);
		break;
	}
	free(head);
	return 0;
}
