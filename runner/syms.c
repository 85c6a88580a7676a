// SPDX-License-Identifier: Apache-2.0
/*
 * Symbols, stacks, times and cgroup paths, printed as bpftrace 0.17 does
 * (src/bpftrace.cpp resolve_ksym, resolve_usym, get_stack,
 * resolve_timestamp; src/utils.cpp get_cgroup_paths).  bpftrace leans on
 * bcc's symbol caches; here kallsyms is one sorted array searched by
 * bisection, and user symbols come from /proc/PID/maps plus the ELF
 * .symtab/.dynsym of each mapped file (libelf), cached per file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lib/cleanup.h"
#include "lib/cleanup-elf.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "runner/elfcheck.h"
#include "runner/syms.h"
#include "lib/banned.h"

struct sym {
	uint64_t start;
	uint64_t size;          /* 0 in kallsyms */
	const char *name;       /* into the owner's string pool */
	size_t order;           /* file order, to keep sorting stable */
};

static int sym_cmp(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Index of the last symbol with start <= addr, or -1. */
static long sym_floor(const struct sym *s, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* ------------------------------------------------------------------------
 * kernel
 * ---------------------------------------------------------------------- */

struct syms_kernel {
	char *text;             /* the kallsyms file, names NUL-terminated in place */
	struct sym *syms;
	size_t n;
};

struct syms_kernel *syms_kernel_free(struct syms_kernel *k)
{
	if (!k)
		return NULL;
	free(k->text);
	free(k->syms);
	free(k);
	return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct syms_kernel *, syms_kernel_free)

size_t syms_kernel_count(const struct syms_kernel *k)
{
	return k ? k->n : 0;
}

/* Equal addresses keep the first name in the file. */
static int sym_cmp_first(const void *pa, const void *pb)
{
	return sym_cmp(pa, pb);
}

int syms_kernel_load(struct syms_kernel **ret, const char *path)
{
	_cleanup_(syms_kernel_freep) struct syms_kernel *k = NULL;
	size_t len, cap = 0, nonzero = 0;
	char *p, *end;
	int r;

	if (!ret)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	r = read_file(path ? path : "/proc/kallsyms", SYMS_KALLSYMS_MAX_BYTES, &k->text, &len);
	if (r == -EFBIG)
		return -TG_ELIMIT;
	if (r < 0)
		return r;
	p = k->text;
	end = k->text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = p, *addr_end, *name, *name_end;
		unsigned long long addr;
		char type;

		if (!nl)
			nl = end;
		*nl = '\0';
		p = nl + 1;
		/* "ffffffff81000000 T _stext" or "... t name\t[module]" */
		errno = 0;
		addr = strtoull(line, &addr_end, 16);
		if (errno || addr_end == line || *addr_end != ' ' || !addr_end[1] || addr_end[2] != ' ')
			continue;
		type = addr_end[1];
		/* bcc's bcc_procutils_each_ksym skips data symbols */
		if (strchr("bBdDrR", type))
			continue;
		name = addr_end + 3;
		name_end = name + strcspn(name, " \t");
		*name_end = '\0';
		if (!*name)
			continue;
		if (k->n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct sym *ns;

			if (ncap > SYMS_ELF_MAX_SYMBOLS * 2)
				return -TG_ELIMIT;
			ns = realloc(k->syms, ncap * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			k->syms = ns;
			cap = ncap;
		}
		k->syms[k->n] = (struct sym){ .start = addr, .name = name, .order = k->n };
		k->n++;
		if (addr)
			nonzero++;
	}
	if (k->n && !nonzero)
		return -EPERM;
	if (k->n > 1)
		qsort(k->syms, k->n, sizeof(*k->syms), sym_cmp_first);
	*ret = TAKE_PTR(k);
	return 0;
}

int syms_kernel_lookup(const struct syms_kernel *k, uint64_t addr, const char **ret_name,
		       uint64_t *ret_off)
{
	long i;

	if (!k)
		return -EINVAL;
	i = sym_floor(k->syms, k->n, addr);
	if (i < 0)
		return -ENOENT;
	/* several names at one address: the first one in the file */
	while (i > 0 && k->syms[i - 1].start == k->syms[i].start)
		i--;
	if (ret_name)
		*ret_name = k->syms[i].name;
	if (ret_off)
		*ret_off = addr - k->syms[i].start;
	return 0;
}

int syms_kernel_addr(const struct syms_kernel *k, const char *name, uint64_t *ret_addr)
{
	const struct sym *best = NULL;

	if (!k || !name)
		return -EINVAL;
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->syms[i].name, name) && (!best || k->syms[i].order < best->order))
			best = &k->syms[i];
	if (!best)
		return -ENOENT;
	if (ret_addr)
		*ret_addr = best->start;
	return 0;
}

/* How `ostream << (void *)addr` prints. */
static int add_pointer(struct buf *out, uint64_t addr)
{
	if (!addr)
		return buf_addc(out, '0');
	return buf_printf(out, "0x%" PRIx64, addr);
}

int syms_format_ksym(struct buf *out, const struct syms_kernel *k, uint64_t addr,
		     bool show_offset)
{
	const char *name;
	uint64_t off;

	if (!out)
		return -EINVAL;
	if (!k || syms_kernel_lookup(k, addr, &name, &off) < 0)
		return add_pointer(out, addr);
	if (show_offset)
		return buf_printf(out, "%s+%" PRIu64, name, off);
	return buf_adds(out, name);
}

/* ------------------------------------------------------------------------
 * ELF files
 * ---------------------------------------------------------------------- */

struct seg {
	uint64_t offset, vaddr, filesz;
};

struct elf_file {
	dev_t dev;
	ino_t ino;
	char *path;             /* as opened */
	struct sym *syms;       /* functions and objects, sorted */
	size_t n;
	struct sym *objs;       /* STT_OBJECT only, for uaddr */
	size_t nobjs;
	struct seg *segs;       /* PT_LOAD */
	size_t nsegs;
	char *strs;             /* string pool */
	size_t strs_len, strs_cap;
};

static void elf_file_free(struct elf_file *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->syms);
	free(f->objs);
	free(f->segs);
	free(f->strs);
	free(f);
}

static int pool_add(struct elf_file *f, const char *s, size_t *ret_off)
{
	size_t l = strlen(s) + 1;

	/* The file is the tenant's: symbols may all name one long string,
	 * which would make the pool symbols x length bytes. */
	if (l > SYMS_ELF_MAX_NAME_BYTES - f->strs_len)
		return -TG_ELIMIT;
	if (f->strs_len + l > f->strs_cap) {
		size_t cap = f->strs_cap ? f->strs_cap : 4096;
		char *p;

		while (cap < f->strs_len + l)
			cap *= 2;
		p = realloc(f->strs, cap);
		if (!p)
			return -ENOMEM;
		f->strs = p;
		f->strs_cap = cap;
	}
	memcpy(f->strs + f->strs_len, s, l);
	*ret_off = f->strs_len;
	f->strs_len += l;
	return 0;
}

static int syms_push(struct sym **v, size_t *n, size_t *cap, struct sym s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct sym *p = realloc(*v, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static int elf_read_symbols(struct elf_file *f, Elf *e)
{
	size_t cap = 0, ocap = 0, total = 0;
	Elf_Scn *scn = NULL;
	int r;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t count;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (!sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		count = sh.sh_size / sh.sh_entsize;
		total += count;
		if (total > SYMS_ELF_MAX_SYMBOLS)
			return -TG_ELIMIT;
		for (size_t i = 0; i < count; i++) {
			GElf_Sym st;
			const char *name;
			size_t off;
			int type;

			if (!gelf_getsym(data, (int)i, &st))
				continue;
			type = GELF_ST_TYPE(st.st_info);
			if (st.st_shndx == SHN_UNDEF || !st.st_value)
				continue;
			if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT &&
			    type != STT_NOTYPE)
				continue;
			name = elf_strptr(e, sh.sh_link, st.st_name);
			if (!name || !*name)
				continue;
			r = pool_add(f, name, &off);
			if (r < 0)
				return r;
			/* names are pool offsets until the pool stops moving */
			r = syms_push(&f->syms, &f->n, &cap, (struct sym){
				.start = st.st_value, .size = st.st_size,
				.name = (const char *)(uintptr_t)off, .order = f->n });
			if (r < 0)
				return r;
			if (type == STT_OBJECT) {
				r = syms_push(&f->objs, &f->nobjs, &ocap, (struct sym){
					.start = st.st_value, .size = st.st_size,
					.name = (const char *)(uintptr_t)off, .order = f->nobjs });
				if (r < 0)
					return r;
			}
		}
	}
	for (size_t i = 0; i < f->n; i++)
		f->syms[i].name = f->strs + (uintptr_t)f->syms[i].name;
	for (size_t i = 0; i < f->nobjs; i++)
		f->objs[i].name = f->strs + (uintptr_t)f->objs[i].name;
	if (f->n > 1)
		qsort(f->syms, f->n, sizeof(*f->syms), sym_cmp);
	return 0;
}

static int elf_read_segments(struct elf_file *f, Elf *e)
{
	size_t n;

	if (elf_getphdrnum(e, &n) != 0)
		return 0;
	if (n > 4096)
		return -TG_ELIMIT;
	f->segs = calloc(n ? n : 1, sizeof(*f->segs));
	if (!f->segs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		f->segs[f->nsegs++] = (struct seg){ ph.p_offset, ph.p_vaddr, ph.p_filesz };
	}
	return 0;
}

/* A regular file, opened for reading without ever running a device's or
 * a FIFO's open: path is opened O_PATH (no open of the object itself),
 * checked, then reopened through /proc/self/fd.  For a mapping of a pod's
 * process path is /proc/PID/map_files/START-END, the very file mapped,
 * never a name the pod could have turned into a symlink meanwhile. */
static int open_regular(const char *path, struct stat *st)
{
	_cleanup_close_ int opath = open(path, O_PATH | O_CLOEXEC);
	char self[64];
	int fd;

	if (opath < 0)
		return -errno;
	if (fstat(opath, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int elf_file_load(int fd, const struct stat *st, const char *path, struct elf_file **ret)
{
	struct elf_file *f;
	_cleanup_(elf_endp) Elf *e = NULL;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	/* the file may be a pod's: its headers first (runner/elfcheck.h) */
	r = elf_check_fd(fd, path, NULL);
	if (r < 0)
		return r == -TG_ELOAD ? -EINVAL : r;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->path = strdup(path);
	r = f->path ? elf_read_symbols(f, e) : -ENOMEM;
	if (r >= 0)
		r = elf_read_segments(f, e);
	if (r < 0) {
		elf_file_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

/* The symbol covering vaddr: the nearest start at or below it whose
 * size covers it, stepping back over nested symbols as bcc does. */
static const struct sym *elf_find(const struct elf_file *f, uint64_t vaddr)
{
	long i = sym_floor(f->syms, f->n, vaddr);

	for (long steps = 0; i >= 0 && steps < 4096; i--, steps++) {
		const struct sym *s = &f->syms[i];

		if (vaddr < s->start + s->size)
			return s;
	}
	return NULL;
}

static bool elf_file_to_vaddr(const struct elf_file *f, uint64_t file_off, uint64_t *ret)
{
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct seg *s = &f->segs[i];

		if (file_off >= s->offset && file_off < s->offset + s->filesz) {
			*ret = file_off - s->offset + s->vaddr;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------
 * user symbols
 * ---------------------------------------------------------------------- */

struct mapping {
	uint64_t start, end, offset;
	char *path;
};

struct proc_maps {
	int pid;
	struct mapping *m;
	size_t n;
};

#define SYMS_MAX_PIDS 64

struct syms_user_cache {
	struct elf_file *files[SYMS_USER_MAX_FILES];
	size_t nfiles;
	struct proc_maps pids[SYMS_MAX_PIDS];
	size_t npids;
};

static void proc_maps_release(struct proc_maps *pm)
{
	for (size_t i = 0; i < pm->n; i++)
		free(pm->m[i].path);
	free(pm->m);
	pm->m = NULL;
	pm->n = 0;
}

struct syms_user_cache *syms_user_cache_new(void)
{
	return calloc(1, sizeof(struct syms_user_cache));
}

static void user_cache_flush(struct syms_user_cache *c)
{
	for (size_t i = 0; i < c->nfiles; i++)
		elf_file_free(c->files[i]);
	c->nfiles = 0;
}

struct syms_user_cache *syms_user_cache_free(struct syms_user_cache *c)
{
	if (!c)
		return NULL;
	user_cache_flush(c);
	for (size_t i = 0; i < c->npids; i++)
		proc_maps_release(&c->pids[i]);
	free(c);
	return NULL;
}

/* Executable file-backed mappings of a process. */
static int read_maps(int pid, struct proc_maps *pm)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	size_t len, cap = 0;
	char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	r = read_file(path, SYMS_MAPS_MAX_BYTES, &text, &len);
	if (r == -ENOENT)
		return -ESRCH;
	if (r == -EFBIG)
		return -TG_ELIMIT;
	if (r < 0)
		return r;
	pm->pid = pid;
	for (p = text; p && *p;) {
		char *nl = strchr(p, '\n');
		unsigned long long start, end, off;
		char perms[8];
		int pos = 0;

		if (nl)
			*nl = '\0';
		/* start-end perms offset dev inode path */
		if (sscanf(p, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off, &pos) >= 4 &&
		    pos > 0 && perms[2] == 'x' && p[pos] == '/') {
			if (pm->n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct mapping *m = realloc(pm->m, nc * sizeof(*m));

				if (!m)
					return -ENOMEM;
				pm->m = m;
				cap = nc;
			}
			pm->m[pm->n].path = strdup(p + pos);
			if (!pm->m[pm->n].path)
				return -ENOMEM;
			pm->m[pm->n].start = start;
			pm->m[pm->n].end = end;
			pm->m[pm->n].offset = off;
			pm->n++;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int get_maps(struct syms_user_cache *c, int pid, struct proc_maps **ret)
{
	struct proc_maps pm = { 0 };
	int r;

	for (size_t i = 0; i < c->npids; i++) {
		if (c->pids[i].pid == pid) {
			*ret = &c->pids[i];
			return 0;
		}
	}
	r = read_maps(pid, &pm);
	if (r < 0) {
		proc_maps_release(&pm);
		return r;
	}
	if (c->npids == SYMS_MAX_PIDS) {
		for (size_t i = 0; i < c->npids; i++)
			proc_maps_release(&c->pids[i]);
		c->npids = 0;
	}
	c->pids[c->npids] = pm;
	*ret = &c->pids[c->npids++];
	return 0;
}

static int get_file(struct syms_user_cache *c, const char *path, struct elf_file **ret)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = open_regular(path, &st);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i]->dev == st.st_dev && c->files[i]->ino == st.st_ino) {
			*ret = c->files[i];
			return 0;
		}
	}
	if (c->nfiles == SYMS_USER_MAX_FILES)
		user_cache_flush(c);
	r = elf_file_load(fd, &st, path, &c->files[c->nfiles]);
	if (r < 0)
		return r;
	*ret = c->files[c->nfiles++];
	return 0;
}

int syms_user_lookup(struct syms_user_cache *c, int pid, uint64_t addr, const char **ret_name,
		     uint64_t *ret_off, const char **ret_module)
{
	struct proc_maps *pm;
	int r;

	if (!c || pid <= 0)
		return -EINVAL;
	r = get_maps(c, pid, &pm);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pm->n; i++) {
		const struct mapping *m = &pm->m[i];
		struct elf_file *f;
		const struct sym *s;
		char path[96];
		uint64_t vaddr;

		if (addr < m->start || addr >= m->end)
			continue;
		/* the file mapped there, whatever its name has become: a pod's
		 * process can unlink it and put a symlink to a host file, a
		 * FIFO or a device at "NAME (deleted)" */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, m->start,
			 m->end);
		r = get_file(c, path, &f);
		if (r < 0)
			return -ENOENT;
		if (!elf_file_to_vaddr(f, addr - m->start + m->offset, &vaddr))
			return -ENOENT;
		s = elf_find(f, vaddr);
		if (!s)
			return -ENOENT;
		if (ret_name)
			*ret_name = s->name;
		if (ret_off)
			*ret_off = vaddr - s->start;
		if (ret_module)
			*ret_module = m->path;
		return 0;
	}
	return -ENOENT;
}

int syms_format_usym(struct buf *out, struct syms_user_cache *c, int pid, uint64_t addr,
		     bool show_offset, bool show_module)
{
	const char *name, *module;
	uint64_t off;
	int r;

	if (!out)
		return -EINVAL;
	if (!c || syms_user_lookup(c, pid, addr, &name, &off, &module) < 0) {
		r = add_pointer(out, addr);
		if (r >= 0 && show_module)
			r = buf_adds(out, " ([unknown])");
		return r;
	}
	r = buf_adds(out, name);
	if (r >= 0 && show_offset)
		r = buf_printf(out, "+%" PRIu64, off);
	if (r >= 0 && show_module)
		r = buf_printf(out, " (%s)", module);
	return r;
}

int syms_elf_symbol_addr(struct syms_user_cache *c, const char *path, const char *name,
			 uint64_t *ret_addr, uint64_t *ret_size)
{
	struct elf_file *f;
	int r;

	if (!c || !path || !name)
		return -EINVAL;
	r = get_file(c, path, &f);
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->nobjs; i++) {
		if (!strcmp(f->objs[i].name, name)) {
			if (ret_addr)
				*ret_addr = f->objs[i].start;
			if (ret_size)
				*ret_size = f->objs[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------------
 * stacks
 * ---------------------------------------------------------------------- */

int syms_format_stack(struct buf *out, const uint64_t *ips, size_t n,
		      const struct syms_stack_opts *o)
{
	int r;

	if (!out || !o || !OPTS_VALID(o, struct syms_stack_opts) || (n && !ips) || o->indent < 0 || o->indent > 64)
		return -EINVAL;
	r = buf_addc(out, '\n');
	for (size_t i = 0; i < n && r >= 0 && ips[i]; i++) {
		bool perf = o->mode == SYMS_STACK_PERF;

		if (perf)
			r = buf_printf(out, "\t%" PRIx64 " ", ips[i]);
		else
			r = buf_printf(out, "%*s", o->indent, "");
		if (r < 0)
			break;
		if (o->user)
			r = syms_format_usym(out, o->ucache, o->pid, ips[i], true, perf);
		else
			r = syms_format_ksym(out, o->kernel, ips[i], true);
		if (r >= 0)
			r = buf_addc(out, '\n');
	}
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------
 * time
 * ---------------------------------------------------------------------- */

static int strftime_buf(struct buf *out, const char *fmt, const struct tm *tm)
{
	char s[SYMS_TIME_MAX];
	size_t n = strftime(s, sizeof(s), fmt, tm);

	if (n == 0)
		return -ERANGE;
	return buf_add(out, s, n);
}

int syms_format_time(struct buf *out, const char *fmt, time_t t)
{
	struct tm tm;

	if (!out || !fmt)
		return -EINVAL;
	if (!localtime_r(&t, &tm))
		return -EOVERFLOW;
	return strftime_buf(out, fmt, &tm);
}

int syms_boottime(struct timespec *ret)
{
	long best = -1;

	if (!ret)
		return -EINVAL;
	/* bpftrace 0.17's "triple vdso sandwich": realtime, boottime,
	 * realtime, five times, keeping the tightest */
	for (int i = 0; i < 5; i++) {
		struct timespec before, after, boot;
		long delta, avg;

		if (clock_gettime(CLOCK_REALTIME, &before) || clock_gettime(CLOCK_BOOTTIME, &boot) ||
		    clock_gettime(CLOCK_REALTIME, &after))
			continue;
		if (before.tv_sec != after.tv_sec)
			continue;
		delta = after.tv_nsec - before.tv_nsec;
		if (delta < 0 || (best >= 0 && delta >= best))
			continue;
		best = delta;
		avg = (before.tv_nsec + after.tv_nsec) / 2;
		if (avg - boot.tv_nsec < 0) {
			ret->tv_sec = after.tv_sec - boot.tv_sec - 1;
			ret->tv_nsec = avg - boot.tv_nsec + 1000000000L;
		} else {
			ret->tv_sec = after.tv_sec - boot.tv_sec;
			ret->tv_nsec = avg - boot.tv_nsec;
		}
	}
	return best >= 0 ? 0 : -EAGAIN;
}

int syms_format_strftime(struct buf *out, const char *fmt, const struct timespec *boottime,
			 uint64_t nsecs)
{
	_cleanup_buf_ struct buf f = BUF_INIT(4096);
	char usecs[8];
	struct tm tm;
	time_t t;
	uint64_t ns;
	int r;

	if (!out || !fmt || !boottime)
		return -EINVAL;
	ns = (uint64_t)boottime->tv_nsec + nsecs;
	/* 0.17 adds in double precision */
	t = (time_t)(boottime->tv_sec + (double)ns / 1e9);
	snprintf(usecs, sizeof(usecs), "%06" PRIu64, (ns % 1000000000) / 1000);
	/* regex_replace(fmt, "%f", usecs): every "%f", left to right, even
	 * the one in "%%f" */
	for (const char *p = fmt; *p;) {
		if (p[0] == '%' && p[1] == 'f') {
			r = buf_adds(&f, usecs);
			p += 2;
		} else {
			r = buf_addc(&f, *p++);
		}
		if (r < 0)
			return r;
	}
	if (!localtime_r(&t, &tm) || strftime_buf(out, f.s, &tm) < 0)
		return buf_adds(out, "(?)");
	return 0;
}

/* ------------------------------------------------------------------------
 * cgroup paths
 * ---------------------------------------------------------------------- */

static void closedirp_(DIR **d)
{
	if (*d)
		closedir(*d);
}

struct cg_root {
	char name[256];
	char *path;
	char *found;
};

/* Depth-first walk for a directory with the inode; its path relative to
 * base into *ret.  *budget bounds the directories visited. */
static int cg_walk(const char *base, size_t base_len, const char *dir, uint64_t ino,
		   long *budget, char **ret)
{
	_cleanup_(closedirp_) DIR *d = NULL;
	struct dirent *de;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *child = NULL;
		struct stat st;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (--*budget < 0)
			return -TG_ELIMIT;
		if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
			return -ENOMEM;
		if (lstat(child, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (st.st_ino == ino) {
			*ret = strdup(child + base_len);
			return *ret ? 1 : -ENOMEM;
		}
		r = cg_walk(base, base_len, child, ino, budget, ret);
		if (r)
			return r;
	}
	return 0;
}

static int cg_root_cmp(const void *pa, const void *pb)
{
	const struct cg_root *a = pa, *b = pb;
	bool ua = !strcmp(a->name, "unified"), ub = !strcmp(b->name, "unified");

	if (ua != ub)
		return ua ? -1 : 1;
	return strcmp(a->name, b->name);
}

int syms_cgroup_path(struct buf *out, uint64_t cgid, const char *filter, const char *mounts)
{
	_cleanup_free_ char *text = NULL;
	struct cg_root roots[64];
	size_t nroots = 0, len;
	bool first = true;
	char *p;
	int r;

	if (!out)
		return -EINVAL;
	r = read_file(mounts ? mounts : "/proc/self/mounts", 4u << 20, &text, &len);
	if (r < 0)
		return r;
	for (p = text; p && *p && nroots < ARRAY_SIZE(roots);) {
		char *nl = strchr(p, '\n');
		char src[256], mnt[PATH_MAX], type[32];
		const char *slash;

		if (nl)
			*nl = '\0';
		if (sscanf(p, "%255s %4095s %31s", src, mnt, type) == 3 &&
		    (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))) {
			struct cg_root *cr = &roots[nroots];

			memset(cr, 0, sizeof(*cr));
			/* v1: the mount point's last component names the
			 * hierarchy; v2 is "unified" */
			const char *nm;

			slash = strrchr(mnt, '/');
			nm = !strcmp(type, "cgroup2") ? "unified" : (slash ? slash + 1 : mnt);
			if (strlen(nm) >= sizeof(cr->name)) {
				p = nl ? nl + 1 : NULL;
				continue;
			}
			memcpy(cr->name, nm, strlen(nm) + 1);
			if (glob_match(filter ? filter : "*", cr->name)) {
				cr->path = strdup(mnt);
				if (!cr->path) {
					r = -ENOMEM;
					goto out;
				}
				nroots++;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < nroots; i++) {
		struct stat st;
		long budget = SYMS_CGROUP_MAX_DIRS;

		if (stat(roots[i].path, &st) == 0 && st.st_ino == cgid) {
			roots[i].found = strdup("/");
			if (!roots[i].found) {
				r = -ENOMEM;
				goto out;
			}
			continue;
		}
		r = cg_walk(roots[i].path, strlen(roots[i].path), roots[i].path, cgid, &budget,
			    &roots[i].found);
		if (r < 0)
			goto out;
	}
	qsort(roots, nroots, sizeof(roots[0]), cg_root_cmp);
	r = 0;
	for (size_t i = 0; i < nroots && r >= 0; i++) {
		if (!roots[i].found || !*roots[i].found)
			continue;
		r = buf_printf(out, "%s%s:%s", first ? "" : ",", roots[i].name, roots[i].found);
		first = false;
	}
out:
	for (size_t i = 0; i < nroots; i++) {
		free(roots[i].path);
		free(roots[i].found);
	}
	return r < 0 ? r : 0;
}
