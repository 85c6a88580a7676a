// SPDX-License-Identifier: Apache-2.0
/*
 * The object verifier against hostile objects.  Each case is a small BPF C
 * source compiled at test time with the real clang (-O2 -g -target bpf),
 * or a correct object with bytes changed by hand; every hostile one must
 * be refused with its reason, the correct ones (the prologue shape the
 * engine emits, docs/internals/runner.md) accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/verify.h"

static char workdir[] = "/tmp/tg-verify-XXXXXX";

/* Self-contained: no kernel headers, so the test does not depend on the
 * multiarch include path. Helper ids are the stable ABI numbers. */
static const char prelude[] =
	"typedef unsigned long long __u64; typedef unsigned int __u32; typedef unsigned char __u8;\n"
	"#define SEC(n) __attribute__((section(n), used))\n"
	"#define __uint(name, val) int (*name)[val]\n"
	"#define __type(name, val) __typeof__(val) *name\n"
	"static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;\n"
	"static long (*bpf_map_update_elem)(void *map, const void *k, const void *v, __u64 f) = (void *)2;\n"
	"static long (*bpf_trace_printk)(const char *fmt, __u32 sz, ...) = (void *)6;\n"
	"static long (*bpf_tail_call)(void *ctx, void *map, __u32 i) = (void *)12;\n"
	"static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;\n"
	"static long (*bpf_probe_write_user)(void *dst, const void *src, __u32 len) = (void *)36;\n"
	"static long (*bpf_override_return)(void *regs, __u64 rc) = (void *)58;\n"
	"static long (*bpf_send_signal)(__u32 sig) = (void *)109;\n"
	"static long (*bpf_map_delete_elem)(void *map, const void *k) = (void *)3;\n"
	"static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;\n"
	"static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;\n"
	"static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;\n"
	"static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;\n"
	"static long (*bpf_get_numa_node_id)(void) = (void *)42;\n"
	"static __u64 (*bpf_ktime_get_boot_ns)(void) = (void *)125;\n"
	"static long (*bpf_ringbuf_output)(void *rb, void *data, __u64 size, __u64 flags) = (void *)130;\n"
	"static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;\n"
	"static __u64 (*bpf_get_current_ancestor_cgroup_id)(int level) = (void *)123;\n"
	"static void *(*bpf_ringbuf_reserve)(void *rb, __u64 size, __u64 flags) = (void *)131;\n"
	"static long (*tg_read_kernel)(void *dst, __u32 size, const void *p) = (void *)113;\n"
	"struct rq;\n"
	"struct cfs_rq { struct rq *rq; } __attribute__((preserve_access_index));\n"
	"struct sched_entity { struct cfs_rq *cfs_rq; } __attribute__((preserve_access_index));\n"
	"struct task_struct { void *stack; struct sched_entity se; int pid; } __attribute__((preserve_access_index));\n"
	"static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;\n"
	"const volatile __u64 tg_thread_size = 0, tg_rq_off = 0, tg_pc_off = 0;\n"
	"const volatile __u64 tg_scope_fast[4] = { 0 };\n"
	"static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;\n"
	"struct { __uint(type, 1); __uint(max_entries, 256); __type(key, __u64); __type(value, __u8); } tg_scope SEC(\".maps\");\n"
	"struct { __uint(type, 1); __uint(max_entries, 256); __type(key, __u64); __type(value, __u8); } tg_other SEC(\".maps\");\n"
	"struct { __uint(type, 27); __uint(max_entries, 4096); } tg_events SEC(\".maps\");\n"
	"char LICENSE[] SEC(\"license\") = \"GPL\";\n"
	/* the engine's prologue, two levels */
	"#define PROLOGUE \\\n"
	"	__u64 tg_cgid; \\\n"
	"	tg_cgid = bpf_get_current_ancestor_cgroup_id(3); \\\n"
	"	if (bpf_map_lookup_elem(&tg_scope, &tg_cgid)) goto tg_in_scope; \\\n"
	"	tg_cgid = bpf_get_current_ancestor_cgroup_id(4); \\\n"
	"	if (bpf_map_lookup_elem(&tg_scope, &tg_cgid)) goto tg_in_scope; \\\n"
	"	return 0; \\\n"
	"tg_in_scope: ; \\\n"
	"	IRQ_CHECK\n"
	/* the engine's interrupt check (docs/internals/runner.md) */
	"#define IRQ_CHECK { struct task_struct *tg_t = bpf_get_current_task_btf(); \\\n"
	"	__u64 tg_kbase = (__u64)tg_t->stack, tg_sp = (__u64)&tg_cgid; __u32 tg_pc = 0xffffffff; \\\n"
	"	if (tg_sp < tg_kbase || tg_sp >= tg_kbase + tg_thread_size) return 0; \\\n"
	"	if (tg_read_kernel(&tg_pc, 4, (void *)((__u64)tg_t->se.cfs_rq->rq - tg_rq_off + tg_pc_off)) || \\\n"
	"	    (tg_pc & 0x00ff0100)) return 0; }\n"
	"#define EMIT(x) do { __u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0); \\\n"
	"	if (!e) return 0; e[0] = tg_cgid; e[1] = (x); bpf_ringbuf_submit(e, 0); } while (0)\n";

static const char good_src[] =
	"SEC(\"tracepoint/syscalls/sys_enter_openat\")\n"
	"int tg_p0(void *ctx)\n"
	"{\n"
	"	PROLOGUE\n"
	"	EMIT(bpf_get_current_pid_tgid());\n"
	"	return 0;\n"
	"}\n"
	"SEC(\"perf_event\")\n"
	"int tg_p1(void *ctx)\n"
	"{\n"
	"	PROLOGUE\n"
	"	__u8 one = 1;\n"
	"	bpf_map_update_elem(&tg_other, &tg_cgid, &one, 0);\n"
	"	return 0;\n"
	"}\n"
	"SEC(\"tg_begin\")\n"
	"int tg_prog_begin(void *ctx)\n"
	"{\n"
	"	__u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0);\n"
	"	if (!e) return 0;\n"
	"	e[0] = 0; e[1] = bpf_ktime_get_ns(); bpf_ringbuf_submit(e, 0);\n"
	"	return 0;\n"
	"}\n"
	"SEC(\"tg_end\")\n"
	"int tg_prog_end(void *ctx) { return 0; }\n";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static int setup(void **state)
{
	if (!mkdtemp(workdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	nftw(workdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Compiles prelude + src with clang; returns the object (caller frees). */
static char *compile(const char *name, const char *src, size_t *ret_len)
{
	char cpath[PATH_MAX / 4], opath[PATH_MAX / 4], cmd[PATH_MAX];
	_cleanup_free_ char *errtext = NULL;
	FILE *f;
	char *obj = NULL;
	int r;

	snprintf(cpath, sizeof(cpath), "%s/%s.c", workdir, name);
	snprintf(opath, sizeof(opath), "%s/%s.o", workdir, name);
	f = fopen(cpath, "we");
	assert_non_null(f);
	fputs(prelude, f);
	fputs(src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "timeout 60 clang -O2 -g -target bpf -c '%s' -o '%s' 2>'%s.err'", cpath,
		 opath, cpath);
	r = system(cmd);
	if (r != 0) {
		char epath[PATH_MAX + 8];

		snprintf(epath, sizeof(epath), "%s.err", cpath);
		(void)read_file(epath, 1 << 20, &errtext, NULL);
		fail_msg("clang failed on %s: %s", name, errtext ? errtext : "?");
	}
	assert_int_equal(read_file(opath, 16 << 20, &obj, ret_len), 0);
	return obj;
}

static void expect_refused(const char *name, const void *obj, size_t len, const char *const *allowed,
			   const char *want1, const char *want2)
{
	struct verify_opts o = { .sz = sizeof(o), .allowed_helpers = allowed, .require_scope = true,
				 .scope_map = "tg_scope" };
	_cleanup_free_ char *err = NULL;
	int r;

	r = verify_object(obj, len, &o, &err);
	if (r != -TG_EVERIFY)
		fail_msg("%s: verify_object returned %d (%s), want -TG_EVERIFY", name, r, err ? err : "");
	assert_non_null(err);
	if ((want1 && !strstr(err, want1)) || (want2 && !strstr(err, want2)))
		fail_msg("%s: message \"%s\" lacks \"%s\" / \"%s\"", name, err, want1 ? want1 : "",
			 want2 ? want2 : "");
	print_message("# %s: %s\n", name, err);
}

static void expect_accepted(const char *name, const void *obj, size_t len, bool require_scope)
{
	struct verify_opts o = { .sz = sizeof(o), .require_scope = require_scope, .scope_map = "tg_scope" };
	_cleanup_free_ char *err = NULL;
	int r;

	r = verify_object(obj, len, &o, &err);
	if (r != 0)
		fail_msg("%s: refused: %d %s", name, r, err ? err : "");
	assert_null(err);
}

static void refuse_src(const char *name, const char *src, const char *want1, const char *want2)
{
	size_t len;
	_cleanup_free_ char *obj = compile(name, src, &len);

	expect_refused(name, obj, len, NULL, want1, want2);
}

/* ---- correct objects ----------------------------------------------------- */

static void test_good(void **state)
{
	size_t len;
	_cleanup_free_ char *obj = compile("good", good_src, &len);

	expect_accepted("good", obj, len, true);
	/* The single-level shape with an early return is the same check. */
	{
		static const char src[] =
			"SEC(\"uprobe\")\n"
			"int tg_p0(void *ctx)\n"
			"{\n"
			"	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(2);\n"
			"	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n"
			"		return 0;\n"
			"	IRQ_CHECK\n"
			"	EMIT(1);\n"
			"	return 0;\n"
			"}\n";
		size_t l2;
		_cleanup_free_ char *o2 = compile("good1", src, &l2);

		expect_accepted("good1", o2, l2, true);
	}
	/* NULL options: the default list and the scope required */
	{
		_cleanup_free_ char *err = NULL;

		assert_int_equal(verify_object(obj, len, NULL, &err), 0);
	}
}

static void test_unscoped(void **state)
{
	static const char src[] =
		"SEC(\"tracepoint/sched/sched_switch\")\n"
		"int tg_p0(void *ctx) { __u64 tg_cgid = 0; EMIT(bpf_get_current_pid_tgid()); return 0; }\n";
	size_t len;
	_cleanup_free_ char *obj = compile("unscoped", src, &len);

	/* local exec without a scope: accepted; with a scope required: refused */
	expect_accepted("unscoped", obj, len, false);
	expect_refused("unscoped-required", obj, len, NULL, "tg_p0", "before the scope check");
}

/* ---- hostile sources -------------------------------------------------------- */

static void test_scope_missing(void **state)
{
	refuse_src("missing",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx) { __u64 tg_cgid = 1; EMIT(bpf_get_current_pid_tgid()); return 0; }\n",
		   "program \"tg_p0\"", "helper \"bpf_ringbuf_reserve\" (131) called before the scope check");
	/* a program that looks up nothing and returns: no scope check at all */
	refuse_src("nothing",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx) { return 0; }\n",
		   "tg_p0", "no scope check");
}

static void test_scope_after_helper(void **state)
{
	refuse_src("after-helper",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 pid = bpf_get_current_pid_tgid();\n"
		   "	PROLOGUE\n"
		   "	EMIT(pid);\n"
		   "	return 0;\n"
		   "}\n",
		   "instruction 0", "helper \"bpf_get_current_pid_tgid\" (14) called before the scope check");
}

static void test_other_map(void **state)
{
	refuse_src("other-map",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	if (!bpf_map_lookup_elem(&tg_other, &tg_cgid)) return 0;\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "map lookup before the scope check is not in \"tg_scope\"");
	/* the right map, but a key the program chose */
	refuse_src("const-key",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	volatile __u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	__u64 k = 4242;\n"
		   "	if (!bpf_map_lookup_elem(&tg_scope, &k)) return 0;\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "key is not the ancestor cgroup id");
	/* the test on the lookup result must lead to a return of 0 */
	refuse_src("returns-1",
		   "SEC(\"tracepoint/syscalls/sys_enter_read\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid)) return 7;\n"
		   "	IRQ_CHECK\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "does not return 0");
}

#define SCOPED(body)                                                                               \
	"SEC(\"tracepoint/syscalls/sys_enter_write\")\n"                                           \
	"int tg_p0(void *ctx)\n"                                                                   \
	"{\n"                                                                                      \
	"	PROLOGUE\n" body "\n"                                                              \
	"	return 0;\n"                                                                       \
	"}\n"

/* The interrupt check must follow the scope check, whole: a program with
 * only the scope check, or with a piece of the interrupt check missing or
 * changed, is refused (docs/internals/runner.md, "Interrupt context"). */
#define SCOPE_ONLY(irq)                                                                            \
	"SEC(\"tracepoint/irq/softirq_entry\")\n"                                                     \
	"int tg_p0(void *ctx)\n"                                                                   \
	"{\n"                                                                                      \
	"	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"                         \
	"	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid)) return 0;\n"                       \
	irq                                                                                        \
	"	EMIT(1);\n"                                                                        \
	"	return 0;\n"                                                                       \
	"}\n"

static void test_irq_missing(void **state)
{
	/* no interrupt check at all: the first helper after the scope check */
	refuse_src("irq-missing", SCOPE_ONLY(""), "program \"tg_p0\"",
		   "helper \"bpf_ringbuf_reserve\" (131) called before the interrupt check");
	/* the stack check only (the design's first idea; interrupts taken
	 * from user mode run on the task stack, so it is not enough) */
	refuse_src("irq-stack-only",
		   SCOPE_ONLY("{ __u64 b = (__u64)bpf_get_current_task_btf()->stack, sp = (__u64)&tg_cgid;\n"
			      "  if (sp < b || sp >= b + tg_thread_size) return 0; }\n"),
		   "tg_p0", "called before the interrupt check");
	/* the counter read, but its result not tested: a failed read zeroes it */
	refuse_src("irq-read-unchecked",
		   SCOPE_ONLY("{ struct task_struct *t = bpf_get_current_task_btf(); __u32 pc = 0;\n"
			      "  __u64 b = (__u64)t->stack, sp = (__u64)&tg_cgid;\n"
			      "  if (sp < b || sp >= b + tg_thread_size) return 0;\n"
			      "  tg_read_kernel(&pc, 4, (void *)((__u64)t->se.cfs_rq->rq - tg_rq_off + tg_pc_off));\n"
			      "  if (pc & 0x00ff0100) return 0; }\n"),
		   "tg_p0", "called before the interrupt check");
	/* the softirq bit left out of the mask */
	refuse_src("irq-mask-short",
		   SCOPE_ONLY("{ struct task_struct *t = bpf_get_current_task_btf(); __u32 pc = 0;\n"
			      "  __u64 b = (__u64)t->stack, sp = (__u64)&tg_cgid;\n"
			      "  if (sp < b || sp >= b + tg_thread_size) return 0;\n"
			      "  if (tg_read_kernel(&pc, 4, (void *)((__u64)t->se.cfs_rq->rq - tg_rq_off + tg_pc_off)) ||\n"
			      "      (pc & 0x00ff0000)) return 0; }\n"),
		   "tg_p0", "called before the interrupt check");
	/* another task field than "stack" as the stack's base */
	refuse_src("irq-wrong-field",
		   SCOPE_ONLY("{ __u64 b = (__u64)bpf_get_current_task_btf()->pid, sp = (__u64)&tg_cgid;\n"
			      "  if (sp < b || sp >= b + tg_thread_size) return 0; }\n"),
		   "tg_p0", "load from the task is not");
	/* a constant instead of THREAD_SIZE from .rodata */
	refuse_src("irq-const-size",
		   SCOPE_ONLY("{ __u64 b = (__u64)bpf_get_current_task_btf()->stack, sp = (__u64)&tg_cgid;\n"
			      "  if (sp < b || sp >= b + (1ull << 40)) return 0; }\n"),
		   "tg_p0", "called before the interrupt check");
	/* bpf_get_current_task_btf is not on the list: allowed only as the
	 * check's own call, not in the body */
	refuse_src("task-btf-in-body",
		   SCOPED("EMIT((__u64)bpf_get_current_task_btf());"),
		   "instruction", "helper \"bpf_get_current_task_btf\" (158) is not allowed");
	/* BEGIN/END and intervals under a scope (tg_timer/) carry no check */
	{
		static const char src[] =
			"SEC(\"tg_timer/0\") int tg_p0(void *ctx) { __u64 tg_cgid = 0; EMIT(7); return 0; }\n";
		size_t len;
		_cleanup_free_ char *obj = compile("timer", src, &len);

		expect_accepted("timer", obj, len, true);
	}
}

/* The scope pre-check (docs/performance.md): the ancestor id compared
 * with read-only globals in .rodata, returning 0 when none matches, before
 * the lookup in the scope map, which still guards the body. */
#define FAST_PRE(ids, cmp)                                                                         \
	ids                                                                                        \
	"SEC(\"tracepoint/syscalls/sys_enter_getppid\")\n"                                          \
	"int tg_p0(void *ctx)\n"                                                                   \
	"{\n"                                                                                      \
	"	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"                         \
	"	if (" cmp ")\n"                                                                    \
	"		return 0;\n"                                                              \
	"	if (bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n"                                  \
	"		goto tg_in_scope;\n"                                                      \
	"	return 0;\n"                                                                      \
	"tg_in_scope:;\n"                                                                         \
	"	IRQ_CHECK\n"                                                                      \
	"	EMIT(1);\n"                                                                       \
	"	return 0;\n"                                                                      \
	"}\n"

static void test_fast_precheck(void **state)
{
	static const char one[] = FAST_PRE("", "tg_cgid != tg_scope_fast[0]");
	static const char four[] = FAST_PRE("", "tg_cgid != tg_scope_fast[0] && tg_cgid != tg_scope_fast[1] && "
					    "tg_cgid != tg_scope_fast[2] && tg_cgid != tg_scope_fast[3]");
	size_t len;

	{
		_cleanup_free_ char *obj = compile("fast1", one, &len);

		expect_accepted("fast1", obj, len, true);
	}
	{
		_cleanup_free_ char *obj = compile("fast4", four, &len);

		expect_accepted("fast4", obj, len, true);
	}
	/* the ids in writable memory: .bss, .data */
	refuse_src("fast-bss", FAST_PRE("__u64 tg_fast_w[4];\n", "tg_cgid != tg_fast_w[0] && tg_cgid != tg_fast_w[1]"),
		   "tg_p0", "load of an address outside \".rodata\" and the maps before the scope check");
	refuse_src("fast-data", FAST_PRE("__u64 tg_fast_d[2] = { 1, 2 };\n", "tg_cgid != tg_fast_d[1]"),
		   "tg_p0", "load of an address outside \".rodata\" and the maps before the scope check");
	/* a read-only section other than .rodata itself */
	refuse_src("fast-rodata-other",
		   FAST_PRE("const volatile __u64 tg_fast_o[2] SEC(\".rodata.tg\") = { 1, 2 };\n", "tg_cgid != tg_fast_o[1]"),
		   "tg_p0", "outside \".rodata\"");
	/* beyond the end of .rodata */
	refuse_src("fast-past-rodata",
		   FAST_PRE("", "tg_cgid != ((const volatile __u64 *)tg_scope_fast)[64]"),
		   "tg_p0", "load from memory other than the stack or \".rodata\" before the scope check");
	/* compared with the tracepoint's own data instead */
	refuse_src("fast-ctx", FAST_PRE("", "tg_cgid != *(volatile __u64 *)ctx"),
		   "tg_p0", "load from memory other than the stack or \".rodata\" before the scope check");
	/* a match jumps into the body, around the lookup: the body's first
	 * helper (the interrupt check's, or the output's) is then reached
	 * before the scope check */
	refuse_src("fast-skip-lookup",
		   "SEC(\"tracepoint/syscalls/sys_enter_getppid\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	if (tg_cgid == tg_scope_fast[0])\n"
		   "		goto tg_in_scope;\n"
		   "	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n"
		   "		return 0;\n"
		   "tg_in_scope:;\n"
		   "	IRQ_CHECK\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "helper \"bpf_get_current_task_btf\" (158) called before the scope check");
	refuse_src("fast-skip-all",
		   "SEC(\"tracepoint/syscalls/sys_enter_getppid\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	if (tg_cgid == tg_scope_fast[0])\n"
		   "		goto tg_body;\n"
		   "	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n"
		   "		return 0;\n"
		   "	IRQ_CHECK\n"
		   "tg_body:\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "helper \"bpf_ringbuf_reserve\" (131) called before the scope check");
}

static void test_forbidden_helpers(void **state)
{
	refuse_src("probe-write-user", SCOPED("{ char c = 0; bpf_probe_write_user((void *)0x1000, &c, 1); }"),
		   "section \"tracepoint/syscalls/sys_enter_write\"",
		   "helper \"bpf_probe_write_user\" (36) is not allowed");
	refuse_src("send-signal", SCOPED("bpf_send_signal(9);"), "instruction",
		   "helper \"bpf_send_signal\" (109) is not allowed");
	refuse_src("override-return", SCOPED("bpf_override_return(ctx, 0);"), NULL,
		   "helper \"bpf_override_return\" (58) is not allowed");
	refuse_src("tail-call", SCOPED("bpf_tail_call(ctx, &tg_other, 0);"), NULL,
		   "helper \"bpf_tail_call\" (12) is not allowed");
	refuse_src("trace-printk", SCOPED("{ char f[] = \"x\"; bpf_trace_printk(f, sizeof(f)); }"), NULL,
		   "helper \"bpf_trace_printk\" (6) is not allowed");
	/* even in BEGIN, which carries no prologue */
	refuse_src("begin-signal", "SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { bpf_send_signal(9); return 0; }\n",
		   "section \"tg_begin\"", "bpf_send_signal");
}

static void test_subprogram(void **state)
{
	/* The forbidden call sits in a .text subprogram called after the check. */
	refuse_src("subprog",
		   "__attribute__((noinline)) static int sneaky(void *ctx)\n"
		   "{ bpf_send_signal(9); return (int)(long)ctx; }\n"
		   SCOPED("if (sneaky(ctx)) EMIT(2);"),
		   "section \".text\"", "helper \"bpf_send_signal\" (109) is not allowed");
	/* A subprogram may not run before the check either. */
	refuse_src("subprog-first",
		   "__attribute__((noinline)) static int early(void *ctx)\n"
		   "{ return (int)(long)ctx + 1; }\n"
		   "SEC(\"tracepoint/syscalls/sys_enter_write\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	int x = early(ctx);\n"
		   "	PROLOGUE\n"
		   "	EMIT(x);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "function call before the scope check");
	/* A second program in the same section without the check. */
	refuse_src("second-program",
		   "SEC(\"tracepoint/syscalls/sys_enter_write\")\n"
		   "int tg_p0(void *ctx) { PROLOGUE EMIT(1); return 0; }\n"
		   "SEC(\"tracepoint/syscalls/sys_enter_write\")\n"
		   "int tg_p9(void *ctx) { __u64 tg_cgid = 0; EMIT(bpf_get_current_pid_tgid()); return 0; }\n",
		   "program \"tg_p9\"", "before the scope check");
}

static void test_kfunc(void **state)
{
	refuse_src("kfunc",
		   "extern void bpf_rcu_read_lock(void) __attribute__((section(\".ksyms\")));\n"
		   SCOPED("bpf_rcu_read_lock();"),
		   "kfunc call to \"bpf_rcu_read_lock\"", "not allowed");
	refuse_src("ksym-var",
		   "extern int bpf_prog_active __attribute__((section(\".ksyms\"), weak));\n"
		   SCOPED("EMIT((__u64)&bpf_prog_active);"),
		   "extern symbol \"bpf_prog_active\"", "not allowed");
}

/* libbpf's USDT support (<bpf/usdt.bpf.h>, runner/usdt.h): its .text
 * subprograms read the kconfig extern LINUX_HAS_BPF_COOKIE and call
 * bpf_get_attach_cookie.  Exactly that extern is admitted, as a load after
 * the scope check; no other extern, and not before the check. */
#define USDT_DECLS                                                                                  \
	"static long (*bpf_get_attach_cookie)(void *ctx) = (void *)174;\n"                          \
	"extern const _Bool LINUX_HAS_BPF_COOKIE __attribute__((section(\".kconfig\"), weak));\n" \
	"extern const unsigned int LINUX_KERNEL_VERSION __attribute__((section(\".kconfig\"), weak));\n"

static void test_usdt(void **state)
{
	static const char *const no_cookie[] = {
		"bpf_map_lookup_elem", "bpf_get_current_ancestor_cgroup_id", "bpf_ringbuf_reserve",
		"bpf_ringbuf_submit", NULL,
	};
	const char *good = USDT_DECLS
		"__attribute__((noinline, weak, visibility(\"hidden\"))) int spec_id(void *ctx)\n"
		"{ if (!LINUX_HAS_BPF_COOKIE) return -3; return bpf_get_attach_cookie(ctx); }\n"
		"SEC(\"usdt\")\n"
		"int tg_p0(void *ctx)\n"
		"{\n"
		"	PROLOGUE\n"
		"	EMIT(spec_id(ctx));\n"
		"	return 0;\n"
		"}\n";
	size_t len;
	_cleanup_free_ char *obj = compile("usdt-good", good, &len);

	(void)state;
	expect_accepted("usdt-good", obj, len, true);
	expect_refused("usdt-no-cookie", obj, len, no_cookie, "section \".text\"",
		       "helper \"bpf_get_attach_cookie\" (174) is not allowed");
	refuse_src("usdt-other-kconfig",
		   USDT_DECLS SCOPED("EMIT(LINUX_KERNEL_VERSION);"),
		   "extern symbol \"LINUX_KERNEL_VERSION\"", "not allowed");
	refuse_src("usdt-cookie-first",
		   USDT_DECLS
		   "SEC(\"usdt\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	if (LINUX_HAS_BPF_COOKIE) return 1;\n"
		   "	PROLOGUE\n"
		   "	EMIT(1);\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "before the scope check");
}

static void test_allow_list(void **state)
{
	static const char *const small[] = { "bpf_map_lookup_elem", "get_current_ancestor_cgroup_id", NULL };
	static const char *const bogus[] = { "bpf_map_lookup_elem", "bpf_no_such_helper", NULL };
	size_t len;
	_cleanup_free_ char *obj = compile("good-allow", good_src, &len);
	struct verify_opts o = { .sz = sizeof(o), .allowed_helpers = bogus, .require_scope = true,
				 .scope_map = "tg_scope" };
	_cleanup_free_ char *err = NULL;

	expect_refused("small-list", obj, len, small, "helper \"bpf_ringbuf_reserve\" (131) is not allowed", NULL);
	assert_int_equal(verify_object(obj, len, &o, &err), -EINVAL);
	assert_non_null(strstr(err, "allowed helper \"bpf_no_such_helper\": no such helper"));
	/* the default list has none of the dangerous ones */
	for (size_t i = 0; verify_default_helpers[i]; i++) {
		assert_null(strstr(verify_default_helpers[i], "write_user"));
		assert_null(strstr(verify_default_helpers[i], "signal"));
		assert_null(strstr(verify_default_helpers[i], "override"));
		assert_null(strstr(verify_default_helpers[i], "sys_bpf"));
		assert_null(strstr(verify_default_helpers[i], "trace_printk"));
		assert_null(strstr(verify_default_helpers[i], "tail_call"));
	}
}

/* ---- hand-edited objects ---------------------------------------------------- */

/* Offset in the file of section `name`'s data, and its header offset. */
static size_t sec_offset(char *obj, size_t len, const char *name, size_t *ret_shdr_off)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx, off = 0;
	GElf_Ehdr eh;

	elf_version(EV_CURRENT);
	e = elf_memory(obj, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	assert_non_null(gelf_getehdr(e, &eh));
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		if (strcmp(elf_strptr(e, shstrndx, sh.sh_name), name) == 0) {
			off = sh.sh_offset;
			if (ret_shdr_off)
				*ret_shdr_off = eh.e_shoff + elf_ndxscn(scn) * eh.e_shentsize;
			break;
		}
	}
	elf_end(e);
	assert_true(off != 0);
	return off;
}

static struct bpf_insn *insn_at(char *obj, size_t secoff, size_t i)
{
	return (struct bpf_insn *)(void *)(obj + secoff + i * sizeof(struct bpf_insn));
}

/* The scope map's address serves the scope check's lookup only: a probe
 * body (or a subprogram) that updates or deletes its entries would widen
 * what every probe admits, and the map is frozen against user space only. */
static void test_scope_map_writes(void **state)
{
	(void)state;
	refuse_src("scope-update-in-body",
		   SCOPED("{ __u64 k = 1; __u8 one = 1; bpf_map_update_elem(&tg_scope, &k, &one, 0); }"),
		   "section \"tracepoint/syscalls/sys_enter_write\" instruction",
		   "the scope map \"tg_scope\" is used outside the scope check");
	refuse_src("scope-delete-in-subprog",
		   "__attribute__((noinline)) static int forget(__u64 k) { return bpf_map_delete_elem(&tg_scope, &k); }\n"
		   SCOPED("EMIT(forget(tg_cgid));"),
		   "section \".text\" instruction", "the scope map \"tg_scope\" is used outside the scope check");
	/* loaded before the check, kept in a callee-saved register, used after */
	refuse_src("scope-kept-in-r6",
		   "SEC(\"tracepoint/syscalls/sys_enter_write\")\n"
		   "int tg_p0(void *ctx)\n"
		   "{\n"
		   "	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		   "	asm volatile(\"r6 = tg_scope ll\" ::: \"r6\");\n"
		   "	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid)) return 0;\n"
		   "	IRQ_CHECK\n"
		   "	asm volatile(\"r1 = r6; r2 = r10; r2 += -8; call 3\" ::: \"r0\", \"r1\", \"r2\", \"r3\", \"r4\", \"r5\");\n"
		   "	return 0;\n"
		   "}\n",
		   "tg_p0", "the scope map's address is kept into the body, past the scope and interrupt checks");
}

/* ---- programs without the scope check ------------------------------------ */

/* BEGIN, END and interval timers run in the runner: every helper that
 * reads memory or describes a task, by id and name. */
static const struct { int id; const char *name; } unscoped_forbidden[] = {
	{ 4, "probe_read" }, { 45, "probe_read_str" }, { 112, "probe_read_user" },
	{ 113, "probe_read_kernel" }, { 114, "probe_read_user_str" }, { 115, "probe_read_kernel_str" },
	{ 14, "get_current_pid_tgid" }, { 15, "get_current_uid_gid" }, { 16, "get_current_comm" },
	{ 35, "get_current_task" }, { 158, "get_current_task_btf" }, { 80, "get_current_cgroup_id" },
	{ 123, "get_current_ancestor_cgroup_id" }, { 37, "current_task_under_cgroup" },
	{ 120, "get_ns_current_pid_tgid" }, { 67, "get_stack" }, { 27, "get_stackid" },
	{ 141, "get_task_stack" }, { 109, "send_signal" }, { 117, "send_signal_thread" },
	{ 58, "override_return" }, { 147, "d_path" }, { 148, "copy_from_user" },
	{ 191, "copy_from_user_task" }, { 180, "find_vma" }, { 149, "snprintf_btf" }, { 165, "snprintf" },
	{ 36, "probe_write_user" }, { 6, "trace_printk" }, { 177, "trace_vprintk" },
	{ 174, "get_attach_cookie" }, { 173, "get_func_ip" }, { 175, "task_pt_regs" },
	{ 183, "get_func_arg" }, { 184, "get_func_ret" }, { 25, "perf_event_output" },
	{ 22, "perf_event_read" }, { 119, "read_branch_records" }, { 176, "get_branch_snapshot" },
	{ 17, "get_cgroup_classid" }, { 156, "task_storage_get" }, { 179, "kallsyms_lookup_name" },
	{ 166, "sys_bpf" }, { 12, "tail_call" },
};

/* One call of bpf_ktime_get_ns (5) in each unscoped section, to patch. */
static const char unscoped_template[] =
	"#define ONE_CALL { __u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0); if (!e) return 0;\\\n"
	"	e[0] = 0; e[1] = bpf_ktime_get_ns(); bpf_ringbuf_submit(e, 0); }\n"
	"SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { ONE_CALL return 0; }\n"
	"SEC(\"tg_end\") int tg_prog_end(void *ctx) { ONE_CALL return 0; }\n"
	"SEC(\"tg_timer/3\") int tg_p3(void *ctx) { ONE_CALL return 0; }\n"
	"SEC(\"tracepoint/syscalls/sys_enter_write\") int tg_p0(void *ctx) { PROLOGUE EMIT(bpf_get_current_pid_tgid()); return 0; }\n";

/* The index of the one call of helper id in section secoff (ninsns long). */
static size_t call_of(char *obj, size_t secoff, size_t ninsns, int id)
{
	for (size_t i = 0; i < ninsns; i++) {
		struct bpf_insn in;

		memcpy(&in, obj + secoff + i * sizeof(in), sizeof(in));
		if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == 0 && in.imm == id)
			return i;
	}
	fail_msg("no call of helper %d", id);
	return 0;
}

static void test_unscoped_sections(void **state)
{
	static const char *const sections[] = { "tg_begin", "tg_end", "tg_timer/3" };
	/* every helper of the default list and every forbidden one: what is
	 * refused below is refused by the rule for unscoped programs alone */
	const char *all[sizeof(unscoped_forbidden) / sizeof(unscoped_forbidden[0]) + 64];
	char names[sizeof(unscoped_forbidden) / sizeof(unscoped_forbidden[0])][48];
	size_t n = 0, len, shdr;
	_cleanup_free_ char *obj = compile("unscoped-template", unscoped_template, &len);
	_cleanup_free_ char *m = malloc(len);

	(void)state;
	for (size_t i = 0; verify_default_helpers[i]; i++)
		all[n++] = verify_default_helpers[i];
	for (size_t i = 0; i < sizeof(unscoped_forbidden) / sizeof(unscoped_forbidden[0]); i++) {
		snprintf(names[i], sizeof(names[i]), "bpf_%s", unscoped_forbidden[i].name);
		all[n++] = names[i];
	}
	all[n] = NULL;
	expect_accepted("unscoped-template", obj, len, true);
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		size_t off = sec_offset(obj, len, sections[k], &shdr);
		Elf64_Shdr sh;
		size_t at;

		memcpy(&sh, obj + shdr, sizeof(sh));
		at = call_of(obj, off, sh.sh_size / sizeof(struct bpf_insn), 5);
		for (size_t i = 0; i < sizeof(unscoped_forbidden) / sizeof(unscoped_forbidden[0]); i++) {
			char want1[96], want2[96], name[64];
			struct bpf_insn in;

			memcpy(m, obj, len);
			memcpy(&in, insn_at(m, off, at), sizeof(in));
			in.imm = unscoped_forbidden[i].id;
			memcpy(insn_at(m, off, at), &in, sizeof(in));
			snprintf(want1, sizeof(want1), "section \"%s\" instruction %zu: ", sections[k], at);
			snprintf(want2, sizeof(want2), "helper \"bpf_%s\" (%d) is not allowed without the scope check",
				 unscoped_forbidden[i].name, unscoped_forbidden[i].id);
			snprintf(name, sizeof(name), "%s-%s", sections[k], unscoped_forbidden[i].name);
			expect_refused(name, m, len, all, want1, want2);
			/* with the default list too (refused by one rule or the other) */
			expect_refused(name, m, len, NULL, want1, "is not allowed");
		}
	}
	/* without a scope (local exec), BEGIN, END and intervals may describe
	 * the runner as in bpftrace, within the allow-list */
	{
		static const char src[] =
			"SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { __u64 tg_cgid = 0; EMIT(bpf_get_current_pid_tgid()); return 0; }\n"
			"SEC(\"tg_end\") int tg_prog_end(void *ctx) { char c[16]; bpf_get_current_comm(c, 16); return c[0]; }\n"
			"SEC(\"perf_event\") int tg_p0(void *ctx) { __u64 tg_cgid = 0; EMIT(bpf_get_current_pid_tgid()); return 0; }\n";
		size_t l2;
		_cleanup_free_ char *o2 = compile("unscoped-local", src, &l2);

		expect_accepted("unscoped-local", o2, l2, false);
		expect_refused("unscoped-local-scoped", o2, l2, NULL, "section \"tg_begin\"",
			       "helper \"bpf_get_current_pid_tgid\" (14) is not allowed without the scope check");
	}
}

static void test_unscoped_allowed(void **state)
{
	/* everything the code generator emits for BEGIN, END and intervals
	 * that observe nothing: maps, the ring buffer, clocks, CPU, NUMA node,
	 * random numbers (runner/verify.c, verify_unscoped_helpers) */
	static const char src[] =
		"struct { __uint(type, 1); __uint(max_entries, 8); __type(key, __u64); __type(value, __u64); } tg_m0 SEC(\".maps\");\n"
		"#define ALL { __u64 k = bpf_get_smp_processor_id() + bpf_get_numa_node_id(), v = bpf_ktime_get_ns();\\\n"
		"	__u64 *p = bpf_map_lookup_elem(&tg_m0, &k); if (p) *p += bpf_get_prandom_u32();\\\n"
		"	bpf_map_update_elem(&tg_m0, &k, &v, 0); bpf_map_delete_elem(&tg_m0, &k);\\\n"
		"	v = bpf_ktime_get_boot_ns(); bpf_ringbuf_output(&tg_events, &v, 8, 0);\\\n"
		"	__u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0); if (!e) return 0;\\\n"
		"	if (v & 1) { bpf_ringbuf_discard(e, 0); return 0; } e[0] = 0; e[1] = v; bpf_ringbuf_submit(e, 0); }\n"
		"SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { ALL return 0; }\n"
		"SEC(\"tg_end\") int tg_prog_end(void *ctx) { ALL return 0; }\n"
		"SEC(\"tg_timer/0\") int tg_p0(void *ctx) { ALL return 0; }\n";
	size_t len;
	_cleanup_free_ char *obj = compile("unscoped-all", src, &len);
	struct verify_opts o = { .sz = sizeof(o), .allowed_helpers = verify_unscoped_helpers, .require_scope = true,
				 .scope_map = "tg_scope" };
	_cleanup_free_ char *err = NULL;

	(void)state;
	expect_accepted("unscoped-all", obj, len, true);
	/* the list names real helpers, all on the default list, none of the
	 * ones that read memory or describe a task */
	assert_int_equal(verify_object(obj, len, &o, &err), 0);
	for (size_t i = 0; verify_unscoped_helpers[i]; i++) {
		bool on_default = false;

		for (size_t k = 0; verify_default_helpers[k]; k++)
			on_default |= !strcmp(verify_unscoped_helpers[i], verify_default_helpers[k]);
		assert_true(on_default);
		for (size_t k = 0; k < sizeof(unscoped_forbidden) / sizeof(unscoped_forbidden[0]); k++)
			assert_string_not_equal(verify_unscoped_helpers[i] + 4, unscoped_forbidden[k].name);
	}
}

static void test_unscoped_reach(void **state)
{
	/* a subprogram called from END reads the runner's comm */
	refuse_src("unscoped-subprog",
		   "__attribute__((noinline)) static int name_of(char *b) { return bpf_get_current_comm(b, 16); }\n"
		   "SEC(\"tg_end\") int tg_prog_end(void *ctx) { char b[16]; return name_of(b) + b[1]; }\n",
		   "section \".text\" instruction", "(a subprogram of section \"tg_end\"): helper \"bpf_get_current_comm\" (16) is not allowed without the scope check");
	/* two levels down, past a loop and a jump */
	refuse_src("unscoped-subprog-deep",
		   "__attribute__((noinline)) static __u64 deep(__u64 x) { return x > 3 ? bpf_get_current_pid_tgid() : x; }\n"
		   "__attribute__((noinline)) static __u64 mid(__u64 x) { __u64 s = 0;\n"
		   "	for (int i = 0; i < (int)(x & 7); i++) s += bpf_ktime_get_ns(); return deep(s); }\n"
		   "SEC(\"tg_timer/0\") int tg_p0(void *ctx) { return (int)mid(bpf_ktime_get_ns()); }\n",
		   "(a subprogram of section \"tg_timer/0\")", "helper \"bpf_get_current_pid_tgid\" (14)");
	/* a subprogram only scoped programs call may use what they may */
	{
		static const char src[] =
			"__attribute__((noinline)) static __u64 who(void) { return bpf_get_current_pid_tgid(); }\n"
			"__attribute__((noinline)) static __u64 when(void) { return bpf_ktime_get_ns(); }\n"
			SCOPED("EMIT(who());")
			"SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { return (int)when(); }\n";
		size_t len;
		_cleanup_free_ char *obj = compile("unscoped-subprog-ok", src, &len);

		expect_accepted("unscoped-subprog-ok", obj, len, true);
	}
	/* callbacks (bpf_loop, bpf_for_each_map_elem: bpftrace 0.2x's for,
	 * len()) are reached from the address a 64-bit load takes, and
	 * checked as the unscoped code they are */
	refuse_src("unscoped-loop-callback",
		   "static long (*bpf_loop)(__u32 n, void *cb, void *ctx, __u64 flags) = (void *)181;\n"
		   "static long cb(__u32 i, void *c) { char b[16]; bpf_get_current_comm(b, 16); *(__u64 *)c += b[1]; return 0; }\n"
		   "SEC(\"tg_end\") int tg_prog_end(void *ctx) { __u64 n = 0; bpf_loop(4, cb, &n, 0); return (int)n; }\n",
		   "(a subprogram of section \"tg_end\")",
		   "helper \"bpf_get_current_comm\" (16) is not allowed without the scope check");
	refuse_src("unscoped-each-callback",
		   "static long (*bpf_for_each_map_elem)(void *m, void *cb, void *ctx, __u64 flags) = (void *)164;\n"
		   "struct { __uint(type, 1); __uint(max_entries, 8); __type(key, __u64); __type(value, __u64); } tg_m0 SEC(\".maps\");\n"
		   "__attribute__((noinline)) static __u64 who(void) { return bpf_get_current_pid_tgid(); }\n"
		   "static long cb(void *m, void *k, void *v, void *c) { *(__u64 *)c += who(); return 0; }\n"
		   "SEC(\"tg_timer/0\") int tg_p0(void *ctx) { __u64 n = 0; bpf_for_each_map_elem(&tg_m0, cb, &n, 0); return (int)n; }\n",
		   "(a subprogram of section \"tg_timer/0\")", "helper \"bpf_get_current_pid_tgid\" (14)");
	{
		static const char src[] =
			"static long (*bpf_for_each_map_elem)(void *m, void *cb, void *ctx, __u64 flags) = (void *)164;\n"
			"struct { __uint(type, 1); __uint(max_entries, 8); __type(key, __u64); __type(value, __u64); } tg_m0 SEC(\".maps\");\n"
			"static long cb(void *m, void *k, void *v, void *c) { *(__u64 *)c += *(__u64 *)v + bpf_ktime_get_ns(); return 0; }\n"
			"SEC(\"tg_end\") int tg_prog_end(void *ctx) { __u64 n = 0; bpf_for_each_map_elem(&tg_m0, cb, &n, 0); return (int)n; }\n";
		size_t len;
		_cleanup_free_ char *obj = compile("unscoped-callback-ok", src, &len);

		expect_accepted("unscoped-callback-ok", obj, len, true);
	}
	/* BEGIN writing the scope map would widen every probe's scope */
	refuse_src("unscoped-scope-write",
		   "SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { __u64 k = 1; __u8 one = 1;\n"
		   "	bpf_map_update_elem(&tg_scope, &k, &one, 0); return 0; }\n",
		   "section \"tg_begin\" instruction", "the scope map \"tg_scope\" is used without the scope check: a program the runner runs itself");
	refuse_src("unscoped-scope-delete",
		   "__attribute__((noinline)) static int forget(__u64 k) { return bpf_map_delete_elem(&tg_scope, &k); }\n"
		   "SEC(\"tg_timer/1\") int tg_p1(void *ctx) { return forget(bpf_ktime_get_ns()); }\n",
		   "(a subprogram of section \"tg_timer/1\")", "the scope map \"tg_scope\" is used");
	/* a kfunc, even one the allow-list names */
	{
		static const char *const with_kfunc[] = { "bpf_map_lookup_elem", "bpf_get_current_ancestor_cgroup_id",
							  "bpf_ringbuf_reserve", "bpf_ringbuf_submit",
							  "bpf_get_current_pid_tgid", "bpf_get_current_task_btf",
							  "bpf_probe_read_kernel", "kfunc:bpf_task_from_pid", NULL };
		size_t len;
		_cleanup_free_ char *obj = compile("unscoped-kfunc",
						   "extern void *bpf_task_from_pid(int pid) __attribute__((section(\".ksyms\")));\n"
						   "SEC(\"tg_begin\") int tg_prog_begin(void *ctx) { return bpf_task_from_pid(1) != 0; }\n",
						   &len);

		expect_refused("unscoped-kfunc", obj, len, with_kfunc, "section \"tg_begin\"",
			       "kfunc call to \"bpf_task_from_pid\" is not allowed without the scope check");
	}
}

static void test_hand_edited(void **state)
{
	size_t len, tp, shdr = 0, i;
	_cleanup_free_ char *obj = compile("good-edit", good_src, &len);
	_cleanup_free_ char *m = malloc(len);
	struct bpf_insn in;

	tp = sec_offset(obj, len, "tracepoint/syscalls/sys_enter_openat", &shdr);

	/* 1. flip the first "if r0 != 0 goto in_scope" so NULL goes to the body */
	memcpy(m, obj, len);
	for (i = 0; i < 32; i++) {
		memcpy(&in, insn_at(m, tp, i), sizeof(in));
		if (in.code == (BPF_JMP | BPF_JNE | BPF_K) && in.dst_reg == 0 && in.imm == 0) {
			in.code = BPF_JMP | BPF_JEQ | BPF_K;
			memcpy(insn_at(m, tp, i), &in, sizeof(in));
			break;
		}
	}
	assert_true(i < 32);
	expect_refused("flipped-branch", m, len, NULL, "tg_p0", "called before the");

	/* 2. the map load pre-resolved to an fd (src_reg = BPF_PSEUDO_MAP_FD) */
	memcpy(m, obj, len);
	for (i = 0; i < 32; i++) {
		memcpy(&in, insn_at(m, tp, i), sizeof(in));
		if (in.code == (BPF_LD | BPF_DW | BPF_IMM)) {
			in.src_reg = BPF_PSEUDO_MAP_FD;
			memcpy(insn_at(m, tp, i), &in, sizeof(in));
			break;
		}
	}
	expect_refused("pseudo-map-fd", m, len, NULL, "pre-resolved pseudo load", NULL);

	/* 3. the ancestor-id call made a kfunc call (src_reg 2) */
	memcpy(m, obj, len);
	memcpy(&in, insn_at(m, tp, 1), sizeof(in));
	assert_int_equal(in.code, BPF_JMP | BPF_CALL);
	in.src_reg = BPF_PSEUDO_KFUNC_CALL;
	memcpy(insn_at(m, tp, 1), &in, sizeof(in));
	expect_refused("kfunc-pseudo", m, len, NULL, "instruction 1", "kfunc call (btf id");

	/* 4. an unknown helper id */
	memcpy(m, obj, len);
	in.src_reg = 0;
	in.imm = 100000;
	memcpy(insn_at(m, tp, 1), &in, sizeof(in));
	expect_refused("unknown-helper", m, len, NULL, "unknown helper 100000", NULL);

	/* 5. the level loaded, then the id call replaced by a jump back */
	memcpy(m, obj, len);
	in = (struct bpf_insn){ .code = BPF_JMP | BPF_JA, .off = -2 };
	memcpy(insn_at(m, tp, 1), &in, sizeof(in));
	expect_refused("backward-jump", m, len, NULL, "jump", NULL);

	/* 6. huge section sizes and offsets */
	{
		Elf64_Shdr sh;

		memcpy(m, obj, len);
		memcpy(&sh, m + shdr, sizeof(sh));
		sh.sh_size = (1ull << 62);
		memcpy(m + shdr, &sh, sizeof(sh));
		expect_refused("huge-size", m, len, NULL, NULL, NULL);
		memcpy(m, obj, len);
		memcpy(&sh, m + shdr, sizeof(sh));
		sh.sh_offset = UINT64_MAX - 8;
		memcpy(m + shdr, &sh, sizeof(sh));
		expect_refused("huge-offset", m, len, NULL, NULL, NULL);
		memcpy(m, obj, len);
		memcpy(&sh, m + shdr, sizeof(sh));
		sh.sh_size = 12; /* not whole instructions */
		memcpy(m + shdr, &sh, sizeof(sh));
		expect_refused("odd-size", m, len, NULL, NULL, NULL);
	}
	/* 7. a second tg_scope symbol, renamed from tg_other */
	{
		char *p;

		size_t st = sec_offset(obj, len, ".strtab", NULL);

		memcpy(m, obj, len);
		p = memmem(m + st, len - st, "tg_other", 9);
		assert_non_null(p);
		memcpy(p, "tg_scope", 8);
		expect_refused("scope-twice", m, len, NULL, "scope map \"tg_scope\" is defined 2 times", NULL);
	}
}

/* red team 4: clang 14 wraps a conditional jump's 16-bit offset when the
 * code it jumps over is longer than 32767 instructions (nested unroll made
 * one to 131120); the target it lands on is inside the code, so the section
 * itself must be short enough that no jump can need more */
static void test_jump_reach(void **state)
{
	static const char src[] =
		"#define R1 x += 3;\n"
		"#define R10 R1 R1 R1 R1 R1 R1 R1 R1 R1 R1\n"
		"#define R100 R10 R10 R10 R10 R10 R10 R10 R10 R10 R10\n"
		"#define R1000 R100 R100 R100 R100 R100 R100 R100 R100 R100 R100\n"
		"SEC(\"tracepoint/syscalls/sys_enter_openat\")\n"
		"int tg_p0(void *ctx)\n"
		"{\n"
		"	PROLOGUE\n"
		"	volatile __u64 x = bpf_ktime_get_ns();\n"
		"	if (x & 1) { R1000 R1000 R1000 R1000 R1000 R1000 R1000 R1000 R1000 R1000 R1000 R1000 }\n"
		"	EMIT(x);\n"
		"	return 0;\n"
		"}\n";
	size_t len, sec, shdr = 0, n, i;
	_cleanup_free_ char *obj = compile("far-jump", src, &len);
	Elf64_Shdr sh;
	struct bpf_insn in;
	bool wrapped = false;

	(void)state;
	sec = sec_offset(obj, len, "tracepoint/syscalls/sys_enter_openat", &shdr);
	memcpy(&sh, obj + shdr, sizeof(sh));
	n = sh.sh_size / sizeof(struct bpf_insn);
	assert_true(n > 32768);
	/* the jump over the block is there, wrapped: its encoded target is not
	 * the instruction after the block (shown, not assumed) */
	for (i = 0; i < n; i++) {
		memcpy(&in, insn_at(obj, sec, i), sizeof(in));
		if ((in.code & 0x07) == BPF_JMP && (in.code & 0xf0) != BPF_CALL && (in.code & 0xf0) != BPF_EXIT &&
		    (int64_t)i + 1 + in.off < (int64_t)n && in.off < 0 && i < 64)
			wrapped = true;
	}
	print_message("# far-jump: %zu instructions, a wrapped forward jump near the entry: %s\n", n,
		      wrapped ? "yes" : "no");
	expect_refused("far-jump", obj, len, NULL, "more than a 16-bit jump offset reaches (32768)",
		       "may have been truncated");
}

static void test_garbage(void **state)
{
	size_t len, n;
	_cleanup_free_ char *obj = compile("good-trunc", good_src, &len);
	_cleanup_free_ char *m = malloc(len);
	static const char junk[] = "\x7f" "ELF garbage garbage garbage garbage garbage garbage garbage garbage";
	_cleanup_free_ char *err = NULL;
	unsigned seed = 12345;

	/* every truncation refused, never a crash */
	for (n = 0; n < len; n += (n < 256 ? 1 : 97)) {
		_cleanup_free_ char *e = NULL;

		assert_int_not_equal(verify_object(obj, n, NULL, &e), 0);
		assert_non_null(e);
	}
	assert_int_equal(verify_object(junk, sizeof(junk), NULL, &err), -TG_EVERIFY);
	free(err);
	err = NULL;
	assert_int_equal(verify_object("", 0, NULL, &err), -TG_EVERIFY);
	assert_non_null(strstr(err, "too short"));
	free(err);
	err = NULL;
	assert_int_equal(verify_object(NULL, 10, NULL, &err), -EINVAL);
	free(err);
	err = NULL;
	/* random byte changes: refused or accepted, never a crash or a leak
	 * (run under ASan/UBSan as well) */
	for (int round = 0; round < 3000; round++) {
		_cleanup_free_ char *e = NULL;
		int k = 1 + (int)(rand_r(&seed) % 8);
		int r;

		memcpy(m, obj, len);
		while (k--)
			m[rand_r(&seed) % len] = (char)rand_r(&seed);
		r = verify_object(m, len, NULL, &e);
		assert_true(r == 0 || r < 0);
		if (r < 0)
			assert_non_null(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_unscoped),
		cmocka_unit_test(test_scope_missing),
		cmocka_unit_test(test_scope_after_helper),
		cmocka_unit_test(test_other_map),
		cmocka_unit_test(test_forbidden_helpers),
		cmocka_unit_test(test_fast_precheck),
		cmocka_unit_test(test_irq_missing),
		cmocka_unit_test(test_subprogram),
		cmocka_unit_test(test_kfunc),
		cmocka_unit_test(test_usdt),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_scope_map_writes),
		cmocka_unit_test(test_unscoped_sections),
		cmocka_unit_test(test_unscoped_allowed),
		cmocka_unit_test(test_unscoped_reach),
		cmocka_unit_test(test_hand_edited),
		cmocka_unit_test(test_jump_reach),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
