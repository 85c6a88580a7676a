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
#ifndef TG_RBAC_KUBE_H
#define TG_RBAC_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include <jansson.h>
#include "lib/buf.h"

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
 * (at most 4 MiB) in *ret_body. */
int kube_client_do(struct kube_client *c, const struct kube_request *r, long *ret_status,
		   struct buf *ret_body, char **ret_err);

struct kube_user {
	char *username;
	char *uid;
	char **groups;            /* NULL-terminated */
	json_t *extra;            /* object string -> [string], or NULL */
};
void kube_user_release(struct kube_user *u);

/* TokenReview: spec.token, spec.audiences (NULL-terminated, may be NULL). */
int kube_tokenreview_request(const char *token, const char *const *audiences,
			     struct kube_request *ret);
/* 0 and *ret_user when authenticated (and, when audiences were requested,
 * status.audiences intersects them); -TG_EAUTHN with *ret_err when not;
 * -TG_EUPSTREAM on any unexpected answer. */
int kube_tokenreview_parse(long http_status, const char *body, size_t len,
			   const char *const *audiences, struct kube_user *ret_user,
			   char **ret_err);

struct kube_resource_attrs {
	const char *namespace;
	const char *verb;
	const char *group;
	const char *version;
	const char *resource;
	const char *subresource;
	const char *name;
};
/* SubjectAccessReview for user (copied verbatim: user, uid, groups, extra). */
int kube_sar_request(const struct kube_user *user, const struct kube_resource_attrs *attrs,
		     struct kube_request *ret);
/* 0 with *ret_allowed (true only when allowed && !denied) and *ret_reason;
 * negative on any unexpected answer (treat as deny). */
int kube_sar_parse(long http_status, const char *body, size_t len, bool *ret_allowed,
		   char **ret_reason, char **ret_err);

struct kube_pod {
	char *namespace;
	char *name;
	char *uid;                /* metadata.uid (or the config hash for static pods) */
	char *node;               /* spec.nodeName */
	char *qos;                /* status.qosClass */
	char *phase;
	char **container_ids;     /* "containerd://<id>" ..., NULL-terminated */
};
void kube_pod_release(struct kube_pod *p);
int kube_pod_get_request(const char *ns, const char *name, struct kube_request *ret);
/* 0 and *ret; -TG_ENOTFOUND on 404; -TG_EUPSTREAM otherwise. */
int kube_pod_parse(long http_status, const char *body, size_t len, struct kube_pod *ret,
		   char **ret_err);

#endif
