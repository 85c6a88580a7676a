// SPDX-License-Identifier: Apache-2.0
/*
 * TokenReview and SubjectAccessReview caches: one bounded LRU with a hash
 * table, keyed by bytes, hashed with HMAC-SHA256 under a random
 * per-process key (so neither a token nor a client-chosen SAR attribute
 * can steer entries into one bucket).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/jsondump.h"
#include "lib/util.h"
#include "kube/cache.h"
#include "lib/banned.h"

#define HMAC_LEN 32

struct lru_entry {
	struct lru_entry *hnext;          /* bucket chain */
	struct lru_entry *prev, *next;    /* recency list, head = newest */
	uint64_t hash;
	unsigned char *key;
	size_t keylen;
	uint64_t expires_ns;
	void *val;
};

struct lru {
	struct lru_entry **buckets;
	size_t nbuckets;                  /* power of two */
	struct lru_entry *head, *tail;
	size_t count, max;
	unsigned char hkey[HMAC_LEN];
	uint64_t (*now_ns)(void *ud);
	void *now_ud;
	void (*free_val)(void *val);
	pthread_mutex_t lock;
};

static uint64_t default_now(void *ud)
{
	return now_mono_ns();
}

static int lru_init(struct lru *l, const struct kube_cache_opts *o, void (*free_val)(void *))
{
	size_t max = o && o->max_entries ? o->max_entries : KUBE_CACHE_DEFAULT_MAX;
	size_t nb = 16;

	if (o && o->sz < sizeof(struct kube_cache_opts))
		return -EINVAL;
	while (nb < max && nb < ((size_t)1 << 30))
		nb <<= 1;
	l->buckets = calloc(nb, sizeof(*l->buckets));
	if (!l->buckets)
		return -ENOMEM;
	if (RAND_bytes(l->hkey, sizeof(l->hkey)) != 1) {
		free(l->buckets);
		return -EIO;
	}
	l->nbuckets = nb;
	l->max = max;
	l->now_ns = o && o->now_ns ? o->now_ns : default_now;
	l->now_ud = o ? o->now_ud : NULL;
	l->free_val = free_val;
	pthread_mutex_init(&l->lock, NULL);
	return 0;
}

static void entry_free(struct lru *l, struct lru_entry *e)
{
	l->free_val(e->val);
	if (e->key) {
		explicit_bzero(e->key, e->keylen);
		free(e->key);
	}
	free(e);
}

static void lru_unlink(struct lru *l, struct lru_entry *e)
{
	struct lru_entry **pp = &l->buckets[e->hash & (l->nbuckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	l->count--;
}

static void lru_push_front(struct lru *l, struct lru_entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	l->head = e;
	if (!l->tail)
		l->tail = e;
}

/* Most recently used: to the head of the list (the hash chain stays). */
static void lru_touch(struct lru *l, struct lru_entry *e)
{
	if (l->head == e)
		return;
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	lru_push_front(l, e);
}

static void lru_release(struct lru *l)
{
	struct lru_entry *e = l->head, *n;

	for (; e; e = n) {
		n = e->next;
		entry_free(l, e);
	}
	free(l->buckets);
	explicit_bzero(l->hkey, sizeof(l->hkey));
	pthread_mutex_destroy(&l->lock);
}

static uint64_t lru_hash(const struct lru *l, const unsigned char *key, size_t len)
{
	unsigned char mac[HMAC_LEN];
	unsigned int mlen = 0;
	uint64_t h = 0;

	if (!HMAC(EVP_sha256(), l->hkey, sizeof(l->hkey), key, len, mac, &mlen) || mlen < 8)
		return 0;
	memcpy(&h, mac, sizeof(h));
	return h;
}

/* Caller holds the lock.  Drops an expired entry and returns NULL. */
static struct lru_entry *lru_find(struct lru *l, uint64_t hash, const unsigned char *key, size_t len)
{
	struct lru_entry *e = l->buckets[hash & (l->nbuckets - 1)];

	for (; e; e = e->hnext) {
		if (e->hash != hash || e->keylen != len || memcmp(e->key, key, len) != 0)
			continue;
		if (l->now_ns(l->now_ud) >= e->expires_ns) {
			lru_unlink(l, e);
			entry_free(l, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* Takes ownership of val (freed on failure too). */
static int lru_store(struct lru *l, const unsigned char *key, size_t len, uint64_t ttl_ns, void *val)
{
	struct lru_entry *e;
	uint64_t hash, now;

	if (ttl_ns == UINT64_MAX) {
		l->free_val(val);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = malloc(len ? len : 1))) {
		free(e);
		l->free_val(val);
		return -ENOMEM;
	}
	memcpy(e->key, key, len);
	e->keylen = len;
	e->val = val;
	hash = lru_hash(l, key, len);
	e->hash = hash;

	pthread_mutex_lock(&l->lock);
	now = l->now_ns(l->now_ud);
	e->expires_ns = now > UINT64_MAX - ttl_ns ? UINT64_MAX : now + ttl_ns;
	{
		struct lru_entry *old = lru_find(l, hash, key, len);

		if (old) {
			lru_unlink(l, old);
			entry_free(l, old);
		}
	}
	while (l->count >= l->max && l->tail) {
		struct lru_entry *victim = l->tail;

		lru_unlink(l, victim);
		entry_free(l, victim);
	}
	e->hnext = l->buckets[hash & (l->nbuckets - 1)];
	l->buckets[hash & (l->nbuckets - 1)] = e;
	lru_push_front(l, e);
	l->count++;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static uint64_t ttl_or_default(uint64_t ttl)
{
	return ttl ? ttl : KUBE_CACHE_DEFAULT_TTL_NS;
}

/* ---- TokenReview ------------------------------------------------------------ */

struct kube_token_cache {
	struct lru lru;
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
	r = lru_init(&c->lru, opts, token_val_free);
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
	lru_release(&c->lru);
	free(c);
	return NULL;
}

size_t kube_token_cache_size(struct kube_token_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lru.lock);
	n = c->lru.count;
	pthread_mutex_unlock(&c->lru.lock);
	return n;
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
		     unsigned char out[HMAC_LEN])
{
	struct buf b = BUF_INIT(KUBE_TOKEN_MAX_LEN + (KUBE_MAX_AUDIENCES + 2) * (KUBE_MAX_NAME_LEN + 8));
	unsigned int mlen = 0;
	int r;

	r = add_prefixed(&b, token);
	for (const char *const *a = auds; r >= 0 && a && *a; a++)
		r = add_prefixed(&b, *a);
	if (r >= 0 && !HMAC(EVP_sha256(), c->lru.hkey, sizeof(c->lru.hkey), (const unsigned char *)b.s, b.len,
			    out, &mlen))
		r = -EIO;
	explicit_bzero(b.s, b.len);
	buf_release(&b);
	return r < 0 ? r : 0;
}

int kube_token_cache_lookup(struct kube_token_cache *c, const char *token, const char *const *audiences,
			    bool *ret_authenticated, struct kube_user *ret_user)
{
	unsigned char key[HMAC_LEN];
	struct lru_entry *e;
	int r;

	if (!c || !token || !ret_authenticated || !ret_user)
		return -EINVAL;
	r = token_key(c, token, audiences, key);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lru.lock);
	e = lru_find(&c->lru, lru_hash(&c->lru, key, sizeof(key)), key, sizeof(key));
	if (e) {
		struct token_val *v = e->val;

		lru_touch(&c->lru, e);
		r = 0;
		if (v->authenticated)
			r = kube_user_copy(&v->user, ret_user);
		if (r == 0) {
			*ret_authenticated = v->authenticated;
			r = 1;
		}
	}
	pthread_mutex_unlock(&c->lru.lock);
	return r;
}

int kube_token_cache_store(struct kube_token_cache *c, const char *token, const char *const *audiences,
			   const struct kube_user *user)
{
	unsigned char key[HMAC_LEN];
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
	return lru_store(&c->lru, key, sizeof(key), c->ttl_ns, v);
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
	struct lru lru;
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
	r = lru_init(&c->lru, opts, sar_val_free);
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
	lru_release(&c->lru);
	free(c);
	return NULL;
}

size_t kube_sar_cache_size(struct kube_sar_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lru.lock);
	n = c->lru.count;
	pthread_mutex_unlock(&c->lru.lock);
	return n;
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

int kube_sar_cache_lookup(struct kube_sar_cache *c, const struct kube_user *user,
			  const struct kube_resource_attrs *attrs, bool *ret_allowed, char **ret_reason)
{
	_cleanup_free_ char *key = NULL;
	struct lru_entry *e;
	size_t len;
	int r = 0;

	if (!c || !user || !attrs || !ret_allowed)
		return -EINVAL;
	key = sar_key(user, attrs);
	if (!key)
		return 0;
	len = strlen(key);
	pthread_mutex_lock(&c->lru.lock);
	e = lru_find(&c->lru, lru_hash(&c->lru, (unsigned char *)key, len), (unsigned char *)key, len);
	if (e) {
		struct sar_val *v = e->val;
		char *reason = NULL;

		lru_touch(&c->lru, e);
		if (ret_reason && !(reason = strdup(v->reason ? v->reason : ""))) {
			r = -ENOMEM;
		} else {
			*ret_allowed = v->allowed;
			if (ret_reason) {
				free(*ret_reason);
				*ret_reason = reason;
			}
			r = 1;
		}
	}
	pthread_mutex_unlock(&c->lru.lock);
	return r;
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
	return lru_store(&c->lru, (unsigned char *)key, strlen(key),
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
