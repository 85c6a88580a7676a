// SPDX-License-Identifier: Apache-2.0
/* Kernel and program types from BTF (see ktypes.h). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/ast.h"
#include "runner/compile.h"
#include "runner/ktypes.h"
#include "lib/banned.h"

#define KTYPE_MAX_DEFS       256
#define KTYPE_MAX_NAME       128
#define KTYPE_DUMP_CACHE     8

struct ktypes {
	struct btf *kernel;
	bool kernel_tried;
	struct btf *user;          /* the preamble's definitions */
	char **defs;               /* names they define: "struct X" */
	size_t ndefs;
	uint32_t used[KTYPE_MAX_USED];
	size_t nused;
};

/* Declarations already emitted for a set of kernel types, in this
 * process (a serving child compiles one program; exec and tests more). */
static struct {
	uint32_t *ids;
	size_t n;
	char *text;
} dump_cache[KTYPE_DUMP_CACHE];
static size_t dump_cache_next;

int ktype_new(struct ktypes **ret)
{
	struct ktypes *kt = calloc(1, sizeof(*kt));

	if (!kt)
		return -ENOMEM;
	*ret = kt;
	return 0;
}

struct ktypes *ktype_free(struct ktypes *kt)
{
	if (!kt)
		return NULL;
	btf__free(kt->kernel);
	btf__free(kt->user);
	for (size_t i = 0; i < kt->ndefs; i++)
		free(kt->defs[i]);
	free(kt->defs);
	free(kt);
	return NULL;
}

static struct btf *kernel(struct ktypes *kt)
{
	if (!kt->kernel_tried) {
		libbpf_print_fn_t old = libbpf_set_print(NULL);

		kt->kernel_tried = true;
		kt->kernel = btf__load_vmlinux_btf();
		libbpf_set_print(old);
		if (!kt->kernel)
			kt->kernel = NULL;
	}
	return kt->kernel;
}

static struct btf *src_btf(struct ktypes *kt, uint8_t src)
{
	return src == KTYPE_KERNEL ? kernel(kt) : src == KTYPE_USER ? kt->user : NULL;
}

static bool is_def(const struct ktypes *kt, const char *kw, const char *name)
{
	size_t kl = strlen(kw);

	for (size_t i = 0; i < kt->ndefs; i++)
		if (!strncmp(kt->defs[i], kw, kl) && kt->defs[i][kl] == ' ' &&
		    !strcmp(kt->defs[i] + kl + 1, name))
			return true;
	return false;
}

/* ---- the preamble -------------------------------------------------------- */

static void dump_printf(void *ctx, const char *fmt, va_list ap)
{
	struct buf *b = ctx;

	(void)buf_vprintf(b, fmt, ap);
}

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

/* Names the builtin prefix defines (bpftrace's clang sees stdint.h). */
static const char prefix[] =
	"typedef signed char int8_t; typedef unsigned char uint8_t;\n"
	"typedef short int16_t; typedef unsigned short uint16_t;\n"
	"typedef int int32_t; typedef unsigned int uint32_t;\n"
	"typedef long long int64_t; typedef unsigned long long uint64_t;\n"
	"typedef unsigned long size_t; typedef long ssize_t;\n"
	"#define BPFTRACE_HAVE_BTF 1\n";

static bool prefix_name(const char *w, size_t n)
{
	static const char *const names[] = {
		"int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t",
		"uint64_t", "size_t", "ssize_t", "struct", "union", "enum", "int", "char", "long",
		"short", "unsigned", "signed", "void", "const", "volatile", "define", "ifdef",
		"ifndef", "endif", "else", "include", "if", "defined", "float", "double", NULL,
	};
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == n && !strncmp(names[i], w, n))
			return true;
	return false;
}

/* Kernel types the preamble names without defining them, dumped before it
 * so it compiles (struct foo { struct task_struct t; }). */
static int preamble_deps(struct ktypes *kt, const char *p, struct buf *out)
{
	struct btf *k = kernel(kt);
	struct btf_dump *d;
	char prev[KTYPE_MAX_NAME] = "";
	size_t count = 0;
	int r = 0;

	if (!k)
		return 0;
	d = btf_dump__new(k, dump_printf, out, NULL);
	if (!d)
		return -errno;
	while (*p && r >= 0) {
		char w[KTYPE_MAX_NAME];
		size_t n = 0;
		int id = -1;

		if (!ident_start(*p)) {
			p++;
			continue;
		}
		while (ident_char(p[n]))
			n++;
		if (n < sizeof(w)) {
			memcpy(w, p, n);
			w[n] = '\0';
			if (!strcmp(prev, "struct") && !is_def(kt, "struct", w))
				id = btf__find_by_name_kind(k, w, BTF_KIND_STRUCT);
			else if (!strcmp(prev, "union") && !is_def(kt, "union", w))
				id = btf__find_by_name_kind(k, w, BTF_KIND_UNION);
			else if (!strcmp(prev, "enum") && !is_def(kt, "enum", w))
				id = btf__find_by_name_kind(k, w, BTF_KIND_ENUM);
			else if (!prefix_name(w, n) && strcmp(prev, "struct") && strcmp(prev, "union") &&
				 strcmp(prev, "enum"))
				id = btf__find_by_name_kind(k, w, BTF_KIND_TYPEDEF);
			snprintf(prev, sizeof(prev), "%s", w);
			if (id > 0 && ++count <= KTYPE_MAX_USED)
				r = btf_dump__dump_type(d, (uint32_t)id);
		}
		p += n;
	}
	btf_dump__free(d);
	return r;
}

/* The .BTF section of an ELF object in memory. */
static int elf_btf(const void *obj, size_t len, struct btf **ret)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int r = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	e = elf_memory((char *)obj, len);
	if (!e)
		return -EINVAL;
	if (elf_getshdrstrndx(e, &shstrndx) == 0) {
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *name;
			Elf_Data *data;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(e, shstrndx, sh.sh_name);
			if (!name || strcmp(name, ".BTF"))
				continue;
			data = elf_getdata(scn, NULL);
			if (!data || !data->d_buf)
				break;
			*ret = btf__new(data->d_buf, (uint32_t)data->d_size);
			r = *ret ? 0 : -EINVAL;
			break;
		}
	}
	elf_end(e);
	return r;
}

/*
 * BTF holds a type's size in 32 bits and a member's offset in 32 bits of
 * bits (24 next to bitfields): clang writes a larger definition wrapped
 * (struct { struct E e[256]; char y[8]; } of 16 MiB E's is a struct of 8
 * bytes there), and sizeof, map keys and member reads would all be of
 * another type.  A wrapped struct or union shows as a member that does
 * not resolve, ends past its size or, in a struct, starts before the
 * previous member ends; -TG_ELIMIT names it.
 */
static int user_btf_check(const struct btf *b, char **ret_err)
{
	uint32_t n = btf__type_cnt(b);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		const char *name;
		uint64_t prev_end = 0;

		if (!btf_is_composite(t))
			continue;
		for (uint16_t i = 0; i < btf_vlen(t); i++) {
			const struct btf_member *m = btf_members(t) + i;
			long long size = btf__resolve_size(b, m->type);
			uint64_t off = btf_member_bit_offset(t, i);
			uint32_t bits = btf_member_bitfield_size(t, i);
			uint64_t end = off + (bits ? bits : (uint64_t)(size < 0 ? 0 : size) * 8);

			if (size >= 0 && end <= (uint64_t)t->size * 8 &&
			    (btf_is_union(t) || off >= prev_end)) {
				prev_end = end;
				continue;
			}
			name = btf__name_by_offset(b, t->name_off);
			if (asprintf(ret_err, "program: C definition \"%s %s\" is larger than BTF holds",
				     btf_is_union(t) ? "union" : "struct", name && *name ? name : "(anonymous)") < 0)
				*ret_err = NULL;
			return -TG_ELIMIT;
		}
	}
	return 0;
}

int ktype_preamble(struct ktypes *kt, const char *preamble, const char *const *defs, size_t ndefs,
		const char *cache_dir, char **ret_err)
{
	_cleanup_buf_ struct buf src = BUF_INIT(KTYPE_MAX_DUMP);
	struct compile_result res = { 0 };
	const char *p;
	int r;

	if (strlen(preamble) > KTYPE_MAX_PREAMBLE || ndefs > KTYPE_MAX_DEFS) {
		if (asprintf(ret_err, "program: C definitions larger than %u bytes or more than %d of them",
			     KTYPE_MAX_PREAMBLE, KTYPE_MAX_DEFS) < 0)
			*ret_err = NULL;
		return -TG_ELIMIT;
	}
	kt->defs = calloc(ndefs ? ndefs : 1, sizeof(*kt->defs));
	if (!kt->defs)
		return -ENOMEM;
	for (size_t i = 0; i < ndefs; i++) {
		kt->defs[i] = strdup(defs[i]);
		if (!kt->defs[i])
			return -ENOMEM;
		kt->ndefs++;
	}
	r = buf_adds(&src, prefix);
	if (r >= 0)
		r = preamble_deps(kt, preamble, &src);
	/* the preamble, line by line: headers are not read (their types come
	 * from BTF), everything else is as written */
	for (p = preamble; r >= 0 && *p;) {
		size_t n = strcspn(p, "\n");
		const char *q = p;

		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (!(*q == '#' && !strncmp(q + 1 + strspn(q + 1, " \t"), "include", 7)))
			r = buf_add(&src, p, n);
		if (r >= 0)
			r = buf_addc(&src, '\n');
		p += n + (p[n] == '\n');
	}
	/* clang keeps in BTF only the types something uses */
	for (size_t i = 0; i < ndefs && r >= 0; i++)
		r = buf_printf(&src, "%s *__tg_use_%zu;\n", defs[i], i);
	if (r == -E2BIG)
		return -TG_ELIMIT;
	if (r < 0)
		return r;
	r = compile_bpf(src.s, src.len, cache_dir, &res, ret_err);
	if (r < 0)
		return r;
	r = elf_btf(res.obj, res.len, &kt->user);
	free(res.obj);
	if (r < 0) {
		if (asprintf(ret_err, "program: the C definitions compiled to no BTF") < 0)
			*ret_err = NULL;
		return -TG_ECOMPILE;
	}
	return user_btf_check(kt->user, ret_err);
}

/* ---- lookups ------------------------------------------------------------- */

static int find_kind(struct btf *b, const char *name, int kind)
{
	int id;

	if (!b)
		return -ENOENT;
	id = btf__find_by_name_kind(b, name, kind);
	if (id <= 0 && kind == BTF_KIND_ENUM)
		id = btf__find_by_name_kind(b, name, BTF_KIND_ENUM64);
	return id > 0 ? id : -ENOENT;
}

int ktype_find(struct ktypes *kt, const char *name, struct ktype_ref *ret)
{
	static const struct { const char *kw; int kind; } kws[] = {
		{ "struct", BTF_KIND_STRUCT }, { "union", BTF_KIND_UNION }, { "enum", BTF_KIND_ENUM },
	};
	int kind = BTF_KIND_TYPEDEF, id;
	const char *kw = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(kws); i++) {
		size_t l = strlen(kws[i].kw);

		if (!strncmp(name, kws[i].kw, l) && name[l] == ' ') {
			kw = kws[i].kw;
			kind = kws[i].kind;
			name += l + 1;
			break;
		}
	}
	if (kt->user && (!kw || is_def(kt, kw, name))) {
		id = find_kind(kt->user, name, kind);
		if (id > 0) {
			*ret = (struct ktype_ref){ KTYPE_USER, (uint32_t)id };
			return 0;
		}
	}
	id = find_kind(kernel(kt), name, kind);
	if (id > 0) {
		*ret = (struct ktype_ref){ KTYPE_KERNEL, (uint32_t)id };
		return 0;
	}
	return -ENOENT;
}

int ktype_resolve(struct ktypes *kt, struct ktype_ref ref, struct ktype_info *ret)
{
	struct btf *b = src_btf(kt, ref.src);
	const struct btf_type *t;
	struct ktype_info in = { .k = KK_VOID };

	for (int i = 0; i < KTYPE_MAX_DEPTH; i++) {
		if (!b || ref.id == 0) {
			in.self = ref;
			*ret = in;
			return 0;
		}
		t = btf__type_by_id(b, ref.id);
		if (!t)
			return -ENOENT;
		if (btf_is_typedef(t) || btf_is_mod(t)) {
			ref.id = t->type;
			continue;
		}
		/* the program's BTF holds copies of kernel types it used: those
		 * it does not define itself are the kernel's */
		if (ref.src == KTYPE_USER && (btf_is_composite(t) || btf_is_fwd(t))) {
			const char *n = btf__name_by_offset(b, t->name_off);
			const char *kw = btf_is_union(t) || (btf_is_fwd(t) && btf_kflag(t)) ? "union" : "struct";
			int id;

			if (n && *n && !is_def(kt, kw, n)) {
				id = find_kind(kernel(kt), n, !strcmp(kw, "union") ? BTF_KIND_UNION : BTF_KIND_STRUCT);
				if (id > 0) {
					ref = (struct ktype_ref){ KTYPE_KERNEL, (uint32_t)id };
					b = kernel(kt);
					continue;
				}
			}
		}
		in.self = ref;
		switch (btf_kind(t)) {
		case BTF_KIND_INT: {
			const char *n = btf__name_by_offset(b, t->name_off);

			in.k = KK_INT;
			in.size = t->size;
			in.sign = btf_int_encoding(t) & BTF_INT_SIGNED;
			in.is_char = n && !strcmp(n, "char");
			if (in.is_char)
				in.sign = true;
			break;
		}
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			in.k = KK_ENUM;
			in.size = t->size;
			in.sign = btf_kflag(t);
			break;
		case BTF_KIND_PTR:
			in.k = KK_PTR;
			in.size = 8;
			in.target = (struct ktype_ref){ ref.src, t->type };
			break;
		case BTF_KIND_ARRAY: {
			long sz = btf__resolve_size(b, btf_array(t)->type);

			in.k = KK_ARRAY;
			in.target = (struct ktype_ref){ ref.src, btf_array(t)->type };
			in.nelems = btf_array(t)->nelems;
			in.size = sz > 0 ? (uint32_t)sz * in.nelems : 0;
			break;
		}
		case BTF_KIND_STRUCT:
			in.k = KK_STRUCT;
			in.size = t->size;
			break;
		case BTF_KIND_UNION:
			in.k = KK_UNION;
			in.size = t->size;
			break;
		case BTF_KIND_FWD:
			in.k = KK_FWD;
			break;
		case BTF_KIND_FUNC_PROTO:
		case BTF_KIND_FUNC:
			in.k = KK_FUNC;
			break;
		default:
			in.k = KK_VOID;
			break;
		}
		*ret = in;
		return 0;
	}
	return -ELOOP;
}

static int member_in(struct ktypes *kt, struct btf *b, uint8_t src, uint32_t id, const char *name,
		     uint32_t base, int depth, struct ktype_member *ret)
{
	const struct btf_type *t = btf__type_by_id(b, id);
	const struct btf_member *m;

	if (!t || !btf_is_composite(t) || depth > KTYPE_MAX_DEPTH)
		return -ENOENT;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(b, m->name_off);
		uint32_t off = base + btf_member_bit_offset(t, i);

		if (n && *n) {
			if (strcmp(n, name))
				continue;
			ret->type = (struct ktype_ref){ src, m->type };
			ret->bit_off = off;
			ret->bitfield = btf_member_bitfield_size(t, i);
			return 0;
		} else {
			struct ktype_info in;

			if (ktype_resolve(kt, (struct ktype_ref){ src, m->type }, &in) < 0 ||
			    (in.k != KK_STRUCT && in.k != KK_UNION))
				continue;
			if (member_in(kt, src_btf(kt, in.self.src), in.self.src, in.self.id, name, off,
				      depth + 1, ret) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

int ktype_member(struct ktypes *kt, struct ktype_ref agg, const char *name, struct ktype_member *ret)
{
	struct ktype_info in;
	int r = ktype_resolve(kt, agg, &in);

	if (r < 0)
		return r;
	if (in.k != KK_STRUCT && in.k != KK_UNION)
		return -EINVAL;
	return member_in(kt, src_btf(kt, in.self.src), in.self.src, in.self.id, name, 0, 0, ret);
}

int ktype_each_member(struct ktypes *kt, struct ktype_ref agg,
		   int (*fn)(void *ctx, const char *name, const struct ktype_member *m), void *ctx)
{
	struct ktype_info in;
	const struct btf_type *t;
	const struct btf_member *m;
	struct btf *b;
	int r = ktype_resolve(kt, agg, &in);

	if (r < 0)
		return r;
	if (in.k != KK_STRUCT && in.k != KK_UNION)
		return -EINVAL;
	b = src_btf(kt, in.self.src);
	t = b ? btf__type_by_id(b, in.self.id) : NULL;
	if (!t || !btf_is_composite(t))
		return -EINVAL;
	m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(b, m->name_off);
		struct ktype_member km = {
			.type = { in.self.src, m->type },
			.bit_off = btf_member_bit_offset(t, i),
			.bitfield = btf_member_bitfield_size(t, i),
		};

		r = fn(ctx, n ? n : "", &km);
		if (r)
			return r;
	}
	return 0;
}

static int enum_in(struct btf *b, const char *name, int64_t *ret)
{
	uint32_t n;

	if (!b)
		return -ENOENT;
	n = btf__type_cnt(b);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(b, id);

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);

			for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
				const char *en = btf__name_by_offset(b, e->name_off);

				if (en && !strcmp(en, name)) {
					*ret = btf_kflag(t) ? (int64_t)e->val : (int64_t)(uint32_t)e->val;
					return 0;
				}
			}
		} else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);

			for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
				const char *en = btf__name_by_offset(b, e->name_off);

				if (en && !strcmp(en, name)) {
					*ret = (int64_t)btf_enum64_value(e);
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

int ktype_enum_value(struct ktypes *kt, const char *name, int64_t *ret)
{
	if (enum_in(kt->user, name, ret) == 0)
		return 0;
	return enum_in(kernel(kt), name, ret);
}

const char *ktype_name(struct ktypes *kt, struct ktype_ref ref, char *b, size_t sz)
{
	struct btf *bt = src_btf(kt, ref.src);
	const struct btf_type *t = bt ? btf__type_by_id(bt, ref.id) : NULL;
	const char *n = t ? btf__name_by_offset(bt, t->name_off) : NULL;

	if (!t) {
		snprintf(b, sz, "void");
		return b;
	}
	snprintf(b, sz, "%s%s", btf_is_struct(t) ? "struct " : btf_is_union(t) ? "union " :
		 btf_is_any_enum(t) ? "enum " : "", n && *n ? n : "(anonymous)");
	return b;
}

/* ---- declarations for codegen -------------------------------------------- */

int ktype_cname(struct ktypes *kt, struct ktype_ref ref, char *b, size_t sz)
{
	struct btf *k = kernel(kt);
	const struct btf_type *t;
	const char *n;
	size_t i;

	if (ref.src != KTYPE_KERNEL || !k)
		return -ENOENT;
	t = btf__type_by_id(k, ref.id);
	if (!t || !btf_is_composite(t))
		return -ENOENT;
	n = btf__name_by_offset(k, t->name_off);
	if (!n || !*n)
		return -ENOENT;
	for (i = 0; i < kt->nused && kt->used[i] != ref.id; i++)
		;
	if (i == kt->nused) {
		if (kt->nused == KTYPE_MAX_USED)
			return -TG_ELIMIT;
		kt->used[kt->nused++] = ref.id;
	}
	snprintf(b, sz, "%s %s", btf_is_union(t) ? "union" : "struct", n);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int ktype_dump(struct ktypes *kt, struct buf *out)
{
	_cleanup_buf_ struct buf text = BUF_INIT(KTYPE_MAX_DUMP);
	uint32_t ids[KTYPE_MAX_USED];
	struct btf_dump *d;
	size_t n = kt->nused, slot;
	int r = 0;

	if (!n)
		return 0;
	memcpy(ids, kt->used, n * sizeof(ids[0]));
	qsort(ids, n, sizeof(ids[0]), cmp_u32);
	for (size_t i = 0; i < KTYPE_DUMP_CACHE; i++)
		if (dump_cache[i].text && dump_cache[i].n == n &&
		    !memcmp(dump_cache[i].ids, ids, n * sizeof(ids[0])))
			return buf_adds(out, dump_cache[i].text);
	d = btf_dump__new(kernel(kt), dump_printf, &text, NULL);
	if (!d)
		return -errno;
	/* as vmlinux.h does: every struct and union relocatable */
	r = buf_adds(&text, "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n");
	for (size_t i = 0; i < n && r >= 0; i++)
		r = btf_dump__dump_type(d, ids[i]);
	btf_dump__free(d);
	if (r >= 0)
		r = buf_adds(&text, "\n#pragma clang attribute pop\n");
	if (r < 0)
		return r == -E2BIG ? -TG_ELIMIT : r;
	slot = dump_cache_next++ % KTYPE_DUMP_CACHE;
	free(dump_cache[slot].ids);
	free(dump_cache[slot].text);
	dump_cache[slot].ids = malloc(n * sizeof(ids[0]));
	dump_cache[slot].text = strdup(text.s);
	dump_cache[slot].n = n;
	if (!dump_cache[slot].ids || !dump_cache[slot].text) {
		free(dump_cache[slot].ids);
		free(dump_cache[slot].text);
		dump_cache[slot].ids = NULL;
		dump_cache[slot].text = NULL;
	} else {
		memcpy(dump_cache[slot].ids, ids, n * sizeof(ids[0]));
	}
	return buf_add(out, text.s, text.len);
}

/* ---- #include: looked up, never read ---------------------------------------- */

#if defined(__x86_64__)
#define KTYPE_MULTIARCH "/usr/include/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define KTYPE_MULTIARCH "/usr/include/aarch64-linux-gnu"
#else
#define KTYPE_MULTIARCH "/usr/include"
#endif

static bool header_beneath(const char *dir, const char *name)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (d < 0)
		return false;
	fd = (int)syscall(SYS_openat2, d, name, &how, sizeof(how));
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool header_exists(const char *name)
{
	static const char *const dirs[] = { "/usr/include", KTYPE_MULTIARCH, "/usr/local/include" };
	glob_t g;
	bool found = false;

	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !found; i++)
		found = header_beneath(dirs[i], name);
	if (!found && glob("/usr/lib/llvm-*/lib/clang/*/include", GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !found; i++)
			found = header_beneath(g.gl_pathv[i], name);
		globfree(&g);
	}
	return found;
}

int ktype_includes_check(const struct lang_program *prog, struct lang_diag *diag)
{
	for (size_t i = 0; i < prog->nincludes; i++) {
		const struct lang_include *inc = &prog->includes[i];

		if (header_exists(inc->name))
			continue;
		diag->loc = inc->loc;
		diag->span = 1;
		snprintf(diag->msg, sizeof(diag->msg),
			 "#include %c%s%c: file not found in the system include directories",
			 inc->quoted ? '"' : '<', inc->name, inc->quoted ? '"' : '>');
		return -TG_EPARSE;
	}
	return 0;
}
