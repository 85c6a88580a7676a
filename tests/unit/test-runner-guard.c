// SPDX-License-Identifier: Apache-2.0
/* The engine's guards: the CPU budget's sliding window, the token bucket's
 * parameters, the kernel layout read from the real kernel BTF, refusing
 * profile/software and moving interval under a scope, refusing what would
 * observe the runner in BEGIN, END and interval bodies (and the object
 * verifier refusing the same when the front end is bypassed), and the
 * interval timers really firing a BPF_PROG_TYPE_SYSCALL program. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "tests/unit/runner-compile.h"
#include "tests/unit/unscoped-cases.h"

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "runner/codegen.h"
#include "runner/compile.h"
#include "policy/unscoped.h"
#include "runner/guard.h"
#include "runner/probes.h"
#include "runner/sema.h"
#include "runner/verify.h"

#define MS 1000000ull

static void cpu_window(void **state)
{
	struct guard_cpu c;
	uint64_t t = 5000 * MS, run = 0;
	bool over = false;

	(void)state;
	/* 10% of a CPU against a budget of 20%: never over */
	guard_cpu_init(&c, 0.2);
	for (int i = 0; i < 100; i++, t += 100 * MS, run += 10 * MS)
		assert_false(guard_cpu_sample(&c, t, run));
	assert_true(c.last_share > 0.09 && c.last_share < 0.11);
	/* a burst to 50%: over within about a second, not before the window */
	for (int i = 0; i < 20 && !over; i++, t += 100 * MS, run += 50 * MS)
		over = guard_cpu_sample(&c, t, run);
	assert_true(over);
	/* the first second is never judged */
	guard_cpu_init(&c, 0.01);
	assert_false(guard_cpu_sample(&c, t, 0));
	assert_false(guard_cpu_sample(&c, t + 500 * MS, 900 * MS));
	assert_true(guard_cpu_sample(&c, t + 1000 * MS, 900 * MS));
	/* samples closer than the sample interval are ignored */
	guard_cpu_init(&c, 0.01);
	assert_false(guard_cpu_sample(&c, t, 0));
	assert_false(guard_cpu_sample(&c, t + 1, 1000 * MS));
	assert_int_equal(c.n, 1);
	/* budget 0: unlimited */
	guard_cpu_init(&c, 0);
	assert_false(guard_cpu_sample(&c, t, 0));
	assert_false(guard_cpu_sample(&c, t + 2000 * MS, 2000 * MS));
}

static void rate_params(void **state)
{
	uint64_t cost, cap;

	(void)state;
	guard_rate_params(0, 2, &cost, &cap);
	assert_int_equal(cost, 0);
	assert_int_equal(cap, 0);
	guard_rate_params(1000, 2, &cost, &cap);
	assert_int_equal(cost, 2000000);            /* 500 per CPU per second */
	assert_int_equal(cap, 1000000000);          /* one second's share */
	guard_rate_params(1, 4, &cost, &cap);
	assert_int_equal(cost, 4000000000ull);      /* one event per 4 s per CPU */
	assert_int_equal(cap, cost);                /* at least one event fits */
	guard_rate_params(UINT32_MAX, 1, &cost, &cap);
	assert_true(cost >= 1);
}

static void kernel_layout(void **state)
{
	struct guard_kernel k;
	char *err = NULL;

	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		if (getenv("CI"))
			fail_msg("no kernel BTF");
		skip();
	}
	assert_int_equal(guard_kernel_layout(NULL, &k, &err), 0);
	assert_null(err);
	assert_true(k.thread_size >= 4096 && !(k.thread_size & (k.thread_size - 1)));
	assert_true(k.rq_off > 0 && k.pc_off > 0 && k.rq_off != k.pc_off);
	assert_int_equal(guard_kernel_layout("/nonexistent/btf", &k, &err), -ENOENT);
	assert_non_null(strstr(err, "kernel BTF \"/nonexistent/btf\": cannot read"));
	free(err);
}

static void plan_under_scope(void **state)
{
	static const char *const refused[] = {
		"BEGIN { }\n  profile:hz:99 { @ = count(); }",
		"software:cpu-clock:1000 { @ = count(); }",
	};
	struct lang_program *prog = NULL;
	struct lang_diag d = { 0 };
	struct plan pl;
	const char *ok = "interval:ms:250 { @ = count(); } interval:s:1 { print(@); }";

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(lang_program_parse(refused[i], strlen(refused[i]), &prog, &d), 0);
		assert_int_equal(plan_build(prog, &pl, &d), 0);
		/* without a scope nothing changes */
		assert_int_equal(guard_plan_scope(prog, &pl, false, &d), 0);
		assert_int_equal(guard_plan_scope(prog, &pl, true, &d), -TG_EPOLICY);
		assert_non_null(strstr(d.msg, "sample interrupt context, which belongs to no tenant"));
		assert_int_equal(d.loc.line, i == 0 ? 2 : 1);
		assert_int_equal(d.loc.col, i == 0 ? 3 : 1);
		plan_release(&pl);
		prog = lang_program_free(prog);
	}
	assert_int_equal(lang_program_parse(ok, strlen(ok), &prog, &d), 0);
	assert_int_equal(plan_build(prog, &pl, &d), 0);
	assert_int_equal(guard_plan_scope(prog, &pl, true, &d), 0);
	assert_int_equal(pl.n, 2);
	assert_string_equal(pl.progs[0].section, "tg_timer/0");
	assert_string_equal(pl.progs[1].section, "tg_timer/1");
	assert_true(guard_is_timer(&pl.progs[0]));
	assert_int_equal(pl.progs[0].period, 250 * MS);
	plan_release(&pl);
	lang_program_free(prog);
}

/* The runner refuses on its own what the gateway's policy refuses (the
 * same list, policy/unscoped.h): at the construct's line:column, under a
 * scope only, and only in BEGIN, END and interval bodies. */
static void unscoped_refused_under_scope(void **state)
{
	static const struct { const char *head, *probe; } heads[] = {
		{ "BEGIN { @ = ", "BEGIN" },
		{ "tracepoint:syscalls:sys_enter_openat { @o = count(); }\nEND { @ = ", "END" },
		{ "interval:ms:100 { @ = ", "interval:ms:100" },
	};
	struct lang_program *prog = NULL;
	struct lang_diag d;
	struct plan pl;

	(void)state;
	for (size_t i = 0; i < sizeof(unscoped_refused) / sizeof(unscoped_refused[0]); i++) {
		for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
			char *text = NULL, *want = NULL;
			const char *nl = strchr(heads[h].head, '\n');

			assert_true(asprintf(&text, "%s%s }", heads[h].head, unscoped_refused[i].expr) > 0);
			memset(&d, 0, sizeof(d));
			if (lang_program_parse(text, strlen(text), &prog, &d) < 0)
				fail_msg("%s: %s", text, d.msg);
			assert_int_equal(guard_unscoped(prog, false, &d), 0);
			assert_int_equal(guard_unscoped(prog, true, &d), -TG_EPOLICY);
			assert_int_equal(d.loc.line, nl ? 2 : 1);
			assert_int_equal(d.loc.col, strlen(nl ? nl + 1 : heads[h].head) + 1);
			assert_true(asprintf(&want, "\"%s\" in \"%s\" %s", unscoped_refused[i].construct, heads[h].probe,
					     unscoped_refused[i].why) > 0);
			if (!strstr(d.msg, want))
				fail_msg("%s: \"%s\" lacks \"%s\"", text, d.msg, want);
			/* the plan step refuses it before anything is generated */
			memset(&d, 0, sizeof(d));
			assert_int_equal(plan_build(prog, &pl, &d), 0);
			assert_int_equal(guard_plan_scope(prog, &pl, false, &d), 0);
			assert_int_equal(guard_plan_scope(prog, &pl, true, &d), -TG_EPOLICY);
			assert_non_null(strstr(d.msg, want));
			plan_release(&pl);
			prog = lang_program_free(prog);
			free(text);
			free(want);
		}
		{
			char *text = NULL;

			assert_true(asprintf(&text, "tracepoint:syscalls:sys_enter_openat { @ = %s }",
					     unscoped_refused[i].expr) > 0);
			assert_int_equal(lang_program_parse(text, strlen(text), &prog, &d), 0);
			assert_int_equal(guard_unscoped(prog, true, &d), 0);
			prog = lang_program_free(prog);
			free(text);
		}
	}
	for (size_t i = 0; i < sizeof(unscoped_allowed) / sizeof(unscoped_allowed[0]); i++) {
		assert_int_equal(lang_program_parse(unscoped_allowed[i], strlen(unscoped_allowed[i]), &prog, &d), 0);
		if (guard_unscoped(prog, true, &d) < 0)
			fail_msg("%s: %u:%u: %s", unscoped_allowed[i], d.loc.line, d.loc.col, d.msg);
		prog = lang_program_free(prog);
	}
	assert_null(tg_unscoped_builtin_reason("nsecs"));
	assert_string_equal(tg_unscoped_builtin_reason("pid"), "describes the runner, not the pod");
	assert_string_equal(tg_unscoped_builtin_reason("arg12"), "has no event of the pod to describe");
	assert_string_equal(tg_unscoped_builtin_reason("newbuiltin"), "is not known to be harmless there");
}

/* Parse, plan under a scope (interval -> tg_timer/<N>), analyse and
 * generate the BPF C with a two-level scope prologue; front_end false
 * skips guard_unscoped, as a gateway and a runner front end that both
 * failed would. */
static char *scoped_source(const char *text, bool front_end)
{
	static const int levels[] = { 2, 3 };
	static const char *const params[] = { "hello" };
	struct cg_opts co = { .sz = sizeof(co), .levels = levels, .nlevels = 2, .max_map_entries = 128,
			      .ringbuf_bytes = 4096 };
	struct lang_program *prog = NULL;
	char *src = NULL;
	struct lang_diag d = { 0 };
	struct plan pl;
	struct sem sem;
	int r;

	memset(&sem, 0, sizeof(sem));
	memset(&pl, 0, sizeof(pl));
	r = lang_program_parse(text, strlen(text), &prog, &d);
	if (r >= 0)
		r = plan_build(prog, &pl, &d);
	if (r >= 0 && front_end)
		r = guard_plan_scope(prog, &pl, true, &d);
	for (size_t k = 0; r >= 0 && !front_end && k < pl.n; k++)
		if (pl.progs[k].kind == PK_PERF) {
			/* what guard_plan_scope does to intervals, without its checks */
			free(pl.progs[k].section);
			pl.progs[k].section = NULL;
			if (asprintf(&pl.progs[k].section, GUARD_TIMER_PREFIX "%zu", k) < 0)
				r = -ENOMEM;
		}
	if (r >= 0)
		r = sem_analyse(&sem, prog, pl.probe_tp, params, 1, &d);
	if (r >= 0)
		r = cg_generate(&sem, &pl, &co, &src, &d);
	if (r < 0)
		fail_msg("%s: %u:%u: %s", text, d.loc.line, d.loc.col, d.msg);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
	return src;
}

/* What the code generator emits for BEGIN, END and interval bodies that
 * stay legitimate passes the verifier's rule for unscoped programs. */
static void unscoped_generated_code_verifies(void **state)
{
	static const char *const progs[] = {
		"BEGIN { printf(\"hello %s %s %d %d %d %d %d %s\\n\", \"x\", str($1), nsecs, elapsed, cpu, rand, numaid, probe);\n"
		"  @a = count(); @b[1] = sum(5); @c = hist(3); @d = lhist(3, 0, 10, 1); @s[\"k\"] = \"v\"; @m = max(1);\n"
		"  @v = avg(2); @st = stats(3); time(\"%H\\n\"); print(@a); $x = numaid; print($x);\n"
		"  printf(\"%s\\n\", strftime(\"%H\", nsecs)); @q = bswap(1); delete(@b[1]);\n"
		"  if (strncmp(\"a\", str($1), 1) == 0) { print(1); } printf(\"%s\\n\", ntop(0x0100007f)); @z = 1; zero(@z); }\n"
		"tracepoint:syscalls:sys_enter_openat { @a = count(); @o[comm, pid] = count(); }\n"
		"interval:ms:100 { print(@a); clear(@a); @i++; if (@i > 1) { exit(); } }\n"
		"interval:s:1 { print(@o, 3); printf(\"%d\\n\", @i); }\n"
		"END { print(@c); printf(\"%d %s\\n\", @i, \"end\"); clear(@o); }\n",
		"BEGIN { @start = nsecs; } END { printf(\"%d\\n\", (nsecs - @start) / 1000000); exit(); }\n",
	};
	char dir[] = "/tmp/tg-unit-cache-XXXXXX";
	char cmd[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		_cleanup_free_ char *src = scoped_source(progs[i], true);
		struct compile_result cr;

		assert_non_null(strstr(src, "SEC(\"tg_begin\")"));
		tu_compile_verify(src, dir, &cr);
		free(cr.obj);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The front end bypassed: a generated BEGIN, END or interval body that
 * reads pid, uid, comm, curtask, the cgroup or memory compiles, and the
 * object verifier refuses it, naming the section, instruction and helper. */
static void unscoped_bypass_refused_by_verifier(void **state)
{
	static const struct { const char *prog, *section, *helper; } cases[] = {
		{ "BEGIN { printf(\"%d\\n\", pid); }", "\"tg_begin\"", "\"bpf_get_current_pid_tgid\" (14)" },
		{ "tracepoint:syscalls:sys_enter_openat { @ = count(); } interval:ms:100 { printf(\"%d\\n\", uid); }",
		  "\"tg_timer/", "\"bpf_get_current_uid_gid\" (15)" },
		{ "END { printf(\"%s\\n\", comm); }", "\"tg_end\"", "\"bpf_get_current_comm\" (16)" },
		{ "BEGIN { @ = curtask; }", "\"tg_begin\"", "\"bpf_get_current_task\" (35)" },
		{ "BEGIN { @ = cgroup; }", "\"tg_begin\"", "\"bpf_get_current_cgroup_id\" (80)" },
		{ "BEGIN { @ = *(uint64 *)0xffffffff81000000; }", "\"tg_begin\"", "\"bpf_probe_read_kernel\" (113)" },
		{ "END { printf(\"%s\\n\", str(0xffffffff81000000)); }", "\"tg_end\"", "\"bpf_probe_read_user_str\" (114)" },
		{ "BEGIN { @[username] = count(); }", "\"tg_begin\"", "\"bpf_get_current_uid_gid\" (15)" },
	};
	char dir[] = "/tmp/tg-unit-cache-XXXXXX";
	char cmd[128];

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct compile_result cr;
		_cleanup_free_ char *err = NULL, *verr = NULL, *src = NULL;
		struct verify_opts vo = { .sz = sizeof(vo), .require_scope = true, .scope_map = "tg_scope" };
		struct lang_program *prog = NULL;
		struct lang_diag d;
		int r;

		/* the front end refuses it ... */
		assert_int_equal(lang_program_parse(cases[i].prog, strlen(cases[i].prog), &prog, &d), 0);
		assert_int_equal(guard_unscoped(prog, true, &d), -TG_EPOLICY);
		lang_program_free(prog);
		/* ... and without it the verifier does */
		src = scoped_source(cases[i].prog, false);
		r = compile_bpf(src, strlen(src), dir, &cr, &err);
		if (r < 0)
			fail_msg("%s: %s", cases[i].prog, err ? err : "?");
		r = verify_object(cr.obj, cr.len, &vo, &verr);
		if (r != -TG_EVERIFY || !verr || !strstr(verr, cases[i].section) || !strstr(verr, cases[i].helper) ||
		    !strstr(verr, " instruction ") || !strstr(verr, "is not allowed without the scope check"))
			fail_msg("%s: verify_object %d: %s", cases[i].prog, r, verr ? verr : "(no message)");
		print_message("# %s\n#   %s\n", cases[i].prog, verr);
		free(cr.obj);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A real SYSCALL program that counts its runs in an array map, fired by
 * the timers. */
static void timers_fire(void **state)
{
	struct bpf_insn insns[] = {
		/* r1 = map fd (ld_imm64 pseudo map fd), patched below */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD },
		{ 0 },
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 0, .off = 2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 0, .src_reg = 1, .imm = BPF_ADD },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .prog_flags = BPF_F_SLEEPABLE);
	struct guard_timers t;
	char *err = NULL;
	uint32_t z = 0;
	uint64_t runs = 0, start;
	int map, prog;

	(void)state;
	if (geteuid() != 0) {
		if (getenv("CI"))
			fail_msg("needs root for BPF");
		skip();
	}
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_test_timer", 4, 8, 1, NULL);
	assert_true(map >= 0);
	insns[0].imm = map;
	prog = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "tg_timer_test", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &po);
	assert_true(prog >= 0);
	guard_timers_init(&t);
	assert_int_equal(guard_timers_add(&t, prog, 1000, &err), -EINVAL);   /* under 1 ms */
	free(err);
	err = NULL;
	assert_int_equal(guard_timers_add(&t, prog, 10 * MS, &err), 0);
	start = now_mono_ns();
	while (now_mono_ns() - start < 300 * MS) {
		usleep(5000);
		assert_int_equal(guard_timers_run(&t, &err), 0);
	}
	assert_int_equal(bpf_map_lookup_elem(map, &z, &runs), 0);
	assert_int_equal(runs, t.fired);
	assert_true(runs >= 15 && runs <= 31);
	guard_timers_release(&t);
	assert_int_equal(t.epfd, -1);
	close(prog);
	close(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpu_window),
		cmocka_unit_test(rate_params),
		cmocka_unit_test(kernel_layout),
		cmocka_unit_test(plan_under_scope),
		cmocka_unit_test(unscoped_refused_under_scope),
		cmocka_unit_test(unscoped_generated_code_verifies),
		cmocka_unit_test(unscoped_bypass_refused_by_verifier),
		cmocka_unit_test(timers_fire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
