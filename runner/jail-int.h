/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the compile jail's implementation (jail.c, jail-mount.c). */
#ifndef TG_RUNNER_JAIL_INT_H
#define TG_RUNNER_JAIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jail_exec_opts;
struct jail_limits;

#define JAIL_MOUNT_MAX_OPS 128

/* What a jailed child was doing when it failed, as it reports it. */
enum jail_step {
	JS_NONE, JS_PDEATHSIG, JS_PARENT_GONE, JS_FDS, JS_RLIMIT, JS_SETGROUPS, JS_SETGID, JS_SETUID,
	JS_CAPS, JS_NNP, JS_SECCOMP, JS_PRIVATE, JS_ROOT, JS_SCRATCH, JS_ROOT_RO, JS_PIVOT,
	JS_OLD_ROOT, JS_CHDIR, JS_FORK, JS_EXEC, JS_STDIO, JS_HOSTNAME,
	JS_OP = 1000,               /* + the index of a mount plan step */
	JS_DONE = 9999,             /* not a failure: the program's wait status follows */
};

enum jail_mount_kind { JM_MKDIR, JM_SYMLINK, JM_BIND };

struct jail_mount_op {
	enum jail_mount_kind k;
	char *path;                 /* inside the jail, absolute */
	char *target;               /* JM_SYMLINK: the link's text; JM_BIND: the host path */
	char *at;                   /* root + path: where the child works */
	bool file;                  /* JM_BIND of a file */
	bool exec;                  /* JM_BIND: executables and libraries may be mapped */
};

struct jail_mount {
	struct jail_mount_op ops[JAIL_MOUNT_MAX_OPS];
	size_t n;
	char root[64];              /* the host directory the jail's tmpfs covers */
	char *scratch_at;
	char scratch_data[160];
};

/* The plan for x: the program's installation (its directory, or the
 * prefix above a bin/), its ELF interpreter, the system library
 * directories, /etc/ld.so.cache and x->binds, each with the symbolic
 * links on the way; a scratch tmpfs of lim->scratch_bytes owned by uid. */
int jail_mount_plan(struct jail_mount *m, const struct jail_exec_opts *x, uint32_t uid,
		    const struct jail_limits *lim, char **ret_err);
void jail_mount_release(struct jail_mount *m);

/* In the child, in its new mount namespace: builds the view and
 * pivot_roots into it, cwd /tmp.  On failure, *ret_step names the step
 * (enum jail_step). */
int jail_mount_apply(const struct jail_mount *m, int *ret_step);

#endif
