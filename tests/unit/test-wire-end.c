// SPDX-License-Identifier: Apache-2.0
/*
 * wire/end.h: every kind of end record (a runner's, the stand-in for a
 * dead session, the gateway's merged one, a detached log's) survives
 * encode -> decode unchanged, the texts the runner and the gateway have
 * always written decode, and the decoder refuses what it must, naming
 * the member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "wire/end.h"

static char *dup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static void round_trip(const struct wire_end *e)
{
	struct wire_end again = { 0 };
	char *text = NULL, *text2 = NULL, *err = NULL;

	assert_int_equal(wire_end_encode(e, &text), 0);
	assert_int_equal(wire_end_decode(text, strlen(text), &again, &err), 0);
	assert_null(err);
	assert_true(wire_end_equal(e, &again));
	assert_int_equal(wire_end_encode(&again, &text2), 0);
	assert_string_equal(text, text2);
	wire_end_release(&again);
	free(text);
	free(text2);
}

/* What a runner's session writes when its program ends. */
static void test_runner(void **state)
{
	struct wire_end e = { .reason = dup("exit"),
			      .has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_CPU_NS | WIRE_END_MAP_DROPS |
				     WIRE_END_OUTPUT_BYTES | WIRE_END_EXIT_CODE,
			      .events = 12, .drops = 1, .cpu_ns = 81234, .map_drops = 0, .output_bytes = 5120,
			      .exit_code = -3 };

	(void)state;
	round_trip(&e);
	e.has &= ~WIRE_END_EXIT_CODE;   /* not sent is not 0 */
	round_trip(&e);
	e.events = INT64_MAX;
	round_trip(&e);
	wire_end_release(&e);
}

/* The gateway's end: a message, the failed nodes, its bytes. */
static void test_gateway(void **state)
{
	struct wire_end e = { .reason = dup("node-failed"),
			      .message = dup("1 of 2 nodes failed: node \"n-2\": \"quoted\"\nand a tab\t;"),
			      .has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_MAP_DROPS | WIRE_END_BYTES |
				     WIRE_END_CPU_NS,
			      .events = 3, .bytes = 999 };

	(void)state;
	e.failed_nodes = calloc(2, sizeof(*e.failed_nodes));
	assert_non_null(e.failed_nodes);
	e.failed_nodes[0] = dup("n-2");
	e.failed_nodes[1] = dup("node-3.example");
	e.nfailed_nodes = 2;
	round_trip(&e);
	wire_end_release(&e);
}

/* GET /v1/sessions/ID/end and a detached session's log. */
static void test_kept(void **state)
{
	struct wire_end e = { .reason = dup("client-stop"), .trace = dup("tr-1"), .node = dup("node-1"),
			      .time = dup("2026-12-06T08:35:11.123456Z"), .has = WIRE_END_EVENTS, .events = 4 };

	(void)state;
	round_trip(&e);
	assert_true(wire_end_reason_ok(e.reason));
	assert_false(wire_end_reason_ok("node-failed"));
	assert_false(wire_end_reason_ok(NULL));
	wire_end_release(&e);
}

/* The texts the runner and the gateway wrote before wire/end.h. */
static void test_old_texts(void **state)
{
	static const char *const texts[] = {
		"{\"type\":\"end\",\"reason\":\"exit\",\"events\":12,\"drops\":0,\"cpuNs\":5,\"mapDrops\":0,"
		"\"outputBytes\":40,\"exitCode\":0}",
		"{\"type\":\"end\",\"reason\":\"node-failed\",\"message\":\"the session's process died before its end\","
		"\"events\":0,\"drops\":0,\"mapDrops\":0,\"cpuNs\":0,\"trace\":\"t1\",\"node\":\"node-1\"}",
		"{\"type\":\"end\",\"reason\":\"stop\",\"events\":1,\"drops\":0,\"mapDrops\":0,\"node\":\"node-1\","
		"\"time\":\"2026-12-06T08:35:11.000001Z\"}",
		"{\"type\":\"end\",\"reason\":\"runner-lost\",\"events\":1,\"drops\":0,\"mapDrops\":0,\"bytes\":77,"
		"\"cpuNs\":3,\"failedNodes\":[\"node-2\"],\"message\":\"node \\\"node-2\\\": lost\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct wire_end e = { 0 };
		char *err = NULL;

		assert_int_equal(wire_end_decode(texts[i], strlen(texts[i]), &e, &err), 0);
		assert_null(err);
		round_trip(&e);
		wire_end_release(&e);
	}
}

static void expect_refused(const char *text, int code, const char *want)
{
	struct wire_end e, blank;
	char *err = NULL;

	memset(&e, 0x5a, sizeof(e));
	blank = e;
	assert_int_equal(wire_end_decode(text, strlen(text), &e, &err), code);
	assert_non_null(err);
	if (!strstr(err, want))
		fail_msg("refusal of %s: \"%s\" does not name %s", text, err, want);
	assert_memory_equal(&e, &blank, sizeof(e));
	free(err);
}

static void test_refusals(void **state)
{
	char *big;

	(void)state;
	expect_refused("{\"type\":\"end\"}", -EINVAL, "\"reason\": missing");
	expect_refused("{\"type\":\"output\",\"reason\":\"exit\"}", -EINVAL, "\"type\"");
	expect_refused("[1]", -EINVAL, "not a JSON object");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"evnets\":1}", -EINVAL, "\"evnets\": unknown field");
	expect_refused("{\"type\":\"end\",\"reason\":\"Exit\"}", -EINVAL, "\"reason\": character 1");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\\nreason=ok\"}", -EINVAL, "\"reason\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"a-reason-longer-than-thirty-two-bytes\"}", -EINVAL,
		       "\"reason\": longer");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"events\":-1}", -EINVAL, "\"events\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"drops\":\"7\"}", -EINVAL, "\"drops\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"cpuNs\":1.5}", -EINVAL, "\"cpuNs\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"exitCode\":4294967296}", -EINVAL, "\"exitCode\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"exitCode\":true}", -EINVAL, "\"exitCode\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"failedNodes\":[]}", -EINVAL, "\"failedNodes\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"failedNodes\":[\"a/b\"]}", -EINVAL,
		       "\"failedNodes\"[0]");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"node\":\"../x\"}", -EINVAL, "\"node\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"message\":7}", -EINVAL, "\"message\"");
	expect_refused("{\"type\":\"end\",\"reason\":\"exit\",\"reason\":\"policy\"}", -EINVAL, "not JSON");
	big = calloc(WIRE_END_MAX_LINE + 2, 1);
	assert_non_null(big);
	memset(big, ' ', WIRE_END_MAX_LINE + 1);
	expect_refused(big, -E2BIG, "longer than");
	free(big);
}

/* The plugin's reader (wire_end_from_gateway): a newer gateway's member
 * is skipped, where the runner's and the gateway's strict reader refuse
 * it; a member it knows is still checked. */
static void test_version_skew(void **state)
{
	json_t *rec = json_loads("{\"type\":\"end\",\"reason\":\"exit\",\"events\":3,\"exitCode\":2,"
				 "\"failedNodes\":[\"n1\"],\"evnets\":1,\"newCounts\":{\"x\":[1]}}", 0, NULL);
	struct wire_end e = { 0 }, strict = { 0 };
	char *err = NULL;

	(void)state;
	assert_non_null(rec);
	if (wire_end_from_gateway(rec, &e, &err) < 0)
		fail_msg("%s", err);
	assert_string_equal(e.reason, "exit");
	assert_int_equal(e.events, 3);
	assert_int_equal(e.exit_code, 2);
	assert_int_equal(e.nfailed_nodes, 1);
	assert_int_equal(wire_end_from_json(rec, &strict, &err), -EINVAL);
	assert_non_null(strstr(err, "unknown field"));
	assert_null(strict.reason);
	free(err);
	err = NULL;
	json_object_set_new(rec, "drops", json_string("7"));
	wire_end_release(&e);
	assert_int_equal(wire_end_from_gateway(rec, &e, &err), -EINVAL);
	assert_non_null(strstr(err, "\"drops\""));
	assert_null(e.reason);
	free(err);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runner),    cmocka_unit_test(test_gateway), cmocka_unit_test(test_kept),
		cmocka_unit_test(test_old_texts), cmocka_unit_test(test_refusals), cmocka_unit_test(test_version_skew),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
