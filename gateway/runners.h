/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which runner serves a node, and the gateway's watch-fed caches.
 *
 * Runners come from the configuration's static map ("runners") and, with
 * "runnerDiscovery", from the API: the gateway watches the runner
 * DaemonSet's pods (namespace and label selector from the configuration)
 * and maps each node (spec.nodeName) to its Ready runner pod's
 * status.podIP.  A discovered runner's URL names the fixed certificate
 * name (runnerDiscovery.serverName) and the connection goes to the pod's
 * IP (CURLOPT_CONNECT_TO), so the runner's certificate is checked against
 * the runner CA and that name, whatever the IP.  Discovered runners win
 * over the static map.
 *
 * With cache.pods, pod lookups for targets come from a watch of every pod
 * while it is synced; a pod it does not have is asked for with a GET.
 */
#ifndef TG_GATEWAY_RUNNERS_H
#define TG_GATEWAY_RUNNERS_H

#include <curl/curl.h>
#include "gateway/config.h"
#include "kube/kube.h"
#include "kube/selector.h"

struct gateway;
struct gw_runners;

/* Called once the runners are known: at once without runnerDiscovery,
 * else when the runner pods are first listed (cmd-serve.c passes
 * gw_recover_start: the traces a killed predecessor left open are
 * completed from their runners' end records). */
typedef int (*gw_runners_known_fn)(struct gateway *gw, char **ret_err);
/* Starts the watches the configuration asks for. */
int gw_runners_start(struct gateway *gw, gw_runners_known_fn known, char **ret_err);
/* Stops them (shutdown); lookups then use the static map only. */
void gw_runners_stop(struct gateway *gw);
/* Frees what is left (after the loop). */
void gw_runners_free(struct gateway *gw);

/* The runner of node with a reference (gw_runner_put), or NULL. */
const struct gw_runner *gw_runner_get(struct gateway *gw, const char *node);
const struct gw_runner *gw_runner_ref(const struct gw_runner *r);
void gw_runner_put(const struct gw_runner *r);
/* Every runner, one per node (a discovered one, else the configuration's),
 * each with a reference (gw_runner_put each, then free the array); NULL
 * without memory. */
const struct gw_runner **gw_runners_all(struct gateway *gw, size_t *ret_n);
/* How many runners discovered from the API are in use now. */
size_t gw_runners_discovered(const struct gateway *gw);

/* A handle for path (e.g. "/v1/sessions") on r over mutual TLS, as
 * httpc_mtls_easy, connecting to a discovered runner's pod IP.  NULL when
 * out of memory.  Keep r referenced until the transfer is done. */
CURL *gw_runner_easy(const struct gateway *gw, const struct gw_runner *r, const char *path);

/* A target pod from the cache: 0 and *ret; -TG_ENOTFOUND when the cache
 * is off, not synced or does not have it (ask the API server). */
int gw_pod_cached(const struct gateway *gw, const char *ns, const char *name, struct kube_pod *ret,
		  char **ret_err);

/* A PodList (JSON text, caller frees) of the cached pods of namespace ns
 * with a controller reference to one of owner_uids, as the API server
 * would list them; NULL when the cache is off or not synced or has none
 * of them (list them from the API server then: the cache may be
 * behind). */
char *gw_pods_cached_owned(const struct gateway *gw, const char *ns, const char *const *owner_uids,
			   size_t *ret_len);
/* The same for the cached pods of ns (every namespace when NULL) that
 * the label selector sel matches. */
char *gw_pods_cached_selected(const struct gateway *gw, const char *ns, const struct kube_selector *sel,
			      size_t *ret_len);

#endif
