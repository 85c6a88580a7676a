// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis (see sema.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/sema-int.h"
#include "lib/banned.h"

static const struct sem_type T_NONE = { .k = ST_NONE };
static const struct sem_type T_U64 = { .k = ST_INT, .size = 8, .sign = false };
static const struct sem_type T_S64 = { .k = ST_INT, .size = 8, .sign = true };

static const char *const int_builtins[] = {
	"pid", "tid", "uid", "gid", "nsecs", "elapsed", "cpu", "cgroup", "rand", "numaid",
	"retval", NULL,
};

static bool is_int_builtin(const char *name)
{
	for (size_t i = 0; int_builtins[i]; i++)
		if (!strcmp(name, int_builtins[i]))
			return true;
	if (!strncmp(name, "arg", 3) && name[3] >= '0' && name[3] <= '9' &&
	    (name[4] == '\0' || (name[4] >= '0' && name[4] <= '9' && name[5] == '\0')))
		return true;
	return false;
}

static int expr(struct sctx *c, struct lang_node *n);
static int stmt(struct sctx *c, struct lang_node *n);
static int site_new(struct sctx *c, struct lang_node *n, struct sem_node *a, enum sem_rec_kind k,
		    const char *fmt);

static int want_int(struct sctx *c, struct lang_node *n, const char *what)
{
	int r = expr(c, n);

	if (r < 0)
		return r;
	if (sem_of(n)->t.k != ST_INT)
		return sem_err(c, n->loc, TG_ETYPE, "%s: expected an integer", what);
	return 0;
}

/* The variable a name means here: a `let` variable in scope, else the
 * probe's 0.17 variable of that name. */
static int var_find(struct sctx *c, const char *name)
{
	int plain = -1;

	for (size_t i = 0; i < c->p->nvars; i++) {
		const struct sem_var *v = &c->p->vars[i];

		if (strcmp(v->name, name))
			continue;
		if (v->decl && !v->hidden)
			return (int)i;
		if (!v->decl)
			plain = (int)i;
	}
	return plain;
}

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

static int posparam_int(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *v;
	char *end;
	long long x;

	a->t = T_S64;
	a->is_const = true;
	if (n->u64 == 0) {
		a->cval = (int64_t)c->s->nparams;
		return 0;
	}
	if (n->u64 > c->s->nparams) {
		a->cval = 0;
		return 0;
	}
	v = c->s->params[n->u64 - 1];
	errno = 0;
	x = strtoll(v, &end, 0);
	if (!*v || *end || errno)
		return sem_err(c, n->loc, TG_ETYPE,
			   "positional parameter $%llu: \"%s\" is not a number (use str($%llu))",
			   (unsigned long long)n->u64, v, (unsigned long long)n->u64);
	a->cval = x;
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
	r = want_int(c, n->kids[1], "str() length");
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

	if (n->nkids < 1 || n->nkids > 2)
		return sem_err(c, n->loc, TG_ETYPE, "str(): takes 1 or 2 arguments");
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
	r = expr(c, x);
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
		r = want_int(c, n->kids[1], "str() length");
		if (r < 0)
			return r;
		/* 0.17: "str cannot use negative length" */
		if (sem_of(n->kids[1])->is_const && sem_of(n->kids[1])->cval < 0)
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "str(): negative length");
	}
	return 0;
}

static int site_new(struct sctx *c, struct lang_node *n, struct sem_node *a, enum sem_rec_kind k,
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

static int call_printf(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_site *st;
	int r;

	if (n->nkids < 1 || n->kids[0]->kind != TG_N_STR)
		return sem_err(c, n->loc, TG_ETYPE, "%s(): the first argument must be a string literal",
			   n->str);
	r = site_new(c, n, a, !strcmp(n->str, "cat") ? REC_CAT : REC_PRINTF, n->kids[0]->str);
	if (r < 0)
		return r;
	if (!sem_aux(c, n->kids[0]))
		return -ENOMEM;
	for (size_t i = 1; i < n->nkids; i++) {
		r = expr(c, n->kids[i]);
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

/* kstack, ustack, kstack(perf), kstack(3), kstack(bpftrace, 3) */
/* kstack, ustack, kstack(...), ustack(...) */
static bool is_stack(const struct lang_node *n)
{
	return (n->kind == TG_N_BUILTIN || n->kind == TG_N_CALL) && n->str &&
	       (!strcmp(n->str, "kstack") || !strcmp(n->str, "ustack"));
}

static int stack_type(struct sctx *c, struct lang_node *n, struct sem_node *a, struct lang_node *call)
{
	bool user = n->str[0] == 'u';
	int64_t limit = SEM_STACK_FRAMES;
	bool perf = false;

	if (call && call->nkids > 2)
		return sem_err(c, call->loc, TG_ETYPE, "%s(): takes a mode and a frame count", n->str);
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

/* Functions whose values user space formats; 1 when f is none of them. */
static int call_text(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *f = n->str;
	int r;

	if (!strcmp(f, "ksym") || !strcmp(f, "usym")) {
		if (n->nkids != 1)
			return sem_err(c, n->loc, TG_ETYPE, "%s(): takes one address", f);
		r = want_int(c, n->kids[0], f);
		if (r < 0)
			return r;
		a->t = (struct sem_type){ .k = ST_TEXT, .text = f[0] == 'k' ? TX_KSYM : TX_USYM,
					  .slen = f[0] == 'k' ? 8 : 16 };
		c->s->uses_user_syms |= f[0] == 'u';
		return 0;
	}
	if (!strcmp(f, "kstack") || !strcmp(f, "ustack"))
		return stack_type(c, n, a, n);
	if (!strcmp(f, "strftime")) {
		if (n->nkids != 2 || n->kids[0]->kind != TG_N_STR)
			return sem_err(c, n->loc, TG_ETYPE, "strftime(): takes a format string literal and nanoseconds");
		if (!sem_aux(c, n->kids[0]))
			return -ENOMEM;
		r = want_int(c, n->kids[1], "strftime()");
		if (r < 0)
			return r;
		a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_STRFTIME, .slen = 8 };
		return str_id(c, n->kids[0], &a->t.arg);
	}
	if (!strcmp(f, "cgroup_path")) {
		uint16_t id = 0;

		if (n->nkids < 1 || n->nkids > 2 || (n->nkids == 2 && n->kids[1]->kind != TG_N_STR))
			return sem_err(c, n->loc, TG_ETYPE, "cgroup_path(): takes a cgroup id and a filter string literal");
		r = want_int(c, n->kids[0], "cgroup_path()");
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
	return 1;
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

	if (n->nkids != 1 || n->kids[0]->kind != TG_N_STR)
		return sem_err(c, n->loc, TG_ETYPE, "reg(): takes one string literal, a register's name (reg(\"ip\"))");
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

/* bpftrace 0.2x (docs/stdlib.md "len"): "For maps, return the number of
 * elements in the map.  For kstack/ustack, return the depth (measured in
 * # of frames) of the call stack." */
static int call_len(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	if (n->nkids == 1 && is_stack(n->kids[0])) {
		r = expr(c, n->kids[0]);
		if (r < 0)
			return r;
		c->s->uses_stack_len = true;
		a->t = T_S64;
		return 0;
	}
	if (n->nkids != 1 || n->kids[0]->kind != TG_N_MAP || n->kids[0]->nkids)
		return sem_err(c, n->loc, TG_ETYPE, "len(): takes one map or stack: len(@m), len(kstack), len(ustack)");
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

static int call(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const char *f = n->str;
	struct sem_map *m;
	int64_t v;
	int r;

	a->t = T_NONE;
	r = st_call(c, n, a);
	if (r != 1)
		return r;
	if (!strcmp(f, "printf") || !strcmp(f, "cat"))
		return call_printf(c, n, a);
	r = call_text(c, n, a);
	if (r != 1)
		return r;
	if (!strcmp(f, "str"))
		return call_str(c, n, a);
	if (!strcmp(f, "exit")) {
		if (n->nkids > 1)
			return sem_err(c, n->loc, TG_ETYPE, "exit(): takes at most 1 argument");
		if (n->nkids == 1)
			return want_int(c, n->kids[0], "exit()");
		return 0;
	}
	if (!strcmp(f, "time")) {
		if (n->nkids > 1 || (n->nkids == 1 && n->kids[0]->kind != TG_N_STR))
			return sem_err(c, n->loc, TG_ETYPE, "time(): takes one string literal");
		if (n->nkids && !sem_aux(c, n->kids[0]))
			return -ENOMEM;
		return site_new(c, n, a, REC_TIME, n->nkids ? n->kids[0]->str : "%H:%M:%S\n");
	}
	if (!strcmp(f, "clear") || !strcmp(f, "zero") || (!strcmp(f, "print") && n->nkids >= 1 &&
							 n->kids[0]->kind == TG_N_MAP &&
							 n->kids[0]->nkids == 0)) {
		bool pr = !strcmp(f, "print");

		if (n->nkids < 1 || n->kids[0]->kind != TG_N_MAP || n->kids[0]->nkids ||
		    n->nkids > (pr ? 3u : 1u))
			return sem_err(c, n->loc, TG_ETYPE, "%s(): takes a map%s", f,
				   pr ? " and at most 2 integers" : "");
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
	if (!strcmp(f, "print")) {
		if (n->nkids != 1)
			return sem_err(c, n->loc, TG_ETYPE, "print(): takes one value or one map");
		r = expr(c, n->kids[0]);
		if (r < 0)
			return r;
		if (sem_of(n->kids[0])->t.k != ST_INT && !sem_is_blob(&sem_of(n->kids[0])->t))
			return sem_err(c, n->kids[0]->loc, TG_ETYPE, "print(): argument has no value");
		r = site_new(c, n, a, REC_PRINT_VAL, NULL);
		if (r < 0)
			return r;
		return site_arg(c, n->kids[0], &c->s->sites[a->site]);
	}
	if (!strcmp(f, "has_key")) {
		/* bpftrace 0.2x (docs/stdlib.md "has_key"): has_key(@m, k),
		 * a key of several parts as a tuple (1, "x"); the map node
		 * gets the analysis of @m[k] (codegen rebuilds that node) */
		struct lang_node tmp;
		const struct lang_node *k;

		if (n->nkids != 2 || n->kids[0]->kind != TG_N_MAP || n->kids[0]->nkids)
			return sem_err(c, n->loc, TG_ETYPE, "has_key(): takes a map and a key: has_key(@m, k)");
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
	if (!strcmp(f, "len"))
		return call_len(c, n, a);
	if (!strcmp(f, "delete")) {
		if (n->nkids != 1 || n->kids[0]->kind != TG_N_MAP)
			return sem_err(c, n->loc, TG_ETYPE, "delete(): takes one map element");
		return sem_map_ref(c, n->kids[0], &m);
	}
	if (!strcmp(f, "strncmp")) {
		if (n->nkids != 3)
			return sem_err(c, n->loc, TG_ETYPE, "strncmp(): takes 3 arguments");
		for (int i = 0; i < 2; i++) {
			r = expr(c, n->kids[i]);
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
	if (!strcmp(f, "cgroupid")) {
		struct stat st;

		if (n->nkids != 1 || n->kids[0]->kind != TG_N_STR)
			return sem_err(c, n->loc, TG_ETYPE, "cgroupid(): takes one string literal");
		if (!sem_aux(c, n->kids[0]))
			return -ENOMEM;
		if (stat(n->kids[0]->str, &st) < 0)
			return sem_err(c, n->kids[0]->loc, TG_ETYPE, "cgroupid(): \"%s\": %s",
				   n->kids[0]->str, strerror(errno));
		a->t = T_U64;
		a->is_const = true;
		a->cval = (int64_t)st.st_ino;
		return 0;
	}
	if (!strcmp(f, "reg"))
		return call_reg(c, n, a);
	if (sem_agg_kind(f) != MK_NONE)
		return sem_err(c, n->loc, TG_ETYPE, "%s(): only as the value of a map assignment (@m = %s(...))",
			   f, f);
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "function \"%s\": not supported", f);
}

static int binop(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type *l, *r;
	int rc;

	rc = expr(c, n->kids[0]);
	if (rc < 0)
		return rc;
	rc = expr(c, n->kids[1]);
	if (rc < 0)
		return rc;
	l = &sem_of(n->kids[0])->t;
	r = &sem_of(n->kids[1])->t;
	if ((n->op == TG_OP_ADD || n->op == TG_OP_SUB) && l->k == ST_INT && r->k == ST_INT &&
	    (l->ptr || r->ptr))
		return st_ptr_arith(c, n, a);
	if ((l->k == ST_STR && r->k == ST_STR) ||
	    (l->k == ST_TEXT && r->k == ST_TEXT && l->text == TX_BUF && r->text == TX_BUF)) {
		if (n->op != TG_OP_EQ && n->op != TG_OP_NE)
			return sem_err(c, n->loc, TG_ETYPE, "operator \"%s\": not defined on strings",
				   lang_op_str(n->op));
		a->t = T_U64;
		return 0;
	}
	if (l->k != ST_INT || r->k != ST_INT)
		return sem_err(c, n->loc, TG_ETYPE, "operator \"%s\": operands must both be integers or both strings",
			   lang_op_str(n->op));
	a->t = (l->sign && r->sign) ? T_S64 : T_U64;
	if (n->op == TG_OP_LOR || n->op == TG_OP_LAND || (n->op >= TG_OP_EQ && n->op <= TG_OP_GE))
		a->t = T_U64;
	if (sem_of(n->kids[0])->is_const && sem_of(n->kids[1])->is_const) {
		int64_t x = sem_of(n->kids[0])->cval, y = sem_of(n->kids[1])->cval;
		uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
		bool ok = true;
		int64_t v = 0;

		switch (n->op) {
		case TG_OP_ADD: v = (int64_t)(ux + uy); break;
		case TG_OP_SUB: v = (int64_t)(ux - uy); break;
		case TG_OP_MUL: v = (int64_t)(ux * uy); break;
		case TG_OP_SHL: v = y < 64 && y >= 0 ? (int64_t)(ux << y) : 0; break;
		case TG_OP_BAND: v = x & y; break;
		case TG_OP_BOR: v = x | y; break;
		case TG_OP_BXOR: v = x ^ y; break;
		default: ok = false; break;
		}
		if (ok) {
			a->is_const = true;
			a->cval = v;
		}
	}
	return 0;
}

static int field(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	const struct tp_field *f;
	int r;

	r = expr(c, n->kids[0]);
	if (r < 0)
		return r;
	if (n->flags & TG_F_TUPLE_INDEX)
		return sem_tuple_index(c, n, a);
	if (sem_of(n->kids[0])->t.k != ST_ARGS)
		return st_field(c, n, a);
	if (!c->p->args)
		return sem_err(c, n->loc, TG_ETYPE, "args: only tracepoint probes have args");
	f = tp_format_field(c->p->args, n->str);
	if (!f)
		return sem_err(c, n->loc, TG_ETYPE, "tracepoint \"%s:%s\": no field \"%s\"",
			   c->p->args->category, c->p->args->name, n->str);
	a->field = f;
	switch (f->kind) {
	case TPF_INT:
		a->t = (struct sem_type){ .k = ST_INT, .size = (uint8_t)f->size, .sign = f->is_signed };
		return 0;
	case TPF_PTR:
		/* syscalls' pointer arguments point into the caller's memory */
		return st_tp_ptr(c, f->type, !strcmp(c->p->args->category, "syscalls"), &a->t);
	case TPF_CHARARRAY:
		a->t = (struct sem_type){ .k = ST_STR, .slen = MIN(f->size, (uint32_t)SEM_MAX_STRING) };
		return 0;
	case TPF_DATALOC:
		a->t = (struct sem_type){ .k = ST_STR, .slen = SEM_STRLEN };
		return 0;
	default:
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "args->%s: type \"%s\" is not supported",
			   n->str, f->type);
	}
}

static int cast(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	static const struct { const char *n; uint8_t size; bool sign; } ints[] = {
		{ "uint8", 1, false }, { "uint16", 2, false }, { "uint32", 4, false },
		{ "uint64", 8, false }, { "int8", 1, true }, { "int16", 2, true },
		{ "int32", 4, true }, { "int64", 8, true },
	};
	int r = expr(c, n->kids[0]);

	if (r < 0)
		return r;
	if (strchr(n->str, '*'))
		return st_cast(c, n, a);
	if (sem_of(n->kids[0])->t.k != ST_INT)
		return sem_err(c, n->kids[0]->loc, TG_ETYPE, "cast to \"%s\": expected an integer", n->str);
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (!strcmp(n->str, ints[i].n)) {
			const struct lang_node *x = n->kids[0];

			a->t = (struct sem_type){ .k = ST_INT, .size = ints[i].size, .sign = ints[i].sign };
			/* the size the value has in 0.17 (a variable: its first
			 * value's), which a wider cast extends (codegen) */
			a->esize = sem_of(x)->t.size ? sem_of(x)->t.size : 8;
			if (x->kind == TG_N_VAR && sem_of(x)->var >= 0 && c->p->vars[sem_of(x)->var].size0)
				a->esize = c->p->vars[sem_of(x)->var].size0;
			return 0;
		}
	}
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "cast to \"%s\": not supported", n->str);
}

/* (a, b, ...): its type from its elements' (runner/sema-tuple.c) */
static int tuple_lit(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type elems[SEM_MAX_TUPLE_ELEMS];
	int r;

	if (n->nkids > SEM_MAX_TUPLE_ELEMS)
		return sem_err(c, n->loc, TG_ELIMIT, "tuple: more than %d elements", SEM_MAX_TUPLE_ELEMS);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct sem_type *et;

		r = expr(c, n->kids[i]);
		if (r < 0)
			return r;
		et = &sem_of(n->kids[i])->t;
		if (et->k == ST_MEM) {
			r = sem_tuple_memval(c, n->kids[i], i, &elems[i]);
			if (r < 0)
				return r;
			continue;
		}
		if (et->k != ST_INT && !sem_is_blob(et))
			return sem_err(c, n->kids[i]->loc, TG_ETYPE, "tuple element %zu has no value", i);
		elems[i] = *et;
	}
	return sem_tuple_of(c, n->loc, elems, n->nkids, &a->t);
}

static int expr_int(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	(void)c;
	a->t = T_S64;
	a->is_const = true;
	a->cval = (int64_t)n->u64;
	return 0;
}

static int expr_str(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	if (n->u64 + 1 > SEM_MAX_STRING)
		return sem_err(c, n->loc, TG_ELIMIT, "string literal longer than %d bytes",
			   SEM_MAX_STRING - 1);
	a->t = (struct sem_type){ .k = ST_STR, .slen = (uint32_t)n->u64 + 1 };
	a->is_const = true;
	a->cstr = n->str;
	a->cstrlen = n->u64;
	return 0;
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

static int expr_builtin(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r;

	if (is_int_builtin(n->str)) {
		if (!strcmp(n->str, "elapsed"))
			c->s->uses_elapsed = true;
		if ((!strcmp(n->str, "retval") || !strncmp(n->str, "arg", 3)) &&
		    (c->p->is_begin || c->p->is_end || c->p->args))
			return sem_err(c, n->loc, TG_ETYPE, "builtin \"%s\": not available in this probe",
				   n->str);
		if (!strcmp(n->str, "retval") && !returns(c->tp))
			/* 0.17's words; at a function's entry the register
			 * holds no return value */
			return sem_err(c, n->loc, TG_ETYPE,
				   "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes");
		a->t = T_U64;
		return 0;
	}
	if (!strcmp(n->str, "comm")) {
		a->t = (struct sem_type){ .k = ST_STR, .slen = 16 };
		return 0;
	}
	if (!strcmp(n->str, "cpid")) {
		/* the child's pid, a constant as in bpftrace */
		if (!c->s->cpid)
			return sem_err(c, n->loc, TG_ETYPE,
				   "cpid cannot be used without child command");
		a->t = T_U64;
		a->is_const = true;
		a->cval = (int64_t)c->s->cpid;
		return 0;
	}
	if (!strcmp(n->str, "username")) {
		a->t = (struct sem_type){ .k = ST_TEXT, .text = TX_USERNAME, .slen = 8 };
		return 0;
	}
	if (!strcmp(n->str, "kstack") || !strcmp(n->str, "ustack"))
		return stack_type(c, n, a, NULL);
	if (!strcmp(n->str, "func")) {
		if (!c->p->is_probe_fn)
			return sem_err(c, n->loc, TG_ETYPE,
				   "builtin \"func\": only in kprobe, kretprobe, uprobe and uretprobe probes");
		c->p->uses_probe = true;
		a->t = (struct sem_type){ .k = ST_STR, .slen = SEM_STRLEN };
		return 0;
	}
	if (!strcmp(n->str, "probe")) {
		c->p->uses_probe = true;
		/* as bpftrace, which prints the whole name: a uprobe's
		 * path often passes 63 characters */
		a->t = (struct sem_type){ .k = ST_STR, .slen = MAX(c->s->probe_slen, SEM_STRLEN) };
		return 0;
	}
	if (!strcmp(n->str, "args")) {
		c->p->uses_args = true;
		a->t = (struct sem_type){ .k = ST_ARGS };
		return 0;
	}
	r = st_builtin(c, n, a);
	if (r != 1)
		return r;
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "builtin \"%s\": not supported", n->str);
}

static int expr_var(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	a->var = var_find(c, n->str);
	if (a->var < 0 || !c->p->vars[a->var].assigned) {
		for (size_t i = 0; i < c->p->nvars; i++) {
			const struct sem_var *o = &c->p->vars[i];

			if (o->decl && o->hidden && !strcmp(o->name, n->str))
				return sem_err(c, n->loc, TG_ETYPE,
					       "variable \"%s\": not in scope here (the block of its let at %u:%u has ended)",
					       n->str, o->decl->loc.line, o->decl->loc.col);
		}
		return sem_err(c, n->loc, TG_ETYPE, "variable \"%s\": used before assignment",
			   n->str);
	}
	a->t = c->p->vars[a->var].t;
	if (a->t.k == ST_NONE)    /* `let $x;` typed by a later assignment */
		a->t = T_S64;
	return 0;
}

static int expr_map(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	r = sem_map_ref(c, n, &m);
	if (r < 0)
		return r;
	m->read = true;
	switch (m->kind) {
	case MK_INT: case MK_COUNT: case MK_SUM: case MK_MIN: case MK_MAX:
		a->t = m->kind == MK_INT ? m->val : T_S64;
		if (m->kind == MK_COUNT)
			a->t = T_U64;
		return 0;
	case MK_STR:
	case MK_TEXT:
		a->t = m->val;
		return 0;
	case MK_NONE:
		if (c->final)
			return sem_err(c, n->loc, TG_ETYPE, "map \"%s\": read but never assigned",
				   n->str);
		a->t = T_S64;
		return 0;
	default:
		return sem_err(c, n->loc, TG_EUNSUPPORTED,
			   "map \"%s\": a %s map cannot be read in an expression", n->str,
			   sem_mkind_str(m->kind));
	}
}

static int unop(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	int r;

	if (n->op == TG_OP_DEREF)
		return st_deref(c, n, a);
	if (n->op == TG_OP_ADDR)
		return sem_err(c, n->loc, TG_EUNSUPPORTED, "operator \"%s\": pointers are not supported",
			   lang_op_str(n->op));
	r = want_int(c, n->kids[0], lang_op_str(n->op));
	if (r < 0)
		return r;
	a->t = n->op == TG_OP_NOT ? T_U64 : sem_of(n->kids[0])->t;
	if (n->op == TG_OP_NEG)
		a->t = T_S64;
	if (sem_of(n->kids[0])->is_const) {
		int64_t x = sem_of(n->kids[0])->cval;

		a->is_const = true;
		a->cval = n->op == TG_OP_NOT ? !x : n->op == TG_OP_BNOT ? ~x : (int64_t)(0 - (uint64_t)x);
	}
	return 0;
}

static int incdec(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_map *m;
	int r;

	if (n->kids[0]->kind == TG_N_MAP) {
		r = sem_map_ref(c, n->kids[0], &m);
		if (r < 0)
			return r;
		if (m->kind != MK_INT && m->kind != MK_NONE)
			return sem_set_kind(c, n, m, MK_INT);
		m->kind = MK_INT;
		if (m->val.k == ST_NONE)
			m->val = T_S64;
		a->t = m->val;
		return 0;
	}
	if (n->kids[0]->kind != TG_N_VAR)
		return sem_err(c, n->loc, TG_ETYPE, "%s: needs a variable or a map", lang_op_str(n->op));
	r = want_int(c, n->kids[0], "variable");
	if (r < 0)
		return r;
	a->t = sem_of(n->kids[0])->t;
	return 0;
}

static int ternary(struct sctx *c, struct lang_node *n, struct sem_node *a)
{
	struct sem_type *t1, *t2;
	int r;

	r = want_int(c, n->kids[0], "condition");
	if (r < 0)
		return r;
	if ((r = expr(c, n->kids[1])) < 0 || (r = expr(c, n->kids[2])) < 0)
		return r;
	t1 = &sem_of(n->kids[1])->t;
	t2 = &sem_of(n->kids[2])->t;
	if (sem_is_tuple(t1) && sem_is_tuple(t2)) {
		a->t = *t1;
		return sem_tuple_merge(c, n->loc, &a->t, t2);
	}
	if (t1->k != t2->k || (t1->k == ST_TEXT && (t1->text != t2->text || t1->arg != t2->arg)))
		return sem_err(c, n->loc, TG_ETYPE, "ternary: both branches must have the same type");
	a->t = *t1;
	if (t1->k == ST_STR)
		a->t.slen = MAX(t1->slen, t2->slen);
	if (t1->k == ST_INT)    /* 0.17: a 64-bit integer of the left branch's sign */
		a->t = t1->sign ? T_S64 : T_U64;
	return 0;
}

/* One function per expression kind; a kind not listed is refused. */
static int (*const expr_kinds[])(struct sctx *c, struct lang_node *n, struct sem_node *a) = {
	[TG_N_INT] = expr_int,
	[TG_N_STR] = expr_str,
	[TG_N_BUILTIN] = expr_builtin,
	[TG_N_POSPARAM] = posparam_int,
	[TG_N_VAR] = expr_var,
	[TG_N_MAP] = expr_map,
	[TG_N_CALL] = call,
	[TG_N_BINOP] = binop,
	[TG_N_UNOP] = unop,
	[TG_N_INCDEC] = incdec,
	[TG_N_TERNARY] = ternary,
	[TG_N_FIELD] = field,
	[TG_N_CAST] = cast,
	[TG_N_INDEX] = st_index,
	[TG_N_IDENT] = st_ident,
	[TG_N_TUPLE] = tuple_lit,
};

static int expr(struct sctx *c, struct lang_node *n)
{
	struct sem_node *a = sem_aux(c, n);

	if (!a)
		return -ENOMEM;
	if ((size_t)n->kind < ARRAY_SIZE(expr_kinds) && expr_kinds[n->kind])
		return expr_kinds[n->kind](c, n, a);
	return sem_err(c, n->loc, TG_EUNSUPPORTED, "\"%s\": not supported here",
		   lang_node_kind_str(n->kind));
}

static int assign_var(struct sctx *c, struct lang_node *n)
{
	struct lang_node *rhs = n->kids[1];
	struct sem_node *a = sem_aux(c, n->kids[0]);
	struct sem_type vt;
	struct sem_var *v;
	int r, idx;

	if (!a)
		return -ENOMEM;
	r = expr(c, rhs);
	if (r < 0)
		return r;
	vt = sem_of(rhs)->t;
	if (vt.k == ST_MEM && (r = sem_store_memval(c, rhs, "variable", n->kids[0]->str, &vt)) < 0)
		return r;
	if (vt.k != ST_INT && !sem_is_blob(&vt))
		return sem_err(c, rhs->loc, TG_ETYPE, "variable \"%s\": assigned value has no value",
			   n->kids[0]->str);
	idx = var_find(c, n->kids[0]->str);
	if (idx < 0) {
		if (c->p->nvars == SEM_MAX_VARS)
			return sem_err(c, n->loc, TG_ELIMIT, "more than %d variables in one probe",
				   SEM_MAX_VARS);
		idx = (int)c->p->nvars++;
		c->p->vars[idx] = (struct sem_var){ .name = n->kids[0]->str };
	}
	v = &c->p->vars[idx];
	if (n->op != TG_OP_NONE && (!v->assigned || vt.k != ST_INT))
		return sem_err(c, n->loc, TG_ETYPE, "variable \"%s\": compound assignment needs an integer variable",
			   v->name);
	if (!v->t.k && vt.k == ST_INT)
		v->size0 = vt.size;
	r = sem_merge_type(c, n, &v->t, &vt, "variable");
	if (r < 0)
		return r;
	v->assigned = true;
	a->var = idx;
	a->t = v->t;
	return 0;
}

/* let $x; / let $x = e; (bpftrace 0.2x, docs/language.md "Variables and
 * Maps"): a new variable to the end of the enclosing block, 0 until
 * assigned; one of the same name already in scope is an error. */
static int let_stmt(struct sctx *c, struct lang_node *n)
{
	struct sem_node *a = sem_aux(c, n->kids[0]);
	const char *name = n->kids[0]->str;
	struct sem_type vt = { 0 };
	struct sem_var *v;
	int idx = -1, r;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < c->p->nvars; i++) {
		const struct sem_var *o = &c->p->vars[i];

		if (o->decl == n)
			idx = (int)i;
		else if (!strcmp(o->name, name) && ((o->decl && !o->hidden) || (!o->decl && o->assigned)))
			return sem_err(c, n->kids[0]->loc, TG_ETYPE,
				       "variable \"%s\": already declared (let declares a new variable)", name);
	}
	if (n->kind == TG_N_LET && n->nkids > 1) {
		r = expr(c, n->kids[1]);
		if (r < 0)
			return r;
		vt = sem_of(n->kids[1])->t;
		if (vt.k == ST_MEM && (r = sem_store_memval(c, n->kids[1], "variable", name, &vt)) < 0)
			return r;
		if (vt.k != ST_INT && !sem_is_blob(&vt))
			return sem_err(c, n->kids[1]->loc, TG_ETYPE, "variable \"%s\": assigned value has no value",
				       name);
	}
	if (idx < 0) {
		if (c->p->nvars == SEM_MAX_VARS)
			return sem_err(c, n->loc, TG_ELIMIT, "more than %d variables in one probe", SEM_MAX_VARS);
		idx = (int)c->p->nvars++;
		c->p->vars[idx] = (struct sem_var){ .name = name, .decl = n };
	}
	v = &c->p->vars[idx];
	if (n->kind == TG_N_FOR) {
		/* the loop's variable: typed by the caller, visible in the body */
		v->hidden = false;
		v->assigned = true;
		c->lets[c->nlets++] = idx;
		a->var = idx;
		return 0;
	}
	if (n->nkids > 1) {
		if (!v->t.k && vt.k == ST_INT)
			v->size0 = vt.size;
		r = sem_merge_type(c, n, &v->t, &vt, "variable");
		if (r < 0)
			return r;
	} else if (c->final && v->t.k == ST_NONE) {
		v->t = T_S64;      /* never assigned a value: the integer 0 */
	}
	v->hidden = false;
	v->assigned = true;
	c->lets[c->nlets++] = idx;
	a->var = idx;
	a->t = v->t.k ? v->t : T_S64;
	return 0;
}

/* for ($kv : @m) { } and for ($i : a..b) { } (bpftrace 0.2x,
 * docs/language.md "For"): $kv is (key, value), the key a tuple of its
 * parts when there are several; $i an integer.  The variable lives in the
 * body.  The map's keys and values must be known: a map assigned only
 * later in the program's text is typed on the second pass. */
static int for_stmt(struct sctx *c, struct lang_node *n)
{
	struct lang_node *body = n->kids[n->nkids - 1];
	struct sem_node *a = sem_aux(c, n);
	struct sem_type kv = T_S64;
	size_t nlets = c->nlets;
	struct sem_var *v;
	int r;

	if (!a)
		return -ENOMEM;
	if (c->for_depth >= SEM_MAX_FOR_DEPTH || c->loop_depth || c->unroll_depth)
		return sem_err(c, n->loc, TG_ELIMIT,
			       "for: inside another loop (a for runs in the kernel at every event: not within a for, while or unroll)");
	if (++c->nfor > SEM_MAX_FOR_STMTS)
		return sem_err(c, n->loc, TG_ELIMIT, "for: more than %d in one probe (each runs in the kernel at every event)",
			       SEM_MAX_FOR_STMTS);
	if (n->nkids == 3) {
		struct lang_node *mn = n->kids[1];
		struct sem_type parts[2];
		struct sem_map *m;

		if (!sem_aux(c, mn))
			return -ENOMEM;
		m = sem_map_get(c, mn, &sem_of(mn)->map);
		if (!m)
			return sem_err(c, mn->loc, TG_ELIMIT, "more than %d maps", SEM_MAX_MAPS);
		a->map = sem_of(mn)->map;
		if (m->kind == MK_NONE || !m->keys_known) {
			if (c->final)
				return sem_err(c, mn->loc, TG_ETYPE, "for: map \"%s\" is never assigned", mn->str);
			return 0;   /* typed on the second pass */
		}
		if (!m->nkeys)
			return sem_err(c, mn->loc, TG_ETYPE,
				       "for: map \"%s\" has no keys (a scalar map cannot be iterated)", mn->str);
		if (m->kind == MK_AVG || m->kind == MK_STATS || m->kind == MK_HIST || m->kind == MK_LHIST)
			return sem_err(c, mn->loc, TG_ETYPE, "for: a %s() map cannot be iterated", sem_mkind_str(m->kind));
		if (m->nkeys == 1)
			parts[0] = m->keys[0];
		else if ((r = sem_tuple_of(c, mn->loc, m->keys, m->nkeys, &parts[0])) < 0)
			return r;
		parts[1] = m->kind == MK_INT || m->kind == MK_STR || m->kind == MK_TEXT ? m->val :
			   m->kind == MK_COUNT ? T_U64 : T_S64;
		r = sem_tuple_of(c, mn->loc, parts, 2, &kv);
		if (r < 0)
			return r;
	} else {
		if ((r = want_int(c, n->kids[1], "for range start")) < 0 ||
		    (r = want_int(c, n->kids[2], "for range end")) < 0)
			return r;
	}
	r = let_stmt(c, n);
	if (r < 0)
		return r;
	v = &c->p->vars[sem_of(n->kids[0])->var];
	if (v->t.k == ST_NONE || !c->final)
		v->t = kv;
	else if (memcmp(&v->t, &kv, sizeof(kv)) && !(sem_is_tuple(&v->t) && sem_is_tuple(&kv) && v->t.arg == kv.arg))
		v->t = kv;
	sem_of(n->kids[0])->t = v->t;
	c->loop_depth++;
	c->for_depth++;
	r = stmt(c, body);
	c->for_depth--;
	c->loop_depth--;
	while (c->nlets > nlets)
		c->p->vars[c->lets[--c->nlets]].hidden = true;
	return r;
}

static int block(struct sctx *c, struct lang_node *n)
{
	size_t nlets = c->nlets;
	int r = 0;

	for (size_t i = 0; i < n->nkids && r >= 0; i++)
		r = stmt(c, n->kids[i]);
	/* the block's let variables end with it */
	while (c->nlets > nlets)
		c->p->vars[c->lets[--c->nlets]].hidden = true;
	return r;
}

static int stmt(struct sctx *c, struct lang_node *n)
{
	int r;

	if (!sem_aux(c, n))
		return -ENOMEM;
	switch (n->kind) {
	case TG_N_EXPR_STMT:
		return expr(c, n->kids[0]);
	case TG_N_ASSIGN:
		if (n->kids[0]->kind == TG_N_MAP)
			return sem_assign_map(c, n);
		if (n->kids[0]->kind == TG_N_VAR)
			return assign_var(c, n);
		return sem_err(c, n->loc, TG_ETYPE, "assignment: needs a variable or a map on the left");
	case TG_N_BLOCK:
		return block(c, n);
	case TG_N_LET:
		return let_stmt(c, n);
	case TG_N_FOR:
		return for_stmt(c, n);
	case TG_N_IF:
		r = want_int(c, n->kids[0], "if condition");
		if (r < 0)
			return r;
		r = stmt(c, n->kids[1]);
		if (r < 0 || n->nkids < 3)
			return r;
		return stmt(c, n->kids[2]);
	case TG_N_UNROLL: {
		/* unroll ($1): positional parameters are compile-time constants */
		int64_t cnt = (int64_t)n->u64;

		if (!n->u64 && n->nkids > 1) {
			r = sem_want_const(c, n->kids[1], "unroll", &cnt);
			if (r < 0)
				return r;
		}
		if (cnt < 1 || cnt > TG_MAX_UNROLL)
			return sem_err(c, n->loc, TG_ELIMIT, "unroll: count must be 1..%d", TG_MAX_UNROLL);
		sem_of(n)->cval = cnt;
		c->unroll_depth++;
		r = stmt(c, n->kids[0]);
		c->unroll_depth--;
		return r;
	}
	case TG_N_WHILE:
		r = want_int(c, n->kids[0], "while condition");
		if (r < 0)
			return r;
		c->loop_depth++;
		r = stmt(c, n->kids[1]);
		c->loop_depth--;
		return r;
	case TG_N_BREAK:
	case TG_N_CONTINUE:
		if (!c->loop_depth)
			return sem_err(c, n->loc, TG_ETYPE, "%s: outside a loop",
				   n->kind == TG_N_BREAK ? "break" : "continue");
		return 0;
	case TG_N_RETURN:
		return 0;
	default:
		return expr(c, n);
	}
}

/* What the typing code (sema-types.c) calls back: the language's own
 * expressions inside C-typed ones (an index, a cast's operand, join()'s
 * site).  Handed over in the context so the two files do not call each
 * other. */
static const struct sem_ops ops = {
	.expr = expr,
	.want_int = want_int,
	.site = site_new,
};

static int pass(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		struct lang_diag *diag, bool final)
{
	for (size_t i = 0; i < prog->nprobes; i++) {
		struct lang_probe *pr = &prog->probes[i];
		struct sctx c = { .s = s, .ops = &ops, .p = &s->probes[i], .tp = pr, .diag = diag,
				 .final = final };
		int r;

		for (size_t v = 0; v < c.p->nvars; v++) {
			c.p->vars[v].assigned = false;
			c.p->vars[v].hidden = c.p->vars[v].decl != NULL;
		}
		c.p->args = tp ? tp[i] : NULL;
		c.p->is_begin = !strcmp(pr->attach[0].type, "BEGIN");
		c.p->is_end = !strcmp(pr->attach[0].type, "END");
		c.p->is_probe_fn = !strcmp(pr->attach[0].type, "kprobe") ||
				   !strcmp(pr->attach[0].type, "kretprobe") ||
				   !strcmp(pr->attach[0].type, "uprobe") ||
				   !strcmp(pr->attach[0].type, "uretprobe");
		c.p->user_mem = !strcmp(pr->attach[0].type, "uprobe") ||
				!strcmp(pr->attach[0].type, "uretprobe") ||
				!strcmp(pr->attach[0].type, "usdt");
		if (pr->pred) {
			r = want_int(&c, pr->pred, "predicate");
			if (r < 0)
				return r;
		}
		r = stmt(&c, pr->body);
		if (r < 0)
			return r;
	}
	return 0;
}

int sem_analyse(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		const char *const *params, size_t nparams, struct lang_diag *diag)
{
	return sem_analyse_in(s, prog, tp, params, nparams, NULL, diag);
}

int sem_analyse_in(struct sem *s, struct lang_program *prog, const struct tp_format *const *tp,
		   const char *const *params, size_t nparams, const char *cache_dir,
		   struct lang_diag *diag)
{
	int r;

	uint64_t cpid = s->cpid;    /* the caller's, kept */
	uint32_t probe_slen = s->probe_slen;

	memset(s, 0, sizeof(*s));
	s->cpid = cpid;
	s->probe_slen = MIN(probe_slen, SEM_MAX_PROBE_SLEN);
	s->prog = prog;
	s->params = params;
	s->nparams = nparams;
	s->cache_dir = cache_dir;
	s->probes = calloc(prog->nprobes ? prog->nprobes : 1, sizeof(*s->probes));
	if (!s->probes)
		return -ENOMEM;
	if (prog->ncdefs) {
		/* the program's own definitions compile (or fail) first */
		struct sctx c = { .s = s, .ops = &ops, .p = &s->probes[0], .diag = diag };
		struct ktypes *kt;

		r = st_ktypes(&c, &kt);
		if (r < 0)
			return r;
	}
	r = pass(s, prog, tp, diag, false);
	if (r < 0)
		return r;
	r = pass(s, prog, tp, diag, true);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->nmaps; i++) {
		if (s->maps[i].kind == MK_NONE) {
			diag->loc = s->maps[i].loc;
			snprintf(diag->msg, sizeof(diag->msg), "map \"%s\": never assigned",
				 s->maps[i].name);
			return -TG_ETYPE;
		}
	}
	return 0;
}

static void clear_aux(struct lang_node *n)
{
	if (!n)
		return;
	n->aux = NULL;
	for (size_t i = 0; i < n->nkids; i++)
		clear_aux(n->kids[i]);
}

void sem_release(struct sem *s)
{
	/* aux pointers would dangle: clear them so the tree can be reused */
	for (size_t i = 0; s->prog && i < s->prog->nprobes; i++) {
		clear_aux(s->prog->probes[i].pred);
		clear_aux(s->prog->probes[i].body);
	}
	for (size_t i = 0; i < s->nallocs; i++)
		free(s->allocs[i]);
	free(s->allocs);
	ktype_free(s->kt);
	free(s->tuples);
	free(s->probes);
	free(s->sites);
	memset(s, 0, sizeof(*s));
}
