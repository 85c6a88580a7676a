// SPDX-License-Identifier: Apache-2.0
/*
 * kube/resolve.c: a workload target resolved to its Running pods as one
 * call its caller drives: the requests in order (GET, LIST owned, LIST
 * pods), the caller's cache in front of the last, and where a failure
 * happened (phase, build or answer) for the caller's message.
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
	struct kube_resolve r = { .kind = KUBE_WORKLOAD_DEPLOYMENT, .ns = "team-a", .name = "web",
				  .max_pods = 8 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req), KUBE_RESOLVE_SEND);
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
	struct kube_resolve r = { .kind = KUBE_WORKLOAD_REPLICASET, .ns = "team-a",
				  .name = "web-7c9f8b6d5", .max_pods = 8, .pods_cached = cache_pods, .ud = &c };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	assert_int_equal(kube_resolve_start(&r, &req), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(&r, &req, "/apis/apps/v1/namespaces/team-a/replicasets/web-7c9f8b6d5", 200,
				replicaset, &pods, &n, &err), KUBE_RESOLVE_DONE);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.owner, RS_UID);   /* a ReplicaSet owns its pods itself */
	assert_null(req.path);                 /* nothing more to send */
	assert_int_equal(n, 2);
	kube_pods_free(pods, n);
	kube_resolve_release(&r);

	c.body = NULL;
	r = (struct kube_resolve){ .kind = KUBE_WORKLOAD_REPLICASET, .ns = "team-a", .name = "web-7c9f8b6d5",
				   .max_pods = 8, .pods_cached = cache_pods, .ud = &c };
	pods = NULL;
	n = 0;
	assert_int_equal(kube_resolve_start(&r, &req), KUBE_RESOLVE_SEND);
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

	*r = (struct kube_resolve){ .kind = KUBE_WORKLOAD_DEPLOYMENT, .ns = "team-a", .name = "web", .max_pods = 1 };
	assert_int_equal(kube_resolve_start(r, req), KUBE_RESOLVE_SEND);
	assert_int_equal(answer(r, req, "/apis/apps/v1/namespaces/team-a/deployments/web", 200, deployment,
				&pods, &n, &err), KUBE_RESOLVE_SEND);
}

/* Failures say where: the phase, and a request not built or an answer. */
static void test_failures(void **state)
{
	struct kube_resolve r = { .kind = KUBE_WORKLOAD_DEPLOYMENT, .ns = "team-a", .name = "Not/A/Name",
				  .max_pods = 1 };
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	size_t n = 0;
	char *err = NULL;

	/* a name Kubernetes would not accept: no request */
	assert_true(kube_resolve_start(&r, &req) < 0);
	assert_int_equal(r.phase, KUBE_RESOLVE_WORKLOAD);
	assert_int_equal(r.fail, KUBE_RESOLVE_FAIL_BUILD);
	kube_resolve_release(&r);

	/* no such Deployment */
	r = (struct kube_resolve){ .kind = KUBE_WORKLOAD_DEPLOYMENT, .ns = "team-a", .name = "web", .max_pods = 1 };
	assert_int_equal(kube_resolve_start(&r, &req), KUBE_RESOLVE_SEND);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deployment),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
