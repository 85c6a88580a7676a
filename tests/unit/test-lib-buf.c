// SPDX-License-Identifier: Apache-2.0
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
#include <jansson.h>
#include "lib/buf.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"

static void test_buf_never_null(void **state)
{
	struct buf b = BUF_INIT(16);

	assert_non_null(b.s);
	assert_string_equal(b.s, "");
	buf_clear(&b);
	assert_string_equal(b.s, "");
	buf_release(&b);
	assert_non_null(b.s);
}

static void test_buf_limit(void **state)
{
	struct buf b = BUF_INIT(8);

	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(buf_addc(&b, 'x'), -E2BIG);
	assert_string_equal(b.s, "12345678");
	assert_int_equal(buf_printf(&b, "%d", 1), -E2BIG);
	buf_consume(&b, 3);
	assert_string_equal(b.s, "45678");
	assert_int_equal(buf_printf(&b, "%d", 123), 0);
	assert_string_equal(b.s, "45678123");
	buf_release(&b);
}

static void test_buf_json_escape(void **state)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(buf_add_json_escaped(&b, "a\"b\\c\n\x01", 7), 0);
	assert_string_equal(b.s, "a\\\"b\\\\c\\n\\u0001");
	buf_release(&b);
}

/* A name from outside in a message: what could mislead a reader becomes \xHH. */
static void test_buf_quoted_name(void **state)
{
	struct buf b = BUF_INIT(256);

	(void)state;
	assert_int_equal(buf_add_quoted_name(&b, "../x", 8), 0);
	assert_string_equal(b.s, "../x");
	buf_clear(&b);
	assert_int_equal(buf_add_quoted_name(&b, "a\"b\\c\n\x7f\xc3\xa9", 16), 0);
	assert_string_equal(b.s, "a\\x22b\\x5cc\\x0a\\x7f\\xc3\\xa9");
	buf_clear(&b);
	/* cut after max characters */
	assert_int_equal(buf_add_quoted_name(&b, "abcdefgh", 3), 0);
	assert_string_equal(b.s, "abc...");
	buf_clear(&b);
	assert_int_equal(buf_add_quoted_name(&b, "abc", 3), 0);
	assert_string_equal(b.s, "abc");
	buf_clear(&b);
	assert_int_equal(buf_add_quoted_name(&b, NULL, 3), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* Bytes a traced program chose (comm, str(), "\\xff") become a string
 * jansson accepts: each invalid byte one U+FFFD, valid UTF-8 untouched. */
static void test_buf_utf8(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },
		{ "\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9" },
		{ "\xc3", 1, "\xef\xbf\xbd" },                       /* cut short */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },           /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* a surrogate */
		{ "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf0\x9f\x90\x9d", 4, "\xf0\x9f\x90\x9d" },
		{ "\"}\n{\"type\":\"end\"\x80", 17, "\"}\n{\"type\":\"end\"\xef\xbf\xbd" },
		{ "a\0b", 3, "a\xef\xbf\xbd" "b" },                    /* printf("%c", 0) */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(64);
		json_t *j;

		assert_int_equal(buf_add_utf8(&b, cases[i].in, cases[i].len), 0);
		assert_int_equal(b.len, strlen(cases[i].want));
		assert_memory_equal(b.s, cases[i].want, b.len);
		j = json_stringn(b.s, b.len);
		assert_non_null(j);
		{
			/* and a reader with jansson's defaults takes it back */
			char *text = json_dumps(j, JSON_ENCODE_ANY);
			json_t *back = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

			assert_non_null(back);
			json_decref(back);
			free(text);
		}
		json_decref(j);
		buf_release(&b);
	}
	/* the limit holds: 8 invalid bytes would take 24 */
	{
		struct buf b = BUF_INIT(16);

		assert_int_equal(buf_add_utf8(&b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), -E2BIG);
		buf_release(&b);
	}
}

static void test_parse_numbers(void **state)
{
	uint64_t u;
	int64_t i;

	assert_int_equal(parse_u64("42", &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(parse_u64("0x10", &u), 0);
	assert_int_equal(u, 16);
	assert_int_equal(parse_u64("-1", &u), -EINVAL);
	assert_int_equal(parse_u64("12ab", &u), -EINVAL);
	assert_int_equal(parse_u64("", &u), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", &u), -ERANGE);
	assert_int_equal(parse_i64("-5", &i), 0);
	assert_int_equal(i, -5);
}

static void test_sha256(void **state)
{
	char hex[65];

	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_strerror(void **state)
{
	assert_string_equal(tg_strerror(-TG_EPOLICY), "denied by policy");
	assert_string_equal(tg_strerror(-ENOENT), "No such file or directory");
}

/* What log_info writes to stderr, as a string (caller frees). */
static char *logged(const char *msg)
{
	char path[] = "/tmp/tg-test-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *s = calloc(1, 4096);

	assert_true(fd >= 0 && saved >= 0 && s);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	log_info("peer said: %s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_true(pread(fd, s, 4095, 0) > 0);
	close(fd);
	return s;
}

/* Log lines carry text others chose (a tenant's program line in a compile
 * error): a newline, carriage return or terminal escape in it must not
 * forge or hide a line of the log. */
static void test_log_one_line(void **state)
{
	char *s;

	log_init("tg-test", LOG_LVL_INFO);
	s = logged("x\ntg-test: info: session FORGED outcome=duration\r\x1b[2Kend\x7f");
	assert_string_equal(s, "tg-test: info: peer said: x\\ntg-test: info: session FORGED outcome=duration"
			       "\\r\\x1b[2Kend\\x7f\n");
	free(s);
	s = logged("plain text, tabs\tand UTF-8 \xc3\xa9 stay");
	assert_string_equal(s, "tg-test: info: peer said: plain text, tabs\\tand UTF-8 \xc3\xa9 stay\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_never_null),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_json_escape),
		cmocka_unit_test(test_buf_quoted_name),
		cmocka_unit_test(test_buf_utf8),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_log_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
