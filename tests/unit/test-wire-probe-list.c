// SPDX-License-Identifier: Apache-2.0
/*
 * wire/probe-list.h: the gateway's ProbeList survives encode -> decode,
 * the answers the gateway has always written decode to the same JSON,
 * the plugin's reader skips members it does not know and refuses known
 * ones of the wrong type, naming them, and the builders stop at the limits.
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
#include "wire/probe-list.h"

static json_t *load(const char *text)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(j);
	return j;
}

/* what the gateway wrote before wire/probe-list.h: decoded and encoded
 * again, the same JSON */
static void text_round_trip(const char *text)
{
	json_t *j = load(text), *enc = NULL, *enc2 = NULL;
	struct wire_probe_list a = { 0 }, b = { 0 };
	char *err = NULL;

	if (wire_probe_list_from_gateway(j, &a, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(wire_probe_list_to_json(&a, &enc), 0);
	if (!json_equal(j, enc))
		fail_msg("%s: encoded as %s", text, json_dumps(enc, JSON_COMPACT));
	assert_int_equal(wire_probe_list_from_gateway(enc, &b, &err), 0);
	assert_true(wire_probe_list_equal(&a, &b));
	assert_int_equal(wire_probe_list_to_json(&b, &enc2), 0);
	assert_true(json_equal(enc, enc2));
	wire_probe_list_release(&a);
	wire_probe_list_release(&b);
	json_decref(j);
	json_decref(enc);
	json_decref(enc2);
}

static void test_round_trip(void **state)
{
	(void)state;
	text_round_trip("{\"kind\":\"ProbeList\",\"apiVersion\":\"tracegate.dev/v1alpha1\","
			"\"metadata\":{\"namespace\":\"team-a\"},\"target\":\"pod/web-a\",\"node\":\"node-1\","
			"\"pattern\":\"tracepoint:sched:*\",\"verbose\":true,"
			"\"items\":[{\"name\":\"tracepoint:sched:sched_process_exit\","
			"\"fields\":[\"char comm[16]\",\"pid_t pid\",\"int prio\"]},"
			"{\"name\":\"tracepoint:sched:sched_wakeup\",\"fields\":[]}],\"truncated\":false}");
	text_round_trip("{\"kind\":\"ProbeList\",\"apiVersion\":\"tracegate.dev/v1alpha1\","
			"\"metadata\":{\"namespace\":\"team-a\"},\"target\":\"pod/web-a\",\"node\":\"node-1\","
			"\"pattern\":\"\",\"verbose\":false,"
			"\"items\":[{\"name\":\"uprobe:/bin/bash:readline\"},{\"name\":\"kprobe:do_sys_open\"}],"
			"\"truncated\":true}");
	text_round_trip("{\"kind\":\"ProbeList\",\"apiVersion\":\"tracegate.dev/v1alpha1\","
			"\"metadata\":{\"namespace\":\"a\"},\"target\":\"pod/b\",\"node\":\"n\",\"pattern\":\"x*\","
			"\"verbose\":false,\"items\":[],\"truncated\":false}");
}

/* A newer gateway: members the plugin does not know are skipped. */
static void test_version_skew(void **state)
{
	json_t *j = load("{\"kind\":\"ProbeList\",\"apiVersion\":\"tracegate.dev/v1beta1\","
			 "\"metadata\":{\"namespace\":\"team-a\",\"resourceVersion\":\"7\"},\"target\":\"pod/web-a\","
			 "\"node\":\"node-1\",\"verbose\":true,\"continue\":\"abc\","
			 "\"items\":[{\"name\":\"tracepoint:a:b\",\"fields\":[\"int x\"],\"allowedBy\":\"p\"}],"
			 "\"truncated\":false}");
	struct wire_probe_list l = { 0 };
	char *err = NULL;

	(void)state;
	if (wire_probe_list_from_gateway(j, &l, &err) < 0)
		fail_msg("%s", err);
	assert_int_equal(l.nitems, 1);
	assert_string_equal(l.items[0].name, "tracepoint:a:b");
	assert_int_equal(l.items[0].nfields, 1);
	assert_int_equal(l.nfields, 1);
	assert_null(l.pattern);
	wire_probe_list_release(&l);
	json_decref(j);
}

static void expect_refused(const char *text, const char *want)
{
	json_t *j = load(text);
	struct wire_probe_list l;
	char *err = NULL;

	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(wire_probe_list_from_gateway(j, &l, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("%s: %s (wanted %s)", text, err, want);
	assert_int_equal(l.nitems, (size_t)0x5a5a5a5a5a5a5a5aull);   /* untouched */
	free(err);
	json_decref(j);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("{\"kind\":\"Status\",\"items\":[]}", "\"kind\"");
	expect_refused("{\"kind\":\"ProbeList\"}", "\"items\"");
	expect_refused("{\"kind\":\"ProbeList\",\"items\":{}}", "\"items\"");
	expect_refused("{\"kind\":\"ProbeList\",\"items\":[{}]}", "\"items\"[0].\"name\"");
	expect_refused("{\"kind\":\"ProbeList\",\"items\":[{\"name\":\"a b\"}]}", "\"items\"[0].\"name\"");
	expect_refused("{\"kind\":\"ProbeList\",\"items\":[{\"name\":\"a\\u001b[2J\"}]}", "\"items\"[0].\"name\"");
	expect_refused("{\"kind\":\"ProbeList\",\"verbose\":true,\"items\":[{\"name\":\"a\",\"fields\":\"x\"}]}",
		       "\"items\"[0].\"fields\"");
	expect_refused("{\"kind\":\"ProbeList\",\"verbose\":true,\"items\":[{\"name\":\"a\",\"fields\":[\"ok\",3]}]}",
		       "\"items\"[0].\"fields\"[1]");
	expect_refused("{\"kind\":\"ProbeList\",\"verbose\":true,\"items\":[{\"name\":\"a\",\"fields\":[\"x\\ny\"]}]}",
		       "\"items\"[0].\"fields\"[0]");
	expect_refused("{\"kind\":\"ProbeList\",\"items\":[{\"name\":\"a\",\"fields\":[\"int x\"]}]}",
		       "not verbose");
	expect_refused("{\"kind\":\"ProbeList\",\"verbose\":\"yes\",\"items\":[]}", "\"verbose\"");
	expect_refused("{\"kind\":\"ProbeList\",\"truncated\":1,\"items\":[]}", "\"truncated\"");
	expect_refused("{\"kind\":\"ProbeList\",\"node\":\"a/b\",\"items\":[]}", "\"node\"");
	expect_refused("{\"kind\":\"ProbeList\",\"metadata\":[],\"items\":[]}", "\"metadata\"");
	expect_refused("{\"kind\":\"ProbeList\",\"metadata\":{\"namespace\":5},\"items\":[]}", "metadata.\"namespace\"");
	expect_refused("{\"kind\":\"ProbeList\",\"target\":\"pod/\\u0007\",\"items\":[]}", "\"target\"");
	expect_refused("{\"kind\":\"ProbeList\",\"pattern\":\"a b\",\"items\":[]}", "\"pattern\"");
}

/* The gateway's builders: limits, and nothing the reader would refuse. */
static void test_builders(void **state)
{
	struct wire_probe_list l = { .verbose = true };
	char name[32];
	json_t *o = NULL;

	(void)state;
	assert_int_equal(wire_probe_list_add_field(&l, "int x", 5), -EINVAL);   /* no item yet */
	assert_int_equal(wire_probe_list_add_item(&l, "a b", 3), -EINVAL);
	assert_int_equal(wire_probe_list_add_item(&l, "", 0), -EINVAL);
	/* the gateway adds lines of the runner's body, not NUL-terminated */
	assert_int_equal(wire_probe_list_add_item(&l, "kprobe:f0\nkprobe:f1", 9), 0);
	assert_string_equal(l.items[0].name, "kprobe:f0");
	assert_int_equal(wire_probe_list_add_field(&l, "int x\n    int y", 5), 0);
	assert_string_equal(l.items[0].fields[0], "int x");
	assert_int_equal(wire_probe_list_add_item(&l, "kprobe:\0x", 9), -EINVAL);
	wire_probe_list_release(&l);
	l.verbose = true;
	for (size_t i = 0; i < WIRE_PROBE_LIST_MAX_ITEMS; i++) {
		int n = snprintf(name, sizeof(name), "kprobe:f%zu", i);

		assert_int_equal(wire_probe_list_add_item(&l, name, (size_t)n), 0);
	}
	assert_int_equal(wire_probe_list_add_item(&l, "kprobe:one_more", 15), -E2BIG);
	assert_int_equal(l.nitems, WIRE_PROBE_LIST_MAX_ITEMS);
	for (size_t i = 0; i < WIRE_PROBE_LIST_MAX_FIELDS; i++)
		assert_int_equal(wire_probe_list_add_field(&l, "int x", 5), 0);
	assert_int_equal(wire_probe_list_add_field(&l, "int x", 5), -E2BIG);
	assert_int_equal(wire_probe_list_add_field(&l, "\tint x", 6), -EINVAL);
	assert_int_equal(wire_probe_list_to_json(&l, &o), 0);
	json_decref(o);
	l.verbose = false;   /* fields only in a verbose list */
	assert_int_equal(wire_probe_list_to_json(&l, &o), -EINVAL);
	l.verbose = true;
	l.node = "a/b";
	assert_int_equal(wire_probe_list_to_json(&l, &o), -EINVAL);
	l.node = NULL;
	wire_probe_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_version_skew),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_builders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
