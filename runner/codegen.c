// SPDX-License-Identifier: Apache-2.0
/*
 * BPF C generation: the prelude, the maps, one function per planned
 * program.  See docs/internals/runner.md for the prologue and sections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "runner/codegen-int.h"
#include "runner/codegen-layout.h"
#include "runner/usdt.h"
#include "lib/banned.h"

/* Only what the generated code uses: no vmlinux.h, no system headers, so
 * clang parses a few hundred lines. */
static const char prelude[] =
	"typedef unsigned char __u8; typedef signed char __s8;\n"
	"typedef unsigned short __u16; typedef short __s16;\n"
	"typedef unsigned int __u32; typedef int __s32;\n"
	"typedef unsigned long long __u64; typedef long long __s64;\n"
	"#define SEC(n) __attribute__((section(n), used))\n"
	"#define __always_inline inline __attribute__((always_inline))\n"
	"#define __uint(name, val) int (*name)[val]\n";

/* The interrupt check's kernel types, reduced to what it reads, unless
 * the program's kernel types (ktypes.h) declare them in full. */
static const struct { const char *name, *decl; } prologue_types[] = {
	{ "struct cfs_rq", "struct rq;\nstruct cfs_rq { struct rq *rq; } __attribute__((preserve_access_index));\n" },
	{ "struct sched_entity", "struct sched_entity { struct cfs_rq *cfs_rq; } __attribute__((preserve_access_index));\n" },
	{ "struct task_struct", "struct task_struct { void *stack; struct sched_entity se; } __attribute__((preserve_access_index));\n" },
};

static const char prelude_tail[] =
	"static long (*bpf_probe_read_user)(void *dst, __u32 size, const void *p) = (void *)112;\n"
	"static __u64 (*bpf_get_current_task)(void) = (void *)35;\n"
	"struct tg_pt_regs { __u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss; };\n"
	"static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;\n"
	"static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;\n"
	"static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;\n"
	"static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;\n"
	"static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;\n"
	"static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;\n"
	"static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;\n"
	"static __u64 (*bpf_get_current_uid_gid)(void) = (void *)15;\n"
	"static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;\n"
	"static long (*bpf_get_numa_node_id)(void) = (void *)42;\n"
	"static __u64 (*bpf_get_current_cgroup_id)(void) = (void *)80;\n"
	"static long (*bpf_probe_read_user_str)(void *dst, __u32 size, const void *p) = (void *)114;\n"
	"static long (*bpf_probe_read_kernel_str)(void *dst, __u32 size, const void *p) = (void *)115;\n"
	"static __u64 (*bpf_get_current_ancestor_cgroup_id)(int level) = (void *)123;\n"
	"static void *(*bpf_ringbuf_reserve)(void *rb, __u64 size, __u64 flags) = (void *)131;\n"
	"static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;\n"
	"static long (*tg_read_kernel)(void *dst, __u32 size, const void *p) = (void *)113;\n"
	"static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;\n"
	"static long (*bpf_get_stackid)(void *ctx, void *map, __u64 flags) = (void *)27;\n"
	"static __u64 (*tg_attach_cookie)(void *ctx) = (void *)174;\n"
	"static long (*bpf_for_each_map_elem)(void *map, void *cb, void *ctx, __u64 flags) = (void *)164;\n"
	"static long (*bpf_loop)(__u32 n, void *cb, void *ctx, __u64 flags) = (void *)181;\n"
	"static void *(*bpf_map_lookup_percpu_elem)(void *map, const void *key, __u32 cpu) = (void *)195;\n"
	"char LICENSE[] SEC(\"license\") = \"GPL\";\n";

/* Helpers in C, after the maps they use. */
static const char helpers[] =
	"static __always_inline void tg_count(void *m) { __u32 z = 0; __u64 *p = bpf_map_lookup_elem(m, &z); if (p) *p += 1; }\n"
	"static __always_inline void tg_drop(void) { tg_count(&tg_drops); }\n"
	"static __always_inline void tg_mdrop(void) { tg_count(&tg_mdrops); }\n"
	/* events_per_second: a per-CPU token bucket counted in nanoseconds of
	 * credit; one event costs tg_rate_cost (ncpus * 1e9 / rate), the credit
	 * is capped at tg_rate_cap.  Both 0: unlimited (the verifier prunes it). */
	"struct tg_bucket { __u64 credit; __u64 last; };\n"
	"static __always_inline int tg_rate_ok(void) {\n"
	"\tif (!tg_rate_cost) return 1; __u32 z = 0; struct tg_bucket *b = bpf_map_lookup_elem(&tg_rate, &z);\n"
	"\tif (!b) return 0; __u64 now = bpf_ktime_get_ns(), c = b->credit + (now - b->last);\n"
	"\tif (now - b->last > tg_rate_cap || c > tg_rate_cap) c = tg_rate_cap; b->last = now;\n"
	"\tif (c < tg_rate_cost) { b->credit = c; return 0; } b->credit = c - tg_rate_cost; return 1;\n}\n"
	"static __always_inline void *tg_out_reserve(__u64 size) {\n"
	"\tif (!tg_rate_ok()) return 0; return bpf_ringbuf_reserve(&tg_events, size, 0);\n}\n"
	"static __always_inline __u64 tg_start_ns(void) { __u32 z = 0; __u64 *p = bpf_map_lookup_elem(&tg_start, &z); return p ? *p : 0; }\n"
	"static __always_inline int tg_strcmp(const char *a, const char *b, __u32 n) {\n"
	"\tfor (__u32 i = 0; i < n; i++) { char x = a[i], y = b[i]; if (x != y) return x < y ? -1 : 1; if (!x) return 0; }\n"
	"\treturn 0;\n}\n"
	"static __always_inline __u64 tg_udiv(__u64 a, __u64 b) { return b ? a / b : 0; }\n"
	"static __always_inline __u64 tg_umod(__u64 a, __u64 b) { return b ? a % b : 0; }\n"
	"static __always_inline __s64 tg_sdiv(__s64 a, __s64 b) {\n"
	"\tint neg = (a < 0) != (b < 0); __u64 ua = a < 0 ? -(__u64)a : (__u64)a, ub = b < 0 ? -(__u64)b : (__u64)b;\n"
	"\t__u64 q = ub ? ua / ub : 0; return neg ? -(__s64)q : (__s64)q;\n}\n"
	"static __always_inline __s64 tg_smod(__s64 a, __s64 b) {\n"
	"\t__u64 ua = a < 0 ? -(__u64)a : (__u64)a, ub = b < 0 ? -(__u64)b : (__u64)b;\n"
	"\t__u64 m = ub ? ua % ub : 0; return a < 0 ? -(__s64)m : (__s64)m;\n}\n"
	"static __always_inline __u64 tg_log2(__s64 v) {\n"
	"\tif (v < 0) return 0; if (v == 0) return 1; __u64 n = v, l = 0;\n"
	"\tif (n >= (1ULL << 32)) { n >>= 32; l += 32; } if (n >= (1ULL << 16)) { n >>= 16; l += 16; }\n"
	"\tif (n >= (1ULL << 8)) { n >>= 8; l += 8; } if (n >= (1ULL << 4)) { n >>= 4; l += 4; }\n"
	"\tif (n >= (1ULL << 2)) { n >>= 2; l += 2; } if (n >= (1ULL << 1)) { l += 1; }\n"
	"\treturn l + 2;\n}\n"
	/* bpftrace 0.2x's hist(v, k): 2^k buckets per power of 2 (0: v < 0;
	 * 1..2^k: v itself; then the power and the k bits after its first) */
	"static __always_inline __u64 tg_log2k(__s64 v, __u64 k) {\n"
	"\tif (v < 0) return 0; __u64 mask = (1ULL << k) - 1, n = v, l = 0; if (n <= mask) return n + 1;\n"
	"\tif (n >= (1ULL << 32)) { n >>= 32; l += 32; } if (n >= (1ULL << 16)) { n >>= 16; l += 16; }\n"
	"\tif (n >= (1ULL << 8)) { n >>= 8; l += 8; } if (n >= (1ULL << 4)) { n >>= 4; l += 4; }\n"
	"\tif (n >= (1ULL << 2)) { n >>= 2; l += 2; } if (n >= (1ULL << 1)) { l += 1; }\n"
	"\tl -= k; return ((l + 1) << k) + (((__u64)v >> l) & mask) + 1;\n}\n"
	"static __always_inline __u64 tg_linear(__s64 v, __s64 mn, __s64 mx, __s64 st) {\n"
	"\tif (v < mn) return 0; if (v > mx) return 1 + (__u64)(mx - mn) / st; return 1 + (__u64)(v - mn) / st;\n}\n"
	"static __always_inline void tg_add(void *m, void *k, __s64 v) {\n"
	"\t__s64 *p = bpf_map_lookup_elem(m, k); if (p) { *p += v; return; }\n"
	"\t__s64 nv = v; if (bpf_map_update_elem(m, k, &nv, 1) == 0) return;\n"
	"\tp = bpf_map_lookup_elem(m, k); if (p) *p += v; else tg_mdrop();\n}\n"
	"struct tg_pair { __s64 a; __u64 b; };\n"
	/* a for loop's callback context: the event's scope cgroup id, set
	 * when the body leaves the probe (return, exit()), a range's start */
	"struct tg_fc { __u64 cgid; __u64 ret; __s64 start; };\n"
	"static long tg_cb_len(void *m, void *k, void *v, void *c) { *(__u64 *)c += 1; return 0; }\n"
	"static __always_inline void tg_avg(void *m, void *k, __s64 v) {\n"
	"\tstruct tg_pair *p = bpf_map_lookup_elem(m, k);\n"
	"\tif (!p) { struct tg_pair z = { 0, 0 }; bpf_map_update_elem(m, k, &z, 1); p = bpf_map_lookup_elem(m, k); }\n"
	"\tif (p) { p->a += v; p->b += 1; } else tg_mdrop();\n}\n"
	"static __always_inline void tg_minmax(void *m, void *k, __s64 v, int max) {\n"
	"\tstruct tg_pair *p = bpf_map_lookup_elem(m, k);\n"
	"\tif (!p) { struct tg_pair z = { 0, 0 }; bpf_map_update_elem(m, k, &z, 1); p = bpf_map_lookup_elem(m, k); }\n"
	"\tif (!p) { tg_mdrop(); return; }\n"
	"\tif (!p->b || (max ? v > p->a : v < p->a)) { p->a = v; p->b = 1; }\n}\n";

/* A scalar count() is a one-entry per-CPU array, as in bpftrace 0.17: its
 * lookup is inlined by the kernel (a hash lookup is a call and a hash),
 * and it always has a value, which is how the engine prints it anyway.
 * Not when the program delete()s it: a program cannot delete from an
 * array, nor zero every CPU's slot.  User space clears it by writing 0. */
static bool map_is_array(const struct sem_map *m, bool deleted)
{
	return m->kind == MK_COUNT && m->nkeys == 0 && !deleted;
}

static int maps(struct buf *o, const struct sem *s, const struct cg_opts *op, uint32_t scratch,
		const bool *deleted)
{
	int r = 0;

	if (op->levels)
		r = buf_adds(o, "struct { __uint(type, 1); __uint(max_entries, 256); __uint(key_size, 8); __uint(value_size, 1); } tg_scope SEC(\".maps\");\n");
	if (r >= 0)
		r = buf_printf(o, "struct { __uint(type, 27); __uint(max_entries, %" PRIu32 "); } tg_events SEC(\".maps\");\n",
			       op->ringbuf_bytes);
	if (r >= 0)
		r = buf_adds(o, "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 8); } tg_drops SEC(\".maps\");\n"
			     "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 8); } tg_mdrops SEC(\".maps\");\n"
			     "struct { __uint(type, 2); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 8); } tg_start SEC(\".maps\");\n"
			     "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, 16); } tg_rate SEC(\".maps\");\n"
			     /* read-only globals the runner sets before loading
			      * (docs/internals/runner.md, "Limits" and "Interrupt
			      * context"); 0 until then, which fails closed */
			     "const volatile __u64 tg_rate_cost = 0;\n"
			     "const volatile __u64 tg_rate_cap = 0;\n"
			     "const volatile __u64 tg_thread_size = 0;\n"
			     "const volatile __u64 tg_rq_off = 0;\n"
			     "const volatile __u64 tg_pc_off = 0;\n");
	if (r >= 0 && op->levels)
		r = buf_printf(o, "const volatile __u64 tg_scope_fast[%d] = { 0 };\n", CG_SCOPE_FAST);
	if (r >= 0)
		r = buf_printf(o, "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, %" PRIu32 "); } tg_scratch SEC(\".maps\");\n",
			       scratch ? scratch : 8);
	/* one stack map per frame count: the kernel hashes only the frames
	 * the map holds, so kstack(3) keys equal when their 3 frames do */
	for (size_t i = 1; i <= SEM_STACK_FRAMES && r >= 0; i++)
		if (s->stack_frames[i])
			r = buf_printf(o, "struct { __uint(type, 7); __uint(max_entries, %" PRIu64 "); __uint(key_size, 4); __uint(value_size, %zu); } tg_st%zu SEC(\".maps\");\n",
				       op->max_map_entries, i * 8, i);
	for (size_t i = 0; i < s->nmaps && r >= 0; i++) {
		const struct sem_map *m = &s->maps[i];

		if (map_is_array(m, deleted[i]))
			r = buf_printf(o, "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); __uint(value_size, %" PRIu32 "); } tg_m%d SEC(\".maps\");\n",
				       cg_val_size(m), m->id);
		else
			r = buf_printf(o, "struct { __uint(type, %d); __uint(max_entries, %" PRIu64 "); __uint(key_size, %" PRIu32 "); __uint(value_size, %" PRIu32 "); } tg_m%d SEC(\".maps\");\n",
				       sem_map_percpu(m) ? 5 : 1, op->max_map_entries, cg_key_size(m),
				       cg_val_size(m), m->id);
	}
	return r;
}

static int prologue(struct gen *g, const struct cg_opts *op)
{
	int r = cg_emit(g, "__u64 tg_cgid = 0;");

	if (!op->levels || g->pp->kind == PK_BEGIN || g->pp->kind == PK_END ||
	    !strncmp(g->pp->section, "tg_timer/", 9))
		return r;
	for (size_t i = 0; i < op->nlevels && r >= 0; i++) {
		r = cg_emit(g, "tg_cgid = bpf_get_current_ancestor_cgroup_id(%d);", op->levels[i]);
		/* Most events are someone else's: with a few targets at one
		 * level, compares with read-only globals turn them away before
		 * the hash lookup (which stays: it is what the verifier proves) */
		if (r >= 0 && op->nlevels == 1 && op->nfast > 0 && op->nfast <= CG_SCOPE_FAST) {
			r = buf_adds(g->o, "\tif (");
			for (size_t k = 0; k < op->nfast && r >= 0; k++)
				r = buf_printf(g->o, "%stg_cgid != tg_scope_fast[%zu]", k ? " && " : "", k);
			if (r >= 0)
				r = buf_adds(g->o, ")\n\t\treturn 0;\n");
		}
		if (r >= 0)
			r = cg_emit(g, "if (bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n\t\tgoto tg_in_scope;");
	}
	if (r >= 0)
		r = cg_emit(g, "return 0;\ntg_in_scope:;");
	/* Interrupt context belongs to no tenant.  First the stack: the
	 * program's frame is on the current task's stack only in task context
	 * or in an interrupt taken from user mode (x86-64 runs hardirqs and
	 * softirqs from kernel mode on the IRQ stack, but from user mode on
	 * the task stack, which is empty then); tg_thread_size is THREAD_SIZE.
	 * Then the preemption counter of this CPU (NMI, hardirq, and serving a
	 * softirq; not bh-disabled task code), found from the task's run
	 * queue: per-CPU ksyms need CONFIG_KALLSYMS_ALL, which hosts lack. */
	if (r >= 0)
		r = cg_emit(g, "{ struct task_struct *tg_t = bpf_get_current_task_btf();\n"
			    "\t__u64 tg_kbase = (__u64)tg_t->stack, tg_sp = (__u64)&tg_cgid; __u32 tg_pc = 0xffffffff;\n"
			    "\tif (tg_sp < tg_kbase || tg_sp >= tg_kbase + tg_thread_size)\n\t\treturn 0;\n"
			    "\tif (tg_read_kernel(&tg_pc, 4, (void *)((__u64)tg_t->se.cfs_rq->rq - tg_rq_off + tg_pc_off)) ||\n"
			    "\t    (tg_pc & 0x00ff0100))\n\t\treturn 0; }");
	return r;
}

static bool has_for(const struct lang_node *n)
{
	if (!n)
		return false;
	if (n->kind == TG_N_FOR)
		return true;
	for (size_t i = 0; i < n->nkids; i++)
		if (has_for(n->kids[i]))
			return true;
	return false;
}

static int probe_block(struct gen *g, const struct lang_program *prog, size_t probe)
{
	const struct lang_probe *pr = &prog->probes[probe];
	const struct sem_probe *sp = &g->s->probes[probe];
	_cleanup_free_ uint32_t *slots = calloc(sp->nvars ? sp->nvars : 1, sizeof(*slots));
	struct cv c;
	int r;

	if (!slots)
		return -ENOMEM;
	g->probe = probe;
	g->sp = sp;
	g->var_slot = slots;
	g->scratch = 0;
	g->vars_scratch = has_for(pr->body);
	r = cg_emit(g, "{ /* probe %zu, line %u */", probe, pr->loc.line);
	for (size_t i = 0; i < sp->nvars && r >= 0; i++) {
		if (sem_is_blob(&sp->vars[i].t) || g->vars_scratch) {
			uint32_t len = sem_is_blob(&sp->vars[i].t) ? sp->vars[i].t.slen : 8;

			r = cg_slot(g, len, pr->loc, &slots[i]);
			if (r >= 0)
				r = cg_emit(g, "__builtin_memset((__u64 *)(tg_s + %" PRIu32 "), 0, %" PRIu32 ");",
					    slots[i], sem_round8(len));
		} else {
			r = cg_emit(g, "%s V%zu_%zu = 0;", sp->vars[i].t.sign ? "__s64" : "__u64", probe, i);
		}
	}
	if (r >= 0 && pr->pred) {
		uint32_t mark = g->scratch;

		r = cg_expr(g, pr->pred, &c);
		if (r >= 0)
			r = cg_emit(g, "if (!(%s)) goto tg_out_%zu;", c.e, probe);
		g->scratch = mark;
	}
	if (r >= 0)
		r = cg_stmt(g, pr->body);
	if (r >= 0)
		r = cg_emit(g, "}\ntg_out_%zu:;", probe);
	g->var_slot = NULL;
	return r;
}

/* Section and function names are the only names of a probe that reach the
 * generated C outside a literal's octal escapes; they come from tracefs,
 * kallsyms or an attach point, so each byte is checked against what a
 * section name holds rather than trusted. */
static bool c_name_safe(const char *s, bool ident)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
			continue;
		if (!ident && (c == '/' || c == '.' || c == ':' || c == '-' || c == '+'))
			continue;
		return false;
	}
	return true;
}

static int function(struct gen *g, const struct lang_program *prog, const struct plan *pl,
		    size_t k, const struct cg_opts *op, struct buf *out)
{
	const struct plan_prog *pp = &pl->progs[k];
	_cleanup_buf_ struct buf body = BUF_INIT(CG_MAX_SOURCE);
	int r;

	g->pp = pp;
	g->tmp = 0;
	g->user_ptrs = pp->kind == PK_UPROBE || pp->kind == PK_URETPROBE || pp->kind == PK_USDT ||
		       (pp->kind == PK_TRACEPOINT && pp->tp.category && !strcmp(pp->tp.category, "syscalls")) ||
		       pp->kind == PK_BEGIN || pp->kind == PK_END || pp->kind == PK_PERF;
	if (!c_name_safe(pp->section, false) || !c_name_safe(pp->fn, true))
		return cg_err(g, prog->probes[pp->probe].loc, TG_EPARSE,
			      "probe \"%s\": its name has a character a program section cannot hold",
			      pp->name ? pp->name : "?");
	r = buf_printf(out, "SEC(\"%s\")\nint %s(void *ctx)\n{\n", pp->section, pp->fn);
	if (r < 0)
		return r;
	g->o = out;
	r = prologue(g, op);
	if (r < 0)
		return r;
	/* the body first, so the scratch lookup is emitted only when the
	 * body uses scratch (a per-event cost otherwise) */
	g->o = &body;
	if (pp->kind == PK_BEGIN || pp->kind == PK_END) {
		/* all BEGIN (END) blocks, in program order, in one function */
		for (size_t i = 0; i < pl->n && r >= 0; i++)
			if (pl->progs[i].kind == pp->kind)
				r = probe_block(g, prog, pl->progs[i].probe);
	} else {
		r = probe_block(g, prog, pp->probe);
	}
	g->o = out;
	if (r >= 0 && g->scratch_hi)
		r = cg_emit(g, "__u32 tg_zero = 0; char *tg_s = bpf_map_lookup_elem(&tg_scratch, &tg_zero);\n\tif (!tg_s) return 0;");
	if (r >= 0)
		r = buf_add(out, body.s, body.len);
	if (r >= 0)
		r = buf_adds(out, "\treturn 0;\n}\n\n");
	return r;
}

/* The kernel types the program casts to, then the interrupt check's
 * reduced ones where those did not define them. */
static int types(struct buf *all, const struct sem *s)
{
	size_t start = all->len;
	int r = 0;

	if (s->kt)
		r = ktype_dump(s->kt, all);
	for (size_t i = 0; i < ARRAY_SIZE(prologue_types) && r >= 0; i++) {
		char full[64];

		snprintf(full, sizeof(full), "\n%s {", prologue_types[i].name);
		if (!strstr(all->s + start, full))
			r = buf_adds(all, prologue_types[i].decl);
	}
	return r;
}

int cg_generate(const struct sem *s, const struct plan *pl, const struct cg_opts *op,
		char **ret_src, struct lang_diag *diag)
{
	_cleanup_buf_ struct buf lits = BUF_INIT(CG_MAX_SOURCE);
	_cleanup_buf_ struct buf fns = BUF_INIT(CG_MAX_SOURCE);
	_cleanup_buf_ struct buf cbs = BUF_INIT(CG_MAX_SOURCE);
	int ncbs = 0;
	_cleanup_buf_ struct buf all = BUF_INIT(CG_MAX_SOURCE);
	_cleanup_free_ bool *deleted = calloc(s->nmaps ? s->nmaps : 1, sizeof(*deleted));
	bool begin_done = false, end_done = false;
	uint32_t scratch = 0;
	int nlits = 0;
	int r = 0;

	if (!op || !OPTS_VALID(op, struct cg_opts)) {
		snprintf(diag->msg, sizeof(diag->msg), "codegen: options of another size");
		return -EINVAL;
	}
	if (!deleted)
		return -ENOMEM;
	for (size_t k = 0; k < pl->n && r >= 0; k++) {
		struct gen g = { .s = s, .lits = &lits, .nlits = &nlits, .diag = diag, .map_deleted = deleted,
				 .cbs = &cbs, .ncbs = &ncbs, .ncpus = op->ncpus ? op->ncpus : 1 };
		const struct plan_prog *pp = &pl->progs[k];

		if (pp->kind == PK_BEGIN) {
			if (begin_done)
				continue;
			begin_done = true;
		}
		if (pp->kind == PK_END) {
			if (end_done)
				continue;
			end_done = true;
		}
		r = function(&g, s->prog, pl, k, op, &fns);
		if (g.scratch_hi > scratch)
			scratch = g.scratch_hi;
	}
	if (r == -E2BIG) {
		diag->loc = (struct lang_loc){ 1, 1 };
		snprintf(diag->msg, sizeof(diag->msg), "program: generated code larger than %u bytes",
			 CG_MAX_SOURCE);
		return -TG_ELIMIT;
	}
	if (r < 0)
		return r;
	r = buf_adds(&all, prelude);
	for (size_t k = 0; k < pl->n && r >= 0; k++) {
		if (pl->progs[k].kind == PK_USDT) {
			r = usdt_cg_include(&all, prelude_tail);
			break;
		}
	}
	if (r >= 0)
		r = types(&all, s);
	if (r >= 0)
		r = buf_adds(&all, prelude_tail);
	/* only where used: the C of every other program stays as it was */
	if (r >= 0 && s->uses_stack_len)
		r = buf_adds(&all, "static long (*bpf_get_stack)(void *ctx, void *buf, __u32 size, __u64 flags) = (void *)67;\n");
	if (r >= 0)
		r = maps(&all, s, op, scratch, deleted);
	if (r >= 0)
		r = buf_adds(&all, helpers);
	if (r >= 0)
		r = buf_add(&all, lits.s, lits.len);
	if (r >= 0 && cbs.len)
		r = buf_add(&all, cbs.s, cbs.len);
	if (r >= 0)
		r = buf_add(&all, fns.s, fns.len);
	if (r < 0)
		return r == -E2BIG ? -TG_ELIMIT : r;
	*ret_src = buf_detach(&all, NULL);
	return 0;
}
