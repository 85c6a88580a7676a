// SPDX-License-Identifier: Apache-2.0
/* kube/kube.c: request JSON and every odd answer the parsers must refuse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/errors.h"
#include "kube/kube.h"

static const char *const auds[] = { "tracegate", NULL };

static json_t *body_json(const struct kube_request *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);

	assert_non_null(j);
	return j;
}

/* ---- TokenReview request ----------------------------------------------- */

static void test_tr_request(void **state)
{
	struct kube_request r = { 0 };
	json_t *j, *spec;

	assert_int_equal(kube_tokenreview_request("tok\"en", auds, &r), 0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/apis/authentication.k8s.io/v1/tokenreviews");
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "authentication.k8s.io/v1");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "TokenReview");
	spec = json_object_get(j, "spec");
	assert_string_equal(json_string_value(json_object_get(spec, "token")), "tok\"en");
	assert_int_equal(json_array_size(json_object_get(spec, "audiences")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "audiences"), 0)),
			    "tracegate");
	json_decref(j);
	kube_request_release(&r);

	/* no audiences: the key is left out (omitempty) */
	assert_int_equal(kube_tokenreview_request("t", NULL, &r), 0);
	j = body_json(&r);
	assert_null(json_object_get(json_object_get(j, "spec"), "audiences"));
	json_decref(j);
	kube_request_release(&r);

	assert_int_equal(kube_tokenreview_request("", auds, &r), -EINVAL);
	{
		char *big = malloc(KUBE_TOKEN_MAX_LEN + 2);

		memset(big, 'a', KUBE_TOKEN_MAX_LEN + 1);
		big[KUBE_TOKEN_MAX_LEN + 1] = '\0';
		assert_int_equal(kube_tokenreview_request(big, auds, &r), -TG_ELIMIT);
		free(big);
	}
}

/* ---- TokenReview answers ----------------------------------------------- */

static int tr(long status, const char *body, const char *const *a, struct kube_user *u,
	      bool *cacheable, char **err)
{
	free(*err);
	*err = NULL;
	return kube_tokenreview_parse_ex(status, body, body ? strlen(body) : 0, a, u, cacheable, err);
}

#define TR_HEAD "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"spec\":{\"token\":\"secret-token\"},"

static void test_tr_authenticated(void **state)
{
	struct kube_user u = { 0 };
	char *err = NULL;
	bool c = false;

	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"x\",\"tracegate\"],"
				  "\"user\":{\"username\":\"alice\",\"uid\":\"u-1\",\"groups\":[\"team-a-devs\",\"system:authenticated\"],"
				  "\"extra\":{\"Scopes.Example\":[\"a\",\"b\"],\"empty\":[]}}}}",
			    auds, &u, &c, &err),
			 0);
	assert_true(c);
	assert_string_equal(u.username, "alice");
	assert_string_equal(u.uid, "u-1");
	assert_string_equal(u.groups[0], "team-a-devs");
	assert_string_equal(u.groups[1], "system:authenticated");
	assert_null(u.groups[2]);
	assert_non_null(u.extra);
	assert_string_equal(json_string_value(json_array_get(json_object_get(u.extra, "Scopes.Example"), 1)), "b");
	kube_user_release(&u);

	/* 200 is as good as 201; no groups/uid/extra: empty list, NULLs */
	assert_int_equal(tr(200, TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],"
				  "\"user\":{\"username\":\"bob\"}}}",
			    auds, &u, &c, &err),
			 0);
	assert_string_equal(u.username, "bob");
	assert_null(u.uid);
	assert_non_null(u.groups);
	assert_null(u.groups[0]);
	assert_null(u.extra);
	kube_user_release(&u);

	/* no audiences asked: status.audiences is not looked at */
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"bob\"}}}",
			    NULL, &u, &c, &err),
			 0);
	kube_user_release(&u);
	free(err);
}

static void test_tr_refusals(void **state)
{
	struct kube_user u = { 0 };
	char *err = NULL;
	bool c;

	/* authenticated omitted (omitempty) means false: cached as a no */
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"alice\"}}}",
			    auds, &u, &c, &err),
			 -TG_EAUTHN);
	assert_true(c);
	assert_null(u.username);
	assert_non_null(strstr(err, "not authenticated"));
	assert_null(strstr(err, "secret-token"));

	/* authenticated false with an error: not cacheable, error in the message */
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":false,\"error\":\"token expired\",\"user\":{}}}",
			    NULL, &u, &c, &err),
			 -TG_EAUTHN);
	assert_false(c);
	assert_non_null(strstr(err, "token expired"));

	/* audiences that do not intersect the requested ones */
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"other\"],"
				  "\"user\":{\"username\":\"alice\"}}}",
			    auds, &u, &c, &err),
			 -TG_EAUTHN);
	assert_non_null(strstr(err, "audience \"tracegate\""));

	/* authenticated true but no audiences although we asked: the API
	 * server's own audience, not ours */
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":true,\"user\":{\"username\":\"alice\"}}}",
			    auds, &u, &c, &err),
			 -TG_EAUTHN);
	assert_int_equal(tr(201, TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[],\"user\":{\"username\":\"alice\"}}}",
			    auds, &u, &c, &err),
			 -TG_EAUTHN);
	assert_null(u.username);
	free(err);
}

static void test_tr_bad_answers(void **state)
{
	static const char *const bodies[] = {
		/* malformed JSON, not an object, wrong kind, wrong apiVersion */
		"{\"apiVersion\":",
		"[1,2]",
		"{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SubjectAccessReview\",\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
		"{\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
		"{\"kind\":\"TokenReview\",\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
		/* no status, status of the wrong type */
		TR_HEAD "\"x\":1}",
		TR_HEAD "\"status\":true}",
		/* authenticated not a bool ("true" the string is not true) */
		TR_HEAD "\"status\":{\"authenticated\":\"true\",\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
		TR_HEAD "\"status\":{\"authenticated\":1,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
		/* authenticated without a user name */
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"]}}",
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"\"}}}",
		/* odd types in user */
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\",\"groups\":\"g\"}}}",
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\",\"groups\":[1]}}}",
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\",\"extra\":{\"k\":\"v\"}}}}",
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":\"tracegate\",\"user\":{\"username\":\"a\"}}}",
		TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":\"a\"}}",
		/* duplicate keys: a second authenticated must not win */
		TR_HEAD "\"status\":{\"authenticated\":false,\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}",
	};
	struct kube_user u = { 0 };
	char *err = NULL;
	bool c;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int r = tr(201, bodies[i], auds, &u, &c, &err);

		if (r != -TG_EUPSTREAM)
			fail_msg("body %zu: got %d (%s), want -TG_EUPSTREAM", i, r, err ? err : "");
		assert_false(c);
		assert_null(u.username);
		assert_non_null(err);
	}
	assert_int_equal(tr(201, NULL, auds, &u, &c, &err), -TG_EUPSTREAM);
	free(err);
}

static void test_tr_http_status(void **state)
{
	static const char st401[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				    "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}";
	static const char st403[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				    "\"message\":\"tokenreviews.authentication.k8s.io is forbidden\",\"reason\":\"Forbidden\",\"code\":403}";
	/* even a 4xx/5xx carrying an "authenticated" body is no */
	static const char fake[] = TR_HEAD "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],\"user\":{\"username\":\"a\"}}}";
	struct kube_user u = { 0 };
	char *err = NULL;
	bool c;

	assert_int_equal(tr(401, st401, auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "401"));
	assert_non_null(strstr(err, "Unauthorized"));
	assert_int_equal(tr(403, st403, auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "forbidden"));
	assert_int_equal(tr(500, fake, auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_null(strstr(err, "secret-token"));
	assert_int_equal(tr(302, fake, auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_int_equal(tr(0, fake, auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_int_equal(tr(500, "garbage", auds, &u, &c, &err), -TG_EUPSTREAM);
	assert_false(c);
	assert_null(u.username);
	free(err);
}

/* ---- SubjectAccessReview ----------------------------------------------- */

static void test_sar_request(void **state)
{
	char *groups[] = { "team-a-devs", "system:authenticated", NULL };
	json_t *extra = json_pack("{s:[s]}", "authentication.kubernetes.io/pod-UID", "p-1");
	struct kube_user u = { .username = "alice", .uid = "u-1", .groups = groups, .extra = extra };
	struct kube_resource_attrs a = { .namespace = "team-a", .verb = "create", .group = "tracegate.dev",
					 .resource = "traces", .name = "web-a" };
	struct kube_request r = { 0 };
	json_t *j, *spec, *ra;

	assert_int_equal(kube_sar_request(&u, &a, &r), 0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/apis/authorization.k8s.io/v1/subjectaccessreviews");
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "SubjectAccessReview");
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "authorization.k8s.io/v1");
	spec = json_object_get(j, "spec");
	assert_string_equal(json_string_value(json_object_get(spec, "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(spec, "uid")), "u-1");
	assert_int_equal(json_array_size(json_object_get(spec, "groups")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "groups"), 1)),
			    "system:authenticated");
	/* extra copied verbatim: the key's case is kept */
	assert_true(json_equal(json_object_get(spec, "extra"), extra));
	assert_null(json_object_get(spec, "nonResourceAttributes"));
	ra = json_object_get(spec, "resourceAttributes");
	assert_string_equal(json_string_value(json_object_get(ra, "namespace")), "team-a");
	assert_string_equal(json_string_value(json_object_get(ra, "verb")), "create");
	assert_string_equal(json_string_value(json_object_get(ra, "group")), "tracegate.dev");
	assert_string_equal(json_string_value(json_object_get(ra, "resource")), "traces");
	assert_string_equal(json_string_value(json_object_get(ra, "name")), "web-a");
	/* empty attributes are omitted */
	assert_null(json_object_get(ra, "subresource"));
	assert_null(json_object_get(ra, "version"));
	json_decref(j);
	kube_request_release(&r);

	/* core group "" is omitted, not sent as "" (omitempty); groups only */
	{
		struct kube_user g = { .groups = groups };
		struct kube_resource_attrs p = { .namespace = "team-a", .verb = "get", .group = "",
						 .resource = "pods", .name = "web-a" };

		assert_int_equal(kube_sar_request(&g, &p, &r), 0);
		j = body_json(&r);
		assert_null(json_object_get(json_object_get(json_object_get(j, "spec"), "resourceAttributes"), "group"));
		assert_null(json_object_get(json_object_get(j, "spec"), "user"));
		json_decref(j);
		kube_request_release(&r);
	}
	/* no user and no groups; no verb; no resource */
	{
		struct kube_user none = { 0 };
		struct kube_resource_attrs nv = { .resource = "pods" }, nr = { .verb = "get" };

		assert_int_equal(kube_sar_request(&none, &a, &r), -EINVAL);
		assert_int_equal(kube_sar_request(&u, &nv, &r), -EINVAL);
		assert_int_equal(kube_sar_request(&u, &nr, &r), -EINVAL);
	}
	json_decref(extra);
}

static int sar(long status, const char *body, bool *allowed, char **reason, char **err)
{
	free(*err);
	*err = NULL;
	free(*reason);
	*reason = NULL;
	*allowed = true; /* must be overwritten on every path */
	return kube_sar_parse(status, body, body ? strlen(body) : 0, allowed, reason, err);
}

#define SAR_HEAD "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\",\"spec\":{\"user\":\"alice\"},"

static void test_sar_answers(void **state)
{
	char *reason = NULL, *err = NULL;
	bool ok;

	assert_int_equal(sar(201, SAR_HEAD "\"status\":{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding\"}}",
			     &ok, &reason, &err),
			 0);
	assert_true(ok);
	assert_string_equal(reason, "RBAC: allowed by RoleBinding");

	/* explicit deny */
	assert_int_equal(sar(201, SAR_HEAD "\"status\":{\"allowed\":false,\"denied\":true,\"reason\":\"nope\"}}",
			     &ok, &reason, &err),
			 0);
	assert_false(ok);
	assert_string_equal(reason, "nope");

	/* NoOpinion is a deny */
	assert_int_equal(sar(201, SAR_HEAD "\"status\":{\"allowed\":false}}", &ok, &reason, &err), 0);
	assert_false(ok);
	assert_string_equal(reason, "no opinion");

	/* evaluationError alongside a refusal becomes the reason */
	assert_int_equal(sar(201, SAR_HEAD "\"status\":{\"allowed\":false,\"evaluationError\":\"clusterrole \\\"x\\\" not found\"}}",
			     &ok, &reason, &err),
			 0);
	assert_false(ok);
	assert_non_null(strstr(reason, "not found"));

	/* RBAC can allow even with an evaluation error */
	assert_int_equal(sar(201, SAR_HEAD "\"status\":{\"allowed\":true,\"evaluationError\":\"role missing\"}}",
			     &ok, &reason, &err),
			 0);
	assert_true(ok);
	free(reason);
	free(err);
}

static void test_sar_bad_answers(void **state)
{
	static const char *const bodies[] = {
		/* allowed and denied together */
		SAR_HEAD "\"status\":{\"allowed\":true,\"denied\":true}}",
		/* allowed missing (it is never omitted), or not a bool */
		SAR_HEAD "\"status\":{}}",
		SAR_HEAD "\"status\":{\"denied\":false}}",
		SAR_HEAD "\"status\":{\"allowed\":\"true\"}}",
		SAR_HEAD "\"status\":{\"allowed\":1}}",
		SAR_HEAD "\"status\":{\"allowed\":null}}",
		SAR_HEAD "\"status\":{\"allowed\":true,\"denied\":\"no\"}}",
		SAR_HEAD "\"status\":{\"allowed\":true,\"reason\":5}}",
		SAR_HEAD "\"x\":1}",
		SAR_HEAD "\"status\":[]}",
		/* wrong kind / apiVersion */
		"{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\",\"status\":{\"allowed\":true}}",
		"{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true}}",
		"{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Success\",\"code\":201}",
		/* malformed */
		"{\"status\":{\"allowed\":true}",
		"true",
		"",
		SAR_HEAD "\"status\":{\"allowed\":false,\"allowed\":true}}",
	};
	char *reason = NULL, *err = NULL;
	bool ok;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int r = sar(201, bodies[i], &ok, &reason, &err);

		if (r != -TG_EUPSTREAM)
			fail_msg("body %zu: got %d, want -TG_EUPSTREAM", i, r);
		assert_false(ok);
		assert_non_null(err);
	}
	/* an allow inside a failed HTTP status is still no */
	assert_int_equal(sar(401, SAR_HEAD "\"status\":{\"allowed\":true}}", &ok, &reason, &err), -TG_EUPSTREAM);
	assert_false(ok);
	assert_int_equal(sar(403, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
				  "\"subjectaccessreviews.authorization.k8s.io is forbidden\",\"reason\":\"Forbidden\",\"code\":403}",
			     &ok, &reason, &err),
			 -TG_EUPSTREAM);
	assert_non_null(strstr(err, "is forbidden"));
	assert_int_equal(sar(500, SAR_HEAD "\"status\":{\"allowed\":true}}", &ok, &reason, &err), -TG_EUPSTREAM);
	assert_int_equal(sar(204, NULL, &ok, &reason, &err), -TG_EUPSTREAM);
	assert_false(ok);
	free(reason);
	free(err);
}

/* ---- Pods -------------------------------------------------------------- */

/* the gateway's review for node/NAME: cluster-scoped, named for the node */
static void test_sar_nodetraces(void **state)
{
	struct kube_user u = { .username = "olga", .uid = "u-2" };
	struct kube_resource_attrs a = { .verb = "create", .group = "tracegate.dev", .version = "v1alpha1",
					 .resource = "nodetraces", .name = "node-1" };
	struct kube_request r = { 0 };
	json_t *j, *ra;

	(void)state;
	assert_int_equal(kube_sar_request(&u, &a, &r), 0);
	j = body_json(&r);
	ra = json_object_get(json_object_get(j, "spec"), "resourceAttributes");
	assert_null(json_object_get(ra, "namespace"));
	assert_string_equal(json_string_value(json_object_get(ra, "verb")), "create");
	assert_string_equal(json_string_value(json_object_get(ra, "group")), "tracegate.dev");
	assert_string_equal(json_string_value(json_object_get(ra, "resource")), "nodetraces");
	assert_string_equal(json_string_value(json_object_get(ra, "name")), "node-1");
	json_decref(j);
	kube_request_release(&r);
}

static void test_node_request(void **state)
{
	static const char node[] = "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node-1\"}}";
	static const char gone[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
				   "\"message\":\"nodes \\\"node-9\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
	struct kube_request r = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(kube_node_get_request("node-1", &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/api/v1/nodes/node-1");
	assert_null(r.body);
	kube_request_release(&r);
	assert_int_equal(kube_node_get_request("ip-10-0-0-1.ec2.internal", &r), 0);
	kube_request_release(&r);
	assert_int_equal(kube_node_get_request("../pods", &r), -EINVAL);
	assert_int_equal(kube_node_get_request("node-1?x=1", &r), -EINVAL);
	assert_int_equal(kube_node_get_request("", &r), -EINVAL);
	assert_int_equal(kube_node_get_request(NULL, &r), -EINVAL);

	assert_int_equal(kube_node_parse(200, node, strlen(node), "node-1", &err), 0);
	assert_int_equal(kube_node_parse(404, gone, strlen(gone), "node-9", &err), -TG_ENOTFOUND);
	free(err);
	err = NULL;
	/* another node, another kind, another status: never taken as it */
	assert_int_equal(kube_node_parse(200, node, strlen(node), "node-2", &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "another node"));
	free(err);
	err = NULL;
	assert_int_equal(kube_node_parse(200, "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node-1\"}}",
					 61, "node-1", &err), -TG_EUPSTREAM);
	free(err);
	err = NULL;
	assert_int_equal(kube_node_parse(403, gone, strlen(gone), "node-9", &err), -TG_EUPSTREAM);
	free(err);
}

static void test_pod_request(void **state)
{
	struct kube_request r = { 0 };

	assert_int_equal(kube_pod_get_request("team-a", "web-a", &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/api/v1/namespaces/team-a/pods/web-a");
	assert_null(r.body);
	kube_request_release(&r);
	assert_int_equal(kube_pod_get_request("team-a", "web.a-1", &r), 0);
	kube_request_release(&r);
	assert_int_equal(kube_pod_get_request("team-a", "../../nodes", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("team-a", "web-a?x=1", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("Team-A", "web-a", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("team.a", "web-a", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("", "web-a", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("team-a", "", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("-a", "web-a", &r), -EINVAL);
	assert_int_equal(kube_pod_get_request("team-a", "web-", &r), -EINVAL);
}

#define POD_HEAD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","

static int pod(long status, const char *body, struct kube_pod *p, char **err)
{
	free(*err);
	*err = NULL;
	return kube_pod_parse(status, body, body ? strlen(body) : 0, p, err);
}

static void test_pod_parse(void **state)
{
	struct kube_pod p = { 0 };
	char *err = NULL;

	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"web-a\",\"namespace\":\"team-a\","
					  "\"uid\":\"1b2c3d4e-aaaa-bbbb-cccc-0123456789ab\"},"
					  "\"spec\":{\"nodeName\":\"node-1\"},"
					  "\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\","
					  "\"containerStatuses\":[{\"name\":\"a\",\"containerID\":\"containerd://abc123\"},"
					  "{\"name\":\"b\"}],"
					  "\"initContainerStatuses\":[{\"name\":\"i\",\"containerID\":\"cri-o://def\"}],"
					  "\"ephemeralContainerStatuses\":[{\"name\":\"e\",\"containerID\":\"docker://0f\"}]}}",
			     &p, &err),
			 0);
	assert_string_equal(p.name, "web-a");
	assert_string_equal(p.namespace, "team-a");
	assert_string_equal(p.uid, "1b2c3d4e-aaaa-bbbb-cccc-0123456789ab");
	assert_string_equal(p.node, "node-1");
	assert_string_equal(p.qos, "Burstable");
	assert_string_equal(p.phase, "Running");
	assert_string_equal(p.container_ids[0], "containerd://abc123");
	assert_string_equal(p.container_ids[1], "cri-o://def");
	assert_string_equal(p.container_ids[2], "docker://0f");
	assert_null(p.container_ids[3]);
	kube_pod_release(&p);

	/* static pod: the mirror annotation names the cgroup */
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"etcd-node-1\",\"namespace\":\"kube-system\","
					  "\"uid\":\"aaaaaaaa-0000-0000-0000-000000000000\",\"annotations\":{"
					  "\"kubernetes.io/config.hash\":\"0123456789abcdef0123456789abcdef\","
					  "\"kubernetes.io/config.mirror\":\"0123456789abcdef0123456789abcdef\","
					  "\"kubernetes.io/config.source\":\"file\"}},"
					  "\"spec\":{},\"status\":{\"qosClass\":\"Guaranteed\"}}",
			     &p, &err),
			 0);
	assert_string_equal(p.uid, "0123456789abcdef0123456789abcdef");
	assert_string_equal(p.node, "");
	assert_string_equal(p.phase, "");
	assert_non_null(p.container_ids);
	assert_null(p.container_ids[0]);
	kube_pod_release(&p);

	/* config.hash alone also names it */
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"s\",\"namespace\":\"kube-system\","
					  "\"uid\":\"u\",\"annotations\":{\"kubernetes.io/config.hash\":\"feedbeef\"}}}",
			     &p, &err),
			 0);
	assert_string_equal(p.uid, "feedbeef");
	assert_string_equal(p.qos, "");
	kube_pod_release(&p);
	free(err);
}

static void test_pod_bad(void **state)
{
	static const char *const bodies[] = {
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"}}",                      /* no uid */
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"../../x\"}}",  /* path chars */
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\",\"annotations\":{\"kubernetes.io/config.mirror\":\"a/b\"}}}",
		POD_HEAD "\"metadata\":{\"namespace\":\"n\",\"uid\":\"u\"}}",                       /* no name */
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},\"status\":{\"qosClass\":\"Platinum\"}}",
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},\"status\":{\"containerStatuses\":[{\"containerID\":\"abc\"}]}}",
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},\"status\":{\"containerStatuses\":[{\"containerID\":\"containerd://../x\"}]}}",
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},\"status\":{\"containerStatuses\":{}}}",
		POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},\"spec\":{\"nodeName\":7}}",
		POD_HEAD "\"metadata\":[]}",
		"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"}}",
		"{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":[]}",
		"not json",
	};
	struct kube_pod p = { 0 };
	char *err = NULL;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		int r = pod(200, bodies[i], &p, &err);

		if (r != -TG_EUPSTREAM)
			fail_msg("body %zu: got %d, want -TG_EUPSTREAM", i, r);
		assert_null(p.uid);
		assert_non_null(err);
	}
	assert_int_equal(pod(404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
				  "\"message\":\"pods \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"code\":404}",
			     &p, &err),
			 -TG_ENOTFOUND);
	assert_non_null(strstr(err, "not found"));
	assert_int_equal(pod(404, "", &p, &err), -TG_ENOTFOUND);
	assert_int_equal(pod(403, "{}", &p, &err), -TG_EUPSTREAM);
	assert_int_equal(pod(500, "{}", &p, &err), -TG_EUPSTREAM);
	assert_int_equal(pod(401, NULL, &p, &err), -TG_EUPSTREAM);
	free(err);
}

/* ---- client options ------------------------------------------------------ */

static void test_client_opts(void **state)
{
	struct kube_client_opts o = { .sz = sizeof(o), .server = "http://127.0.0.1:1", .ca_file = "/etc/hostname",
				      .token_file = "/nonexistent" };
	struct kube_client *c = NULL;
	char *err = NULL;

	assert_int_equal(kube_client_new(&o, &c, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "https://"));
	free(err);
	err = NULL;
	o.server = "https://127.0.0.1:1";
	o.ca_file = "/nonexistent/ca.crt";
	assert_int_equal(kube_client_new(&o, &c, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "/nonexistent/ca.crt"));
	free(err);
	err = NULL;
	o.ca_file = "/etc/hostname";
	o.token_file = NULL;
	assert_int_equal(kube_client_new(&o, &c, &err), -TG_ECONFIG);
	free(err);
	err = NULL;
	o.sz = 4;
	assert_int_equal(kube_client_new(&o, &c, &err), -EINVAL);
	free(err);
	err = NULL;

	/* a missing token file fails the request, it is not sent without one */
	o.sz = sizeof(o);
	o.token_file = "/nonexistent/token";
	o.server = "https://127.0.0.1:1/";
	assert_int_equal(kube_client_new(&o, &c, &err), 0);
	{
		struct kube_request r = { .method = "GET", .path = "/api" };
		struct buf body = BUF_INIT(0);
		long st = 0;

		assert_int_equal(kube_client_do(c, &r, &st, &body, &err), -TG_EUPSTREAM);
		assert_non_null(strstr(err, "token file \"/nonexistent/token\""));
		buf_release(&body);
	}
	kube_client_free(c);
	free(err);
}

/* -c NAME picks from these: spec order, IDs and states from the status */
static void test_pod_containers(void **state)
{
	struct kube_pod p = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"duo\",\"namespace\":\"n\",\"uid\":\"u\"},"
					  "\"spec\":{\"containers\":[{\"name\":\"app\"},{\"name\":\"sidecar\"},{\"name\":\"idle\"},"
					  "{\"name\":\"done\"},{\"name\":\"Bad_Name\"}],\"initContainers\":[{\"name\":\"init\"}]},"
					  "\"status\":{\"containerStatuses\":["
					  "{\"name\":\"sidecar\",\"containerID\":\"cri-o://b\",\"state\":{\"running\":{}}},"
					  "{\"name\":\"app\",\"containerID\":\"containerd://a\"},"
					  "{\"name\":\"idle\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}},"
					  "{\"name\":\"done\",\"containerID\":\"docker://d\",\"state\":{\"terminated\":{}}},"
					  "{\"name\":\"extra\",\"containerID\":\"docker://e\"}],"
					  "\"initContainerStatuses\":[{\"name\":\"init\",\"containerID\":\"docker://f\","
					  "\"state\":{\"terminated\":{\"exitCode\":0}}}]}}",
			     &p, &err),
			 0);
	assert_int_equal(p.ncontainers, 6);
	/* spec order, then what only the status names; Bad_Name names nothing */
	assert_string_equal(p.containers[0].name, "app");
	assert_string_equal(p.containers[0].id, "containerd://a");
	assert_true(p.containers[0].running);     /* an ID and no state: running */
	assert_string_equal(p.containers[1].name, "sidecar");
	assert_string_equal(p.containers[1].id, "cri-o://b");
	assert_true(p.containers[1].running);
	assert_string_equal(p.containers[2].name, "idle");
	assert_string_equal(p.containers[2].id, "");
	assert_false(p.containers[2].running);
	assert_string_equal(p.containers[3].name, "done");
	assert_false(p.containers[3].running);
	assert_string_equal(p.containers[4].name, "init");
	assert_false(p.containers[4].running);
	assert_string_equal(p.containers[5].name, "extra");
	assert_true(p.containers[5].running);
	kube_pod_release(&p);

	/* no spec, no status: no containers */
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"}}", &p, &err), 0);
	assert_int_equal(p.ncontainers, 0);
	kube_pod_release(&p);

	/* shapes that are not the API server's: refused */
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},"
					  "\"spec\":{\"containers\":{}}}", &p, &err), -TG_EUPSTREAM);
	assert_int_equal(pod(200, POD_HEAD "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"uid\":\"u\"},"
					  "\"spec\":{\"containers\":[{\"name\":5}]}}", &p, &err), -TG_EUPSTREAM);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tr_request),
		cmocka_unit_test(test_tr_authenticated),
		cmocka_unit_test(test_tr_refusals),
		cmocka_unit_test(test_tr_bad_answers),
		cmocka_unit_test(test_tr_http_status),
		cmocka_unit_test(test_sar_request),
		cmocka_unit_test(test_sar_answers),
		cmocka_unit_test(test_sar_bad_answers),
		cmocka_unit_test(test_pod_request),
		cmocka_unit_test(test_node_request),
		cmocka_unit_test(test_sar_nodetraces),
		cmocka_unit_test(test_pod_parse),
		cmocka_unit_test(test_pod_containers),
		cmocka_unit_test(test_pod_bad),
		cmocka_unit_test(test_client_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
