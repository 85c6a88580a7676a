// SPDX-License-Identifier: Apache-2.0
/* The engine's guards: the CPU budget's sliding window, the token bucket's
 * parameters, the kernel layout read from the real kernel BTF, refusing
 * profile/software and moving interval under a scope, and the interval
 * timers really firing a BPF_PROG_TYPE_SYSCALL program. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "lib/errors.h"
#include "lib/util.h"
#include "policy/ast.h"
#include "runner/guard.h"
#include "runner/probes.h"

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
	struct tg_program *prog = NULL;
	struct tg_diag d = { 0 };
	struct plan pl;
	const char *ok = "interval:ms:250 { @ = count(); } interval:s:1 { print(@); }";

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(tg_program_parse(refused[i], strlen(refused[i]), &prog, &d), 0);
		assert_int_equal(plan_build(prog, &pl, &d), 0);
		/* without a scope nothing changes */
		assert_int_equal(guard_plan_scope(prog, &pl, false, &d), 0);
		assert_int_equal(guard_plan_scope(prog, &pl, true, &d), -TG_EPOLICY);
		assert_non_null(strstr(d.msg, "sample interrupt context, which belongs to no tenant"));
		assert_int_equal(d.loc.line, i == 0 ? 2 : 1);
		assert_int_equal(d.loc.col, i == 0 ? 3 : 1);
		plan_release(&pl);
		prog = tg_program_free(prog);
	}
	assert_int_equal(tg_program_parse(ok, strlen(ok), &prog, &d), 0);
	assert_int_equal(plan_build(prog, &pl, &d), 0);
	assert_int_equal(guard_plan_scope(prog, &pl, true, &d), 0);
	assert_int_equal(pl.n, 2);
	assert_string_equal(pl.progs[0].section, "tg_timer/0");
	assert_string_equal(pl.progs[1].section, "tg_timer/1");
	assert_true(guard_is_timer(&pl.progs[0]));
	assert_int_equal(pl.progs[0].period, 250 * MS);
	plan_release(&pl);
	tg_program_free(prog);
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
		cmocka_unit_test(timers_fire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
