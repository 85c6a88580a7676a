// SPDX-License-Identifier: Apache-2.0
/* Formatting of raw BPF values in user space (see values.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "output/output.h"
#include "runner/loader.h"
#include "runner/syms.h"
#include "runner/values.h"
#include "lib/banned.h"

void values_init(struct values *v, const struct sem *s, const struct loader *ld)
{
	memset(v, 0, sizeof(*v));
	v->sem = s;
	v->ld = ld;
}

void values_release(struct values *v)
{
	syms_kernel_free(v->kernel);
	syms_user_cache_free(v->user);
	memset(v, 0, sizeof(*v));
}

static const struct syms_kernel *kernel(struct values *v)
{
	if (!v->kernel_tried) {
		v->kernel_tried = true;
		if (syms_kernel_load(&v->kernel, NULL) < 0)
			v->kernel = NULL;
	}
	return v->kernel;
}

static struct syms_user_cache *user(struct values *v)
{
	if (!v->user)
		v->user = syms_user_cache_new();
	return v->user;
}

static int stack(struct values *v, const struct sem_type *t, int64_t id, int pid, bool in_key,
		 struct buf *out)
{
	uint64_t ips[SEM_STACK_FRAMES] = { 0 };
	struct syms_stack_opts so = {
		.sz = sizeof(so),
		.mode = t->stack_perf ? SYMS_STACK_PERF : SYMS_STACK_BPFTRACE,
		.user = t->text == TX_USTACK,
		.pid = pid,
		.indent = in_key ? 4 : 8,
		.kernel = kernel(v),
		.ucache = user(v),
	};
	char name[16];
	uint32_t key = (uint32_t)id;
	size_t n = t->arg && t->arg <= SEM_STACK_FRAMES ? t->arg : SEM_STACK_FRAMES;
	int fd;

	snprintf(name, sizeof(name), "tg_st%zu", n);
	fd = v->ld ? loader_map_fd(v->ld, name) : -1;
	/* a negative id is a failed bpf_get_stackid: an empty stack */
	if (id < 0 || fd < 0 || bpf_map_lookup_elem(fd, &key, ips) < 0)
		n = 0;
	if (so.user && !so.ucache)
		return -ENOMEM;
	return syms_format_stack(out, ips, n, &so);
}

/*
 * username: the name /etc/passwd gives the uid, else the number, as
 * bpftrace 0.17 does (it reads the file too).  Reading the file ourselves
 * rather than through NSS keeps the session sandbox tight: getpwuid()
 * would load NSS modules and talk to nscd/systemd-userdb over sockets.
 * The file is read once per process (at most VALUES_PASSWD_MAX bytes).
 */
#define VALUES_PASSWD_MAX (4u << 20)
static char *passwd_text;
static size_t passwd_len;
static bool passwd_loaded;

static bool passwd_lookup(uint64_t uid, const char **ret_name, size_t *ret_len)
{
	const char *p, *end;

	if (!passwd_loaded) {
		passwd_loaded = true;
		if (read_file("/etc/passwd", VALUES_PASSWD_MAX, &passwd_text, &passwd_len) < 0)
			passwd_text = NULL;
	}
	if (!passwd_text)
		return false;
	for (p = passwd_text, end = passwd_text + passwd_len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *line_end = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(line_end - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(line_end - c1 - 1)) : NULL;
		const char *c3 = c2 ? memchr(c2 + 1, ':', (size_t)(line_end - c2 - 1)) : NULL;

		if (c3 && c3 > c2 + 1 && c1 > p) {
			uint64_t v = 0;
			bool digits = true;

			for (const char *q = c2 + 1; q < c3 && digits; q++) {
				digits = *q >= '0' && *q <= '9' && v <= UINT32_MAX;
				v = v * 10 + (uint64_t)(*q - '0');
			}
			if (digits && v == uid) {
				*ret_name = p;
				*ret_len = (size_t)(c1 - p);
				return true;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return false;
}

static int username(uint64_t uid, struct buf *out)
{
	const char *name;
	size_t len;

	if (passwd_lookup(uid, &name, &len))
		return buf_add(out, name, len);
	return buf_printf(out, "%" PRIu64, uid);
}

static void read_int(const uint8_t *p, const struct sem_type *et, uint64_t *ret_u, int64_t *ret_s)
{
	uint64_t u = 0;
	int64_t s = 0;

	switch (et->size) {
	case 1: { uint8_t x; memcpy(&x, p, 1); u = x; s = (int8_t)x; break; }
	case 2: { uint16_t x; memcpy(&x, p, 2); u = x; s = (int16_t)x; break; }
	case 4: { uint32_t x; memcpy(&x, p, 4); u = x; s = (int32_t)x; break; }
	default: memcpy(&u, p, 8); s = (int64_t)u; break;
	}
	*ret_u = u;
	*ret_s = s;
}

/* ---- struct, union and array values (TX_MEMVAL) -------------------------
 * As bpftrace 0.17 prints them: { .a = 1, .in = { .b = 2 }, .name = pt },
 * as a map key {.a=1,.in={.b=2},.name=pt}, arrays [1,2], char arrays as their bytes up to the NUL, a char or a
 * pointer member as an integer (a pointer signed, 0.17's int64); with
 * json, objects { "a": 1, "name": "pt" } (their members in order: they
 * are built as jansson objects, which keep insertion order). */
struct memfmt {
	struct values *v;
	const uint8_t *raw;    /* the value's first byte */
	uint32_t size;         /* its bytes */
	struct buf *out;       /* text, or */
	json_t *obj;           /* json: the object members go into */
	bool compact;          /* text of a map key: {.a=1,.in={.b=2}} */
};

static int mem_text(struct memfmt *f, struct ktype_ref ref, uint64_t bit_off, uint32_t bitfield,
		    int depth, json_t **ret_json);

static int mem_int(struct memfmt *f, const struct ktype_info *in, uint64_t bit_off, uint32_t bitfield,
		   int64_t *ret_s, uint64_t *ret_u, bool *ret_sign)
{
	uint64_t byte = bit_off / 8, u = 0;
	uint32_t n = in->k == KK_PTR ? 8 : in->size;

	if (n > 8 || byte + (bitfield ? (bit_off % 8 + bitfield + 7) / 8 : n) > f->size)
		return -EINVAL;
	if (bitfield) {
		uint32_t nb = (uint32_t)((bit_off % 8 + bitfield + 7) / 8);

		memcpy(&u, f->raw + byte, MIN(nb, 8u));
		u = (u >> (bit_off % 8)) & (bitfield >= 64 ? UINT64_MAX : (UINT64_C(1) << bitfield) - 1);
		*ret_u = u;
		*ret_s = (int64_t)u;
		*ret_sign = false;
		return 0;
	}
	memcpy(&u, f->raw + byte, n);
	*ret_sign = in->k == KK_PTR || in->sign;
	*ret_u = u;
	*ret_s = n < 8 && *ret_sign && (u >> (n * 8 - 1)) & 1 ? (int64_t)(u | (UINT64_MAX << (n * 8))) : (int64_t)u;
	return 0;
}

struct mem_member {
	struct memfmt *f;
	uint64_t base;         /* bits */
	int depth;
	bool first;
	json_t *obj;
};

static int mem_member_one(void *ctx, const char *name, const struct ktype_member *m)
{
	struct mem_member *mm = ctx;
	struct memfmt *f = mm->f;
	json_t *j = NULL;
	struct ktype_info in;
	int r;

	/* an anonymous struct or union: its members are the parent's */
	if (!*name && ktype_resolve(f->v->sem->kt, m->type, &in) == 0 &&
	    (in.k == KK_STRUCT || in.k == KK_UNION)) {
		struct mem_member inner = *mm;

		inner.base = mm->base + m->bit_off;
		inner.depth = mm->depth + 1;
		if (inner.depth > KTYPE_MAX_DEPTH)
			return -ELOOP;
		r = ktype_each_member(f->v->sem->kt, m->type, mem_member_one, &inner);
		mm->first = inner.first;
		return r;
	}
	if (f->out) {
		r = buf_printf(f->out, f->compact ? "%s.%s=" : "%s.%s = ",
			       mm->first ? "" : f->compact ? "," : ", ", name);
		mm->first = false;
		if (r < 0)
			return r;
	}
	r = mem_text(f, m->type, mm->base + m->bit_off, m->bitfield, mm->depth + 1, f->out ? NULL : &j);
	if (r < 0 || f->out)
		return r;
	return json_object_set_new(mm->obj, name, j) < 0 ? -ENOMEM : 0;
}

static int mem_text(struct memfmt *f, struct ktype_ref ref, uint64_t bit_off, uint32_t bitfield,
		    int depth, json_t **ret_json)
{
	struct ktype_info in;
	int r;

	if (depth > KTYPE_MAX_DEPTH)
		return -ELOOP;
	r = ktype_resolve(f->v->sem->kt, ref, &in);
	if (r < 0)
		return r;
	switch (in.k) {
	case KK_INT:
	case KK_ENUM:
	case KK_PTR: {
		int64_t sv;
		uint64_t uv;
		bool sign;

		r = mem_int(f, &in, bit_off, bitfield, &sv, &uv, &sign);
		if (r < 0)
			return r;
		if (ret_json)
			return (*ret_json = json_integer(sign ? (json_int_t)sv : (json_int_t)uv)) ? 0 : -ENOMEM;
		return sign ? buf_printf(f->out, "%" PRId64, sv) : buf_printf(f->out, "%" PRIu64, uv);
	}
	case KK_STRUCT:
	case KK_UNION: {
		struct mem_member mm = { .f = f, .base = bit_off, .depth = depth, .first = true };

		if (ret_json) {
			mm.obj = json_object();
			if (!mm.obj)
				return -ENOMEM;
			r = ktype_each_member(f->v->sem->kt, ref, mem_member_one, &mm);
			if (r < 0) {
				json_decref(mm.obj);
				return r;
			}
			*ret_json = mm.obj;
			return 0;
		}
		r = buf_adds(f->out, f->compact ? "{" : "{ ");
		if (r >= 0)
			r = ktype_each_member(f->v->sem->kt, ref, mem_member_one, &mm);
		return r < 0 ? r : buf_adds(f->out, f->compact ? "}" : " }");
	}
	case KK_ARRAY: {
		struct ktype_info el;
		uint64_t byte = bit_off / 8;
		_cleanup_(json_decrefp) json_t *a = NULL;

		r = ktype_resolve(f->v->sem->kt, in.target, &el);
		if (r < 0)
			return r;
		if (byte + in.size > f->size)
			return -EINVAL;
		if (el.k == KK_INT && el.size == 1 && el.is_char) {
			const char *p = (const char *)f->raw + byte;
			size_t n = strnlen(p, in.size);

			if (ret_json)
				return (*ret_json = output_json_text(p, n)) ? 0 : -ENOMEM;
			return buf_add(f->out, p, n);
		}
		if (ret_json && !(a = json_array()))
			return -ENOMEM;
		r = ret_json ? 0 : buf_addc(f->out, '[');
		/* elements of no size print nothing: they cannot be told apart */
		for (uint32_t i = 0; el.size && i < in.nelems && r >= 0; i++) {
			json_t *e = NULL;

			if (!ret_json && i)
				r = buf_addc(f->out, ',');
			if (r >= 0)
				r = mem_text(f, in.target, bit_off + (uint64_t)i * el.size * 8, 0, depth + 1,
					     ret_json ? &e : NULL);
			if (r >= 0 && ret_json && json_array_append_new(a, e) < 0)
				r = -ENOMEM;
		}
		if (r < 0)
			return r;
		if (ret_json) {
			*ret_json = TAKE_PTR(a);
			return 0;
		}
		return buf_addc(f->out, ']');
	}
	default:
		/* void, a function, a forward declaration: sema refuses them */
		return -EINVAL;
	}
}

static int memval_format(struct values *v, const struct sem_type *t, const uint8_t *raw, bool in_key,
			 struct buf *out)
{
	struct memfmt f = { .v = v, .raw = raw, .size = t->slen, .out = out, .compact = in_key };

	if (!v->sem->kt)
		return -EINVAL;
	return mem_text(&f, t->ref, 0, 0, 0, NULL);
}

static json_t *memval_json(struct values *v, const struct sem_type *t, const uint8_t *raw)
{
	struct memfmt f = { .v = v, .raw = raw, .size = t->slen };
	json_t *j = NULL;

	if (!v->sem->kt || mem_text(&f, t->ref, 0, 0, 0, &j) < 0)
		return NULL;
	return j;
}

/* (1, str, (2, 3)): integers by their size and sign, strings up to
 * their NUL, other values as they print alone (bpftrace 0.17). */
static int tuple(struct values *v, const struct sem_type *t, const uint8_t *raw, bool in_key,
		 struct buf *out)
{
	const struct sem_tuple *tu;
	int r;

	if (t->arg >= v->sem->ntuples)
		return -EINVAL;
	tu = &v->sem->tuples[t->arg];
	r = buf_addc(out, '(');
	for (size_t i = 0; i < tu->n && r >= 0; i++) {
		const struct sem_type *et = &tu->elems[i];
		const uint8_t *p = raw + tu->off[i];

		if (i)
			r = buf_adds(out, ", ");
		if (r < 0)
			break;
		if (et->k == ST_INT) {
			uint64_t u;
			int64_t s;

			read_int(p, et, &u, &s);
			r = et->sign ? buf_printf(out, "%" PRId64, s) : buf_printf(out, "%" PRIu64, u);
		} else if (et->k == ST_STR) {
			r = buf_add(out, p, strnlen((const char *)p, et->slen));
		} else {
			r = values_format(v, et, p, in_key, out);
		}
	}
	return r < 0 ? r : buf_addc(out, ')');
}

int values_format(struct values *v, const struct sem_type *t, const uint8_t *raw, bool in_key,
		  struct buf *out)
{
	uint64_t a = 0, b = 0;
	int r;

	if (t->text == TX_TUPLE)
		return tuple(v, t, raw, in_key, out);
	if (t->text == TX_MEMVAL)
		return memval_format(v, t, raw, in_key, out);
	memcpy(&a, raw, 8);
	if (t->slen >= 16)
		memcpy(&b, raw + 8, 8);
	switch (t->text) {
	case TX_KSYM:
		return syms_format_ksym(out, kernel(v), a, false);
	case TX_USYM:
		if (!user(v))
			return -ENOMEM;
		return syms_format_usym(out, v->user, (int)b, a, false, false);
	case TX_KSTACK:
	case TX_USTACK:
		return stack(v, t, (int64_t)a, (int)b, in_key, out);
	case TX_STRFTIME:
		if (!v->boot_known) {
			r = syms_boottime(&v->boot);
			if (r < 0)
				return r;
			v->boot_known = true;
		}
		if (t->arg >= v->sem->nstrs)
			return -EINVAL;
		return syms_format_strftime(out, v->sem->strs[t->arg], &v->boot, a);
	case TX_USERNAME:
		return username(a, out);
	case TX_BUF: {
		/* printable bytes as they are, others as \xNN (bpftrace 0.17) */
		uint64_t n = a < t->slen - 8u ? a : t->slen - 8u;

		for (uint64_t i = 0; i < n; i++) {
			uint8_t ch = raw[8 + i];

			r = ch >= 0x20 && ch < 0x7f ? buf_addc(out, (char)ch) : buf_printf(out, "\\x%02x", ch);
			if (r < 0)
				return r;
		}
		return 0;
	}
	case TX_INET: {
		char ip[INET6_ADDRSTRLEN];

		/* bpftrace prints an unknown family as an IPv4 address too */
		if (!inet_ntop(a == AF_INET6 ? AF_INET6 : AF_INET, raw + 8, ip, sizeof(ip)))
			return buf_adds(out, "");
		return buf_adds(out, ip);
	}
	case TX_CGPATH:
		if (t->arg > v->sem->nstrs)
			return -EINVAL;
		return syms_cgroup_path(out, a, t->arg ? v->sem->strs[t->arg - 1] : NULL, NULL);
	default:
		return -EINVAL;
	}
}

json_t *values_json(struct values *v, const struct sem_type *t, const uint8_t *raw)
{
	_cleanup_buf_ struct buf text = BUF_INIT(1u << 20);

	if (t->k == ST_INT) {
		uint64_t u;
		int64_t s;

		read_int(raw, t, &u, &s);
		return json_integer(t->sign ? (json_int_t)s : (json_int_t)u);
	}
	if (t->k == ST_STR)
		return output_json_text((const char *)raw, strnlen((const char *)raw, t->slen));
	if (sem_is_tuple(t)) {
		const struct sem_tuple *tu;
		_cleanup_(json_decrefp) json_t *a = json_array();

		if (t->arg >= v->sem->ntuples || !a)
			return NULL;
		tu = &v->sem->tuples[t->arg];
		for (size_t i = 0; i < tu->n; i++)
			if (json_array_append_new(a, values_json(v, &tu->elems[i], raw + tu->off[i])) < 0)
				return NULL;
		return TAKE_PTR(a);
	}
	if (t->k == ST_TEXT && t->text == TX_MEMVAL)
		return memval_json(v, t, raw);
	if (t->k != ST_TEXT || values_format(v, t, raw, false, &text) < 0)
		return NULL;
	return output_json_text(text.s, text.len);
}
