/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving gateway: everything one event loop shares.  `tracegate
 * serve` builds one (cmd-serve.c); request flows live in trace.c.
 */
#ifndef TG_GATEWAY_GATEWAY_H
#define TG_GATEWAY_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "gateway/config.h"
#include "gateway/http.h"
#include "gateway/route.h"

struct wire_sessions;

struct event;
struct event_base;
struct httpc;
struct httpc_gate;
struct httpc_mtls;
struct kube_client;
struct audit_log;
struct trace_req;
struct json_t;
struct kube_token_cache;
struct kube_sar_cache;
struct lru;
struct gw_policies;
struct gw_refusals;
struct gw_recover;
struct gw_detend;
struct gw_runners;
struct gw_frontproxy;
struct gw_dry_flights;

struct gateway {
	struct event_base *base;
	const struct gw_config *cfg;
	struct httpc *httpc;
	struct kube_client *kube;
	struct audit_log *audit;
	struct http_server *http;
	struct kube_token_cache *token_cache;  /* TokenReview answers, or NULL */
	struct kube_sar_cache *sar_cache;      /* SubjectAccessReview answers, or NULL */
	struct lru *dry_cache;        /* runners' dry-run answers (dry-cache.h), or NULL */
	struct gw_dry_flights *dry_flights; /* identical dry runs in flight (dry-flight.h), or NULL */
	struct gw_policies *policies;  /* TracePolicy documents in force, reloaded on change */
	struct gw_refusals *refusals; /* the bound on records of refusals before authentication */
	struct trace_req *reqs;       /* every trace request in flight */
	unsigned nreqs;
	unsigned nsessions;           /* of which streaming from runners */
	struct gw_frontproxy *frontproxy; /* request-header settings (aggregated mode), or NULL */
	struct gw_recover *recover;   /* traces a killed predecessor left open (runner-end.h) */
	struct gw_detend *detend;     /* detached sessions' end records (detached-end.h) */
	struct gw_runners *runners;   /* runners by node and the watch-fed caches (runners.h) */
	/* every change the pod cache's watch sees (ud: the gateway), or NULL:
	 * pods joining and leaving running workload traces */
	void (*pod_changed)(void *gw, const char *type, struct json_t *obj, struct json_t *old);
	struct event *audit_synced;   /* the audit log's group commit: a sync returned */
	struct httpc_gate **runner_gates;  /* per cfg->runners[i]: its connections' handshakes */
	struct httpc_mtls *runner_tls;     /* the gateway's identity to runners (runnerTLS) */
	struct wire_sessions *sessions_snap; /* the runners' sessions, last asked (trace-detached.c) */
	uint64_t sessions_snap_ns;    /* when, monotonic */
	json_t *sessions_ended;       /* trace id -> when (monotonic ns) every runner's end arrived */
	uint64_t sessions_ended_pruned_ns; /* when its old entries were last dropped, monotonic */
	bool stopping;
};

/* Handshakes in progress from the gateway to one runner at once: below
 * the runner's own bound per address (SERVE_MAX_HANDSHAKES_PER_PEER, 8),
 * so that a burst of sessions waits its turn here instead of being cut
 * there (docs/internals/gateway.md, "Runner connections"). */
#define GW_RUNNER_HANDSHAKES 4

/* The gate of a runner: from the configuration's array, or a discovered
 * runner's own (NULL: none). */
static inline struct httpc_gate *gw_runner_gate(const struct gateway *gw, const struct gw_runner *r)
{
	if (gw->runner_gates && r >= gw->cfg->runners && r < gw->cfg->runners + gw->cfg->nrunners)
		return gw->runner_gates[r - gw->cfg->runners];
	return r ? r->gate : NULL;
}

/* gw->pod_changed: a Running pod of a running workload trace's workload
 * that it does not trace joins it (a session of its own on its node); a
 * pod of it deleted or no longer Running leaves it (trace-workload.c). */
void trace_workload_pod_changed(void *gw, const char *type, struct json_t *obj, struct json_t *old);

/* A dry run's node that waited on an identical check in flight
 * (dry-flight.h): the flight landed; it looks in the cache again, or asks
 * its runner itself. */
void trace_dry_woken(void *leg);

/* Handles POST .../namespaces/{ns}/traces (route->kind == ROUTE_TRACE_CREATE). */
void trace_handle(struct gateway *gw, struct http_conn *c, struct http_request *req,
		  const struct route *route);
/* Shutdown: refuses pending requests (503), ends running streams with an
 * `end` line of reason "stop" and writes their ResponseComplete records. */
void trace_stop_all(struct gateway *gw);

#endif
