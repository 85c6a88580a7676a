// SPDX-License-Identifier: Apache-2.0
/*
 * uprobe/usdt files of a pod (runner/uprobe.h) in a temporary root of our
 * own: paths, `..`, absolute and relative symlinks stay inside the root
 * (a host file the root lacks is never reached), executables by name,
 * libraries through the root's ld.so.cache (well-formed and hostile) and
 * its library directories, FIFOs and directories refused without
 * blocking; a process of a cgroup-like tree; a pid whose cgroup does not
 * match; /proc/self/fd/N naming the same inode.  And the usdt notes of
 * python3.11 (runner/usdt.h).
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
#include <unistd.h>
#include <cmocka.h>
#include <elf.h>
#include <stdbool.h>
#include <time.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/uprobe.h"
#include "runner/usdt.h"

static char root[PATH_MAX];
static int root_fd = -1;

static void put(const char *rel, const void *data, size_t len, int mode)
{
	char path[PATH_MAX * 2];
	int fd;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void link_in(const char *rel, const char *target)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A small ELF: the bytes of /bin/true. */
static void put_elf(const char *rel, int mode)
{
	_cleanup_free_ char *b = malloc(1 << 20);
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0 && b);
	n = read(fd, b, 1 << 20);
	close(fd);
	assert_true(n > 4);
	put(rel, b, (size_t)n, mode);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tg-uprobe-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	put_elf("/usr/bin/tgapp", 0755);
	put_elf("/usr/bin/tgdata", 0644);                 /* not executable */
	put_elf("/opt/lib/libtgfoo.so.1", 0644);
	put_elf("/usr/lib/x86_64-linux-gnu/libtgbar.so.2", 0644);
	put_elf("/usr/lib/x86_64-linux-gnu/libtgbar.so.1", 0644);
	put("/usr/bin/tgscript", "#!/bin/sh\n", 10, 0755);
	link_in("/usr/bin/abs-link", "/usr/bin/tgapp");    /* absolute: inside the root */
	link_in("/usr/bin/rel-link", "../../usr/bin/tgapp");
	link_in("/escape-abs", "/etc/passwd");             /* the host has it, the root not */
	link_in("/escape-rel", "../../../../../../../etc/passwd");
	link_in("/escape-proc", "/proc/self/exe");
	{
		char fifo[PATH_MAX * 2];

		snprintf(fifo, sizeof(fifo), "%s/usr/bin/fifo", root);
		assert_int_equal(mkfifo(fifo, 0644), 0);
	}
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root_fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (root_fd >= 0)
		close(root_fd);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Resolves target; checks the fd is the root's file at want and the path
 * reported is found (want when NULL). */
static void expect_found(const char *target, const char *want, const char *found)
{
	_cleanup_free_ char *path = NULL, *err = NULL;
	_cleanup_close_ int fd = -1;
	char full[PATH_MAX * 2];
	struct stat a, b;
	int r;

	r = uprobe_resolve_in_root(root_fd, target, &fd, &path, &err);
	if (r < 0)
		fail_msg("%s: %s", target, err ? err : "?");
	assert_string_equal(path, found ? found : strchr(target, '/') ? target : want);
	snprintf(full, sizeof(full), "%s%s", root, want);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(full, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void expect_in_root(const char *target, const char *want)
{
	expect_found(target, want, NULL);
}

static void expect_refused(const char *target, const char *msg_part)
{
	_cleanup_free_ char *path = NULL, *err = NULL;
	int fd = -1;
	int r;

	r = uprobe_resolve_in_root(root_fd, target, &fd, &path, &err);
	assert_true(r < 0);
	assert_int_equal(fd, -1);
	assert_null(path);
	assert_non_null(err);
	if (!strstr(err, msg_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", target, err, msg_part);
}

static void test_paths_stay_inside(void **state)
{
	(void)state;
	expect_in_root("/usr/bin/tgapp", "/usr/bin/tgapp");
	expect_in_root("usr/bin/tgapp", "/usr/bin/tgapp");
	/* `..` above the root stops at the root */
	expect_in_root("/../../../usr/bin/tgapp", "/usr/bin/tgapp");
	expect_in_root("/usr/../../../usr/bin/../bin/tgapp", "/usr/bin/tgapp");
	/* symlinks resolve inside the root, absolute or relative */
	expect_in_root("/usr/bin/abs-link", "/usr/bin/tgapp");
	expect_in_root("/usr/bin/rel-link", "/usr/bin/tgapp");
	/* the host's /etc/passwd exists; the root's does not */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	expect_refused("/escape-abs", "\"/escape-abs\": cannot open inside the pod's root");
	expect_refused("/escape-rel", "No such file");
	expect_refused("/../../../../etc/passwd", "No such file");
	expect_refused("/escape-proc", "cannot open inside the pod's root");
	/* not regular files: refused at once (a FIFO would block an open) */
	expect_refused("/usr/bin/fifo", "not a regular file");
	expect_refused("/usr/bin", "not a regular file");
	expect_refused("", "empty or too long");
}

static void test_names(void **state)
{
	(void)state;
	/* an executable on the root's PATH (ELF, executable) */
	expect_in_root("tgapp", "/usr/bin/tgapp");
	/* libraries: the directories, the highest version */
	expect_in_root("tgbar", "/usr/lib/x86_64-linux-gnu/libtgbar.so.2");
	expect_in_root("libtgbar", "/usr/lib/x86_64-linux-gnu/libtgbar.so.2");
	/* not ELF, not executable, absent: no such thing */
	expect_refused("tgscript", "no such executable or library inside the pod's root");
	expect_refused("tgfoo", "no such executable or library");
	expect_refused("true", "no such executable or library");   /* the host's /bin/true */
}

/* A new-format ld.so.cache naming libtgfoo.so.1 -> /opt/lib/libtgfoo.so.1. */
static size_t ldcache(char *c, size_t cap, uint32_t nlibs, uint32_t key, uint32_t val, uint32_t flags)
{
	const char *k = "libtgfoo.so.1", *v = "/opt/lib/libtgfoo.so.1";
	size_t strs = 48 + 24, len;

	memset(c, 0, cap);
	memcpy(c, "glibc-ld.so.cache1.1", 20);
	memcpy(c + 20, &nlibs, 4);
	memcpy(c + 48, &flags, 4);
	memcpy(c + 52, &key, 4);
	memcpy(c + 56, &val, 4);
	memcpy(c + strs, k, strlen(k) + 1);
	memcpy(c + strs + 32, v, strlen(v) + 1);
	len = strs + 32 + strlen(v) + 1;
	assert_true(len <= cap);
	return len;
}

static void test_ldcache(void **state)
{
	char c[256];
	size_t n;

	(void)state;
	n = ldcache(c, sizeof(c), 1, 72, 104, 0x0303);
	put("/etc/ld.so.cache", c, n, 0644);
	expect_in_root("tgfoo", "/opt/lib/libtgfoo.so.1");
	/* another architecture's entry is not taken */
	n = ldcache(c, sizeof(c), 1, 72, 104, 0x0a03);
	put("/etc/ld.so.cache", c, n, 0644);
	expect_refused("tgfoo", "no such executable or library");
	/* hostile: a count past the end, offsets out of range, unterminated
	 * strings, a truncated header: ignored, never read past the file */
	n = ldcache(c, sizeof(c), 0x7fffffff, 72, 104, 0x0303);
	put("/etc/ld.so.cache", c, n, 0644);
	expect_refused("tgfoo", "no such executable or library");
	n = ldcache(c, sizeof(c), 1, 0xfffffff0u, 104, 0x0303);
	put("/etc/ld.so.cache", c, n, 0644);
	expect_refused("tgfoo", "no such executable or library");
	n = ldcache(c, sizeof(c), 1, 72, (uint32_t)n - 1, 0x0303);
	put("/etc/ld.so.cache", c, n - 1, 0644);   /* the value loses its NUL */
	expect_refused("tgfoo", "no such executable or library");
	put("/etc/ld.so.cache", c, 30, 0644);
	expect_refused("tgfoo", "no such executable or library");
	/* a cache pointing outside the root stays inside it */
	n = ldcache(c, sizeof(c), 1, 72, 104, 0x0303);
	memcpy(c + 104, "/../../../opt/lib/libtgfoo.so.1", 32);
	put("/etc/ld.so.cache", c, n + 10, 0644);
	expect_found("tgfoo", "/opt/lib/libtgfoo.so.1", "/../../../opt/lib/libtgfoo.so.1");
}

static void test_fd_path(void **state)
{
	_cleanup_free_ char *path = NULL, *inner = NULL, *err = NULL;
	_cleanup_close_ int fd = -1;
	struct stat a, b;

	(void)state;
	assert_int_equal(uprobe_resolve_in_root(root_fd, "/usr/bin/tgapp", &fd, &inner, &err), 0);
	assert_int_equal(uprobe_fd_path(fd, &path, &err), 0);
	assert_true(strncmp(path, "/proc/self/fd/", 14) == 0);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

static void test_pod_pid(void **state)
{
	_cleanup_free_ char *err = NULL;
	pid_t pid = 0;

	(void)state;
	/* a cgroup-like tree: nobody at the pod level, a pid in a container */
	put("/cg/pod/cgroup.procs", "", 0, 0644);
	put("/cg/pod/ctr-a/cgroup.procs", "", 0, 0644);
	put("/cg/pod/ctr-b/cgroup.procs", "junk\n4242\n", 10, 0644);
	{
		char dir[PATH_MAX * 2];

		snprintf(dir, sizeof(dir), "%s/cg/pod", root);
		assert_int_equal(uprobe_pod_pid(dir, "team-a/web-a", &pid, &err), 0);
		assert_int_equal(pid, 4242);
		put("/cg/pod/ctr-b/cgroup.procs", "", 0, 0644);
		assert_int_equal(uprobe_pod_pid(dir, "team-a/web-a", &pid, &err), -TG_ENOSCOPE);
		assert_string_equal(err, "pod \"team-a/web-a\": no process in its cgroup to find its containers' files through");
	}
}

static void test_root_open(void **state)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int fd = -1;
	struct stat a, b;

	(void)state;
	assert_int_equal(uprobe_root_open(getpid(), NULL, NULL, &fd, &err), 0);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat("/", &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	/* our process is not in that cgroup: refused */
	assert_int_equal(uprobe_root_open(getpid(), "/sys/fs/cgroup", "/sys/fs/cgroup/no/such/pod",
					  &fd, &err), -TG_ENOSCOPE);
	assert_non_null(strstr(err, "not in cgroup \"/sys/fs/cgroup/no/such/pod\""));
	free(err);
	err = NULL;
	/* a pid that does not exist */
	assert_true(uprobe_root_open(0x3ffffff0, NULL, NULL, &fd, &err) < 0);
	assert_non_null(err);
}

static void test_usdt_notes(void **state)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_close_ int fd = -1, fd2 = -1;
	struct usdt_probe *v = NULL;
	size_t n = 0, entry = 0, fn = 0;

	(void)state;
	fd = open("/usr/bin/python3.11", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	assert_int_equal(usdt_list(fd, "/usr/bin/python3.11", &v, &n, &err), 0);
	assert_int_equal(n, 8);       /* readelf -n: 8 distinct probes */
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].provider, "python") && !strcmp(v[i].name, "function__entry"))
			entry++;
		fn += usdt_match(&v[i], "py*", "function__*");
		assert_false(usdt_match(&v[i], "other", "*"));
		assert_true(usdt_match(&v[i], NULL, v[i].name));
	}
	assert_int_equal(entry, 1);   /* one entry per provider:name, however many sites */
	assert_int_equal(fn, 2);      /* function__entry, function__return */
	usdt_list_free(v, n);
	v = NULL;
	/* an ELF without notes: no probes; not an ELF: an error naming it */
	fd2 = open("/bin/true", O_RDONLY | O_CLOEXEC);
	assert_int_equal(usdt_list(fd2, "/bin/true", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	usdt_list_free(v, n);
	close(fd2);
	fd2 = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd2 >= 0) {
		assert_int_equal(usdt_list(fd2, "/etc/hostname", &v, &n, &err), -TG_ELOAD);
		assert_string_equal(err, "file \"/etc/hostname\": not an ELF file");
	}
}

static int open_in(const char *dir, const char *rel)
{
	char path[PATH_MAX * 2];
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* A hostile ELF header in the root: shnum section headers at shoff
 * (extended numbering when xnum), sections[] written after them, the
 * file extended (sparse) to size bytes. */
static void put_hostile_elf(const char *rel, unsigned char data, uint64_t shoff, uint64_t shnum,
			    bool xnum, const Elf64_Shdr *sections, size_t nsec, uint64_t size)
{
	char path[PATH_MAX * 2];
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr s0 = { 0 };
	int fd;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = data;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shoff = shoff;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = xnum ? 0 : (uint16_t)shnum;
	s0.sh_size = xnum ? shnum : 0;
	put(rel, &eh, sizeof(eh), 0755);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &s0, sizeof(s0), (off_t)shoff), (ssize_t)sizeof(s0));
	if (nsec)
		assert_int_equal(pwrite(fd, sections, nsec * sizeof(*sections),
					(off_t)(shoff + sizeof(s0))),
				 (ssize_t)(nsec * sizeof(*sections)));
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* Files whose headers would make libelf (at elf_begin, in the privileged
 * runner) allocate per section or read far more than the file holds are
 * refused before libelf sees them, naming the file and the limit: a
 * 4 KiB sparse file claiming 2 million sections cost ~640 MB of the
 * session's memory on main. */
static void test_hostile_elf(void **state)
{
	static Elf64_Shdr notes[2048];
	_cleanup_free_ char *err = NULL, *path = NULL;
	struct usdt_probe *v = NULL;
	size_t n = 0;
	int fd = -1;
	struct timespec a, b;

	(void)state;
	put_hostile_elf("/bomb/sections", ELFDATA2LSB, 64, 2000000, true, NULL, 0,
			64 + 2000000ull * sizeof(Elf64_Shdr));
	clock_gettime(CLOCK_MONOTONIC, &a);
	expect_refused("/bomb/sections", "2000000 sections, more than the 16384");
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 2);

	put_hostile_elf("/bomb/outside", ELFDATA2LSB, 1u << 20, 100, false, NULL, 0, 1u << 20);
	expect_refused("/bomb/outside", "section headers outside the file");

	put_hostile_elf("/bomb/bigendian", ELFDATA2MSB, 64, 1, false, NULL, 0, 4096);
	expect_refused("/bomb/bigendian", "byte order 2 is not this host's");

	notes[0] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_offset = 0, .sh_size = 4096 };
	put_hostile_elf("/bomb/symtab0", ELFDATA2LSB, 64, 2, false, notes, 1, 8192);
	expect_refused("/bomb/symtab0", "entries of 0 bytes, not 24");

	notes[0] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_offset = 4096, .sh_size = 1ull << 40 };
	put_hostile_elf("/bomb/section-outside", ELFDATA2LSB, 64, 2, false, notes, 1, 8192);
	expect_refused("/bomb/section-outside", "section 1 lies outside the file");

	/* 2047 note sections over the same 16 KiB: 32 MiB of notes to walk */
	for (size_t i = 0; i < 2047; i++)
		notes[i] = (Elf64_Shdr){ .sh_type = SHT_NOTE, .sh_offset = 1u << 20, .sh_size = 16384,
					 .sh_addralign = 4 };
	put_hostile_elf("/bomb/notes", ELFDATA2LSB, 64, 2048, false, notes, 2047, (1u << 20) + 16384);
	expect_refused("/bomb/notes", "notes of more than 16777216 bytes together");
	fd = open_in(root, "/bomb/notes");
	assert_int_equal(usdt_list(fd, "/bomb/notes", &v, &n, &err), -TG_ELIMIT);
	assert_non_null(strstr(err, "notes of more than"));
	close(fd);
	(void)path;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_stay_inside),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ldcache),
		cmocka_unit_test(test_fd_path),
		cmocka_unit_test(test_pod_pid),
		cmocka_unit_test(test_root_open),
		cmocka_unit_test(test_usdt_notes),
		cmocka_unit_test(test_hostile_elf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
