// SPDX-License-Identifier: Apache-2.0
/* Kernel types from BTF and the program's own definitions (runner/ktypes.c),
 * their use in sema and codegen (runner/sema-types.c): members through
 * anonymous unions, enum constants, user definitions that redefine or
 * embed kernel types, CO-RE declarations of only what is used, errors with
 * line:col, and generated code that compiles, passes our object verifier
 * and the kernel's (load-only, nothing attaches). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include "tests/unit/runner-compile.h"
#include "tests/unit/tmpdir.h"

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/ast.h"
#include "runner/codegen.h"
#include "runner/compile.h"
#include "runner/ktypes.h"
#include "runner/probes.h"
#include "runner/sema.h"
#include "runner/verify.h"

static char cache_dir[] = "/tmp/tg-unit-ktypes-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return tu_tmpdir_make(cache_dir);
}

static int teardown(void **state)
{
	(void)state;
	return tu_tmpdir_remove(cache_dir);
}

static void kernel_types_and_members(void **state)
{
	struct ktypes *kt = NULL;
	struct ktype_ref ref;
	struct ktype_member m, m2;
	struct ktype_info in;
	int64_t v;

	(void)state;
	assert_int_equal(ktype_new(&kt), 0);
	assert_int_equal(ktype_find(kt, "struct task_struct", &ref), 0);
	assert_int_equal(ref.src, KTYPE_KERNEL);
	assert_int_equal(ktype_member(kt, ref, "pid", &m), 0);
	assert_int_equal(ktype_resolve(kt, m.type, &in), 0);
	assert_int_equal(in.k, KK_INT);
	assert_int_equal(in.size, 4);
	assert_true(in.sign);
	assert_int_equal(ktype_member(kt, ref, "comm", &m), 0);
	assert_int_equal(ktype_resolve(kt, m.type, &in), 0);
	assert_int_equal(in.k, KK_ARRAY);
	assert_int_equal(in.nelems, 16);
	assert_int_equal(ktype_member(kt, ref, "no_such_member", &m), -ENOENT);
	/* sock_common's skc_daddr sits in anonymous unions and structs */
	assert_int_equal(ktype_find(kt, "struct sock_common", &ref), 0);
	assert_int_equal(ktype_member(kt, ref, "skc_daddr", &m), 0);
	assert_int_equal(ktype_member(kt, ref, "skc_rcv_saddr", &m2), 0);
	assert_int_equal(m2.bit_off, m.bit_off + 32);
	/* enumerators of kernel enums; typedefs */
	assert_int_equal(ktype_enum_value(kt, "TCP_FIN_WAIT1", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(ktype_enum_value(kt, "NO_SUCH_ENUMERATOR_X", &v), -ENOENT);
	assert_int_equal(ktype_find(kt, "u32", &ref), 0);
	assert_int_equal(ktype_resolve(kt, ref, &in), 0);
	assert_int_equal(in.size, 4);
	assert_false(in.sign);
	assert_int_equal(ktype_find(kt, "struct no_such_struct_x", &ref), -ENOENT);
	ktype_free(kt);
}

static void dump_only_what_is_used(void **state)
{
	struct ktypes *kt = NULL;
	_cleanup_buf_ struct buf a = BUF_INIT(KTYPE_MAX_DUMP), b = BUF_INIT(KTYPE_MAX_DUMP);
	struct ktype_ref ref;
	char name[64];

	(void)state;
	assert_int_equal(ktype_new(&kt), 0);
	assert_int_equal(ktype_dump(kt, &a), 0);
	assert_int_equal(a.len, 0);           /* nothing cast to, nothing emitted */
	assert_int_equal(ktype_find(kt, "struct sock", &ref), 0);
	assert_int_equal(ktype_cname(kt, ref, name, sizeof(name)), 0);
	assert_string_equal(name, "struct sock");
	assert_int_equal(ktype_dump(kt, &a), 0);
	assert_non_null(strstr(a.s, "preserve_access_index"));
	assert_non_null(strstr(a.s, "\nstruct sock {"));
	assert_non_null(strstr(a.s, "\nstruct sock_common {"));   /* embedded: defined */
	assert_null(strstr(a.s, "\nstruct task_struct {"));      /* pointed to only */
	assert_true(a.len < 512 * 1024);
	/* the same set again: the same text (from the cache) */
	assert_int_equal(ktype_dump(kt, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.s, b.s, a.len);
	ktype_free(kt);
}

static void program_definitions(void **state)
{
	static const char pre[] =
		"#include <linux/sched.h>\n"
		"#ifndef BPFTRACE_HAVE_BTF\nstruct hidden { int a; };\n#endif\n"
		"struct Foo { int x; char c; struct { int y; } in; uint64_t z; };\n"
		"struct task_struct { int x; };\n"
		"struct wrap { struct qstr q; };\n";
	static const char *const defs[] = { "struct hidden", "struct Foo", "struct task_struct", "struct wrap" };
	struct ktypes *kt = NULL;
	_cleanup_free_ char *err = NULL;
	struct ktype_ref ref;
	struct ktype_member m;
	struct ktype_info in;
	char name[64];

	(void)state;
	assert_int_equal(ktype_new(&kt), 0);
	assert_int_equal(ktype_preamble(kt, pre, defs, 4, cache_dir, &err), 0);
	assert_int_equal(ktype_find(kt, "struct Foo", &ref), 0);
	assert_int_equal(ref.src, KTYPE_USER);
	assert_int_equal(ktype_resolve(kt, ref, &in), 0);
	assert_int_equal(in.size, 24);
	assert_int_equal(ktype_member(kt, ref, "c", &m), 0);
	assert_int_equal(m.bit_off, 32);
	assert_int_equal(ktype_member(kt, ref, "z", &m), 0);
	assert_int_equal(m.bit_off, 128);
	/* the program's task_struct wins over the kernel's */
	assert_int_equal(ktype_find(kt, "struct task_struct", &ref), 0);
	assert_int_equal(ref.src, KTYPE_USER);
	assert_int_equal(ktype_resolve(kt, ref, &in), 0);
	assert_int_equal(in.size, 4);
	/* its own types are read by offset: no C name to cast to */
	assert_int_equal(ktype_cname(kt, ref, name, sizeof(name)), -ENOENT);
	/* a kernel type embedded in a definition is the kernel's */
	assert_int_equal(ktype_find(kt, "struct wrap", &ref), 0);
	assert_int_equal(ktype_member(kt, ref, "q", &m), 0);
	assert_int_equal(ktype_resolve(kt, m.type, &in), 0);
	assert_int_equal(in.self.src, KTYPE_KERNEL);
	/* a definition inside #ifndef BPFTRACE_HAVE_BTF is not compiled */
	assert_int_equal(ktype_find(kt, "struct hidden", &ref), -ENOENT);
	ktype_free(kt);

	/* C that does not compile: clang's words */
	assert_int_equal(ktype_new(&kt), 0);
	free(err);
	err = NULL;
	assert_int_equal(ktype_preamble(kt, "struct Bad { no_such_type x; };\n",
				     (const char *const[]){ "struct Bad" }, 1, cache_dir, &err), -TG_ECOMPILE);
	assert_non_null(err);
	assert_non_null(strstr(err, "no_such_type"));
	ktype_free(kt);
}

struct gen_out {
	int r;
	struct lang_diag diag;
	char *src;
};

static struct gen_out generate(const char *text, const int *levels, size_t nlevels)
{
	struct gen_out g = { 0 };
	struct lang_program *prog = NULL;
	struct plan pl;
	struct sem sem;
	struct cg_opts co = { .sz = sizeof(co), .levels = levels, .nlevels = nlevels,
			      .max_map_entries = 128, .ringbuf_bytes = 1 << 16 };

	memset(&sem, 0, sizeof(sem));
	memset(&pl, 0, sizeof(pl));
	g.r = lang_program_parse(text, strlen(text), &prog, &g.diag);
	if (g.r < 0)
		return g;
	g.r = plan_build(prog, &pl, &g.diag);
	if (g.r >= 0)
		g.r = sem_analyse_in(&sem, prog, pl.probe_tp, NULL, 0, cache_dir, &g.diag);
	if (g.r >= 0)
		g.r = cg_generate(&sem, &pl, &co, &g.src, &g.diag);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
	return g;
}

static void compile_and_verify(const char *src)
{
	struct compile_result cr;

	tu_compile_verify(src, cache_dir, &cr);
	free(cr.obj);
}

static void type_errors_name_line_and_column(void **state)
{
	struct gen_out g;

	(void)state;
	g = generate("kprobe:tcp_connect {\n  $sk = (struct sock *)arg0;\n  @x = $sk->no_such_field;\n}", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_int_equal(g.diag.loc.line, 3);
	assert_non_null(strstr(g.diag.msg, "\"struct sock\": no field \"no_such_field\""));
	g = generate("kprobe:tcp_connect { @x = ((struct no_such_struct_x *)arg0)->a; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "no_such_struct_x"));
	g = generate("kprobe:tcp_connect { @x = arg0->a; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "expected a pointer to a struct"));
	/* a struct value is stored whole up to SEM_MAX_MEMVAL_BYTES */
	g = generate("kprobe:tcp_connect { $t = *curtask; }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "variable \"$t\": a value of "));
	g = generate("BEGIN { @x = NO_SUCH_IDENTIFIER_X; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_int_equal(g.diag.loc.col, 14);
	g = generate("struct Bad { no_such_type x; }\nBEGIN { exit(); }", NULL, 0);
	assert_int_equal(g.r, -TG_ECOMPILE);
	assert_non_null(strstr(g.diag.msg, "C definitions"));
}

/* The tools' constructs, scoped: compile, verify (prologue and interrupt
 * check still first), one CO-RE relocated read per member. */
static void tool_constructs_compile_and_verify(void **state)
{
	static const int levels[] = { 4 };
	struct gen_out g;

	(void)state;
	g = generate("kprobe:tcp_set_state {\n"
		     "  $sk = (struct sock *)arg0;\n"
		     "  $tp = (struct tcp_sock *)$sk;\n"
		     "  $fam = $sk->__sk_common.skc_family;\n"
		     "  $d = ntop(AF_INET6, $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8);\n"
		     "  $s = ntop($sk->__sk_common.skc_rcv_saddr);\n"
		     "  if ($fam == AF_INET && arg1 == TCP_CLOSE) {\n"
		     "    printf(\"%s %s %d %d %d\\n\", $s, $d, bswap($sk->__sk_common.skc_dport),\n"
		     "           $tp->bytes_acked / 1024, $sk->sk_ack_backlog);\n"
		     "  }\n"
		     "  @[((struct request *)arg0)->q->disk->disk_name] = count();\n"
		     "}\n", levels, 1);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "&((struct sock_common *)("));
	assert_non_null(strstr(g.src, "->skc_family"));
	assert_non_null(strstr(g.src, "\nstruct request {"));
	/* task_struct is only pointed to: the interrupt check's reduced one */
	assert_non_null(strstr(g.src, "\nstruct task_struct { void *stack"));
	compile_and_verify(g.src);
	free(g.src);
	/* curtask (the full task_struct replaces the interrupt check's reduced
	 * one), user memory through syscalls' pointers, join() */
	g = generate("tracepoint:syscalls:sys_enter_nanosleep /args->rqtp->tv_sec + args->rqtp->tv_nsec/ {\n"
		     "  $task = (struct task_struct *)curtask;\n"
		     "  printf(\"%d %s %d\\n\", $task->real_parent->pid, $task->real_parent->comm,\n"
		     "         (uint64)args->rqtp->tv_nsec / 1e6);\n"
		     "}\n"
		     "tracepoint:syscalls:sys_enter_execve { join(args->argv); join(args->argv, \",\"); }\n",
		     levels, 1);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "bpf_probe_read_user(&"));
	assert_non_null(strstr(g.src, "\nstruct task_struct {\n"));
	assert_null(strstr(g.src, "struct task_struct { void *stack"));
	compile_and_verify(g.src);
	free(g.src);
	/* the program's definitions: read by offset, no C of them emitted (in
	 * a probe of the pod: BEGIN may not read memory under a scope) */
	g = generate("struct Foo { int m; struct { int x; int y; } bar; int n; }\n"
		     "kprobe:vfs_read { $f = (struct Foo *)0; printf(\"%d %d %d\\n\", $f->bar.y, sizeof(struct Foo), $f->n); exit(); }",
		     levels, 1);
	assert_int_equal(g.r, 0);
	assert_null(strstr(g.src, "struct Foo"));
	/* n, by its offset from $f's value (read into a temporary) */
	assert_non_null(strstr(g.src, " = (__u64)(V0_0);"));
	assert_non_null(strstr(g.src, ") + 12));"));
	compile_and_verify(g.src);
	free(g.src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kernel_types_and_members),
		cmocka_unit_test(dump_only_what_is_used),
		cmocka_unit_test(program_definitions),
		cmocka_unit_test(type_errors_name_line_and_column),
		cmocka_unit_test(tool_constructs_compile_and_verify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
