// SPDX-License-Identifier: Apache-2.0
/*
 * bpftrace 0.17's output, byte for byte: printf (src/format_string.cpp,
 * src/printf.cpp) and map printing (src/output.cpp TextOutput,
 * src/bpftrace.cpp print_map*).  docs/internals/output.md lists the
 * quirks kept on purpose and the few places where we differ.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "output/output.h"
#include "lib/banned.h"

/* ------------------------------------------------------------------------
 * printf
 * ---------------------------------------------------------------------- */

enum conv_type { CONV_INT, CONV_STR, CONV_BUF };

/* One conversion as bpftrace's format_specifier_re matches it:
 *   %-?[0-9]*(\.[0-9]+)?(s|r|rx|rh|c|[hh|h|l|ll|j|z|t]?[duoxXp]) */
struct conv {
	size_t start, end;      /* [start, end) in the format */
	bool minus;
	int width, prec;        /* -1 when absent; saturated at INT32_MAX */
	char len[3];            /* "", "hh", "h", "l", "ll", "j", "z", "t" */
	char c;                 /* s r c d u o x X p */
	char rmode;             /* for r: 0, 'x' or 'h' */
};

static int parse_digits(const char *s, size_t n, size_t *i)
{
	long long v = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (v < INT32_MAX)
			v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return v > INT32_MAX ? INT32_MAX : (int)v;
}

static bool match_conv(const char *f, size_t n, size_t pos, struct conv *c)
{
	size_t i = pos + 1;
	size_t d0;

	memset(c, 0, sizeof(*c));
	c->start = pos;
	c->width = c->prec = -1;
	if (i < n && f[i] == '-') {
		c->minus = true;
		i++;
	}
	d0 = i;
	c->width = parse_digits(f, n, &i);
	if (i == d0)
		c->width = -1;
	if (i + 1 < n && f[i] == '.' && f[i + 1] >= '0' && f[i + 1] <= '9') {
		i++;
		c->prec = parse_digits(f, n, &i);
	}
	if (i >= n)
		return false;
	switch (f[i]) {
	case 's':
	case 'c':
		c->c = f[i];
		c->end = i + 1;
		return true;
	case 'r':
		c->c = 'r';
		/* the longest alternative wins, as 0.17 behaves for "%rx" */
		if (i + 1 < n && (f[i + 1] == 'x' || f[i + 1] == 'h')) {
			c->rmode = f[i + 1];
			c->end = i + 2;
		} else {
			c->end = i + 1;
		}
		return true;
	}
	/* length modifier, then one of d u o x X p */
	if (f[i] == 'h' || f[i] == 'l') {
		c->len[0] = f[i++];
		if (i < n && f[i] == c->len[0])
			c->len[1] = f[i++];
	} else if (f[i] == 'j' || f[i] == 'z' || f[i] == 't') {
		c->len[0] = f[i++];
	}
	if (i < n && strchr("duoxXp", f[i]) && f[i] != '\0') {
		c->c = f[i];
		c->end = i + 1;
		return true;
	}
	return false;
}

static enum conv_type conv_type(const struct conv *c)
{
	if (c->c == 's')
		return CONV_STR;
	if (c->c == 'r')
		return CONV_BUF;
	return CONV_INT;
}

/* All conversions of a format, in order; *ret_n of them (at most max). */
static size_t scan_convs(const char *f, size_t n, struct conv *out, size_t max)
{
	size_t count = 0;
	struct conv c;

	for (size_t i = 0; i < n;) {
		if (f[i] == '%' && match_conv(f, n, i, &c)) {
			if (count < max)
				out[count] = c;
			count++;
			i = c.end;
		} else {
			i++;
		}
	}
	return count;
}

static void set_msg(char *msg, size_t msgsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t msgsz, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !msgsz)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
}

static const char *kind_name(enum output_fmt_kind k)
{
	switch (k) {
	case TG_FMT_INT:
	case TG_FMT_UINT:
		return "integer";
	case TG_FMT_STR:
	case TG_FMT_TEXT:
		return "string";
	case TG_FMT_BUF:
		return "buffer";
	}
	return "unknown";
}

static const char *conv_type_name(enum conv_type t)
{
	return t == CONV_INT ? "integer" : t == CONV_STR ? "string" : "buffer";
}

static bool kind_matches(enum output_fmt_kind k, enum conv_type t)
{
	switch (t) {
	case CONV_INT:
		return k == TG_FMT_INT || k == TG_FMT_UINT;
	case CONV_STR:
		return k == TG_FMT_STR || k == TG_FMT_TEXT;
	case CONV_BUF:
		return k == TG_FMT_BUF;
	}
	return false;
}

/* A '%' in literal text that is not "%%": its offset, or -1. */
static long stray_percent(const char *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (f[i] != '%')
			continue;
		if (i + 1 < to && f[i + 1] == '%') {
			i++;
			continue;
		}
		return (long)i;
	}
	return -1;
}

/* The would-be conversion at a stray '%', for messages: "%+d", "%i". */
static int stray_len(const char *f, size_t n, size_t at)
{
	size_t i = at + 1;

	while (i < n && strchr("-+ #0123456789.hlLqjzt", f[i]) && f[i] != '\0' && i - at < 16)
		i++;
	if (i < n && i - at < 16)
		i++;
	return (int)(i - at);
}

int output_printf_check(const char *fmt, const enum output_fmt_kind *kinds, size_t n, char *msg,
		    size_t msgsz)
{
	size_t flen, nconv, last = 0;
	_cleanup_free_ struct conv *convs = NULL;
	long stray;

	if (!fmt) {
		set_msg(msg, msgsz, "printf format: missing");
		return -EINVAL;
	}
	if (n > TG_PRINTF_MAX_ARGS) {
		set_msg(msg, msgsz, "printf: %zu arguments, more than the limit of %d", n,
			TG_PRINTF_MAX_ARGS);
		return -TG_ELIMIT;
	}
	flen = strlen(fmt);
	nconv = scan_convs(fmt, flen, NULL, 0);
	if (nconv != n) {
		/* name the likely cause: something that looks like a conversion
		 * but is not one bpftrace 0.17 knows (%i, %+d, %#x, % d) */
		stray = stray_percent(fmt, 0, flen);
		if (nconv < n && stray >= 0)
			set_msg(msg, msgsz,
				"printf: too many arguments for format string (%zu supplied, %zu expected): \"%.*s\" is not a conversion bpftrace 0.17 supports",
				n, nconv, stray_len(fmt, flen, (size_t)stray), fmt + stray);
		else
			set_msg(msg, msgsz, "printf: %s arguments for format string (%zu supplied, %zu expected)",
				nconv < n ? "too many" : "not enough", n, nconv);
		return -TG_ETYPE;
	}
	convs = calloc(nconv ? nconv : 1, sizeof(*convs));
	if (!convs)
		return -ENOMEM;
	scan_convs(fmt, flen, convs, nconv);
	for (size_t i = 0; i < nconv; i++) {
		const struct conv *c = &convs[i];
		int clen = (int)(c->end - c->start);

		stray = stray_percent(fmt, last, c->start);
		if (stray >= 0) {
			set_msg(msg, msgsz,
				"printf: \"%.*s\" at offset %ld is not a conversion bpftrace 0.17 supports (write \"%%%%\" for a percent sign)",
				stray_len(fmt, flen, (size_t)stray), fmt + stray, stray);
			return -TG_ETYPE;
		}
		if (!kind_matches(kinds[i], conv_type(c))) {
			set_msg(msg, msgsz,
				"printf: \"%.*s\" (argument %zu) expects a value of type %s (%s supplied)",
				clen, fmt + c->start, i + 1, conv_type_name(conv_type(c)),
				kind_name(kinds[i]));
			return -TG_ETYPE;
		}
		if (c->width > TG_PRINTF_MAX_WIDTH || c->prec > TG_PRINTF_MAX_WIDTH) {
			set_msg(msg, msgsz, "printf: \"%.*s\" (argument %zu): width or precision above the limit of %d",
				clen, fmt + c->start, i + 1, TG_PRINTF_MAX_WIDTH);
			return -TG_ELIMIT;
		}
		last = c->end;
	}
	return 0;
}

/* Literal text before a conversion: it went through snprintf in bpftrace,
 * so "%%" is one '%'.  Stray '%' (refused by output_printf_check) is copied. */
static int add_literal(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r;

		if (s[i] == '%' && i + 1 < n && s[i + 1] == '%')
			i++;
		r = buf_addc(out, s[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t arg_bits(const struct output_fmt_arg *a)
{
	int size = a->size ? a->size : 8;

	if (a->kind == TG_FMT_INT) {
		switch (size) {
		case 1: return (uint64_t)(int64_t)(int8_t)a->i;
		case 2: return (uint64_t)(int64_t)(int16_t)a->i;
		case 4: return (uint64_t)(int64_t)(int32_t)a->i;
		default: return (uint64_t)a->i;
		}
	}
	switch (size) {
	case 1: return (uint8_t)a->u;
	case 2: return (uint16_t)a->u;
	case 4: return (uint32_t)a->u;
	default: return a->u;
	}
}

/* hex_format_buffer() of 0.17: %r keeps printable ASCII and escapes the
 * rest as \xNN; %rx escapes everything; %rh prints "NN NN ...". */
static int hex_buffer(struct buf *b, const unsigned char *p, size_t n, char mode)
{
	int r = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		if (mode == 0 && p[i] >= 32 && p[i] <= 126)
			r = buf_addc(b, (char)p[i]);
		else if (mode != 'h')
			r = buf_printf(b, "\\x%02x", p[i]);
		else
			r = buf_printf(b, i == n - 1 ? "%02x" : "%02x ", p[i]);
	}
	return r;
}

/* snprintf with a conversion built from the matched specifier, so the
 * C library pads and converts exactly as it did for bpftrace; then, as
 * bpftrace streams the result as a C string, stop at the first NUL. */
static int add_conv(struct buf *out, const char *spec, const struct conv *c,
		    const struct output_fmt_arg *a)
{
	char tmp[TG_PRINTF_MAX_WIDTH * 2 + 256];
	_cleanup_free_ char *heap = NULL;
	_cleanup_buf_ struct buf hex = BUF_INIT(0);
	const char *sarg = NULL;
	uint64_t v = 0;
	int n;

	if (c->width > TG_PRINTF_MAX_WIDTH || c->prec > TG_PRINTF_MAX_WIDTH)
		return -TG_ELIMIT;
	switch (conv_type(c)) {
	case CONV_STR: {
		size_t l = a->s ? strnlen(a->s, a->slen) : 0;

		heap = strndup(a->s ? a->s : "", l);
		if (!heap)
			return -ENOMEM;
		sarg = heap;
		break;
	}
	case CONV_BUF: {
		int r;

		/* glibc prints an unknown conversion ("%-8r") as it stands */
		if (c->minus || c->width >= 0 || c->prec >= 0)
			return buf_add(out, spec, strlen(spec));
		r = hex_buffer(&hex, (const unsigned char *)(a->s ? a->s : ""), a->s ? a->slen : 0,
			       c->rmode);
		if (r < 0)
			return r;
		return buf_add(out, hex.s, strlen(hex.s));
	}
	case CONV_INT:
		v = arg_bits(a);
		break;
	}

	if (sarg) {
		/* the string may be longer than tmp: print it straight */
		n = snprintf(NULL, 0, spec, sarg);
		if (n < 0)
			return -EINVAL;
		{
			_cleanup_free_ char *p = malloc((size_t)n + 1);

			if (!p)
				return -ENOMEM;
			snprintf(p, (size_t)n + 1, spec, sarg);
			return buf_add(out, p, strlen(p));
		}
	}
	if (c->c == 'p') {
		n = snprintf(tmp, sizeof(tmp), spec, (void *)(uintptr_t)v);
	} else if (c->len[0] == 'l' || c->len[0] == 'j' || c->len[0] == 'z' || c->len[0] == 't') {
		if (c->c == 'd')
			n = snprintf(tmp, sizeof(tmp), spec, (long long)v);
		else
			n = snprintf(tmp, sizeof(tmp), spec, (unsigned long long)v);
	} else {
		/* no modifier, h or hh: the callee reads an int, i.e. the
		 * low 32 bits of the 64-bit value bpftrace passed */
		if (c->c == 'd' || c->c == 'c')
			n = snprintf(tmp, sizeof(tmp), spec, (int)(uint32_t)v);
		else
			n = snprintf(tmp, sizeof(tmp), spec, (unsigned int)(uint32_t)v);
	}
	if (n < 0)
		return -EINVAL;
	return buf_add(out, tmp, strnlen(tmp, sizeof(tmp)));
}

int output_printf_format(struct buf *out, const char *fmt, const struct output_fmt_arg *args, size_t n)
{
	size_t flen, nconv, last = 0;
	_cleanup_free_ struct conv *convs = NULL;
	int r;

	if (!out || !fmt || (n && !args))
		return -EINVAL;
	if (n > TG_PRINTF_MAX_ARGS)
		return -TG_ELIMIT;
	flen = strlen(fmt);
	nconv = scan_convs(fmt, flen, NULL, 0);
	if (nconv != n)
		return -EINVAL;
	convs = calloc(nconv ? nconv : 1, sizeof(*convs));
	if (!convs)
		return -ENOMEM;
	scan_convs(fmt, flen, convs, nconv);
	for (size_t i = 0; i < n; i++)
		if (!kind_matches(args[i].kind, conv_type(&convs[i])))
			return -EINVAL;

	for (size_t i = 0; i < n; i++) {
		const struct conv *c = &convs[i];
		char spec[64];
		size_t sl = c->end - c->start;

		if (sl >= sizeof(spec))
			return -TG_ELIMIT;
		memcpy(spec, fmt + c->start, sl);
		spec[sl] = '\0';
		r = add_literal(out, fmt + last, c->start - last);
		if (r < 0)
			return r;
		r = add_conv(out, spec, c, &args[i]);
		if (r < 0)
			return r;
		last = c->end;
	}
	/* the rest is streamed as it stands, "%%" included */
	return buf_add(out, fmt + last, flen - last);
}

/* ------------------------------------------------------------------------
 * map records
 * ---------------------------------------------------------------------- */

enum map_kind {
	MK_COUNT, MK_SUM, MK_MIN, MK_MAX, MK_INT, MK_AVG, MK_STATS, MK_HIST, MK_LHIST,
	MK_STR, MK_TEXT,
};

static const char *const kind_names[] = {
	[MK_COUNT] = "count", [MK_SUM] = "sum",     [MK_MIN] = "min",
	[MK_MAX] = "max",     [MK_INT] = "int",     [MK_AVG] = "avg",
	[MK_STATS] = "stats", [MK_HIST] = "hist",   [MK_LHIST] = "lhist",
	[MK_STR] = "str",     [MK_TEXT] = "text",
};

static int parse_kind(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (s && !strcmp(s, kind_names[i]))
			return (int)i;
	return -1;
}

struct lhist_shape {
	int64_t min, max, step;
	size_t nbuckets;        /* (max - min) / step + 2 */
};

struct ment {
	const json_t *e;
	size_t idx;             /* position in the record, last tie-break */
	const json_t *keyv;     /* array or NULL */
	int64_t i;              /* count/sum/int/min/max (bits), avg/stats average */
	int64_t total, count;   /* avg, stats */
	uint64_t hsum;          /* hist/lhist: sum of buckets */
	unsigned bits;          /* hist: bpftrace 0.2x's hist(x, k) k; 0: 0.17's */
	const json_t *buckets;  /* hist/lhist */
	struct lhist_shape lh;
};

struct mrec {
	const char *name;
	enum map_kind kind;
	bool is_unsigned;       /* sum/int/min/max values are uint64 */
	bool nodelim;           /* text: kstack/ustack/ksym/usym/inet values */
	size_t n;
	struct ment *ents;
};

static void mrec_release(struct mrec *m)
{
	free(m->ents);
	m->ents = NULL;
}

static int errf(char *msg, size_t msgsz, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errf(char *msg, size_t msgsz, int code, const char *fmt, ...)
{
	va_list ap;

	if (msg && msgsz) {
		va_start(ap, fmt);
		vsnprintf(msg, msgsz, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int get_int(const json_t *o, const char *field, int64_t *ret)
{
	const json_t *v = json_object_get(o, field);

	if (!json_is_integer(v))
		return -EINVAL;
	*ret = json_integer_value(v);
	return 0;
}

static int parse_buckets(const json_t *arr, size_t max)
{
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (!json_is_integer(json_array_get(arr, i)))
			return -EINVAL;
	return 0;
}

static uint64_t bucket_at(const json_t *arr, size_t i)
{
	return i < json_array_size(arr) ? (uint64_t)json_integer_value(json_array_get(arr, i)) : 0;
}

static int parse_lhist_shape(const json_t *v, struct lhist_shape *lh)
{
	if (get_int(v, "min", &lh->min) < 0 || get_int(v, "max", &lh->max) < 0 ||
	    get_int(v, "step", &lh->step) < 0)
		return -EINVAL;
	/* the bounds bpftrace 0.17's semantic analyser allows */
	if (lh->min < 0 || lh->max > INT32_MAX || lh->step < 1 || lh->min >= lh->max ||
	    lh->max - lh->min < lh->step || (lh->max - lh->min) / lh->step > TG_LHIST_MAX_BUCKETS)
		return -EINVAL;
	lh->nbuckets = (size_t)((lh->max - lh->min) / lh->step) + 2;
	return 0;
}

/* Buckets a hist of k bits has: the index of INT64_MAX plus one (k 0:
 * bpftrace 0.17's 65); see hist_label_value for the index. */
static size_t hist_buckets(unsigned k)
{
	return k ? (size_t)((63u - k) << k) + (1u << k) + 1 : TG_HIST_BUCKETS;
}

static int parse_entry_value(struct mrec *m, struct ment *me, const json_t *v)
{
	switch (m->kind) {
	case MK_COUNT:
	case MK_SUM:
	case MK_MIN:
	case MK_MAX:
	case MK_INT:
		if (!json_is_integer(v))
			return -EINVAL;
		me->i = json_integer_value(v);
		return 0;
	case MK_AVG:
	case MK_STATS:
		if (!json_is_object(v) || get_int(v, "total", &me->total) < 0 ||
		    get_int(v, "count", &me->count) < 0)
			return -EINVAL;
		/* int64 division as 0.17; INT64_MIN / -1 would trap */
		if (me->count == 0 || (me->total == INT64_MIN && me->count == -1))
			me->i = 0;
		else
			me->i = me->total / me->count;
		return 0;
	case MK_HIST:
	case MK_LHIST:
		if (!json_is_object(v))
			return -EINVAL;
		me->buckets = json_object_get(v, "buckets");
		if (m->kind == MK_LHIST) {
			if (parse_lhist_shape(v, &me->lh) < 0)
				return -EINVAL;
			if (parse_buckets(me->buckets, me->lh.nbuckets) < 0)
				return -EINVAL;
		} else {
			const json_t *b = json_object_get(v, "bits");

			if (b && (!json_is_integer(b) || json_integer_value(b) < 0 ||
				  json_integer_value(b) > TG_HIST_MAX_BITS))
				return -EINVAL;
			me->bits = b ? (unsigned)json_integer_value(b) : 0;
			if (parse_buckets(me->buckets, hist_buckets(me->bits)) < 0)
				return -EINVAL;
		}
		me->hsum = 0;
		for (size_t i = 0; i < json_array_size(me->buckets); i++)
			me->hsum += bucket_at(me->buckets, i);
		return 0;
	case MK_STR:
	case MK_TEXT:
		return json_is_string(v) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int mrec_parse(const json_t *rec, struct mrec *m, char *msg, size_t msgsz)
{
	const json_t *entries, *vt;
	int k;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(rec))
		return errf(msg, msgsz, -EINVAL, "map record: not a JSON object");
	m->name = json_string_value(json_object_get(rec, "name"));
	if (!m->name)
		return errf(msg, msgsz, -EINVAL, "map record: \"name\" missing or not a string");
	k = parse_kind(json_string_value(json_object_get(rec, "kind")));
	if (k < 0)
		return errf(msg, msgsz, -EINVAL, "map \"%s\": \"kind\" missing or unknown", m->name);
	m->kind = (enum map_kind)k;
	m->is_unsigned = json_is_true(json_object_get(rec, "unsigned"));
	vt = json_object_get(rec, "valueType");
	if (vt && !json_is_string(vt))
		return errf(msg, msgsz, -EINVAL, "map \"%s\": \"valueType\" is not a string", m->name);
	if (m->kind == MK_TEXT && vt) {
		static const char *const nodelim[] = { "kstack", "ustack", "ksym", "usym", "inet" };

		for (size_t i = 0; i < ARRAY_SIZE(nodelim); i++)
			if (!strcmp(json_string_value(vt), nodelim[i]))
				m->nodelim = true;
	}
	entries = json_object_get(rec, "entries");
	if (!json_is_array(entries))
		return errf(msg, msgsz, -EINVAL, "map \"%s\": \"entries\" missing or not an array", m->name);
	m->n = json_array_size(entries);
	if (m->n > TG_MAP_MAX_ENTRIES)
		return errf(msg, msgsz, -TG_ELIMIT, "map \"%s\": %zu entries, more than the limit of %u",
			    m->name, m->n, TG_MAP_MAX_ENTRIES);
	m->ents = calloc(m->n ? m->n : 1, sizeof(*m->ents));
	if (!m->ents)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		struct ment *me = &m->ents[i];
		const json_t *e = json_array_get(entries, i);
		const json_t *key, *keyv;

		me->e = e;
		me->idx = i;
		if (!json_is_object(e))
			return errf(msg, msgsz, -EINVAL, "map \"%s\": entry %zu is not an object", m->name, i);
		key = json_object_get(e, "key");
		keyv = json_object_get(e, "keyv");
		if (key && !json_is_string(key))
			return errf(msg, msgsz, -EINVAL, "map \"%s\": entry %zu: \"key\" is not a string",
				    m->name, i);
		if (keyv) {
			if (!json_is_array(keyv))
				return errf(msg, msgsz, -EINVAL,
					    "map \"%s\": entry %zu: \"keyv\" is not an array", m->name, i);
			if (json_array_size(keyv) > TG_MAP_MAX_KEY_PARTS)
				return errf(msg, msgsz, -TG_ELIMIT,
					    "map \"%s\": entry %zu: key of %zu parts, more than the limit of %d",
					    m->name, i, json_array_size(keyv), TG_MAP_MAX_KEY_PARTS);
			me->keyv = keyv;
		}
		if (parse_entry_value(m, me, json_object_get(e, "value")) < 0)
			return errf(msg, msgsz, -EINVAL,
				    "map \"%s\": entry %zu: \"value\" does not fit kind \"%s\"", m->name, i,
				    kind_names[m->kind]);
	}
	return 0;
}

/* Keys of one bpftrace map all have the same shape, but a record comes
 * over the network: parts of different types (integers first, then
 * strings, then anything else) and keys of different lengths (shorter
 * first) must still order, or the comparison is no strict weak order and
 * qsort_r's result depends on the order of the entries. */
static int part_rank(const json_t *x)
{
	return json_is_integer(x) ? 0 : json_is_string(x) ? 1 : 2;
}

/* bpftrace's sort_by_key() (raw = false): by the first key part, then the
 * next...; integers compare as uint64, strings as strcmp.  With raw, the
 * order of bpftrace's std::map over raw key bytes, which is what the sort
 * of hist and stats maps leaves equal totals in: integers are
 * little-endian, so they compare by their low byte first. */
static int keycmp(const struct ment *a, const struct ment *b, bool raw)
{
	size_t na = a->keyv ? json_array_size(a->keyv) : 0;
	size_t nb = b->keyv ? json_array_size(b->keyv) : 0;

	for (size_t i = 0; i < na && i < nb; i++) {
		const json_t *x = json_array_get(a->keyv, i), *y = json_array_get(b->keyv, i);
		int rx = part_rank(x), ry = part_rank(y);

		if (rx != ry)
			return rx < ry ? -1 : 1;
		if (rx == 0) {
			uint64_t u = (uint64_t)json_integer_value(x), v = (uint64_t)json_integer_value(y);

			if (raw) {
				u = __builtin_bswap64(u);
				v = __builtin_bswap64(v);
			}
			if (u != v)
				return u < v ? -1 : 1;
		} else if (rx == 1) {
			int c = strcmp(json_string_value(x), json_string_value(y));

			if (c)
				return c < 0 ? -1 : 1;
		}
	}
	return na == nb ? 0 : na < nb ? -1 : 1;
}

static int keycmp_sorted(const struct ment *a, const struct ment *b)
{
	return keycmp(a, b, false);
}

static int keycmp_raw(const struct ment *a, const struct ment *b)
{
	return keycmp(a, b, true);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int ment_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct ment *a = pa, *b = pb;
	const struct mrec *m = ctx;
	int c = 0;

	switch (m->kind) {
	case MK_COUNT:
	case MK_MAX:
		/* count is a uint64; 0.17's max_value() reads a uint64 too */
		c = cmp_u64((uint64_t)a->i, (uint64_t)b->i);
		break;
	case MK_SUM:
	case MK_INT:
	case MK_MIN:
		c = m->is_unsigned ? cmp_u64((uint64_t)a->i, (uint64_t)b->i) : cmp_i64(a->i, b->i);
		break;
	case MK_AVG:
	case MK_STATS:
		c = cmp_i64(a->i, b->i);
		if (!c)
			c = keycmp_raw(a, b);
		break;
	case MK_HIST:
	case MK_LHIST:
		c = cmp_u64(a->hsum, b->hsum);
		if (!c)
			c = keycmp_raw(a, b);
		break;
	case MK_STR:
	case MK_TEXT:
		break;
	}
	/* equal values: bpftrace leaves them in hash order, which no one can
	 * reproduce; we use the key order bpftrace uses for other maps */
	if (!c)
		c = keycmp_sorted(a, b);
	if (!c)
		c = cmp_u64(a->idx, b->idx);
	return c;
}

static void mrec_sort(struct mrec *m)
{
	if (m->n > 1)
		qsort_r(m->ents, m->n, sizeof(*m->ents), ment_cmp, m);
}

static int add_key_text(struct buf *out, const struct mrec *m, const struct ment *me)
{
	const json_t *key = json_object_get(me->e, "key");
	int r;

	r = buf_adds(out, m->name);
	if (r < 0)
		return r;
	if (key) {
		r = buf_addc(out, '[');
		if (r >= 0)
			r = buf_add(out, json_string_value(key), json_string_length(key));
		if (r >= 0)
			r = buf_addc(out, ']');
		return r;
	}
	if (!me->keyv || !json_array_size(me->keyv))
		return 0;
	r = buf_addc(out, '[');
	for (size_t i = 0; r >= 0 && i < json_array_size(me->keyv); i++) {
		const json_t *p = json_array_get(me->keyv, i);

		if (i)
			r = buf_adds(out, ", ");
		if (r < 0)
			break;
		if (json_is_integer(p))
			r = buf_printf(out, "%" PRId64, (int64_t)json_integer_value(p));
		else if (json_is_string(p))
			r = buf_add(out, json_string_value(p), strlen(json_string_value(p)));
		else
			return -EINVAL;
	}
	if (r >= 0)
		r = buf_addc(out, ']');
	return r;
}

static void hist_label(char *s, size_t n, int power)
{
	static const char sfx[] = { 0, 'K', 'M', 'G', 'T' };
	int k = power >= 40 ? 4 : power / 10;

	power -= k * 10;
	if (sfx[k])
		snprintf(s, n, "%d%c", 1 << power, sfx[k]);
	else
		snprintf(s, n, "%d", 1 << power);
}

static void lhist_label(char *s, size_t n, int number)
{
	if (number == 0)
		snprintf(s, n, "%d", number);
	else if (number % 1048576 == 0)
		snprintf(s, n, "%dM", number / 1048576);
	else if (number % 1024 == 0)
		snprintf(s, n, "%dK", number / 1024);
	else
		snprintf(s, n, "%d", number);
}

/* One row: label left in 16, count right in 8, " |", bar left in 52, "|".
 * The bar is count / max * 52 in float, as 0.17 computes it (from the
 * undivided count); we clamp it to 0..52, where 0.17 would misbehave
 * for counts past 2^31. */
static int hist_row(struct buf *out, const char *label, uint64_t shown, uint64_t raw, int max_value)
{
	char bar[53];
	float f = (float)raw / (float)max_value * 52;
	int w = f >= 0 && f <= 52 ? (int)f : (f > 52 ? 52 : 0);

	memset(bar, '@', (size_t)w);
	bar[w] = '\0';
	return buf_printf(out, "%-16s%8" PRIu64 " |%-52s|\n", label, shown, bar);
}

/* bpftrace 0.2x's hist(x, k) labels (src/types_format.cpp): label j is
 * the upper bound (exclusive) of bucket j: j itself up to 2 << k, then
 * 2^power * (2^k + interval), printed with a K/M/G/T/P/E suffix. */
static uint64_t hist_label_value(unsigned j, unsigned k, char *text, size_t n)
{
	unsigned nn = 1u << k, interval, power, decade;
	uint64_t value;

	if (j <= (2u << k)) {
		snprintf(text, n, "%u", j);
		return j;
	}
	interval = j & (nn - 1);
	power = (j >> k) - 1;
	value = (UINT64_C(1) << power) * (nn + interval);
	decade = power / 10;
	power -= 10 * decade;
	snprintf(text, n, "%" PRIu64 "%.1s", (UINT64_C(1) << power) * (nn + interval), &"\0KMGTPE"[decade]);
	return value;
}

/* hist(x, k) with k > 0, as bpftrace 0.2x prints it: rows from the first
 * to the last non-empty bucket, "[a]" for a bucket of one value, else
 * "[a, b)"; counts divided by div, bars against the largest. */
static int histk_text(struct buf *out, const json_t *b, uint64_t div, unsigned k)
{
	long min_index = -1, max_index = -1;
	uint64_t max_value = 0;
	int r = 0;

	for (size_t i = 0; i < json_array_size(b); i++) {
		if (bucket_at(b, i)) {
			if (min_index < 0)
				min_index = (long)i;
			max_index = (long)i;
		}
		max_value = MAX(max_value, bucket_at(b, i) / div);
	}
	for (long i = min_index; min_index >= 0 && i <= max_index && r >= 0; i++) {
		char label[80], lo[32], hi[32];
		uint64_t c = bucket_at(b, (size_t)i) / div;
		char bar[53];
		float f = max_value ? (float)c / (float)max_value * 52 : 0;
		int w = f >= 0 && f <= 52 ? (int)f : 52;
		bool lo_int, hi_int;

		if (i == 0) {
			snprintf(label, sizeof(label), "(..., 0)");
		} else {
			lo_int = (unsigned)(i - 1) <= (2u << k);
			hi_int = (unsigned)i <= (2u << k);
			hist_label_value((unsigned)i - 1, k, lo, sizeof(lo));
			hist_label_value((unsigned)i, k, hi, sizeof(hi));
			if (lo_int && hi_int)   /* adjacent integers: one value */
				snprintf(label, sizeof(label), "[%s]", lo);
			else
				snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
		}
		memset(bar, '@', (size_t)w);
		bar[w] = '\0';
		r = buf_printf(out, "%-16s%8" PRIu64 " |%-52s|\n", label, c, bar);
	}
	return r;
}

static int hist_text(struct buf *out, const json_t *b, uint64_t div)
{
	int min_index = -1, max_index = -1, max_value = 0;
	size_t n = json_array_size(b);
	int r = 0;

	/* 0.17 reads each count into an int here */
	for (size_t i = 0; i < n; i++) {
		int v = (int)(uint32_t)bucket_at(b, i);

		if (v > 0) {
			if (min_index == -1)
				min_index = (int)i;
			max_index = (int)i;
		}
		if (v > max_value)
			max_value = v;
	}
	if (max_index == -1)
		return 0;
	for (int i = min_index; i <= max_index && r >= 0; i++) {
		char label[64], lo[24], hi[24];

		if (i == 0) {
			snprintf(label, sizeof(label), "(..., 0)");
		} else if (i == 1) {
			snprintf(label, sizeof(label), "[0]");
		} else if (i == 2) {
			snprintf(label, sizeof(label), "[1]");
		} else {
			hist_label(lo, sizeof(lo), i - 2);
			hist_label(hi, sizeof(hi), i - 1);
			snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
		}
		r = hist_row(out, label, bucket_at(b, (size_t)i) / div, bucket_at(b, (size_t)i),
			     max_value);
	}
	return r;
}

static int lhist_text(struct buf *out, const json_t *b, const struct lhist_shape *lh)
{
	int max_index = -1, max_value = 0, start = -1, end = 0;
	int buckets = (int)(lh->nbuckets - 2);
	int min = (int)lh->min, max = (int)lh->max, step = (int)lh->step;
	int r = 0;

	for (size_t i = 0; i < lh->nbuckets; i++) {
		int v = (int)(uint32_t)bucket_at(b, i);

		if (v != 0)
			max_index = (int)i;
		if (v > max_value)
			max_value = v;
	}
	if (max_index == -1)
		return 0;
	for (int i = 0; i <= buckets + 1; i++) {
		if (bucket_at(b, (size_t)i) > 0) {
			if (start == -1)
				start = i;
			end = i;
		}
	}
	if (start == -1)
		start = 0;
	for (int i = start; i <= end && r >= 0; i++) {
		char label[64], lo[24], hi[24];

		if (i == 0) {
			lhist_label(lo, sizeof(lo), min);
			snprintf(label, sizeof(label), "(..., %s)", lo);
		} else if (i == buckets + 1) {
			lhist_label(lo, sizeof(lo), max);
			snprintf(label, sizeof(label), "[%s, ...)", lo);
		} else {
			lhist_label(lo, sizeof(lo), (i - 1) * step + min);
			lhist_label(hi, sizeof(hi), i * step + min);
			snprintf(label, sizeof(label), "[%s, %s)", lo, hi);
		}
		r = hist_row(out, label, bucket_at(b, (size_t)i), bucket_at(b, (size_t)i),
			     max_value);
	}
	return r;
}

static int add_value_text(struct buf *out, const struct mrec *m, const struct ment *me, uint64_t div)
{
	const json_t *v = json_object_get(me->e, "value");

	switch (m->kind) {
	case MK_COUNT:
	case MK_MAX:
		return buf_printf(out, "%" PRIu64, (uint64_t)me->i / div);
	case MK_SUM:
	case MK_INT:
	case MK_MIN:
		if (m->is_unsigned)
			return buf_printf(out, "%" PRIu64, (uint64_t)me->i / div);
		return buf_printf(out, "%" PRId64, me->i / (int64_t)div);
	case MK_AVG:
		return buf_printf(out, "%" PRId64, me->i / (int64_t)div);
	case MK_STATS:
		return buf_printf(out, "count %" PRId64 ", average %" PRId64 ", total %" PRId64,
				  me->count, me->i, me->total);
	case MK_HIST:
		if (me->bits)
			return histk_text(out, me->buckets, div, me->bits);
		return hist_text(out, me->buckets, div);
	case MK_LHIST:
		return lhist_text(out, me->buckets, &me->lh);
	case MK_STR:
	case MK_TEXT:
		/* bpftrace's strings end at the first NUL */
		return buf_add(out, json_string_value(v), strlen(json_string_value(v)));
	}
	return -EINVAL;
}

/* A record parsed and sorted for printing, with print()'s top and div as
 * 0.17 applies them: *div at least 1, *skip the entries top leaves out.
 * m is released by the caller whatever the result. */
static int map_prepare(const json_t *rec, struct mrec *m, uint64_t top, uint64_t *div, size_t *skip)
{
	int r = mrec_parse(rec, m, NULL, 0);

	if (r < 0)
		return r;
	/* print()'s div is a uint32 in 0.17 */
	if (*div > UINT32_MAX)
		return -EINVAL;
	if (*div == 0)
		*div = 1;
	/* 0.17 ignores top and div for stats() maps (with a warning) */
	if (m->kind == MK_STATS) {
		top = 0;
		*div = 1;
	}
	mrec_sort(m);
	*skip = top && m->n > top ? m->n - top : 0;
	return 0;
}

int output_map_format(struct buf *out, const json_t *rec, uint64_t top, uint64_t div)
{
	struct mrec m;
	size_t skip = 0;
	bool first = true;
	int r;

	if (!out)
		return -EINVAL;
	r = map_prepare(rec, &m, top, &div, &skip);
	if (r < 0)
		goto out;
	for (size_t i = skip; i < m.n; i++) {
		if (!first && !m.nodelim) {
			r = buf_addc(out, '\n');
			if (r < 0)
				goto out;
		}
		first = false;
		r = add_key_text(out, &m, &m.ents[i]);
		if (r >= 0)
			r = buf_adds(out, m.kind == MK_HIST || m.kind == MK_LHIST ? ": \n" : ": ");
		if (r >= 0)
			r = add_value_text(out, &m, &m.ents[i], div);
		if (r < 0)
			goto out;
	}
	r = buf_adds(out, m.kind == MK_AVG || m.kind == MK_STATS ? "\n\n" : "\n");
out:
	mrec_release(&m);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------
 * bpftrace's JSON output (-f json)
 * ---------------------------------------------------------------------- */

/* A JSON string as bpftrace writes it (jansson escapes the same five,
 * control bytes as \u00XX). */
/* A JSON string as 0.17's json_escape writes it: `"`, `\\`, \n, \r and
 * \t by name, other bytes below 0x20 as \u00xx in lower case (jansson
 * writes \b, \f and upper case), the rest as they are.  Bytes of 0x80
 * and above: 0.17 sign-extends them (\uffffffc3, which no reader decodes
 * to the byte); here they stay, as valid UTF-8 (the runner makes every
 * string valid UTF-8 before it becomes a record, docs/compat.md). */
static int json_str(struct buf *out, const char *s, size_t len)
{
	int r = buf_addc(out, '"');

	for (size_t i = 0; i < len && r >= 0; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			r = buf_adds(out, "\\\"");
			break;
		case '\\':
			r = buf_adds(out, "\\\\");
			break;
		case '\n':
			r = buf_adds(out, "\\n");
			break;
		case '\r':
			r = buf_adds(out, "\\r");
			break;
		case '\t':
			r = buf_adds(out, "\\t");
			break;
		default:
			r = c < 0x20 ? buf_printf(out, "\\u%04x", c) : buf_addc(out, (char)c);
		}
	}
	return r < 0 ? r : buf_addc(out, '"');
}

/* A value as bpftrace 0.17 writes it: arrays compact ([1,"a",[2,3]]),
 * objects (a struct in a tuple) with spaces ({ "x": 1, "y": [2,3] }),
 * members in their order (jansson keeps insertion order) */
static int json_bt(struct buf *out, const json_t *v, int depth)
{
	_cleanup_free_ char *t = NULL;
	const char *k;
	json_t *e;
	size_t i;
	int r = 0;

	if (depth > 64)
		return -ELOOP;
	if (json_is_array(v)) {
		r = buf_addc(out, '[');
		json_array_foreach(v, i, e) {
			if (r >= 0 && i)
				r = buf_addc(out, ',');
			if (r >= 0)
				r = json_bt(out, e, depth + 1);
		}
		return r < 0 ? r : buf_addc(out, ']');
	}
	if (json_is_object(v)) {
		bool first = true;

		r = buf_adds(out, "{ ");
		json_object_foreach((json_t *)v, k, e) {
			if (r >= 0 && !first)
				r = buf_adds(out, ", ");
			first = false;
			if (r >= 0)
				r = json_str(out, k, strlen(k));
			if (r >= 0)
				r = buf_adds(out, ": ");
			if (r >= 0)
				r = json_bt(out, e, depth + 1);
		}
		return r < 0 ? r : buf_adds(out, " }");
	}
	if (json_is_string(v))
		return json_str(out, json_string_value(v), json_string_length(v));
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	return t ? buf_adds(out, t) : -ENOMEM;
}

static int json_key(struct buf *out, const struct ment *me)
{
	_cleanup_buf_ struct buf k = BUF_INIT(0);
	const json_t *key = json_object_get(me->e, "key");
	int r = 0;

	/* bpftrace 0.17 joins a key's parts with "," */
	for (size_t i = 0; me->keyv && r >= 0 && i < json_array_size(me->keyv); i++) {
		const json_t *p = json_array_get(me->keyv, i);

		if (i)
			r = buf_addc(&k, ',');
		if (r < 0)
			break;
		if (json_is_integer(p))
			r = buf_printf(&k, "%" PRId64, (int64_t)json_integer_value(p));
		else if (json_is_string(p))
			r = buf_add(&k, json_string_value(p), strlen(json_string_value(p)));
		else
			return -EINVAL;
	}
	if (r >= 0 && !me->keyv && key)
		r = buf_add(&k, json_string_value(key), json_string_length(key));
	if (r >= 0)
		r = json_str(out, k.s ? k.s : "", k.len);
	return r;
}

/* {"min": a, "max": b, "count": c} rows from the first to the last
 * non-empty bucket (0.17: the below-range bucket has no min, the
 * above-range one no max). */
static int json_buckets(struct buf *out, const struct mrec *m, const struct ment *me, uint64_t div)
{
	size_t n = m->kind == MK_LHIST ? me->lh.nbuckets : hist_buckets(me->bits);
	long first = -1, last = -1;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (bucket_at(me->buckets, i)) {
			if (first < 0)
				first = (long)i;
			last = (long)i;
		}
	}
	/* 0.17 divides hist() counts only: an lhist() prints them whole,
	 * in text (lhist_text) and here */
	if (m->kind == MK_LHIST)
		div = 1;
	r = buf_addc(out, '[');
	for (long i = first; first >= 0 && i <= last && r >= 0; i++) {
		uint64_t c = bucket_at(me->buckets, (size_t)i) / div;

		if (i != first && (r = buf_adds(out, ", ")) < 0)
			break;
		if (m->kind == MK_LHIST) {
			if (i == 0)
				r = buf_printf(out, "{\"max\": %" PRId64, me->lh.min - 1);
			else if ((size_t)i == n - 1)
				r = buf_printf(out, "{\"min\": %" PRId64, me->lh.max);
			else
				r = buf_printf(out, "{\"min\": %" PRId64 ", \"max\": %" PRId64,
					       (i - 1) * me->lh.step + me->lh.min, i * me->lh.step + me->lh.min - 1);
		} else if (i == 0) {
			r = buf_adds(out, "{\"max\": -1");
		} else if (me->bits) {
			char t[32];
			uint64_t lo = hist_label_value((unsigned)i - 1, me->bits, t, sizeof(t));
			uint64_t hi = hist_label_value((unsigned)i, me->bits, t, sizeof(t)) - 1;

			r = buf_printf(out, "{\"min\": %" PRIu64 ", \"max\": %" PRIu64, lo, hi);
		} else if (i <= 2) {
			r = buf_printf(out, "{\"min\": %ld, \"max\": %ld", i - 1, i - 1);
		} else {
			r = buf_printf(out, "{\"min\": %" PRIu64 ", \"max\": %" PRIu64, UINT64_C(1) << (i - 2),
				       (UINT64_C(1) << (i - 1)) - 1);
		}
		if (r >= 0)
			r = buf_printf(out, ", \"count\": %" PRIu64 "}", c);
	}
	return r < 0 ? r : buf_addc(out, ']');
}

static int json_value(struct buf *out, const struct mrec *m, const struct ment *me, uint64_t div)
{
	const json_t *v = json_object_get(me->e, "value"), *vv;
	_cleanup_free_ char *t = NULL;

	switch (m->kind) {
	case MK_STATS:
		return buf_printf(out, "{\"count\": %" PRId64 ", \"average\": %" PRId64 ", \"total\": %" PRId64 "}",
				  me->count, me->i, me->total);
	case MK_HIST:
	case MK_LHIST:
		return json_buckets(out, m, me, div);
	case MK_STR:
		return json_str(out, json_string_value(v), strlen(json_string_value(v)));
	case MK_TEXT:
		/* a tuple is an array of its elements, [1,"a",[2,3]]; a
		 * struct an object, { "m": 2 } */
		vv = json_object_get(me->e, "valuev");
		if (!vv)
			return json_str(out, json_string_value(v), json_string_length(v));
		return json_bt(out, vv, 0);
	default:
		return add_value_text(out, m, me, div);
	}
}

int output_map_format_json(struct buf *out, const json_t *rec, uint64_t top, uint64_t div)
{
	struct mrec m;
	size_t skip = 0;
	bool keyed;
	int r;

	if (!out)
		return -EINVAL;
	r = map_prepare(rec, &m, top, &div, &skip);
	if (r < 0)
		goto out;
	keyed = json_is_true(json_object_get(rec, "keyed")) || (m.n && (m.ents[0].keyv || json_object_get(m.ents[0].e, "key")));
	/* 0.17 prints nothing for a map without entries, keyed or not
	 * (a scalar after delete() or clear(), a max() of negatives) */
	if (skip >= m.n)
		goto out;
	r = buf_printf(out, "{\"type\": \"%s\", \"data\": {",
		       m.kind == MK_HIST || m.kind == MK_LHIST ? "hist" :
		       m.kind == MK_AVG || m.kind == MK_STATS ? "stats" : "map");
	if (r >= 0)
		r = json_str(out, m.name, strlen(m.name));
	if (r >= 0)
		r = buf_adds(out, ": ");
	if (r >= 0 && keyed)
		r = buf_addc(out, '{');
	for (size_t i = skip; i < m.n && r >= 0; i++) {
		if (!keyed && i > skip)
			break;
		if (keyed) {
			if (i > skip)
				r = buf_adds(out, ", ");
			if (r >= 0)
				r = json_key(out, &m.ents[i]);
			if (r >= 0)
				r = buf_adds(out, ": ");
		}
		if (r >= 0)
			r = json_value(out, &m, &m.ents[i], div);
	}
	if (r >= 0)
		r = buf_adds(out, keyed ? "}}}\n" : "}}\n");
out:
	mrec_release(&m);
	return r < 0 ? r : 0;
}

/* One output event as bpftrace's JSON writes it: {"type": T, "data": D},
 * D the text as a string, or value (compact) when given. */
/* "DIGITS\n": print() of an unsigned integer past int64, which comes
 * without a typed value (a JSON integer here holds at most int64) */
static bool uint_line(const char *text, size_t len)
{
	if (len < 2 || len > 21 || text[len - 1] != '\n')
		return false;
	for (size_t i = 0; i + 1 < len; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	return true;
}

int output_json_event(struct buf *out, const char *type, const char *text, size_t len, const json_t *value)
{
	_cleanup_free_ char *t = NULL;
	int r;

	r = buf_adds(out, "{\"type\": ");
	if (r >= 0)
		r = json_str(out, type, strlen(type));
	if (r >= 0)
		r = buf_adds(out, ", \"data\": ");
	if (r < 0)
		return r;
	if (value)
		r = json_bt(out, value, 0);
	else if (!strcmp(type, "value") && uint_line(text, len))
		r = buf_add(out, text, len - 1);   /* print((uint64)-1): 18446744073709551615 */
	else
		r = json_str(out, text, len);
	return r < 0 ? r : buf_adds(out, "}\n");
}

int output_json_attached_probes(struct buf *out, uint64_t probes)
{
	return buf_printf(out, "{\"type\": \"attached_probes\", \"data\": {\"probes\": %" PRIu64 "}}\n", probes);
}

int output_json_lost_events(struct buf *out, uint64_t events)
{
	return buf_printf(out, "{\"type\": \"lost_events\", \"data\": {\"events\": %" PRIu64 "}}\n", events);
}

/* ------------------------------------------------------------------------
 * merging
 * ---------------------------------------------------------------------- */

/* An entry's identity: its keyv (or key text) as compact JSON. */
static char *entry_id(const json_t *e)
{
	const json_t *keyv = json_object_get(e, "keyv");
	const json_t *key = json_object_get(e, "key");
	_cleanup_(json_decrefp) json_t *id = NULL;

	if (keyv)
		return json_dumps(keyv, JSON_COMPACT | JSON_ENCODE_ANY);
	if (key) {
		id = json_pack("{sO}", "key", key);
		return id ? json_dumps(id, JSON_COMPACT) : NULL;
	}
	return strdup("scalar");
}

static int add_buckets(json_t *va, const json_t *vb)
{
	const json_t *ba = json_object_get(va, "buckets"), *bb = json_object_get(vb, "buckets");
	size_t n = MAX(json_array_size(ba), json_array_size(bb));
	_cleanup_(json_decrefp) json_t *sum = json_array();

	if (!sum)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(sum, json_integer((json_int_t)(bucket_at(ba, i) +
									 bucket_at(bb, i)))) < 0)
			return -ENOMEM;
	return json_object_set(va, "buckets", sum) < 0 ? -ENOMEM : 0;
}

/* Merges b's value into ea, an entry of the copy being built (which may
 * already hold earlier merges, so it is read afresh). */
static int merge_value(struct mrec *m, json_t *ea, const struct ment *b)
{
	json_t *va = json_object_get(ea, "value");
	const json_t *vb = json_object_get(b->e, "value");
	struct ment cur, *a = &cur;
	int64_t x, y = b->i, z;

	memset(&cur, 0, sizeof(cur));
	if (parse_entry_value(m, &cur, va) < 0)
		return -EINVAL;
	x = cur.i;

	switch (m->kind) {
	case MK_COUNT:
	case MK_SUM:
		z = (int64_t)((uint64_t)x + (uint64_t)y);
		return json_object_set_new(ea, "value", json_integer(z)) < 0 ? -ENOMEM : 0;
	case MK_MIN:
	case MK_MAX: {
		bool less = m->is_unsigned ? (uint64_t)y < (uint64_t)x : y < x;

		z = (m->kind == MK_MIN) == less ? y : x;
		return json_object_set_new(ea, "value", json_integer(z)) < 0 ? -ENOMEM : 0;
	}
	case MK_AVG:
	case MK_STATS:
		if (json_object_set_new(va, "total", json_integer((int64_t)((uint64_t)a->total +
									 (uint64_t)b->total))) < 0 ||
		    json_object_set_new(va, "count", json_integer((int64_t)((uint64_t)a->count +
									 (uint64_t)b->count))) < 0)
			return -ENOMEM;
		return 0;
	case MK_LHIST:
		if (a->lh.min != b->lh.min || a->lh.max != b->lh.max || a->lh.step != b->lh.step)
			return -EINVAL;
		return add_buckets(va, vb);
	case MK_HIST:
		if (a->bits != b->bits)
			return -EINVAL;
		return add_buckets(va, vb);
	case MK_INT:
	case MK_STR:
	case MK_TEXT:
		return 0;       /* a's value wins */
	}
	return -EINVAL;
}

int output_map_merge(json_t *a, const json_t *b)
{
	struct mrec ma, mb;
	_cleanup_(json_decrefp) json_t *entries = NULL, *index = NULL;
	int r;

	memset(&mb, 0, sizeof(mb));
	r = mrec_parse(a, &ma, NULL, 0);
	if (r < 0)
		goto out;
	r = mrec_parse(b, &mb, NULL, 0);
	if (r < 0)
		goto out;
	if (strcmp(ma.name, mb.name) || ma.kind != mb.kind) {
		r = -EINVAL;
		goto out;
	}
	/* work on a copy so that a is untouched when anything fails */
	entries = json_deep_copy(json_object_get(a, "entries"));
	index = json_object();
	if (!entries || !index) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ma.n; i++) {
		_cleanup_free_ char *id = entry_id(ma.ents[i].e);

		if (!id || json_object_set_new(index, id, json_integer((json_int_t)i)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < mb.n; i++) {
		_cleanup_free_ char *id = entry_id(mb.ents[i].e);
		const json_t *at;

		if (!id) {
			r = -ENOMEM;
			goto out;
		}
		at = json_object_get(index, id);
		if (at) {
			size_t j = (size_t)json_integer_value(at);

			r = merge_value(&ma, json_array_get(entries, j), &mb.ents[i]);
			if (r < 0)
				goto out;
			continue;
		}
		if (json_array_size(entries) >= TG_MAP_MAX_ENTRIES) {
			r = -TG_ELIMIT;
			goto out;
		}
		if (json_object_set_new(index, id, json_integer((json_int_t)json_array_size(entries))) < 0 ||
		    json_array_append_new(entries, json_deep_copy(mb.ents[i].e)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = json_object_set(a, "entries", entries) < 0 ? -ENOMEM : 0;
out:
	mrec_release(&ma);
	mrec_release(&mb);
	return r;
}

/* ---- building entries ---------------------------------------------------- */

json_t *output_json_text(const char *s, size_t len)
{
	_cleanup_buf_ struct buf t = BUF_INIT(0);

	if (buf_add_utf8(&t, s, len) < 0)
		return NULL;
	return json_stringn(t.s, t.len);
}

json_t *output_ment_new(const char *key, size_t keylen, json_t *keyv)
{
	_cleanup_(json_decrefp) json_t *e = json_object(), *kv = keyv;

	if (!e)
		return NULL;
	if (key && json_object_set_new(e, "key", output_json_text(key, keylen)) < 0)
		return NULL;
	if (kv && json_object_set_new(e, "keyv", TAKE_PTR(kv)) < 0)
		return NULL;
	return TAKE_PTR(e);
}

int output_ment_set_int(json_t *e, int64_t v)
{
	return json_object_set_new(e, "value", json_integer((json_int_t)v)) < 0 ? -ENOMEM : 0;
}

int output_ment_set_text(json_t *e, const char *s, size_t len, json_t *valuev)
{
	_cleanup_(json_decrefp) json_t *vv = valuev;

	if (json_object_set_new(e, "value", output_json_text(s, len)) < 0)
		return -ENOMEM;
	if (vv && json_object_set_new(e, "valuev", TAKE_PTR(vv)) < 0)
		return -ENOMEM;
	return 0;
}

int output_ment_set_stats(json_t *e, int64_t total, uint64_t count)
{
	return json_object_set_new(e, "value", json_pack("{s:I, s:I}", "total", (json_int_t)total, "count",
							 (json_int_t)count)) < 0 ? -ENOMEM : 0;
}

static json_t *zero_buckets(size_t n)
{
	_cleanup_(json_decrefp) json_t *bk = json_array();

	if (!bk)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(bk, json_integer(0)) < 0)
			return NULL;
	return TAKE_PTR(bk);
}

int output_ment_set_hist(json_t *e, size_t nbuckets, unsigned bits)
{
	_cleanup_(json_decrefp) json_t *v = json_pack("{s:o}", "buckets", zero_buckets(nbuckets));

	/* hist(x, k) of bpftrace 0.2x: its k (contracts.md) */
	if (!v || (bits && json_object_set_new(v, "bits", json_integer(bits)) < 0))
		return -ENOMEM;
	return json_object_set_new(e, "value", TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
}

int output_ment_set_lhist(json_t *e, int64_t min, int64_t max, int64_t step, size_t nbuckets)
{
	json_t *v = json_pack("{s:I, s:I, s:I, s:o}", "min", (json_int_t)min, "max", (json_int_t)max, "step",
			      (json_int_t)step, "buckets", zero_buckets(nbuckets));

	return json_object_set_new(e, "value", v) < 0 ? -ENOMEM : 0;
}

int output_ment_add(json_t *e, size_t idx, int64_t n)
{
	json_t *bk = json_object_get(json_object_get(e, "value"), "buckets");

	if (idx >= json_array_size(bk))
		return 0;
	return json_integer_set(json_array_get(bk, idx),
				json_integer_value(json_array_get(bk, idx)) + (json_int_t)n) < 0 ? -ENOMEM : 0;
}

void output_ment_trim_hist(json_t *entries)
{
	size_t i;
	json_t *e;

	json_array_foreach(entries, i, e) {
		json_t *bk = json_object_get(json_object_get(e, "value"), "buckets");

		while (json_array_size(bk) > 1 && !json_integer_value(json_array_get(bk, json_array_size(bk) - 1)))
			json_array_remove(bk, json_array_size(bk) - 1);
	}
}
