// SPDX-License-Identifier: Apache-2.0
/* The clang driver and the object cache (see compile.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "runner/compile.h"
#include "runner/jail.h"
#include "lib/banned.h"

#define CLANG_PATH "/usr/bin/clang"

#if defined(__x86_64__)
#define COMPILE_MULTIARCH_INCLUDE "/usr/include/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define COMPILE_MULTIARCH_INCLUDE "/usr/include/aarch64-linux-gnu"
#else
#define COMPILE_MULTIARCH_INCLUDE "/usr/include"
#endif

/* What the jail shows clang besides its own installation, its loader and
 * the system's libraries (runner/jail.c): the system headers
 * (<bpf/usdt.bpf.h> and what it includes). */
static const char *const compile_binds[] = { "/usr/include", "/usr/local/include" };

/* libbpf's usdt header, which generated C includes for usdt probes: a
 * new libbpf is a new object. */
static const char *const usdt_headers[] = { "/usr/local/include/bpf/usdt.bpf.h",
					    "/usr/include/bpf/usdt.bpf.h" };

/* What makes an object differ besides the source: clang's binary, the
 * kernel's BTF and the usdt header (by size and mtime: cheap, no exec). */
static int identity(struct buf *b, char *clang, size_t clang_sz)
{
	struct stat st;
	int r;

	if (!realpath(CLANG_PATH, clang) || strlen(clang) >= clang_sz || stat(clang, &st) < 0)
		return -errno;
	r = buf_printf(b, "clang=%s:%lld:%lld\n", clang, (long long)st.st_size, (long long)st.st_mtime);
	if (r >= 0 && stat("/sys/kernel/btf/vmlinux", &st) == 0)
		r = buf_printf(b, "btf=%lld:%lld\n", (long long)st.st_size, (long long)st.st_mtime);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(usdt_headers); i++)
		if (stat(usdt_headers[i], &st) == 0)
			r = buf_printf(b, "usdt=%s:%lld:%lld\n", usdt_headers[i], (long long)st.st_size,
				       (long long)st.st_mtime);
	return r;
}

/* The cache directory, created when missing, used only when it is ours.
 * Whoever can plant an object there chooses what we load (the verifier
 * still reads it), so a directory others may write to is first made ours
 * alone (an emptyDir volume is created 0777), one owned by someone else is
 * not used, and each file is read only when it is ours too (cache_read). */
static bool cache_usable(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return false;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return false;
	if ((st.st_mode & 022) && chmod(dir, st.st_mode & 07755 & ~022) < 0)
		return false;
	return true;
}

/* A cache file, when it is a regular file of ours that nobody else may
 * write and that has no other name (a hard link planted before the
 * directory was ours). */
static int cache_read(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t have = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) || st.st_nlink != 1)
		return -EPERM;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	data = malloc((size_t)st.st_size + 1);
	if (!data)
		return -ENOMEM;
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, data + have, (size_t)st.st_size - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		have += (size_t)n;
	}
	data[have] = '\0';
	*ret = TAKE_PTR(data);
	*ret_len = have;
	return 0;
}

/* Written to a temporary name and renamed: concurrent runners never read
 * half an object.  A failed write only costs time next run. */
static void cache_store(const char *dir, const char *path, const void *obj, size_t len)
{
	static unsigned seq;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *p = obj;

	if (asprintf(&tmp, "%s/.tmp-%d-%u.o", dir, (int)getpid(), seq++) < 0)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
	if (len || rename(tmp, path) < 0)
		unlink(tmp);
}

static int run_clang(const struct jail_opts *jo, const char *clang, const char *src, size_t len,
		     struct buf *obj, uint32_t *ret_uid, char **ret_err)
{
	const char *const argv[] = {
		clang, "-O2", "-g", "-target", "bpf",
		"-Wno-unused-value", "-Wno-unused-variable", "-Wno-unused-label",
		"-Wno-unused-function", "-Wno-pointer-sign",
		/* no reproducer files, no symbolizer on a crash */
		"-fno-crash-diagnostics",
		/* <bpf/usdt.bpf.h> includes <linux/errno.h>, whose <asm/errno.h>
		 * lives in the host's multiarch directory, unknown to -target bpf */
		"-idirafter", COMPILE_MULTIARCH_INCLUDE,
		"-c", "-x", "c", "-", "-o", "-",
		NULL,
	};
	struct jail_exec_opts x = {
		.sz = sizeof(x), .path = clang, .argv = argv, .binds = compile_binds,
		.nbinds = ARRAY_SIZE(compile_binds), .in = src, .in_len = len,
		.out_max = COMPILE_MAX_OBJECT, .diag_max = COMPILE_MAX_DIAG,
	};
	_cleanup_buf_ struct buf diag = BUF_INIT(COMPILE_MAX_DIAG);
	_cleanup_free_ char *err = NULL;
	struct jail_status st;
	int r;

	r = jail_exec(jo, &x, obj, &diag, &st, &err);
	*ret_uid = st.uid;
	if (r < 0 && (st.timed_out || st.cancelled || st.signal || r == -E2BIG))
		/* clang ran and was stopped: the source's doing */
		return tg_fail(ret_err, -TG_ECOMPILE, "%s%s%s", err ? err : tg_strerror(r),
			       diag.len ? ":\n" : "", diag.s);
	if (r < 0) {
		/* the jail: nothing ran */
		*ret_err = TAKE_PTR(err);
		return r;
	}
	if (st.exit_code != 0)
		return tg_fail(ret_err, -TG_ECOMPILE, "clang: generated code did not compile:\n%s", diag.s);
	if (obj->len < 4 || memcmp(obj->s, "\177ELF", 4))
		return tg_fail(ret_err, -TG_ECOMPILE, "clang: no object on its output");
	return 0;
}

int compile_bpf_opts(const struct compile_opts *o, const char *src, size_t len,
		     struct compile_result *res, char **ret_err)
{
	/* the identity, then the whole source (up to codegen's limit) */
	_cleanup_buf_ struct buf id = BUF_INIT(len + (64u << 10));
	_cleanup_buf_ struct buf obj = BUF_INIT(COMPILE_MAX_OBJECT);
	_cleanup_free_ char *path = NULL, *cached = NULL;
	struct jail_opts env;
	const struct jail_opts *jo;
	const char *cache_dir;
	char clang[4096];
	bool cache_ok;
	size_t olen = 0;
	int r;

	memset(res, 0, sizeof(*res));
	*ret_err = NULL;
	if (!o || !OPTS_VALID(o, struct compile_opts))
		return tg_fail(ret_err, -EINVAL, "compile: bad options");
	cache_dir = o->cache_dir ? o->cache_dir : COMPILE_DEFAULT_CACHE;
	jo = o->jail;
	if (!jo) {
		r = jail_opts_from_env(&env, ret_err);
		if (r < 0)
			return r;
		jo = &env;
	}
	r = identity(&id, clang, sizeof(clang));
	if (r < 0)
		return tg_fail(ret_err, -TG_ECOMPILE, "clang: \"%s\" not found: %s", CLANG_PATH, strerror(-r));
	r = buf_add(&id, src, len);
	if (r < 0)
		return r;
	sha256_hex(id.s, id.len, res->hash);
	cache_ok = cache_usable(cache_dir);
	if (asprintf(&path, "%s/%s.o", cache_dir, res->hash) < 0)
		return -ENOMEM;
	if (cache_ok && cache_read(path, COMPILE_MAX_OBJECT, &cached, &olen) == 0 && olen > 4 &&
	    !memcmp(cached, "\177ELF", 4)) {
		res->obj = TAKE_PTR(cached);
		res->len = olen;
		res->cached = true;
		return 0;
	}
	r = run_clang(jo, clang, src, len, &obj, &res->uid, ret_err);
	if (r < 0)
		return r;
	if (cache_ok)
		cache_store(cache_dir, path, obj.s, obj.len);
	res->obj = buf_detach(&obj, &res->len);
	return 0;
}

int compile_identity(struct buf *b)
{
	char clang[4096];

	return identity(b, clang, sizeof(clang));
}

static bool is_hash(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int compile_memo_lookup(const struct compile_opts *o, const char memo[65], struct compile_result *res)
{
	const char *dir = o->cache_dir ? o->cache_dir : COMPILE_DEFAULT_CACHE;
	_cleanup_free_ char *mpath = NULL, *opath = NULL, *hash = NULL, *obj = NULL;
	size_t hlen = 0, olen = 0;

	memset(res, 0, sizeof(*res));
	if (!is_hash(memo, strlen(memo)) || !cache_usable(dir))
		return -ENOENT;
	if (asprintf(&mpath, "%s/%s.m", dir, memo) < 0)
		return -ENOMEM;
	if (cache_read(mpath, 128, &hash, &hlen) < 0 || !is_hash(hash, hlen))
		return -ENOENT;
	if (asprintf(&opath, "%s/%s.o", dir, hash) < 0)
		return -ENOMEM;
	if (cache_read(opath, COMPILE_MAX_OBJECT, &obj, &olen) < 0 || olen <= 4 || memcmp(obj, "\177ELF", 4))
		return -ENOENT;
	memcpy(res->hash, hash, 65);
	res->obj = TAKE_PTR(obj);
	res->len = olen;
	res->cached = true;
	return 0;
}

void compile_memo_store(const struct compile_opts *o, const char memo[65], const struct compile_result *res)
{
	const char *dir = o->cache_dir ? o->cache_dir : COMPILE_DEFAULT_CACHE;
	_cleanup_free_ char *mpath = NULL;

	if (!is_hash(memo, strlen(memo)) || !is_hash(res->hash, strlen(res->hash)) || !cache_usable(dir))
		return;
	if (asprintf(&mpath, "%s/%s.m", dir, memo) < 0)
		return;
	cache_store(dir, mpath, res->hash, 64);
}

int compile_memo_lock(const struct compile_opts *o, const char memo[65], int stop_fd, uint64_t max_ms)
{
	const char *dir = o->cache_dir ? o->cache_dir : COMPILE_DEFAULT_CACHE;
	_cleanup_free_ char *lpath = NULL;
	uint64_t until = now_mono_ns() + max_ms * 1000000ull;
	int fd;

	if (!is_hash(memo, strlen(memo)) || !cache_usable(dir))
		return -ENOENT;
	if (asprintf(&lpath, "%s/%s.lock", dir, memo) < 0)
		return -ENOMEM;
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* polled, so that a session stopped meanwhile stops waiting too */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };
		int e = errno;

		if (e != EWOULDBLOCK || now_mono_ns() >= until) {
			close(fd);
			return e == EWOULDBLOCK ? -ETIMEDOUT : -e;
		}
		if (poll(&p, stop_fd >= 0 ? 1 : 0, 5) > 0) {
			close(fd);
			return -ECANCELED;
		}
	}
	return fd;
}

int compile_bpf(const char *src, size_t len, const char *cache_dir, struct compile_result *res,
		char **ret_err)
{
	struct compile_opts o = { .sz = sizeof(o), .cache_dir = cache_dir };

	return compile_bpf_opts(&o, src, len, res, ret_err);
}
