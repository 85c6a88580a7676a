// SPDX-License-Identifier: Apache-2.0
/* Runners by node (static map and discovered pods) and the pod cache (runners.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/runners.h"
#include "gateway/watch.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "kube/informer.h"
#include "kube/selector.h"
#include "lib/banned.h"

struct gw_runners {
	struct gateway *gw;
	struct gw_watch *pods;          /* cache.pods: every pod */
	struct gw_watch *runner_pods;   /* runnerDiscovery: the runner DaemonSet's pods */
	struct gw_runner **found;       /* discovered, one per node, sorted by node */
	size_t nfound;
	gw_runners_known_fn known;      /* called once the runners are known */
	bool recovered;                 /* known() ran */
};

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- references -------------------------------------------------------------- */

const struct gw_runner *gw_runner_ref(const struct gw_runner *r)
{
	if (r && r->refs)
		((struct gw_runner *)r)->refs++;
	return r;
}

/* Static runners (refs 0) belong to the configuration. */
void gw_runner_put(const struct gw_runner *cr)
{
	struct gw_runner *r = (struct gw_runner *)cr;

	if (!r || !r->refs || --r->refs)
		return;
	free(r->node);
	free(r->url);
	free(r->pod);
	curl_slist_free_all(r->connect_to);
	httpc_gate_free(r->gate);
	free(r);
}

const struct gw_runner *gw_runner_get(struct gateway *gw, const char *node)
{
	struct gw_runners *rs = gw->runners;

	if (!node)
		return NULL;
	for (size_t i = 0; rs && i < rs->nfound; i++)
		if (!strcmp(rs->found[i]->node, node))
			return gw_runner_ref(rs->found[i]);
	return gw_config_runner(gw->cfg, node);
}

const struct gw_runner **gw_runners_all(struct gateway *gw, size_t *ret_n)
{
	const struct gw_config *cfg = gw->cfg;
	struct gw_runners *rs = gw->runners;
	size_t nfound = rs ? rs->nfound : 0, n = 0;
	const struct gw_runner **v = calloc(nfound + cfg->nrunners + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < nfound; i++)
		v[n++] = gw_runner_ref(rs->found[i]);
	for (size_t i = 0; i < cfg->nrunners; i++) {
		bool found = false;

		for (size_t j = 0; j < nfound && !found; j++)
			found = !strcmp(rs->found[j]->node, cfg->runners[i].node);
		if (!found)
			v[n++] = &cfg->runners[i];
	}
	*ret_n = n;
	return v;
}

size_t gw_runners_discovered(const struct gateway *gw)
{
	return gw->runners ? gw->runners->nfound : 0;
}

CURL *gw_runner_easy(const struct gateway *gw, const struct gw_runner *r, const char *path)
{
	_cleanup_free_ char *url = NULL;
	CURL *e;

	if (asprintf(&url, "%s%s", r->url, path) < 0)
		return NULL;
	e = httpc_mtls_easy(url, gw->runner_tls);
	if (e && r->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, r->connect_to);
	return e;
}

/* ---- discovery ---------------------------------------------------------------- */

/* A runner pod that can serve: Running, Ready, not being deleted, on a
 * node, with an IP address.  *ret_ip is the address as curl wants it. */
static bool pod_serves(json_t *p, const char **ret_node, char ret_ip[64])
{
	json_t *m = json_object_get(p, "metadata"), *st = json_object_get(p, "status"), *c;
	const char *node = jstr(json_object_get(p, "spec"), "nodeName"), *ip = jstr(st, "podIP");
	unsigned char addr[16];
	bool ready = false;
	size_t i;

	if (json_object_get(m, "deletionTimestamp") || !node || !kube_name_valid(node) || !ip ||
	    strcmp(jstr(st, "phase") ? jstr(st, "phase") : "", "Running"))
		return false;
	json_array_foreach(json_object_get(st, "conditions"), i, c)
		if (!strcmp(jstr(c, "type") ? jstr(c, "type") : "", "Ready"))
			ready = !strcmp(jstr(c, "status") ? jstr(c, "status") : "", "True");
	if (!ready)
		return false;
	if (inet_pton(AF_INET, ip, addr) == 1)
		snprintf(ret_ip, 64, "%s", ip);
	else if (inet_pton(AF_INET6, ip, addr) == 1)
		snprintf(ret_ip, 64, "[%s]", ip);
	else
		return false;
	*ret_node = node;
	return true;
}

static struct gw_runner *runner_new(struct gateway *gw, const struct gw_discovery *d, const char *node,
				     const char *ip, json_t *pod)
{
	struct gw_runner *r = calloc(1, sizeof(*r));
	json_t *m = json_object_get(pod, "metadata");
	_cleanup_free_ char *to = NULL;

	if (!r)
		return NULL;
	r->refs = 1;
	if (!(r->node = strdup(node)) || asprintf(&r->url, "https://%s:%u", d->server_name, d->port) < 0 ||
	    asprintf(&r->pod, "%s/%s", jstr(m, "namespace"), jstr(m, "name")) < 0 ||
	    asprintf(&to, "%s:%u:%s:%u", d->server_name, d->port, ip, d->port) < 0 ||
	    !(r->connect_to = curl_slist_append(NULL, to)) ||
	    httpc_gate_new(gw->httpc, GW_RUNNER_HANDSHAKES, &r->gate) < 0) {
		gw_runner_put(r);
		return NULL;
	}
	return r;
}

/* "namespace/name" of a pod, as the informer keys it. */
static const char *pod_key(json_t *p, char out[600])
{
	json_t *m = json_object_get(p, "metadata");

	snprintf(out, 600, "%s/%s", jstr(m, "namespace") ? jstr(m, "namespace") : "",
		 jstr(m, "name") ? jstr(m, "name") : "");
	return out;
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp((*(struct gw_runner *const *)a)->node, (*(struct gw_runner *const *)b)->node);
}

static bool runner_is(const struct gw_runner *r, const char *pod, const char *ip, unsigned port,
		      const char *name)
{
	char want[512];

	snprintf(want, sizeof(want), "%s:%u:%s:%u", name, port, ip, port);
	return !strcmp(r->pod, pod) && !strcmp(r->connect_to->data, want);
}

/*
 * The node -> runner table again from the cached pods (a handful per
 * node at most): for each node, its Ready runner pod, the newest when
 * there are several (a rolling update).  Entries that did not change are
 * kept as they are (sessions hold references to them).
 */
static void rediscover(struct gw_runners *rs)
{
	const struct gw_discovery *d = rs->gw->cfg->discovery;
	const struct kube_informer *inf = gw_watch_informer(rs->runner_pods);
	_cleanup_(json_decrefp) json_t *pick = json_object();
	struct gw_runner **next;
	const char *key;
	json_t *p;
	size_t n = 0;

	if (!pick)
		return;
	json_object_foreach(kube_informer_objects(inf), key, p) {
		const char *node, *ts, *was_ts;
		char ip[64], wkey[600];
		json_t *was;
		int c;

		if (!pod_serves(p, &node, ip))
			continue;
		was = json_object_get(pick, node);
		ts = jstr(json_object_get(p, "metadata"), "creationTimestamp");
		was_ts = was ? jstr(json_object_get(was, "metadata"), "creationTimestamp") : NULL;
		/* newest first; timestamps have seconds only: then by name, so
		 * the choice never depends on the store's order */
		c = was ? strcmp(ts ? ts : "", was_ts ? was_ts : "") : 1;
		if (!c)
			c = strcmp(key, pod_key(was, wkey));
		if (c > 0)
			json_object_set(pick, node, p);
	}
	next = calloc(json_object_size(pick) + 1, sizeof(*next));
	if (!next) {
		log_error("runner discovery: out of memory (the table stays as it was)");
		return;
	}
	json_object_foreach(pick, key, p) {
		struct gw_runner *r = NULL;
		const char *node;
		char ip[64], pod[512];

		(void)pod_serves(p, &node, ip);
		snprintf(pod, sizeof(pod), "%s/%s", jstr(json_object_get(p, "metadata"), "namespace"),
			 jstr(json_object_get(p, "metadata"), "name"));
		for (size_t i = 0; i < rs->nfound && !r; i++)
			if (!strcmp(rs->found[i]->node, node) &&
			    runner_is(rs->found[i], pod, ip, d->port, d->server_name))
				r = (struct gw_runner *)gw_runner_ref(rs->found[i]);
		if (!r) {
			r = runner_new(rs->gw, d, node, ip, p);
			if (!r) {
				log_error("runner discovery: out of memory: node \"%s\" keeps no runner", node);
				continue;
			}
			log_info("runner discovery: node \"%s\": runner pod \"%s\" at %s", node, pod, ip);
		}
		next[n++] = r;
	}
	for (size_t i = 0; i < rs->nfound; i++) {
		bool kept = false;

		for (size_t k = 0; k < n && !kept; k++)
			kept = next[k]->node && !strcmp(next[k]->node, rs->found[i]->node);
		if (!kept)
			log_info("runner discovery: node \"%s\": no ready runner pod any more", rs->found[i]->node);
		gw_runner_put(rs->found[i]);
	}
	free(rs->found);
	qsort(next, n, sizeof(*next), node_cmp);
	rs->found = next;
	rs->nfound = n;
}

static void runner_pod_changed(void *ud, const char *type, json_t *obj, json_t *old)
{
	rediscover(ud);
}

/* The runners are known once their pods are first listed. */
static void runner_pods_synced(void *ud)
{
	struct gw_runners *rs = ud;
	_cleanup_free_ char *err = NULL;
	int r;

	if (rs->recovered || !rs->known)
		return;
	rs->recovered = true;
	r = rs->known(rs->gw, &err);
	if (r < 0)
		log_error("%s", err ? err : tg_strerror(r));
}

/* ---- lifetime --------------------------------------------------------------------- */

int gw_runners_start(struct gateway *gw, gw_runners_known_fn known, char **ret_err)
{
	const struct gw_config *cfg = gw->cfg;
	struct gw_runners *rs = calloc(1, sizeof(*rs));
	int r;

	if (!rs)
		return -ENOMEM;
	rs->gw = gw;
	rs->known = known;
	gw->runners = rs;
	if (cfg->discovery) {
		struct kube_informer_opts o = { .sz = sizeof(o), .api_prefix = "/api/v1", .resource = "pods",
						.kind = "Pod", .api_version = "v1",
						.namespace = cfg->discovery->namespace,
						.label_selector = cfg->discovery->label_selector,
						.max_objects = cfg->cache_max_objects };

		r = gw_watch_start(gw, "runner pods", &o, runner_pod_changed, rs, &rs->runner_pods, ret_err);
		if (r < 0)
			return r;
		gw_watch_on_synced(rs->runner_pods, runner_pods_synced, rs);
	}
	if (cfg->cache_pods) {
		struct kube_informer_opts o = { .sz = sizeof(o), .api_prefix = "/api/v1", .resource = "pods",
						.kind = "Pod", .api_version = "v1",
						.max_objects = cfg->cache_max_objects };

		r = gw_watch_start(gw, "pods", &o, gw->pod_changed, gw, &rs->pods, ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

void gw_runners_stop(struct gateway *gw)
{
	struct gw_runners *rs = gw->runners;

	if (!rs)
		return;
	rs->pods = gw_watch_stop(rs->pods);
	rs->runner_pods = gw_watch_stop(rs->runner_pods);
}

void gw_runners_free(struct gateway *gw)
{
	struct gw_runners *rs = gw->runners;

	if (!rs)
		return;
	gw_runners_stop(gw);
	for (size_t i = 0; i < rs->nfound; i++)
		gw_runner_put(rs->found[i]);
	free(rs->found);
	free(rs);
	gw->runners = NULL;
}

int gw_pod_cached(const struct gateway *gw, const char *ns, const char *name, struct kube_pod *ret,
		  char **ret_err)
{
	if (!gw->runners || !gw->runners->pods)
		return -TG_ENOTFOUND;
	return kube_informer_pod(gw_watch_informer(gw->runners->pods), ns, name, ret, ret_err);
}

static bool owned_by(json_t *pod, const char *const *uids)
{
	json_t *ref;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), i, ref) {
		const char *uid = jstr(ref, "uid");

		if (!json_is_true(json_object_get(ref, "controller")) || !uid)
			continue;
		for (const char *const *u = uids; u && *u; u++)
			if (!strcmp(*u, uid))
				return true;
	}
	return false;
}

/* A PodList of the cached pods of ns (every namespace when NULL) that
 * keep(pod, ctx) keeps; NULL when the cache is not synced or none is. */
static char *pods_cached(const struct gateway *gw, const char *ns,
			 bool (*keep)(json_t *pod, const void *ctx), const void *ctx, size_t *ret_len)
{
	const struct kube_informer *inf = gw->runners ? gw_watch_informer(gw->runners->pods) : NULL;
	_cleanup_(json_decrefp) json_t *list = NULL;
	json_t *items, *p;
	const char *key;
	char *text;

	if (!kube_informer_synced(inf))
		return NULL;
	list = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "PodList", "apiVersion", "v1", "metadata",
			 "resourceVersion", kube_informer_resource_version(inf), "items");
	items = json_object_get(list, "items");
	if (!items)
		return NULL;
	json_object_foreach(kube_informer_objects(inf), key, p)
		if ((!ns || !strcmp(jstr(json_object_get(p, "metadata"), "namespace") ?: "", ns)) && keep(p, ctx))
			json_array_append(items, p);
	if (!json_array_size(items))
		return NULL;
	text = json_dumps(list, JSON_COMPACT);
	if (text)
		*ret_len = strlen(text);
	return text;
}

static bool keep_owned(json_t *pod, const void *ctx)
{
	return owned_by(pod, ctx);
}

char *gw_pods_cached_owned(const struct gateway *gw, const char *ns, const char *const *owner_uids,
			   size_t *ret_len)
{
	return pods_cached(gw, ns, keep_owned, owner_uids, ret_len);
}

static bool keep_selected(json_t *pod, const void *ctx)
{
	return kube_selector_matches(ctx, json_object_get(json_object_get(pod, "metadata"), "labels"));
}

char *gw_pods_cached_selected(const struct gateway *gw, const char *ns, const struct kube_selector *sel,
			      size_t *ret_len)
{
	return pods_cached(gw, ns, keep_selected, sel, ret_len);
}
