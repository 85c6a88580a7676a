// SPDX-License-Identifier: Apache-2.0
/*
 * kube/resolve.c: a trace's target resolved as one call its caller
 * drives: a workload's requests in order (GET, LIST owned, LIST pods), a
 * pod's GET, a node's GET, a selector's LIST, the caller's cache in front
 * of the pods, where a failure happened (phase, build or answer) for the
 * caller's message, and which pods seen later are the target's.
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
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/kube.h"
#include "kube/resolve.h"
#include "kube/selector.h"

#define DEPLOY_UID "5e7a0000-0000-4000-8000-0000000000d1"
#define RS_UID "5e7a0000-0000-4000-8000-0000000000a1"

static const char deployment[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
	"\"namespace\":\"team-a\",\"uid\":\"" DEPLOY_UID "\"},\"spec\":{\"replicas\":2,"
	"\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}";
static const char replicaset[] =
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web-7c9f8b6d5\","
	"\"namespace\":\"team-a\",\"uid\":\"" RS_UID "\"},\"spec\":{\"replicas\":2,"
	"\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}";
static const char rs_list[] =
	"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
	"\"items\":[{\"metadata\":{\"name\":\"web-7c9f8b6d5\",\"namespace\":\"team-a\",\"uid\":\"" RS_UID "\","
	"\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\","
	"\"uid\":\"" DEPLOY_UID "\",\"controller\":true}]}}]}";

#define POD(name, n) \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"team-a\"," \
	"\"uid\":\"6c0f4a1e-2b3d-4c5e-8f70-00000000000" n "\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\"," \
	"\"kind\":\"ReplicaSet\",\"name\":\"x\",\"uid\":\"" RS_UID "\",\"controller\":true}]}," \
	"\"spec\":{\"nodeName\":\"node-1\"},\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\"}}"
static const char pod_list[] =
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
	"\"items\":[" POD("web-b", "2") "," POD("web-a", "1") "]}";

struct cache {
	const char *body;
	size_t calls;
	char *owner;
};

static char *cache_pods(void *ud, const char *ns, const char *const *owners, size_t *ret_len)
{
	struct cache *c = ud;

	c->calls++;
	assert_string_equal(ns, "team-a");
	free(c->owner);
	c->owner = owners && owners[0] ? strdup(owners[0]) : NULL;
	if (!c->body)
		return NULL;
	*ret_len = strlen(c->body);
	return strdup(c->body);
}

static const struct kube_resolve_cache cache_ops = { .owned = cache_pods };

/* Answers the request in *req with body (status), checking its path first. */
static int answer(struct kube_resolve *r, struct kube_request *req, const char *path, long status,
		  const char *body, struct kube_pod **pods, size_t *n, char **err)
{
	int ret;

	assert_non_null(req->path);
	if (strncmp(req->path, path, strlen(path)))
		fail_msg("asked %s, want %s...", req->path, path);
	kube_request_release(req);
	*req = (struct kube_request){ 0 };
	ret = kube_resolve_answer(r, status, body, strlen(body), req, pods, n, err);
	return ret;
}

static void test_deployment(void **state)
{
	struct kube_resolve r = { .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_DEPLOYMENT,
				  .ns = "team-a", .name = "web",
				  .max_pods = 8 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(r.phase, KUBE_RESOLVE_WORKLOAD);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/deployments/web", 200, deployment,
				&pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(r.phase, KUBE_RESOLVE_OWNED);
	assert_true(r.have_wl);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets", 200, rs_list, &pods,
				&n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(r.phase, KUBE_RESOLVE_PODS);
	assert_string_equal(r.owners[0], RS_UID);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods", 200, pod_list, &pods, &n, &err),
			 KUBE_RESOLVE_DONE);
	assert_int_equal(n, 2);
	assert_string_equal(pods[0].name, "web-a");   /* sorted by name */
	assert_string_equal(pods[1].name, "web-b");
	assert_null(err);
	kube_pods_free(pods, n);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

/* The cache in front of the pods' LIST: asked with the owners; when it
 * has them, no LIST; when it has none, the LIST. */
static void test_cache(void **state)
{
	struct cache c = { .body = pod_list };
	struct kube_resolve r = { .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_REPLICASET,
				  .ns = "team-a",
				  .name = "web-7c9f8b6d5", .max_pods = 8, .cache = &cache_ops, .ud = &c };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets/web-7c9f8b6d5", 200,
				replicaset, &pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.owner, RS_UID);   /* a ReplicaSet owns its pods itself */
	assert_null(req.path);                 /* nothing more to send */
	assert_int_equal(n, 2);
	kube_pods_free(pods, n);
	kube_resolve_release(&r);

	c.body = NULL;
	r = (struct kube_resolve){ .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_REPLICASET,
				   .ns = "team-a", .name = "web-7c9f8b6d5",
				   .max_pods = 8, .cache = &cache_ops, .ud = &c };
	pods = NULL;
	n = 0;
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets/web-7c9f8b6d5", 200,
				replicaset, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(c.calls, 2);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods", 200, pod_list, &pods, &n, &err),
			 KUBE_RESOLVE_DONE);
	assert_int_equal(n, 2);
	kube_pods_free(pods, n);
	kube_request_release(&req);
	kube_resolve_release(&r);
	free(c.owner);
}

/* Deployment "web" started and its GET answered: the owned LIST asked. */
static void web_read(struct kube_resolve *r, struct kube_request *req)
{
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	*r = (struct kube_resolve){ .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_DEPLOYMENT,
				    .ns = "team-a", .name = "web", .max_pods = 1 };
	assert_int_equal(kube_resolve_start(r, req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(r, req, "/apis/apps/v1/namespaces/team-a/deployments/web", 200, deployment,
				&pods, &n, &err), KUBE_RESOLVE_SEND);
}

/* Failures say where: the phase, and a request not built or an answer. */
static void test_failures(void **state)
{
	struct kube_resolve r = { .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_DEPLOYMENT,
				  .ns = "team-a", .name = "Not/A/Name",
				  .max_pods = 1 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	/* a name Kubernetes would not accept: no request */
	assert_true(kube_resolve_start(&r, &req, &pods, &n, &err) < 0);
	assert_int_equal(r.phase, KUBE_RESOLVE_WORKLOAD);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_BUILD);
	kube_resolve_release(&r);

	/* no such Deployment */
	r = (struct kube_resolve){ .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_DEPLOYMENT,
				   .ns = "team-a", .name = "web", .max_pods = 1 };
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/deployments/web", 404,
				"{\"kind\":\"Status\",\"code\":404}", &pods, &n, &err), -TG_ENOTFOUND);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_ANSWER);
	assert_false(r.have_wl);
	free(err);
	err = NULL;
	kube_resolve_release(&r);

	/* an odd ReplicaSet list */
	web_read(&r, &req);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets", 200,
				"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}", &pods, &n, &err),
			 -TG_EUPSTREAM);
	assert_int_equal(r.phase, KUBE_RESOLVE_OWNED);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_ANSWER);
	assert_non_null(err);
	free(err);
	err = NULL;
	kube_resolve_release(&r);

	/* more Running pods than max_pods: their count */
	web_read(&r, &req);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets", 200, rs_list, &pods,
				&n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods", 200, pod_list, &pods, &n, &err),
			 -TG_ELIMIT);
	assert_int_equal(r.phase, KUBE_RESOLVE_PODS);
	assert_int_equal(n, 2);
	assert_null(pods);
	free(err);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

#define LABELED_POD(name, node, phase) \
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"team-a\"," \
	"\"uid\":\"6c0f4a1e-2b3d-4c5e-8f70-0000000000" name "\",\"labels\":{\"app\":\"web\"}}," \
	"\"spec\":{\"nodeName\":\"" node "\"},\"status\":{\"phase\":\"" phase "\"}}"

struct pod_cache {
	const char *body;      /* the cached pod, or NULL: not cached */
	size_t calls;
};

static int cache_pod(void *ud, const char *ns, const char *name, struct kube_pod *ret)
{
	struct pod_cache *c = ud;
	char *err = NULL;
	int e;

	c->calls++;
	assert_string_equal(ns, "team-a");
	if (!c->body)
		return -TG_ENOTFOUND;
	e = kube_pod_parse(200, c->body, strlen(c->body), ret, &err);
	free(err);
	assert_string_equal(ret->name, name);
	return e;
}

static char *cache_selected(void *ud, const char *ns, const struct kube_selector *sel, size_t *ret_len)
{
	struct pod_cache *c = ud;

	c->calls++;
	assert_non_null(sel);
	(void)ns;
	if (!c->body)
		return NULL;
	*ret_len = strlen(c->body);
	return strdup(c->body);
}

static const struct kube_resolve_cache pod_cache_ops = { .pod = cache_pod, .selected = cache_selected };

/* A pod: from the cache when it has it on a node (no request); else the
 * GET, whose answer may be a pod on no node yet (the caller's refusal);
 * none: -TG_ENOTFOUND. */
static void test_pod(void **state)
{
	struct pod_cache c = { .body = LABELED_POD("01", "node-1", "Running") };
	struct kube_resolve r = { .target = KUBE_TARGET_POD, .ns = "team-a", .name = "01", .max_pods = 8,
				  .cache = &pod_cache_ops, .ud = &c };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_int_equal(c.calls, 1);
	assert_null(req.path);
	assert_int_equal(r.phase, KUBE_RESOLVE_POD);
	assert_int_equal(n, 1);
	assert_string_equal(pods[0].node, "node-1");
	assert_false(kube_resolve_followed(&r));   /* a pod target is never joined */
	kube_pods_free(pods, n);
	kube_resolve_release(&r);

	/* cached but on no node yet: asked, and the answer says so */
	c.body = LABELED_POD("01", "", "Pending");
	pods = NULL;
	n = 0;
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods/01", 200,
				LABELED_POD("01", "", "Pending"), &pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_int_equal(n, 1);
	assert_string_equal(pods[0].node, "");
	kube_pods_free(pods, n);
	kube_resolve_release(&r);

	/* not cached, and no such pod */
	c.body = NULL;
	pods = NULL;
	n = 0;
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods/01", 404,
				"{\"kind\":\"Status\",\"code\":404}", &pods, &n, &err), -TG_ENOTFOUND);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_ANSWER);
	assert_null(pods);
	free(err);
	err = NULL;
	kube_resolve_release(&r);

	/* a name the API would not take: the cache is not asked, no request */
	r = (struct kube_resolve){ .target = KUBE_TARGET_POD, .ns = "team-a", .name = "../x", .max_pods = 8,
				   .cache = &pod_cache_ops, .ud = &c };
	c.calls = 0;
	assert_true(kube_resolve_start(&r, &req, &pods, &n, &err) < 0);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_BUILD);
	assert_int_equal(c.calls, 0);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

/* A node: its GET; it exists (no pods) or not. */
static void test_node(void **state)
{
	struct kube_resolve r = { .target = KUBE_TARGET_NODE, .name = "node-1", .max_pods = 8 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 7;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(r.phase, KUBE_RESOLVE_NODE);
	assert_int_equal(answer(&r, &req, "/api/v1/nodes/node-1", 200,
				"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node-1\"}}",
				&pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_int_equal(n, 0);
	assert_null(pods);
	kube_resolve_release(&r);

	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/nodes/node-1", 404, "{\"kind\":\"Status\",\"code\":404}",
				&pods, &n, &err), -TG_ENOTFOUND);
	free(err);
	err = NULL;
	/* another node's answer is not this node */
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/nodes/node-1", 200,
				"{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node-2\"}}",
				&pods, &n, &err), -TG_EUPSTREAM);
	free(err);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

#define SELECTED_LIST \
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[" \
	LABELED_POD("02", "node-1", "Running") "," LABELED_POD("01", "node-2", "Running") "," \
	LABELED_POD("03", "node-1", "Pending") "]}"

/* A selector: the cache's pods when it has some, else the LIST with the
 * selector; the match checked here again; then which pods join. */
static void test_selector(void **state)
{
	_cleanup_(kube_selector_freep) struct kube_selector *sel = NULL;
	struct pod_cache c = { .body = SELECTED_LIST };
	struct kube_resolve r;
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL, pod = { 0 };
	size_t n = 0;
	char *err = NULL;
	json_t *obj;

	assert_int_equal(kube_selector_parse("app=web", &sel, &err), 0);
	r = (struct kube_resolve){ .target = KUBE_TARGET_SELECTOR, .selector = sel, .ns = "team-a",
				   .max_pods = 8, .cache = &pod_cache_ops, .ud = &c };
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_null(req.path);
	assert_int_equal(r.phase, KUBE_RESOLVE_PODS);
	assert_int_equal(n, 2);                 /* the Pending one is not traced */
	assert_string_equal(pods[0].name, "01");
	kube_pods_free(pods, n);

	/* joining: a Running pod the selector matches; not one it does not,
	 * nor one being deleted */
	assert_true(kube_resolve_followed(&r));
	obj = json_loads(LABELED_POD("04", "node-1", "Running"), 0, NULL);
	assert_int_equal(kube_resolve_member(&r, obj, &pod), 0);
	assert_string_equal(pod.name, "04");
	kube_pod_release(&pod);
	json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "labels"), "app",
			    json_string("db"));
	assert_int_equal(kube_resolve_member(&r, obj, &pod), 1);
	json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "labels"), "app",
			    json_string("web"));
	json_object_set_new(json_object_get(obj, "metadata"), "deletionTimestamp",
			    json_string("2026-12-07T00:00:00Z"));
	assert_int_equal(kube_resolve_member(&r, obj, &pod), 1);
	json_decref(obj);
	kube_resolve_release(&r);

	/* not cached: the LIST, limited by max_pods */
	c.body = NULL;
	pods = NULL;
	n = 0;
	r = (struct kube_resolve){ .target = KUBE_TARGET_SELECTOR, .selector = sel, .ns = "team-a",
				   .max_pods = 1, .cache = &pod_cache_ops, .ud = &c };
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_non_null(strstr(req.path, "labelSelector=app%3Dweb"));
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods?", 200, SELECTED_LIST, &pods, &n,
				&err), -TG_ELIMIT);
	assert_int_equal(n, 2);
	free(err);
	err = NULL;
	kube_resolve_release(&r);

	/* every namespace: /api/v1/pods */
	r = (struct kube_resolve){ .target = KUBE_TARGET_SELECTOR, .selector = sel, .max_pods = 8 };
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/pods?", 200, SELECTED_LIST, &pods, &n, &err),
			 KUBE_RESOLVE_DONE);
	assert_int_equal(n, 2);
	kube_pods_free(pods, n);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

/* A workload's joining pods: controlled by one of its owners, Running. */
static void test_member(void **state)
{
	struct kube_resolve r = { .target = KUBE_TARGET_WORKLOAD, .kind = KUBE_WORKLOAD_REPLICASET,
				  .ns = "team-a", .name = "web-7c9f8b6d5", .max_pods = 8 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL, pod = { 0 };
	size_t n = 0;
	char *err = NULL;
	json_t *obj = json_loads(POD("web-c", "3"), 0, NULL), *other = json_loads(LABELED_POD("05", "node-1",
												"Running"), 0, NULL);

	assert_false(kube_resolve_followed(&r));   /* not read yet */
	assert_int_equal(kube_resolve_member(&r, obj, &pod), 1);
	assert_int_equal(kube_resolve_start(&r, &req, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets/web-7c9f8b6d5", 200,
				replicaset, &pods, &n, &err), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/api/v1/namespaces/team-a/pods", 200, pod_list, &pods, &n, &err),
			 KUBE_RESOLVE_DONE);
	kube_pods_free(pods, n);
	assert_true(kube_resolve_followed(&r));
	assert_int_equal(kube_resolve_member(&r, obj, &pod), 0);
	assert_string_equal(pod.name, "web-c");
	kube_pod_release(&pod);
	assert_int_equal(kube_resolve_member(&r, other, &pod), 1);   /* no controller of ours */
	json_decref(obj);
	json_decref(other);
	kube_request_release(&req);
	kube_resolve_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deployment),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_member),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
