/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded LRU of values with a time to live, keyed by bytes: the one
 * cache under the TokenReview and SubjectAccessReview caches
 * (kube/cache.h) and the gateway's dry-run cache (gateway/dry-cache.h).
 *
 *  - keys are hashed into buckets with HMAC-SHA256 under a random
 *    per-cache key, so no key a client chooses can steer entries into one
 *    bucket; lru_mac() gives callers the same keyed MAC for keys they must
 *    not keep (a bearer token);
 *  - at most max_entries: storing one more drops the least recently used;
 *  - an entry is never returned once its TTL has passed (now >= stored +
 *    ttl), and is dropped when found so;
 *  - one mutex: a cache is safe to share between threads; values are only
 *    ever read under it (lru_lookup's copy callback).
 */
#ifndef TG_LIB_LRU_H
#define TG_LIB_LRU_H

#include <stddef.h>
#include <stdint.h>

#define LRU_MAC_LEN 32
#define LRU_DEFAULT_MAX 8192

struct lru;

struct lru_opts {
	size_t sz;                    /* sizeof(struct lru_opts) */
	size_t max_entries;           /* 0: LRU_DEFAULT_MAX */
	uint64_t (*now_ns)(void *ud); /* NULL: now_mono_ns() */
	void *now_ud;
	void (*free_val)(void *val);  /* NULL: free() */
};

int lru_new(const struct lru_opts *opts, struct lru **ret);
/* Frees every value; the key is wiped.  Returns NULL. */
struct lru *lru_free(struct lru *l);

/* Stores val under key for ttl_ns (UINT64_MAX: not stored), replacing an
 * entry with the same key.  Takes ownership of val, which is freed on
 * failure too. */
int lru_store(struct lru *l, const void *key, size_t len, uint64_t ttl_ns, void *val);
/* A live entry: it becomes the most recent, copy(val, ud) runs under the
 * lock and lru_lookup returns 1, or copy's negative result.  0 on a miss. */
typedef int (*lru_copy_fn)(const void *val, void *ud);
int lru_lookup(struct lru *l, const void *key, size_t len, lru_copy_fn copy, void *ud);
/* Drops every entry (what they were computed from changed). */
void lru_clear(struct lru *l);
size_t lru_size(struct lru *l);
/* HMAC-SHA256 of data under the cache's random key. */
int lru_mac(const struct lru *l, const void *data, size_t len, unsigned char out[LRU_MAC_LEN]);

#endif
