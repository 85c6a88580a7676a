// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis and BPF C generation: errors with line:col, the scope
 * prologue first in every probe program (and absent from BEGIN/END), and
 * the generated C really compiles (clang) and passes the object verifier. */
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

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/ast.h"
#include "runner/codegen-layout.h"
#include "runner/codegen.h"
#include "runner/compile.h"
#include "runner/probes.h"
#include "runner/sema.h"
#include "runner/verify.h"

struct gen_out {
	int r;
	struct lang_diag diag;
	char *src;
};

static struct gen_out generate_with(const char *text, const int *levels, size_t nlevels, size_t nfast,
				    const char *const *params, size_t nparams)
{
	struct gen_out g = { 0 };
	struct lang_program *prog = NULL;
	struct plan pl;
	struct sem sem;
	struct cg_opts co = { .sz = sizeof(co), .levels = levels, .nlevels = nlevels,
			      .max_map_entries = 128, .ringbuf_bytes = 4096, .nfast = nfast };

	memset(&sem, 0, sizeof(sem));
	memset(&pl, 0, sizeof(pl));
	g.r = lang_program_parse(text, strlen(text), &prog, &g.diag);
	if (g.r < 0)
		return g;
	g.r = plan_build(prog, &pl, &g.diag);
	if (g.r >= 0)
		g.r = sem_analyse(&sem, prog, pl.probe_tp, params, nparams, &g.diag);
	if (g.r >= 0)
		g.r = cg_generate(&sem, &pl, &co, &g.src, &g.diag);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
	return g;
}

static struct gen_out generate_fast(const char *text, const int *levels, size_t nlevels, size_t nfast)
{
	return generate_with(text, levels, nlevels, nfast, NULL, 0);
}

static struct gen_out generate(const char *text, const int *levels, size_t nlevels)
{
	return generate_fast(text, levels, nlevels, 0);
}

static void unsupported_names_line_and_column(void **state)
{
	struct gen_out g = generate("BEGIN {\n  @x = 1;\n  @y = pton(1);\n}", NULL, 0);

	(void)state;
	assert_int_equal(g.r, -TG_EUNSUPPORTED);
	assert_int_equal(g.diag.loc.line, 3);
	assert_int_equal(g.diag.loc.col, 8);
	assert_non_null(strstr(g.diag.msg, "pton"));
}

static void type_errors(void **state)
{
	struct gen_out g;

	(void)state;
	g = generate("BEGIN { @x = count(); @x = sum(2); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "\"@x\""));
	g = generate("BEGIN { printf(\"%d\", $nope); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_int_equal(g.diag.loc.col, 22);
	g = generate("BEGIN { $s = \"a\"; $s = 1; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	g = generate("tracepoint:syscalls:sys_enter_openat { printf(\"%d\", args->nosuch); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "nosuch"));
}

static void prologue_first_in_every_probe(void **state)
{
	static const int levels[] = { 3, 5 };
	struct gen_out g = generate("BEGIN { printf(\"hi\\n\"); }\n"
				    "tracepoint:syscalls:sys_enter_openat /pid > 1/ { @[comm] = count(); }\n"
				    "interval:s:1 { exit(); }\n", levels, 2);
	static const char want[] =
		"{\n\t__u64 tg_cgid = 0;\n\ttg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		"\tif (bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n\t\tgoto tg_in_scope;\n"
		"\ttg_cgid = bpf_get_current_ancestor_cgroup_id(5);";
	const char *p, *body;
	int n = 0;

	(void)state;
	assert_int_equal(g.r, 0);
	/* every probe function: the first statements are the prologue */
	for (p = g.src; (p = strstr(p, "int tg_p")); p++) {
		if (p[8] < '0' || p[8] > '9')
			continue;   /* tg_prog_begin */
		body = strchr(p, '{');
		assert_non_null(body);
		assert_true(strncmp(body, want, strlen(want)) == 0);
		n++;
	}
	assert_int_equal(n, 2);
	/* BEGIN is run by the runner only: no prologue, its exact section */
	p = strstr(g.src, "SEC(\"tg_begin\")\nint tg_prog_begin(void *ctx)\n{\n\t__u64 tg_cgid = 0;\n\t");
	assert_non_null(p);
	assert_true(strncmp(p + strlen("SEC(\"tg_begin\")\nint tg_prog_begin(void *ctx)\n{\n\t__u64 tg_cgid = 0;\n\t"),
			    "tg_cgid =", 9) != 0);
	free(g.src);
}

static void compile_and_verify(const char *src)
{
	struct compile_result cr;
	char dir[] = "/tmp/tg-unit-cache-XXXXXX";

	assert_non_null(mkdtemp(dir));
	tu_compile_verify(src, dir, &cr);
	free(cr.obj);
	{
		char path[sizeof(dir) + sizeof(cr.hash) + 8];

		snprintf(path, sizeof(path), "%s/%s.o", dir, cr.hash);
		unlink(path);
		rmdir(dir);
	}
}

/* The scope pre-check (one level, a few targets) comes between the
 * ancestor id and the scope lookup; integer keys live on the stack, so a
 * body without strings has no scratch lookup (docs/performance.md). */
static void scope_precheck_and_stack_keys(void **state)
{
	static const int one[] = { 3 }, two[] = { 3, 4 };
	static const char want[] =
		"\ttg_cgid = bpf_get_current_ancestor_cgroup_id(3);\n"
		"\tif (tg_cgid != tg_scope_fast[0] && tg_cgid != tg_scope_fast[1])\n\t\treturn 0;\n"
		"\tif (bpf_map_lookup_elem(&tg_scope, &tg_cgid))\n\t\tgoto tg_in_scope;\n\treturn 0;\n";
	struct gen_out g;

	(void)state;
	g = generate_fast("tracepoint:syscalls:sys_enter_getppid { @ = count(); @p[pid, tid] = sum(1); @h = hist(pid); }",
			  one, 1, 2);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "const volatile __u64 tg_scope_fast[4]"));
	assert_non_null(strstr(g.src, want));
	assert_null(strstr(g.src, "&tg_scratch"));
	compile_and_verify(g.src);
	free(g.src);
	/* a scalar count() is a one-entry per-CPU array, unless deleted in BPF */
	g = generate_fast("tracepoint:syscalls:sys_enter_getppid { @ = count(); @d = count(); @k[pid] = count(); }\n"
			  "tracepoint:syscalls:sys_enter_getpid { delete(@d); }", one, 1, 1);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "struct { __uint(type, 6); __uint(max_entries, 1); __uint(key_size, 4); "
				      "__uint(value_size, 8); } tg_m0 SEC(\".maps\");\n"));
	assert_non_null(strstr(g.src, "struct { __uint(type, 5); __uint(max_entries, 128); __uint(key_size, 8); "
				      "__uint(value_size, 8); } tg_m1 SEC(\".maps\");\n"));
	assert_non_null(strstr(g.src, "struct { __uint(type, 5); __uint(max_entries, 128); __uint(key_size, 8); "
				      "__uint(value_size, 8); } tg_m2 SEC(\".maps\");\n"));
	compile_and_verify(g.src);
	free(g.src);
	/* two levels: no pre-check, the lookups alone */
	g = generate_fast("tracepoint:syscalls:sys_enter_getppid { @ = count(); }", two, 2, 2);
	assert_int_equal(g.r, 0);
	assert_null(strstr(g.src, "tg_cgid != tg_scope_fast"));
	compile_and_verify(g.src);
	free(g.src);
	/* a string key still goes through scratch */
	g = generate_fast("tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }", one, 1, 4);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "tg_cgid != tg_scope_fast[3])"));
	assert_non_null(strstr(g.src, "&tg_scratch"));
	compile_and_verify(g.src);
	free(g.src);
}

static void compiles_and_verifies(void **state)
{
	static const int levels[] = { 2 };
	struct gen_out g = generate("tracepoint:syscalls:sys_enter_openat /comm == \"cat\"/ {\n"
				    "  printf(\"%s %d %s\\n\", comm, pid, str(args->filename));\n"
				    "  @c[comm, pid] = count(); @h = hist(args->flags); @s = stats(pid);\n"
				    "  if (pid > 10) { $x = 1; } else { $x = 2; } @l = lhist($x, 0, 10, 1);\n"
				    "}\nEND { printf(\"end\\n\"); }\n", levels, 1);
	struct compile_result cr;
	char dir[] = "/tmp/tg-unit-cache-XXXXXX";
	_cleanup_free_ char *err = NULL, *verr = NULL;
	struct verify_opts vo = { .sz = sizeof(vo), .require_scope = true, .scope_map = "tg_scope" };
	int r;

	(void)state;
	assert_int_equal(g.r, 0);
	assert_non_null(mkdtemp(dir));
	r = compile_bpf(g.src, strlen(g.src), dir, &cr, &err);
	if (r < 0)
		print_message("%s\n", err ? err : "?");
	assert_int_equal(r, 0);
	assert_false(cr.cached);
	assert_int_equal(verify_object(cr.obj, cr.len, &vo, &verr), 0);
	free(cr.obj);
	/* the second time comes from the cache */
	assert_int_equal(compile_bpf(g.src, strlen(g.src), dir, &cr, &err), 0);
	assert_true(cr.cached);
	free(cr.obj);
	free(g.src);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* Values user space formats (symbols, stacks, times, names) as printf
 * arguments, map keys and values compile and pass the object verifier. */
static void text_values_compile_and_verify(void **state)
{
	static const int levels[] = { 2 };
	struct gen_out g = generate("tracepoint:syscalls:sys_enter_openat {\n"
				    "  printf(\"%s %s %s %s\\n\", ksym(1), usym(2), username, strftime(\"%H\", nsecs));\n"
				    "  @k[kstack(3)] = count(); @u[ustack(perf)] = count(); @t = strftime(\"%m\", nsecs);\n"
				    "  @c[cgroup_path(cgroup)] = count(); $s = kstack; print($s); @a = usym(1); @b = @a;\n"
				    "}\n", levels, 1);
	struct compile_result cr;
	char dir[] = "/tmp/tg-unit-cache-XXXXXX";
	_cleanup_free_ char *err = NULL, *verr = NULL;
	struct verify_opts vo = { .sz = sizeof(vo), .require_scope = true, .scope_map = "tg_scope" };
	char cmd[128];
	int r;

	(void)state;
	if (g.r < 0)
		print_message("%u:%u: %s\n", g.diag.loc.line, g.diag.loc.col, g.diag.msg);
	assert_int_equal(g.r, 0);
	/* one stack map per frame count */
	assert_non_null(strstr(g.src, "tg_st3 SEC"));
	assert_non_null(strstr(g.src, "tg_st127 SEC"));
	assert_non_null(mkdtemp(dir));
	r = compile_bpf(g.src, strlen(g.src), dir, &cr, &err);
	if (r < 0)
		print_message("%s\n", err ? err : "?");
	assert_int_equal(r, 0);
	r = verify_object(cr.obj, cr.len, &vo, &verr);
	if (r < 0)
		print_message("%s\n", verr ? verr : "?");
	assert_int_equal(r, 0);
	free(cr.obj);
	free(g.src);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void text_value_type_errors(void **state)
{
	struct gen_out g;

	(void)state;
	g = generate("BEGIN { @x = ksym(1); @x = usym(1); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "ksym and usym"));
	g = generate("BEGIN { @x = kstack(perf, 200); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_int_equal(g.diag.loc.col, 27);
	g = generate("BEGIN { @x = strftime(\"%H\"); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	/* pton() without an argument has no kids array to read */
	g = generate("BEGIN { printf(\"%s\\n\", ntop(pton())); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_string_equal(g.diag.msg, "pton(): takes one string literal");
}

/* Tuples (runner/sema-tuple.c): literals, variables, map values widened
 * across probes, tuple keys, t.N of nested tuples, print, ternaries;
 * under a scope, compiled and passed by the object verifier. */
static void tuples_compile_and_verify(void **state)
{
	static const int levels[] = { 2 };
	struct gen_out g = generate("tracepoint:syscalls:sys_enter_openat {\n"
				    "  $t = ((int8)1, comm, (pid, \"x\"), str(args->filename));\n"
				    "  printf(\"%d %s %d %s\\n\", $t.0, $t.1, $t.2.0, $t.2.1);\n"
				    "  @v = (\"a\", (int16)2); @k[(pid, comm)] = count(); @w[$t.2] = $t;\n"
				    "  $u = pid > 1 ? (1, \"ab\") : (2, \"abcdef\"); print($u); print($t);\n"
				    "}\ntracepoint:syscalls:sys_enter_close { @v = (\"longer string\", (int64)-1); }\n",
				    levels, 1);

	(void)state;
	if (g.r < 0)
		print_message("%u:%u: %s\n", g.diag.loc.line, g.diag.loc.col, g.diag.msg);
	assert_int_equal(g.r, 0);
	compile_and_verify(g.src);
	free(g.src);
}

/* Every tuple bound a tenant could push is an error naming it. */
static void tuple_limits_and_errors(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct gen_out g;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* 33 elements */
	g = generate("BEGIN { $t = (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33); }",
		     NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "more than 32 elements"));
	/* nested 9 deep */
	g = generate("BEGIN { $t = (1,(1,(1,(1,(1,(1,(1,(1,(1,2))))))))); }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "nested more than 8 deep"));
	g = generate("BEGIN { $t = (1,(1,(1,(1,(1,(1,(1,(1,2)))))))); print($t.1.1.1.1.1.1.1.1); }", NULL, 0);
	assert_int_equal(g.r, 0);
	free(g.src);
	/* more than 2048 bytes: 32 strings of 64 */
	g = generate("BEGIN { $s = str(0); $t = ($s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,"
		     "$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,1); }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	g = generate("BEGIN { $s = str(0); $t = ($s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,"
		     "$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,$s,($s,$s)); }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "more than 2048"));
	/* more than 256 tuple types: (1, "a"), (1, "aa"), ... */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fputs("BEGIN {", f);
	for (int i = 1; i <= 257; i++)
		fprintf(f, " $v%d = (1, \"%0*d\");", i % 60, i, 0);
	fputs(" }", f);
	assert_int_equal(fclose(f), 0);
	g = generate(text, NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "more than 256 tuple types"));
	/* index out of range, index of a non-tuple, shapes that differ */
	g = generate("BEGIN { $t = (1, 2);\n  print($t.2); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_int_equal(g.diag.loc.line, 2);
	assert_non_null(strstr(g.diag.msg, "has 2 elements"));
	g = generate("BEGIN { $t = 1; print($t.0); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "not a tuple"));
	g = generate("BEGIN { @t = (1, \"a\"); @t = (\"a\", 1); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	g = generate("BEGIN { @t = (1, 2); @t = (1, 2, 3); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "3 elements here and 2 before"));
	g = generate("BEGIN { $t = (1, 2); $t.0 = 3; }", NULL, 0);
	assert_true(g.r < 0);
	g = generate("BEGIN { $t = (1, 2); $u = $t + 1; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
}

/* A struct, union or array value in a tuple (bpftrace 0.17's tuples
 * tests "struct in tuple", "array in tuple" and their sizing): its bytes
 * packed after the previous element, copied with the read helper of its
 * memory; what cannot be one, named. */
static void tuple_struct_values(void **state)
{
	struct gen_out g;

	(void)state;
	/* sizeof as 0.17: (int32, struct of 2 ints) 12, (int8, 16-byte struct) 17 */
	g = generate("struct Foo { int m; int n; } BEGIN { $t = ((int32)1, *((struct Foo *)0)); @s = sizeof($t); }",
		     NULL, 0);
	assert_int_equal(g.r, 0);
	/* the int32 at the slot's start, the struct's 8 bytes right after it */
	assert_non_null(strstr(g.src, "*(__s32 *)(tg_s + 16) = "));
	assert_non_null(strstr(g.src, "tg_read_kernel((void *)(tg_s + 20), 8, (const void *)("));
	free(g.src);
	g = generate("struct T { long *p; short h[2]; int z; } BEGIN { print(sizeof(((int8)1, *((struct T *)0)))); }",
		     NULL, 0);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "(__u64)(((__u64)0x11ULL))"));
	free(g.src);
	g = generate("struct A { int x[4]; } BEGIN { @t = (1, ((struct A *)0)->x); }", NULL, 0);
	assert_int_equal(g.r, 0);
	free(g.src);
	/* larger than a tuple may be; of no size; two struct types in one place */
	g = generate("struct B { int a[600]; } BEGIN {\n  @t = (1, *((struct B *)0)); }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_int_equal(g.diag.loc.line, 2);
	assert_non_null(strstr(g.diag.msg, "tuple element 1: a value of 2400 bytes"));
	g = generate("struct E { } BEGIN { @t = (1, *((struct E *)0)); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "tuple element 1 has no value"));
	g = generate("struct P { int a; } struct Q { int b; } BEGIN { @t = (1, *((struct P *)0)); "
		     "@t = (1, *((struct Q *)0)); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "element types differ (struct and struct)"));
	/* a struct element compares with nothing */
	g = generate("struct P { int a; } BEGIN { $t = (1, *((struct P *)0)); if ($t.1 == 1) { } }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
}

/* Struct, union and array values stored whole in variables and maps
 * (bpftrace 0.17's runtime tests struct "struct assignment into
 * variable", "... into map", json-output print_non_map_struct): copied
 * with the read helper of their memory, read back as members; compiled
 * and verified under a scope. */
/* A string value is at most SEM_MAX_STRING bytes with its NUL: the BPF
 * backend copies 1 KiB inline and has no memcpy to call.  A longer
 * literal is refused at its place; a tenant's parameter of any length is
 * cut to what str() holds (it reached clang whole, and failed it: 500). */
static void string_sizes_bounded(void **state)
{
	static const int levels[] = { 2 };
	char text[8192], param[4001];
	struct gen_out g;
	const char *params[] = { param };

	(void)state;
	snprintf(text, sizeof(text), "BEGIN { $s = \"%01023d\"; printf(\"%%s\\n\", $s); exit(); }", 0);
	g = generate(text, levels, 1);
	assert_true(g.r >= 0);
	compile_and_verify(g.src);
	free(g.src);
	snprintf(text, sizeof(text), "BEGIN { $s = \"%01024d\"; printf(\"%%s\\n\", $s); exit(); }", 0);
	g = generate(text, levels, 1);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_int_equal(g.diag.loc.col, 14);
	assert_non_null(strstr(g.diag.msg, "longer than 1023 bytes"));
	memset(param, 'A', sizeof(param) - 1);
	param[sizeof(param) - 1] = '\0';
	g = generate_with("BEGIN { printf(\"%s %s\\n\", str($1, 100000), str($1, 3)); @[str($1)] = 1; exit(); }",
			  levels, 1, 0, params, 1);
	assert_true(g.r >= 0);
	compile_and_verify(g.src);
	free(g.src);
}

static void struct_values_stored(void **state)
{
	static const int levels[] = { 2 };
	struct gen_out g = generate("struct Foo { int m; struct { int x; int y; } in; int a[2]; }\n"
				    "uprobe:libc:exit { $f = *((struct Foo *)arg0); @f = $f; @k[1] = *((struct Foo *)arg0);\n"
				    "  @in = ((struct Foo *)arg0)->in; @a = ((struct Foo *)arg0)->a; let $g = @f;\n"
				    "  printf(\"%d %d %d\\n\", $f.m, $f.in.y, $g.in.x); @t = (1, $f); print($f); }\n",
				    levels, 1);

	(void)state;
	if (g.r < 0)
		print_message("%u:%u: %s\n", g.diag.loc.line, g.diag.loc.col, g.diag.msg);
	assert_int_equal(g.r, 0);
	/* read from the process's memory when stored, never from the copy */
	assert_non_null(strstr(g.src, "bpf_probe_read_user((void *)(tg_s + "));
	assert_non_null(strstr(g.src, "tg_read_kernel(&t"));
	compile_and_verify(g.src);
	free(g.src);
	/* too large, of no size, another struct type, a key, ->, compared */
	g = generate("struct B { int a[600]; } BEGIN {\n  @b = *((struct B *)0); }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_int_equal(g.diag.loc.line, 2);
	assert_non_null(strstr(g.diag.msg, "map \"@b\": a value of 2400 bytes"));
	g = generate("struct E { } BEGIN { $e = *((struct E *)0); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "variable \"$e\": assigned value has no value"));
	g = generate("struct P { int a; } struct Q { int a; } BEGIN { $x = *((struct P *)0); $x = *((struct Q *)0); }",
		     NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "type mismatch"));
	/* a struct value as a map key is its bytes (0.17 prints {.a=1}) */
	g = generate("struct P { int a; } BEGIN { @x = *((struct P *)0); @s[@x] = 1; @t[*((struct P *)0), 2] = 1; }",
		     NULL, 0);
	assert_int_equal(g.r, 0);
	free(g.src);
	g = generate("struct B { char c[300]; } BEGIN { @s[*((struct B *)0)] = 1; }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "a key holds at most"));
	/* a definition past BTF's 32-bit sizes: 2^32 + 8 bytes would be a
	 * struct of 8 (sizeof, keys, member offsets all wrong), refused */
	g = generate("struct E { char x[16777216]; } struct B { struct E e[256]; char y[8]; }\n"
		     "BEGIN { @s[*((struct B *)0)] = 1; }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "\"struct B\" is larger than BTF holds"));
	g = generate("struct P { int a; } BEGIN { $x = *((struct P *)0); @y = $x->a; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	g = generate("struct P { int a; } BEGIN { $x = *((struct P *)0); if ($x == 1) { } }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	/* a stored array is indexed by a constant within it: its copy's
	 * neighbours are BPF memory */
	g = generate("struct P { int z[2]; } BEGIN { $x = ((struct P *)0)->z; @ = $x[1]; }", NULL, 0);
	assert_int_equal(g.r, 0);
	free(g.src);
	g = generate("struct P { int z[2]; } BEGIN { $x = ((struct P *)0)->z; $i = 1; @ = $x[$i]; }", NULL, 0);
	assert_int_equal(g.r, -TG_EUNSUPPORTED);
	assert_non_null(strstr(g.diag.msg, "the index must be a constant"));
	g = generate("struct P { int z[2]; } BEGIN { $x = *((struct P *)0); $i = 1; @ = $x.z[$i]; }", NULL, 0);
	assert_int_equal(g.r, -TG_EUNSUPPORTED);
	g = generate("struct P { int z[2]; } BEGIN { $x = *((struct P *)0); @ = $x.z[2]; }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "out of bounds"));
}

/* bpftrace 0.2x's for and len(): callbacks under a scope, through clang
 * and the object verifier; what they may not do, named. */
static void for_len_compile_and_verify(void **state)
{
	static const int levels[] = { 2 };
	struct gen_out g = generate("tracepoint:syscalls:sys_enter_openat {\n"
				    "  @c[comm] = count(); @k[pid, comm] = max(tid); @s[1] = \"x\"; $seen = 0;\n"
				    "  for ($kv : @c) { if ($kv.1 > 3) { continue; } $seen += $kv.1; @o[$kv.0] = $kv.1; }\n"
				    "  for ($kv : @k) { if ($kv.0.0 == 2) { break; } printf(\"%s %d\\n\", $kv.0.1, $kv.1); }\n"
				    "  if (len(@c) > 10) { exit(); } for ($i : 1..3) { if ($i == 2) { return; } }\n"
				    "}\nEND { for ($kv : @s) { print($kv); } }\n", levels, 1);

	(void)state;
	if (g.r < 0)
		print_message("%u:%u: %s\n", g.diag.loc.line, g.diag.loc.col, g.diag.msg);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "bpf_for_each_map_elem(&tg_m"));
	assert_non_null(strstr(g.src, "bpf_loop("));
	compile_and_verify(g.src);
	free(g.src);
	/* len(kstack), len(ustack(3)) (stdlib.md "len"): bpf_get_stack into
	 * scratch, declared only where used; none in END (an empty stack) */
	g = generate("tracepoint:syscalls:sys_enter_openat { @d[len(kstack)] = count(); @u = len(ustack(3)); }\n"
		     "END { @e = len(kstack); }", levels, 1);
	assert_int_equal(g.r, 0);
	assert_non_null(strstr(g.src, "(*bpf_get_stack)("));
	assert_non_null(strstr(g.src, ", 1016, 0); "));
	assert_non_null(strstr(g.src, ", 24, 256); "));
	compile_and_verify(g.src);
	free(g.src);
	g = generate("tracepoint:syscalls:sys_enter_openat { @[kstack] = count(); }", levels, 1);
	assert_int_equal(g.r, 0);
	assert_null(strstr(g.src, "bpf_get_stack)("));
	free(g.src);
	g = generate("tracepoint:syscalls:sys_enter_openat { for ($i : 0..2) { @[len(kstack)] = 1; } }", NULL, 0);
	assert_int_equal(g.r, -TG_EUNSUPPORTED);
	assert_non_null(strstr(g.diag.msg, "builtin \"kstack\" in a for loop"));
	g = generate("tracepoint:syscalls:sys_enter_openat { @[1] = 1; for ($kv : @) { printf(\"%d\", args->flags); } }",
		     NULL, 0);
	assert_int_equal(g.r, -TG_EUNSUPPORTED);
	assert_non_null(strstr(g.diag.msg, "runs without the probe's context"));
	g = generate("BEGIN { @h[1] = hist(1); for ($kv : @h) { } }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	g = generate("BEGIN { @x = 1; for ($kv : @x) { } }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "no keys"));
	g = generate("BEGIN { @x = 1; $n = len(@x); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	/* a for inside any loop: nested, 65536 x 65536 iterations per event */
	g = generate("BEGIN { @m[1] = 1; for ($a : @m) { for ($b : 0..65536) { } } }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_int_equal(g.diag.loc.col, 36);
	assert_non_null(strstr(g.diag.msg, "inside another loop"));
	g = generate("BEGIN { unroll(100) { for ($b : 0..65536) { } } }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	g = generate("BEGIN { $i = 0; while ($i < 2) { $i++; for ($b : 0..65536) { } } }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	g = generate("BEGIN { for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { }"
		     " for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { }"
		     " for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { }"
		     " for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { } for ($a : 0..2) { }"
		     " for ($a : 0..2) { } }", NULL, 0);
	assert_int_equal(g.r, -TG_ELIMIT);
	assert_non_null(strstr(g.diag.msg, "more than 16 in one probe"));
	g = generate("BEGIN { for ($i : 0..2) { } print($i); }", NULL, 0);
	assert_int_equal(g.r, -TG_ETYPE);
	assert_non_null(strstr(g.diag.msg, "not in scope here"));
}

/* reg("NAME") as bpftrace 0.17 (x86-64 pt_regs): kernel, user and perf
 * contexts compile and pass the object verifier; tracepoints, kfuncs and
 * unknown names are refused with bpftrace's messages. */
static void reg_compile_and_verify(void **state)
{
	static const int levels[] = { 2 };
	static const char *const ok[] = {
		"kprobe:vfs_read { @[reg(\"ip\"), reg(\"sp\")] = count(); printf(\"%lx\\n\", reg(\"di\")); }",
		"kretprobe:vfs_read { @ = reg(\"ax\") + reg(\"flags\"); }",
		"profile:hz:99 { @[reg(\"ip\")] = count(); }",
		"uprobe:LIBC:exit { $r = reg(\"r15\") + reg(\"orig_ax\") + reg(\"ss\"); @ = $r; }",
	};
	static const char *const libcs[] = { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
					     "/lib64/libc.so.6" };
	const char *libc = NULL;
	static const struct { const char *prog, *msg; int r; unsigned col; } bad[] = {
		{ "tracepoint:sched:sched_switch { @ = reg(\"ip\"); }",
		  "The reg function cannot be used with 'tracepoint' probes", -TG_ETYPE, 37 },
		{ "kprobe:vfs_read { @ = reg(\"eip\"); }",
		  "'eip' is not a valid register on this architecture (x86_64)", -TG_ETYPE, 27 },
		{ "kprobe:vfs_read { @ = reg(1); }", "reg(): takes one string literal", -TG_ETYPE, 23 },
		{ "kprobe:vfs_read { @ = reg(); }", "reg(): takes one string literal", -TG_ETYPE, 23 },
		{ "BEGIN { @ = reg(\"ip\"); }", "not available in BEGIN probes", -TG_ETYPE, 13 },
		{ "kprobe:vfs_read, tracepoint:sched:sched_switch { @ = reg(\"sp\"); }",
		  "cannot be used with 'tracepoint' probes", -TG_ETYPE, 54 },
		{ "kprobe:vfs_read { @[1] = 1; for ($kv : @) { @x = reg(\"ip\"); } }",
		  "runs without the probe's context", -TG_EUNSUPPORTED, 50 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(libcs) / sizeof(libcs[0]) && !libc; i++)
		if (access(libcs[i], R_OK) == 0)
			libc = libcs[i];
	assert_non_null(libc);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[512];
		const char *at = strstr(ok[i], "LIBC");
		struct gen_out g;

		if (at)
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - ok[i]), ok[i], libc, at + 4);
		else
			snprintf(text, sizeof(text), "%s", ok[i]);
		g = generate(text, levels, 1);

		if (g.r < 0)
			print_message("%s: %u:%u: %s\n", text, g.diag.loc.line, g.diag.loc.col, g.diag.msg);
		assert_int_equal(g.r, 0);
		assert_non_null(strstr(g.src, "((struct tg_pt_regs *)ctx)->"));
		compile_and_verify(g.src);
		free(g.src);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gen_out g = generate(bad[i].prog, NULL, 0);

		if (g.r != bad[i].r || !strstr(g.diag.msg, bad[i].msg) || g.diag.loc.col != bad[i].col)
			fail_msg("%s: got %d %u:%u: %s", bad[i].prog, g.r, g.diag.loc.line, g.diag.loc.col, g.diag.msg);
		free(g.src);
	}
	assert_true(sem_reg_valid("orig_ax"));
	assert_false(sem_reg_valid("rip"));
	assert_false(sem_reg_valid(""));
	assert_false(sem_reg_valid(NULL));
}

/* `probe` of several tracepoints folded into one program is a table of
 * their names, refused when one is too long: at the probe's position
 * (it was 0:0; found by fuzz-runner-sema, whose plan takes tracepoint
 * names from the program text) */
static void probe_name_limit_has_position(void **state)
{
	static const char text[] = "BEGIN { }\n"
				   "tracepoint:syscalls:sys_enter_openat,tracepoint:syscalls:sys_enter_close\n"
				   "{ print(probe); }";
	struct lang_program *prog = NULL;
	struct lang_diag d = { 0 };
	struct cg_opts co = { .sz = sizeof(co), .max_map_entries = 128, .ringbuf_bytes = 4096 };
	struct plan pl;
	struct sem sem;
	char *src = NULL, *name = NULL;
	size_t k;

	(void)state;
	memset(&sem, 0, sizeof(sem));
	assert_int_equal(lang_program_parse(text, strlen(text), &prog, &d), 0);
	assert_int_equal(plan_build(prog, &pl, &d), 0);
	assert_int_equal(sem_analyse(&sem, prog, pl.probe_tp, NULL, 0, &d), 0);
	plan_share(&pl, 1);
	for (k = 0; k < pl.n && pl.progs[k].ntps < 2; k++)
		;
	assert_true(k < pl.n);
	name = calloc(1, 400);
	assert_non_null(name);
	memset(name, 'x', 399);
	free(pl.progs[k].tps[1]);
	pl.progs[k].tps[1] = name;
	assert_int_equal(cg_generate(&sem, &pl, &co, &src, &d), -TG_ELIMIT);
	assert_non_null(strstr(d.msg, "a tracepoint name is too long"));
	assert_int_equal(d.loc.line, 2);
	assert_int_equal(d.loc.col, 1);
	assert_null(src);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
}

static void hist_buckets_match_bpftrace(void **state)
{
	(void)state;
	assert_int_equal(cg_log2_bucket(-1), 0);
	assert_int_equal(cg_log2_bucket(0), 1);
	assert_int_equal(cg_log2_bucket(1), 2);
	assert_int_equal(cg_log2_bucket(3), 3);
	assert_int_equal(cg_log2_bucket(4), 4);
	assert_int_equal(cg_log2_bucket(INT64_MAX), 64);
	/* bpftrace 0.2x's hist(v, k), its worked example (codegen_llvm.cpp):
	 * k = 2, v = 225 (0b11100001) is 1 + concat(0b110, 0b11) = 28 */
	assert_int_equal(cg_log2k_bucket(225, 2), 28);
	for (int64_t v = -3; v < 5000; v++)
		assert_int_equal(cg_log2k_bucket(v, 0), cg_log2_bucket(v));
	assert_int_equal(cg_log2k_bucket(-1, 3), 0);
	assert_int_equal(cg_log2k_bucket(0, 3), 1);
	assert_int_equal(cg_log2k_bucket(7, 3), 8);       /* 0..2^k-1: v + 1 */
	assert_int_equal(cg_log2k_bucket(8, 3), 9);
	assert_int_equal(cg_log2k_bucket(15, 3), 16);
	assert_int_equal(cg_log2k_bucket(16, 3), 17);     /* [16, 18) */
	assert_int_equal(cg_log2k_bucket(17, 3), 17);
	assert_int_equal(cg_hist_buckets(5), 1889);
	assert_int_equal(cg_log2k_bucket(INT64_MAX, 5) + 1, 1889);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unsupported_names_line_and_column),
		cmocka_unit_test(type_errors),
		cmocka_unit_test(prologue_first_in_every_probe),
		cmocka_unit_test(scope_precheck_and_stack_keys),
		cmocka_unit_test(compiles_and_verifies),
		cmocka_unit_test(probe_name_limit_has_position),
		cmocka_unit_test(hist_buckets_match_bpftrace),
		cmocka_unit_test(text_values_compile_and_verify),
		cmocka_unit_test(text_value_type_errors),
		cmocka_unit_test(tuples_compile_and_verify),
		cmocka_unit_test(tuple_limits_and_errors),
		cmocka_unit_test(tuple_struct_values),
		cmocka_unit_test(string_sizes_bounded),
		cmocka_unit_test(struct_values_stored),
		cmocka_unit_test(for_len_compile_and_verify),
		cmocka_unit_test(reg_compile_and_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
