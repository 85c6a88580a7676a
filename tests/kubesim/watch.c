// SPDX-License-Identifier: Apache-2.0
/*
 * ?watch=true as kube-apiserver streams it: 200, Content-Type
 * application/json, chunked, one {"type": ..., "object": ...} line per
 * event.  From resourceVersion N: the events after N from the history
 * (store.c); N older than the history: one ERROR event carrying a 410
 * Expired Status, then the end.  Without N (or "0"): an ADDED event for
 * every object that exists, then the changes.  An object that starts or
 * stops matching the selectors is ADDED or DELETED for that watch, as the
 * watch cache does.  timeoutSeconds ends the stream cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

/* A watcher that does not read is cut off, as the API server does when a
 * watcher's buffer fills. */
#define KS_WATCH_MAX_PENDING (16u << 20)

struct ks_watch {
	struct ks_store *st;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	const struct ks_kind *kind;
	char *ns;
	struct ks_selector *fields, *labels;
	struct event *timer;
	bool bookmarks;
	struct ks_watch *next;
};

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void watch_free(struct ks_watch *w)
{
	struct ks_watch **p;

	for (p = &w->st->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	if (w->timer)
		event_free(w->timer);
	ks_selector_free(w->fields);
	ks_selector_free(w->labels);
	free(w->ns);
	free(w);
}

/* The client went away (or the connection failed).  libevent detaches a
 * request still being answered from a connection that hit EOF; it is then
 * ours to free.  One still attached goes with the connection. */
static void on_close(struct evhttp_connection *evcon, void *ud)
{
	struct ks_watch *w = ud;

	if (!evhttp_request_get_connection(w->req))
		evhttp_request_free(w->req);
	watch_free(w);
}

/* The end of the stream: the last chunk, and the watch is gone. */
static void watch_end(struct ks_watch *w)
{
	evhttp_connection_set_closecb(w->evcon, NULL, NULL);
	evhttp_send_reply_end(w->req);
	watch_free(w);
}

static int send_event(struct ks_watch *w, const char *type, json_t *obj)
{
	_cleanup_(json_decrefp) json_t *ev = json_pack("{s:s, s:O}", "type", type, "object", obj);
	_cleanup_free_ char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(w->evcon);
	struct evbuffer *b;

	if (!text)
		return -ENOMEM;
	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > KS_WATCH_MAX_PENDING)
		return -ENOBUFS;
	b = evbuffer_new();
	if (!b)
		return -ENOMEM;
	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	evhttp_send_reply_chunk(w->req, b);
	evbuffer_free(b);
	return 0;
}

static bool selects(const struct ks_watch *w, json_t *o)
{
	json_t *m;

	if (!o || !ks_object_is(o, w->kind))
		return false;
	m = json_object_get(o, "metadata");
	if (w->ns && strcmp(jstr(m, "namespace"), w->ns))
		return false;
	return ks_selector_match_fields(w->fields, o) && ks_selector_match_labels(w->labels, json_object_get(m, "labels"));
}

/* One history event as this watch sees it; negative when it must end. */
static int deliver(struct ks_watch *w, json_t *ev)
{
	const char *type = jstr(ev, "type");
	json_t *obj = json_object_get(ev, "object"), *old = json_object_get(ev, "old");
	bool now = selects(w, obj), before = old ? selects(w, old) : false;

	if (!strcmp(type, "MODIFIED")) {
		if (now && !before)
			type = "ADDED";
		else if (!now && before)
			return send_event(w, "DELETED", obj);
	}
	return now ? send_event(w, type, obj) : 0;
}

void ks_watch_notify(struct ks_store *st, json_t *ev)
{
	struct ks_watch *w = st->watches, *next;

	for (; w; w = next) {
		next = w->next;
		if (deliver(w, ev) < 0)
			watch_end(w);
	}
}

void ks_watch_close_all(struct ks_store *st)
{
	while (st->watches)
		watch_end(st->watches);
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
	struct ks_watch *w = ud;

	if (w->bookmarks) {
		char rv[24], av[64];
		_cleanup_(json_decrefp) json_t *o = NULL;

		snprintf(rv, sizeof(rv), "%llu", (unsigned long long)w->st->rv);
		snprintf(av, sizeof(av), "%s%s%s", w->kind->group, *w->kind->group ? "/" : "", w->kind->version);
		o = json_pack("{s:s, s:s, s:{s:s}}", "kind", w->kind->kind, "apiVersion", av, "metadata",
			      "resourceVersion", rv);
		if (o)
			(void)send_event(w, "BOOKMARK", o);
	}
	watch_end(w);
}

int ks_watch_start(struct ks_store *st, struct evhttp_request *req, struct ks_watch_opts *o, char **ret_err)
{
	const char *rv = o->resource_version;
	bool from_now = !rv || !*rv || !strcmp(rv, "0");
	struct ks_watch *w;
	uint64_t n = 0;
	json_t *x;
	size_t i;

	if (!from_now && parse_u64(rv, &n) < 0) {
		if (asprintf(ret_err, "resourceVersion \"%s\": not a resource version", rv) < 0)
			*ret_err = NULL;
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w || (o->namespace && *o->namespace && !(w->ns = strdup(o->namespace)))) {
		free(w);
		*ret_err = NULL;
		return 0;
	}
	w->st = st;
	w->req = req;
	w->evcon = evhttp_request_get_connection(req);
	w->kind = o->kind;
	w->fields = TAKE_PTR(o->fields);
	w->labels = TAKE_PTR(o->labels);
	w->bookmarks = o->bookmarks;
	w->next = st->watches;
	st->watches = w;
	/* the stream outlives the server's idle timeout for requests */
	evhttp_connection_set_timeout(w->evcon, o->timeout_s ? (int)o->timeout_s + 60 : 24 * 3600);
	evhttp_connection_set_closecb(w->evcon, on_close, w);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-cache, private");
	evhttp_send_reply_start(req, 200, "OK");
	if (!from_now && n < st->compacted) {
		_cleanup_(json_decrefp) json_t *s = ks_status(410, "Expired", NULL, "too old resource version: %llu (%llu)",
							     (unsigned long long)n, (unsigned long long)st->compacted + 1);

		(void)send_event(w, "ERROR", s);
		watch_end(w);
		return 200;
	}
	if (from_now) {
		json_array_foreach(st->objects, i, x)
			if (selects(w, x) && send_event(w, "ADDED", x) < 0) {
				watch_end(w);
				return 200;
			}
	} else {
		json_array_foreach(st->history, i, x)
			if ((uint64_t)json_integer_value(json_object_get(x, "rv")) > n && deliver(w, x) < 0) {
				watch_end(w);
				return 200;
			}
	}
	if (o->timeout_s) {
		w->timer = evtimer_new(evhttp_connection_get_base(w->evcon), on_timeout, w);
		if (!w->timer || evtimer_add(w->timer, &(struct timeval){ .tv_sec = o->timeout_s }) < 0)
			watch_end(w);
	}
	return 200;
}
