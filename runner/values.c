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

/* A string of bytes a traced program chose, made valid UTF-8 (U+FFFD for
 * each byte that is not) so that jansson takes it. */
static json_t *json_bytes(const char *s, size_t len)
{
	_cleanup_buf_ struct buf t = BUF_INIT(0);

	if (buf_add_utf8(&t, s, len) < 0)
		return NULL;
	return json_stringn(t.s, t.len);
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
		return json_bytes((const char *)raw, strnlen((const char *)raw, t->slen));
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
	if (t->k != ST_TEXT || values_format(v, t, raw, false, &text) < 0)
		return NULL;
	return json_bytes(text.s, text.len);
}
