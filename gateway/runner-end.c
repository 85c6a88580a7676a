// SPDX-License-Identifier: Apache-2.0
/*
 * End records a runner kept for a lost stream, and the completion of the
 * traces a killed gateway left open (runner-end.h, docs/audit.md
 * "Traces cut by a gateway restart").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "gateway/audit.h"
#include "gateway/detached-end.h"
#include "gateway/detached-lost.h"
#include "gateway/event.h"
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/runner-end.h"
#include "gateway/runners.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/status.h"
#include "lib/util.h"
#include "wire/end.h"
#include "wire/runner-path.h"
#include "lib/banned.h"

#define END_MAX_BODY (16u * 1024)

struct gw_end_fetch {
	struct gateway *gw;
	const struct gw_runner *runner;
	char *url;
	uint64_t deadline_ns;
	struct event *timer;
	struct httpc_xfer *x;
	gw_end_fn done;
	void *ud;
};

static void end_fetch_free(struct gw_end_fetch *f)
{
	if (!f)
		return;
	if (f->timer)
		event_free(f->timer);
	gw_runner_put(f->runner);
	free(f->url);
	free(f);
}

void gw_end_fetch_cancel(struct gw_end_fetch *f)
{
	if (!f)
		return;
	if (f->x)
		httpc_xfer_cancel(f->x);
	end_fetch_free(f);
}

static void end_fetch_finish(struct gw_end_fetch *f, int result, json_t *end, const char *err)
{
	f->done(result, end, err, f->ud);
	end_fetch_free(f);
}

static int end_fetch_ask(struct gw_end_fetch *f);

static void end_fetch_retry(evutil_socket_t fd, short what, void *arg)
{
	struct gw_end_fetch *f = arg;
	int r;

	(void)fd;
	(void)what;
	r = end_fetch_ask(f);
	if (r < 0)
		end_fetch_finish(f, r, NULL, "cannot ask the runner");
}

static void end_fetch_answer(int result, long status, const char *body, size_t len, const char *err,
			     void *ud)
{
	struct gw_end_fetch *f = ud;
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_(wire_end_release) struct wire_end we = { 0 };
	_cleanup_free_ char *werr = NULL;
	char msg[512];

	f->x = NULL;
	if (result < 0) {
		snprintf(msg, sizeof(msg), "runner \"%s\" unreachable: %s", f->runner->node,
			 err ? err : tg_strerror(result));
		end_fetch_finish(f, result, NULL, msg);
		return;
	}
	if (status == 409 && now_mono_ns() < f->deadline_ns) {
		struct timeval tv = { .tv_usec = GW_END_RETRY_MS * 1000 };

		if (evtimer_add(f->timer, &tv) == 0)
			return;
	}
	if (status != 200) {
		_cleanup_free_ char *m = status_body_message(body, len);

		snprintf(msg, sizeof(msg), "runner \"%s\" has no end for the session (HTTP %ld): %s",
			 f->runner->node, status, m ? m : "no message");
		end_fetch_finish(f, status == 404 ? -ENOENT : status == 409 ? -ETIMEDOUT : -EPROTO, NULL, msg);
		return;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || wire_end_from_json(j, &we, &werr) < 0) {
		snprintf(msg, sizeof(msg), "runner \"%s\" sent an end record that is not one: %s", f->runner->node,
			 werr ? werr : j ? "out of memory" : "not JSON");
		end_fetch_finish(f, -EBADMSG, NULL, msg);
		return;
	}
	end_fetch_finish(f, 0, j, NULL);
}

static int end_fetch_ask(struct gw_end_fetch *f)
{
	CURL *e = gw_runner_easy(f->gw, f->runner, f->url);

	if (!e)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	return httpc_fetch_gated(f->gw->httpc, gw_runner_gate(f->gw, f->runner), e, NULL, END_MAX_BODY,
				 end_fetch_answer, f, &f->x);
}

int gw_end_fetch_start(struct gateway *gw, const struct gw_runner *runner, const char *trace,
		       uint64_t wait_ms, gw_end_fn done, void *ud, struct gw_end_fetch **ret)
{
	struct gw_end_fetch *f = calloc(1, sizeof(*f));
	struct wire_rpath rp = { 0 };
	int r;

	if (!f)
		return -ENOMEM;
	f->gw = gw;
	f->runner = gw_runner_ref(runner);
	f->done = done;
	f->ud = ud;
	f->deadline_ns = now_mono_ns() + wait_ms * 1000000ull;
	f->timer = evtimer_new(gw->base, end_fetch_retry, f);
	if (!f->timer) {
		end_fetch_free(f);
		return -ENOMEM;
	}
	rp.kind = WIRE_RPATH_SESSION_END;
	snprintf(rp.id, sizeof(rp.id), "%s", trace);
	r = strlen(trace) < sizeof(rp.id) ? wire_rpath_encode(&rp, &f->url) : -EINVAL;
	if (r < 0) {
		f->url = NULL;
		end_fetch_free(f);
		return r;
	}
	r = end_fetch_ask(f);
	if (r < 0) {
		end_fetch_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

/* ---- the scan -------------------------------------------------------------------- */

static const char *rec_stage(json_t *rec)
{
	return json_string_value(json_object_get(rec, "stage"));
}

static const char *rec_decision(json_t *rec)
{
	return json_string_value(
		json_object_get(json_object_get(rec, "annotations"), "authorization.k8s.io/decision"));
}

struct scan {
	json_t *open_by_id, *order;       /* attached traces without an end */
	json_t *det_by_id, *det_order;    /* detached starts: auditID -> {trace, nodes: {node: true}} */
	const char *path;                 /* the file being read */
};

/* A detached start's 201, or a detached session's end record: what the
 * scan of the detached ends needs of them. */
static void scan_detached(struct scan *sc, const char *id, json_t *rec, json_t *tg)
{
	_cleanup_(gw_audit_end_release) struct gw_audit_end end = { 0 };
	_cleanup_free_ char *err = NULL;
	json_t *nodes = json_object_get(tg, "nodes"), *v, *d;
	size_t i;

	if (!sc->det_by_id)
		return;
	if (gw_audit_end_from_json(tg, &end, &err) < 0) {
		log_warn("audit log \"%s\": the end record of %s does not read (%s): skipped", sc->path, id,
			 err ? err : "out of memory");
		return;
	}
	if (end.detached_end) {
		d = json_object_get(sc->det_by_id, id);
		if (d && end.node)
			json_object_del(json_object_get(d, "nodes"), end.node);
		return;
	}
	if (json_integer_value(json_object_get(json_object_get(rec, "responseStatus"), "code")) != 201 ||
	    !json_is_string(json_object_get(tg, "trace")) || !json_is_array(nodes) ||
	    json_object_get(sc->det_by_id, id))
		return;
	d = json_pack("{s:O, s:{}}", "trace", json_object_get(tg, "trace"), "nodes");
	json_array_foreach(nodes, i, v)
		if (d && json_is_string(v))
			json_object_set_new(json_object_get(d, "nodes"), json_string_value(v), json_true());
	/* a node that did not start has no session, hence no end */
	for (i = 0; d && i < end.nfailed_nodes; i++)
		json_object_del(json_object_get(d, "nodes"), end.failed_nodes[i]);
	/* what its end record needs should its runner have lost it */
	if (d)
		json_object_set_new(d, "tpl", gw_detlost_tpl_create(rec));
	if (d && json_object_set_new(sc->det_by_id, id, d) == 0)
		json_array_append_new(sc->det_order, json_string(id));
}

static int scan_file(const char *path, struct scan *sc, char **ret_err)
{
	json_t *open_by_id = sc->open_by_id, *order = sc->order;
	struct audit_reader *rd = NULL;
	const char *line;
	size_t len;
	bool term;
	int r;

	sc->path = path;
	r = audit_reader_open(path, &rd, ret_err);
	if (r == -ENOENT) {
		free(*ret_err);
		*ret_err = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	while ((r = audit_reader_next(rd, &line, &len, &term)) > 0) {
		_cleanup_(json_decrefp) json_t *rec = NULL;
		const char *id, *stage;
		json_t *tg;

		/* only allowed traces matter: skip the rest unparsed */
		if (!memmem(line, len, "\"authorization.k8s.io/decision\":\"allow\"", 39))
			continue;
		rec = json_loadb(line, len, 0, NULL);
		id = json_string_value(json_object_get(rec, "auditID"));
		stage = rec_stage(rec);
		if (!id || !stage || !rec_decision(rec) || strcmp(rec_decision(rec), "allow"))
			continue;
		tg = json_object_get(rec, "tracegate");
		if (!strcmp(stage, "ResponseComplete")) {
			json_object_del(open_by_id, id);
			scan_detached(sc, id, rec, tg);
			continue;
		}
		if (strcmp(stage, "ResponseStarted") || json_is_true(json_object_get(tg, "dryRun")) ||
		    !json_is_string(json_object_get(tg, "trace")) ||
		    !json_is_array(json_object_get(tg, "nodes")))
			continue;
		json_object_del(rec, "seq");
		json_object_del(rec, "prevHash");
		json_object_del(rec, "hmac");
		json_object_set(open_by_id, id, rec);
		json_array_append_new(order, json_string(id));
	}
	audit_reader_free(rd);
	if (r < 0)
		return tg_fail(ret_err, r, "audit log \"%s\": %s", path,
			    r == -E2BIG ? "a line over the record limit" : strerror(-r));
	return 0;
}

/* The detached sessions of det_by_id that have no end record, newest max:
 * [{"auditID","trace","nodes":[...]}]. */
static json_t *scan_detached_open(struct scan *sc, size_t max)
{
	json_t *out = json_array(), *idv;
	size_t i, n = 0;

	json_array_foreach(sc->det_order, i, idv)
		if (json_object_size(json_object_get(json_object_get(sc->det_by_id, json_string_value(idv)), "nodes")))
			n++;
	json_array_foreach(sc->det_order, i, idv) {
		const char *id = json_string_value(idv), *node;
		json_t *d = json_object_get(sc->det_by_id, id), *nodes = json_object_get(d, "nodes"), *v, *a;

		if (!json_object_size(nodes) || n-- > max)
			continue;
		a = json_array();
		json_object_foreach(nodes, node, v)
			json_array_append_new(a, json_string(node));
		json_array_append_new(out, json_pack("{s:s, s:O, s:o, s:O*}", "auditID", id, "trace",
						     json_object_get(d, "trace"), "nodes", a, "tpl",
						     json_object_get(d, "tpl")));
	}
	return out;
}

int gw_recover_scan_all(const char *path, size_t max, json_t **ret, json_t **ret_detached, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *open_by_id = json_object(), *order = json_array();
	_cleanup_(json_decrefp) json_t *det_by_id = ret_detached ? json_object() : NULL, *det_order = json_array();
	struct scan sc = { open_by_id, order, det_by_id, det_order, NULL };
	_cleanup_free_ char *rotated = NULL;
	json_t *out, *idv;
	size_t i, n = 0;
	int r;

	if (!open_by_id || !order || !det_order || (ret_detached && !det_by_id) ||
	    asprintf(&rotated, "%s.1", path) < 0)
		return -ENOMEM;
	r = scan_file(rotated, &sc, ret_err);
	if (r >= 0)
		r = scan_file(path, &sc, ret_err);
	if (r < 0)
		return r;
	if (ret_detached && !(*ret_detached = scan_detached_open(&sc, max)))
		return -ENOMEM;
	out = json_array();
	if (!out) {
		if (ret_detached) {
			json_decref(*ret_detached);
			*ret_detached = NULL;
		}
		return -ENOMEM;
	}
	json_array_foreach(order, i, idv) {
		if (json_object_get(open_by_id, json_string_value(idv)))
			n++;
	}
	json_array_foreach(order, i, idv) {
		json_t *rec = json_object_get(open_by_id, json_string_value(idv));

		if (!rec)
			continue;
		if (n-- > max)
			continue;   /* the oldest beyond the bound */
		json_array_append(out, rec);
	}
	*ret = out;
	return 0;
}

int gw_recover_scan(const char *path, size_t max, json_t **ret, char **ret_err)
{
	return gw_recover_scan_all(path, max, ret, NULL, ret_err);
}

/* ---- completing them ------------------------------------------------------------ */

struct recover_node {
	struct recover_trace *rt;
	const char *node;
	struct gw_end_fetch *f;
	json_t *end;              /* the runner's, or NULL */
	char *error;
};

struct recover_trace {
	struct gw_recover *rc;
	json_t *rec;              /* the ResponseStarted record */
	struct recover_node *nodes;
	size_t nnodes, pending;
	struct recover_trace *next;
};

struct gw_recover {
	struct gateway *gw;
	struct recover_trace *traces;
};

static void recover_trace_free(struct recover_trace *rt)
{
	for (size_t i = 0; i < rt->nnodes; i++) {
		gw_end_fetch_cancel(rt->nodes[i].f);
		json_decref(rt->nodes[i].end);
		free(rt->nodes[i].error);
	}
	free(rt->nodes);
	json_decref(rt->rec);
	free(rt);
}

static void recover_unlink(struct recover_trace *rt)
{
	struct recover_trace **pp;

	for (pp = &rt->rc->traces; *pp; pp = &(*pp)->next)
		if (*pp == rt) {
			*pp = rt->next;
			break;
		}
}

/* The end fields of a trace cut by the gateway's death, from its runners'
 * ends: their counts summed (bytes is not known); a node without one
 * leaves zero counts and why in countsMissing. */
static int recover_end(struct recover_trace *rt, struct gw_audit_end *a)
{
	bool all_exit = rt->nnodes > 0;
	int exit_code = 0;

	a->has = GW_AUDIT_END_COUNTS | GW_AUDIT_END_NODE_REASONS;
	a->after_restart = true;
	if (!(a->reason = strdup("gateway-lost")))
		return -ENOMEM;
	for (size_t i = 0; i < rt->nnodes; i++) {
		struct recover_node *n = &rt->nodes[i];
		_cleanup_(wire_end_release) struct wire_end e = { 0 };

		/* end_fetch_answer decoded it once: it decodes */
		if (!n->end || wire_end_from_json(n->end, &e, NULL) < 0) {
			if (gw_audit_node_push(&a->missing, &a->nmissing, n->node,
					       n->error ? n->error : "no answer") < 0 ||
			    gw_audit_node_push(&a->node_reasons, &a->nnode_reasons, n->node, "unknown") < 0)
				return -ENOMEM;
			all_exit = false;
			continue;
		}
		if (gw_audit_node_push(&a->node_reasons, &a->nnode_reasons, n->node, e.reason) < 0)
			return -ENOMEM;
		a->events += e.events;
		a->drops += e.drops;
		a->map_drops += e.map_drops;
		a->cpu_ns += e.cpu_ns;
		if (!(e.has & WIRE_END_EXIT_CODE))
			all_exit = false;
		else if (!exit_code)
			exit_code = e.exit_code;
	}
	if (all_exit) {
		a->has |= GW_AUDIT_END_EXIT_CODE;
		a->exit_code = exit_code;
	}
	return 0;
}

/* The ResponseComplete of a trace cut by the gateway's death: the
 * decision record's request, the runners' counts, marked afterRestart. */
static void recover_write(struct recover_trace *rt)
{
	struct gateway *gw = rt->rc->gw;
	_cleanup_(json_decrefp) json_t *ev = json_deep_copy(rt->rec);
	_cleanup_(gw_audit_end_release) struct gw_audit_end a = { 0 };
	_cleanup_free_ char *err = NULL;
	json_t *tg = json_object_get(ev, "tracegate");
	const char *trace = json_string_value(json_object_get(tg, "trace"));
	const char *id = json_string_value(json_object_get(ev, "auditID"));
	char ts[32];
	int r;

	if (!ev || !tg || recover_end(rt, &a) < 0 || gw_audit_end_to_json(&a, tg) < 0) {
		log_error("audit %s: trace %s cut by a gateway restart: out of memory, its end not recorded",
			  id ? id : "?", trace ? trace : "?");
		return;
	}
	format_rfc3339_us(now_real_ns(), ts);
	json_object_set_new(ev, "stage", json_string("ResponseComplete"));
	json_object_set_new(ev, "stageTimestamp", json_string(ts));
	json_object_set_new(ev, "responseStatus", json_pack("{s:i}", "code", 200));
	r = audit_log_append(gw->audit, ev, &err);
	if (r < 0) {
		log_error("audit %s: trace %s cut by a gateway restart: end not recorded: %s", id, trace,
			  err ? err : tg_strerror(r));
		return;
	}
	log_info("audit %s: trace %s cut by a gateway restart: end recorded after the restart end=gateway-lost events=%" PRIu64
		 " drops=%" PRIu64 " mapDrops=%" PRIu64 "%s",
		 id, trace, a.events, a.drops, a.map_drops, a.nmissing ? " (some nodes' counts are missing)" : "");
}

static void recover_release(struct recover_trace *rt)
{
	if (--rt->pending)
		return;
	recover_write(rt);
	recover_unlink(rt);
	recover_trace_free(rt);
}

static void recover_node_done(int result, json_t *end, const char *err, void *ud)
{
	struct recover_node *n = ud;

	n->f = NULL;
	if (result == 0)
		n->end = json_incref(end);
	else
		n->error = strdup(err ? err : tg_strerror(result));
	recover_release(n->rt);
}

static int recover_one(struct gw_recover *rc, json_t *rec)
{
	json_t *tg = json_object_get(rec, "tracegate"), *nodes = json_object_get(tg, "nodes"), *v;
	const char *trace = json_string_value(json_object_get(tg, "trace"));
	struct recover_trace *rt = calloc(1, sizeof(*rt));
	size_t i;

	if (!rt)
		return -ENOMEM;
	rt->rc = rc;
	rt->rec = json_incref(rec);
	rt->nnodes = json_array_size(nodes);
	rt->nodes = calloc(rt->nnodes ? rt->nnodes : 1, sizeof(*rt->nodes));
	if (!rt->nodes) {
		recover_trace_free(rt);
		return -ENOMEM;
	}
	rt->next = rc->traces;
	rc->traces = rt;
	rt->pending = rt->nnodes + 1;   /* +1: held until every ask started */
	json_array_foreach(nodes, i, v) {
		struct recover_node *n = &rt->nodes[i];
		const struct gw_runner *runner;
		int r;

		n->rt = rt;
		n->node = json_string_value(v) ? json_string_value(v) : "";
		runner = gw_runner_get(rc->gw, n->node);
		if (!runner) {
			n->error = strdup("no runner for this node in the configuration");
			rt->pending--;
			continue;
		}
		r = gw_end_fetch_start(rc->gw, runner, trace, GW_END_RECOVER_WAIT_MS, recover_node_done, n,
				       &n->f);
		gw_runner_put(runner);
		if (r < 0) {
			n->error = strdup(tg_strerror(r));
			rt->pending--;
		}
	}
	recover_release(rt);
	return 0;
}

int gw_recover_start(struct gateway *gw, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *open_recs = NULL, *open_det = NULL;
	struct gw_recover *rc;
	size_t i;
	json_t *rec;
	int r;

	r = gw_recover_scan_all(gw->cfg->audit_path, GW_RECOVER_MAX, &open_recs, &open_det, ret_err);
	if (r < 0)
		return r;
	/* the detached sessions' ends: claimed from their runners and written
	 * here, those this log lacks first (gateway/detached-end.h) */
	r = gw_detend_start(gw, open_det, ret_err);
	if (r < 0)
		return r;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	rc->gw = gw;
	gw->recover = rc;
	if (json_array_size(open_recs))
		log_info("audit: %zu allowed traces have no end record (the gateway stopped before them): asking their runners",
			 json_array_size(open_recs));
	json_array_foreach(open_recs, i, rec) {
		r = recover_one(rc, rec);
		if (r < 0)
			return tg_fail(ret_err, r, "audit: completing traces left open: %s", tg_strerror(r));
	}
	return 0;
}

void gw_recover_stop(struct gateway *gw)
{
	struct gw_recover *rc = gw->recover;

	if (!rc)
		return;
	while (rc->traces) {
		struct recover_trace *rt = rc->traces;

		rc->traces = rt->next;
		recover_trace_free(rt);
	}
	free(rc);
	gw->recover = NULL;
}
