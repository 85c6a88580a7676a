/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decision caches for TokenReview and SubjectAccessReview, as k8s'
 * delegating authenticator and authorizer keep them
 * (cached_token_authenticator.go, plugin/pkg/authorizer/webhook):
 *
 *  - tokens are keyed by HMAC-SHA256, under a random per-process key, of
 *    the length-prefixed token and length-prefixed audiences: no raw token
 *    is kept; "authenticated" and "not authenticated" are both cached for
 *    the token TTL (10 s by default), errors and answers carrying
 *    status.error never;
 *  - SAR decisions are keyed by the serialized SAR spec (user, uid, groups,
 *    extra, attributes); allowed and denied have their own TTLs (10 s each
 *    by default, the delegating authorizer's), errors are never cached and
 *    requests whose attributes reach 10000 bytes are not cached at all;
 *  - both are LRUs bounded at 8192 entries by default; an entry is never
 *    returned once its TTL has passed (now >= stored + ttl).
 *
 * The clock is injectable for tests.  A cache is safe to share between
 * threads (one mutex).
 */
#ifndef TG_KUBE_CACHE_H
#define TG_KUBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kube/kube.h"

#define KUBE_CACHE_DEFAULT_TTL_NS (10ull * 1000000000ull)
#define KUBE_CACHE_DEFAULT_MAX 8192
#define KUBE_SAR_CACHE_MAX_ATTR_BYTES 10000

struct kube_cache_opts {
	size_t sz;                    /* sizeof(struct kube_cache_opts) */
	uint64_t token_ttl_ns;        /* 0: default; UINT64_MAX: never cache */
	uint64_t allowed_ttl_ns;      /* likewise */
	uint64_t denied_ttl_ns;       /* likewise */
	size_t max_entries;           /* per cache; 0: default */
	uint64_t (*now_ns)(void *ud); /* NULL: now_mono_ns() */
	void *now_ud;
};

/* ---- TokenReview ---- */
struct kube_token_cache;
int kube_token_cache_new(const struct kube_cache_opts *opts, struct kube_token_cache **ret);
struct kube_token_cache *kube_token_cache_free(struct kube_token_cache *c);
/* 1 on a hit: *ret_authenticated, and *ret_user (a copy, caller releases)
 * when authenticated; 0 on a miss; negative on error (treat as a miss). */
int kube_token_cache_lookup(struct kube_token_cache *c, const char *token,
			    const char *const *audiences, bool *ret_authenticated,
			    struct kube_user *ret_user);
/* Stores user (NULL: "not authenticated"). */
int kube_token_cache_store(struct kube_token_cache *c, const char *token,
			   const char *const *audiences, const struct kube_user *user);
/* kube_tokenreview_parse() and, when the answer may be cached, store. */
int kube_token_cache_parse_store(struct kube_token_cache *c, const char *token,
				 const char *const *audiences, long http_status, const char *body,
				 size_t len, struct kube_user *ret_user, char **ret_err);
size_t kube_token_cache_size(struct kube_token_cache *c);

/* ---- SubjectAccessReview ---- */
struct kube_sar_cache;
int kube_sar_cache_new(const struct kube_cache_opts *opts, struct kube_sar_cache **ret);
struct kube_sar_cache *kube_sar_cache_free(struct kube_sar_cache *c);
/* 1 on a hit with *ret_allowed and *ret_reason (caller frees; may be
 * NULL); 0 on a miss, and always 0 for uncacheable requests. */
int kube_sar_cache_lookup(struct kube_sar_cache *c, const struct kube_user *user,
			  const struct kube_resource_attrs *attrs, bool *ret_allowed,
			  char **ret_reason);
int kube_sar_cache_store(struct kube_sar_cache *c, const struct kube_user *user,
			 const struct kube_resource_attrs *attrs, bool allowed, const char *reason);
/* kube_sar_parse() and, when it succeeded, store. */
int kube_sar_cache_parse_store(struct kube_sar_cache *c, const struct kube_user *user,
			       const struct kube_resource_attrs *attrs, long http_status,
			       const char *body, size_t len, bool *ret_allowed, char **ret_reason,
			       char **ret_err);
size_t kube_sar_cache_size(struct kube_sar_cache *c);
/* Whether a request can be cached at all (attributes under 10000 bytes). */
bool kube_sar_cacheable(const struct kube_resource_attrs *attrs);

#endif
