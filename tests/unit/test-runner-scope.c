// SPDX-License-Identifier: Apache-2.0
/*
 * Scope resolution: mountinfo parsing, both kubelet layouts in a plain
 * temporary tree and in a real cgroup2 subtree of our own, Guaranteed
 * pods, static pod hash UIDs, stale QoS hints, missing pods, hostile UIDs.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/scope.h"

#define UID_A "1b2c3d4e-aaaa-bbbb-cccc-0123456789ab"
#define UID_A_ "1b2c3d4e_aaaa_bbbb_cccc_0123456789ab"
#define UID_G "9f8e7d6c-1111-2222-3333-444455556666"
#define UID_G_ "9f8e7d6c_1111_2222_3333_444455556666"
#define UID_STATIC "0123456789abcdef0123456789abcdef" /* kubelet config hash */
#define UID_E "abcdef01-0000-4000-8000-000000000001"

static void mkdirs(const char *base, const char *rel)
{
	char path[PATH_MAX];
	size_t i, n;

	n = (size_t)snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_true(n < sizeof(path));
	for (i = 1; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];

			path[i] = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				fail_msg("mkdir %s: %s", path, strerror(errno));
			path[i] = c;
		}
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(p) < 0 ? 0 : 0;
	unlink(p);
	return 0;
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The layouts of section 6.2: the pod directories relative to the root. */
static const char *const layout_dirs[] = {
	/* cgroupfs */
	"kubepods/burstable/pod" UID_A "/0123abcd",
	"kubepods/pod" UID_G "/4567abcd",
	"kubepods/besteffort/pod" UID_STATIC "/89abcdef",
	/* systemd (a second root below uses it) */
	NULL,
};

static const char *const systemd_dirs[] = {
	"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_ ".slice/cri-containerd-0123.scope",
	"kubepods.slice/kubepods-pod" UID_G_ ".slice/crio-4567.scope",
	"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_STATIC ".slice/docker-89ab.scope",
	NULL,
};

struct tree {
	char base[PATH_MAX];   /* the "mount" */
	char rootrel[128];     /* cgroup root relative to it */
	char root[PATH_MAX];   /* base + rootrel */
	int root_level;        /* depth of root below base */
};

static void tree_layout(struct tree *t, const char *const *dirs)
{
	for (size_t i = 0; dirs[i]; i++)
		mkdirs(t->root, dirs[i]);
}

static void expect_pod(const struct tree *t, const char *uid, const char *qos, const char *reldir,
		       int level_below_root)
{
	struct scope_target tg = { 0 };
	_cleanup_free_ char *err = NULL;
	char want[PATH_MAX * 2];
	struct stat st;
	int r;

	r = scope_find_pod(t->base, t->rootrel, uid, qos, "ns/pod", &tg, &err);
	if (r < 0)
		fail_msg("scope_find_pod(%s, %s): %d %s", uid, qos ? qos : "(null)", r, err ? err : "");
	snprintf(want, sizeof(want), "%s/%s", t->root, reldir);
	assert_string_equal(tg.path, want);
	assert_string_equal(tg.label, "ns/pod");
	assert_int_equal(stat(want, &st), 0);
	assert_true(tg.cgid == (uint64_t)st.st_ino);
	assert_int_equal(tg.level, t->root_level + level_below_root);
	scope_target_release(&tg);
}

static void check_both_layouts(struct tree *cgfs, struct tree *sysd)
{
	/* cgroupfs */
	expect_pod(cgfs, UID_A, "Burstable", "kubepods/burstable/pod" UID_A, 3);
	expect_pod(cgfs, UID_G, "Guaranteed", "kubepods/pod" UID_G, 2);
	expect_pod(cgfs, UID_STATIC, "BestEffort", "kubepods/besteffort/pod" UID_STATIC, 3);
	/* wrong or missing QoS hints still find the pod */
	expect_pod(cgfs, UID_A, "Guaranteed", "kubepods/burstable/pod" UID_A, 3);
	expect_pod(cgfs, UID_G, "besteffort", "kubepods/pod" UID_G, 2);
	expect_pod(cgfs, UID_STATIC, NULL, "kubepods/besteffort/pod" UID_STATIC, 3);
	/* systemd */
	expect_pod(sysd, UID_A, "Burstable",
		   "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_ ".slice", 3);
	expect_pod(sysd, UID_G, "Guaranteed", "kubepods.slice/kubepods-pod" UID_G_ ".slice", 2);
	expect_pod(sysd, UID_STATIC, "BestEffort",
		   "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_STATIC ".slice", 3);
	expect_pod(sysd, UID_A, "BestEffort",
		   "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_ ".slice", 3);
	expect_pod(sysd, UID_G, "", "kubepods.slice/kubepods-pod" UID_G_ ".slice", 2);
}

static void expect_missing(struct tree *t, const char *uid)
{
	struct scope_target tg = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	r = scope_find_pod(t->base, t->rootrel, uid, "Burstable", "ns/x", &tg, &err);
	assert_int_equal(r, -TG_ENOSCOPE);
	assert_non_null(err);
	/* names the uid and the paths tried, both layouts, all classes */
	assert_non_null(strstr(err, uid));
	assert_non_null(strstr(err, "kubepods/burstable/pod"));
	assert_non_null(strstr(err, "kubepods/besteffort/pod"));
	assert_non_null(strstr(err, "kubepods-burstable-pod"));
	assert_non_null(strstr(err, "kubepods.slice/kubepods-pod"));
	assert_null(tg.path);
}

static void test_tmp_tree_layouts(void **state)
{
	struct tree cgfs = { 0 }, sysd = { 0 };
	char base[] = "/tmp/tg-scope-XXXXXX";

	assert_non_null(mkdtemp(base));
	snprintf(cgfs.base, sizeof(cgfs.base), "%s", base);
	snprintf(cgfs.rootrel, sizeof(cgfs.rootrel), "/node-cgfs");
	snprintf(cgfs.root, sizeof(cgfs.root), "%s/node-cgfs", base);
	cgfs.root_level = 1;
	sysd = cgfs;
	snprintf(sysd.rootrel, sizeof(sysd.rootrel), "//node-sysd/");  /* normalised */
	snprintf(sysd.root, sizeof(sysd.root), "%s/node-sysd", base);
	tree_layout(&cgfs, layout_dirs);
	tree_layout(&sysd, systemd_dirs);
	check_both_layouts(&cgfs, &sysd);
	expect_missing(&cgfs, UID_E);
	expect_missing(&sysd, UID_E);
	/* a pod of one layout is not found under another root */
	expect_missing(&cgfs, UID_A "0");

	/* a systemd slice as cgroup root expands from the top of the mount:
	 * --cgroup-root=/tg-node.slice -> /tg.slice/tg-node.slice/tg-node-kubepods.slice/... */
	{
		struct tree sl = cgfs;

		snprintf(sl.rootrel, sizeof(sl.rootrel), "/tg-node.slice");
		snprintf(sl.root, sizeof(sl.root), "%s", base);
		sl.root_level = 0;
		mkdirs(base, "tg.slice/tg-node.slice/tg-node-kubepods.slice/tg-node-kubepods-burstable.slice/"
			     "tg-node-kubepods-burstable-pod" UID_A_ ".slice/cri-containerd-1.scope");
		mkdirs(base, "tg.slice/tg-node.slice/tg-node-kubepods.slice/tg-node-kubepods-pod" UID_G_ ".slice");
		expect_pod(&sl, UID_A, "Burstable",
			   "tg.slice/tg-node.slice/tg-node-kubepods.slice/tg-node-kubepods-burstable.slice/"
			   "tg-node-kubepods-burstable-pod" UID_A_ ".slice", 5);
		expect_pod(&sl, UID_G, "Guaranteed",
			   "tg.slice/tg-node.slice/tg-node-kubepods.slice/tg-node-kubepods-pod" UID_G_ ".slice", 4);
	}
	/* the default root "/" (NULL) */
	{
		struct tree top = cgfs;
		struct scope_target tg = { 0 };
		_cleanup_free_ char *err = NULL;

		mkdirs(base, "kubepods/pod" UID_E);
		assert_int_equal(scope_find_pod(base, NULL, UID_E, "Guaranteed", NULL, &tg, &err), 0);
		assert_int_equal(tg.level, 2);
		/* no label: the path */
		assert_string_equal(tg.label, tg.path);
		scope_target_release(&tg);
		top.rootrel[0] = '\0';
		snprintf(top.root, sizeof(top.root), "%s", base);
		top.root_level = 0;
		expect_pod(&top, UID_E, "Burstable", "kubepods/pod" UID_E, 2);
	}
	rm_tree(base);
}

static void test_hostile_input(void **state)
{
	static const char *const bad_uids[] = {
		"", "../../etc", "..", "a/b", "/abs", "a\nb", "a\tb", "a b", "a_b", "a.b",
		"pod\x01", "\xff\xfe", "x*", "$(id)",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const char *const bad_roots[] = { "/..", "../x", "/a/../b", "/a/./b", ".", "/a\nb", "/a\x7f" };
	char base[] = "/tmp/tg-scope-XXXXXX";
	struct scope_target tg = { 0 };

	assert_non_null(mkdtemp(base));
	mkdirs(base, "kubepods/burstable/pod" UID_A);
	for (size_t i = 0; i < ARRAY_SIZE(bad_uids); i++) {
		_cleanup_free_ char *err = NULL;
		int r = scope_find_pod(base, "/", bad_uids[i], "Burstable", "ns/p", &tg, &err);

		assert_int_equal(r, -EINVAL);
		assert_non_null(err);
		assert_true(strncmp(err, "pod uid", 7) == 0);
		/* the message never carries raw control characters */
		for (const char *p = err; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
		assert_null(tg.path);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_roots); i++) {
		_cleanup_free_ char *err = NULL;
		int r = scope_find_pod(base, bad_roots[i], UID_A, "Burstable", "ns/p", &tg, &err);

		assert_int_equal(r, -EINVAL);
		assert_non_null(err);
		assert_non_null(strstr(err, "cgroup root"));
	}
	{
		_cleanup_free_ char *err = NULL;

		assert_int_equal(scope_find_pod(base, "/", UID_A, "Gold", "ns/p", &tg, &err), -EINVAL);
		assert_non_null(strstr(err, "qos class \"Gold\""));
	}
	/* a symlink in place of the pod directory is not followed out of the tree */
	{
		_cleanup_free_ char *err = NULL;
		char link[PATH_MAX];

		mkdirs(base, "kubepods/besteffort");
		snprintf(link, sizeof(link), "%s/kubepods/besteffort/pod" UID_E, base);
		assert_int_equal(symlink("/etc", link), 0);
		assert_int_equal(scope_find_pod(base, "/", UID_E, "BestEffort", "ns/p", &tg, &err), -TG_ENOSCOPE);
	}
	/* directories outside the mount, files, missing paths */
	{
		_cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
		char p[PATH_MAX];

		assert_int_equal(scope_target_from_path(base, "/etc", NULL, &tg, &e1), -TG_ENOSCOPE);
		assert_non_null(strstr(e1, "not under the cgroup2 mount"));
		snprintf(p, sizeof(p), "%s/../", base);
		assert_int_equal(scope_target_from_path(base, p, NULL, &tg, &e2), -TG_ENOSCOPE);
		snprintf(p, sizeof(p), "%s/kubepods/nope", base);
		assert_int_equal(scope_target_from_path(base, p, NULL, &tg, &e3), -TG_ENOSCOPE);
		assert_non_null(strstr(e3, "nope"));
		snprintf(p, sizeof(p), "%s/file", base);
		close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
		assert_int_equal(scope_target_from_path(base, p, NULL, &tg, &e4), -ENOTDIR);
		assert_null(tg.path);
	}
	rm_tree(base);
}

static void test_mountinfo_parse(void **state)
{
	static const char host[] =
		"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	static const char escaped[] =
		"41 31 0:38 / /mnt/my\\040cgroup\\134x rw,relatime shared:9 master:2 - cgroup2 none rw\n";
	static const char several[] =
		"50 31 0:38 /kubepods /run/inner rw - cgroup2 cgroup2 rw\n"
		"51 31 0:38 / /run/outer rw - cgroup2 cgroup2 rw\n"
		"52 31 0:38 / /run/third rw - cgroup2 cgroup2 rw\n";
	static const char only_sub[] =
		"50 31 0:38 /kubepods /run/inner rw - cgroup2 cgroup2 rw\n"
		"51 31 0:38 /other /run/other rw - cgroup2 cgroup2 rw";
	static const char none[] =
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"garbage\n\n - cgroup2\n1 2 3 4 5 6 -\n"
		"41 31 0:38 / relative rw - cgroup2 cgroup2 rw\n"
		"41 31 0:38 / /nul\\000x rw - cgroup2 cgroup2 rw\n"
		"41 31 0:38 / /x rw - cgroup2x cgroup2 rw\n";
	char *p = NULL, *err = NULL;

	assert_int_equal(cgroup2_mount_parse(host, &p, &err), 0);
	assert_string_equal(p, "/sys/fs/cgroup/unified");
	free(p);
	assert_int_equal(cgroup2_mount_parse(escaped, &p, &err), 0);
	assert_string_equal(p, "/mnt/my cgroup\\x");
	free(p);
	assert_int_equal(cgroup2_mount_parse(several, &p, &err), 0);
	assert_string_equal(p, "/run/outer");
	free(p);
	assert_int_equal(cgroup2_mount_parse(only_sub, &p, &err), 0);
	assert_string_equal(p, "/run/inner");
	free(p);
	p = NULL;
	assert_int_equal(cgroup2_mount_parse(none, &p, &err), -ENOENT);
	assert_null(p);
	assert_non_null(strstr(err, "no cgroup2 mount"));
	free(err);
	err = NULL;
	assert_int_equal(cgroup2_mount_parse("", &p, &err), -ENOENT);
	free(err);
}

static void test_mount_find_real(void **state)
{
	_cleanup_free_ char *p = NULL, *err = NULL;
	struct statfs sfs;

	assert_int_equal(cgroup2_mount_find(&p, &err), 0);
	assert_int_equal(statfs(p, &sfs), 0);
	assert_true(sfs.f_type == 0x63677270);
}

/* The same layouts in a real cgroup2 subtree of our own: ids cross-checked
 * with the file-handle API, levels as the kernel counts them. */
static char real_top[PATH_MAX / 2];

static int real_teardown(void **state)
{
	if (real_top[0])
		rm_tree(real_top);
	return 0;
}

static void test_real_cgroup2(void **state)
{
	_cleanup_free_ char *mnt = NULL, *err = NULL;
	struct tree cgfs = { 0 }, sysd = { 0 };
	char *top = real_top, rel[32];
	struct scope_target tg = { 0 };

	if (geteuid() != 0 || cgroup2_mount_find(&mnt, &err) < 0)
		skip();
	snprintf(rel, sizeof(rel), "tg-unit-scope-%d", (int)getpid());
	snprintf(real_top, sizeof(real_top), "%s/%s", mnt, rel);
	if (mkdir(top, 0755) < 0)
		fail_msg("mkdir %s: %s", top, strerror(errno));
	snprintf(cgfs.base, sizeof(cgfs.base), "%s", mnt);
	snprintf(cgfs.rootrel, sizeof(cgfs.rootrel), "/%s/cgfs", rel);
	snprintf(cgfs.root, sizeof(cgfs.root), "%s/cgfs", top);
	cgfs.root_level = 2;
	sysd = cgfs;
	snprintf(sysd.rootrel, sizeof(sysd.rootrel), "/%s/sysd", rel);
	snprintf(sysd.root, sizeof(sysd.root), "%s/sysd", top);
	tree_layout(&cgfs, layout_dirs);
	tree_layout(&sysd, systemd_dirs);
	check_both_layouts(&cgfs, &sysd);
	expect_missing(&cgfs, UID_E);
	expect_missing(&sysd, UID_E);

	/* the root of the mount itself: level 0; our own directory: level 1 */
	assert_int_equal(scope_target_from_path(mnt, mnt, "root", &tg, &err), 0);
	assert_int_equal(tg.level, 0);
	scope_target_release(&tg);
	assert_int_equal(scope_target_from_path(mnt, top, NULL, &tg, &err), 0);
	assert_int_equal(tg.level, 1);
	assert_string_equal(tg.label, top);
	scope_target_release(&tg);
	/* a plain directory is not a cgroup of this mount */
	{
		_cleanup_free_ char *e = NULL;

		assert_int_equal(scope_target_from_path(mnt, "/tmp", NULL, &tg, &e), -TG_ENOSCOPE);
	}
	rm_tree(top);
	assert_int_not_equal(access(top, F_OK), 0);
	real_top[0] = '\0';
}

static void test_scope_set(void **state)
{
	struct scope s = { 0 };
	struct scope_target t;

	for (unsigned i = 0; i < SCOPE_MAX_TARGETS; i++) {
		t.cgid = 1000 + i;
		t.level = 3;
		assert_int_not_equal(asprintf(&t.label, "ns/p%u", i), -1);
		t.path = strdup("/x");
		assert_int_equal(scope_add(&s, &t), 0);
		assert_null(t.label);
	}
	/* the same id again is one target; a new one beyond the limit is refused */
	t.cgid = 1000;
	t.label = strdup("dup");
	t.path = strdup("/dup");
	assert_int_equal(scope_add(&s, &t), 0);
	assert_int_equal(s.n, SCOPE_MAX_TARGETS);
	t.cgid = 99;
	t.label = strdup("over");
	t.path = strdup("/over");
	assert_int_equal(scope_add(&s, &t), -TG_ELIMIT);
	scope_target_release(&t);
	assert_string_equal(scope_lookup(&s, 1005)->label, "ns/p5");
	assert_null(scope_lookup(&s, 99));
	assert_null(scope_lookup(NULL, 1));
	scope_release(&s);
	assert_int_equal(s.n, 0);
	scope_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_parse),
		cmocka_unit_test(test_mount_find_real),
		cmocka_unit_test(test_tmp_tree_layouts),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test_teardown(test_real_cgroup2, real_teardown),
		cmocka_unit_test(test_scope_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
