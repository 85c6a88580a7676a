// SPDX-License-Identifier: Apache-2.0
/*
 * gateway/trace-container.h: -c NAME against a pod's containers; each
 * refusal has its code and says what the tenant can do instead.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gateway/trace-container.h"
#include "kube/kube.h"

#define HEX64 "0aae1e5d022ec099ca40cb90653dfc421d833e5e1a356f332e30a1d61f2b15f4"

static struct kube_container ctrs[] = {
	{ .name = "app", .id = "containerd://" HEX64, .running = true },
	{ .name = "sidecar", .id = "cri-o://" HEX64, .running = true },
	{ .name = "idle", .id = "", .running = false },
	{ .name = "done", .id = "docker://" HEX64, .running = false },
	{ .name = "odd", .id = "rkt://1234", .running = true },
	{ .name = "short", .id = "containerd://abc", .running = true },
};

static const struct kube_pod duo = {
	.namespace = "team-a", .name = "duo", .containers = ctrs, .ncontainers = 6,
};

/* the code and a message containing want */
static void expect_refusal(const struct kube_pod *p, const char *name, int code, const char *want)
{
	const struct kube_container *c = NULL;
	char *err = NULL;
	int got = 0;

	assert_int_equal(trace_pod_container(p, name, &c, &got, &err), 1);
	assert_null(c);
	if (got != code || !err || !strstr(err, want))
		fail_msg("-c %.80s: %d \"%s\" (wanted %d, \"%s\")", name, got, err, code, want);
	free(err);
}

static void test_pick(void **state)
{
	const struct kube_container *c = NULL;
	char *err = NULL;
	int code = 0;

	(void)state;
	assert_int_equal(trace_pod_container(&duo, "sidecar", &c, &code, &err), 0);
	assert_ptr_equal(c, &ctrs[1]);
	assert_null(err);
	assert_int_equal(trace_pod_container(&duo, "app", &c, &code, &err), 0);
	assert_ptr_equal(c, &ctrs[0]);

	expect_refusal(&duo, "nope", 404,
		       "container \"nope\" not found in pod \"duo\"; its containers: app, sidecar, idle, done, odd, short");
	expect_refusal(&duo, "idle", 409, "container \"idle\" of pod \"duo\" is not running (no container ID in its status)");
	expect_refusal(&duo, "done", 409, "container \"done\" of pod \"duo\" is not running (waiting or terminated)");
	expect_refusal(&duo, "odd", 409, "its container ID is not one tracegate can find the cgroup of");
	expect_refusal(&duo, "short", 409, "its container ID is not one tracegate can find the cgroup of");
	/* the tenant's name is checked before it is compared or quoted */
	expect_refusal(&duo, "../x", 400, "container name \"../x\": not a DNS-1123 label");
	expect_refusal(&duo, "", 400, "container name: empty");
	{
		char long_name[301];

		memset(long_name, 'a', 300);
		long_name[300] = '\0';
		expect_refusal(&duo, long_name, 400, "300 characters, longer than 63");
	}
	/* without a message wanted */
	assert_int_equal(trace_pod_container(&duo, "nope", &c, &code, NULL), 1);
	assert_int_equal(code, 404);
}

static void test_many(void **state)
{
	struct kube_container many[40];
	char names[40][8];
	struct kube_pod p = { .namespace = "n", .name = "big", .containers = many, .ncontainers = 40 };
	const struct kube_container *c;
	char *err = NULL;
	int code;

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		many[i] = (struct kube_container){ .name = names[i], .id = "", .running = false };
	}
	assert_int_equal(trace_pod_container(&p, "nope", &c, &code, &err), 1);
	/* the list is cut, and says how many it left out */
	assert_non_null(strstr(err, "c31 and 8 more"));
	assert_null(strstr(err, "c32"));
	free(err);
	err = NULL;
	p.ncontainers = 0;
	assert_int_equal(trace_pod_container(&p, "nope", &c, &code, &err), 1);
	assert_non_null(strstr(err, "its containers: none"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
