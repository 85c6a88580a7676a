// SPDX-License-Identifier: Apache-2.0
/* `tracegate serve --config FILE`: the gateway's HTTPS API. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include "gateway/audit.h"
#include "gateway/commands.h"
#include "gateway/config.h"
#include "gateway/detached-end.h"
#include "gateway/dry-cache.h"
#include "gateway/dry-flight.h"
#include "gateway/discovery.h"
#include "gateway/event.h"
#include "gateway/frontproxy.h"
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "gateway/httpc.h"
#include "gateway/policies.h"
#include "gateway/route.h"
#include "gateway/runner-end.h"
#include "gateway/runners.h"
#include "gateway/status.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cleanup-ssl.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "policy/policy.h"
#include "kube/cache.h"
#include "kube/kube.h"
#include "wire/sessions.h"
#include "wire/version.h"
#include "lib/banned.h"

#define SERVE_SHUTDOWN_GRACE_S 5

struct serve {
	struct gateway gw;
	struct event *sigterm;
	struct event *sigint;
	struct event *sighup;
	struct event *drain_timer;
	struct event *summary_timer;
	unsigned drain_ticks;
};

/* A request refused before authentication, as the client sent it: every
 * pointer is the client's bytes (len each), or NULL. */
struct serve_refusal {
	int code;
	const char *message;
	const char *where;             /* "http" (the HTTP layer) or "route" */
	const char *method, *uri, *user_agent;
	size_t method_len, uri_len, user_agent_len;
	const char *peer;
	const char *ns;                /* a valid namespace from the path, or NULL */
	bool resource;                 /* the path is the traces collection */
	uint64_t received_ns;
};

/*
 * The one audit record of a refusal before authentication (docs/audit.md:
 * recorded as Kubernetes records an anonymous request, and bounded by
 * audit.refusals).  1 and audit_id when a record was written, 0 when it
 * was counted for a summary instead, < 0 when it could not be written
 * (logged here).  Whatever happens here, the caller sends the refusal.
 */
static int serve_audit_refusal(struct gateway *gw, const struct serve_refusal *x,
			       char audit_id[37])
{
	_cleanup_free_ char *uri = gw_event_uri(x->uri, x->uri_len);
	_cleanup_free_ char *ua = x->user_agent ? gw_event_text(x->user_agent, x->user_agent_len,
								GW_EVENT_MAX_USER_AGENT) : NULL;
	_cleanup_free_ char *verb = gw_event_verb(x->method, x->method_len, x->resource);
	_cleanup_(json_decrefp) json_t *tg = NULL, *ev = NULL;
	_cleanup_free_ char *err = NULL;
	char id[37];
	struct gw_event e;
	int r;

	audit_id[0] = '\0';
	if (!gw_refusals_admit(gw->refusals, x->peer, x->code, now_mono_ns(), now_real_ns()))
		return 0;
	if (gw_uuid(id) < 0)
		memcpy(id, "00000000-0000-0000-0000-000000000000", 37);
	tg = json_pack("{s:s, s:s}", "refusedBy", x->where, "authentication", "not attempted");
	e = (struct gw_event){
		.audit_id = id,
		.stage = "ResponseStarted",
		.request_uri = uri ? uri : "",
		.verb = verb ? verb : "",
		.source_ip = x->peer,
		.user_agent = ua,
		.ns = x->ns,
		.code = x->code,
		.message = x->message,
		.received_ns = x->received_ns,
		.stage_ns = now_real_ns(),
		.decision = "forbid",
		.reason = x->message,
		.tracegate = tg,
		.non_resource = !x->resource,
	};
	ev = uri && verb && tg ? gw_event_build(&e) : NULL;
	r = ev ? audit_log_append(gw->audit, ev, &err) : -ENOMEM;
	if (r < 0) {
		log_error("audit %s: refusal of %s %s (code %d) not recorded: %s", id,
			  verb ? verb : "-", uri ? uri : "-", x->code, err ? err : tg_strerror(r));
		return r;
	}
	memcpy(audit_id, id, 37);
	return 1;
}

/* One log line per refusal, except those whose record was suppressed:
 * the log is bounded as the audit log is. */
static void serve_log_refusal(int recorded, const struct serve_refusal *x, const char *audit_id)
{
	_cleanup_free_ char *uri = gw_event_uri(x->uri, x->uri_len);
	_cleanup_free_ char *verb = gw_event_text(x->method, x->method_len, GW_EVENT_MAX_VERB);

	log_msg(recorded ? LOG_LVL_INFO : LOG_LVL_DEBUG, "%s %s user=\"-\" code=%d audit=%s%s%s",
		verb && *verb ? verb : "-", uri && *uri ? uri : "-", x->code,
		audit_id[0] ? audit_id : recorded ? "unwritten" : "suppressed",
		!strcmp(x->where, "http") ? " http: " : "", !strcmp(x->where, "http") ? x->message : "");
}

/* The HTTP layer refused a request before any handler. */
static void serve_http_refused(struct http_refusal *rf, void *ud)
{
	struct gateway *gw = ud;
	struct route rt = { .kind = ROUTE_NOT_FOUND };
	_cleanup_free_ char *method = NULL, *target = NULL;
	struct serve_refusal x = {
		.code = rf->code, .message = rf->message, .where = "http",
		.method = rf->method, .method_len = rf->method_len,
		.uri = rf->target, .uri_len = rf->target_len,
		.user_agent = rf->user_agent, .user_agent_len = rf->user_agent_len,
		.peer = rf->peer, .received_ns = rf->received_ns,
	};

	/* The route the head names, even a broken one (routing is pure and
	 * reads only up to a NUL): a 413 on .../traces is a refused create
	 * of traces in that namespace. */
	if (rf->method && rf->target) {
		method = strndup(rf->method, rf->method_len);
		target = strndup(rf->target, rf->target_len);
		if (method && target)
			route_match(method, target, &rt);
		x.resource = rt.resource;
		x.ns = rt.ns[0] ? rt.ns : NULL;
	}
	serve_log_refusal(serve_audit_refusal(gw, &x, rf->audit_id), &x, rf->audit_id);
}

static void serve_respond_status(struct gateway *gw, struct http_conn *c,
				 struct http_request *req, const struct route *rt, int code,
				 const char *msg)
{
	_cleanup_(json_decrefp) json_t *st = status_new(code, msg, NULL);
	_cleanup_free_ char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	const char *ua = http_request_header(req, "User-Agent");
	struct serve_refusal x = {
		.code = code, .message = msg, .where = "route",
		.method = req->method, .method_len = strlen(req->method),
		.uri = req->target, .uri_len = strlen(req->target),
		.user_agent = ua, .user_agent_len = ua ? strlen(ua) : 0,
		.peer = req->peer, .ns = rt->ns[0] ? rt->ns : NULL, .resource = rt->resource,
		.received_ns = now_real_ns(),
	};
	char id[37];
	const char *hdrs[] = { "Audit-ID", id, NULL };

	serve_log_refusal(serve_audit_refusal(gw, &x, id), &x, id);
	(void)http_conn_respond(c, code, "application/json", id[0] ? hdrs : NULL,
				text ? text : "", text ? strlen(text) : 0);
}

static void serve_handler(struct http_conn *c, struct http_request *req, void *ud)
{
	struct gateway *gw = ud;
	struct route rt;

	route_match(req->method, req->target, &rt);
	switch (rt.kind) {
	case ROUTE_HEALTHZ:
		/* No authentication: it says only that the loop is alive.  Not
		 * audited (docs/audit.md): a probe every few seconds would bury
		 * the records that matter. */
		log_debug("%s %s code=200", req->method, req->target);
		(void)http_conn_respond(c, gw->stopping ? 503 : 200, "text/plain", NULL,
					gw->stopping ? "stopping\n" : "ok\n", gw->stopping ? 9 : 3);
		break;
	case ROUTE_VERSION: {
		/* No authentication, as Kubernetes' /version: it names a build,
		 * nothing of anyone's.  Not audited, as /healthz. */
		_cleanup_(wire_version_release) struct wire_version wv = { 0 };
		_cleanup_(json_decrefp) json_t *j = NULL;
		_cleanup_free_ char *d = NULL, *v = NULL;

		log_debug("%s %s code=200", req->method, req->target);
		if (wire_version_this(&wv) < 0 || wire_version_to_json(&wv, &j) < 0 ||
		    !(d = json_dumps(j, JSON_COMPACT)) || asprintf(&v, "%s\n", d) < 0) {
			v = NULL;   /* undefined after a failed asprintf */
			(void)http_conn_respond(c, 500, "text/plain", NULL, "out of memory\n", 14);
		} else {
			(void)http_conn_respond(c, 200, "application/json", NULL, v, strlen(v));
		}
		break;
	}
	case ROUTE_DISCOVERY: {
		/* No authentication: which resources this group has is no one's
		 * secret (kube grants discovery to every user).  Not audited, as
		 * /version: the aggregator polls it. */
		const char *q = strchr(req->target, '?');
		const char *doc = gw_discovery_doc(req->target, q ? (size_t)(q - req->target)
								   : strlen(req->target));

		log_debug("%s %s code=200", req->method, req->target);
		(void)http_conn_respond(c, 200, "application/json", NULL, doc, strlen(doc));
		break;
	}
	case ROUTE_TRACE_CREATE:
	case ROUTE_TRACE_STOP:
	case ROUTE_TRACE_LIST:
	case ROUTE_TRACE_GET:
	case ROUTE_TRACE_LOG:
	case ROUTE_PROBE_LIST:
		trace_handle(gw, c, req, &rt);
		break;
	case ROUTE_BAD_REQUEST:
		serve_respond_status(gw, c, req, &rt, 400, rt.error);
		break;
	case ROUTE_METHOD_NOT_ALLOWED:
		serve_respond_status(gw, c, req, &rt, 405, "method not allowed on this path");
		break;
	default:
		serve_respond_status(gw, c, req, &rt, 404,
				     "the server could not find the requested resource");
		break;
	}
}

/* The counts of suppressed refusal records become summary records. */
static void serve_summaries(struct gateway *gw, bool all)
{
	_cleanup_(json_decrefp) json_t *evs = gw_refusals_flush(gw->refusals, now_real_ns(), all);
	size_t i;
	json_t *ev;

	if (!evs) {
		log_error("audit: summaries of suppressed refusal records: out of memory (counts kept)");
		return;
	}
	json_array_foreach(evs, i, ev) {
		_cleanup_free_ char *err = NULL;
		const char *reason = json_string_value(json_object_get(
			json_object_get(ev, "annotations"), "authorization.k8s.io/reason"));
		int r = audit_log_append(gw->audit, ev, &err);

		/* not silent even then: the counts go to the log */
		if (r < 0)
			log_error("audit: summary not recorded (%s): %s", err ? err : tg_strerror(r),
				  reason ? reason : "?");
		else
			log_info("audit: %s", reason ? reason : "summary");
	}
}

static void serve_summary_tick(evutil_socket_t fd, short what, void *arg)
{
	struct serve *s = arg;

	serve_summaries(&s->gw, false);
}

static void serve_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct serve *s = arg;
	struct timeval tick = { .tv_usec = 100000 };

	if ((http_server_connections(s->gw.http) == 0 && httpc_active(s->gw.httpc) == 0) ||
	    ++s->drain_ticks > SERVE_SHUTDOWN_GRACE_S * 10) {
		event_base_loopbreak(s->gw.base);
		return;
	}
	evtimer_add(s->drain_timer, &tick);
}

static void serve_signal(evutil_socket_t sig, short what, void *arg)
{
	struct serve *s = arg;
	struct timeval tick = { .tv_usec = 100000 };

	if (s->gw.stopping)
		return;
	log_info("signal %d: stopping: no new connections, ending streams", (int)sig);
	s->gw.stopping = true;
	http_server_stop(s->gw.http);
	gw_runners_stop(&s->gw);
	trace_stop_all(&s->gw);
	evtimer_add(s->drain_timer, &tick);
}

/* SIGHUP: read the policy directory again now (changes are also noticed
 * on their own). */
static void serve_reload(evutil_socket_t sig, short what, void *arg)
{
	struct serve *s = arg;

	log_info("signal %d: reloading policies", (int)sig);
	(void)gw_policies_reload(s->gw.policies, NULL);
}

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: tracegate serve --config FILE [--log-json] [--verbose]\n"
		   "\n"
		   "Serves POST /apis/tracegate.dev/v1alpha1/namespaces/{ns}/traces over HTTPS and\n"
		   "GET /healthz.  One log line per request goes to stderr.  The policy\n"
		   "directory is reloaded when it changes (and on SIGHUP); a broken document\n"
		   "keeps the previous policies in force.\n");
}

/* TCP_NODELAY on every client connection, set once its handshake is
 * done.  An answer that bufferevent_openssl writes as two TLS records
 * (the head and the body in two evbuffer chains) otherwise waits with
 * its second segment for the client's ACK of the first, which a client
 * waiting for the rest delays by 40 ms: 1-2% of the answers at 64 kept
 * connections, the whole p99 of the benchmark.  (The accept in http.c is
 * the natural place; this does it from the TLS context the gateway
 * hands it.) */
static void serve_tls_info(const SSL *ssl, int where, int ret)
{
	int one = 1, fd;

	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	fd = SSL_get_fd(ssl);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void serve_audit_synced(evutil_socket_t fd, short what, void *arg)
{
	struct gateway *gw = arg;

	(void)audit_log_dispatch(gw->audit);
}

/* Group commit: the requests whose records a sync covered go on from
 * the loop (docs/audit.md, "Durability and failure"). */
static int serve_audit_group(struct gateway *gw, char **ret_err)
{
	int fd, r;

	r = audit_log_group_start(gw->audit, &fd, ret_err);
	if (r < 0)
		return r;
	gw->audit_synced = event_new(gw->base, fd, EV_READ | EV_PERSIST, serve_audit_synced, gw);
	/* Answers whose records are on disk go out before the loop reads
	 * more requests: at 64 busy connections a pass over new requests
	 * (each writes its record) held the waiting answers for milliseconds,
	 * the tail of the latency. */
	if (gw->audit_synced)
		event_priority_set(gw->audit_synced, 0);
	if (!gw->audit_synced || event_add(gw->audit_synced, NULL) < 0)
		return tg_fail(ret_err, -ENOMEM, "audit log: cannot watch its syncs");
	return 0;
}

/* The gateway's identity to its runners and a gate per runner
 * (docs/internals/gateway.md, "Runner connections"). */
static int serve_runner_conns(struct gateway *gw, char **ret_err)
{
	const struct gw_config *cfg = gw->cfg;
	int r;

	r = httpc_mtls_new(cfg->runner_ca, cfg->runner_cert, cfg->runner_key, &gw->runner_tls, ret_err);
	if (r < 0)
		return r;
	gw->runner_gates = calloc(cfg->nrunners ? cfg->nrunners : 1, sizeof(*gw->runner_gates));
	if (!gw->runner_gates)
		return tg_fail(ret_err, -ENOMEM, "runner connections: out of memory");
	for (size_t i = 0; i < cfg->nrunners; i++)
		if (httpc_gate_new(gw->httpc, GW_RUNNER_HANDSHAKES, &gw->runner_gates[i]) < 0)
			return tg_fail(ret_err, -ENOMEM, "runner connections: out of memory");
	return 0;
}

/* Then the transfers, then the identity they use. */
static void serve_runner_conns_free(struct gateway *gw)
{
	for (size_t i = 0; gw->runner_gates && i < gw->cfg->nrunners; i++)
		httpc_gate_free(gw->runner_gates[i]);
	free(gw->runner_gates);
	gw->runner_gates = NULL;
	gw->httpc = httpc_free(gw->httpc);
	gw->runner_tls = httpc_mtls_free(gw->runner_tls);
}

static uint64_t ttl_ns(unsigned s)
{
	/* 0 in the file means "do not cache" */
	return s ? (uint64_t)s * 1000000000ull : UINT64_MAX;
}

static int serve_caches(const struct gw_config *cfg, struct gateway *gw)
{
	struct kube_cache_opts o = { .sz = sizeof(o), .token_ttl_ns = ttl_ns(cfg->authn_ttl_s),
				     .allowed_ttl_ns = ttl_ns(cfg->allowed_ttl_s),
				     .denied_ttl_ns = ttl_ns(cfg->denied_ttl_s) };
	int r;

	r = kube_token_cache_new(&o, &gw->token_cache);
	if (r < 0)
		return r;
	r = kube_sar_cache_new(&o, &gw->sar_cache);
	if (r < 0)
		return r;
	return gw_dry_cache_new(ttl_ns(cfg->dry_run_ttl_s), &gw->dry_cache);
}

/* Signals, the drain timer and the refusal summaries' timer; logs why not. */
static int serve_events(struct serve *s)
{
	s->sigterm = evsignal_new(s->gw.base, SIGTERM, serve_signal, s);
	s->sigint = evsignal_new(s->gw.base, SIGINT, serve_signal, s);
	s->sighup = evsignal_new(s->gw.base, SIGHUP, serve_reload, s);
	s->drain_timer = evtimer_new(s->gw.base, serve_drain_tick, s);
	if (!s->sigterm || !s->sigint || !s->drain_timer || evsignal_add(s->sigterm, NULL) < 0 ||
	    evsignal_add(s->sigint, NULL) < 0 || !s->sighup || evsignal_add(s->sighup, NULL) < 0) {
		log_error("signals: cannot install handlers");
		return -ENOMEM;
	}
	s->summary_timer = event_new(s->gw.base, -1, EV_PERSIST, serve_summary_tick, s);
	if (!s->summary_timer ||
	    evtimer_add(s->summary_timer, &(struct timeval){ .tv_sec = s->gw.cfg->audit_refusals.summary_s }) < 0) {
		log_error("audit summaries: cannot start the timer");
		return -ENOMEM;
	}
	return 0;
}

/* What runs beside the requests: the watches (runners found from the API,
 * pods from a watch-fed cache), the audit log's group commit, and the
 * completion of the traces a killed predecessor left without an end
 * record (their runners kept the counts).  Logs why not. */
static int serve_background(struct gateway *gw)
{
	const struct gw_config *cfg = gw->cfg;
	_cleanup_free_ char *err = NULL;
	int r;

	gw->pod_changed = trace_workload_pod_changed;
	if (gw->dry_cache && gw_dry_flights_new(gw->base, trace_dry_woken, &gw->dry_flights) < 0) {
		log_error("dry runs in flight: out of memory");
		return -ENOMEM;
	}
	r = gw_runners_start(gw, gw_recover_start, &err);
	if (r < 0) {
		log_error("caches: %s", err ? err : tg_strerror(r));
		return r;
	}
	r = serve_audit_group(gw, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		return r;
	}
	/* with discovery, once the runner pods are first listed */
	if (!cfg->discovery) {
		r = gw_recover_start(gw, &err);
		if (r < 0)
			log_error("%s", err ? err : tg_strerror(r));
	}
	if (cfg->discovery)
		log_info("runner discovery: pods of namespace \"%s\" with labels \"%s\", port %u, certificate name \"%s\"",
			 cfg->discovery->namespace, cfg->discovery->label_selector, cfg->discovery->port,
			 cfg->discovery->server_name);
	return 0;
}

/* Front-proxy authentication (aggregated mode), when configured. */
static int serve_frontproxy(const struct gw_config *cfg, struct gateway *gw, char **ret_err)
{
	struct gw_frontproxy_opts o = { .sz = sizeof(o), .base = gw->base, .httpc = gw->httpc,
					.kube = gw->kube, .cm_namespace = cfg->rh_cm_namespace,
					.cm_name = cfg->rh_cm_name, .poll_s = cfg->rh_poll_s };
	int r;

	if (!cfg->rh_enabled)
		return 0;
	if (cfg->rh_client_ca) {
		r = fp_settings_from_files(cfg->rh_client_ca,
					   (const char *const *)cfg->rh_allowed_names,
					   (const char *const *)cfg->rh_user_headers,
					   (const char *const *)cfg->rh_group_headers,
					   (const char *const *)cfg->rh_extra_prefixes,
					   (const char *const *)cfg->rh_uid_headers, &o.settings, ret_err);
		if (r < 0)
			return r;
		log_info("request-header configuration from \"%s\"", cfg->rh_client_ca);
	}
	return gw_frontproxy_new(&o, &gw->frontproxy, ret_err);
}

static int serve_run(const struct gw_config *cfg)
{
	struct serve s = { 0 };
	_cleanup_(SSL_CTX_freep) SSL_CTX *ssl = NULL;
	_cleanup_free_ char *err = NULL;
	struct tls_opts topts = { .sz = sizeof(topts), .cert_file = cfg->tls_cert,
				  .key_file = cfg->tls_key,
				  .request_client_cert = cfg->rh_enabled };
	struct kube_client_opts kopts = { .sz = sizeof(kopts), .server = cfg->api_server,
					  .ca_file = cfg->api_ca, .token_file = cfg->api_token_file,
					  .client_cert = cfg->api_client_cert,
					  .client_key = cfg->api_client_key,
					  .timeout_ms = cfg->api_timeout_ms };
	struct audit_opts aopts = { .sz = sizeof(aopts), .key_file = cfg->audit_key_file,
				    .rotate_bytes = cfg->audit_rotate_bytes,
				    .keep_files = cfg->audit_keep };
	struct http_limits hl = {
		.max_body_bytes = cfg->limits.max_body_bytes,
		.max_headers = cfg->limits.max_headers,
		.max_header_bytes = cfg->limits.max_header_bytes,
		.max_connections = cfg->limits.max_connections,
		.output_high_water = cfg->limits.output_high_water,
		.request_timeout_s = cfg->limits.request_timeout_s,
		.handshake_timeout_s = cfg->limits.handshake_timeout_s,
		.max_pending_per_peer = cfg->limits.max_pending_per_peer,
		.stall_timeout_s = cfg->limits.stall_timeout_s,
		.keep_alive_s = cfg->limits.keep_alive_s,
		.max_requests = cfg->limits.max_requests,
	};
	int r, ret = 1;

	s.gw.cfg = cfg;
	r = tls_server_ctx_new(&topts, &ssl, &err);
	if (r < 0) {
		log_error("tls: %s", err ? err : tg_strerror(r));
		return 1;
	}
	SSL_CTX_set_info_callback(ssl, serve_tls_info);
	r = kube_client_new(&kopts, &s.gw.kube, &err);
	if (r < 0) {
		log_error("apiServer: %s", err ? err : tg_strerror(r));
		return 1;
	}
	r = audit_log_open(cfg->audit_path, &aopts, &s.gw.audit, &err);
	if (r < 0) {
		log_error("audit log \"%s\": %s", cfg->audit_path, err ? err : tg_strerror(r));
		goto out;
	}
	if (audit_log_repaired(s.gw.audit))
		log_warn("audit log \"%s\": a torn last record (%llu bytes, a write interrupted by a crash, never acknowledged) was cut off",
			 cfg->audit_path, (unsigned long long)audit_log_repaired(s.gw.audit));
	r = gw_refusals_new(&cfg->audit_refusals, &s.gw.refusals);
	if (r < 0) {
		log_error("audit refusal bound: %s", tg_strerror(r));
		goto out;
	}
	r = serve_caches(cfg, &s.gw);
	if (r < 0) {
		log_error("caches: %s", tg_strerror(r));
		goto out;
	}
	s.gw.base = event_base_new();
	/* two priorities: the audit syncs' completions (0) before everything
	 * else (1, the default), see serve_audit_group */
	if (s.gw.base && event_base_priority_init(s.gw.base, 2) < 0) {
		log_error("event loop: cannot set priorities");
		goto out;
	}
	if (!s.gw.base || httpc_new(s.gw.base, &s.gw.httpc) < 0) {
		log_error("event loop: out of memory");
		goto out;
	}
	r = serve_runner_conns(&s.gw, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		goto out;
	}
	/* Default deny: without a policy directory, the "restricted" preset.
	 * With one, it is watched and reloaded on change. */
	r = gw_policies_new(s.gw.base, cfg->policies, &s.gw.policies, &err);
	if (r < 0) {
		log_error("policies \"%s\": %s", cfg->policies ? cfg->policies : "restricted",
			  err ? err : tg_strerror(r));
		goto out;
	}
	r = serve_frontproxy(cfg, &s.gw, &err);
	if (r < 0) {
		log_error("requestHeader: %s", err ? err : tg_strerror(r));
		goto out;
	}
	r = http_server_new(s.gw.base, ssl, cfg->listen_host, cfg->listen_port, &hl, serve_handler,
			    &s.gw, &s.gw.http, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		goto out;
	}
	http_server_set_refuse_hook(s.gw.http, serve_http_refused, &s.gw);
	if (serve_events(&s) < 0)
		goto out;
	if (serve_background(&s.gw) < 0)
		goto out;
	log_info("serving on %s:%d (%zu runners, %zu policies, audit \"%s\")", cfg->listen_host,
		 http_server_port(s.gw.http), cfg->nrunners,
		 tg_policy_set_count(gw_policies_current(s.gw.policies)),
		 cfg->audit_path);
	event_base_dispatch(s.gw.base);
	/* After the loop: anything still open (grace ran out) is ended now;
	 * answers that wait for their records' sync are given (a record's
	 * sync may end a request with another record to sync). */
	do
		trace_stop_all(&s.gw);
	while (audit_log_flush(s.gw.audit) > 0);
	/* what was counted and not yet summarized goes out now, all of it */
	serve_summaries(&s.gw, true);
	log_info("stopped");
	ret = 0;
out:
	if (s.summary_timer)
		event_free(s.summary_timer);
	if (s.sigterm)
		event_free(s.sigterm);
	if (s.sigint)
		event_free(s.sigint);
	if (s.sighup)
		event_free(s.sighup);
	if (s.drain_timer)
		event_free(s.drain_timer);
	if (s.gw.audit_synced)
		event_free(s.gw.audit_synced);
	gw_recover_stop(&s.gw);
	gw_detend_stop(&s.gw);
	/* its timer and poll live on the loop and httpc */
	s.gw.frontproxy = gw_frontproxy_free(s.gw.frontproxy);
	gw_runners_free(&s.gw);
	s.gw.http = http_server_free(s.gw.http);
	serve_runner_conns_free(&s.gw);
	s.gw.policies = gw_policies_free(s.gw.policies);
	s.gw.dry_flights = gw_dry_flights_free(s.gw.dry_flights);   /* its event is on the loop */
	if (s.gw.base)
		event_base_free(s.gw.base);
	s.gw.audit = audit_log_close(s.gw.audit);
	s.gw.refusals = gw_refusals_free(s.gw.refusals);
	s.gw.kube = kube_client_free(s.gw.kube);
	s.gw.sessions_snap = wire_sessions_free(s.gw.sessions_snap);
	json_decref(s.gw.sessions_ended);
	s.gw.token_cache = kube_token_cache_free(s.gw.token_cache);
	s.gw.sar_cache = kube_sar_cache_free(s.gw.sar_cache);
	s.gw.dry_cache = lru_free(s.gw.dry_cache);
	return ret;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gw_config *cfg = NULL;
	_cleanup_free_ char *err = NULL;
	const char *path = NULL;
	int c, r, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			log_set_json(true);
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			serve_usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		serve_usage(stderr);
		return 2;
	}
	r = gw_config_load(path, &cfg, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl: cannot initialise");
		gw_config_free(cfg);
		return 1;
	}
	ret = serve_run(cfg);
	curl_global_cleanup();
	gw_config_free(cfg);
	return ret;
}
