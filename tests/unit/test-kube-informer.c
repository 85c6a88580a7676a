// SPDX-License-Identifier: Apache-2.0
/*
 * kube/informer.c: LIST then WATCH from the list's resourceVersion, a
 * store that follows the events, a LIST again after 410 or a bad event,
 * the object cap, the backoff, the longest watch event.
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
#include "lib/buf.h"
#include "lib/errors.h"
#include "kube/informer.h"

#define POD(name, ns, rv, ip) \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\",\"resourceVersion\":\"" rv "\"}," \
	"\"spec\":{\"nodeName\":\"node-1\"},\"status\":{\"podIP\":\"" ip "\"}}"
#define TPOD(name, ns, rv, ip) \
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns \
	"\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"nodeName\":\"node-1\"},\"status\":{\"podIP\":\"" ip "\"}}"

struct seen {
	char log[4096];
};

static void on_change(void *ud, const char *type, json_t *obj, json_t *old)
{
	struct seen *s = ud;
	size_t n = strlen(s->log);
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	snprintf(s->log + n, sizeof(s->log) - n, "%s %s%s;", type, name ? name : "?", old ? " (old)" : "");
}

static struct kube_informer *new_pods(size_t max, const char *ns, const char *sel)
{
	struct kube_informer_opts o = { .sz = sizeof(o), .api_prefix = "/api/v1", .resource = "pods", .kind = "Pod",
					.api_version = "v1", .namespace = ns, .label_selector = sel,
					.max_objects = max, .watch_timeout_s = 60 };
	struct kube_informer *inf = NULL;
	char *err = NULL;

	assert_int_equal(kube_informer_new(&o, &inf, &err), 0);
	assert_null(err);
	return inf;
}

static void expect_next(struct kube_informer *inf, enum kube_informer_step want, const char *path)
{
	struct kube_request r = { 0 };
	enum kube_informer_step step = 0;

	assert_int_equal(kube_informer_next(inf, &r, &step), 0);
	assert_int_equal(step, want);
	assert_string_equal(r.path, path);
	assert_string_equal(r.method, "GET");
	kube_request_release(&r);
}

static int list(struct kube_informer *inf, long status, const char *body, char **err)
{
	return kube_informer_list_done(inf, status, body, strlen(body), err);
}

static int feed(struct kube_informer *inf, const char *text, char **err)
{
	return kube_informer_watch_data(inf, text, strlen(text), err);
}

static void test_list_then_watch(void **state)
{
	struct kube_informer *inf = new_pods(0, "tracegate", "app.kubernetes.io/component=runner");
	struct seen s = { "" };
	char *err = NULL;
	json_t *p;

	kube_informer_set_handler(inf, on_change, &s);
	assert_false(kube_informer_synced(inf));
	expect_next(inf, KUBE_INFORMER_LIST,
		    "/api/v1/namespaces/tracegate/pods?labelSelector=app.kubernetes.io%2Fcomponent%3Drunner");
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\"},"
			      "\"items\":[" POD("r1", "tracegate", "4", "10.0.0.1") "," POD("r2", "tracegate", "5", "10.0.0.2") "]}",
			      &err), 0);
	assert_true(kube_informer_synced(inf));
	assert_int_equal(kube_informer_count(inf), 2);
	assert_string_equal(s.log, "ADDED r1;ADDED r2;");
	p = kube_informer_get(inf, "tracegate", "r1");
	assert_non_null(p);
	/* list items are stored typed */
	assert_string_equal(json_string_value(json_object_get(p, "kind")), "Pod");
	expect_next(inf, KUBE_INFORMER_WATCH,
		    "/api/v1/namespaces/tracegate/pods?labelSelector=app.kubernetes.io%2Fcomponent%3Drunner"
		    "&watch=true&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=60");

	/* events, split anywhere */
	s.log[0] = '\0';
	const char *evs = "{\"type\":\"MODIFIED\",\"object\":" TPOD("r1", "tracegate", "11", "10.0.0.9") "}\n"
			  "{\"type\":\"DELETED\",\"object\":" TPOD("r2", "tracegate", "12", "10.0.0.2") "}\n"
			  "{\"type\":\"ADDED\",\"object\":" TPOD("r3", "tracegate", "13", "10.0.0.3") "}\n"
			  "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"20\"}}}\n";
	for (size_t i = 0; i < strlen(evs); i += 7) {
		size_t n = strlen(evs) - i < 7 ? strlen(evs) - i : 7;

		assert_int_equal(kube_informer_watch_data(inf, evs + i, n, &err), 0);
	}
	assert_string_equal(s.log, "MODIFIED r1 (old);DELETED r2;ADDED r3;");
	assert_int_equal(kube_informer_count(inf), 2);
	assert_null(kube_informer_get(inf, "tracegate", "r2"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(kube_informer_get(inf, "tracegate", "r1"),
									       "status"), "podIP")), "10.0.0.9");
	assert_string_equal(kube_informer_resource_version(inf), "20");
	/* a clean end: the next watch resumes from the bookmark */
	kube_informer_watch_end(inf, true);
	assert_int_equal(kube_informer_backoff_ms(inf), 0);
	expect_next(inf, KUBE_INFORMER_WATCH,
		    "/api/v1/namespaces/tracegate/pods?labelSelector=app.kubernetes.io%2Fcomponent%3Drunner"
		    "&watch=true&resourceVersion=20&allowWatchBookmarks=true&timeoutSeconds=60");

	/* 410: LIST again; the list's differences come out as events */
	assert_int_equal(feed(inf, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
			      "\"Failure\",\"message\":\"too old resource version: 20 (30)\",\"reason\":\"Expired\","
			      "\"code\":410}}\n", &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "(410): too old resource version"));
	assert_false(kube_informer_synced(inf));
	kube_informer_watch_end(inf, true);
	expect_next(inf, KUBE_INFORMER_LIST,
		    "/api/v1/namespaces/tracegate/pods?labelSelector=app.kubernetes.io%2Fcomponent%3Drunner");
	s.log[0] = '\0';
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"31\"},"
			      "\"items\":[" POD("r1", "tracegate", "11", "10.0.0.9") "," POD("r4", "tracegate", "30", "10.0.0.4") "]}",
			      &err), 0);
	assert_string_equal(s.log, "ADDED r4;DELETED r3;");
	assert_true(kube_informer_synced(inf));
	free(err);
	kube_informer_free(inf);
}

static void test_bad_answers(void **state)
{
	struct kube_informer *inf = new_pods(2, "tracegate", NULL);
	char *err = NULL;

	/* refusals and odd lists leave it unsynced, with a backoff that grows */
	assert_int_equal(list(inf, 403, "{\"kind\":\"Status\",\"message\":\"pods is forbidden\"}", &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "pods is forbidden"));
	assert_int_equal(kube_informer_backoff_ms(inf), KUBE_INFORMER_BACKOFF_MIN_MS);
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\","
			      "\"continue\":\"abc\"},\"items\":[]}", &err), -TG_EUPSTREAM);
	assert_int_equal(kube_informer_backoff_ms(inf), 2 * KUBE_INFORMER_BACKOFF_MIN_MS);
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},"
			      "\"items\":[" POD("a", "team-a", "1", "x") "]}", &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "of namespace \"team-a\" in a watch of \"tracegate\""));
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},"
			      "\"items\":[" POD("a", "tracegate", "1", "x") "," POD("b", "tracegate", "1", "x") ","
			      POD("c", "tracegate", "1", "x") "]}", &err), -TG_ELIMIT);
	assert_non_null(strstr(err, "more than the cache holds (2)"));
	assert_false(kube_informer_synced(inf));
	for (int i = 0; i < 20; i++)
		(void)list(inf, 500, "", &err);
	assert_int_equal(kube_informer_backoff_ms(inf), KUBE_INFORMER_BACKOFF_MAX_MS);

	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			      "\"items\":[" POD("a", "tracegate", "1", "x") "]}", &err), 0);
	assert_int_equal(kube_informer_backoff_ms(inf), 0);
	/* a watch event of another kind, a third object past the cap, junk */
	assert_int_equal(feed(inf, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":"
			      "{\"name\":\"s\",\"namespace\":\"tracegate\",\"resourceVersion\":\"6\"}}}\n", &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "kind \"Secret\""));
	assert_false(kube_informer_synced(inf));
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			      "\"items\":[" POD("a", "tracegate", "1", "x") "]}", &err), 0);
	assert_int_equal(feed(inf, "{\"type\":\"ADDED\",\"object\":" TPOD("b", "tracegate", "6", "y") "}\n", &err), 0);
	assert_int_equal(feed(inf, "{\"type\":\"ADDED\",\"object\":" TPOD("c", "tracegate", "7", "y") "}\n", &err),
			 -TG_ELIMIT);
	assert_false(kube_informer_synced(inf));
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			      "\"items\":[]}", &err), 0);
	assert_int_equal(feed(inf, "not json\n", &err), -TG_EUPSTREAM);
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			      "\"items\":[]}", &err), 0);
	assert_int_equal(feed(inf, "{\"type\":\"SURPRISE\",\"object\":{}}\n", &err), -TG_EUPSTREAM);
	/* a watch cut in the middle of an event is a failure */
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
			      "\"items\":[]}", &err), 0);
	assert_int_equal(feed(inf, "{\"type\":\"ADD", &err), 0);
	kube_informer_watch_end(inf, true);
	assert_int_equal(kube_informer_backoff_ms(inf), KUBE_INFORMER_BACKOFF_MIN_MS);
	free(err);
	kube_informer_free(inf);
}

/* An event padded with spaces (JSON's own) to len bytes, then "\n". */
static char *padded_event(const char *name, const char *rv, size_t len)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(buf_printf(&b, "{\"type\":\"ADDED\",\"object\":" TPOD("%s", "tracegate", "%s", "y") "}",
				    name, rv), 0);
	assert_true(b.len <= len);
	while (b.len < len)
		assert_int_equal(buf_addc(&b, ' '), 0);
	assert_int_equal(buf_addc(&b, '\n'), 0);
	return buf_detach(&b, NULL);
}

static int list_empty(struct kube_informer *inf, char **err)
{
	return list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
		    "\"items\":[]}", err);
}

/* A watch event of KUBE_INFORMER_MAX_EVENT_BYTES is taken; one byte more
 * fails the watch with a message that says so (whole or in pieces), is
 * never cut short into an event, and the next watch starts clean. */
static void test_event_limit(void **state)
{
	struct kube_informer *inf = new_pods(0, "tracegate", NULL);
	char *at = padded_event("at", "6", KUBE_INFORMER_MAX_EVENT_BYTES);
	char *over = padded_event("over", "7", KUBE_INFORMER_MAX_EVENT_BYTES + 1);
	size_t over_len = strlen(over);
	struct seen s = { "" };
	char *err = NULL;

	kube_informer_set_handler(inf, on_change, &s);
	assert_int_equal(list_empty(inf, &err), 0);
	expect_next(inf, KUBE_INFORMER_WATCH, "/api/v1/namespaces/tracegate/pods"
		    "?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=60");
	assert_int_equal(feed(inf, at, &err), 0);
	assert_string_equal(s.log, "ADDED at;");

	/* whole */
	assert_int_equal(feed(inf, over, &err), -TG_ELIMIT);
	assert_non_null(strstr(err, "pods: a watch event longer than 1048576 bytes"));
	assert_false(kube_informer_synced(inf));
	assert_null(kube_informer_get(inf, "tracegate", "over"));
	kube_informer_watch_end(inf, true);

	/* in pieces, the last byte too many in a piece of its own: what came
	 * before it is dropped with the watch, never read as an event */
	assert_int_equal(list_empty(inf, &err), 0);
	expect_next(inf, KUBE_INFORMER_WATCH, "/api/v1/namespaces/tracegate/pods"
		    "?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=60");
	s.log[0] = '\0';
	free(err);
	err = NULL;
	assert_int_equal(kube_informer_watch_data(inf, over, over_len - 2, &err), 0);
	assert_int_equal(kube_informer_watch_data(inf, over + over_len - 2, 2, &err), -TG_ELIMIT);
	assert_non_null(strstr(err, "longer than 1048576 bytes"));
	assert_false(kube_informer_synced(inf));
	/* the stream ended mid-event: a failure, counted for the backoff */
	kube_informer_watch_end(inf, true);
	assert_int_equal(kube_informer_backoff_ms(inf), KUBE_INFORMER_BACKOFF_MIN_MS);

	/* the next watch reads its own events only */
	assert_int_equal(list_empty(inf, &err), 0);
	expect_next(inf, KUBE_INFORMER_WATCH, "/api/v1/namespaces/tracegate/pods"
		    "?watch=true&resourceVersion=5&allowWatchBookmarks=true&timeoutSeconds=60");
	assert_int_equal(feed(inf, "{\"type\":\"ADDED\",\"object\":" TPOD("b", "tracegate", "8", "y") "}\n", &err), 0);
	assert_string_equal(s.log, "ADDED b;");
	assert_true(kube_informer_synced(inf));
	assert_string_equal(kube_informer_resource_version(inf), "8");
	free(at);
	free(over);
	free(err);
	kube_informer_free(inf);
}

static void test_cluster_wide(void **state)
{
	struct kube_informer *inf = new_pods(0, NULL, NULL);
	char *err = NULL;

	expect_next(inf, KUBE_INFORMER_LIST, "/api/v1/pods");
	assert_int_equal(list(inf, 200, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"3\"},"
			      "\"items\":[" POD("web-a", "team-a", "1", "x") "," POD("web-a", "team-b", "2", "y") "]}", &err), 0);
	assert_non_null(kube_informer_get(inf, "team-a", "web-a"));
	assert_non_null(kube_informer_get(inf, "team-b", "web-a"));
	assert_null(kube_informer_get(inf, "team-c", "web-a"));
	expect_next(inf, KUBE_INFORMER_WATCH,
		    "/api/v1/pods?watch=true&resourceVersion=3&allowWatchBookmarks=true&timeoutSeconds=60");
	kube_informer_free(inf);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_then_watch),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_event_limit),
		cmocka_unit_test(test_cluster_wide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
