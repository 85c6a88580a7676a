// SPDX-License-Identifier: Apache-2.0
/*
 * A trace session: the request body, pod resolution, and the child's run
 * of the engine with a sink that writes NDJSON to the TLS connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/httphead.h"
#include "lib/httpstatus.h"
#include "lib/status.h"
#include "lib/log.h"
#include "lib/util.h"
#include "runner/sandbox.h"
#include "runner/session.h"
#include "kube/container.h"
#include "wire/end.h"
#include "wire/map.h"
#include "wire/output.h"
#include "wire/record.h"
#include "lib/banned.h"

int session_resolve(const struct session_request *req, const struct session_config *cfg,
		    struct scope *scope, char **ret_err)
{
	size_t i;
	int r;

	/* node-wide: nothing to resolve, and no scope check (session_run) */
	for (i = 0; !req->node_scope && i < req->npods; i++) {
		const struct session_pod *p = &req->pods[i];
		struct scope_target t = { 0 };
		_cleanup_free_ char *label = NULL, *err = NULL;

		if (asprintf(&label, "%s/%s", p->ns, p->name) < 0)
			return -ENOMEM;
		r = scope_find_pod(cfg->cgroup2_mnt, cfg->cgroup_root, p->uid, p->qos, label, &t, &err);
		if (r < 0)
			return tg_fail(ret_err, r, "pod \"%s\": %s", label, err ? err : tg_strerror(r));
		if (p->container) {
			/* the container's cgroup, directly below the pod's just found */
			struct scope_target ct = { 0 };

			r = scope_find_container(cfg->cgroup2_mnt, &t, p->container_id, p->container, &ct, &err);
			scope_target_release(&t);
			if (r < 0)
				return tg_fail(ret_err, r, "pod \"%s\": %s", label, err ? err : tg_strerror(r));
			t = ct;
		}
		r = scope_add(scope, &t);
		scope_target_release(&t);
		if (r < 0)
			return tg_fail(ret_err, r, "pod \"%s\": %s", label, tg_strerror(r));
	}
	return 0;
}

/* ---- HTTP answers ------------------------------------------------------- */

char *session_status_response(int code, const char *message)
{
	_cleanup_(json_decrefp) json_t *st = NULL;
	_cleanup_free_ char *body = NULL;
	_cleanup_buf_ struct buf out = BUF_INIT(0);

	st = status_new(code, message, NULL);
	body = st ? json_dumps(st, JSON_COMPACT) : NULL;
	if (!body || http_response_json_add(&out, code, body, strlen(body)) < 0)
		return NULL;
	return buf_detach(&out, NULL);
}

/* ---- the child: streaming ------------------------------------------------ */

struct sess {
	SSL *ssl;
	int fd;
	const struct session_config *cfg;
	const struct session_request *req;
	const struct scope *scope;
	bool head_sent;
	bool broken;          /* the connection failed: nothing more is written */
	int stop_w;           /* write end of the engine's stop pipe */
	bool sandbox_log_only;
	/* output events of one pod waiting to go as one record (sess_flush) */
	struct buf batch;     /* their text, JSON-escaped */
	struct buf events;    /* outputEvents: their descriptors, comma-separated */
	struct buf rec;       /* the record being written, reused */
	const char *batch_pod;
	unsigned batch_lines;
	uint64_t wrote_ns;    /* the last write to the gateway, monotonic */
	bool alive_sent;      /* the gateway knows this session keeps itself alive */
};

/*
 * Output records say where each event begins and what bpftrace's JSON
 * calls it ("events") when the request asks (outputEvents), and always in
 * a detached session: who reads its log, and in which format (`logs -o
 * bpftrace-json` or text), is not known when it starts, and the marks
 * cannot be recovered from the text afterwards.
 */
static bool sess_events(const struct session_request *req)
{
	return req->output_events || req->detached;
}

/*
 * Output records group the events of one pod that one drain of the ring
 * buffer brought (docs/internals/contracts.md): a record per printf line
 * cost the runner a JSON encoding and TLS writes per line, the gateway a
 * parse and an encoding, the client a parse and a write.  A record holds
 * at most SESS_BATCH_LINES events and is sent once its escaped text
 * reaches SESS_BATCH_BYTES, so it stays far below the gateway's
 * maxLineBytes (1 MiB by default); the engine's flush at the end of each
 * drain sends what is left, so a lone line waits for nothing.
 */
#define SESS_BATCH_BYTES (64u * 1024)
#define SESS_BATCH_LINES 1024u

static const char sess_no_pod[] = "";

static int sess_stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sess_signalled;
static int sess_end_fd = -1;

void session_set_end_fd(int fd)
{
	sess_end_fd = fd;
}

static void sess_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	sess_signalled = sig;
	if (write(sess_stop_pipe[1], &c, 1) < 0) {
		/* full: a stop is already pending */
	}
	errno = saved;
}

static void sess_stop(struct sess *s)
{
	char c = 'w';

	if (write(s->stop_w, &c, 1) < 0) {
		/* full: a stop is already pending */
	}
}

static int write_all(struct sess *s, const char *p, size_t len)
{
	if (s->broken)
		return -EPIPE;
	while (len > 0 && !s->ssl) {
		/* a detached session: the runner's own socket pair */
		ssize_t n = write(s->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->broken = true;
			sess_stop(s);
			return -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	while (len > 0) {
		int n = SSL_write(s->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);

		if (n <= 0) {
			int e = SSL_get_error(s->ssl, n);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
				continue;
			ERR_clear_error();
			s->broken = true;
			sess_stop(s);
			return -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	s->wrote_ns = now_mono_ns();
	return 0;
}

static int send_head(struct sess *s)
{
	_cleanup_buf_ struct buf head = BUF_INIT(0);
	int r;

	if (s->head_sent)
		return 0;
	r = http_response_head_add(&head, &(struct http_response){ .code = 200,
								     .content_type = "application/x-ndjson",
								     .close_delimited = true });
	if (r < 0)
		return r;
	s->head_sent = true;
	return write_all(s, head.s, head.len);
}

/* The record in s->rec, a newline added: one write. */
static int send_rec(struct sess *s)
{
	int r = buf_addc(&s->rec, '\n');

	if (r >= 0)
		r = send_head(s);
	if (r >= 0)
		r = write_all(s, s->rec.s, s->rec.len);
	buf_clear(&s->rec);
	return s->broken ? 0 : r;
}

/* The grouped output events as one record (wire/output.h's writer; the
 * gateway relays it without a parse when it has no "events"). */
static int sess_flush(struct sess *s)
{
	bool events = sess_events(s->req);
	int r;

	if (!s->batch_lines)
		return 0;
	if (s->broken) {
		r = 0;
		goto out;
	}
	r = wire_output_write(&s->rec, s->cfg->node, s->batch_pod, s->batch_lines, s->batch.s, s->batch.len,
			      events ? s->events.s : NULL, events ? s->events.len : 0);
	if (r >= 0)
		r = send_rec(s);
	buf_clear(&s->rec);
out:
	buf_clear(&s->batch);
	buf_clear(&s->events);
	s->batch_lines = 0;
	return r;
}

static int send_line(struct sess *s, json_t *obj);

/*
 * A session that has written nothing for SESS_ALIVE_NS says it is alive
 * ({"type":"status","phase":"alive"}, contracts.md): a trace that prints
 * nothing for minutes cannot otherwise be told from a runner that hangs
 * (stopped, its node frozen, the network to it gone), and the gateway
 * ends a leg that was alive and then went silent (runner-lost) instead
 * of waiting for the trace's duration and more.  The first is sent at
 * the first flush, so that a gateway knows at once that this session
 * keeps itself alive (a busy one may never need to say it again).  The engine flushes at
 * least every 200 ms while it reads events; while the gateway does not
 * read (a slow client) it does not flush, and nothing is sent.
 */
#define SESS_ALIVE_NS (5 * 1000000000ull)

static int sink_flush(void *ctx)
{
	struct sess *s = ctx;
	int r = sess_flush(s);

	if (r >= 0 && s->ssl && s->head_sent && !s->broken &&
	    (!s->alive_sent || now_mono_ns() - s->wrote_ns >= SESS_ALIVE_NS)) {
		const struct wire_status alive = { .phase = (char *)"alive" };
		json_t *o = NULL;

		s->alive_sent = true;
		r = wire_status_to_json(&alive, &o);
		if (r >= 0)
			r = send_line(s, o);
	}
	return r;
}

/* The gateway reads slowly (its client does: the gateway then stops
 * reading this stream, docs/internals/gateway.md "Flow control") when the
 * socket is not writable: the kernel's own mark, about two thirds of its
 * send buffer queued.  The engine then leaves the ring buffer alone
 * rather than block in a write, where it would see neither its duration
 * nor a stop. */
static int sink_backlog(void *ctx)
{
	struct sess *s = ctx;
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };

	/* nothing ready: not writable; writable, or an error the next
	 * write reports (and the session ends): go on */
	if (s->broken || poll(&p, 1, 0) != 0)
		return -1;
	return s->fd;
}

/* Writes obj as one line (steals obj), after the output grouped before it. */
static int send_line(struct sess *s, json_t *obj)
{
	_cleanup_(json_decrefp) json_t *o = obj;
	_cleanup_free_ char *text = NULL;
	int r;

	if (!o)
		return -ENOMEM;
	r = sess_flush(s);
	if (r < 0)
		return r;
	/* Once the gateway is gone the engine is told to stop (stop pipe);
	 * what it still hands over on its way out (END output, maps) has
	 * nowhere to go and is not an error. */
	if (s->broken)
		return 0;
	if (s->cfg->node && json_object_set_new(o, "node", json_string(s->cfg->node)) < 0)
		return -ENOMEM;
	text = json_dumps(o, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	r = buf_adds(&s->rec, text);
	if (r < 0) {
		buf_clear(&s->rec);
		return r;
	}
	return send_rec(s);
}

/* The text is valid UTF-8 (the engine made it so).  kind: the event's
 * type for "events" (outputEvents; value print()'s typed value), or NULL. */
static int sess_output(struct sess *s, uint64_t scope_cgid, const char *text, size_t len, const char *kind,
		       const json_t *value)
{
	const struct scope_target *t = scope_lookup(s->scope, scope_cgid);
	const char *pod = t && t->label ? t->label : sess_no_pod;
	int r;

	if (s->broken)
		return 0;
	if (s->batch_lines && s->batch_pod != pod && (r = sess_flush(s)) < 0)
		return r;
	s->batch_pod = pod;
	r = wire_output_text_add(&s->batch, text, len);
	if (r >= 0 && kind)
		r = wire_output_event_add(&s->events, !s->batch_lines, kind, len, value);
	if (r < 0)
		return r;
	if (++s->batch_lines >= SESS_BATCH_LINES || s->batch.len + s->events.len >= SESS_BATCH_BYTES)
		return sess_flush(s);
	return 0;
}

static int sink_output(void *ctx, uint64_t scope_cgid, const char *text, size_t len)
{
	return sess_output(ctx, scope_cgid, text, len, NULL, NULL);
}

/* outputEvents: each event's bpftrace JSON type (engine_sink.output_rec),
 * its length within the record's text, and print()'s typed value. */
static int sink_output_rec(void *ctx, uint64_t scope_cgid, const char *kind, const char *text,
			   size_t len, const json_t *value)
{
	return sess_output(ctx, scope_cgid, text, len, kind, value);
}

/*
 * A map goes as records of at most SESS_MAP_RECORD_BYTES (and one entry)
 * each (wire_map_split): a bigger map as several records of the same
 * name, each with a part of its entries (whole ones); the gateway merges
 * records of one name, here a union of disjoint keys.
 */
#define SESS_MAP_RECORD_BYTES (256u * 1024)

static int map_part(void *ctx, json_t *part)
{
	return send_line(ctx, part);
}

static int sink_map(void *ctx, json_t *rec)
{
	return wire_map_split(rec, SESS_MAP_RECORD_BYTES, map_part, ctx);
}

/* details: the engine's (runner/engine.h), the members of its phase */
static int sink_status(void *ctx, const char *phase, json_t *details)
{
	const struct wire_status st = {
		.phase = (char *)phase,
		.probes = (uint64_t)json_integer_value(json_object_get(details, "probes")),
		.done = (uint64_t)json_integer_value(json_object_get(details, "done")),
		.object = (char *)json_string_value(json_object_get(details, "object")),
		.cached = json_is_true(json_object_get(details, "cached")),
	};
	json_t *o = NULL;
	int r = wire_status_to_json(&st, &o);

	return r < 0 ? r : send_line(ctx, o);
}

static int sink_warning(void *ctx, const char *msg)
{
	/* Warnings (a probe missing here) are errors that do not end the trace. */
	const struct wire_error we = { .message = (char *)msg, .warning = true };
	json_t *o = NULL;
	int r = wire_error_to_json(&we, &o);

	return r < 0 ? r : send_line(ctx, o);
}

/* Ends the session when the gateway hangs up: the peer's FIN (or a reset)
 * makes the socket report RDHUP/HUP/ERR; nothing is read from it, so the
 * TLS stream is left to the writer. */
static void *hangup_watch(void *arg)
{
	struct sess *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };

	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			break;
	}
	sess_stop(s);
	return NULL;
}

static int start_watch(struct sess *s)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	r = -pthread_create(&th, &attr, hangup_watch, s);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Once attached, the child keeps only what streaming needs (sandbox.h). */
static int sess_after_attach(void *ctx, char **ret_err)
{
	struct sess *s = ctx;
	struct sandbox_opts so = { .sz = sizeof(so), .log_only = s->sandbox_log_only };

	if (s->cfg->attached_fd > 0) {
		(void)!write(s->cfg->attached_fd, "a", 1);
		close(s->cfg->attached_fd);
	}
	if (so.log_only)
		log_warn("session %s: sandbox in log-only mode (%s=log): forbidden system calls are only logged",
			    s->req->trace, SANDBOX_ENV);
	return sandbox_apply(&so, ret_err);
}

static void answer_status(struct sess *s, int code, const char *msg)
{
	_cleanup_free_ char *resp = session_status_response(code, msg);

	if (resp) {
		s->head_sent = true;
		(void)write_all(s, resp, strlen(resp));
	}
}

int session_run(SSL *ssl, int fd, const struct session_config *cfg, struct session_request *req)
{
	struct scope scope = { 0 };
	struct sess s = { .ssl = ssl, .fd = fd, .cfg = cfg, .req = req, .scope = &scope,
			  .batch = BUF_INIT(0), .events = BUF_INIT(0), .rec = BUF_INIT(0),
			  .batch_pod = sess_no_pod };
	struct engine_sink sink = { .output = sink_output, .map = sink_map, .status = sink_status,
				    .warning = sink_warning, .flush = sink_flush, .backlog = sink_backlog };
	struct engine_opts eo = { .sz = sizeof(eo) };
	struct engine_limits limits;
	struct engine_result res = { 0 };
	_cleanup_free_ char *err = NULL, *pods = session_request_pods(req);
	struct timeval tv = { .tv_sec = cfg->write_timeout_s ? cfg->write_timeout_s : 30 };
	struct sigaction sa = { .sa_handler = sess_on_signal };
	int r, status = 0;

	if (pipe2(sess_stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("session %s: stop pipe: %s", req->trace, strerror(errno));
		return 1;
	}
	s.stop_w = sess_stop_pipe[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A gateway that stops reading cannot hold the session forever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	/* a bad sandbox mode refuses before anything is resolved or loaded */
	r = sandbox_mode_parse(getenv(SANDBOX_ENV), &s.sandbox_log_only, &err);
	if (r < 0) {
		answer_status(&s, 500, "runner: bad sandbox configuration");
		log_error("session %s: %s", req->trace, err ? err : tg_strerror(r));
		status = 1;
		goto out;
	}
	r = session_resolve(req, cfg, &scope, &err);
	if (r < 0) {
		answer_status(&s, http_code_for_error(r), err);
		log_info("session %s pods=%s outcome=refused code=%d: %s", req->trace, pods, http_code_for_error(r),
			 err ? err : tg_strerror(r));
		status = 1;
		goto out;
	}
	r = start_watch(&s);
	if (r < 0) {
		answer_status(&s, 500, "runner: cannot watch the connection");
		log_error("session %s: watcher thread: %s", req->trace, strerror(-r));
		status = 1;
		goto out;
	}
	eo.program = req->program;
	eo.program_len = req->program_len;
	eo.program_name = "program";
	eo.params = (const char *const *)req->params;
	eo.nparams = req->nparams;
	eo.canonical = req->canonical;
	/* NULL: no scope check at all, which only an explicit node-wide
	 * request (session_request_decode) may have */
	eo.scope = req->node_scope ? NULL : &scope;
	eo.duration_ns = session_request_duration(req) * 1000000000ull;
	eo.stop_fd = sess_stop_pipe[0];
	limits = (struct engine_limits){
		.sz = sizeof(limits),
		.max_map_entries = req->limits.max_map_entries,
		.events_per_second = req->limits.events_per_second,
		.max_duration_ns = req->limits.max_duration_s * 1000000000ull,
		.cpu_budget = req->limits.cpu_budget,
		.max_map_bytes = req->limits.max_map_bytes,
		.max_output_bytes = req->limits.max_output_bytes,
	};
	eo.limits = &limits;
	eo.cache_dir = cfg->cache_dir;
	eo.allowed_helpers = NULL;
	eo.after_attach = sess_after_attach;
	eo.after_attach_ctx = &s;
	eo.tp_fields = req->tp_fields;
	eo.dry_run = req->dry_run;
	if (sess_events(req))
		sink.output_rec = sink_output_rec;

	r = engine_run(&eo, &sink, &s, &res, &err);
	if (r < 0 && !s.head_sent) {
		/* Nothing streamed yet (a program that does not compile, a
		 * refused object): an ordinary refusal. */
		answer_status(&s, http_code_for_error(r), err ? err : tg_strerror(r));
		log_info("session %s pods=%s outcome=refused code=%d: %s", req->trace, pods, http_code_for_error(r),
			 err ? err : tg_strerror(r));
		status = 1;
		goto out;
	}
	if (r < 0) {
		const struct wire_error we = { .message = (char *)(err ? err : tg_strerror(r)) };
		json_t *o = NULL;

		if (wire_error_to_json(&we, &o) == 0)
			(void)send_line(&s, o);
		snprintf(res.reason, sizeof(res.reason), "error");
		status = 1;
	}
	if (!res.reason[0])
		snprintf(res.reason, sizeof(res.reason), "%s", s.broken ? "stop" : "end");
	/* Stopped by a signal, not by the gateway: the runner itself went
	 * away (its death, PR_SET_PDEATHSIG, or its shutdown).  The tenant's
	 * part on this node was cut short, and the end says so. */
	if (!strcmp(res.reason, "stop") && sess_signalled && !s.broken)
		snprintf(res.reason, sizeof(res.reason), "runner-lost");
	{
		const struct wire_end we = {
			.reason = res.reason,
			.has = WIRE_END_EVENTS | WIRE_END_DROPS | WIRE_END_CPU_NS | WIRE_END_MAP_DROPS |
			       WIRE_END_OUTPUT_BYTES | WIRE_END_EXIT_CODE,
			.events = res.events, .drops = res.drops, .cpu_ns = res.cpu_ns, .map_drops = res.map_drops,
			.output_bytes = res.output_bytes, .exit_code = res.exit_code,
		};
		_cleanup_(json_decrefp) json_t *end = NULL;

		(void)wire_end_to_json(&we, &end);
		if (end && sess_end_fd >= 0) {
			/* The parent keeps the end for a gateway that lost the
			 * stream (runner/cmd-serve.c): one small line, one write. */
			_cleanup_free_ char *text = json_dumps(end, JSON_COMPACT);

			if (text && write(sess_end_fd, text, strlen(text)) < 0)
				log_warn("session %s: end record not handed to the runner: %s", req->trace,
					 strerror(errno));
		}
		(void)send_line(&s, json_incref(end));
	}
	log_info("session %s pods=%s outcome=%s events=%llu drops=%llu cpuNs=%llu%s%s%s", req->trace, pods,
		 res.reason, (unsigned long long)res.events, (unsigned long long)res.drops,
		 (unsigned long long)res.cpu_ns, s.broken ? " (gateway gone)" : "", err ? ": " : "",
		 err ? err : "");
out:
	if (!s.broken && ssl) {
		/* close_notify, then a bounded wait for the peer's */
		SSL_shutdown(ssl);
	}
	/* after the end record: closing the tracepoints' events is slow (engine.h) */
	engine_result_release(&res);
	scope_release(&scope);
	buf_release(&s.batch);
	buf_release(&s.events);
	buf_release(&s.rec);
	return status;
}
