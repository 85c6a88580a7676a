// SPDX-License-Identifier: Apache-2.0
/* LIST then WATCH into a local store (kube/informer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/ndjson.h"
#include "lib/opts.h"
#include "kube/informer.h"
#include "kube/kube-json.h"
#include "lib/banned.h"

#define INF_MAX_RV 64   /* bytes of a resourceVersion (etcd's are decimal) */
/* Sets *ret_err (replacing an earlier message) and is r. */
#define INF_FAIL(ret_err, r, ...) (kube_json_set_err((ret_err), __VA_ARGS__), (r))

struct kube_informer {
	char *prefix, *resource, *kind, *list_kind, *api_version, *namespace, *selector;
	size_t max_objects;
	unsigned watch_timeout_s;
	json_t *store;          /* "ns/name" -> typed object */
	char rv[INF_MAX_RV + 1];
	bool listed;            /* a LIST was stored */
	bool need_list;         /* the next request is a LIST */
	unsigned failures;      /* in a row, for the backoff */
	struct ndjson_splitter split;   /* a watch's stream, into events */
	kube_informer_fn fn;
	void *ud;
};

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int kube_informer_new(const struct kube_informer_opts *o, struct kube_informer **ret, char **ret_err)
{
	struct kube_informer *inf;

	if (!o || !OPTS_VALID(o, struct kube_informer_opts) || !o->api_prefix || !o->resource || !o->kind || !o->api_version)
		return INF_FAIL(ret_err, -EINVAL, "informer: api prefix, resource, kind and apiVersion are required");
	if (o->namespace && !kube_namespace_valid(o->namespace))
		return INF_FAIL(ret_err, -EINVAL, "informer: namespace \"%s\" is not valid", o->namespace);
	if (o->label_selector && strlen(o->label_selector) > KUBE_MAX_NAME_LEN * 4)
		return INF_FAIL(ret_err, -TG_ELIMIT, "informer: label selector longer than %u bytes",
			       KUBE_MAX_NAME_LEN * 4);
	inf = calloc(1, sizeof(*inf));
	if (!inf)
		return -ENOMEM;
	inf->max_objects = o->max_objects ? o->max_objects : KUBE_INFORMER_DEFAULT_MAX_OBJECTS;
	inf->watch_timeout_s = o->watch_timeout_s ? o->watch_timeout_s : KUBE_INFORMER_DEFAULT_WATCH_S;
	inf->store = json_object();
	ndjson_init(&inf->split, KUBE_INFORMER_MAX_EVENT_BYTES);
	if (!inf->store || dup_opt(o->api_prefix, &inf->prefix) < 0 || dup_opt(o->resource, &inf->resource) < 0 ||
	    dup_opt(o->kind, &inf->kind) < 0 || dup_opt(o->api_version, &inf->api_version) < 0 ||
	    dup_opt(o->namespace, &inf->namespace) < 0 || dup_opt(o->label_selector, &inf->selector) < 0 ||
	    asprintf(&inf->list_kind, "%sList", o->kind) < 0) {
		inf->list_kind = NULL;
		kube_informer_free(inf);
		return -ENOMEM;
	}
	*ret = inf;
	return 0;
}

struct kube_informer *kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return NULL;
	free(inf->prefix);
	free(inf->resource);
	free(inf->kind);
	free(inf->list_kind);
	free(inf->api_version);
	free(inf->namespace);
	free(inf->selector);
	json_decref(inf->store);
	ndjson_release(&inf->split);
	free(inf);
	return NULL;
}

void kube_informer_set_handler(struct kube_informer *inf, kube_informer_fn fn, void *ud)
{
	inf->fn = fn;
	inf->ud = ud;
}

/* ---- requests ------------------------------------------------------------------ */

int kube_informer_next(struct kube_informer *inf, struct kube_request *ret, enum kube_informer_step *ret_step)
{
	struct buf b = BUF_INIT(16384);
	bool list = !inf->listed || inf->need_list;
	char sep = '?';
	int r;

	r = buf_printf(&b, "%s/", inf->prefix);
	if (r >= 0 && inf->namespace)
		r = buf_printf(&b, "namespaces/%s/", inf->namespace);
	if (r >= 0)
		r = buf_adds(&b, inf->resource);
	if (r >= 0 && inf->selector) {
		r = buf_adds(&b, "?labelSelector=");
		if (r >= 0)
			r = kube_query_escape(&b, inf->selector);
		sep = '&';
	}
	if (r >= 0 && !list)
		r = buf_printf(&b, "%cwatch=true&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%u", sep,
			       inf->rv, inf->watch_timeout_s);
	if (r < 0) {
		buf_release(&b);
		return r == -E2BIG ? -TG_ELIMIT : r;
	}
	if (!list)
		ndjson_clear(&inf->split);
	*ret = (struct kube_request){ .method = "GET", .path = buf_detach(&b, NULL) };
	*ret_step = list ? KUBE_INFORMER_LIST : KUBE_INFORMER_WATCH;
	return ret->path ? 0 : -ENOMEM;
}

unsigned kube_informer_backoff_ms(const struct kube_informer *inf)
{
	unsigned ms = KUBE_INFORMER_BACKOFF_MIN_MS;

	if (!inf->failures)
		return 0;
	for (unsigned i = 1; i < inf->failures && ms < KUBE_INFORMER_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < KUBE_INFORMER_BACKOFF_MAX_MS ? ms : KUBE_INFORMER_BACKOFF_MAX_MS;
}

/* ---- objects ------------------------------------------------------------------- */

static int set_rv(struct kube_informer *inf, const char *rv, char **ret_err)
{
	if (!rv || !*rv || strlen(rv) > INF_MAX_RV)
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: resourceVersion missing or longer than %d bytes",
			       inf->resource, INF_MAX_RV);
	snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
	return 0;
}

/*
 * Checks o (a list item or a watch event's object) and makes it typed;
 * its key "ns/name" into key.  Namespaced informers take only their
 * namespace's objects; every object has a name, a resourceVersion and,
 * for namespaced kinds, a namespace.
 */
static int check_object(struct kube_informer *inf, json_t *o, bool typed, char key[600], char **ret_err)
{
	json_t *m = json_object_get(o, "metadata");
	const char *kind = NULL, *av = NULL, *name = NULL, *ns = NULL, *rv = NULL;

	if (!json_is_object(o) || !json_is_object(m) || kube_json_get_str(o, "kind", &kind) < 0 ||
	    kube_json_get_str(o, "apiVersion", &av) < 0 || kube_json_get_str(m, "name", &name) < 0 ||
	    kube_json_get_str(m, "namespace", &ns) < 0 || kube_json_get_str(m, "resourceVersion", &rv) < 0)
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: an object that is not one (metadata and its strings)",
			       inf->resource);
	if ((typed || kind || av) &&
	    (!kind || !av || strcmp(kind, inf->kind) || strcmp(av, inf->api_version)))
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: an object of kind \"%s\" (%s), not %s (%s)", inf->resource,
			       kind ? kind : "", av ? av : "", inf->kind, inf->api_version);
	if (!kube_name_valid(name) || (ns && !kube_namespace_valid(ns)))
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: an object without a valid name or namespace", inf->resource);
	if (inf->namespace && (!ns || strcmp(ns, inf->namespace)))
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: object \"%s\" of namespace \"%s\" in a watch of \"%s\"",
			       inf->resource, name, ns ? ns : "", inf->namespace);
	if (!rv || !*rv)
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: object \"%s\" has no resourceVersion", inf->resource, name);
	/* what nobody here reads and is often most of an object's size
	 * (as client-go's informers are commonly told to drop it) */
	json_object_del(m, "managedFields");
	json_object_del(json_object_get(m, "annotations"), "kubectl.kubernetes.io/last-applied-configuration");
	if (!typed && (json_object_set_new(o, "kind", json_string(inf->kind)) < 0 ||
		       json_object_set_new(o, "apiVersion", json_string(inf->api_version)) < 0))
		return -ENOMEM;
	snprintf(key, 600, "%s/%s", ns ? ns : "", name);
	return 0;
}

static const char *obj_rv(json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

static void notify(struct kube_informer *inf, const char *type, json_t *obj, json_t *old)
{
	if (inf->fn)
		inf->fn(inf->ud, type, obj, old);
}

/* The store is not a true copy any more: LIST again, and until then
 * callers ask the API server. */
static int resync(struct kube_informer *inf, int r)
{
	inf->need_list = true;
	inf->listed = false;
	return r;
}

int kube_informer_list_done(struct kube_informer *inf, long http_status, const char *body, size_t len,
			    char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL, *fresh = NULL, *old = NULL;
	const char *rv = NULL, *cont = NULL;
	json_t *meta, *items, *o;
	const char *key;
	char k[600];
	size_t i;
	int r;

	inf->failures++;
	if (http_status != 200)
		return resync(inf, kube_json_status_error(http_status, body, len, inf->resource, TG_EUPSTREAM, ret_err));
	j = kube_json_load_object(body, len, inf->resource, ret_err);
	if (!j)
		return resync(inf, -TG_EUPSTREAM);
	r = kube_json_check_type(j, inf->api_version, inf->list_kind, inf->resource, ret_err);
	if (r < 0)
		return resync(inf, r);
	meta = json_object_get(j, "metadata");
	items = json_object_get(j, "items");
	if (!json_is_object(meta) || kube_json_get_str(meta, "resourceVersion", &rv) < 0 ||
	    kube_json_get_str(meta, "continue", &cont) < 0 || (cont && *cont) || (items && !json_is_array(items)))
		return resync(inf, INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: a list without a resourceVersion, with a "
					   "continue token, or whose items are not a list", inf->resource));
	if (json_array_size(items) > inf->max_objects)
		return resync(inf, INF_FAIL(ret_err, -TG_ELIMIT, "%s: %zu objects, more than the cache holds (%zu)",
					   inf->resource, json_array_size(items), inf->max_objects));
	fresh = json_object();
	if (!fresh)
		return resync(inf, -ENOMEM);
	json_array_foreach(items, i, o) {
		r = check_object(inf, o, false, k, ret_err);
		if (r < 0)
			return resync(inf, r);
		if (json_object_get(fresh, k))
			return resync(inf, INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: \"%s\" twice in one list",
						   inf->resource, k));
		if (json_object_set(fresh, k, o) < 0)
			return resync(inf, -ENOMEM);
	}
	r = set_rv(inf, rv, ret_err);
	if (r < 0)
		return resync(inf, r);
	old = TAKE_PTR(inf->store);
	inf->store = json_incref(fresh);
	inf->listed = true;
	inf->need_list = false;
	inf->failures = 0;
	/* what changed while nobody watched, as watch events */
	json_object_foreach(fresh, key, o) {
		json_t *was = json_object_get(old, key);

		if (!was)
			notify(inf, "ADDED", o, NULL);
		else if (strcmp(obj_rv(was), obj_rv(o)))
			notify(inf, "MODIFIED", o, was);
	}
	json_object_foreach(old, key, o)
		if (!json_object_get(fresh, key))
			notify(inf, "DELETED", o, NULL);
	return 0;
}

/* ---- watch --------------------------------------------------------------------- */

static int apply_event(struct kube_informer *inf, const char *text, size_t len, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *ev = kube_json_load_object(text, len, "watch event", ret_err);
	const char *type = NULL;
	json_t *o, *was;
	char k[600];
	int r;

	if (!ev)
		return -TG_EUPSTREAM;
	o = json_object_get(ev, "object");
	if (kube_json_get_str(ev, "type", &type) < 0 || !type || !json_is_object(o))
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: a watch event without a type or an object", inf->resource);
	if (!strcmp(type, "ERROR")) {
		const char *msg = json_string_value(json_object_get(o, "message"));

		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: watch ended by the server (%lld): %.200s", inf->resource,
			       (long long)json_integer_value(json_object_get(o, "code")), msg ? msg : "no message");
	}
	if (!strcmp(type, "BOOKMARK"))
		return set_rv(inf, obj_rv(o), ret_err);
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && strcmp(type, "DELETED"))
		return INF_FAIL(ret_err, -TG_EUPSTREAM, "%s: a watch event of type \"%.40s\"", inf->resource, type);
	r = check_object(inf, o, true, k, ret_err);
	if (r < 0)
		return r;
	was = json_incref(json_object_get(inf->store, k));
	if (!strcmp(type, "DELETED")) {
		json_object_del(inf->store, k);
		if (was)
			notify(inf, type, o, NULL);
	} else if (!was && json_object_size(inf->store) >= inf->max_objects) {
		r = INF_FAIL(ret_err, -TG_ELIMIT, "%s: more than the cache holds (%zu objects)", inf->resource,
			    inf->max_objects);
	} else if (json_object_set(inf->store, k, o) < 0) {
		r = -ENOMEM;
	} else {
		notify(inf, was ? "MODIFIED" : "ADDED", o, was);
	}
	json_decref(was);
	return r < 0 ? r : set_rv(inf, obj_rv(o), ret_err);
}

struct watch_feed {
	struct kube_informer *inf;
	char **ret_err;
	bool event_failed;      /* apply_event's failure, not the splitter's */
};

static int watch_line(const char *line, size_t len, void *ctx)
{
	struct watch_feed *f = ctx;
	int r = apply_event(f->inf, line, len, f->ret_err);

	if (r < 0) {
		f->event_failed = true;
		return r;
	}
	f->inf->failures = 0;
	return 0;
}

int kube_informer_watch_data(struct kube_informer *inf, const char *data, size_t len, char **ret_err)
{
	struct watch_feed f = { .inf = inf, .ret_err = ret_err };
	int r = ndjson_feed(&inf->split, data, len, watch_line, &f);

	if (r >= 0)
		return 0;
	/* a line too long fails the watch, named: never cut, never skipped */
	if (r == -TG_ELIMIT && !f.event_failed)
		r = INF_FAIL(ret_err, -TG_ELIMIT, "%s: a watch event longer than %u bytes", inf->resource,
			     KUBE_INFORMER_MAX_EVENT_BYTES);
	return resync(inf, r);
}

void kube_informer_watch_end(struct kube_informer *inf, bool ok)
{
	if (ndjson_pending(&inf->split))
		ok = false;
	ndjson_clear(&inf->split);
	if (!ok) {
		/* the API server is unreachable or the stream broke: what the
		 * store holds may be stale from now on, so it answers nothing
		 * until a LIST succeeds (lookups go to the API server, and fail
		 * as it does: failure denies) */
		inf->failures++;
		(void)resync(inf, 0);
	}
}

void kube_informer_resync(struct kube_informer *inf)
{
	(void)resync(inf, 0);
}

/* ---- readers ------------------------------------------------------------------- */

bool kube_informer_synced(const struct kube_informer *inf)
{
	return inf && inf->listed;
}

const char *kube_informer_resource_version(const struct kube_informer *inf)
{
	return inf->rv;
}

size_t kube_informer_count(const struct kube_informer *inf)
{
	return json_object_size(inf->store);
}

json_t *kube_informer_get(const struct kube_informer *inf, const char *ns, const char *name)
{
	char k[600];

	if (!inf || !name)
		return NULL;
	snprintf(k, sizeof(k), "%s/%s", ns ? ns : "", name);
	return json_object_get(inf->store, k);
}

json_t *kube_informer_objects(const struct kube_informer *inf)
{
	return inf->store;
}

int kube_informer_pod(const struct kube_informer *inf, const char *ns, const char *name, struct kube_pod *ret,
		      char **ret_err)
{
	json_t *o;

	if (!kube_informer_synced(inf) || strcmp(inf->kind, "Pod") || !(o = kube_informer_get(inf, ns, name)))
		return -TG_ENOTFOUND;
	return kube_pod_from_json(o, ret, ret_err);
}
