// SPDX-License-Identifier: Apache-2.0
/*
 * The compile jail's file view (see jail.h): the plan of what to show,
 * built by the parent from the host's paths, and its execution by the
 * child in its new mount namespace (async-signal-safe: system calls on
 * the prepared plan only).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/jail.h"
#include "runner/jail-int.h"
#include "lib/banned.h"

#if defined(__x86_64__)
#define JAIL_TRIPLET "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define JAIL_TRIPLET "aarch64-linux-gnu"
#else
#define JAIL_TRIPLET ""
#endif

#define JAIL_MAX_LINK_HOPS  16
#define JAIL_ROOT_TMPFS     "size=256k,nr_inodes=512,mode=0755"
#define JAIL_SCRATCH_INODES 1024

void jail_mount_release(struct jail_mount *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->ops[i].path);
		free(m->ops[i].target);
		free(m->ops[i].at);
	}
	free(m->scratch_at);
	memset(m, 0, sizeof(*m));
}

static struct jail_mount_op *mplan_find(struct jail_mount *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->ops[i].path, path))
			return &m->ops[i];
	return NULL;
}

/* A bind that already shows path (path is it, or below it). */
static bool mplan_covered(struct jail_mount *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++) {
		size_t l = strlen(m->ops[i].path);

		if (m->ops[i].k == JM_BIND && !strncmp(m->ops[i].path, path, l) &&
		    (path[l] == '\0' || path[l] == '/'))
			return true;
	}
	return false;
}

static int mplan_add(struct jail_mount *m, enum jail_mount_kind k, const char *path, const char *target,
		     bool file, bool exec)
{
	struct jail_mount_op *op;

	if (m->n == JAIL_MOUNT_MAX_OPS)
		return -E2BIG;
	op = &m->ops[m->n];
	*op = (struct jail_mount_op){ .k = k, .file = file, .exec = exec, .path = strdup(path),
			   .target = target ? strdup(target) : NULL };
	if (!op->path || (target && !op->target)) {
		free(op->path);
		free(op->target);
		return -ENOMEM;
	}
	m->n++;
	return 0;
}

/* Lexically: "/a/./b/../c" -> "/a/c"; path is absolute. */
static void normalize(char *path)
{
	char out[PATH_MAX];
	size_t o = 0;
	const char *p = path;

	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (o + 1 + n < sizeof(out)) {
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	memcpy(path, out, o + 1);
}

/* Makes the host's path visible at the same place: directories on the way
 * created, symbolic links recreated (and followed, so what they name is
 * made visible too), the last component bind-mounted. */
static int mplan_path(struct jail_mount *m, const char *want, bool exec, int hops, char **ret_err)
{
	char path[PATH_MAX], cur[PATH_MAX] = "";
	const char *p;

	if (hops > JAIL_MAX_LINK_HOPS)
		return tg_fail(ret_err, -ELOOP, "compile jail: \"%s\": too many symbolic links", want);
	if (strlen(want) >= sizeof(path) || want[0] != '/')
		return tg_fail(ret_err, -EINVAL, "compile jail: \"%s\": not an absolute path", want);
	memcpy(path, want, strlen(want) + 1);
	normalize(path);
	p = path;
	while (*p) {
		size_t n, cl = strlen(cur);
		struct stat st;
		bool last;
		int r;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		last = p[n] == '\0' || p[n + strspn(p + n, "/")] == '\0';
		if (cl + 1 + n >= sizeof(cur))
			return -ENAMETOOLONG;
		cur[cl] = '/';
		memcpy(cur + cl + 1, p, n);
		cur[cl + 1 + n] = '\0';
		p += n;
		if (mplan_covered(m, cur))
			return 0;
		if (lstat(cur, &st) < 0)
			return tg_fail(ret_err, -errno, "compile jail: \"%s\": %s", cur, strerror(errno));
		if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX], next[PATH_MAX];
			ssize_t ll = readlink(cur, link, sizeof(link) - 1);
			int w;

			if (ll < 0)
				return tg_fail(ret_err, -errno, "compile jail: \"%s\": %s", cur, strerror(errno));
			link[ll] = '\0';
			if (!mplan_find(m, cur)) {
				r = mplan_add(m, JM_SYMLINK, cur, link, false, false);
				if (r < 0)
					return r;
			}
			cur[cl] = '\0';
			w = link[0] == '/' ? snprintf(next, sizeof(next), "%s%s", link, p) :
					     snprintf(next, sizeof(next), "%s/%s%s", cur, link, p);
			if (w < 0 || (size_t)w >= sizeof(next))
				return -ENAMETOOLONG;
			return mplan_path(m, next, exec, hops + 1, ret_err);
		}
		if (last) {
			if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
				return tg_fail(ret_err, -EINVAL, "compile jail: \"%s\": neither a directory nor a file",
					       cur);
			return mplan_add(m, JM_BIND, cur, cur, !S_ISDIR(st.st_mode), exec);
		}
		if (!S_ISDIR(st.st_mode))
			return tg_fail(ret_err, -ENOTDIR, "compile jail: \"%s\": %s", cur, strerror(ENOTDIR));
		if (!mplan_find(m, cur)) {
			r = mplan_add(m, JM_MKDIR, cur, NULL, false, false);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The ELF interpreter of an executable (PT_INTERP), "" for a static one. */
static int elf_interp(const char *path, char *out, size_t outsz, char **ret_err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;
	size_t nph;
	int r = 0;

	out[0] = '\0';
	if (fd < 0)
		return tg_fail(ret_err, -errno, "compile jail: \"%s\": %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0) {
		if (e)
			elf_end(e);
		return tg_fail(ret_err, -ENOEXEC, "compile jail: \"%s\": not an ELF executable", path);
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz >= outsz ||
		    pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
			r = tg_fail(ret_err, -ENOEXEC, "compile jail: \"%s\": bad PT_INTERP", path);
			break;
		}
		out[ph.p_filesz] = '\0';
		if (out[0] != '/') {
			r = tg_fail(ret_err, -ENOEXEC, "compile jail: \"%s\": relative PT_INTERP", path);
			break;
		}
		break;
	}
	elf_end(e);
	return r;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int jail_mount_plan(struct jail_mount *m, const struct jail_exec_opts *x, uint32_t uid,
		       const struct jail_limits *lim, char **ret_err)
{
	static const char *const libdirs[] = {
		"/lib/" JAIL_TRIPLET, "/usr/lib/" JAIL_TRIPLET, "/lib64", "/usr/lib64",
	};
	static const char *const roots[] = {
		"/tmp", "/mnt", "/run", "/media", "/srv", "/opt", "/home", "/var", "/proc",
	};
	char real[PATH_MAX], interp[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int r;

	if (!realpath(x->path, real))
		return tg_fail(ret_err, -errno, "compile jail: program \"%s\": %s", x->path, strerror(errno));
	/* the program's directory; for an installation of its own (a bin/
	 * under a prefix such as /usr/lib/llvm-14, which holds clang's
	 * resource directory) that prefix, never /usr or / themselves */
	memcpy(dir, real, strlen(real) + 1);
	*strrchr(dir, '/') = '\0';
	slash = strrchr(dir, '/');
	if (slash && slash != dir && !strcmp(slash + 1, "bin")) {
		*slash = '\0';
		if (!strcmp(dir, "/usr") || !strcmp(dir, "/usr/local"))
			*slash = '/';
	}
	r = mplan_path(m, dir[0] ? dir : "/", true, 0, ret_err);
	if (r >= 0)
		r = elf_interp(real, interp, sizeof(interp), ret_err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(libdirs); i++)
		if (JAIL_TRIPLET[0] && is_dir(libdirs[i]))
			r = mplan_path(m, libdirs[i], true, 0, ret_err);
	if (r >= 0 && interp[0])
		r = mplan_path(m, interp, true, 0, ret_err);
	if (r >= 0 && access("/etc/ld.so.cache", F_OK) == 0)
		r = mplan_path(m, "/etc/ld.so.cache", false, 0, ret_err);
	for (size_t i = 0; r >= 0 && i < x->nbinds; i++)
		if (access(x->binds[i], F_OK) == 0)
			r = mplan_path(m, x->binds[i], false, 0, ret_err);
	if (r < 0)
		return r == -E2BIG ? tg_fail(ret_err, r, "compile jail: more than %d mount steps", JAIL_MOUNT_MAX_OPS) : r;
	if (mplan_covered(m, "/tmp") || mplan_find(m, "/tmp"))
		return tg_fail(ret_err, -EINVAL, "compile jail: \"/tmp\" is the scratch directory, not a bind");
	/* a host directory to mount the jail's root over: one no bind
	 * source lies under (it would be hidden by then) */
	for (size_t i = 0; i < ARRAY_SIZE(roots) && !m->root[0]; i++) {
		struct stat st;
		size_t l = strlen(roots[i]);
		bool clash = false;

		if (lstat(roots[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		for (size_t j = 0; j < m->n && !clash; j++)
			clash = m->ops[j].k == JM_BIND && !strncmp(m->ops[j].target, roots[i], l) &&
				(m->ops[j].target[l] == '/' || !m->ops[j].target[l]);
		if (!clash)
			snprintf(m->root, sizeof(m->root), "%s", roots[i]);
	}
	if (!m->root[0])
		return tg_fail(ret_err, -ENOENT, "compile jail: no host directory to mount its root over");
	for (size_t i = 0; i < m->n; i++)
		if (asprintf(&m->ops[i].at, "%s%s", m->root, m->ops[i].path) < 0)
			return -ENOMEM;
	if (asprintf(&m->scratch_at, "%s/tmp", m->root) < 0)
		return -ENOMEM;
	snprintf(m->scratch_data, sizeof(m->scratch_data), "size=%llu,nr_inodes=%d,mode=0700,uid=%u,gid=%u",
		 (unsigned long long)lim->scratch_bytes, JAIL_SCRATCH_INODES, uid, uid);
	return 0;
}

int jail_mount_apply(const struct jail_mount *m, int *ret_step)
{

	*ret_step = JS_PRIVATE;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*ret_step = JS_ROOT;
	if (mount("tracegate-jail", m->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, JAIL_ROOT_TMPFS) < 0)
		return -errno;
	for (size_t i = 0; i < m->n; i++) {
		const struct jail_mount_op *op = &m->ops[i];
		unsigned long fl = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;

		*ret_step = JS_OP + (int)i;
		switch (op->k) {
		case JM_MKDIR:
			if (mkdir(op->at, 0755) < 0 && errno != EEXIST)
				return -errno;
			break;
		case JM_SYMLINK:
			if (symlink(op->target, op->at) < 0 && errno != EEXIST)
				return -errno;
			break;
		case JM_BIND:
			if (op->file) {
				int fd = open(op->at, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

				if (fd < 0)
					return -errno;
				close(fd);
			} else if (mkdir(op->at, 0755) < 0 && errno != EEXIST) {
				return -errno;
			}
			if (mount(op->target, op->at, NULL, MS_BIND, NULL) < 0 ||
			    mount(NULL, op->at, NULL, fl | (op->exec ? 0 : MS_NOEXEC), NULL) < 0)
				return -errno;
			break;
		}
	}
	*ret_step = JS_SCRATCH;
	if (mkdir(m->scratch_at, 0700) < 0 ||
	    mount("tracegate-scratch", m->scratch_at, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  m->scratch_data) < 0)
		return -errno;
	*ret_step = JS_ROOT_RO;
	if (mount(NULL, m->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	*ret_step = JS_PIVOT;
	if (chdir(m->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	*ret_step = JS_OLD_ROOT;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	/* the chdir to /tmp comes once the compile uid is taken (jail.c):
	 * the scratch tmpfs is 0700 and that uid's, and root without
	 * CAP_DAC_READ_SEARCH (the DaemonSet's set) may not enter it */
	return 0;
}

