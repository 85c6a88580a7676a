// SPDX-License-Identifier: Apache-2.0
/* The lexer: every token kind, literal forms, modes and every error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/errors.h"
#include "lang/lexer.h"

/* Lexes all of src; returns the kinds, space separated, by name index. */
static int lex_all(const char *src, enum lang_tok *kinds, size_t max, struct lang_token *keep, struct lang_diag *d)
{
	struct lang_lexer lx;
	size_t n = 0;

	lang_lexer_init(&lx, src, strlen(src));
	for (;;) {
		struct lang_token t;
		int r = lang_lex(&lx, &t, d);

		if (r < 0)
			return r;
		enum lang_tok kind = t.kind;

		assert_true(n < max);
		kinds[n] = kind;
		if (keep)
			keep[n] = t;
		else
			lang_token_release(&t);
		n++;
		if (kind == TG_T_EOF)
			return (int)n;
	}
}

static void test_operators(void **state)
{
	static const struct {
		const char *text;
		enum lang_tok kind;
	} ops[] = {
		{ "<<=", TG_T_LEFTASSIGN }, { ">>=", TG_T_RIGHTASSIGN }, { "+=", TG_T_PLUSASSIGN },
		{ "-=", TG_T_MINUSASSIGN }, { "*=", TG_T_MULASSIGN }, { "/=", TG_T_DIVASSIGN },
		{ "%=", TG_T_MODASSIGN }, { "&=", TG_T_BANDASSIGN }, { "|=", TG_T_BORASSIGN },
		{ "^=", TG_T_BXORASSIGN }, { "==", TG_T_EQ }, { "!=", TG_T_NE }, { "<=", TG_T_LE },
		{ ">=", TG_T_GE }, { "<<", TG_T_LEFT }, { ">>", TG_T_RIGHT }, { "&&", TG_T_LAND },
		{ "||", TG_T_LOR }, { "++", TG_T_INCREMENT }, { "--", TG_T_DECREMENT },
		{ "->", TG_T_PTR }, { ":", TG_T_COLON }, { ";", TG_T_SEMI }, { "{", TG_T_LBRACE },
		{ "}", TG_T_RBRACE }, { "[", TG_T_LBRACKET }, { "]", TG_T_RBRACKET },
		{ "(", TG_T_LPAREN }, { ")", TG_T_RPAREN }, { ",", TG_T_COMMA }, { "=", TG_T_ASSIGN },
		{ "<", TG_T_LT }, { ">", TG_T_GT }, { "+", TG_T_PLUS }, { "-", TG_T_MINUS },
		{ "*", TG_T_MUL }, { "%", TG_T_MOD }, { "&", TG_T_BAND }, { "|", TG_T_BOR },
		{ "^", TG_T_BXOR }, { "!", TG_T_LNOT }, { "~", TG_T_BNOT }, { ".", TG_T_DOT },
		{ "?", TG_T_QUES }, { "/ x", TG_T_DIV }, { "/ {", TG_T_ENDPRED }, { "//x", TG_T_EOF },
		{ "/\n/", TG_T_ENDPRED },
	};
	enum lang_tok k[8];
	struct lang_diag d;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int n = lex_all(ops[i].text, k, 8, NULL, &d);

		assert_true(n >= 1);
		if (k[0] != ops[i].kind)
			fail_msg("\"%s\" lexed as %d, want %d", ops[i].text, k[0], ops[i].kind);
	}
	/* longest match: "a---b" is a -- - b */
	assert_int_equal(lex_all("a---b", k, 8, NULL, &d), 5);
	assert_int_equal(k[1], TG_T_DECREMENT);
	assert_int_equal(k[2], TG_T_MINUS);
}

static void test_words(void **state)
{
	struct lang_token t[32];
	enum lang_tok k[32];
	struct lang_diag d;
	int n = lex_all("pid arg9 arg10 sarg0 printf kstack perf bpftrace if else unroll while for "
			"return continue break foo _x1 $v @m @ $1 $# $123", k, 32, t, &d);
	static const enum lang_tok want[] = {
		TG_T_BUILTIN, TG_T_BUILTIN, TG_T_IDENT, TG_T_BUILTIN, TG_T_CALL, TG_T_CALL_BUILTIN,
		TG_T_STACK_MODE, TG_T_STACK_MODE, TG_T_IF, TG_T_ELSE, TG_T_UNROLL, TG_T_WHILE, TG_T_FOR,
		TG_T_RETURN, TG_T_CONTINUE, TG_T_BREAK, TG_T_IDENT, TG_T_IDENT, TG_T_VAR, TG_T_MAP,
		TG_T_MAP, TG_T_PARAM, TG_T_PARAMCOUNT, TG_T_PARAM, TG_T_EOF,
	};

	assert_int_equal(n, 25);
	for (int i = 0; i < n; i++) {
		assert_int_equal(k[i], want[i]);
	}
	assert_string_equal(t[18].text, "$v");
	assert_string_equal(t[19].text, "@m");
	assert_string_equal(t[20].text, "@");
	assert_int_equal(t[21].num, 1);
	assert_int_equal(t[23].num, 123);
	/* locations: 1-based columns in bytes */
	assert_int_equal(t[1].loc.line, 1);
	assert_int_equal(t[1].loc.col, 5);
	for (int i = 0; i < n; i++)
		lang_token_release(&t[i]);
}

static void test_integers(void **state)
{
	static const struct {
		const char *text;
		uint64_t value;
		const char *err;   /* substring of the error, or NULL */
	} cases[] = {
		{ "0", 0, NULL }, { "42", 42, NULL }, { "1_000_000", 1000000, NULL },
		{ "0x1F", 31, NULL }, { "0XfF", 255, NULL }, { "010", 8, NULL }, { "1e6", 1000000, NULL },
		{ "5E3", 5000, NULL }, { "9e16", 90000000000000000ull, NULL }, { "10u", 10, NULL },
		{ "10UL", 10, NULL }, { "10ll", 10, NULL }, { "10ull", 10, NULL },
		{ "18446744073709551615", UINT64_MAX, NULL },
		{ "18446744073709551616", 0, "out of the 64-bit range" },
		{ "0x10000000000000000", 0, "out of the 64-bit range" },
		{ "09", 0, "trailing non-numeric characters" },
		{ "10e17", 0, "coefficient of a scientific literal must be 0 to 9" },
		{ "1e17", 0, "exponent of a scientific literal must be at most 16" },
		{ "1lu", 0, "trailing non-numeric characters" },
		{ "0x", 0, "no hex digits" }, { "", 0, "not a number" }, { "-1", 0, "not a number" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;
		const char *err = NULL;
		int r = lang_parse_int_literal(cases[i].text, strlen(cases[i].text), &v, &err);

		if (cases[i].err) {
			if (r >= 0)
				fail_msg("\"%s\" parsed as %llu", cases[i].text, (unsigned long long)v);
			assert_non_null(strstr(err, cases[i].err));
		} else {
			if (r < 0)
				fail_msg("\"%s\": %s", cases[i].text, err);
			assert_true(v == cases[i].value);
		}
	}
}

static void test_integer_tokens(void **state)
{
	struct lang_token t[8];
	enum lang_tok k[8];
	struct lang_diag d;
	int n = lex_all("0x10 1_0 2e3 7abc", k, 8, t, &d);

	assert_int_equal(n, 6);
	assert_int_equal(t[0].num, 16);
	assert_true(t[0].flags & TG_TOKF_HEX);
	assert_int_equal(t[1].num, 10);
	assert_int_equal(t[2].num, 2000);
	assert_int_equal(t[3].num, 7);          /* flex: 7 then the identifier abc */
	assert_int_equal(k[4], TG_T_IDENT);
	for (int i = 0; i < n; i++)
		lang_token_release(&t[i]);
	assert_int_equal(lex_all("x 1e99", k, 8, NULL, &d), -TG_EPARSE);
	assert_string_equal(d.msg, "integer \"1e99\" is not valid: exponent of a scientific literal must be at most 16");
	assert_int_equal(d.loc.col, 3);
}

static void test_strings(void **state)
{
	struct lang_token t[4];
	enum lang_tok k[4];
	struct lang_diag d;
	int n = lex_all("\"a\\n\\t\\r\\\"\\\\\\101\\x41\\0z\\x7\"", k, 4, t, &d);

	assert_int_equal(n, 2);
	assert_int_equal(k[0], TG_T_STR);
	assert_int_equal(t[0].text_len, 11);
	assert_memory_equal(t[0].text, "a\n\t\r\"\\AA\0z\x07", 11);
	lang_token_release(&t[0]);
}

static void check_error(const char *src, int code, uint32_t line, uint32_t col, const char *msg)
{
	enum lang_tok k[64];
	struct lang_diag d;
	int r = lex_all(src, k, 64, NULL, &d);

	if (r != code)
		fail_msg("%s: got %d, want %d (%s)", src, r, code, d.msg);
	if (strcmp(d.msg, msg) != 0)
		fail_msg("%s: message \"%s\", want \"%s\"", src, d.msg, msg);
	if (d.loc.line != line || d.loc.col != col)
		fail_msg("%s: at %u:%u, want %u:%u", src, d.loc.line, d.loc.col, line, col);
}

static void test_errors(void **state)
{
	check_error("a \"abc", -TG_EPARSE, 1, 3, "string not terminated before end of file");
	check_error("a\n  \"ab\nc\"", -TG_EPARSE, 2, 3, "string not terminated before end of line");
	check_error("\"a\\q\"", -TG_EPARSE, 1, 3, "escape sequence \"\\q\" in string is not valid");
	check_error("\"a\\x\"", -TG_EPARSE, 1, 3, "escape sequence \"\\x\" in string is not valid");
	check_error("\"\\400\"", -TG_EPARSE, 1, 2, "octal escape \"\\400\" is out of range (above \\377)");
	check_error("\"\\", -TG_EPARSE, 1, 1, "string not terminated before end of file");
	check_error("x /* abc", -TG_EPARSE, 1, 3, "comment \"/*\" not terminated before end of file");
	check_error("a\n `", -TG_EPARSE, 2, 2, "character \"`\" is not valid here");
	check_error("a $", -TG_EPARSE, 1, 3, "character \"$\" is not valid here");
	check_error("\x01", -TG_EPARSE, 1, 1, "character \"\\x01\" is not valid here");
	check_error("x #!y", -TG_EPARSE, 1, 3, "character \"#\" is not valid here");
	check_error("struct Foo { int x;", -TG_EPARSE, 1, 1, "\"struct\" definition not terminated before end of file");
	check_error("(union U", -TG_EPARSE, 1, 2, "\"union\" type name not terminated before end of file");
	check_error("struct }", -TG_EPARSE, 1, 8, "unexpected \"}\" after \"struct\", expected a type name or \"{\"");
	check_error("(int64*struct it();", -TG_EPARSE, 1, 8, "type name \"struct it(\" is not valid: expected \"struct NAME\"");
	check_error("(struct *)x", -TG_EPARSE, 1, 2, "type name \"struct \" is not valid: expected \"struct NAME\"");
	check_error("sizeof(enum a b)", -TG_EPARSE, 1, 8, "type name \"enum a b\" is not valid: expected \"enum NAME\"");

	/* a string of exactly the limit passes, one byte more does not */
	char *s = malloc(TG_MAX_STRING_LITERAL + 4);
	memset(s, 'a', TG_MAX_STRING_LITERAL + 3);
	s[0] = '"';
	s[TG_MAX_STRING_LITERAL + 1] = '"';
	s[TG_MAX_STRING_LITERAL + 2] = '\0';
	enum lang_tok k[4];
	struct lang_diag d;
	assert_int_equal(lex_all(s, k, 4, NULL, &d), 2);
	s[TG_MAX_STRING_LITERAL + 1] = 'a';
	s[TG_MAX_STRING_LITERAL + 2] = '"';
	s[TG_MAX_STRING_LITERAL + 3] = '\0';
	check_error(s, -TG_ELIMIT, 1, 1, "string literal is longer than 4096 bytes (TG_MAX_STRING_LITERAL)");
	free(s);
}

static void test_comments_and_preproc(void **state)
{
	struct lang_token t[8];
	enum lang_tok k[8];
	struct lang_diag d;
	int n = lex_all("#!/usr/bin/env bpftrace\n// line\n/* block\n */ #include <linux/sched.h>\nx", k, 8, t, &d);

	assert_int_equal(n, 3);
	assert_int_equal(k[0], TG_T_CPREPROC);
	assert_string_equal(t[0].text, "#include <linux/sched.h>");
	assert_int_equal(t[0].loc.line, 4);
	assert_int_equal(t[0].loc.col, 5);
	assert_int_equal(k[1], TG_T_IDENT);
	assert_int_equal(t[1].loc.line, 5);
	for (int i = 0; i < n; i++)
		lang_token_release(&t[i]);
}

static void test_cdef_mode(void **state)
{
	struct lang_token t[16];
	enum lang_tok k[16];
	struct lang_diag d;
	int n = lex_all("struct Foo { int x; struct { int y; } z; }; (struct  task_struct *) sizeof(union\nU)", k, 16, t, &d);

	assert_int_equal(n, 10);
	assert_int_equal(k[0], TG_T_STRUCT_DEFN);
	assert_string_equal(t[0].text, "struct Foo { int x; struct { int y; } z; };");
	assert_int_equal(k[1], TG_T_LPAREN);
	assert_int_equal(k[2], TG_T_IDENT);
	assert_string_equal(t[2].text, "struct task_struct");
	assert_int_equal(k[3], TG_T_MUL);
	assert_int_equal(k[5], TG_T_CALL);
	assert_int_equal(k[6], TG_T_LPAREN);
	assert_string_equal(t[7].text, "union U");
	for (int i = 0; i < n; i++)
		lang_token_release(&t[i]);
	/* "structure" is a word, not the keyword */
	assert_int_equal(lex_all("structure", k, 8, NULL, &d), 2);
	assert_int_equal(k[0], TG_T_IDENT);
}

static void check_attach(const char *src, const char *want, char next)
{
	struct lang_lexer lx;
	struct lang_token t;
	struct lang_diag d;
	int r;

	static const char *const params[] = { "vfs_*", "/usr/bin/x" };

	lang_lexer_init(&lx, src, strlen(src));
	lx.params = params;
	lx.nparams = 2;
	r = lang_lex_attach(&lx, &t, &d);
	if (r < 0)
		fail_msg("%s: %s", src, d.msg);
	if (strcmp(t.text, want) != 0)
		fail_msg("%s: attach text \"%s\", want \"%s\"", src, t.text, want);
	assert_int_equal(lx.pos < lx.len ? lx.src[lx.pos] : 0, next);
	lang_token_release(&t);
}

static void test_attach_mode(void **state)
{
	check_attach("tracepoint:syscalls:sys_enter_openat /x/ {", "tracepoint:syscalls:sys_enter_openat", '/');
	check_attach("  uprobe:/bin/bash:readline{", "uprobe:/bin/bash:readline", '{');
	check_attach("kprobe:vfs_read+0x10,", "kprobe:vfs_read+0x10", ',');
	check_attach("uprobe:b:cn+00x1f {", "uprobe:b:cn+00x1f", '{');
	check_attach("kprobe:lookup_fast.constprop.*\n{", "kprobe:lookup_fast.constprop.*", '{');
	check_attach("uprobe:/bin/bash:\"echo_builtin\"+0 {", "uprobe:/bin/bash:\"echo_builtin\"+0", '{');
	check_attach("u:/x:\"a\\\"b\" {", "u:/x:\"a\\\"b\"", '{');
	check_attach("hardware:cache-misses:10 {", "hardware:cache-misses:10", '{');
	check_attach("uprobe: $2 : f {", "uprobe:/usr/bin/x:f", '{');
	check_attach("kprobe:$1 {", "kprobe:vfs_*", '{');
	check_attach("kprobe:f\nkprobe:g {", "kprobe:f", 'k');
	check_attach("i:s:1 2 {", "i:s:1", '2');
	check_attach("kprobe:f /* c */ {", "kprobe:f", '{');
	check_attach("kprobe:vfs_[rw]* {", "kprobe:vfs_[rw]*", '{');
	check_attach("{", "", '{');
	check_attach("", "", 0);

	struct lang_lexer lx;
	struct lang_token t;
	struct lang_diag d;

	lang_lexer_init(&lx, "uprobe:$0:f", 11);
	assert_int_equal(lang_lex_attach(&lx, &t, &d), -TG_EPARSE);
	assert_string_equal(d.msg, "positional parameter \"$0\" is not valid: they start at \"$1\"");
	assert_int_equal(d.loc.col, 8);
	lang_lexer_init(&lx, "i:s: 1e99", 9);
	assert_int_equal(lang_lex_attach(&lx, &t, &d), -TG_EPARSE);
	lang_lexer_init(&lx, "i:s:\"ab", 7);
	assert_int_equal(lang_lex_attach(&lx, &t, &d), -TG_EPARSE);
	assert_string_equal(d.msg, "string not terminated before end of file");
}

static void test_tok_names(void **state)
{
	assert_string_equal(lang_tok_name(TG_T_EOF), "end of file");
	assert_string_equal(lang_tok_name(TG_T_RBRACE), "\"}\"");
	assert_string_equal(lang_tok_name(TG_T_LEFTASSIGN), "\"<<=\"");
	assert_string_equal(lang_tok_name(TG_T_IF), "\"if\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_tokens),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_comments_and_preproc),
		cmocka_unit_test(test_cdef_mode),
		cmocka_unit_test(test_attach_mode),
		cmocka_unit_test(test_tok_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
