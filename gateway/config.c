// SPDX-License-Identifier: Apache-2.0
/* The gateway's JSON configuration file. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gateway/config.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "kube/kube.h"
#include "lib/banned.h"

#define GW_CONFIG_MAX_BYTES (1u << 20)
#define GW_CONFIG_MAX_RUNNERS 4096
#define GW_CONFIG_MAX_AUDIENCES 64

/* Parsing state: the error message names the file and the key. */
struct cfg_ctx {
	const char *base_dir;
	char **err;
};

static int cfg_fail(struct cfg_ctx *x, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_fail(struct cfg_ctx *x, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (x->err && asprintf(x->err, "key \"%s\": %s", key, what) < 0)
		*x->err = NULL;
	return -TG_ECONFIG;
}

void gw_limits_default(struct gw_limits *l)
{
	*l = (struct gw_limits){
		.max_body_bytes = GW_DEFAULT_MAX_BODY_BYTES,
		.max_headers = GW_DEFAULT_MAX_HEADERS,
		.max_header_bytes = GW_DEFAULT_MAX_HEADER_BYTES,
		.max_connections = GW_DEFAULT_MAX_CONNECTIONS,
		.output_high_water = GW_DEFAULT_OUTPUT_HIGH_WATER,
		.max_line_bytes = GW_DEFAULT_MAX_LINE_BYTES,
		.max_sessions = GW_DEFAULT_MAX_SESSIONS,
		.request_timeout_s = GW_DEFAULT_REQUEST_TIMEOUT_S,
		.handshake_timeout_s = GW_DEFAULT_HANDSHAKE_TIMEOUT_S,
		.max_pending_per_peer = GW_DEFAULT_MAX_PENDING_PER_PEER,
		.stall_timeout_s = GW_DEFAULT_STALL_TIMEOUT_S,
		.runner_answer_s = GW_DEFAULT_RUNNER_ANSWER_S,
		.keep_alive_s = GW_DEFAULT_KEEP_ALIVE_S,
		.max_requests = GW_DEFAULT_MAX_REQUESTS,
		.max_duration_s = GW_DEFAULT_MAX_DURATION_S,
		.max_pods_per_trace = GW_DEFAULT_MAX_PODS_PER_TRACE,
	};
}

void gw_refusal_limits_default(struct gw_refusal_limits *l)
{
	*l = (struct gw_refusal_limits){
		.per_source_rate = GW_DEFAULT_REFUSALS_SOURCE_RATE,
		.per_source_burst = GW_DEFAULT_REFUSALS_SOURCE_BURST,
		.rate = GW_DEFAULT_REFUSALS_RATE,
		.burst = GW_DEFAULT_REFUSALS_BURST,
		.max_sources = GW_DEFAULT_REFUSALS_MAX_SOURCES,
		.summary_s = GW_DEFAULT_REFUSALS_SUMMARY_S,
		.max_summaries = GW_DEFAULT_REFUSALS_MAX_SUMMARIES,
	};
}

/* Checks that obj is an object whose keys are all in allowed. */
static int cfg_object(struct cfg_ctx *x, const char *key, json_t *obj, const char *const *allowed)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return cfg_fail(x, key, "expected an object");
	json_object_foreach(obj, k, v) {
		bool ok = false;

		for (const char *const *a = allowed; a && *a; a++)
			if (!strcmp(*a, k))
				ok = true;
		if (!ok) {
			_cleanup_free_ char *full = NULL;

			if (asprintf(&full, "%s%s%s", key, *key ? "." : "", k) < 0)
				return -ENOMEM;
			return cfg_fail(x, full, "unknown key");
		}
	}
	return 0;
}

static int cfg_string(struct cfg_ctx *x, json_t *obj, const char *parent, const char *name,
		      bool required, char **ret)
{
	_cleanup_free_ char *key = NULL;
	json_t *v = json_object_get(obj, name);
	const char *s;

	if (asprintf(&key, "%s%s%s", parent, *parent ? "." : "", name) < 0)
		return -ENOMEM;
	if (!v) {
		if (required)
			return cfg_fail(x, key, "missing");
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return cfg_fail(x, key, "expected a string");
	s = json_string_value(v);
	if (!*s || strlen(s) != json_string_length(v))
		return cfg_fail(x, key, "expected a non-empty string without NUL bytes");
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* A path: relative ones are made relative to the configuration's directory. */
static int cfg_path(struct cfg_ctx *x, json_t *obj, const char *parent, const char *name,
		    bool required, char **ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cfg_string(x, obj, parent, name, required, &s);

	if (r < 0)
		return r;
	if (s && s[0] != '/' && x->base_dir) {
		char *full;

		if (asprintf(&full, "%s/%s", x->base_dir, s) < 0)
			return -ENOMEM;
		free(s);
		s = full;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

static int cfg_uint(struct cfg_ctx *x, json_t *obj, const char *parent, const char *name,
		    uint64_t min, uint64_t max, uint64_t *ret)
{
	_cleanup_free_ char *key = NULL;
	json_t *v = json_object_get(obj, name);
	json_int_t i;

	if (!v)
		return 0;   /* keeps the default in *ret */
	if (asprintf(&key, "%s%s%s", parent, *parent ? "." : "", name) < 0)
		return -ENOMEM;
	if (!json_is_integer(v))
		return cfg_fail(x, key, "expected an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return cfg_fail(x, key, "%lld is out of range %llu..%llu", (long long)i,
				(unsigned long long)min, (unsigned long long)max);
	*ret = (uint64_t)i;
	return 0;
}

#define CFG_UINT(x, obj, parent, name, min, max, field)                              \
	({                                                                           \
		uint64_t v_ = (field);                                               \
		int r_ = cfg_uint((x), (obj), (parent), (name), (min), (max), &v_); \
		if (r_ >= 0)                                                         \
			(field) = (__typeof__(field))v_;                             \
		r_;                                                                  \
	})

/* "host:port" or "[v6]:port"; the port is required. */
static int cfg_listen(struct cfg_ctx *x, const char *s, char **ret_host, char **ret_port)
{
	const char *colon, *host_start = s, *host_end;
	_cleanup_free_ char *host = NULL, *port = NULL;
	uint64_t p;

	if (s[0] == '[') {
		host_end = strchr(s, ']');
		if (!host_end || host_end[1] != ':')
			return cfg_fail(x, "listen", "\"%s\" is not host:port", s);
		host_start = s + 1;
		colon = host_end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return cfg_fail(x, "listen", "\"%s\" is not host:port", s);
		host_end = colon;
	}
	if (parse_u64(colon + 1, &p) < 0 || p > 65535)
		return cfg_fail(x, "listen", "\"%s\" has no valid port", s);
	host = strndup(host_start, (size_t)(host_end - host_start));
	port = strdup(colon + 1);
	if (!host || !port)
		return -ENOMEM;
	*ret_host = TAKE_PTR(host);
	*ret_port = TAKE_PTR(port);
	return 0;
}

static int cfg_runners(struct cfg_ctx *x, json_t *obj, struct gw_config *c)
{
	const char *node;
	json_t *v;
	size_t n = json_object_size(obj);

	if (!json_is_object(obj))
		return cfg_fail(x, "runners", "expected an object of node name to {\"url\": ...}");
	if (n > GW_CONFIG_MAX_RUNNERS)
		return cfg_fail(x, "runners", "more than %d runners", GW_CONFIG_MAX_RUNNERS);
	c->runners = calloc(n ? n : 1, sizeof(*c->runners));
	if (!c->runners)
		return -ENOMEM;
	json_object_foreach(obj, node, v) {
		static const char *const keys[] = { "url", NULL };
		struct gw_runner *ru = &c->runners[c->nrunners];
		_cleanup_free_ char *key = NULL;
		size_t len;
		int r;

		if (asprintf(&key, "runners.%s", node) < 0)
			return -ENOMEM;
		r = cfg_object(x, key, v, keys);
		if (r < 0)
			return r;
		ru->node = strdup(node);
		if (!ru->node)
			return -ENOMEM;
		c->nrunners++;
		r = cfg_string(x, v, key, "url", true, &ru->url);
		if (r < 0)
			return r;
		if (!str_has_prefix(ru->url, "https://"))
			return cfg_fail(x, key, "url \"%s\" is not https://", ru->url);
		len = strlen(ru->url);
		while (len > 8 && ru->url[len - 1] == '/')
			ru->url[--len] = '\0';
	}
	return 0;
}

static int cfg_discovery(struct cfg_ctx *x, json_t *o, struct gw_config *c)
{
	static const char *const keys[] = { "namespace", "labelSelector", "port", "serverName", NULL };
	const char *p = "runnerDiscovery";
	struct gw_discovery *d;
	int r;

	if (!o)
		return 0;
	d = c->discovery = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->port = GW_DEFAULT_RUNNER_PORT;
	if ((r = cfg_object(x, p, o, keys)) < 0 || (r = cfg_string(x, o, p, "namespace", true, &d->namespace)) < 0 ||
	    (r = cfg_string(x, o, p, "labelSelector", true, &d->label_selector)) < 0 ||
	    (r = cfg_string(x, o, p, "serverName", false, &d->server_name)) < 0 ||
	    (r = CFG_UINT(x, o, p, "port", 1, 65535, d->port)) < 0)
		return r;
	if (!kube_namespace_valid(d->namespace))
		return cfg_fail(x, "runnerDiscovery.namespace", "\"%s\" is not a namespace name", d->namespace);
	if (strlen(d->label_selector) > 4096 || strchr(d->label_selector, '\n'))
		return cfg_fail(x, "runnerDiscovery.labelSelector", "longer than 4096 bytes or several lines");
	if (!d->server_name && !(d->server_name = strdup(GW_DEFAULT_RUNNER_SERVER_NAME)))
		return -ENOMEM;
	/* it becomes a URL's host and a CURLOPT_CONNECT_TO name */
	if (!kube_name_valid(d->server_name))
		return cfg_fail(x, "runnerDiscovery.serverName", "\"%s\" is not a DNS name", d->server_name);
	return 0;
}

static int cfg_audiences(struct cfg_ctx *x, json_t *arr, struct gw_config *c)
{
	size_t i, n;
	json_t *v;

	if (!arr)
		return cfg_fail(x, "audiences", "missing (the gateway must bind tokens to its audience)");
	n = json_array_size(arr);
	if (!json_is_array(arr) || n == 0)
		return cfg_fail(x, "audiences", "expected a non-empty array of strings");
	if (n > GW_CONFIG_MAX_AUDIENCES)
		return cfg_fail(x, "audiences", "more than %d audiences", GW_CONFIG_MAX_AUDIENCES);
	c->audiences = calloc(n + 1, sizeof(char *));
	if (!c->audiences)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !*json_string_value(v))
			return cfg_fail(x, "audiences", "entry %zu is not a non-empty string", i);
		c->audiences[i] = strdup(json_string_value(v));
		if (!c->audiences[i])
			return -ENOMEM;
	}
	return 0;
}

/* A list of strings under parent.name (absent: *ret stays NULL). */
static int cfg_strv(struct cfg_ctx *x, json_t *obj, const char *parent, const char *name,
		    size_t max, char ***ret)
{
	_cleanup_free_ char *key = NULL;
	json_t *v = json_object_get(obj, name), *e;
	size_t i;

	if (!v)
		return 0;
	if (asprintf(&key, "%s.%s", parent, name) < 0)
		return -ENOMEM;
	if (!json_is_array(v))
		return cfg_fail(x, key, "expected an array of strings");
	if (json_array_size(v) > max)
		return cfg_fail(x, key, "more than %zu entries", max);
	*ret = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || !json_string_length(e))
			return cfg_fail(x, key, "entry %zu is not a non-empty string", i);
		(*ret)[i] = strdup(json_string_value(e));
		if (!(*ret)[i])
			return -ENOMEM;
	}
	return 0;
}

/* "requestHeader": {"configMap": "NS/NAME", "pollSeconds": N} or
 * {"clientCA": FILE, "allowedNames": [...], "usernameHeaders": [...],
 *  "groupHeaders": [...], "extraHeadersPrefix": [...], "uidHeaders": [...]} */
static int cfg_request_header(struct cfg_ctx *x, json_t *o, struct gw_config *c)
{
	static const char *const keys[] = { "configMap", "pollSeconds", "clientCA", "allowedNames",
					    "usernameHeaders", "groupHeaders", "extraHeadersPrefix",
					    "uidHeaders", NULL };
	static const char *const lists[] = { "allowedNames", "usernameHeaders", "groupHeaders",
					     "extraHeadersPrefix", "uidHeaders" };
	char **const *dst[] = { &c->rh_allowed_names, &c->rh_user_headers, &c->rh_group_headers,
				&c->rh_extra_prefixes, &c->rh_uid_headers };
	_cleanup_free_ char *cm = NULL;
	const char *slash;
	int r;

	if (!o)
		return 0;
	c->rh_enabled = true;
	c->rh_poll_s = GW_DEFAULT_RH_POLL_S;
	if ((r = cfg_object(x, "requestHeader", o, keys)) < 0 ||
	    (r = cfg_string(x, o, "requestHeader", "configMap", false, &cm)) < 0 ||
	    (r = CFG_UINT(x, o, "requestHeader", "pollSeconds", 1, 3600, c->rh_poll_s)) < 0 ||
	    (r = cfg_path(x, o, "requestHeader", "clientCA", false, &c->rh_client_ca)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		if (json_object_get(o, lists[i]) && !c->rh_client_ca)
			return cfg_fail(x, "requestHeader.clientCA",
					"missing: \"%s\" is given only with the clientCA file (else the "
					"ConfigMap says it)", lists[i]);
		r = cfg_strv(x, o, "requestHeader", lists[i], 64, (char ***)dst[i]);
		if (r < 0)
			return r;
	}
	if (c->rh_client_ca) {
		if (cm)
			return cfg_fail(x, "requestHeader.configMap",
					"give either configMap or clientCA, not both");
		return 0;
	}
	if (!cm && !(cm = strdup(GW_DEFAULT_RH_CONFIGMAP)))
		return -ENOMEM;
	slash = strchr(cm, '/');
	if (!slash || slash == cm || !slash[1] || strchr(slash + 1, '/'))
		return cfg_fail(x, "requestHeader.configMap", "\"%s\" is not NAMESPACE/NAME", cm);
	c->rh_cm_namespace = strndup(cm, (size_t)(slash - cm));
	c->rh_cm_name = strdup(slash + 1);
	if (!c->rh_cm_namespace || !c->rh_cm_name)
		return -ENOMEM;
	return 0;
}

static int cfg_limits(struct cfg_ctx *x, json_t *o, struct gw_limits *l)
{
	static const char *const keys[] = { "maxBodyBytes", "maxHeaders", "maxHeaderBytes",
					    "maxConnections", "outputHighWater", "maxLineBytes",
					    "maxSessions", "requestTimeoutSeconds",
					    "stallTimeoutSeconds", "maxDurationSeconds",
					    "maxPodsPerTrace", "keepAliveSeconds",
					    "maxRequestsPerConnection", "handshakeTimeoutSeconds",
					    "maxPendingPerPeer", "runnerAnswerSeconds", NULL };
	int r;

	if (!o)
		return 0;
	r = cfg_object(x, "limits", o, keys);
	if (r < 0)
		return r;
	if ((r = CFG_UINT(x, o, "limits", "maxBodyBytes", 1024, 64u << 20, l->max_body_bytes)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxHeaders", 8, 1024, l->max_headers)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxHeaderBytes", 1024, 1u << 20, l->max_header_bytes)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxConnections", 1, 100000, l->max_connections)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "outputHighWater", 4096, 64u << 20, l->output_high_water)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxLineBytes", 1024, 64u << 20, l->max_line_bytes)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxSessions", 1, 100000, l->max_sessions)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "requestTimeoutSeconds", 1, 3600, l->request_timeout_s)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "stallTimeoutSeconds", 1, 3600, l->stall_timeout_s)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxDurationSeconds", 1, 7 * 86400, l->max_duration_s)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxPodsPerTrace", 1, 4096, l->max_pods_per_trace)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "keepAliveSeconds", 0, 3600, l->keep_alive_s)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxRequestsPerConnection", 1, 100000, l->max_requests)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "handshakeTimeoutSeconds", 1, 3600, l->handshake_timeout_s)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "maxPendingPerPeer", 1, 100000, l->max_pending_per_peer)) < 0 ||
	    (r = CFG_UINT(x, o, "limits", "runnerAnswerSeconds", 1, 3600, l->runner_answer_s)) < 0)
		return r;
	return 0;
}

static int cfg_refusals(struct cfg_ctx *x, json_t *o, struct gw_refusal_limits *l)
{
	static const char *const keys[] = { "perSourceRate", "perSourceBurst", "rate", "burst",
					     "maxSources", "summarySeconds", "maxSummaries", NULL };
	const char *p = "audit.refusals";
	int r;

	gw_refusal_limits_default(l);
	if (!o)
		return 0;
	if ((r = cfg_object(x, p, o, keys)) < 0 ||
	    (r = CFG_UINT(x, o, p, "perSourceRate", 1, 10000, l->per_source_rate)) < 0 ||
	    (r = CFG_UINT(x, o, p, "perSourceBurst", 1, 100000, l->per_source_burst)) < 0 ||
	    (r = CFG_UINT(x, o, p, "rate", 1, 10000, l->rate)) < 0 ||
	    (r = CFG_UINT(x, o, p, "burst", 1, 100000, l->burst)) < 0 ||
	    (r = CFG_UINT(x, o, p, "maxSources", 1, 16384, l->max_sources)) < 0 ||
	    (r = CFG_UINT(x, o, p, "summarySeconds", 1, 3600, l->summary_s)) < 0 ||
	    (r = CFG_UINT(x, o, p, "maxSummaries", 1, 1024, l->max_summaries)) < 0)
		return r;
	return 0;
}

static int cfg_build(struct cfg_ctx *x, json_t *root, struct gw_config *c)
{
	static const char *const top[] = { "listen", "tls", "apiServer", "audiences", "runners",
					   "runnerDiscovery", "runnerTLS", "audit", "policies", "limits",
					   "cache", "requestHeader", NULL };
	static const char *const tls_keys[] = { "cert", "key", NULL };
	static const char *const api_keys[] = { "server", "ca", "tokenFile", "clientCert",
						"clientKey", "timeoutMs", NULL };
	static const char *const rtls_keys[] = { "ca", "cert", "key", NULL };
	static const char *const audit_keys[] = { "path", "keyFile", "rotateBytes", "keep",
						  "refusals", "detachedEndPollSeconds", NULL };
	static const char *const cache_keys[] = { "tokenReviewSeconds", "allowedSeconds",
						  "deniedSeconds", "dryRunSeconds", "pods", "maxObjects",
						  NULL };
	_cleanup_free_ char *listen = NULL;
	_cleanup_(json_decrefp) json_t *empty = NULL;
	json_t *o;
	int r;

	r = cfg_object(x, "", root, top);
	if (r < 0)
		return r;

	r = cfg_string(x, root, "", "listen", true, &listen);
	if (r < 0)
		return r;
	r = cfg_listen(x, listen, &c->listen_host, &c->listen_port);
	if (r < 0)
		return r;

	o = json_object_get(root, "tls");
	if (!o)
		return cfg_fail(x, "tls", "missing (the gateway serves HTTPS only)");
	if ((r = cfg_object(x, "tls", o, tls_keys)) < 0 ||
	    (r = cfg_path(x, o, "tls", "cert", true, &c->tls_cert)) < 0 ||
	    (r = cfg_path(x, o, "tls", "key", true, &c->tls_key)) < 0)
		return r;

	o = json_object_get(root, "apiServer");
	if (!o)
		return cfg_fail(x, "apiServer", "missing");
	c->api_timeout_ms = 10000;
	if ((r = cfg_object(x, "apiServer", o, api_keys)) < 0 ||
	    (r = cfg_string(x, o, "apiServer", "server", true, &c->api_server)) < 0 ||
	    (r = cfg_path(x, o, "apiServer", "ca", true, &c->api_ca)) < 0 ||
	    (r = cfg_path(x, o, "apiServer", "tokenFile", false, &c->api_token_file)) < 0 ||
	    (r = cfg_path(x, o, "apiServer", "clientCert", false, &c->api_client_cert)) < 0 ||
	    (r = cfg_path(x, o, "apiServer", "clientKey", false, &c->api_client_key)) < 0 ||
	    (r = CFG_UINT(x, o, "apiServer", "timeoutMs", 100, 600000, c->api_timeout_ms)) < 0)
		return r;
	if (!str_has_prefix(c->api_server, "https://"))
		return cfg_fail(x, "apiServer.server", "\"%s\" is not https://", c->api_server);
	if (!c->api_token_file && !c->api_client_cert)
		return cfg_fail(x, "apiServer.tokenFile", "missing (or give clientCert and clientKey)");
	if (!c->api_client_cert != !c->api_client_key)
		return cfg_fail(x, "apiServer.clientKey", "clientCert and clientKey go together");

	r = cfg_audiences(x, json_object_get(root, "audiences"), c);
	if (r < 0)
		return r;

	r = cfg_discovery(x, json_object_get(root, "runnerDiscovery"), c);
	if (r < 0)
		return r;
	o = json_object_get(root, "runners");
	if (!o && !c->discovery)
		return cfg_fail(x, "runners", "missing (and no runnerDiscovery)");
	if (!o && !(empty = json_object()))
		return -ENOMEM;
	r = cfg_runners(x, o ? o : empty, c);
	if (r < 0)
		return r;

	o = json_object_get(root, "runnerTLS");
	if (!o)
		return cfg_fail(x, "runnerTLS", "missing (runners require mutual TLS)");
	if ((r = cfg_object(x, "runnerTLS", o, rtls_keys)) < 0 ||
	    (r = cfg_path(x, o, "runnerTLS", "ca", true, &c->runner_ca)) < 0 ||
	    (r = cfg_path(x, o, "runnerTLS", "cert", true, &c->runner_cert)) < 0 ||
	    (r = cfg_path(x, o, "runnerTLS", "key", true, &c->runner_key)) < 0)
		return r;

	o = json_object_get(root, "audit");
	if (!o)
		return cfg_fail(x, "audit", "missing (every request is audited)");
	c->audit_rotate_bytes = GW_DEFAULT_AUDIT_ROTATE_BYTES;
	c->audit_keep = GW_DEFAULT_AUDIT_KEEP;
	c->audit_detached_poll_s = GW_DEFAULT_AUDIT_DETACHED_POLL_S;
	if ((r = cfg_object(x, "audit", o, audit_keys)) < 0 ||
	    (r = cfg_path(x, o, "audit", "path", true, &c->audit_path)) < 0 ||
	    (r = cfg_path(x, o, "audit", "keyFile", false, &c->audit_key_file)) < 0 ||
	    (r = CFG_UINT(x, o, "audit", "rotateBytes", 0, UINT64_MAX >> 1, c->audit_rotate_bytes)) < 0 ||
	    (r = CFG_UINT(x, o, "audit", "keep", 0, 10000, c->audit_keep)) < 0 ||
	    /* under the runners' 600 s keep of an ended session's end */
	    (r = CFG_UINT(x, o, "audit", "detachedEndPollSeconds", 1, 300, c->audit_detached_poll_s)) < 0 ||
	    (r = cfg_refusals(x, json_object_get(o, "refusals"), &c->audit_refusals)) < 0)
		return r;

	r = cfg_path(x, root, "", "policies", false, &c->policies);
	if (r < 0)
		return r;
	r = cfg_request_header(x, json_object_get(root, "requestHeader"), c);
	if (r < 0)
		return r;

	c->authn_ttl_s = GW_DEFAULT_AUTHN_TTL_S;
	c->allowed_ttl_s = GW_DEFAULT_ALLOWED_TTL_S;
	c->denied_ttl_s = GW_DEFAULT_DENIED_TTL_S;
	c->dry_run_ttl_s = GW_DEFAULT_DRY_RUN_TTL_S;
	c->cache_pods = true;
	c->cache_max_objects = GW_DEFAULT_CACHE_MAX_OBJECTS;
	o = json_object_get(root, "cache");
	if (o) {
		json_t *pods = json_object_get(o, "pods");

		if (pods && !json_is_boolean(pods))
			return cfg_fail(x, "cache.pods", "expected true or false");
		c->cache_pods = !pods || json_is_true(pods);
		/* Revocation takes effect only after a TTL: keep them short. */
		if ((r = cfg_object(x, "cache", o, cache_keys)) < 0 ||
		    (r = CFG_UINT(x, o, "cache", "maxObjects", 1, 1000000, c->cache_max_objects)) < 0 ||
		    (r = CFG_UINT(x, o, "cache", "tokenReviewSeconds", 0, 120, c->authn_ttl_s)) < 0 ||
		    (r = CFG_UINT(x, o, "cache", "allowedSeconds", 0, 300, c->allowed_ttl_s)) < 0 ||
		    (r = CFG_UINT(x, o, "cache", "deniedSeconds", 0, 30, c->denied_ttl_s)) < 0 ||
		    (r = CFG_UINT(x, o, "cache", "dryRunSeconds", 0, 300, c->dry_run_ttl_s)) < 0)
			return r;
	}

	gw_limits_default(&c->limits);
	return cfg_limits(x, json_object_get(root, "limits"), &c->limits);
}

int gw_config_parse(const char *text, size_t len, const char *base_dir, struct gw_config **ret,
		    char **ret_err)
{
	struct gw_config *c;
	struct cfg_ctx x = { .base_dir = base_dir, .err = ret_err };
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t jerr;
	int r;

	if (ret_err)
		*ret_err = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (ret_err && asprintf(ret_err, "line %d column %d: %s", jerr.line, jerr.column,
					jerr.text) < 0)
			*ret_err = NULL;
		return -TG_ECONFIG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (base_dir) {
		c->dir = strdup(base_dir);
		if (!c->dir) {
			gw_config_free(c);
			return -ENOMEM;
		}
	}
	r = cfg_build(&x, root, c);
	if (r < 0) {
		gw_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int gw_config_load(const char *path, struct gw_config **ret, char **ret_err)
{
	_cleanup_free_ char *text = NULL, *dir = NULL, *inner = NULL;
	struct gw_config *c = NULL;
	const char *slash;
	size_t len;
	int r;

	if (ret_err)
		*ret_err = NULL;
	r = read_file(path, GW_CONFIG_MAX_BYTES, &text, &len);
	if (r < 0) {
		if (ret_err && asprintf(ret_err, "config \"%s\": %s", path,
					r == -EFBIG ? "larger than 1 MiB" : strerror(-r)) < 0)
			*ret_err = NULL;
		return -TG_ECONFIG;
	}
	slash = strrchr(path, '/');
	dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	if (!dir)
		return -ENOMEM;
	r = gw_config_parse(text, len, dir, &c, &inner);
	if (r < 0) {
		if (ret_err && asprintf(ret_err, "config \"%s\": %s", path,
					inner ? inner : tg_strerror(r)) < 0)
			*ret_err = NULL;
		return r;
	}
	c->path = strdup(path);
	if (!c->path) {
		gw_config_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct gw_config *gw_config_free(struct gw_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->dir);
	free(c->listen_host);
	free(c->listen_port);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->api_server);
	free(c->api_ca);
	free(c->api_token_file);
	free(c->api_client_cert);
	free(c->api_client_key);
	strv_free(c->audiences);
	for (size_t i = 0; i < c->nrunners; i++) {
		free(c->runners[i].node);
		free(c->runners[i].url);
	}
	free(c->runners);
	if (c->discovery) {
		free(c->discovery->namespace);
		free(c->discovery->label_selector);
		free(c->discovery->server_name);
		free(c->discovery);
	}
	free(c->runner_ca);
	free(c->runner_cert);
	free(c->runner_key);
	free(c->audit_path);
	free(c->audit_key_file);
	free(c->policies);
	free(c->rh_cm_namespace);
	free(c->rh_cm_name);
	free(c->rh_client_ca);
	strv_free(c->rh_allowed_names);
	strv_free(c->rh_user_headers);
	strv_free(c->rh_group_headers);
	strv_free(c->rh_extra_prefixes);
	strv_free(c->rh_uid_headers);
	free(c);
	return NULL;
}

const struct gw_runner *gw_config_runner(const struct gw_config *c, const char *node)
{
	if (!node)
		return NULL;
	for (size_t i = 0; i < c->nrunners; i++)
		if (!strcmp(c->runners[i].node, node))
			return &c->runners[i];
	return NULL;
}
