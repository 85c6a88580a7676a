// SPDX-License-Identifier: Apache-2.0
/* kube/cache.c: TTLs, LRU bound, what is and is not cached. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/errors.h"
#include "kube/cache.h"

#define SEC 1000000000ull

static uint64_t fake_now;

static uint64_t clock_fn(void *ud)
{
	return *(uint64_t *)ud;
}

static struct kube_cache_opts opts(void)
{
	struct kube_cache_opts o = { .sz = sizeof(o), .now_ns = clock_fn, .now_ud = &fake_now };

	fake_now = 1000 * SEC;
	return o;
}

static const char *const auds[] = { "tracegate", NULL };
static char *alice_groups[] = { "team-a-devs", "system:authenticated", NULL };
static struct kube_user alice = { .username = "alice", .uid = "u-1", .groups = alice_groups };

static void test_token_ttl(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_token_cache *c = NULL;
	struct kube_user u = { 0 };
	bool authn = false;

	assert_int_equal(kube_token_cache_new(&o, &c), 0);
	assert_int_equal(kube_token_cache_lookup(c, "tok", auds, &authn, &u), 0);
	assert_int_equal(kube_token_cache_store(c, "tok", auds, &alice), 0);
	assert_int_equal(kube_token_cache_lookup(c, "tok", auds, &authn, &u), 1);
	assert_true(authn);
	assert_string_equal(u.username, "alice");
	assert_string_equal(u.groups[0], "team-a-devs");
	kube_user_release(&u);

	/* the key is (token, audiences): other audiences, other token miss */
	{
		const char *const other[] = { "other", NULL };
		const char *const two[] = { "tracegate", "x", NULL };

		assert_int_equal(kube_token_cache_lookup(c, "tok", other, &authn, &u), 0);
		assert_int_equal(kube_token_cache_lookup(c, "tok", two, &authn, &u), 0);
		assert_int_equal(kube_token_cache_lookup(c, "tok", NULL, &authn, &u), 0);
		assert_int_equal(kube_token_cache_lookup(c, "tok2", auds, &authn, &u), 0);
		/* length prefixes: "tok"+"tracegate" is not "toktracegate" */
		assert_int_equal(kube_token_cache_lookup(c, "toktracegate", NULL, &authn, &u), 0);
	}

	/* 10 s by default: alive at +9.999999999 s, gone at +10 s exactly */
	fake_now += 10 * SEC - 1;
	assert_int_equal(kube_token_cache_lookup(c, "tok", auds, &authn, &u), 1);
	kube_user_release(&u);
	fake_now += 1;
	assert_int_equal(kube_token_cache_lookup(c, "tok", auds, &authn, &u), 0);
	assert_int_equal(kube_token_cache_size(c), 0);
	kube_token_cache_free(c);
}

static void test_token_negative_and_errors(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_token_cache *c = NULL;
	struct kube_user u = { 0 };
	char *err = NULL;
	bool authn = true;
	static const char unauth[] = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
				     "\"status\":{\"user\":{}}}";
	static const char unauth_err[] = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
					 "\"status\":{\"user\":{},\"error\":\"cannot reach the issuer\"}}";
	static const char ok[] = "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
				 "\"status\":{\"authenticated\":true,\"audiences\":[\"tracegate\"],"
				 "\"user\":{\"username\":\"bob\",\"groups\":[\"g\"]}}}";

	assert_int_equal(kube_token_cache_new(&o, &c), 0);
	/* a clean "not authenticated" is cached as such */
	assert_int_equal(kube_token_cache_parse_store(c, "bad", auds, 201, unauth, strlen(unauth), &u, &err),
			 -TG_EAUTHN);
	assert_int_equal(kube_token_cache_lookup(c, "bad", auds, &authn, &u), 1);
	assert_false(authn);
	assert_null(u.username);
	/* status.error, HTTP errors, garbage: never */
	assert_int_equal(kube_token_cache_parse_store(c, "e1", auds, 201, unauth_err, strlen(unauth_err), &u, &err),
			 -TG_EAUTHN);
	assert_int_equal(kube_token_cache_parse_store(c, "e2", auds, 500, ok, strlen(ok), &u, &err), -TG_EUPSTREAM);
	assert_int_equal(kube_token_cache_parse_store(c, "e3", auds, 201, "{", 1, &u, &err), -TG_EUPSTREAM);
	assert_int_equal(kube_token_cache_lookup(c, "e1", auds, &authn, &u), 0);
	assert_int_equal(kube_token_cache_lookup(c, "e2", auds, &authn, &u), 0);
	assert_int_equal(kube_token_cache_lookup(c, "e3", auds, &authn, &u), 0);
	assert_int_equal(kube_token_cache_size(c), 1);
	/* success is stored and handed back */
	assert_int_equal(kube_token_cache_parse_store(c, "good", auds, 201, ok, strlen(ok), &u, &err), 0);
	assert_string_equal(u.username, "bob");
	kube_user_release(&u);
	assert_int_equal(kube_token_cache_lookup(c, "good", auds, &authn, &u), 1);
	assert_true(authn);
	assert_string_equal(u.username, "bob");
	kube_user_release(&u);
	free(err);
	kube_token_cache_free(c);
}

static void test_token_never(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_token_cache *c = NULL;
	struct kube_user u = { 0 };
	bool authn;

	o.token_ttl_ns = UINT64_MAX;
	assert_int_equal(kube_token_cache_new(&o, &c), 0);
	assert_int_equal(kube_token_cache_store(c, "tok", auds, &alice), 0);
	assert_int_equal(kube_token_cache_lookup(c, "tok", auds, &authn, &u), 0);
	kube_token_cache_free(c);
}

static struct kube_resource_attrs attrs_ns(const char *ns)
{
	struct kube_resource_attrs a = { .namespace = ns, .verb = "create", .group = "tracegate.dev",
					 .resource = "traces" };
	return a;
}

static void test_sar_ttls(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_sar_cache *c = NULL;
	struct kube_resource_attrs a = attrs_ns("team-a"), b = attrs_ns("team-b");
	char *reason = NULL;
	bool allowed = false;

	o.allowed_ttl_ns = 20 * SEC;
	o.denied_ttl_ns = 5 * SEC;
	assert_int_equal(kube_sar_cache_new(&o, &c), 0);
	assert_int_equal(kube_sar_cache_store(c, &alice, &a, true, "RBAC: allowed by RoleBinding"), 0);
	assert_int_equal(kube_sar_cache_store(c, &alice, &b, false, "no opinion"), 0);
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 1);
	assert_true(allowed);
	assert_string_equal(reason, "RBAC: allowed by RoleBinding");
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &b, &allowed, &reason), 1);
	assert_false(allowed);
	assert_string_equal(reason, "no opinion");

	/* the key is the whole spec: another user, uid, group, verb misses */
	{
		char *g2[] = { "team-b-devs", NULL };
		struct kube_user bob = { .username = "bob", .groups = g2 };
		struct kube_user alice2 = alice;
		struct kube_resource_attrs a2 = a;

		alice2.uid = "u-2";
		a2.verb = "delete";
		assert_int_equal(kube_sar_cache_lookup(c, &bob, &a, &allowed, &reason), 0);
		assert_int_equal(kube_sar_cache_lookup(c, &alice2, &a, &allowed, &reason), 0);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a2, &allowed, &reason), 0);
		alice2.uid = alice.uid;
		alice2.groups = g2;
		assert_int_equal(kube_sar_cache_lookup(c, &alice2, &a, &allowed, &reason), 0);
	}

	/* denied gone after 5 s, allowed still there until 20 s */
	fake_now += 5 * SEC;
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &b, &allowed, &reason), 0);
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 1);
	fake_now += 15 * SEC - 1;
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 1);
	fake_now += 1;
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 0);
	free(reason);
	kube_sar_cache_free(c);
}

static void test_sar_defaults_and_errors(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_sar_cache *c = NULL;
	struct kube_resource_attrs a = attrs_ns("team-a");
	char *reason = NULL, *err = NULL;
	bool allowed = false;
	static const char yes[] = "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
				  "\"status\":{\"allowed\":true,\"reason\":\"r\"}}";
	static const char both[] = "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
				   "\"status\":{\"allowed\":true,\"denied\":true}}";

	assert_int_equal(kube_sar_cache_new(&o, &c), 0);
	/* errors are not cached, even when the body says allowed */
	assert_int_equal(kube_sar_cache_parse_store(c, &alice, &a, 500, yes, strlen(yes), &allowed, &reason, &err),
			 -TG_EUPSTREAM);
	assert_false(allowed);
	assert_int_equal(kube_sar_cache_parse_store(c, &alice, &a, 201, both, strlen(both), &allowed, &reason, &err),
			 -TG_EUPSTREAM);
	assert_int_equal(kube_sar_cache_size(c), 0);
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 0);
	/* a success is; default TTL 10 s for allowed */
	assert_int_equal(kube_sar_cache_parse_store(c, &alice, &a, 201, yes, strlen(yes), &allowed, &reason, &err), 0);
	assert_true(allowed);
	assert_string_equal(reason, "r");
	allowed = false;
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 1);
	assert_true(allowed);
	fake_now += 10 * SEC;
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, &reason), 0);
	free(reason);
	free(err);
	kube_sar_cache_free(c);
}

static void test_sar_big_attrs(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_sar_cache *c = NULL;
	struct kube_resource_attrs a = attrs_ns("team-a");
	char *name = malloc(KUBE_SAR_CACHE_MAX_ATTR_BYTES);
	size_t base;
	bool allowed;

	/* exactly at the limit (sum of attribute lengths = 10000): skipped */
	base = strlen("team-a") + strlen("create") + strlen("tracegate.dev") + strlen("traces");
	memset(name, 'n', KUBE_SAR_CACHE_MAX_ATTR_BYTES - base);
	name[KUBE_SAR_CACHE_MAX_ATTR_BYTES - base] = '\0';
	a.name = name;
	assert_false(kube_sar_cacheable(&a));
	assert_int_equal(kube_sar_cache_new(&o, &c), 0);
	assert_int_equal(kube_sar_cache_store(c, &alice, &a, true, NULL), 0);
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, NULL), 0);
	assert_int_equal(kube_sar_cache_size(c), 0);
	/* one byte less: cached */
	name[KUBE_SAR_CACHE_MAX_ATTR_BYTES - base - 1] = '\0';
	assert_true(kube_sar_cacheable(&a));
	assert_int_equal(kube_sar_cache_store(c, &alice, &a, true, NULL), 0);
	assert_int_equal(kube_sar_cache_lookup(c, &alice, &a, &allowed, NULL), 1);
	free(name);
	kube_sar_cache_free(c);
}

static void test_lru_bound(void **state)
{
	struct kube_cache_opts o = opts();
	struct kube_sar_cache *c = NULL;
	char ns[32];
	bool allowed;

	/* the default bound */
	assert_int_equal(kube_sar_cache_new(&o, &c), 0);
	for (int i = 0; i < KUBE_CACHE_DEFAULT_MAX + 100; i++) {
		struct kube_resource_attrs a;

		snprintf(ns, sizeof(ns), "ns-%d", i);
		a = attrs_ns(ns);
		assert_int_equal(kube_sar_cache_store(c, &alice, &a, true, NULL), 0);
	}
	assert_int_equal(kube_sar_cache_size(c), KUBE_CACHE_DEFAULT_MAX);
	kube_sar_cache_free(c);

	/* least recently used goes first: touch ns-0, insert ns-3, ns-1 is out */
	o.max_entries = 3;
	assert_int_equal(kube_sar_cache_new(&o, &c), 0);
	for (int i = 0; i < 3; i++) {
		struct kube_resource_attrs a;

		snprintf(ns, sizeof(ns), "ns-%d", i);
		a = attrs_ns(ns);
		assert_int_equal(kube_sar_cache_store(c, &alice, &a, true, NULL), 0);
	}
	{
		struct kube_resource_attrs a0 = attrs_ns("ns-0"), a1 = attrs_ns("ns-1"), a2 = attrs_ns("ns-2"),
					   a3 = attrs_ns("ns-3");

		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a0, &allowed, NULL), 1);
		assert_int_equal(kube_sar_cache_store(c, &alice, &a3, false, NULL), 0);
		assert_int_equal(kube_sar_cache_size(c), 3);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a1, &allowed, NULL), 0);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a0, &allowed, NULL), 1);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a2, &allowed, NULL), 1);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a3, &allowed, NULL), 1);
		assert_false(allowed);
		/* storing again replaces (allowed now), no duplicate */
		assert_int_equal(kube_sar_cache_store(c, &alice, &a3, true, NULL), 0);
		assert_int_equal(kube_sar_cache_size(c), 3);
		assert_int_equal(kube_sar_cache_lookup(c, &alice, &a3, &allowed, NULL), 1);
		assert_true(allowed);
	}
	kube_sar_cache_free(c);
}

static void test_bad_opts(void **state)
{
	struct kube_cache_opts o = { .sz = 3 };
	struct kube_sar_cache *c = NULL;
	struct kube_token_cache *t = NULL;

	assert_int_equal(kube_sar_cache_new(&o, &c), -EINVAL);
	assert_int_equal(kube_token_cache_new(&o, &t), -EINVAL);
	/* NULL options: defaults and the real clock */
	assert_int_equal(kube_sar_cache_new(NULL, &c), 0);
	kube_sar_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_ttl),
		cmocka_unit_test(test_token_negative_and_errors),
		cmocka_unit_test(test_token_never),
		cmocka_unit_test(test_sar_ttls),
		cmocka_unit_test(test_sar_defaults_and_errors),
		cmocka_unit_test(test_sar_big_attrs),
		cmocka_unit_test(test_lru_bound),
		cmocka_unit_test(test_bad_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
