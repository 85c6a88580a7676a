// SPDX-License-Identifier: Apache-2.0
/*
 * The program's directives, macros and definitions are the front end's
 * (lang/preproc.h, macro.h, cdecl.h): every directive other than the
 * supported ones is refused with its line and column, macros expand on
 * tokens within limits, and definitions print back only what was parsed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errors.h"
#include "lang/ast.h"
#include "lang/cdecl.h"
#include "lang/macro.h"
#include "lang/preproc.h"

static char *canon(const char *src)
{
	struct lang_program *p = NULL;
	struct lang_diag d;
	char *out = NULL;

	if (lang_program_parse(src, strlen(src), &p, &d) < 0)
		fail_msg("%s: %u:%u %s", src, d.loc.line, d.loc.col, d.msg);
	assert_int_equal(lang_program_print(p, &out), 0);
	lang_program_free(p);
	return out;
}

/* src fails with code at line:col and a message containing want */
static void refused(const char *src, int code, unsigned line, unsigned col, const char *want)
{
	struct lang_program *p = NULL;
	struct lang_diag d;
	int r = lang_program_parse(src, strlen(src), &p, &d);

	if (r >= 0)
		fail_msg("%s: accepted", src);
	if (r != code || d.loc.line != line || d.loc.col != col || !strstr(d.msg, want))
		fail_msg("%s: got %d at %u:%u \"%s\", want %d at %u:%u \"%s\"", src, r, d.loc.line, d.loc.col,
			 d.msg, code, line, col, want);
	assert_null(p);
}

static void test_directives_refused(void **state)
{
	static const char *const names[] = {
		"import \"/etc/shadow\"", "pragma once", "line 1 \"x\"", "error x", "warning x",
		"include_next <stdio.h>", "ident \"x\"", "sccs \"x\"", "assert x(y)", "unassert x",
		"embed \"/dev/zero\"", "IMPORT <x>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char src[128];

		snprintf(src, sizeof(src), "BEGIN { }\n");
		snprintf(src, sizeof(src), "// a comment\n  #%s\nBEGIN { }", names[i]);
		refused(src, -TG_EUNSUPPORTED, 2, 3, "is not supported");
	}
	refused("# 1 \"/etc/shadow\"\nBEGIN { }", -TG_EPARSE, 1, 3, "must start a directive");
	refused("#\nBEGIN { }", -TG_EPARSE, 1, 2, "must start a directive");
	/* a directive after the first probe is not a preamble */
	refused("BEGIN { }\n#define X 1\nEND { }", -TG_EPARSE, 2, 1, "must come before the first probe");
}

static void test_include_names(void **state)
{
	char *out;

	(void)state;
	refused("#include </etc/shadow>\nBEGIN { }", -TG_EPARSE, 1, 11, "not a header name");
	refused("#include \"../../etc/passwd\"\nBEGIN { }", -TG_EPARSE, 1, 11, "not a header name");
	refused("#include <linux/./sched.h>\nBEGIN { }", -TG_EPARSE, 1, 11, "not a header name");
	refused("#include <linux//sched.h>\nBEGIN { }", -TG_EPARSE, 1, 11, "not a header name");
	refused("#include <a b.h>\nBEGIN { }", -TG_EPARSE, 1, 11, "not a header name");
	refused("#include <a\\\nb.h>\nBEGIN { }", -TG_EPARSE, 1, 10, "not closed");
	refused("#define H <linux/sched.h>\n#include H\nBEGIN { }", -TG_EPARSE, 2, 10, "expected <name.h>");
	refused("#include <x.h> y\nBEGIN { }", -TG_EPARSE, 1, 16, "unexpected text");
	out = canon("#include <linux/sched.h> // why\n#include \"sys/socket.h\"\nBEGIN { }");
	assert_string_equal(out, "#include <linux/sched.h>\n#include \"sys/socket.h\"\n\nBEGIN\n{\n}\n");
	free(out);
	assert_true(lang_include_name_ok("linux/sched.h", false));
	assert_true(lang_include_name_ok("c++/12/x.h", false));
	assert_false(lang_include_name_ok("linux/*.h", false));
	assert_true(lang_include_name_ok("linux/*.h", true));
	assert_false(lang_include_name_ok("..", true));
	assert_false(lang_include_name_ok("a/..", true));
	assert_false(lang_include_name_ok("/x", true));
}

static void test_conditionals(void **state)
{
	char *out;

	(void)state;
	out = canon("#ifdef BPFTRACE_HAVE_BTF\n#define A 1\n#elif 1\n#define A 2\n#else\n#define A 3\n#endif\n"
		    "#ifndef A\n#error never read\n#endif\n"
		    "#if 0\n#import \"/etc/shadow\"\n#if 1\n#define A 4\n#endif\n#endif\n"
		    "#if !defined(B) && (A == 1 || A > 7)\n#define B 5\n#endif\n"
		    "BEGIN { @ = A + B }");
	assert_string_equal(out, "BEGIN\n{\n\t@ = 1 + 5;\n}\n");
	free(out);
	/* a definition in a dead branch is skipped, not parsed */
	out = canon("#ifndef BPFTRACE_HAVE_BTF\nstruct sock { \"junk\" };\n#endif\nBEGIN { }");
	assert_string_equal(out, "BEGIN\n{\n}\n");
	free(out);
	refused("#if 1\nBEGIN { }", -TG_EPARSE, 1, 1, "not closed by #endif");
	refused("#endif\nBEGIN { }", -TG_EPARSE, 1, 1, "#endif without #if");
	refused("#if 1\n#else\n#else\n#endif\nBEGIN { }", -TG_EPARSE, 3, 1, "#else after #else");
	refused("#if\n#endif\nBEGIN { }", -TG_EPARSE, 1, 4, "no condition");
	refused("#if 1 +\n#endif\nBEGIN { }", -TG_EPARSE, 1, 4, "expected a number");
	refused("#ifdef\n#endif\nBEGIN { }", -TG_EPARSE, 1, 7, "expected a macro name");
	refused("#ifdef A junk\n#endif\nBEGIN { }", -TG_EPARSE, 1, 10, "unexpected text");
	{
		char src[4096] = "";

		for (int i = 0; i < TG_MAX_IF_DEPTH + 1; i++)
			strcat(src, "#if 1\n");
		strcat(src, "BEGIN { }");
		refused(src, -TG_ELIMIT, TG_MAX_IF_DEPTH + 1, 1, "nested more than");
	}
}

static void test_macros(void **state)
{
	char *out;

	(void)state;
	out = canon("#define N 16\n#define SQ(x) ((x) * (x))\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"
		    "#define PID pid\n#define SELF SELF + 1\n#define F F\n"
		    "BEGIN { @[PID] = MAX(SQ(N), 3); @s = SELF; $F = 1; @c = F; }");
	assert_string_equal(out, "BEGIN\n{\n\t@[pid] = 16 * 16 > 3 ? 16 * 16 : 3;\n"
				 "\t@s = SELF + 1;\n\t$F = 1;\n\t@c = F;\n}\n");
	free(out);
	/* a function-like name without "(" stays a name; continuation lines */
	out = canon("#define G(x) x\n#define LONG 1 + \\\n 2\nBEGIN { @ = LONG; @g = G; }");
	assert_string_equal(out, "BEGIN\n{\n\t@ = 1 + 2;\n\t@g = G;\n}\n");
	free(out);
	refused("#define S(x) #x\nBEGIN { }", -TG_EUNSUPPORTED, 1, 14, "\"#\" and \"##\" are not supported");
	refused("#define C(a, b) a ## b\nBEGIN { }", -TG_EUNSUPPORTED, 1, 19, "not supported");
	refused("#define V(...) 1\nBEGIN { }", -TG_EUNSUPPORTED, 1, 11, "variadic");
	refused("#define M(a, a) a\nBEGIN { }", -TG_EPARSE, 1, 14, "given twice");
	refused("#define M(a) a\nBEGIN { @ = M(1, 2) }", -TG_EPARSE, 2, 13, "takes 1 argument, 2 given");
	refused("#define M(a) a\nBEGIN { @ = M(1 }", -TG_EPARSE, 2, 13, "not closed");
	/* doubling ten times a thousand tokens: a limit, not a hang */
	{
		char src[8192];
		int n = snprintf(src, sizeof(src), "#define A0 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");

		for (int i = 1; i < 12; i++)
			n += snprintf(src + n, sizeof(src) - (size_t)n, "#define A%d A%d,A%d,A%d,A%d\n", i, i - 1,
				      i - 1, i - 1, i - 1);
		snprintf(src + n, sizeof(src) - (size_t)n, "BEGIN { print((A11)) }");
		refused(src, -TG_ELIMIT, 13, 16, "TG_MAX_MACRO_EXPANSION");
	}
	/* an expansion cannot make an attach point */
	refused("#define P } END {\nBEGIN { P }", -TG_EPARSE, 2, 9, "");
}

static void test_definitions(void **state)
{
	char *out;

	(void)state;
	out = canon("#define W 6\nstruct MyStruct { const char* a; char mac[W]; uint8_t c[4]; int d[2][2];"
		    " struct task_struct *t; volatile unsigned long x : 3, y : 5; void (*cb)(int, char *);"
		    " union { int u; long v; }; struct N { int z; } *n; };\n"
		    "enum e { A = -1, B, C = 0x10, };\nunion U { int a; struct MyStruct s; }\nBEGIN { }");
	assert_string_equal(out,
		"struct N {\n\tint z;\n};\n"
		"struct MyStruct {\n\tconst char *a;\n\tchar mac[6];\n\tuint8_t c[4];\n\tint d[2][2];\n"
		"\tstruct task_struct *t;\n\tunsigned long x : 3;\n\tunsigned long y : 5;\n\tvoid *cb;\n"
		"\tunion {\n\t\tint u;\n\t\tlong v;\n\t};\n\tstruct N *n;\n};\n"
		"enum e {\n\tA = -1,\n\tB,\n\tC = 16,\n};\n"
		"union U {\n\tint a;\n\tstruct MyStruct s;\n};\n\nBEGIN\n{\n}\n");
	free(out);
	/* bpftrace's own tests write a missing ";" before "}" */
	out = canon("struct x {unsigned long x}; BEGIN { }");
	assert_string_equal(out, "struct x {\n\tunsigned long x;\n};\n\nBEGIN\n{\n}\n");
	free(out);
	/* nothing but types, names and numbers */
	refused("struct X {\n  int a; __attribute__((packed)) int b; } BEGIN { }", -TG_EPARSE, 2, 10,
		"not supported in a definition");
	refused("struct X { int _Pragma; } BEGIN { }", -TG_EPARSE, 1, 16, "C keyword or compiler name");
	refused("struct X { int a = 1; } BEGIN { }", -TG_EPARSE, 1, 18, "expected \";\"");
	refused("struct X { char s[\"/etc/shadow\"]; } BEGIN { }", -TG_EPARSE, 1, 19, "not valid in a definition");
	refused("struct X { int a; } #include <x> BEGIN { }", -TG_EPARSE, 1, 34, "unexpected text");
	refused("struct X { int a[0]; } BEGIN { }", -TG_ELIMIT, 1, 18, "array size 0");
	refused("struct X { int a[99999999999]; } BEGIN { }", -TG_ELIMIT, 1, 18, "array size");
	refused("struct X { int a : 65; } BEGIN { }", -TG_EPARSE, 1, 20, "bit-field");
	refused("struct X; BEGIN { }", -TG_EPARSE, 1, 9, "");
	refused("struct X { int a; } y; BEGIN { }", -TG_EPARSE, 1, 21, "probe type");
	refused("enum E { } BEGIN { }", -TG_EPARSE, 1, 10, "at least one enumerator");
	refused("struct X { struct { int a; } } BEGIN { }", -TG_EPARSE, 1, 30, "");
	/* deep recursion in definitions: bounded */
	{
		char src[4096] = "struct X { ";

		for (int i = 0; i < TG_MAX_CDEF_DEPTH + 1; i++)
			strcat(src, "struct { ");
		strcat(src, "int a; ");
		for (int i = 0; i < TG_MAX_CDEF_DEPTH + 1; i++)
			strcat(src, "} m; ");
		strcat(src, "} BEGIN { }");
		refused(src, -TG_ELIMIT, 1, 10 + 9 * TG_MAX_CDEF_DEPTH, "TG_MAX_CDEF_DEPTH");
	}
	assert_true(lang_cdecl_reserved("__builtin_trap"));
	assert_true(lang_cdecl_reserved("__attribute__"));
	assert_false(lang_cdecl_reserved("__sk_common"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives_refused),
		cmocka_unit_test(test_include_names),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_definitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
