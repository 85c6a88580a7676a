/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's dry-run cache: what a runner said when it checked a
 * program (`kubectl trace check`, ?dryRun=All), kept for cache.dryRunSeconds
 * (10 s by default, 0: off) so that the same check again is answered
 * without a runner session.
 *
 * An entry is the runner's "compiled" status record for one node, stored
 * only when that node's session ended "checked".  Its key is a MAC
 * (lib/lru.h, a random per-process key) of the runner (node, URL, the
 * address a discovered runner is reached at, its pod) and of the whole
 * session request the gateway would send that runner, as wire/session.h
 * encodes it with the trace's id left out: the program, parameters and
 * canonical form, the pods with their uids and containers, the node
 * scope, the policy's limits and tracepoint field rules, and who asked
 * (an answer says whether it came from the cache: keyed by caller, that
 * never tells one tenant what another checked a moment ago).  Anything that
 * could change the runner's answer changes the key, and a runner
 * replaced (a new pod or address) is another key; the policy decision
 * itself is made again for every request, before the cache is asked.
 * The cache holds at most GW_DRY_CACHE_MAX entries (an entry is a few
 * hundred bytes: the probes and the object's size and digest).
 */
#ifndef TG_GATEWAY_DRY_CACHE_H
#define TG_GATEWAY_DRY_CACHE_H

#include <jansson.h>
#include <stdint.h>
#include "lib/lru.h"

#define GW_DRY_CACHE_MAX 4096

struct gw_runner;
struct session_request;

/* NULL in *ret when ttl_ns is UINT64_MAX (off). */
int gw_dry_cache_new(uint64_t ttl_ns, struct lru **ret);
/* The key of req (its trace id left out) on runner r, asked by who. */
int gw_dry_key(const struct lru *c, const char *who, const struct gw_runner *r,
	       const struct session_request *req, unsigned char key[LRU_MAC_LEN]);
/* 1 and a copy of the node's "compiled" record in *ret; 0 on a miss. */
int gw_dry_lookup(struct lru *c, const unsigned char key[LRU_MAC_LEN], json_t **ret);
/* Keeps a copy of compiled under key for ttl_ns. */
int gw_dry_store(struct lru *c, const unsigned char key[LRU_MAC_LEN], const json_t *compiled,
		 uint64_t ttl_ns);

#endif
