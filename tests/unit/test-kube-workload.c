// SPDX-License-Identifier: Apache-2.0
/*
 * kube/workload.c: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and
 * CronJob -> pods.  Selectors as the API
 * server reads them, ownership as the controllers decide it, and every odd
 * answer refused rather than read as "no pods" or "these pods".
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
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/kube.h"
#include "kube/workload.h"

#define DEPLOY_UID "5e7a0000-0000-4000-8000-0000000000d1"
#define RS_UID "5e7a0000-0000-4000-8000-0000000000a1"
#define OTHER_RS_UID "5e7a0000-0000-4000-8000-0000000000a2"

/* ---- helpers ---------------------------------------------------------------- */

static char *selector_of(const char *json, int *ret_r, char **ret_err)
{
	json_t *j = json ? json_loads(json, 0, NULL) : NULL;
	char *s = NULL;

	if (json)
		assert_non_null(j);
	*ret_r = kube_label_selector(j, "spec.selector", &s, ret_err);
	json_decref(j);
	return s;
}

static char *deployment(const char *name, const char *ns, const char *uid, const char *selector)
{
	char *s;

	assert_true(asprintf(&s,
			     "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
			     "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"%s%s%s},"
			     "\"spec\":{\"replicas\":2%s%s}}",
			     name, ns, uid ? ",\"uid\":\"" : "", uid ? uid : "", uid ? "\"" : "",
			     selector ? ",\"selector\":" : "", selector ? selector : "") > 0);
	return s;
}

static void web_deployment(struct kube_workload *w)
{
	char *body = deployment("web", "team-a", DEPLOY_UID, "{\"matchLabels\":{\"app\":\"web\"}}");
	char *err = NULL;

	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", w, &err), 0);
	assert_null(err);
	free(body);
}

/* A pod list item: owner "" means no ownerReferences; node "" none.  The
 * owner's apiVersion is batch/v1 for a Job, apps/v1 otherwise. */
static void add_pod(struct buf *b, const char *name, const char *owner_kind, const char *owner_uid,
		    bool controller, const char *phase, const char *node, const char *ns)
{
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++)
		n += b->s[i] == '{';
	buf_printf(b, "%s{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
		      "\"uid\":\"6c0f4a1e-2b3d-4c5e-8f70-0000000%05zu\"",
		   b->len && b->s[b->len - 1] != '[' ? "," : "", name, ns, n);
	if (*owner_uid)
		buf_printf(b, ",\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":\"%s\","
			      "\"name\":\"x\",\"uid\":\"%s\",\"controller\":%s}]",
			   strcmp(owner_kind, "Job") ? "apps/v1" : "batch/v1", owner_kind, owner_uid,
			   controller ? "true" : "false");
	buf_printf(b, "},\"spec\":{%s%s%s},\"status\":{\"phase\":\"%s\",\"qosClass\":\"Burstable\"}}",
		   *node ? "\"nodeName\":\"" : "", node, *node ? "\"" : "", phase);
}

static void list_open(struct buf *b, const char *kind)
{
	buf_printf(b, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"7\"},"
		      "\"items\":[", kind,
		   !strcmp(kind, "PodList") ? "v1" : !strcmp(kind, "JobList") ? "batch/v1" : "apps/v1");
}

static void list_close(struct buf *b)
{
	buf_adds(b, "]}");
}

/* ---- kinds --------------------------------------------------------------------- */

static void test_kinds(void **state)
{
	enum kube_workload_kind k = 0;

	assert_int_equal(kube_workload_kind_from_name("deployment", 10, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_DEPLOYMENT);
	assert_int_equal(kube_workload_kind_from_name("deploy", 6, &k), 0);
	assert_int_equal(kube_workload_kind_from_name("deployments", 11, &k), 0);
	assert_int_equal(kube_workload_kind_from_name("rs", 2, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_REPLICASET);
	assert_int_equal(kube_workload_kind_from_name("replicasets", 11, &k), 0);
	assert_int_equal(kube_workload_kind_from_name("statefulset", 11, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_STATEFULSET);
	assert_int_equal(kube_workload_kind_from_name("sts", 3, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_STATEFULSET);
	assert_int_equal(kube_workload_kind_from_name("ds", 2, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_DAEMONSET);
	assert_int_equal(kube_workload_kind_from_name("daemonsets", 10, &k), 0);
	assert_int_equal(kube_workload_kind_from_name("jobs", 4, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_JOB);
	assert_int_equal(kube_workload_kind_from_name("cj", 2, &k), 0);
	assert_int_equal(k, KUBE_WORKLOAD_CRONJOB);
	assert_int_equal(kube_workload_kind_from_name("cronjob", 7, &k), 0);
	assert_int_equal(kube_workload_kind_from_name("pod", 3, &k), -EINVAL);
	assert_int_equal(kube_workload_kind_from_name("service", 7, &k), -EINVAL);
	assert_string_equal(kube_workload_group(KUBE_WORKLOAD_DAEMONSET), "apps");
	assert_string_equal(kube_workload_group(KUBE_WORKLOAD_CRONJOB), "batch");
	assert_string_equal(kube_workload_resource(KUBE_WORKLOAD_JOB), "jobs");
	assert_int_equal(kube_workload_owns(KUBE_WORKLOAD_DEPLOYMENT), KUBE_WORKLOAD_REPLICASET);
	assert_int_equal(kube_workload_owns(KUBE_WORKLOAD_CRONJOB), KUBE_WORKLOAD_JOB);
	assert_int_equal(kube_workload_owns(KUBE_WORKLOAD_STATEFULSET), 0);
	assert_int_equal(kube_workload_owns(KUBE_WORKLOAD_JOB), 0);
	assert_int_equal(kube_workload_kind_from_name("deploymentx", 10, &k), 0); /* by length */
	assert_int_equal(kube_workload_kind_from_name("Deployment", 10, &k), -EINVAL);
	assert_string_equal(kube_workload_kind_name(KUBE_WORKLOAD_REPLICASET), "replicaset");
	assert_string_equal(kube_workload_resource(KUBE_WORKLOAD_DEPLOYMENT), "deployments");
}

/* ---- selectors ---------------------------------------------------------------- */

static void test_selector(void **state)
{
	char *err = NULL, *s;
	int r;

	s = selector_of("{\"matchLabels\":{\"tier\":\"front\",\"app\":\"web\"}}", &r, &err);
	assert_int_equal(r, 0);
	assert_string_equal(s, "app=web,tier=front");
	free(s);
	/* metav1.LabelSelectorAsSelector: sorted by key, In values sorted */
	s = selector_of("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
			"{\"key\":\"track\",\"operator\":\"In\",\"values\":[\"stable\",\"canary\"]},"
			"{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]},"
			"{\"key\":\"example.com/gpu\",\"operator\":\"Exists\"},"
			"{\"key\":\"legacy\",\"operator\":\"DoesNotExist\",\"values\":[]}]}",
			&r, &err);
	assert_int_equal(r, 0);
	assert_string_equal(s, "app=web,env notin (dev),example.com/gpu,!legacy,track in (canary,stable)");
	free(s);
	s = selector_of("{\"matchLabels\":{\"app\":\"\"}}", &r, &err);
	assert_int_equal(r, 0);
	assert_string_equal(s, "app=");
	free(s);
}

static void test_selector_bad(void **state)
{
	static const struct {
		const char *json;
		int code;
		const char *msg;
	} cases[] = {
		{ NULL, -EINVAL, "\"spec.selector\" is missing" },
		{ "[]", -EINVAL, "is not an object" },
		{ "{}", -EINVAL, "it would select every pod" },
		{ "{\"matchLabels\":{}}", -EINVAL, "it would select every pod" },
		{ "{\"matchLabels\":null,\"matchExpressions\":[]}", -EINVAL, "every pod" },
		{ "{\"matchLabel\":{\"app\":\"web\"}}", -EINVAL, "unknown field \"matchLabel\"" },
		{ "{\"matchLabels\":[\"app\"]}", -EINVAL, "\"matchLabels\" is not an object" },
		{ "{\"matchLabels\":{\"app\":1}}", -EINVAL, "not a valid label value" },
		{ "{\"matchLabels\":{\"app\":\"a b\"}}", -EINVAL, "not a valid label value" },
		{ "{\"matchLabels\":{\"app\":\"web,x=y\"}}", -EINVAL, "not a valid label value" },
		{ "{\"matchLabels\":{\"a=b\":\"web\"}}", -EINVAL, "not a valid label key" },
		{ "{\"matchLabels\":{\"-app\":\"web\"}}", -EINVAL, "not a valid label key" },
		{ "{\"matchLabels\":{\"Bad_Prefix/app\":\"web\"}}", -EINVAL, "not a valid label key" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
		  -EINVAL, "unknown operator \"Gt\"" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}", -EINVAL,
		  "operator \"In\" needs values" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", -EINVAL,
		  "needs values" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
		  -EINVAL, "operator \"Exists\" takes no values" },
		{ "{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", -EINVAL, "needs a valid \"key\"" },
		{ "{\"matchExpressions\":[\"app\"]}", -EINVAL, "matchExpressions[0]" },
		{ "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"x\",\"(\"]}]}",
		  -EINVAL, "matchExpressions[0].values[1]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL, *s;
		int r;

		s = selector_of(cases[i].json, &r, &err);
		if (r != cases[i].code || !err || !strstr(err, cases[i].msg))
			fail_msg("case %zu (%s): %d \"%s\"", i, cases[i].json ? cases[i].json : "NULL", r,
				 err ? err : "");
		assert_null(s);
		free(err);
	}
}

static void test_selector_limits(void **state)
{
	struct buf b = BUF_INIT(0);
	char *err = NULL, *s;
	int r;

	/* KUBE_MAX_SELECTOR_REQS requirements: fine; one more: a limit */
	buf_adds(&b, "{\"matchLabels\":{");
	for (int i = 0; i < KUBE_MAX_SELECTOR_REQS; i++)
		buf_printf(&b, "%s\"k%d\":\"v\"", i ? "," : "", i);
	buf_adds(&b, "}}");
	s = selector_of(b.s, &r, &err);
	assert_int_equal(r, 0);
	free(s);
	buf_clear(&b);
	buf_adds(&b, "{\"matchLabels\":{");
	for (int i = 0; i <= KUBE_MAX_SELECTOR_REQS; i++)
		buf_printf(&b, "%s\"k%d\":\"v\"", i ? "," : "", i);
	buf_adds(&b, "}}");
	s = selector_of(b.s, &r, &err);
	assert_int_equal(r, -TG_ELIMIT);
	assert_non_null(strstr(err, "more than 32 requirements"));
	free(err);
	err = NULL;
	/* too many values in one expression */
	buf_clear(&b);
	buf_adds(&b, "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[");
	for (int i = 0; i <= KUBE_MAX_SELECTOR_VALUES; i++)
		buf_printf(&b, "%s\"v%d\"", i ? "," : "", i);
	buf_adds(&b, "]}]}");
	s = selector_of(b.s, &r, &err);
	assert_int_equal(r, -TG_ELIMIT);
	assert_non_null(strstr(err, "more than 64 values"));
	free(err);
	err = NULL;
	/* too long as text: 32 requirements of 63-byte values with long keys */
	buf_clear(&b);
	buf_adds(&b, "{\"matchLabels\":{");
	for (int i = 0; i < KUBE_MAX_SELECTOR_REQS; i++)
		buf_printf(&b, "%s\"example.com/key-%02d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":"
			       "\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"",
			   i ? "," : "", i);
	buf_adds(&b, "}}");
	s = selector_of(b.s, &r, &err);
	assert_int_equal(r, -TG_ELIMIT);
	assert_non_null(strstr(err, "longer than 4096 bytes"));
	free(err);
	buf_release(&b);
}

/* ---- requests ------------------------------------------------------------------- */

static void test_requests(void **state)
{
	struct kube_request r = { 0 };
	struct kube_workload w = { 0 };

	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_DEPLOYMENT, "team-a", "web", &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/apis/apps/v1/namespaces/team-a/deployments/web");
	assert_null(r.body);
	kube_request_release(&r);
	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_REPLICASET, "team-a", "web-7c9f8b6d5", &r), 0);
	assert_string_equal(r.path, "/apis/apps/v1/namespaces/team-a/replicasets/web-7c9f8b6d5");
	kube_request_release(&r);
	/* nothing that could smuggle a path or query into the URL */
	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_DEPLOYMENT, "team-a", "web/../x", &r), -EINVAL);
	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_DEPLOYMENT, "team-a", "web?x=1", &r), -EINVAL);
	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_DEPLOYMENT, "Team-a", "web", &r), -EINVAL);
	assert_int_equal(kube_workload_get_request(0, "team-a", "web", &r), -EINVAL);

	w.kind = KUBE_WORKLOAD_DEPLOYMENT;
	w.namespace = "team-a";
	w.name = "web";
	w.selector = "app=web,track in (canary,stable),!legacy";
	assert_int_equal(kube_pod_list_request(&w, &r), 0);
	assert_string_equal(r.path, "/api/v1/namespaces/team-a/pods?labelSelector="
				    "app%3Dweb%2Ctrack%20in%20%28canary%2Cstable%29%2C%21legacy");
	kube_request_release(&r);
	assert_int_equal(kube_owned_list_request(&w, &r), 0);
	assert_string_equal(r.path, "/apis/apps/v1/namespaces/team-a/replicasets?labelSelector="
				    "app%3Dweb%2Ctrack%20in%20%28canary%2Cstable%29%2C%21legacy");
	kube_request_release(&r);
	w.kind = KUBE_WORKLOAD_REPLICASET;
	assert_int_equal(kube_owned_list_request(&w, &r), -EINVAL);
	w.selector = "";
	assert_int_equal(kube_pod_list_request(&w, &r), -EINVAL);
}

/* ---- the workload ---------------------------------------------------------------- */

static void test_workload_parse(void **state)
{
	struct kube_workload w = { 0 };
	char *err = NULL, *body;
	const char *rs = "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":"
			 "\"web-7c9f8b6d5\",\"namespace\":\"team-a\",\"uid\":\"" RS_UID "\"},"
			 "\"spec\":{\"selector\":{\"matchLabels\":{\"pod-template-hash\":\"7c9f8b6d5\","
			 "\"app\":\"web\"}}}}";

	web_deployment(&w);
	assert_int_equal(w.kind, KUBE_WORKLOAD_DEPLOYMENT);
	assert_string_equal(w.namespace, "team-a");
	assert_string_equal(w.name, "web");
	assert_string_equal(w.uid, DEPLOY_UID);
	assert_string_equal(w.selector, "app=web");
	kube_workload_release(&w);

	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_REPLICASET, 200, rs, strlen(rs), "team-a",
					     "web-7c9f8b6d5", &w, &err), 0);
	assert_string_equal(w.selector, "app=web,pod-template-hash=7c9f8b6d5");
	assert_string_equal(w.uid, RS_UID);
	kube_workload_release(&w);

	/* a ReplicaSet is not a Deployment, even with the right name */
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, rs, strlen(rs), "team-a",
					     "web-7c9f8b6d5", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "expected kind \"Deployment\""));

	body = deployment("web", "team-a", DEPLOY_UID, "{\"matchLabels\":{\"app\":\"web\"}}");
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "api", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "not deployment \"api\" in namespace \"team-a\""));
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-b", "web", &w, &err), -TG_EUPSTREAM);
	free(body);

	body = deployment("web", "team-a", NULL, "{\"matchLabels\":{\"app\":\"web\"}}");
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "\"metadata.uid\" is missing"));
	free(body);

	body = deployment("web", "team-a", DEPLOY_UID, "{}");
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "deployment \"team-a/web\": \"spec.selector\" is empty"));
	free(body);

	body = deployment("web", "team-a", DEPLOY_UID, NULL);
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "\"spec.selector\" is missing"));
	free(body);

	body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
	       "\"deployments.apps \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 404, body, strlen(body),
					     "team-a", "nope", &w, &err), -TG_ENOTFOUND);
	assert_non_null(strstr(err, "not found"));
	/* the gateway's own account refused: not "no such deployment" */
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 403, "{}", 2, "team-a", "web",
					     &w, &err), -TG_EUPSTREAM);
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, "[]", 2, "team-a", "web",
					     &w, &err), -TG_EUPSTREAM);
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, NULL, 0, "team-a", "web",
					     &w, &err), -TG_EUPSTREAM);
	body = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
	       "\"name\":\"x\"}}";
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", &w, &err), -TG_EUPSTREAM);
	body = "{\"apiVersion\":\"apps/v1beta2\",\"kind\":\"Deployment\"}";
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DEPLOYMENT, 200, body, strlen(body),
					     "team-a", "web", &w, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "apiVersion"));
	free(err);
}

/* ---- ReplicaSets of a Deployment ------------------------------------------------- */

static void add_rs(struct buf *b, const char *name, const char *uid, const char *owner_uid,
		   const char *controller)
{
	buf_printf(b, "%s{\"metadata\":{\"name\":\"%s\",\"namespace\":\"team-a\",\"uid\":\"%s\"",
		   b->s[b->len - 1] == '[' ? "" : ",", name, uid);
	if (owner_uid)
		buf_printf(b, ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
			      "\"Deployment\",\"name\":\"web\",\"uid\":\"%s\"%s%s}]",
			   owner_uid, controller ? ",\"controller\":" : "", controller ? controller : "");
	buf_adds(b, "}}");
}

static void test_rs_owned(void **state)
{
	struct kube_workload w = { 0 };
	struct buf b = BUF_INIT(0);
	char **uids = NULL, *err = NULL;

	web_deployment(&w);
	list_open(&b, "ReplicaSetList");
	add_rs(&b, "web-7c9f8b6d5", RS_UID, DEPLOY_UID, "true");
	add_rs(&b, "web-old", "5e7a0000-0000-4000-8000-0000000000a9", DEPLOY_UID, "true");
	add_rs(&b, "web-canary-5d8f9c7b6", OTHER_RS_UID, "5e7a0000-0000-4000-8000-0000000000d2", "true");
	add_rs(&b, "web-adopted-not", "5e7a0000-0000-4000-8000-0000000000a8", DEPLOY_UID, "false");
	add_rs(&b, "web-bare", "5e7a0000-0000-4000-8000-0000000000a7", NULL, NULL);
	list_close(&b);
	assert_int_equal(kube_owned_list_owned(&w, 200, b.s, b.len, &uids, &err), 0);
	assert_non_null(uids);
	assert_string_equal(uids[0], RS_UID);
	assert_string_equal(uids[1], "5e7a0000-0000-4000-8000-0000000000a9");
	assert_null(uids[2]);
	strv_free(uids);
	uids = NULL;

	/* none: an empty list, not an error */
	buf_clear(&b);
	list_open(&b, "ReplicaSetList");
	list_close(&b);
	assert_int_equal(kube_owned_list_owned(&w, 200, b.s, b.len, &uids, &err), 0);
	assert_null(uids[0]);
	strv_free(uids);
	uids = NULL;

	/* odd answers */
	{
		static const char *const bad[] = {
			"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":{}}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"continue\":\"abc\"},\"items\":[]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[1]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-b\",\"uid\":\"u\"}}]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-a\",\"ownerReferences\":[{\"kind\":\"Deployment\",\"uid\":\"" DEPLOY_UID "\",\"controller\":true}]}}]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-a\",\"uid\":\"a/b\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"" DEPLOY_UID "\",\"controller\":true}]}}]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-a\",\"uid\":\"u\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"" DEPLOY_UID "\",\"controller\":\"yes\"}]}}]}",
			"{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[{\"metadata\":{\"name\":\"x\",\"namespace\":\"team-a\",\"uid\":\"u\",\"ownerReferences\":["
			"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"" DEPLOY_UID "\",\"controller\":true},"
			"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"api\",\"uid\":\"u2\",\"controller\":true}]}}]}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int r = kube_owned_list_owned(&w, 200, bad[i], strlen(bad[i]), &uids, &err);

			if (r != -TG_EUPSTREAM)
				fail_msg("bad answer %zu accepted (%d)", i, r);
			assert_null(uids);
		}
		assert_non_null(strstr(err, "more than one controller"));
	}
	assert_int_equal(kube_owned_list_owned(&w, 403, "{}", 2, &uids, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "answered 403"));
	free(err);
	buf_release(&b);
	kube_workload_release(&w);
}

/* ---- pods of ReplicaSets ------------------------------------------------------------ */

static void test_pods_owned(void **state)
{
	const char *const owners[] = { RS_UID, "5e7a0000-0000-4000-8000-0000000000a9", NULL };
	struct kube_workload w = { 0 };
	struct buf b = BUF_INIT(0);
	struct kube_pod *pods = NULL;
	size_t n = 99;
	char *err = NULL;

	web_deployment(&w);
	list_open(&b, "PodList");
	add_pod(&b, "web-z", "ReplicaSet", RS_UID, true, "Running", "node-2", "team-a");
	add_pod(&b, "web-a", "ReplicaSet", RS_UID, true, "Running", "node-1", "team-a");
	add_pod(&b, "web-old-1", "ReplicaSet", owners[1], true, "Running", "node-1", "team-a");
	add_pod(&b, "web-pending", "ReplicaSet", RS_UID, true, "Pending", "", "team-a");
	add_pod(&b, "web-done", "ReplicaSet", RS_UID, true, "Succeeded", "node-1", "team-a");
	add_pod(&b, "web-canary-a", "ReplicaSet", OTHER_RS_UID, true, "Running", "node-2", "team-a");
	add_pod(&b, "web-orphan", "ReplicaSet", RS_UID, false, "Running", "node-2", "team-a");
	add_pod(&b, "web-bare", "", "", false, "Running", "node-2", "team-a");
	/* a Deployment is not a ReplicaSet, whatever its uid */
	add_pod(&b, "web-direct", "Deployment", RS_UID, true, "Running", "node-2", "team-a");
	list_close(&b);
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, owners, 64, &pods, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(pods[0].name, "web-a");
	assert_string_equal(pods[0].node, "node-1");
	assert_string_equal(pods[0].namespace, "team-a");
	assert_string_equal(pods[0].qos, "Burstable");
	assert_string_equal(pods[1].name, "web-old-1");
	assert_string_equal(pods[2].name, "web-z");
	assert_string_equal(pods[2].node, "node-2");
	kube_pods_free(pods, n);
	pods = NULL;

	/* the limit: exactly max is fine, one more names how many */
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, owners, 3, &pods, &n, &err), 0);
	kube_pods_free(pods, n);
	pods = NULL;
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, owners, 2, &pods, &n, &err), -TG_ELIMIT);
	assert_null(pods);
	assert_int_equal(n, 3);
	assert_string_equal(err, "deployment \"web\" in namespace \"team-a\" has 3 running pods, more than 2");

	/* no owners (a Deployment without ReplicaSets): no pods, no error */
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, (const char *const[]){ NULL }, 64,
					     &pods, &n, &err), 0);
	assert_int_equal(n, 0);
	kube_pods_free(pods, n);
	pods = NULL;

	/* odd answers: a running pod of ours without a node, one of another
	 * namespace, a malformed pod of ours, a list of the wrong kind */
	buf_clear(&b);
	list_open(&b, "PodList");
	add_pod(&b, "web-a", "ReplicaSet", RS_UID, true, "Running", "", "team-a");
	list_close(&b);
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, owners, 64, &pods, &n, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "pod \"team-a/web-a\" is running but has no \"spec.nodeName\""));
	buf_clear(&b);
	list_open(&b, "PodList");
	add_pod(&b, "web-a", "ReplicaSet", RS_UID, true, "Running", "node-1", "team-b");
	list_close(&b);
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, owners, 64, &pods, &n, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "not of namespace \"team-a\""));
	{
		const char *bad = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":"
				  "{\"name\":\"web-a\",\"namespace\":\"team-a\",\"uid\":\"../../x\","
				  "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
				  "\"name\":\"x\",\"uid\":\"" RS_UID "\",\"controller\":true}]},"
				  "\"spec\":{\"nodeName\":\"node-1\"},\"status\":{\"phase\":\"Running\"}}]}";

		assert_int_equal(kube_pod_list_owned(&w, 200, bad, strlen(bad), owners, 64, &pods, &n, &err),
				 -TG_EUPSTREAM);
		assert_non_null(strstr(err, "uid has characters a cgroup name cannot have"));
		bad = "{\"kind\":\"ReplicaSetList\",\"apiVersion\":\"apps/v1\",\"items\":[]}";
		assert_int_equal(kube_pod_list_owned(&w, 200, bad, strlen(bad), owners, 64, &pods, &n, &err),
				 -TG_EUPSTREAM);
		bad = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"continue\":\"x\"},\"items\":[]}";
		assert_int_equal(kube_pod_list_owned(&w, 200, bad, strlen(bad), owners, 64, &pods, &n, &err),
				 -TG_EUPSTREAM);
		assert_non_null(strstr(err, "only part of the list"));
	}
	assert_int_equal(kube_pod_list_owned(&w, 500, "oops", 4, owners, 64, &pods, &n, &err), -TG_EUPSTREAM);
	assert_null(pods);
	free(err);
	buf_release(&b);
	kube_workload_release(&w);
}

/* ---- StatefulSet, DaemonSet, Job, CronJob ------------------------------------------ */

#define STS_UID "5e7a0000-0000-4000-8000-0000000000e1"
#define CJ_UID "5e7a0000-0000-4000-8000-0000000000e2"
#define JOB_UID "5e7a0000-0000-4000-8000-0000000000e3"

static void test_other_kinds(void **state)
{
	static const char sts[] = "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":"
				  "{\"name\":\"db\",\"namespace\":\"team-a\",\"uid\":\"" STS_UID "\"},"
				  "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"db\"}}}}";
	static const char cj[] = "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":"
				 "{\"name\":\"nightly\",\"namespace\":\"team-a\",\"uid\":\"" CJ_UID "\"},"
				 "\"spec\":{\"schedule\":\"0 3 * * *\",\"jobTemplate\":{}}}";
	const char *const sts_owner[] = { STS_UID, NULL }, *const job_owner[] = { JOB_UID, NULL };
	struct kube_workload w = { 0 };
	struct kube_request r = { 0 };
	struct kube_pod *pods = NULL;
	struct buf b = BUF_INIT(0);
	char *err = NULL, **uids = NULL;
	size_t n = 0;

	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_DAEMONSET, "team-a", "agent", &r), 0);
	assert_string_equal(r.path, "/apis/apps/v1/namespaces/team-a/daemonsets/agent");
	kube_request_release(&r);
	assert_int_equal(kube_workload_get_request(KUBE_WORKLOAD_CRONJOB, "team-a", "nightly", &r), 0);
	assert_string_equal(r.path, "/apis/batch/v1/namespaces/team-a/cronjobs/nightly");
	kube_request_release(&r);

	/* a StatefulSet owns its pods itself: no list in between */
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_STATEFULSET, 200, sts, strlen(sts), "team-a",
					     "db", &w, &err), 0);
	assert_string_equal(w.selector, "app=db");
	assert_int_equal(kube_owned_list_request(&w, &r), -EINVAL);
	list_open(&b, "PodList");
	add_pod(&b, "db-0", "StatefulSet", STS_UID, true, "Running", "node-1", "team-a");
	add_pod(&b, "db-1", "StatefulSet", STS_UID, true, "Running", "node-2", "team-a");
	/* the uid under another kind is not the StatefulSet's */
	add_pod(&b, "db-x", "ReplicaSet", STS_UID, true, "Running", "node-2", "team-a");
	add_pod(&b, "db-y", "Job", STS_UID, true, "Running", "node-2", "team-a");
	list_close(&b);
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, sts_owner, 64, &pods, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pods[0].name, "db-0");
	assert_string_equal(pods[1].name, "db-1");
	kube_pods_free(pods, n);
	pods = NULL;
	kube_workload_release(&w);

	/* the answer must be of the kind asked for */
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_DAEMONSET, 200, sts, strlen(sts), "team-a",
					     "db", &w, &err), -TG_EUPSTREAM);
	assert_null(w.uid);
	free(err);
	err = NULL;

	/* a CronJob: no selector; its Jobs, then their pods, by ownership alone */
	assert_int_equal(kube_workload_parse(KUBE_WORKLOAD_CRONJOB, 200, cj, strlen(cj), "team-a",
					     "nightly", &w, &err), 0);
	assert_null(w.selector);
	assert_string_equal(w.uid, CJ_UID);
	assert_int_equal(kube_owned_list_request(&w, &r), 0);
	assert_string_equal(r.path, "/apis/batch/v1/namespaces/team-a/jobs");
	kube_request_release(&r);
	assert_int_equal(kube_pod_list_request(&w, &r), 0);
	assert_string_equal(r.path, "/api/v1/namespaces/team-a/pods");
	kube_request_release(&r);
	buf_clear(&b);
	list_open(&b, "JobList");
	buf_adds(&b, "{\"metadata\":{\"name\":\"nightly-1\",\"namespace\":\"team-a\",\"uid\":\"" JOB_UID "\","
		     "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"name\":"
		     "\"nightly\",\"uid\":\"" CJ_UID "\",\"controller\":true}]}},"
		     /* the CronJob's uid under apps/v1: not a batch CronJob's Job */
		     "{\"metadata\":{\"name\":\"fake\",\"namespace\":\"team-a\",\"uid\":\"u-fake\","
		     "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"CronJob\",\"name\":"
		     "\"nightly\",\"uid\":\"" CJ_UID "\",\"controller\":true}]}},"
		     "{\"metadata\":{\"name\":\"manual\",\"namespace\":\"team-a\",\"uid\":\"u-manual\"}}");
	list_close(&b);
	assert_int_equal(kube_owned_list_owned(&w, 200, b.s, b.len, &uids, &err), 0);
	assert_string_equal(uids[0], JOB_UID);
	assert_null(uids[1]);
	strv_free(uids);
	uids = NULL;
	/* a ReplicaSetList is not the Jobs asked for */
	buf_clear(&b);
	list_open(&b, "ReplicaSetList");
	list_close(&b);
	assert_int_equal(kube_owned_list_owned(&w, 200, b.s, b.len, &uids, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "job list"));
	free(err);
	err = NULL;
	buf_clear(&b);
	list_open(&b, "PodList");
	add_pod(&b, "nightly-1-abc", "Job", JOB_UID, true, "Running", "node-1", "team-a");
	add_pod(&b, "nightly-1-old", "Job", JOB_UID, true, "Succeeded", "node-1", "team-a");
	add_pod(&b, "other", "ReplicaSet", JOB_UID, true, "Running", "node-1", "team-a");
	list_close(&b);
	assert_int_equal(kube_pod_list_owned(&w, 200, b.s, b.len, job_owner, 64, &pods, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(pods[0].name, "nightly-1-abc");
	kube_pods_free(pods, n);
	kube_workload_release(&w);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_selector_bad),
		cmocka_unit_test(test_selector_limits),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_workload_parse),
		cmocka_unit_test(test_rs_owned),
		cmocka_unit_test(test_pods_owned),
		cmocka_unit_test(test_other_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
