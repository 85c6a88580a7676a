/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubesim: a small HTTPS Kubernetes API server for tests.  See README.md
 * for flags and fixture formats.  Parts:
 *   yaml.c    YAML files (multi-document) into jansson values
 *   rbac.c    RBAC evaluated as kube's RBAC authorizer does
 *   select.c  field and label selectors for lists
 *   store.c   the objects: resourceVersions, writes, the event history
 *   watch.c   ?watch=true streams of those events
 *   aggregate.c  the aggregation layer: users by client certificate, the
 *             extension-apiserver-authentication ConfigMap, APIServices
 *             proxied with front-proxy headers
 *   main.c    the server: authentication, authorization, handlers
 */
#ifndef TG_KUBESIM_H
#define TG_KUBESIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Limits on fixtures: they come from files, but a broken one must fail
 * with a message, not crash. */
#define KS_YAML_MAX_FILE (8u << 20)
#define KS_YAML_MAX_DEPTH 64
#define KS_YAML_MAX_NODES 200000

/* ---- yaml.c ---- */
/* Appends every document of path (a file, or a directory whose *.yaml,
 * *.yml and *.json files are read in name order) to docs; a document of
 * kind List contributes its items.  Plain scalars become null, booleans,
 * integers or strings as YAML 1.1's core schema does for Kubernetes. */
int ks_yaml_load_path(const char *path, json_t *docs, char **ret_err);
int ks_yaml_load_string(const char *text, size_t len, const char *name, json_t *docs,
			char **ret_err);

/* ---- rbac.c ---- */
struct ks_identity {
	const char *user;
	const char *const *groups; /* NULL-terminated */
};

struct ks_attrs {
	bool resource_request;
	const char *verb;
	/* resource requests */
	const char *namespace;
	const char *group;
	const char *resource;
	const char *subresource;
	const char *name;
	/* non-resource requests */
	const char *path;
};

struct ks_rbac;
/* Takes Role, ClusterRole, RoleBinding and ClusterRoleBinding documents
 * from docs (others are ignored) and checks their shape. */
int ks_rbac_new(json_t *docs, struct ks_rbac **ret, char **ret_err);
struct ks_rbac *ks_rbac_free(struct ks_rbac *r);
size_t ks_rbac_count(const struct ks_rbac *r);
/* The kind of an RBAC resource ("rolebindings": "RoleBinding"), or NULL. */
const char *ks_rbac_kind_of(const char *resource);
enum ks_rbac_op { KS_RBAC_GET, KS_RBAC_CREATE, KS_RBAC_DELETE };
/* GET, POST (body checked as at load) or DELETE of one RBAC object at run
 * time (ns NULL for cluster kinds); the HTTP code, *ret the object or a
 * Status.  Every later authorization sees the change. */
int ks_rbac_write(struct ks_rbac *r, enum ks_rbac_op op, const char *resource, const char *ns,
		  const char *name, json_t *body, json_t **ret);
/* true when allowed; *ret_reason names the binding (kube's wording) and
 * *ret_evalerr collects roles that bindings name but do not exist. */
bool ks_rbac_authorize(const struct ks_rbac *r, const struct ks_identity *id,
		       const struct ks_attrs *a, char **ret_reason, char **ret_evalerr);

/* ---- select.c ---- */
struct ks_selector;
/* kind "label" (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)) or
 * "field" (k=v, k==v, k!=v over the given allowed field paths). */
int ks_selector_parse_labels(const char *s, struct ks_selector **ret, char **ret_err);
int ks_selector_parse_fields(const char *s, const char *const *allowed, struct ks_selector **ret,
			     char **ret_err);
struct ks_selector *ks_selector_free(struct ks_selector *s);
bool ks_selector_match_labels(const struct ks_selector *s, json_t *labels);
bool ks_selector_match_fields(const struct ks_selector *s, json_t *obj);
/* matchLabels-style: every key of want is in labels with the same value. */
bool ks_labels_match(json_t *want, json_t *labels);

/* ---- store.c ---- */
/* The kinds kubesim serves (a table, in discovery order). */
struct ks_kind {
	const char *group;
	const char *version;
	const char *resource;
	const char *kind;
	bool namespaced;
	const char *const *fields; /* field selectors allowed on lists and watches */
};
extern const struct ks_kind ks_kinds[];
extern const size_t ks_nkinds;
bool ks_object_is(json_t *o, const struct ks_kind *k);

#define KS_DEFAULT_WATCH_HISTORY 1000 /* events a watch can resume from (--watch-history) */

struct ks_watch;
struct ks_store {
	json_t *objects;        /* every object, typed; owned */
	uint64_t rv;            /* the last resourceVersion handed out */
	uint64_t compacted;     /* watches from before this get 410 Gone */
	json_t *history;        /* [{type, rv, object, old}], oldest first */
	size_t max_history;
	struct ks_watch *watches;
};
/* Takes objects (a reference); every object gets its own resourceVersion
 * (1, 2, ... in load order), as if created one after the other. */
int ks_store_init(struct ks_store *st, json_t *objects, size_t max_history);
void ks_store_release(struct ks_store *st);
/* Writes, as the API server answers them: the HTTP code and in *ret the
 * object (2xx) or a Status (anything else).  ns is the URL's namespace
 * (NULL for cluster-scoped kinds). */
int ks_store_create(struct ks_store *st, const struct ks_kind *k, const char *ns, json_t *body,
		    json_t **ret);
/* PUT of an object, or of its status subresource (status only). */
int ks_store_update(struct ks_store *st, const struct ks_kind *k, const char *ns, const char *name,
		    bool status, json_t *body, json_t **ret);
int ks_store_delete(struct ks_store *st, const struct ks_kind *k, const char *ns, const char *name,
		    json_t **ret);
/* A Status object as the API server writes them. */
json_t *ks_status(int code, const char *reason, json_t *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- watch.c ---- */
struct evhttp_request;
struct ks_selector;
struct ks_watch_opts {
	const struct ks_kind *kind;
	const char *namespace;       /* NULL or "": every namespace */
	const char *resource_version; /* NULL, "", "0" or a number */
	struct ks_selector *fields;  /* taken over */
	struct ks_selector *labels;  /* taken over */
	unsigned timeout_s;          /* 0: until the client leaves */
	bool bookmarks;              /* allowWatchBookmarks=true */
};
/* Answers req with a stream of watch events (200, chunked JSON lines) or
 * an error: the HTTP code it answered with, or 0 when it did not answer
 * (then *ret_err says why and the caller answers 400). */
int ks_watch_start(struct ks_store *st, struct evhttp_request *req, struct ks_watch_opts *o,
		   char **ret_err);
/* A change: every watch that selects it gets its event. */
void ks_watch_notify(struct ks_store *st, json_t *ev);
void ks_watch_close_all(struct ks_store *st);
/* ---- aggregate.c ---- */
struct event_base;
struct evhttp_request;
struct ks_agg;

struct ks_agg_opts {
	struct event_base *base;
	FILE *log;
	json_t *objects;                   /* APIServices come from here; the
					      ConfigMap is added to it */
	const char *client_ca;             /* --client-ca: users' certificates, or NULL */
	const char *requestheader_ca;      /* --requestheader-client-ca, or NULL: no ConfigMap */
	const char *const *allowed_names;  /* --requestheader-allowed-names, NULL-terminated */
	const char *proxy_cert, *proxy_key; /* --proxy-client-cert/-key */
	const char *const *endpoints;      /* --service-endpoint NS/NAME=URL, NULL-terminated */
};
int ks_agg_new(const struct ks_agg_opts *o, struct ks_agg **ret, char **ret_err);
struct ks_agg *ks_agg_free(struct ks_agg *a);
size_t ks_agg_apiservices(const struct ks_agg *a);
/* The ConfigMap's later resourceVersions come from the store's counter. */
void ks_agg_set_store(struct ks_agg *a, struct ks_store *st);
/* 1 with the certificate's CN and O (+ system:authenticated) when the
 * client presented a certificate that --client-ca verifies; 0 otherwise. */
int ks_agg_cert_user(struct ks_agg *a, struct evhttp_request *req, char **ret_user,
		     json_t **ret_groups);
/* Whether path is under a registered APIService's group version. */
bool ks_agg_proxied(struct ks_agg *a, const char *path);

struct ks_agg_user {
	const char *user, *uid;
	json_t *groups;                    /* array of strings */
	json_t *extra;                     /* object of arrays, or NULL */
};
/* Proxies an authenticated, authorized request to its APIService's
 * endpoint: 1 when taken (answered now or later), 0 when path is not
 * aggregated, negative without memory. */
int ks_agg_proxy(struct ks_agg *a, struct evhttp_request *in, const char *path,
		 const struct ks_agg_user *u);

#endif
