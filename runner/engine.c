// SPDX-License-Identifier: Apache-2.0
/*
 * engine_run(): parse -> sema -> plan -> codegen -> clang (cached) ->
 * verify -> load -> BEGIN -> attach -> ring buffer loop -> detach -> END
 * -> maps.  See docs/internals/runner.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "lang/ast.h"
#include "output/output.h"
#include "runner/codegen-layout.h"
#include "runner/codegen.h"
#include "runner/compile.h"
#include "runner/engine.h"
#include "runner/guard.h"
#include "runner/jail.h"
#include "runner/ktypes.h"
#include "runner/loader.h"
#include "runner/probes.h"
#include "runner/sema.h"
#include "runner/values.h"
#include "runner/verify.h"
#include "wire/map.h"
#include "lib/banned.h"

#define ENGINE_DEFAULT_MAP_ENTRIES 4096
#define ENGINE_RINGBUF_BYTES       (1u << 21)
#define ENGINE_MAX_OUTPUT          (1u << 20)   /* one formatted event */
#define ENGINE_CAT_BYTES           4096         /* cat()'s default, as bpftrace */

struct run {
	const struct engine_opts *o;
	const struct engine_sink *sink;
	void *ctx;
	struct engine_result *res;
	struct sem *sem;
	struct loader *ld;
	int ncpus;
	uint64_t max_entries;      /* of every map */
	json_t *pending;           /* output held back until attached */
	struct values vals;        /* symbols, stacks, times for ST_TEXT */
	bool stop;
	bool output_full;       /* maxOutputBytes reached: no more output records */
	const char *reason;
	int err;                   /* a sink or map failure ends the run */
	struct guard_timers timers; /* interval probes under a scope */
	char *timer_err;
	unsigned batch;            /* records handled since the loop last looked up */
	size_t attach_total;       /* attach points, for the "attaching" status */
	uint64_t progress_ns;      /* when the last "attaching" status was sent */
};

/* While attaching, a status "attaching" {"done": N, "probes": M} at
 * most this often (a wildcard of hundreds of tracepoints may take
 * seconds; the stream shows it is alive and how far it got). */
#define ENGINE_PROGRESS_NS 1000000000ull

/* Records handled per ring_buffer__consume() before the loop looks at its
 * stop conditions again: with producers faster than the consumer (a probe
 * on every syscall whose output causes syscalls) consume would otherwise
 * never return, and neither SIGTERM nor a gone gateway would end the run. */
#define ENGINE_RECORDS_PER_POLL 4096

__attribute__((format(printf, 2, 3)))
static int set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret_err, fmt, ap);
	va_end(ap);
	if (r < 0)
		*ret_err = NULL;
	return 0;
}

static int diag_err(const struct engine_opts *o, const struct lang_diag *d, char **ret_err)
{
	char *s = NULL;
	const char *name = o->program_name ? o->program_name : "stdin";

	if (lang_diag_format(d, name, o->program, o->program_len, &s) < 0 || !s)
		set_err(ret_err, "%s:%u:%u: ERROR: %s", name, d->loc.line, d->loc.col, d->msg);
	else
		*ret_err = s;
	return 0;
}

/* ---- maps -> records ---------------------------------------------------- */

/* A new entry (output/output.h) with the key at k, as bpftrace prints it */
static json_t *key_entry(struct run *run, const struct sem_map *m, const uint8_t *k)
{
	_cleanup_buf_ struct buf text = BUF_INIT(64 * 1024);
	_cleanup_(json_decrefp) json_t *kv = NULL;

	if (!m->nkeys)
		return output_ment_new(NULL, 0, NULL);
	kv = json_array();
	if (!kv)
		return NULL;
	for (size_t i = 0; i < m->nkeys; i++) {
		const uint8_t *p = k + cg_key_off(m, i);
		int r;

		if (i)
			buf_adds(&text, ", ");
		if (m->keys[i].k == ST_TEXT) {
			_cleanup_buf_ struct buf t = BUF_INIT(64 * 1024);

			if (values_format(&run->vals, &m->keys[i], p, true, &t) < 0)
				return NULL;
			r = json_array_append_new(kv, output_json_text(t.s, t.len));
			buf_add(&text, t.s, t.len);
		} else if (m->keys[i].k == ST_STR) {
			size_t n = strnlen((const char *)p, m->keys[i].slen);

			r = json_array_append_new(kv, output_json_text((const char *)p, n));
			buf_add(&text, p, n);
		} else {
			uint64_t u;

			memcpy(&u, p, 8);
			if (m->keys[i].ptr) {
				char hex[24];

				/* bpftrace 0.17 prints a pointer key in hex, in
				 * -f json too */
				snprintf(hex, sizeof(hex), "0x%" PRIx64, u);
				r = json_array_append_new(kv, json_string(hex));
				buf_adds(&text, hex);
			} else {
				/* 0.17 prints every integer key as the int64 its
				 * 8 bytes hold, unsigned ones too:
				 * @[(uint64)-1] is @[-1] */
				r = json_array_append_new(kv, json_integer((json_int_t)u));
				buf_printf(&text, "%" PRId64, (int64_t)u);
			}
		}
		if (r < 0)
			return NULL;
	}
	return output_ment_new(text.s, text.len, TAKE_PTR(kv));
}

/* Sums a per-CPU value (count, sum, hist bucket) or combines pairs. */
static void percpu_fold(const struct sem_map *m, const uint8_t *v, int ncpus, int64_t *a,
			uint64_t *b, bool *set)
{
	size_t stride = sem_round8(cg_val_size(m));

	*a = 0;
	*b = 0;
	*set = false;
	for (int c = 0; c < ncpus; c++) {
		const uint8_t *p = v + stride * (size_t)c;
		int64_t x;
		uint64_t y;

		memcpy(&x, p, 8);
		if (m->kind == MK_MIN || m->kind == MK_MAX) {
			memcpy(&y, p + 8, 8);
			if (!y)
				continue;
			if (!*set || (m->kind == MK_MAX ? x > *a : x < *a))
				*a = x;
			*set = true;
		} else if (m->kind == MK_AVG || m->kind == MK_STATS) {
			memcpy(&y, p + 8, 8);
			*a += x;
			*b += y;
		} else {
			*a += x;
		}
	}
}

static int cmp_key(const void *a, const void *b, void *ks)
{
	return memcmp(a, b, *(const uint32_t *)ks);
}

/*
 * A snapshot of a map's entries, taken before anything is formatted: a
 * probe deleting and adding keys while a get_next_key walk runs sends the
 * walk back to the first key, and print(@m) printed the same keys over
 * and over (102 duplicates in one print of a 256-entry map).
 * BPF_MAP_LOOKUP_BATCH walks the buckets once; where a map type has no
 * batch lookup, the keys are walked (at most 4 * max_entries steps),
 * sorted and made unique, then looked up.  At most max_entries entries,
 * each key once; *ret_n of them in *ret_keys / *ret_vals.
 */
static int map_snapshot(int fd, uint32_t ks, size_t vbytes, uint8_t **ret_keys, uint8_t **ret_vals,
			size_t *ret_n)
{
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);
	_cleanup_free_ uint8_t *keys = NULL, *vals = NULL, *key = NULL;
	uint64_t in_batch = 0, out_batch = 0;
	size_t cap, n = 0;
	bool first = true;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) < 0)
		return -errno;
	cap = info.max_entries ? info.max_entries : 1;
	keys = calloc(cap, ks);
	vals = calloc(cap, vbytes);
	key = calloc(1, ks);
	if (!keys || !vals || !key)
		return -ENOMEM;
	for (;;) {
		uint32_t count = (uint32_t)(cap - n);
		int r = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys + n * ks,
					     vals + n * vbytes, &count, NULL);
		int e = r < 0 ? errno : 0;

		if (r < 0 && e != ENOENT && first)
			goto walk;
		n += count;
		/* ENOENT: the end; ENOSPC: more than max_entries were seen
		 * (deleted and added while walking): what was read is kept */
		if (r < 0 || n >= cap)
			break;
		first = false;
		in_batch = out_batch;
	}
	goto done;
walk:
	/* no batch lookup for this map: walk the keys, bounded */
	n = 0;
	for (size_t steps = 0; n < cap && steps < 4 * cap; steps++) {
		if (bpf_map_get_next_key(fd, steps ? key : NULL, keys + n * ks) < 0)
			break;
		memcpy(key, keys + n * ks, ks);
		n++;
	}
	if (n > 1) {
		size_t u = 1;

		qsort_r(keys, n, ks, cmp_key, &ks);
		for (size_t i = 1; i < n; i++)
			if (memcmp(keys + i * ks, keys + (u - 1) * ks, ks))
				memmove(keys + u++ * ks, keys + i * ks, ks);
		n = u;
	}
	{
		size_t u = 0;

		for (size_t i = 0; i < n; i++) {
			if (bpf_map_lookup_elem(fd, keys + i * ks, vals + u * vbytes) < 0)
				continue;       /* deleted since */
			if (u != i)
				memmove(keys + u * ks, keys + i * ks, ks);
			u++;
		}
		n = u;
	}
done:
	*ret_keys = TAKE_PTR(keys);
	*ret_vals = TAKE_PTR(vals);
	*ret_n = n;
	return 0;
}

/* The entries of m's record (output/output.h's), read from its BPF map */
static json_t *map_entries(struct run *run, const struct sem_map *m)
{
	_cleanup_(json_decrefp) json_t *entries = NULL, *groups = NULL;
	int fd = loader_map_fd(run->ld, "");
	char name[16];
	uint32_t ks = cg_key_size(m), vs = cg_val_size(m);
	bool pc = sem_map_percpu(m);
	size_t vbytes = pc ? sem_round8(vs) * (size_t)run->ncpus : vs;
	_cleanup_free_ uint8_t *keys = NULL, *vals = NULL;
	bool bucketed = m->kind == MK_HIST || m->kind == MK_LHIST;
	size_t nsnap = 0;

	snprintf(name, sizeof(name), "tg_m%d", m->id);
	fd = loader_map_fd(run->ld, name);
	entries = json_array();
	groups = json_object();
	if (!entries || !groups || fd < 0)
		return NULL;
	if (map_snapshot(fd, ks, vbytes, &keys, &vals, &nsnap) < 0)
		return NULL;
	for (size_t si = 0; si < nsnap; si++) {
		_cleanup_(json_decrefp) json_t *e = NULL;
		const uint8_t *key = keys + si * ks, *val = vals + si * vbytes;
		int64_t a;
		uint64_t b;
		bool set;
		int r;

		if (bucketed) {
			char hex[2 * SEM_MAX_KEY_BYTES + 1];
			uint64_t idx;
			size_t nb = m->kind == MK_HIST ? cg_hist_buckets(m->hbits) :
				    (size_t)((m->lmax - m->lmin) / m->lstep) + 2;
			json_t *g;

			hex_encode(key, ks - 8, hex);
			memcpy(&idx, key + ks - 8, 8);
			percpu_fold(m, val, run->ncpus, &a, &b, &set);
			g = json_object_get(groups, hex);
			if (!g) {
				e = key_entry(run, m, key);
				if (!e ||
				    (m->kind == MK_HIST ? output_ment_set_hist(e, nb, m->hbits) :
							  output_ment_set_lhist(e, m->lmin, m->lmax, m->lstep, nb)) < 0 ||
				    json_object_set(groups, hex, e) < 0 || json_array_append(entries, e) < 0)
					return NULL;
				g = e;
			}
			if (output_ment_add(g, idx, a) < 0)
				return NULL;
			continue;
		}
		e = key_entry(run, m, key);
		if (!e)
			return NULL;
		switch (m->kind) {
		case MK_STR:
			r = output_ment_set_text(e, (const char *)val, strnlen((const char *)val, vs), NULL);
			break;
		case MK_TEXT: {
			_cleanup_buf_ struct buf t = BUF_INIT(ENGINE_MAX_OUTPUT);
			json_t *typed = NULL;

			if (values_format(&run->vals, &m->val, val, false, &t) < 0)
				return NULL;
			/* a tuple or a struct typed too, for bpftrace's JSON
			 * (contracts.md) */
			if (sem_is_tuple(&m->val) || m->val.text == TX_MEMVAL) {
				typed = values_json(&run->vals, &m->val, val);
				if (!typed)
					return NULL;
			}
			r = output_ment_set_text(e, t.s, t.len, typed);
			break;
		}
		case MK_INT:
			memcpy(&a, val, 8);
			r = output_ment_set_int(e, a);
			break;
		case MK_AVG:
		case MK_STATS:
			percpu_fold(m, val, run->ncpus, &a, &b, &set);
			r = output_ment_set_stats(e, a, b);
			break;
		default:
			percpu_fold(m, val, run->ncpus, &a, &b, &set);
			/* bpftrace 0.17's max() stores a value only when it is
			 * at least the entry's, 0 when absent, so an entry that
			 * saw only negative values does not exist there: not
			 * printed, and a scalar map prints as empty */
			if (m->kind == MK_MAX && set && a < 0)
				continue;
			r = output_ment_set_int(e, a);
			break;
		}
		if (r < 0 || json_array_append(entries, e) < 0)
			return NULL;
	}
	/* bpftrace 0.17 keeps a scalar count() in an array: it always has a
	 * value, 0 after clear() or delete() */
	if (m->kind == MK_COUNT && !m->nkeys && !json_array_size(entries)) {
		_cleanup_(json_decrefp) json_t *e = output_ment_new(NULL, 0, NULL);

		if (!e || output_ment_set_int(e, 0) < 0 || json_array_append(entries, e) < 0)
			return NULL;
	}
	if (m->kind == MK_HIST)
		output_ment_trim_hist(entries);
	return TAKE_PTR(entries);
}

static int map_clear(struct run *run, const struct sem_map *m, bool zero)
{
	char name[16];
	int fd;
	uint32_t ks = cg_key_size(m);
	size_t vbytes = sem_map_percpu(m) ? sem_round8(cg_val_size(m)) * (size_t)run->ncpus :
					    cg_val_size(m);
	_cleanup_free_ uint8_t *key = calloc(1, ks), *next = calloc(1, ks), *val = calloc(1, vbytes);

	snprintf(name, sizeof(name), "tg_m%d", m->id);
	fd = loader_map_fd(run->ld, name);
	if (fd < 0 || !key || !next || !val)
		return -ENOMEM;
	if (zero) {
		bool first = true;

		while (bpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
			first = false;
			memcpy(key, next, ks);
			bpf_map_update_elem(fd, key, val, BPF_EXIST);
		}
		return 0;
	}
	/* Snapshot the keys, then delete them, as bpftrace does: taking the
	 * first key until none is left never ends while a probe keeps adding
	 * (our own bpf() calls fire raw_syscalls probes). */
	{
		size_t cap = (size_t)run->max_entries, n = 0;
		_cleanup_free_ uint8_t *keys = calloc(cap ? cap : 1, ks);
		bool first = true;

		if (!keys)
			return -ENOMEM;
		while (n < cap && bpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
			first = false;
			memcpy(key, next, ks);
			memcpy(keys + n++ * ks, next, ks);
		}
		/* a scalar count() is an array (runner/codegen.c): its entry
		 * cannot be deleted, it is set to 0 */
		for (size_t i = 0; i < n; i++)
			if (bpf_map_delete_elem(fd, keys + i * ks) < 0 && errno == EINVAL)
				bpf_map_update_elem(fd, keys + i * ks, val, BPF_EXIST);
	}
	return 0;
}

static int emit_map(struct run *run, const struct sem_map *m, bool print, uint64_t top, uint64_t div)
{
	_cleanup_(json_decrefp) json_t *entries = map_entries(run, m), *rec = NULL;
	/* print(@m, -1): a top beyond any map's size prints it all, as it
	 * always has, and the wire's integers stop at INT64_MAX.  A div
	 * past them is refused here, one past UINT32_MAX by the printer
	 * (0.17's div is a uint32). */
	const struct wire_map wm = {
		.name = m->name,
		.kind = sem_mkind_str(m->kind),
		.keyed = m->nkeys > 0,
		.is_unsigned = (m->kind == MK_INT && !m->val.sign) || (m->kind == MK_SUM && m->sum_unsigned),
		.value_type = m->kind == MK_TEXT ? sem_type_name(&m->val) : NULL,
		.entries = entries,
		.print = print,
		.top = MIN(top, (uint64_t)INT64_MAX),
		.div = div,
	};
	int r;

	if (!entries)
		return -ENOMEM;
	r = wire_map_to_json(&wm, &rec);
	if (r < 0)
		return r;
	if (run->pending)
		return json_array_append_new(run->pending, json_pack("{s:O}", "map", rec)) == 0 ? 0 : -ENOMEM;
	return run->sink->map ? run->sink->map(run->ctx, rec) : 0;
}

/* ---- ring buffer records ------------------------------------------------- */

static const struct sem_map *map_by_id(struct run *run, uint32_t id)
{
	return id < run->sem->nmaps ? &run->sem->maps[id] : NULL;
}

static int warn_cb(void *ctx, const char *msg);

/* A warning about an output event (the output limit, cat()).  While
 * BEGIN's output is held back it waits with it, so that the sink gets it
 * after the output that came before it, as from any other probe. */
static int output_warning(struct run *run, const char *msg)
{
	if (run->pending)
		return json_array_append_new(run->pending, json_pack("{s:s}", "warning", msg)) == 0 ? 0 : -ENOMEM;
	return warn_cb(run, msg);
}

/* maxOutputBytes: the text of output records, together (a printf of
 * 32 x %4096d turns a record of 4 KB into 128 KB; 146 MB left a session in
 * 1.9 s before the cpu budget stopped it).  The record that would pass the
 * limit is not delivered and the run ends with reason "output-limit". */
static bool output_fits(struct run *run, size_t len)
{
	const struct engine_limits *lim = run->o->limits;
	char msg[256];

	if (run->output_full)
		return false;
	if (!lim || !lim->max_output_bytes || len <= lim->max_output_bytes - run->res->output_bytes)
		return true;
	run->output_full = true;
	snprintf(msg, sizeof(msg),
		 "output limit: the trace printed %" PRIu64 " bytes and its next output of %zu bytes would pass "
		 "the limit maxOutputBytes (%" PRIu64 "); stopping",
		 run->res->output_bytes, len, lim->max_output_bytes);
	(void)output_warning(run, msg);
	if (!run->stop) {
		run->stop = true;
		run->reason = "output-limit";
	}
	return false;
}

/* The text is made valid UTF-8 here, once, for every sink: each carries
 * it in a JSON string (json_text says why).  What maxOutputBytes counts is
 * the text delivered. */
/* One output event of kind (engine_sink.output_rec); value, -f json's
 * data when it is not the text (print()'s typed value, join's line
 * without its newline), or NULL; taken over. */
static int output(struct run *run, uint64_t cgid, const char *kind, struct buf *raw, json_t *value)
{
	_cleanup_(json_decrefp) json_t *val = value;
	_cleanup_buf_ struct buf clean = BUF_INIT(0);
	struct buf *b = raw;

	for (size_t i = 0, n; i < raw->len; i += n) {
		n = utf8_valid_len((const unsigned char *)raw->s + i, raw->len - i);
		if (!n) {
			if (buf_add_utf8(&clean, raw->s, raw->len) < 0)
				return -ENOMEM;
			b = &clean;
			break;
		}
	}
	if (!output_fits(run, b->len))
		return 0;
	run->res->output_bytes += b->len;
	run->res->events++;
	if (run->pending) {
		json_t *e = json_pack("{s:s%, s:I, s:s}", "text", b->s ? b->s : "", b->len, "cgid", (json_int_t)cgid,
				      "kind", kind);

		if (e && val && json_object_set(e, "value", val) < 0)
			json_decref(TAKE_PTR(e));
		return e && json_array_append_new(run->pending, e) == 0 ? 0 : -ENOMEM;
	}
	if (run->sink->output_rec)
		return run->sink->output_rec(run->ctx, cgid, kind, b->s ? b->s : "", b->len, val);
	return run->sink->output ? run->sink->output(run->ctx, cgid, b->s, b->len) : 0;
}

/* Output held back from index from on that the sink never got (the run
 * ended before: after_attach refused, the sink failed) is not counted
 * as delivered */
static void pending_uncount(struct run *run, const json_t *v, size_t from)
{
	for (size_t i = from; i < json_array_size(v); i++) {
		json_t *t = json_object_get(json_array_get(v, i), "text");

		if (t) {
			run->res->events--;
			run->res->output_bytes -= json_string_length(t);
		}
	}
}

/* BEGIN's output (and the warnings about it) reaches the sink after the
 * "attached" status, in the order bpftrace 0.17 prints it (it triggers
 * BEGIN once attached). */
static int flush_pending(struct run *run)
{
	_cleanup_(json_decrefp) json_t *v = TAKE_PTR(run->pending);
	json_t *e;
	size_t i;
	int r = 0;

	json_array_foreach(v, i, e) {
		json_t *t = json_object_get(e, "text"), *w = json_object_get(e, "warning");

		if (r < 0) {
			pending_uncount(run, v, i);
			break;
		}
		if (w)
			r = warn_cb(run, json_string_value(w));
		else if (t && run->sink->output_rec)
			r = run->sink->output_rec(run->ctx, (uint64_t)json_integer_value(json_object_get(e, "cgid")),
						  json_string_value(json_object_get(e, "kind")),
						  json_string_value(t), json_string_length(t),
						  json_object_get(e, "value"));
		else if (t && run->sink->output)
			r = run->sink->output(run->ctx, (uint64_t)json_integer_value(json_object_get(e, "cgid")),
					      json_string_value(t), json_string_length(t));
		else if (!t && run->sink->map)
			r = run->sink->map(run->ctx, json_object_get(e, "map"));
	}
	return r;
}

static int site_args(struct run *run, const struct sem_site *st, const uint8_t *d, size_t len,
		     struct output_fmt_arg *args, struct buf *texts)
{
	for (size_t i = 0; i < st->nargs; i++) {
		const struct sem_fmt_arg *fa = &st->args[i];
		uint64_t u;

		if (fa->off + fa->size > len)
			return -EINVAL;
		memset(&args[i], 0, sizeof(args[i]));
		if (fa->t.k == ST_TEXT && fa->t.text == TX_BUF) {
			memcpy(&u, d + fa->off, 8);
			args[i].kind = TG_FMT_BUF;
			args[i].s = (const char *)d + fa->off + 8;
			args[i].slen = u < fa->t.slen - 8u ? (size_t)u : fa->t.slen - 8u;
			continue;
		}
		if (fa->t.k == ST_TEXT) {
			int r = values_format(&run->vals, &fa->t, d + fa->off, false, &texts[i]);

			if (r < 0)
				return r;
			args[i].kind = TG_FMT_TEXT;
			args[i].s = texts[i].s;
			args[i].slen = texts[i].len;
			continue;
		}
		if (fa->t.k == ST_STR) {
			args[i].kind = TG_FMT_STR;
			args[i].s = (const char *)d + fa->off;
			args[i].slen = strnlen(args[i].s, fa->t.slen);
			continue;
		}
		memcpy(&u, d + fa->off, 8);
		args[i].kind = fa->t.sign ? TG_FMT_INT : TG_FMT_UINT;
		args[i].size = fa->t.size ? fa->t.size : 8;
		if (fa->t.sign)
			args[i].i = (int64_t)u;
		else
			args[i].u = u;
	}
	return 0;
}


/* The first max bytes of a file (never blocks on a FIFO). */
static int read_head(const char *path, size_t max, struct buf *out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	char tmp[4096];

	if (fd < 0)
		return -errno;
	while (out->len < max) {
		ssize_t n = read(fd, tmp, MIN(sizeof(tmp), max - out->len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (buf_add(out, tmp, (size_t)n) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* cat(): b holds the path; replaced by at most cat_bytes_max bytes of
 * the file, printed as is (bpftrace adds no newline).  A file that cannot
 * be read is a warning, as bpftrace's error that does not stop it. */
static int cat_file(struct run *run, struct buf *b)
{
	uint64_t max = run->o->cat_bytes_max ? run->o->cat_bytes_max : ENGINE_CAT_BYTES;
	_cleanup_free_ char *path = buf_detach(b, NULL);
	int r;

	if (!path)
		return -ENOMEM;
	*b = (struct buf)BUF_INIT(ENGINE_MAX_OUTPUT);
	if (max > ENGINE_MAX_OUTPUT)
		max = ENGINE_MAX_OUTPUT;
	r = read_head(path, (size_t)max, b);
	if (r < 0) {
		_cleanup_free_ char *msg = NULL;

		if (asprintf(&msg, "cat: failed to open file \"%s\": %s", path, strerror(-r)) < 0)
			return -ENOMEM;
		return output_warning(run, msg);
	}
	return 0;
}

static int handle_record(void *ctx, void *data, size_t len)
{
	struct run *run = ctx;
	const uint8_t *d = data;
	_cleanup_buf_ struct buf b = BUF_INIT(ENGINE_MAX_OUTPUT);
	struct output_fmt_arg args[SEM_MAX_FMT_ARGS];
	uint32_t kind, id;
	uint64_t cgid, a = 0, c = 0;
	const struct sem_map *m;
	_cleanup_(json_decrefp) json_t *jv = NULL;
	int r = 0;

	/* after exit(), bpftrace 0.17 ignores what other events still send */
	if (len < SEM_REC_HDR || run->err || run->stop)
		return 0;
	memcpy(&kind, d, 4);
	memcpy(&id, d + 4, 4);
	memcpy(&cgid, d + 8, 8);
	if (len >= 32) {
		memcpy(&a, d + 16, 8);
		memcpy(&c, d + 24, 8);
	}
	switch (kind) {
	case REC_PRINTF:
	case REC_PRINT_VAL:
	case REC_CAT: {
		struct buf texts[SEM_MAX_FMT_ARGS];
		const struct sem_site *st;

		if (id >= run->sem->nsites)
			return 0;
		st = &run->sem->sites[id];
		for (size_t i = 0; i < st->nargs; i++)
			texts[i] = (struct buf)BUF_INIT(ENGINE_MAX_OUTPUT);
		r = site_args(run, st, d, len, args, texts);
		if (r >= 0 && kind == REC_PRINT_VAL)
			r = output_printf_format(&b, args[0].kind == TG_FMT_STR || args[0].kind == TG_FMT_TEXT ?
					     "%s\n" : args[0].kind == TG_FMT_BUF ? "%r\n" :
					     /* the whole 64 bits, as 0.17's print():
					      * printf's %d keeps 32 */
					     args[0].kind == TG_FMT_INT ? "%ld\n" : "%lu\n", args, 1);
		else if (r >= 0)
			r = output_printf_format(&b, st->fmt, args, st->nargs);
		if (r >= 0 && kind == REC_CAT)
			r = cat_file(run, &b);
		/* print()'s typed value, for a sink that takes it; none for
		 * a uint64 past int64, which a JSON value here cannot hold
		 * (output_json_event prints its digits) */
		if (r >= 0 && b.len && kind == REC_PRINT_VAL && st->nargs == 1 && run->sink->output_rec &&
		    !(args[0].kind == TG_FMT_UINT && args[0].u > INT64_MAX))
			jv = values_json(&run->vals, &st->args[0].t, d + st->args[0].off);
		/* an empty printf or cat is still a record in -f json
		 * (0.17: {"type": "printf", "data": ""}); text has nothing
		 * to print */
		if (r >= 0 && (b.len || (run->sink->output_rec && kind != REC_PRINT_VAL)))
			r = output(run, cgid, kind == REC_PRINTF ? "printf" : kind == REC_CAT ? "cat" : "value", &b,
				   TAKE_PTR(jv));
		for (size_t i = 0; i < st->nargs; i++)
			buf_release(&texts[i]);
		if (r == -EINVAL)   /* a record that does not match its site */
			r = 0;
		break;
	}
	case REC_TIME: {
		char tb[512];
		time_t t = time(NULL);
		struct tm tm;

		if (id >= run->sem->nsites)
			return 0;
		localtime_r(&t, &tm);
		if (strftime(tb, sizeof(tb), run->sem->sites[id].fmt, &tm) == 0)
			tb[0] = '\0';
		r = buf_adds(&b, tb);
		if (r >= 0)
			r = output(run, cgid, "time", &b, NULL);
		break;
	}
	case REC_JOIN:
		/* the strings up to the first empty one, joined by the site's
		 * delimiter, one line (as bpftrace 0.17) */
		if (id >= run->sem->nsites || len < SEM_REC_HDR + (size_t)SEM_JOIN_ARGS * SEM_JOIN_ARGSIZE)
			return 0;
		for (size_t i = 0; i < SEM_JOIN_ARGS && r >= 0; i++) {
			const char *arg = (const char *)d + SEM_REC_HDR + i * SEM_JOIN_ARGSIZE;

			if (!arg[0])
				break;
			if (i)
				r = buf_adds(&b, run->sem->sites[id].fmt);
			if (r >= 0)
				r = buf_add(&b, arg, strnlen(arg, SEM_JOIN_ARGSIZE - 1));
		}
		/* -f json's data is the line without its newline (0.17),
		 * for a sink that takes it: not on every join of text output */
		if (r >= 0 && run->sink->output_rec)
			jv = output_json_text(b.s ? b.s : "", b.len);
		if (r >= 0)
			r = buf_addc(&b, '\n');
		if (r >= 0)
			r = output(run, cgid, "join", &b, TAKE_PTR(jv));
		break;
	case REC_EXIT:
		if (!run->stop) {
			run->stop = true;
			run->reason = "exit";
			run->res->exit_code = (int)(int64_t)a;
		}
		break;
	case REC_PRINT_MAP:
		m = map_by_id(run, id);
		if (m)
			r = emit_map(run, m, true, a, c);
		break;
	case REC_CLEAR:
	case REC_ZERO:
		m = map_by_id(run, id);
		if (m)
			r = map_clear(run, m, kind == REC_ZERO);
		break;
	default:
		break;
	}
	if (r < 0 && !run->err)
		run->err = r;
	return 0;
}

/* ---- the run ---------------------------------------------------------- */

static uint64_t percpu_counter(struct run *run, const char *name)
{
	int fd = loader_map_fd(run->ld, name);
	uint64_t v[1024] = { 0 }, total = 0;
	uint32_t z = 0;

	if (fd < 0 || run->ncpus > 1024 || bpf_map_lookup_elem(fd, &z, v) < 0)
		return 0;
	for (int i = 0; i < run->ncpus; i++)
		total += v[i];
	return total;
}

static int cmp_map_name(const void *a, const void *b)
{
	const struct sem_map *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int scope_levels(const struct scope *s, int *levels, size_t *n, char **ret_err)
{
	*n = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		size_t j;

		for (j = 0; j < *n && levels[j] != s->targets[i].level; j++)
			;
		if (j < *n)
			continue;
		if (*n == CG_MAX_LEVELS) {
			set_err(ret_err, "scope: more than %d distinct cgroup depths", CG_MAX_LEVELS);
			return -TG_ELIMIT;
		}
		levels[(*n)++] = s->targets[i].level;
	}
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && levels[j - 1] > levels[j]; j--) {
			int t = levels[j];

			levels[j] = levels[j - 1];
			levels[j - 1] = t;
		}
	return 0;
}

static size_t probe_count(const struct plan *pl)
{
	size_t n = 0;

	for (size_t k = 0; k < pl->n; k++)
		n += pl->progs[k].kind == PK_TRACEPOINT ? pl->progs[k].ntps : 1;
	return n;
}

/* What loader_attach attaches: BEGIN, END and interval timers aside. */
static size_t attach_count(const struct plan *pl)
{
	size_t n = 0;

	for (size_t k = 0; k < pl->n; k++)
		if (pl->progs[k].kind != PK_BEGIN && pl->progs[k].kind != PK_END &&
		    !guard_is_timer(&pl->progs[k]))
			n += pl->progs[k].kind == PK_TRACEPOINT ? pl->progs[k].ntps : 1;
	return n;
}

static json_t *loaded_details(const struct plan *pl)
{
	json_t *v = json_array();

	for (size_t k = 0; v && k < pl->n; k++) {
		const struct plan_prog *pp = &pl->progs[k];

		/* BEGIN and END blocks share one program each */
		if (k && (pp->kind == PK_BEGIN || pp->kind == PK_END)) {
			size_t j;

			for (j = 0; j < k && pl->progs[j].kind != pp->kind; j++)
				;
			if (j < k)
				continue;
		}
		if (json_array_append_new(v, json_pack("{s:s, s:s, s:s}", "function", pp->fn,
						       "section", pp->section, "probe", pp->name)) < 0) {
			json_decref(v);
			return NULL;
		}
	}
	return json_pack("{s:o}", "programs", v);
}

static int status(struct run *run, const char *phase, json_t *details)
{
	int r = run->sink->status ? run->sink->status(run->ctx, phase, details) : 0;

	json_decref(details);
	return r;
}

/* loader progress: the "attaching" status, at most every
 * ENGINE_PROGRESS_NS; a stop asked for meanwhile (stop_fd) ends the
 * attaching, and the run ends as stopped. */
static int progress_cb(void *ctx, size_t done)
{
	struct run *run = ctx;
	uint64_t now = now_mono_ns();
	struct pollfd pf = { .fd = run->o->stop_fd, .events = POLLIN };

	if (run->o->stop_fd >= 0 && poll(&pf, 1, 0) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
		return -ECANCELED;
	if (now - run->progress_ns < ENGINE_PROGRESS_NS)
		return 0;
	run->progress_ns = now;
	/* a uprobe in the processes of several pods makes several links */
	if (done > run->attach_total)
		done = run->attach_total;
	return status(run, "attaching", json_pack("{s:I, s:I}", "done", (json_int_t)done,
						  "probes", (json_int_t)run->attach_total));
}

static int warn_cb(void *ctx, const char *msg)
{
	struct run *run = ctx;

	return run->sink->warning ? run->sink->warning(run->ctx, msg) : 0;
}

/* libbpf counts a record as consumed before calling back, so handle it
 * first, then end the batch (a negative return stops consume). */
static int on_record(void *ctx, void *data, size_t len)
{
	struct run *run = ctx;
	int r = handle_record(ctx, data, len);

	if (r < 0)
		return r;
	if (run->stop || ++run->batch >= ENGINE_RECORDS_PER_POLL)
		return -EAGAIN;
	return 0;
}

/* The end of one ring-buffer drain: the sink may send what it grouped. */
static void sink_flush(struct run *run)
{
	int r = run->sink->flush ? run->sink->flush(run->ctx) : 0;

	if (r < 0 && !run->err)
		run->err = r;
}

static void consume(struct run *run, struct ring_buffer *rb)
{
	run->batch = 0;
	(void)ring_buffer__consume(rb);
	sink_flush(run);
}

/* Everything left, batch after batch: only once no probe is attached (or
 * only BEGIN/END ran), so the producers are done and this ends. */
static void drain(struct run *run, struct ring_buffer *rb)
{
	do {
		run->batch = 0;
	} while (ring_buffer__consume(rb) == -EAGAIN);
	sink_flush(run);
}

/* What is in the ring buffer now, while producers may go on: at most as
 * many records as the smallest (16 bytes with its header) fill it. */
static void drain_present(struct run *run, struct ring_buffer *rb)
{
	unsigned passes = ENGINE_RINGBUF_BYTES / 16 / ENGINE_RECORDS_PER_POLL + 1;

	do {
		run->batch = 0;
	} while (ring_buffer__consume(rb) == -EAGAIN && !run->stop && --passes);
	sink_flush(run);
}

/* CPU time of this process (the session child: all its threads), in ns.
 * The CPU budget counts it with the programs' run time: formatting a flood
 * of output, printing, zeroing or clearing big maps from an interval body
 * all run here, not in the programs, and would otherwise escape the budget
 * (a 4096-entry map zeroed every millisecond kept most of a CPU busy under
 * a budget of 0.05). */
static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int loop(struct run *run, struct ring_buffer *rb, uint64_t deadline)
{
	const struct engine_limits *lim = run->o->limits;
	struct guard_cpu cpu;

	guard_cpu_init(&cpu, lim ? lim->cpu_budget : 0);
	while (!run->stop && !run->err) {
		/* The sink's reader is behind: no event is read until it can
		 * take more, so the ring buffer fills and the programs count
		 * drops, while the duration, a stop and the budget still count. */
		int held = run->sink->backlog ? run->sink->backlog(run->ctx) : -1;
		struct pollfd pf[4] = {
			{ .fd = held >= 0 ? held : ring_buffer__epoll_fd(rb), .events = held >= 0 ? POLLOUT : POLLIN },
			{ .fd = run->timers.epfd, .events = POLLIN },
			{ .fd = run->o->stop_fd, .events = POLLIN },
			{ .fd = run->o->drained ? run->o->drain_fd : -1, .events = POLLIN },
		};
		uint64_t now = now_mono_ns();
		int timeout = 200;

		if (deadline && now >= deadline) {
			run->reason = "duration";
			break;
		}
		if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (int)((deadline - now) / 1000000) + 1;
		if (poll(pf, 4, timeout) < 0 && errno != EINTR)
			return -errno;
		if (pf[1].revents & POLLIN) {
			int r = guard_timers_run(&run->timers, &run->timer_err);

			if (r < 0)
				return r;
		}
		if (held < 0)
			consume(run, rb);
		if (pf[3].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* a reader that is behind does not hold the command */
			if (held < 0 && !run->stop)
				drain_present(run, rb);
			run->o->drained(run->o->hold_ctx);
		}
		if (run->stop)
			break;
		if (run->o->stop_fd >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			run->reason = "stop";
			break;
		}
		if (guard_cpu_sample(&cpu, now_mono_ns(), loader_run_time_ns(run->ld) + self_cpu_ns())) {
			char msg[224];

			snprintf(msg, sizeof(msg),
				 "cpu budget: the programs used %.4f of a CPU over the last second (their run time and the session's own: output, map reads and clears), more than the budget of %.4f; stopping",
				 cpu.last_share, cpu.budget);
			warn_cb(run, msg);
			run->reason = "cpu-budget";
			break;
		}
	}
	return run->err;
}

/*
 * maxMapBytes: what one entry of every growing map costs together (key and
 * value; per CPU for per-CPU maps; stack maps by their frames), and the
 * largest per-map entry count that keeps all of them within the limit.
 * One-entry array maps (scalar counts) are counted as if they grew too,
 * which errs on the side of the limit.
 */
static int cap_entries_by_bytes(const struct sem *s, const struct engine_limits *lim, int ncpus,
				uint64_t *max_entries, char **ret_err)
{
	uint64_t per_entry = 0;

	if (!lim || !lim->max_map_bytes)
		return 0;
	for (size_t i = 0; i < s->nmaps; i++) {
		const struct sem_map *m = &s->maps[i];
		uint64_t bytes = (uint64_t)cg_key_size(m) + cg_val_size(m);

		per_entry += sem_map_percpu(m) ? bytes * (uint64_t)ncpus : bytes;
	}
	for (size_t f = 1; f <= SEM_STACK_FRAMES; f++)
		if (s->stack_frames[f])
			per_entry += 4 + 8 * (uint64_t)f;
	if (!per_entry)
		return 0;
	if (lim->max_map_bytes < per_entry)
		return tg_fail(ret_err, -TG_ELIMIT,
			       "maps: one entry in each of the program's maps takes %" PRIu64
			       " bytes, more than the limit maxMapBytes (%" PRIu64 ")",
			       per_entry, lim->max_map_bytes);
	if (lim->max_map_bytes / per_entry < *max_entries)
		*max_entries = lim->max_map_bytes / per_entry;
	return 0;
}

/* ---- prepare: parse, plan, analyse (privileged: tracefs, pod roots, BTF) --- */

struct engine_prog {
	struct engine_opts o;       /* the caller's */
	struct lang_program *prog;
	struct plan pl;
	struct sem sem;
	int levels[CG_MAX_LEVELS];
	size_t nlevels;
	size_t nfast;               /* the scope pre-check's ids (docs/performance.md) */
	uint64_t max_entries;
	int ncpus;
};

struct engine_prog *engine_prog_free(struct engine_prog *p)
{
	if (!p)
		return NULL;
	sem_release(&p->sem);
	plan_release(&p->pl);
	lang_program_free(p->prog);
	free(p);
	return NULL;
}

static int printf_checks(struct engine_prog *p, char **ret_err)
{
	struct lang_diag diag = { 0 };

	for (size_t i = 0; i < p->sem.nsites; i++) {
		enum output_fmt_kind kinds[SEM_MAX_FMT_ARGS];
		const struct sem_site *st = &p->sem.sites[i];
		int r;

		if (st->kind != REC_PRINTF)
			continue;
		for (size_t j = 0; j < st->nargs; j++)
			kinds[j] = st->args[j].t.k == ST_STR ? TG_FMT_STR :
				   st->args[j].t.k == ST_TEXT && st->args[j].t.text == TX_BUF ? TG_FMT_BUF :
				   st->args[j].t.k == ST_TEXT ? TG_FMT_TEXT :
				   st->args[j].t.sign ? TG_FMT_INT : TG_FMT_UINT;
		r = output_printf_check(st->fmt, kinds, st->nargs, diag.msg, sizeof(diag.msg));
		if (r < 0) {
			diag.loc = st->loc;
			diag_err(&p->o, &diag, ret_err);
			return r;
		}
	}
	return 0;
}

/* The bytes `probe` needs for the longest name of the plan (with its
 * NUL, rounded to 8), at most SEM_MAX_PROBE_SLEN: sema sizes the
 * builtin's string to it */
static uint32_t probe_name_bytes(const struct plan *pl)
{
	size_t max = 0;

	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_prog *pp = &pl->progs[i];

		max = MAX(max, strlen(pp->name));
		for (size_t k = 0; pp->kind == PK_TRACEPOINT && k < pp->ntps; k++)
			max = MAX(max, strlen("tracepoint:") + strlen(pp->tps[k]));
	}
	return sem_round8((uint32_t)MIN(max + 1, SEM_MAX_PROBE_SLEN));
}

int engine_prepare(const struct engine_opts *o, const struct engine_sink *sink, void *ctx,
		   struct engine_prog **ret, char **ret_err)
{
	struct engine_prog *p = NULL;
	struct lang_diag diag = { 0 };
	int r;

	*ret_err = NULL;
	*ret = NULL;
	if (!o || !OPTS_VALID(o, struct engine_opts) || !OPTS_VALID(o->limits, struct engine_limits) || !o->program) {
		set_err(ret_err, "engine: bad options");
		return -EINVAL;
	}
	if (o->program_len > TG_MAX_SOURCE_BYTES) {
		set_err(ret_err, "program: %zu bytes, more than the limit of %u", o->program_len,
			TG_MAX_SOURCE_BYTES);
		return -TG_ELIMIT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *o;
	p->max_entries = ENGINE_DEFAULT_MAP_ENTRIES;
	if (o->limits && o->limits->max_map_entries)
		p->max_entries = o->limits->max_map_entries;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		set_err(ret_err, "cpus: cannot count possible CPUs");
		r = -EIO;
		goto fail;
	}

	o = &p->o;
	{
		struct lang_parse_opts po = { .sz = sizeof(po), .params = o->params, .nparams = o->nparams };

		r = lang_program_parse_opts(o->program, o->program_len, &po, &p->prog, &diag);
	}
	if (r < 0) {
		diag_err(o, &diag, ret_err);
		goto fail;
	}
	if (o->canonical) {
		/* run exactly the form the gateway decided on, or nothing */
		_cleanup_free_ char *text = NULL;
		char sha[65];

		r = lang_program_canonical(p->prog, &text, sha);
		if (r < 0)
			goto fail;
		if (strcmp(text, o->canonical)) {
			set_err(ret_err, "program: once parsed it is not the form that was decided on "
				"(canonical SHA-256 %s); refused", sha);
			r = -TG_EPOLICY;
			goto fail;
		}
	}
	r = ktype_includes_check(p->prog, &diag);
	if (r < 0) {
		diag_err(o, &diag, ret_err);
		goto fail;
	}
	r = plan_build_scoped(p->prog, o->scope, o->tp_fields != NULL, &p->pl, &diag);
	if (r < 0) {
		diag_err(o, &diag, ret_err);
		goto fail;
	}
	for (size_t i = 0; i < p->pl.nwarnings; i++)
		if (sink && sink->warning)
			sink->warning(ctx, p->pl.warnings[i]);
	/* tracepoint fields the policy refuses, against this node's formats */
	for (size_t k = 0; o->tp_fields && k < p->pl.n; k++) {
		if (p->pl.progs[k].kind != PK_TRACEPOINT)
			continue;
		r = tp_fields_check(o->tp_fields, &p->prog->probes[p->pl.progs[k].probe],
				    &p->pl.progs[k].tp, &diag);
		if (r < 0) {
			diag_err(o, &diag, ret_err);
			goto fail;
		}
	}
	r = guard_plan_scope(p->prog, &p->pl, o->scope != NULL, &diag);
	if (r < 0) {
		diag_err(o, &diag, ret_err);
		goto fail;
	}
	p->sem.cpid = (uint64_t)(o->cpid > 0 ? o->cpid : 0);
	p->sem.probe_slen = probe_name_bytes(&p->pl);
	r = sem_analyse_in(&p->sem, p->prog, p->pl.probe_tp, o->params, o->nparams, o->cache_dir, &diag);
	if (r < 0) {
		diag_err(o, &diag, ret_err);
		goto fail;
	}
	r = printf_checks(p, ret_err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < p->prog->nprobes; i++)
		if (!p->sem.probes[i].uses_args)
			plan_share(&p->pl, i);
	r = scope_levels(o->scope, p->levels, &p->nlevels, ret_err);
	if (r < 0)
		goto fail;
	if (o->scope && p->nlevels == 1 && o->scope->n <= CG_SCOPE_FAST)
		p->nfast = o->scope->n;
	r = cap_entries_by_bytes(&p->sem, o->limits, p->ncpus, &p->max_entries, ret_err);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	engine_prog_free(p);
	if (!*ret_err)
		set_err(ret_err, "engine: %s", tg_strerror(r));
	return r;
}

/* ---- compile: code generation and clang, in the compile jail ------------ */

/* In the jailed child (runner/jail.h): the generated C, or on failure the
 * diagnostic as bytes, for the parent to format. */
static int generate_jailed(void *ctx, struct buf *out)
{
	struct engine_prog *p = ctx;
	struct cg_opts co = { .sz = sizeof(co), .levels = p->o.scope ? p->levels : NULL,
			      .nlevels = p->nlevels, .max_map_entries = p->max_entries,
			      .ringbuf_bytes = ENGINE_RINGBUF_BYTES, .nfast = p->nfast,
			      .ncpus = p->ncpus > 0 ? (uint32_t)p->ncpus : 1 };
	struct lang_diag diag = { 0 };
	char *src = NULL;
	int r;

	r = cg_generate(&p->sem, &p->pl, &co, &src, &diag);
	if (r < 0) {
		buf_add(out, &diag, sizeof(diag));
		return r;
	}
	r = buf_add(out, src, strlen(src));
	free(src);
	if (r < 0)
		buf_clear(out);
	return r;
}

/*
 * The memo key (runner/compile.h): everything code generation reads, so
 * that a repeated program finds its object without generating its C
 * again (which, in the jail, costs a fork: milliseconds on a busy node).
 * Code generation is a function of the analysed program, the plan and its
 * options; analysis of the program text, the parameters, the tracepoint
 * formats (in the plan), kernel BTF and clang (the preamble's types).  So
 * the key holds this runner binary (a new one generates differently), the
 * compile identity (clang, BTF, usdt header), the program text as parsed,
 * the parameters, the options and every field of the plan.  A field added
 * to struct plan_prog, struct tp_format or struct cg_opts belongs here.
 */
struct memo {
	struct buf b;
	bool bad;                   /* not written whole: never used */
};

static void memo_add(struct memo *b, const void *d, size_t len)
{
	uint64_t l = len;

	if (buf_add(&b->b, &l, sizeof(l)) < 0 || buf_add(&b->b, d, len) < 0)
		b->bad = true;
}

static void memo_str(struct memo *b, const char *s)
{
	memo_add(b, s ? s : "", s ? strlen(s) + 1 : 0);
}

static void memo_u64(struct memo *b, uint64_t v)
{
	memo_add(b, &v, sizeof(v));
}

static int memo_key(const struct engine_prog *p, char out[65])
{
	struct memo b = { .b = BUF_INIT(TG_MAX_SOURCE_BYTES * 4 + (16u << 20)) };
	struct stat st;
	int r;

	if (stat("/proc/self/exe", &st) < 0)
		return -errno;
	memo_str(&b, "tracegate-memo 1");
	memo_u64(&b, (uint64_t)st.st_dev);
	memo_u64(&b, (uint64_t)st.st_ino);
	memo_u64(&b, (uint64_t)st.st_size);
	memo_u64(&b, (uint64_t)st.st_mtim.tv_sec);
	memo_u64(&b, (uint64_t)st.st_mtim.tv_nsec);
	r = compile_identity(&b.b);
	if (r < 0) {
		buf_release(&b.b);
		return r;
	}
	memo_add(&b, p->o.program, p->o.program_len);
	memo_u64(&b, p->o.nparams);
	for (size_t i = 0; i < p->o.nparams; i++)
		memo_str(&b, p->o.params[i]);
	memo_u64(&b, p->o.scope != NULL);
	memo_u64(&b, p->sem.cpid);      /* "cpid" is a constant in the code */
	memo_u64(&b, p->nlevels);
	for (size_t i = 0; i < p->nlevels; i++)
		memo_u64(&b, (uint64_t)p->levels[i]);
	memo_u64(&b, p->nfast);
	memo_u64(&b, p->max_entries);
	memo_u64(&b, ENGINE_RINGBUF_BYTES);
	memo_u64(&b, p->pl.n);
	for (size_t k = 0; k < p->pl.n; k++) {
		const struct plan_prog *pp = &p->pl.progs[k];

		memo_u64(&b, pp->kind);
		memo_u64(&b, pp->probe);
		memo_str(&b, pp->fn);
		memo_str(&b, pp->section);
		memo_str(&b, pp->name);
		memo_u64(&b, pp->ntps);
		for (size_t i = 0; i < pp->ntps; i++)
			memo_str(&b, pp->tps[i]);
		memo_str(&b, pp->tp.category);
		memo_str(&b, pp->tp.name);
		memo_u64(&b, pp->tp.n);
		for (size_t i = 0; i < pp->tp.n; i++) {
			const struct tp_field *f = &pp->tp.fields[i];

			memo_str(&b, f->name);
			memo_str(&b, f->type);
			memo_u64(&b, f->kind);
			memo_u64(&b, f->offset);
			memo_u64(&b, f->size);
			memo_u64(&b, f->is_signed);
			memo_u64(&b, f->char_ptr);
		}
		memo_u64(&b, pp->perf_type);
		memo_u64(&b, pp->perf_config);
		memo_u64(&b, pp->period);
		memo_u64(&b, pp->freq);
		memo_u64(&b, pp->one_cpu);
		/* a pod's file is an open descriptor: its identity, not the
		 * /proc/self/fd/N it is attached through */
		if (pp->fd >= 0 && fstat(pp->fd, &st) == 0) {
			memo_u64(&b, (uint64_t)st.st_dev);
			memo_u64(&b, (uint64_t)st.st_ino);
			memo_u64(&b, (uint64_t)st.st_size);
			memo_u64(&b, (uint64_t)st.st_mtim.tv_sec);
			memo_u64(&b, (uint64_t)st.st_mtim.tv_nsec);
		} else {
			memo_str(&b, pp->path);
		}
		memo_str(&b, pp->func);
		memo_str(&b, pp->provider);
		memo_u64(&b, pp->offset);
		memo_u64(&b, pp->resolved);
	}
	if (!b.bad)
		sha256_hex(b.b.s, b.b.len, out);
	buf_release(&b.b);
	return b.bad ? -E2BIG : 0;
}

int engine_compile(struct engine_prog *p, struct compile_result *ret, char **ret_err)
{
	_cleanup_buf_ struct buf src = BUF_INIT(CG_MAX_SOURCE + 1);
	struct compile_opts co = { .sz = sizeof(co), .cache_dir = p->o.cache_dir };
	struct jail_opts jo;
	struct jail_status st;
	char memo[65];
	bool memo_ok;
	_cleanup_close_ int lock = -1;
	int code = 0, r;

	*ret_err = NULL;
	memset(ret, 0, sizeof(*ret));
	if (p->o.jail) {
		jo = *p->o.jail;
	} else {
		r = jail_opts_from_env(&jo, ret_err);
		if (r < 0)
			return r;
	}
	/* a stopped session (client gone, SIGTERM) stops its compile too */
	if (jo.cancel_fd < 0)
		jo.cancel_fd = p->o.stop_fd;
	co.jail = &jo;
	memo_ok = memo_key(p, memo) == 0;
	if (memo_ok && compile_memo_lookup(&co, memo, ret) == 0)
		return 0;
	if (memo_ok) {
		/* another session may be compiling the same program: wait for
		 * it (at most one compile's time) and take its object */
		lock = compile_memo_lock(&co, memo, jo.cancel_fd, jo.lim.wall_ms + 1000);
		if (lock == -ECANCELED)
			return tg_fail(ret_err, -ECANCELED, "compile: the session was stopped");
		if (lock >= 0 && compile_memo_lookup(&co, memo, ret) == 0)
			return 0;
	}
	r = jail_call(&jo, generate_jailed, p, CG_MAX_SOURCE + 1, &src, &code, &st, ret_err);
	if (r < 0)
		return r;
	if (code < 0) {
		struct lang_diag diag;

		if (src.len != sizeof(diag))
			return tg_fail(ret_err, code, "code generation: %s", tg_strerror(code));
		memcpy(&diag, src.s, sizeof(diag));
		diag.msg[sizeof(diag.msg) - 1] = '\0';
		diag_err(&p->o, &diag, ret_err);
		return code;
	}
	if (memchr(src.s, '\0', src.len))
		return tg_fail(ret_err, -EIO, "code generation: a NUL byte in the generated C");
	if (getenv("TRACEGATE_DUMP_C"))
		write_file_atomic(getenv("TRACEGATE_DUMP_C"), src.s, src.len, 0600);
	r = compile_bpf_opts(&co, src.s, src.len, ret, ret_err);
	if (r >= 0 && memo_ok)
		compile_memo_store(&co, memo, ret);
	return r;
}

/* ---- execute: verify, load, attach, run (privileged) -------------------- */

/* Only this, privileged, process reads what clang wrote: the object is
 * checked, then reported "compiled" */
static int execute_verify(struct engine_prog *p, const struct compile_result *cr, struct run *run,
			  char **ret_err)
{
	const struct engine_opts *o = &p->o;
	struct verify_opts vo = { .sz = sizeof(vo), .allowed_helpers = o->allowed_helpers,
				  .require_scope = o->scope != NULL, .scope_map = "tg_scope" };
	int r;

	r = verify_object(cr->obj, cr->len, &vo, ret_err);
	if (r < 0)
		return r;
	return status(run, "compiled", json_pack("{s:I, s:s, s:b}", "probes",
						 (json_int_t)probe_count(&p->pl), "object", cr->hash,
						 "cached", cr->cached));
}

/* A scoped run's guard reads the kernel's layout: globals 2, 3 and 4 */
static int execute_kernel_layout(struct loader_global *globals, char **ret_err)
{
	struct guard_kernel k;
	int r;

	r = guard_kernel_layout(NULL, &k, ret_err);
	if (r < 0)
		return r;
	globals[2].value = k.thread_size;
	globals[3].value = k.rq_off;
	globals[4].value = k.pc_off;
	return 0;
}

/* Before BEGIN: the scope map filled and frozen, tg_start the run's start */
static int execute_arm(const struct engine_opts *o, struct loader *ld, char **ret_err)
{
	uint32_t z = 0;
	struct timespec ts;
	uint64_t ns;
	int r;

	if (o->scope) {
		r = loader_set_scope(ld, o->scope, ret_err);
		if (r < 0)
			return r;
		/* read-only from user space from now on: the sandbox must let
		 * the session update its own maps, and this one must not widen */
		if (bpf_map_freeze(loader_map_fd(ld, "tg_scope")) < 0) {
			r = -errno;
			set_err(ret_err, "scope map: cannot freeze: %s", strerror(-r));
			return r;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	bpf_map_update_elem(loader_map_fd(ld, "tg_start"), &z, &ns, BPF_ANY);
	return 0;
}

/* Every probe but BEGIN and END, with "attaching" progress, then the
 * guard's interval timers; a stop while attaching is the run's end */
static int execute_attach(struct engine_prog *p, struct run *run, struct loader *ld, char **ret_err)
{
	const struct engine_opts *o = &p->o;
	int r;

	ld->scope = o->scope;
	if (!o->scope)
		ld->pid = o->pid;
	ld->progress = progress_cb;
	ld->progress_ctx = run;
	run->attach_total = attach_count(&p->pl);
	run->progress_ns = now_mono_ns();
	r = status(run, "attaching", json_pack("{s:I, s:I}", "done", (json_int_t)0,
					       "probes", (json_int_t)run->attach_total));
	if (r >= 0)
		r = loader_attach(ld, &p->pl, warn_cb, run);
	ld->progress = NULL;
	if (r == -ECANCELED) {
		/* stopped while attaching: what is attached is detached at the end */
		run->stop = true;
		run->reason = "stop";
		r = 0;
	}
	if (r < 0) {
		set_err(ret_err, "attach: %s", strerror(-r));
		return r;
	}
	for (size_t k = 0; k < p->pl.n && r >= 0; k++) {
		struct bpf_program *bp;

		if (!guard_is_timer(&p->pl.progs[k]))
			continue;
		bp = bpf_object__find_program_by_name(ld->obj, p->pl.progs[k].fn);
		r = guard_timers_add(&run->timers, bp ? bpf_program__fd(bp) : -1,
				     p->pl.progs[k].period, ret_err);
	}
	if (r < 0)
		return r;
	if (!ld->attached && !run->timers.n && !run->stop) {
		set_err(ret_err, "program: none of its probes could be attached");
		return -TG_ENOATTACH;
	}
	return 0;
}

/* The end, as bpftrace's: what the ring buffer holds, every probe
 * detached, END, then every map in the order of the names */
static int execute_end(struct engine_prog *p, struct run *run, struct loader *ld, struct ring_buffer *rb,
		       char **ret_err)
{
	const struct sem_map *sorted[SEM_MAX_MAPS];
	bool stopped;
	int r;

	/* what came before the end, unless the reader is behind: then the
	 * programs go first, and what the ring buffer holds is read after */
	if (!run->sink->backlog || run->sink->backlog(run->ctx) < 0)
		consume(run, rb);
	guard_timers_release(&run->timers);
	loader_detach(ld);
	drain(run, rb);
	/* END runs after every other program is detached, as in bpftrace */
	stopped = run->stop;
	run->stop = false;
	r = loader_run_once(ld, ld->end_fd, ret_err);
	if (r < 0)
		return r;
	drain(run, rb);
	run->stop = run->stop || stopped;
	for (size_t i = 0; i < p->sem.nmaps; i++)
		sorted[i] = &p->sem.maps[i];
	qsort(sorted, p->sem.nmaps, sizeof(sorted[0]), cmp_map_name);
	for (size_t i = 0; i < p->sem.nmaps && !run->err; i++) {
		r = emit_map(run, sorted[i], false, 0, 0);
		if (r < 0)
			run->err = r;
	}
	if (run->err) {
		r = run->err;
		set_err(ret_err, "maps: %s", strerror(-r));
		return r;
	}
	return 0;
}

int engine_execute(struct engine_prog *p, const struct compile_result *cr, const struct engine_sink *sink,
		   void *ctx, struct engine_result *res, char **ret_err)
{
	const struct engine_opts *o = &p->o;
	struct loader ld;
	struct ring_buffer *rb = NULL;
	size_t real = 0;
	struct run run = { .o = o, .sink = sink, .ctx = ctx, .res = res, .sem = &p->sem, .ld = &ld,
			   .ncpus = p->ncpus, .max_entries = p->max_entries };
	uint64_t deadline = 0, dur;
	struct loader_global globals[5 + CG_SCOPE_FAST] = { { "tg_rate_cost", 0, 0 }, { "tg_rate_cap", 0, 0 },
							     { "tg_thread_size", 0, 0 }, { "tg_rq_off", 0, 0 },
							     { "tg_pc_off", 0, 0 } };
	size_t nglobals = 5;
	int r;

	*ret_err = NULL;
	memset(res, 0, sizeof(*res));
	loader_init(&ld);
	guard_timers_init(&run.timers);
	snprintf(res->reason, sizeof(res->reason), "error");
	for (size_t i = 0; i < p->nfast; i++)
		globals[nglobals++] = (struct loader_global){ "tg_scope_fast", o->scope->targets[i].cgid,
							      (uint32_t)i };
	r = execute_verify(p, cr, &run, ret_err);
	if (r < 0)
		goto out;
	if (o->scope) {
		r = execute_kernel_layout(globals, ret_err);
		if (r < 0)
			goto out;
	}
	if (o->dry_run) {
		/* a check: everything the run does before the load */
		snprintf(res->reason, sizeof(res->reason), "checked");
		r = 0;
		goto out;
	}
	guard_rate_params(o->limits ? o->limits->events_per_second : 0, run.ncpus,
			  &globals[0].value, &globals[1].value);
	ld.globals = globals;
	ld.nglobals = nglobals;
	/* run-time stats cost every event (docs/performance.md): only for a budget */
	ld.run_stats = o->limits && o->limits->cpu_budget > 0;
	r = loader_load(&ld, cr->obj, cr->len, ret_err);
	if (r < 0)
		goto out;
	values_init(&run.vals, &p->sem, &ld);
	if (o->load_only) {
		/* every program passed the kernel verifier; nothing attaches */
		r = status(&run, "loaded", loaded_details(&p->pl));
		if (r < 0)
			goto out;
		snprintf(res->reason, sizeof(res->reason), "loaded");
		goto out;
	}
	r = execute_arm(o, &ld, ret_err);
	if (r < 0)
		goto out;
	rb = ring_buffer__new(loader_map_fd(&ld, "tg_events"), on_record, &run, NULL);
	if (!rb) {
		r = -errno;
		set_err(ret_err, "ring buffer: cannot set up: %s", strerror(-r));
		goto out;
	}
	dur = o->duration_ns;
	if (o->limits && o->limits->max_duration_ns && (!dur || o->limits->max_duration_ns < dur))
		dur = o->limits->max_duration_ns;
	run.pending = json_array();
	if (!run.pending) {
		r = -ENOMEM;
		goto out;
	}
	r = loader_run_once(&ld, ld.begin_fd, ret_err);
	if (r < 0)
		goto out;
	drain(&run, rb);
	for (size_t k = 0; k < p->pl.n; k++)
		if (p->pl.progs[k].kind != PK_BEGIN && p->pl.progs[k].kind != PK_END)
			real++;
	if (!run.stop && !run.err && real) {
		r = execute_attach(p, &run, &ld, ret_err);
		if (r < 0)
			goto out;
	}
	if (o->after_attach) {
		r = o->after_attach(o->after_attach_ctx, ret_err);
		if (r < 0)
			goto out;
	}
	if (o->hold && p->sem.uses_user_syms)
		o->hold(o->hold_ctx);
	r = status(&run, "attached", json_pack("{s:I}", "probes", (json_int_t)probe_count(&p->pl)));
	if (r >= 0)
		r = flush_pending(&run);
	if (r < 0)
		goto out;
	if (dur)
		deadline = now_mono_ns() + dur;
	if (!real && !run.stop && !o->run_until_stopped)
		run.reason = "end";
	else if (!run.stop)
		r = loop(&run, rb, deadline);
	if (run.timer_err) {
		*ret_err = run.timer_err;
		run.timer_err = NULL;
		goto out;
	}
	if (r < 0 || run.err) {
		r = r < 0 ? r : run.err;
		set_err(ret_err, "output: %s", strerror(-r));
		goto out;
	}
	r = execute_end(p, &run, &ld, rb, ret_err);
	if (r < 0)
		goto out;
	snprintf(res->reason, sizeof(res->reason), "%s", run.reason ? run.reason : "stop");
	r = 0;
out:
	if (run.pending)
		pending_uncount(&run, run.pending, 0);
	if (ld.obj) {
		res->cpu_ns = loader_run_time_ns(&ld);
		res->drops += percpu_counter(&run, "tg_drops");
		res->map_drops = percpu_counter(&run, "tg_mdrops");
	}
	json_decref(run.pending);
	values_release(&run.vals);
	ring_buffer__free(rb);
	guard_timers_release(&run.timers);
	free(run.timer_err);
	/* the tracepoints' perf events outlive the run: closing them is slow
	 * (loader.h), the caller does it after its output */
	loader_detach(&ld);
	loader_take_events(&ld, &res->held_fds, &res->nheld_fds);
	loader_release(&ld);
	if (r < 0 && !*ret_err)
		set_err(ret_err, "engine: %s", tg_strerror(r));
	return r;
}

void engine_result_release(struct engine_result *res)
{
	for (size_t i = 0; i < res->nheld_fds; i++)
		close(res->held_fds[i]);
	free(res->held_fds);
	res->held_fds = NULL;
	res->nheld_fds = 0;
}

int engine_run(const struct engine_opts *o, const struct engine_sink *sink, void *ctx,
	       struct engine_result *res, char **ret_err)
{
	struct engine_prog *p = NULL;
	struct compile_result cr = { 0 };
	int r;

	*ret_err = NULL;
	memset(res, 0, sizeof(*res));
	snprintf(res->reason, sizeof(res->reason), "error");
	r = engine_prepare(o, sink, ctx, &p, ret_err);
	if (r < 0)
		return r;
	r = engine_compile(p, &cr, ret_err);
	if (r >= 0)
		r = engine_execute(p, &cr, sink, ctx, res, ret_err);
	free(cr.obj);
	engine_prog_free(p);
	if (r < 0 && !*ret_err)
		set_err(ret_err, "engine: %s", tg_strerror(r));
	return r;
}
