/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clang driver and the compiled-object cache.  Objects are cached on
 * disk by the SHA-256 of (generated source, clang identity, kernel BTF
 * identity), so a repeated program skips clang.
 */
#ifndef TG_RUNNER_COMPILE_H
#define TG_RUNNER_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

#define COMPILE_DEFAULT_CACHE "/var/cache/tracegate"
#define COMPILE_MAX_OBJECT    (64u << 20)
#define COMPILE_MAX_DIAG      (64u * 1024)   /* clang stderr kept */
#define COMPILE_TIMEOUT_MS    60000

struct compile_result {
	void *obj;          /* ELF object (caller frees) */
	size_t len;
	bool cached;        /* came from the cache */
	char hash[65];
};

/* Compiles src with clang (-O2 -g -target bpf), through the cache in
 * cache_dir (NULL: default; created 0700 when missing; a cache that cannot
 * be used only costs time).  -TG_ECOMPILE with *ret_err holding clang's
 * message on failure. */
int compile_bpf(const char *src, size_t len, const char *cache_dir, struct compile_result *res,
		char **ret_err);

#endif
