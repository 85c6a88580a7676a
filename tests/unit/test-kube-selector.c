// SPDX-License-Identifier: Apache-2.0
/*
 * kube/selector.c: label selectors as a tenant writes them for
 * `kubectl trace run -l`.  What Kubernetes' labels.Parse accepts reads the
 * same (canonical String()), what it refuses is refused with the
 * position, hostile text never reaches a query or a message unquoted,
 * and matching follows the requirement semantics; plus the pod list of
 * a selector (kube/workload.h).
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
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/kube.h"
#include "kube/selector.h"
#include "kube/workload.h"

static void canon(const char *in, const char *want)
{
	struct kube_selector *s = NULL;
	char *err = NULL;
	int r = kube_selector_parse(in, &s, &err);

	if (r < 0)
		fail_msg("\"%s\": %d %s", in, r, err ? err : "");
	assert_string_equal(kube_selector_string(s), want);
	kube_selector_free(s);
	free(err);
}

static void bad(const char *in, int want_r, const char *want_msg)
{
	struct kube_selector *s = NULL;
	char *err = NULL;
	int r = kube_selector_parse(in, &s, &err);

	if (r != want_r)
		fail_msg("\"%s\": got %d (%s), want %d", in, r, err ? err : "", want_r);
	assert_null(s);
	assert_non_null(err);
	if (want_msg && !strstr(err, want_msg))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", in, err, want_msg);
	/* nothing but printable ASCII goes into a message */
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	free(err);
}

static void test_parse(void **state)
{
	(void)state;
	canon("app=web", "app=web");
	canon("app==web", "app=web");
	canon(" app = web ", "app=web");
	canon("app!=web", "app!=web");
	canon("app", "app");
	canon("!app", "!app");
	canon(" ! app", "!app");
	canon("tier in (b,a)", "tier in (a,b)");
	canon("tier in(a)", "tier in (a)");
	canon("tier notin ( x , y )", "tier notin (x,y)");
	canon("z=1,a=2,m", "a=2,m,z=1");
	canon("app=", "app=");
	canon("app in (a,)", "app in (,a)");
	canon("example.com/team=a-b_c.d", "example.com/team=a-b_c.d");
	canon("in=x", "in=x");     /* a key may be spelled in */
	canon("app!=db,app=web", "app=web,app!=db");
}

static void test_parse_bad(void **state)
{
	char big[KUBE_SELECTOR_MAX_BYTES + 2];
	char many[2048] = "";
	char set[1024] = "k in (";

	(void)state;
	bad("", -EINVAL, "empty");
	bad("   ", -EINVAL, "empty");
	bad(",", -EINVAL, "at position 1: expected a label key");
	bad("app=web,", -EINVAL, "at position 9: expected a label key");
	bad("a=b=c", -EINVAL, "at position 4: expected ',' or the end");
	bad("app>1", -EINVAL, "at position 4: the operator '>' is not supported");
	bad("app<1", -EINVAL, "'<' is not supported");
	bad("app in a", -EINVAL, "at position 8: expected '('");
	bad("app in ()", -EINVAL, "is empty");
	bad("app in (a", -EINVAL, "expected ',' or ')'");
	bad("app in (a b)", -EINVAL, "expected ',' or ')'");
	bad("app web", -EINVAL, "at position 5: expected one of");
	bad("!", -EINVAL, "expected a label key");
	bad("!app=x", -EINVAL, "expected ',' or the end");
	bad("-app=x", -EINVAL, "invalid label key \"-app\"");
	bad("app=-x", -EINVAL, "invalid label value \"-x\"");
	bad("a/b/c=x", -EINVAL, "invalid label key");
	bad("Example..com/x=y", -EINVAL, "invalid label key");
	bad("/x=y", -EINVAL, "invalid label key");
	bad("x/=y", -EINVAL, "invalid label key");
	bad("app=we\"b", -EINVAL, "invalid label value");
	bad("app=we\x01\x1b[2Jb", -EINVAL, "invalid label value");
	bad("app=\xc3\xa9", -EINVAL, "invalid label value");
	bad("app=a%2Cb", -EINVAL, "invalid label value");
	bad("app=a&labelSelector=x", -EINVAL, "invalid label value");
	bad("app=web)", -EINVAL, "expected ',' or the end");
	bad("(app)", -EINVAL, "expected a label key");
	/* 63 is the most a value or a name may have */
	bad("app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -EINVAL,
	    "invalid label value");
	canon("app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	      "app=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big, -TG_ELIMIT, "longer than");
	for (int i = 0; i < KUBE_SELECTOR_MAX_REQS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d", i ? "," : "", i);
	bad(many, -TG_ELIMIT, "more than 32 requirements");
	for (int i = 0; i < KUBE_SELECTOR_MAX_VALUES + 1; i++)
		snprintf(set + strlen(set), sizeof(set) - strlen(set), "%sv%d", i ? "," : "", i);
	strcat(set, ")");
	bad(set, -TG_ELIMIT, "more than 64 values");
	/* a long hostile token is quoted cut short */
	{
		char k[300];

		memset(k, '!', 1);
		memset(k + 1, 'x', 200);
		k[201] = '%';
		k[202] = '\0';
		bad(k + 1, -EINVAL, "...");
	}
}

static json_t *labels(const char *j)
{
	json_t *v = json_loads(j, 0, NULL);

	assert_non_null(v);
	return v;
}

static bool matches(const char *sel, const char *lab)
{
	struct kube_selector *s = NULL;
	json_t *l = lab ? labels(lab) : NULL;
	bool m;

	assert_int_equal(kube_selector_parse(sel, &s, NULL), 0);
	m = kube_selector_matches(s, l);
	json_decref(l);
	kube_selector_free(s);
	return m;
}

static void test_match(void **state)
{
	(void)state;
	assert_true(matches("app=web", "{\"app\":\"web\",\"x\":\"y\"}"));
	assert_false(matches("app=web", "{\"app\":\"db\"}"));
	assert_false(matches("app=web", NULL));
	assert_true(matches("app!=web", NULL));
	assert_true(matches("app!=web", "{\"app\":\"db\"}"));
	assert_false(matches("app!=web", "{\"app\":\"web\"}"));
	assert_true(matches("app", "{\"app\":\"\"}"));
	assert_false(matches("app", "{}"));
	assert_true(matches("!app", "{}"));
	assert_false(matches("!app", "{\"app\":\"x\"}"));
	assert_true(matches("t in (a,b)", "{\"t\":\"b\"}"));
	assert_false(matches("t in (a,b)", "{}"));
	assert_true(matches("t notin (a,b)", "{}"));
	assert_false(matches("t notin (a,b)", "{\"t\":\"a\"}"));
	assert_true(matches("app=web,track!=canary", "{\"app\":\"web\"}"));
	assert_false(matches("app=web,track!=canary", "{\"app\":\"web\",\"track\":\"canary\"}"));
	/* a label that is not a string matches nothing */
	assert_false(matches("app!=web", "{\"app\":1}"));
	assert_false(matches("app=web", "[\"app\"]"));
}

#define POD(ns, name, phase, node, lab)                                                           \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\",\"uid\":\"u-" name          \
	"\",\"labels\":" lab "},\"spec\":{\"nodeName\":\"" node "\",\"containers\":[{\"name\":\"c\"}]}," \
	"\"status\":{\"phase\":\"" phase "\"}}"

static void test_pod_list(void **state)
{
	static const char list[] =
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":["
		POD("team-b", "web-b", "Running", "node-1", "{\"app\":\"web\"}") ","
		POD("team-a", "web-a", "Running", "node-1", "{\"app\":\"web\"}") ","
		POD("team-a", "web-p", "Pending", "", "{\"app\":\"web\"}") ","
		POD("team-a", "db-a", "Running", "node-2", "{\"app\":\"db\"}") "]}";
	struct kube_selector *s = NULL;
	struct kube_request req = { 0 };
	struct kube_pod *pods = NULL;
	char *err = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(kube_selector_parse("app in (web)", &s, NULL), 0);
	assert_int_equal(kube_selector_pod_list_request("team-a", s, &req), 0);
	assert_string_equal(req.path, "/api/v1/namespaces/team-a/pods?labelSelector=app%20in%20%28web%29");
	kube_request_release(&req);
	assert_int_equal(kube_selector_pod_list_request(NULL, s, &req), 0);
	assert_string_equal(req.path, "/api/v1/pods?labelSelector=app%20in%20%28web%29");
	kube_request_release(&req);
	assert_int_equal(kube_selector_pod_list_request("../x", s, &req), -EINVAL);

	/* all namespaces: the Running ones that match, sorted by namespace */
	assert_int_equal(kube_pod_list_selected(NULL, s, 200, list, strlen(list), 64, &pods, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pods[0].namespace, "team-a");
	assert_string_equal(pods[0].name, "web-a");
	assert_string_equal(pods[1].namespace, "team-b");
	kube_pods_free(pods, n);
	/* one namespace: a pod of another is an odd answer, not skipped */
	assert_int_equal(kube_pod_list_selected("team-a", s, 200, list, strlen(list), 64, &pods, &n, &err),
			 -TG_EUPSTREAM);
	free(err);
	err = NULL;
	/* past the limit: how many */
	assert_int_equal(kube_pod_list_selected(NULL, s, 200, list, strlen(list), 1, &pods, &n, &err),
			 -TG_ELIMIT);
	assert_int_equal(n, 2);
	free(err);
	err = NULL;
	/* the API server's filter is not trusted: db-a never comes back */
	kube_selector_free(s);
	assert_int_equal(kube_selector_parse("app=nope", &s, NULL), 0);
	assert_int_equal(kube_pod_list_selected(NULL, s, 200, list, strlen(list), 64, &pods, &n, &err), 0);
	assert_int_equal(n, 0);
	kube_pods_free(pods, n);
	/* a 403 or a broken body: an error */
	assert_true(kube_pod_list_selected(NULL, s, 403, "{}", 2, 64, &pods, &n, &err) < 0);
	free(err);
	err = NULL;
	assert_true(kube_pod_list_selected(NULL, s, 200, "[", 1, 64, &pods, &n, &err) < 0);
	free(err);
	kube_selector_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_pod_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
