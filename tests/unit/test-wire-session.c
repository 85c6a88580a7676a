// SPDX-License-Identifier: Apache-2.0
/*
 * wire/session.h: every kind of session request survives encode ->
 * decode unchanged, a body as the gateway has always written it decodes,
 * and the decoder refuses what it must with a message naming the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "policy/tpfields.h"
#include "wire/session.h"

static char *dup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static char **strv(size_t n, const char *const *v)
{
	char **out = calloc(n + 1, sizeof(*out));

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		out[i] = dup(v[i]);
	return out;
}

/* A pod-scoped request with params, an owner and the tracepoint rules. */
static void base(struct session_request *r)
{
	static const char *const params[] = { "arg1", "with \"quotes\" and \\" };

	memset(r, 0, sizeof(*r));
	r->trace = dup("tr-1");
	r->program = dup("tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }\n");
	r->program_len = strlen(r->program);
	r->canonical = dup("tracepoint:syscalls:sys_enter_openat\n{\n @[comm] = count();\n}\n");
	r->params = strv(2, params);
	r->nparams = 2;
	r->duration_s = 10;
	r->npods = 2;
	r->pods = calloc(2, sizeof(*r->pods));
	assert_non_null(r->pods);
	r->pods[0] = (struct session_pod){ dup("team-a"), dup("web-a"), dup("uid-a"), dup("Burstable"), NULL, NULL };
	r->pods[1] = (struct session_pod){ dup("team-a"), dup("web-b"), dup("uid-b"), NULL, NULL, NULL };
	r->limits = (struct session_limits){ .max_map_entries = 4096, .max_map_bytes = 1 << 20, .events_per_second = 0,
					     .max_duration_s = 300, .max_output_bytes = 16 << 20, .cpu_budget = 0.25 };
	r->owner = calloc(1, sizeof(*r->owner));
	assert_non_null(r->owner);
	r->owner->ns = dup("team-a");
	r->owner->user = dup("alice@example.com");
}

static void round_trip(const struct session_request *r)
{
	struct session_request back;
	char *text = NULL, *again = NULL, *err = NULL;

	assert_int_equal(session_request_encode(r, &text), 0);
	if (session_request_decode(text, strlen(text), &back, &err) != 0)
		fail_msg("%s: %s", text, err);
	assert_true(session_request_equal(r, &back));
	/* and the text is stable */
	assert_int_equal(session_request_encode(&back, &again), 0);
	assert_string_equal(text, again);
	session_request_release(&back);
	free(text);
	free(again);
}

static void test_pods(void **state)
{
	struct session_request r;

	base(&r);
	round_trip(&r);
	r.output_events = true;
	round_trip(&r);
	r.dry_run = true;
	r.owner->ns[0] = '\0';   /* see below: "" only for a node-wide owner, but it round-trips */
	round_trip(&r);
	session_request_release(&r);
}

static void test_container(void **state)
{
	struct session_request r;

	base(&r);
	r.pods[0].container = dup("sidecar");
	r.pods[0].container_id = dup("containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	round_trip(&r);
	session_request_release(&r);
}

static void test_node(void **state)
{
	struct session_request r;
	char *text = NULL;

	base(&r);
	for (size_t i = 0; i < r.npods; i++) {
		free(r.pods[i].ns);
		free(r.pods[i].name);
		free(r.pods[i].uid);
		free(r.pods[i].qos);
	}
	free(r.pods);
	r.pods = NULL;
	r.npods = 0;
	r.node_scope = true;
	r.node = dup("node-1");
	r.owner->ns[0] = '\0';
	round_trip(&r);
	/* a node-wide trace's owner has no namespace on the wire */
	assert_int_equal(session_request_encode(&r, &text), 0);
	assert_non_null(strstr(text, "\"scope\":\"node\",\"node\":\"node-1\""));
	assert_non_null(strstr(text, "\"owner\":{\"user\":\"alice@example.com\"}"));
	assert_null(strstr(text, "\"pods\""));
	free(text);
	session_request_release(&r);
}

static void test_detached(void **state)
{
	static const char *const groups[] = { "system:authenticated", "team a" };
	struct session_request r;

	base(&r);
	r.detached = calloc(1, sizeof(*r.detached));
	assert_non_null(r.detached);
	r.detached->ns = dup("team-a");
	r.detached->user = dup("alice@example.com");
	r.detached->groups = strv(2, groups);
	r.detached->ngroups = 2;
	r.detached->target = dup("deployment/web");
	r.detached->created = dup("2024-05-01T10:00:00Z");
	round_trip(&r);
	r.detached->audit_id = dup("0b6e3f1c-6a5e-4f3e-9a47-2c1d5b7e8f90");
	round_trip(&r);
	r.detached->requester = dup("admin@example.com");
	round_trip(&r);
	r.detached->ngroups = 0;   /* no groups at all */
	free(r.detached->groups[0]);
	free(r.detached->groups[1]);
	round_trip(&r);
	session_request_release(&r);
}

static void test_limits(void **state)
{
	static const char *const allow[] = { "sched:sched_switch:next_comm" };
	struct session_request r;

	base(&r);
	r.limits = (struct session_limits){ .max_map_entries = 1u << 24, .max_map_bytes = UINT64_C(1) << 40,
					    .events_per_second = UINT32_MAX, .max_duration_s = 7 * 24 * 3600,
					    .max_output_bytes = UINT64_C(1) << 40, .cpu_budget = 1024 };
	r.duration_s = 7 * 24 * 3600;
	round_trip(&r);
	memset(&r.limits, 0, sizeof(r.limits));
	r.duration_s = 0;
	r.tp_fields = calloc(1, sizeof(*r.tp_fields));
	assert_non_null(r.tp_fields);
	r.tp_fields->policy = dup("restricted");
	r.tp_fields->allow = strv(1, allow);
	r.tp_fields->nallow = 1;
	r.tp_fields->kernel_addresses = true;
	round_trip(&r);
	session_request_release(&r);
}

/* The gateway's body as docs/internals/contracts.md shows it: the same
 * meaning, whatever writes it. */
static void test_old_body(void **state)
{
	static const char body[] =
		"{\"trace\":\"t\",\"program\":\"BEGIN { }\",\"canonical\":\"BEGIN\\n{\\n}\\n\",\"params\":[],"
		"\"duration\":600,\"pods\":[{\"namespace\":\"team-a\",\"name\":\"web-a\",\"uid\":\"u\","
		"\"qos\":\"\"}],\"limits\":{\"maxMapEntries\":4096,\"maxMapBytes\":1048576,\"eventsPerSecond\":0,"
		"\"maxDuration\":300,\"cpuBudget\":0.0,\"maxOutputBytes\":16777216},"
		"\"owner\":{\"namespace\":\"team-a\",\"user\":\"alice\"},\"outputEvents\":true}";
	struct session_request r;
	char *err = NULL;

	assert_int_equal(session_request_decode(body, strlen(body), &r, &err), 0);
	assert_string_equal(r.pods[0].qos, "");
	assert_int_equal(r.duration_s, 600);
	assert_int_equal(session_request_duration(&r), 300);
	assert_true(r.output_events);
	assert_string_equal(r.owner->user, "alice");
	round_trip(&r);
	session_request_release(&r);
}

static void expect_refused(const char *body, const char *want)
{
	struct session_request r;
	char *err = NULL;
	int rc;

	memset(&r, 0x5a, sizeof(r));
	rc = session_request_decode(body, strlen(body), &r, &err);
	if (rc != -EINVAL || !err || !strstr(err, want))
		fail_msg("%s: %d %s (wanted %s)", body, rc, err ? err : "(no message)", want);
	free(err);
}

#define POD "\"pods\":[{\"namespace\":\"a\",\"name\":\"p\",\"uid\":\"u\"}]"
#define HEAD "{\"trace\":\"t\",\"program\":\"BEGIN { }\",\"canonical\":\"c\","

static void test_refusals(void **state)
{
	expect_refused(HEAD POD ",\"extra\":1}", "\"extra\": unknown field");
	expect_refused(HEAD "\"pods\":[{\"namespace\":\"a\",\"name\":\"p\",\"uid\":\"u\",\"x\":1}]}",
		       "pods[0].\"x\": unknown field");
	expect_refused(HEAD POD ",\"limits\":{\"maxMaps\":1}}", "limits.\"maxMaps\": unknown field");
	expect_refused(HEAD POD ",\"owner\":{\"user\":\"u\",\"uid\":\"1\"}}", "owner.\"uid\": unknown field");
	expect_refused(HEAD POD ",\"detached\":{\"namespace\":\"a\",\"user\":\"u\",\"target\":\"p\","
				"\"created\":\"c\",\"x\":1}}",
		       "detached.\"x\": unknown field");
	expect_refused(HEAD POD ",\"duration\":\"10\"}", "\"duration\": not a non-negative integer");
	expect_refused(HEAD POD ",\"limits\":{\"maxDuration\":604801}}", "limits.\"maxDuration\": above the limit");
	expect_refused(HEAD "\"scope\":\"node\",\"node\":\"n\"," POD "}", "\"pods\": a node-wide session");
	expect_refused(HEAD "\"scope\":\"node\",\"node\":\"n\",\"pods\":[]}", "\"pods\": a node-wide session");
	expect_refused(HEAD "\"node\":\"n\"," POD "}", "\"node\": only a node-wide session");
	expect_refused(HEAD "\"scope\":\"cluster\"," POD "}", "\"scope\": not \"pod\" or \"node\"");
	expect_refused(HEAD "\"scope\":\"pod\"}", "\"pods\": missing");
	expect_refused(HEAD "\"pods\":[]}", "\"pods\": empty");
	expect_refused(HEAD POD ",\"dryRun\":1}", "\"dryRun\": not a boolean");
	expect_refused(HEAD POD ",\"dryRun\":true,\"detached\":{\"namespace\":\"a\",\"user\":\"u\",\"target\":\"p\","
				"\"created\":\"c\"}}",
		       "\"detached\": a dry run cannot be detached");
	expect_refused(HEAD POD ",\"owner\":{\"namespace\":\"\",\"user\":\"u\"}}", "\"owner.namespace\"");
	expect_refused(HEAD POD ",\"detached\":{\"namespace\":\"a\",\"user\":\"u\",\"target\":\"p\","
				"\"created\":\"c\",\"groups\":[1]}}",
		       "\"detached.groups[0]\"");
	expect_refused(HEAD POD ",\"detached\":{\"namespace\":\"a\",\"user\":\"u\",\"target\":\"p\","
				"\"created\":\"c\",\"auditID\":\"a b\"}}",
		       "detached.\"auditID\"");
	expect_refused(HEAD "\"pods\":[{\"namespace\":\"a\",\"name\":\"p\",\"uid\":\"u\",\"container\":\"c\"}]}",
		       "one without the other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pods),     cmocka_unit_test(test_container), cmocka_unit_test(test_node),
		cmocka_unit_test(test_detached), cmocka_unit_test(test_limits),    cmocka_unit_test(test_old_body),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
