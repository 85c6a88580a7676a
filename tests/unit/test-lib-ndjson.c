// SPDX-License-Identifier: Apache-2.0
/* lib/ndjson: the one NDJSON line splitter, of the gateway (runner
 * streams) and of kubectl-trace (the gateway's stream). */
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
#include "lib/ndjson.h"

struct lines {
	char *v[32];
	size_t n;
	size_t fail_at;           /* return an error on this line (1-based; 0 never) */
};

static int collect(const char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;

	if (l->n >= 32)
		return -E2BIG;
	l->v[l->n++] = strndup(line, len);
	if (l->fail_at == l->n)
		return -EBADMSG;
	return 0;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static void test_split_across_chunks(void **state)
{
	const char stream[] = "{\"a\":1}\n{\"b\":\r\n2}\r\n\n\n\r\n{\"c\":3}\n{\"partial\"";
	struct ndjson_splitter s;
	struct lines l = { 0 };

	/* every way of cutting the stream gives the same lines */
	for (size_t step = 1; step <= sizeof(stream); step++) {
		ndjson_init(&s, 64);
		for (size_t off = 0; off < sizeof(stream) - 1; off += step) {
			size_t n = sizeof(stream) - 1 - off < step ? sizeof(stream) - 1 - off : step;

			assert_int_equal(ndjson_feed(&s, stream + off, n, collect, &l), 0);
		}
		assert_int_equal(l.n, 4);
		assert_string_equal(l.v[0], "{\"a\":1}");
		assert_string_equal(l.v[1], "{\"b\":");  /* a line's last \r goes */
		assert_string_equal(l.v[2], "2}");
		assert_string_equal(l.v[3], "{\"c\":3}");   /* empty lines (and "\r") are skipped */
		assert_int_equal(ndjson_pending(&s), strlen("{\"partial\""));
		lines_free(&l);
		ndjson_release(&s);
	}
}

static void test_split_limit(void **state)
{
	struct ndjson_splitter s;
	struct lines l = { 0 };

	/* a line of exactly the limit passes; one more byte is refused,
	 * whether it arrives whole or in pieces */
	ndjson_init(&s, 8);
	assert_int_equal(ndjson_feed(&s, "12345678\n", 9, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(ndjson_feed(&s, "123456789\n", 10, collect, &l), -TG_ELIMIT);
	ndjson_release(&s);
	ndjson_init(&s, 8);
	assert_int_equal(ndjson_feed(&s, "1234", 4, collect, &l), 0);
	assert_int_equal(ndjson_feed(&s, "5678", 4, collect, &l), 0);
	assert_int_equal(ndjson_feed(&s, "9", 1, collect, &l), -TG_ELIMIT);
	ndjson_release(&s);
	lines_free(&l);
}

static void test_split_clear(void **state)
{
	struct ndjson_splitter s;
	struct lines l = { 0 };

	/* a new stream after an unfinished line: none of its bytes are kept */
	ndjson_init(&s, 8);
	assert_int_equal(ndjson_feed(&s, "{\"cut", 5, collect, &l), 0);
	assert_int_equal(ndjson_pending(&s), 5);
	ndjson_clear(&s);
	assert_int_equal(ndjson_pending(&s), 0);
	assert_int_equal(ndjson_feed(&s, "new\n", 4, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "new");
	/* and after a line too long, with the same limit */
	assert_int_equal(ndjson_feed(&s, "12345", 5, collect, &l), 0);
	assert_int_equal(ndjson_feed(&s, "6789", 4, collect, &l), -TG_ELIMIT);
	ndjson_clear(&s);
	assert_int_equal(ndjson_feed(&s, "12345678\n", 9, collect, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "12345678");
	assert_int_equal(ndjson_feed(&s, "123456789", 9, collect, &l), -TG_ELIMIT);
	ndjson_clear(&s);
	ndjson_clear(&s);   /* twice is fine */
	ndjson_release(&s);
	lines_free(&l);
}

static void test_split_callback_error(void **state)
{
	struct ndjson_splitter s;
	struct lines l = { .fail_at = 2 };

	ndjson_init(&s, 64);
	assert_int_equal(ndjson_feed(&s, "a\nb\nc\n", 6, collect, &l), -EBADMSG);
	assert_int_equal(l.n, 2);  /* stopped at the failing line */
	lines_free(&l);
	ndjson_release(&s);
	/* a released splitter holds nothing */
	assert_int_equal(ndjson_pending(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_across_chunks),
		cmocka_unit_test(test_split_limit),
		cmocka_unit_test(test_split_clear),
		cmocka_unit_test(test_split_callback_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
