/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small Kubernetes API client: TokenReview, SubjectAccessReview, Pods.
 *
 * Two halves, so the gateway can drive requests on its own event loop:
 *  - request builders and response parsers (pure: JSON in, JSON out);
 *  - kube_client_setup_easy() which configures a curl easy handle for a
 *    request (URL, CA verification, bearer token, body), used both by the
 *    blocking kube_client_do() and by the gateway's curl multi loop.
 * Any error or unexpected answer is a deny: parsers return negative codes
 * and never an "allowed" result they did not read.
 */
#ifndef TG_KUBE_KUBE_H
#define TG_KUBE_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include <jansson.h>
#include "lib/buf.h"

/* Limits on what the API server (or a client through it) can make us hold. */
#define KUBE_DEFAULT_TIMEOUT_MS 10000L
#define KUBE_MAX_RESPONSE (4u << 20)     /* bytes of one response body */
#define KUBE_TOKEN_MAX_LEN (16u << 10)   /* bytes of a bearer token */
#define KUBE_MAX_AUDIENCES 16            /* audiences in one TokenReview */
#define KUBE_MAX_NAME_LEN 1024u          /* user name, attribute, pod field */
#define KUBE_MAX_GROUPS 1024             /* groups of one user */
#define KUBE_MAX_EXTRA 64                /* keys of user.extra */
#define KUBE_MAX_CONTAINERS 256          /* container statuses of one pod */

struct kube_client_opts {
	size_t sz;
	const char *server;       /* https://host:port */
	const char *ca_file;      /* CA that signed the API server's cert */
	const char *token_file;   /* the gateway's service-account token (re-read
				     on every request: projected tokens rotate) */
	const char *client_cert;  /* optional x509 client auth */
	const char *client_key;
	long timeout_ms;          /* per request; 0 = 10000 */
};

struct kube_client;
int kube_client_new(const struct kube_client_opts *opts, struct kube_client **ret, char **ret_err);
struct kube_client *kube_client_free(struct kube_client *c);

struct kube_request {
	const char *method;       /* "GET", "POST" */
	char *path;               /* "/apis/authentication.k8s.io/v1/tokenreviews" */
	char *body;               /* JSON or NULL */
};
void kube_request_release(struct kube_request *r);

/* Configures e for r (e keeps pointers into r and c: keep both alive).
 * Response bytes go wherever the caller's WRITEFUNCTION sends them. */
int kube_client_setup_easy(struct kube_client *c, CURL *e, const struct kube_request *r,
			   struct curl_slist **ret_headers);
/* Blocking: performs r, returns the HTTP status in *ret_status and the body
 * (at most 4 MiB) in *ret_body, which must be initialized (BUF_INIT): its
 * old contents are released and replaced.  Transport failures (connect,
 * TLS verification, timeout, size cap, unreadable token file) are
 * -TG_EUPSTREAM with *ret_err; any HTTP status is a success here and is
 * judged by the parsers. */
int kube_client_do(struct kube_client *c, const struct kube_request *r, long *ret_status,
		   struct buf *ret_body, char **ret_err);

struct kube_user {
	char *username;
	char *uid;
	char **groups;            /* NULL-terminated */
	json_t *extra;            /* object string -> [string], or NULL */
};
void kube_user_release(struct kube_user *u);
/* Deep copy (username required); -ENOMEM or -EINVAL. */
int kube_user_copy(const struct kube_user *src, struct kube_user *ret);

/* TokenReview: spec.token, spec.audiences (NULL-terminated, may be NULL). */
int kube_tokenreview_request(const char *token, const char *const *audiences,
			     struct kube_request *ret);
/* 0 and *ret_user when authenticated (and, when audiences were requested,
 * status.audiences intersects them); -TG_EAUTHN with *ret_err when not;
 * -TG_EUPSTREAM on any unexpected answer. */
int kube_tokenreview_parse(long http_status, const char *body, size_t len,
			   const char *const *audiences, struct kube_user *ret_user,
			   char **ret_err);
/* The same, and *ret_cacheable: true when the answer may be cached (an
 * authenticated user, or a clean "not authenticated"), false for errors
 * and for answers carrying status.error, which k8s never caches. */
int kube_tokenreview_parse_ex(long http_status, const char *body, size_t len,
			      const char *const *audiences, struct kube_user *ret_user,
			      bool *ret_cacheable, char **ret_err);

struct kube_resource_attrs {
	const char *namespace;
	const char *verb;
	const char *group;
	const char *version;
	const char *resource;
	const char *subresource;
	const char *name;
};
/* SubjectAccessReview for user (copied verbatim: user, uid, groups, extra).
 * verb and resource are required; empty fields are left out (omitempty).
 * -EINVAL without a user name or group, -TG_ELIMIT for an attribute longer
 * than KUBE_MAX_NAME_LEN. */
int kube_sar_request(const struct kube_user *user, const struct kube_resource_attrs *attrs,
		     struct kube_request *ret);
/* The "spec" object of that review (a new reference), also the cache key. */
json_t *kube_sar_spec(const struct kube_user *user, const struct kube_resource_attrs *attrs);
/* 0 with *ret_allowed (true only when allowed && !denied) and *ret_reason
 * (status.reason; for a refusal without one, the evaluationError, "denied"
 * or "no opinion"); negative on any unexpected answer (treat as deny),
 * including allowed and denied both true.  ret_reason may be NULL. */
int kube_sar_parse(long http_status, const char *body, size_t len, bool *ret_allowed,
		   char **ret_reason, char **ret_err);

/* A container of a pod: every one its spec names and its status reports
 * (containers, init and ephemeral containers), in that order. */
struct kube_container {
	char *name;               /* a DNS-1123 label (others are left out) */
	char *id;                 /* status' containerID ("containerd://<id>"), "" when none */
	bool running;             /* an id, and neither waiting nor terminated */
};

struct kube_pod {
	char *namespace;
	char *name;
	char *uid;                /* metadata.uid (or the config hash for static pods) */
	char *node;               /* spec.nodeName */
	char *qos;                /* status.qosClass */
	char *phase;
	char **container_ids;     /* "containerd://<id>" ..., NULL-terminated */
	struct kube_container *containers;
	size_t ncontainers;
};
void kube_pod_release(struct kube_pod *p);
/* -EINVAL unless ns is an RFC 1123 label and name an RFC 1123 subdomain. */
int kube_pod_get_request(const char *ns, const char *name, struct kube_request *ret);
/* GET /api/v1/nodes/NAME: -EINVAL unless name is an RFC 1123 subdomain. */
int kube_node_get_request(const char *name, struct kube_request *ret);
/* The answer to it: 0 when it is a Node named name, -TG_ENOTFOUND on 404,
 * -TG_EUPSTREAM (with *ret_err) for any other status or a body that is
 * not that Node. */
int kube_node_parse(long http_status, const char *body, size_t len, const char *name, char **ret_err);
bool kube_namespace_valid(const char *ns);
bool kube_name_valid(const char *name);
/* 0 and *ret; -TG_ENOTFOUND on 404; -TG_EUPSTREAM otherwise.  uid is the
 * annotation kubernetes.io/config.mirror (else config.hash) when present,
 * metadata.uid otherwise, and only ever [0-9A-Za-z-]{1,64}; node, qos and
 * phase are "" when absent; container_ids skips containers not created
 * yet and is never NULL. */
int kube_pod_parse(long http_status, const char *body, size_t len, struct kube_pod *ret,
		   char **ret_err);

#endif
