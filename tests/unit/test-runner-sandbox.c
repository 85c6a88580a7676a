// SPDX-License-Identifier: Apache-2.0
/* The session child's seccomp filter (runner/sandbox.h), for real: each
 * case forks a child that installs the filter and then makes system calls.
 * What a running session needs (map access on maps it holds, END and
 * interval programs run with BPF_PROG_TEST_RUN, run-time stats, I/O on its
 * descriptors, read-only files, symbol lookups, NSS) works; what it must
 * not do (load a program, open a perf event, open a file for writing,
 * execute, trace, open a socket, map new executable memory, fork) kills
 * the child with SIGSYS.  The same forbidden calls succeed in a child
 * without the filter, so a pass is the filter's doing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <linux/perf_event.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "runner/sandbox.h"

/* ---- children ------------------------------------------------------------ */

enum mode { NO_FILTER, ENFORCE, LOG_ONLY };

/* What the child reports when a step fails: its name, through a pipe. */
static int report_fd = -1;

__attribute__((format(printf, 1, 2)))
static int step_failed(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0 && write(report_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0) {
		/* the exit code still says it failed */
	}
	return -1;
}

/* Forks; the child installs the filter (mode), runs fn and exits 0 when fn
 * returned 0, 1 otherwise (100 when the filter did not install).  Returns
 * the wait status; *msg gets what the child reported. */
static int run_child(enum mode mode, int (*fn)(void *), void *arg, char *msg, size_t msgsz)
{
	int p[2], status = 0;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_opts so = { .sz = sizeof(so), .log_only = mode == LOG_ONLY };
		char *err = NULL;

		close(p[0]);
		report_fd = p[1];
		if (mode != NO_FILTER && sandbox_apply(&so, &err) < 0) {
			step_failed("sandbox_apply: %s", err ? err : "?");
			_exit(100);
		}
		/* _exit: no atexit handlers (LeakSanitizer's would ptrace) */
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], msg, msgsz - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_exit0(int status, const char *msg, const char *what)
{
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d (%s)", what, WTERMSIG(status), msg);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: exited %d: %s", what, WEXITSTATUS(status), msg);
}

static void expect_sigsys(int status, const char *msg, const char *what)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d, not SIGSYS (%s)", what, WTERMSIG(status), msg);
	fail_msg("%s: not killed, exited %d (%s)", what, WEXITSTATUS(status), msg);
}

/* ---- BPF objects made before the filter, as the engine makes them -------- */

struct fixture {
	int map;           /* hash u64 -> u64 */
	int frozen;        /* hash, frozen like tg_scope */
	int prog;          /* BPF_PROG_TYPE_SYSCALL, sleepable: r0 = 7; exit */
	int perf;          /* a software perf event, disabled */
	int pipe[2];
	int tfd;           /* timerfd */
	int epfd;          /* epoll over the timerfd */
	int evpipe[2];     /* for the thread */
	char tmp[64];      /* a file to try writing */
};

static int load_syscall_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 7 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .prog_flags = BPF_F_SLEEPABLE);

	return bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "tg_sandbox_t", "GPL", insns, 2, &po);
}

static int open_perf(void)
{
	struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
				     .config = PERF_COUNT_SW_CPU_CLOCK, .disabled = 1 };

	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static int setup(void **state)
{
	static struct fixture f;
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t k = 1, v = 1;
	int tmpfd;

	memset(&f, 0, sizeof(f));
	f.map = bpf_map_create(BPF_MAP_TYPE_HASH, "tg_sb_map", 8, 8, 64, NULL);
	f.frozen = bpf_map_create(BPF_MAP_TYPE_HASH, "tg_sb_scope", 8, 8, 4, NULL);
	f.prog = load_syscall_prog();
	f.perf = open_perf();
	if (f.map < 0 || f.frozen < 0 || f.prog < 0 || f.perf < 0) {
		fprintf(stderr, "# fixture: map %d frozen %d prog %d perf %d: %s\n", f.map, f.frozen, f.prog, f.perf,
			strerror(errno));
		return -1;
	}
	if (bpf_map_update_elem(f.frozen, &k, &v, BPF_ANY) < 0 || bpf_map_freeze(f.frozen) < 0)
		return -1;
	if (pipe2(f.pipe, O_CLOEXEC) < 0 || pipe2(f.evpipe, O_CLOEXEC) < 0)
		return -1;
	f.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	f.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (f.tfd < 0 || f.epfd < 0 || epoll_ctl(f.epfd, EPOLL_CTL_ADD, f.tfd, &ev) < 0)
		return -1;
	snprintf(f.tmp, sizeof(f.tmp), "/tmp/tg-sandbox-XXXXXX");
	tmpfd = mkstemp(f.tmp);
	if (tmpfd < 0)
		return -1;
	close(tmpfd);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	unlink(f->tmp);
	close(f->map);
	close(f->frozen);
	close(f->prog);
	close(f->perf);
	close(f->pipe[0]);
	close(f->pipe[1]);
	close(f->evpipe[0]);
	close(f->evpipe[1]);
	close(f->tfd);
	close(f->epfd);
	return 0;
}

/* ---- what a running session does: all of it must work ------------------- */

static void *poller(void *arg)
{
	struct fixture *f = arg;
	struct pollfd p = { .fd = f->evpipe[0], .events = POLLIN };
	char c;

	/* started before the filter; its later calls are filtered too (TSYNC) */
	if (poll(&p, 1, 5000) == 1 && read(f->evpipe[0], &c, 1) == 1 && c == 'x')
		(void)syscall(SYS_getppid);      /* not allowed: kills the process */
	return NULL;
}

static int session_calls(void *arg)
{
	struct fixture *f = arg;
	uint64_t k = 2, v = 42, got = 0, next = 0, keys[8], vals[8];
	uint32_t count = 8;
	LIBBPF_OPTS(bpf_test_run_opts, t);
	struct bpf_prog_info info = { 0 };
	uint32_t ilen = sizeof(info);
	struct itimerspec its = { .it_value = { .tv_nsec = 1000000 } };
	struct epoll_event ev;
	char line[256], link[256], c = 'a';
	struct stat st;
	struct timespec ts;
	struct tm tm;
	time_t now = time(NULL);
	struct pollfd p = { .fd = f->tfd, .events = POLLIN };
	DIR *d;
	int fd, n;
	void *big;

	/* maps: update, lookup, iterate, batch, delete */
	if (bpf_map_update_elem(f->map, &k, &v, BPF_ANY) < 0)
		return step_failed("map update: %s", strerror(errno));
	if (bpf_map_lookup_elem(f->map, &k, &got) < 0 || got != 42)
		return step_failed("map lookup: %s", strerror(errno));
	if (bpf_map_get_next_key(f->map, NULL, &next) < 0 || next != 2)
		return step_failed("map next key: %s", strerror(errno));
	n = bpf_map_lookup_batch(f->map, NULL, &next, keys, vals, &count, NULL);
	if ((n < 0 && errno != ENOENT) || count != 1 || keys[0] != 2 || vals[0] != 42)
		return step_failed("map lookup batch: %d %s count %u", n, strerror(errno), count);
	if (bpf_map_delete_elem(f->map, &k) < 0)
		return step_failed("map delete: %s", strerror(errno));
	/* the frozen scope map stays read-only: an error, not a kill */
	k = 9;
	if (bpf_map_update_elem(f->frozen, &k, &v, BPF_ANY) == 0 || errno != EPERM)
		return step_failed("frozen map update: not refused with EPERM (%s)", strerror(errno));
	k = 1;
	if (bpf_map_lookup_elem(f->frozen, &k, &got) < 0 || got != 1)
		return step_failed("frozen map lookup: %s", strerror(errno));
	/* END / interval programs; run-time stats */
	if (bpf_prog_test_run_opts(f->prog, &t) < 0 || t.retval != 7)
		return step_failed("prog test run: %s (retval %u)", strerror(errno), t.retval);
	if (bpf_obj_get_info_by_fd(f->prog, &info, &ilen) < 0)
		return step_failed("obj get info: %s", strerror(errno));
	/* a perf-event link's teardown */
	if (ioctl(f->perf, PERF_EVENT_IOC_DISABLE, 0) < 0)
		return step_failed("ioctl perf disable: %s", strerror(errno));
	/* I/O on descriptors held: pipe, timerfd, epoll, poll */
	if (write(f->pipe[1], &c, 1) != 1 || read(f->pipe[0], &c, 1) != 1)
		return step_failed("pipe: %s", strerror(errno));
	if (timerfd_settime(f->tfd, 0, &its, NULL) < 0 || poll(&p, 1, 2000) != 1 ||
	    epoll_wait(f->epfd, &ev, 1, 2000) != 1)
		return step_failed("timerfd/poll/epoll: %s", strerror(errno));
	if (read(f->tfd, &got, 8) != 8 || got < 1)
		return step_failed("timerfd read: %s", strerror(errno));
	/* read-only files: symbols, /proc, directories, links */
	fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, line, sizeof(line)) <= 0 || fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    pread(fd, line, 16, 0) != 16)
		return step_failed("/proc/kallsyms: %s", strerror(errno));
	close(fd);
	fd = openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || read(fd, line, sizeof(line)) <= 0)
		return step_failed("/proc/self/maps: %s", strerror(errno));
	close(fd);
	if (stat("/proc/self/exe", &st) < 0 || lstat("/proc/self/exe", &st) < 0 ||
	    readlink("/proc/self/exe", link, sizeof(link)) <= 0)
		return step_failed("stat/readlink: %s", strerror(errno));
	d = opendir("/proc/self/fd");
	if (!d || !readdir(d))
		return step_failed("opendir: %s", strerror(errno));
	closedir(d);
	/* memory: small and large allocations, reallocation */
	big = malloc(8u << 20);
	if (!big)
		return step_failed("malloc 8 MiB");
	memset(big, 1, 8u << 20);
	big = realloc(big, 16u << 20);
	if (!big)
		return step_failed("realloc 16 MiB");
	free(big);
	/* time, randomness, names */
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0 || !localtime_r(&now, &tm) ||
	    getrandom(&got, sizeof(got), 0) != sizeof(got))
		return step_failed("time/random: %s", strerror(errno));
	/* names: `username` reads /etc/passwd itself (runner/values.c) */
	{
		int pfd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		char b[64];

		if (pfd < 0 || read(pfd, b, sizeof(b)) <= 0)
			return step_failed("read /etc/passwd: %s", strerror(errno));
		close(pfd);
	}
	if (getpid() <= 0 || syscall(SYS_gettid) <= 0)
		return step_failed("getpid");
	return 0;
}

static void allowed_calls(void **state)
{
	char msg[256];
	int st = run_child(ENFORCE, session_calls, *state, msg, sizeof(msg));

	expect_exit0(st, msg, "a session's calls under the filter");
}

/* A thread that was running before the filter is filtered too (TSYNC). */
static void other_thread_filtered(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_opts so = { .sz = sizeof(so) };
		pthread_t th;
		char *err = NULL, c = 'x';

		if (pthread_create(&th, NULL, poller, f) != 0)
			_exit(2);
		if (sandbox_apply(&so, &err) < 0)
			_exit(100);
		/* the thread makes the forbidden call; this one waits */
		if (write(f->evpipe[1], &c, 1) != 1)
			_exit(3);
		pthread_join(th, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	expect_sigsys(status, "", "a forbidden call on a thread started before the filter");
}

/* ---- what it must not do: each kills ------------------------------------- */

struct forbidden {
	const char *what;
	int (*fn)(void *);
	bool returns_unfiltered;    /* the control: without the filter the child gets past the call (most succeed) */
};

static int f_prog_load(void *arg)
{
	int fd = load_syscall_prog();

	(void)arg;
	return fd >= 0 ? 0 : step_failed("prog load: %s", strerror(errno));
}

static int f_map_create(void *arg)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tg_sb_new", 4, 8, 1, NULL);

	(void)arg;
	return fd >= 0 ? 0 : step_failed("map create: %s", strerror(errno));
}

static int f_raw_tp_open(void *arg)
{
	(void)arg;
	/* fails without a program, but must never reach the kernel */
	(void)bpf_raw_tracepoint_open("sys_enter", -1);
	return 0;
}

static int f_link_create(void *arg)
{
	struct fixture *f = arg;

	(void)bpf_link_create(f->prog, f->perf, BPF_PERF_EVENT, NULL);
	return 0;
}

static int f_enable_stats(void *arg)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	(void)arg;
	return fd >= 0 ? 0 : step_failed("enable stats: %s", strerror(errno));
}

static int f_perf_event_open(void *arg)
{
	(void)arg;
	return open_perf() >= 0 ? 0 : step_failed("perf_event_open: %s", strerror(errno));
}

static int f_open_wronly(void *arg)
{
	struct fixture *f = arg;

	return openat(AT_FDCWD, f->tmp, O_WRONLY | O_CLOEXEC) >= 0 ? 0 : step_failed("openat: %s", strerror(errno));
}

static int f_open_rdwr(void *arg)
{
	struct fixture *f = arg;

	return open(f->tmp, O_RDWR | O_CLOEXEC) >= 0 ? 0 : step_failed("open: %s", strerror(errno));
}

static int f_open_creat(void *arg)
{
	struct fixture *f = arg;
	char path[80];

	snprintf(path, sizeof(path), "%s.new", f->tmp);
	/* O_RDONLY | O_CREAT still creates */
	if (openat(AT_FDCWD, path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600) < 0)
		return step_failed("openat O_CREAT: %s", strerror(errno));
	unlink(path);
	return 0;
}

static int f_execve(void *arg)
{
	char *argv[] = { (char *)"/bin/true", NULL }, *envp[] = { NULL };

	(void)arg;
	execve("/bin/true", argv, envp);
	return step_failed("execve: %s", strerror(errno));
}

static int f_ptrace(void *arg)
{
	(void)arg;
	/* PTRACE_TRACEME succeeds for a child of the test */
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : step_failed("ptrace: %s", strerror(errno));
}

static int f_socket_inet(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : step_failed("socket: %s", strerror(errno));
}

static int f_socket_unix(void *arg)
{
	(void)arg;
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : step_failed("socket: %s", strerror(errno));
}

static int f_socket_netlink(void *arg)
{
	(void)arg;
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 ? 0 : step_failed("socket: %s", strerror(errno));
}

static int f_mmap_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	return p != MAP_FAILED ? 0 : step_failed("mmap: %s", strerror(errno));
}

static int f_mprotect_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p == MAP_FAILED)
		return step_failed("mmap: %s", strerror(errno));
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : step_failed("mprotect: %s", strerror(errno));
}

static int f_fork(void *arg)
{
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(0);
	return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : step_failed("fork: %s", strerror(errno));
}

static int f_kill_other(void *arg)
{
	(void)arg;
	/* signal 0 to the parent: harmless, and still refused */
	return kill(getppid(), 0) == 0 ? 0 : step_failed("kill: %s", strerror(errno));
}

static int f_ioctl_other(void *arg)
{
	struct fixture *f = arg;

	return ioctl(f->perf, PERF_EVENT_IOC_ENABLE, 0) == 0 ? 0 : step_failed("ioctl: %s", strerror(errno));
}

static int f_memfd(void *arg)
{
	(void)arg;
	return syscall(SYS_memfd_create, "tg", 0) >= 0 ? 0 : step_failed("memfd_create: %s", strerror(errno));
}

static int f_unshare(void *arg)
{
	(void)arg;
	return unshare(0) == 0 ? 0 : step_failed("unshare: %s", strerror(errno));
}

static int f_openat2(void *arg)
{
	struct { uint64_t flags, mode, resolve; } how = { .flags = O_RDONLY | O_CLOEXEC };

	(void)arg;
	/* read-only, but its flags are behind a pointer the filter cannot read */
	return syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", &how, sizeof(how)) >= 0 ? 0 :
	       step_failed("openat2: %s", strerror(errno));
}

static int f_execveat(void *arg)
{
	char *argv[] = { (char *)"/bin/true", NULL }, *envp[] = { NULL };

	(void)arg;
	syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
	return step_failed("execveat: %s", strerror(errno));
}

static int f_connect(void *arg)
{
	struct sockaddr_un { sa_family_t f; char p[108]; } sa = { .f = AF_UNIX, .p = "/run/nscd/socket" };

	(void)arg;
	(void)connect(-1, (struct sockaddr *)&sa, sizeof(sa));   /* EBADF unfiltered */
	return 0;
}

static int f_sendto_addr(void *arg)
{
	struct fixture *f = arg;
	struct sockaddr_in { sa_family_t f; uint16_t port; uint32_t addr; char z[8]; } sa = { .f = AF_INET };

	(void)sendto(f->pipe[1], "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));   /* ENOTSOCK unfiltered */
	return 0;
}

static const struct forbidden forbidden_calls[] = {
	{ "bpf(BPF_PROG_LOAD)", f_prog_load, true },
	{ "bpf(BPF_MAP_CREATE)", f_map_create, true },
	{ "bpf(BPF_RAW_TRACEPOINT_OPEN)", f_raw_tp_open, true },
	{ "bpf(BPF_LINK_CREATE)", f_link_create, true },
	{ "bpf(BPF_ENABLE_STATS)", f_enable_stats, true },
	{ "perf_event_open", f_perf_event_open, true },
	{ "openat(O_WRONLY)", f_open_wronly, true },
	{ "open(O_RDWR)", f_open_rdwr, true },
	{ "openat(O_RDONLY|O_CREAT)", f_open_creat, true },
	{ "execve", f_execve, true },        /* /bin/true exits 0 without the filter */
	{ "ptrace(PTRACE_TRACEME)", f_ptrace, true },
	{ "socket(AF_INET)", f_socket_inet, true },
	{ "socket(AF_NETLINK)", f_socket_netlink, true },
	{ "socket(AF_UNIX)", f_socket_unix, true },
	{ "mmap(PROT_EXEC, anonymous)", f_mmap_exec, true },
	{ "mprotect(PROT_EXEC)", f_mprotect_exec, true },
	{ "fork", f_fork, true },
	{ "kill(another process)", f_kill_other, true },
	{ "ioctl(PERF_EVENT_IOC_ENABLE)", f_ioctl_other, true },
	{ "memfd_create", f_memfd, true },
	{ "unshare", f_unshare, true },
	{ "openat2 (even read-only)", f_openat2, true },
	{ "execveat", f_execveat, true },
	{ "connect", f_connect, true },
	{ "sendto with an address", f_sendto_addr, true },
};

static void forbidden_kill(void **state)
{
	for (size_t i = 0; i < sizeof(forbidden_calls) / sizeof(forbidden_calls[0]); i++) {
		const struct forbidden *fc = &forbidden_calls[i];
		char msg[256];
		int st;

		st = run_child(ENFORCE, fc->fn, *state, msg, sizeof(msg));
		expect_sigsys(st, msg, fc->what);
		/* the control: the same call is allowed without the filter */
		st = run_child(NO_FILTER, fc->fn, *state, msg, sizeof(msg));
		if (fc->returns_unfiltered)
			expect_exit0(st, msg, fc->what);
	}
}

/* Log-only mode lets a forbidden call through (and the kernel logs it). */
static int getppid_call(void *arg)
{
	(void)arg;
	return syscall(SYS_getppid) > 0 ? 0 : step_failed("getppid: %s", strerror(errno));
}

static void log_only_mode(void **state)
{
	char msg[256];

	(void)state;
	expect_sigsys(run_child(ENFORCE, getppid_call, NULL, msg, sizeof(msg)), msg, "getppid enforced");
	expect_exit0(run_child(LOG_ONLY, getppid_call, NULL, msg, sizeof(msg)), msg, "getppid logged");
	/* log mode refuses nothing (but unix sockets): debugging only */
	expect_exit0(run_child(LOG_ONLY, f_prog_load, NULL, msg, sizeof(msg)), msg, "prog load logged");
}

static void mode_parse(void **state)
{
	bool log_only = true;
	char *err = NULL;

	(void)state;
	assert_int_equal(sandbox_mode_parse(NULL, &log_only, &err), 0);
	assert_false(log_only);
	assert_int_equal(sandbox_mode_parse("", &log_only, &err), 0);
	assert_false(log_only);
	assert_int_equal(sandbox_mode_parse("enforce", &log_only, &err), 0);
	assert_false(log_only);
	assert_int_equal(sandbox_mode_parse("log", &log_only, &err), 0);
	assert_true(log_only);
	assert_int_equal(sandbox_mode_parse("off", &log_only, &err), -EINVAL);
	assert_non_null(err);
	assert_string_equal(err, "TRACEGATE_SANDBOX \"off\": neither \"enforce\" nor \"log\"");
	free(err);
}

static void bad_options(void **state)
{
	struct sandbox_opts so = { .sz = 1 };
	char *err = NULL;

	(void)state;
	assert_int_equal(sandbox_apply(&so, &err), -EINVAL);
	assert_string_equal(err, "sandbox: bad options");
	free(err);
	err = NULL;
	assert_int_equal(sandbox_apply(NULL, &err), -EINVAL);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_parse),
		cmocka_unit_test(bad_options),
		cmocka_unit_test(allowed_calls),
		cmocka_unit_test(other_thread_filtered),
		cmocka_unit_test(forbidden_kill),
		cmocka_unit_test(log_only_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
