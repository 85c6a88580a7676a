// SPDX-License-Identifier: Apache-2.0
/*
 * TokenReview and SubjectAccessReview caches, each a lib/lru.h LRU (keyed
 * bytes hashed with HMAC-SHA256 under a random per-cache key, so neither
 * a token nor a client-chosen SAR attribute can steer entries into one
 * bucket).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/jsondump.h"
#include "lib/lru.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "kube/cache.h"
#include "lib/banned.h"

static int lru_for(const struct kube_cache_opts *o, void (*free_val)(void *), struct lru **ret)
{
	struct lru_opts lo = { .sz = sizeof(lo), .free_val = free_val };

	if (!OPTS_VALID(o, struct kube_cache_opts))
		return -EINVAL;
	if (o) {
		lo.max_entries = o->max_entries;
		lo.now_ns = o->now_ns;
		lo.now_ud = o->now_ud;
	}
	if (!lo.max_entries)
		lo.max_entries = KUBE_CACHE_DEFAULT_MAX;
	return lru_new(&lo, ret);
}

static uint64_t ttl_or_default(uint64_t ttl)
{
	return ttl ? ttl : KUBE_CACHE_DEFAULT_TTL_NS;
}

/* ---- TokenReview ------------------------------------------------------------ */

struct kube_token_cache {
	struct lru *lru;
	uint64_t ttl_ns;
};

struct token_val {
	bool authenticated;
	struct kube_user user;
};

static void token_val_free(void *p)
{
	struct token_val *v = p;

	if (!v)
		return;
	kube_user_release(&v->user);
	free(v);
}

int kube_token_cache_new(const struct kube_cache_opts *opts, struct kube_token_cache **ret)
{
	struct kube_token_cache *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = lru_for(opts, token_val_free, &c->lru);
	if (r < 0) {
		free(c);
		return r;
	}
	c->ttl_ns = ttl_or_default(opts ? opts->token_ttl_ns : 0);
	*ret = c;
	return 0;
}

struct kube_token_cache *kube_token_cache_free(struct kube_token_cache *c)
{
	if (!c)
		return NULL;
	lru_free(c->lru);
	free(c);
	return NULL;
}

size_t kube_token_cache_size(struct kube_token_cache *c)
{
	return lru_size(c->lru);
}

static int add_prefixed(struct buf *b, const char *s)
{
	uint64_t n = strlen(s);
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (56 - 8 * i));
	if (buf_add(b, len, sizeof(len)) < 0)
		return -E2BIG;
	return buf_add(b, s, n);
}

/* HMAC of the length-prefixed token and audiences: the only key kept. */
static int token_key(const struct kube_token_cache *c, const char *token, const char *const *auds,
		     unsigned char out[LRU_MAC_LEN])
{
	struct buf b = BUF_INIT(KUBE_TOKEN_MAX_LEN + (KUBE_MAX_AUDIENCES + 2) * (KUBE_MAX_NAME_LEN + 8));
	int r;

	r = add_prefixed(&b, token);
	for (const char *const *a = auds; r >= 0 && a && *a; a++)
		r = add_prefixed(&b, *a);
	if (r >= 0)
		r = lru_mac(c->lru, b.s, b.len, out);
	explicit_bzero(b.s, b.len);
	buf_release(&b);
	return r < 0 ? r : 0;
}

struct token_out {
	bool *authenticated;
	struct kube_user *user;
};

static int token_copy(const void *val, void *ud)
{
	const struct token_val *v = val;
	struct token_out *out = ud;
	int r = 0;

	if (v->authenticated)
		r = kube_user_copy(&v->user, out->user);
	if (r == 0)
		*out->authenticated = v->authenticated;
	return r;
}

int kube_token_cache_lookup(struct kube_token_cache *c, const char *token, const char *const *audiences,
			    bool *ret_authenticated, struct kube_user *ret_user)
{
	struct token_out out = { ret_authenticated, ret_user };
	unsigned char key[LRU_MAC_LEN];
	int r;

	if (!c || !token || !ret_authenticated || !ret_user)
		return -EINVAL;
	r = token_key(c, token, audiences, key);
	if (r < 0)
		return r;
	return lru_lookup(c->lru, key, sizeof(key), token_copy, &out);
}

int kube_token_cache_store(struct kube_token_cache *c, const char *token, const char *const *audiences,
			   const struct kube_user *user)
{
	unsigned char key[LRU_MAC_LEN];
	struct token_val *v;
	int r;

	if (!c || !token)
		return -EINVAL;
	r = token_key(c, token, audiences, key);
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (user) {
		r = kube_user_copy(user, &v->user);
		if (r < 0) {
			free(v);
			return r;
		}
		v->authenticated = true;
	}
	return lru_store(c->lru, key, sizeof(key), c->ttl_ns, v);
}

int kube_token_cache_parse_store(struct kube_token_cache *c, const char *token, const char *const *audiences,
				 long http_status, const char *body, size_t len, struct kube_user *ret_user,
				 char **ret_err)
{
	bool cacheable = false;
	int r;

	r = kube_tokenreview_parse_ex(http_status, body, len, audiences, ret_user, &cacheable, ret_err);
	if (!cacheable || !c)
		return r;
	if (r == 0)
		(void)kube_token_cache_store(c, token, audiences, ret_user);
	else if (r == -TG_EAUTHN)
		(void)kube_token_cache_store(c, token, audiences, NULL);
	return r;
}

/* ---- SubjectAccessReview ------------------------------------------------------ */

struct kube_sar_cache {
	struct lru *lru;
	uint64_t allowed_ttl_ns, denied_ttl_ns;
};

struct sar_val {
	bool allowed;
	char *reason;
};

static void sar_val_free(void *p)
{
	struct sar_val *v = p;

	if (!v)
		return;
	free(v->reason);
	free(v);
}

int kube_sar_cache_new(const struct kube_cache_opts *opts, struct kube_sar_cache **ret)
{
	struct kube_sar_cache *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = lru_for(opts, sar_val_free, &c->lru);
	if (r < 0) {
		free(c);
		return r;
	}
	c->allowed_ttl_ns = ttl_or_default(opts ? opts->allowed_ttl_ns : 0);
	c->denied_ttl_ns = ttl_or_default(opts ? opts->denied_ttl_ns : 0);
	*ret = c;
	return 0;
}

struct kube_sar_cache *kube_sar_cache_free(struct kube_sar_cache *c)
{
	if (!c)
		return NULL;
	lru_free(c->lru);
	free(c);
	return NULL;
}

size_t kube_sar_cache_size(struct kube_sar_cache *c)
{
	return lru_size(c->lru);
}

bool kube_sar_cacheable(const struct kube_resource_attrs *a)
{
	const char *v[] = { a->namespace, a->verb, a->group, a->version, a->resource, a->subresource, a->name };
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		n += v[i] ? strlen(v[i]) : 0;
	return n < KUBE_SAR_CACHE_MAX_ATTR_BYTES;
}

/* The whole spec, keys sorted so equal requests serialize alike. */
static char *sar_key(const struct kube_user *user, const struct kube_resource_attrs *attrs)
{
	_cleanup_(json_decrefp) json_t *spec = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(0);

	if (!kube_sar_cacheable(attrs))
		return NULL;
	spec = kube_sar_spec(user, attrs);
	if (!spec || json_dump_sorted(&b, spec) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

struct sar_out {
	bool *allowed;
	char **reason;
};

static int sar_copy(const void *val, void *ud)
{
	const struct sar_val *v = val;
	struct sar_out *out = ud;
	char *reason = NULL;

	if (out->reason && !(reason = strdup(v->reason ? v->reason : "")))
		return -ENOMEM;
	*out->allowed = v->allowed;
	if (out->reason) {
		free(*out->reason);
		*out->reason = reason;
	}
	return 0;
}

int kube_sar_cache_lookup(struct kube_sar_cache *c, const struct kube_user *user,
			  const struct kube_resource_attrs *attrs, bool *ret_allowed, char **ret_reason)
{
	struct sar_out out = { ret_allowed, ret_reason };
	_cleanup_free_ char *key = NULL;

	if (!c || !user || !attrs || !ret_allowed)
		return -EINVAL;
	key = sar_key(user, attrs);
	if (!key)
		return 0;
	return lru_lookup(c->lru, key, strlen(key), sar_copy, &out);
}

int kube_sar_cache_store(struct kube_sar_cache *c, const struct kube_user *user,
			 const struct kube_resource_attrs *attrs, bool allowed, const char *reason)
{
	_cleanup_free_ char *key = NULL;
	struct sar_val *v;

	if (!c || !user || !attrs)
		return -EINVAL;
	if (!kube_sar_cacheable(attrs))
		return 0;
	key = sar_key(user, attrs);
	if (!key)
		return -ENOMEM;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->allowed = allowed;
	if (reason && !(v->reason = strdup(reason))) {
		free(v);
		return -ENOMEM;
	}
	return lru_store(c->lru, key, strlen(key),
			 allowed ? c->allowed_ttl_ns : c->denied_ttl_ns, v);
}

int kube_sar_cache_parse_store(struct kube_sar_cache *c, const struct kube_user *user,
			       const struct kube_resource_attrs *attrs, long http_status, const char *body,
			       size_t len, bool *ret_allowed, char **ret_reason, char **ret_err)
{
	_cleanup_free_ char *reason = NULL;
	int r;

	r = kube_sar_parse(http_status, body, len, ret_allowed, &reason, ret_err);
	if (r < 0)
		return r;
	if (c)
		(void)kube_sar_cache_store(c, user, attrs, *ret_allowed, reason);
	if (ret_reason) {
		free(*ret_reason);
		*ret_reason = TAKE_PTR(reason);
	}
	return 0;
}
