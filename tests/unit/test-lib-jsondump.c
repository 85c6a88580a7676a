// SPDX-License-Identifier: Apache-2.0
/* json_dump_sorted writes what json_dumps(JSON_COMPACT | JSON_SORT_KEYS)
 * writes, byte for byte: the audit log's hash chain depends on it. */
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
#include "lib/jsondump.h"

/* Both serializations of j agree (or both fail). */
static void same(json_t *j)
{
	char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	struct buf b = BUF_INIT(1 << 24);
	int r = json_dump_sorted(&b, j);

	if (!want) {
		assert_int_equal(r, -EINVAL);
	} else {
		assert_int_equal(r, 0);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.s, want, b.len);
	}
	free(want);
	buf_release(&b);
}

static void test_strings(void **state)
{
	static const char *utf8[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
				      "\xe2\x80\xa8", "\xc2\x80", "\xf4\x8f\xbf\xbf" };
	char s[4];

	/* every ASCII byte, NUL included, as a value and as a key */
	for (int c = 0; c < 0x80; c++) {
		json_t *o = json_object();

		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'z';
		json_object_setn_new(o, s, 3, json_stringn(s, 3));
		same(o);
		json_decref(o);
	}
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		json_t *o = json_pack("{s:s, s:[s]}", utf8[i], utf8[i], "k", utf8[i]);

		same(o);
		json_decref(o);
	}
	/* not UTF-8: json_dumps fails, and so does this */
	for (int c = 0x80; c < 0x100; c++) {
		json_t *o = json_object();

		s[0] = (char)c;
		json_object_set_new_nocheck(o, "k", json_stringn_nocheck(s, 1));
		same(o);
		json_decref(o);
	}
}

static json_t *random_value(unsigned *seed, int depth);

static json_t *random_object(unsigned *seed, int depth)
{
	static const char *names[] = { "", "a", "ab", "b", "B", "a b", "seq", "prevHash", "\xc3\xa9",
				       "annotations", "apiVersion", "auditID", "z", "aa", "a\x01" };
	json_t *o = json_object();
	int n = rand_r(seed) % (rand_r(seed) % 8 ? 8 : 60);

	for (int i = 0; i < n; i++) {
		char k[32];

		if (rand_r(seed) % 2)
			snprintf(k, sizeof(k), "%s", names[rand_r(seed) % (sizeof(names) / sizeof(names[0]))]);
		else
			snprintf(k, sizeof(k), "k%x", (unsigned)rand_r(seed) % 4096);
		json_object_set_new(o, k, random_value(seed, depth + 1));
	}
	return o;
}

static json_t *random_value(unsigned *seed, int depth)
{
	static const char *strs[] = { "", "x", "a\"b\\c", "line\nnext\ttab\r\b\f", "\x1f\x7f", "/path/",
				      "caf\xc3\xa9 \xe2\x82\xac", "pod/web-a" };
	static const json_int_t ints[] = { 0, 1, -1, 42, INT64_MAX, INT64_MIN, 1000000007 };
	static const double reals[] = { 0.5, -2.25, 1e300, 3.0, 0.1 };
	int k = rand_r(seed) % (depth > 5 ? 6 : 8);

	switch (k) {
	case 0: return json_string(strs[rand_r(seed) % (sizeof(strs) / sizeof(strs[0]))]);
	case 1: return json_integer(ints[rand_r(seed) % (sizeof(ints) / sizeof(ints[0]))]);
	case 2: return json_real(reals[rand_r(seed) % (sizeof(reals) / sizeof(reals[0]))]);
	case 3: return json_true();
	case 4: return json_false();
	case 5: return json_null();
	case 6: {
		json_t *a = json_array();
		int n = rand_r(seed) % 5;

		for (int i = 0; i < n; i++)
			json_array_append_new(a, random_value(seed, depth + 1));
		return a;
	}
	default:
		return random_object(seed, depth);
	}
}

static void test_random_trees(void **state)
{
	unsigned seed = 8;

	for (int i = 0; i < 2000; i++) {
		json_t *j = random_object(&seed, 0);

		same(j);
		json_decref(j);
	}
}

/* A record as the gateway writes one (docs/audit.md), keys in any order. */
static void test_audit_record(void **state)
{
	json_t *j = json_loads(
		"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\","
		"\"auditID\":\"0c8e3c0e-1b6f-4c55-9d2e-2f1f1c1e8a01\",\"stage\":\"ResponseStarted\","
		"\"requestURI\":\"/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces?dryRun=All\","
		"\"verb\":\"create\",\"user\":{\"username\":\"carol\",\"uid\":\"u-3\",\"groups\":[\"team-c\","
		"\"system:authenticated\"]},\"sourceIPs\":[\"127.0.0.1\"],\"userAgent\":\"kubectl-trace/0.1\","
		"\"objectRef\":{\"resource\":\"traces\",\"apiGroup\":\"tracegate.dev\",\"apiVersion\":"
		"\"v1alpha1\",\"namespace\":\"team-a\",\"name\":\"pod/web-a\"},\"responseStatus\":{"
		"\"metadata\":{},\"code\":403,\"status\":\"Failure\",\"reason\":\"Forbidden\",\"message\":"
		"\"traces.tracegate.dev is forbidden: User \\\"carol\\\" cannot create\"},"
		"\"requestReceivedTimestamp\":\"2026-12-06T20:51:12.123456Z\",\"stageTimestamp\":"
		"\"2026-12-06T20:51:12.123501Z\",\"annotations\":{\"authorization.k8s.io/decision\":"
		"\"forbid\",\"authorization.k8s.io/reason\":\"\"},\"tracegate\":{\"programSHA256\":"
		"\"00\",\"policiesTried\":[],\"dryRun\":true,\"duration\":60}}",
		0, NULL);

	assert_non_null(j);
	same(j);
	json_decref(j);
}

static void test_limits(void **state)
{
	json_t *j = json_pack("{s:s}", "key", "a value longer than the buffer");
	struct buf b = BUF_INIT(16);
	json_t *deep = json_array(), *p = deep;

	assert_int_equal(json_dump_sorted(&b, j), -E2BIG);
	buf_release(&b);
	for (int i = 0; i < JSON_DUMP_MAX_DEPTH + 2; i++) {
		json_t *n = json_array();

		json_array_append_new(p, n);
		p = n;
	}
	b = (struct buf)BUF_INIT(1 << 20);
	assert_int_equal(json_dump_sorted(&b, deep), -EINVAL);
	buf_release(&b);
	json_decref(deep);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_audit_record),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
