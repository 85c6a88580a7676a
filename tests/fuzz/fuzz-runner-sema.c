// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what the privileged runner does with a tenant's
 * program before clang: parse, plan, semantic analysis (runner/sema.c)
 * and code generation to C text (runner/codegen.c), the calls of
 * engine_prepare() and engine_compile()'s jailed half (runner/engine.c).
 *
 * The plan is built here, not by plan_build(): that reads tracefs,
 * /proc/kallsyms and the host's binaries, and mounts tracefs when it can,
 * so the same input would plan differently on another machine.  Every
 * attach point becomes the program plan_build() would make of a probe
 * that exists, and every tracepoint has one fixed format (below) with a
 * field of each kind tracepoint.c tells apart.  A program with C
 * definitions is skipped: sema compiles them with clang.  Kernel types
 * come from this machine's BTF when it has some (a cast to a kernel
 * struct is a type error without it).  printf's format checks (engine.c,
 * output/) are not run: code generation does not read the format.
 *
 * Properties beyond "no crash, no leak": a refused program has a message
 * and a position at every step; code generation after a successful
 * analysis refuses only with a program error (a limit, an unsupported
 * construct, a type) that has both, never with an internal error.
 *
 * Positional parameters: fuzz-parser's convention (tests/fuzz/fuzz-util.h).
 * An input of odd length is a trace scoped to pods, as the gateway's
 * sessions are (guard_plan_scope refuses more, codegen writes the scope
 * prologue): one level with the inline pre-check when its length is 1
 * modulo 4, two levels otherwise.  An unscoped trace has a child command
 * (exec -c: cpid is a constant).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lang/ast.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/codegen.h"
#include "runner/guard.h"
#include "runner/ktypes.h"
#include "runner/probes.h"
#include "runner/sema.h"
#include "runner/tracepoint.h"
#include "tests/fuzz/fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sys_enter_openat's fields, execve's argv and one of every other kind */
static const char *const tp_lines[] = {
	"field:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;",
	"field:int dfd;\toffset:16;\tsize:8;\tsigned:0;",
	"field:const char * filename;\toffset:24;\tsize:8;\tsigned:0;",
	"field:int flags;\toffset:32;\tsize:8;\tsigned:0;",
	"field:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;",
	"field:char comm[16];\toffset:48;\tsize:16;\tsigned:0;",
	"field:__data_loc char[] name;\toffset:64;\tsize:4;\tsigned:0;",
	"field:long ret;\toffset:72;\tsize:8;\tsigned:1;",
	"field:unsigned long args[6];\toffset:80;\tsize:48;\tsigned:0;",
	"field:u8 b;\toffset:128;\tsize:1;\tsigned:0;",
	"field:s16 h;\toffset:130;\tsize:2;\tsigned:1;",
	"field:pid_t pid;\toffset:132;\tsize:4;\tsigned:1;",
	"field:void * ptr;\toffset:136;\tsize:8;\tsigned:0;",
	"field:struct foo s;\toffset:144;\tsize:24;\tsigned:0;",
	"field:const char *const * argv;\toffset:168;\tsize:8;\tsigned:0;",
};

static void fail(const char *step, const struct lang_diag *d, int r)
{
	fprintf(stderr, "fuzz-runner-sema: %s: %d %u:%u %s\n", step, r, d->loc.line, d->loc.col, d->msg);
	abort();
}

/* A refusal must say what and where (engine.c's diag_err shows both);
 * FUZZ_SEMA_VERBOSE prints each, for reading what a corpus reaches */
static void check_diag(const char *step, const struct lang_diag *d, int r)
{
	if (getenv("FUZZ_SEMA_VERBOSE"))
		fprintf(stderr, "fuzz-runner-sema: %s: %d %u:%u %s\n", step, r, d->loc.line, d->loc.col, d->msg);
	if (r == -ENOMEM)
		return;
	if (d->msg[0] == '\0' || d->loc.line == 0 || d->loc.col == 0)
		fail(step, d, r);
}

static int diag_set(struct lang_diag *d, struct lang_loc loc, int code, const char *msg, const char *what)
{
	d->loc = loc;
	snprintf(d->msg, sizeof(d->msg), "%s \"%s\"", msg, what);
	return -code;
}

/* [A-Za-z0-9_]+: what tracefs' available_events lists */
static const char *tp_name(const char *s, const char *dflt)
{
	if (!s || !*s || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")])
		return dflt;
	return s;
}

static int tp_fill(struct plan_prog *p, const struct lang_attach *a)
{
	const char *cat = tp_name(a->target, "fuzz"), *name = tp_name(a->func, "fuzz_event");
	struct tp_format *f = &p->tp;

	p->kind = PK_TRACEPOINT;
	f->category = strdup(cat);
	f->name = strdup(name);
	f->fields = calloc(ARRAY_SIZE(tp_lines), sizeof(*f->fields));
	p->tps = calloc(2, sizeof(*p->tps));
	if (!f->category || !f->name || !f->fields || !p->tps)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(tp_lines); i++) {
		if (tp_field_parse(tp_lines[i], &f->fields[f->n]) < 0)
			abort();
		f->n++;
	}
	if (asprintf(&p->tps[0], "%s:%s", cat, name) < 0) {
		p->tps[0] = NULL;
		return -ENOMEM;
	}
	p->ntps = 1;
	if (asprintf(&p->section, "tracepoint/%s/%s", cat, name) < 0 ||
	    asprintf(&p->name, "tracepoint:%s", p->tps[0]) < 0)
		return -ENOMEM;
	return 0;
}

/* One attach point: the program plan_build() makes when it exists */
static int attach_fill(struct plan_prog *p, const struct lang_attach *a, struct lang_diag *d)
{
	const char *t = a->type, *func = a->func && !strpbrk(a->func, "*?[") ? a->func : "fuzz_func";

	if (!strcmp(t, "BEGIN") || !strcmp(t, "END")) {
		p->kind = t[0] == 'B' ? PK_BEGIN : PK_END;
		p->section = strdup(t[0] == 'B' ? "tg_begin" : "tg_end");
		p->name = strdup(t);
		snprintf(p->fn, sizeof(p->fn), "%s", t[0] == 'B' ? "tg_prog_begin" : "tg_prog_end");
		return p->section && p->name ? 0 : -ENOMEM;
	}
	if (!strcmp(t, "tracepoint")) {
		if (!a->target || !a->func)
			return diag_set(d, a->loc, TG_ETYPE, "tracepoint needs CATEGORY:NAME:", a->raw);
		return tp_fill(p, a);
	}
	if (!strcmp(t, "interval") || !strcmp(t, "profile") || !strcmp(t, "software")) {
		p->kind = PK_PERF;
		p->period = a->freq ? a->freq : 1;
		p->one_cpu = t[0] == 'i';
		p->section = strdup("perf_event");
		p->name = strdup(a->raw);
		return p->section && p->name ? 0 : -ENOMEM;
	}
	if (!strcmp(t, "kprobe") || !strcmp(t, "kretprobe")) {
		if (!a->func || a->target)
			return diag_set(d, a->loc, TG_EUNSUPPORTED, "kernel modules are not supported:", a->raw);
		p->kind = t[1] == 'r' ? PK_KRETPROBE : PK_KPROBE;
		p->func = strdup(func);
		p->offset = a->offset;
		if (!p->func || asprintf(&p->section, "%s/%s", t, func) < 0 ||
		    asprintf(&p->name, "%s:%s", t, func) < 0)
			return -ENOMEM;
		return 0;
	}
	if (!strcmp(t, "uprobe") || !strcmp(t, "uretprobe") || !strcmp(t, "usdt")) {
		if (!a->target || (!a->func && !a->address))
			return diag_set(d, a->loc, TG_EUNSUPPORTED, "needs PATH:FUNCTION:", a->raw);
		p->kind = t[1] == 's' ? PK_USDT : t[1] == 'r' ? PK_URETPROBE : PK_UPROBE;
		p->path = strdup(a->target);
		p->func = strdup(func);
		p->offset = a->func ? a->offset : a->address;
		p->provider = strdup(a->ns ? a->ns : "fuzz");
		p->sites = 1;
		p->section = strdup(p->kind == PK_USDT ? "usdt" : t);
		p->name = strdup(a->raw);
		return p->path && p->func && p->provider && p->section && p->name ? 0 : -ENOMEM;
	}
	return diag_set(d, a->loc, TG_EUNSUPPORTED, "probe type not supported:", t);
}

static int plan_fuzz(struct lang_program *prog, struct plan *pl, struct lang_diag *d)
{
	size_t n = 0;
	int r;

	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < prog->nprobes; i++)
		n += prog->probes[i].nattach;
	if (n > PLAN_MAX_PROGS)
		return diag_set(d, prog->probes[0].loc, TG_ELIMIT, "more BPF programs than", "PLAN_MAX_PROGS");
	pl->prog = prog;
	pl->all_formats = true;
	pl->probe_tp = calloc(prog->nprobes ? prog->nprobes : 1, sizeof(*pl->probe_tp));
	pl->progs = calloc(n ? n : 1, sizeof(*pl->progs));
	if (!pl->probe_tp || !pl->progs)
		return -ENOMEM;
	for (size_t i = 0; i < prog->nprobes; i++) {
		for (size_t j = 0; j < prog->probes[i].nattach; j++) {
			struct plan_prog *p = &pl->progs[pl->n];

			p->fd = -1;
			p->probe = i;
			snprintf(p->fn, sizeof(p->fn), "tg_p%zu", pl->n);
			pl->n++;
			r = attach_fill(p, &prog->probes[i].attach[j], d);
			if (r < 0)
				return r;
			if (p->kind == PK_TRACEPOINT && !pl->probe_tp[i])
				pl->probe_tp[i] = &p->tp;
		}
	}
	if (!pl->n)
		return diag_set(d, (struct lang_loc){ 1, 1 }, TG_ENOPROBE, "no probe in", "the program");
	return 0;
}

/* engine.c's probe_name_bytes: the longest name, with its NUL */
static uint32_t probe_slen(const struct plan *pl)
{
	size_t max = 0;

	for (size_t i = 0; i < pl->n; i++)
		max = MAX(max, strlen(pl->progs[i].name));
	return sem_round8((uint32_t)MIN(max + 1, SEM_MAX_PROBE_SLEN));
}

/* After a successful analysis code generation may refuse the program
 * (a limit, what it cannot express), never fail inside */
static void check_codegen(int r, const struct lang_diag *d)
{
	if (r == -ENOMEM)
		return;
	if (r != -TG_ELIMIT && r != -TG_EUNSUPPORTED && r != -TG_ETYPE && r != -TG_EPARSE)
		fail("codegen: an internal error after a successful analysis", d, r);
	/* sema's invariants: every node it accepted has a type */
	if (strstr(d->msg, "not typed") || strstr(d->msg, "bad aggregation"))
		fail("codegen: a node sema accepted is untyped", d, r);
	check_diag("codegen", d, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lang_program *prog = NULL;
	struct lang_diag d = { 0 };
	const char *params[8];
	struct lang_parse_opts po = { .sz = sizeof(po), .params = params };
	struct cg_opts co = { .sz = sizeof(co), .max_map_entries = 4096, .ringbuf_bytes = 1u << 21,
			      .ncpus = 4 };
	static const int levels[] = { 3, 5 };
	bool scoped = size & 1, two_levels = size & 2;   /* the whole input's length */
	struct plan pl = { 0 };
	struct sem sem;
	char *src = NULL;
	int r;

	memset(&sem, 0, sizeof(sem));
	if (fuzz_params(&data, &size, params, 8, &po.nparams) < 0)
		return 0;
	r = lang_program_parse_opts((const char *)data, size, &po, &prog, &d);
	if (r < 0) {
		check_diag("parse", &d, r);
		return 0;
	}
	if (prog->ncdefs)
		goto out;   /* clang compiles them (ktype_preamble) */
	r = ktype_includes_check(prog, &d);
	if (r < 0) {
		check_diag("includes", &d, r);
		goto out;
	}
	r = plan_fuzz(prog, &pl, &d);
	if (r < 0) {
		check_diag("plan", &d, r);
		goto out;
	}
	r = guard_plan_scope(prog, &pl, scoped, &d);
	if (r < 0) {
		check_diag("guard", &d, r);
		goto out;
	}
	sem.probe_slen = probe_slen(&pl);
	sem.cpid = scoped ? 0 : 4242;   /* exec -c: a local, unscoped trace */
	r = sem_analyse(&sem, prog, pl.probe_tp, params, po.nparams, &d);
	if (r < 0) {
		check_diag("sema", &d, r);
		goto out;
	}
	for (size_t i = 0; i < prog->nprobes; i++)
		if (!sem.probes[i].uses_args)
			plan_share(&pl, i);
	if (scoped) {
		co.levels = levels;
		co.nlevels = two_levels ? 2 : 1;
		co.nfast = co.nlevels == 1 ? 2 : 0;
	}
	memset(&d, 0, sizeof(d));
	r = cg_generate(&sem, &pl, &co, &src, &d);
	if (r < 0)
		check_codegen(r, &d);
	else if (!src || strlen(src) > CG_MAX_SOURCE)
		fail("codegen: no source or one over CG_MAX_SOURCE", &d, r);
	else if (getenv("FUZZ_SEMA_VERBOSE"))
		fprintf(stderr, "fuzz-runner-sema: %zu bytes of C\n", strlen(src));
out:
	free(src);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
	return 0;
}
