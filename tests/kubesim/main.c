// SPDX-License-Identifier: Apache-2.0
/*
 * kubesim: a small HTTPS Kubernetes API server for tests.
 *
 *   kubesim --listen 127.0.0.1:PORT --cert F --key F --tokens FILE
 *           --objects FILE_OR_DIR... --rbac FILE_OR_DIR... [--log FILE]
 *           [--api-audience AUD]... [--port-file FILE]
 *
 * Every request is authenticated (bearer token from the tokens fixture,
 * valid for the server's own audience) and authorized by the same RBAC
 * evaluation that answers SubjectAccessReviews, then served from the
 * object fixtures with the JSON shapes of the real API server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "lib/buf.h"
#include "lib/httpstatus.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

#define KS_MAX_BODY (1u << 20)
#define KS_MAX_HEADERS (64u << 10)
#define KS_MAX_PATH 4096
#define KS_MAX_SEGMENTS 16
#define KS_MAX_PATHS 8
#define KS_TIMEOUT_S 30
#define KS_DEFAULT_AUDIENCE "https://kubernetes.default.svc"
#define KS_MAX_AUDIENCES 16

struct ks_token {
	const char *token;
	const char *username;
	const char *uid;
	json_t *groups;    /* array of strings, system:authenticated added */
	json_t *audiences; /* array of strings */
	json_t *extra;     /* object or NULL */
};

struct ks_server {
	json_t *token_docs;
	struct ks_token *tokens;
	size_t ntokens;
	json_t *objects;          /* the store's */
	struct ks_store store;    /* store.c: resourceVersions, writes, watch history */
	size_t watch_history;
	struct ks_rbac *rbac;
	const char *audiences[KS_MAX_AUDIENCES + 1];
	size_t naudiences;
	FILE *log;
	SSL_CTX *ssl;
	struct event_base *base;
	struct ks_agg *agg;      /* aggregate.c: client certificates, APIServices */
};

/* What one request is about, as the API server's RequestInfo has it. */
struct ks_req {
	struct evhttp_request *req;
	enum evhttp_cmd_type cmd;
	const char *method;
	char *path;
	struct evkeyvalq query;
	bool query_parsed;
	char *segs[KS_MAX_SEGMENTS];
	size_t nsegs;
	/* identity */
	const struct ks_token *tok;
	const char *const *groups;
	/* attributes */
	struct ks_attrs attrs;
	const char *version;
	bool collection;
	json_t *body;
	const char *log_detail;
};

/* ---- responses ------------------------------------------------------------ */

static void reply_json(struct ks_server *s, struct ks_req *r, int code, json_t *j)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	struct evbuffer *b = evbuffer_new();
	const char *user = r->tok ? r->tok->username : "-";

	if (b && text) {
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Cache-Control", "no-cache, private");
	evhttp_send_reply(r->req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	if (s->log) {
		char ts[32];

		format_rfc3339_us(now_real_ns(), ts);
		fprintf(s->log, "%s %s %s %s %d%s%s\n", ts, r->method, r->path ? r->path : "?", user, code,
			r->log_detail ? " " : "", r->log_detail ? r->log_detail : "");
		fflush(s->log);
	}
}

static void reply_text(struct ks_server *s, struct ks_req *r, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b)
		evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(r->req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	if (s->log) {
		char ts[32];

		format_rfc3339_us(now_real_ns(), ts);
		fprintf(s->log, "%s %s %s %s %d\n", ts, r->method, r->path, r->tok ? r->tok->username : "-", code);
		fflush(s->log);
	}
}

static void reply_status(struct ks_server *s, struct ks_req *r, int code, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void reply_status(struct ks_server *s, struct ks_req *r, int code, json_t *details, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_(json_decrefp) json_t *j = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	j = ks_status(code, status_reason(code), details, "%s", msg ? msg : "");
	reply_json(s, r, code, j);
}

/* ---- authentication -------------------------------------------------------- */

static const struct ks_token *token_find(struct ks_server *s, const char *t)
{
	for (size_t i = 0; i < s->ntokens; i++)
		if (strcmp(s->tokens[i].token, t) == 0)
			return &s->tokens[i];
	return NULL;
}

/* Audiences of tok that are in want (NULL-terminated); a new array. */
static json_t *aud_intersect(const struct ks_token *tok, const char *const *want)
{
	json_t *out = json_array(), *a;
	size_t i;

	json_array_foreach(tok->audiences, i, a)
		for (const char *const *w = want; out && *w; w++)
			if (!strcmp(json_string_value(a), *w)) {
				json_array_append_new(out, json_string(*w));
				break;
			}
	return out;
}

static const char *bearer(struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* ---- request info ------------------------------------------------------------ */

static void ks_req_release(struct ks_req *r)
{
	free(r->path);
	for (size_t i = 0; i < r->nsegs; i++)
		free(r->segs[i]);
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	json_decref(r->body);
	free((void *)r->groups);
}

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

static const char *query_get(struct ks_req *r, const char *k)
{
	return r->query_parsed ? evhttp_find_header(&r->query, k) : NULL;
}

/* Fills attrs from path and method (k8s RequestInfoFactory). */
static int request_info(struct ks_req *r)
{
	size_t i = 0, n = r->nsegs;
	char **p = r->segs;
	struct ks_attrs *a = &r->attrs;
	const char *watch = query_get(r, "watch");

	a->resource_request = false;
	a->path = r->path;
	switch (r->cmd) {
	case EVHTTP_REQ_GET: a->verb = "get"; break;
	case EVHTTP_REQ_POST: a->verb = "post"; break;
	case EVHTTP_REQ_PUT: a->verb = "put"; break;
	case EVHTTP_REQ_DELETE: a->verb = "delete"; break;
	case EVHTTP_REQ_PATCH: a->verb = "patch"; break;
	case EVHTTP_REQ_HEAD: a->verb = "head"; break;
	default: a->verb = "options"; break;
	}
	if (n >= 3 && !strcmp(p[0], "api")) {
		a->group = "";
		r->version = p[1];
		i = 2;
	} else if (n >= 4 && !strcmp(p[0], "apis")) {
		a->group = p[1];
		r->version = p[2];
		i = 3;
	} else {
		return 0; /* non-resource */
	}
	a->resource_request = true;
	if (!strcmp(p[i], "namespaces") && n - i >= 2) {
		a->namespace = p[i + 1];
		if (n - i > 2)
			i += 2;
	}
	a->resource = p[i];
	a->name = n - i > 1 ? p[i + 1] : NULL;
	a->subresource = n - i > 2 ? p[i + 2] : NULL;
	if (n - i > 3)
		return -EINVAL;
	r->collection = !a->name;
	switch (r->cmd) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		if (watch && (!strcmp(watch, "true") || !strcmp(watch, "1")))
			a->verb = "watch";
		else
			a->verb = a->name ? "get" : "list";
		break;
	case EVHTTP_REQ_POST: a->verb = "create"; break;
	case EVHTTP_REQ_PUT: a->verb = "update"; break;
	case EVHTTP_REQ_PATCH: a->verb = "patch"; break;
	case EVHTTP_REQ_DELETE: a->verb = a->name ? "delete" : "deletecollection"; break;
	default: a->verb = ""; break;
	}
	return 0;
}

static json_t *forbidden_details(const struct ks_attrs *a)
{
	json_t *d = json_object();

	if (!d)
		return NULL;
	if (a->name)
		json_object_set_new(d, "name", json_string(a->name));
	if (a->group && *a->group)
		json_object_set_new(d, "group", json_string(a->group));
	json_object_set_new(d, "kind", json_string(a->resource ? a->resource : ""));
	return d;
}

/* kube's forbidden message (apiserver/pkg/endpoints/handlers/responsewriters/errors.go) */
static void reply_forbidden(struct ks_server *s, struct ks_req *r, const char *reason)
{
	const struct ks_attrs *a = &r->attrs;
	_cleanup_(json_decrefp) json_t *d = NULL;
	_cleanup_free_ char *res = NULL, *scope = NULL;
	const char *user = r->tok->username;
	const char *suffix = reason && *reason ? ": " : "";

	if (!reason)
		reason = "";
	if (!a->resource_request) {
		reply_status(s, r, 403, NULL, "forbidden: User \"%s\" cannot %s path \"%s\"%s%s", user, a->verb,
			     a->path, suffix, reason);
		return;
	}
	if (asprintf(&res, "%s%s%s%s%s", a->resource, a->subresource ? "/" : "",
		     a->subresource ? a->subresource : "", *a->group ? "." : "", a->group) < 0)
		res = NULL;
	if (a->namespace && *a->namespace) {
		if (asprintf(&scope, "in the namespace \"%s\"", a->namespace) < 0)
			scope = NULL;
	} else if (!(scope = strdup("at the cluster scope"))) {
		scope = NULL;
	}
	d = forbidden_details(a);
	if (a->name)
		reply_status(s, r, 403, d,
			     "%s \"%s\" is forbidden: User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\" %s%s%s",
			     res ? res : "", a->name, user, a->verb, a->resource, a->subresource ? "/" : "",
			     a->subresource ? a->subresource : "", a->group, scope ? scope : "", suffix, reason);
	else
		reply_status(s, r, 403, d,
			     "%s is forbidden: User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\" %s%s%s",
			     res ? res : "", user, a->verb, a->resource, a->subresource ? "/" : "",
			     a->subresource ? a->subresource : "", a->group, scope ? scope : "", suffix, reason);
}

static bool has_group(const char *const *groups, const char *g)
{
	for (; groups && *groups; groups++)
		if (!strcmp(*groups, g))
			return true;
	return false;
}

/* The API server's chain: system:masters is always allowed, then RBAC. */
static bool authorize(struct ks_server *s, const struct ks_identity *id, const struct ks_attrs *a,
		      char **reason, char **evalerr)
{
	if (has_group(id->groups, "system:masters"))
		return true;
	return ks_rbac_authorize(s->rbac, id, a, reason, evalerr);
}

/* ---- object store -------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void serve_get(struct ks_server *s, struct ks_req *r, const struct ks_kind *k)
{
	const struct ks_attrs *a = &r->attrs;
	json_t *o;
	size_t i;

	json_array_foreach(s->objects, i, o) {
		json_t *m = json_object_get(o, "metadata");

		if (!ks_object_is(o, k) || strcmp(jstr(m, "name"), a->name) != 0)
			continue;
		if (k->namespaced && strcmp(jstr(m, "namespace"), a->namespace) != 0)
			continue;
		reply_json(s, r, 200, o);
		return;
	}
	{
		_cleanup_(json_decrefp) json_t *d = json_pack("{s:s, s:s}", "name", a->name, "kind", k->resource);

		if (d && *k->group)
			json_object_set_new(d, "group", json_string(k->group));
		reply_status(s, r, 404, d, "%s%s%s \"%s\" not found", k->resource, *k->group ? "." : "", k->group,
			     a->name);
	}
}

static void serve_list(struct ks_server *s, struct ks_req *r, const struct ks_kind *k)
{
	const struct ks_attrs *a = &r->attrs;
	const char *fs = query_get(r, "fieldSelector"), *ls = query_get(r, "labelSelector");
	struct ks_selector *fsel = NULL, *lsel = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_(json_decrefp) json_t *list = NULL;
	json_t *items, *o;
	char kind[64], av[64], rv[24];
	size_t i;

	if (ks_selector_parse_fields(fs ? fs : "", k->fields, &fsel, &err) < 0 ||
	    ks_selector_parse_labels(ls ? ls : "", &lsel, &err) < 0) {
		ks_selector_free(fsel);
		reply_status(s, r, 400, NULL, "%s", err ? err : "bad selector");
		return;
	}
	snprintf(kind, sizeof(kind), "%sList", k->kind);
	if (*k->group)
		snprintf(av, sizeof(av), "%s/%s", k->group, k->version);
	else
		snprintf(av, sizeof(av), "%s", k->version);
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)s->store.rv);
	list = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", kind, "apiVersion", av, "metadata",
			 "resourceVersion", rv, "items");
	items = json_object_get(list, "items");
	json_array_foreach(s->objects, i, o) {
		json_t *m = json_object_get(o, "metadata"), *c;

		if (!ks_object_is(o, k))
			continue;
		if (k->namespaced && a->namespace && *a->namespace && strcmp(jstr(m, "namespace"), a->namespace) != 0)
			continue;
		if (!ks_selector_match_fields(fsel, o) || !ks_selector_match_labels(lsel, json_object_get(m, "labels")))
			continue;
		/* list items carry no kind/apiVersion of their own */
		c = json_copy(o);
		if (!c)
			continue;
		json_object_del(c, "kind");
		json_object_del(c, "apiVersion");
		json_array_append_new(items, c);
	}
	ks_selector_free(fsel);
	ks_selector_free(lsel);
	reply_json(s, r, 200, list);
}

/* POST (create), PUT (update, or the status subresource), DELETE: store.c */
static void serve_write(struct ks_server *s, struct ks_req *r, const struct ks_kind *k)
{
	const struct ks_attrs *a = &r->attrs;
	const char *ns = k->namespaced ? a->namespace : NULL;
	_cleanup_(json_decrefp) json_t *out = NULL;
	int code;

	if (r->cmd == EVHTTP_REQ_POST && !a->name)
		code = ks_store_create(&s->store, k, ns, r->body, &out);
	else if (r->cmd == EVHTTP_REQ_PUT && a->name)
		code = ks_store_update(&s->store, k, ns, a->name, a->subresource != NULL, r->body, &out);
	else if (r->cmd == EVHTTP_REQ_DELETE && a->name)
		code = ks_store_delete(&s->store, k, ns, a->name, &out);
	else
		code = 405, out = ks_status(405, "MethodNotAllowed", NULL,
					    "the server does not allow this method on the requested resource");
	reply_json(s, r, code, out);
}

/* RBAC objects at run time (rbac.c): GET one, POST, DELETE */
static void serve_rbac(struct ks_server *s, struct ks_req *r)
{
	const struct ks_attrs *a = &r->attrs;
	_cleanup_(json_decrefp) json_t *out = NULL;
	int code;

	if (r->cmd == EVHTTP_REQ_GET && a->name)
		code = ks_rbac_write(s->rbac, KS_RBAC_GET, a->resource, a->namespace, a->name, NULL, &out);
	else if (r->cmd == EVHTTP_REQ_POST && !a->name)
		code = ks_rbac_write(s->rbac, KS_RBAC_CREATE, a->resource, a->namespace, NULL, r->body, &out);
	else if (r->cmd == EVHTTP_REQ_DELETE && a->name)
		code = ks_rbac_write(s->rbac, KS_RBAC_DELETE, a->resource, a->namespace, a->name, NULL, &out);
	else
		code = 405, out = ks_status(405, "MethodNotAllowed", NULL,
					    "the server does not allow this method on the requested resource");
	reply_json(s, r, code, out);
}

/* ?watch=true: watch.c streams; only a refusal is answered here. */
static void serve_watch(struct ks_server *s, struct ks_req *r, const struct ks_kind *k)
{
	const char *fs = query_get(r, "fieldSelector"), *ls = query_get(r, "labelSelector");
	const char *to = query_get(r, "timeoutSeconds"), *bm = query_get(r, "allowWatchBookmarks");
	struct ks_watch_opts o = { .kind = k, .namespace = k->namespaced ? r->attrs.namespace : NULL,
				   .resource_version = query_get(r, "resourceVersion"),
				   .bookmarks = bm && !strcmp(bm, "true") };
	_cleanup_free_ char *err = NULL;
	uint64_t t = 0;

	if (r->attrs.name) {
		reply_status(s, r, 400, NULL, "watch of a single object: use a fieldSelector on metadata.name");
		return;
	}
	if (to && (parse_u64(to, &t) < 0 || t > 86400)) {
		reply_status(s, r, 400, NULL, "timeoutSeconds \"%s\": want 0..86400", to);
		return;
	}
	o.timeout_s = (unsigned)t;
	if (ks_selector_parse_fields(fs ? fs : "", k->fields, &o.fields, &err) < 0 ||
	    ks_selector_parse_labels(ls ? ls : "", &o.labels, &err) < 0) {
		ks_selector_free(o.fields);
		reply_status(s, r, 400, NULL, "%s", err ? err : "bad selector");
		return;
	}
	if (!ks_watch_start(&s->store, r->req, &o, &err)) {
		ks_selector_free(o.fields);
		ks_selector_free(o.labels);
		reply_status(s, r, 400, NULL, "%s", err ? err : "out of memory");
		return;
	}
	if (s->log) {
		char ts[32];

		format_rfc3339_us(now_real_ns(), ts);
		fprintf(s->log, "%s %s %s %s 200 watch\n", ts, r->method, r->path, r->tok->username);
		fflush(s->log);
	}
}

/* ---- reviews ---------------------------------------------------------------------- */

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static bool body_type(struct ks_req *r, const char *api_version, const char *kind)
{
	return json_is_object(r->body) && !strcmp(jstr(r->body, "apiVersion"), api_version) &&
	       !strcmp(jstr(r->body, "kind"), kind);
}

static void serve_tokenreview(struct ks_server *s, struct ks_req *r)
{
	_cleanup_(json_decrefp) json_t *out = NULL, *status = NULL, *inter = NULL;
	const char *want[KS_MAX_AUDIENCES + 1] = { 0 };
	json_t *spec, *auds, *a;
	const struct ks_token *t;
	const char *token;
	size_t i, n = 0;

	if (r->attrs.namespace) {
		reply_status(s, r, 400, NULL, "namespace is not allowed on this type");
		return;
	}
	if (!body_type(r, "authentication.k8s.io/v1", "TokenReview")) {
		reply_status(s, r, 400, NULL, "request body is not an authentication.k8s.io/v1 TokenReview");
		return;
	}
	spec = json_object_get(r->body, "spec");
	token = json_string_value(json_object_get(spec, "token"));
	if (!token || !*token) {
		reply_status(s, r, 400, NULL, "token is required for TokenReview in authentication");
		return;
	}
	auds = json_object_get(spec, "audiences");
	if (auds && !json_is_array(auds)) {
		reply_status(s, r, 400, NULL, "spec.audiences: must be a list of strings");
		return;
	}
	json_array_foreach(auds, i, a) {
		if (!json_is_string(a) || n >= KS_MAX_AUDIENCES) {
			reply_status(s, r, 400, NULL, "spec.audiences: at most %d strings", KS_MAX_AUDIENCES);
			return;
		}
		want[n++] = json_string_value(a);
	}
	if (!n) /* none asked: the API server's own */
		for (i = 0; i < s->naudiences; i++)
			want[i] = s->audiences[i];
	status = json_object();
	t = token_find(s, token);
	inter = t ? aud_intersect(t, want) : NULL;
	if (!t) {
		json_object_set_new(status, "user", json_object());
		r->log_detail = "authenticated=false";
	} else if (!json_array_size(inter)) {
		_cleanup_free_ char *have = json_dumps(t->audiences, JSON_COMPACT);
		_cleanup_(json_decrefp) json_t *wj = strv_json(want);
		_cleanup_free_ char *ws = json_dumps(wj, JSON_COMPACT);
		_cleanup_free_ char *msg = NULL;

		json_object_set_new(status, "user", json_object());
		if (asprintf(&msg, "[invalid bearer token, token audiences %s is invalid for the target audiences %s]",
			     have ? have : "", ws ? ws : "") >= 0)
			json_object_set_new(status, "error", json_string(msg));
		r->log_detail = "authenticated=false audience";
	} else {
		json_t *u = json_pack("{s:s, s:O}", "username", t->username, "groups", t->groups);

		if (u && t->uid)
			json_object_set_new(u, "uid", json_string(t->uid));
		if (u && t->extra)
			json_object_set(u, "extra", t->extra);
		json_object_set_new(status, "authenticated", json_true());
		json_object_set_new(status, "user", u);
		json_object_set(status, "audiences", inter);
		r->log_detail = "authenticated=true";
	}
	out = json_pack("{s:s, s:s, s:{s:n}, s:O, s:O}", "kind", "TokenReview", "apiVersion",
			"authentication.k8s.io/v1", "metadata", "creationTimestamp", "spec", spec, "status", status);
	reply_json(s, r, 201, out);
}

/* spec.groups as a NULL-terminated vector pointing into spec. */
static const char **groups_of(json_t *g)
{
	const char **v = calloc(json_array_size(g) + 1, sizeof(char *));
	json_t *x;
	size_t i;

	if (!v)
		return NULL;
	json_array_foreach(g, i, x)
		v[i] = json_string_value(x);
	return v;
}

static int attrs_from_spec(json_t *spec, struct ks_attrs *a, char **ret_err)
{
	json_t *ra = json_object_get(spec, "resourceAttributes");
	json_t *nra = json_object_get(spec, "nonResourceAttributes");
	const char *keys[] = { "namespace", "verb", "group", "version", "resource", "subresource", "name", "path" };
	json_t *o = ra ? ra : nra;

	if ((!ra) == (!nra) || !json_is_object(o)) {
		*ret_err = strdup("spec: exactly one of resourceAttributes or nonResourceAttributes must be specified");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(o, keys[i]);

		if (v && !json_is_string(v)) {
			if (asprintf(ret_err, "spec: \"%s\" must be a string", keys[i]) < 0)
				*ret_err = NULL;
			return -EINVAL;
		}
	}
	a->resource_request = !!ra;
	a->verb = jstr(o, "verb");
	if (ra) {
		a->namespace = jstr(ra, "namespace");
		a->group = jstr(ra, "group");
		a->resource = jstr(ra, "resource");
		a->subresource = *jstr(ra, "subresource") ? jstr(ra, "subresource") : NULL;
		a->name = *jstr(ra, "name") ? jstr(ra, "name") : NULL;
	} else {
		a->path = jstr(nra, "path");
	}
	return 0;
}

enum review { REVIEW_SAR, REVIEW_LOCAL, REVIEW_SELF };

static void serve_accessreview(struct ks_server *s, struct ks_req *r, enum review kind)
{
	static const char *const kind_names[] = { "SubjectAccessReview", "LocalSubjectAccessReview",
						  "SelfSubjectAccessReview" };
	_cleanup_(json_decrefp) json_t *out = NULL, *status = NULL;
	_cleanup_free_ const char **groups = NULL;
	_cleanup_free_ char *reason = NULL, *evalerr = NULL, *err = NULL;
	struct ks_attrs a = { 0 };
	struct ks_identity id;
	json_t *spec, *g, *x;
	bool allowed;
	size_t i;

	if (!body_type(r, "authorization.k8s.io/v1", kind_names[kind])) {
		reply_status(s, r, 400, NULL, "request body is not an authorization.k8s.io/v1 %s", kind_names[kind]);
		return;
	}
	if (kind != REVIEW_LOCAL && r->attrs.namespace) {
		reply_status(s, r, 400, NULL, "namespace is not allowed on this type");
		return;
	}
	spec = json_object_get(r->body, "spec");
	if (!json_is_object(spec)) {
		reply_status(s, r, 400, NULL, "spec: required");
		return;
	}
	if (attrs_from_spec(spec, &a, &err) < 0) {
		reply_status(s, r, 422, NULL, "%s.authorization.k8s.io is invalid: %s", kind_names[kind], err ? err : "");
		return;
	}
	if (kind == REVIEW_LOCAL) {
		if (!a.resource_request) {
			reply_status(s, r, 422, NULL, "spec.nonResourceAttributes: disallowed on this kind of request");
			return;
		}
		if (!*a.namespace)
			a.namespace = r->attrs.namespace;
		if (strcmp(a.namespace, r->attrs.namespace) != 0) {
			reply_status(s, r, 400, NULL, "spec.resourceAttributes.namespace: must match metadata.namespace");
			return;
		}
	}
	if (kind == REVIEW_SELF) {
		id.user = r->tok->username;
		id.groups = r->groups;
	} else {
		x = json_object_get(spec, "user");
		g = json_object_get(spec, "groups");
		if ((x && !json_is_string(x)) || (g && !json_is_array(g))) {
			reply_status(s, r, 400, NULL, "spec.user must be a string and spec.groups a list");
			return;
		}
		json_array_foreach(g, i, x)
			if (!json_is_string(x)) {
				reply_status(s, r, 400, NULL, "spec.groups[%zu]: must be a string", i);
				return;
			}
		if (!*jstr(spec, "user") && !json_array_size(g)) {
			reply_status(s, r, 422, NULL, "%s.authorization.k8s.io is invalid: spec.user: Invalid value: \"\": "
				     "at least one of user or group must be specified", kind_names[kind]);
			return;
		}
		groups = groups_of(g);
		if (!groups) {
			reply_status(s, r, 500, NULL, "out of memory");
			return;
		}
		id.user = jstr(spec, "user");
		id.groups = groups;
	}
	allowed = authorize(s, &id, &a, &reason, &evalerr);
	status = json_pack("{s:b}", "allowed", allowed);
	if (reason && *reason)
		json_object_set_new(status, "reason", json_string(reason));
	if (evalerr && *evalerr)
		json_object_set_new(status, "evaluationError", json_string(evalerr));
	out = json_pack("{s:s, s:s, s:{s:n}, s:O, s:O}", "kind", kind_names[kind], "apiVersion",
			"authorization.k8s.io/v1", "metadata", "creationTimestamp", "spec", spec, "status", status);
	if (kind == REVIEW_LOCAL)
		json_object_set_new(json_object_get(out, "metadata"), "namespace", json_string(r->attrs.namespace));
	r->log_detail = allowed ? "allowed=true" : "allowed=false";
	reply_json(s, r, 201, out);
}

/* ---- dispatch ------------------------------------------------------------------- */

/*
 * Discovery, as kubectl needs it to map "pods" or "traces.tracegate.dev"
 * to a resource: what kubesim serves (and tracegate.dev, which a cluster
 * with tracegate installed as an aggregated API lists; kubesim itself
 * answers 404 under it).
 */
static const struct {
	const char *path;
	const char *json;
} discovery[] = {
	{ "/api", "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}" },
	{ "/apis",
	  "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":["
#define GROUP(g, v) "{\"name\":\"" g "\",\"versions\":[{\"groupVersion\":\"" g "/" v "\",\"version\":\"" v "\"}]," \
		    "\"preferredVersion\":{\"groupVersion\":\"" g "/" v "\",\"version\":\"" v "\"}}"
	  GROUP("apps", "v1") "," GROUP("authentication.k8s.io", "v1") "," GROUP("authorization.k8s.io", "v1") ","
	  GROUP("batch", "v1") ","
	  GROUP("tracegate.dev", "v1alpha1")
#undef GROUP
	  "]}" },
#define RES(name, kind, ns, verbs) "{\"name\":\"" name "\",\"singularName\":\"\",\"namespaced\":" ns "," \
		"\"kind\":\"" kind "\",\"verbs\":[" verbs "]}"
#define VERBS "\"create\",\"delete\",\"get\",\"list\",\"update\",\"watch\""
#define LIST(gv, ...) "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" gv "\",\"resources\":[" __VA_ARGS__ "]}"
	{ "/api/v1", LIST("v1", RES("pods", "Pod", "true", VERBS) ","
			  RES("namespaces", "Namespace", "false", VERBS) ","
			  RES("nodes", "Node", "false", VERBS)) },
	{ "/apis/apps/v1", LIST("apps/v1", RES("deployments", "Deployment", "true", VERBS) ","
				RES("replicasets", "ReplicaSet", "true", VERBS) ","
				RES("statefulsets", "StatefulSet", "true", VERBS) ","
				RES("daemonsets", "DaemonSet", "true", VERBS)) },
	{ "/apis/batch/v1", LIST("batch/v1", RES("jobs", "Job", "true", VERBS) ","
				 RES("cronjobs", "CronJob", "true", VERBS)) },
	{ "/apis/authentication.k8s.io/v1",
	  LIST("authentication.k8s.io/v1", RES("tokenreviews", "TokenReview", "false", "\"create\"")) },
	{ "/apis/authorization.k8s.io/v1",
	  LIST("authorization.k8s.io/v1",
	       RES("subjectaccessreviews", "SubjectAccessReview", "false", "\"create\"") ","
	       RES("selfsubjectaccessreviews", "SelfSubjectAccessReview", "false", "\"create\"") ","
	       RES("localsubjectaccessreviews", "LocalSubjectAccessReview", "true", "\"create\"")) },
	{ "/apis/tracegate.dev/v1alpha1",
	  LIST("tracegate.dev/v1alpha1", RES("traces", "Trace", "true", "\"create\",\"get\",\"list\",\"delete\"")) },
#undef RES
#undef VERBS
#undef LIST
};

static bool serve_discovery(struct ks_server *s, struct ks_req *r)
{
	for (size_t i = 0; i < sizeof(discovery) / sizeof(discovery[0]); i++) {
		if (strcmp(r->path, discovery[i].path))
			continue;
		_cleanup_(json_decrefp) json_t *j = json_loads(discovery[i].json, 0, NULL);

		if (!j)
			reply_status(s, r, 500, NULL, "discovery document %s does not parse", r->path);
		else
			reply_json(s, r, 200, j);
		return true;
	}
	return false;
}

static void serve_nonresource(struct ks_server *s, struct ks_req *r)
{
	if (!strcmp(r->path, "/healthz") || !strcmp(r->path, "/livez") || !strcmp(r->path, "/readyz")) {
		reply_text(s, r, 200, "ok");
		return;
	}
	if (!strcmp(r->path, "/version")) {
		_cleanup_(json_decrefp) json_t *v = json_pack("{s:s, s:s, s:s, s:s}", "major", "1", "minor", "30",
							      "gitVersion", "v1.30.0-kubesim", "platform", "linux/amd64");
		reply_json(s, r, 200, v);
		return;
	}
	if (serve_discovery(s, r))
		return;
	reply_status(s, r, 404, NULL, "the server could not find the requested resource");
}

static void dispatch(struct ks_server *s, struct ks_req *r)
{
	const struct ks_attrs *a = &r->attrs;
	const char *g = a->group;

	if (ks_agg_proxied(s->agg, r->path)) {
		struct ks_agg_user u = { .user = r->tok->username, .uid = r->tok->uid,
					 .groups = r->tok->groups, .extra = r->tok->extra };

		if (ks_agg_proxy(s->agg, r->req, r->path, &u) < 0)
			reply_status(s, r, 500, NULL, "out of memory");
		return;
	}
	if (!a->resource_request) {
		serve_nonresource(s, r);
		return;
	}
	if (!strcmp(g, "authentication.k8s.io") && !strcmp(r->version, "v1") &&
	    !strcmp(a->resource, "tokenreviews") && !a->name) {
		if (r->cmd != EVHTTP_REQ_POST)
			reply_status(s, r, 405, NULL, "the server does not allow this method on the requested resource");
		else
			serve_tokenreview(s, r);
		return;
	}
	if (!strcmp(g, "authorization.k8s.io") && !strcmp(r->version, "v1") && !a->name) {
		enum review kind;

		if (!strcmp(a->resource, "subjectaccessreviews"))
			kind = REVIEW_SAR;
		else if (!strcmp(a->resource, "localsubjectaccessreviews") && a->namespace)
			kind = REVIEW_LOCAL;
		else if (!strcmp(a->resource, "selfsubjectaccessreviews"))
			kind = REVIEW_SELF;
		else
			goto notfound;
		if (r->cmd != EVHTTP_REQ_POST)
			reply_status(s, r, 405, NULL, "the server does not allow this method on the requested resource");
		else
			serve_accessreview(s, r, kind);
		return;
	}
	if (!strcmp(g, "rbac.authorization.k8s.io") && !strcmp(r->version, "v1") &&
	    ks_rbac_kind_of(a->resource) && !a->subresource) {
		serve_rbac(s, r);
		return;
	}
	for (size_t i = 0; i < ks_nkinds; i++) {
		const struct ks_kind *k = &ks_kinds[i];

		if (strcmp(g, k->group) != 0 || strcmp(r->version, k->version) != 0 || strcmp(a->resource, k->resource) != 0)
			continue;
		if ((a->subresource && (strcmp(a->subresource, "status") || r->cmd != EVHTTP_REQ_PUT)) ||
		    (!k->namespaced && a->namespace && strcmp(k->resource, "namespaces") != 0))
			goto notfound;
		if (r->cmd != EVHTTP_REQ_GET) {
			serve_write(s, r, k);
			return;
		}
		if (!strcmp(a->verb, "watch")) {
			serve_watch(s, r, k);
			return;
		}
		if (a->name)
			serve_get(s, r, k);
		else
			serve_list(s, r, k);
		return;
	}
notfound:
	reply_status(s, r, 404, NULL, "the server could not find the requested resource");
}

static int split_path(struct ks_req *r)
{
	const char *p = r->path;

	if (p[0] != '/')
		return -EINVAL;
	while (*p) {
		const char *start, *end;

		p++;
		start = p;
		end = strchr(start, '/');
		if (!end)
			end = start + strlen(start);
		if (end == start) {
			if (!*end)
				break; /* trailing slash */
			return -EINVAL;
		}
		if (r->nsegs >= KS_MAX_SEGMENTS)
			return -E2BIG;
		r->segs[r->nsegs] = strndup(start, (size_t)(end - start));
		if (!r->segs[r->nsegs])
			return -ENOMEM;
		if (!strcmp(r->segs[r->nsegs], ".") || !strcmp(r->segs[r->nsegs], ".."))
			return -EINVAL;
		r->nsegs++;
		p = end;
	}
	return 0;
}

static void handle(struct evhttp_request *req, void *ud)
{
	struct ks_server *s = ud;
	struct ks_req r = { .req = req };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	const char *token;
	_cleanup_free_ char *reason = NULL, *evalerr = NULL, *cert_user = NULL;
	_cleanup_(json_decrefp) json_t *cert_groups = NULL;
	struct ks_token cert_tok = { 0 };
	struct ks_identity id;

	r.cmd = evhttp_request_get_command(req);
	r.method = method_name(r.cmd);
	r.path = strdup(path && *path ? path : "/");
	if (!r.path) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (strlen(r.path) > KS_MAX_PATH || split_path(&r) < 0) {
		reply_status(s, &r, 400, NULL, "bad request path");
		goto out;
	}
	if (query) {
		if (evhttp_parse_query_str(query, &r.query) < 0) {
			reply_status(s, &r, 400, NULL, "bad query string");
			goto out;
		}
		r.query_parsed = true;
	}

	/* authentication: a client certificate of --client-ca (CN user, O
	 * groups), else a token of the fixtures, for our own audience */
	token = bearer(req);
	if (ks_agg_cert_user(s->agg, req, &cert_user, &cert_groups) > 0) {
		cert_tok = (struct ks_token){ .token = "", .username = cert_user, .groups = cert_groups };
		r.tok = &cert_tok;
	} else {
		r.tok = token ? token_find(s, token) : NULL;
	}
	if (r.tok && r.tok != &cert_tok) {
		_cleanup_(json_decrefp) json_t *inter = aud_intersect(r.tok, s->audiences);

		if (!json_array_size(inter))
			r.tok = NULL;
	}
	if (!r.tok) {
		reply_status(s, &r, 401, NULL, "Unauthorized");
		goto out;
	}
	r.groups = (const char *const *)groups_of(r.tok->groups);
	if (!r.groups) {
		reply_status(s, &r, 500, NULL, "out of memory");
		goto out;
	}

	/* authorization: the same RBAC as for SubjectAccessReviews */
	if (request_info(&r) < 0) {
		reply_status(s, &r, 404, NULL, "the server could not find the requested resource");
		goto out;
	}
	id.user = r.tok->username;
	id.groups = r.groups;
	if (!authorize(s, &id, &r.attrs, &reason, &evalerr)) {
		reply_forbidden(s, &r, evalerr);
		goto out;
	}

	if (r.cmd == EVHTTP_REQ_POST || r.cmd == EVHTTP_REQ_PUT || r.cmd == EVHTTP_REQ_PATCH) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
		json_error_t jerr;

		if (ct && strncmp(ct, "application/json", 16) != 0) {
			reply_status(s, &r, 415, NULL, "the body of the request was in an unknown format - "
				     "accepted media types include: application/json");
			goto out;
		}
		if (len > KS_MAX_BODY) {
			reply_status(s, &r, 413, NULL, "request entity too large");
			goto out;
		}
		r.body = json_loadb(len ? (const char *)evbuffer_pullup(in, -1) : "", len,
				    JSON_REJECT_DUPLICATES, &jerr);
		if (!r.body) {
			reply_status(s, &r, 400, NULL, "the body is not JSON: %s at line %d column %d", jerr.text,
				     jerr.line, jerr.column);
			goto out;
		}
	}
	dispatch(s, &r);
out:
	ks_req_release(&r);
}

/* ---- setup ------------------------------------------------------------------------- */

static struct bufferevent *bevcb(struct event_base *base, void *ud)
{
	struct ks_server *s = ud;
	SSL *ssl = SSL_new(s->ssl);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static void on_signal(evutil_socket_t sig, short ev, void *ud)
{
	struct ks_server *s = ud;

	event_base_loopexit(s->base, NULL);
}

static void add_group(json_t *g, const char *name)
{
	json_t *x;
	size_t i;

	json_array_foreach(g, i, x)
		if (!strcmp(json_string_value(x), name))
			return;
	json_array_append_new(g, json_string(name));
}

static int load_tokens(struct ks_server *s, const char *path, char **ret_err)
{
	json_t *d;
	size_t i;
	int r;

	s->token_docs = json_array();
	if (!s->token_docs)
		return -ENOMEM;
	r = ks_yaml_load_path(path, s->token_docs, ret_err);
	if (r < 0)
		return r;
	if (json_array_size(s->token_docs) == 0) {
		if (asprintf(ret_err, "%s: no tokens", path) < 0)
			*ret_err = NULL;
		return -EINVAL;
	}
	s->tokens = calloc(json_array_size(s->token_docs), sizeof(*s->tokens));
	if (!s->tokens)
		return -ENOMEM;
	json_array_foreach(s->token_docs, i, d) {
		struct ks_token *t = &s->tokens[s->ntokens];
		json_t *g, *a, *x;
		size_t k;

		t->token = json_string_value(json_object_get(d, "token"));
		t->username = json_string_value(json_object_get(d, "username"));
		t->uid = json_string_value(json_object_get(d, "uid"));
		g = json_object_get(d, "groups");
		a = json_object_get(d, "audiences");
		t->extra = json_object_get(d, "extra");
		if (!t->token || !*t->token || !t->username || !*t->username || (g && !json_is_array(g)) ||
		    (a && !json_is_array(a)) || (t->extra && !json_is_object(t->extra)) ||
		    (json_object_get(d, "uid") && !t->uid)) {
			if (asprintf(ret_err, "%s: entry %zu: needs \"token\" and \"username\" strings; \"uid\" a string; "
				     "\"groups\" and \"audiences\" lists; \"extra\" a map", path, i) < 0)
				*ret_err = NULL;
			return -EINVAL;
		}
		if (token_find(s, t->token)) {
			if (asprintf(ret_err, "%s: entry %zu: duplicate token", path, i) < 0)
				*ret_err = NULL;
			return -EINVAL;
		}
		if (!g) {
			g = json_array();
			json_object_set_new(d, "groups", g);
		}
		json_array_foreach(g, k, x)
			if (!json_is_string(x)) {
				if (asprintf(ret_err, "%s: entry %zu: groups must be strings", path, i) < 0)
					*ret_err = NULL;
				return -EINVAL;
			}
		/* what the API server adds to every authenticated user, and
		 * to service accounts (serviceaccount/util.go) */
		if (str_has_prefix(t->username, "system:serviceaccount:")) {
			const char *ns = t->username + strlen("system:serviceaccount:");
			const char *colon = strchr(ns, ':');
			_cleanup_free_ char *nsg = NULL;

			if (!colon || colon == ns || !colon[1]) {
				if (asprintf(ret_err, "%s: entry %zu: \"%s\" is not system:serviceaccount:NS:NAME",
					     path, i, t->username) < 0)
					*ret_err = NULL;
				return -EINVAL;
			}
			if (asprintf(&nsg, "system:serviceaccounts:%.*s", (int)(colon - ns), ns) < 0)
				return -ENOMEM;
			add_group(g, "system:serviceaccounts");
			add_group(g, nsg);
		}
		add_group(g, "system:authenticated");
		t->groups = g;
		if (!a) {
			a = json_pack("[s]", KS_DEFAULT_AUDIENCE);
			json_object_set_new(d, "audiences", a);
		}
		json_array_foreach(a, k, x)
			if (!json_is_string(x)) {
				if (asprintf(ret_err, "%s: entry %zu: audiences must be strings", path, i) < 0)
					*ret_err = NULL;
				return -EINVAL;
			}
		t->audiences = a;
		s->ntokens++;
	}
	return 0;
}

static int add_defaults(json_t *objects)
{
	json_t *o;
	size_t i;

	json_array_foreach(objects, i, o) {
		json_t *m = json_object_get(o, "metadata");

		if (!json_is_object(m))
			continue;
		if (!json_object_get(m, "uid")) {
			char key[512], hex[65], uid[37];

			snprintf(key, sizeof(key), "%s/%s/%s", jstr(o, "kind"), jstr(m, "namespace"), jstr(m, "name"));
			sha256_hex(key, strlen(key), hex);
			snprintf(uid, sizeof(uid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
			json_object_set_new(m, "uid", json_string(uid));
		}
		if (!json_object_get(m, "creationTimestamp"))
			json_object_set_new(m, "creationTimestamp", json_string("2026-01-01T00:00:00Z"));
	}
	return 0;
}

static int check_objects(json_t *objects, char **ret_err)
{
	json_t *o;
	size_t i;

	json_array_foreach(objects, i, o) {
		json_t *m = json_object_get(o, "metadata");

		if (!*jstr(o, "kind") || !*jstr(o, "apiVersion") || !json_is_object(m) || !*jstr(m, "name")) {
			if (asprintf(ret_err, "object %zu (%s \"%s\"): needs apiVersion, kind and metadata.name", i,
				     jstr(o, "kind"), jstr(m, "name")) < 0)
				*ret_err = NULL;
			return -EINVAL;
		}
		for (size_t k = 0; k < ks_nkinds; k++)
			if (ks_object_is(o, &ks_kinds[k]) && ks_kinds[k].namespaced != !!*jstr(m, "namespace")) {
				if (asprintf(ret_err, "%s \"%s\": metadata.namespace %s", ks_kinds[k].kind, jstr(m, "name"),
					     ks_kinds[k].namespaced ? "is required" : "is not allowed") < 0)
					*ret_err = NULL;
				return -EINVAL;
			}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kubesim --listen HOST:PORT --cert F --key F --tokens FILE\n"
		   "               --objects FILE_OR_DIR... --rbac FILE_OR_DIR... [--log FILE]\n"
		   "               [--api-audience AUD]... [--port-file FILE] [--watch-history N]\n"
		   "               [--client-ca F] [--requestheader-client-ca F]\n"
		   "               [--requestheader-allowed-names NAME]... [--proxy-client-cert F\n"
		   "               --proxy-client-key F] [--service-endpoint NS/NAME=URL]...\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },   { "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },      { "tokens", required_argument, NULL, 't' },
		{ "objects", required_argument, NULL, 'o' },  { "rbac", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'L' },      { "api-audience", required_argument, NULL, 'a' },
		{ "port-file", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ "watch-history", required_argument, NULL, 'W' },
		{ "client-ca", required_argument, NULL, 'C' },
		{ "requestheader-client-ca", required_argument, NULL, 'R' },
		{ "requestheader-allowed-names", required_argument, NULL, 'N' },
		{ "proxy-client-cert", required_argument, NULL, 'P' },
		{ "proxy-client-key", required_argument, NULL, 'K' },
		{ "service-endpoint", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *cert = NULL, *key = NULL, *tokens = NULL, *logpath = NULL, *portfile = NULL;
	const char *objpaths[KS_MAX_PATHS], *rbacpaths[KS_MAX_PATHS];
	const char *names[KS_MAX_PATHS + 1] = { 0 }, *endpoints[KS_MAX_PATHS + 1] = { 0 };
	struct ks_agg_opts ao = { .allowed_names = names, .endpoints = endpoints };
	size_t nobj = 0, nrbac = 0, nnames = 0, nendpoints = 0;
	struct ks_server s = { 0 };
	_cleanup_(json_decrefp) json_t *rbacdocs = NULL;
	_cleanup_free_ char *err = NULL, *host = NULL;
	struct tls_opts to = { .sz = sizeof(to) };
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct event *sigterm = NULL, *sigint = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const char *colon;
	uint64_t port;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 't': tokens = optarg; break;
		case 'L': logpath = optarg; break;
		case 'p': portfile = optarg; break;
		case 'W': {
			uint64_t v;

			if (parse_u64(optarg, &v) < 0 || v < 1 || v > 1000000) {
				fprintf(stderr, "kubesim: --watch-history \"%s\": want 1..1000000\n", optarg);
				return 2;
			}
			s.watch_history = (size_t)v;
			break;
		}
		case 'C': ao.client_ca = optarg; break;
		case 'R': ao.requestheader_ca = optarg; break;
		case 'P': ao.proxy_cert = optarg; break;
		case 'K': ao.proxy_key = optarg; break;
		case 'N':
		case 'E':
			if ((c == 'N' ? nnames : nendpoints) >= KS_MAX_PATHS) {
				fprintf(stderr, "kubesim: at most %d --%s\n", KS_MAX_PATHS,
					c == 'N' ? "requestheader-allowed-names" : "service-endpoint");
				return 2;
			}
			if (c == 'N')
				names[nnames++] = optarg;
			else
				endpoints[nendpoints++] = optarg;
			break;
		case 'o':
		case 'r':
			if ((c == 'o' ? nobj : nrbac) >= KS_MAX_PATHS) {
				fprintf(stderr, "kubesim: at most %d --%s paths\n", KS_MAX_PATHS, c == 'o' ? "objects" : "rbac");
				return 2;
			}
			if (c == 'o')
				objpaths[nobj++] = optarg;
			else
				rbacpaths[nrbac++] = optarg;
			break;
		case 'a':
			if (s.naudiences >= KS_MAX_AUDIENCES) {
				fprintf(stderr, "kubesim: at most %d --api-audience\n", KS_MAX_AUDIENCES);
				return 2;
			}
			s.audiences[s.naudiences++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!listen || !cert || !key || !tokens || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!s.naudiences)
		s.audiences[s.naudiences++] = KS_DEFAULT_AUDIENCE;
	colon = strrchr(listen, ':');
	if (!colon || colon == listen || parse_u64(colon + 1, &port) < 0 || port > 65535) {
		fprintf(stderr, "kubesim: --listen \"%s\": want HOST:PORT\n", listen);
		return 2;
	}
	host = strndup(listen, (size_t)(colon - listen));
	signal(SIGPIPE, SIG_IGN);

	s.log = stderr;
	if (logpath) {
		s.log = fopen(logpath, "ae");
		if (!s.log) {
			fprintf(stderr, "kubesim: log \"%s\": %s\n", logpath, strerror(errno));
			return 1;
		}
	}
	if (load_tokens(&s, tokens, &err) < 0) {
		fprintf(stderr, "kubesim: tokens: %s\n", err ? err : "cannot load");
		goto out;
	}
	s.objects = json_array();
	rbacdocs = json_array();
	for (size_t i = 0; i < nobj; i++)
		if (ks_yaml_load_path(objpaths[i], s.objects, &err) < 0) {
			fprintf(stderr, "kubesim: objects: %s\n", err ? err : "cannot load");
			goto out;
		}
	if (check_objects(s.objects, &err) < 0) {
		fprintf(stderr, "kubesim: objects: %s\n", err ? err : "bad object");
		goto out;
	}
	for (size_t i = 0; i < nrbac; i++)
		if (ks_yaml_load_path(rbacpaths[i], rbacdocs, &err) < 0) {
			fprintf(stderr, "kubesim: rbac: %s\n", err ? err : "cannot load");
			goto out;
		}
	if (ks_rbac_new(rbacdocs, &s.rbac, &err) < 0) {
		fprintf(stderr, "kubesim: rbac: %s\n", err ? err : "cannot load");
		goto out;
	}
	to.cert_file = cert;
	to.key_file = key;
	/* users' certificates are judged per request (aggregate.c) */
	to.request_client_cert = ao.client_ca != NULL;
	if (tls_server_ctx_new(&to, &s.ssl, &err) < 0) {
		fprintf(stderr, "kubesim: tls: %s\n", err ? err : "cannot set up");
		goto out;
	}
	s.base = event_base_new();
	http = s.base ? evhttp_new(s.base) : NULL;
	if (!http) {
		fprintf(stderr, "kubesim: cannot set up the event loop\n");
		goto out;
	}
	ao.base = s.base;
	ao.log = s.log;
	ao.objects = s.objects;
	if (ks_agg_new(&ao, &s.agg, &err) < 0) {
		fprintf(stderr, "kubesim: aggregation: %s\n", err ? err : "cannot set up");
		goto out;
	}
	add_defaults(s.objects);
	/* after the aggregator added its ConfigMap: every object gets its resourceVersion */
	if (ks_store_init(&s.store, s.objects, s.watch_history ? s.watch_history : KS_DEFAULT_WATCH_HISTORY) < 0) {
		fprintf(stderr, "kubesim: objects: out of memory\n");
		goto out;
	}
	ks_agg_set_store(s.agg, &s.store);
	evhttp_set_bevcb(http, bevcb, &s);
	evhttp_set_gencb(http, handle, &s);
	evhttp_set_max_body_size(http, KS_MAX_BODY);
	evhttp_set_max_headers_size(http, KS_MAX_HEADERS);
	evhttp_set_timeout(http, KS_TIMEOUT_S);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						 EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	bound = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
	if (!bound) {
		fprintf(stderr, "kubesim: cannot listen on %s: %s\n", listen, strerror(errno));
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	sigterm = evsignal_new(s.base, SIGTERM, on_signal, &s);
	sigint = evsignal_new(s.base, SIGINT, on_signal, &s);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0) {
		fprintf(stderr, "kubesim: cannot handle signals\n");
		goto out;
	}
	fprintf(stderr, "kubesim: listening on https://%s:%u (%zu tokens, %zu objects, %zu RBAC objects, %zu APIServices)\n",
		host, (unsigned)port, s.ntokens, json_array_size(s.objects), ks_rbac_count(s.rbac),
		ks_agg_apiservices(s.agg));
	if (portfile) {
		char text[16];
		int n = snprintf(text, sizeof(text), "%u\n", (unsigned)port);

		if (write_file_atomic(portfile, text, (size_t)n, 0644) < 0) {
			fprintf(stderr, "kubesim: port file \"%s\": cannot write\n", portfile);
			goto out;
		}
	}
	event_base_dispatch(s.base);
	ret = 0;
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	ks_store_release(&s.store);
	if (http)
		evhttp_free(http);
	s.agg = ks_agg_free(s.agg);
	if (s.base)
		event_base_free(s.base);
	SSL_CTX_free(s.ssl);
	ks_rbac_free(s.rbac);
	json_decref(s.objects);
	free(s.tokens);
	json_decref(s.token_docs);
	if (s.log && s.log != stderr)
		fclose(s.log);
	return ret;
}
