// SPDX-License-Identifier: Apache-2.0
/* gateway: request routing, bodies, Status objects, NDJSON
 * splitting and audit events: the pure parts of the request flow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "gateway/event.h"
#include "gateway/route.h"
#include "gateway/status.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/jsondump.h"
#include "wire/fields.h"

#define TRACES "/apis/tracegate.dev/v1alpha1/namespaces/"

static void test_route(void **state)
{
	struct route r;

	route_match("GET", "/healthz", &r);
	assert_int_equal(r.kind, ROUTE_HEALTHZ);
	route_match("POST", "/healthz", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("GET", "/apis/tracegate.dev/v1alpha1/version", &r);
	assert_int_equal(r.kind, ROUTE_VERSION);
	route_match("DELETE", "/apis/tracegate.dev/v1alpha1/version", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("GET", "/apis/tracegate.dev/v1alpha1/versions", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("POST", TRACES "team-a/traces", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_CREATE);
	assert_string_equal(r.ns, "team-a");
	assert_false(r.dry_run);
	route_match("POST", TRACES "team-a/traces?dryRun=All", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_CREATE);
	assert_true(r.dry_run);
	route_match("POST", TRACES "team-a/traces?dryRun=All&watch=1", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("PUT", TRACES "team-a/traces", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	/* the audit record of a refusal names the resource and namespace */
	assert_true(r.resource);
	assert_string_equal(r.ns, "team-a");
	route_match("POST", TRACES "Team_A/traces", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	assert_true(r.resource);
	assert_string_equal(r.ns, "");
	route_match("POST", TRACES "team-a%2f..%2fx/traces", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", TRACES "-a/traces", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", TRACES "/traces", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", TRACES "a/b/traces", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("POST", TRACES "a/tracesx", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("POST", TRACES "a/traces/", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	/* one trace: DELETE only, a graceful stop */
	route_match("DELETE", TRACES "team-a/traces/0b5e6f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_STOP);
	assert_string_equal(r.ns, "team-a");
	assert_string_equal(r.name, "0b5e6f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b");
	route_match("PUT", TRACES "team-a/traces/x", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	assert_true(r.resource);
	route_match("DELETE", TRACES "team-a/traces/X_Y", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("DELETE", TRACES "team-a/traces/x?dryRun=All", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("DELETE", TRACES "team-a/traces/x/log", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	/* detached traces: list, one, its log (pods/log's switches) */
	route_match("GET", TRACES "team-a/traces", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_LIST);
	assert_string_equal(r.ns, "team-a");
	route_match("GET", TRACES "team-a/traces?watch=1", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/traces/x", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_GET);
	assert_string_equal(r.name, "x");
	route_match("GET", TRACES "team-a/traces/x?pretty=1", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/traces/x/log", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_LOG);
	assert_string_equal(r.name, "x");
	assert_false(r.follow);
	assert_false(r.timestamps);
	route_match("GET", TRACES "team-a/traces/x/log?follow=true&timestamps=true", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_LOG);
	assert_true(r.follow);
	assert_true(r.timestamps);
	route_match("GET", TRACES "team-a/traces/x/log?follow=false", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_LOG);
	assert_false(r.follow);
	route_match("GET", TRACES "team-a/traces/x/log?follow=yes", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/traces/x/log?tailLines=5", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/traces/x/logs", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("GET", TRACES "team-a/traces/x/log/y", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("GET", TRACES "team-a/traces//log", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/traces/X/log", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("DELETE", TRACES "team-a/traces", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	/* kubectl trace list: target required, pattern and target decoded and checked */
	route_match("GET", TRACES "team-a/probes?target=pod%2Fweb-a&pattern=tracepoint%3Asched%3A%2A&verbose=true", &r);
	assert_int_equal(r.kind, ROUTE_PROBE_LIST);
	assert_true(r.resource);
	assert_string_equal(r.ns, "team-a");
	assert_string_equal(r.pod, "web-a");
	assert_string_equal(r.pattern, "tracepoint:sched:*");
	assert_true(r.verbose);
	route_match("GET", TRACES "team-a/probes?target=web-a.x", &r);
	assert_int_equal(r.kind, ROUTE_PROBE_LIST);
	assert_string_equal(r.pod, "web-a.x");
	assert_string_equal(r.pattern, "");
	assert_false(r.verbose);
	route_match("GET", TRACES "team-a/probes", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	assert_string_equal(r.error, "target: required (pod/NAME: the probes of that pod's node)");
	route_match("GET", TRACES "team-a/probes?target=deployment%2Fweb", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/probes?target=web-a&target=web-b", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/probes?target=web-a&pattern=a%7Cb", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	assert_string_equal(r.error, "pattern: only letters, digits and _ - . : * ? may appear in a probe pattern");
	route_match("GET", TRACES "team-a/probes?target=web-a&pattern=a%00b", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/probes?target=web-a&pattern=a%4", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/probes?target=web-a&pattern=a+b", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", TRACES "team-a/probes?target=web-a&watch=1", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", TRACES "team-a/probes?target=web-a", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("GET", TRACES "team-a/probes/x", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	{
		char url[1024], pat[300];

		memset(pat, 'a', 257);
		pat[257] = '\0';
		snprintf(url, sizeof(url), TRACES "team-a/probes?target=web-a&pattern=%s", pat);
		route_match("GET", url, &r);
		assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
		pat[256] = '\0';
		snprintf(url, sizeof(url), TRACES "team-a/probes?target=web-a&pattern=%s", pat);
		route_match("GET", url, &r);
		assert_int_equal(r.kind, ROUTE_PROBE_LIST);
	}
	route_match("POST", "/apis/tracegate.dev/v1alpha1/namespaces", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	route_match("GET", "/", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	assert_false(r.resource);
	/* a 64-character namespace is one too long */
	route_match("POST", TRACES "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/traces", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", TRACES "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/traces", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_CREATE);

	assert_true(wire_dns_subdomain("web-a.x"));
	assert_false(wire_dns_subdomain("web-a."));
	assert_false(wire_dns_subdomain(".a"));
	assert_false(wire_dns_subdomain("a..b"));
	assert_false(wire_dns_subdomain("A"));
}

/* status_new and the reason table: tests/unit/test-lib-status.c */
static void test_status(void **state)
{
	char *m;

	m = status_forbidden_message("carol", "create", "tracegate.dev", "traces", "team-a", NULL, NULL);
	assert_string_equal(m, "traces.tracegate.dev is forbidden: User \"carol\" cannot create resource "
			       "\"traces\" in API group \"tracegate.dev\" in the namespace \"team-a\"");
	free(m);
	m = status_forbidden_message("carol", "get", "", "pods", "team-a", "web-a", NULL);
	assert_string_equal(m, "pods \"web-a\" is forbidden: User \"carol\" cannot get resource "
			       "\"pods\" in API group \"\" in the namespace \"team-a\"");
	free(m);
}

/* the cluster-scoped nodetraces: create (and its dry run) and a stop */
static void test_route_nodetraces(void **state)
{
	struct route r;

	(void)state;
	route_match("POST", "/apis/tracegate.dev/v1alpha1/nodetraces", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_CREATE);
	assert_true(r.node);
	assert_true(r.resource);
	assert_string_equal(r.ns, "");
	assert_false(r.dry_run);
	route_match("POST", "/apis/tracegate.dev/v1alpha1/nodetraces?dryRun=All", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_CREATE);
	assert_true(r.dry_run);
	route_match("POST", "/apis/tracegate.dev/v1alpha1/nodetraces?follow=true", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("GET", "/apis/tracegate.dev/v1alpha1/nodetraces", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("DELETE", "/apis/tracegate.dev/v1alpha1/nodetraces/0b5e6f2a-1c3d", &r);
	assert_int_equal(r.kind, ROUTE_TRACE_STOP);
	assert_true(r.node);
	assert_string_equal(r.name, "0b5e6f2a-1c3d");
	assert_string_equal(r.ns, "");
	route_match("GET", "/apis/tracegate.dev/v1alpha1/nodetraces/0b5e6f2a-1c3d", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("DELETE", "/apis/tracegate.dev/v1alpha1/nodetraces/Bad_Name", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("DELETE", "/apis/tracegate.dev/v1alpha1/nodetraces/", &r);
	assert_int_equal(r.kind, ROUTE_BAD_REQUEST);
	route_match("POST", "/apis/tracegate.dev/v1alpha1/nodetracesx", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	/* a namespace's traces are never node routes */
	route_match("POST", TRACES "team-a/traces", &r);
	assert_false(r.node);
}

static void test_event(void **state)
{
	char *groups[] = { "team-a", "system:authenticated", NULL };
	struct kube_user u = { .username = "carol", .uid = "u-1", .groups = groups };
	json_t *tg = json_pack("{s:s}", "programSHA256", "abc");
	struct gw_event e = {
		.audit_id = "11111111-2222-4333-8444-555555555555", .stage = "ResponseStarted",
		.request_uri = "/apis/x", .user = &u, .source_ip = "127.0.0.1", .user_agent = "kubectl",
		.ns = "team-a", .name = "web-a", .code = 403, .message = "no",
		.received_ns = 1767323045123456000ull, .stage_ns = 1767323045223456000ull,
		.decision = "forbid", .reason = "no", .tracegate = tg,
	};
	json_t *ev = gw_event_build(&e), *x;
	char id[37], id2[37];

	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "apiVersion")), "audit.k8s.io/v1");
	assert_string_equal(json_string_value(json_object_get(ev, "kind")), "Event");
	assert_string_equal(json_string_value(json_object_get(ev, "verb")), "create");
	assert_string_equal(json_string_value(json_object_get(ev, "stage")), "ResponseStarted");
	assert_string_equal(json_string_value(json_object_get(ev, "requestReceivedTimestamp")),
			    "2026-01-02T03:04:05.123456Z");
	x = json_object_get(ev, "user");
	assert_string_equal(json_string_value(json_object_get(x, "username")), "carol");
	assert_string_equal(json_string_value(json_object_get(x, "uid")), "u-1");
	assert_int_equal(json_array_size(json_object_get(x, "groups")), 2);
	x = json_object_get(ev, "objectRef");
	assert_string_equal(json_string_value(json_object_get(x, "resource")), "traces");
	assert_string_equal(json_string_value(json_object_get(x, "apiGroup")), "tracegate.dev");
	assert_string_equal(json_string_value(json_object_get(x, "namespace")), "team-a");
	assert_string_equal(json_string_value(json_object_get(x, "name")), "web-a");
	x = json_object_get(ev, "responseStatus");
	assert_int_equal(json_integer_value(json_object_get(x, "code")), 403);
	assert_string_equal(json_string_value(json_object_get(x, "reason")), "Forbidden");
	x = json_object_get(ev, "annotations");
	assert_string_equal(json_string_value(json_object_get(x, "authorization.k8s.io/decision")), "forbid");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(ev, "tracegate"), "programSHA256")), "abc");
	assert_null(json_object_get(ev, "impersonatedUser"));
	json_decref(ev);
	{
		/* --as bob: both identities */
		char *bg[] = { "team-b-devs", "system:authenticated", NULL };
		struct kube_user bob = { .username = "bob", .groups = bg };

		e.impersonated = &bob;
		ev = gw_event_build(&e);
		assert_non_null(ev);
		assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "user"), "username")),
				    "carol");
		x = json_object_get(ev, "impersonatedUser");
		assert_string_equal(json_string_value(json_object_get(x, "username")), "bob");
		assert_int_equal(json_array_size(json_object_get(x, "groups")), 2);
		json_decref(ev);
		e.impersonated = NULL;
	}

	e.user = NULL;
	e.code = 200;
	ev = gw_event_build(&e);
	x = json_object_get(ev, "user");
	assert_string_equal(json_string_value(json_object_get(x, "username")), "system:anonymous");
	x = json_object_get(ev, "responseStatus");
	assert_null(json_object_get(x, "reason"));
	json_decref(ev);
	json_decref(tg);

	assert_int_equal(gw_uuid(id), 0);
	assert_int_equal(gw_uuid(id2), 0);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(id[14], '4');
	assert_true(strchr("89ab", id[19]) != NULL);
	assert_string_not_equal(id, id2);
}

/* IDs come from a pool of random bytes: across refills they stay version
 * 4 and distinct, and a forked child never hands out the parent's next. */
static void test_uuid_pool(void **state)
{
	static char ids[200][37];
	char mine[37], child[37] = "";
	int fds[2], st;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < 200; i++) {
		assert_int_equal(gw_uuid(ids[i]), 0);
		assert_int_equal(strlen(ids[i]), 36);
		assert_int_equal(ids[i][14], '4');
		assert_non_null(strchr("89ab", ids[i][19]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(gw_uuid(mine) == 0 && write(fds[1], mine, 37) == 37 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(gw_uuid(mine), 0);
	assert_int_equal(read(fds[0], child, sizeof(child)), 37);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_not_equal(mine, child);
}

/* gw_event_format writes the bytes json_dump_sorted makes of
 * gw_event_build's tree, for every shape of event (the audit log's hash
 * chain covers them), odd strings included (it falls back to the tree). */
static void event_same(const struct gw_event *e)
{
	json_t *ev = gw_event_build(e);
	struct buf want = BUF_INIT(0), got = BUF_INIT(0);

	if (!ev) {
		assert_int_equal(gw_event_format(e, &got), -ENOMEM);
		buf_release(&got);
		return;
	}
	assert_int_equal(json_dump_sorted(&want, ev), 0);
	assert_int_equal(gw_event_format(e, &got), 0);
	if (strcmp(want.s, got.s))
		fail_msg("gw_event_format:\n%s\ntree:\n%s", got.s, want.s);
	json_decref(ev);
	buf_release(&want);
	buf_release(&got);
}

static void test_event_format(void **state)
{
	char *groups[] = { "team-a", "system:authenticated", NULL };
	char *odd_groups[] = { "ok", "bad\xff", NULL };
	char *no_groups[] = { NULL };
	json_t *extra = json_pack("{s:[s], s:[s,s]}", "scopes", "x", "a\"b", "c\n", "\xc3\xa9");
	json_t *empty = json_object();
	struct kube_user users[] = {
		{ .username = "carol", .uid = "u-1", .groups = groups },
		{ .username = "bob", .groups = no_groups },
		{ .username = "sa", .uid = "", .groups = groups, .extra = extra },
		{ .username = "e", .uid = "u", .groups = groups, .extra = empty },
		{ .username = "odd", .uid = "u\xfe", .groups = odd_groups },
		{ .username = "bad\xc0", .groups = groups },
	};
	const struct kube_user *user_of[] = { NULL, &users[0], &users[1], &users[2], &users[3], &users[4],
					      &users[5] };
	json_t *tgs[] = { NULL, json_pack("{s:s, s:[s], s:{s:i, s:b}, s:f}", "programSHA256", "abc", "pods",
					    "team-a/web-a", "counts", "events", 3, "dry", 1, "r", 0.5),
			  json_object() };
	const char *texts[] = { NULL, "", "web-a", "a\"b\\c\n\x01\x7f", "caf\xc3\xa9 \xe2\x80\xa8 \xff end" };
	const char *decisions[] = { NULL, "allow", "forbid\xff" };
	const int codes[] = { 0, 200, 201, 403, 503, 299, 300, 799 };
	unsigned n = 0;

	for (size_t ui = 0; ui < sizeof(user_of) / sizeof(user_of[0]); ui++)
		for (size_t ti = 0; ti < sizeof(texts) / sizeof(texts[0]); ti++)
			for (size_t ci = 0; ci < sizeof(codes) / sizeof(codes[0]); ci++) {
				struct gw_event e = {
					.audit_id = "11111111-2222-4333-8444-555555555555",
					.stage = ci % 2 ? "ResponseStarted" : "ResponseComplete",
					.request_uri = ti == 3 ? "/apis/x?y=\x01 z" : texts[ti],
					.verb = ti == 2 ? NULL : texts[ti],
					.user = user_of[ui],
					.impersonated = ci % 3 == 1 ? &users[ui % 4] : NULL,
					.source_ip = texts[(ti + 1) % 5],
					.user_agent = texts[(ti + 2) % 5],
					.ns = texts[(ti + 3) % 5],
					.name = texts[(ti + ci) % 5],
					.subresource = ci == 3 ? "log" : ci == 4 ? texts[ti] : NULL,
					.resource = ci == 5 ? "probes" : NULL,
					.code = codes[ci],
					.message = texts[(ti + 4) % 5],
					.received_ns = 1767323045123456000ull + ci,
					.stage_ns = 1767323045223456789ull,
					.decision = decisions[(ui + ci) % 3],
					.reason = texts[(ui + ti) % 5],
					.tracegate = tgs[(ui + ti + ci) % 3],
					.non_resource = ci == 6,
				};

				event_same(&e);
				n++;
			}
	assert_true(n > 200);
	{
		/* the fields a tree refuses: no ID, no stage */
		struct gw_event e = { .stage = "ResponseStarted" };

		event_same(&e);
		e.audit_id = "x";
		e.stage = NULL;
		event_same(&e);
	}
	for (size_t i = 0; i < sizeof(tgs) / sizeof(tgs[0]); i++)
		json_decref(tgs[i]);
	json_decref(extra);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_route_nodetraces),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_uuid_pool),
		cmocka_unit_test(test_event_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
