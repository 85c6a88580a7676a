// SPDX-License-Identifier: Apache-2.0
/*
 * wire/detached.h: a runner's detached session, running and ended,
 * survives encode -> decode, its list decodes, and the decoder refuses
 * what it must, naming the member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup-json.h"
#include "wire/detached.h"
#include "wire/end.h"

static char *sdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static char **strv2(const char *a, const char *b)
{
	char **v = calloc(3, sizeof(*v));

	assert_non_null(v);
	v[0] = sdup(a);
	v[1] = sdup(b);
	return v;
}

static void base(struct wire_det_session *s)
{
	*s = (struct wire_det_session){
		.trace = sdup("tr-1"), .node = sdup("node-1"), .ns = sdup("team-a"), .user = sdup("alice@example.com"),
		.groups = strv2("system:authenticated", "dev ops"), .ngroups = 2, .target = sdup("deployment/web"),
		.program = sdup("BEGIN { printf(\"hi\\n\"); exit(); }\n"), .duration_s = 300,
		.pods = strv2("team-a/web-a", "team-a/web-b"), .npods = 2, .created = sdup("2026-12-06T08:35:11Z"),
		.state = sdup("Running"), .records = 42, .outputs = 40, .buffer_bytes = 4096, .buffer_dropped = 1,
	};
}

static void round_trip(const struct wire_det_session *s)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct wire_det_session again = { 0 };
	char *text, *err = NULL;

	assert_int_equal(wire_det_session_to_json(s, &o), 0);
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	assert_int_equal(wire_det_session_decode(text, strlen(text), &again, &err), 0);
	assert_null(err);
	assert_true(wire_det_session_equal(s, &again));
	wire_det_session_release(&again);
	free(text);
}

static void test_round_trip(void **state)
{
	struct wire_det_session s;

	(void)state;
	base(&s);
	round_trip(&s);
	s.end = calloc(1, sizeof(*s.end));
	assert_non_null(s.end);
	*s.end = (struct wire_end){ .reason = sdup("client-stop"), .has = WIRE_END_EVENTS | WIRE_END_EXIT_CODE,
				    .events = 9, .node = sdup("node-1"), .time = sdup("2026-12-06T08:36:00.5Z") };
	free(s.state);
	s.state = sdup("Succeeded");
	round_trip(&s);
	/* the create's Audit-ID, and who claimed the end for its audit log */
	s.audit_id = sdup("0b6e3f1c-6a5e-4f3e-9a47-2c1d5b7e8f90");
	round_trip(&s);
	s.claimed_by = sdup("gw-1.4f2a9c01");
	round_trip(&s);
	s.requester = sdup("admin@example.com");
	round_trip(&s);
	wire_det_session_release(&s);
}

static void test_list(void **state)
{
	static const char *const text =
		"{\"items\":[{\"trace\":\"t1\",\"node\":\"n1\",\"namespace\":\"a\",\"user\":\"u\",\"groups\":[],"
		"\"target\":\"pod/p\",\"program\":\"BEGIN{}\",\"duration\":10,\"pods\":[\"a/p\"],"
		"\"created\":\"2026-12-06T08:35:11Z\",\"state\":\"Pending\",\"records\":0,\"outputs\":0,"
		"\"bufferBytes\":0,\"bufferDropped\":0}]}";
	struct wire_det_session *items = NULL;
	size_t n = 0;
	char *err = NULL;

	(void)state;
	assert_int_equal(wire_det_list_decode(text, strlen(text), &items, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].pods[0], "a/p");
	wire_det_session_release(&items[0]);
	free(items);
	assert_int_equal(wire_det_list_decode("{\"items\":[{}]}", 14, &items, &n, &err), -EINVAL);
	assert_non_null(strstr(err, "items[0]."));
	free(err);
}

/* One member of a valid session replaced (or removed, "\"x\":null" for a
 * missing one): refused naming it. */
static void expect_refused(const char *member, const char *value, const char *want)
{
	struct wire_det_session s, blank;
	_cleanup_(json_decrefp) json_t *o = NULL;
	char *text, *err = NULL;

	base(&s);
	assert_int_equal(wire_det_session_to_json(&s, &o), 0);
	wire_det_session_release(&s);
	if (value)
		assert_int_equal(json_object_set_new(o, member, json_loads(value, JSON_DECODE_ANY, NULL)), 0);
	else
		assert_int_equal(json_object_del(o, member), 0);
	text = json_dumps(o, JSON_COMPACT);
	memset(&s, 0x5a, sizeof(s));
	blank = s;
	assert_int_equal(wire_det_session_decode(text, strlen(text), &s, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("refusal of %s: \"%s\" does not name %s", text, err ? err : "", want);
	assert_memory_equal(&s, &blank, sizeof(s));
	free(err);
	free(text);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("pid", "1", "\"pid\": unknown field");
	expect_refused("trace", NULL, "\"trace\": missing");
	expect_refused("trace", "\"../x\"", "\"trace\"");
	expect_refused("user", "\"\"", "\"user\"");
	expect_refused("groups", "[\"a\\u0001\"]", "\"groups\"[0]");
	expect_refused("pods", "\"a/p\"", "\"pods\"");
	expect_refused("duration", "-1", "\"duration\"");
	expect_refused("duration", "99999999999", "\"duration\"");
	expect_refused("records", NULL, "\"records\": missing");
	expect_refused("state", "\"Done\"", "\"state\"");
	expect_refused("end", "{\"type\":\"end\"}", "\"end\": \"reason\": missing");
	expect_refused("created", "7", "\"created\"");
	expect_refused("auditID", "\"\"", "\"auditID\"");
	expect_refused("auditID", "\"a/b\"", "\"auditID\"");
	expect_refused("claimedBy", "7", "\"claimedBy\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
