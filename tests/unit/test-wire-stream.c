// SPDX-License-Identifier: Apache-2.0
/*
 * wire/stream.h: the gateway's accepted and pod-change records survive
 * encode -> decode unchanged, the texts the gateway has always written
 * decode, and the plugin's decoder refuses what it must, naming the
 * member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "wire/stream.h"

static json_t *load(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void accepted_round_trip(const char *text)
{
	json_t *j = load(text), *enc = NULL, *enc2 = NULL;
	struct wire_accepted a = { 0 }, b = { 0 };
	char *err = NULL;

	if (wire_accepted_from_json(j, &a, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(wire_accepted_to_json(&a, &enc), 0);
	assert_true(json_equal(j, enc));   /* the gateway's text, member for member */
	assert_int_equal(wire_accepted_from_json(enc, &b, &err), 0);
	assert_true(wire_accepted_equal(&a, &b));
	assert_int_equal(wire_accepted_to_json(&b, &enc2), 0);
	assert_true(json_equal(enc, enc2));
	wire_accepted_release(&a);
	wire_accepted_release(&b);
	json_decref(j);
	json_decref(enc);
	json_decref(enc2);
}

static void pod_change_round_trip(const char *text)
{
	json_t *j = load(text), *enc = NULL, *enc2 = NULL;
	struct wire_pod_change a = { 0 }, b = { 0 };
	char *err = NULL;

	if (wire_pod_change_from_json(j, &a, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(wire_pod_change_to_json(&a, &enc), 0);
	assert_true(json_equal(j, enc));
	assert_int_equal(wire_pod_change_from_json(enc, &b, &err), 0);
	assert_true(wire_pod_change_equal(&a, &b));
	assert_int_equal(wire_pod_change_to_json(&b, &enc2), 0);
	assert_true(json_equal(enc, enc2));
	wire_pod_change_release(&a);
	wire_pod_change_release(&b);
	json_decref(j);
	json_decref(enc);
	json_decref(enc2);
}

static void test_round_trip(void **state)
{
	(void)state;
	accepted_round_trip("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"0b5e6f2a-1c3d\","
			    "\"pods\":[\"team-a/web-a\",\"team-b/web-b.x\"],\"nodes\":[\"node-1\",\"node-2\"]}");
	/* a node-wide trace: no pods */
	accepted_round_trip("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],"
			    "\"nodes\":[\"node-1\"]}");
	accepted_round_trip("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[]}");
	pod_change_round_trip("{\"type\":\"status\",\"phase\":\"pod-joined\",\"trace\":\"t\",\"pod\":\"team-a/web-a\","
			      "\"node\":\"node-1\"}");
	pod_change_round_trip("{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"team-a/web-a\","
			      "\"node\":\"node-1\"}");
	pod_change_round_trip("{\"type\":\"status\",\"phase\":\"pod-not-joined\",\"trace\":\"t\","
			      "\"pod\":\"team-a/web-a\",\"node\":\"node-9\","
			      "\"message\":\"not traced: no runner serves node \\\"node-9\\\"\"}");
	pod_change_round_trip("{\"type\":\"status\",\"phase\":\"pod-not-joined\",\"trace\":\"t\",\"pod\":\"a/b\"}");
}

static void expect_accepted_error(const char *text, const char *want)
{
	json_t *j = load(text);
	struct wire_accepted a;
	char *err = NULL;

	memset(&a, 0xa5, sizeof(a));
	assert_int_equal(wire_accepted_from_json(j, &a, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("%s: %s (wanted %s)", text, err, want);
	assert_int_equal(a.npods, (size_t)0xa5a5a5a5a5a5a5a5ull);   /* untouched */
	free(err);
	json_decref(j);
}

static void expect_pod_change_error(const char *text, const char *want)
{
	json_t *j = load(text);
	struct wire_pod_change c = { 0 };
	char *err = NULL;

	assert_int_equal(wire_pod_change_from_json(j, &c, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("%s: %s (wanted %s)", text, err, want);
	assert_null(c.phase);
	free(err);
	json_decref(j);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"pods\":[],\"nodes\":[]}", "\"trace\"");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"a/b\",\"pods\":[],\"nodes\":[]}",
			      "\"trace\"");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"nodes\":[]}", "\"pods\"");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[5],\"nodes\":[]}",
			      "\"pods\"[0]");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],"
			      "\"nodes\":[\"a\\u001b[2Jb\"]}", "\"nodes\"[0]");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],"
			      "\"nodes\":[\"n/1\"]}", "\"nodes\"[0]");
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"compiled\",\"trace\":\"t\",\"pods\":[],\"nodes\":[]}",
			      "\"phase\"");
	expect_accepted_error("{\"type\":\"error\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[]}",
			      "\"type\"");
	expect_pod_change_error("{\"type\":\"status\",\"phase\":\"pod-joined\",\"trace\":\"t\"}", "\"pod\"");
	expect_pod_change_error("{\"type\":\"status\",\"phase\":\"pod-gone\",\"trace\":\"t\",\"pod\":\"a/b\"}",
				"\"phase\"");
	expect_pod_change_error("{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"a\\u0007b\"}",
				"\"pod\"");
	expect_pod_change_error("{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"a/b\","
				"\"node\":\"n 1\"}", "\"node\"");
}

/* The plugin may be older than its gateway (wire/fields.h, "Version
 * skew"): a member it does not know is skipped; one it knows is checked. */
static void test_version_skew(void **state)
{
	json_t *j = load("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[\"a/b\"],"
			 "\"nodes\":[\"n1\"],\"cluster\":{\"name\":\"c\"},\"extra\":1}");
	json_t *k = load("{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"a/b\","
			 "\"why\":[\"x\"]}");
	struct wire_accepted a = { 0 };
	struct wire_pod_change c = { 0 };
	char *err = NULL;

	(void)state;
	if (wire_accepted_from_json(j, &a, &err) < 0)
		fail_msg("%s", err);
	assert_string_equal(a.trace, "t");
	assert_int_equal(a.npods, 1);
	assert_int_equal(a.nnodes, 1);
	if (wire_pod_change_from_json(k, &c, &err) < 0)
		fail_msg("%s", err);
	assert_string_equal(c.pod, "a/b");
	wire_accepted_release(&a);
	wire_pod_change_release(&c);
	json_decref(j);
	json_decref(k);
	expect_accepted_error("{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":7,\"pods\":[],\"nodes\":[],"
			      "\"extra\":1}", "\"trace\"");
	expect_pod_change_error("{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"a/b\","
				"\"message\":{},\"why\":\"x\"}", "\"message\"");
}

/* The encoders write nothing the decoders would refuse. */
static void test_encode_refuses(void **state)
{
	char *pods[] = { "a/b", "" };
	char *nodes[] = { "n/1" };
	struct wire_accepted a = { .trace = "t", .pods = pods, .npods = 1 };
	struct wire_pod_change c = { .phase = "pod-joined", .trace = "t", .pod = "a/b" };
	json_t *o = NULL;

	(void)state;
	assert_int_equal(wire_accepted_to_json(&a, &o), 0);
	json_decref(o);
	a.npods = 2;
	assert_int_equal(wire_accepted_to_json(&a, &o), -EINVAL);
	a = (struct wire_accepted){ .trace = "t", .nodes = nodes, .nnodes = 1 };
	assert_int_equal(wire_accepted_to_json(&a, &o), -EINVAL);   /* a node's name has no '/' */
	a = (struct wire_accepted){ .trace = NULL };
	assert_int_equal(wire_accepted_to_json(&a, &o), -EINVAL);
	assert_int_equal(wire_pod_change_to_json(&c, &o), 0);
	json_decref(o);
	c.phase = "accepted";
	assert_int_equal(wire_pod_change_to_json(&c, &o), -EINVAL);
	c.phase = "pod-left";
	c.node = "n 1";
	assert_int_equal(wire_pod_change_to_json(&c, &o), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_version_skew),
		cmocka_unit_test(test_encode_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
