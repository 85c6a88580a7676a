// SPDX-License-Identifier: Apache-2.0
/*
 * Scope resolution: mountinfo parsing, both kubelet layouts in a plain
 * temporary tree and in a real cgroup2 subtree of our own, Guaranteed
 * pods, static pod hash UIDs, stale QoS hints, missing pods, hostile UIDs;
 * containers (-c NAME) below their pod's cgroup, and the session fields
 * that name them.
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
#include "runner/session.h"

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

/* t: a node's cgroup root `rel` one level below base */
static void tree_at(struct tree *t, const char *base, const char *rel, const char *dir)
{
	snprintf(t->base, sizeof(t->base), "%s", base);
	snprintf(t->rootrel, sizeof(t->rootrel), "%s", rel);
	snprintf(t->root, sizeof(t->root), "%s/%s", base, dir);
	t->root_level = 1;
}

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
	tree_at(&cgfs, base, "/node-cgfs", "node-cgfs");
	tree_at(&sysd, base, "//node-sysd/", "node-sysd");  /* normalised */
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


#define HEX_1 "0aae1e5d022ec099ca40cb90653dfc421d833e5e1a356f332e30a1d61f2b15f4"
#define HEX_2 "4b6d242ac118763af3a384c72f443e79c38149fd45f76cb72208c20e2b97c5cb"
#define HEX_3 "6839bce9b7772c3e9a3ef3087a01ee3afc5c105254f977e9cbb912c662a82d47"
#define SYSD_POD_A "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_A_ ".slice"
#define CGFS_POD_A "kubepods/burstable/pod" UID_A

/* pod UID_A under t, then its container cid: 0 and the container's path
 * below t->root in *rel (or the error) */
static int find_ctr(const struct tree *t, const char *cid, char **ret_err, struct scope_target *ct)
{
	struct scope_target pod = { 0 };
	int r;

	assert_int_equal(scope_find_pod(t->base, t->rootrel, UID_A, "Burstable", "ns/pod", &pod, ret_err), 0);
	r = scope_find_container(t->base, &pod, cid, "app", ct, ret_err);
	if (r == 0) {
		assert_int_equal(ct->level, pod.level + 1);
		assert_string_equal(ct->label, "ns/pod");   /* output still names the pod */
	}
	scope_target_release(&pod);
	return r;
}

static void expect_ctr(const struct tree *t, const char *cid, const char *reldir)
{
	struct scope_target ct = { 0 };
	_cleanup_free_ char *err = NULL;
	char want[PATH_MAX * 2];
	struct stat st;

	if (find_ctr(t, cid, &err, &ct) < 0)
		fail_msg("container %s: %s", cid, err ? err : "?");
	snprintf(want, sizeof(want), "%s/%s", t->root, reldir);
	assert_string_equal(ct.path, want);
	assert_int_equal(stat(want, &st), 0);
	assert_true(ct.cgid == (uint64_t)st.st_ino);
	scope_target_release(&ct);
}

static void expect_no_ctr(const struct tree *t, const char *cid, int code, const char *want)
{
	struct scope_target ct = { 0 };
	_cleanup_free_ char *err = NULL;
	int r = find_ctr(t, cid, &err, &ct);

	if (r != code || !err || !strstr(err, want))
		fail_msg("container %s: %d %s (wanted %d, %s)", cid, r, err ? err : "", code, want);
	assert_null(ct.path);
}

static void test_find_container(void **state)
{
	struct tree cgfs = { 0 }, sysd = { 0 };
	char base[] = "/tmp/tg-scope-ctr-XXXXXX", p[PATH_MAX * 2];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(base));
	tree_at(&cgfs, base, "/cgfs", "cgfs");
	tree_at(&sysd, base, "/sysd", "sysd");
	/* each runtime as each kubelet driver names its containers */
	mkdirs(sysd.root, SYSD_POD_A "/cri-containerd-" HEX_1 ".scope");
	mkdirs(sysd.root, SYSD_POD_A "/crio-" HEX_2 ".scope/container");   /* crun's extra level */
	mkdirs(sysd.root, SYSD_POD_A "/docker-" HEX_3 ".scope");
	mkdirs(cgfs.root, CGFS_POD_A "/" HEX_1);
	mkdirs(cgfs.root, CGFS_POD_A "/crio-" HEX_2);
	expect_ctr(&sysd, "containerd://" HEX_1, SYSD_POD_A "/cri-containerd-" HEX_1 ".scope");
	expect_ctr(&sysd, "cri-o://" HEX_2, SYSD_POD_A "/crio-" HEX_2 ".scope");
	expect_ctr(&sysd, "docker://" HEX_3, SYSD_POD_A "/docker-" HEX_3 ".scope");
	expect_ctr(&cgfs, "containerd://" HEX_1, CGFS_POD_A "/" HEX_1);
	expect_ctr(&cgfs, "cri-o://" HEX_2, CGFS_POD_A "/crio-" HEX_2);

	/* not there: the names tried, below the pod's */
	expect_no_ctr(&cgfs, "docker://" HEX_3, -TG_ENOSCOPE, "(docker): no cgroup below the pod's");
	expect_no_ctr(&cgfs, "docker://" HEX_3, -TG_ENOSCOPE, "\"docker-" HEX_3 ".scope\", \"" HEX_3 "\"");
	/* a runtime's ID under another runtime's name is not that container */
	expect_no_ctr(&sysd, "docker://" HEX_1, -TG_ENOSCOPE, "no cgroup below the pod's");
	/* IDs that are not a runtime's 64 hex digits never reach a path */
	expect_no_ctr(&cgfs, "containerd://../../../../etc", -EINVAL, "is not containerd://, cri-o:// or docker://");
	expect_no_ctr(&cgfs, "containerd://" HEX_1 "/..", -EINVAL, "64 lowercase hex digits");
	expect_no_ctr(&cgfs, "rkt://" HEX_1, -EINVAL, "64 lowercase hex digits");
	expect_no_ctr(&cgfs, "", -EINVAL, "ID \"\"");

	/* a symlink in the pod's directory, to another pod's container: refused */
	mkdirs(cgfs.root, "kubepods/besteffort/pod" UID_E "/" HEX_3);
	snprintf(p, sizeof(p), "%s/" CGFS_POD_A "/" HEX_3, cgfs.root);
	assert_int_equal(symlink("../../besteffort/pod" UID_E "/" HEX_3, p), 0);
	expect_no_ctr(&cgfs, "docker://" HEX_3, -TG_ENOSCOPE, "is not a directory");
	assert_int_equal(unlink(p), 0);
	/* a file of that name: refused */
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	expect_no_ctr(&cgfs, "docker://" HEX_3, -TG_ENOSCOPE, "is not a directory");
	rm_tree(base);
}

#define CTR_BODY(pod_extra) \
	"{\"trace\":\"t\",\"program\":\"BEGIN { }\",\"canonical\":\"BEGIN { }\",\"pods\":[{\"namespace\":\"ns\"," \
	"\"name\":\"pod\",\"uid\":\"" UID_A "\",\"qos\":\"Burstable\"" pod_extra "}]}"

static void expect_body_refused(const char *body, const char *want)
{
	struct session_request req = { 0 };
	_cleanup_free_ char *err = NULL;

	assert_int_equal(session_request_decode(body, strlen(body), &req, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("%s: %s (wanted %s)", body, err ? err : "", want);
}

#define NODE_BODY(extra) \
	"{\"trace\":\"t\",\"program\":\"BEGIN { }\",\"canonical\":\"BEGIN { }\"" extra "}"
#define POD_JSON "[{\"namespace\":\"ns\",\"name\":\"pod\",\"uid\":\"" UID_A "\"}]"

/* a node-wide session only on "scope": "node" with the node and no pods;
 * a pod session never loses its pods' scope */
static void test_session_node_scope(void **state)
{
	static const char node[] = NODE_BODY(",\"scope\":\"node\",\"node\":\"node-1\"");
	static const char pod[] = NODE_BODY(",\"scope\":\"pod\",\"pods\":" POD_JSON);
	struct session_config cfg = { .cgroup2_mnt = "/nonexistent", .cgroup_root = "/r" };
	struct session_request req = { 0 };
	struct scope s = { 0 };
	_cleanup_free_ char *err = NULL, *label = NULL;

	(void)state;
	assert_int_equal(session_request_decode(node, strlen(node), &req, &err), 0);
	assert_true(req.node_scope);
	assert_string_equal(req.node, "node-1");
	assert_int_equal(req.npods, 0);
	label = session_request_pods(&req);
	assert_string_equal(label, "node/node-1");
	/* nothing to resolve: no cgroup is looked at */
	assert_int_equal(session_resolve(&req, &cfg, &s, &err), 0);
	assert_int_equal(s.n, 0);
	scope_release(&s);
	session_request_release(&req);

	assert_int_equal(session_request_decode(pod, strlen(pod), &req, &err), 0);
	assert_false(req.node_scope);
	assert_int_equal(req.npods, 1);
	session_request_release(&req);

	/* neither pods nor an explicit node scope */
	expect_body_refused(NODE_BODY(""), "\"pods\": missing or not an array");
	expect_body_refused(NODE_BODY(",\"pods\":[]"), "\"pods\": empty");
	expect_body_refused(NODE_BODY(",\"node\":\"node-1\""), "only a node-wide session");
	expect_body_refused(NODE_BODY(",\"scope\":\"pod\""), "\"pods\": missing");
	/* both */
	expect_body_refused(NODE_BODY(",\"scope\":\"node\",\"node\":\"node-1\",\"pods\":" POD_JSON), "never both");
	expect_body_refused(NODE_BODY(",\"scope\":\"node\",\"node\":\"node-1\",\"pods\":[]"), "never both");
	expect_body_refused(NODE_BODY(",\"node\":\"node-1\",\"pods\":" POD_JSON), "only a node-wide session");
	/* a node scope names its node; the scope is one of two words */
	expect_body_refused(NODE_BODY(",\"scope\":\"node\""), "\"node\": missing");
	expect_body_refused(NODE_BODY(",\"scope\":\"node\",\"node\":\"\""), "\"node\": empty");
	expect_body_refused(NODE_BODY(",\"scope\":\"node\",\"node\":\"../x\""), "is not allowed");
	expect_body_refused(NODE_BODY(",\"scope\":\"Node\",\"node\":\"node-1\""), "not \"pod\" or \"node\"");
	expect_body_refused(NODE_BODY(",\"scope\":true,\"pods\":" POD_JSON), "not \"pod\" or \"node\"");
	expect_body_refused(NODE_BODY(",\"scope\":null,\"pods\":" POD_JSON), "not \"pod\" or \"node\"");
}

/* "container" and "containerID" of a session's pod: parsed strictly,
 * resolved to the container's cgroup */
static void test_session_container(void **state)
{
	static const char good[] = CTR_BODY(",\"container\":\"app\",\"containerID\":\"containerd://" HEX_1 "\"");
	struct session_config cfg = { 0 };
	struct session_request req = { 0 };
	struct scope s = { 0 };
	_cleanup_free_ char *err = NULL, *pods = NULL;
	char base[] = "/tmp/tg-scope-sess-XXXXXX", want[PATH_MAX * 2];

	(void)state;
	assert_non_null(mkdtemp(base));
	mkdirs(base, "r/" CGFS_POD_A "/" HEX_1);
	assert_int_equal(session_request_decode(good, strlen(good), &req, &err), 0);
	assert_string_equal(req.pods[0].container, "app");
	assert_string_equal(req.pods[0].container_id, "containerd://" HEX_1);
	pods = session_request_pods(&req);
	assert_string_equal(pods, "ns/pod(container app)");
	cfg.cgroup2_mnt = base;
	cfg.cgroup_root = "/r";
	assert_int_equal(session_resolve(&req, &cfg, &s, &err), 0);
	assert_int_equal(s.n, 1);
	snprintf(want, sizeof(want), "%s/r/" CGFS_POD_A "/" HEX_1, base);
	assert_string_equal(s.targets[0].path, want);
	assert_string_equal(s.targets[0].label, "ns/pod");
	scope_release(&s);
	session_request_release(&req);

	/* the container's cgroup missing: -TG_ENOSCOPE naming the pod */
	{
		static const char gone[] = CTR_BODY(",\"container\":\"app\",\"containerID\":\"docker://" HEX_2 "\"");

		assert_int_equal(session_request_decode(gone, strlen(gone), &req, &err), 0);
		free(err);
		err = NULL;
		assert_int_equal(session_resolve(&req, &cfg, &s, &err), -TG_ENOSCOPE);
		assert_non_null(strstr(err, "pod \"ns/pod\": container \"app\" (docker): no cgroup below"));
		scope_release(&s);
		session_request_release(&req);
	}
	expect_body_refused(CTR_BODY(",\"container\":\"app\""), "one without the other");
	expect_body_refused(CTR_BODY(",\"containerID\":\"containerd://" HEX_1 "\""), "one without the other");
	expect_body_refused(CTR_BODY(",\"container\":\"../x\",\"containerID\":\"containerd://" HEX_1 "\""),
			    "character 3 is not allowed");
	expect_body_refused(CTR_BODY(",\"container\":\"A_b\",\"containerID\":\"containerd://" HEX_1 "\""),
			    "not a DNS-1123 label");
	expect_body_refused(CTR_BODY(",\"container\":\"app\",\"containerID\":\"containerd://../../x\""),
			    "\"containerID\": not containerd://");
	expect_body_refused(CTR_BODY(",\"container\":\"app\",\"containerID\":\"containerd://" HEX_1 "\\u0000\""),
			    "is not allowed without JSON_ALLOW_NUL");
	rm_tree(base);
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
		cmocka_unit_test(test_find_container),
		cmocka_unit_test(test_session_container),
		cmocka_unit_test(test_session_node_scope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
