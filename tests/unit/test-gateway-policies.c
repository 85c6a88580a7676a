// SPDX-License-Identifier: Apache-2.0
/* gateway/policies.c: the policy set in force and its reload, on a real
 * directory with a real event loop and inotify. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <event2/event.h>
#include "gateway/policies.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "policy/policy.h"

#define DOC(name)                                                                        \
	"apiVersion: tracegate.dev/v1alpha1\nkind: TracePolicy\nmetadata:\n  name: " name \
	"\nspec:\n  subjects: {users: [alice]}\n  scope: [pod]\n"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256], tmp[256];
	FILE *f;

	/* Whole files appear at once (rename), as a ConfigMap's do. */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, name);
	f = fopen(tmp, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* Runs the loop until cond holds or 3 s pass; returns whether it held. */
static bool run_until(struct event_base *base, bool (*cond)(struct gw_policies *, uint64_t),
		      struct gw_policies *p, uint64_t want)
{
	uint64_t end = now_mono_ns() + 3000000000ull;
	struct timeval tick = { .tv_usec = 20000 };

	while (now_mono_ns() < end) {
		if (cond(p, want))
			return true;
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	return cond(p, want);
}

static bool gen_is(struct gw_policies *p, uint64_t want)
{
	return gw_policies_generation(p) == want;
}

static bool failures_are(struct gw_policies *p, uint64_t want)
{
	return gw_policies_failures(p) == want;
}

static bool has(struct gw_policies *p, const char *name)
{
	const struct tg_policy_set *s = gw_policies_current(p);

	for (size_t i = 0; i < tg_policy_set_count(s); i++)
		if (!strcmp(tg_policy_set_name(s, i), name))
			return true;
	return false;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test-gw-policies.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", dir);
	return 0;
}

static void test_reload_on_change(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_policies *p = NULL;
	char *err = NULL;

	put("a.yaml", DOC("a"));
	assert_int_equal(gw_policies_new(base, dir, &p, &err), 0);
	assert_null(err);
	assert_true(gw_policies_watching(p));
	assert_int_equal(gw_policies_generation(p), 1);
	assert_int_equal(tg_policy_set_count(gw_policies_current(p)), 1);

	/* a new file: reloaded */
	put("b.yaml", DOC("b"));
	assert_true(run_until(base, gen_is, p, 2));
	assert_true(has(p, "a") && has(p, "b"));

	/* a broken file: the previous set stays, nothing else changes */
	put("c.yaml", DOC("c") "  kernelMemroy: false\n");
	assert_true(run_until(base, failures_are, p, 1));
	assert_int_equal(gw_policies_generation(p), 2);
	assert_int_equal(tg_policy_set_count(gw_policies_current(p)), 2);
	assert_false(has(p, "c"));

	/* the reload error names file:line:column */
	assert_int_not_equal(gw_policies_reload(p, &err), 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "c.yaml:"));
	assert_non_null(strstr(err, "kernelMemroy"));
	free(err);
	err = NULL;

	/* fixed: in force */
	put("c.yaml", DOC("c"));
	assert_true(run_until(base, gen_is, p, 3));
	assert_true(has(p, "c"));

	/* a file removed */
	sh("rm '%s/a.yaml'", dir);
	assert_true(run_until(base, gen_is, p, 4));
	assert_false(has(p, "a"));

	/* not a policy file: no reload */
	sh("touch '%s/notes.txt'", dir);
	assert_false(run_until(base, gen_is, p, 5));

	gw_policies_free(p);
	event_base_free(base);
}

/* kubelet's AtomicWriter: files are symlinks into ..data, which is a
 * symlink swapped (rename) to a new timestamped directory. */
static void test_configmap_swap(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_policies *p = NULL;
	char *err = NULL;

	sh("cd '%s' && mkdir ..2026_01 && printf '%%s' '%s' > ..2026_01/tp.yaml && "
	   "ln -s ..2026_01 ..data && ln -s ..data/tp.yaml tp.yaml",
	   dir, DOC("first"));
	assert_int_equal(gw_policies_new(base, dir, &p, &err), 0);
	assert_true(has(p, "first"));

	sh("cd '%s' && mkdir ..2026_02 && printf '%%s' '%s' > ..2026_02/tp.yaml && "
	   "ln -s ..2026_02 ..data_tmp && mv -T ..data_tmp ..data && rm -rf ..2026_01",
	   dir, DOC("second"));
	assert_true(run_until(base, gen_is, p, 2));
	assert_true(has(p, "second"));
	assert_false(has(p, "first"));

	/* a broken update keeps "second" */
	sh("cd '%s' && mkdir ..2026_03 && printf 'spec: [\\n' > ..2026_03/tp.yaml && "
	   "ln -s ..2026_03 ..data_tmp && mv -T ..data_tmp ..data",
	   dir);
	assert_true(run_until(base, failures_are, p, 1));
	assert_true(has(p, "second"));
	gw_policies_free(p);
	event_base_free(base);
}

static void test_no_loop_and_preset(void **state)
{
	struct gw_policies *p = NULL;
	char *err = NULL;

	/* without a directory: the restricted preset */
	assert_int_equal(gw_policies_new(NULL, NULL, &p, &err), 0);
	assert_true(has(p, "restricted"));
	assert_int_equal(gw_policies_reload(p, NULL), 0);
	p = gw_policies_free(p);

	/* without an event loop: only explicit reloads */
	put("a.yaml", DOC("a"));
	assert_int_equal(gw_policies_new(NULL, dir, &p, &err), 0);
	assert_false(gw_policies_watching(p));
	put("b.yaml", DOC("b"));
	assert_int_equal(gw_policies_reload(p, NULL), 0);
	assert_true(has(p, "b"));
	gw_policies_free(p);
}

static void test_broken_at_start(void **state)
{
	struct gw_policies *p = NULL;
	char *err = NULL;

	put("a.yaml", DOC("a") "  limits: {maxDuration: 5x}\n");
	assert_true(gw_policies_new(NULL, dir, &p, &err) < 0);
	assert_null(p);
	assert_non_null(err);
	/* file:line:column */
	assert_non_null(strstr(err, "a.yaml:8:25: spec.limits.maxDuration"));
	free(err);
	err = NULL;
	assert_true(gw_policies_new(NULL, "/nonexistent/tg-policies", &p, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent/tg-policies"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_on_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_loop_and_preset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_at_start, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
