/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uprobe and usdt targets of a pod: the files live in the pod's
 * containers, so they are found through a process of the pod
 * (/proc/PID/root) and opened with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): `..` and absolute symlinks stay inside the
 * container's root.  The probe is then attached to that very file
 * (/proc/self/fd/N), never to a path the kernel would look up again in the
 * runner's own root.
 */
#ifndef TG_RUNNER_UPROBE_H
#define TG_RUNNER_UPROBE_H

#include <stddef.h>
#include <sys/types.h>

#define UPROBE_MAX_CGROUP_DIRS 1024          /* cgroup directories searched under a pod */
#define UPROBE_MAX_PROCS_BYTES (1u << 20)    /* of one cgroup.procs */
#define UPROBE_MAX_LDCACHE_BYTES (16u << 20) /* of a root's /etc/ld.so.cache */

/* The first process found in the cgroup directory cgroup_dir or below it
 * (breadth first: the pod level, then its containers); label names the
 * pod in the error.  -TG_ENOSCOPE when none. */
int uprobe_pod_pid(const char *cgroup_dir, const char *label, pid_t *ret_pid, char **ret_err);

/* Adds to pids[*n..max) every process (tgid) in cgroup_dir or below it
 * that is not listed yet.  -TG_ELIMIT when there are more than max. */
int uprobe_pod_pids(const char *cgroup_dir, pid_t *pids, size_t max, size_t *n);

/* An O_PATH directory fd of a process's root (/proc/PID/root), kept only
 * if the process (pidfd) still lives afterwards and still sits in
 * cgroup_dir (when not NULL; an absolute path under the cgroup2 mount
 * cgroup2_mnt): a pid reused meanwhile is refused. */
int uprobe_root_open(pid_t pid, const char *cgroup2_mnt, const char *cgroup_dir, int *ret_fd,
		     char **ret_err);

/*
 * A uprobe/usdt target inside the root open at root_fd, as bpftrace
 * resolves it on a host: a path (absolute or relative; resolved inside the
 * root), else an executable in the standard PATH directories of the root,
 * else a library name ("libc", "c", "libssl.so.3") through the root's
 * /etc/ld.so.cache, then its standard library directories.  *ret_fd is a
 * read-only close-on-exec fd of a regular file; *ret_path the path inside
 * the root it was found at.  -ENOENT (with a message) when nothing fits.
 */
int uprobe_resolve_in_root(int root_fd, const char *target, int *ret_fd, char **ret_path,
			   char **ret_err);

/* "/proc/self/fd/N" for fd, after checking that path names the same
 * inode as fd (what the kernel will attach to). */
int uprobe_fd_path(int fd, char **ret_path, char **ret_err);

#endif
