// SPDX-License-Identifier: Apache-2.0
/* The dry-run cache (gateway/dry-cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "gateway/config.h"
#include "gateway/dry-cache.h"
#include "wire/session.h"
#include "lib/banned.h"

static void compiled_free(void *v)
{
	json_decref(v);
}

int gw_dry_cache_new(uint64_t ttl_ns, struct lru **ret)
{
	struct lru_opts o = { .sz = sizeof(o), .max_entries = GW_DRY_CACHE_MAX, .free_val = compiled_free };

	*ret = NULL;
	if (ttl_ns == UINT64_MAX)
		return 0;
	return lru_new(&o, ret);
}

/* a field of the key: its length, then its bytes (no field can run into
 * the next) */
static int key_field(struct buf *b, const char *s, size_t len)
{
	uint64_t n = len;

	if (buf_add(b, &n, sizeof(n)) < 0)
		return -E2BIG;
	return buf_add(b, s ? s : "", len);
}

static int key_str(struct buf *b, const char *s)
{
	return key_field(b, s, s ? strlen(s) : 0);
}

int gw_dry_key(const struct lru *c, const char *who, const struct gw_runner *r,
	       const struct session_request *req, unsigned char key[LRU_MAC_LEN])
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	_cleanup_free_ char *text = NULL;
	struct session_request anon = *req;
	int e;

	anon.trace = (char *)"";
	e = session_request_encode(&anon, &text);
	if (e < 0)
		return e;
	if ((e = key_str(&b, who)) < 0 || (e = key_str(&b, r->node)) < 0 || (e = key_str(&b, r->url)) < 0 ||
	    (e = key_str(&b, r->connect_to ? r->connect_to->data : NULL)) < 0 || (e = key_str(&b, r->pod)) < 0 ||
	    (e = key_str(&b, text)) < 0)
		return e;
	return lru_mac(c, b.s, b.len, key);
}

static int copy_compiled(const void *val, void *ud)
{
	json_t **ret = ud;

	*ret = json_deep_copy(val);
	return *ret ? 0 : -ENOMEM;
}

int gw_dry_lookup(struct lru *c, const unsigned char key[LRU_MAC_LEN], json_t **ret)
{
	*ret = NULL;
	return lru_lookup(c, key, LRU_MAC_LEN, copy_compiled, ret);
}

int gw_dry_store(struct lru *c, const unsigned char key[LRU_MAC_LEN], const json_t *compiled,
		 uint64_t ttl_ns)
{
	json_t *v = json_deep_copy(compiled);

	if (!v)
		return -ENOMEM;
	return lru_store(c, key, LRU_MAC_LEN, ttl_ns, v);
}
