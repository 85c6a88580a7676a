/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clang driver and the compiled-object cache.  Objects are cached on
 * disk by the SHA-256 of (generated source, clang identity, kernel BTF
 * identity, libbpf's usdt.bpf.h identity), so a repeated program skips
 * clang.  clang runs in the compile jail (runner/jail.h): it reads the
 * source from a pipe and writes the object to one; the cache belongs to
 * the caller alone (read, checked and written here, never visible inside
 * the jail).
 */
#ifndef TG_RUNNER_COMPILE_H
#define TG_RUNNER_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct jail_opts;

#define COMPILE_DEFAULT_CACHE "/var/cache/tracegate"
#define COMPILE_MAX_OBJECT    (64u << 20)
#define COMPILE_MAX_DIAG      (64u * 1024)   /* clang stderr kept */

struct compile_opts {
	size_t sz;                      /* sizeof(struct compile_opts) */
	const char *cache_dir;          /* NULL: COMPILE_DEFAULT_CACHE */
	const struct jail_opts *jail;   /* NULL: jail_opts_from_env() */
};

struct compile_result {
	void *obj;          /* ELF object (caller frees) */
	size_t len;
	bool cached;        /* came from the cache */
	char hash[65];
	uint32_t uid;       /* the jail uid clang ran as; 0: cached, or no jail */
};

/* Compiles src with clang (-O2 -g -target bpf) in the compile jail,
 * through the cache in o->cache_dir (created 0700 when missing; a cache
 * directory that is not ours alone, or that cannot be used, only costs
 * time).  -TG_ECOMPILE with *ret_err holding clang's message when it
 * refuses the source, dies or runs out of a limit; the jail's own
 * failures (it could not be set up: nothing ran) keep their code. */
int compile_bpf_opts(const struct compile_opts *o, const char *src, size_t len,
		     struct compile_result *res, char **ret_err);

/* The memo: a key the caller computed from everything that determines
 * the C it would generate (runner/engine.c), mapped to the object that C
 * compiled to, so that a repeated program skips code generation as well
 * as clang.  Lookup: 0 and res (cached) on a hit, -ENOENT on a miss (or
 * an unusable cache).  Store: after compile_bpf_opts; failures only cost
 * time. */
int compile_memo_lookup(const struct compile_opts *o, const char memo[65], struct compile_result *res);
void compile_memo_store(const struct compile_opts *o, const char memo[65], const struct compile_result *res);
/* One compile of a program at a time: sessions that start together with
 * the same program (a burst of one tenant's traces, a cold cache) wait
 * for the first one's compile and take its object from the cache,
 * instead of each running code generation and clang.  Takes an exclusive
 * lock on MEMO.lock in the cache directory: the descriptor (close it
 * after compile_memo_store), -ECANCELED when stop_fd became readable,
 * -ETIMEDOUT after max_ms (then compile without it), -errno. */
int compile_memo_lock(const struct compile_opts *o, const char memo[65], int stop_fd, uint64_t max_ms);

/* What besides the source makes an object differ (clang, kernel BTF,
 * libbpf's usdt header), as text; for keys that must change with it. */
int compile_identity(struct buf *b);

/* The same with the jail options of the environment. */
int compile_bpf(const char *src, size_t len, const char *cache_dir, struct compile_result *res,
		char **ret_err);

#endif
