// SPDX-License-Identifier: Apache-2.0
/* gateway/dry-cache: what makes two dry runs the same check, and what the
 * cache gives back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include "gateway/config.h"
#include "gateway/dry-cache.h"
#include "wire/session.h"

static struct session_request base(void)
{
	static char *params[] = { "1" };
	return (struct session_request){
		.trace = "5f0c6a4e-0000-4000-8000-000000000001",
		.program = "BEGIN { exit(); }",
		.program_len = strlen("BEGIN { exit(); }"),
		.canonical = "BEGIN { exit(); }\n",
		.params = params,
		.nparams = 1,
		.duration_s = 10,
		.node_scope = true,
		.node = "node-1",
		.limits = { .max_map_entries = 100 },
		.dry_run = true,
	};
}

static void key_of(struct lru *c, const struct gw_runner *r, const struct session_request *q,
		   unsigned char out[LRU_MAC_LEN])
{
	assert_int_equal(gw_dry_key(c, "alice", r, q, out), 0);
}

static void test_key(void **state)
{
	struct gw_runner r = { .node = "node-1", .url = "https://10.0.0.1:9443" }, r2 = r;
	unsigned char k0[LRU_MAC_LEN], k[LRU_MAC_LEN];
	struct session_request q = base(), q2;
	struct curl_slist ct = { .data = "tracegate-runner:9443:10.0.0.9:9443" };
	char *other_params[] = { "2" };
	struct lru *c = NULL;

	assert_int_equal(gw_dry_cache_new(10ull * 1000000000ull, &c), 0);
	assert_non_null(c);
	key_of(c, &r, &q, k0);
	/* the trace's id is not part of the check */
	q2 = q;
	q2.trace = "5f0c6a4e-0000-4000-8000-000000000002";
	key_of(c, &r, &q2, k);
	assert_memory_equal(k0, k, LRU_MAC_LEN);
	/* everything else the runner is sent is */
	q2 = q;
	q2.params = other_params;
	key_of(c, &r, &q2, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	q2 = q;
	q2.duration_s = 11;
	key_of(c, &r, &q2, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	q2 = q;
	q2.limits.max_map_entries = 101;
	key_of(c, &r, &q2, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	q2 = q;
	q2.program = "BEGIN { exit(); } ";
	q2.program_len++;
	key_of(c, &r, &q2, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	/* and the runner: another URL, another address, another pod */
	r2.url = "https://10.0.0.2:9443";
	key_of(c, &r2, &q, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	r2 = r;
	r2.connect_to = &ct;
	key_of(c, &r2, &q, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	r2 = r;
	r2.pod = "tracegate/runner-abcde";
	key_of(c, &r2, &q, k);
	assert_memory_not_equal(k0, k, LRU_MAC_LEN);
	/* another caller is another key: whether an answer came from the
	 * cache must not tell bob what alice checked */
	{
		unsigned char kb[LRU_MAC_LEN];

		assert_int_equal(gw_dry_key(c, "bob", &r, &q, kb), 0);
		assert_memory_not_equal(k0, kb, LRU_MAC_LEN);
	}
	/* fields cannot run into each other: node "ab" + url "c" is not "a" + "bc" */
	{
		struct gw_runner a = { .node = "ab", .url = "c" }, b = { .node = "a", .url = "bc" };
		unsigned char ka[LRU_MAC_LEN], kb[LRU_MAC_LEN];

		key_of(c, &a, &q, ka);
		key_of(c, &b, &q, kb);
		assert_memory_not_equal(ka, kb, LRU_MAC_LEN);
	}
	lru_free(c);
}

static void test_store_lookup(void **state)
{
	struct gw_runner r = { .node = "node-1", .url = "https://10.0.0.1:9443" };
	struct session_request q = base();
	unsigned char k[LRU_MAC_LEN];
	json_t *compiled = json_pack("{s:s, s:s, s:i, s:s}", "type", "status", "phase", "compiled", "probes", 2,
				     "object", "abcd"), *got = NULL, *again = NULL;
	struct lru *c = NULL;

	assert_int_equal(gw_dry_cache_new(60ull * 1000000000ull, &c), 0);
	key_of(c, &r, &q, k);
	assert_int_equal(gw_dry_lookup(c, k, &got), 0);
	assert_null(got);
	assert_int_equal(gw_dry_store(c, k, compiled, 60ull * 1000000000ull), 0);
	/* a copy is kept: changing ours changes nothing there */
	json_object_set_new(compiled, "probes", json_integer(3));
	assert_int_equal(gw_dry_lookup(c, k, &got), 1);
	assert_int_equal(json_integer_value(json_object_get(got, "probes")), 2);
	/* and each lookup hands out its own copy */
	json_object_set_new(got, "probes", json_integer(4));
	assert_int_equal(gw_dry_lookup(c, k, &again), 1);
	assert_int_equal(json_integer_value(json_object_get(again, "probes")), 2);
	json_decref(got);
	json_decref(again);
	json_decref(compiled);
	lru_free(c);
	/* dryRunSeconds 0: no cache at all */
	assert_int_equal(gw_dry_cache_new(UINT64_MAX, &c), 0);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_store_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
