// SPDX-License-Identifier: Apache-2.0
/*
 * The end records of detached sessions (detached-end.h, docs/audit.md
 * "Detached traces' ends"): claimed from the runners, written once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/detached-end.h"
#include "gateway/detached-lost.h"
#include "gateway/event.h"
#include "gateway/gateway.h"
#include "gateway/httpc.h"
#include "gateway/runners.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/status.h"
#include "lib/util.h"
#include "wire/detached.h"
#include "wire/end.h"
#include "wire/fields.h"
#include "wire/runner-path.h"
#include "lib/banned.h"

#define DETEND_CONNECT_MS 3000L
#define DETEND_TIMEOUT_MS 10000L
#define DETEND_MAX_ANSWER WIRE_DET_MAX_BODY

struct detend_call {
	struct gw_detend *de;
	const struct gw_runner *runner;
	struct httpc_xfer *x;
	char *trace;                 /* a claim's session; NULL: a poll */
	char *key;                   /* a claim's "node/trace" in de->seen */
	char why[16];                /* "poll", "delete", "log", "restart" */
	struct detend_call *next;
};

struct gw_detend {
	struct gateway *gw;
	char claimer[WIRE_DET_MAX_CLAIMER + 1];
	struct event *timer;
	struct detend_call *calls;
	size_t ncalls, npolls;
	struct gw_claimed seen;      /* "node/trace": claimed (or being claimed) here */
	json_t *unwritten;           /* [session, why]: claimed here, the audit log refused the record */
	json_t *unsure;              /* "node/trace" -> [node, trace, why]: a claim whose answer was lost */
	uint64_t forgotten_logged;   /* seen.forgotten when last logged */
	uint64_t forgotten_log_ns;   /* and when, monotonic */
	struct gw_detlost *lost;     /* the starts written here whose ends are not (detached-lost.h) */
};

/* ---- the claims remembered ------------------------------------------------------- */

#define CLAIMED_PRUNE_NS 1000000000ull
#define CLAIMED_LOG_NS (60 * 1000000000ull)

int gw_claimed_init(struct gw_claimed *cl, size_t max)
{
	*cl = (struct gw_claimed){ .max = max ? max : GW_DETEND_MAX_SEEN };
	cl->keys = json_object();
	return cl->keys ? 0 : -ENOMEM;
}

void gw_claimed_release(struct gw_claimed *cl)
{
	json_decref(cl->keys);
	cl->keys = NULL;
}

static void claimed_prune(struct gw_claimed *cl, uint64_t now)
{
	const char *k;
	json_t *v;
	void *tmp;

	if (now - cl->pruned_ns < CLAIMED_PRUNE_NS)
		return;
	cl->pruned_ns = now;
	json_object_foreach_safe(cl->keys, tmp, k, v)
		if (json_is_integer(v) && now - (uint64_t)json_integer_value(v) > GW_DETEND_SEEN_NS)
			json_object_del(cl->keys, k);
}

/* The oldest granted claim goes (jansson keeps insertion order, and a
 * claim is granted in about the order it began); false: all under way. */
static bool claimed_forget_oldest(struct gw_claimed *cl)
{
	const char *k;
	json_t *v;

	json_object_foreach(cl->keys, k, v)
		if (json_is_integer(v)) {
			json_object_del(cl->keys, k);
			cl->forgotten++;
			return true;
		}
	return false;
}

int gw_claimed_begin(struct gw_claimed *cl, const char *key, uint64_t now)
{
	claimed_prune(cl, now);
	if (json_object_get(cl->keys, key))
		return 0;
	if (json_object_size(cl->keys) >= cl->max && !claimed_forget_oldest(cl))
		return -ENOSPC;
	return json_object_set_new(cl->keys, key, json_null()) < 0 ? -ENOMEM : 1;
}

void gw_claimed_end(struct gw_claimed *cl, const char *key, bool granted, uint64_t now)
{
	if (!granted || json_object_set_new(cl->keys, key, json_integer((json_int_t)now)) < 0)
		json_object_del(cl->keys, key);
}

/* ---- the record ------------------------------------------------------------------ */

/* The end fields of one node's end: its runner's end record; bytes is the
 * text the session printed (a runner's outputBytes). */
static int detend_end(const struct wire_det_session *s, const char *why, struct gw_audit_end *a)
{
	const struct wire_end *e = s->end;

	a->has = GW_AUDIT_END_COUNTS | GW_AUDIT_END_BYTES;
	a->events = e->events;
	a->drops = e->drops;
	a->map_drops = e->map_drops;
	a->bytes = e->has & WIRE_END_OUTPUT_BYTES ? e->output_bytes : e->bytes;
	a->cpu_ns = e->cpu_ns;
	if (e->has & WIRE_END_EXIT_CODE) {
		a->has |= GW_AUDIT_END_EXIT_CODE;
		a->exit_code = e->exit_code;
	}
	a->detached_end = true;
	a->after_restart = !strcmp(why, "restart");
	if (!(a->reason = strdup(e->reason)) || (e->message && !(a->message = strdup(e->message))) ||
	    !(a->node = strdup(s->node)) || !(a->claimed_by = strdup(why)) ||
	    (s->claimed_by && !(a->claimer = strdup(s->claimed_by))))
		return -ENOMEM;
	return 0;
}

/* tracegate's fields of one node's end */
static json_t *detend_tg(const struct wire_det_session *s, const char *why)
{
	_cleanup_(gw_audit_end_release) struct gw_audit_end a = { 0 };
	_cleanup_(json_decrefp) json_t *tg = json_pack("{s:s, s:o, s:s, s:I}", "trace", s->trace, "pods",
							wire_strv_json(s->pods, s->npods), "target", s->target,
							"duration", (json_int_t)s->duration_s);

	if (!tg || detend_end(s, why, &a) < 0 || gw_audit_end_to_json(&a, tg) < 0)
		return NULL;
	return TAKE_PTR(tg);
}

json_t *gw_detend_record(json_t *session, const char *why, uint64_t now_real_ns)
{
	_cleanup_(wire_det_session_release) struct wire_det_session s = { 0 };
	_cleanup_(json_decrefp) json_t *tg = NULL;
	_cleanup_free_ char **groups = NULL;
	_cleanup_free_ char *reason = NULL;

	if (wire_det_session_from_json(session, "", &s, NULL) < 0 || !s.audit_id || !s.end)
		return NULL;
	groups = calloc(s.ngroups + 1, sizeof(*groups));
	tg = detend_tg(&s, why);
	if (!groups || !tg ||
	    asprintf(&reason, "detached trace ended on node \"%s\" (%s), end claimed by %s", s.node,
		     s.end->reason, why) < 0)
		return NULL;
	memcpy(groups, s.groups, s.ngroups * sizeof(*groups));
	return gw_event_detached_end(&(struct gw_detached_start){ .audit_id = s.audit_id, .ns = s.ns,
								   .target = s.target, .user = s.user,
								   .groups = groups, .requester = s.requester },
				     reason, tg, now_real_ns);
}

/* ---- calls to the runners ------------------------------------------------------------ */

static void call_free(struct detend_call *c)
{
	struct gw_detend *de = c->de;

	for (struct detend_call **pp = &de->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	de->ncalls--;
	if (!c->trace)
		de->npolls--;
	if (c->x)
		httpc_xfer_cancel(c->x);
	gw_runner_put(c->runner);
	free(c->trace);
	free(c->key);
	free(c);
}

static int call_start(struct gw_detend *de, struct detend_call *c, const char *path, bool post,
		      httpc_body_fn done)
{
	CURL *e = gw_runner_easy(de->gw, c->runner, path);

	if (!e)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, DETEND_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, DETEND_TIMEOUT_MS);
	if (post)
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "");
	return httpc_fetch_gated(de->gw->httpc, gw_runner_gate(de->gw, c->runner), e, NULL, DETEND_MAX_ANSWER,
				 done, c, &c->x);
}

static struct detend_call *call_new(struct gw_detend *de, const struct gw_runner *runner, const char *why)
{
	struct detend_call *c;

	if (de->ncalls >= GW_DETEND_MAX_CALLS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->de = de;
	c->runner = gw_runner_ref(runner);
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->next = de->calls;
	de->calls = c;
	de->ncalls++;
	return c;
}

/* ---- claims ---------------------------------------------------------------------- */

static void detend_write(struct gw_detend *de, json_t *session, const char *why)
{
	_cleanup_(json_decrefp) json_t *ev = gw_detend_record(session, why, now_real_ns());
	_cleanup_(gw_audit_end_release) struct gw_audit_end a = { 0 };
	_cleanup_free_ char *err = NULL;
	const char *id = json_string_value(json_object_get(ev, "auditID"));
	const char *trace = json_string_value(json_object_get(session, "trace"));
	const char *node = json_string_value(json_object_get(session, "node"));
	char counts[160];
	int r;

	if (!ev) {
		log_error("detached trace %s on node \"%s\": its end was claimed but is not one, or out of memory: "
			  "not recorded", trace, node);
		return;
	}
	/* the record's end as its readers will see it */
	(void)gw_audit_end_from_json(json_object_get(ev, "tracegate"), &a, NULL);
	snprintf(counts, sizeof(counts), "end=%s events=%" PRIu64 " drops=%" PRIu64 " bytes=%" PRIu64,
		 a.reason ? a.reason : "?", a.events, a.drops, a.bytes);
	r = audit_log_append(de->gw->audit, ev, &err);
	if (r < 0) {
		/* the runner gave this end to us alone: kept, and written
		 * at the next poll once the log takes records again (a full
		 * disk); a gateway stopped first claims it again at its
		 * next start, as the log has no end record for it */
		bool kept = json_array_size(de->unwritten) < GW_DETEND_MAX_UNWRITTEN &&
			    json_array_append_new(de->unwritten, json_pack("[O, s]", session, why)) == 0;

		log_error("audit %s: detached trace %s ended on node \"%s\": end not recorded (%s) %s: %s%s", id,
			  trace, node, why, counts, err ? err : tg_strerror(r),
			  kept ? " (kept: tried again at the next poll)" : " (too many kept: lost until a restart)");
		return;
	}
	log_info("audit %s: detached trace %s ended on node \"%s\": end recorded (%s) %s", id, trace, node, why,
		 counts);
}

/* The runner answered 404 to the claim of a session this gateway started:
 * it lost it; true when its end record is written here (or tried). */
static bool detend_write_lost(struct gw_detend *de, struct detend_call *c)
{
	_cleanup_(json_decrefp) json_t *ev = gw_detlost_take(de->lost, c->runner->node, c->trace, c->why,
							      now_real_ns());
	_cleanup_free_ char *err = NULL;
	const char *id = json_string_value(json_object_get(ev, "auditID"));
	int r;

	if (!ev)
		return false;
	r = audit_log_append(de->gw->audit, ev, &err);
	if (r < 0)
		log_error("audit %s: detached trace %s on node \"%s\": its runner no longer knows the session (%s): "
			  "end not recorded: %s (the next start finds it again)", id, c->trace, c->runner->node, c->why,
			  err ? err : tg_strerror(r));
	else
		log_warn("audit %s: detached trace %s on node \"%s\": its runner no longer knows the session (%s): "
			 "end recorded end=runner-lost, counts missing", id, c->trace, c->runner->node, c->why);
	return true;
}

/* A claim's 200 body is a session with its end (what gw_detend_record needs) */
static bool session_has_end(json_t *j)
{
	_cleanup_(wire_det_session_release) struct wire_det_session s = { 0 };

	return j && wire_det_session_from_json(j, "", &s, NULL) == 0 && s.audit_id && s.end;
}

enum gw_claim_answer gw_detend_answer(int result, long status, bool parsed)
{
	if (result < 0)
		return GW_CLAIM_UNSURE;    /* sent, maybe granted, the answer lost */
	if (status == 200)
		return parsed ? GW_CLAIM_GRANTED : GW_CLAIM_UNSURE;
	return status == 404 ? GW_CLAIM_LOST : GW_CLAIM_REFUSED;
}

/* A claim whose answer was lost: the runner may have granted it, and
 * would then refuse a plain claim (409, claimed by us) for good; the
 * next poll claims it again=1, which the runner grants this claimer
 * again.  Kept until a claim of it is answered. */
static void unsure_keep(struct gw_detend *de, struct detend_call *c, const char *what)
{
	bool kept = json_object_get(de->unsure, c->key) ||
		    (json_object_size(de->unsure) < GW_DETEND_MAX_UNWRITTEN &&
		     json_object_set_new(de->unsure, c->key, json_pack("[s, s, s]", c->runner->node, c->trace, c->why)) == 0);

	log_warn("detached trace %s on node \"%s\": the answer to the claim of its end was lost (%s): %s", c->trace,
		 c->runner->node, what, kept ? "claimed again at the next poll" : "too many kept: claimed again at the next start");
}

static void claim_done(int result, long status, const char *body, size_t len, const char *err, void *ud)
{
	struct detend_call *c = ud;
	struct gw_detend *de = c->de;
	_cleanup_(json_decrefp) json_t *j = NULL;
	enum gw_claim_answer a;

	c->x = NULL;
	if (result == 0 && status == 200)
		j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	a = gw_detend_answer(result, status, session_has_end(j));
	if (a == GW_CLAIM_GRANTED || a == GW_CLAIM_LOST)
		json_object_del(de->unsure, c->key);
	if (a == GW_CLAIM_GRANTED) {
		gw_detlost_forget(de->lost, c->runner->node, c->trace);
		detend_write(de, j, c->why);
	} else if (a == GW_CLAIM_UNSURE) {
		unsure_keep(de, c, result < 0 ? (err ? err : tg_strerror(result)) : "200 without a session's end");
		gw_claimed_end(&de->seen, c->key, false, 0);
		call_free(c);
		return;
	} else if (a == GW_CLAIM_LOST && detend_write_lost(de, c)) {
		gw_claimed_end(&de->seen, c->key, false, 0);
		call_free(c);
		return;
	} else {
		_cleanup_(json_decrefp) json_t *st = json_loadb(body ? body : "", len, 0, NULL);
		struct status_view sv;
		const char *m, *by;

		/* the claimer a 409 names (details.causes[].field "claimedBy"),
		 * or none: not ended yet, or no end to claim */
		(void)status_read(st, &sv);
		m = sv.message;
		by = status == 409 ? status_cause_message(&sv, "claimedBy") : NULL;

		/* a plain claim (delete, log) of an end whose answer was lost
		 * here is refused as claimed by this gateway: still to claim
		 * again=1; any other refusal settles it */
		if (!by || strcmp(by, de->claimer))
			json_object_del(de->unsure, c->key);
		/* 409: not ended yet, or claimed (and written) by another
		 * gateway or another path here; 404: never started there (a
		 * node that failed the start), or forgotten; unreachable: the
		 * next poll asks again */
		if (by)
			gw_detlost_forget(de->lost, c->runner->node, c->trace);   /* its claimer's to record */
		if (status != 409 && status != 404)
			log_warn("detached trace %s on node \"%s\": its end could not be claimed (%s): %s", c->trace,
				 c->runner->node, c->why, m ? m : "no message");
		else
			log_info("detached trace %s on node \"%s\": its end not claimed here (%s): %s", c->trace,
				 c->runner->node, c->why, m ? m : "claim refused");
		gw_claimed_end(&de->seen, c->key, false, 0);
		call_free(c);
		return;
	}
	gw_claimed_end(&de->seen, c->key, true, now_mono_ns());
	call_free(c);
}

/* Granted claims forgotten at the bound: said at most once a minute. */
static void seen_log_forgotten(struct gw_detend *de, uint64_t now)
{
	if (de->seen.forgotten == de->forgotten_logged ||
	    (de->forgotten_log_ns && now - de->forgotten_log_ns < CLAIMED_LOG_NS))
		return;
	log_warn("detached traces' ends: %zu claims remembered (the limit): %" PRIu64 " granted ones forgotten "
		 "before %u min, %" PRIu64 " since the start (nothing lost: their runners refuse them a second claim)",
		 de->seen.max, de->seen.forgotten - de->forgotten_logged,
		 (unsigned)(GW_DETEND_SEEN_NS / (60 * 1000000000ull)), de->seen.forgotten);
	de->forgotten_logged = de->seen.forgotten;
	de->forgotten_log_ns = now;
}

static void claim(struct gw_detend *de, const struct gw_runner *runner, const char *trace, const char *why,
		  bool again)
{
	_cleanup_free_ char *key = NULL, *path = NULL;
	struct wire_rpath rp = { .kind = WIRE_RPATH_DETACHED_CLAIM, .again = again };
	struct detend_call *c;
	uint64_t now = now_mono_ns();
	int r;

	snprintf(rp.id, sizeof(rp.id), "%s", trace);
	snprintf(rp.by, sizeof(rp.by), "%s", de->claimer);
	r = strlen(trace) < sizeof(rp.id) ? wire_rpath_encode(&rp, &path) : -EINVAL;
	if (r == -EINVAL)
		log_warn("detached trace \"%.200s\" on node \"%s\": not a session id (1 to 128 letters, digits, '-', "
			 "'_', '.'): its end cannot be claimed", trace, runner->node);
	if (r < 0 || asprintf(&key, "%s/%s", runner->node, trace) < 0)
		return;
	/* this gateway claims each end once (gw_claimed_begin) */
	if (de->ncalls >= GW_DETEND_MAX_CALLS) {
		log_warn("detached trace %s on node \"%s\": %u claims under way (the limit): the next poll claims it",
			 trace, runner->node, GW_DETEND_MAX_CALLS);
		return;
	}
	r = gw_claimed_begin(&de->seen, key, now);
	seen_log_forgotten(de, now);
	if (r == 0)
		return;
	if (r < 0) {
		log_warn("detached trace %s on node \"%s\": %s: the next poll claims it", trace, runner->node,
			 r == -ENOSPC ? "every remembered claim is under way (the limit)" : "out of memory");
		return;
	}
	c = call_new(de, runner, why);
	if (!c || !(c->trace = strdup(trace))) {
		log_warn("detached trace %s on node \"%s\": cannot claim its end: out of memory", trace, runner->node);
		gw_claimed_end(&de->seen, key, false, 0);
		if (c)
			call_free(c);
		return;
	}
	c->key = TAKE_PTR(key);
	if (call_start(de, c, path, true, claim_done) < 0) {
		log_warn("detached trace %s on node \"%s\": cannot claim its end: out of memory", trace, runner->node);
		gw_claimed_end(&de->seen, c->key, false, 0);
		call_free(c);
	}
}

void gw_detend_claim(struct gateway *gw, const char *node, const char *trace, const char *why)
{
	const struct gw_runner *runner;

	if (!gw->detend)
		return;
	runner = gw_runner_get(gw, node);
	if (!runner)
		return;
	claim(gw->detend, runner, trace, why, false);
	gw_runner_put(runner);
}

/* ---- the starts' sessions ------------------------------------------------------------ */

_Static_assert(GW_DETLOST_MAX == 4096, "the message below names it");

static void lost_add(struct gw_detend *de, json_t *tpl, const char *node)
{
	int r = tpl ? gw_detlost_add(de->lost, tpl, node) : -EINVAL;

	if (r < 0)
		log_warn("audit %s: detached trace %s on node \"%s\": %s: should its runner lose the session, its end is "
			 "recorded at the next start only", json_string_value(json_object_get(tpl, "auditID")),
			 json_string_value(json_object_get(tpl, "trace")), node,
			 r == -E2BIG ? "too many detached starts without an end kept (4096, GW_DETLOST_MAX)"
			 : r == -EINVAL ? "its start lacks what its end record needs" : "out of memory");
}

void gw_detend_started(struct gateway *gw, json_t *sessions)
{
	json_t *s;
	size_t i;

	if (!gw->detend)
		return;
	json_array_foreach(sessions, i, s) {
		_cleanup_(json_decrefp) json_t *tpl = gw_detlost_tpl_session(s);

		lost_add(gw->detend, tpl, json_string_value(json_object_get(s, "node")));
	}
}

/* ---- the poll -------------------------------------------------------------------- */

static void poll_done(int result, long status, const char *body, size_t len, const char *err, void *ud)
{
	struct detend_call *c = ud;
	struct gw_detend *de = c->de;
	struct wire_det_session *items = NULL;
	_cleanup_free_ char *derr = NULL;
	size_t n = 0;

	c->x = NULL;
	if (result < 0 || status != 200 || wire_det_list_decode(body ? body : "", len, &items, &n, &derr) < 0) {
		/* a runner down is the trace paths' news; say it once a poll at debug */
		log_debug("runner \"%s\": its unclaimed detached ends cannot be listed: %s", c->runner->node,
			  derr ? derr : result < 0 ? (err ? err : tg_strerror(result)) : "not 200");
		call_free(c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (items[i].end && items[i].audit_id && !items[i].claimed_by)
			claim(de, c->runner, items[i].trace, "poll", false);
		wire_det_session_release(&items[i]);
	}
	free(items);
	call_free(c);
}

/* The runner's sessions (GET /v1/detached), asked when it has sessions
 * started here whose end is not recorded: one it no longer lists is
 * claimed, and the claim says whether it ended (200), runs (409) or is
 * lost (404, detend_write_lost); one whose end another gateway claimed
 * is that gateway's to record. */
static void list_done(int result, long status, const char *body, size_t len, const char *err, void *ud)
{
	struct detend_call *c = ud;
	struct gw_detend *de = c->de;
	struct wire_det_session *items = NULL;
	_cleanup_(json_decrefp) json_t *listed = json_object(), *absent = NULL;
	_cleanup_free_ char *derr = NULL;
	size_t n = 0, i;
	json_t *x;

	c->x = NULL;
	if (result < 0 || status != 200 || wire_det_list_decode(body ? body : "", len, &items, &n, &derr) < 0) {
		log_debug("runner \"%s\": its detached sessions cannot be listed: %s", c->runner->node,
			  derr ? derr : result < 0 ? (err ? err : tg_strerror(result)) : "not 200");
		call_free(c);
		return;
	}
	for (i = 0; i < n; i++) {
		if (items[i].claimed_by)
			gw_detlost_forget(de->lost, c->runner->node, items[i].trace);
		if (listed)
			json_object_set_new(listed, items[i].trace, json_true());
		wire_det_session_release(&items[i]);
	}
	free(items);
	absent = listed ? gw_detlost_absent(de->lost, c->runner->node, listed) : NULL;
	json_array_foreach(absent, i, x)
		claim(de, c->runner, json_string_value(x), "poll", false);
	call_free(c);
}

/* The claims whose answers were lost, again=1 (unsure_keep); each stays
 * kept until one is answered (claim_done). */
static void unsure_claim_again(struct gw_detend *de)
{
	const char *key;
	json_t *x, *tmp;

	json_object_foreach_safe(de->unsure, tmp, key, x) {
		const struct gw_runner *runner = gw_runner_get(de->gw, json_string_value(json_array_get(x, 0)));

		if (!runner)
			continue;
		claim(de, runner, json_string_value(json_array_get(x, 1)), json_string_value(json_array_get(x, 2)), true);
		gw_runner_put(runner);
	}
}

static void poll_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_detend *de = arg;
	_cleanup_free_ const struct gw_runner **v = NULL;
	_cleanup_free_ char *path = NULL, *lpath = NULL;
	size_t n = 0;

	(void)fd;
	(void)what;
	if (json_array_size(de->unwritten)) {
		_cleanup_(json_decrefp) json_t *retry = de->unwritten;
		json_t *x;
		size_t i;

		de->unwritten = json_array();
		json_array_foreach(retry, i, x)
			detend_write(de, json_array_get(x, 0), json_string_value(json_array_get(x, 1)));
	}
	unsure_claim_again(de);
	/* one poll at a time: a slow runner is not asked twice at once */
	if (de->npolls ||
	    wire_rpath_encode(&(struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_UNCLAIMED }, &path) < 0 ||
	    wire_rpath_encode(&(struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_LIST }, &lpath) < 0)
		return;
	v = gw_runners_all(de->gw, &n);
	for (size_t i = 0; v && i < n; i++) {
		struct detend_call *c = call_new(de, v[i], "poll");

		if (c) {
			de->npolls++;
			if (call_start(de, c, path, false, poll_done) < 0)
				call_free(c);
		}
		if (gw_detlost_has_node(de->lost, v[i]->node) && (c = call_new(de, v[i], "poll"))) {
			de->npolls++;
			if (call_start(de, c, lpath, false, list_done) < 0)
				call_free(c);
		}
		gw_runner_put(v[i]);
	}
}

/* ---- start and stop ---------------------------------------------------------------- */

int gw_detend_claimer(const char *audit_path, char *out, size_t size)
{
	char host[256] = "", hash[65];
	size_t j = 0;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "gateway");
	sha256_hex(audit_path, strlen(audit_path), hash);
	/* letters, digits, '-', '_', '.' as the runner takes them; 8 hex of
	 * the log's path: two gateways on one host with two logs differ */
	for (size_t i = 0; host[i] && j + 10 < size && j < 100; i++) {
		char ch = host[i];

		out[j++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				   ch == '-' || ch == '_' || ch == '.' ? ch : '-';
	}
	if (j + 10 > size)
		return -ENOMEM;
	snprintf(out + j, size - j, ".%.8s", hash);
	return 0;
}

static void recover_claims(struct gw_detend *de, json_t *open)
{
	json_t *d, *node;
	size_t i, k;

	if (json_array_size(open))
		log_info("audit: %zu detached traces of the log have a node without an end record: claiming them again",
			 json_array_size(open));
	json_array_foreach(open, i, d) {
		const char *trace = json_string_value(json_object_get(d, "trace"));

		json_array_foreach(json_object_get(d, "nodes"), k, node) {
			const struct gw_runner *runner = gw_runner_get(de->gw, json_string_value(node));

			if (!runner) {
				log_warn("audit %s: detached trace %s: no runner for node \"%s\" in the configuration: "
					 "its end is not recorded", json_string_value(json_object_get(d, "auditID")),
					 trace, json_string_value(node));
				continue;
			}
			lost_add(de, json_object_get(d, "tpl"), json_string_value(node));
			claim(de, runner, trace, "restart", true);
			gw_runner_put(runner);
		}
	}
}

int gw_detend_start(struct gateway *gw, json_t *open, char **ret_err)
{
	struct gw_detend *de;
	struct timeval tv = { .tv_sec = gw->cfg->audit_detached_poll_s };

	if (gw->detend)
		return 0;
	de = calloc(1, sizeof(*de));
	if (!de || gw_claimed_init(&de->seen, 0) < 0 || !(de->unwritten = json_array()) || !(de->unsure = json_object()) ||
	    !(de->lost = gw_detlost_new()) ||
	    gw_detend_claimer(gw->cfg->audit_path, de->claimer, sizeof(de->claimer)) < 0 ||
	    !(de->timer = event_new(gw->base, -1, EV_PERSIST, poll_tick, de)) || event_add(de->timer, &tv) < 0) {
		if (de) {
			gw_claimed_release(&de->seen);
			json_decref(de->unwritten);
			json_decref(de->unsure);
			gw_detlost_free(de->lost);
			if (de->timer)
				event_free(de->timer);
		}
		free(de);
		return tg_fail(ret_err, -ENOMEM, "detached traces' ends: out of memory");
	}
	de->gw = gw;
	gw->detend = de;
	log_info("detached traces' ends: claimed as \"%s\", runners polled every %u s", de->claimer,
		 gw->cfg->audit_detached_poll_s);
	recover_claims(de, open);
	return 0;
}

void gw_detend_stop(struct gateway *gw)
{
	struct gw_detend *de = gw->detend;

	if (!de)
		return;
	/* what is being claimed is claimed again by the next start (restart)
	 * or by another gateway (poll) */
	while (de->calls)
		call_free(de->calls);
	if (json_array_size(de->unwritten))
		log_error("audit: %zu detached ends claimed here are not in the log: the next start claims them again",
			  json_array_size(de->unwritten));
	if (json_object_size(de->unsure))
		log_error("audit: %zu detached ends whose claims' answers were lost are not in the log: the next start "
			  "claims them again", json_object_size(de->unsure));
	event_free(de->timer);
	gw_claimed_release(&de->seen);
	json_decref(de->unwritten);
	json_decref(de->unsure);
	gw_detlost_free(de->lost);
	free(de);
	gw->detend = NULL;
}
