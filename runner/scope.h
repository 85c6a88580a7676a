/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scope: the set of cgroup v2 directories a trace may observe.
 *
 * A pod's scope is its pod-level cgroup (it outlives container restarts):
 * the generated code asks for the current task's ancestor cgroup id at
 * `level` (bpf_get_current_ancestor_cgroup_id) and accepts the event only
 * when that id is in the allowed set.  Pods may sit at different depths
 * (Guaranteed pods are one level higher), so each target keeps its own.
 */
#ifndef TG_RUNNER_SCOPE_H
#define TG_RUNNER_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#define SCOPE_MAX_TARGETS 256

struct scope_target {
	uint64_t cgid;     /* cgroup v2 id (kernfs node id = st_ino) */
	int level;         /* depth below the cgroup2 root (root = 0) */
	char *label;       /* "team-a/web-a" for a pod, the path otherwise */
	char *path;        /* absolute path of the directory */
};

struct scope {
	struct scope_target *targets;
	size_t n;
};

/* The cgroup2 mount point, read from /proc/self/mountinfo (never assumed:
 * hosts mount v1 and v2 side by side, v2 often at /sys/fs/cgroup/unified). */
int cgroup2_mount_find(char **ret_path, char **ret_err);
/* The same over the text of a mountinfo file (tests feed their own): the
 * first cgroup2 mount whose root is "/", else the first cgroup2 mount;
 * octal escapes (\040) are decoded. */
int cgroup2_mount_parse(const char *mountinfo, char **ret_path, char **ret_err);

/* Fills t for a directory under the cgroup2 mount (id and depth). */
int scope_target_from_path(const char *cgroup2_mnt, const char *dir, const char *label,
			   struct scope_target *t, char **ret_err);

/*
 * Finds a pod's cgroup by UID under `cgroup_root` (relative to the
 * cgroup2 mount, like the kubelet's --cgroup-root; "/" by default), under
 * either kubelet layout: cgroupfs (kubepods/<qos>/pod<uid>, Guaranteed:
 * kubepods/pod<uid>) or systemd (kubepods.slice/kubepods-<qos>.slice/
 * kubepods-<qos>-pod<uid_>.slice, Guaranteed: kubepods.slice/
 * kubepods-pod<uid_>.slice).  qos may be NULL (all are tried).
 * -TG_ENOSCOPE with a message when absent.
 */
int scope_find_pod(const char *cgroup2_mnt, const char *cgroup_root, const char *pod_uid,
		   const char *qos, const char *label, struct scope_target *t, char **ret_err);

/*
 * The cgroup of one container of a pod whose directory scope_find_pod
 * found (`pod`): a direct child of that directory, named from the
 * container's ID as the kubelet's cgroup drivers and the runtimes name it
 * (systemd: cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope;
 * cgroupfs: <id>, crio-<id>), never a path the request names.
 * container_id is checked here (kube/container.h: a known runtime and 64
 * lowercase hex digits), name only quoted in messages.  t's label is the
 * pod's.  -EINVAL for a bad ID, -TG_ENOSCOPE with a message when there is
 * no such child, or what was found is not a directory directly below the
 * pod's.
 */
int scope_find_container(const char *cgroup2_mnt, const struct scope_target *pod, const char *container_id,
			 const char *name, struct scope_target *t, char **ret_err);

int scope_add(struct scope *s, struct scope_target *t); /* takes t's strings */
void scope_release(struct scope *s);
void scope_target_release(struct scope_target *t);
/* The target whose cgid equals id, or NULL. */
const struct scope_target *scope_lookup(const struct scope *s, uint64_t cgid);

#endif
