// SPDX-License-Identifier: Apache-2.0
/*
 * The language's builtins: the functions (printf, str, count, ...) and the
 * identifiers (pid, comm, nsecs, ...), one row each in a table sorted by
 * name at the end of this file.  A function's row says how many arguments
 * it takes, which of them must be string literals or maps, the error when
 * they do not fit, and whether it is an aggregation (count, hist, ...),
 * which only a map assignment takes (sema-maps.c sem_assign_agg).
 *
 * The language's own expressions inside a call (an argument) are typed
 * through the context's callbacks (sem_expr, sem_want_int), so this file
 * calls nothing of sema.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/scope.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

static const struct sem_type T_NONE = { .k = ST_NONE };
static const struct sem_type T_U64 = { .k = ST_INT, .size = 8, .sign = false };
static const struct sem_type T_S64 = { .k = ST_INT, .size = 8, .sign = true };

/* arg0 .. arg99 share one row of the identifiers' table */
static const char ARGN[] = "argN";

static bool is_argn(const char *name)
{
	return !strncmp(name, "arg", 3) && name[3] >= '0' && name[3] <= '9' &&
	       (name[4] == '\0' || (name[4] >= '0' && name[4] <= '9' && name[5] == '\0'));
}

/* Both tables' rows begin with their name. */
static int row_cmp(const void *key, const void *row)
{
	return strcmp(key, *(const char *const *)row);
}

/* "NAME(): USAGE", the error of a call whose arguments do not fit its row
 * (the function's table, below) */
static int usage(struct sctx *c, const struct lang_node *n)
{
	const struct sem_func *f = sem_func_find(n->str);

	return sem_err(c, n->loc, TG_ETYPE, "%s(): %s", f->name, f->usage);
}

/* --- records: what printf, print, time and join send to user space -------- */

int sem_site_new(struct sctx *c, struct lang_node *n, struct sem_node *a, enum sem_rec_kind k,
		 const char *fmt)
{
	struct sem_site *st;

	if (a->site < 0) {
		if (c->s->nsites == SEM_MAX_PRINTFS)
			return sem_err(c, n->loc, TG_ELIMIT, "more than %d printf/print/time calls",
				   SEM_MAX_PRINTFS);
		if (!(c->s->nsites & 63)) {
			struct sem_site *v = realloc(c->s->sites, (c->s->nsites + 64) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->s->sites = v;
		}
		a->site = (int)c->s->nsites++;
	}
	st = &c->s->sites[a->site];
	memset(st, 0, sizeof(*st));
	st->kind = k;
	st->fmt = fmt;
	st->size = SEM_REC_HDR;
	st->loc = n->loc;
	return 0;
}

static int site_arg(struct sctx *c, struct lang_node *n, struct sem_site *st)
{
	struct sem_fmt_arg *fa;

	if (st->nargs == SEM_MAX_FMT_ARGS)
		return sem_err(c, n->loc, TG_ELIMIT, "more than %d arguments", SEM_MAX_FMT_ARGS);
	fa = &st->args[st->nargs++];
	fa->t = sem_of(n)->t;
	fa->off = st->size;
	fa->size = sem_is_blob(&fa->t) ? sem_round8(fa->t.slen) : 8;
	st->size += fa->size;
	if (st->size > SEM_MAX_RECORD)
		return sem_err(c, n->loc, TG_ELIMIT, "arguments larger than %d bytes", SEM_MAX_RECORD);
	return 0;
}

/* printf("fmt", ...), cat("fmt", ...) */
static int call_printf(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_site *st;
	int r;

	r = sem_site_new(c, n, a, !strcmp(n->str, "cat") ? REC_CAT : REC_PRINTF, n->kids[0]->str);
	if (r < 0)
		return r;
	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	for (size_t i = 1; i < n->nkids; i++) {
		r = sem_expr(c, n->kids[i]);
		if (r < 0)
			return r;
		if (sem_of(n->kids[i])->t.k != ST_INT && !sem_is_blob(&sem_of(n->kids[i])->t))
			return sem_err(c, n->kids[i]->loc, TG_ETYPE, "%s(): argument %zu has no value",
				   n->str, i);
		st = &c->s->sites[a->site];
		r = site_arg(c, n->kids[i], st);
		if (r < 0)
			return r;
	}
	return 0;
}

static int call_time(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (n->nkids && !sem_aux(c, n->kids[0]))
		return -ENOMEM;
	return sem_site_new(c, n, a, REC_TIME, n->nkids ? n->kids[0]->str : "%H:%M:%S\n");
}

/* --- str() ---------------------------------------------------------------- */

static int posparam_str(struct sctx *c, struct lang_node *n, struct sem_node *a, int64_t skip)
{
	const char *v = "";

	if (n->u64 >= 1 && n->u64 <= c->s->nparams)
		v = c->s->params[n->u64 - 1];
	if (skip < 0 || (uint64_t)skip > strlen(v))
		return sem_err(c, n->loc, TG_ETYPE, "positional parameter $%llu: offset out of range",
			   (unsigned long long)n->u64);
	a->t = (struct sem_type){ .k = ST_STR, .slen = (uint32_t)MIN(strlen(v + skip) + 1, SEM_STRLEN) };
	a->is_const = true;
	a->cstr = v + skip;
	/* what the value holds: the rest is never read (a parameter of
	 * any length reached clang whole, and failed it past 1 KiB) */
	a->cstrlen = MIN(strlen(v + skip), (size_t)a->t.slen - 1);
	return 0;
}

/* str($1, len): the parameter's first len bytes (0.17: str($1, 2) of
 * "hello" is "he"); a is the call's copy of the parameter's analysis.
 * A length known only at run time (`str($1, $n)`) leaves the call
 * non-constant: codegen copies the parameter's bytes, bounded then as
 * 0.17 bounds them. */
static int posparam_len(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int64_t len;
	int r;

	if (n->nkids < 2)
		return 0;
	r = sem_want_int(c, n->kids[1], "str() length");
	if (r < 0)
		return r;
	if (!sem_of(n->kids[1])->is_const) {
		a->is_const = false;
		return 0;
	}
	len = sem_of(n->kids[1])->cval;
	if (len < 0)
		return sem_err(c, n->kids[1]->loc, TG_ETYPE, "str(): negative length");
	if ((uint64_t)len < a->cstrlen) {
		a->cstrlen = (size_t)len;
		a->t.slen = (uint32_t)len + 1;
	}
	return 0;
}

static int call_str(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct lang_node *x;
	int r;

	x = n->kids[0];
	if (x->kind == TG_N_POSPARAM) {
		r = posparam_str(c, x, sem_aux(c, x), 0);
		if (r < 0)
			return r;
		*a = *sem_of(x);
		a->site = -1;
		return posparam_len(c, n, a);
	}
	if (x->kind == TG_N_BINOP && x->op == TG_OP_ADD && x->kids[0]->kind == TG_N_POSPARAM) {
		int64_t off;

		r = sem_want_const(c, x->kids[1], "str()", &off);
		if (r < 0)
			return r;
		if (!sem_aux(c, x))
			return -ENOMEM;
		r = posparam_str(c, x->kids[0], sem_aux(c, x->kids[0]), off);
		if (r < 0)
			return r;
		*sem_of(x) = *sem_of(x->kids[0]);
		*a = *sem_of(x);
		a->site = -1;
		return posparam_len(c, n, a);
	}
	r = sem_expr(c, x);
	if (r < 0)
		return r;
	if (sem_of(x)->t.k == ST_STR) {
		a->t = sem_of(x)->t;
	} else if (sem_of(x)->t.k == ST_INT) {
		a->t = (struct sem_type){ .k = ST_STR, .slen = SEM_STRLEN };
	} else {
		return sem_err(c, x->loc, TG_ETYPE, "str(): argument has no value");
	}
	if (n->nkids == 2) {
		r = sem_want_int(c, n->kids[1], "str() length");
		if (r < 0)
			return r;
		/* 0.17: "str cannot use negative length" */
		if (sem_of(n->kids[1])->is_const && sem_of(n->kids[1])->cval < 0)
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "str(): negative length");
	}
	return 0;
}

/* --- values user space formats: symbols, stacks, times, cgroup paths ------ */

static int str_id(struct sctx *c, struct lang_node *lit, uint16_t *ret)
{
	struct sem *s = c->s;

	for (size_t i = 0; i < s->nstrs; i++) {
		if (!strcmp(s->strs[i], lit->str)) {
			*ret = (uint16_t)i;
			return 0;
		}
	}
	if (s->nstrs == SEM_MAX_STRS)
		return sem_err(c, lit->loc, TG_ELIMIT, "more than %d distinct strftime formats and filters",
			   SEM_MAX_STRS);
	s->strs[s->nstrs] = lit->str;
	*ret = (uint16_t)s->nstrs++;
	return 0;
}

/* kstack, ustack (n, call NULL) and kstack(...), ustack(...) (call n):
 * kstack(perf), kstack(3), kstack(bpftrace, 3) */
static int stack_type(struct sctx *c, struct lang_node *n, struct sem_node *a, struct lang_node *call)
{
	bool user = n->str[0] == 'u';
	int64_t limit = SEM_STACK_FRAMES;
	bool perf = false;

	for (size_t i = 0; call && i < call->nkids; i++) {
		struct lang_node *k = call->kids[i];
		int r;

		if (k->kind == TG_N_IDENT && i == 0) {
			if (!sem_aux(c, k))
				return -ENOMEM;
			if (strcmp(k->str, "perf") && strcmp(k->str, "bpftrace"))
				return sem_err(c, k->loc, TG_ETYPE, "%s(): mode \"%s\": expected perf or bpftrace",
					   n->str, k->str);
			perf = !strcmp(k->str, "perf");
			continue;
		}
		r = sem_want_const(c, k, n->str, &limit);
		if (r < 0)
			return r;
		if (limit < 1 || limit > SEM_STACK_FRAMES)
			return sem_err(c, k->loc, TG_ETYPE, "%s(): frame count must be 1..%d", n->str,
				   SEM_STACK_FRAMES);
	}
	c->s->uses_stacks = true;
	c->s->uses_user_syms |= user;
	c->s->stack_frames[limit] = true;
	a->t = (struct sem_type){ .k = ST_TEXT, .text = user ? TX_USTACK : TX_KSTACK,
				  .slen = user ? 16 : 8, .stack_perf = perf, .arg = (uint16_t)limit };
	return 0;
}

static int call_stack(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	return stack_type(c, n, a, n);
}

/* ksym(addr), usym(addr) */
static int call_sym(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	bool kernel = n->str[0] == 'k';
	int r;

	r = sem_want_int(c, n->kids[0], n->str);
	if (r < 0)
		return r;
	a->t = (struct sem_type){ .k = ST_TEXT, .text = kernel ? TX_KSYM : TX_USYM, .slen = kernel ? 8 : 16 };
	c->s->uses_user_syms |= !kernel;
	return 0;
}

static int call_strftime(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r;

	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	r = sem_want_int(c, n->kids[1], "strftime()");
	if (r < 0)
		return r;
	a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_STRFTIME, .slen = 8 };
	return str_id(c, n->kids[0], &a->t.arg);
}

static int call_cgroup_path(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	uint16_t id = 0;
	int r;

	r = sem_want_int(c, n->kids[0], "cgroup_path()");
	if (r < 0)
		return r;
	if (n->nkids == 2) {
		if (!sem_aux(c, n->kids[1]))
			return -ENOMEM;
		r = str_id(c, n->kids[1], &id);
		if (r < 0)
			return r;
		id++;
	}
	a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_CGPATH, .slen = 8, .arg = id };
	return 0;
}

/* --- maps: print, clear, zero, has_key, len, delete; the aggregations ----- */

/* clear(@m), zero(@m), print(@m [, top [, div]]) */
static int map_whole(struct sctx *c, struct lang_node *n)
{
	int64_t v;
	int r;

	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	r = sem_map_get(c, n->kids[0], &sem_of(n->kids[0])->map) ? 0 : -TG_ELIMIT;
	if (r < 0)
		return sem_err(c, n->loc, TG_ELIMIT, "more than %d maps", SEM_MAX_MAPS);
	for (size_t i = 1; i < n->nkids; i++) {
		r = sem_want_const(c, n->kids[i], "print()", &v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int call_clear(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	return map_whole(c, n);
}

/* print(@m [, top [, div]]) or print(value) */
static int call_print(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r;

	if (n->kids[0]->kind == TG_N_MAP && !n->kids[0]->nkids) {
		if (n->nkids > 3)
			return sem_err(c, n->loc, TG_ETYPE, "print(): takes a map and at most 2 integers");
		return map_whole(c, n);
	}
	if (n->nkids != 1)
		return usage(c, n);
	r = sem_expr(c, n->kids[0]);
	if (r < 0)
		return r;
	if (sem_of(n->kids[0])->t.k != ST_INT && !sem_is_blob(&sem_of(n->kids[0])->t))
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "print(): argument has no value");
	r = sem_site_new(c, n, a, REC_PRINT_VAL, NULL);
	if (r < 0)
		return r;
	return site_arg(c, n->kids[0], &c->s->sites[a->site]);
}

/* bpftrace 0.2x (docs/stdlib.md "has_key"): has_key(@m, k), a key of
 * several parts as a tuple (1, "x"); the map node gets the analysis of
 * @m[k] (codegen rebuilds that node) */
static int call_has_key(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct lang_node tmp;
	const struct lang_node *k;
	struct sem_map *m;
	int r;

	k = n->kids[1];
	tmp = *n->kids[0];
	tmp.kids = k->kind == TG_N_TUPLE ? k->kids : &n->kids[1];
	tmp.nkids = k->kind == TG_N_TUPLE ? k->nkids : 1;
	if (!tmp.nkids)
		return sem_err(c, k->loc, TG_ETYPE, "has_key(): an empty key");
	r = sem_map_ref(c, &tmp, &m);
	if (r < 0)
		return r;
	n->kids[0]->aux = tmp.aux;
	a->t = T_U64;
	return 0;
}

/* kstack, ustack, kstack(...), ustack(...) */
static bool is_stack(const struct lang_node *n)
{
	return (n->kind == TG_N_BUILTIN || n->kind == TG_N_CALL) && n->str &&
	       (!strcmp(n->str, "kstack") || !strcmp(n->str, "ustack"));
}

/* bpftrace 0.2x (docs/stdlib.md "len"): "For maps, return the number of
 * elements in the map.  For kstack/ustack, return the depth (measured in
 * # of frames) of the call stack." */
static int call_len(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	if (is_stack(n->kids[0])) {
		r = sem_expr(c, n->kids[0]);
		if (r < 0)
			return r;
		c->s->uses_stack_len = true;
		a->t = T_S64;
		return 0;
	}
	if (n->kids[0]->kind != TG_N_MAP || n->kids[0]->nkids)
		return usage(c, n);
	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	m = sem_map_get(c, n->kids[0], &sem_of(n->kids[0])->map);
	if (!m)
		return sem_err(c, n->loc, TG_ELIMIT, "more than %d maps", SEM_MAX_MAPS);
	if (c->final && m->keys_known && !m->nkeys)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "len(): map \"%s\" has no keys (a scalar map)",
			       m->name);
	if (m->kind == MK_HIST || m->kind == MK_LHIST)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "len(): not supported on a %s() map (its entries are per bucket)",
			       sem_mkind_str(m->kind));
	a->t = T_S64;
	return 0;
}

static int call_delete(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;

	return sem_map_ref(c, n->kids[0], &m);
}

/* count(), hist(x), ... anywhere but as a map's value (sem_assign_agg) */
static int call_agg(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	return sem_err(c, n->loc, TG_ETYPE, "%s(): only as the value of a map assignment (@m = %s(...))",
		       n->str, n->str);
}

/* --- exit, strncmp, cgroupid, reg, pton ----------------------------------- */

static int call_exit(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (n->nkids == 1)
		return sem_want_int(c, n->kids[0], "exit()");
	return 0;
}

static int call_strncmp(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int64_t v;
	int r;

	for (int i = 0; i < 2; i++) {
		r = sem_expr(c, n->kids[i]);
		if (r < 0)
			return r;
		if (sem_of(n->kids[i])->t.k != ST_STR)
			return sem_err(c, n->kids[i]->loc, TG_ETYPE, "strncmp(): expected a string");
	}
	r = sem_want_const(c, n->kids[2], "strncmp()", &v);
	if (r < 0)
		return r;
	if (v < 0)
		return sem_err(c, n->kids[2]->loc, TG_ETYPE, "strncmp(): negative length");
	a->t = T_U64;
	return 0;
}

/*
 * The id of the cgroup at path: its inode on the node's cgroup2 mount.
 * The path is the tenant's, and the runner is root: it is looked up
 * beneath that mount only (no "..", symlink or other mount on the way),
 * never stat()ed where it points, so cgroupid() neither tells whether a
 * file of the node exists nor waits on a network or FUSE mount.
 */
static int cgroup_ino(const char *path, uint64_t *ret)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
					   RESOLVE_NO_XDEV };
	_cleanup_free_ char *mnt = NULL, *err = NULL;
	_cleanup_close_ int root = -1, fd = -1;
	const char *rel;
	struct stat st;
	size_t ml;

	if (cgroup2_mount_find(&mnt, &err) < 0)
		return -ENOENT;
	ml = strlen(mnt);
	if (strncmp(path, mnt, ml) || (path[ml] && path[ml] != '/'))
		return -ENOENT;
	for (rel = path + ml; *rel == '/'; rel++)
		;
	root = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	*ret = (uint64_t)st.st_ino;
	return 0;
}

static int call_cgroupid(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	uint64_t ino = 0;

	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	/* one message whatever failed: no oracle of the node's files */
	if (cgroup_ino(n->kids[0]->str, &ino) < 0)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE,
			       "cgroupid(): \"%s\" is not a cgroup of this node (a directory of its cgroup2 mount)",
			       n->kids[0]->str);
	a->t = T_U64;
	a->is_const = true;
	a->cval = (int64_t)ino;
	return 0;
}

bool sem_reg_valid(const char *name)
{
	/* bpftrace 0.17 src/arch/x86_64.cpp: pt_regs in its order */
	static const char *const regs[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
					    "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp",
					    "ss" };

	for (size_t i = 0; name && i < sizeof(regs) / sizeof(regs[0]); i++)
		if (!strcmp(name, regs[i]))
			return true;
	return false;
}

/* reg("NAME"): a register of the probed context, where the context is the
 * registers (pt_regs, or a perf event's copy of them); bpftrace 0.17
 * refuses it in tracepoints, and its kfunc/BEGIN/END contexts are not
 * registers here either. */
static int call_reg(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	static const char *const types[] = { "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt",
					     "profile", "interval", "software", "hardware" };

	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	if (!sem_reg_valid(n->kids[0]->str))
		return sem_err(c, n->kids[0]->loc, TG_ETYPE,
			       "'%s' is not a valid register on this architecture (x86_64)", n->kids[0]->str);
	for (size_t i = 0; i < c->tp->nattach; i++) {
		const char *t = c->tp->attach[i].type;
		bool ok = false;

		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]) && !ok; k++)
			ok = !strcmp(t, types[k]);
		if (!strcmp(t, "tracepoint"))
			return sem_err(c, n->loc, TG_ETYPE, "The reg function cannot be used with 'tracepoint' probes");
		if (!ok)
			return sem_err(c, n->loc, TG_ETYPE,
				       "reg(): not available in %s probes (their context is not the registers)", t);
	}
	a->t = T_U64;
	return 0;
}

/* pton() makes the bytes ntop() prints; sema-types.c st_call_ntop reads it there */
static int call_pton(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	return sem_err(c, n->loc, TG_EUNSUPPORTED,
		       "pton(): only as the argument of ntop() (its byte array has no other use here)");
}

/* --- the functions' table ------------------------------------------------- */

#define ARGS_ANY SIZE_MAX

/* Sorted by name (strcmp), for bsearch; tests/unit/test-runner-sema.c
 * checks the order.  Functions the lexer knows and this table does not
 * (kaddr, signal, system, ...) are "not supported".  The columns are
 * struct sem_func's (sema-int.h): name, handler, at least and at most
 * that many arguments, their kinds, the error when they do not fit, the
 * map kind of an aggregation. */
static const struct sem_func funcs[] = {
	{ "avg", call_agg, 1, 1, NULL, NULL, MK_AVG },
	{ "bswap", st_call_bswap, 1, 1, NULL, "takes one integer", MK_NONE },
	{ "buf", st_call_buf, 1, 2, NULL, "takes data and a length", MK_NONE },
	{ "cat", call_printf, 1, ARGS_ANY, "s", "the first argument must be a string literal", MK_NONE },
	{ "cgroup_path", call_cgroup_path, 1, 2, ".s", "takes a cgroup id and a filter string literal", MK_NONE },
	{ "cgroupid", call_cgroupid, 1, 1, "s", "takes one string literal", MK_NONE },
	{ "clear", call_clear, 1, 1, "m", "takes a map", MK_NONE },
	{ "count", call_agg, 0, 0, NULL, NULL, MK_COUNT },
	{ "delete", call_delete, 1, 1, "e", "takes one map element", MK_NONE },
	{ "exit", call_exit, 0, 1, NULL, "takes at most 1 argument", MK_NONE },
	{ "has_key", call_has_key, 2, 2, "m", "takes a map and a key: has_key(@m, k)", MK_NONE },
	/* hist(x) or hist(x, k): sem_assign_agg checks the second */
	{ "hist", call_agg, 1, 2, NULL, NULL, MK_HIST },
	{ "join", st_call_join, 1, 2, ".s", "takes an array of strings and a delimiter string literal", MK_NONE },
	{ "kstack", call_stack, 0, 2, NULL, "takes a mode and a frame count", MK_NONE },
	{ "ksym", call_sym, 1, 1, NULL, "takes one address", MK_NONE },
	{ "len", call_len, 1, 1, NULL, "takes one map or stack: len(@m), len(kstack), len(ustack)", MK_NONE },
	{ "lhist", call_agg, 4, 4, NULL, NULL, MK_LHIST },
	{ "max", call_agg, 1, 1, NULL, NULL, MK_MAX },
	{ "min", call_agg, 1, 1, NULL, NULL, MK_MIN },
	{ "ntop", st_call_ntop, 1, 2, NULL, "takes an address, or a family and an address", MK_NONE },
	/* print(@m, top, div) or print(value): call_print tells them apart */
	{ "print", call_print, 1, ARGS_ANY, NULL, "takes one value or one map", MK_NONE },
	{ "printf", call_printf, 1, ARGS_ANY, "s", "the first argument must be a string literal", MK_NONE },
	{ "pton", call_pton, 0, 0, NULL, NULL, MK_NONE },
	{ "reg", call_reg, 1, 1, "s", "takes one string literal, a register's name (reg(\"ip\"))", MK_NONE },
	{ "sizeof", st_call_sizeof, 1, 1, NULL, "takes one type or expression", MK_NONE },
	{ "stats", call_agg, 1, 1, NULL, NULL, MK_STATS },
	{ "str", call_str, 1, 2, NULL, "takes 1 or 2 arguments", MK_NONE },
	{ "strftime", call_strftime, 2, 2, "s", "takes a format string literal and nanoseconds", MK_NONE },
	{ "strncmp", call_strncmp, 3, 3, NULL, "takes 3 arguments", MK_NONE },
	{ "sum", call_agg, 1, 1, NULL, NULL, MK_SUM },
	{ "time", call_time, 0, 1, "s", "takes one string literal", MK_NONE },
	{ "ustack", call_stack, 0, 2, NULL, "takes a mode and a frame count", MK_NONE },
	{ "usym", call_sym, 1, 1, NULL, "takes one address", MK_NONE },
	{ "zero", call_clear, 1, 1, "m", "takes a map", MK_NONE },
};

const struct sem_func *sem_func_find(const char *name)
{
	return bsearch(name, funcs, ARRAY_SIZE(funcs), sizeof(funcs[0]), row_cmp);
}

const struct sem_func *sem_func_table(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(funcs);
	return funcs;
}

/* n's arguments as f's row wants them: their count, then the kinds its
 * kinds string names (sema-int.h struct sem_func) */
static bool args_fit(const struct sem_func *f, const struct lang_node *n)
{
	if (n->nkids < f->min_args || n->nkids > f->max_args)
		return false;
	for (size_t i = 0; f->kinds && f->kinds[i] && i < n->nkids; i++) {
		const struct lang_node *k = n->kids[i];

		if ((f->kinds[i] == 's' && k->kind != TG_N_STR) ||
		    (f->kinds[i] == 'm' && (k->kind != TG_N_MAP || k->nkids)) ||
		    (f->kinds[i] == 'e' && k->kind != TG_N_MAP))
			return false;
	}
	return true;
}

int sem_call(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct sem_func *f = sem_func_find(n->str);

	a->t = T_NONE;
	if (!f)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "function \"%s\": not supported", n->str);
	if (f->usage && !args_fit(f, n))
		return usage(c, n);
	return f->call(c, n, a);
}

/* --- the identifiers ------------------------------------------------------ */

static int ident_u64(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->t = T_U64;
	return 0;
}

static int ident_elapsed(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	c->s->uses_elapsed = true;
	return ident_u64(c, n, a);
}

/* argN, retval: registers of a function's context */
static int ident_arg(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (c->p->is_begin || c->p->is_end || c->p->args)
		return sem_err(c, n->loc, TG_ETYPE, "builtin \"%s\": not available in this probe", n->str);
	return ident_u64(c, n, a);
}

/* Every attach point of the probe is a function's return */
static bool returns(const struct lang_probe *pr)
{
	static const char *const types[] = { "kretprobe", "uretprobe", "kretfunc", "fexit" };

	for (size_t i = 0; i < pr->nattach; i++) {
		bool r = false;

		for (size_t k = 0; k < ARRAY_SIZE(types); k++)
			r = r || !strcmp(pr->attach[i].type, types[k]);
		if (!r)
			return false;
	}
	return pr->nattach > 0;
}

static int ident_retval(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r = ident_arg(c, n, a);

	if (r < 0)
		return r;
	if (!returns(c->tp))
		/* 0.17's words; at a function's entry the register holds
		 * no return value */
		return sem_err(c, n->loc, TG_ETYPE,
			   "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes");
	return 0;
}

static int ident_comm(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->t = (struct sem_type){ .k = ST_STR, .slen = 16 };
	return 0;
}

/* the child's pid, a constant as in bpftrace */
static int ident_cpid(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (!c->s->cpid)
		return sem_err(c, n->loc, TG_ETYPE, "cpid cannot be used without child command");
	a->t = T_U64;
	a->is_const = true;
	a->cval = (int64_t)c->s->cpid;
	return 0;
}

static int ident_username(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_USERNAME, .slen = 8 };
	return 0;
}

static int ident_stack(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	return stack_type(c, n, a, NULL);
}

static int ident_func(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (!c->p->is_probe_fn)
		return sem_err(c, n->loc, TG_ETYPE,
			   "builtin \"func\": only in kprobe, kretprobe, uprobe and uretprobe probes");
	c->p->uses_probe = true;
	a->t = (struct sem_type){ .k = ST_STR, .slen = SEM_STRLEN };
	return 0;
}

static int ident_probe(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	c->p->uses_probe = true;
	/* as bpftrace, which prints the whole name: a uprobe's path often
	 * passes 63 characters */
	a->t = (struct sem_type){ .k = ST_STR, .slen = MAX(c->s->probe_slen, SEM_STRLEN) };
	return 0;
}

static int ident_args(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	c->p->uses_args = true;
	a->t = (struct sem_type){ .k = ST_ARGS };
	return 0;
}

/* Sorted by name (strcmp), as funcs[].  Builtins the lexer knows and this
 * table does not (sarg0 ...) are "not supported". */
static const struct sem_ident idents[] = {
	{ ARGN, ident_arg },
	{ "args", ident_args },
	{ "cgroup", ident_u64 },
	{ "comm", ident_comm },
	{ "cpid", ident_cpid },
	{ "cpu", ident_u64 },
	{ "ctx", st_builtin_ctx },
	{ "curtask", st_builtin_curtask },
	{ "elapsed", ident_elapsed },
	{ "func", ident_func },
	{ "gid", ident_u64 },
	{ "kstack", ident_stack },
	{ "nsecs", ident_u64 },
	{ "numaid", ident_u64 },
	{ "pid", ident_u64 },
	{ "probe", ident_probe },
	{ "rand", ident_u64 },
	{ "retval", ident_retval },
	{ "tid", ident_u64 },
	{ "uid", ident_u64 },
	{ "username", ident_username },
	{ "ustack", ident_stack },
};

const struct sem_ident *sem_ident_table(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(idents);
	return idents;
}

int sem_builtin(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *key = is_argn(n->str) ? ARGN : n->str;
	const struct sem_ident *b = bsearch(key, idents, ARRAY_SIZE(idents), sizeof(idents[0]), row_cmp);

	if (!b)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "builtin \"%s\": not supported", n->str);
	return b->ident(c, n, a);
}
