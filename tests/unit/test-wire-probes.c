// SPDX-License-Identifier: Apache-2.0
/*
 * wire/probes.h: a listing written line by line reads back as the same
 * names and fields, the text the runner has always written reads, and
 * the reader refuses what is neither a name nor a field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "wire/probes.h"

struct want {
	enum wire_probe_kind kind;
	const char *text;
};

static void read_back(const char *text, const struct want *want, size_t n)
{
	size_t o = 0, k = 0, len = strlen(text);

	while (o < len) {
		const char *nl = memchr(text + o, '\n', len - o);
		size_t l = nl ? (size_t)(nl - (text + o)) : len - o;
		struct wire_probe_line pl;
		char *err = NULL;

		assert_int_equal(wire_probes_line_decode(text + o, l, &pl, &err), 0);
		assert_null(err);
		assert_true(k < n);
		assert_int_equal(pl.kind, want[k].kind);
		assert_int_equal(pl.len, strlen(want[k].text));
		assert_memory_equal(pl.text, want[k].text, pl.len);
		k++;
		o += l + 1;
	}
	assert_int_equal(k, n);
}

static void test_round_trip(void **state)
{
	static const struct want want[] = {
		{ WIRE_PROBE_NAME, "software:cpu-clock:" },
		{ WIRE_PROBE_NAME, "tracepoint:sched:sched_switch" },
		{ WIRE_PROBE_FIELD, "char prev_comm[16]" },
		{ WIRE_PROBE_FIELD, "__data_loc char[] name" },
		{ WIRE_PROBE_FIELD, "unsigned long\targs[6]" },
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(want[i].kind == WIRE_PROBE_NAME ? wire_probes_name_write(f, want[i].text)
								  : wire_probes_field_write(f, want[i].text), 0);
	/* what the reader would refuse is not written */
	assert_int_equal(wire_probes_name_write(f, "tracepoint:a b"), -EINVAL);
	assert_int_equal(wire_probes_name_write(f, ""), -EINVAL);
	assert_int_equal(wire_probes_field_write(f, " leading"), -EINVAL);
	assert_int_equal(wire_probes_field_write(f, "esc\x1b[2J"), -EINVAL);
	fclose(f);
	assert_string_equal(text, "software:cpu-clock:\ntracepoint:sched:sched_switch\n    char prev_comm[16]\n"
				  "    __data_loc char[] name\n    unsigned long\targs[6]\n");
	read_back(text, want, sizeof(want) / sizeof(want[0]));
	free(text);
}

static void expect_refused(const char *line, const char *want)
{
	struct wire_probe_line pl = { .kind = 77 };
	char *err = NULL;

	assert_int_equal(wire_probes_line_decode(line, strlen(line), &pl, &err), -EINVAL);
	assert_int_equal(pl.kind, 77);
	if (!err || !strstr(err, want))
		fail_msg("refusal of \"%s\": \"%s\" does not say %s", line, err ? err : "", want);
	free(err);
}

static void test_refusals(void **state)
{
	char *long_line = malloc(WIRE_PROBES_MAX_LINE + 2);
	struct wire_probe_line pl;

	(void)state;
	assert_int_equal(wire_probes_line_decode("", 0, &pl, NULL), 0);
	assert_int_equal(pl.kind, WIRE_PROBE_BLANK);
	expect_refused("tracepoint:a b", "name line: byte 13");
	expect_refused(" tracepoint:x", "name line: byte 1");
	expect_refused("    ", "name line: byte 1");
	expect_refused("     two indents", "field line");
	expect_refused("    bad\x07", "field line");
	expect_refused("tracepoint:\xc3\xa9", "name line: byte 12");
	expect_refused("tracepoint:x\r", "name line");
	assert_non_null(long_line);
	memset(long_line, 'a', WIRE_PROBES_MAX_LINE + 1);
	long_line[WIRE_PROBES_MAX_LINE + 1] = '\0';
	expect_refused(long_line, "longer than");
	free(long_line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
