// SPDX-License-Identifier: Apache-2.0
/* USDT probes of a file and the generated C that reads their arguments
 * (see usdt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include <libelf.h>

#include "lib/cleanup.h"
#include "lib/cleanup-elf.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/elfcheck.h"
#include "runner/usdt.h"
#include "lib/banned.h"

#define NT_STAPSDT 3

void usdt_list_free(struct usdt_probe *v, size_t n)
{
	for (size_t i = 0; i < n && v; i++) {
		free(v[i].provider);
		free(v[i].name);
	}
	free(v);
}

/* A string of at most USDT_MAX_NAME bytes at *off in d[0..len), NUL
 * terminated inside it; *off moves past it. */
static const char *note_str(const char *d, size_t len, size_t *off)
{
	const char *s = d + *off;
	const char *nul;

	if (*off >= len)
		return NULL;
	nul = memchr(s, '\0', MIN(len - *off, (size_t)USDT_MAX_NAME + 1));
	if (!nul || nul == s)
		return NULL;
	*off += (size_t)(nul - s) + 1;
	return s;
}

static int add_probe(struct usdt_probe **v, size_t *n, const char *prov, const char *name)
{
	struct usdt_probe *nv;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].provider, prov) && !strcmp((*v)[i].name, name)) {
			(*v)[i].sites++;   /* the same probe at another site */
			return 0;
		}
	if (*n == USDT_MAX_PROBES)
		return -TG_ELIMIT;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n].provider = strdup(prov);
	nv[*n].name = strdup(name);
	nv[*n].sites = 1;
	if (!nv[*n].provider || !nv[*n].name) {
		free(nv[*n].provider);
		free(nv[*n].name);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int usdt_list(int fd, const char *path, struct usdt_probe **ret, size_t *ret_n, char **ret_err)
{
	_cleanup_(elf_endp) Elf *e = NULL;
	struct usdt_probe *v = NULL;
	Elf_Scn *scn = NULL;
	size_t n = 0, sites = 0, shstrndx, addr_size;
	int r = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return tg_fail(ret_err, -TG_ELOAD, "libelf: %s", elf_errmsg(-1));
	r = elf_check_fd(fd, path, ret_err);
	if (r < 0)
		return r;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx) < 0)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": not an ELF file", path);
	addr_size = gelf_getclass(e) == ELFCLASS32 ? 4 : 8;
	while ((scn = elf_nextscn(e, scn)) && r >= 0) {
		Elf_Data *data;
		GElf_Shdr sh;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		const char *sn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sn = elf_strptr(e, shstrndx, sh.sh_name);
		if (!sn || strcmp(sn, ".note.stapsdt"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		while (r >= 0 && (off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			const char *d = (const char *)data->d_buf + doff;
			const char *prov, *name;
			size_t p = 3 * addr_size;

			if (nh.n_type != NT_STAPSDT || nh.n_namesz != sizeof("stapsdt") ||
			    memcmp((const char *)data->d_buf + noff, "stapsdt", sizeof("stapsdt")) ||
			    nh.n_descsz < p)
				continue;
			if (++sites > USDT_MAX_SITES) {
				r = -E2BIG;
				break;
			}
			prov = note_str(d, nh.n_descsz, &p);
			name = prov ? note_str(d, nh.n_descsz, &p) : NULL;
			if (!name)
				continue;   /* malformed: skipped, libbpf refuses it too */
			r = add_probe(&v, &n, prov, name);
		}
	}
	if (r == -TG_ELIMIT) {
		usdt_list_free(v, n);
		return tg_fail(ret_err, r, "file \"%s\": more than %d usdt probes", path, USDT_MAX_PROBES);
	}
	if (r == -E2BIG) {
		usdt_list_free(v, n);
		return tg_fail(ret_err, -TG_ELIMIT, "file \"%s\": more than %d usdt sites", path,
			       USDT_MAX_SITES);
	}
	if (r < 0) {
		usdt_list_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

bool usdt_match(const struct usdt_probe *p, const char *provider, const char *name)
{
	return (!provider || glob_match(provider, p->provider)) && glob_match(name, p->name);
}

/* The helper names helpers_text declares as "(*bpf_xxx)". */
static int each_helper(struct buf *o, const char *text, bool define)
{
	int r = 0;

	for (const char *s = text; (s = strstr(s, "(*bpf_")) && r >= 0;) {
		size_t len;

		s += 2;
		len = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (len > 64)
			continue;
		if (define)
			r = buf_printf(o, "#define %.*s tg_usdt_%.*s\n", (int)len, s, (int)len, s);
		else
			r = buf_printf(o, "#undef %.*s\n", (int)len, s);
	}
	return r;
}

int usdt_cg_include(struct buf *o, const char *helpers_text)
{
	int r;

	/* The header wants bpf_helpers.h (every helper declared, which would
	 * clash with the prelude's own declarations: renamed here), vmlinux.h
	 * or linux/bpf.h for a few names, and a complete struct pt_regs for
	 * PT_REGS_IP (the kernel's layout on x86-64; renamed so that kernel
	 * types dumped from BTF may still define struct pt_regs). */
	r = buf_adds(o, "/* libbpf's USDT support */\n"
		     "#undef SEC\n#undef __always_inline\n#undef __uint\n"
		     "typedef __u16 __be16; typedef __u32 __be32; typedef __u32 __wsum;\n"
		     "#define bool _Bool\n#define BPF_MAP_TYPE_HASH 1\n#define BPF_MAP_TYPE_ARRAY 2\n"
		     "#define pt_regs tg_usdt_pt_regs\n#define __VMLINUX_H__\n"
#if defined(__x86_64__)
		     "#define __TARGET_ARCH_x86\n"
		     "struct pt_regs { __u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss; };\n"
#else
		     "#error \"usdt probes: only x86-64 runners read usdt arguments\"\n"
#endif
		     );
	if (r >= 0)
		r = each_helper(o, helpers_text, true);
	/* the header's identity is in the object cache's key (runner/
	 * compile.c): code generation runs in the compile jail, which sees
	 * no file */
	if (r >= 0)
		r = buf_adds(o, "#include <bpf/usdt.bpf.h>\n");
	if (r >= 0)
		r = each_helper(o, helpers_text, false);
	if (r >= 0)
		r = buf_adds(o, "#undef pt_regs\n#undef __VMLINUX_H__\n#undef bool\n"
			     "#undef BPF_MAP_TYPE_HASH\n#undef BPF_MAP_TYPE_ARRAY\n"
			     "#undef SEC\n#define SEC(n) __attribute__((section(n), used))\n"
			     "#undef __always_inline\n#define __always_inline inline __attribute__((always_inline))\n"
			     "static __always_inline __u64 tg_usdt_arg(void *ctx, __u64 n) {\n"
			     "\tlong v = 0; bpf_usdt_arg(ctx, n, &v); return (__u64)v;\n}\n");
	return r;
}
