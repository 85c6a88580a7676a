// SPDX-License-Identifier: Apache-2.0
/*
 * Drives an informer (kube/informer.h) on the gateway's loop: its LIST and
 * WATCH requests go through httpc like every API server call, so nothing
 * blocks; a failure waits for the informer's backoff, then tries again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/watch.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "kube/informer.h"
#include "kube/kube.h"
#include "lib/banned.h"

/* A LIST may be larger than one object's answer: up to this per object. */
#define GW_WATCH_LIST_BYTES_PER_OBJECT (32u << 10)
#define GW_WATCH_LIST_MAX_BYTES (256u << 20)

struct gw_watch {
	struct gateway *gw;
	char *name;
	struct kube_informer *inf;
	size_t max_objects;
	unsigned timeout_s;
	struct kube_request kreq;
	struct httpc_xfer *x;
	struct event *timer;
	bool logged_failure;      /* one line per run of failures, not one per retry */
	void (*synced)(void *ud);
	void *synced_ud;
};

static void watch_run(struct gw_watch *w);

static void watch_failed(struct gw_watch *w, const char *what, const char *err)
{
	if (!w->logged_failure)
		log_warn("%s cache: %s: %s (retrying; lookups go to the API server until it is synced)", w->name,
			 what, err ? err : "failed");
	w->logged_failure = true;
}

static void watch_again(struct gw_watch *w)
{
	unsigned ms = kube_informer_backoff_ms(w->inf);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (w->gw->stopping)
		return;
	if (evtimer_add(w->timer, &tv) < 0)
		log_error("%s cache: cannot arm its timer", w->name);
}

static void list_done(int result, long status, const char *body, size_t len, const char *err, void *ud)
{
	struct gw_watch *w = ud;
	_cleanup_free_ char *perr = NULL;
	int r;

	w->x = NULL;
	kube_request_release(&w->kreq);
	if (result < 0) {
		kube_informer_list_done(w->inf, 0, NULL, 0, &perr);
		watch_failed(w, "list", err);
	} else if ((r = kube_informer_list_done(w->inf, status, body, len, &perr)) < 0) {
		watch_failed(w, "list", perr ? perr : tg_strerror(r));
	} else {
		if (w->logged_failure)
			log_info("%s cache: synced again (%zu objects)", w->name, kube_informer_count(w->inf));
		else
			log_info("%s cache: synced (%zu objects)", w->name, kube_informer_count(w->inf));
		w->logged_failure = false;
		if (w->synced)
			w->synced(w->synced_ud);
	}
	watch_again(w);
}

static int watch_data(struct httpc_xfer *x, const char *data, size_t len, void *ud)
{
	struct gw_watch *w = ud;
	_cleanup_free_ char *err = NULL;
	int r;

	if (httpc_xfer_status(x) != 200)
		return 0; /* a refusal: judged at the end */
	r = kube_informer_watch_data(w->inf, data, len, &err);
	if (r < 0) {
		/* a 410 is routine (the history moved on): LIST again */
		if (err && strstr(err, "(410)"))
			log_info("%s cache: %s; listing again", w->name, err);
		else
			watch_failed(w, "watch", err ? err : tg_strerror(r));
		return r;
	}
	return 0;
}

static void watch_done(struct httpc_xfer *x, int result, long status, const char *err, void *ud)
{
	struct gw_watch *w = ud;

	w->x = NULL;
	kube_request_release(&w->kreq);
	if (result == 0 && status != 200) {
		/* refused (RBAC changed?): what we hold may be stale */
		kube_informer_resync(w->inf);
		watch_failed(w, "watch", status == 403 ? "forbidden" : "refused");
	} else if (result < 0 && result != -TG_EUPSTREAM && result != -TG_ELIMIT) {
		watch_failed(w, "watch", err);
	}
	kube_informer_watch_end(w->inf, result == 0 && status == 200);
	watch_again(w);
}

static const struct httpc_xfer_ops watch_ops = { .on_data = watch_data, .on_done = watch_done };

static void watch_run(struct gw_watch *w)
{
	enum kube_informer_step step;
	struct curl_slist *hdrs = NULL;
	CURL *e;
	int r;

	if (w->gw->stopping || w->x)
		return;
	r = kube_informer_next(w->inf, &w->kreq, &step);
	e = r < 0 ? NULL : curl_easy_init();
	if (!e || kube_client_setup_easy(w->gw->kube, e, &w->kreq, &hdrs) < 0) {
		if (e)
			curl_easy_cleanup(e);
		kube_request_release(&w->kreq);
		kube_informer_watch_end(w->inf, false);
		watch_failed(w, "request", r < 0 ? tg_strerror(r) : "cannot set up");
		watch_again(w);
		return;
	}
	if (step == KUBE_INFORMER_LIST) {
		size_t max = w->max_objects * GW_WATCH_LIST_BYTES_PER_OBJECT;

		if (max > GW_WATCH_LIST_MAX_BYTES || max / GW_WATCH_LIST_BYTES_PER_OBJECT != w->max_objects)
			max = GW_WATCH_LIST_MAX_BYTES;
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
		r = httpc_fetch(w->gw->httpc, e, hdrs, max, list_done, w, &w->x);
	} else {
		/* a stream: no size (each event is bounded by the informer),
		 * and the server ends it at timeoutSeconds */
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(w->timeout_s + 30) * 1000L);
		r = httpc_start(w->gw->httpc, e, hdrs, &watch_ops, w, &w->x);
	}
	if (r < 0) {
		w->x = NULL;
		kube_request_release(&w->kreq);
		kube_informer_watch_end(w->inf, false);
		watch_failed(w, "request", tg_strerror(r));
		watch_again(w);
	}
}

static void watch_tick(evutil_socket_t fd, short what, void *ud)
{
	watch_run(ud);
}

int gw_watch_start(struct gateway *gw, const char *name, const struct kube_informer_opts *opts,
		   kube_informer_fn fn, void *ud, struct gw_watch **ret, char **ret_err)
{
	struct gw_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->gw = gw;
	w->max_objects = opts->max_objects ? opts->max_objects : KUBE_INFORMER_DEFAULT_MAX_OBJECTS;
	w->timeout_s = opts->watch_timeout_s ? opts->watch_timeout_s : KUBE_INFORMER_DEFAULT_WATCH_S;
	w->name = strdup(name);
	w->timer = evtimer_new(gw->base, watch_tick, w);
	if (!w->name || !w->timer) {
		gw_watch_stop(w);
		return -ENOMEM;
	}
	r = kube_informer_new(opts, &w->inf, ret_err);
	if (r < 0) {
		gw_watch_stop(w);
		return r;
	}
	kube_informer_set_handler(w->inf, fn, ud);
	watch_run(w);
	*ret = w;
	return 0;
}

struct gw_watch *gw_watch_stop(struct gw_watch *w)
{
	if (!w)
		return NULL;
	httpc_xfer_cancel(w->x);
	kube_request_release(&w->kreq);
	if (w->timer)
		event_free(w->timer);
	kube_informer_free(w->inf);
	free(w->name);
	free(w);
	return NULL;
}

void gw_watch_on_synced(struct gw_watch *w, void (*fn)(void *ud), void *ud)
{
	w->synced = fn;
	w->synced_ud = ud;
}

const struct kube_informer *gw_watch_informer(const struct gw_watch *w)
{
	return w ? w->inf : NULL;
}

int gw_kube_fetch(struct gateway *gw, const struct kube_request *kreq, httpc_body_fn done, void *ud,
		  struct httpc_xfer **ret)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	int r;

	if (!e)
		return -ENOMEM;
	r = kube_client_setup_easy(gw->kube, e, kreq, &hdrs);
	if (r < 0) {
		curl_easy_cleanup(e);
		return r;
	}
	return httpc_fetch(gw->httpc, e, hdrs, KUBE_MAX_RESPONSE, done, ud, ret);
}
