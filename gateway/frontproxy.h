/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Front-proxy (request-header) authentication, as kube-apiserver's
 * requestheader authenticator does it for an aggregated API server
 * (k8s.io/apiserver .../request/headerrequest/requestheader.go and
 * .../request/x509/x509.go; docs/internals/gateway.md "Aggregated mode"):
 *
 *  - the TLS peer's certificate must chain to the request-header CA, with
 *    the clientAuth purpose, and its CN must be one of the allowed names
 *    (an empty list: any name that CA signed);
 *  - the user is the first non-empty value of the username headers, the
 *    groups every value of every group header (a header line is one
 *    value: never split on commas), extra the headers under each extra
 *    prefix (key: the suffix lower-cased, then percent-decoded), the uid
 *    the first non-empty uid header;
 *  - a request that carries any such header (the configured names or any
 *    X-Remote-* header) without passing the certificate check is
 *    refused: the headers are never trusted and never silently dropped.
 *
 * The settings come from the ConfigMap
 * kube-system/extension-apiserver-authentication (keys
 * requestheader-client-ca-file, requestheader-allowed-names,
 * requestheader-username-headers, -group-headers, -extra-headers-prefix,
 * -uid-headers; lists are JSON-encoded string arrays), re-read when its
 * resourceVersion changes, or from the gateway's configuration file.
 */
#ifndef TG_GATEWAY_FRONTPROXY_H
#define TG_GATEWAY_FRONTPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

struct http_request;
struct kube_user;
struct kube_client;
struct httpc;
struct event_base;

#define FP_MAX_NAMES 64            /* entries of one list (names, headers, prefixes) */
#define FP_MAX_NAME_LEN 256        /* one allowed name or header name */
#define FP_MAX_CA_BYTES (1u << 20) /* the CA bundle */
#define FP_MAX_CA_CERTS 64         /* certificates in the bundle */
#define FP_MAX_EXTRA_VALUES 64     /* values of one extra key */

/* One version of the settings. */
struct fp_settings {
	X509_STORE *ca;
	char **allowed_names;      /* NULL-terminated; empty: any name the CA signed */
	char **user_headers;
	char **group_headers;
	char **extra_prefixes;
	char **uid_headers;
	char *version;             /* the ConfigMap's resourceVersion, or "file" */
};

struct fp_settings *fp_settings_free(struct fp_settings *s);

/*
 * From a ConfigMap's JSON (GET answer with its HTTP status).  A missing
 * list key takes the standard names (X-Remote-User, X-Remote-Group,
 * X-Remote-Extra-; no uid header); a missing or empty
 * requestheader-client-ca-file is an error (front-proxy authentication is
 * then off in the cluster).  Errors name the key.
 */
int fp_settings_from_configmap(long status, const char *body, size_t len,
			       struct fp_settings **ret, char **ret_err);
/* From files and lists of the configuration (NULL lists: the standard names). */
int fp_settings_from_files(const char *ca_file, const char *const *allowed_names,
			   const char *const *user_headers, const char *const *group_headers,
			   const char *const *extra_prefixes, const char *const *uid_headers,
			   struct fp_settings **ret, char **ret_err);

/*
 * Authenticates req as a front-proxy request under s (NULL: front-proxy
 * authentication is not configured or not loaded; why_unloaded says why).
 *   0: the request carries no identity header: not a front-proxy request
 *      (the bearer token path follows);
 *   1: *ret_user is the asserted user, with system:authenticated added;
 *   -TG_EAUTHN: refused (401), *ret_err names the header or the check that
 *      failed;
 *   -EAGAIN: configured but not loaded yet (503), *ret_err says why;
 *   -ENOMEM.
 */
int fp_authenticate(const struct fp_settings *s, bool configured, const char *why_unloaded,
		    SSL *ssl, const struct http_request *req, struct kube_user *ret_user,
		    char **ret_err);

/* Percent-decodes an extra key as Go's url.PathUnescape; a malformed
 * escape leaves the key as it is.  Caller frees. */
char *fp_unescape_key(const char *s, size_t len);

/*
 * The settings in force and their reload from the ConfigMap (poll by
 * resourceVersion every poll_s; a ConfigMap that does not parse keeps the
 * previous settings).  gw_frontproxy_current() is NULL before the first
 * good load.
 */
struct gw_frontproxy;
struct gw_frontproxy_opts {
	size_t sz;
	struct event_base *base;
	struct httpc *httpc;
	struct kube_client *kube;
	const char *cm_namespace, *cm_name;  /* the ConfigMap, or NULL with settings */
	unsigned poll_s;
	struct fp_settings *settings;        /* static settings (taken), or NULL */
};
/* Loads the ConfigMap once, blocking (the gateway does not listen without
 * it, as kube's delegating authentication), then polls. */
int gw_frontproxy_new(const struct gw_frontproxy_opts *o, struct gw_frontproxy **ret,
		      char **ret_err);
struct gw_frontproxy *gw_frontproxy_free(struct gw_frontproxy *f);
const struct fp_settings *gw_frontproxy_current(const struct gw_frontproxy *f);
const char *gw_frontproxy_error(const struct gw_frontproxy *f);

#endif
