// SPDX-License-Identifier: Apache-2.0
/* The probe plan (see probes.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/perf_event.h>

#include "lib/cleanup.h"
#include "lib/cleanup-elf.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "policy/podscope.h"
#include "policy/tpfields.h"
#include "runner/elfcheck.h"
#include "runner/probes.h"
#include "runner/uprobe.h"
#include "runner/usdt.h"
#include "lib/banned.h"

__attribute__((format(printf, 4, 5)))
static int diag_set(struct lang_diag *d, struct lang_loc loc, int code, const char *fmt, ...)
{
	va_list ap;

	d->loc = loc;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return -code;
}

static int warn(struct plan *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(struct plan *pl, const char *fmt, ...)
{
	char **v;
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	v = realloc(pl->warnings, (pl->nwarnings + 2) * sizeof(*v));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	pl->warnings = v;
	v[pl->nwarnings++] = s;
	v[pl->nwarnings] = NULL;
	return 0;
}

static struct plan_prog *prog_new(struct plan *pl, struct lang_loc loc, struct lang_diag *d)
{
	struct plan_prog *p;

	if (pl->n == PLAN_MAX_PROGS) {
		diag_set(d, loc, TG_ELIMIT, "more than %d BPF programs", PLAN_MAX_PROGS);
		return NULL;
	}
	if (!(pl->n & 15)) {
		p = realloc(pl->progs, (pl->n + 16) * sizeof(*p));
		if (!p)
			return NULL;
		pl->progs = p;
	}
	p = &pl->progs[pl->n++];
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(p->fn, sizeof(p->fn), "tg_p%zu", pl->n - 1);
	return p;
}

struct swev {
	const char *name, *alias;
	uint64_t config, def;
};

static const struct swev swevs[] = {
	{ "cpu-clock", "cpu", PERF_COUNT_SW_CPU_CLOCK, 1000000 },
	{ "task-clock", NULL, PERF_COUNT_SW_TASK_CLOCK, 1000000 },
	{ "page-faults", "faults", PERF_COUNT_SW_PAGE_FAULTS, 100 },
	{ "context-switches", "cs", PERF_COUNT_SW_CONTEXT_SWITCHES, 1000 },
	{ "cpu-migrations", NULL, PERF_COUNT_SW_CPU_MIGRATIONS, 1 },
	{ "minor-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MIN, 100 },
	{ "major-faults", NULL, PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1 },
	{ "alignment-faults", NULL, PERF_COUNT_SW_ALIGNMENT_FAULTS, 1 },
	{ "emulation-faults", NULL, PERF_COUNT_SW_EMULATION_FAULTS, 1 },
	{ "dummy", NULL, PERF_COUNT_SW_DUMMY, 1 },
	{ "bpf-output", NULL, PERF_COUNT_SW_BPF_OUTPUT, 1 },
};

const char *plan_software_event(size_t i)
{
	return i < ARRAY_SIZE(swevs) ? swevs[i].name : NULL;
}

static int perf_plan(struct plan *pl, const struct lang_attach *a, size_t probe, struct lang_diag *d)
{
	struct plan_prog *p;
	const char *unit = a->target ? a->target : "";
	uint64_t mult = 0;

	if (!strcmp(a->type, "software")) {
		const struct swev *e = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(swevs); i++)
			if (!strcmp(unit, swevs[i].name) ||
			    (swevs[i].alias && !strcmp(unit, swevs[i].alias)))
				e = &swevs[i];
		if (!e)
			return diag_set(d, a->loc, TG_ETYPE, "software event \"%s\": unknown", unit);
		p = prog_new(pl, a->loc, d);
		if (!p)
			return -TG_ELIMIT;
		p->perf_type = PERF_TYPE_SOFTWARE;
		p->perf_config = e->config;
		p->period = a->freq ? a->freq : e->def;
		goto done;
	}
	if (!strcmp(unit, "s") || !strcmp(unit, "sec"))
		mult = 1000000000ull;
	else if (!strcmp(unit, "ms"))
		mult = 1000000ull;
	else if (!strcmp(unit, "us"))
		mult = 1000ull;
	else if (!strcmp(unit, "ns"))
		mult = 1;
	else if (strcmp(unit, "hz"))
		return diag_set(d, a->loc, TG_ETYPE, "%s: unit \"%s\" unknown (s, ms, us, hz)",
				a->type, unit);
	if (!a->freq || (mult && a->freq > UINT64_MAX / mult))
		return diag_set(d, a->loc, TG_ETYPE, "%s: needs a positive number", a->type);
	p = prog_new(pl, a->loc, d);
	if (!p)
		return -TG_ELIMIT;
	p->perf_type = PERF_TYPE_SOFTWARE;
	p->perf_config = PERF_COUNT_SW_CPU_CLOCK;
	if (mult) {
		p->period = a->freq * mult;
	} else if (!strcmp(a->type, "profile")) {
		p->period = a->freq;
		p->freq = true;
	} else {
		p->period = 1000000000ull / a->freq;
	}
	p->one_cpu = !strcmp(a->type, "interval");
done:
	p->kind = PK_PERF;
	p->probe = probe;
	p->section = strdup("perf_event");
	if (asprintf(&p->name, "%s:%s:%llu", a->type, unit, (unsigned long long)a->freq) < 0)
		p->name = NULL;
	return p->section && p->name ? 0 : -ENOMEM;
}

static int any_use(void *ctx, const char *field, const struct lang_loc *loc)
{
	(void)ctx;
	(void)field;
	(void)loc;
	return 1;
}

/* Whether probe reads its tracepoints' formats: it uses args (an error,
 * no such probe, reads them too).  Once per probe, not per tracepoint:
 * the walk is the size of the program. */
static bool probe_uses_args(const struct plan *pl, size_t probe)
{
	return !pl->prog || probe >= pl->prog->nprobes ||
	       tg_tpf_args_uses(&pl->prog->probes[probe], any_use, NULL) != 0;
}

static int tp_plan(struct plan *pl, const struct lang_attach *a, size_t probe, struct lang_diag *d)
{
	_cleanup_(strv_freep) char **v = NULL;
	_cleanup_free_ char *err = NULL;
	bool uses_args;
	size_t n = 0;
	int r;

	if (!a->target || !a->func)
		return diag_set(d, a->loc, TG_ETYPE, "tracepoint \"%s\": needs CATEGORY:NAME", a->raw);
	r = tp_expand(pl->tracefs, a->target, a->func, &v, &n, &err);
	if (r < 0)
		return diag_set(d, a->loc, r == -TG_ELIMIT ? TG_ELIMIT : TG_ELOAD, "%s",
				err ? err : strerror(-r));
	if (!n)
		return warn(pl, "probe \"%s\": no such tracepoint here, skipped", a->raw);
	uses_args = probe_uses_args(pl, probe);
	for (size_t i = 0; i < n; i++) {
		struct plan_prog *p = prog_new(pl, a->loc, d);
		char *colon = strchr(v[i], ':');

		if (!p)
			return -TG_ELIMIT;
		p->kind = PK_TRACEPOINT;
		p->probe = probe;
		*colon = '\0';
		/* the format when the program reads it, or the policy's field
		 * rules classify it (tg_tpf_check_format: not syscalls') */
		if (uses_args || (pl->all_formats && strcmp(v[i], "syscalls")))
			r = tp_format_read(pl->tracefs, v[i], colon + 1, &p->tp, &err);
		else
			r = tp_format_names(v[i], colon + 1, &p->tp);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			*colon = ':';
			r = warn(pl, "probe \"tracepoint:%s\": %s, skipped", v[i], err ? err : strerror(-r));
			free(TAKE_PTR(err));
			pl->n--;
			if (r < 0)
				return r;
			continue;
		}
		if (asprintf(&p->section, "tracepoint/%s/%s", v[i], colon + 1) < 0 ||
		    asprintf(&p->name, "tracepoint:%s:%s", v[i], colon + 1) < 0)
			return -ENOMEM;
		*colon = ':';
		p->tps = calloc(2, sizeof(*p->tps));
		if (!p->tps || !(p->tps[0] = strdup(v[i])))
			return -ENOMEM;
		p->ntps = 1;
	}
	return 0;
}

static int kprobe_one(struct plan *pl, const struct lang_attach *a, size_t probe, bool ret,
		      const char *func, struct lang_diag *d)
{
	struct plan_prog *p = prog_new(pl, a->loc, d);

	if (!p)
		return -TG_ELIMIT;
	p->kind = ret ? PK_KRETPROBE : PK_KPROBE;
	p->probe = probe;
	p->func = strdup(func);
	p->offset = a->offset;
	if (!p->func || asprintf(&p->section, "%s/%s", ret ? "kretprobe" : "kprobe", func) < 0 ||
	    asprintf(&p->name, "%s:%s", a->type, func) < 0)
		return -ENOMEM;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kprobe:vfs_* : the kernel's text symbols that match, each once, sorted
 * (bpftrace reads available_filter_functions, which needs ftrace; kallsyms
 * lists the same functions plus a few ftrace cannot trace). */
static int kprobe_glob(struct plan *pl, const struct lang_attach *a, size_t probe, bool ret,
		       struct lang_diag *d)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char **names = NULL;
	size_t n = 0, cap = 0;
	char *line, *next;
	int r;

	r = read_file("/proc/kallsyms", 64u << 20, &text, NULL);
	if (r < 0)
		return diag_set(d, a->loc, TG_ELOAD, "probe \"%s\": cannot read /proc/kallsyms: %s",
				a->raw, strerror(-r));
	for (line = text; line && *line; line = next) {
		char *type, *name, *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		type = strchr(line, ' ');
		if (!type || (type[1] != 't' && type[1] != 'T') || type[2] != ' ')
			continue;
		name = type + 3;
		end = strpbrk(name, " \t");
		if (end)
			continue;   /* a module's symbol ("name\t[mod]") */
		if (!glob_match(a->func, name))
			continue;
		if (n == cap) {
			char **v;

			if (n >= PLAN_MAX_PROGS)
				return diag_set(d, a->loc, TG_ELIMIT, "probe \"%s\": matches more than %d functions",
						a->raw, PLAN_MAX_PROGS);
			cap = cap ? cap * 2 : 64;
			v = realloc(names, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			names = v;
		}
		names[n++] = name;
	}
	if (!n)
		return warn(pl, "probe \"%s\": no kernel function matches, skipped", a->raw);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		r = kprobe_one(pl, a, probe, ret, names[i], d);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_elf(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char m[4];

	return fd >= 0 && read(fd, m, 4) == 4 && !memcmp(m, "\177ELF", 4);
}

/* lib<name>.so.<version> (or lib<name>.so) in dir; the highest version. */
static char *lib_in_dir(const char *dir, const char *name)
{
	_cleanup_free_ char *prefix = NULL, *best = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t pl;

	if (!d)
		return NULL;
	if (asprintf(&prefix, "%s%s.so", str_has_prefix(name, "lib") ? "" : "lib", name) < 0) {
		closedir(d);
		return NULL;
	}
	pl = strlen(prefix);
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL;

		if (strncmp(de->d_name, prefix, pl) || (de->d_name[pl] && de->d_name[pl] != '.'))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || !is_elf(path))
			continue;
		if (!best || strcmp(path, best) > 0) {
			free(best);
			best = TAKE_PTR(path);
		}
	}
	closedir(d);
	return TAKE_PTR(best);
}

/* bpftrace's resolution of a uprobe target without a '/': an executable
 * on PATH, else a library as the dynamic loader finds it ("libc" ->
 * /usr/lib/x86_64-linux-gnu/libc.so.6).  Unresolved names stay as given
 * (attaching then names them). */
static char *uprobe_path(const char *target)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
		"/lib", "/usr/lib", "/usr/local/lib", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu",
	};
	const char *env = getenv("PATH");
	_cleanup_free_ char *pathv = strdup(env ? env : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;

	if (strchr(target, '/') || !pathv)
		return strdup(target);
	for (char *dir = strtok_r(pathv, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s/%s", dir, target) >= 0 && access(p, X_OK) == 0 && is_elf(p))
			return TAKE_PTR(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *p = lib_in_dir(dirs[i], target);

		if (p)
			return p;
	}
	return strdup(target);
}

/* The file offset of virtual address v (its PT_LOAD segment). */
static void vaddr_to_off(Elf *e, uint64_t v, uint64_t *ret)
{
	size_t n = 0;

	*ret = 0;
	if (elf_getphdrnum(e, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
		    v >= ph.p_vaddr && v < ph.p_vaddr + ph.p_memsz) {
			*ret = v - ph.p_vaddr + ph.p_offset;
			return;
		}
	}
}

/* Calls fn(ctx, name, name_len, file_offset) for each function that
 * path's .symtab or .dynsym defines, name_len cutting a version suffix
 * ("pthread_create@GLIBC_2.2.5"); fn returns > 0 to stop.  Returns
 * -ENOENT when the file cannot be read as ELF or has no symbol table,
 * else what fn returned last (0 when it never stopped). */
static int elf_each_func(const char *path,
			 int (*fn)(void *ctx, const char *name, size_t len, uint64_t off), void *ctx)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_(elf_endp) Elf *e = NULL;
	Elf_Scn *scn = NULL;
	bool readable = false;
	int r;

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE || elf_check_fd(fd, path, NULL) < 0)
		return -ENOENT;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return -ENOENT;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		readable = true;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && i < (1u << 22); i++) {
			GElf_Sym sym;
			const char *n;
			uint64_t off = 0;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
			     GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC))
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!n || !*n)
				continue;
			vaddr_to_off(e, sym.st_value, &off);
			r = fn(ctx, n, strcspn(n, "@"), off);
			if (r)
				return r;
		}
	}
	return readable ? 0 : -ENOENT;
}

struct func_find {
	const char *name;
	uint64_t off;
};

static int func_find_one(void *ctx, const char *name, size_t len, uint64_t off)
{
	struct func_find *f = ctx;

	if (strlen(f->name) != len || strncmp(f->name, name, len))
		return 0;
	f->off = off;
	return 1;
}

/* True when path's .symtab or .dynsym defines function name, with its
 * file offset in *ret_off (0 when not found or unreadable); (a file
 * that cannot be read counts as having it: attaching will say why). */
static bool elf_has_func(const char *path, const char *name, uint64_t *ret_off)
{
	struct func_find f = { .name = name };
	int r = elf_each_func(path, func_find_one, &f);

	*ret_off = f.off;
	return r != 0;
}

/* The distinct function names of path that glob matches, sorted (as
 * bpftrace 0.17 expands a uprobe wildcard), at most PLAN_MAX_PROGS + 1
 * of them (the plan refuses more programs than that anyway). */
struct func_glob {
	const char *glob;
	char **v;              /* NULL-terminated */
	size_t n;
	int err;
};

static int func_glob_one(void *ctx, const char *name, size_t len, uint64_t off)
{
	struct func_glob *g = ctx;
	_cleanup_free_ char *n = strndup(name, len);
	char **v;

	if (!n)
		return g->err = -ENOMEM;
	if (!glob_match(g->glob, n))
		return 0;
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->v[i], n))
			return 0;
	if (g->n > PLAN_MAX_PROGS)
		return 1;
	v = realloc(g->v, (g->n + 2) * sizeof(*v));
	if (!v)
		return g->err = -ENOMEM;
	g->v = v;
	g->v[g->n++] = TAKE_PTR(n);
	g->v[g->n] = NULL;
	return 0;
}

/* *ret (NULL-terminated, strv_free) and *ret_n: may be empty */
static int elf_funcs_matching(const char *path, const char *glob, char ***ret, size_t *ret_n)
{
	struct func_glob g = { .glob = glob };
	int r = elf_each_func(path, func_glob_one, &g);

	if (g.err < 0 || r < 0) {
		strv_free(g.v);
		return g.err < 0 ? g.err : r;
	}
	if (g.n)
		qsort(g.v, g.n, sizeof(*g.v), cmp_str);
	*ret = g.v;
	*ret_n = g.n;
	return 0;
}

/* The roots of the pods of a scope, to find uprobe/usdt files in. */
struct pod_root {
	int fd;
	const char *label;
};

struct roots {
	struct pod_root *v;
	size_t n;
};

static void roots_release(struct roots *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].fd >= 0)
			close(rs->v[i].fd);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

/* One file to probe: the host path (local), or the file opened inside a
 * pod's root (fd >= 0, path "/proc/self/fd/N"). */
struct ufile {
	char *path;
	int fd;
};

static int roots_open(const struct scope *scope, struct roots *rs, struct lang_loc loc,
		      struct lang_diag *d)
{
	_cleanup_free_ char *mnt = NULL, *err = NULL;
	int r;

	r = cgroup2_mount_find(&mnt, &err);
	if (r < 0)
		return diag_set(d, loc, TG_ENOSCOPE, "%s", err ? err : strerror(-r));
	rs->v = calloc(scope->n ? scope->n : 1, sizeof(*rs->v));
	if (!rs->v)
		return -ENOMEM;
	for (size_t i = 0; i < scope->n; i++) {
		const struct scope_target *t = &scope->targets[i];
		pid_t pid = 0;

		rs->v[i].fd = -1;
		rs->v[i].label = t->label ? t->label : t->path;
		rs->n = i + 1;
		r = uprobe_pod_pid(t->path, rs->v[i].label, &pid, &err);
		if (r >= 0)
			r = uprobe_root_open(pid, mnt, t->path, &rs->v[i].fd, &err);
		if (r < 0)
			return diag_set(d, loc, r == -ENOMEM ? TG_ELIMIT : TG_ENOSCOPE, "%s",
					err ? err : strerror(-r));
	}
	return 0;
}

/* The files a uprobe/usdt target names: without roots, the host's
 * (resolved as bpftrace does); with roots, the file inside each pod's
 * root, each distinct file once.  A pod lacking the file is a warning. */
static int ufiles(struct plan *pl, const struct lang_attach *a, const struct roots *rs,
		  struct ufile **ret, size_t *ret_n)
{
	struct ufile *v = calloc(rs && rs->n ? rs->n : 1, sizeof(*v));
	struct stat *seen = calloc(rs && rs->n ? rs->n : 1, sizeof(*seen));
	size_t n = 0;
	int r = 0;

	if (!v || !seen) {
		free(v);
		free(seen);
		return -ENOMEM;
	}
	if (!rs) {
		v[0].fd = -1;
		v[0].path = uprobe_path(a->target);
		if (!v[0].path)
			r = -ENOMEM;
		n = v[0].path ? 1 : 0;
	}
	for (size_t i = 0; rs && i < rs->n && r >= 0; i++) {
		_cleanup_free_ char *inner = NULL, *err = NULL;
		_cleanup_close_ int fd = -1;
		struct stat st;
		bool dup = false;

		r = uprobe_resolve_in_root(rs->v[i].fd, a->target, &fd, &inner, &err);
		if (r == -ENOMEM)
			break;
		if (r < 0) {
			r = warn(pl, "probe \"%s\": pod \"%s\": %s, skipped", a->raw, rs->v[i].label,
				 err ? err : strerror(-r));
			continue;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			break;
		}
		for (size_t k = 0; k < n; k++)
			dup = dup || (seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino);
		if (dup)
			continue;
		r = uprobe_fd_path(fd, &v[n].path, &err);
		if (r < 0) {
			r = warn(pl, "probe \"%s\": pod \"%s\": %s, skipped", a->raw, rs->v[i].label,
				 err ? err : strerror(-r));
			continue;
		}
		seen[n] = st;
		v[n++].fd = TAKE_FD(fd);
	}
	free(seen);
	if (r < 0) {
		for (size_t k = 0; k < n; k++) {
			free(v[k].path);
			if (v[k].fd >= 0)
				close(v[k].fd);
		}
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void ufiles_free(struct ufile *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(v[k].path);
		if (v[k].fd >= 0)
			close(v[k].fd);
	}
	free(v);
}

/* One uprobe program: func in file (its offset foff when resolved) */
static int uprobe_prog(struct plan *pl, const struct lang_attach *a, size_t probe, const char *path,
		       const char *func, uint64_t foff, struct lang_diag *d)
{
	bool ret = !strcmp(a->type, "uretprobe");
	struct plan_prog *p = prog_new(pl, a->loc, d);

	if (!p)
		return -TG_ELIMIT;
	p->kind = ret ? PK_URETPROBE : PK_UPROBE;
	p->probe = probe;
	p->fd = -1;
	p->path = strdup(path);
	/* resolved here: libbpf refuses a name defined twice
	 * (versioned symbols such as pthread_create@GLIBC_2.2.5) */
	p->resolved = func && foff != 0;
	p->func = func ? strdup(func) : NULL;
	p->offset = func ? a->offset : a->address;
	if (p->resolved)
		p->offset += foff;
	p->section = strdup(ret ? "uretprobe" : "uprobe");
	if (!p->path || (func && !p->func) || !p->section ||
	    asprintf(&p->name, "%s:%s:%s", a->type, a->target, func ? func : "") < 0)
		return -ENOMEM;
	return 0;
}

/* The programs of one file: the function, or each one a wildcard
 * matches (none is no error: bpftrace 0.17 attaches what matches) */
static int uprobe_file(struct plan *pl, const struct lang_attach *a, size_t probe, struct ufile *f,
		       struct lang_diag *d)
{
	_cleanup_(strv_freep) char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (a->func && strpbrk(a->func, "*?[")) {
		r = elf_funcs_matching(f->path, a->func, &names, &n);
		if (r < 0)
			return r == -ENOMEM ? r : warn(pl, "probe \"%s\": cannot read the symbols of \"%s\", skipped",
						       a->raw, f->path);
		for (size_t k = 0; k < n && r >= 0; k++) {
			uint64_t foff = 0;

			elf_has_func(f->path, names[k], &foff);
			r = uprobe_prog(pl, a, probe, f->path, names[k], foff, d);
		}
	} else {
		uint64_t foff = 0;

		if (a->func && !elf_has_func(f->path, a->func, &foff))
			return 0;   /* bpftrace drops a function the file lacks, silently
				       (glibc 2.34's libpthread has no pthread_create:
				       0.17 attaches nothing for it either) */
		n = 1;
		r = uprobe_prog(pl, a, probe, f->path, a->func, foff, d);
	}
	/* the programs' paths may name this fd: the plan keeps it open */
	if (r >= 0 && n && f->fd >= 0) {
		pl->progs[pl->n - 1].fd = f->fd;
		f->fd = -1;
	}
	return r;
}

static int uprobe_plan(struct plan *pl, const struct lang_attach *a, size_t probe,
		       const struct roots *rs, struct lang_diag *d)
{
	struct ufile *files = NULL;
	size_t nfiles = 0;
	int r;

	if (!a->target || (!a->func && !a->address))
		return diag_set(d, a->loc, TG_EUNSUPPORTED, "probe \"%s\": needs PATH:FUNCTION", a->raw);
	if (a->func && strpbrk(a->func, "*?[") && a->offset)
		return diag_set(d, a->loc, TG_EUNSUPPORTED,
				"probe \"%s\": an offset needs one function, not a wildcard", a->raw);
	/* Under a scope the breakpoint is written into the pod's processes:
	 * only at a function's entry, never at an offset or an address that
	 * could fall inside an instruction (policy/podscope.h: the gateway
	 * refuses the same). */
	if (rs && tg_uprobe_not_at_entry(a))
		return diag_set(d, a->loc, TG_EPOLICY, "probe \"%s\": %s", a->raw, TG_UPROBE_ENTRY_ONLY);
	r = ufiles(pl, a, rs, &files, &nfiles);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nfiles && r >= 0; i++)
		r = uprobe_file(pl, a, probe, &files[i], d);
	ufiles_free(files, nfiles);
	return r;
}

/* usdt:PATH:[PROVIDER:]NAME, provider and name globs: one program per
 * matching probe of each file (libbpf attaches every site of it). */
static int usdt_plan(struct plan *pl, const struct lang_attach *a, size_t probe,
		     const struct roots *rs, struct lang_diag *d)
{
	struct ufile *files = NULL;
	size_t nfiles = 0, matched = 0;
	int r;

	if (!a->target || !a->func)
		return diag_set(d, a->loc, TG_ETYPE, "probe \"%s\": needs usdt:PATH:[PROVIDER:]NAME",
				a->raw);
	r = ufiles(pl, a, rs, &files, &nfiles);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nfiles && r >= 0; i++) {
		_cleanup_close_ int own = -1;
		_cleanup_free_ char *err = NULL;
		struct usdt_probe *ps = NULL;
		size_t nps = 0;
		int fd = files[i].fd;

		if (fd < 0)
			fd = own = open(files[i].path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			r = warn(pl, "probe \"%s\": cannot open \"%s\": %s, skipped", a->raw,
				 files[i].path, strerror(errno));
			continue;
		}
		r = usdt_list(fd, a->target, &ps, &nps, &err);
		if (r < 0) {
			r = r == -ENOMEM ? r : warn(pl, "probe \"%s\": %s, skipped", a->raw,
						    err ? err : strerror(-r));
			continue;
		}
		for (size_t k = 0; k < nps && r >= 0; k++) {
			struct plan_prog *p;

			if (!usdt_match(&ps[k], a->ns, a->func))
				continue;
			p = prog_new(pl, a->loc, d);
			if (!p) {
				r = -TG_ELIMIT;
				break;
			}
			matched++;
			p->kind = PK_USDT;
			p->probe = probe;
			p->fd = -1;
			p->path = strdup(files[i].path);
			p->provider = strdup(ps[k].provider);
			p->sites = ps[k].sites;
			p->func = strdup(ps[k].name);
			p->section = strdup("usdt");
			if (!p->path || !p->provider || !p->func || !p->section ||
			    asprintf(&p->name, "usdt:%s:%s:%s", a->target, ps[k].provider, ps[k].name) < 0)
				r = -ENOMEM;
		}
		usdt_list_free(ps, nps);
		/* the programs' paths name this fd: the plan keeps it open */
		if (r >= 0 && files[i].fd >= 0 && matched) {
			struct plan_prog *last = &pl->progs[pl->n - 1];

			if (last->kind == PK_USDT && last->fd < 0 && !strcmp(last->path, files[i].path)) {
				last->fd = files[i].fd;
				files[i].fd = -1;
			}
		}
	}
	ufiles_free(files, nfiles);
	if (r < 0)
		return r == -TG_ELIMIT ? diag_set(d, a->loc, TG_ELIMIT, "more than %d BPF programs",
						  PLAN_MAX_PROGS) : r;
	if (!matched && nfiles)
		return warn(pl, "probe \"%s\": no such usdt probe, skipped", a->raw);
	return 0;
}

static int probe_plan(struct plan *pl, const struct lang_attach *a, size_t probe,
		      const struct roots *rs, struct lang_diag *d)
{
	bool ret;

	if (!strcmp(a->type, "tracepoint"))
		return tp_plan(pl, a, probe, d);
	if (!strcmp(a->type, "interval") || !strcmp(a->type, "profile") ||
	    !strcmp(a->type, "software"))
		return perf_plan(pl, a, probe, d);
	if (!strcmp(a->type, "kprobe") || !strcmp(a->type, "kretprobe")) {
		ret = !strcmp(a->type, "kretprobe");
		if (!a->func || a->target)
			return diag_set(d, a->loc, TG_EUNSUPPORTED,
					"probe \"%s\": kernel modules are not supported", a->raw);
		if (strpbrk(a->func, "*?["))
			return kprobe_glob(pl, a, probe, ret, d);
		return kprobe_one(pl, a, probe, ret, a->func, d);
	}
	if (!strcmp(a->type, "uprobe") || !strcmp(a->type, "uretprobe"))
		return uprobe_plan(pl, a, probe, rs, d);
	if (!strcmp(a->type, "usdt"))
		return usdt_plan(pl, a, probe, rs, d);
	return diag_set(d, a->loc, TG_EUNSUPPORTED, "probe type \"%s\": not supported", a->type);
}

int plan_build(struct lang_program *prog, struct plan *pl, struct lang_diag *d)
{
	return plan_build_scoped(prog, NULL, true, pl, d);
}

static bool is_user_probe(const char *type)
{
	return !strcmp(type, "uprobe") || !strcmp(type, "uretprobe") || !strcmp(type, "usdt");
}

int plan_build_scoped(struct lang_program *prog, const struct scope *scope, bool all_formats,
		      struct plan *pl, struct lang_diag *d)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_(roots_release) struct roots roots = { 0 };
	bool need_tracefs = false, need_roots = false;
	size_t real = 0;
	int r;

	memset(pl, 0, sizeof(*pl));
	pl->prog = prog;
	pl->all_formats = all_formats;
	pl->probe_tp = calloc(prog->nprobes ? prog->nprobes : 1, sizeof(*pl->probe_tp));
	if (!pl->probe_tp)
		return -ENOMEM;
	for (size_t i = 0; i < prog->nprobes; i++)
		for (size_t j = 0; j < prog->probes[i].nattach; j++)
			if (!strcmp(prog->probes[i].attach[j].type, "tracepoint"))
				need_tracefs = true;
			else if (is_user_probe(prog->probes[i].attach[j].type))
				need_roots = true;
	if (scope && need_roots) {
		/* a pod's files are its containers', found through one of its
		 * processes (runner/uprobe.h) */
		r = roots_open(scope, &roots, prog->probes[0].loc, d);
		if (r < 0)
			return r;
	}
	if (need_tracefs) {
		r = tracefs_find(&pl->tracefs, &err);
		if (r < 0)
			return diag_set(d, prog->probes[0].loc, TG_ELOAD, "%s", err ? err : strerror(-r));
	}
	for (size_t i = 0; i < prog->nprobes; i++) {
		struct lang_probe *pr = &prog->probes[i];
		size_t first = pl->n;

		for (size_t j = 0; j < pr->nattach; j++) {
			const struct lang_attach *a = &pr->attach[j];
			bool begin = !strcmp(a->type, "BEGIN"), end = !strcmp(a->type, "END");

			if (begin || end) {
				struct plan_prog *p;

				p = prog_new(pl, a->loc, d);
				if (!p)
					return -TG_ELIMIT;
				p->kind = begin ? PK_BEGIN : PK_END;
				p->probe = i;
				p->section = strdup(begin ? "tg_begin" : "tg_end");
				p->name = strdup(a->type);
				if (!p->section || !p->name)
					return -ENOMEM;
				continue;
			}
			r = probe_plan(pl, a, i, scope && need_roots ? &roots : NULL, d);
			if (r < 0)
				return r;
		}
		for (size_t k = first; k < pl->n; k++) {
			if (pl->progs[k].kind == PK_TRACEPOINT) {
				pl->probe_tp[i] = &pl->progs[k].tp;
				break;
			}
		}
	}
	/* the array moved as it grew: each probe's first tracepoint program
	 * is where it is now (a later probe's realloc left older pointers
	 * dangling: sema read freed memory) */
	for (size_t k = pl->n; k-- > 0;)
		if (pl->progs[k].kind == PK_TRACEPOINT)
			pl->probe_tp[pl->progs[k].probe] = &pl->progs[k].tp;
	/* BEGIN and END each become one function (their blocks in order). */
	for (size_t k = 0; k < pl->n; k++) {
		if (pl->progs[k].kind == PK_BEGIN)
			snprintf(pl->progs[k].fn, sizeof(pl->progs[k].fn), "tg_prog_begin");
		else if (pl->progs[k].kind == PK_END)
			snprintf(pl->progs[k].fn, sizeof(pl->progs[k].fn), "tg_prog_end");
		else
			real++;
	}
	if (!pl->n)
		return diag_set(d, prog->nprobes ? prog->probes[0].loc : (struct lang_loc){ 1, 1 },
				TG_ENOPROBE, "no probe of the program exists here%s%s",
				pl->nwarnings ? ": " : "",
				pl->nwarnings ? pl->warnings[pl->nwarnings - 1] : "");
	(void)real;
	return 0;
}

void plan_share(struct plan *pl, size_t probe)
{
	struct plan_prog *keep = NULL;
	size_t w = 0;

	for (size_t k = 0; k < pl->n; k++) {
		struct plan_prog *p = &pl->progs[k];

		if (p->kind == PK_TRACEPOINT && p->probe == probe) {
			if (!keep) {
				keep = &pl->progs[w];
			} else {
				char **v = realloc(keep->tps, (keep->ntps + 2) * sizeof(*v));

				if (v) {
					keep->tps = v;
					v[keep->ntps++] = TAKE_PTR(p->tps[0]);
					v[keep->ntps] = NULL;
					strv_free(p->tps);
					p->tps = NULL;
					tp_format_release(&p->tp);
					free(p->section);
					free(p->name);
					continue;
				}
			}
		}
		if (&pl->progs[w] != p)
			pl->progs[w] = *p;
		if (keep == p)
			keep = &pl->progs[w];
		w++;
	}
	pl->n = w;
	/* probe_tp pointers moved with their programs: recompute them all */
	for (size_t k = pl->n; k-- > 0;)
		if (pl->progs[k].kind == PK_TRACEPOINT)
			pl->probe_tp[pl->progs[k].probe] = &pl->progs[k].tp;
}

void plan_release(struct plan *pl)
{
	for (size_t k = 0; k < pl->n; k++) {
		struct plan_prog *p = &pl->progs[k];

		free(p->section);
		free(p->name);
		tp_format_release(&p->tp);
		strv_free(p->tps);
		free(p->path);
		free(p->func);
		free(p->provider);
		if (p->fd >= 0)
			close(p->fd);
	}
	free(pl->progs);
	free(pl->probe_tp);
	strv_free(pl->warnings);
	free(pl->tracefs);
	memset(pl, 0, sizeof(*pl));
}
