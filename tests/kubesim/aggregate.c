// SPDX-License-Identifier: Apache-2.0
/*
 * kubesim as kube-apiserver's aggregation layer (README.md "Aggregation"):
 *
 *  - users authenticated by client certificate (CN the user, O the
 *    groups), verified against --client-ca;
 *  - the ConfigMap kube-system/extension-apiserver-authentication that an
 *    extension API server reads its front-proxy settings from
 *    (--requestheader-client-ca, --requestheader-allowed-names); SIGHUP
 *    re-reads the CA file and bumps its resourceVersion;
 *  - APIService objects (apiregistration.k8s.io/v1, from --objects):
 *    requests under /apis/GROUP/VERSION are proxied to the service's
 *    endpoint (--service-endpoint NS/NAME=https://HOST:PORT, as a cluster's
 *    Endpoints would say), over TLS checked against spec.caBundle for the
 *    name NAME.NS.svc, with kubesim's front-proxy client certificate
 *    (--proxy-client-cert/--proxy-client-key) and the user in
 *    X-Remote-User/-Group/-Extra-*; the user's own Authorization,
 *    Impersonate-* and X-Remote-* headers never pass.  Responses are
 *    relayed as they come (a chunked NDJSON stream stays a stream).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cleanup-ssl.h"
#include "lib/errors.h"
#include "lib/httpstatus.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

#define AGG_MAX_ENDPOINTS 16
#define AGG_MAX_APISERVICES 16
#define AGG_MAX_CA (1u << 20)
#define AGG_TIMEOUT_S 3600         /* a proxied stream lasts as long as the trace */

struct agg_service {
	char *group, *version;      /* spec.group, spec.version */
	char *url;                  /* the endpoint: https://host:port */
	char *host;                 /* host of url */
	int port;
	char *verify_name;          /* NAME.NS.svc */
	SSL_CTX *ctx;               /* caBundle, our front-proxy client cert */
	bool insecure;
	char *problem;              /* why it cannot be reached, or NULL */
};

struct ks_agg {
	struct event_base *base;
	FILE *log;
	X509_STORE *client_ca;      /* users' certificates, or NULL */
	const char *rh_ca_file;
	const char *const *allowed_names;
	json_t *configmap;          /* borrowed from the objects array */
	unsigned long cm_version;
	struct ks_store *store;     /* once set: resourceVersions from it */
	struct agg_service svc[AGG_MAX_APISERVICES];
	size_t nsvc;
	struct event *sighup;
};

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* ---- the extension-apiserver-authentication ConfigMap ------------------------- */

static int configmap_fill(struct ks_agg *a, char **ret_err)
{
	_cleanup_free_ char *pem = NULL, *names = NULL;
	_cleanup_(json_decrefp) json_t *list = json_array();
	char rv[32];
	size_t len = 0;
	json_t *data;
	int r;

	r = read_file(a->rh_ca_file, AGG_MAX_CA, &pem, &len);
	if (r < 0)
		return tg_fail(ret_err, -EINVAL, "--requestheader-client-ca \"%s\": %s", a->rh_ca_file,
			       strerror(-r));
	for (const char *const *n = a->allowed_names; n && *n; n++)
		json_array_append_new(list, json_string(*n));
	names = json_dumps(list, JSON_COMPACT);
	data = json_pack("{s:s%, s:s, s:s, s:s, s:s, s:s}", "requestheader-client-ca-file", pem, len,
			 "requestheader-allowed-names", names ? names : "[]",
			 "requestheader-username-headers", "[\"X-Remote-User\"]",
			 "requestheader-group-headers", "[\"X-Remote-Group\"]",
			 "requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]",
			 "requestheader-uid-headers", "[\"X-Remote-Uid\"]");
	if (!data)
		return -ENOMEM;
	/* a new resourceVersion, greater than any the store handed out */
	a->cm_version = a->store ? (unsigned long)++a->store->rv : a->cm_version + 1;
	snprintf(rv, sizeof(rv), "%lu", a->cm_version);
	json_object_set_new(a->configmap, "data", data);
	json_object_set_new(json_object_get(a->configmap, "metadata"), "resourceVersion",
			    json_string(rv));
	return 0;
}

static void on_sighup(evutil_socket_t sig, short ev, void *ud)
{
	struct ks_agg *a = ud;
	_cleanup_free_ char *err = NULL;

	(void)sig;
	(void)ev;
	if (configmap_fill(a, &err) < 0)
		fprintf(stderr, "kubesim: SIGHUP: %s (the ConfigMap is unchanged)\n", err ? err : "no memory");
	else
		fprintf(stderr, "kubesim: SIGHUP: extension-apiserver-authentication at resourceVersion %lu\n",
			a->cm_version);
}

/* ---- APIServices --------------------------------------------------------------------- */

static int ca_bundle_load(SSL_CTX *ctx, const char *b64, char **ret_err)
{
	_cleanup_free_ unsigned char *der = NULL;
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	size_t len = strlen(b64);
	BIO *bio;
	X509 *x;
	int n, added = 0;

	der = malloc(len / 4 * 3 + 4);
	if (!der)
		return -ENOMEM;
	n = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return tg_fail(ret_err, -EINVAL, "spec.caBundle is not base64");
	bio = BIO_new_mem_buf(der, n);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		added += X509_STORE_add_cert(st, x) == 1;
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (!added)
		return tg_fail(ret_err, -EINVAL, "spec.caBundle holds no PEM certificate");
	return 0;
}

static int service_setup(struct agg_service *v, json_t *o, const char *const *endpoints,
			 const char *cert, const char *key, char **ret_err)
{
	json_t *spec = json_object_get(o, "spec"), *svc = json_object_get(spec, "service");
	const char *ns = jstr(svc, "namespace"), *name = jstr(svc, "name");
	const char *host, *colon;
	size_t nl = strlen(ns) + 1 + strlen(name);
	struct tls_opts to = { .sz = sizeof(to), .cert_file = cert, .key_file = key };
	uint64_t port;
	int r;

	v->group = strdup(jstr(spec, "group"));
	v->version = strdup(jstr(spec, "version"));
	if (!v->group || !v->version)
		return -ENOMEM;
	if (!*v->group || !*v->version)
		return tg_fail(ret_err, -EINVAL, "APIService \"%s\": spec.group and spec.version are required",
			       jstr(json_object_get(o, "metadata"), "name"));
	if (!*ns || !*name) {
		/* a local APIService (served by kubesim itself): nothing to proxy */
		v->problem = strdup("local APIService: kubesim does not serve this group");
		return v->problem ? 0 : -ENOMEM;
	}
	if (asprintf(&v->verify_name, "%s.%s.svc", name, ns) < 0) {
		v->verify_name = NULL;
		return -ENOMEM;
	}
	for (const char *const *e = endpoints; e && *e; e++)
		if (!strncmp(*e, ns, strlen(ns)) && (*e)[strlen(ns)] == '/' &&
		    !strncmp(*e + strlen(ns) + 1, name, strlen(name)) && (*e)[nl] == '=')
			v->url = strdup(*e + nl + 1);
	if (!v->url) {
		if (asprintf(&v->problem, "service \"%s/%s\" has no endpoints (--service-endpoint)", ns,
			     name) < 0)
			v->problem = NULL;
		return 0;
	}
	if (!str_has_prefix(v->url, "https://"))
		return tg_fail(ret_err, -EINVAL, "--service-endpoint %s/%s: \"%s\" is not https://HOST:PORT", ns,
			       name, v->url);
	host = v->url + strlen("https://");
	colon = strrchr(host, ':');
	if (!colon || parse_u64(colon + 1, &port) < 0 || !port || port > 65535)
		return tg_fail(ret_err, -EINVAL, "--service-endpoint %s/%s: \"%s\" needs a port", ns, name, v->url);
	v->host = strndup(host, (size_t)(colon - host));
	v->port = (int)port;
	if (!v->host)
		return -ENOMEM;
	r = tls_client_ctx_new(&to, &v->ctx, ret_err);
	if (r < 0)
		return r;
	/* the caBundle only, as the aggregator: not the system's CAs */
	SSL_CTX_set_cert_store(v->ctx, X509_STORE_new());
	if (!SSL_CTX_get_cert_store(v->ctx))
		return -ENOMEM;
	v->insecure = json_is_true(json_object_get(spec, "insecureSkipTLSVerify"));
	if (!v->insecure) {
		r = ca_bundle_load(v->ctx, jstr(spec, "caBundle"), ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

int ks_agg_new(const struct ks_agg_opts *o, struct ks_agg **ret, char **ret_err)
{
	struct ks_agg *a = calloc(1, sizeof(*a));
	json_t *obj;
	size_t i;
	int r = 0;

	if (!a)
		return -ENOMEM;
	a->base = o->base;
	a->log = o->log;
	a->rh_ca_file = o->requestheader_ca;
	a->allowed_names = o->allowed_names;
	*ret = a;
	if (o->client_ca) {
		a->client_ca = X509_STORE_new();
		if (!a->client_ca || X509_STORE_load_file(a->client_ca, o->client_ca) != 1)
			return tg_fail(ret_err, -EINVAL, "--client-ca \"%s\": cannot load", o->client_ca);
	}
	if (o->requestheader_ca) {
		a->configmap = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
					 "ConfigMap", "metadata", "name",
					 "extension-apiserver-authentication", "namespace", "kube-system");
		if (!a->configmap)
			return -ENOMEM;
		r = configmap_fill(a, ret_err);
		if (r < 0)
			return r;
		json_array_append(o->objects, a->configmap);
		json_decref(a->configmap);   /* the objects array holds it */
		a->sighup = evsignal_new(a->base, SIGHUP, on_sighup, a);
		if (!a->sighup || evsignal_add(a->sighup, NULL) < 0)
			return tg_fail(ret_err, -EINVAL, "cannot handle SIGHUP");
	}
	json_array_foreach(o->objects, i, obj) {
		if (strcmp(jstr(obj, "kind"), "APIService") ||
		    strcmp(jstr(obj, "apiVersion"), "apiregistration.k8s.io/v1"))
			continue;
		if (a->nsvc >= AGG_MAX_APISERVICES)
			return tg_fail(ret_err, -EINVAL, "more than %d APIServices", AGG_MAX_APISERVICES);
		if ((o->proxy_cert == NULL) != (o->proxy_key == NULL) || !o->proxy_cert)
			return tg_fail(ret_err, -EINVAL, "APIService \"%s\": needs --proxy-client-cert and --proxy-client-key",
				       jstr(json_object_get(obj, "metadata"), "name"));
		r = service_setup(&a->svc[a->nsvc++], obj, o->endpoints, o->proxy_cert, o->proxy_key,
				  ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct ks_agg *ks_agg_free(struct ks_agg *a)
{
	if (!a)
		return NULL;
	for (size_t i = 0; i < a->nsvc; i++) {
		struct agg_service *v = &a->svc[i];

		free(v->group);
		free(v->version);
		free(v->url);
		free(v->host);
		free(v->verify_name);
		free(v->problem);
		SSL_CTX_free(v->ctx);
	}
	if (a->sighup)
		event_free(a->sighup);
	X509_STORE_free(a->client_ca);
	free(a);
	return NULL;
}

void ks_agg_set_store(struct ks_agg *a, struct ks_store *st)
{
	if (a)
		a->store = st;
}

size_t ks_agg_apiservices(const struct ks_agg *a)
{
	return a ? a->nsvc : 0;
}

/* ---- users by client certificate ------------------------------------------------- */

int ks_agg_cert_user(struct ks_agg *a, struct evhttp_request *req, char **ret_user,
		     json_t **ret_groups)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *leaf = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	_cleanup_(json_decrefp) json_t *groups = NULL;
	X509_NAME *subj;
	X509_STORE_CTX *xs;
	char cn[256];
	int ok, idx = -1;

	if (!a || !a->client_ca || !leaf)
		return 0;
	xs = X509_STORE_CTX_new();
	if (!xs || X509_STORE_CTX_init(xs, a->client_ca, leaf, SSL_get_peer_cert_chain(ssl)) != 1) {
		X509_STORE_CTX_free(xs);
		return -ENOMEM;
	}
	X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(xs);
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	if (ok != 1)
		return 0;   /* not one of our users' certificates: the token decides */
	subj = X509_get_subject_name(leaf);
	if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) <= 0)
		return 0;
	groups = json_array();
	if (!groups)
		return -ENOMEM;
	while ((idx = X509_NAME_get_index_by_NID(subj, NID_organizationName, idx)) >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, d);

		if (n > 0)
			json_array_append_new(groups, json_stringn((const char *)utf8, (size_t)n));
		OPENSSL_free(utf8);
	}
	json_array_append_new(groups, json_string("system:authenticated"));
	*ret_user = strdup(cn);
	if (!*ret_user)
		return -ENOMEM;
	*ret_groups = TAKE_PTR(groups);
	return 1;
}

/* ---- the proxy ------------------------------------------------------------------------ */

struct agg_call {
	struct ks_agg *a;
	struct agg_service *v;
	struct evhttp_request *in;          /* the user's request (NULL once it is gone) */
	struct evhttp_connection *backend;
	struct evhttp_request *out;
	char *method, *path, *user;
	bool started;                       /* the reply to the user has begun */
	bool whole;                         /* the backend's answer has a Content-Length:
					       collected, then answered whole */
	struct evbuffer *body;              /* what is collected */
	struct event *ending;               /* the end of a relayed stream, once flushed */
	int empty_polls;
	int code;
};

static void call_log(struct agg_call *k, int code, const char *detail)
{
	char ts[32];

	if (!k->a->log)
		return;
	format_rfc3339_us(now_real_ns(), ts);
	fprintf(k->a->log, "%s %s %s %s %d proxied=%s%s%s\n", ts, k->method, k->path, k->user, code,
		k->v->url ? k->v->url : "-", detail ? " " : "", detail ? detail : "");
	fflush(k->a->log);
}

static void backend_free_cb(evutil_socket_t fd, short what, void *ud)
{
	(void)fd;
	(void)what;
	evhttp_connection_free(ud);
}

/* The user's request is answered: evhttp frees it (and may keep its
 * connection for the next request), so our close callback goes first. */
static void user_release(struct agg_call *k)
{
	evhttp_connection_set_closecb(evhttp_request_get_connection(k->in), NULL, NULL);
}

static void call_free(struct agg_call *k)
{
	if (k->in)
		user_release(k);
	/* not from inside the backend connection's own callback */
	if (k->backend && event_base_once(k->a->base, -1, EV_TIMEOUT, backend_free_cb, k->backend,
					  &(struct timeval){ 0 }) < 0)
		fprintf(stderr, "kubesim: a backend connection leaks\n");
	if (k->body)
		evbuffer_free(k->body);
	if (k->ending)
		event_free(k->ending);
	free(k->method);
	free(k->path);
	free(k->user);
	free(k);
}

static void reply_unavailable(struct evhttp_request *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_unavailable(struct evhttp_request *in, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *text = NULL;
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct evbuffer *b = evbuffer_new();
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	j = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
		      "metadata", "status", "Failure", "message", msg ? msg : "", "reason",
		      status_reason(503), "code", 503);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (b && text)
		evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(in), "Content-Type", "application/json");
	evhttp_send_reply(in, 503, http_reason_phrase(503), b);
	if (b)
		evbuffer_free(b);
}

/* The user's connection closed: the backend's stream is cut, so the
 * extension server sees its client leave. */
static void user_closed(struct evhttp_connection *conn, void *ud)
{
	struct agg_call *k = ud;

	(void)conn;
	k->in = NULL;
	if (k->ending)
		return;   /* stream_end_poll frees it */
	if (k->out) {
		evhttp_cancel_request(k->out);
		k->out = NULL;
		call_log(k, k->code, "user-left");
		call_free(k);
	}
}

static int backend_headers(struct evhttp_request *out, void *ud)
{
	static const char *const pass[] = { "Content-Type", "Audit-ID", "Cache-Control",
					    "X-Content-Type-Options", NULL };
	struct agg_call *k = ud;
	struct evkeyvalq *src = evhttp_request_get_input_headers(out);
	struct evkeyvalq *dst;

	if (!k->in)
		return -1;
	dst = evhttp_request_get_output_headers(k->in);
	for (const char *const *h = pass; *h; h++) {
		const char *v = evhttp_find_header(src, *h);

		if (v)
			evhttp_add_header(dst, *h, v);
	}
	k->code = evhttp_request_get_response_code(out);
	k->started = true;
	call_log(k, k->code, NULL);
	/* a whole answer stays whole; a stream (chunked) is relayed as it comes */
	k->whole = evhttp_find_header(src, "Content-Length") != NULL;
	if (k->whole)
		return (k->body = evbuffer_new()) ? 0 : -1;
	evhttp_send_reply_start(k->in, k->code, evhttp_request_get_response_code_line(out));
	return 0;
}

static void backend_chunk(struct evhttp_request *out, void *ud)
{
	struct agg_call *k = ud;
	struct evbuffer *b = evhttp_request_get_input_buffer(out);

	if (k->in && k->whole)
		evbuffer_add_buffer(k->body, b);
	else if (k->in && k->started && evbuffer_get_length(b))
		evhttp_send_reply_chunk(k->in, b);
	evbuffer_drain(b, evbuffer_get_length(b));
}

/*
 * The end of a relayed stream.  bufferevent_openssl runs its write callback
 * deferred, and evhttp's write callback calls the connection's completion
 * without looking at the output: evhttp_send_reply_end() right after the
 * output drained (its callback still queued) would complete the response
 * with the last chunk unwritten, and evhttp would then wait for the next
 * request with writing off: the user would never see the end.  So the end
 * waits until the output has been seen empty at two polls, one loop
 * iteration apart at least, when any queued write callback has run.
 */
#define AGG_END_POLL_MS 5

static void stream_end_poll(evutil_socket_t fd, short what, void *ud)
{
	struct agg_call *k = ud;
	struct bufferevent *bev;

	(void)fd;
	(void)what;
	if (!k->in) {
		call_free(k);
		return;
	}
	bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(k->in));
	k->empty_polls = evbuffer_get_length(bufferevent_get_output(bev)) ? 0 : k->empty_polls + 1;
	if (k->empty_polls < 2) {
		evtimer_add(k->ending, &(struct timeval){ .tv_usec = AGG_END_POLL_MS * 1000 });
		return;
	}
	user_release(k);
	evhttp_send_reply_end(k->in);
	k->in = NULL;
	call_free(k);
}

/* The stream's last chunk is queued: end it once written (above). */
static void stream_end_later(struct agg_call *k)
{
	k->ending = evtimer_new(k->a->base, stream_end_poll, k);
	if (!k->ending || evtimer_add(k->ending, &(struct timeval){ .tv_usec = AGG_END_POLL_MS * 1000 }) < 0) {
		/* no memory: end it now, at the small risk above */
		user_release(k);
		evhttp_send_reply_end(k->in);
		k->in = NULL;
		call_free(k);
	}
}

static void backend_done(struct evhttp_request *out, void *ud)
{
	struct agg_call *k = ud;

	k->out = NULL;
	if (k->in && k->started)
		call_log(k, k->code, out && evhttp_request_get_response_code(out) ? "end" : "end backend-lost");
	if (k->in) {
		/* a stream's end releases it (stream_end_poll) */
		if (!k->started || k->whole)
			user_release(k);
		if (!out || !evhttp_request_get_response_code(out)) {
			if (!k->started) {
				reply_unavailable(k->in, "error trying to reach service: %s (%s)",
						  k->v->url, "connection or TLS failed");
				call_log(k, 503, "backend-failed");
			} else if (k->whole) {
				/* cut short: the user sees a broken answer, as from a proxy */
				evhttp_send_reply(k->in, 502, http_reason_phrase(502), NULL);
			} else {
				stream_end_later(k);
				return;
			}
		} else {
			if (!k->started && backend_headers(out, k) < 0)
				goto out;
			backend_chunk(out, k);
			if (!k->whole) {
				stream_end_later(k);
				return;
			}
			evhttp_send_reply(k->in, k->code, evhttp_request_get_response_code_line(out),
					  k->body);
		}
	}
out:
	k->in = NULL;
	call_free(k);
}

static bool header_dropped(const char *name)
{
	static const char *const drop[] = { "Authorization", "Connection", "Keep-Alive", "Host",
					    "Transfer-Encoding", "TE", "Upgrade", "Proxy-Authorization",
					    "Proxy-Connection", "Content-Length", NULL };

	for (const char *const *d = drop; *d; d++)
		if (!strcasecmp(name, *d))
			return true;
	return !strncasecmp(name, "Impersonate-", 12) || !strncasecmp(name, "X-Remote-", 9);
}

/* An extra key in a header name: kube's headerKeyEscape (legal token
 * characters but '%' kept, the rest %XX). */
static char *escape_key(const char *k)
{
	size_t n = strlen(k);
	char *out = malloc(n * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *k; k++) {
		unsigned char c = (unsigned char)*k;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '%' && strchr("!#$&'*+-.^_`|~", c)))
			*o++ = (char)c;
		else
			o += snprintf(o, 4, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

static struct agg_service *service_for(struct ks_agg *a, const char *path)
{
	for (size_t i = 0; a && i < a->nsvc; i++) {
		struct agg_service *v = &a->svc[i];
		size_t gl = strlen(v->group), vl = strlen(v->version);

		if (strncmp(path, "/apis/", 6) || strncmp(path + 6, v->group, gl) || path[6 + gl] != '/' ||
		    strncmp(path + 7 + gl, v->version, vl) ||
		    (path[7 + gl + vl] && path[7 + gl + vl] != '/'))
			continue;
		return v;
	}
	return NULL;
}

bool ks_agg_proxied(struct ks_agg *a, const char *path)
{
	return service_for(a, path) != NULL;
}

int ks_agg_proxy(struct ks_agg *a, struct evhttp_request *in, const char *path,
		 const struct ks_agg_user *u)
{
	struct agg_service *v = service_for(a, path);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(in);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq *hin = evhttp_request_get_input_headers(in), *hout;
	struct evkeyval *h;
	struct bufferevent *bev;
	struct agg_call *k;
	_cleanup_free_ char *target = NULL;
	json_t *g, *vals;
	const char *key;
	size_t i;
	SSL *ssl;

	if (!v)
		return 0;
	if (v->problem) {
		reply_unavailable(in, "%s", v->problem);
		return 1;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->a = a;
	k->v = v;
	k->in = in;
	k->code = 0;
	k->method = strdup(evhttp_request_get_command(in) == EVHTTP_REQ_POST     ? "POST"
			   : evhttp_request_get_command(in) == EVHTTP_REQ_DELETE ? "DELETE"
			   : evhttp_request_get_command(in) == EVHTTP_REQ_HEAD   ? "HEAD"
										 : "GET");
	k->path = strdup(path);
	k->user = strdup(u->user);
	if (asprintf(&target, "%s%s%s", path, query ? "?" : "", query ? query : "") < 0)
		target = NULL;
	ssl = SSL_new(v->ctx);
	if (!k->method || !k->path || !k->user || !target || !ssl) {
		SSL_free(ssl);
		call_free(k);
		return -ENOMEM;
	}
	if (v->insecure) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set1_host(ssl, v->verify_name);
	}
	SSL_set_tlsext_host_name(ssl, v->verify_name);
	bev = bufferevent_openssl_socket_new(a->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		call_free(k);
		return -ENOMEM;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	k->backend = evhttp_connection_base_bufferevent_new(a->base, NULL, bev, v->host,
							    (unsigned short)v->port);
	k->out = k->backend ? evhttp_request_new(backend_done, k) : NULL;
	if (!k->out) {
		if (!k->backend)
			bufferevent_free(bev);
		call_free(k);
		return -ENOMEM;
	}
	evhttp_connection_set_timeout(k->backend, AGG_TIMEOUT_S);
	evhttp_request_set_header_cb(k->out, backend_headers);
	evhttp_request_set_chunked_cb(k->out, backend_chunk);
	hout = evhttp_request_get_output_headers(k->out);
	TAILQ_FOREACH(h, hin, next)
		if (!header_dropped(h->key))
			evhttp_add_header(hout, h->key, h->value);
	evhttp_add_header(hout, "Host", v->verify_name);
	/* as the aggregator's SetAuthProxyHeaders: the user, fresh */
	evhttp_add_header(hout, "X-Remote-User", u->user);
	if (u->uid && *u->uid)
		evhttp_add_header(hout, "X-Remote-Uid", u->uid);
	json_array_foreach(u->groups, i, g)
		evhttp_add_header(hout, "X-Remote-Group", json_string_value(g));
	json_object_foreach(u->extra, key, vals) {
		_cleanup_free_ char *name = NULL, *esc = escape_key(key);
		json_t *x;
		size_t j;

		if (!esc || asprintf(&name, "X-Remote-Extra-%s", esc) < 0)
			continue;
		json_array_foreach(vals, j, x)
			evhttp_add_header(hout, name, json_string_value(x));
	}
	if (evhttp_request_get_command(in) == EVHTTP_REQ_POST) {
		struct evbuffer *body = evhttp_request_get_input_buffer(in);
		size_t len = evbuffer_get_length(body);

		evbuffer_add(evhttp_request_get_output_buffer(k->out),
			     len ? evbuffer_pullup(body, -1) : (unsigned char *)"", len);
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(in), user_closed, k);
	if (evhttp_make_request(k->backend, k->out, evhttp_request_get_command(in), target) < 0) {
		/* the request was freed by libevent */
		k->out = NULL;
		user_release(k);
		k->in = NULL;
		reply_unavailable(in, "error trying to reach service: %s", v->url);
		call_free(k);
	}
	return 1;
}
