// SPDX-License-Identifier: Apache-2.0
/*
 * wire/sessions.h: the runner's session listing survives encode ->
 * decode, the text the runner has always written decodes, and the
 * decoder refuses what it must, naming the member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "wire/sessions.h"

static void round_trip(const struct wire_sessions *l)
{
	struct wire_sessions again = { 0 };
	char *text = NULL, *text2 = NULL, *err = NULL;

	assert_int_equal(wire_sessions_encode(l, &text), 0);
	assert_int_equal(wire_sessions_decode(text, strlen(text), &again, &err), 0);
	assert_null(err);
	assert_true(wire_sessions_equal(l, &again));
	assert_int_equal(wire_sessions_encode(&again, &text2), 0);
	assert_string_equal(text, text2);
	wire_sessions_release(&again);
	free(text);
	free(text2);
}

static void test_round_trip(void **state)
{
	struct wire_sessions l = { .node = strdup("node-1") };
	const struct wire_session_item items[] = {
		{ "tr-1", "team-a", "alice@example.com", "Running", false },
		{ "tr-2", "", "system:serviceaccount:ops:bot", "Running", true },   /* node-wide */
		{ "tr-3", "team-b", "bj\xc3\xb6rn", "Stopping", true },
	};

	(void)state;
	assert_non_null(l.node);
	round_trip(&l);         /* no session */
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		assert_int_equal(wire_sessions_add(&l, &items[i]), 0);
	round_trip(&l);
	assert_true(wire_sessions_state_live("Stopping"));
	assert_false(wire_sessions_state_live("Succeeded"));
	assert_false(wire_sessions_state_live(NULL));
	wire_sessions_release(&l);
}

static void test_old_text(void **state)
{
	static const char text[] = "{\"node\":\"node-1\",\"items\":[{\"trace\":\"a1\",\"namespace\":\"team-a\","
				   "\"user\":\"alice\",\"state\":\"Running\",\"detached\":false}]}";
	struct wire_sessions l = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(wire_sessions_decode(text, strlen(text), &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].user, "alice");
	assert_false(l.items[0].detached);
	wire_sessions_release(&l);
}

static void expect_refused(const char *text, int code, const char *want)
{
	struct wire_sessions l, blank;
	char *err = NULL;

	memset(&l, 0x5a, sizeof(l));
	blank = l;
	assert_int_equal(wire_sessions_decode(text, strlen(text), &l, &err), code);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("refusal of %s: \"%s\" does not name %s", text, err, want);
	assert_memory_equal(&l, &blank, sizeof(l));
	free(err);
}

#define ITEM(x) "{\"node\":\"n\",\"items\":[" x "]}"

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("[]", -EINVAL, "not a JSON object");
	expect_refused("{\"items\":[]}", -EINVAL, "\"node\": missing");
	expect_refused("{\"node\":\"n\"}", -EINVAL, "\"items\"");
	expect_refused("{\"node\":\"n\",\"items\":[],\"more\":1}", -EINVAL, "\"more\": unknown field");
	expect_refused("{\"node\":\"a/b\",\"items\":[]}", -EINVAL, "\"node\"");
	expect_refused(ITEM("7"), -EINVAL, "items[0]: not an object");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\",\"user\":\"u\",\"state\":\"Running\"}"), -EINVAL,
		       "items[0].\"detached\"");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\",\"user\":\"u\",\"state\":\"Running\","
			    "\"detached\":false,\"pid\":1}"),
		       -EINVAL, "items[0].\"pid\": unknown field");
	expect_refused(ITEM("{\"trace\":\"t/..\",\"namespace\":\"a\",\"user\":\"u\",\"state\":\"Running\","
			    "\"detached\":false}"),
		       -EINVAL, "items[0].\"trace\"");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\",\"user\":\"\",\"state\":\"Running\","
			    "\"detached\":false}"),
		       -EINVAL, "items[0].\"user\"");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\\nb\",\"user\":\"u\",\"state\":\"Running\","
			    "\"detached\":false}"),
		       -EINVAL, "items[0].\"namespace\"");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\",\"user\":\"u\",\"state\":\"Done\","
			    "\"detached\":false}"),
		       -EINVAL, "items[0].\"state\"");
	expect_refused(ITEM("{\"trace\":\"t\",\"namespace\":\"a\",\"user\":\"u\",\"state\":\"Running\","
			    "\"detached\":0}"),
		       -EINVAL, "items[0].\"detached\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_text),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
