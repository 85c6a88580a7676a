// SPDX-License-Identifier: Apache-2.0
/*
 * Detached sessions (runner/detached.h): the parent's side.  The child
 * runs the session as any other (runner/session.c) but writes its stream
 * to a socket pair; here that stream is read, its head decides the POST's
 * answer, and every record after it goes into the session's ring (and to
 * whoever follows its log).  The parent never blocks on anyone: a ring
 * drops its oldest records, a follower that falls behind is dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/httphead.h"
#include "lib/status.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runner/detached.h"
#include "runner/session.h"
#include "wire/detached.h"
#include "wire/end.h"
#include "wire/record.h"
#include "wire/runner-path.h"
#include "lib/banned.h"

#define DET_MAX_REFUSAL (64u * 1024)     /* a child's refusal, relayed whole */

struct det_meta {
	char *ns, *user, *target, *created;
	char **groups;
	size_t ngroups;
	char **pods;                     /* "ns/name" */
	size_t npods;
	char *program;
	uint64_t duration_s;
	char *audit_id;                  /* the create's Audit-ID, or NULL */
	char *requester;                 /* who asked, when the user was impersonated */
};

struct det_rec {
	char *line;                      /* one JSON object with "time", no newline */
	size_t len;
	struct det_rec *next;
};

struct det_peer {                        /* a follower or a deleter */
	struct det_sess *s;
	struct bufferevent *bev;
	struct det_peer *next;
};

enum det_head { HEAD_WAIT, HEAD_OK, HEAD_REFUSED };

struct det_sess {
	struct det_table *t;
	char *trace;
	struct det_meta *m;
	pid_t pid;
	struct bufferevent *child;       /* the child's stream; NULL at its EOF */
	struct bufferevent *answer;      /* the POST's connection until answered */
	enum det_head head;
	struct det_rec *first, *last;
	size_t ring_bytes;
	uint64_t ring_dropped, records, outputs;
	json_t *end;                     /* the child's end record */
	bool reaped, deleted;
	/* deleted and ended, its end not yet claimed: kept for the claim
	 * alone (no list, get, log or delete sees it) */
	bool gone;
	char *claimed_by;                /* who claimed its end for an audit log */
	int wstatus;
	uint64_t ended_ns;               /* monotonic: both reaped and at EOF */
	struct det_peer *followers, *deleters;
	struct det_sess *next;
};

/* A session freed after its end was claimed: who claimed it, so that
 * another gateway's claim is told so (409) rather than "no such session"
 * (404, which the creating gateway records as its runner losing it). */
struct det_tomb {
	char *trace;
	char *claimed_by;
	char *answer;                    /* the claim's 200 body, for its claimer asking
					  * again=1 (its answer lost); or NULL */
	size_t answer_len;
	uint64_t gone_ns;                /* monotonic */
	struct det_tomb *next;
};

struct det_table {
	struct event_base *base;
	const char *node;
	struct det_sess *sessions;       /* newest first */
	struct det_tomb *tombs, *tombs_tail;   /* oldest first */
	size_t ntombs;
	size_t tomb_bytes;               /* their answers together, at most DET_TOMB_ANSWER_BYTES */
};

/* ---- metadata ------------------------------------------------------------- */

struct det_meta *det_meta_free(struct det_meta *m)
{
	if (!m)
		return NULL;
	free(m->ns);
	free(m->user);
	free(m->target);
	free(m->created);
	free(m->program);
	free(m->audit_id);
	free(m->requester);
	for (size_t i = 0; i < m->ngroups; i++)
		free(m->groups[i]);
	free(m->groups);
	for (size_t i = 0; i < m->npods; i++)
		free(m->pods[i]);
	free(m->pods);
	free(m);
	return NULL;
}

/* what is listed of a detached session: its "detached" member, the
 * program, the duration as asked and its pods as "ns/name" */
int det_meta_new(const struct session_request *req, struct det_meta **ret)
{
	const struct session_detached *d = req->detached;
	struct det_meta *m;

	if (!d)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ns = strdup(d->ns);
	m->user = strdup(d->user);
	m->target = strdup(d->target);
	m->created = strdup(d->created);
	m->program = strdup(req->program);
	m->duration_s = req->duration_s;
	if ((d->audit_id && !(m->audit_id = strdup(d->audit_id))) ||
	    (d->requester && !(m->requester = strdup(d->requester))))
		goto fail;
	m->groups = calloc(d->ngroups + 1, sizeof(*m->groups));
	m->pods = calloc(req->npods + 1, sizeof(*m->pods));
	for (; m->groups && m->ngroups < d->ngroups; m->ngroups++)
		if (!(m->groups[m->ngroups] = strdup(d->groups[m->ngroups])))
			goto fail;
	for (; m->pods && m->npods < req->npods; m->npods++)
		if (asprintf(&m->pods[m->npods], "%s/%s", req->pods[m->npods].ns, req->pods[m->npods].name) < 0) {
			m->pods[m->npods] = NULL;
			goto fail;
		}
	if (!m->ns || !m->user || !m->target || !m->created || !m->program || !m->groups || !m->pods)
		goto fail;
	*ret = m;
	return 1;
fail:
	det_meta_free(m);
	return -ENOMEM;
}

/* ---- the table -------------------------------------------------------------- */

int det_table_new(struct event_base *base, const char *node, struct det_table **ret)
{
	struct det_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->base = base;
	t->node = node;
	*ret = t;
	return 0;
}

static void peer_free(struct det_peer *p)
{
	if (p->bev)
		bufferevent_free(p->bev);
	free(p);
}

static void peers_free(struct det_peer *p)
{
	while (p) {
		struct det_peer *n = p->next;

		peer_free(p);
		p = n;
	}
}

static void sess_free(struct det_sess *s)
{
	while (s->first) {
		struct det_rec *r = s->first;

		s->first = r->next;
		free(r->line);
		free(r);
	}
	if (s->child)
		bufferevent_free(s->child);
	if (s->answer)
		bufferevent_free(s->answer);
	peers_free(s->followers);
	peers_free(s->deleters);
	json_decref(s->end);
	det_meta_free(s->m);
	free(s->claimed_by);
	free(s->trace);
	free(s);
}

static void sess_unlink(struct det_sess *s)
{
	for (struct det_sess **pp = &s->t->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

static void tomb_free(struct det_table *t, struct det_tomb *tb)
{
	t->tomb_bytes -= tb->answer_len;
	free(tb->trace);
	free(tb->claimed_by);
	free(tb->answer);
	free(tb);
}

/* The oldest go first: past DET_KEEP_S, or beyond DET_MAX_CLAIMED_GONE. */
static void tombs_expire(struct det_table *t, uint64_t now)
{
	struct det_tomb *tb;

	while ((tb = t->tombs) &&
	       (t->ntombs > DET_MAX_CLAIMED_GONE || now - tb->gone_ns > DET_KEEP_S * 1000000000ull)) {
		t->tombs = tb->next;
		if (!t->tombs)
			t->tombs_tail = NULL;
		t->ntombs--;
		tomb_free(t, tb);
	}
}

/* s goes: unlinked by the caller; remembered if its end was claimed. */
static void sess_drop(struct det_table *t, struct det_sess *s)
{
	struct det_tomb *tb = s->claimed_by ? calloc(1, sizeof(*tb)) : NULL;

	if (tb) {
		/* the strings move from s, which is freed below */
		tb->trace = TAKE_PTR(s->trace);
		tb->claimed_by = TAKE_PTR(s->claimed_by);
		tb->gone_ns = now_mono_ns();
		if (t->tombs_tail)
			t->tombs_tail->next = tb;
		else
			t->tombs = tb;
		t->tombs_tail = tb;
		t->ntombs++;
		tombs_expire(t, tb->gone_ns);
	}
	sess_free(s);
}

/* tb, the tomb of a session just claimed and dropped, keeps the claim's
 * answer (body, taken): should it not reach the claimer, its again=1
 * claim gets it, where a 404 would have it record the end as the
 * runner's loss, without counts.  Beyond DET_TOMB_ANSWER_BYTES together,
 * that 404 it is. */
static void tomb_keep_answer(struct det_table *t, struct det_tomb *tb, char *body)
{
	size_t len = strlen(body);

	if (t->tomb_bytes + len > DET_TOMB_ANSWER_BYTES) {
		log_warn("detached session %s: its claimed end is not kept for its claimer to ask again: %u KiB kept "
			 "(the limit)", tb->trace, DET_TOMB_ANSWER_BYTES >> 10);
		free(body);
		return;
	}
	tb->answer = body;
	tb->answer_len = len;
	t->tomb_bytes += len;
}

static const struct det_tomb *tomb_find(struct det_table *t, const char *id)
{
	tombs_expire(t, now_mono_ns());
	for (const struct det_tomb *tb = t->tombs; tb; tb = tb->next)
		if (!strcmp(tb->trace, id))
			return tb;
	return NULL;
}

struct det_table *det_table_free(struct det_table *t)
{
	if (!t)
		return NULL;
	while (t->sessions) {
		struct det_sess *s = t->sessions;

		t->sessions = s->next;
		sess_free(s);
	}
	while (t->tombs) {
		struct det_tomb *tb = t->tombs;

		t->tombs = tb->next;
		tomb_free(t, tb);
	}
	free(t);
	return NULL;
}

static void close_bev_fd(struct bufferevent *bev)
{
	if (bev && bufferevent_getfd(bev) >= 0)
		close(bufferevent_getfd(bev));
}

void det_table_close_fds(struct det_table *t)
{
	for (struct det_sess *s = t ? t->sessions : NULL; s; s = s->next) {
		close_bev_fd(s->child);
		close_bev_fd(s->answer);
		for (struct det_peer *p = s->followers; p; p = p->next)
			close_bev_fd(p->bev);
		for (struct det_peer *p = s->deleters; p; p = p->next)
			close_bev_fd(p->bev);
	}
}

static bool sess_ended(const struct det_sess *s)
{
	return s->reaped && !s->child;
}

static bool sess_claimable(const struct det_sess *s)
{
	return s->head == HEAD_OK && sess_ended(s) && s->m->audit_id && !s->claimed_by;
}

/* Its records but the last (its end) go: what is left is its end, for the claim. */
static void ring_trim(struct det_sess *s)
{
	while (s->first != s->last) {
		struct det_rec *o = s->first;

		s->first = o->next;
		s->ring_bytes -= o->len + 1;
		s->ring_dropped++;
		free(o->line);
		free(o);
	}
}

/* Ended sessions past DET_KEEP_S, beyond DET_MAX_SESSIONS or beyond
 * DET_KEEP_BYTES of records (newest kept first) go: what a tenant's short
 * traces leave behind stays bounded.  An end no gateway claimed yet is
 * not pushed out by newer sessions before DET_KEEP_S (a tenant's burst of
 * traces that print much would take other ends from the audit log): only
 * its records go, up to DET_MAX_UNCLAIMED such ends. */
static void table_expire(struct det_table *t)
{
	uint64_t now = now_mono_ns();
	unsigned kept = 0, unclaimed = 0;
	size_t bytes = 0;

	for (struct det_sess **pp = &t->sessions; *pp;) {
		struct det_sess *s = *pp;
		bool old = now - s->ended_ns > DET_KEEP_S * 1000000000ull;

		if (sess_ended(s) && !s->followers &&
		    (old || kept >= DET_MAX_SESSIONS || bytes + s->ring_bytes > DET_KEEP_BYTES)) {
			if (!old && sess_claimable(s) && unclaimed < DET_MAX_UNCLAIMED) {
				ring_trim(s);
				unclaimed++;
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			sess_drop(t, s);
			continue;
		}
		kept++;
		if (sess_ended(s))
			bytes += s->ring_bytes;
		pp = &s->next;
	}
}

/* ---- answers -------------------------------------------------------------- */

static void done_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

/* Writes what is left, then frees bev. */
static void bev_finish(struct bufferevent *bev, const char *data, size_t len)
{
	bufferevent_setcb(bev, NULL, done_write_cb, closing_event_cb, NULL);
	bufferevent_disable(bev, EV_READ);
	bufferevent_enable(bev, EV_WRITE);
	if (len)
		bufferevent_write(bev, data, len);
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void answer_status(struct bufferevent *bev, int code, const char *msg)
{
	_cleanup_free_ char *resp = session_status_response(code, msg);

	bev_finish(bev, resp ? resp : "", resp ? strlen(resp) : 0);
}

static void answer_code_body(struct bufferevent *bev, int code, const char *body, size_t len)
{
	_cleanup_buf_ struct buf resp = BUF_INIT(0);

	if (http_response_json_add(&resp, code, body, len) < 0) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	bev_finish(bev, resp.s, resp.len);
}

static void answer_json(struct bufferevent *bev, int code, json_t *j)
{
	_cleanup_free_ char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!body) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	answer_code_body(bev, code, body, strlen(body));
}

static const char *sess_state(const struct det_sess *s)
{
	if (!sess_ended(s))
		return s->deleted ? "Stopping" : s->head == HEAD_OK ? "Running" : "Pending";
	if (wire_end_reason_ok(json_string_value(json_object_get(s->end, "reason"))))
		return "Succeeded";
	return "Failed";
}

/* The runner's description of a session (the gateway builds a Trace of
 * every node's). */
static json_t *sess_json(const struct det_sess *s)
{
	_cleanup_(wire_end_release) struct wire_end end = { 0 };
	/* borrowed, not released */
	const struct wire_det_session w = {
		.trace = s->trace, .node = (char *)s->t->node, .ns = s->m->ns, .user = s->m->user,
		.groups = s->m->groups, .ngroups = s->m->ngroups, .target = s->m->target,
		.program = s->m->program, .duration_s = s->m->duration_s, .pods = s->m->pods,
		.npods = s->m->npods, .created = s->m->created, .state = (char *)sess_state(s),
		.records = s->records, .outputs = s->outputs, .buffer_bytes = s->ring_bytes,
		.buffer_dropped = s->ring_dropped,
		/* sess_record keeps only an end that decodes */
		.end = s->end && wire_end_from_json(s->end, &end, NULL) == 0 ? &end : NULL,
		.audit_id = s->m->audit_id, .claimed_by = s->claimed_by, .requester = s->m->requester,
	};
	json_t *o = NULL;

	(void)wire_det_session_to_json(&w, &o);
	return o;
}

/* ---- the child's stream --------------------------------------------------- */

static void ring_add(struct det_sess *s, char *line, size_t len)
{
	struct det_rec *r = calloc(1, sizeof(*r));

	if (!r) {
		free(line);
		s->ring_dropped++;
		return;
	}
	r->line = line;
	r->len = len;
	if (s->last)
		s->last->next = r;
	else
		s->first = r;
	s->last = r;
	s->ring_bytes += len + 1;
	while (s->ring_bytes > DET_RING_BYTES && s->first != s->last) {
		struct det_rec *o = s->first;

		s->first = o->next;
		s->ring_bytes -= o->len + 1;
		s->ring_dropped++;
		free(o->line);
		free(o);
	}
}

static void follower_send(struct det_peer *p, const char *line, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(p->bev);

	evbuffer_add(out, line, len);
	evbuffer_add(out, "\n", 1);
}

/* One record of the child: stamped with the time it came, kept, sent on. */
static void sess_record(struct det_sess *s, const char *line, size_t len)
{
	_cleanup_(json_decrefp) json_t *j = json_loadb(line, len, 0, NULL);
	char ts[32];
	char *text;
	const char *type;

	if (!json_is_object(j)) {
		log_warn("detached session %s: a record that is not a JSON object: dropped", s->trace);
		return;
	}
	type = json_string_value(json_object_get(j, "type"));
	format_rfc3339_us(now_real_ns(), ts);
	if (wire_log_stamp(j, ts) < 0) {
		log_warn("detached session %s: a record that cannot be stamped: dropped", s->trace);
		return;
	}
	if (type && !strcmp(type, "output"))
		s->outputs++;
	if (type && !strcmp(type, "end")) {
		_cleanup_(wire_end_release) struct wire_end e = { 0 };
		_cleanup_free_ char *err = NULL;

		if (wire_end_from_json(j, &e, &err) < 0) {
			log_warn("detached session %s: an end record that is not one: dropped: %s", s->trace,
				 err ? err : "out of memory");
			return;
		}
		/* our own stop: the DELETE asked for it */
		if (s->deleted && !strcmp(e.reason, "stop")) {
			free(e.reason);
			e.reason = strdup("client-stop");
		}
		json_decref(TAKE_PTR(j));
		if (!e.reason || wire_end_to_json(&e, &j) < 0)
			return;
		json_decref(s->end);
		s->end = json_deep_copy(j);
	}
	text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return;
	s->records++;
	for (struct det_peer *p = s->followers, **pp = &s->followers; p; p = *pp) {
		if (evbuffer_get_length(bufferevent_get_output(p->bev)) > DET_FOLLOW_BACKLOG) {
			log_warn("detached session %s: a log follower %u bytes behind: dropped", s->trace,
				 DET_FOLLOW_BACKLOG);
			*pp = p->next;
			peer_free(p);
			continue;
		}
		follower_send(p, text, strlen(text));
		pp = &p->next;
	}
	ring_add(s, text, strlen(text));
}

static void sess_maybe_finish(struct det_sess *s);

/* The head of the child's answer: 200 means compiled and running, so the
 * POST gets 201 and the session's description; a refusal is relayed. */
static int sess_head(struct det_sess *s, struct evbuffer *in)
{
	struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char first[16] = "";

	if (e.pos < 0)
		return evbuffer_get_length(in) > 16384 ? -EBADMSG : 0;
	evbuffer_copyout(in, first, sizeof(first) - 1);
	if (!strncmp(first, "HTTP/1.1 200 ", 13)) {
		_cleanup_(json_decrefp) json_t *j = NULL;

		evbuffer_drain(in, (size_t)e.pos + 4);
		s->head = HEAD_OK;
		j = sess_json(s);
		if (s->answer)
			answer_json(TAKE_PTR(s->answer), 201, j);
		log_info("detached session %s: running for %s in namespace \"%s\" (%s)", s->trace, s->m->user,
			 s->m->ns, s->m->target);
		return 1;
	}
	s->head = HEAD_REFUSED;
	return 1;
}

static void child_read_cb(struct bufferevent *bev, void *arg)
{
	struct det_sess *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (s->head == HEAD_WAIT) {
		int r = sess_head(s, in);

		if (r < 0) {
			log_error("detached session %s: its child's answer has no head; killing it", s->trace);
			kill(s->pid, SIGKILL);
			return;
		}
		if (r == 0)
			return;
	}
	if (s->head == HEAD_REFUSED) {
		/* relayed once the child closes (it is one small response) */
		if (evbuffer_get_length(in) > DET_MAX_REFUSAL) {
			log_error("detached session %s: refusal larger than %u bytes; killing it", s->trace,
				  DET_MAX_REFUSAL);
			kill(s->pid, SIGKILL);
			evbuffer_drain(in, evbuffer_get_length(in));
		}
		return;
	}
	for (;;) {
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);

		if (!line) {
			if (evbuffer_get_length(in) > DET_MAX_LINE) {
				log_error("detached session %s: a record longer than %u bytes; killing it",
					  s->trace, DET_MAX_LINE);
				kill(s->pid, SIGKILL);
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		if (n > DET_MAX_LINE)
			log_warn("detached session %s: a record longer than %u bytes: dropped", s->trace,
				 DET_MAX_LINE);
		else
			sess_record(s, line, n);
		free(line);
	}
}

static void child_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct det_sess *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)what;
	if (s->head != HEAD_REFUSED)
		child_read_cb(bev, s);
	if (s->answer) {
		/* refused (relayed as the child wrote it), or gone without a word */
		size_t n = evbuffer_get_length(in);

		if (s->head == HEAD_REFUSED && n) {
			_cleanup_free_ char *resp = malloc(n);

			if (resp) {
				evbuffer_remove(in, resp, n);
				bev_finish(TAKE_PTR(s->answer), resp, n);
			}
		}
		if (s->answer)
			answer_status(TAKE_PTR(s->answer), 500,
				      "runner: the session's process ended before it answered");
	}
	bufferevent_free(s->child);
	s->child = NULL;
	sess_maybe_finish(s);
}

/* Once the child is reaped and its stream read to the end: followers
 * get the rest and are closed, deleters their answer; a refused session
 * is forgotten, and a deleted one too once its end is claimed (until
 * then it is gone for everyone but the claim). */
static void sess_maybe_finish(struct det_sess *s)
{
	_cleanup_(json_decrefp) json_t *ok = NULL;
	struct det_peer *p;

	if (!sess_ended(s))
		return;
	s->ended_ns = now_mono_ns();
	if (!s->end && s->head == HEAD_OK) {
		/* died before its end: say so in the log as the end */
		_cleanup_(wire_end_release) struct wire_end end = { 0 };
		_cleanup_free_ char *text = NULL;

		if (wire_end_init_died(&end) == 0 && (end.node = strdup(s->t->node)))
			(void)wire_end_encode(&end, &text);

		if (text)
			sess_record(s, text, strlen(text));
	}
	while ((p = s->followers)) {
		s->followers = p->next;
		bev_finish(TAKE_PTR(p->bev), NULL, 0);
		free(p);
	}
	ok = status_new(200, "detached session stopped: its programs are unloaded", NULL);
	while ((p = s->deleters)) {
		s->deleters = p->next;
		answer_json(TAKE_PTR(p->bev), 200, ok);
		free(p);
	}
	if (s->head == HEAD_OK && s->deleted && s->m->audit_id && !s->claimed_by) {
		s->gone = true;
		return;
	}
	if (s->deleted || s->head != HEAD_OK) {
		sess_unlink(s);
		sess_drop(s->t, s);
	}
}

int det_session_add(struct det_table *t, struct det_meta *m, const char *trace, pid_t pid, int fd,
		    struct bufferevent *answer)
{
	struct det_sess *s = calloc(1, sizeof(*s));

	if (!s || !(s->trace = strdup(trace)) ||
	    !(s->child = bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		if (s)
			free(s->trace);
		free(s);
		return -ENOMEM;
	}
	table_expire(t);
	s->t = t;
	s->m = m;
	s->pid = pid;
	s->answer = answer;
	bufferevent_setcb(s->child, child_read_cb, NULL, child_event_cb, s);
	bufferevent_setcb(answer, NULL, NULL, NULL, NULL);
	bufferevent_disable(answer, EV_READ);
	bufferevent_enable(s->child, EV_READ);
	s->next = t->sessions;
	t->sessions = s;
	return 0;
}

void det_session_reaped(struct det_table *t, pid_t pid, int wstatus)
{
	for (struct det_sess *s = t->sessions; s; s = s->next)
		if (s->pid == pid && !s->reaped) {
			s->reaped = true;
			s->wstatus = wstatus;
			sess_maybe_finish(s);
			return;
		}
}

/* ---- requests ------------------------------------------------------------- */

/* gone: a deleted session kept for its claim counts too */
static struct det_sess *sess_find(struct det_table *t, const char *id, size_t len, bool gone)
{
	for (struct det_sess *s = t->sessions; s; s = s->next)
		if (s->head == HEAD_OK && (gone || !s->gone) && strlen(s->trace) == len &&
		    !memcmp(s->trace, id, len))
			return s;
	return NULL;
}

static void peer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct det_peer *p = arg;
	struct det_sess *s = p->s;

	(void)bev;
	(void)what;
	/* the gateway went away: forget it */
	for (struct det_peer **pp = &s->followers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			peer_free(p);
			return;
		}
	for (struct det_peer **pp = &s->deleters; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			peer_free(p);
			return;
		}
}

static void peer_read_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	/* nothing more is expected from the gateway */
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static int peer_add(struct det_sess *s, struct det_peer **list, struct bufferevent *bev)
{
	struct det_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->bev = bev;
	p->next = *list;
	*list = p;
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_setcb(bev, peer_read_cb, NULL, peer_event_cb, p);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return 0;
}

/* unclaimed: the ended sessions whose end no gateway claimed yet, deleted
 * ones included (the gateways' poll, gateway/detached-end.h) */
static void respond_list(struct det_table *t, const char *ns, bool unclaimed, struct bufferevent *bev)
{
	_cleanup_(json_decrefp) json_t *items = json_array(), *list = NULL;

	for (struct det_sess *s = t->sessions; items && s; s = s->next)
		if (unclaimed ? sess_claimable(s)
			      : s->head == HEAD_OK && !s->gone && (!ns || !strcmp(s->m->ns, ns)))
			json_array_append_new(items, sess_json(s));
	list = json_pack("{s:O}", "items", items);
	answer_json(bev, 200, list);
}

static unsigned peers_count(const struct det_peer *p)
{
	unsigned n = 0;

	for (; p; p = p->next)
		n++;
	return n;
}

static void respond_log(struct det_sess *s, bool follow, struct bufferevent *bev)
{
	_cleanup_buf_ struct buf head = BUF_INIT(0);
	struct evbuffer *out = bufferevent_get_output(bev);

	if (follow && peers_count(s->followers) >= DET_MAX_FOLLOWERS) {
		answer_status(bev, 429, "runner: this detached session has 64 log followers, the limit");
		return;
	}
	if (http_response_head_add(&head, &(struct http_response){ .code = 200,
								     .content_type = "application/x-ndjson",
								     .close_delimited = true }) < 0) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	evbuffer_add(out, head.s, head.len);
	if (s->ring_dropped) {
		const struct wire_error we = {
			.message = "the oldest records of this trace were dropped: a detached trace keeps its last 1 MiB",
			.warning = true, .node = (char *)s->t->node, .dropped = s->ring_dropped,
		};
		_cleanup_(json_decrefp) json_t *w = NULL;
		_cleanup_free_ char *text = wire_error_to_json(&we, &w) == 0 ? json_dumps(w, JSON_COMPACT) : NULL;

		if (text) {
			evbuffer_add(out, text, strlen(text));
			evbuffer_add(out, "\n", 1);
		}
	}
	for (struct det_rec *r = s->first; r; r = r->next) {
		evbuffer_add(out, r->line, r->len);
		evbuffer_add(out, "\n", 1);
	}
	if (!follow || sess_ended(s) || !s->child) {
		bev_finish(bev, NULL, 0);
		return;
	}
	if (peer_add(s, &s->followers, bev) < 0)
		bev_finish(bev, NULL, 0);
}

static void respond_delete(struct det_sess *s, struct bufferevent *bev)
{
	if (sess_ended(s)) {
		s->deleted = true;
		if (peer_add(s, &s->deleters, bev) < 0) {
			answer_status(bev, 500, "runner: out of memory");
			return;
		}
		sess_maybe_finish(s);
		return;
	}
	if (peer_add(s, &s->deleters, bev) < 0) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	if (!s->deleted) {
		s->deleted = true;
		log_info("detached session %s: stopping (DELETE)", s->trace);
		/* the child's hang-up watch sees our side end: END runs, the
		 * maps and its end come on the stream as for an attached stop */
		if (s->child && shutdown(bufferevent_getfd(s->child), SHUT_WR) < 0)
			kill(s->pid, SIGTERM);
	}
}

/* 409: the end was claimed by claimer, named in details.causes (field
 * "claimedBy") for the gateway that reads it (detached-end.c) */
static void answer_claimed(struct bufferevent *bev, const char *trace, const char *claimer)
{
	_cleanup_free_ char *msg = NULL;
	json_t *d = status_details("detachedsessions", NULL, trace);
	_cleanup_(json_decrefp) json_t *st = NULL;

	if (asprintf(&msg, "detached session: its end was claimed by \"%s\"", claimer) < 0)
		msg = NULL;
	if (d && status_add_cause(d, "Claimed", "claimedBy", claimer) < 0) {
		json_decref(d);
		d = NULL;
	}
	st = status_new(409, msg ? msg : "detached session: its end was claimed", d);
	answer_json(bev, 409, st);
}

/*
 * POST /v1/detached/ID/claim?by=NAME[&again=1] (the router checked the
 * query): the first gateway to claim an ended session's end writes it to
 * its audit log; any other claim gets 409.  again: by may claim what it
 * claimed before (a restarted gateway that finds the end missing from its
 * log).  200 with the session; a deleted one is then forgotten.
 */
static void respond_claim(struct det_sess *s, const char *by, bool again, struct bufferevent *bev)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *body = NULL;

	if (!s->m->audit_id) {
		answer_status(bev, 409, "detached session: its start sent no Audit-ID, there is no end to claim");
		return;
	}
	if (!sess_ended(s)) {
		answer_status(bev, 409, "detached session: not ended yet");
		return;
	}
	if (s->claimed_by && !(again && !strcmp(s->claimed_by, by))) {
		answer_claimed(bev, s->trace, s->claimed_by);
		return;
	}
	if (!s->claimed_by && !(s->claimed_by = strdup(by))) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	log_info("detached session %s: its end claimed by \"%s\"%s", s->trace, by, again ? " (again)" : "");
	j = sess_json(s);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!body) {
		answer_status(bev, 500, "runner: out of memory");
		return;
	}
	answer_code_body(bev, 200, body, strlen(body));
	if (s->gone) {
		struct det_table *t = s->t;
		const struct det_tomb *before = t->tombs_tail;

		sess_unlink(s);
		sess_drop(t, s);
		/* a new tail is its tomb (none without memory) */
		if (t->tombs_tail != before)
			tomb_keep_answer(t, t->tombs_tail, TAKE_PTR(body));
	}
}

void det_request(struct det_table *t, const char *method, const struct wire_rpath *rp, struct bufferevent *bev)
{
	struct det_sess *s;

	table_expire(t);
	if (rp->kind == WIRE_RPATH_DETACHED_LIST || rp->kind == WIRE_RPATH_DETACHED_UNCLAIMED) {
		if (strcmp(method, "GET")) {
			answer_status(bev, 405, "/v1/detached: GET only");
			return;
		}
		respond_list(t, *rp->ns ? rp->ns : NULL, rp->kind == WIRE_RPATH_DETACHED_UNCLAIMED, bev);
		return;
	}
	if (rp->kind == WIRE_RPATH_DETACHED_CLAIM) {
		if (strcmp(method, "POST")) {
			answer_status(bev, 405, "/v1/detached/ID/claim: POST only");
			return;
		}
		s = sess_find(t, rp->id, strlen(rp->id), true);
		if (s) {
			respond_claim(s, rp->by, rp->again, bev);
			return;
		}
		/* gone after its end was claimed: another claimer is told who
		 * has it; the claimer itself asking again (its answer lost, or
		 * a restart that lost it before its record) gets the answer
		 * kept (tomb_keep_answer), or 404 past its bound */
		const struct det_tomb *tb = tomb_find(t, rp->id);
		bool mine = tb && rp->again && !strcmp(tb->claimed_by, rp->by);

		if (tb && !mine)
			answer_claimed(bev, tb->trace, tb->claimed_by);
		else if (mine && tb->answer)
			answer_code_body(bev, 200, tb->answer, tb->answer_len);
		else
			answer_status(bev, 404, "no detached session with this id here");
		return;
	}
	s = sess_find(t, rp->id, strlen(rp->id), false);
	if (!s) {
		answer_status(bev, 404, "no detached session with this id here");
		return;
	}
	if (rp->kind == WIRE_RPATH_DETACHED_LOG) {
		if (strcmp(method, "GET")) {
			answer_status(bev, 405, "/v1/detached/ID/log: GET only");
			return;
		}
		respond_log(s, rp->follow, bev);
		return;
	}
	if (!strcmp(method, "DELETE")) {
		respond_delete(s, bev);
		return;
	}
	if (strcmp(method, "GET")) {
		answer_status(bev, 405, "/v1/detached/ID: GET or DELETE");
		return;
	}
	{
		_cleanup_(json_decrefp) json_t *j = sess_json(s);

		answer_json(bev, 200, j);
	}
}
