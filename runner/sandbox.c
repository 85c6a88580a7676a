// SPDX-License-Identifier: Apache-2.0
/*
 * The session child's seccomp filter: what a running session still needs
 * once its programs are attached, and nothing else.  See sandbox.h and
 * docs/internals/runner.md ("Sandbox").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <seccomp.h>

#include "lib/cleanup-seccomp.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "runner/sandbox.h"
#include "lib/banned.h"

/* Flags of open()/openat() that could change a file: any of them denies.
 * 020000000 is O_TMPFILE without the O_DIRECTORY bit it includes (glibc's
 * __O_TMPFILE), so opendir() stays allowed. */
#define SANDBOX_OPEN_WRITE ((uint64_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 020000000))

/* One rule: the system call (by name, so messages say which), the action
 * when its argument conditions (ANDed) hold.  Several rules of one call are
 * ORed.  A call named in no rule, or whose every rule's conditions fail,
 * gets the default action. */
struct sandbox_rule {
	const char *name;
	unsigned nargs;
	struct scmp_arg_cmp args[2];
	int errno_ret;          /* 0: allow; else fail with this errno */
};

#define ALLOW(n)                     { .name = (n) }
#define ALLOW_IF(n, a)               { .name = (n), .nargs = 1, .args = { a } }
#define ALLOW_IF2(n, a, b)           { .name = (n), .nargs = 2, .args = { a, b } }
#define BPF_CMD(c)                   ALLOW_IF("bpf", SCMP_A0(SCMP_CMP_EQ, (uint64_t)(c)))

static const struct sandbox_rule sandbox_rules[] = {
	/* bpf(): only the commands a running session uses.  Maps it holds:
	 * lookup and iterate (output, map records), update and delete
	 * (clear(), zero(), delete()); BEGIN, END and interval programs run
	 * by the runner itself; the programs' run time (cpu budget).  No
	 * PROG_LOAD, MAP_CREATE, LINK_CREATE, RAW_TRACEPOINT_OPEN,
	 * BPF_PROG_ATTACH, OBJ_GET/PIN, *_GET_FD_BY_ID, ENABLE_STATS... */
	BPF_CMD(BPF_MAP_LOOKUP_ELEM),
	BPF_CMD(BPF_MAP_UPDATE_ELEM),
	BPF_CMD(BPF_MAP_DELETE_ELEM),
	BPF_CMD(BPF_MAP_GET_NEXT_KEY),
	BPF_CMD(BPF_MAP_LOOKUP_BATCH),
	BPF_CMD(BPF_PROG_TEST_RUN),
	BPF_CMD(BPF_OBJ_GET_INFO_BY_FD),

	/* I/O on descriptors the child already holds: the TLS socket, the
	 * stop pipe, the ring buffer's epoll fd, the timerfds, stderr. */
	ALLOW("read"), ALLOW("readv"), ALLOW("pread64"),
	ALLOW("write"), ALLOW("writev"),
	ALLOW("sendmsg"), ALLOW("recvmsg"), ALLOW("recvfrom"),
	ALLOW_IF("sendto", SCMP_A4(SCMP_CMP_EQ, 0)),   /* no destination address */
	ALLOW("poll"), ALLOW("ppoll"), ALLOW("epoll_wait"), ALLOW("epoll_pwait"),
	ALLOW("timerfd_settime"), ALLOW("timerfd_gettime"),
	ALLOW("lseek"), ALLOW("close"),
	ALLOW_IF("fcntl", SCMP_A1(SCMP_CMP_EQ, F_GETFD)),
	ALLOW_IF("fcntl", SCMP_A1(SCMP_CMP_EQ, F_SETFD)),
	ALLOW_IF("fcntl", SCMP_A1(SCMP_CMP_EQ, F_GETFL)),
	ALLOW_IF("fcntl", SCMP_A1(SCMP_CMP_EQ, F_SETFL)),
	/* libbpf's bpf_link__destroy() disables a perf-event link's event
	 * before closing it (tracepoints, uprobes, perf events). */
	ALLOW_IF("ioctl", SCMP_A1(SCMP_CMP_EQ, PERF_EVENT_IOC_DISABLE)),

	/* Reading files: /proc/kallsyms, /proc/PID/maps, ELF files for usym
	 * and ustack, cat(), /etc/localtime, /etc/passwd, cgroup_path's
	 * walk.  Read-only: any flag that could write denies. */
	ALLOW_IF("openat", SCMP_A2(SCMP_CMP_MASKED_EQ, SANDBOX_OPEN_WRITE, 0)),
	ALLOW_IF("open", SCMP_A1(SCMP_CMP_MASKED_EQ, SANDBOX_OPEN_WRITE, 0)),
	ALLOW("fstat"), ALLOW("stat"), ALLOW("lstat"), ALLOW("newfstatat"), ALLOW("statx"),
	ALLOW("readlink"), ALLOW("readlinkat"), ALLOW("getdents64"),
	ALLOW("access"), ALLOW("faccessat"), ALLOW("faccessat2"),

	/* Memory (malloc, libelf's mappings, the ring buffer's unmapping).
	 * No executable mapping at all: `username` reads /etc/passwd itself
	 * (runner/values.c), so glibc never loads an NSS module here. */
	ALLOW_IF("mmap", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	ALLOW_IF("mprotect", SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	ALLOW("munmap"), ALLOW("mremap"), ALLOW("brk"), ALLOW("madvise"),

	/* Threads, time, signals, identity.  A thread started just before
	 * the filter (the link-destroying pool) registers its rseq area and
	 * robust list first thing, maybe after the filter is in: glibc
	 * aborts if rseq fails, so both are allowed (each acts on the
	 * calling thread only); without them 5 of 40 sessions died of
	 * SIGSYS (syscall 334) after their end, some before it reached the
	 * gateway. */
	ALLOW("rseq"), ALLOW("set_robust_list"),
	ALLOW("futex"), ALLOW("sched_yield"),
	ALLOW("clock_gettime"), ALLOW("clock_getres"), ALLOW("gettimeofday"),
	ALLOW("clock_nanosleep"), ALLOW("nanosleep"),
	ALLOW("rt_sigreturn"), ALLOW("rt_sigprocmask"), ALLOW("rt_sigaction"),
	ALLOW("sigaltstack"), ALLOW("restart_syscall"),
	ALLOW("getpid"), ALLOW("gettid"),
	ALLOW("getuid"), ALLOW("geteuid"), ALLOW("getgid"), ALLOW("getegid"),
	ALLOW("getrandom"),
	ALLOW("exit"), ALLOW("exit_group"),
};

int sandbox_mode_parse(const char *value, bool *ret_log_only, char **ret_err)
{
	if (!value || !value[0] || strcmp(value, "enforce") == 0) {
		*ret_log_only = false;
		return 0;
	}
	if (strcmp(value, "log") == 0) {
		*ret_log_only = true;
		return 0;
	}
	return tg_fail(ret_err, -EINVAL, "%s \"%.64s\": neither \"enforce\" nor \"log\"", SANDBOX_ENV, value);
}

static int add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *rule, char **ret_err)
{
	int nr = seccomp_syscall_resolve_name(rule->name);
	uint32_t action = rule->errno_ret ? SCMP_ACT_ERRNO((uint32_t)rule->errno_ret) : SCMP_ACT_ALLOW;
	int r;

	/* a call this architecture does not have (open, stat and poll exist
	 * only as *at/ppoll on some) needs no rule */
	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;
	r = seccomp_rule_add_array(ctx, action, nr, rule->nargs, rule->args);
	if (r < 0)
		return tg_fail(ret_err, r, "seccomp: rule for \"%s\": %s", rule->name, strerror(-r));
	return 0;
}

/* Signals to this process only: abort() and raise() end in tgkill(). */
static int add_self_signal(scmp_filter_ctx ctx, char **ret_err)
{
	pid_t pid = getpid();
	struct sandbox_rule rules[] = {
		ALLOW_IF("kill", SCMP_A0(SCMP_CMP_EQ, (uint64_t)pid)),
		ALLOW_IF("tgkill", SCMP_A0(SCMP_CMP_EQ, (uint64_t)pid)),
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		int r = add_rule(ctx, &rules[i], ret_err);

		if (r < 0)
			return r;
	}
	return 0;
}

int sandbox_apply(const struct sandbox_opts *opts, char **ret_err)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
	uint32_t deny;
	int r;

	if (!opts || !OPTS_VALID(opts, struct sandbox_opts))
		return tg_fail(ret_err, -EINVAL, "sandbox: bad options");
	deny = opts->log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	ctx = seccomp_init(deny);
	if (!ctx)
		return tg_fail(ret_err, -ENOMEM, "seccomp: cannot create a filter");
	/* every thread (the session's hang-up watcher is already running),
	 * no_new_privs, and a foreign architecture's calls kill */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
		return tg_fail(ret_err, r, "seccomp: filter attributes: %s", strerror(-r));
	for (size_t i = 0; i < sizeof(sandbox_rules) / sizeof(sandbox_rules[0]); i++) {
		r = add_rule(ctx, &sandbox_rules[i], ret_err);
		if (r < 0)
			return r;
	}
	r = add_self_signal(ctx, ret_err);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	if (r < 0)
		return tg_fail(ret_err, r, "seccomp: cannot install the filter: %s", strerror(-r));
	return 0;
}
