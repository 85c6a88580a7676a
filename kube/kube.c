// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes API client: request builders, response parsers, curl setup.
 *
 * Parsers follow /work/shared/reference/kubernetes.md: omitempty keys read
 * as false/""/[], any other unexpected shape is -TG_EUPSTREAM, and nothing
 * is ever "allowed" or "authenticated" unless the answer said so in the
 * expected place.  Response bodies of TokenReview echo the token: they are
 * never copied into error messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/buf.h"
#include "lib/cleanup-curl.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/status.h"
#include "lib/util.h"
#include "lib/opts.h"
#include "kube/kube.h"
#include "kube/kube-json.h"
#include "lib/banned.h"

#define KUBE_TOKENREVIEW_PATH "/apis/authentication.k8s.io/v1/tokenreviews"
#define KUBE_SAR_PATH "/apis/authorization.k8s.io/v1/subjectaccessreviews"

struct kube_client {
	char *server;
	char *ca_file;
	char *token_file;
	char *client_cert;
	char *client_key;
	long timeout_ms;
};

/* ---- small helpers --------------------------------------------------------- */

int kube_json_set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (!ret_err)
		return 0;
	free(*ret_err);
	*ret_err = NULL;
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return 0;
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void kube_request_release(struct kube_request *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->body);
	r->path = NULL;
	r->body = NULL;
	r->method = NULL;
}

void kube_user_release(struct kube_user *u)
{
	if (!u)
		return;
	free(u->username);
	free(u->uid);
	strv_free(u->groups);
	json_decref(u->extra);
	memset(u, 0, sizeof(*u));
}

static void kube_containers_free(struct kube_container *c, size_t n);

void kube_pod_release(struct kube_pod *p)
{
	if (!p)
		return;
	free(p->namespace);
	free(p->name);
	free(p->uid);
	free(p->node);
	free(p->qos);
	free(p->phase);
	strv_free(p->container_ids);
	kube_containers_free(p->containers, p->ncontainers);
	memset(p, 0, sizeof(*p));
}

int kube_user_copy(const struct kube_user *src, struct kube_user *ret)
{
	struct kube_user u = { 0 };
	size_t n = 0;

	if (!src->username)
		return -EINVAL;
	u.username = strdup(src->username);
	u.uid = strdup_or_null(src->uid);
	if (!u.username || (src->uid && !u.uid))
		goto oom;
	for (char **g = src->groups; g && *g; g++)
		n++;
	u.groups = calloc(n + 1, sizeof(char *));
	if (!u.groups)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		u.groups[i] = strdup(src->groups[i]);
		if (!u.groups[i])
			goto oom;
	}
	if (src->extra) {
		u.extra = json_deep_copy(src->extra);
		if (!u.extra)
			goto oom;
	}
	*ret = u;
	return 0;
oom:
	kube_user_release(&u);
	return -ENOMEM;
}

static int request_set(struct kube_request *ret, const char *method, const char *path, json_t *body)
{
	_cleanup_free_ char *p = strdup(path);
	_cleanup_free_ char *b = NULL;

	if (!p)
		return -ENOMEM;
	if (body) {
		b = json_dumps(body, JSON_COMPACT);
		if (!b)
			return -ENOMEM;
	}
	ret->method = method;
	ret->path = TAKE_PTR(p);
	ret->body = TAKE_PTR(b);
	return 0;
}

static json_t *json_strv(const char *const *v)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	if (!a)
		return NULL;
	for (; v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Loads a response body as a JSON object; NULL and a message otherwise. */
json_t *kube_json_load_object(const char *body, size_t len, const char *what, char **ret_err)
{
	json_error_t jerr;
	json_t *j;

	if (!body) {
		kube_json_set_err(ret_err, "%s: empty response body", what);
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		kube_json_set_err(ret_err, "%s: response is not JSON: %s at line %d column %d", what, jerr.text,
			jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		kube_json_set_err(ret_err, "%s: response is not a JSON object", what);
		return NULL;
	}
	return j;
}

/* For a non-2xx answer: the Status message when the body is one. */
int kube_json_status_error(long http_status, const char *body, size_t len, const char *what, int code,
			char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct status_view v;
	const char *msg, *reason;
	json_error_t jerr;

	if (body && len)
		j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	(void)status_read(j, &v);
	msg = v.message;
	reason = v.reason;
	if (msg)
		kube_json_set_err(ret_err, "%s: api server answered %ld %s: %s", what, http_status,
			reason ? reason : "", msg);
	else
		kube_json_set_err(ret_err, "%s: api server answered %ld", what, http_status);
	return -code;
}

/* Checks apiVersion and kind of a review/object answer. */
int kube_json_check_type(json_t *j, const char *api_version, const char *kind, const char *what,
		      char **ret_err)
{
	const char *av = json_string_value(json_object_get(j, "apiVersion"));
	const char *k = json_string_value(json_object_get(j, "kind"));

	if (!k || strcmp(k, kind) != 0) {
		kube_json_set_err(ret_err, "%s: expected kind \"%s\", got \"%s\"", what, kind, k ? k : "");
		return -TG_EUPSTREAM;
	}
	if (!av || strcmp(av, api_version) != 0) {
		kube_json_set_err(ret_err, "%s: expected apiVersion \"%s\", got \"%s\"", what, api_version,
			av ? av : "");
		return -TG_EUPSTREAM;
	}
	return 0;
}

/* An omitempty bool: missing -> false; present but not a bool -> error. */
static int get_bool(json_t *obj, const char *key, bool *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*ret = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return -EINVAL;
	*ret = json_is_true(v);
	return 0;
}

/* An omitempty string: missing -> NULL; present but not a string -> error. */
int kube_json_get_str(json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	*ret = json_string_value(v);
	return 0;
}

/* ---- client ---------------------------------------------------------------- */

struct kube_client *kube_client_free(struct kube_client *c)
{
	if (!c)
		return NULL;
	free(c->server);
	free(c->ca_file);
	free(c->token_file);
	free(c->client_cert);
	free(c->client_key);
	free(c);
	return NULL;
}

int kube_client_new(const struct kube_client_opts *opts, struct kube_client **ret, char **ret_err)
{
	struct kube_client *c;
	size_t n;

	if (!opts || !OPTS_VALID(opts, struct kube_client_opts) || !ret) {
		kube_json_set_err(ret_err, "kube client options: wrong size or missing");
		return -EINVAL;
	}
	if (!opts->server || !str_has_prefix(opts->server, "https://") || strlen(opts->server) <= 8) {
		kube_json_set_err(ret_err, "api server \"%s\": must be an https:// URL",
			opts->server ? opts->server : "");
		return -TG_ECONFIG;
	}
	if (strpbrk(opts->server, " \t\r\n?#")) {
		kube_json_set_err(ret_err, "api server \"%s\": must not contain spaces, a query or a fragment",
			opts->server);
		return -TG_ECONFIG;
	}
	if (!opts->ca_file || !*opts->ca_file) {
		kube_json_set_err(ret_err, "api server \"%s\": a CA file is required", opts->server);
		return -TG_ECONFIG;
	}
	if (access(opts->ca_file, R_OK) < 0) {
		int e = errno;

		kube_json_set_err(ret_err, "CA file \"%s\": %s", opts->ca_file, strerror(e));
		return -TG_ECONFIG;
	}
	if (!!opts->client_cert != !!opts->client_key) {
		kube_json_set_err(ret_err, "client certificate and key must be given together");
		return -TG_ECONFIG;
	}
	if (!opts->token_file && !opts->client_cert) {
		kube_json_set_err(ret_err, "api server \"%s\": a token file or a client certificate is required",
			opts->server);
		return -TG_ECONFIG;
	}
	if (opts->timeout_ms < 0) {
		kube_json_set_err(ret_err, "api server timeout: must not be negative");
		return -TG_ECONFIG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->server = strdup(opts->server);
	c->ca_file = strdup(opts->ca_file);
	c->token_file = strdup_or_null(opts->token_file);
	c->client_cert = strdup_or_null(opts->client_cert);
	c->client_key = strdup_or_null(opts->client_key);
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : KUBE_DEFAULT_TIMEOUT_MS;
	if (!c->server || !c->ca_file || (opts->token_file && !c->token_file) ||
	    (opts->client_cert && (!c->client_cert || !c->client_key))) {
		kube_client_free(c);
		return -ENOMEM;
	}
	n = strlen(c->server);
	while (n > 8 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	*ret = c;
	return 0;
}

/* Reads the bearer token; trailing whitespace (a newline) is not part of it. */
static int read_token(const char *path, char **ret)
{
	_cleanup_free_ char *t = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, KUBE_TOKEN_MAX_LEN, &t, &len);
	if (r < 0)
		return r;
	while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' ' ||
		       t[len - 1] == '\t'))
		t[--len] = '\0';
	if (!len)
		return -ENODATA;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e) {
			explicit_bzero(t, len);
			return -EBADMSG;
		}
	*ret = TAKE_PTR(t);
	return 0;
}

static void free_secret(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int kube_client_setup_easy(struct kube_client *c, CURL *e, const struct kube_request *r,
			   struct curl_slist **ret_headers)
{
	_cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
	_cleanup_free_ char *url = NULL;
	struct curl_slist *t;
	CURLcode cc = CURLE_OK;

	if (!c || !e || !r || !r->method || !r->path || r->path[0] != '/' || !ret_headers)
		return -EINVAL;
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)
		return -EINVAL;
	if (asprintf(&url, "%s%s", c->server, r->path) < 0)
		return -ENOMEM;

	if (c->token_file) {
		char *token = NULL;
		char *hdr = NULL;
		int ret;

		ret = read_token(c->token_file, &token);
		if (ret < 0)
			return ret;
		ret = asprintf(&hdr, "Authorization: Bearer %s", token);
		free_secret(&token);
		if (ret < 0)
			return -ENOMEM;
		t = curl_slist_append(h, hdr);
		free_secret(&hdr);
		if (!t)
			return -ENOMEM;
		h = t;
	}
	if (!(t = curl_slist_append(h, "Accept: application/json")))
		return -ENOMEM;
	h = t;
	if (r->body) {
		if (!(t = curl_slist_append(h, "Content-Type: application/json")))
			return -ENOMEM;
		h = t;
	}
	/* curl would send "Expect: 100-continue" for larger bodies: one
	 * round trip less, and nothing waits on a server that ignores it. */
	if (!(t = curl_slist_append(h, "Expect:")))
		return -ENOMEM;
	h = t;

#define SETOPT(opt, val)                                                       \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(e, opt, val);                    \
	} while (0)
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_CAINFO, c->ca_file);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->client_cert) {
		SETOPT(CURLOPT_SSLCERT, c->client_cert);
		SETOPT(CURLOPT_SSLKEY, c->client_key);
	}
	SETOPT(CURLOPT_HTTPHEADER, h);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TIMEOUT_MS, c->timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KUBE_MAX_RESPONSE);
	SETOPT(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SETOPT(CURLOPT_USERAGENT, "tracegate/0.1");
	if (strcmp(r->method, "POST") == 0) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, r->body ? r->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? strlen(r->body) : 0));
	} else {
		SETOPT(CURLOPT_HTTPGET, 1L);
	}
#undef SETOPT
	if (cc != CURLE_OK)
		return -EINVAL;
	*ret_headers = TAKE_PTR(h);
	return 0;
}

struct do_ctx {
	struct buf *body;
	bool too_big;
};

static size_t do_write(char *data, size_t size, size_t n, void *ud)
{
	struct do_ctx *ctx = ud;

	if (buf_add(ctx->body, data, size * n) < 0) {
		ctx->too_big = true;
		return 0;
	}
	return size * n;
}

int kube_client_do(struct kube_client *c, const struct kube_request *r, long *ret_status,
		   struct buf *ret_body, char **ret_err)
{
	_cleanup_(curl_easy_cleanupp) CURL *e = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
	struct buf body = BUF_INIT(KUBE_MAX_RESPONSE);
	struct do_ctx ctx = { .body = &body };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	int ret;

	if (!c || !r || !ret_status || !ret_body)
		return -EINVAL;
	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	ret = kube_client_setup_easy(c, e, r, &h);
	if (ret < 0) {
		if (c->token_file && (ret == -ENOENT || ret == -EACCES || ret == -EISDIR ||
				      ret == -ENODATA || ret == -EFBIG || ret == -EBADMSG))
			kube_json_set_err(ret_err, "token file \"%s\": %s", c->token_file,
				ret == -ENODATA ? "empty" :
				ret == -EBADMSG ? "not a bearer token" :
				ret == -EFBIG	? "too large" :
						  strerror(-ret));
		else
			kube_json_set_err(ret_err, "api request \"%s %s\": %s", r->method ? r->method : "",
				r->path ? r->path : "", strerror(-ret));
		return ret == -ENOMEM ? ret : -TG_EUPSTREAM;
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, do_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		if (ctx.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			kube_json_set_err(ret_err, "api server \"%s\": response to \"%s\" larger than %u bytes",
				c->server, r->path, (unsigned)KUBE_MAX_RESPONSE);
		else
			kube_json_set_err(ret_err, "api server \"%s\": %s", c->server,
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
		buf_release(&body);
		return -TG_EUPSTREAM;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	buf_release(ret_body);
	*ret_body = body;
	*ret_status = status;
	return 0;
}

/* ---- TokenReview --------------------------------------------------------- */

int kube_tokenreview_request(const char *token, const char *const *audiences,
			     struct kube_request *ret)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *spec;
	size_t len;

	if (!token || !ret)
		return -EINVAL;
	len = strlen(token);
	if (!len)
		return -EINVAL;
	if (len > KUBE_TOKEN_MAX_LEN || strv_len(audiences) > KUBE_MAX_AUDIENCES)
		return -TG_ELIMIT;
	for (const char *const *a = audiences; a && *a; a++)
		if (!**a || strlen(*a) > KUBE_MAX_NAME_LEN)
			return -EINVAL;
	j = json_pack("{s:s, s:s, s:{s:s%}}", "apiVersion", "authentication.k8s.io/v1", "kind",
		      "TokenReview", "spec", "token", token, len);
	if (!j)
		return -ENOMEM;
	spec = json_object_get(j, "spec");
	if (audiences && audiences[0]) {
		json_t *a = json_strv(audiences);

		if (!a || json_object_set_new(spec, "audiences", a) < 0)
			return -ENOMEM;
	}
	return request_set(ret, "POST", KUBE_TOKENREVIEW_PATH, j);
}

static int parse_strv(json_t *a, size_t max, char ***ret)
{
	_cleanup_(strv_freep) char **v = NULL;
	size_t n, i;
	json_t *x;

	if (!a || json_is_null(a)) {
		n = 0;
	} else if (!json_is_array(a)) {
		return -EINVAL;
	} else {
		n = json_array_size(a);
	}
	if (n > max)
		return -E2BIG;
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		x = json_array_get(a, i);
		if (!json_is_string(x))
			return -EINVAL;
		v[i] = strdup(json_string_value(x));
		if (!v[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* user.extra: an object of string -> [string]; copied as is. */
static int parse_extra(json_t *x, json_t **ret)
{
	const char *k;
	json_t *v, *e;
	size_t i;

	*ret = NULL;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_object(x) || json_object_size(x) > KUBE_MAX_EXTRA)
		return -EINVAL;
	json_object_foreach(x, k, v) {
		if (!json_is_array(v) && !json_is_null(v))
			return -EINVAL;
		json_array_foreach(v, i, e)
			if (!json_is_string(e))
				return -EINVAL;
	}
	if (!json_object_size(x))
		return 0;
	*ret = json_deep_copy(x);
	return *ret ? 0 : -ENOMEM;
}

int kube_tokenreview_parse_ex(long http_status, const char *body, size_t len,
			      const char *const *audiences, struct kube_user *ret_user,
			      bool *ret_cacheable, char **ret_err)
{
	static const char what[] = "tokenreview";
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_(strv_freep) char **got_auds = NULL;
	struct kube_user u = { 0 };
	json_t *status, *user;
	const char *error = NULL, *s;
	bool authenticated;
	int r;

	if (ret_cacheable)
		*ret_cacheable = false;
	if (!ret_user)
		return -EINVAL;
	if (http_status < 200 || http_status > 299)
		return kube_json_status_error(http_status, body, len, what, TG_EUPSTREAM, ret_err);
	j = kube_json_load_object(body, len, what, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	r = kube_json_check_type(j, "authentication.k8s.io/v1", "TokenReview", what, ret_err);
	if (r < 0)
		return r;
	status = json_object_get(j, "status");
	if (!json_is_object(status)) {
		kube_json_set_err(ret_err, "%s: answer has no \"status\" object", what);
		return -TG_EUPSTREAM;
	}
	if (get_bool(status, "authenticated", &authenticated) < 0) {
		kube_json_set_err(ret_err, "%s: \"status.authenticated\" is not a boolean", what);
		return -TG_EUPSTREAM;
	}
	if (kube_json_get_str(status, "error", &error) < 0) {
		kube_json_set_err(ret_err, "%s: \"status.error\" is not a string", what);
		return -TG_EUPSTREAM;
	}
	r = parse_strv(json_object_get(status, "audiences"), KUBE_MAX_AUDIENCES * 4, &got_auds);
	if (r < 0) {
		kube_json_set_err(ret_err, "%s: \"status.audiences\" is not a list of strings", what);
		return -TG_EUPSTREAM;
	}
	user = json_object_get(status, "user");
	if (user && !json_is_null(user) && !json_is_object(user)) {
		kube_json_set_err(ret_err, "%s: \"status.user\" is not an object", what);
		return -TG_EUPSTREAM;
	}

	/* The audience rule of k8s' own webhook client: when audiences were
	 * asked for, the answer must name at least one of them.  An empty
	 * status.audiences means "the API server's own audiences", which are
	 * not ours. */
	if (audiences && audiences[0]) {
		bool match = false;

		for (char **g = got_auds; *g && !match; g++)
			for (const char *const *a = audiences; *a && !match; a++)
				match = strcmp(*g, *a) == 0;
		if (!match) {
			if (ret_cacheable)
				*ret_cacheable = !error;
			if (authenticated)
				kube_json_set_err(ret_err, "token not valid for audience \"%s\"%s", audiences[0],
					audiences[1] ? " (or the others requested)" : "");
			else if (error)
				kube_json_set_err(ret_err, "token not authenticated: %s", error);
			else
				kube_json_set_err(ret_err, "token not authenticated");
			return -TG_EAUTHN;
		}
	}
	if (!authenticated) {
		if (ret_cacheable)
			*ret_cacheable = !error;
		if (error)
			kube_json_set_err(ret_err, "token not authenticated: %s", error);
		else
			kube_json_set_err(ret_err, "token not authenticated");
		return -TG_EAUTHN;
	}

	if (kube_json_get_str(user, "username", &s) < 0 || !s || !*s) {
		kube_json_set_err(ret_err, "%s: authenticated answer has no \"status.user.username\"", what);
		return -TG_EUPSTREAM;
	}
	if (strlen(s) > KUBE_MAX_NAME_LEN) {
		kube_json_set_err(ret_err, "%s: \"status.user.username\" longer than %u bytes", what,
			(unsigned)KUBE_MAX_NAME_LEN);
		return -TG_EUPSTREAM;
	}
	u.username = strdup(s);
	if (!u.username)
		return -ENOMEM;
	if (kube_json_get_str(user, "uid", &s) < 0) {
		kube_json_set_err(ret_err, "%s: \"status.user.uid\" is not a string", what);
		r = -TG_EUPSTREAM;
		goto fail;
	}
	if (s && *s && !(u.uid = strdup(s))) {
		r = -ENOMEM;
		goto fail;
	}
	r = parse_strv(json_object_get(user, "groups"), KUBE_MAX_GROUPS, &u.groups);
	if (r < 0) {
		kube_json_set_err(ret_err, "%s: \"status.user.groups\" %s", what,
			r == -E2BIG ? "has too many entries" : "is not a list of strings");
		r = r == -ENOMEM ? r : -TG_EUPSTREAM;
		goto fail;
	}
	r = parse_extra(json_object_get(user, "extra"), &u.extra);
	if (r < 0) {
		kube_json_set_err(ret_err, "%s: \"status.user.extra\" is not a map of string lists", what);
		r = r == -ENOMEM ? r : -TG_EUPSTREAM;
		goto fail;
	}
	if (ret_cacheable)
		*ret_cacheable = true;
	*ret_user = u;
	return 0;
fail:
	if (ret_cacheable)
		*ret_cacheable = false;
	kube_user_release(&u);
	return r;
}

int kube_tokenreview_parse(long http_status, const char *body, size_t len,
			   const char *const *audiences, struct kube_user *ret_user,
			   char **ret_err)
{
	return kube_tokenreview_parse_ex(http_status, body, len, audiences, ret_user, NULL, ret_err);
}

/* ---- SubjectAccessReview ------------------------------------------------- */

static int attrs_check(const struct kube_resource_attrs *a)
{
	const char *v[] = { a->namespace, a->verb,	  a->group, a->version,
			    a->resource,  a->subresource, a->name };

	if (!a->verb || !*a->verb || !a->resource || !*a->resource)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (v[i] && strlen(v[i]) > KUBE_MAX_NAME_LEN)
			return -TG_ELIMIT;
	return 0;
}

static int add_opt_str(json_t *o, const char *key, const char *v)
{
	if (!v || !*v)
		return 0;
	return json_object_set_new(o, key, json_string(v)) < 0 ? -ENOMEM : 0;
}

json_t *kube_sar_spec(const struct kube_user *user, const struct kube_resource_attrs *attrs)
{
	_cleanup_(json_decrefp) json_t *spec = json_object();
	_cleanup_(json_decrefp) json_t *ra = json_object();

	if (!spec || !ra)
		return NULL;
	if (add_opt_str(ra, "namespace", attrs->namespace) < 0 ||
	    add_opt_str(ra, "verb", attrs->verb) < 0 || add_opt_str(ra, "group", attrs->group) < 0 ||
	    add_opt_str(ra, "version", attrs->version) < 0 ||
	    add_opt_str(ra, "resource", attrs->resource) < 0 ||
	    add_opt_str(ra, "subresource", attrs->subresource) < 0 ||
	    add_opt_str(ra, "name", attrs->name) < 0)
		return NULL;
	if (json_object_set_new(spec, "resourceAttributes", TAKE_PTR(ra)) < 0)
		return NULL;
	if (add_opt_str(spec, "user", user->username) < 0 || add_opt_str(spec, "uid", user->uid) < 0)
		return NULL;
	if (user->groups && user->groups[0]) {
		json_t *g = json_strv((const char *const *)user->groups);

		if (!g || json_object_set_new(spec, "groups", g) < 0)
			return NULL;
	}
	if (user->extra && json_object_size(user->extra)) {
		json_t *x = json_deep_copy(user->extra);

		if (!x || json_object_set_new(spec, "extra", x) < 0)
			return NULL;
	}
	return TAKE_PTR(spec);
}

int kube_sar_request(const struct kube_user *user, const struct kube_resource_attrs *attrs,
		     struct kube_request *ret)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *spec;
	int r;

	if (!user || !attrs || !ret)
		return -EINVAL;
	if ((!user->username || !*user->username) && (!user->groups || !user->groups[0]))
		return -EINVAL;
	r = attrs_check(attrs);
	if (r < 0)
		return r;
	spec = kube_sar_spec(user, attrs);
	if (!spec)
		return -ENOMEM;
	j = json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1", "kind",
		      "SubjectAccessReview", "spec", spec);
	if (!j)
		return -ENOMEM;
	return request_set(ret, "POST", KUBE_SAR_PATH, j);
}

int kube_sar_parse(long http_status, const char *body, size_t len, bool *ret_allowed,
		   char **ret_reason, char **ret_err)
{
	static const char what[] = "subjectaccessreview";
	_cleanup_(json_decrefp) json_t *j = NULL;
	const char *reason = NULL, *evalerr = NULL;
	bool allowed, denied;
	json_t *status, *a;
	int r;

	if (!ret_allowed)
		return -EINVAL;
	*ret_allowed = false;
	if (http_status < 200 || http_status > 299)
		return kube_json_status_error(http_status, body, len, what, TG_EUPSTREAM, ret_err);
	j = kube_json_load_object(body, len, what, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	r = kube_json_check_type(j, "authorization.k8s.io/v1", "SubjectAccessReview", what, ret_err);
	if (r < 0)
		return r;
	status = json_object_get(j, "status");
	if (!json_is_object(status)) {
		kube_json_set_err(ret_err, "%s: answer has no \"status\" object", what);
		return -TG_EUPSTREAM;
	}
	/* status.allowed is never omitted: its absence is a broken answer. */
	a = json_object_get(status, "allowed");
	if (!json_is_boolean(a)) {
		kube_json_set_err(ret_err, "%s: \"status.allowed\" is %s", what,
			a ? "not a boolean" : "missing");
		return -TG_EUPSTREAM;
	}
	allowed = json_is_true(a);
	if (get_bool(status, "denied", &denied) < 0) {
		kube_json_set_err(ret_err, "%s: \"status.denied\" is not a boolean", what);
		return -TG_EUPSTREAM;
	}
	if (kube_json_get_str(status, "reason", &reason) < 0 ||
	    kube_json_get_str(status, "evaluationError", &evalerr) < 0) {
		kube_json_set_err(ret_err, "%s: \"status.reason\" or \"status.evaluationError\" is not a string",
			what);
		return -TG_EUPSTREAM;
	}
	if (allowed && denied) {
		kube_json_set_err(ret_err, "%s: answer is both allowed and denied", what);
		return -TG_EUPSTREAM;
	}
	if (ret_reason) {
		char *x;

		if (reason && *reason)
			x = strdup(reason);
		else if (!allowed && evalerr && *evalerr)
			x = strdup(evalerr);
		else
			x = strdup(allowed ? "" : denied ? "denied" : "no opinion");
		if (!x)
			return -ENOMEM;
		free(*ret_reason);
		*ret_reason = x;
	}
	*ret_allowed = allowed && !denied;
	return 0;
}

/* ---- Pods ------------------------------------------------------------------ */

/* RFC 1123 label (namespaces: at most 63) or subdomain (pod names: 253). */
static bool dns_name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (alnum)
			continue;
		if (ch == '-' && i > 0 && i + 1 < n && s[i - 1] != '.' && s[i + 1] != '.')
			continue;
		if (dots && ch == '.' && i > 0 && i + 1 < n)
			continue;
		return false;
	}
	return true;
}

bool kube_namespace_valid(const char *ns)
{
	return ns && dns_name_ok(ns, 63, false);
}

bool kube_name_valid(const char *name)
{
	return name && dns_name_ok(name, 253, true);
}

int kube_pod_get_request(const char *ns, const char *name, struct kube_request *ret)
{
	_cleanup_free_ char *path = NULL;
	struct kube_request r = { 0 };

	if (!ret || !kube_namespace_valid(ns) || !kube_name_valid(name))
		return -EINVAL;
	if (asprintf(&path, "/api/v1/namespaces/%s/pods/%s", ns, name) < 0)
		return -ENOMEM;
	r.method = "GET";
	r.path = TAKE_PTR(path);
	*ret = r;
	return 0;
}

/* The answer to a GET of one object of kind (v1): 0 and *ret, -TG_ENOTFOUND
 * on 404, -TG_EUPSTREAM otherwise; what names it in messages. */
static int kube_object_get_parse(long http_status, const char *body, size_t len, const char *kind,
				 const char *what, json_t **ret, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int r;

	if (http_status == 404)
		return kube_json_status_error(http_status, body, len, what, TG_ENOTFOUND, ret_err);
	if (http_status < 200 || http_status > 299)
		return kube_json_status_error(http_status, body, len, what, TG_EUPSTREAM, ret_err);
	j = kube_json_load_object(body, len, what, ret_err);
	if (!j)
		return -TG_EUPSTREAM;
	r = kube_json_check_type(j, "v1", kind, what, ret_err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(j);
	return 0;
}

int kube_node_get_request(const char *name, struct kube_request *ret)
{
	_cleanup_free_ char *path = NULL;
	struct kube_request r = { 0 };

	if (!ret || !name || !kube_name_valid(name))
		return -EINVAL;
	if (asprintf(&path, "/api/v1/nodes/%s", name) < 0)
		return -ENOMEM;
	r.method = "GET";
	r.path = TAKE_PTR(path);
	*ret = r;
	return 0;
}

int kube_node_parse(long http_status, const char *body, size_t len, const char *name, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	const char *got;
	int r;

	r = kube_object_get_parse(http_status, body, len, "Node", "node", &j, ret_err);
	if (r < 0)
		return r;
	got = json_string_value(json_object_get(json_object_get(j, "metadata"), "name"));
	if (!got || strcmp(got, name))
		return tg_fail(ret_err, -TG_EUPSTREAM, "node: the API server answered with another node");
	return 0;
}

/* Pod UIDs end up in cgroup path names: only [0-9A-Za-z-], at most 64. */
bool kube_uid_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
	}
	return true;
}

/* "<runtime>://<id>": runtime [a-z0-9-], id [0-9A-Za-z], each bounded. */
static bool container_id_ok(const char *s)
{
	const char *sep = strstr(s, "://");
	size_t rl, il;

	if (!sep)
		return false;
	rl = (size_t)(sep - s);
	if (!rl || rl > 32)
		return false;
	for (size_t i = 0; i < rl; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	sep += 3;
	il = strlen(sep);
	if (!il || il > 128)
		return false;
	for (size_t i = 0; i < il; i++)
		if (!((sep[i] >= 'a' && sep[i] <= 'z') || (sep[i] >= 'A' && sep[i] <= 'Z') ||
		      (sep[i] >= '0' && sep[i] <= '9')))
			return false;
	return true;
}

static int pod_containers(json_t *status, char ***ret, char **ret_err)
{
	static const char *const lists[] = { "containerStatuses", "initContainerStatuses",
					     "ephemeralContainerStatuses" };
	_cleanup_(strv_freep) char **v = NULL;
	size_t n = 0, k = 0;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_t *a = json_object_get(status, lists[l]);

		if (a && !json_is_null(a) && !json_is_array(a)) {
			kube_json_set_err(ret_err, "pod: \"status.%s\" is not a list", lists[l]);
			return -TG_EUPSTREAM;
		}
		n += json_array_size(a);
	}
	if (n > KUBE_MAX_CONTAINERS) {
		kube_json_set_err(ret_err, "pod: more than %u containers", (unsigned)KUBE_MAX_CONTAINERS);
		return -TG_EUPSTREAM;
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_t *a = json_object_get(status, lists[l]), *cs;
		size_t i;

		json_array_foreach(a, i, cs) {
			const char *id;

			if (!json_is_object(cs) || kube_json_get_str(cs, "containerID", &id) < 0) {
				kube_json_set_err(ret_err, "pod: \"status.%s[%zu]\" is malformed", lists[l], i);
				return -TG_EUPSTREAM;
			}
			if (!id || !*id)
				continue; /* not created yet */
			if (!container_id_ok(id)) {
				kube_json_set_err(ret_err,
					"pod: \"status.%s[%zu].containerID\" is not \"<runtime>://<id>\"",
					lists[l], i);
				return -TG_EUPSTREAM;
			}
			v[k] = strdup(id);
			if (!v[k++])
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* ---- a pod's containers ------------------------------------------------------
 * By name, with their IDs and whether they run: what `kubectl trace run
 * -c NAME` picks from (gateway/trace-container.c).  Names come from the
 * spec (so a container not created yet is known and can be refused as
 * "not running"), IDs and states from the status. */

static void kube_containers_free(struct kube_container *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].name);
		free(c[i].id);
	}
	free(c);
}

static struct kube_container *container_find(struct kube_pod *p, const char *name)
{
	for (size_t i = 0; i < p->ncontainers; i++)
		if (!strcmp(p->containers[i].name, name))
			return &p->containers[i];
	return NULL;
}

static int container_add(struct kube_pod *p, const char *name, struct kube_container **ret)
{
	struct kube_container *c;

	if (p->ncontainers >= KUBE_MAX_CONTAINERS)
		return -TG_EUPSTREAM;
	c = reallocarray(p->containers, p->ncontainers + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	p->containers = c;
	c = &c[p->ncontainers];
	*c = (struct kube_container){ .name = strdup(name), .id = strdup("") };
	if (!c->name || !c->id) {
		free(c->name);
		free(c->id);
		return -ENOMEM;
	}
	p->ncontainers++;
	*ret = c;
	return 0;
}

static const char *const spec_lists[] = { "containers", "initContainers", "ephemeralContainers" };
static const char *const status_lists[] = { "containerStatuses", "initContainerStatuses",
					    "ephemeralContainerStatuses" };

/* entries of list `key` of obj: their names (a name that is no DNS-1123
 * label names nothing a tenant can ask for: left out) */
static int containers_from_list(struct kube_pod *p, json_t *obj, const char *where, const char *key, bool status,
		     char **ret_err)
{
	json_t *a = json_object_get(obj, key), *e;
	size_t i;
	int r;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a)) {
		kube_json_set_err(ret_err, "pod: \"%s.%s\" is not a list", where, key);
		return -TG_EUPSTREAM;
	}
	json_array_foreach(a, i, e) {
		const char *name = NULL, *id = NULL;
		struct kube_container *c;
		json_t *state;

		if (!json_is_object(e) || kube_json_get_str(e, "name", &name) < 0 ||
		    (status && kube_json_get_str(e, "containerID", &id) < 0)) {
			kube_json_set_err(ret_err, "pod: \"%s.%s[%zu]\" is malformed", where, key, i);
			return -TG_EUPSTREAM;
		}
		if (!name || !kube_namespace_valid(name))
			continue;
		c = container_find(p, name);
		if (!c && (r = container_add(p, name, &c)) < 0) {
			if (r == -TG_EUPSTREAM)
				kube_json_set_err(ret_err, "pod: more than %u containers",
						  (unsigned)KUBE_MAX_CONTAINERS);
			return r;
		}
		if (!status || !id || !*id)
			continue;
		free(c->id);
		c->id = strdup(id);
		if (!c->id)
			return -ENOMEM;
		/* state holds one of waiting, running, terminated; none at all
		 * (an older API server, a test) with an ID: running */
		state = json_object_get(e, "state");
		c->running = !json_is_object(state) || (!json_object_get(state, "waiting") &&
							 !json_object_get(state, "terminated"));
	}
	return 0;
}

static int kube_pod_containers_parse(json_t *spec, json_t *status, struct kube_pod *p, char **ret_err)
{
	int r = 0;

	for (size_t l = 0; l < ARRAY_SIZE(spec_lists) && r >= 0; l++)
		r = containers_from_list(p, spec, "spec", spec_lists[l], false, ret_err);
	for (size_t l = 0; l < ARRAY_SIZE(status_lists) && r >= 0; l++)
		r = containers_from_list(p, status, "status", status_lists[l], true, ret_err);
	return r;
}

static int dup_field(json_t *obj, const char *key, const char *path, char **ret, char **ret_err)
{
	const char *s;

	if (kube_json_get_str(obj, key, &s) < 0) {
		kube_json_set_err(ret_err, "pod: \"%s\" is not a string", path);
		return -TG_EUPSTREAM;
	}
	if (s && strlen(s) > KUBE_MAX_NAME_LEN) {
		kube_json_set_err(ret_err, "pod: \"%s\" longer than %u bytes", path,
			(unsigned)KUBE_MAX_NAME_LEN);
		return -TG_EUPSTREAM;
	}
	*ret = strdup(s ? s : "");
	return *ret ? 0 : -ENOMEM;
}

int kube_pod_from_json(json_t *j, struct kube_pod *ret, char **ret_err)
{
	struct kube_pod p = { 0 };
	json_t *meta, *spec, *status, *ann;
	const char *uid = NULL, *mirror = NULL, *hash = NULL;
	int r;

	if (!json_is_object(j)) {
		kube_json_set_err(ret_err, "pod: not a JSON object");
		return -TG_EUPSTREAM;
	}
	meta = json_object_get(j, "metadata");
	spec = json_object_get(j, "spec");
	status = json_object_get(j, "status");
	if (!json_is_object(meta) || (spec && !json_is_object(spec)) ||
	    (status && !json_is_object(status))) {
		kube_json_set_err(ret_err, "pod: \"metadata\", \"spec\" or \"status\" is not an object");
		return -TG_EUPSTREAM;
	}
	ann = json_object_get(meta, "annotations");
	if (ann && !json_is_null(ann) && !json_is_object(ann)) {
		kube_json_set_err(ret_err, "pod: \"metadata.annotations\" is not an object");
		return -TG_EUPSTREAM;
	}
	if (kube_json_get_str(meta, "uid", &uid) < 0 || kube_json_get_str(ann, "kubernetes.io/config.mirror", &mirror) < 0 ||
	    kube_json_get_str(ann, "kubernetes.io/config.hash", &hash) < 0) {
		kube_json_set_err(ret_err, "pod: \"metadata.uid\" or a config annotation is not a string");
		return -TG_EUPSTREAM;
	}
	/* A static pod's cgroup is named by the kubelet's hash, which the
	 * mirror pod carries in config.mirror; its metadata.uid is the API
	 * server's own and names no cgroup. */
	if (mirror && *mirror)
		uid = mirror;
	else if (hash && *hash)
		uid = hash;
	if (!uid || !kube_uid_valid(uid)) {
		kube_json_set_err(ret_err, "pod: %s", uid ? "uid has characters a cgroup name cannot have" :
						  "\"metadata.uid\" is missing");
		return -TG_EUPSTREAM;
	}
	if ((r = dup_field(meta, "namespace", "metadata.namespace", &p.namespace, ret_err)) < 0 ||
	    (r = dup_field(meta, "name", "metadata.name", &p.name, ret_err)) < 0 ||
	    (r = dup_field(spec, "nodeName", "spec.nodeName", &p.node, ret_err)) < 0 ||
	    (r = dup_field(status, "qosClass", "status.qosClass", &p.qos, ret_err)) < 0 ||
	    (r = dup_field(status, "phase", "status.phase", &p.phase, ret_err)) < 0)
		goto fail;
	if (!*p.name || !*p.namespace) {
		kube_json_set_err(ret_err, "pod: \"metadata.name\" or \"metadata.namespace\" is missing");
		r = -TG_EUPSTREAM;
		goto fail;
	}
	if (*p.qos && strcmp(p.qos, "Guaranteed") != 0 && strcmp(p.qos, "Burstable") != 0 &&
	    strcmp(p.qos, "BestEffort") != 0) {
		kube_json_set_err(ret_err, "pod \"%s/%s\": unknown \"status.qosClass\" \"%s\"", p.namespace,
			p.name, p.qos);
		r = -TG_EUPSTREAM;
		goto fail;
	}
	p.uid = strdup(uid);
	if (!p.uid) {
		r = -ENOMEM;
		goto fail;
	}
	r = pod_containers(status, &p.container_ids, ret_err);
	if (r < 0)
		goto fail;
	r = kube_pod_containers_parse(spec, status, &p, ret_err);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	kube_pod_release(&p);
	return r;
}

int kube_pod_parse(long http_status, const char *body, size_t len, struct kube_pod *ret,
		   char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	r = kube_object_get_parse(http_status, body, len, "Pod", "pod", &j, ret_err);
	if (r < 0)
		return r;
	return kube_pod_from_json(j, ret, ret_err);
}
