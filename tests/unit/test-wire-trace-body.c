// SPDX-License-Identifier: Apache-2.0
/*
 * wire/trace-body.h: every member and variant of the trace request (a pod,
 * a workload, a node, a selector with and without -A, params, duration,
 * detach, output, container, allNodes) survives encode -> decode
 * unchanged, the plugin's text is the one it has always sent, and the
 * gateway's decoder refuses what it must, naming the field with today's
 * messages.
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
#include <jansson.h>
#include "kube/selector.h"
#include "kube/workload.h"
#include "wire/trace-body.h"

static void expect_body_error(const char *body, const char *field, const char *want)
{
	struct trace_body b;
	char *f = NULL, *err = NULL;

	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), -EINVAL);
	if (!f || strcmp(f, field) || !err || !strstr(err, want))
		fail_msg("%s: field %s err %s (wanted %s, %s)", body, f, err, field, want);
	free(f);
	free(err);
}

/* decode(text), then encode, decode and encode again: equal structs, the
 * same text twice */
static void round_trip(const char *text)
{
	struct trace_body a, b;
	char *f = NULL, *err = NULL, *enc = NULL, *enc2 = NULL;

	if (trace_body_decode(text, strlen(text), &a, &f, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(trace_body_encode(&a, &enc), 0);
	if (trace_body_decode(enc, strlen(enc), &b, &f, &err) < 0)
		fail_msg("%s: its encoding %s: %s", text, enc, err);
	if (!trace_body_equal(&a, &b))
		fail_msg("%s: decode(encode()) differs: %s", text, enc);
	assert_int_equal(trace_body_encode(&b, &enc2), 0);
	assert_string_equal(enc, enc2);
	trace_body_release(&a);
	trace_body_release(&b);
	free(enc);
	free(enc2);
}

static void test_round_trip(void **state)
{
	static const char *const bodies[] = {
		"{\"target\":\"pod/web-a\",\"program\":\"BEGIN { exit(); }\"}",
		"{\"target\":\"web-a\",\"program\":\"x\",\"params\":[]}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"params\":[\"x\",5,-7,\"\"],\"duration\":10}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"duration\":0}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"duration\":604800}",
		"{\"target\":\"deployment/web\",\"program\":\"x\",\"allNodes\":true,\"container\":\"side-car\"}",
		"{\"target\":\"deploy/web\",\"program\":\"x\",\"allNodes\":false}",
		"{\"target\":\"rs/web-7c9f8b6d5\",\"program\":\"x\"}",
		"{\"target\":\"statefulset/db\",\"program\":\"x\"}",
		"{\"target\":\"daemonset/agent\",\"program\":\"x\"}",
		"{\"target\":\"job/once\",\"program\":\"x\"}",
		"{\"target\":\"cronjob/nightly\",\"program\":\"x\"}",
		"{\"target\":\"node/node-1\",\"program\":\"BEGIN{}\"}",
		"{\"target\":\"nodes/node-1\",\"program\":\"BEGIN{}\"}",
		"{\"target\":\"no/node-1.example\",\"program\":\"BEGIN{}\"}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"detach\":true}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"detach\":false,\"output\":\"bpftrace-json\"}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"output\":\"json\"}",
		"{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":null,\"params\":null,\"duration\":null}",
		"{\"apiVersion\":\"tracegate.dev/v1alpha1\",\"kind\":\"Trace\",\"target\":\"w\",\"program\":\"x\"}",
		"{\"selector\":\"z=1, app in (b,a)\",\"allNamespaces\":true,\"program\":\"BEGIN{}\"}",
		"{\"selector\":\"app=web,!canary,tier notin (x),env\",\"program\":\"x\",\"allNodes\":true}",
		"{\"selector\":\"app==web\",\"allNamespaces\":false,\"program\":\"x\",\"detach\":true}",
		"{\"target\":\"pod/web-a\",\"program\":\"kprobe:f /pid == $1/ { @[\\\"\\\\u00e9\\\"] = count(); }\","
		"\"params\":[\"\\u00e9t\\u00e9\"],\"duration\":1,\"detach\":true,\"output\":\"bpftrace-json\","
		"\"container\":\"c\",\"allNodes\":true}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		round_trip(bodies[i]);
}

/* What the plugin builds (plugin/main.c request_body): the text it has
 * always sent, members in the same order. */
static void test_encode_plugin(void **state)
{
	json_t *params = json_pack("[ss]", "x", "5");
	struct trace_body b = { .target = "pod/web-a", .program = "BEGIN{}", .program_len = 7, .params = params,
				.has_duration = true, .duration = 10, .detach = true, .output_events = true,
				.container = "side", .all_nodes = true };
	struct kube_selector *sel = NULL;
	char *text = NULL, *err = NULL;

	(void)state;
	assert_int_equal(trace_body_encode(&b, &text), 0);
	assert_string_equal(text, "{\"target\":\"pod/web-a\",\"program\":\"BEGIN{}\",\"params\":[\"x\",\"5\"],"
				  "\"allNodes\":true,\"duration\":10,\"detach\":true,\"output\":\"bpftrace-json\","
				  "\"container\":\"side\"}");
	free(text);
	b = (struct trace_body){ .target = "deployment/web", .program = "x", .program_len = 1 };
	assert_int_equal(trace_body_encode(&b, &text), 0);
	assert_string_equal(text, "{\"target\":\"deployment/web\",\"program\":\"x\",\"params\":[]}");
	free(text);
	/* -l: the selector as the gateway reads it, canonically; -A with it only */
	assert_int_equal(kube_selector_parse("z=1, app in (b,a)", &sel, &err), 0);
	b = (struct trace_body){ .selector = sel, .all_namespaces = true, .program = "x", .program_len = 1 };
	assert_int_equal(trace_body_encode(&b, &text), 0);
	assert_string_equal(text, "{\"selector\":\"app in (a,b),z=1\",\"program\":\"x\",\"params\":[],"
				  "\"allNamespaces\":true}");
	free(text);
	b.target = "-l app in (a,b),z=1 -A";   /* a decoded one: the selector wins */
	assert_int_equal(trace_body_encode(&b, &text), 0);
	assert_non_null(strstr(text, "\"selector\""));
	assert_null(strstr(text, "\"target\""));
	free(text);
	/* an empty program and a bad target go out as they are: the gateway
	 * names them (a 400), as it always has */
	b = (struct trace_body){ .target = "service/Web", .program = "", .program_len = 0 };
	assert_int_equal(trace_body_encode(&b, &text), 0);
	assert_string_equal(text, "{\"target\":\"service/Web\",\"program\":\"\",\"params\":[]}");
	expect_body_error(text, "target", "kind \"service\"");
	free(text);
	/* a struct with no program or no target is not a request */
	b = (struct trace_body){ .program = "x", .program_len = 1 };
	assert_int_equal(trace_body_encode(&b, &text), -EINVAL);
	b = (struct trace_body){ .target = "w" };
	assert_int_equal(trace_body_encode(&b, &text), -EINVAL);
	kube_selector_free(sel);
	json_decref(params);
}

/* Equality sees every member. */
static void test_equal(void **state)
{
	const char *text = "{\"target\":\"pod/web-a\",\"program\":\"x\",\"params\":[\"a\"],\"duration\":3}";
	struct trace_body a, b;
	char *f = NULL, *err = NULL;

	(void)state;
	assert_int_equal(trace_body_decode(text, strlen(text), &a, &f, &err), 0);
	assert_int_equal(trace_body_decode(text, strlen(text), &b, &f, &err), 0);
	assert_true(trace_body_equal(&a, &b));
	b.duration = 4;
	assert_false(trace_body_equal(&a, &b));
	b.duration = 3;
	b.all_nodes = true;
	assert_false(trace_body_equal(&a, &b));
	b.all_nodes = false;
	b.output_events = true;
	assert_false(trace_body_equal(&a, &b));
	b.output_events = false;
	json_array_append_new(b.params, json_string("b"));
	assert_false(trace_body_equal(&a, &b));
	trace_body_release(&a);
	trace_body_release(&b);
}

/* "selector" (-l) and "allNamespaces" (-A) instead of a target */
static void test_trace_body_selector(void **state)
{
	const char *body = "{\"selector\":\"z=1, app in (b,a)\",\"allNamespaces\":true,\"program\":\"BEGIN{}\"}";
	struct trace_body b;
	char *f = NULL, *err = NULL;

	(void)state;
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_string_equal(kube_selector_string(b.selector), "app in (a,b),z=1");
	assert_string_equal(b.target, "-l app in (a,b),z=1 -A");
	assert_true(b.all_namespaces);
	assert_null(b.name);
	assert_int_equal(b.kind, 0);
	assert_false(b.node);
	trace_body_release(&b);
	body = "{\"selector\":\"app=web\",\"program\":\"BEGIN{}\"}";
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_string_equal(b.target, "-l app=web");
	assert_false(b.all_namespaces);
	trace_body_release(&b);
	expect_body_error("{\"selector\":\"app=web\",\"target\":\"pod/x\",\"program\":\"x\"}", "selector",
			  "cannot be given together");
	expect_body_error("{\"target\":\"pod/x\",\"allNamespaces\":true,\"program\":\"x\"}", "allNamespaces",
			  "needs a \"selector\"");
	expect_body_error("{\"selector\":\"app>1\",\"program\":\"x\"}", "selector", "at position 4");
	expect_body_error("{\"selector\":\"\",\"program\":\"x\"}", "selector", "empty");
	/* a NUL never gets as far (jansson refuses it) */
	expect_body_error("{\"selector\":\"app=w\\u0000x\",\"program\":\"x\"}", "", "not JSON");
	expect_body_error("{\"selector\":\"app=w\\u001bx\",\"program\":\"x\"}", "selector", "invalid label value");
	expect_body_error("{\"selector\":[\"app\"],\"program\":\"x\"}", "selector", "a string");
	expect_body_error("{\"selector\":\"app\",\"allNamespaces\":1,\"program\":\"x\"}", "allNamespaces",
			  "true or false");
	expect_body_error("{\"program\":\"x\"}", "target", "(or \"selector\") is required");
}

/* "allNodes": all or nothing across the pods' nodes; a boolean, strictly */
static void test_trace_body_all_nodes(void **state)
{
	const char *body = "{\"target\":\"deployment/web\",\"allNodes\":true,\"program\":\"BEGIN{}\"}";
	struct trace_body b;
	char *f = NULL, *err = NULL;

	(void)state;
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_true(b.all_nodes);
	trace_body_release(&b);
	body = "{\"selector\":\"app=web\",\"allNodes\":false,\"program\":\"BEGIN{}\"}";
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_false(b.all_nodes);
	trace_body_release(&b);
	body = "{\"target\":\"deployment/web\",\"program\":\"BEGIN{}\"}";
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_false(b.all_nodes);
	trace_body_release(&b);
	expect_body_error("{\"target\":\"deployment/web\",\"allNodes\":1,\"program\":\"x\"}", "allNodes",
			  "true or false");
	expect_body_error("{\"target\":\"deployment/web\",\"allNodes\":\"true\",\"program\":\"x\"}",
			  "allNodes", "true or false");
	expect_body_error("{\"target\":\"deployment/web\",\"allnodes\":true,\"program\":\"x\"}", "allnodes",
			  "is not known");
}

static void test_trace_body_node(void **state)
{
	static const char *const spellings[] = { "node/node-1", "nodes/node-1", "no/node-1" };
	struct trace_body b;
	char *f = NULL, *err = NULL;
	char body[128];

	(void)state;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		snprintf(body, sizeof(body), "{\"target\":\"%s\",\"program\":\"x\"}", spellings[i]);
		assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
		assert_true(b.node);
		assert_int_equal(b.kind, 0);
		assert_string_equal(b.name, "node-1");
		trace_body_release(&b);
	}
	snprintf(body, sizeof(body), "{\"target\":\"pod/node-1\",\"program\":\"x\"}");
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), 0);
	assert_false(b.node);
	trace_body_release(&b);
	snprintf(body, sizeof(body), "{\"target\":\"node/Node_1\",\"program\":\"x\"}");
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), -EINVAL);
	assert_string_equal(f, "target");
	assert_non_null(strstr(err, "\"Node_1\" is not a valid node name"));
	free(f);
	free(err);
	snprintf(body, sizeof(body), "{\"target\":\"nod/x\",\"program\":\"x\"}");
	assert_int_equal(trace_body_decode(body, strlen(body), &b, &f, &err), -EINVAL);
	assert_non_null(strstr(err, "\"node/NAME\""));
	free(f);
	free(err);
}

static void test_trace_body(void **state)
{
	const char *good = "{\"target\":\"pod/web-a\",\"program\":\"BEGIN { exit(); }\","
			   "\"params\":[\"x\",5],\"duration\":10}";
	struct trace_body b;
	char *f = NULL, *err = NULL;

	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_string_equal(b.target, "pod/web-a");
	assert_string_equal(b.name, "web-a");
	assert_string_equal(b.program, "BEGIN { exit(); }");
	assert_int_equal(json_array_size(b.params), 2);
	assert_string_equal(json_string_value(json_array_get(b.params, 1)), "5");
	assert_true(b.has_duration);
	assert_int_equal(b.duration, 10);
	trace_body_release(&b);

	good = "{\"target\":\"web-a\",\"program\":\"x\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_string_equal(b.name, "web-a");
	assert_false(b.has_duration);
	assert_null(b.params);
	trace_body_release(&b);

	good = "{\"target\":\"deployment/web\",\"program\":\"x\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_int_equal(b.kind, KUBE_WORKLOAD_DEPLOYMENT);
	assert_string_equal(b.name, "web");
	assert_string_equal(b.target, "deployment/web");
	trace_body_release(&b);
	good = "{\"target\":\"rs/web-7c9f8b6d5\",\"program\":\"x\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_int_equal(b.kind, KUBE_WORKLOAD_REPLICASET);
	assert_string_equal(b.name, "web-7c9f8b6d5");
	trace_body_release(&b);
	good = "{\"target\":\"pod/web-a\",\"program\":\"x\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_int_equal(b.kind, 0);
	assert_false(b.detach);
	trace_body_release(&b);
	good = "{\"target\":\"pod/web-a\",\"program\":\"x\",\"detach\":true}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_true(b.detach);
	/* "output": "bpftrace-json" asks for the runners' outputEvents; other
	 * strings are accepted as before and ask for nothing */
	assert_false(b.output_events);
	trace_body_release(&b);
	good = "{\"target\":\"pod/web-a\",\"program\":\"x\",\"output\":\"bpftrace-json\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_true(b.output_events);
	trace_body_release(&b);
	good = "{\"target\":\"pod/web-a\",\"program\":\"x\",\"output\":\"json\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_false(b.output_events);
	trace_body_release(&b);
	/* -c NAME: a DNS-1123 label, or a 400 naming the field and why */
	good = "{\"target\":\"deployment/web\",\"program\":\"x\",\"container\":\"side-car\"}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_string_equal(b.container, "side-car");
	trace_body_release(&b);
	assert_null(b.container);
	good = "{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":null}";
	assert_int_equal(trace_body_decode(good, strlen(good), &b, &f, &err), 0);
	assert_null(b.container);
	trace_body_release(&b);
	expect_body_error("{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":\"../x\"}", "container",
			  "field \"container\": container name \"../x\": not a DNS-1123 label");
	expect_body_error("{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":\"\"}", "container",
			  "field \"container\": container name: empty");
	expect_body_error("{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":\"Web\"}", "container",
			  "not a DNS-1123 label");
	expect_body_error("{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":5}", "container",
			  "must be a container name");
	expect_body_error("{\"target\":\"pod/web-a\",\"program\":\"x\",\"container\":\""
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "container",
			  "64 characters, longer than 63");

	expect_body_error("", "", "not JSON");
	expect_body_error("[1]", "", "JSON object");
	expect_body_error("{\"program\":\"x\"}", "target", "required");
	expect_body_error("{\"target\":5,\"program\":\"x\"}", "target", "string");
	expect_body_error("{\"target\":\"service/web\",\"program\":\"x\"}", "target", "kind \"service\"");
	expect_body_error("{\"target\":\"sts/Db\",\"program\":\"x\"}", "target", "valid statefulset name");
	expect_body_error("{\"target\":\"deployment/Web\",\"program\":\"x\"}", "target", "valid deployment name");
	expect_body_error("{\"target\":\"rs/\",\"program\":\"x\"}", "target", "valid replicaset name");
	expect_body_error("{\"target\":\"pod/Web_A\",\"program\":\"x\"}", "target", "valid pod name");
	expect_body_error("{\"target\":\"pod/\",\"program\":\"x\"}", "target", "valid pod name");
	expect_body_error("{\"target\":\"web\"}", "program", "required");
	expect_body_error("{\"target\":\"web\",\"program\":\"\"}", "program", "required");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"duration\":-1}", "duration", "whole seconds");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"duration\":1.5}", "duration", "whole seconds");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"detach\":1}", "detach", "true or false");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"params\":{}}", "params", "array");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"params\":[true]}", "params", "params[0]");
	expect_body_error("{\"target\":\"web\",\"program\":\"x\",\"nodeName\":\"n\"}", "nodeName", "not known");
	expect_body_error("{\"target\":\"web\",\"target\":\"web2\",\"program\":\"x\"}", "", "duplicate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_encode_plugin),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_trace_body),
		cmocka_unit_test(test_trace_body_node),
		cmocka_unit_test(test_trace_body_selector),
		cmocka_unit_test(test_trace_body_all_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
