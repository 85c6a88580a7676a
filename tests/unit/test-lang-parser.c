// SPDX-License-Identifier: Apache-2.0
/*
 * The parser: every construct's tree, every error with its line:column,
 * the limits, the canonical printer, and the round trip of the 38 tools
 * Debian ships plus every PROG of bpftrace's selected runtime tests.
 */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/buf.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/ast.h"

/* ---- helpers ------------------------------------------------------------ */

/* An S-expression of a tree, to check shape and precedence. */
static void sexpr(struct buf *b, const struct lang_node *n)
{
	switch (n->kind) {
	case TG_N_INT:
		buf_printf(b, "%llu", (unsigned long long)n->u64);
		return;
	case TG_N_STR:
		buf_printf(b, "\"%s\"", n->str);
		return;
	case TG_N_BUILTIN: case TG_N_VAR: case TG_N_IDENT:
		buf_adds(b, n->str);
		return;
	case TG_N_POSPARAM:
		buf_printf(b, "$%llu", (unsigned long long)n->u64);
		return;
	case TG_N_MAP:
		if (n->nkids == 0) {
			buf_adds(b, n->str);
			return;
		}
		break;
	default:
		break;
	}
	buf_addc(b, '(');
	switch (n->kind) {
	case TG_N_BINOP: case TG_N_UNOP: case TG_N_INCDEC:
		buf_printf(b, "%s%s", n->kind == TG_N_INCDEC && (n->op == TG_OP_POSTINC || n->op == TG_OP_POSTDEC) ? "post" : "",
			   lang_op_str(n->op));
		break;
	case TG_N_FIELD:
		buf_printf(b, "%s%s", lang_op_str(n->op), n->str);
		if (n->flags & TG_F_TUPLE_INDEX)
			buf_adds(b, "#");
		break;
	case TG_N_ASSIGN:
		buf_printf(b, "%s=", lang_op_str(n->op));
		break;
	case TG_N_CAST:
		buf_printf(b, "cast %s", n->str);
		break;
	case TG_N_MAP: case TG_N_CALL:
		buf_adds(b, n->str);
		break;
	case TG_N_UNROLL:
		buf_printf(b, "unroll %llu", (unsigned long long)n->u64);
		break;
	default:
		buf_adds(b, lang_node_kind_str(n->kind));
	}
	for (size_t i = 0; i < n->nkids; i++) {
		buf_addc(b, ' ');
		sexpr(b, n->kids[i]);
	}
	buf_addc(b, ')');
}

static struct lang_program *parse_ok(const char *src)
{
	struct lang_program *p = NULL;
	struct lang_diag d;
	int r = lang_program_parse(src, strlen(src), &p, &d);

	if (r < 0)
		fail_msg("%s: %u:%u: %s (%d)", src, d.loc.line, d.loc.col, d.msg, r);
	return p;
}

/* The body of the first probe as an S-expression. */
static void check_tree(const char *src, const char *want)
{
	struct lang_program *p = parse_ok(src);
	struct buf b = BUF_INIT(0);

	sexpr(&b, p->probes[0].body);
	if (strcmp(b.s, want) != 0)
		fail_msg("%s:\n got  %s\n want %s", src, b.s, want);
	buf_release(&b);
	lang_program_free(p);
}

static void check_error(const char *src, int code, uint32_t line, uint32_t col, const char *msg)
{
	struct lang_program *p = NULL;
	struct lang_diag d;
	int r = lang_program_parse(src, strlen(src), &p, &d);

	if (r != code)
		fail_msg("%s: got %d, want %d (%s)", src, r, code, d.msg);
	assert_null(p);
	if (strcmp(d.msg, msg) != 0)
		fail_msg("%s:\n message \"%s\"\n want    \"%s\"", src, d.msg, msg);
	if (d.loc.line != line || d.loc.col != col)
		fail_msg("%s: at %u:%u, want %u:%u", src, d.loc.line, d.loc.col, line, col);
}

/* print -> parse -> print must be a fixed point; returns the canonical text. */
static char *round_trip(const char *name, const char *src, size_t len)
{
	struct lang_program *p = NULL, *q = NULL;
	struct lang_diag d;
	char *a = NULL, *b = NULL;
	int r = lang_program_parse(src, len, &p, &d);

	if (r < 0) {
		char *f = NULL;

		lang_diag_format(&d, name, src, len, &f);
		fail_msg("%s does not parse:\n%s", name, f);
	}
	assert_int_equal(lang_program_print(p, &a), 0);
	r = lang_program_parse(a, strlen(a), &q, &d);
	if (r < 0)
		fail_msg("%s: canonical form does not parse: %u:%u %s\n%s", name, d.loc.line, d.loc.col, d.msg, a);
	assert_int_equal(lang_program_print(q, &b), 0);
	if (strcmp(a, b) != 0)
		fail_msg("%s: canonical form is not stable:\n%s\n---\n%s", name, a, b);
	lang_program_free(p);
	lang_program_free(q);
	free(b);
	return a;
}

/* ---- positional parameters: tokens of the parse ---------------------------- */

static int parse_p(const char *src, const char *const *params, size_t n, struct lang_program **ret,
		   struct lang_diag *d)
{
	struct lang_parse_opts po = { .sz = sizeof(po), .params = params, .nparams = n };

	return lang_program_parse_opts(src, strlen(src), &po, ret, d);
}

static void test_params_attach_tokens(void **state)
{
	static const char *const p[] = { "5", "IN" };
	struct lang_program *prog = NULL;
	struct lang_diag d;
	char *text = NULL;

	(void)state;
	/* an attach point takes the value; predicates, bodies, strings and
	 * comments keep $N (an expression there, a value the program carries) */
	assert_int_equal(parse_p("i:ms:$1 /$1 == 5/ { printf(\"$1 %d\\n\", $1); } // $2\nBEG$2 { exit(); }",
				 p, 2, &prog, &d), 0);
	assert_int_equal(prog->nprobes, 2);
	assert_string_equal(prog->probes[0].attach[0].raw, "interval:ms:5");
	assert_int_equal(prog->probes[0].attach[0].freq, 5);
	assert_int_equal(prog->probes[0].pred->kids[0]->kind, TG_N_POSPARAM);
	assert_string_equal(prog->probes[1].attach[0].type, "BEGIN");
	assert_int_equal(prog->nparams, 2);
	assert_int_equal(lang_program_print(prog, &text), 0);
	assert_non_null(strstr(text, "interval:ms:5\n/$1 == 5/\n"));
	assert_non_null(strstr(text, "\n// $1 = \"5\"\n// $2 = \"IN\"\n"));
	free(text);
	lang_program_free(prog);

	/* a path is one component: slashes stay inside it, even "//" (the
	 * lexer never reads the value again, and prints it back as a path run) */
	{
		static const char *const c[] = { "a//b" };

		assert_int_equal(parse_p("uprobe:$1:f { }", c, 1, &prog, &d), 0);
		assert_string_equal(prog->probes[0].attach[0].target, "a//b");
		assert_int_equal(lang_program_print(prog, &text), 0);
		lang_program_free(prog);
		assert_int_equal(parse_p(text, c, 1, &prog, &d), 0);
		assert_string_equal(prog->probes[0].attach[0].target, "a//b");
		free(text);
		lang_program_free(prog);
	}
	/* a path is one component */
	{
		static const char *const u[] = { "/usr/bin/bash" };

		assert_int_equal(parse_p("uprobe:$1:readline { }", u, 1, &prog, &d), 0);
		assert_string_equal(prog->probes[0].attach[0].target, "/usr/bin/bash");
		assert_string_equal(prog->probes[0].attach[0].func, "readline");
		lang_program_free(prog);
	}
	/* a glob is one component */
	{
		static const char *const g[] = { "sys_enter_[oa]*" };

		assert_int_equal(parse_p("tracepoint:syscalls:$1 { }", g, 1, &prog, &d), 0);
		assert_string_equal(prog->probes[0].attach[0].func, "sys_enter_[oa]*");
		lang_program_free(prog);
	}
}

static void test_params_cannot_add_code(void **state)
{
	/* issue 7: a parameter that would add probes and bodies the policy never saw */
	static const char *const attack[] = {
		"sys_enter_openat { printf(\"%llx\\n\", (uint64)curtask); } BEGIN { exit(); } "
		"tracepoint:syscalls:sys_enter_nanosleep",
		"sys_enter_openat,kprobe:vfs_read",        /* a second attach point */
		"sys_enter_openat:x",                      /* another component */
		"sys_enter_openat /pid == 1/",             /* a predicate */
		"sys_enter_openat{",                        /* a brace */
		"sys_enter_$2",                             /* a parameter in a parameter */
		"a\"b",                                     /* a quote */
		"a\nb",                                     /* a line */
		"x /pid/",                                  /* a blank */
		"a+16",                                     /* an offset */
		"",                                         /* nothing */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(attack) / sizeof(attack[0]); i++) {
		const char *const pv[] = { attack[i], "x" };
		struct lang_program *prog = NULL;
		struct lang_diag d;

		assert_int_equal(parse_p("BEGIN { }\ntracepoint:syscalls:$1 { @ = count(); }", pv, 2, &prog, &d),
				 -TG_EPARSE);
		assert_null(prog);
		assert_int_equal(d.loc.line, 2);
		assert_int_equal(d.loc.col, 21);
		assert_non_null(strstr(d.msg, "\"$1\""));
	}
}

static void test_params_missing_and_limits(void **state)
{
	static const char *const p[] = { "1" };
	struct lang_program *prog = NULL;
	struct lang_diag d;
	const char *many[TG_MAX_PARAMS + 1];
	char *big = malloc(TG_MAX_PARAM_BYTES + 2);

	(void)state;
	assert_int_equal(parse_p("BEGIN {}\ni:s:$3 {}", p, 1, &prog, &d), -TG_EPARSE);
	assert_int_equal(d.loc.line, 2);
	assert_int_equal(d.loc.col, 5);
	assert_non_null(strstr(d.msg, "\"$3\" is not given (1 given)"));
	/* without parameters, $1 in an attach point is not given either */
	assert_int_equal(lang_program_parse("i:s:$1 {}", 9, &prog, &d), -TG_EPARSE);
	for (size_t i = 0; i <= TG_MAX_PARAMS; i++)
		many[i] = "1";
	assert_int_equal(parse_p("BEGIN {}", many, TG_MAX_PARAMS + 1, &prog, &d), -TG_ELIMIT);
	assert_non_null(big);
	memset(big, 'a', TG_MAX_PARAM_BYTES + 1);
	big[TG_MAX_PARAM_BYTES + 1] = '\0';
	many[0] = big;
	assert_int_equal(parse_p("BEGIN {}", many, 1, &prog, &d), -TG_ELIMIT);
	free(big);
}

static void test_params_canonical(void **state)
{
	static const char *const a[] = { "sys_enter_openat", "x\"y\n" };
	static const char *const b[] = { "sys_enter_openat", "x\"y" };
	struct lang_program *pa = NULL, *pb = NULL, *pc = NULL;
	struct lang_diag d;
	char *ta = NULL, *tb = NULL, *tc = NULL, ha[65], hb[65], hc[65];
	const char *src = "tracepoint:syscalls:$1 { printf(\"%s\\n\", str($2)); }";

	(void)state;
	assert_int_equal(parse_p(src, a, 2, &pa, &d), 0);
	assert_int_equal(parse_p(src, b, 2, &pb, &d), 0);
	assert_int_equal(lang_program_canonical(pa, &ta, ha), 0);
	assert_int_equal(lang_program_canonical(pb, &tb, hb), 0);
	/* the parameters are part of the form: different values, different hash;
	 * a value can never end its line */
	assert_string_not_equal(ha, hb);
	assert_non_null(strstr(ta, "// $2 = \"x\\\"y\\u000a\"\n"));
	assert_null(strstr(ta, "$1 {"));
	/* the canonical text parses back, with the same parameters, to itself */
	assert_int_equal(parse_p(ta, a, 2, &pc, &d), 0);
	assert_int_equal(lang_program_canonical(pc, &tc, hc), 0);
	assert_string_equal(ta, tc);
	assert_string_equal(ha, hc);
	lang_program_free(pa);
	lang_program_free(pb);
	lang_program_free(pc);
	free(ta);
	free(tb);
	free(tc);
}

/* ---- constructs ----------------------------------------------------------- */

static void test_precedence(void **state)
{
	check_tree("BEGIN { 1 + 2 * 3 }", "(block (expression statement (+ 1 (* 2 3))))");
	check_tree("BEGIN { 1 - 2 - 3 }", "(block (expression statement (- (- 1 2) 3)))");
	check_tree("BEGIN { 1 || 2 && 3 | 4 ^ 5 & 6 == 7 < 8 << 9 + 10 * 11 }",
		   "(block (expression statement (|| 1 (&& 2 (| 3 (^ 4 (& 5 (== 6 (< 7 (<< 8 (+ 9 (* 10 11))))))))))))");
	check_tree("BEGIN { a != b >= c > d <= e >> f % g / h }",
		   "(block (expression statement (!= a (<= (> (>= b c) d) (>> e (/ (% f g) h))))))");
	check_tree("BEGIN { $a ? 1 : $b ? 2 : 3 }",
		   "(block (expression statement (conditional expression $a 1 (conditional expression $b 2 3))))");
	check_tree("BEGIN { -1 - -2 }", "(block (expression statement (- (- 1) (- 2))))");
	check_tree("BEGIN { !~*&x }", "(block (expression statement (! (~ (* (& x))))))");
	check_tree("BEGIN { (uint8)-10 + (struct Foo *)0 }",
		   "(block (expression statement (+ (cast uint8 (- 10)) (cast struct Foo * 0))))");
	check_tree("BEGIN { (int8 **)$p }", "(block (expression statement (cast int8 ** $p)))");
	check_tree("BEGIN { (uint32)*$p.x }", "(block (expression statement (cast uint32 (* (.x $p)))))");
}

static void test_postfix_and_primary(void **state)
{
	check_tree("BEGIN { args->filename }", "(block (expression statement (->filename args)))");
	check_tree("BEGIN { $t.0.1 }", "(block (expression statement (.1# (.0# $t))))");
	check_tree("BEGIN { @x[1, \"a\"][2]->comm.pid }",
		   "(block (expression statement (.pid (->comm (index (@x 1 \"a\") 2)))))");
	check_tree("BEGIN { (1, (2, 3)) }", "(block (expression statement (tuple 1 (tuple 2 3))))");
	check_tree("BEGIN { printf(\"%d\", sizeof(struct Foo)) }",
		   "(block (expression statement (printf \"%d\" (sizeof struct Foo))))");
	check_tree("BEGIN { kstack; kstack(perf, 3); ustack(bpftrace) }",
		   "(block (expression statement kstack) (expression statement (kstack perf 3)) (expression statement (ustack bpftrace)))");
	check_tree("BEGIN { $1 + $# + @ + AF_INET + arg9 }",
		   "(block (expression statement (+ (+ (+ (+ $1 $0) @) AF_INET) arg9)))");
	check_tree("BEGIN { exit() }", "(block (expression statement (exit)))");
	check_tree("BEGIN { 0x10 + 1_000 + 1e3 }", "(block (expression statement (+ (+ 16 1000) 1000)))");

	struct lang_program *p = parse_ok("BEGIN { \"a\\0b\"; 0x1f; kstack(perf) }");
	const struct lang_node *s = p->probes[0].body->kids[0]->kids[0];
	assert_int_equal(s->kind, TG_N_STR);
	assert_int_equal(s->u64, 3);
	assert_memory_equal(s->str, "a\0b", 3);
	assert_true(p->probes[0].body->kids[1]->kids[0]->flags & TG_F_HEX);
	assert_true(p->probes[0].body->kids[2]->kids[0]->kids[0]->flags & TG_F_STACK_MODE);
	assert_int_equal(s->loc.line, 1);
	assert_int_equal(s->loc.col, 9);
	lang_program_free(p);
}

static void test_statements(void **state)
{
	check_tree("BEGIN { $a = 1; @b[1] += 2; $c -= 1; $c *= 2; $c /= 2; $c %= 2; $c &= 1; $c |= 1; $c ^= 1; $c <<= 1; $c >>= 1 }",
		   "(block (= $a 1) (+= (@b 1) 2) (-= $c 1) (*= $c 2) (/= $c 2) (%= $c 2) (&= $c 1) (|= $c 1) (^= $c 1) (<<= $c 1) (>>= $c 1))");
	check_tree("BEGIN { $x++; ++$x; @y--; --@y[1] }",
		   "(block (expression statement (post++ $x)) (expression statement (++ $x)) (expression statement (post-- @y)) (expression statement (-- (@y 1))))");
	check_tree("BEGIN { if ($a) { 1 } else if ($b) { 2 } else { 3 } 4 }",
		   "(block (if $a (block (expression statement 1)) (if $b (block (expression statement 2)) (block (expression statement 3)))) (expression statement 4))");
	check_tree("BEGIN { unroll(3) { break; continue; return } while ($i < 3) { $i++ } }",
		   "(block (unroll 3 (block (break) (continue) (return))) (while (< $i 3) (block (expression statement (post++ $i)))))");
	check_tree("BEGIN { unroll($2) {} }", "(block (unroll 0 (block) $2))");
	check_tree("BEGIN { }", "(block)");
	check_tree("BEGIN { 1; }", "(block (expression statement 1))");
}

static void test_probes(void **state)
{
	struct lang_program *p = parse_ok(
		"#include <linux/sched.h>\n"
		"#ifndef X\n"
		"struct Foo { int x; }\n"
		"#endif\n"
		"union U { int a; };\n"
		"t:syscalls:sys_enter_openat, k:vfs_read+16, kr:vfs_read, u:/bin/bash:readline, ur:/bin/bash:0x10,\n"
		"U:/bin/x:prov:probe, U:/bin/x:probe, i:ms:100, p:hz:99, s:cpu-clock, h:cache-misses:1000,\n"
		"BEGIN, END, f:kvm:x86_emulate_insn, fr:vfs_read, it:task, uprobe:\"/a b\":\"f\"+0, s:faults:*,\n"
		"tracepoint:sched_*\n"
		"/pid == 1 / { }");
	const struct lang_attach *a = p->probes[0].attach;

	/* the front end evaluated #ifndef (X is not defined) and printed the
	 * definitions back from what it parsed */
	assert_int_equal(p->nincludes, 1);
	assert_string_equal(p->includes[0].name, "linux/sched.h");
	assert_false(p->includes[0].quoted);
	assert_int_equal(p->ncdefs, 2);
	assert_string_equal(p->cdefs[0].name, "struct Foo");
	assert_string_equal(p->cdefs[0].text, "struct Foo {\n\tint x;\n};\n");
	assert_string_equal(p->cdefs[1].name, "union U");
	assert_string_equal(p->cdefs[1].text, "union U {\n\tint a;\n};\n");
	assert_int_equal(p->cdefs[1].loc.line, 5);
	assert_string_equal(p->preamble, "struct Foo {\n\tint x;\n};\nunion U {\n\tint a;\n};\n");
	assert_int_equal(p->probes[0].nattach, 19);
	assert_string_equal(a[0].type, "tracepoint");
	assert_string_equal(a[0].target, "syscalls");
	assert_string_equal(a[0].func, "sys_enter_openat");
	assert_string_equal(a[0].raw, "tracepoint:syscalls:sys_enter_openat");
	assert_string_equal(a[1].type, "kprobe");
	assert_null(a[1].target);
	assert_string_equal(a[1].func, "vfs_read");
	assert_int_equal(a[1].offset, 16);
	assert_string_equal(a[2].type, "kretprobe");
	assert_string_equal(a[3].target, "/bin/bash");
	assert_string_equal(a[3].func, "readline");
	assert_string_equal(a[4].type, "uretprobe");
	assert_null(a[4].func);
	assert_int_equal(a[4].address, 16);
	assert_string_equal(a[5].type, "usdt");
	assert_string_equal(a[5].ns, "prov");
	assert_string_equal(a[5].func, "probe");
	assert_null(a[6].ns);
	assert_string_equal(a[7].type, "interval");
	assert_string_equal(a[7].target, "ms");
	assert_int_equal(a[7].freq, 100);
	assert_string_equal(a[8].type, "profile");
	assert_int_equal(a[8].freq, 99);
	assert_string_equal(a[9].type, "software");
	assert_int_equal(a[9].freq, 0);
	assert_string_equal(a[10].type, "hardware");
	assert_int_equal(a[10].freq, 1000);
	assert_string_equal(a[11].type, "BEGIN");
	assert_null(a[11].target);
	assert_null(a[11].func);
	assert_string_equal(a[12].type, "END");
	assert_string_equal(a[13].type, "kfunc");
	assert_string_equal(a[13].target, "kvm");
	assert_string_equal(a[14].type, "kretfunc");
	assert_null(a[14].target);
	assert_string_equal(a[15].type, "iter");
	assert_string_equal(a[15].func, "task");
	assert_string_equal(a[16].target, "/a b");
	assert_string_equal(a[16].func, "f");
	assert_string_equal(a[16].raw, "uprobe:\"/a b\":\"f\"+0");
	assert_string_equal(a[17].raw, "software:faults:*");
	assert_string_equal(a[18].target, "*");
	assert_string_equal(a[18].func, "sched_*");
	assert_int_equal(a[18].loc.line, 9);
	assert_int_equal(a[18].loc.col, 1);
	assert_non_null(p->probes[0].pred);
	lang_program_free(p);

	p = parse_ok("BEGIN { } END { }\ninterval:s:1 { exit() }");
	assert_int_equal(p->nprobes, 3);
	assert_int_equal(p->probes[2].loc.line, 2);
	assert_null(p->probes[0].pred);
	lang_program_free(p);

	/* quoted parts keep their bytes through the re-quoted raw text */
	static const char quoted[] = "uprobe:\"/a\\nb\\t\\001\\\"q\\\\\":f { }";
	p = parse_ok(quoted);
	assert_string_equal(p->probes[0].attach[0].target, "/a\nb\t\001\"q\\");
	assert_string_equal(p->probes[0].attach[0].raw, "uprobe:\"/a\\nb\\t\\001\\\"q\\\\\":f");
	free(round_trip("quoted", quoted, strlen(quoted)));
	lang_program_free(p);
	check_error("uprobe:\"a\\0\":f { }", -TG_EPARSE, 1, 8, "string in attach point contains a NUL byte");

	/* bytes outside valid UTF-8 (\xff, a cut \xc3) are escaped in the
	 * canonical form, which travels in JSON (the runner's request, the
	 * audit record); valid UTF-8 stays as written */
	{
		static const char bytes[] = "uprobe:\"/b\\xff\":f { printf(\"x\\xffy\\xc3\\n\"); @[\"\\xfe\"] = \"\xc3\xa9\"; }";
		char *canon = round_trip("bytes", bytes, strlen(bytes));

		for (size_t i = 0, n; canon[i]; i += n) {
			n = utf8_valid_len((const unsigned char *)canon + i, strlen(canon + i));
			if (!n)
				fail_msg("canonical form is not valid UTF-8 at byte %zu:\n%s", i, canon);
		}
		assert_non_null(strstr(canon, "uprobe:\"/b\\377\":f"));
		assert_non_null(strstr(canon, "printf(\"x\\377y\\303\\n\")"));
		assert_non_null(strstr(canon, "@[\"\\376\"] = \"\xc3\xa9\""));
		free(canon);
	}

	p = parse_ok("BEGIN:* { }");
	assert_string_equal(p->probes[0].attach[0].raw, "BEGIN:*");
	assert_null(p->probes[0].attach[0].func);
	lang_program_free(p);

	/* a trailing comma, as bpftrace allows */
	p = parse_ok("BEGIN, { }");
	assert_int_equal(p->probes[0].nattach, 1);
	lang_program_free(p);
}

/* ---- errors ------------------------------------------------------------------- */

static void test_syntax_errors(void **state)
{
	check_error("", -TG_EPARSE, 1, 1, "unexpected end of file, expected a probe");
	check_error("// nothing\n", -TG_EPARSE, 2, 1, "unexpected end of file, expected a probe");
	check_error("BEGIN", -TG_EPARSE, 1, 6,
		    "unexpected end of file after attach point \"BEGIN\", expected \",\", \"/\" or \"{\"");
	check_error("BEGIN /1/ 3", -TG_EPARSE, 1, 12,
		    "unexpected end of file in predicate, expected \"/\" to end the predicate");
	check_error("BEGIN /1 ; {}", -TG_EPARSE, 1, 10,
		    "unexpected \";\" in predicate, expected \"/\" to end the predicate");
	check_error("BEGIN /1/ / {}", -TG_EPARSE, 1, 11,
		    "unexpected \"/\" after predicate of \"BEGIN\", expected \"{\"");
	check_error("BEGIN {", -TG_EPARSE, 1, 8, "unexpected end of file in block, expected \"}\"");
	check_error("BEGIN { printf(\"x\") $a }", -TG_EPARSE, 1, 21,
		    "unexpected \"$a\" after expression, expected \";\" or \"}\"");
	check_error("BEGIN { $a = 1 2 }", -TG_EPARSE, 1, 16,
		    "unexpected \"2\" after assignment, expected \";\" or \"}\"");
	check_error("BEGIN { break 1 }", -TG_EPARSE, 1, 15, "unexpected \"1\" after \"break\", expected \";\" or \"}\"");
	check_error("BEGIN { continue 1 }", -TG_EPARSE, 1, 18,
		    "unexpected \"1\" after \"continue\", expected \";\" or \"}\"");
	check_error("BEGIN { return 1 }", -TG_EPARSE, 1, 16, "unexpected \"1\" after \"return\", expected \";\" or \"}\"");
	check_error("BEGIN { @x = }", -TG_EPARSE, 1, 14, "unexpected \"}\", expected an expression");
	check_error("BEGIN\n{\n\t$x = ;\n}", -TG_EPARSE, 3, 7, "unexpected \";\", expected an expression");
	check_error("BEGIN { if (1) {}; }", -TG_EPARSE, 1, 18, "unexpected \";\", expected a statement");
	check_error("BEGIN { if 1 {} }", -TG_EPARSE, 1, 12, "unexpected \"1\" after \"if\", expected \"(\"");
	check_error("BEGIN { if (1 {} }", -TG_EPARSE, 1, 15, "unexpected \"{\" in \"if\" condition, expected \")\"");
	check_error("BEGIN { if (1) 2 }", -TG_EPARSE, 1, 16, "unexpected \"2\" after \"if (...)\", expected \"{\"");
	check_error("BEGIN { if (1) {} else 2 }", -TG_EPARSE, 1, 24, "unexpected \"2\" after \"else\", expected \"{\"");
	check_error("BEGIN { while 1 {} }", -TG_EPARSE, 1, 15, "unexpected \"1\" after \"while\", expected \"(\"");
	check_error("BEGIN { while (1) 2 }", -TG_EPARSE, 1, 19, "unexpected \"2\" after \"while (...)\", expected \"{\"");
	check_error("BEGIN { unroll 3 {} }", -TG_EPARSE, 1, 16, "unexpected \"3\" after \"unroll\", expected \"(\"");
	check_error("BEGIN { unroll(0) {} }", -TG_EPARSE, 1, 16, "unroll count \"0\" is not valid: the minimum is 1");
	check_error("BEGIN { unroll(-2) {} }", -TG_EPARSE, 1, 17, "unroll count -\"2\" is not valid: the minimum is 1");
	check_error("BEGIN { unroll(101) {} }", -TG_ELIMIT, 1, 16, "unroll count \"101\" is more than 100 (TG_MAX_UNROLL)");
	check_error("BEGIN { unroll($a) {} }", -TG_EPARSE, 1, 16,
		    "unexpected \"$a\" in \"unroll\", expected an integer or a positional parameter");
	check_error("BEGIN { unroll(2 {} }", -TG_EPARSE, 1, 18, "unexpected \"{\" in \"unroll\", expected \")\"");
	check_error("BEGIN { unroll(2) 1 }", -TG_EPARSE, 1, 19, "unexpected \"1\" after \"unroll (...)\", expected \"{\"");
	/* bpftrace 0.2x's for: a whole map or a range */
	check_error("BEGIN { for ($i : 1) {} }", -TG_EPARSE, 1, 20,
		    "unexpected \")\" in \"for\", expected a map or a range start..end");
	check_error("BEGIN { for (@m : @n) {} }", -TG_EPARSE, 1, 14,
		    "unexpected \"@m\" in \"for\", expected a variable ($name)");
	check_error("BEGIN { for ($kv : @n[1]) {} }", -TG_EPARSE, 1, 20,
		    "\"for\" iterates over a whole map: \"@n\" without keys");
	check_error("BEGIN { for ($kv : @n) print(1); }", -TG_EPARSE, 1, 24,
		    "unexpected \"print\" after \"for (...)\", expected \"{\"");
	check_error("BEGIN { foo(1) }", -TG_EPARSE, 1, 9, "function \"foo\" is not known");
	check_error("BEGIN { pid() }", -TG_EPARSE, 1, 9, "function \"pid\" is not known");
	check_error("BEGIN { perf() }", -TG_EPARSE, 1, 9, "function \"perf\" is not known");
	check_error("BEGIN { count }", -TG_EPARSE, 1, 9, "function \"count\" needs \"(\" and its arguments after it");
	check_error("BEGIN { printf(1 2) }", -TG_EPARSE, 1, 18, "unexpected \"2\" in call arguments, expected \",\" or \")\"");
	check_error("BEGIN { @x[1 }", -TG_EPARSE, 1, 14, "unexpected \"}\" in map key, expected \",\" or \"]\"");
	check_error("BEGIN { @x[] }", -TG_EPARSE, 1, 12, "map \"@x\" has empty \"[]\": a key is needed");
	check_error("BEGIN { $x[1 }", -TG_EPARSE, 1, 14, "unexpected \"}\" in index, expected \"]\"");
	check_error("BEGIN { (1 }", -TG_EPARSE, 1, 12, "unexpected \"}\" in parentheses, expected \")\"");
	check_error("BEGIN { (1, 2 }", -TG_EPARSE, 1, 15, "unexpected \"}\" in tuple, expected \",\" or \")\"");
	check_error("BEGIN { $a ? 1 }", -TG_EPARSE, 1, 16, "unexpected \"}\" in conditional expression, expected \":\"");
	check_error("BEGIN { $x. }", -TG_EPARSE, 1, 13, "unexpected \"}\" after \".\", expected a field name or a tuple index");
	check_error("BEGIN { $x->1 }", -TG_EPARSE, 1, 13, "unexpected \"1\" after \"->\", expected a field name");
	check_error("BEGIN { (1 + struct X) }", -TG_EPARSE, 1, 14,
		    "type \"struct X\" is not a value: it can only be an argument, as in sizeof(struct X)");
	check_error("BEGIN { struct X * 2 }", -TG_EPARSE, 1, 9,
		    "type \"struct X\" is not a value: it can only be an argument, as in sizeof(struct X)");
	check_error("BEGIN { ($x->struct biz) }", -TG_EPARSE, 1, 14,
		    "unexpected \"struct biz\" after \"->\", expected a field name");
	check_error("BEGIN { $t.0 = 1 }", -TG_EPARSE, 1, 14,
		    "tuple element cannot be assigned with \"=\": tuples are immutable once created, make a new tuple instead");
	check_error("BEGIN { 1 += 2 }", -TG_EPARSE, 1, 11, "left side of \"+=\" is integer, not a map or variable");
	check_error("BEGIN { $x.y = 2 }", -TG_EPARSE, 1, 14, "left side of \"=\" is field access, not a map or variable");
	check_error("BEGIN { 1++ }", -TG_EPARSE, 1, 10, "operator \"++\" must be applied to a map or variable");
	check_error("BEGIN { $x.a-- }", -TG_EPARSE, 1, 13, "operator \"--\" must be applied to a map or variable");
	check_error("BEGIN { ++1 }", -TG_EPARSE, 1, 9, "operator \"++\" must be applied to a map or variable");
	check_error("BEGIN { --pid }", -TG_EPARSE, 1, 9, "operator \"--\" must be applied to a map or variable");
	check_error("BEGIN { $0 }", -TG_EPARSE, 1, 9, "positional parameter \"$0\" is not valid: they start at \"$1\"");
	check_error("BEGIN { $99999999999999999999999 }", -TG_EPARSE, 1, 9,
		    "positional parameter \"$99999999999999999999999\" is not valid: they start at \"$1\"");
	check_error("BEGIN { (FOO) }", -TG_EPARSE, 1, 15, "unexpected \"}\", expected an expression");
	check_error("BEGIN {} #include <x>", -TG_EPARSE, 1, 10,
		    "preprocessor line \"#include <x>\" must come before the first probe");
	check_error("BEGIN {} struct X { int a; }", -TG_EPARSE, 1, 10,
		    "struct definition \"struct X { int a; }\" must come before the first probe");
	check_error("struct Foo * BEGIN {}", -TG_EPARSE, 1, 1,
		    "unexpected \"struct Foo\", expected a definition (\"{\") or a probe");
	check_error("BEGIN {} }", -TG_EPARSE, 1, 10, "unexpected \"}\", expected a probe");
	check_error("BEGIN, , END {}", -TG_EPARSE, 1, 8, "unexpected \",\", expected an attach point after \",\"");
	check_error("BEGIN { } kprobe:f\nkprobe:g { }", -TG_EPARSE, 2, 1,
		    "unexpected \"kprobe\" after attach point \"kprobe:f\", expected \",\", \"/\" or \"{\"");
	check_error("uprobe:/bin/h:f+0 4 { }", -TG_EPARSE, 1, 19,
		    "unexpected \"4\" after attach point \"uprobe:/bin/h:f+0\", expected \",\", \"/\" or \"{\"");
}

static void test_attach_errors(void **state)
{
	check_error("foo:bar { }", -TG_EPARSE, 1, 1, "probe type \"foo\" is not valid");
	check_error(":bar { }", -TG_EPARSE, 1, 1, "attach point \":bar\" has no probe type");
	check_error("*:bar { }", -TG_EUNSUPPORTED, 1, 1,
		    "attach point \"*:bar\": wildcards in the probe type are not supported");
	check_error("watchpoint:0x10:8:w { }", -TG_EUNSUPPORTED, 1, 1,
		    "attach point \"watchpoint:0x10:8:w\": probe type \"watchpoint\" is not supported");
	check_error("BEGIN:x { }", -TG_EPARSE, 1, 1, "attach point \"BEGIN:x\": \"BEGIN\" takes no arguments (BEGIN)");
	check_error("kprobe { }", -TG_EPARSE, 1, 1,
		    "attach point \"kprobe\": \"kprobe\" takes 1 argument (kprobe:function[+offset])");
	check_error("kprobe:a:b { }", -TG_EPARSE, 1, 1,
		    "attach point \"kprobe:a:b\": \"kprobe\" takes 1 argument (kprobe:function[+offset])");
	check_error("kprobe: { }", -TG_EPARSE, 1, 1, "attach point \"kprobe:\" has an empty name");
	check_error("kretprobe:f+1 { }", -TG_EPARSE, 1, 1,
		    "attach point \"kretprobe:f+1\": an offset is not allowed on \"kretprobe\"");
	check_error("kprobe:f+1+2 { }", -TG_EPARSE, 1, 1, "attach point \"kprobe:f+1+2\": more than one offset");
	check_error("kprobe:+1 { }", -TG_EPARSE, 1, 1, "attach point \"kprobe:+1\": offset without a function");
	check_error("uprobe:b:cn+00x1f { }", -TG_EPARSE, 1, 1,
		    "attach point \"uprobe:b:cn+00x1f\": offset \"00x1f\" is not a valid integer: trailing non-numeric characters");
	check_error("kprobe:f+x { }", -TG_EPARSE, 1, 1,
		    "attach point \"kprobe:f+x\": offset \"x\" is not a valid integer: not a number");
	check_error("uprobe:/bin/sh { }", -TG_EPARSE, 1, 1,
		    "attach point \"uprobe:/bin/sh\": \"uprobe\" takes 2 arguments (uprobe:binary:function[+offset])");
	check_error("uprobe:/bin/*:0x10 { }", -TG_EPARSE, 1, 1,
		    "attach point \"uprobe:/bin/*:0x10\": wildcards cannot be used with an absolute address");
	check_error("uretprobe:/bin/sh:f+1 { }", -TG_EPARSE, 1, 1,
		    "attach point \"uretprobe:/bin/sh:f+1\": an offset is not allowed on \"uretprobe\"");
	check_error("usdt:/x { }", -TG_EPARSE, 1, 1,
		    "attach point \"usdt:/x\": \"usdt\" takes 2 or 3 arguments (usdt:binary:[provider:]name)");
	check_error("tracepoint:syscalls { }", -TG_EPARSE, 1, 1,
		    "attach point \"tracepoint:syscalls\": \"tracepoint\" takes 2 arguments (tracepoint:category:name)");
	check_error("tracepoint::x { }", -TG_EPARSE, 1, 1, "attach point \"tracepoint::x\" has an empty name");
	check_error("i:s { }", -TG_EPARSE, 1, 1, "attach point \"interval:s\": \"interval\" takes 2 arguments (interval:s:count)");
	check_error("i:s:x { }", -TG_EPARSE, 1, 1,
		    "attach point \"interval:s:x\": rate \"x\" is not a valid integer: not a number");
	check_error("p:hz { }", -TG_EPARSE, 1, 1, "attach point \"profile:hz\": \"profile\" takes 2 arguments (profile:hz:rate)");
	check_error("s:faults:x { }", -TG_EPARSE, 1, 1,
		    "attach point \"software:faults:x\": count \"x\" is not a valid integer: not a number");
	check_error("h { }", -TG_EPARSE, 1, 1,
		    "attach point \"hardware\": \"hardware\" takes 1 or 2 arguments (hardware:event[:count])");
	check_error("f:a:b:c { }", -TG_EPARSE, 1, 1,
		    "attach point \"kfunc:a:b:c\": \"kfunc\" takes 1 or 2 arguments (kfunc:[module:]function)");
	check_error("it:a:b { }", -TG_EPARSE, 1, 1, "attach point \"iter:a:b\": \"iter\" takes 1 argument (iter:name)");
	check_error("k:a:b:c:d:e:f:g:h { }", -TG_EPARSE, 1, 1, "attach point \"k:a:b:c:d:e:f:g:h\" has too many \":\" parts");
	check_error("uprobe:$#:f { }", -TG_EPARSE, 1, 8,
		    "\"$#\" is not a positional parameter and cannot be used in an attach point");
	check_error("BEGIN\n{\n\t\"abc\n}", -TG_EPARSE, 3, 2, "string not terminated before end of line");
}

/* issue 7 (red team 4): every attach-point component but a binary path has
 * its own alphabet; a "/" or ".." in a tracepoint name would be matched by
 * the policy as a name and resolved by tracefs as a path */
static void test_attach_component_alphabet(void **state)
{
	static const struct {
		const char *src, *param, *msg;
	} bad[] = {
		{ "BEGIN { }\ntracepoint:syscalls:sys_enter_openat/../../sched/sched_switch { }", NULL,
		  "attach point \"tracepoint:syscalls:sys_enter_openat/../../sched/sched_switch\": event "
		  "\"sys_enter_openat/../../sched/sch...\": character 17 is not allowed in a tracepoint name: "
		  "letters, digits and _ (and a glob: * ? [...])" },
		{ "BEGIN { }\ntracepoint:syscalls:$1 { }", "sys_enter_openat/../../sched/sched_switch",
		  "attach point \"tracepoint:syscalls:sys_enter_openat/../../sched/sched_switch\": event "
		  "\"sys_enter_openat/../../sched/sch...\": character 17 is not allowed in a tracepoint name: "
		  "letters, digits and _ (and a glob: * ? [...])" },
		{ "BEGIN { }\ntracepoint:$1:sched_switch { }", "..",
		  "attach point \"tracepoint:..:sched_switch\": category \"..\": character 1 is not allowed in a "
		  "tracepoint name: letters, digits and _ (and a glob: * ? [...])" },
		{ "BEGIN { }\ntracepoint:\"sched\\x01\":x { }", NULL,
		  "attach point \"tracepoint:\"sched\\001\":x\": category \"sched\\x01\": character 6 is not allowed in a "
		  "tracepoint name: letters, digits and _ (and a glob: * ? [...])" },
		{ "BEGIN { }\nkprobe:$1 { }", "vfs/read",
		  "attach point \"kprobe:vfs/read\": function \"vfs/read\": character 4 is not allowed in a kernel "
		  "symbol: letters, digits, _ and . (and a glob: * ? [...])" },
		{ "BEGIN { }\nkfunc:$1:f { }", "a-b",
		  "attach point \"kfunc:a-b:f\": module \"a-b\": character 2 is not allowed in a kernel "
		  "symbol: letters, digits, _ and . (and a glob: * ? [...])" },
		{ "BEGIN { }\nuprobe:/bin/sh:$1 { }", "a/b",
		  "attach point \"uprobe:/bin/sh:a/b\": function \"a/b\": character 2 is not allowed in a symbol: "
		  "letters, digits, _ . $ and @ (and a glob: * ? [...])" },
		{ "BEGIN { }\nusdt:/bin/sh:$1:n { }", "../p",
		  "attach point \"usdt:/bin/sh:../p:n\": provider \"../p\": character 3 is not allowed in a symbol: "
		  "letters, digits, _ . $ and @ (and a glob: * ? [...])" },
		{ "BEGIN { }\nusdt:/bin/sh:p:$1 { }", "n/x",
		  "attach point \"usdt:/bin/sh:p:n/x\": probe \"n/x\": character 2 is not allowed in a symbol: "
		  "letters, digits, _ . $ and @ (and a glob: * ? [...])" },
		{ "BEGIN { }\nsoftware:$1 { }", "cpu*",
		  "attach point \"software:cpu*\": event \"cpu*\": character 4 is not allowed in an event name: "
		  "lower-case letters, digits and -" },
		{ "BEGIN { }\ninterval:$1:1 { }", "fortnight",
		  "attach point \"interval:fortnight:1\": unit \"fortnight\" is not a unit: s, sec, ms, us, ns or hz" },
		{ "BEGIN { }\nprofile:$1:1 { }", "h/z",
		  "attach point \"profile:h/z:1\": unit \"h/z\": character 2 is not allowed in a unit: s, sec, ms, "
		  "us, ns or hz" },
	};
	static const char *const good[] = {
		"tracepoint:syscalls:sys_enter_openat, tracepoint:sys*:sys_enter_[ao]*, t:sched:*, "
		"kprobe:do_sys_open, kprobe:foo.isra.0, kprobe:vfs_*, kretfunc:vmlinux:f, "
		"uprobe:/bin/sh:\"_ZN4core3fmt..a$LT$\", uprobe:/bin/sh:\"malloc@GLIBC_2.2.5\", usdt:/bin/sh:prov:pr_*, "
		"usdt:/bin/sh:name, software:cpu-clock:100, hardware:cache-misses, profile:hz:99, "
		"interval:ms:10, i:sec:1, iter:task { }",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const pv[] = { bad[i].param };
		struct lang_program *prog = NULL;
		struct lang_diag d;
		int r = parse_p(bad[i].src, pv, bad[i].param ? 1 : 0, &prog, &d);

		if (r != -TG_EPARSE || strcmp(d.msg, bad[i].msg) != 0)
			fail_msg("%s: got %d \"%s\"\n want \"%s\"", bad[i].src, r, d.msg, bad[i].msg);
		assert_null(prog);
		assert_int_equal(d.loc.line, 2);
		assert_int_equal(d.loc.col, 1);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct lang_program *prog = NULL;
		struct lang_diag d;

		if (parse_p(good[i], NULL, 0, &prog, &d) < 0)
			fail_msg("%s: %u:%u %s", good[i], d.loc.line, d.loc.col, d.msg);
		lang_program_free(prog);
	}
}

/* red team 4: unroll(100) { unroll(30) { ... } } took 14.6 s and 455 MB
 * of clang and came out with a truncated jump; nested unrolls may make no
 * more copies of a body than one unroll can */
static void test_unroll_product(void **state)
{
	static const char *const p11[] = { "11" }, *const p10[] = { "10" }, *const px[] = { "x" };
	struct lang_program *prog = NULL;
	struct lang_diag d;

	(void)state;
	check_error("BEGIN {\n unroll(100) { unroll(30) { @x = count(); } } }", -TG_ELIMIT, 2, 16,
		    "nested unroll makes 3000 copies of its body (100 x 30), more than 100 (TG_MAX_UNROLL_PRODUCT)");
	check_error("BEGIN { unroll(2) { if (1) { while (1) { unroll(5) { unroll(11) { } } } } } }", -TG_ELIMIT, 1,
		    54, "nested unroll makes 110 copies of its body (10 x 11), more than 100 (TG_MAX_UNROLL_PRODUCT)");
	assert_int_equal(parse_p("BEGIN { unroll(10) { unroll($1) { @x = count(); } } }", p11, 1, &prog, &d),
			 -TG_ELIMIT);
	assert_int_equal(d.loc.col, 22);
	assert_string_equal(d.msg, "nested unroll makes 110 copies of its body (10 x 11), more than 100 "
				   "(TG_MAX_UNROLL_PRODUCT)");
	/* a parameter the engine cannot use counts as the most one unroll makes */
	assert_int_equal(parse_p("BEGIN { unroll(2) { unroll($1) { } } }", px, 1, &prog, &d), -TG_ELIMIT);
	assert_int_equal(parse_p("BEGIN { unroll(2) { unroll($2) { } } }", px, 1, &prog, &d), -TG_ELIMIT);
	/* within the product, and side by side, it parses */
	assert_int_equal(parse_p("BEGIN { unroll(10) { unroll($1) { @x = count(); } } "
				 "unroll(100) { @y = count(); } unroll($#) { unroll(100) { } } }", p10, 1, &prog, &d), 0);
	lang_program_free(prog);
}

static void test_nul_and_limits(void **state)
{
	struct lang_program *p = NULL;
	struct lang_diag d;
	char src[] = "BEGIN {\n  x\0 }";
	char *big;
	struct buf b = BUF_INIT(0);

	assert_int_equal(lang_program_parse(NULL, 5, &p, &d), -EINVAL);
	assert_string_equal(d.msg, "program text missing");
	assert_int_equal(lang_program_parse(src, sizeof(src) - 1, &p, NULL), -TG_EPARSE);
	assert_int_equal(lang_program_parse(src, sizeof(src) - 1, &p, &d), -TG_EPARSE);
	assert_string_equal(d.msg, "program text contains a NUL byte");
	assert_int_equal(d.loc.line, 2);
	assert_int_equal(d.loc.col, 4);

	big = calloc(1, TG_MAX_SOURCE_BYTES + 2);
	memset(big, ' ', TG_MAX_SOURCE_BYTES + 1);
	assert_int_equal(lang_program_parse(big, TG_MAX_SOURCE_BYTES + 1, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "program is 262145 bytes, more than 262144 (TG_MAX_SOURCE_BYTES)");
	free(big);

	/* nesting: parentheses (recursion) and a long left-leaning chain (tree height) */
	buf_adds(&b, "BEGIN { ");
	for (int i = 0; i < TG_MAX_AST_DEPTH + 5; i++)
		buf_addc(&b, '(');
	buf_adds(&b, "1 }");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "program is nested more than 128 levels deep (TG_MAX_AST_DEPTH)");
	buf_clear(&b);
	buf_adds(&b, "BEGIN { 1");
	for (int i = 0; i < 200; i++)
		buf_adds(&b, "+1");
	buf_adds(&b, " }");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "binary operation is nested more than 128 levels deep (TG_MAX_AST_DEPTH)");
	assert_int_equal(d.loc.col, 9);
	buf_clear(&b);
	buf_adds(&b, "BEGIN { ");
	for (int i = 0; i < 1000; i++)
		buf_adds(&b, "if (1) { ");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	buf_clear(&b);
	buf_adds(&b, "BEGIN { ");
	for (int i = 0; i < 100000; i++)
		buf_adds(&b, "!");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);

	/* node count: many statements, each small */
	buf_clear(&b);
	buf_adds(&b, "BEGIN { ");
	for (int i = 0; i < TG_MAX_AST_NODES / 4 + 10; i++)
		buf_adds(&b, "$a=1+1;");
	buf_adds(&b, " }");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "program has more than 100000 syntax tree nodes (TG_MAX_AST_NODES)");

	buf_clear(&b);
	for (int i = 0; i < TG_MAX_PROBES + 1; i++)
		buf_adds(&b, "BEGIN{}");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "program has more than 512 probes (TG_MAX_PROBES)");
	assert_int_equal(d.loc.col, 7 * TG_MAX_PROBES + 1);

	buf_clear(&b);
	for (int i = 0; i < TG_MAX_ATTACH_POINTS + 1; i++)
		buf_adds(&b, "BEGIN,");
	buf_adds(&b, "{}");
	assert_int_equal(lang_program_parse(b.s, b.len, &p, &d), -TG_ELIMIT);
	assert_string_equal(d.msg, "program has more than 1024 attach points (TG_MAX_ATTACH_POINTS)");
	buf_release(&b);
}

/* ---- printing, walking, diagnostics ------------------------------------------- */

static void test_canonical(void **state)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{ "BEGIN{@x=1}", "BEGIN\n{\n\t@x = 1;\n}\n" },
		{ "BEGIN { print((1 + 2) * 3 - (4 - 5)) }", "BEGIN\n{\n\tprint((1 + 2) * 3 - (4 - 5));\n}\n" },
		{ "BEGIN { $x = - -1; $y = -(--$z); $w = & &$q }", "BEGIN\n{\n\t$x = - -1;\n\t$y = - --$z;\n\t$w = & &$q;\n}\n" },
		{ "BEGIN { ((struct a *)$p)->b; (*$p).c; (uint8)($a + 1) }",
		  "BEGIN\n{\n\t((struct a *)$p)->b;\n\t(*$p).c;\n\t(uint8)($a + 1);\n}\n" },
		{ "BEGIN { ($a ? $b : $c) ? 1 : 2; $a ? ($b ? 1 : 2) : 3 }",
		  "BEGIN\n{\n\t($a ? $b : $c) ? 1 : 2;\n\t$a ? $b ? 1 : 2 : 3;\n}\n" },
		{ "BEGIN { \"a\\\"\\\\\\n\\t\\r\\x01\\0001\" }", "BEGIN\n{\n\t\"a\\\"\\\\\\n\\t\\r\\001\\0001\";\n}\n" },
		{ "k:f /*x*/ / *arg0/ { }", "kprobe:f\n/ *arg0/\n{\n}\n" },
		{ "BEGIN { if (1) { } else if (2) { } else { $x = 0x1F } }",
		  "BEGIN\n{\n\tif (1) {\n\t} else if (2) {\n\t} else {\n\t\t$x = 0x1f;\n\t}\n}\n" },
		{ "BEGIN { unroll($1) { } while (1) { break } $a <<= 2 }",
		  "BEGIN\n{\n\tunroll ($1) {\n\t}\n\twhile (1) {\n\t\tbreak;\n\t}\n\t$a <<= 2;\n}\n" },
		/* bpftrace 0.2x: let and for */
		{ "BEGIN { let $a; let $b = (1, \"x\"); for ($kv : @m) { print($kv.0) } for ($i : 0..$b.0) { } }",
		  "BEGIN\n{\n\tlet $a;\n\tlet $b = (1, \"x\");\n\tfor ($kv : @m) {\n\t\tprint($kv.0);\n\t}\n"
		  "\tfor ($i : 0..$b.0) {\n\t}\n}\n" },
		{ "struct X { int a; }\nt:a:b,t:c:d /pid/{@[1,2]=count()}",
		  "struct X {\n\tint a;\n};\n\ntracepoint:a:b,\ntracepoint:c:d\n/pid/\n{\n\t@[1, 2] = count();\n}\n" },
		/* directives are the front end's: evaluated, expanded, never printed as written */
		{ "#include \"linux/fs.h\"\n#define N 2\n#if N > 1 && defined(BPFTRACE_HAVE_BTF)\n"
		  "struct  X{unsigned   int a[N]; const char *s;}\n#else\nstruct Y { }\n#endif\nBEGIN { @ = N }",
		  "#include \"linux/fs.h\"\nstruct X {\n\tunsigned int a[2];\n\tconst char *s;\n};\n\n"
		  "BEGIN\n{\n\t@ = 2;\n}\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = round_trip("case", cases[i].src, strlen(cases[i].src));

		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s:\n got  \"%s\"\n want \"%s\"", cases[i].src, out, cases[i].want);
		free(out);
	}

	struct lang_program *p = parse_ok("BEGIN { $a + 1 * 2 }");
	char *e = NULL;
	assert_int_equal(lang_expr_print(p->probes[0].body->kids[0]->kids[0], &e), 0);
	assert_string_equal(e, "$a + 1 * 2");
	free(e);
	lang_program_free(p);
}

struct walk_ctx {
	int count;
	int stop_at;
	struct buf kinds;
};

static int visit(struct lang_node *n, struct lang_node *parent, void *ctx)
{
	struct walk_ctx *w = ctx;

	buf_printf(&w->kinds, "%s%s", w->kinds.len ? "," : "", lang_node_kind_str(n->kind));
	if (n->kind != TG_N_BLOCK)
		assert_non_null(parent);
	return ++w->count == w->stop_at ? 42 : 0;
}

static void test_walk(void **state)
{
	struct lang_program *p = parse_ok("BEGIN /pid/ { $a = 1 } END { exit() }");
	struct walk_ctx w = { .kinds = BUF_INIT(0) };

	/* the predicate has no parent: count it on its own */
	assert_int_equal(lang_node_walk(p->probes[0].body, NULL, visit, &w), 0);
	assert_string_equal(w.kinds.s, "block,assignment,variable,integer");
	w.count = 0;
	w.stop_at = 2;
	buf_clear(&w.kinds);
	assert_int_equal(lang_node_walk(p->probes[1].body, NULL, visit, &w), 42);
	assert_string_equal(w.kinds.s, "block,expression statement");
	buf_release(&w.kinds);
	assert_string_equal(lang_op_str(TG_OP_ARROW), "->");
	assert_string_equal(lang_op_str(TG_OP_SHL), "<<");
	assert_string_equal(lang_node_kind_str(TG_N_IDENT), "identifier");
	lang_program_free(p);
}

static int count_all(struct lang_node *n, struct lang_node *parent, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_program_walk(void **state)
{
	struct lang_program *p = parse_ok("BEGIN /pid/ { $a = 1 } END { exit() }");
	int n = 0;

	assert_int_equal(lang_program_walk(p, count_all, &n), 0);
	assert_int_equal(n, 1 + 4 + 3);   /* pred; block assign var int; block stmt call */
	lang_program_free(p);
}

static void test_diag_format(void **state)
{
	const char *src = "BEGIN\n{\n\tprintf(\"x\") $abc\n}";
	struct lang_program *p = NULL;
	struct lang_diag d;
	char *out = NULL;

	assert_int_equal(lang_program_parse(src, strlen(src), &p, &d), -TG_EPARSE);
	assert_int_equal(lang_diag_format(&d, "stdin", src, strlen(src), &out), 0);
	assert_string_equal(out, "stdin:3:14: ERROR: unexpected \"$abc\" after expression, expected \";\" or \"}\"\n"
				 "    printf(\"x\") $abc\n"
				 "                ^~~~\n");
	free(out);
	d.loc = (struct lang_loc){ 9, 1 };
	assert_int_equal(lang_diag_format(&d, "f.bt", src, strlen(src), &out), 0);
	assert_string_equal(out, "f.bt:9:1: ERROR: unexpected \"$abc\" after expression, expected \";\" or \"}\"\n");
	free(out);
}

/* ---- the real corpus: tools and bpftrace's runtime tests ----------------------- */

static const char *compat_dir(void)
{
	const char *e = getenv("TG_COMPAT_DIR");

	if (e)
		return e;
	if (access("../shared/compat/bpftrace-runtime/selected.tsv", R_OK) == 0)
		return "../shared/compat/bpftrace-runtime";
	return "/work/shared/compat/bpftrace-runtime";
}

static void test_tools_round_trip(void **state)
{
	glob_t g;

	assert_int_equal(glob("/usr/sbin/*.bt", 0, NULL, &g), 0);
	if (g.gl_pathc != 38)
		fail_msg("expected the 38 bpftrace tools in /usr/sbin, found %zu", g.gl_pathc);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *src = NULL;
		size_t len = 0;

		assert_int_equal(read_file(g.gl_pathv[i], 1 << 20, &src, &len), 0);
		free(round_trip(g.gl_pathv[i], src, len));
		free(src);
	}
	globfree(&g);
}

/* Splits a line at tabs in place. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = line;
	for (char *c = line; *c && n < max; c++)
		if (*c == '\t') {
			*c = '\0';
			f[n++] = c + 1;
		}
	return n;
}

static void test_runtime_progs_round_trip(void **state)
{
	char path[512];
	char *sel = NULL, *idx = NULL;
	size_t sl, il, nprog = 0;

	snprintf(path, sizeof(path), "%s/selected.tsv", compat_dir());
	assert_int_equal(read_file(path, 1 << 22, &sel, &sl), 0);
	snprintf(path, sizeof(path), "%s/index.tsv", compat_dir());
	assert_int_equal(read_file(path, 1 << 24, &idx, &il), 0);

	/* selected: suite idx name ...; index: suite idx name kind timeout flags prog expects */
	for (char *save = NULL, *line = strtok_r(sel, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[8];
		char key[256];
		bool found = false;

		if (split_tabs(line, f, 8) < 3 || strcmp(f[0], "suite") == 0)
			continue;
		snprintf(key, sizeof(key), "\n%s\t%s\t", f[0], f[1]);
		for (char *at = strstr(idx, key); at && !found; at = NULL) {
			char *end = strchr(at + 1, '\n');
			char *copy = strndup(at + 1, end ? (size_t)(end - at - 1) : strlen(at + 1));
			char *g[9];

			if (split_tabs(copy, g, 9) >= 7) {
				found = true;
				if (strcmp(g[3], "PROG") == 0) {
					char name[300];

					snprintf(name, sizeof(name), "%s/%s", g[0], g[1]);
					free(round_trip(name, g[6], strlen(g[6])));
					nprog++;
				}
			}
			free(copy);
		}
		if (!found)
			fail_msg("selected test %s/%s not in index.tsv", f[0], f[1]);
	}
	/* 169 of the 194 selected tests are PROG (the rest RUN shell lines) */
	assert_int_equal(nprog, 169);
	free(sel);
	free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_postfix_and_primary),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_attach_errors),
		cmocka_unit_test(test_attach_component_alphabet),
		cmocka_unit_test(test_unroll_product),
		cmocka_unit_test(test_nul_and_limits),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_program_walk),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_params_attach_tokens),
		cmocka_unit_test(test_params_cannot_add_code),
		cmocka_unit_test(test_params_missing_and_limits),
		cmocka_unit_test(test_params_canonical),
		cmocka_unit_test(test_tools_round_trip),
		cmocka_unit_test(test_runtime_progs_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
