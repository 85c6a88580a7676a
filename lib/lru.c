// SPDX-License-Identifier: Apache-2.0
/* A bounded LRU with TTLs over a hash table (lib/lru.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include "lib/lru.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "lib/banned.h"

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
	EVP_MAC_CTX *mac;                 /* HMAC-SHA256 keyed once: lru_mac dups it */
	uint64_t (*now_ns)(void *ud);
	void *now_ud;
	void (*free_val)(void *val);
	pthread_mutex_t lock;
};

static uint64_t default_now(void *ud)
{
	return now_mono_ns();
}

/* The cache's keyed MAC, its random key set once: the one-shot HMAC()
 * fetches the algorithm and sets the key on every call, a few times per
 * request on the gateway's hot path. */
static int mac_new(EVP_MAC_CTX **ret)
{
	unsigned char key[LRU_MAC_LEN];
	char digest[] = "SHA256";
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
				OSSL_PARAM_construct_end() };
	EVP_MAC *m;
	EVP_MAC_CTX *c = NULL;
	int ok;

	if (RAND_bytes(key, sizeof(key)) != 1 || !(m = EVP_MAC_fetch(NULL, "HMAC", NULL)))
		return -EIO;
	c = EVP_MAC_CTX_new(m);
	EVP_MAC_free(m);
	ok = c && EVP_MAC_init(c, key, sizeof(key), params) == 1;
	explicit_bzero(key, sizeof(key));
	if (!ok) {
		EVP_MAC_CTX_free(c);
		return -EIO;
	}
	*ret = c;
	return 0;
}

int lru_new(const struct lru_opts *o, struct lru **ret)
{
	size_t max = o && o->max_entries ? o->max_entries : LRU_DEFAULT_MAX;
	size_t nb = 16;
	struct lru *l;

	if (!OPTS_VALID(o, struct lru_opts))
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	while (nb < max && nb < ((size_t)1 << 30))
		nb <<= 1;
	l->buckets = calloc(nb, sizeof(*l->buckets));
	if (!l->buckets) {
		free(l);
		return -ENOMEM;
	}
	if (mac_new(&l->mac) < 0) {
		free(l->buckets);
		free(l);
		return -EIO;
	}
	l->nbuckets = nb;
	l->max = max;
	l->now_ns = o && o->now_ns ? o->now_ns : default_now;
	l->now_ud = o ? o->now_ud : NULL;
	l->free_val = o && o->free_val ? o->free_val : free;
	pthread_mutex_init(&l->lock, NULL);
	*ret = l;
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

static void unlink_entry(struct lru *l, struct lru_entry *e)
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

static void push_front(struct lru *l, struct lru_entry *e)
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
static void touch(struct lru *l, struct lru_entry *e)
{
	if (l->head == e)
		return;
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	push_front(l, e);
}

/* Caller holds the lock. */
static void drop_all(struct lru *l)
{
	struct lru_entry *e = l->head, *n;

	for (; e; e = n) {
		n = e->next;
		entry_free(l, e);
	}
	memset(l->buckets, 0, l->nbuckets * sizeof(*l->buckets));
	l->head = l->tail = NULL;
	l->count = 0;
}

struct lru *lru_free(struct lru *l)
{
	if (!l)
		return NULL;
	drop_all(l);
	free(l->buckets);
	EVP_MAC_CTX_free(l->mac);         /* wipes the key */
	pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}

int lru_mac(const struct lru *l, const void *data, size_t len, unsigned char out[LRU_MAC_LEN])
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(l->mac);
	size_t mlen = 0;
	int ok;

	ok = c && EVP_MAC_update(c, data, len) == 1 && EVP_MAC_final(c, out, &mlen, LRU_MAC_LEN) == 1 &&
	     mlen == LRU_MAC_LEN;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -EIO;
}

static uint64_t hash_of(const struct lru *l, const void *key, size_t len)
{
	unsigned char mac[LRU_MAC_LEN];
	uint64_t h = 0;

	if (lru_mac(l, key, len, mac) < 0)
		return 0;
	memcpy(&h, mac, sizeof(h));
	return h;
}

/* Caller holds the lock.  Drops an expired entry and returns NULL. */
static struct lru_entry *find(struct lru *l, uint64_t hash, const void *key, size_t len)
{
	struct lru_entry *e = l->buckets[hash & (l->nbuckets - 1)];

	for (; e; e = e->hnext) {
		if (e->hash != hash || e->keylen != len || memcmp(e->key, key, len) != 0)
			continue;
		if (l->now_ns(l->now_ud) >= e->expires_ns) {
			unlink_entry(l, e);
			entry_free(l, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

int lru_store(struct lru *l, const void *key, size_t len, uint64_t ttl_ns, void *val)
{
	struct lru_entry *e, *old;
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
	hash = hash_of(l, key, len);
	e->hash = hash;

	pthread_mutex_lock(&l->lock);
	now = l->now_ns(l->now_ud);
	e->expires_ns = now > UINT64_MAX - ttl_ns ? UINT64_MAX : now + ttl_ns;
	old = find(l, hash, key, len);
	if (old) {
		unlink_entry(l, old);
		entry_free(l, old);
	}
	while (l->count >= l->max && l->tail) {
		struct lru_entry *victim = l->tail;

		unlink_entry(l, victim);
		entry_free(l, victim);
	}
	e->hnext = l->buckets[hash & (l->nbuckets - 1)];
	l->buckets[hash & (l->nbuckets - 1)] = e;
	push_front(l, e);
	l->count++;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int lru_lookup(struct lru *l, const void *key, size_t len, lru_copy_fn copy, void *ud)
{
	uint64_t hash = hash_of(l, key, len);
	struct lru_entry *e;
	int r = 0;

	pthread_mutex_lock(&l->lock);
	e = find(l, hash, key, len);
	if (e) {
		touch(l, e);
		r = copy ? copy(e->val, ud) : 0;
		if (r >= 0)
			r = 1;
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

void lru_clear(struct lru *l)
{
	pthread_mutex_lock(&l->lock);
	drop_all(l);
	pthread_mutex_unlock(&l->lock);
}

size_t lru_size(struct lru *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->count;
	pthread_mutex_unlock(&l->lock);
	return n;
}
