// SPDX-License-Identifier: Apache-2.0
/* The clang driver and the object cache (see compile.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "runner/compile.h"
#include "lib/banned.h"

#define CLANG_PATH "/usr/bin/clang"

extern char **environ;

/* What makes an object differ besides the source: clang's binary and the
 * kernel's BTF (both by size and mtime: cheap, no exec). */
static int identity(struct buf *b)
{
	char real[4096];
	struct stat st;
	int r;

	if (!realpath(CLANG_PATH, real) || stat(real, &st) < 0)
		return -errno;
	r = buf_printf(b, "clang=%s:%lld:%lld\n", real, (long long)st.st_size, (long long)st.st_mtime);
	if (r < 0)
		return r;
	if (stat("/sys/kernel/btf/vmlinux", &st) == 0)
		r = buf_printf(b, "btf=%lld:%lld\n", (long long)st.st_size, (long long)st.st_mtime);
	return r;
}

static int cache_path(const char *dir, const char *hash, char **ret)
{
	return asprintf(ret, "%s/%s.o", dir, hash) < 0 ? -ENOMEM : 0;
}

#if defined(__x86_64__)
#define COMPILE_MULTIARCH_INCLUDE "/usr/include/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define COMPILE_MULTIARCH_INCLUDE "/usr/include/aarch64-linux-gnu"
#else
#define COMPILE_MULTIARCH_INCLUDE "/usr/include"
#endif

static int run_clang(const char *src, size_t len, const char *out_path, char **ret_err)
{
	char *const argv[] = {
		(char *)CLANG_PATH, (char *)"-O2", (char *)"-g", (char *)"-target", (char *)"bpf",
		(char *)"-Wno-unused-value", (char *)"-Wno-unused-variable", (char *)"-Wno-unused-label",
		(char *)"-Wno-unused-function", (char *)"-Wno-pointer-sign",
		/* <bpf/usdt.bpf.h> includes <linux/errno.h>, whose <asm/errno.h>
		 * lives in the host's multiarch directory, unknown to -target bpf */
		(char *)"-idirafter", (char *)COMPILE_MULTIARCH_INCLUDE,
		(char *)"-c", (char *)"-x", (char *)"c", (char *)"-", (char *)"-o", (char *)out_path,
		NULL,
	};
	posix_spawn_file_actions_t fa;
	_cleanup_buf_ struct buf diag = BUF_INIT(COMPILE_MAX_DIAG);
	int in[2] = { -1, -1 }, errp[2] = { -1, -1 };
	size_t off = 0;
	pid_t pid;
	int r, status;
	uint64_t deadline = now_mono_ns() + (uint64_t)COMPILE_TIMEOUT_MS * 1000000ull;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto out_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 1);
	r = -posix_spawn(&pid, CLANG_PATH, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	in[0] = -1;
	close(errp[1]);
	errp[1] = -1;
	if (r < 0) {
		if (asprintf(ret_err, "clang: cannot run \"%s\": %s", CLANG_PATH, strerror(-r)) < 0)
			*ret_err = NULL;
		goto out_pipes;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd pf[2] = { { .fd = errp[0], .events = POLLIN }, { .fd = in[1], .events = POLLOUT } };
		uint64_t now = now_mono_ns();
		int nfds = in[1] >= 0 ? 2 : 1;
		char tmp[4096];
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			r = -ETIMEDOUT;
			break;
		}
		if (poll(pf, nfds, (int)((deadline - now) / 1000000 + 1)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			kill(pid, SIGKILL);
			break;
		}
		if (nfds == 2 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(in[1], src + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				off = len;
			if (off == len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(errp[0], tmp, sizeof(tmp));
			if (n == 0)
				break;
			if (n > 0 && diag.len + (size_t)n < COMPILE_MAX_DIAG)
				buf_add(&diag, tmp, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = -TG_ECOMPILE;
	if (r < 0 && !*ret_err) {
		if (asprintf(ret_err, "clang: generated code did not compile%s%s",
			     r == -ETIMEDOUT ? " (timed out)" : ":\n", diag.s) < 0)
			*ret_err = NULL;
		r = -TG_ECOMPILE;
	}
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

int compile_bpf(const char *src, size_t len, const char *cache_dir, struct compile_result *res,
		char **ret_err)
{
	_cleanup_buf_ struct buf id = BUF_INIT(1u << 20);
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_free_ char *obj = NULL;
	bool cache_ok;
	size_t olen = 0;
	int r;

	memset(res, 0, sizeof(*res));
	*ret_err = NULL;
	if (!cache_dir)
		cache_dir = COMPILE_DEFAULT_CACHE;
	r = identity(&id);
	if (r < 0) {
		if (asprintf(ret_err, "clang: \"%s\" not found: %s", CLANG_PATH, strerror(-r)) < 0)
			*ret_err = NULL;
		return -TG_ECOMPILE;
	}
	r = buf_add(&id, src, len);
	if (r < 0)
		return r;
	sha256_hex(id.s, id.len, res->hash);
	r = cache_path(cache_dir, res->hash, &path);
	if (r < 0)
		return r;
	if (read_file(path, COMPILE_MAX_OBJECT, &obj, &olen) == 0 && olen > 4 &&
	    !memcmp(obj, "\177ELF", 4)) {
		res->obj = TAKE_PTR(obj);
		res->len = olen;
		res->cached = true;
		return 0;
	}
	free(TAKE_PTR(obj));
	cache_ok = mkdir(cache_dir, 0700) == 0 || errno == EEXIST;
	if (cache_ok) {
		if (asprintf(&tmp, "%s/.tmp-%d-%s.o", cache_dir, (int)getpid(), res->hash) < 0)
			return -ENOMEM;
	} else {
		if (asprintf(&tmp, "/tmp/tracegate-%d-%s.o", (int)getpid(), res->hash) < 0)
			return -ENOMEM;
	}
	r = run_clang(src, len, tmp, ret_err);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	r = read_file(tmp, COMPILE_MAX_OBJECT, &obj, &olen);
	if (r < 0) {
		unlink(tmp);
		if (asprintf(ret_err, "clang: no object in \"%s\": %s", tmp, strerror(-r)) < 0)
			*ret_err = NULL;
		return -TG_ECOMPILE;
	}
	/* publish atomically; a failed cache write only costs time next run */
	if (!cache_ok || rename(tmp, path) < 0)
		unlink(tmp);
	res->obj = TAKE_PTR(obj);
	res->len = olen;
	return 0;
}
