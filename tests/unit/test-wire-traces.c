// SPDX-License-Identifier: Apache-2.0
/*
 * wire/traces.h: the gateway's Trace and TraceList survive encode ->
 * decode, what the gateway has always written decodes and encodes to the
 * same JSON, the plugin's readers skip members they do not know and
 * refuse known ones of the wrong type, naming them.
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
#include "wire/traces.h"

#define TRACE_RUNNING                                                                                         \
	"{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"Trace\","                                      \
	"\"metadata\":{\"name\":\"3f2a-9c\",\"namespace\":\"team-a\",\"creationTimestamp\":\"2026-12-07T02:40:00Z\"," \
	"\"annotations\":{\"tracegate.dev/user\":\"alice@example.com\"}},"                                    \
	"\"spec\":{\"target\":\"deployment/web\",\"program\":\"kprobe:do_nanosleep { printf(\\\"%d\\\\n\\\", pid); }\","  \
	"\"duration\":60,\"user\":\"alice@example.com\"},"                                                   \
	"\"status\":{\"phase\":\"Running\",\"nodes\":[\"node-1\",\"node-2\"],\"pods\":[\"team-a/web-a\",\"team-a/web-b\"]," \
	"\"nodeStates\":{\"node-1\":\"Running\",\"node-2\":\"Running\"},\"events\":12,\"drops\":0,\"outputs\":12," \
	"\"bufferDropped\":0}}"

#define TRACE_CREATED                                                                                         \
	"{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"Trace\","                                      \
	"\"metadata\":{\"name\":\"t1\",\"namespace\":\"team-a\",\"creationTimestamp\":\"2026-12-07T02:40:00Z\"," \
	"\"annotations\":{\"tracegate.dev/user\":\"alice\"}},"                                                \
	"\"spec\":{\"target\":\"-l app=web\",\"program\":\"BEGIN { exit(); }\",\"duration\":300,\"user\":\"alice\"}," \
	"\"status\":{\"phase\":\"Failed\",\"nodes\":[\"node-1\"],\"pods\":[],\"nodeStates\":{\"node-1\":\"Failed\"}," \
	"\"events\":0,\"drops\":1,\"outputs\":0,\"bufferDropped\":3,\"endReason\":\"program-error\","           \
	"\"failedNodes\":[\"node-2\"],\"message\":\"node \\\"node-2\\\": 403 refused\","                      \
	"\"podsLeftOut\":[{\"pod\":\"team-a/web-c\",\"node\":\"node-9\",\"message\":\"not traced: no runner\"}]}}"

static json_t *load(const char *text)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	if (!j)
		fail_msg("not JSON: %s", text);
	return j;
}

static void trace_round_trip(const char *text)
{
	json_t *j = load(text), *enc = NULL, *enc2 = NULL;
	struct wire_trace a = { 0 }, b = { 0 };
	char *err = NULL;

	if (wire_trace_from_gateway(j, &a, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(wire_trace_to_json(&a, &enc), 0);
	if (!json_equal(j, enc))
		fail_msg("%s: encoded as %s", text, json_dumps(enc, JSON_COMPACT));
	assert_int_equal(wire_trace_from_gateway(enc, &b, &err), 0);
	assert_true(wire_trace_equal(&a, &b));
	assert_int_equal(wire_trace_to_json(&b, &enc2), 0);
	assert_true(json_equal(enc, enc2));
	wire_trace_release(&a);
	wire_trace_release(&b);
	json_decref(j);
	json_decref(enc);
	json_decref(enc2);
}

static void expect_refused(const char *text, bool list, const char *want);

static void test_round_trip(void **state)
{
	json_t *l = load("{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"TraceList\",\"metadata\":{},\"items\":["
			 TRACE_RUNNING "," TRACE_CREATED "]}"), *enc = NULL;
	struct wire_trace_list a = { 0 }, b = { 0 };
	char *err = NULL;

	(void)state;
	trace_round_trip(TRACE_RUNNING);
	trace_round_trip(TRACE_CREATED);
	if (wire_trace_list_from_gateway(l, &a, &err) < 0)
		fail_msg("%s", err);
	assert_int_equal(a.nitems, 2);
	assert_string_equal(a.items[1].left_out[0].pod, "team-a/web-c");
	assert_int_equal(a.items[0].nstates, 2);
	assert_int_equal(wire_trace_list_to_json(&a, &enc), 0);
	assert_true(json_equal(l, enc));
	assert_int_equal(wire_trace_list_from_gateway(enc, &b, &err), 0);
	assert_true(wire_trace_list_equal(&a, &b));
	wire_trace_list_release(&a);
	wire_trace_list_release(&b);
	json_decref(enc);
	json_decref(l);
	/* an empty list, and one a runner could not add to */
	l = load("{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"TraceList\",\"metadata\":{},\"items\":[],"
		 "\"incomplete\":\"node-2: runner unreachable\"}");
	assert_int_equal(wire_trace_list_from_gateway(l, &a, &err), 0);
	assert_string_equal(a.incomplete, "node-2: runner unreachable");
	assert_int_equal(wire_trace_list_to_json(&a, &enc), 0);
	assert_true(json_equal(l, enc));
	wire_trace_list_release(&a);
	json_decref(enc);
	json_decref(l);
	expect_refused("{\"kind\":\"TraceList\",\"items\":[],\"incomplete\":3}", true, "\"incomplete\"");
	l = load("{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"TraceList\",\"metadata\":{},\"items\":[]}");
	assert_int_equal(wire_trace_list_from_gateway(l, &a, &err), 0);
	assert_int_equal(a.nitems, 0);
	assert_int_equal(wire_trace_list_to_json(&a, &enc), 0);
	assert_true(json_equal(l, enc));
	wire_trace_list_release(&a);
	json_decref(enc);
	json_decref(l);
}

/* A dry run's answer, the shape the gateway wrote by hand before
 * wire_checked_to_json (tests/fuzz/corpus/wire-traces/checked). */
#define CHECKED "{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"compiled\":[{\"fromCache\":false,\"node\":\"node-1\",\"object\":\"e8cfd5cc3ee284380fd38718bc0a290cefd55baa4b95cd347127774077033c70\",\"probes\":1},{\"fromCache\":true,\"node\":\"node-2\",\"object\":null,\"probes\":null}],\"kind\":\"Trace\",\"limits\":{\"cpuBudget\":0.05,\"eventsPerSecond\":10000,\"maxConcurrentTraces\":{\"perNamespace\":20,\"perUser\":5},\"maxDuration\":600,\"maxMapBytes\":16777216,\"maxMapEntries\":4096,\"maxOutputBytes\":16777216},\"message\":\"allowed by policy \\\"restricted\\\"\",\"metadata\":{\"name\":\"3f0c6a2e-8c1b-4a53-9d0e-1b7e2f4a9c11\",\"namespace\":\"team-a\"},\"nodes\":[\"node-1\",\"node-2\"],\"pods\":[\"team-a/web-a\",\"team-a/web-b\"],\"podsLeftOut\":[{\"message\":\"not traced: no runner for node \\\"node-9\\\"\",\"node\":\"node-9\",\"pod\":\"team-a/web-z\"}],\"policy\":\"restricted\",\"spec\":{\"duration\":0,\"target\":\"deployment/web\"},\"status\":{\"nodes\":[\"node-1\",\"node-2\"],\"phase\":\"Checked\",\"pods\":[\"team-a/web-a\",\"team-a/web-b\"],\"policy\":\"restricted\"}}"

static void checked_refused(const char *text, const char *want)
{
	json_t *j = load(text);
	struct wire_checked c = { 0 };
	char *err = NULL;

	if (wire_checked_from_gateway(j, &c, &err) != -EINVAL || !err || !strstr(err, want))
		fail_msg("%s: want a refusal naming %s, got %s", text, want, err ? err : "none");
	free(err);
	json_decref(j);
}

/* Decoded, encoded to the same JSON, decoded again to an equal answer;
 * members of the wrong type refused by name. */
static void test_checked(void **state)
{
	json_t *j = load(CHECKED), *enc = NULL, *tree;
	struct wire_checked a = { 0 }, b = { 0 };
	char *err = NULL;

	(void)state;
	if (wire_checked_from_gateway(j, &a, &err) < 0)
		fail_msg("%s", err);
	assert_string_equal(a.policy, "restricted");
	assert_int_equal(a.npods, 2);
	assert_int_equal(a.ncompiled, 2);
	assert_true(a.compiled[0].has_probes);
	assert_int_equal(a.compiled[0].probes, 1);
	assert_false(a.compiled[1].has_probes);
	assert_null(a.compiled[1].object);
	assert_true(a.compiled[1].from_cache);
	assert_int_equal(a.limits.max_traces_per_user, 5);
	assert_true(a.limits.cpu_budget == 0.05);
	assert_string_equal(a.left_out[0].node, "node-9");
	assert_int_equal(wire_checked_to_json(&a, &enc), 0);
	if (!json_equal(j, enc))
		fail_msg("encoded as %s", json_dumps(enc, JSON_COMPACT | JSON_SORT_KEYS));
	assert_int_equal(wire_checked_from_gateway(enc, &b, &err), 0);
	assert_true(wire_checked_equal(&a, &b));
	/* the encoder refuses what the reader would */
	free(b.compiled[0].node);
	b.compiled[0].node = strdup("a b");
	tree = NULL;
	assert_int_equal(wire_checked_to_json(&b, &tree), -EINVAL);
	assert_null(tree);
	wire_checked_release(&a);
	wire_checked_release(&b);
	json_decref(enc);
	json_decref(j);
	checked_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"compiled\":[{\"node\":\"a b\"}]}",
			"compiled[0].");
	checked_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"compiled\":[{\"node\":\"n\","
			"\"fromCache\":1}]}",
			"fromCache");
	checked_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"limits\":{\"cpuBudget\":\"x\"}}",
			"cpuBudget");
	checked_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"podsLeftOut\":3}", "podsLeftOut");
	checked_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"pods\":[1]}", "pods");
	checked_refused("{\"kind\":\"TraceList\"}", "kind");
	/* a selector's target, as long as a selector may be, goes out and back */
	{
		static char target[3 + KUBE_SELECTOR_MAX_BYTES + 4];
		struct wire_checked s = { .name = (char *)"t" };
		json_t *o = NULL;

		memcpy(target, "-l ", 3);
		memset(target + 3, 'a', KUBE_SELECTOR_MAX_BYTES);
		memcpy(target + 3 + KUBE_SELECTOR_MAX_BYTES, " -A", 4);
		s.target = target;
		assert_int_equal(wire_checked_to_json(&s, &o), 0);
		assert_int_equal(wire_checked_from_gateway(o, &b, &err), 0);
		assert_string_equal(b.target, target);
		wire_checked_release(&b);
		json_decref(o);
	}
}

/* A newer gateway: members the plugin does not know are skipped, at every level. */
static void test_version_skew(void **state)
{
	json_t *j = load("{\"apiVersion\":\"tracegate.dev/v1beta1\",\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\","
			 "\"uid\":\"u\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"target\":\"pod/a\",\"output\":\"json\"},"
			 "\"status\":{\"phase\":\"Stopping\",\"nodes\":[\"n1\"],\"conditions\":[{\"type\":\"Ready\"}],"
			 "\"podsLeftOut\":[{\"pod\":\"a/b\",\"node\":\"n2\",\"since\":3}]},\"extra\":true}");
	struct wire_trace t = { 0 };
	char *err = NULL;

	(void)state;
	if (wire_trace_from_gateway(j, &t, &err) < 0)
		fail_msg("%s", err);
	assert_string_equal(t.name, "t");
	assert_string_equal(t.phase, "Stopping");
	assert_int_equal(t.nleft_out, 1);
	assert_null(t.left_out[0].message);
	wire_trace_release(&t);
	json_decref(j);
}

static void expect_refused(const char *text, bool list, const char *want)
{
	json_t *j = load(text);
	struct wire_trace t;
	struct wire_trace_list l;
	char *err = NULL;

	memset(&t, 0x5a, sizeof(t));
	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(list ? wire_trace_list_from_gateway(j, &l, &err) : wire_trace_from_gateway(j, &t, &err),
			 -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("%s: %s (wanted %s)", text, err, want);
	assert_int_equal(t.nnodes, (size_t)0x5a5a5a5a5a5a5a5aull);   /* untouched */
	assert_int_equal(l.nitems, (size_t)0x5a5a5a5a5a5a5a5aull);
	free(err);
	json_decref(j);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("{\"kind\":\"Status\",\"metadata\":{\"name\":\"t\"}}", false, "\"kind\"");
	expect_refused("{\"kind\":\"Trace\"}", false, "\"metadata\": missing");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{}}", false, "metadata.\"name\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"a/b\"}}", false, "metadata.\"name\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\",\"creationTimestamp\":5}}", false,
		       "metadata.\"creationTimestamp\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"spec\":{\"duration\":\"60\"}}", false,
		       "spec.\"duration\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"spec\":[]}", false, "\"spec\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"events\":-1}}", false,
		       "status.\"events\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"nodes\":[\"a b\"]}}", false,
		       "status.\"nodes\"[0]");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"pods\":\"a/b\"}}", false,
		       "status.\"pods\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"phase\":\"Run\\nning\"}}", false,
		       "status.\"phase\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"nodeStates\":{\"n1\":1}}}", false,
		       "status.\"nodeStates\".\"n1\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"},\"status\":{\"podsLeftOut\":[{\"node\":\"n\"}]}}",
		       false, "status.podsLeftOut[0].\"pod\"");
	expect_refused("{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\",\"annotations\":{\"tracegate.dev/user\":\"bob\"}},"
		       "\"spec\":{\"user\":\"alice\"}}", false, "not spec.user");
	expect_refused("{\"kind\":\"TraceList\",\"items\":{}}", true, "\"items\"");
	expect_refused("{\"kind\":\"TraceList\",\"items\":[{\"kind\":\"Trace\",\"metadata\":{\"name\":\"t\"}},"
		       "{\"kind\":\"Trace\",\"metadata\":{\"name\":7}}]}", true, "items[1]: metadata.\"name\"");
}

/* The encoder writes nothing the readers refuse. */
static void test_encode_refuses(void **state)
{
	struct wire_node_state st[] = { { "n1", "Running" }, { "n1", "Failed" } };
	char *nodes[] = { "n/1" };
	struct wire_trace t = { .name = "t", .states = st, .nstates = 1 };
	json_t *o = NULL;

	(void)state;
	assert_int_equal(wire_trace_to_json(&t, &o), 0);
	json_decref(o);
	t.nstates = 2;   /* a node twice */
	assert_int_equal(wire_trace_to_json(&t, &o), -EINVAL);
	t.nstates = 0;
	t.nodes = nodes;
	t.nnodes = 1;
	assert_int_equal(wire_trace_to_json(&t, &o), -EINVAL);
	t.nnodes = 0;
	t.name = NULL;
	assert_int_equal(wire_trace_to_json(&t, &o), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_checked),
		cmocka_unit_test(test_version_skew),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_encode_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
