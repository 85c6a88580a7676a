// SPDX-License-Identifier: Apache-2.0
/*
 * The compile jail (see jail.h and docs/internals/runner.md, "The compile
 * jail").
 *
 * The parent prepares everything a child needs (paths, mount data, the
 * seccomp programs, argv and envp) before it forks: jail_exec's child is
 * made with a raw clone() so that it can enter new namespaces, and such a
 * child of a threaded process may not allocate (another thread may hold
 * malloc's lock), so it only makes system calls on prepared data.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "lib/cleanup.h"
#include "lib/cleanup-seccomp.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "runner/jail.h"
#include "runner/jail-int.h"
#include "lib/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define JAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_ASAN 1
#endif
#endif

#define JAIL_SETUP_EXIT    125        /* a jailed child that could not set up */
#define JAIL_OOM_SCORE     "1000"     /* the OOM killer takes a jailed child first */
#define JAIL_HOSTNAME      "tracegate-compile"

const char *jail_mode_name(enum jail_mode m)
{
	return m == JAIL_LOG ? "log" : m == JAIL_OFF ? "off" : "enforce";
}

/* ---- options -------------------------------------------------------------- */

int jail_opts_from_env(struct jail_opts *o, char **ret_err)
{
	const char *v;

	*o = (struct jail_opts){
		.sz = sizeof(*o), .mode = JAIL_ENFORCE,
		.uid_first = JAIL_DEFAULT_UID_FIRST, .uid_count = JAIL_DEFAULT_UID_COUNT,
		.cancel_fd = -1,
		.lim = { .wall_ms = JAIL_DEFAULT_WALL_MS, .cpu_s = JAIL_DEFAULT_CPU_S,
			 .mem_bytes = JAIL_DEFAULT_MEM_BYTES, .fsize_bytes = JAIL_DEFAULT_FSIZE_BYTES,
			 .nproc = JAIL_DEFAULT_NPROC, .nofile = JAIL_DEFAULT_NOFILE,
			 .scratch_bytes = JAIL_DEFAULT_SCRATCH },
	};
	v = getenv(JAIL_ENV);
	if (v && v[0] && strcmp(v, "enforce")) {
		if (!strcmp(v, "log"))
			o->mode = JAIL_LOG;
		else if (!strcmp(v, "off"))
			o->mode = JAIL_OFF;
		else
			return tg_fail(ret_err, -EINVAL, "%s \"%.64s\": neither \"enforce\", \"log\" nor \"off\"",
				       JAIL_ENV, v);
	}
	v = getenv(JAIL_UIDS_ENV);
	if (v && v[0]) {
		const char *dash = strchr(v, '-');
		char first[24];
		uint64_t a, b;

		if (!dash || (size_t)(dash - v) >= sizeof(first))
			goto bad_uids;
		memcpy(first, v, (size_t)(dash - v));
		first[dash - v] = '\0';
		if (parse_u64(first, &a) < 0 || parse_u64(dash + 1, &b) < 0 || a == 0 || b < a ||
		    b >= UINT32_MAX - 1 || b - a + 1 > JAIL_MAX_UID_COUNT)
			goto bad_uids;
		o->uid_first = (uint32_t)a;
		o->uid_count = (uint32_t)(b - a + 1);
	}
	v = getenv(JAIL_TIMEOUT_ENV);
	if (v && v[0]) {
		uint64_t ms;

		if (parse_u64(v, &ms) < 0 || ms == 0 || ms > JAIL_MAX_WALL_MS)
			return tg_fail(ret_err, -EINVAL, "%s \"%.64s\": expected milliseconds (1..%u)",
				       JAIL_TIMEOUT_ENV, v, JAIL_MAX_WALL_MS);
		o->lim.wall_ms = ms;
		if (o->lim.cpu_s * 1000 > ms)
			o->lim.cpu_s = (ms + 999) / 1000;
	}
	return 0;
bad_uids:
	return tg_fail(ret_err, -EINVAL,
		       "%s \"%.64s\": expected FIRST-LAST, uids above 0, at most %u of them",
		       JAIL_UIDS_ENV, v, JAIL_MAX_UID_COUNT);
}

/* ---- one uid per child ------------------------------------------------------ */

/* An open file description holding a one-byte OFD lock at (uid - first):
 * the kernel drops the lock when the last descriptor of it is closed,
 * also when its holder dies.  A fresh open per child: locks of one open
 * file description never conflict with each other. */
static int uid_acquire(const struct jail_opts *o, uint32_t *ret_uid, int *ret_fd, char **ret_err)
{
	const char *dir = o->lock_dir ? o->lock_dir : JAIL_LOCK_DIR;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	uint32_t start;

	if (!o->uid_count || o->uid_count > JAIL_MAX_UID_COUNT || !o->uid_first)
		return tg_fail(ret_err, -EINVAL, "compile jail: bad uid range");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tg_fail(ret_err, -errno, "compile jail: lock directory \"%s\": %s", dir, strerror(errno));
	/* whoever can write here could take every uid: ours alone */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return tg_fail(ret_err, -EPERM,
			       "compile jail: lock directory \"%s\": not a directory of uid %u writable by it alone",
			       dir, (unsigned)geteuid());
	if (asprintf(&path, "%s/%s", dir, JAIL_LOCK_FILE) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return tg_fail(ret_err, -errno, "compile jail: lock file \"%s\": %s", path, strerror(errno));
	if (getrandom(&start, sizeof(start), GRND_NONBLOCK) != (ssize_t)sizeof(start))
		start = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now_mono_ns();
	for (uint32_t i = 0; i < o->uid_count; i++) {
		uint32_t idx = (start + i) % o->uid_count;
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = idx, .l_len = 1 };

		if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
			*ret_uid = o->uid_first + idx;
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
		if (errno != EAGAIN && errno != EACCES)
			return tg_fail(ret_err, -errno, "compile jail: lock file \"%s\": %s", path, strerror(errno));
	}
	return tg_fail(ret_err, -EBUSY, "compile jail: all %u compile uids (%u-%u, %s) are in use",
		       o->uid_count, o->uid_first, o->uid_first + o->uid_count - 1, JAIL_UIDS_ENV);
}

/* ---- seccomp programs --------------------------------------------------------- */

struct jrule {
	const char *name;
	int action;                 /* 0: allow; >0: fail with that errno */
	unsigned nargs;
	struct scmp_arg_cmp args[1];
};

#define J_ALLOW(n)           { .name = (n) }
#define J_ALLOW_IF(n, a)     { .name = (n), .nargs = 1, .args = { a } }
#define J_ERRNO(n, e)        { .name = (n), .action = (e) }
#define J_ERRNO_IF(n, e, a)  { .name = (n), .action = (e), .nargs = 1, .args = { a } }

/* Code generation: computes in memory and writes its answer to the one
 * descriptor it has.  No file, socket, process or executable memory. */
static const struct jrule codegen_rules[] = {
	J_ALLOW("write"), J_ALLOW("writev"), J_ALLOW("close"),
	J_ALLOW_IF("mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	J_ALLOW_IF("mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	J_ALLOW("munmap"), J_ALLOW("mremap"), J_ALLOW("brk"), J_ALLOW("madvise"),
	J_ALLOW("futex"), J_ALLOW("sched_yield"), J_ALLOW("getrandom"),
	J_ALLOW("clock_gettime"), J_ALLOW("clock_getres"), J_ALLOW("gettimeofday"),
	J_ALLOW("getpid"), J_ALLOW("gettid"),
	J_ALLOW("rt_sigreturn"), J_ALLOW("rt_sigprocmask"), J_ALLOW("restart_syscall"),
	J_ALLOW("sigaltstack"),     /* AddressSanitizer's, in the sanitizer build */
	J_ALLOW("exit"), J_ALLOW("exit_group"),
};

/* clang: files (what it sees is the jail's view; what it may write, the
 * scratch tmpfs), memory, threads; no process (fork fails, so does a
 * crash symbolizer's spawn), no socket, no mount, no bpf, no ptrace... */
static const struct jrule clang_rules[] = {
	J_ALLOW("read"), J_ALLOW("readv"), J_ALLOW("pread64"), J_ALLOW("write"), J_ALLOW("writev"),
	J_ALLOW("pwrite64"), J_ALLOW("lseek"), J_ALLOW("close"),
	J_ALLOW("open"), J_ALLOW("openat"), J_ALLOW("creat"),
	J_ALLOW("fstat"), J_ALLOW("stat"), J_ALLOW("lstat"), J_ALLOW("newfstatat"), J_ALLOW("statx"),
	J_ALLOW("access"), J_ALLOW("faccessat"), J_ALLOW("faccessat2"),
	J_ALLOW("readlink"), J_ALLOW("readlinkat"), J_ALLOW("getdents64"), J_ALLOW("getcwd"),
	J_ALLOW("chdir"), J_ALLOW("fchdir"), J_ALLOW("fcntl"), J_ALLOW("dup"), J_ALLOW("dup2"),
	J_ALLOW("dup3"), J_ALLOW("pipe"), J_ALLOW("pipe2"), J_ALLOW("ftruncate"), J_ALLOW("fallocate"),
	J_ALLOW("fsync"), J_ALLOW("fdatasync"), J_ALLOW("rename"), J_ALLOW("renameat"),
	J_ALLOW("renameat2"), J_ALLOW("unlink"), J_ALLOW("unlinkat"), J_ALLOW("mkdir"),
	J_ALLOW("mkdirat"), J_ALLOW("rmdir"), J_ALLOW("umask"), J_ALLOW("fchmod"), J_ALLOW("chmod"),
	J_ALLOW("fchmodat"), J_ALLOW("utimensat"), J_ALLOW("flock"),
	J_ALLOW("mmap"), J_ALLOW("mprotect"), J_ALLOW("munmap"), J_ALLOW("mremap"), J_ALLOW("brk"),
	J_ALLOW("madvise"),
	J_ALLOW("futex"), J_ALLOW("set_robust_list"), J_ALLOW("rseq"), J_ALLOW("set_tid_address"),
	J_ALLOW("arch_prctl"), J_ALLOW("sched_yield"), J_ALLOW("sched_getaffinity"),
	J_ALLOW("getrlimit"), J_ALLOW_IF("prlimit64", SCMP_A0(SCMP_CMP_EQ, 0)), J_ALLOW("getrusage"),
	J_ALLOW("times"),
	J_ALLOW("rt_sigaction"), J_ALLOW("rt_sigprocmask"), J_ALLOW("rt_sigreturn"),
	J_ALLOW("sigaltstack"), J_ALLOW("restart_syscall"), J_ALLOW("alarm"), J_ALLOW("setitimer"),
	J_ALLOW("getitimer"),
	J_ALLOW("getpid"), J_ALLOW("getppid"), J_ALLOW("gettid"), J_ALLOW("getuid"), J_ALLOW("geteuid"),
	J_ALLOW("getgid"), J_ALLOW("getegid"), J_ALLOW("getgroups"), J_ALLOW("getresuid"),
	J_ALLOW("getresgid"), J_ALLOW("getpgrp"),
	J_ALLOW("uname"), J_ALLOW("sysinfo"), J_ALLOW("getrandom"), J_ALLOW("clock_gettime"),
	J_ALLOW("clock_getres"), J_ALLOW("gettimeofday"), J_ALLOW("time"), J_ALLOW("nanosleep"),
	J_ALLOW("clock_nanosleep"),
	J_ALLOW("execve"),          /* the jail's own exec of clang */
	J_ALLOW("wait4"), J_ALLOW("waitid"),
	J_ALLOW("exit"), J_ALLOW("exit_group"),
	/* threads only; clone3's flags are out of the filter's reach, so it
	 * answers ENOSYS and glibc falls back to clone */
	J_ALLOW_IF("clone", SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)),
	J_ERRNO_IF("clone", EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)),
	J_ERRNO("clone3", ENOSYS), J_ERRNO("fork", EPERM), J_ERRNO("vfork", EPERM),
	/* isatty() and friends: nothing here is a terminal */
	J_ERRNO("ioctl", ENOTTY),
	J_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)),
	J_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME)),
	J_ALLOW_IF("prctl", SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE)),
	J_ERRNO("membarrier", ENOSYS),
	/* glibc asks nscd over a unix socket before reading /etc/passwd
	 * (which the jail lacks anyway): refused, it goes on without; any
	 * other family kills */
	J_ERRNO_IF("socket", EACCES, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)),
};

/* The namespace's init: waits for clang, reports its status, exits. */
static const struct jrule init_rules[] = {
	J_ALLOW("wait4"), J_ALLOW("waitid"), J_ALLOW("write"), J_ALLOW("rt_sigreturn"),
	J_ALLOW("restart_syscall"), J_ALLOW("exit"), J_ALLOW("exit_group"),
};

enum filter_kind { F_CODEGEN, F_CLANG, F_INIT, F_NKINDS };

struct filter_prog {
	struct sock_filter *insns;
	unsigned short len;
};

/* Built once per process and mode, then only loaded by children. */
static struct filter_prog filters[F_NKINDS][2];

static int add_jrule(scmp_filter_ctx ctx, const struct jrule *rule, char **ret_err)
{
	int nr = seccomp_syscall_resolve_name(rule->name);
	uint32_t action = rule->action ? SCMP_ACT_ERRNO((uint32_t)rule->action) : SCMP_ACT_ALLOW;
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	r = seccomp_rule_add_array(ctx, action, nr, rule->nargs, rule->args);
	if (r < 0)
		return tg_fail(ret_err, r, "compile jail: seccomp rule for \"%s\": %s", rule->name, strerror(-r));
	return 0;
}

static int filter_build(enum filter_kind k, bool log_only, struct filter_prog *ret, char **ret_err)
{
	static const struct { const struct jrule *rules; size_t n; } sets[F_NKINDS] = {
		[F_CODEGEN] = { codegen_rules, ARRAY_SIZE(codegen_rules) },
		[F_CLANG] = { clang_rules, ARRAY_SIZE(clang_rules) },
		[F_INIT] = { init_rules, ARRAY_SIZE(init_rules) },
	};
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	_cleanup_free_ struct sock_filter *insns = NULL;
	int p[2] = { -1, -1 };
	size_t have = 0, cap = 4096;
	int r;

	ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return tg_fail(ret_err, -ENOMEM, "compile jail: cannot create a seccomp filter");
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		return tg_fail(ret_err, r, "compile jail: seccomp attributes: %s", strerror(-r));
	for (size_t i = 0; i < sets[k].n; i++) {
		r = add_jrule(ctx, &sets[k].rules[i], ret_err);
		if (r < 0)
			return r;
	}
	/* the program as the kernel takes it, through a pipe (libseccomp
	 * 2.5 exports to a descriptor only) */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return tg_fail(ret_err, -errno, "compile jail: pipe: %s", strerror(errno));
	r = seccomp_export_bpf(ctx, p[1]);
	close(p[1]);
	insns = malloc(cap);
	while (r >= 0 && insns) {
		ssize_t n = read(p[0], (char *)insns + have, cap - have);

		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == cap) {
			struct sock_filter *bigger = cap >= (1u << 20) ? NULL : realloc(insns, cap * 2);

			if (!bigger) {
				r = -E2BIG;
				break;
			}
			insns = bigger;
			cap *= 2;
		}
	}
	close(p[0]);
	if (!insns)
		return -ENOMEM;
	if (r < 0 || have == 0 || have % sizeof(struct sock_filter) ||
	    have / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return tg_fail(ret_err, r < 0 ? r : -EINVAL, "compile jail: cannot export the seccomp filter");
	ret->len = (unsigned short)(have / sizeof(struct sock_filter));
	ret->insns = TAKE_PTR(insns);
	return 0;
}

static int filter_get(enum filter_kind k, bool log_only, const struct filter_prog **ret, char **ret_err)
{
	struct filter_prog *f = &filters[k][log_only];

	if (!f->insns) {
		int r = filter_build(k, log_only, f, ret_err);

		if (r < 0)
			return r;
	}
	*ret = f;
	return 0;
}

/* ---- what every jailed child does (async-signal-safe) ------------------------- */


static const char *step_name(int s)
{
	switch (s) {
	case JS_PDEATHSIG: return "PR_SET_PDEATHSIG";
	case JS_PARENT_GONE: return "the runner is gone";
	case JS_FDS: return "closing inherited descriptors";
	case JS_RLIMIT: return "resource limits";
	case JS_SETGROUPS: return "setgroups";
	case JS_SETGID: return "setresgid";
	case JS_SETUID: return "setresuid";
	case JS_CAPS: return "dropping capabilities";
	case JS_NNP: return "no_new_privs";
	case JS_SECCOMP: return "installing the seccomp filter";
	case JS_PRIVATE: return "making the mount namespace private";
	case JS_ROOT: return "mounting the root tmpfs";
	case JS_SCRATCH: return "mounting the scratch tmpfs";
	case JS_ROOT_RO: return "making the root read-only";
	case JS_PIVOT: return "pivot_root";
	case JS_OLD_ROOT: return "detaching the host's root";
	case JS_CHDIR: return "chdir to the scratch directory";
	case JS_FORK: return "starting the program";
	case JS_EXEC: return "executing the program";
	case JS_STDIO: return "standard descriptors";
	case JS_HOSTNAME: return "sethostname";
	default: return "setup";
	}
}

struct child_common {
	uint32_t uid;
	const struct jail_limits *lim;
	bool set_as;                /* RLIMIT_AS (not under AddressSanitizer) */
	int max_fd;                 /* for the close loop without close_range */
};

static void report(int fd, int step, int err)
{
	int32_t rec[2] = { step, err };

	if (fd >= 0 && write(fd, rec, sizeof(rec)) < 0) {
		/* the parent is gone or reading nothing: exiting says enough */
	}
}

/* Closes every descriptor >= lo except keep[] (sorted ascending). */
static int close_from(int lo, const int *keep, size_t nkeep, int max_fd)
{
	unsigned start = (unsigned)lo;

	for (size_t i = 0; i <= nkeep; i++) {
		unsigned end = i < nkeep ? (unsigned)keep[i] : ~0u;

		if (i < nkeep && end < start)
			continue;
		if (end > start) {
			unsigned last = i < nkeep ? end - 1 : ~0u;

			if (syscall(SYS_close_range, start, last, 0) < 0) {
				if (errno != ENOSYS)
					return -errno;
				for (unsigned fd = start; fd <= last && fd <= (unsigned)max_fd; fd++)
					close((int)fd);
			}
		}
		if (i < nkeep)
			start = end + 1;
	}
	return 0;
}

static void oom_first(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, JAIL_OOM_SCORE, sizeof(JAIL_OOM_SCORE) - 1) < 0) {
			/* a kernel without it: only the OOM order differs */
		}
		close(fd);
	}
}

static int set_limits(const struct child_common *c)
{
	const struct jail_limits *l = c->lim;
	struct { int res; uint64_t soft, hard; } v[] = {
		{ RLIMIT_CPU, l->cpu_s, l->cpu_s + 1 },   /* SIGXCPU, then SIGKILL */
		{ RLIMIT_FSIZE, l->fsize_bytes, l->fsize_bytes },
		{ RLIMIT_NPROC, l->nproc, l->nproc },
		{ RLIMIT_NOFILE, l->nofile, l->nofile },
		{ RLIMIT_CORE, 0, 0 },
		{ RLIMIT_MEMLOCK, 0, 0 },
		{ RLIMIT_MSGQUEUE, 0, 0 },
		{ RLIMIT_AS, l->mem_bytes, l->mem_bytes },
	};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct rlimit rl = { .rlim_cur = v[i].soft, .rlim_max = v[i].hard };

		if (v[i].res == RLIMIT_AS && !c->set_as)
			continue;
		if (setrlimit(v[i].res, &rl) < 0)
			return -errno;
	}
	return 0;
}

/* Ours alone from here on: the uid and gid, no supplementary group, no
 * capability in any set, no way to gain one. */
static int drop_privileges(const struct child_common *c, int *ret_step)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	/* The bounding set stays: no_new_privs (below) already keeps exec
	 * from granting anything, and dropping it one capability at a time
	 * costs a credential change each, milliseconds on a busy node. */
	/* the system calls themselves: glibc's wrappers would try to change
	 * every thread it knows of, and a clone()d child knows its parent's */
	*ret_step = JS_SETGROUPS;
	if (syscall(SYS_setgroups, 0, NULL) < 0)
		return -errno;
	*ret_step = JS_SETGID;
	if (syscall(SYS_setresgid, c->uid, c->uid, c->uid) < 0)
		return -errno;
	*ret_step = JS_SETUID;
	if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
		return -errno;
	*ret_step = JS_CAPS;
	if (syscall(SYS_capset, &hdr, data) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	if (data[0].effective | data[0].permitted | data[0].inheritable | data[1].effective |
	    data[1].permitted | data[1].inheritable)
		return -EPERM;
	if (getuid() != c->uid || geteuid() != c->uid || getgid() != c->uid || getegid() != c->uid)
		return -EPERM;
	*ret_step = JS_NNP;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static int load_filter(const struct filter_prog *f)
{
	struct sock_fprog prog = { .len = f->len, .filter = f->insns };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

/* ---- the parent's side: waiting, reading, killing -------------------------- */

struct reader {
	int fd;
	struct buf *b;
	size_t max;                 /* more than this: overflow */
	bool overflow;
	bool drop;                  /* past max: keep reading, drop it */
};

/* Reads until every reader is at EOF, in has been written, the deadline
 * or the cancel descriptor.  Returns 0, -ETIMEDOUT, -ECANCELED, -E2BIG
 * (a reader without drop went past its max) or -errno. */
static int pump(int *in_fd, const void *in, size_t in_len, struct reader *rd, size_t nrd,
		uint64_t deadline, int cancel_fd)
{
	size_t off = 0;

	if (*in_fd >= 0 && in_len == 0) {
		close(*in_fd);
		*in_fd = -1;
	}
	if (*in_fd >= 0)
		fcntl(*in_fd, F_SETFL, fcntl(*in_fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd pf[8];
		size_t n = 0, iin = SIZE_MAX, icancel = SIZE_MAX;
		uint64_t now = now_mono_ns();
		bool open = false;

		for (size_t i = 0; i < nrd; i++)
			if (rd[i].fd >= 0)
				open = true;
		if (!open)
			break;
		if (now >= deadline)
			return -ETIMEDOUT;
		for (size_t i = 0; i < nrd; i++)
			pf[n++] = (struct pollfd){ .fd = rd[i].fd, .events = POLLIN };
		if (*in_fd >= 0 && off < in_len) {
			iin = n;
			pf[n++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
		}
		if (cancel_fd >= 0) {
			icancel = n;
			pf[n++] = (struct pollfd){ .fd = cancel_fd, .events = POLLIN };
		}
		if (poll(pf, n, (int)((deadline - now) / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (icancel != SIZE_MAX && (pf[icancel].revents & (POLLIN | POLLHUP | POLLERR)))
			return -ECANCELED;
		if (iin != SIZE_MAX && (pf[iin].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(*in_fd, (const char *)in + off, in_len - off);

			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = in_len;   /* it stopped reading: its exit tells why */
			if (off == in_len) {
				close(*in_fd);
				*in_fd = -1;
			}
		}
		for (size_t i = 0; i < nrd; i++) {
			char tmp[65536];
			ssize_t got;

			if (rd[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(rd[i].fd, tmp, sizeof(tmp));
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				close(rd[i].fd);
				rd[i].fd = -1;
				continue;
			}
			if (rd[i].b->len + (size_t)got > rd[i].max) {
				size_t room = rd[i].max - rd[i].b->len;

				rd[i].overflow = true;
				if (!rd[i].drop)
					return -E2BIG;
				got = (ssize_t)room;
			}
			if (got > 0 && buf_add(rd[i].b, tmp, (size_t)got) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static void wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

static void status_fill(struct jail_status *st, int wstatus)
{
	st->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	st->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
}

static const char *signal_why(int sig)
{
	switch (sig) {
	case SIGSYS: return " (SIGSYS: a system call its seccomp filter forbids)";
	case SIGXCPU: return " (SIGXCPU: its CPU time limit)";
	case SIGXFSZ: return " (SIGXFSZ: its file size limit)";
	case SIGKILL: return " (SIGKILL: a limit)";
	case SIGSEGV: return " (SIGSEGV)";
	case SIGABRT: return " (SIGABRT)";
	default: return "";
	}
}

static int killed_err(const char *what, const struct jail_status *st, int r, char **ret_err)
{
	if (r == -ETIMEDOUT)
		return tg_fail(ret_err, -ETIMEDOUT, "%s: killed at its wall-clock limit of %llu ms", what,
			       (unsigned long long)(st->wall_ns / 1000000));
	if (r == -ECANCELED)
		return tg_fail(ret_err, -ECANCELED, "%s: stopped before it finished", what);
	if (st->signal)
		return tg_fail(ret_err, -EIO, "%s: killed by signal %d%s", what, st->signal,
			       signal_why(st->signal));
	return tg_fail(ret_err, r < 0 ? r : -EIO, "%s: %s", what, r < 0 ? strerror(-r) : "failed");
}

/* ---- jail_call: a function in a jailed fork ------------------------------------ */

struct call_head {
	uint32_t magic;
	int32_t kind;               /* 0: fn returned a; 1: setup failed at step a with errno b */
	int32_t a, b;
};
#define CALL_MAGIC 0x7467636au     /* "tgcj" */

static void write_all_fd(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static _Noreturn void call_child(const struct child_common *c, pid_t parent,
				 int out, const struct filter_prog *f,
				 int (*fn)(void *ctx, struct buf *out), void *ctx, size_t out_max)
{
	struct call_head h = { .magic = CALL_MAGIC, .kind = 1 };
	struct buf b = BUF_INIT(out_max);
	int step = JS_PDEATHSIG, r;
	int keep[1] = { out };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail_errno;
	setsid();
	step = JS_FDS;
	r = close_from(0, keep, 1, c->max_fd);
	if (r < 0)
		goto fail;
	step = JS_RLIMIT;
	r = set_limits(c);
	if (r < 0)
		goto fail;
	r = drop_privileges(c, &step);
	if (r < 0)
		goto fail;
	/* a change of uid clears the parent-death signal */
	step = JS_PDEATHSIG;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail_errno;
	step = JS_PARENT_GONE;
	if (getppid() != parent) {
		r = -ESRCH;
		goto fail;
	}
	step = JS_SECCOMP;
	r = load_filter(f);
	if (r < 0)
		goto fail;
	h.kind = 0;
	h.a = fn(ctx, &b);
	write_all_fd(out, &h, sizeof(h));
	write_all_fd(out, b.s, b.len);
	_exit(0);
fail_errno:
	r = -errno;
fail:
	h.a = step;
	h.b = -r;
	write_all_fd(out, &h, sizeof(h));
	_exit(JAIL_SETUP_EXIT);
}

static void common_init(const struct jail_opts *o, uint32_t uid, struct child_common *c)
{
	long m = sysconf(_SC_OPEN_MAX);

	c->uid = uid;
	c->lim = &o->lim;
#ifdef JAIL_ASAN
	c->set_as = false;   /* a fork of ours: its shadow memory is terabytes */
#else
	c->set_as = o->lim.mem_bytes > 0;
#endif
	c->max_fd = m > 0 && m < 65536 ? (int)m : 65536;
}

int jail_call(const struct jail_opts *o, int (*fn)(void *ctx, struct buf *out), void *ctx,
	      size_t out_max, struct buf *out, int *ret_code, struct jail_status *st,
	      char **ret_err)
{
	_cleanup_close_ int lockfd = -1;
	_cleanup_buf_ struct buf raw = BUF_INIT(out_max + sizeof(struct call_head));
	const struct filter_prog *f;
	struct child_common c;
	struct call_head h;
	struct reader rd;
	uint32_t uid = 0;
	uint64_t t0 = now_mono_ns();
	int p[2], wstatus = 0, r;
	pid_t pid, parent = getpid();

	memset(st, 0, sizeof(*st));
	st->exit_code = -1;
	if (!o || !OPTS_VALID(o, struct jail_opts))
		return tg_fail(ret_err, -EINVAL, "compile jail: bad options");
	if (o->mode == JAIL_OFF) {
		*ret_code = fn(ctx, out);
		st->exit_code = 0;
		return 0;
	}
	r = filter_get(F_CODEGEN, o->mode == JAIL_LOG, &f, ret_err);
	if (r < 0)
		return r;
	r = uid_acquire(o, &uid, &lockfd, ret_err);
	if (r < 0)
		return r;
	st->uid = uid;
	common_init(o, uid, &c);
	if (pipe2(p, O_CLOEXEC) < 0)
		return tg_fail(ret_err, -errno, "compile jail: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(p[0]);
		close(p[1]);
		return tg_fail(ret_err, r, "compile jail: fork: %s", strerror(-r));
	}
	if (pid == 0) {
		close(p[0]);
		call_child(&c, parent, p[1], f, fn, ctx, out_max);
	}
	close(p[1]);
	rd = (struct reader){ .fd = p[0], .b = &raw, .max = out_max + sizeof(struct call_head) };
	{
		int none = -1;

		r = pump(&none, NULL, 0, &rd, 1, t0 + o->lim.wall_ms * 1000000ull, o->cancel_fd);
	}
	if (r < 0)
		kill(pid, SIGKILL);
	if (rd.fd >= 0)
		close(rd.fd);
	wait_child(pid, &wstatus);
	st->wall_ns = now_mono_ns() - t0;
	status_fill(st, wstatus);
	st->timed_out = r == -ETIMEDOUT;
	st->cancelled = r == -ECANCELED;
	if (r == -ETIMEDOUT)
		st->wall_ns = o->lim.wall_ms * 1000000ull;
	if (r < 0 && r != -E2BIG)
		return killed_err("code generation", st, r, ret_err);
	if (r == -E2BIG)
		return tg_fail(ret_err, -E2BIG, "code generation: more than %zu bytes of output", out_max);
	if (raw.len < sizeof(h))
		return killed_err("code generation", st, -EIO, ret_err);
	memcpy(&h, raw.s, sizeof(h));
	if (h.magic != CALL_MAGIC)
		return tg_fail(ret_err, -EIO, "code generation: a malformed answer");
	if (h.kind == 1)
		return tg_fail(ret_err, h.b ? -h.b : -EPERM, "compile jail: %s: %s%s", step_name(h.a),
			       strerror(h.b ? h.b : EPERM),
			       " (" JAIL_ENV "=off runs without the jail, for debugging only)");
	if (st->signal || st->exit_code != 0)
		return killed_err("code generation", st, -EIO, ret_err);
	*ret_code = h.a;
	return buf_add(out, raw.s + sizeof(h), raw.len - sizeof(h));
}

/* ---- jail_exec: the children ------------------------------------------------------ */

struct exec_child {
	const struct jail_opts *o;
	const struct jail_exec_opts *x;
	const struct jail_mount *m;
	struct child_common c;
	const struct filter_prog *f_clang, *f_init;
	char *const *envp;
	int in, out, err, st;        /* the child's ends */
	int alive;                   /* read end of a pipe the parent holds open */
	bool ns;                     /* false: mode off */
};

static bool parent_alive(int alive)
{
	struct pollfd pf = { .fd = alive, .events = POLLIN };

	/* the parent never writes: POLLHUP means it is gone */
	return poll(&pf, 1, 0) == 0;
}

static _Noreturn void program_child(const struct exec_child *e)
{
	int r;

	/* stdin, stdout, stderr are already in place; only the status pipe
	 * (close-on-exec) is left besides them */
	r = load_filter(e->f_clang);
	if (r < 0) {
		report(e->st, JS_SECCOMP, -r);
		_exit(JAIL_SETUP_EXIT);
	}
	execve(e->x->path, (char *const *)e->x->argv, e->envp);
	report(e->st, JS_EXEC, errno);
	_exit(JAIL_SETUP_EXIT);
}

/* The child of clone(): in the namespaces, it builds the view, drops
 * everything, starts the program and stays as the namespace's init. */
static _Noreturn void exec_child(const struct exec_child *e)
{
	int step = JS_PDEATHSIG, r, keep[2], in, out, err;
	pid_t prog;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		r = -errno;
		goto fail;
	}
	step = JS_PARENT_GONE;
	if (!parent_alive(e->alive)) {
		r = -ESRCH;
		goto fail;
	}
	/* a session of its own: no terminal's ^C or hang-up reaches it (the
	 * caller's cancel_fd does), and without the namespaces (mode off) a
	 * process group the parent kills as a whole */
	setsid();
	if (e->ns) {
		oom_first();
		r = jail_mount_apply(e->m, &step);
		if (r < 0)
			goto fail;
		step = JS_HOSTNAME;
		if (sethostname(JAIL_HOSTNAME, sizeof(JAIL_HOSTNAME) - 1) < 0) {
			r = -errno;
			goto fail;
		}
	}
	step = JS_STDIO;
	/* above 2 first, so that no dup2 below overwrites another's source */
	in = fcntl(e->in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(e->out, F_DUPFD_CLOEXEC, 3);
	err = fcntl(e->err, F_DUPFD_CLOEXEC, 3);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
		r = -errno;
		goto fail;
	}
	step = JS_FDS;
	keep[0] = e->st < e->alive ? e->st : e->alive;
	keep[1] = e->st < e->alive ? e->alive : e->st;
	r = close_from(3, keep, 2, e->c.max_fd);
	if (r < 0)
		goto fail;
	if (e->ns) {
		step = JS_RLIMIT;
		r = set_limits(&e->c);
		if (r < 0)
			goto fail;
		r = drop_privileges(&e->c, &step);
		if (r < 0)
			goto fail;
		/* as the compile uid, whose 0700 scratch tmpfs it is: root
		 * holding only the DaemonSet's capabilities (no
		 * CAP_DAC_READ_SEARCH) may not enter it */
		step = JS_CHDIR;
		if (chdir("/tmp") < 0) {
			r = -errno;
			goto fail;
		}
		step = JS_PDEATHSIG;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
			r = -errno;
			goto fail;
		}
		step = JS_PARENT_GONE;
		if (!parent_alive(e->alive)) {
			r = -ESRCH;
			goto fail;
		}
	}
	close(e->alive);
	step = JS_FORK;
	prog = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	if (prog < 0) {
		r = -errno;
		goto fail;
	}
	if (prog == 0) {
		if (!e->ns)
			execve(e->x->path, (char *const *)e->x->argv, e->envp);
		else
			program_child(e);
		report(e->st, JS_EXEC, errno);
		_exit(JAIL_SETUP_EXIT);
	}
	close(0);
	close(1);
	close(2);
	if (e->ns) {
		r = load_filter(e->f_init);
		if (r < 0) {
			kill(prog, SIGKILL);
			step = JS_SECCOMP;
			goto fail;
		}
	}
	for (;;) {
		int ws;
		pid_t w = wait4(-1, &ws, 0, NULL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == prog) {
			/* its exit ends the namespace: whatever it left is killed */
			report(e->st, JS_DONE, ws);
			_exit(0);
		}
		if (w < 0)
			_exit(JAIL_SETUP_EXIT);
	}
fail:
	report(e->st, step, -r);
	_exit(JAIL_SETUP_EXIT);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* Feeds x->in to the child and reads its outputs (pump()) with SIGPIPE
 * blocked: a closed stdin is EPIPE here, not a signal.  Closes in[]. */
static int pump_nopipe(int in[2], const struct jail_exec_opts *x, struct reader *rd, uint64_t deadline,
		       int cancel_fd)
{
	struct timespec zero = { 0 };
	sigset_t pipe_set, old;
	int kr;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	kr = pump(&in[1], x->in, x->in_len, rd, 3, deadline, cancel_fd);
	close_pair(in);
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return kr;
}

/* The child's status records (8 bytes each): a setup failure (an error
 * naming the step or the mount), or the program's wait status (into st). */
static int status_records(const struct buf *stb, const struct jail_mount *m, struct jail_status *st,
			  char **ret_err)
{
	for (size_t off = 0; off + 8 <= stb->len; off += 8) {
		int32_t rec[2];

		memcpy(rec, stb->s + off, sizeof(rec));
		if (rec[0] == JS_DONE) {
			status_fill(st, rec[1]);
			continue;
		}
		if (rec[0] >= JS_OP && m && (size_t)(rec[0] - JS_OP) < m->n) {
			const struct jail_mount_op *mo = &m->ops[rec[0] - JS_OP];

			return tg_fail(ret_err, rec[1] ? -rec[1] : -EIO, "compile jail: %s \"%s\": %s%s",
				       mo->k == JM_BIND ? "bind-mounting" : mo->k == JM_SYMLINK ? "linking" : "creating",
				       mo->path, strerror(rec[1]),
				       " (" JAIL_ENV "=off runs without the jail, for debugging only)");
		}
		return tg_fail(ret_err, rec[1] ? -rec[1] : -EIO, "compile jail: %s: %s%s", step_name(rec[0]),
			       strerror(rec[1]), rec[0] == JS_EXEC ? "" :
			       " (" JAIL_ENV "=off runs without the jail, for debugging only)");
	}
	return 0;
}

int jail_exec(const struct jail_opts *o, const struct jail_exec_opts *x, struct buf *out,
	      struct buf *diag, struct jail_status *st, char **ret_err)
{
	static char *const envp[] = {
		(char *)"TMPDIR=/tmp", (char *)"LC_ALL=C", (char *)"LLVM_DISABLE_SYMBOLIZATION=1", NULL,
	};
	_cleanup_close_ int lockfd = -1;
	struct jail_mount *m = NULL;
	struct exec_child e = { .o = o, .x = x, .envp = envp };
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 }, sp[2] = { -1, -1 },
	    ap[2] = { -1, -1 };
	_cleanup_buf_ struct buf stb = BUF_INIT(4096);
	struct reader rd[3];
	uint64_t t0 = now_mono_ns();
	uint32_t uid = 0;
	int wstatus = 0, r, kr;
	unsigned long flags;
	const char *name;
	pid_t pid;

	memset(st, 0, sizeof(*st));
	st->exit_code = -1;
	if (!o || !OPTS_VALID(o, struct jail_opts) || !x || !OPTS_VALID(x, struct jail_exec_opts) || !x->path || x->path[0] != '/' ||
	    !x->argv || !x->argv[0])
		return tg_fail(ret_err, -EINVAL, "compile jail: bad options");
	name = strrchr(x->argv[0], '/') ? strrchr(x->argv[0], '/') + 1 : x->argv[0];
	e.ns = o->mode != JAIL_OFF;
	if (e.ns) {
		r = filter_get(F_CLANG, o->mode == JAIL_LOG, &e.f_clang, ret_err);
		if (r >= 0)
			r = filter_get(F_INIT, o->mode == JAIL_LOG, &e.f_init, ret_err);
		if (r < 0)
			return r;
		r = uid_acquire(o, &uid, &lockfd, ret_err);
		if (r < 0)
			return r;
		st->uid = uid;
		m = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		r = jail_mount_plan(m, x, uid, &o->lim, ret_err);
		if (r < 0)
			goto out;
		e.m = m;
	}
	common_init(o, uid, &e.c);
	/* what runs here is exec'd afresh, sanitizer build or not */
	e.c.set_as = o->lim.mem_bytes > 0;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    pipe2(sp, O_CLOEXEC) < 0 || pipe2(ap, O_CLOEXEC) < 0) {
		r = tg_fail(ret_err, -errno, "compile jail: pipe: %s", strerror(errno));
		goto out;
	}
	e.in = in[0];
	e.out = op[1];
	e.err = ep[1];
	e.st = sp[1];
	e.alive = ap[0];
	flags = SIGCHLD;
	if (e.ns)
		flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET |
			 CLONE_NEWCGROUP;
	pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		r = tg_fail(ret_err, -errno, "compile jail: clone: %s%s", strerror(errno),
			    e.ns ? " (" JAIL_ENV "=off runs without the jail, for debugging only)" : "");
		goto out;
	}
	if (pid == 0)
		exec_child(&e);
	close(in[0]);
	in[0] = -1;
	close(op[1]);
	op[1] = -1;
	close(ep[1]);
	ep[1] = -1;
	close(sp[1]);
	sp[1] = -1;
	close(ap[0]);
	ap[0] = -1;
	rd[0] = (struct reader){ .fd = op[0], .b = out, .max = x->out_max };
	rd[1] = (struct reader){ .fd = ep[0], .b = diag, .max = x->diag_max, .drop = true };
	rd[2] = (struct reader){ .fd = sp[0], .b = &stb, .max = 4096, .drop = true };
	op[0] = ep[0] = sp[0] = -1;
	kr = pump_nopipe(in, x, rd, t0 + o->lim.wall_ms * 1000000ull, o->cancel_fd);
	if (kr < 0) {
		/* the namespace's init: the kernel kills the rest with it */
		kill(pid, SIGKILL);
		if (!e.ns)
			kill(-pid, SIGKILL);
	}
	for (int i = 0; i < 3; i++)
		if (rd[i].fd >= 0)
			close(rd[i].fd);
	close_pair(ap);   /* the child's parent_alive() now sees POLLHUP */
	wait_child(pid, &wstatus);
	if (!e.ns)
		kill(-pid, SIGKILL);   /* anything the program left in its group */
	st->wall_ns = now_mono_ns() - t0;
	st->timed_out = kr == -ETIMEDOUT;
	st->cancelled = kr == -ECANCELED;
	if (kr == -ETIMEDOUT)
		st->wall_ns = o->lim.wall_ms * 1000000ull;
	r = status_records(&stb, m, st, ret_err);
	if (r < 0)
		goto out;
	if (kr == -E2BIG) {
		r = tg_fail(ret_err, -E2BIG, "%s: more than %zu bytes of output", name, x->out_max);
		goto out;
	}
	if (kr < 0) {
		r = killed_err(name, st, kr, ret_err);
		goto out;
	}
	if (st->signal) {
		r = killed_err(name, st, -EIO, ret_err);
		goto out;
	}
	if (st->exit_code < 0) {
		/* the init died without a word: killed from outside */
		status_fill(st, wstatus);
		r = killed_err(name, st, -EIO, ret_err);
		goto out;
	}
	r = 0;
out:
	close_pair(in);
	close_pair(op);
	close_pair(ep);
	close_pair(sp);
	close_pair(ap);
	if (m) {
		jail_mount_release(m);
		free(m);
	}
	return r;
}
