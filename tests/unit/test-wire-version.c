// SPDX-License-Identifier: Apache-2.0
/* wire/version: a build's version, gateway -> plugin: this build's encodes
 * and decodes back; a newer gateway's members are skipped, a missing one
 * reads as "unknown", a wrong one is refused by name. */
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
#include "lib/version.h"
#include "wire/version.h"

static void test_round_trip(void **state)
{
	struct wire_version a = { 0 }, b = { 0 };
	json_t *j = NULL, *back;
	char *text, *err = NULL;

	(void)state;
	assert_int_equal(wire_version_this(&a), 0);
	assert_string_equal(a.version, tg_version);
	assert_int_equal(wire_version_to_json(&a, &j), 0);
	text = json_dumps(j, JSON_COMPACT);
	/* the bytes the gateway answered before this module: the same order */
	assert_true(strncmp(text, "{\"version\":\"", 12) == 0);
	assert_non_null(strstr(text, "\",\"gitCommit\":\""));
	assert_non_null(strstr(text, "\",\"buildDate\":\""));
	back = json_loads(text, 0, NULL);
	assert_int_equal(wire_version_from_gateway(back, &b, &err), 0);
	assert_string_equal(a.version, b.version);
	assert_string_equal(a.git_commit, b.git_commit);
	assert_string_equal(a.build_date, b.build_date);
	free(text);
	json_decref(back);
	json_decref(j);
	wire_version_release(&a);
	wire_version_release(&b);
}

static void refused(const char *text, const char *want)
{
	json_t *j = json_loads(text, 0, NULL);
	struct wire_version v = { 0 };
	char *err = NULL;

	if (wire_version_from_gateway(j, &v, &err) != -EINVAL || !err || !strstr(err, want))
		fail_msg("%s: want a refusal naming %s, got %s", text, want, err ? err : "none");
	assert_null(v.version);
	free(err);
	json_decref(j);
}

static void test_skew_and_refusals(void **state)
{
	json_t *j = json_loads("{\"version\":\"9.9.9\",\"goVersion\":\"x\",\"platform\":{}}", 0, NULL);
	struct wire_version v = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(wire_version_from_gateway(j, &v, &err), 0);
	assert_string_equal(v.version, "9.9.9");
	assert_string_equal(v.git_commit, "unknown");
	assert_string_equal(v.build_date, "unknown");
	json_decref(j);
	/* the encoder refuses what the reader would */
	free(v.git_commit);
	v.git_commit = strdup("a\033[2Jb");
	j = NULL;
	assert_int_equal(wire_version_to_json(&v, &j), -EINVAL);
	assert_null(j);
	wire_version_release(&v);
	refused("{\"version\":3}", "\"version\"");
	refused("{\"version\":\"1\",\"gitCommit\":\"\"}", "\"gitCommit\"");
	refused("{\"buildDate\":\"a\\u001bb\"}", "\"buildDate\"");
	refused("[1]", "not a JSON object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_skew_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
