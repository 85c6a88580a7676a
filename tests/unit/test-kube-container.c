// SPDX-License-Identifier: Apache-2.0
/*
 * kube/container.h: a container name is a DNS-1123 label and a
 * container ID a known runtime and 64 lowercase hex digits; nothing else
 * (paths, long names, other runtimes, upper case, NULs) gets through.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "kube/container.h"

#define HEX64 "0aae1e5d022ec099ca40cb90653dfc421d833e5e1a356f332e30a1d61f2b15f4"

static void test_name(void **state)
{
	static const char *const good[] = { "a", "web", "side-car", "0", "a1-b2",
					     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123" };
	static const char *const bad[] = { "", "-a", "a-", "A", "web_1", "a.b", "../x", "x/y", "..", ".",
					   "a b", "a\n", "é", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" };
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(tg_container_name_valid(good[i]));
		assert_int_equal(tg_container_name_check(good[i], &err), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(tg_container_name_valid(bad[i]));
		assert_int_equal(tg_container_name_check(bad[i], &err), -EINVAL);
		assert_non_null(err);
		free(err);
		err = NULL;
	}
	assert_false(tg_container_name_valid(NULL));

	/* the messages say what is wrong, quote safely, and stay short */
	assert_int_equal(tg_container_name_check("../x", &err), -EINVAL);
	assert_non_null(strstr(err, "container name \"../x\": not a DNS-1123 label"));
	free(err);
	err = NULL;
	assert_int_equal(tg_container_name_check("a\"\n\\b", &err), -EINVAL);
	assert_non_null(strstr(err, "\"a\\x22\\x0a\\x5cb\""));
	free(err);
	err = NULL;
	{
		char long_name[301];

		memset(long_name, 'a', 300);
		long_name[300] = '\0';
		assert_int_equal(tg_container_name_check(long_name, &err), -EINVAL);
		assert_non_null(strstr(err, "300 characters, longer than 63"));
		assert_non_null(strstr(err, "..."));
		assert_true(strlen(err) < 200);
		free(err);
		err = NULL;
	}
	assert_int_equal(tg_container_name_check("", &err), -EINVAL);
	assert_string_equal(err, "container name: empty");
	free(err);
}

static void test_id(void **state)
{
	static const char *const bad[] = {
		"", "containerd://", "containerd://abc", "containerd://" HEX64 "0",
		"containerd://" HEX64 "/..", "containerd://../../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"containerd://0AAE1E5D022EC099CA40CB90653DFC421D833E5E1A356F332E30A1D61F2B15F4",
		"containerd:/" HEX64, "containerd:" HEX64, HEX64, "rkt://" HEX64, "cri-containerd://" HEX64,
		"Containerd://" HEX64, "docker://" HEX64 "\n", "cri-o://0aae1e5d022ec099ca40cb90653dfc421d833e5e1a356f332e30a1d61f2b15fg",
	};
	struct tg_container_id id;

	(void)state;
	assert_int_equal(tg_container_id_parse("containerd://" HEX64, &id), 0);
	assert_int_equal(id.runtime, TG_CTR_CONTAINERD);
	assert_string_equal(id.hex, HEX64);
	assert_string_equal(tg_container_runtime_name(id.runtime), "containerd");
	assert_int_equal(tg_container_id_parse("cri-o://" HEX64, &id), 0);
	assert_int_equal(id.runtime, TG_CTR_CRIO);
	assert_string_equal(tg_container_runtime_name(id.runtime), "cri-o");
	assert_int_equal(tg_container_id_parse("docker://" HEX64, &id), 0);
	assert_int_equal(id.runtime, TG_CTR_DOCKER);
	assert_string_equal(tg_container_runtime_name(id.runtime), "docker");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tg_container_id_parse(bad[i], &id) != -EINVAL)
			fail_msg("container ID \"%s\" was taken", bad[i]);
	assert_int_equal(tg_container_id_parse(NULL, &id), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
