/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's configuration file (docs/internals/contracts.md, "Gateway
 * command line and configuration"): one JSON object.  Unknown keys are an
 * error, every error names the key, and relative paths are resolved
 * against the directory of the configuration file.
 */
#ifndef TG_GATEWAY_CONFIG_H
#define TG_GATEWAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every client-controlled quantity the gateway handles has a named limit;
 * the defaults below may be changed under "limits" in the file. */
#define GW_DEFAULT_MAX_BODY_BYTES      (1u << 20)   /* limits.maxBodyBytes */
#define GW_DEFAULT_MAX_HEADERS         64           /* limits.maxHeaders */
#define GW_DEFAULT_MAX_HEADER_BYTES    (16u << 10)  /* limits.maxHeaderBytes */
#define GW_DEFAULT_MAX_CONNECTIONS     256          /* limits.maxConnections */
#define GW_DEFAULT_OUTPUT_HIGH_WATER   (256u << 10) /* limits.outputHighWater */
#define GW_DEFAULT_MAX_LINE_BYTES      (1u << 20)   /* limits.maxLineBytes (runner lines) */
#define GW_DEFAULT_MAX_SESSIONS        64           /* limits.maxSessions (running traces) */
#define GW_DEFAULT_REQUEST_TIMEOUT_S   30           /* limits.requestTimeoutSeconds */
#define GW_DEFAULT_HANDSHAKE_TIMEOUT_S 5            /* limits.handshakeTimeoutSeconds */
#define GW_DEFAULT_MAX_PENDING_PER_PEER 32          /* limits.maxPendingPerPeer */
#define GW_DEFAULT_STALL_TIMEOUT_S     60           /* limits.stallTimeoutSeconds */
#define GW_DEFAULT_RUNNER_ANSWER_S     90           /* limits.runnerAnswerSeconds */
#define GW_DEFAULT_KEEP_ALIVE_S        5            /* limits.keepAliveSeconds (0: one request per connection) */
#define GW_DEFAULT_MAX_REQUESTS        100          /* limits.maxRequestsPerConnection */
#define GW_DEFAULT_MAX_DURATION_S      300          /* limits.maxDurationSeconds */
#define GW_DEFAULT_MAX_PODS_PER_TRACE  64           /* limits.maxPodsPerTrace (workload targets) */
#define GW_DEFAULT_AUTHN_TTL_S         10           /* cache.tokenReviewSeconds */
#define GW_DEFAULT_ALLOWED_TTL_S       10           /* cache.allowedSeconds */
#define GW_DEFAULT_DENIED_TTL_S        10           /* cache.deniedSeconds */
#define GW_DEFAULT_DRY_RUN_TTL_S       10           /* cache.dryRunSeconds */
#define GW_DEFAULT_RH_POLL_S           10           /* requestHeader.pollSeconds */
#define GW_DEFAULT_RH_CONFIGMAP        "kube-system/extension-apiserver-authentication"

/* The audit log's size on disk: at most (keep + 1) files of rotateBytes. */
#define GW_DEFAULT_AUDIT_ROTATE_BYTES  (100ull << 20) /* audit.rotateBytes (0: never) */
#define GW_DEFAULT_AUDIT_KEEP          5            /* audit.keep */
/* Every runner asked this often for the detached sessions' ends nobody
 * claimed (gateway/detached-end.h): one request per runner and poll. */
#define GW_DEFAULT_AUDIT_DETACHED_POLL_S 10         /* audit.detachedEndPollSeconds */

/*
 * Records of requests refused before authentication (nobody is known to
 * be accountable for them) are bounded by token buckets: one per source
 * address (an IPv6 source is its /64) and one for all sources together.
 * A refusal beyond a bucket is counted, not written; every
 * summarySeconds the counts become summary records, at most maxSummaries
 * of them (the smallest sources merged into the last).  docs/audit.md
 * gives the worst case in bytes per second and on disk.
 */
#define GW_DEFAULT_REFUSALS_SOURCE_RATE   1     /* audit.refusals.perSourceRate (records/s) */
#define GW_DEFAULT_REFUSALS_SOURCE_BURST  10    /* audit.refusals.perSourceBurst */
#define GW_DEFAULT_REFUSALS_RATE          2     /* audit.refusals.rate (records/s, all sources) */
#define GW_DEFAULT_REFUSALS_BURST         20    /* audit.refusals.burst */
#define GW_DEFAULT_REFUSALS_MAX_SOURCES   1024  /* audit.refusals.maxSources */
#define GW_DEFAULT_REFUSALS_SUMMARY_S     60    /* audit.refusals.summarySeconds */
#define GW_DEFAULT_REFUSALS_MAX_SUMMARIES 16    /* audit.refusals.maxSummaries */

struct gw_limits {
	size_t max_body_bytes;
	unsigned max_headers;
	size_t max_header_bytes;
	unsigned max_connections;
	size_t output_high_water;
	size_t max_line_bytes;
	unsigned max_sessions;
	unsigned request_timeout_s;
	unsigned handshake_timeout_s;
	unsigned max_pending_per_peer;
	unsigned stall_timeout_s;
	unsigned runner_answer_s;
	unsigned keep_alive_s;
	unsigned max_requests;
	unsigned max_duration_s;
	unsigned max_pods_per_trace;
};

struct gw_refusal_limits {
	unsigned per_source_rate;
	unsigned per_source_burst;
	unsigned rate;
	unsigned burst;
	unsigned max_sources;
	unsigned summary_s;
	unsigned max_summaries;
};

struct curl_slist;
struct httpc_gate;
struct gw_runner {
	char *node;
	char *url;                /* https://host:port (no trailing slash) */
	/* discovered runners (gateway/runners.c): the URL names the fixed
	 * certificate name, the connection goes to the pod's IP */
	struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO "name:port:ip:port", or NULL */
	char *pod;                /* namespace/name of the runner pod, or NULL */
	struct httpc_gate *gate;  /* discovered: its handshakes in progress (gw_runner_gate) */
	unsigned refs;            /* discovered: the table's and each user's */
};

/* Runners found from the API: the pods of the runner DaemonSet. */
#define GW_DEFAULT_RUNNER_PORT         9443
#define GW_DEFAULT_RUNNER_SERVER_NAME  "tracegate-runner"
#define GW_DEFAULT_CACHE_MAX_OBJECTS   10000        /* cache.maxObjects (per watched resource) */
struct gw_discovery {
	char *namespace;          /* runnerDiscovery.namespace */
	char *label_selector;     /* runnerDiscovery.labelSelector */
	unsigned port;            /* runnerDiscovery.port */
	char *server_name;        /* runnerDiscovery.serverName: the runner certificate's name */
};

struct gw_config {
	char *path;               /* the file read */
	char *dir;                /* its directory */
	char *listen_host;
	char *listen_port;
	char *tls_cert;
	char *tls_key;
	char *api_server;
	char *api_ca;
	char *api_token_file;
	char *api_client_cert;
	char *api_client_key;
	long api_timeout_ms;
	char **audiences;         /* NULL-terminated, at least one */
	struct gw_runner *runners;  /* the static map: node -> URL */
	size_t nrunners;
	struct gw_discovery *discovery; /* or NULL: the static map only */
	bool cache_pods;          /* cache.pods: pod lookups from a watch-fed cache */
	size_t cache_max_objects; /* cache.maxObjects */
	char *runner_ca;
	char *runner_cert;
	char *runner_key;
	char *audit_path;
	char *audit_key_file;     /* or NULL */
	uint64_t audit_rotate_bytes;
	unsigned audit_keep;
	unsigned audit_detached_poll_s; /* audit.detachedEndPollSeconds */
	struct gw_refusal_limits audit_refusals;
	char *policies;           /* directory of TracePolicy documents, or NULL */
	/* "requestHeader": front-proxy authentication (aggregated mode) from
	 * the ConfigMap rh_cm_namespace/rh_cm_name, or from rh_client_ca and
	 * the lists (NULL: the standard names) when that is given */
	bool rh_enabled;
	char *rh_cm_namespace, *rh_cm_name;
	unsigned rh_poll_s;
	char *rh_client_ca;
	char **rh_allowed_names, **rh_user_headers, **rh_group_headers;
	char **rh_extra_prefixes, **rh_uid_headers;
	unsigned authn_ttl_s;
	unsigned allowed_ttl_s;
	unsigned denied_ttl_s;
	unsigned dry_run_ttl_s;    /* cache.dryRunSeconds (gateway/dry-cache.h); 0: off */
	struct gw_limits limits;
};

void gw_limits_default(struct gw_limits *l);
void gw_refusal_limits_default(struct gw_refusal_limits *l);
/* Parses text (len bytes) as if read from a file in base_dir. */
int gw_config_parse(const char *text, size_t len, const char *base_dir, struct gw_config **ret,
		    char **ret_err);
int gw_config_load(const char *path, struct gw_config **ret, char **ret_err);
struct gw_config *gw_config_free(struct gw_config *c);
/* The runner of the static map for a node, or NULL. */
const struct gw_runner *gw_config_runner(const struct gw_config *c, const char *node);

#endif
