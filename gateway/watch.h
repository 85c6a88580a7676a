/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watch-fed caches on the gateway's loop: an informer (kube/informer.h)
 * whose LIST and WATCH requests run through httpc, retried after the
 * informer's backoff until the gateway stops.
 */
#ifndef TG_GATEWAY_WATCH_H
#define TG_GATEWAY_WATCH_H

#include "gateway/httpc.h"
#include "kube/informer.h"
#include "kube/kube.h"

struct gateway;
struct gw_watch;

/* Starts listing at once; fn (may be NULL) sees every change. */
int gw_watch_start(struct gateway *gw, const char *name, const struct kube_informer_opts *opts,
		   kube_informer_fn fn, void *ud, struct gw_watch **ret, char **ret_err);
/* Cancels its request and frees it (and the informer); NULL. */
struct gw_watch *gw_watch_stop(struct gw_watch *w);
const struct kube_informer *gw_watch_informer(const struct gw_watch *w);
/* fn(ud) after every LIST stored (the cache is synced). */
void gw_watch_on_synced(struct gw_watch *w, void (*fn)(void *ud), void *ud);

/* One API server call on the loop (the gateway's credentials and CA, at
 * most KUBE_MAX_RESPONSE): done(ud) gets the answer. */
int gw_kube_fetch(struct gateway *gw, const struct kube_request *kreq, httpc_body_fn done, void *ud,
		  struct httpc_xfer **ret);

#endif
