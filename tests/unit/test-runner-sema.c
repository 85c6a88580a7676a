// SPDX-License-Identifier: Apache-2.0
/* Semantic analysis's builtins (runner/sema-builtins.c): the tables are
 * sorted for bsearch and their rows hold together; a call whose arguments
 * do not fit its row gets the row's error, word for word. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/ast.h"
#include "runner/probes.h"
#include "runner/scope.h"
#include "runner/sema-int.h"

/* rows of stride bytes, each beginning with its name: in strictly
 * increasing strcmp order (bsearch's, and no name twice) */
static void assert_sorted(const char *table, const void *rows, size_t n, size_t stride)
{
	assert_true(n > 0);
	for (size_t i = 1; i < n; i++) {
		const char *a = *(const char *const *)((const char *)rows + (i - 1) * stride);
		const char *b = *(const char *const *)((const char *)rows + i * stride);

		if (strcmp(a, b) >= 0)
			fail_msg("sema-builtins.c %s: \"%s\" before \"%s\"", table, a, b);
	}
}

static void funcs_sorted_and_whole(void **state)
{
	size_t n;
	const struct sem_func *f = sem_func_table(&n);

	(void)state;
	assert_sorted("funcs[]", f, n, sizeof(f[0]));
	for (size_t i = 0; i < n; i++) {
		assert_non_null(f[i].call);
		assert_true(f[i].min_args <= f[i].max_args);
		assert_ptr_equal(sem_func_find(f[i].name), &f[i]);
		/* an aggregation's arguments are sem_assign_agg's to check */
		if (f[i].agg != MK_NONE)
			assert_null(f[i].usage);
		for (size_t k = 0; f[i].kinds && f[i].kinds[k]; k++) {
			assert_non_null(strchr(".sme", f[i].kinds[k]));
			assert_true(k < f[i].max_args);
		}
	}
	assert_null(sem_func_find("kaddr"));
	assert_null(sem_func_find(""));
}

static void idents_sorted_and_whole(void **state)
{
	size_t n;
	const struct sem_ident *b = sem_ident_table(&n);

	(void)state;
	assert_sorted("idents[]", b, n, sizeof(b[0]));
	for (size_t i = 0; i < n; i++)
		assert_non_null(b[i].ident);
}

static int analyse(const char *text, struct lang_diag *d)
{
	struct lang_program *prog = NULL;
	struct plan pl;
	struct sem sem;
	int r;

	memset(&sem, 0, sizeof(sem));
	memset(&pl, 0, sizeof(pl));
	memset(d, 0, sizeof(*d));
	r = lang_program_parse(text, strlen(text), &prog, d);
	if (r >= 0)
		r = plan_build(prog, &pl, d);
	if (r >= 0)
		r = sem_analyse(&sem, prog, pl.probe_tp, NULL, 0, d);
	sem_release(&sem);
	plan_release(&pl);
	lang_program_free(prog);
	return r;
}

/* The messages bpftrace's compat tests and users see, from the rows'
 * counts and kinds, the handlers and the aggregations' own check. */
static void call_errors_word_for_word(void **state)
{
	static const struct {
		const char *prog, *msg;
		int r;
	} cases[] = {
		{ "BEGIN { printf(1); }", "printf(): the first argument must be a string literal", -TG_ETYPE },
		{ "BEGIN { cat(); }", "cat(): the first argument must be a string literal", -TG_ETYPE },
		{ "BEGIN { exit(1, 2); }", "exit(): takes at most 1 argument", -TG_ETYPE },
		{ "BEGIN { @a[1] = 1; clear(@a[1]); }", "clear(): takes a map", -TG_ETYPE },
		{ "BEGIN { @a = 1; print(@a, 1, 2, 3); }", "print(): takes a map and at most 2 integers", -TG_ETYPE },
		{ "BEGIN { print(1, 2); }", "print(): takes one value or one map", -TG_ETYPE },
		{ "BEGIN { print(); }", "print(): takes one value or one map", -TG_ETYPE },
		{ "BEGIN { @x = len(1); }", "len(): takes one map or stack: len(@m), len(kstack), len(ustack)", -TG_ETYPE },
		{ "BEGIN { @x = cgroup_path(1, 2); }", "cgroup_path(): takes a cgroup id and a filter string literal", -TG_ETYPE },
		{ "BEGIN { @x = reg(1); }", "reg(): takes one string literal, a register's name (reg(\"ip\"))", -TG_ETYPE },
		{ "BEGIN { @x = pton(\"1.2.3.4\"); }",
		  "pton(): only as the argument of ntop() (its byte array has no other use here)", -TG_EUNSUPPORTED },
		{ "BEGIN { @x = kaddr(\"x\"); }", "function \"kaddr\": not supported", -TG_EUNSUPPORTED },
		{ "BEGIN { @x = 1 + count(); }", "count(): only as the value of a map assignment (@m = count(...))", -TG_ETYPE },
		{ "BEGIN { @x = lhist(1); }", "lhist(): takes 4 arguments", -TG_ETYPE },
		{ "BEGIN { @x = hist(1, 2, 3); }", "hist(): takes 1 argument", -TG_ETYPE },
		{ "BEGIN { @x = count(1); }", "count(): takes 0 arguments", -TG_ETYPE },
		{ "BEGIN { @x = sarg0; }", "builtin \"sarg0\": not supported", -TG_EUNSUPPORTED },
		{ "BEGIN { @x = arg0; }", "builtin \"arg0\": not available in this probe", -TG_ETYPE },
		{ "kprobe:f { @x = retval; }",
		  "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes", -TG_ETYPE },
	};
	struct lang_diag d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = analyse(cases[i].prog, &d);

		if (r != cases[i].r || strcmp(d.msg, cases[i].msg))
			fail_msg("%s: %d \"%s\", want %d \"%s\"", cases[i].prog, r, d.msg, cases[i].r, cases[i].msg);
	}
}

/* cgroupid("PATH") is looked up beneath the node's cgroup2 mount only,
 * with one message whatever failed: the runner (root) neither tells a
 * tenant whether a file of the node exists nor follows a path elsewhere. */
static void cgroupid_beneath_cgroup2_only(void **state)
{
	_cleanup_free_ char *mnt = NULL, *err = NULL;
	const char *const refused[] = { "/etc", "/etc/passwd", "/nonexistent-tg", "relative", "/proc/self/root",
					"%s/../../etc", "%s/../../../etc/passwd", "%s/no-such-cgroup-tg", "%sfoo",
					"%s/cgroup.procs" };
	char prog[512], path[300], want[512];
	struct lang_diag d;

	(void)state;
	if (cgroup2_mount_find(&mnt, &err) < 0) {
		if (getenv("CI"))
			fail_msg("no cgroup2 mount: %s", err ? err : "");
		skip();
	}
	snprintf(prog, sizeof(prog), "BEGIN { @x = cgroupid(\"%s\"); }", mnt);
	if (analyse(prog, &d) < 0)
		fail_msg("%s: %s", prog, d.msg);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(path, sizeof(path), refused[i], mnt);
		snprintf(prog, sizeof(prog), "BEGIN { @x = cgroupid(\"%s\"); }", path);
		snprintf(want, sizeof(want),
			 "cgroupid(): \"%s\" is not a cgroup of this node (a directory of its cgroup2 mount)", path);
		if (analyse(prog, &d) != -TG_ETYPE || strcmp(d.msg, want))
			fail_msg("%s: \"%s\", want \"%s\"", prog, d.msg, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(funcs_sorted_and_whole),
		cmocka_unit_test(idents_sorted_and_whole),
		cmocka_unit_test(call_errors_word_for_word),
		cmocka_unit_test(cgroupid_beneath_cgroup2_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
