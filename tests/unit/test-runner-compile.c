// SPDX-License-Identifier: Apache-2.0
/*
 * The compile jail (runner/jail.h) and the sandboxed compile
 * (runner/compile.h, engine_compile), for real: hostile C fed straight to
 * the jailed clang, as if a tenant had found a way to put text into the
 * generated source.  Files of the host stay invisible (and their content
 * out of every message), devices and FIFOs end at once, a source that
 * keeps clang busy is killed at the wall-clock limit, a cancelled or
 * orphaned compile dies with its caller.  A shell run in the same jail
 * shows what a compromised clang could do: it cannot fork, write outside
 * its scratch directory, open a socket or see /proc, /dev or the cache,
 * and it holds no capability.  After every case no process of the test's
 * uid range is left (scanned in /proc).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/compile.h"
#include "runner/engine.h"
#include "runner/jail.h"
#include "runner/verify.h"

#define TEST_UID_COUNT 8
#define BASH "/usr/bin/bash"

static char cache_dir[] = "/tmp/tg-test-compile.XXXXXX";
/* The uid lock file of our own: a runner on this machine (other tests, a
 * playground) locks its own range's bytes in /run/tracegate's, at the same
 * offsets as ours, and would take "our" first uid. */
static char lock_dir[] = "/tmp/tg-test-compile-locks.XXXXXX";
static uint32_t uid_first;

/* The jail options every case starts from: the defaults, this test's
 * own uid range, a short wall clock. */
static struct jail_opts test_jail(uint64_t wall_ms)
{
	struct jail_opts o;
	char *err = NULL;

	assert_int_equal(jail_opts_from_env(&o, &err), 0);
	o.mode = JAIL_ENFORCE;
	o.uid_first = uid_first;
	o.uid_count = TEST_UID_COUNT;
	o.lock_dir = lock_dir;
	o.lim.wall_ms = wall_ms;
	return o;
}

/* Processes whose real, effective or saved uid is in the range. */
static int range_procs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned a, b, c;

			if (sscanf(line, "Uid: %u %u %u", &a, &b, &c) == 3) {
				if ((a >= uid_first && a < uid_first + TEST_UID_COUNT) ||
				    (b >= uid_first && b < uid_first + TEST_UID_COUNT) ||
				    (c >= uid_first && c < uid_first + TEST_UID_COUNT))
					n++;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void assert_nothing_left(void)
{
	/* the jail's callers return only once its processes are reaped */
	assert_int_equal(range_procs(), 0);
}

static int compile_src(const struct jail_opts *jo, const char *src, struct compile_result *cr, char **err)
{
	struct compile_opts co = { .sz = sizeof(co), .cache_dir = cache_dir, .jail = jo };

	free(*err);
	*err = NULL;
	free(cr->obj);
	return compile_bpf_opts(&co, src, strlen(src), cr, err);
}

/* ---- hostile C -------------------------------------------------------------- */

static void host_files_invisible(void **state)
{
	struct jail_opts jo = test_jail(30000);
	struct compile_result cr = { 0 };
	_cleanup_free_ char *shadow = NULL;
	char *err = NULL;
	size_t len = 0;
	int r;

	(void)state;
	/* a line of the real file, to look for in every message */
	assert_int_equal(read_file("/etc/shadow", 1 << 20, &shadow, &len), 0);
	shadow[strcspn(shadow, "\n")] = '\0';
	assert_true(strlen(shadow) > 4);
	setenv("TG_TEST_SECRET", "tg-secret-6f2a9c", 1);

	r = compile_src(&jo, "#include \"/etc/shadow\"\nint x;\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_non_null(strstr(err, "'/etc/shadow' file not found"));
	assert_null(strstr(err, shadow));
	assert_nothing_left();

	r = compile_src(&jo, "#import \"/proc/self/environ\"\nint x;\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_non_null(strstr(err, "'/proc/self/environ' file not found"));
	assert_null(strstr(err, "tg-secret-6f2a9c"));
	assert_nothing_left();

	r = compile_src(&jo, "#include \"/proc/1/environ\"\n#include </etc/passwd>\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_null(strstr(err, "root:"));

	/* not even their existence or age: __has_include and GCC dependency
	 * see nothing, while the toolchain's own headers are there */
	r = compile_src(&jo,
			"#if __has_include(\"/etc/passwd\") || __has_include(\"/etc/shadow\")\n"
			"#error etc visible\n#endif\n"
			"#if __has_include(\"/proc/self/status\") || __has_include(\"/sys/kernel/btf/vmlinux\")\n"
			"#error proc or sys visible\n#endif\n"
			"#if !__has_include(<linux/types.h>)\n#error no headers\n#endif\n"
			"int x;\n",
			&cr, &err);
	if (r < 0)
		print_message("%s\n", err);
	assert_int_equal(r, 0);
	assert_false(cr.cached);
	assert_true(cr.uid >= uid_first && cr.uid < uid_first + TEST_UID_COUNT);
	r = compile_src(&jo, "#pragma GCC dependency \"/etc/shadow\"\nint x;\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_null(strstr(err, "older than"));
	assert_non_null(strstr(err, "not found"));

	/* nor the object cache, which is the caller's alone */
	{
		char src[512];

		snprintf(src, sizeof(src),
			 "#if __has_include(\"%s/%s.o\") || __has_include(\"/var/cache/tracegate\")\n"
			 "#error cache visible\n#endif\nint y;\n",
			 cache_dir, cr.hash);
		r = compile_src(&jo, src, &cr, &err);
		if (r < 0)
			print_message("%s\n", err);
		assert_int_equal(r, 0);
	}
	assert_nothing_left();
	free(cr.obj);
	free(err);
}

static void devices_and_fifos_end(void **state)
{
	struct jail_opts jo = test_jail(20000);
	struct compile_result cr = { 0 };
	char dir[] = "/tmp/tg-test-fifo.XXXXXX", fifo[128], src[256];
	const char *incs[] = { "/dev/zero", "/dev/urandom", "/dev/stdin", "/dev/tty", "/dev/fd/0", fifo };
	char *err = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0666), 0);
	for (size_t i = 0; i < sizeof(incs) / sizeof(incs[0]); i++) {
		uint64_t t0 = now_mono_ns();
		int r;

		snprintf(src, sizeof(src), "#include \"%s\"\nint x;\n", incs[i]);
		r = compile_src(&jo, src, &cr, &err);
		assert_int_equal(r, -TG_ECOMPILE);
		assert_non_null(strstr(err, "file not found"));
		/* nowhere near the wall clock: nothing blocks */
		assert_true(now_mono_ns() - t0 < 10000000000ull);
		assert_nothing_left();
	}
	unlink(fifo);
	rmdir(dir);
	free(err);
}

/* 2^40 nested macro expansions: clang would work for hours. */
static char *macro_bomb(void)
{
	struct buf b = BUF_INIT(1 << 20);

	buf_adds(&b, "#define A0(x) x\n");
	for (int i = 1; i <= 40; i++)
		buf_printf(&b, "#define A%d(x) A%d(A%d(x))\n", i, i - 1, i - 1);
	buf_adds(&b, "int v = A40(1);\n");
	return buf_detach(&b, NULL);
}

static void wall_clock_kills(void **state)
{
	struct jail_opts jo = test_jail(2000);
	struct compile_result cr = { 0 };
	_cleanup_free_ char *bomb = macro_bomb();
	char *err = NULL;
	uint64_t t0 = now_mono_ns(), dt;
	int r;

	(void)state;
	r = compile_src(&jo, bomb, &cr, &err);
	dt = now_mono_ns() - t0;
	assert_int_equal(r, -TG_ECOMPILE);
	assert_non_null(strstr(err, "clang: killed at its wall-clock limit of 2000 ms"));
	assert_true(dt >= 2000000000ull);
	assert_true(dt < 8000000000ull);
	assert_nothing_left();
	free(err);
}

static void crash_is_an_error(void **state)
{
	struct jail_opts jo = test_jail(30000);
	struct compile_result cr = { 0 };
	char *err = NULL;
	int r;

	(void)state;
	/* clang's own crash: no reproducer files, no symbolizer, an error */
	r = compile_src(&jo, "int x;\n#pragma clang __debug crash\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_non_null(strstr(err, "clang"));
	assert_nothing_left();
	r = compile_src(&jo, "int x;\n#pragma clang __debug overflow_stack\n", &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_nothing_left();
	free(err);
}

static void cancel_kills(void **state)
{
	struct jail_opts jo = test_jail(60000);
	struct compile_result cr = { 0 };
	_cleanup_free_ char *bomb = macro_bomb();
	char *err = NULL;
	int p[2];
	pid_t w;
	uint64_t t0 = now_mono_ns();
	int r;

	(void)state;
	assert_int_equal(pipe(p), 0);
	jo.cancel_fd = p[0];
	w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		usleep(500000);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		_exit(0);
	}
	r = compile_src(&jo, bomb, &cr, &err);
	assert_int_equal(r, -TG_ECOMPILE);
	assert_non_null(strstr(err, "stopped before it finished"));
	assert_true(now_mono_ns() - t0 < 10000000000ull);
	waitpid(w, NULL, 0);
	close(p[0]);
	close(p[1]);
	assert_nothing_left();
	free(err);
}

/* The runner dies mid-compile (killed by its serve parent, say): the
 * jail dies with it (PR_SET_PDEATHSIG, then its namespace). */
static void caller_death_kills(void **state)
{
	_cleanup_free_ char *bomb = macro_bomb();
	uint64_t t0;
	pid_t w;

	(void)state;
	w = fork();
	assert_true(w >= 0);
	if (w == 0) {
		struct jail_opts jo = test_jail(120000);
		struct compile_result cr = { 0 };
		char *err = NULL;

		compile_src(&jo, bomb, &cr, &err);
		_exit(0);
	}
	t0 = now_mono_ns();
	while (range_procs() < 2 && now_mono_ns() - t0 < 30000000000ull)
		usleep(20000);
	assert_true(range_procs() >= 2);   /* the namespace's init and clang */
	kill(w, SIGKILL);
	waitpid(w, NULL, 0);
	t0 = now_mono_ns();
	while (range_procs() && now_mono_ns() - t0 < 10000000000ull)
		usleep(20000);
	assert_nothing_left();
}

/* ---- what a compromised clang could do: a shell in the same jail ------------ */

static int jail_bash(const struct jail_opts *jo, const char *script, struct buf *out, struct buf *diag,
		     struct jail_status *st, char **err)
{
	const char *argv[] = { BASH, "--norc", "--noprofile", "-c", script, NULL };
	const char *binds[] = { "/usr/include" };   /* as clang's view has */
	struct jail_exec_opts x = { .sz = sizeof(x), .path = BASH, .argv = argv, .binds = binds,
				    .nbinds = 1, .out_max = 1 << 20, .diag_max = 1 << 16 };

	buf_clear(out);
	buf_clear(diag);
	free(*err);
	*err = NULL;
	return jail_exec(jo, &x, out, diag, st, err);
}

static void shell_confined(void **state)
{
	struct jail_opts jo = test_jail(20000);
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20), diag = BUF_INIT(1 << 16);
	struct jail_status st;
	char *err = NULL, want[64];
	char script[2048];
	int r;

	(void)state;
	snprintf(script, sizeof(script),
		 "echo uid=$UID euid=$EUID groups=${GROUPS[*]}\n"
		 "echo host=$HOSTNAME\n"
		 "for f in /etc/shadow /etc/passwd /proc/self /sys/kernel /dev/null /run /var/cache/tracegate"
		 " %s /home /root /work; do [ -e $f ] && echo visible $f; done\n"
		 "echo x > /tmp/scratch && echo scratch-ok\n"
		 "ulimit -u -n -v -f -c\n",
		 cache_dir);
	r = jail_bash(&jo, script, &out, &diag, &st, &err);
	if (r < 0)
		print_message("%s\n%s\n", err, diag.s);
	assert_int_equal(r, 0);
	if (st.exit_code != 0)
		print_message("%s\n%s\n", out.s, diag.s);
	assert_int_equal(st.exit_code, 0);
	snprintf(want, sizeof(want), "uid=%u euid=%u groups=%u\n", st.uid, st.uid, st.uid);
	assert_non_null(strstr(out.s, want));
	assert_non_null(strstr(out.s, "host=tracegate-compile\n"));
	assert_null(strstr(out.s, "visible"));
	assert_non_null(strstr(out.s, "scratch-ok\n"));
	/* the limits: processes, files, memory (KiB), file size (1 KiB blocks), core */
	assert_non_null(strstr(out.s, "-u) 16\n"));
	assert_non_null(strstr(out.s, "-n) 128\n"));
	assert_non_null(strstr(out.s, "-v) 1048576\n"));
	assert_non_null(strstr(out.s, "-f) 65536\n"));
	assert_non_null(strstr(out.s, "-c) 0\n"));
	assert_nothing_left();

	r = jail_bash(&jo,
		      "echo x > /usr/bin/evil; echo x > /evil; echo x > /usr/include/evil.h;"
		      "echo x > /tmp/ok && echo scratch-ok",
		      &out, &diag, &st, &err);
	assert_int_equal(r, 0);
	assert_non_null(strstr(out.s, "scratch-ok"));
	assert_non_null(strstr(diag.s, "/usr/bin/evil: Read-only file system"));
	assert_non_null(strstr(diag.s, "/evil: Read-only file system"));
	assert_non_null(strstr(diag.s, "/usr/include/evil.h: Read-only file system"));
	/* the scratch directory is bounded */
	r = jail_bash(&jo, "printf '%*s' 40000000 x > /tmp/big; echo rc=$?", &out, &diag, &st, &err);
	assert_int_equal(r, 0);
	assert_non_null(strstr(out.s, "rc=1"));
	assert_non_null(strstr(diag.s, "No space left on device"));
	assert_nothing_left();
	free(err);
}

static void shell_no_fork_bomb(void **state)
{
	struct jail_opts jo = test_jail(10000);
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20), diag = BUF_INIT(1 << 16);
	struct jail_status st;
	char *err = NULL;
	int r;

	(void)state;
	r = jail_bash(&jo, "b() { b | b & }; b; echo survived", &out, &diag, &st, &err);
	assert_int_equal(r, 0);
	assert_non_null(strstr(diag.s, "fork: Operation not permitted"));
	assert_nothing_left();
	free(err);
}

static void shell_no_socket(void **state)
{
	struct jail_opts jo = test_jail(10000);
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20), diag = BUF_INIT(1 << 16);
	struct jail_status st;
	char *err = NULL;
	int r;

	(void)state;
	/* bash opens a TCP socket for /dev/tcp: the filter kills it */
	r = jail_bash(&jo, "echo before; exec 3<>/dev/tcp/127.0.0.1/9; echo after", &out, &diag, &st, &err);
	assert_true(r < 0);
	assert_int_equal(st.signal, SIGSYS);
	assert_non_null(strstr(err, "bash: killed by signal 31 (SIGSYS"));
	assert_non_null(strstr(out.s, "before"));
	assert_null(strstr(out.s, "after"));
	assert_nothing_left();
	/* a unix socket likewise */
	r = jail_bash(&jo, "exec 3<>/dev/udp/127.0.0.1/53", &out, &diag, &st, &err);
	assert_int_equal(st.signal, SIGSYS);
	assert_nothing_left();
	free(err);
}

struct bash_run {
	struct jail_opts jo;
	struct jail_status st;
	int r;
};

static void *bash_spin(void *arg)
{
	struct bash_run *b = arg;
	struct buf out = BUF_INIT(1 << 20), diag = BUF_INIT(1 << 16);
	char *err = NULL;

	b->r = jail_bash(&b->jo, "while :; do :; done", &out, &diag, &b->st, &err);
	buf_release(&out);
	buf_release(&diag);
	free(err);
	return NULL;
}

/* From outside, while it runs: the kernel's view of the jailed shell. */
static void shell_credentials(void **state)
{
	struct bash_run b = { .jo = test_jail(3000) };
	char path[300], line[256], ns_ours[64], ns_its[64];
	uint64_t t0 = now_mono_ns();
	bool seen = false;
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, bash_spin, &b), 0);
	while (!seen && now_mono_ns() - t0 < 10000000000ull) {
		DIR *d = opendir("/proc");
		struct dirent *de;

		while (!seen && (de = readdir(d))) {
			char comm[32] = "";
			unsigned uid = 0;
			FILE *f;
			int fields = 0;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f)) {
				unsigned long long cap;

				if (sscanf(line, "Name: %31s", comm) == 1)
					continue;
				if (sscanf(line, "Uid: %u", &uid) == 1 &&
				    (uid < uid_first || uid >= uid_first + TEST_UID_COUNT))
					break;
				if (strcmp(comm, "bash"))
					continue;
				if (sscanf(line, "CapInh: %llx", &cap) == 1 || sscanf(line, "CapPrm: %llx", &cap) == 1 ||
				    sscanf(line, "CapEff: %llx", &cap) == 1 || sscanf(line, "CapAmb: %llx", &cap) == 1) {
					assert_int_equal(cap, 0);
					fields++;
				}
				if (!strncmp(line, "NoNewPrivs:", 11)) {
					assert_non_null(strstr(line, "1"));
					fields++;
				}
				if (!strncmp(line, "Seccomp:", 8)) {
					assert_non_null(strstr(line, "2"));
					fields++;
				}
				if (!strncmp(line, "Groups:", 7)) {
					assert_string_equal(line + strspn(line + 7, " \t") + 7, "\n");
					fields++;
				}
			}
			fclose(f);
			if (fields == 7) {
				/* and none of our namespaces */
				for (const char *const *ns = (const char *const[]){ "pid", "mnt", "net", "ipc", "uts",
										   "cgroup", NULL };
				     *ns; ns++) {
					char a[300], b2[300];
					ssize_t n1, n2;

					snprintf(a, sizeof(a), "/proc/self/ns/%s", *ns);
					snprintf(b2, sizeof(b2), "/proc/%s/ns/%s", de->d_name, *ns);
					n1 = readlink(a, ns_ours, sizeof(ns_ours) - 1);
					n2 = readlink(b2, ns_its, sizeof(ns_its) - 1);
					assert_true(n1 > 0 && n2 > 0);
					ns_ours[n1] = ns_its[n2] = '\0';
					assert_string_not_equal(ns_ours, ns_its);
				}
				seen = true;
			}
		}
		closedir(d);
		if (!seen)
			usleep(10000);
	}
	pthread_join(th, NULL);
	assert_true(seen);
	assert_true(b.r < 0);
	assert_true(b.st.timed_out);
	assert_nothing_left();
}

/* ---- the codegen child (jail_call) ------------------------------------------ */

static int fn_ok(void *ctx, struct buf *out)
{
	(void)ctx;
	return buf_adds(out, "generated") < 0 ? -ENOMEM : 42;
}

static int fn_open(void *ctx, struct buf *out)
{
	(void)ctx;
	(void)out;
	return open("/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static int fn_socket(void *ctx, struct buf *out)
{
	(void)ctx;
	(void)out;
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int fn_fork(void *ctx, struct buf *out)
{
	(void)ctx;
	(void)out;
	return (int)fork();
}

static int fn_spin(void *ctx, struct buf *out)
{
	volatile unsigned long n = 0;

	(void)ctx;
	(void)out;
	for (;;)
		n++;
	return 0;
}

static void codegen_child(void **state)
{
	struct jail_opts jo = test_jail(1500);
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	struct jail_status st;
	char *err = NULL;
	int code = 0, r;

	(void)state;
	r = jail_call(&jo, fn_ok, NULL, 1 << 20, &out, &code, &st, &err);
	assert_int_equal(r, 0);
	assert_int_equal(code, 42);
	assert_string_equal(out.s, "generated");
	assert_true(st.uid >= uid_first && st.uid < uid_first + TEST_UID_COUNT);
	assert_nothing_left();

	/* no file, no socket, no process: the filter kills */
	{
		int (*fns[])(void *, struct buf *) = { fn_open, fn_socket, fn_fork };

		for (size_t i = 0; i < 3; i++) {
			free(err);
			err = NULL;
			r = jail_call(&jo, fns[i], NULL, 1 << 20, &out, &code, &st, &err);
			assert_true(r < 0);
			assert_int_equal(st.signal, SIGSYS);
			assert_non_null(strstr(err, "code generation: killed by signal 31 (SIGSYS"));
			assert_nothing_left();
		}
	}
	free(err);
	err = NULL;
	r = jail_call(&jo, fn_spin, NULL, 1 << 20, &out, &code, &st, &err);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(st.timed_out);
	assert_non_null(strstr(err, "code generation: killed at its wall-clock limit of 1500 ms"));
	assert_nothing_left();
	free(err);
}

/* One uid per child: taken ones are skipped, none left is an error. */
static void uids_not_shared(void **state)
{
	struct jail_opts jo = test_jail(5000);
	_cleanup_buf_ struct buf out = BUF_INIT(1 << 20);
	char path[256];
	struct jail_status st;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	char *err = NULL;
	int code, fd, r;

	(void)state;
	jo.uid_count = 2;
	snprintf(path, sizeof(path), "%s/%s", lock_dir, JAIL_LOCK_FILE);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	/* a concurrent child holds the first uid */
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	for (int i = 0; i < 4; i++) {
		r = jail_call(&jo, fn_ok, NULL, 1 << 20, &out, &code, &st, &err);
		assert_int_equal(r, 0);
		assert_int_equal(st.uid, uid_first + 1);
	}
	/* and the second: none is left */
	fl.l_start = 1;
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	r = jail_call(&jo, fn_ok, NULL, 1 << 20, &out, &code, &st, &err);
	assert_int_equal(r, -EBUSY);
	assert_non_null(strstr(err, "compile jail: all 2 compile uids"));
	close(fd);
	free(err);
	err = NULL;
	r = jail_call(&jo, fn_ok, NULL, 1 << 20, &out, &code, &st, &err);
	assert_int_equal(r, 0);
	free(err);
}

/* ---- the compile step of the engine, and the cache ------------------------------ */

static void engine_compile_step(void **state)
{
	static const char prog[] = "BEGIN { printf(\"hello %d\\n\", 42); @n = count(); exit(); }";
	struct jail_opts jo = test_jail(60000);
	struct engine_opts eo = { .sz = sizeof(eo), .program = prog, .program_len = sizeof(prog) - 1,
				  .program_name = "test", .stop_fd = -1, .cache_dir = cache_dir, .jail = &jo };
	struct verify_opts vo = { .sz = sizeof(vo), .require_scope = false };
	struct engine_prog *p = NULL;
	struct compile_result cr = { 0 }, again = { 0 };
	char *err = NULL;
	int r;

	(void)state;
	r = engine_prepare(&eo, NULL, NULL, &p, &err);
	if (r < 0)
		print_message("%s\n", err);
	assert_int_equal(r, 0);
	r = engine_compile(p, &cr, &err);
	if (r < 0)
		print_message("%s\n", err);
	assert_int_equal(r, 0);
	assert_false(cr.cached);
	assert_int_equal(verify_object(cr.obj, cr.len, &vo, &err), 0);
	assert_nothing_left();
	/* the same program again: the object through the memo, no child */
	r = engine_compile(p, &again, &err);
	assert_int_equal(r, 0);
	assert_true(again.cached);
	assert_int_equal(again.uid, 0);
	assert_string_equal(again.hash, cr.hash);
	assert_int_equal(again.len, cr.len);
	assert_memory_equal(again.obj, cr.obj, cr.len);
	free(cr.obj);
	free(again.obj);
	engine_prog_free(p);
	free(err);
}

/* Whoever can plant an object in the cache chooses what is loaded: a
 * directory of someone else is not used, one of ours that others may
 * write is made ours alone, and a planted file is not read. */
static void cache_is_ours(void **state)
{
	struct jail_opts jo = test_jail(30000);
	struct compile_opts co = { .sz = sizeof(co), .jail = &jo };
	char dir[] = "/tmp/tg-test-cache.XXXXXX", sub[64], planted[256], cmd[128];
	struct compile_result cr = { 0 };
	struct stat st;
	char *err = NULL;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* someone else's */
	assert_int_equal(chown(dir, 65534, 65534), 0);
	co.cache_dir = dir;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(compile_bpf_opts(&co, "int theirs;\n", 12, &cr, &err), 0);
		assert_false(cr.cached);
		free(cr.obj);
	}
	/* ours, but anyone may write to it (an emptyDir volume): made ours
	 * alone, and a file someone planted there is not read */
	snprintf(sub, sizeof(sub), "%s/ours", dir);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	co.cache_dir = sub;
	assert_int_equal(compile_bpf_opts(&co, "int mine;\n", 10, &cr, &err), 0);
	assert_false(cr.cached);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 022, 0);
	snprintf(planted, sizeof(planted), "%s/%s.o", sub, cr.hash);
	free(cr.obj);
	assert_int_equal(compile_bpf_opts(&co, "int mine;\n", 10, &cr, &err), 0);
	assert_true(cr.cached);
	free(cr.obj);
	/* replaced by a file of another user: compiled again */
	assert_int_equal(unlink(planted), 0);
	fd = open(planted, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF planted", 13), 13);
	close(fd);
	assert_int_equal(chown(planted, 65534, 65534), 0);
	assert_int_equal(compile_bpf_opts(&co, "int mine;\n", 10, &cr, &err), 0);
	assert_false(cr.cached);
	assert_true(cr.len > 13);
	free(cr.obj);
	/* a second name of one of ours (a hard link): not read either */
	assert_int_equal(compile_bpf_opts(&co, "int mine;\n", 10, &cr, &err), 0);
	assert_true(cr.cached);
	free(cr.obj);
	{
		char link2[300];

		snprintf(link2, sizeof(link2), "%s/elsewhere", sub);
		assert_int_equal(link(planted, link2), 0);
	}
	assert_int_equal(compile_bpf_opts(&co, "int mine;\n", 10, &cr, &err), 0);
	assert_false(cr.cached);
	free(cr.obj);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(err);
}

static void mode_off_and_env(void **state)
{
	struct jail_opts jo;
	struct compile_result cr = { 0 };
	char *err = NULL;

	(void)state;
	setenv(JAIL_ENV, "bogus", 1);
	assert_int_equal(jail_opts_from_env(&jo, &err), -EINVAL);
	assert_non_null(strstr(err, JAIL_ENV " \"bogus\""));
	free(err);
	err = NULL;
	setenv(JAIL_ENV, "off", 1);
	setenv(JAIL_UIDS_ENV, "100-50", 1);
	assert_int_equal(jail_opts_from_env(&jo, &err), -EINVAL);
	free(err);
	err = NULL;
	setenv(JAIL_UIDS_ENV, "1900600000-1900600099", 1);
	setenv(JAIL_TIMEOUT_ENV, "2500", 1);
	assert_int_equal(jail_opts_from_env(&jo, &err), 0);
	assert_int_equal(jo.mode, JAIL_OFF);
	assert_int_equal(jo.uid_first, 1900600000u);
	assert_int_equal(jo.uid_count, 100);
	assert_int_equal(jo.lim.wall_ms, 2500);
	assert_int_equal(jo.lim.cpu_s, 3);
	/* off: clang as the caller, for debugging only */
	assert_int_equal(compile_bpf_opts(&(struct compile_opts){ .sz = sizeof(struct compile_opts),
								  .cache_dir = cache_dir, .jail = &jo },
					  "int off;\n", 9, &cr, &err), 0);
	assert_int_equal(cr.uid, 0);
	free(cr.obj);
	/* the control for host_files_invisible: without the jail, the host's
	 * file is read and quoted */
	{
		_cleanup_free_ char *shadow = NULL;
		size_t len = 0;

		assert_int_equal(read_file("/etc/shadow", 1 << 20, &shadow, &len), 0);
		shadow[strcspn(shadow, "\n")] = '\0';
		free(err);
		err = NULL;
		assert_int_equal(compile_bpf_opts(&(struct compile_opts){ .sz = sizeof(struct compile_opts),
									  .cache_dir = cache_dir, .jail = &jo },
						  "#include \"/etc/shadow\"\n", 22, &cr, &err), -TG_ECOMPILE);
		assert_non_null(strstr(err, shadow));
	}
	unsetenv(JAIL_ENV);
	unsetenv(JAIL_UIDS_ENV);
	unsetenv(JAIL_TIMEOUT_ENV);
	free(err);
}

/* One compile of a program at a time: a second taker of the same memo's
 * lock waits (bounded), stops when its session stops, and gets the lock
 * once the first lets go; another program's lock is independent. */
static void memo_lock_single_flight(void **state)
{
	struct compile_opts co = { .sz = sizeof(co), .cache_dir = cache_dir };
	const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	int first, other, again, stop[2];
	uint64_t t0;

	(void)state;
	first = compile_memo_lock(&co, a, -1, 1000);
	assert_true(first >= 0);
	/* flock is per open file: a second open in this process conflicts as
	 * a second session's would */
	t0 = now_mono_ns();
	assert_int_equal(compile_memo_lock(&co, a, -1, 100), -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 >= 100000000ull);
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	assert_int_equal(write(stop[1], "x", 1), 1);
	assert_int_equal(compile_memo_lock(&co, a, stop[0], 10000), -ECANCELED);
	close(stop[0]);
	close(stop[1]);
	other = compile_memo_lock(&co, b, -1, 100);
	assert_true(other >= 0);
	close(first);
	again = compile_memo_lock(&co, a, -1, 100);
	assert_true(again >= 0);
	close(again);
	close(other);
	{
		char bad[65];

		memset(bad, 'g', 64);   /* not hex */
		bad[64] = '\0';
		assert_int_equal(compile_memo_lock(&co, bad, -1, 100), -ENOENT);
	}
}

static int setup(void **state)
{
	(void)state;
	/* a range of our own, so that leftovers are ours to find */
	uid_first = JAIL_DEFAULT_UID_FIRST + 500000 + (uint32_t)(getpid() % 4096) * TEST_UID_COUNT;
	if (!mkdtemp(cache_dir) || !mkdtemp(lock_dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", cache_dir, lock_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_files_invisible),
		cmocka_unit_test(devices_and_fifos_end),
		cmocka_unit_test(wall_clock_kills),
		cmocka_unit_test(crash_is_an_error),
		cmocka_unit_test(cancel_kills),
		cmocka_unit_test(caller_death_kills),
		cmocka_unit_test(shell_confined),
		cmocka_unit_test(shell_no_fork_bomb),
		cmocka_unit_test(shell_no_socket),
		cmocka_unit_test(shell_credentials),
		cmocka_unit_test(codegen_child),
		cmocka_unit_test(uids_not_shared),
		cmocka_unit_test(engine_compile_step),
		cmocka_unit_test(cache_is_ours),
		cmocka_unit_test(mode_off_and_env),
		cmocka_unit_test(memo_lock_single_flight),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
