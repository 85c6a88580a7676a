// SPDX-License-Identifier: Apache-2.0
/* uprobe and usdt targets inside a pod's root (see uprobe.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/elfcheck.h"
#include "runner/uprobe.h"
#include "lib/banned.h"

#define UPROBE_MAX_PATH 4096

/* ---- a process of the pod --------------------------------------------- */

/* Calls fn for each pid listed in dir/cgroup.procs until it returns
 * non-zero (returned); 0 when the list ends (or cannot be read). */
static int each_proc(const char *dir, int (*fn)(void *ctx, pid_t pid), void *ctx)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	uint64_t v;

	if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
		return -ENOMEM;
	if (read_file(path, UPROBE_MAX_PROCS_BYTES, &text, NULL) < 0)
		return 0;
	for (char *line = text, *next; line && *line; line = next) {
		int r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (parse_u64(line, &v) == 0 && v > 0 && v <= INT32_MAX && (r = fn(ctx, (pid_t)v)))
			return r;
	}
	return 0;
}

/* Walks cgroup_dir and the directories below it, breadth first (the pod
 * level, then its containers), bounded by UPROBE_MAX_CGROUP_DIRS, calling
 * fn for each process until it returns non-zero (returned). */
static int walk_procs(const char *cgroup_dir, int (*fn)(void *ctx, pid_t pid), void *ctx)
{
	char **queue;
	size_t head = 0, n = 0;
	int r = 0;

	queue = calloc(UPROBE_MAX_CGROUP_DIRS, sizeof(*queue));
	if (!queue || !(queue[n++] = strdup(cgroup_dir))) {
		free(queue);
		return -ENOMEM;
	}
	while (head < n && r == 0) {
		const char *dir = queue[head++];
		DIR *d;
		struct dirent *de;

		r = each_proc(dir, fn, ctx);
		if (r)
			break;
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d)) && n < UPROBE_MAX_CGROUP_DIRS) {
			if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (asprintf(&queue[n], "%s/%s", dir, de->d_name) < 0) {
				queue[n] = NULL;
				r = -ENOMEM;
				break;
			}
			n++;
		}
		closedir(d);
	}
	for (size_t i = 0; i < n; i++)
		free(queue[i]);
	free(queue);
	return r;
}

static int first_pid(void *ctx, pid_t pid)
{
	*(pid_t *)ctx = pid;
	return 1;
}

int uprobe_pod_pid(const char *cgroup_dir, const char *label, pid_t *ret_pid, char **ret_err)
{
	pid_t pid = 0;
	int r = walk_procs(cgroup_dir, first_pid, &pid);

	if (r < 0)
		return r;
	if (!pid)
		return tg_fail(ret_err, -TG_ENOSCOPE,
			       "pod \"%s\": no process in its cgroup to find its containers' files through",
			       label ? label : cgroup_dir);
	*ret_pid = pid;
	return 0;
}

struct pid_list {
	pid_t *v;
	size_t n, max;
};

static int add_pid(void *ctx, pid_t pid)
{
	struct pid_list *l = ctx;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == pid)
			return 0;
	if (l->n == l->max)
		return -TG_ELIMIT;
	l->v[l->n++] = pid;
	return 0;
}

int uprobe_pod_pids(const char *cgroup_dir, pid_t *pids, size_t max, size_t *n)
{
	struct pid_list l = { .v = pids, .n = *n, .max = max };
	int r = walk_procs(cgroup_dir, add_pid, &l);

	*n = l.n;
	return r < 0 ? r : 0;
}

/* Whether /proc/PID/cgroup puts the process at or below cgroup_dir. */
static bool proc_in_cgroup(pid_t pid, const char *cgroup2_mnt, const char *cgroup_dir)
{
	_cleanup_free_ char *path = NULL, *text = NULL, *abs = NULL;
	size_t dl = strlen(cgroup_dir);

	if (asprintf(&path, "/proc/%d/cgroup", (int)pid) < 0 ||
	    read_file(path, 64u << 10, &text, NULL) < 0)
		return false;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "0::", 3))
			continue;
		if (asprintf(&abs, "%s%s", strcmp(cgroup2_mnt, "/") ? cgroup2_mnt : "", line + 3) < 0)
			return false;
		return !strncmp(abs, cgroup_dir, dl) && (abs[dl] == '\0' || abs[dl] == '/');
	}
	return false;
}

int uprobe_root_open(pid_t pid, const char *cgroup2_mnt, const char *cgroup_dir, int *ret_fd,
		     char **ret_err)
{
	_cleanup_close_ int pidfd = -1, root = -1;
	char path[64];

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return tg_fail(ret_err, -errno, "process %d: cannot open: %s", (int)pid, strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return tg_fail(ret_err, -errno, "process %d: cannot open its root \"%s\": %s", (int)pid,
			       path, strerror(errno));
	if (cgroup_dir && cgroup2_mnt && !proc_in_cgroup(pid, cgroup2_mnt, cgroup_dir))
		return tg_fail(ret_err, -TG_ENOSCOPE, "process %d: not in cgroup \"%s\" any more",
			       (int)pid, cgroup_dir);
	/* still the same process: its pid was not reused under us */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return tg_fail(ret_err, -ESRCH, "process %d: exited while its root was opened", (int)pid);
	*ret_fd = TAKE_FD(root);
	return 0;
}

/* ---- files inside a root ---------------------------------------------- */

static int open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* A regular file (not a FIFO that would block, not a device). */
static int open_file_in_root(int root_fd, const char *path, bool want_exec)
{
	_cleanup_close_ int fd = open_in_root(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (want_exec && !(st.st_mode & 0111))
		return -EACCES;
	return TAKE_FD(fd);
}

static bool fd_is_elf(int fd)
{
	char m[4];

	return pread(fd, m, 4, 0) == 4 && !memcmp(m, "\177ELF", 4);
}

static int read_in_root(int root_fd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open_file_in_root(root_fd, path, false);
	_cleanup_free_ char *b = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t k = pread(fd, b + len, (size_t)st.st_size - len, (off_t)len);

		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
	}
	b[len] = '\0';
	*ret = TAKE_PTR(b);
	*ret_len = len;
	return 0;
}

/* "lib<name>.so" for "name" or "libname" (bpftrace's library names). */
static char *lib_prefix(const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", str_has_prefix(name, "lib") ? "" : "lib", name,
		     strstr(name, ".so") ? "" : ".so") < 0)
		return NULL;
	return p;
}

static bool lib_name_matches(const char *prefix, const char *file)
{
	size_t pl = strlen(prefix);

	return !strncmp(file, prefix, pl) && (file[pl] == '\0' || file[pl] == '.');
}

/* glibc's ld.so.cache, new format ("glibc-ld.so.cache1.1"), read from the
 * tenant's root: every offset is checked against the file's size. */
#define LDC_MAGIC "glibc-ld.so.cache1.1"
#define LDC_HDR 48
#define LDC_ENTRY 24
#define LDC_FLAG_ELF_LIBC6 0x0003
#if defined(__x86_64__)
#define LDC_FLAG_ARCH 0x0300
#elif defined(__aarch64__)
#define LDC_FLAG_ARCH 0x0a00
#else
#define LDC_FLAG_ARCH 0x0000
#endif

static uint32_t ld32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const char *ldc_str(const char *c, size_t len, uint32_t off)
{
	if (off >= len || !memchr(c + off, '\0', MIN(len - off, (size_t)UPROBE_MAX_PATH)))
		return NULL;
	return c + off;
}

/* The path the cache gives for a library matching prefix, or NULL. */
static char *ldcache_lookup(int root_fd, const char *prefix)
{
	_cleanup_free_ char *c = NULL;
	size_t len = 0;
	uint32_t n;

	if (read_in_root(root_fd, "/etc/ld.so.cache", UPROBE_MAX_LDCACHE_BYTES, &c, &len) < 0 ||
	    len < LDC_HDR || memcmp(c, LDC_MAGIC, sizeof(LDC_MAGIC) - 1))
		return NULL;
	n = ld32(c + 20);
	if (n > (len - LDC_HDR) / LDC_ENTRY)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const char *e = c + LDC_HDR + (size_t)i * LDC_ENTRY;
		uint32_t flags = ld32(e);
		const char *key = ldc_str(c, len, ld32(e + 4));
		const char *val = ldc_str(c, len, ld32(e + 8));

		if (!key || !val || (flags & 0xff) != LDC_FLAG_ELF_LIBC6 ||
		    (flags & 0xff00) != LDC_FLAG_ARCH || !lib_name_matches(prefix, key))
			continue;
		return strdup(val);
	}
	return NULL;
}

/* lib<name>.so[.version] in a directory of the root; the highest name. */
static char *lib_in_root_dir(int root_fd, const char *dir, const char *prefix)
{
	int dfd = open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY);
	_cleanup_free_ char *best = NULL;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return NULL;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (!lib_name_matches(prefix, de->d_name))
			continue;
		if (!best || strcmp(de->d_name, best) > 0) {
			free(best);
			best = strdup(de->d_name);
		}
	}
	closedir(d);
	if (!best)
		return NULL;
	{
		char *p;

		if (asprintf(&p, "%s/%s", dir, best) < 0)
			return NULL;
		return p;
	}
}

/* The file is the pod's: its headers are checked before libelf or libbpf
 * reads it (runner/elfcheck.h); a file that fails is refused, named. */
static int found(int fd, char *path, int *ret_fd, char **ret_path, char **ret_err)
{
	int r = elf_check_fd(fd, path, ret_err);

	if (r < 0) {
		close(fd);
		free(path);
		return r;
	}
	*ret_fd = fd;
	*ret_path = path;
	return 0;
}

int uprobe_resolve_in_root(int root_fd, const char *target, int *ret_fd, char **ret_path,
			   char **ret_err)
{
	static const char *const bins[] = {
		"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
	};
	static const char *const libs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
		"/lib", "/usr/lib", "/usr/local/lib", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu",
	};
	_cleanup_free_ char *prefix = NULL;
	char *p;
	int fd;

	if (!*target || strlen(target) >= UPROBE_MAX_PATH)
		return tg_fail(ret_err, -EINVAL, "path \"%.64s\": empty or too long", target);
	if (strchr(target, '/')) {
		fd = open_file_in_root(root_fd, target, false);
		if (fd < 0)
			return tg_fail(ret_err, fd, "file \"%s\": cannot open inside the pod's root: %s",
				       target, fd == -EINVAL ? "not a regular file" : strerror(-fd));
		p = strdup(target);
		if (!p) {
			close(fd);
			return -ENOMEM;
		}
		return found(fd, p, ret_fd, ret_path, ret_err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bins); i++) {
		if (asprintf(&p, "%s/%s", bins[i], target) < 0)
			return -ENOMEM;
		fd = open_file_in_root(root_fd, p, true);
		if (fd >= 0 && fd_is_elf(fd))
			return found(fd, p, ret_fd, ret_path, ret_err);
		if (fd >= 0)
			close(fd);
		free(p);
	}
	prefix = lib_prefix(target);
	if (!prefix)
		return -ENOMEM;
	p = ldcache_lookup(root_fd, prefix);
	if (p) {
		fd = open_file_in_root(root_fd, p, false);
		if (fd >= 0 && fd_is_elf(fd))
			return found(fd, p, ret_fd, ret_path, ret_err);
		if (fd >= 0)
			close(fd);
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
		p = lib_in_root_dir(root_fd, libs[i], prefix);
		if (!p)
			continue;
		fd = open_file_in_root(root_fd, p, false);
		if (fd >= 0 && fd_is_elf(fd))
			return found(fd, p, ret_fd, ret_path, ret_err);
		if (fd >= 0)
			close(fd);
		free(p);
	}
	return tg_fail(ret_err, -ENOENT,
		       "\"%s\": no such executable or library inside the pod's root", target);
}

int uprobe_fd_path(int fd, char **ret_path, char **ret_err)
{
	_cleanup_free_ char *p = NULL;
	struct stat a, b;

	if (asprintf(&p, "/proc/self/fd/%d", fd) < 0)
		return -ENOMEM;
	if (fstat(fd, &a) < 0 || stat(p, &b) < 0)
		return tg_fail(ret_err, -errno, "file descriptor %d: cannot stat: %s", fd, strerror(errno));
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return tg_fail(ret_err, -ESTALE, "\"%s\": not the file opened in the pod", p);
	*ret_path = TAKE_PTR(p);
	return 0;
}
