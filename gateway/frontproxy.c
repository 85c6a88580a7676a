// SPDX-License-Identifier: Apache-2.0
/* Front-proxy (request-header) authentication: frontproxy.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "gateway/frontproxy.h"
#include "gateway/http.h"
#include "gateway/httpc.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cleanup-ssl.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/opts.h"
#include "lib/util.h"
#include "kube/kube.h"
#include "lib/banned.h"

/* The names kube-apiserver's defaults and every aggregator use.  Any
 * X-Remote-* header is refused from anyone but the front proxy, whatever
 * the configured names are. */
static const char *const std_user[] = { "X-Remote-User", NULL };
static const char *const std_group[] = { "X-Remote-Group", NULL };
static const char *const std_extra[] = { "X-Remote-Extra-", NULL };

struct fp_settings *fp_settings_free(struct fp_settings *s)
{
	if (!s)
		return NULL;
	X509_STORE_free(s->ca);
	strv_free(s->allowed_names);
	strv_free(s->user_headers);
	strv_free(s->group_headers);
	strv_free(s->extra_prefixes);
	strv_free(s->uid_headers);
	free(s->version);
	free(s);
	return NULL;
}

static void fp_settings_freep(struct fp_settings **s)
{
	fp_settings_free(*s);
}

/* A header name: RFC 7230 token characters. */
static bool header_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > FP_MAX_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

static int strv_from(const char *const *in, bool names_are_headers, const char *what,
		     char ***ret, char **ret_err)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0;

	while (in && in[n])
		n++;
	if (n > FP_MAX_NAMES)
		return tg_fail(ret_err, -TG_ECONFIG, "%s: more than %d entries", what, FP_MAX_NAMES);
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (names_are_headers ? !header_name_ok(in[i])
				      : (!*in[i] || strlen(in[i]) > FP_MAX_NAME_LEN))
			return tg_fail(ret_err, -TG_ECONFIG, "%s: entry %zu \"%.64s\" is not a valid %s", what, i,
				       in[i], names_are_headers ? "header name" : "name");
		v[i] = strdup(in[i]);
		if (!v[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static int ca_store_from_pem(const char *pem, size_t len, const char *what, X509_STORE **ret,
			     char **ret_err)
{
	X509_STORE *st = NULL;
	BIO *bio;
	X509 *x;
	int n = 0;

	if (!len)
		return tg_fail(ret_err, -TG_ECONFIG, "%s: empty (front-proxy authentication is off)", what);
	if (len > FP_MAX_CA_BYTES)
		return tg_fail(ret_err, -TG_ECONFIG, "%s: larger than %u bytes", what, FP_MAX_CA_BYTES);
	bio = BIO_new_mem_buf(pem, (int)len);
	st = bio ? X509_STORE_new() : NULL;
	if (!st) {
		BIO_free(bio);
		return -ENOMEM;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		int ok = ++n <= FP_MAX_CA_CERTS && X509_STORE_add_cert(st, x) == 1;

		X509_free(x);
		if (!ok) {
			BIO_free(bio);
			X509_STORE_free(st);
			return tg_fail(ret_err, -TG_ECONFIG, "%s: certificate %d %s", what, n,
				       n > FP_MAX_CA_CERTS ? "is beyond the limit of 64" : "cannot be added");
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	if (!n) {
		X509_STORE_free(st);
		return tg_fail(ret_err, -TG_ECONFIG, "%s: no PEM certificate in it", what);
	}
	*ret = st;
	return 0;
}

int fp_settings_from_files(const char *ca_file, const char *const *allowed_names,
			   const char *const *user_headers, const char *const *group_headers,
			   const char *const *extra_prefixes, const char *const *uid_headers,
			   struct fp_settings **ret, char **ret_err)
{
	_cleanup_(fp_settings_freep) struct fp_settings *s = calloc(1, sizeof(*s));
	_cleanup_free_ char *pem = NULL;
	size_t len = 0;
	int r;

	if (!s)
		return -ENOMEM;
	r = read_file(ca_file, FP_MAX_CA_BYTES, &pem, &len);
	if (r < 0)
		return tg_fail(ret_err, -TG_ECONFIG, "requestHeader.clientCA \"%s\": %s", ca_file, tg_strerror(r));
	r = ca_store_from_pem(pem, len, "requestHeader.clientCA", &s->ca, ret_err);
	if (r < 0)
		return r;
	if ((r = strv_from(allowed_names, false, "requestHeader.allowedNames", &s->allowed_names,
			   ret_err)) < 0 ||
	    (r = strv_from(user_headers ? user_headers : std_user, true,
			   "requestHeader.usernameHeaders", &s->user_headers, ret_err)) < 0 ||
	    (r = strv_from(group_headers ? group_headers : std_group, true,
			   "requestHeader.groupHeaders", &s->group_headers, ret_err)) < 0 ||
	    (r = strv_from(extra_prefixes ? extra_prefixes : std_extra, true,
			   "requestHeader.extraHeadersPrefix", &s->extra_prefixes, ret_err)) < 0 ||
	    (r = strv_from(uid_headers, true, "requestHeader.uidHeaders", &s->uid_headers,
			   ret_err)) < 0)
		return r;
	s->version = strdup("file");
	if (!s->version)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

/* data[key]: a JSON-encoded array of strings, stored as a string. */
static int cm_list(json_t *data, const char *key, const char *const *dflt, bool headers,
		   char ***ret, char **ret_err)
{
	json_t *v = json_object_get(data, key), *e;
	_cleanup_(json_decrefp) json_t *arr = NULL;
	_cleanup_free_ const char **tmp = NULL;
	json_error_t jerr;
	size_t i;

	if (!v)
		return strv_from(dflt, headers, key, ret, ret_err);
	if (!json_is_string(v))
		return tg_fail(ret_err, -TG_ECONFIG, "data.%s: not a string", key);
	arr = json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &jerr);
	if (!json_is_array(arr))
		return tg_fail(ret_err, -TG_ECONFIG, "data.%s: not a JSON array of strings", key);
	if (json_array_size(arr) > FP_MAX_NAMES)
		return tg_fail(ret_err, -TG_ECONFIG, "data.%s: more than %d entries", key, FP_MAX_NAMES);
	tmp = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!tmp)
		return -ENOMEM;
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e))
			return tg_fail(ret_err, -TG_ECONFIG, "data.%s: entry %zu is not a string", key, i);
		tmp[i] = json_string_value(e);
	}
	return strv_from(tmp, headers, key, ret, ret_err);
}

int fp_settings_from_configmap(long status, const char *body, size_t len,
			       struct fp_settings **ret, char **ret_err)
{
	_cleanup_(fp_settings_freep) struct fp_settings *s = calloc(1, sizeof(*s));
	_cleanup_(json_decrefp) json_t *cm = NULL;
	json_t *data, *ca;
	const char *rv;
	int r;

	if (!s)
		return -ENOMEM;
	cm = json_loadb(body ? body : "", len, 0, NULL);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(cm, "message"));

		*ret_err = NULL;
		if (asprintf(ret_err, "HTTP %ld%s%s", status, msg ? ": " : "", msg ? msg : "") < 0)
			*ret_err = NULL;
		return status == 404 ? -TG_ENOTFOUND : -TG_EUPSTREAM;
	}
	if (!json_is_object(cm) || strcmp(json_string_value(json_object_get(cm, "kind")) ?: "",
					  "ConfigMap"))
		return tg_fail(ret_err, -TG_ECONFIG, "the answer is not a ConfigMap");
	data = json_object_get(cm, "data");
	if (!json_is_object(data))
		return tg_fail(ret_err, -TG_ECONFIG, "data: missing (front-proxy authentication is off)");
	ca = json_object_get(data, "requestheader-client-ca-file");
	if (!json_is_string(ca))
		return tg_fail(ret_err, -TG_ECONFIG, "data.requestheader-client-ca-file: missing (front-proxy "
					"authentication is off in this cluster)");
	r = ca_store_from_pem(json_string_value(ca), json_string_length(ca),
			      "data.requestheader-client-ca-file", &s->ca, ret_err);
	if (r < 0)
		return r;
	if ((r = cm_list(data, "requestheader-allowed-names", NULL, false, &s->allowed_names,
			 ret_err)) < 0 ||
	    (r = cm_list(data, "requestheader-username-headers", std_user, true, &s->user_headers,
			 ret_err)) < 0 ||
	    (r = cm_list(data, "requestheader-group-headers", std_group, true, &s->group_headers,
			 ret_err)) < 0 ||
	    (r = cm_list(data, "requestheader-extra-headers-prefix", std_extra, true,
			 &s->extra_prefixes, ret_err)) < 0 ||
	    (r = cm_list(data, "requestheader-uid-headers", NULL, true, &s->uid_headers,
			 ret_err)) < 0)
		return r;
	rv = json_string_value(json_object_get(json_object_get(cm, "metadata"), "resourceVersion"));
	s->version = strdup(rv ? rv : "");
	if (!s->version)
		return -ENOMEM;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- authentication -------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *fp_unescape_key(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
			/* url.PathUnescape fails: the key is kept as sent */
			memcpy(out, s, len);
			out[len] = '\0';
			return out;
		}
		out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[o] = '\0';
	return out;
}

static bool name_in(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcasecmp(name, *list))
			return true;
	return false;
}

static const char *prefix_of(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (!strncasecmp(name, *list, strlen(*list)))
			return *list;
	return NULL;
}

/* The first identity header of req (configured or standard), or NULL. */
static const char *identity_header(const struct fp_settings *s, const struct http_request *req)
{
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name;

		/* every X-Remote-*: the standard names and any other a proxy
		 * might add; none of them is anyone's to send but the proxy's */
		if (!strncasecmp(n, "X-Remote-", 9))
			return n;
		if (s && (name_in(n, (const char *const *)s->user_headers) ||
			  name_in(n, (const char *const *)s->group_headers) ||
			  name_in(n, (const char *const *)s->uid_headers) ||
			  prefix_of(n, (const char *const *)s->extra_prefixes)))
			return n;
	}
	return NULL;
}

/* The peer's certificate chains to the request-header CA (purpose
 * clientAuth) and its CN is allowed. */
static int verify_peer(const struct fp_settings *s, SSL *ssl, const char *hdr, char **ret_err)
{
	X509 *leaf = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	X509_STORE_CTX *xs;
	char cn[256] = "";
	int ok, err;

	if (!leaf)
		return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\" from a client without the front-proxy client "
				       "certificate: identity headers are accepted only from the front proxy",
			      hdr);
	xs = X509_STORE_CTX_new();
	if (!xs || X509_STORE_CTX_init(xs, s->ca, leaf, SSL_get_peer_cert_chain(ssl)) != 1) {
		X509_STORE_CTX_free(xs);
		return -ENOMEM;
	}
	X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(xs);
	err = X509_STORE_CTX_get_error(xs);
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
				      sizeof(cn)) < 0)
		cn[0] = '\0';
	if (ok != 1)
		return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": the client certificate (CN \"%s\") is not "
				       "verified against the request-header CA: %s",
			      hdr, cn, X509_verify_cert_error_string(err));
	if (s->allowed_names[0] && !name_in(cn, (const char *const *)s->allowed_names))
		return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": the front-proxy client certificate's CN \"%s\" "
				       "is not in the allowed names", hdr, cn);
	return 0;
}

static bool utf8_ok(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_valid_len((const unsigned char *)s + i, n - i)))
			return false;
	return true;
}

/* A user, uid, group or extra value: it goes into SubjectAccessReviews and
 * the audit log as a JSON string. */
static bool value_ok(const char *v)
{
	return *v && strlen(v) <= KUBE_MAX_NAME_LEN && utf8_ok(v);
}

static int extra_add(json_t *extra, const char *key, const char *value)
{
	json_t *arr = json_object_get(extra, key);

	if (!arr) {
		if (json_object_size(extra) >= KUBE_MAX_EXTRA)
			return -E2BIG;
		arr = json_array();
		if (!arr || json_object_set_new(extra, key, arr) < 0)
			return -ENOMEM;
	}
	if (json_array_size(arr) >= FP_MAX_EXTRA_VALUES)
		return -E2BIG;
	return json_array_append_new(arr, json_string(value)) < 0 ? -ENOMEM : 0;
}

static int read_identity(const struct fp_settings *s, const struct http_request *req,
			 struct kube_user *u, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *extra = json_object();
	size_t ngroups = 0;
	bool have_auth_group = false;

	if (!extra)
		return -ENOMEM;
	u->groups = calloc(req->nheaders + 2, sizeof(char *));
	if (!u->groups)
		return -ENOMEM;
	/* username and uid: the first non-empty, in the configured order */
	for (char **h = s->user_headers; *h && !u->username; h++)
		for (size_t i = 0; i < req->nheaders && !u->username; i++)
			if (!strcasecmp(req->headers[i].name, *h) && *req->headers[i].value) {
				if (!value_ok(req->headers[i].value))
					return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": not UTF-8 or longer than %u bytes",
						      *h, KUBE_MAX_NAME_LEN);
				u->username = strdup(req->headers[i].value);
				if (!u->username)
					return -ENOMEM;
			}
	if (!u->username)
		return tg_fail(ret_err, -TG_EAUTHN, "the front proxy sent no user (header \"%s\")",
			      s->user_headers[0] ? s->user_headers[0] : "X-Remote-User");
	for (char **h = s->uid_headers; *h && !u->uid; h++)
		for (size_t i = 0; i < req->nheaders && !u->uid; i++)
			if (!strcasecmp(req->headers[i].name, *h) && *req->headers[i].value) {
				if (!value_ok(req->headers[i].value))
					return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": not UTF-8 or longer than %u bytes",
						      *h, KUBE_MAX_NAME_LEN);
				u->uid = strdup(req->headers[i].value);
				if (!u->uid)
					return -ENOMEM;
			}
	/* groups: every value of every group header, one line one group */
	for (char **h = s->group_headers; *h; h++)
		for (size_t i = 0; i < req->nheaders; i++) {
			const char *v = req->headers[i].value;

			if (strcasecmp(req->headers[i].name, *h))
				continue;
			if (!value_ok(v))
				return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": empty, not UTF-8 or longer than %u bytes",
					      *h, KUBE_MAX_NAME_LEN);
			if (ngroups >= KUBE_MAX_GROUPS)
				return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": more than %d groups", *h,
					      KUBE_MAX_GROUPS);
			u->groups[ngroups] = strdup(v);
			if (!u->groups[ngroups++])
				return -ENOMEM;
			have_auth_group |= !strcmp(v, "system:authenticated");
		}
	/* as the generic apiserver's AuthenticatedGroupAdder */
	if (!have_auth_group && !(u->groups[ngroups] = strdup("system:authenticated")))
		return -ENOMEM;
	/* extra: key = the suffix lower-cased, then percent-decoded */
	for (char **p = s->extra_prefixes; *p; p++)
		for (size_t i = 0; i < req->nheaders; i++) {
			const char *n = req->headers[i].name;
			_cleanup_free_ char *low = NULL, *key = NULL;
			int r;

			if (strncasecmp(n, *p, strlen(*p)))
				continue;
			low = strdup(n + strlen(*p));
			if (!low)
				return -ENOMEM;
			for (char *c = low; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			key = fp_unescape_key(low, strlen(low));
			if (!key)
				return -ENOMEM;
			if (!value_ok(key) || !value_ok(req->headers[i].value))
				return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": the extra key or the value is empty, "
						       "not UTF-8 or longer than %u bytes",
					      n, KUBE_MAX_NAME_LEN);
			r = extra_add(extra, key, req->headers[i].value);
			if (r == -E2BIG)
				return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": more than %d extra keys or %d values "
						       "of one", n, KUBE_MAX_EXTRA, FP_MAX_EXTRA_VALUES);
			if (r < 0)
				return r;
		}
	if (json_object_size(extra))
		u->extra = TAKE_PTR(extra);
	return 0;
}

int fp_authenticate(const struct fp_settings *s, bool configured, const char *why_unloaded,
		    SSL *ssl, const struct http_request *req, struct kube_user *ret_user,
		    char **ret_err)
{
	struct kube_user u = { 0 };
	const char *hdr = identity_header(s, req);
	int r;

	*ret_err = NULL;
	if (!hdr)
		return 0;
	if (!configured)
		return tg_fail(ret_err, -TG_EAUTHN, "header \"%s\": identity headers are accepted only from a front "
				       "proxy, and front-proxy authentication is not configured", hdr);
	if (!s) {
		if (asprintf(ret_err, "front-proxy authentication is not loaded yet: %s",
			     why_unloaded ? why_unloaded : "no answer from the API server") < 0)
			*ret_err = NULL;
		return -EAGAIN;
	}
	r = verify_peer(s, ssl, hdr, ret_err);
	if (r < 0)
		return r;
	r = read_identity(s, req, &u, ret_err);
	if (r < 0) {
		kube_user_release(&u);
		return r;
	}
	*ret_user = u;
	return 1;
}

/* ---- the settings in force and their reload ---------------------------------- */

struct gw_frontproxy {
	struct gw_frontproxy_opts o;
	struct fp_settings *cur;
	char *error;               /* the last load's failure, or NULL */
	struct kube_request kreq;
	struct httpc_xfer *x;
	struct event *timer;
};

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void fp_set_error(struct gw_frontproxy *f, char *err)
{
	free(f->error);
	f->error = err;
}

/* A fetched ConfigMap: swapped in when it parses and its version is new. */
static void fp_apply(struct gw_frontproxy *f, long status, const char *body, size_t len)
{
	struct fp_settings *s = NULL;
	_cleanup_free_ char *err = NULL;
	int r = fp_settings_from_configmap(status, body, len, &s, &err);

	if (r < 0) {
		if (!f->error || !err || strcmp(f->error, err))
			log_warn("request-header configuration \"%s/%s\": %s%s", f->o.cm_namespace,
				 f->o.cm_name, err ? err : tg_strerror(r),
				 f->cur ? "; the previous one stays in force" : "");
		fp_set_error(f, TAKE_PTR(err));
		return;
	}
	fp_set_error(f, NULL);
	if (f->cur && !strcmp(f->cur->version, s->version)) {
		fp_settings_free(s);
		return;
	}
	log_info("request-header configuration \"%s/%s\" loaded (resourceVersion %s, %zu allowed names)",
		 f->o.cm_namespace, f->o.cm_name, s->version, strv_len(s->allowed_names));
	fp_settings_free(f->cur);
	f->cur = s;
}

static void fp_fetched(int result, long status, const char *body, size_t len, const char *err,
		       void *ud)
{
	struct gw_frontproxy *f = ud;

	f->x = NULL;
	if (result < 0) {
		char *e = NULL;

		if (asprintf(&e, "%s", err ? err : tg_strerror(result)) < 0)
			e = NULL;
		if (!f->error || !e || strcmp(f->error, e))
			log_warn("request-header configuration \"%s/%s\": %s", f->o.cm_namespace,
				 f->o.cm_name, e ? e : "fetch failed");
		fp_set_error(f, e);
		return;
	}
	fp_apply(f, status, body, len);
}

static void fp_tick(evutil_socket_t fd, short what, void *ud)
{
	struct gw_frontproxy *f = ud;
	CURL *e;
	struct curl_slist *hdrs = NULL;
	int r;

	(void)fd;
	(void)what;
	if (f->x)
		return;  /* the previous poll is still on its way */
	e = curl_easy_init();
	if (!e)
		return;
	r = kube_client_setup_easy(f->o.kube, e, &f->kreq, &hdrs);
	if (r < 0) {
		curl_easy_cleanup(e);
		return;
	}
	r = httpc_fetch(f->o.httpc, e, hdrs, KUBE_MAX_RESPONSE, fp_fetched, f, &f->x);
	if (r < 0)
		log_warn("request-header configuration: cannot poll: %s", tg_strerror(r));
}

int gw_frontproxy_new(const struct gw_frontproxy_opts *o, struct gw_frontproxy **ret,
		      char **ret_err)
{
	struct gw_frontproxy *f;
	struct buf body = BUF_INIT(KUBE_MAX_RESPONSE);
	_cleanup_free_ char *err = NULL;
	long status = 0;
	int r;

	if (!o || !OPTS_VALID(o, struct gw_frontproxy_opts))
		return tg_fail(ret_err, -EINVAL, "front proxy: options of another size");
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->o = *o;
	f->o.settings = NULL;
	if (o->settings) {
		f->cur = o->settings;
		*ret = f;
		return 0;
	}
	if (asprintf(&f->kreq.path, "/api/v1/namespaces/%s/configmaps/%s", o->cm_namespace,
		     o->cm_name) < 0) {
		f->kreq.path = NULL;
		gw_frontproxy_free(f);
		return -ENOMEM;
	}
	f->kreq.method = "GET";
	r = kube_client_do(o->kube, &f->kreq, &status, &body, &err);
	if (r < 0) {
		buf_release(&body);
		gw_frontproxy_free(f);
		return tg_fail(ret_err, -TG_ECONFIG, "ConfigMap \"%s/%s\": %s", o->cm_namespace, o->cm_name,
			       err ? err : tg_strerror(r));
	}
	fp_apply(f, status, body.s, body.len);
	buf_release(&body);
	if (!f->cur) {
		r = tg_fail(ret_err, -TG_ECONFIG, "ConfigMap \"%s/%s\": %s", o->cm_namespace, o->cm_name,
			    f->error ? f->error : "cannot be read");
		gw_frontproxy_free(f);
		return r;
	}
	f->timer = event_new(o->base, -1, EV_PERSIST, fp_tick, f);
	if (!f->timer || evtimer_add(f->timer, &(struct timeval){ .tv_sec = o->poll_s }) < 0) {
		gw_frontproxy_free(f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

struct gw_frontproxy *gw_frontproxy_free(struct gw_frontproxy *f)
{
	if (!f)
		return NULL;
	if (f->timer)
		event_free(f->timer);
	if (f->x)
		httpc_xfer_cancel(f->x);
	kube_request_release(&f->kreq);
	fp_settings_free(f->cur);
	free(f->error);
	free(f);
	return NULL;
}

const struct fp_settings *gw_frontproxy_current(const struct gw_frontproxy *f)
{
	return f ? f->cur : NULL;
}

const char *gw_frontproxy_error(const struct gw_frontproxy *f)
{
	return f ? f->error : NULL;
}
