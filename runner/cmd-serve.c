// SPDX-License-Identifier: Apache-2.0
/*
 * tracegate-runner serve: trace sessions for the gateway over mutual TLS.
 *
 *   tracegate-runner serve --listen ADDR:PORT --cert F --key F --client-ca F
 *                          [--client-cn tracegate-gateway] --node NAME
 *                          [--cgroup-root PATH] [--cache-dir DIR] [--max-sessions N]
 *
 * The parent is one libevent loop that never blocks on a client: it does
 * the TLS handshake (client certificate from --client-ca with CN
 * --client-cn, else no handshake), reads one request with limits, answers
 * GET /healthz and refusals itself, and forks one child per accepted
 * POST /v1/sessions.  The child inherits the connection and runs the
 * session (runner/session.c); the parent reaps it and logs a crash.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cleanup-ssl.h"
#include "lib/errors.h"
#include "lib/httphead.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "runner/commands.h"
#include "runner/detached.h"
#include "runner/exec-list.h"
#include "runner/guard.h"
#include "runner/jail.h"
#include "runner/scope.h"
#include "runner/session.h"
#include "runner/tracepoint.h"
#include "runner/uprobe-attach.h"
#include "wire/end.h"
#include "wire/runner-path.h"
#include "wire/sessions.h"
#include "lib/banned.h"

/* Limits on what a client can make the parent hold. */
#define SERVE_DEFAULT_MAX_SESSIONS 16
#define SERVE_MAX_SESSIONS_LIMIT 1024
#define SERVE_MAX_PENDING 64            /* connections in handshake or request */
#define SERVE_MAX_HEAD 16384            /* request line and headers */
#define SERVE_MAX_HEADERS 64
#define SERVE_REQUEST_TIMEOUT_S 10      /* handshake + head + body */
/* Before its TLS handshake ends a connection is anyone's (any pod can
 * reach the port where no NetworkPolicy is enforced): it must finish the
 * handshake within this, one peer address may hold at most
 * SERVE_MAX_HANDSHAKES_PER_PEER of them once half the slots are taken, and
 * when every slot is taken a
 * newcomer takes the oldest handshake of the peer holding the most, so a
 * flood of idle or slow connections cannot keep the gateway out. */
#define SERVE_HANDSHAKE_TIMEOUT_S 3
#define SERVE_MAX_HANDSHAKES_PER_PEER 8
/* A session's writes wait while the gateway does not read: that is how a
 * slow client slows its own trace (its ring buffer fills and drops, counted
 * for it alone).  The gateway judges the client (stallTimeoutSeconds, 60 s
 * by default) and then closes the session, so each bound here is longer
 * than the one before it: a blocked write ends the session only when the
 * gateway itself is stuck, and the watchdog kills a child only after its
 * write would have timed out (docs/internals/gateway.md, "Flow control"). */
#define SERVE_WRITE_TIMEOUT_S 75        /* a stalled gateway ends its session */
#define SERVE_SESSION_GRACE_S 90        /* past its duration, a session child is killed */
#define SERVE_ENDS_KEEP_S 600           /* a finished session's end record is kept this long */
#define SERVE_MAX_ENDS 4096             /* and at most this many (the oldest go first) */
#define SERVE_MAX_END_LINE 4096         /* one end record from a child */
#define SERVE_ATTACH_MAX_S 300          /* a child that has not attached by then counts its
					   duration from there */

struct serve_opts {
	const char *listen;
	const char *cert, *key, *client_ca, *client_cn;
	const char *node;
	const char *cgroup_root;
	const char *cache_dir;
	unsigned max_sessions;
	uint64_t session_grace_s;
};

struct child {
	pid_t pid;
	char *trace;
	char *pods;
	uint64_t start_ns;
	uint64_t duration_s;
	uint64_t kill_at_ns;       /* 0: no duration, the child's own limits rule */
	int end_fd;                /* read end of the pipe its end record comes by */
	int attached_fd;           /* one byte from the child once attached; -1 once read */
	bool attached;
	char *ns, *user;           /* whose trace ("owner" or "detached"), or NULL (a dry run) */
	bool detached;
	struct child *next;
};

/* The end record of a finished session, for a gateway that lost its
 * stream (restarted, or its client left): GET /v1/sessions/ID/end. */
struct ended {
	char *trace;
	char *line;
	uint64_t at_ns;
	struct ended *next;        /* newer first */
};

struct pending;

struct serve {
	struct serve_opts o;
	char *cg2mnt;
	struct event_base *base;
	SSL_CTX *ctx;
	struct evconnlistener *lst;
	struct pending *pending;
	unsigned npending;
	struct child *children;
	unsigned nsessions;
	struct ended *ends;
	unsigned nends;
	struct session_config scfg;
	struct det_table *det;      /* detached sessions (runner/detached.h) */
	char *tracefs;              /* for the named uprobes a session leaves (uprobe-attach.h) */
	uint64_t tls_full, tls_resumed;   /* handshakes completed */
};

enum pstate { P_HEAD, P_BODY, P_DONE };

struct pending {
	struct serve *sv;
	struct bufferevent *bev;
	struct event *deadline;
	enum pstate st;
	bool handshaking;           /* TLS not yet established: not authenticated */
	size_t content_length;
	char peer[INET6_ADDRSTRLEN + 8];
	struct pending *prev, *next;
};

/* ---- connections ----------------------------------------------------------- */

static void pending_free(struct pending *p)
{
	struct serve *sv = p->sv;

	if (p->prev)
		p->prev->next = p->next;
	else
		sv->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	sv->npending--;
	if (p->deadline)
		event_free(p->deadline);
	if (p->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(p->bev);

		/* After a fork the child owns the TLS stream: the parent's copy
		 * must go without a close_notify. */
		if (ssl)
			SSL_set_quiet_shutdown(ssl, 1);
		bufferevent_free(p->bev);
	}
	free(p);
}

static void respond_done_cb(struct bufferevent *bev, void *arg)
{
	struct pending *p = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		pending_free(p);
}

/* Writes a whole response and closes once it is flushed. */
static void respond_raw(struct pending *p, const char *resp, size_t len)
{
	p->st = P_DONE;
	if (!resp) {
		pending_free(p);
		return;
	}
	bufferevent_setcb(p->bev, NULL, respond_done_cb, NULL, p);
	bufferevent_disable(p->bev, EV_READ);
	bufferevent_enable(p->bev, EV_WRITE);
	bufferevent_write(p->bev, resp, len);
}

static void respond_status(struct pending *p, int code, const char *msg)
{
	_cleanup_free_ char *resp = session_status_response(code, msg);

	log_info("%s: %d %s", p->peer, code, msg);
	respond_raw(p, resp, resp ? strlen(resp) : 0);
}

/* ---- sessions ------------------------------------------------------------- */

static void child_close_inherited(struct serve *sv, struct pending *keep)
{
	struct pending *q;

	/* Only the session's own connection stays open in the child:
	 * another client's socket held here would outlive its close. */
	if (sv->lst)
		close(evconnlistener_get_fd(sv->lst));
	for (q = sv->pending; q; q = q->next)
		if (q != keep && q->bev && bufferevent_getfd(q->bev) >= 0)
			close(bufferevent_getfd(q->bev));
	for (struct child *c = sv->children; c; c = c->next) {
		if (c->end_fd >= 0)
			close(c->end_fd);
		if (c->attached_fd >= 0)
			close(c->attached_fd);
	}
	det_table_close_fds(sv->det);
}

/* ---- finished sessions' ends ---------------------------------------------- */

static void ends_expire(struct serve *sv, uint64_t now)
{
	struct ended **pp = &sv->ends;
	unsigned kept = 0;

	while (*pp) {
		struct ended *e = *pp;

		if (kept >= SERVE_MAX_ENDS || now - e->at_ns > SERVE_ENDS_KEEP_S * 1000000000ull) {
			*pp = e->next;
			free(e->trace);
			free(e->line);
			free(e);
			sv->nends--;
			continue;
		}
		kept++;
		pp = &e->next;
	}
}

static const struct ended *ends_find(struct serve *sv, const char *trace)
{
	ends_expire(sv, now_mono_ns());
	for (struct ended *e = sv->ends; e; e = e->next)
		if (!strcmp(e->trace, trace))
			return e;
	return NULL;
}

/* What a reaped child left in its pipe, or what its death says. */
static void ends_keep(struct serve *sv, struct child *c, int wstatus)
{
	char line[SERVE_MAX_END_LINE + 1];
	_cleanup_(wire_end_release) struct wire_end we = { 0 };
	_cleanup_free_ char *err = NULL;
	struct ended *e;
	ssize_t n = -1;
	bool have = false;

	if (c->end_fd >= 0) {
		do
			n = read(c->end_fd, line, SERVE_MAX_END_LINE);
		while (n < 0 && errno == EINTR);
	}
	if (n > 0 && wire_end_decode(line, (size_t)n, &we, &err) == 0)
		have = true;
	else if (n > 0)
		log_warn("session %s: its end record is not one, not kept: %s", c->trace, err ? err : "out of memory");
	if (!have && WIFSIGNALED(wstatus)) {
		/* crashed or killed before its end: the counts died with it */
		have = wire_end_init_died(&we) == 0;
	}
	if (!have && !we.reason)
		return;   /* refused before it started: the gateway got the refusal */
	free(we.trace);
	free(we.node);
	we.trace = strdup(c->trace);
	we.node = strdup(sv->o.node);
	e = calloc(1, sizeof(*e));
	if (!have || !e || !we.trace || !we.node || !(e->trace = strdup(c->trace)) || wire_end_encode(&we, &e->line) < 0) {
		if (e) {
			free(e->trace);
			free(e);
		}
		log_error("session %s: end record not kept: out of memory", c->trace);
		return;
	}
	e->at_ns = now_mono_ns();
	e->next = sv->ends;
	sv->ends = e;
	sv->nends++;
	ends_expire(sv, e->at_ns);
}

/* The owner is taken (both NULL for a session without one). */
static void start_session(struct pending *p, struct session_request *req, struct det_meta *det,
			  char *owner_ns_in, char *owner_user_in)
{
	_cleanup_free_ char *owner_ns = owner_ns_in, *owner_user = owner_user_in;
	struct serve *sv = p->sv;
	struct child *c;
	int endp[2];
	int att[2];
	int dsp[2] = { -1, -1 };   /* a detached session's stream: parent, child */
	pid_t pid;

	if (pipe2(att, O_CLOEXEC | O_NONBLOCK) < 0) {
		respond_status(p, 503, "runner: cannot start a session");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->trace = strdup(req->trace)) || !(c->pods = session_request_pods(req))) {
		if (c) {
			free(c->trace);
			free(c);
		}
		close(att[0]);
		close(att[1]);
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	if (pipe2(endp, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (det && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dsp) < 0)) {
		if (dsp[0] < 0 && det) {
			close(endp[0]);
			close(endp[1]);
		}
		free(c->trace);
		free(c->pods);
		free(c);
		close(att[0]);
		close(att[1]);
		respond_status(p, 503, "runner: cannot make a pipe for a session");
		return;
	}
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		if (det) {
			close(dsp[0]);
			close(dsp[1]);
		}
		close(endp[0]);
		close(endp[1]);
		free(c->trace);
		free(c->pods);
		free(c);
		close(att[0]);
		close(att[1]);
		respond_status(p, 503, "runner: cannot fork a session");
		return;
	}
	if (pid == 0) {
		SSL *ssl = bufferevent_openssl_get_ssl(p->bev);
		int fd = bufferevent_getfd(p->bev);
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		int rc;

		/* the child: the parent's loop, listener and other clients are not ours */
		sigaction(SIGCHLD, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);
		/* a detached session keeps nobody's connection: its stream
		 * goes to the parent, which answers the gateway */
		child_close_inherited(sv, det ? NULL : p);
		if (det) {
			close(dsp[0]);
			fd = dsp[1];
			ssl = NULL;
		}
		close(endp[0]);
		session_set_end_fd(endp[1]);
		close(att[0]);
		sv->scfg.attached_fd = att[1];
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		/* nothing the session runs may gain privileges by exec */
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		rc = session_run(ssl, fd, &sv->scfg, req);
		session_request_release(req);
		fflush(stderr);
		_exit(rc);
	}
	close(endp[1]);
	c->end_fd = endp[0];
	close(att[1]);
	c->attached_fd = att[0];
	c->pid = pid;
	c->start_ns = now_mono_ns();
	c->duration_s = session_request_duration(req);
	/* The child enforces its duration itself, counted from "attached"
	 * (a wildcard may take long to attach); the parent does not trust a
	 * child it cannot see into, so past the duration and a grace period
	 * for END and reading maps it is killed (the kernel then detaches and
	 * frees everything it held).  Until the child says it has attached
	 * (watchdog_cb), the duration counts from SERVE_ATTACH_MAX_S. */
	if (c->duration_s)
		c->kill_at_ns = c->start_ns + (SERVE_ATTACH_MAX_S + c->duration_s + sv->o.session_grace_s) *
					      1000000000ull;
	c->ns = TAKE_PTR(owner_ns);
	c->user = TAKE_PTR(owner_user);
	c->detached = det != NULL;
	c->next = sv->children;
	sv->children = c;
	sv->nsessions++;
	log_debug("session %s: child %d for %s%s", c->trace, (int)pid, c->pods, det ? " (detached)" : "");
	if (det) {
		close(dsp[1]);
		if (det_session_add(sv->det, det, req->trace, pid, dsp[0], p->bev) < 0) {
			close(dsp[0]);
			det_meta_free(det);
			kill(pid, SIGKILL);
			respond_status(p, 500, "runner: out of memory");
			return;
		}
		p->bev = NULL;   /* the table answers it */
	}
	pending_free(p);
}

static void reap_children(struct serve *sv)
{
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		struct child **pp, *c = NULL;

		for (pp = &sv->children; *pp; pp = &(*pp)->next) {
			if ((*pp)->pid == pid) {
				c = *pp;
				*pp = c->next;
				break;
			}
		}
		if (!c)
			continue;
		sv->nsessions--;
		ends_keep(sv, c, wstatus);
		det_session_reaped(sv->det, pid, wstatus);
		if (c->end_fd >= 0)
			close(c->end_fd);
		/* a sandboxed child cannot remove the named uprobes it made */
		(void)upods_remove_group(sv->tracefs, pid);
		/* The child logs its own outcome; a crash cannot. The kernel
		 * has freed its BPF objects with its fds (nothing is pinned). */
		if (WIFSIGNALED(wstatus))
			log_error("session %s pods=%s outcome=crashed: child %d killed by signal %d%s after %llu ms",
				  c->trace, c->pods, (int)pid, WTERMSIG(wstatus),
				  WTERMSIG(wstatus) == SIGSYS ? " (SIGSYS: a system call its sandbox forbids)" : "",
				  (unsigned long long)((now_mono_ns() - c->start_ns) / 1000000));
		else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) > 1)
			log_error("session %s pods=%s outcome=failed: child %d exited %d", c->trace, c->pods,
				  (int)pid, WEXITSTATUS(wstatus));
		if (c->attached_fd >= 0)
			close(c->attached_fd);
		free(c->trace);
		free(c->pods);
		free(c->ns);
		free(c->user);
		free(c);
	}
}

/* ---- requests ------------------------------------------------------------- */

/* What the head parser (lib/httphead.h) holds a request to here. */
static const struct http_head_limits head_limits = {
	.max_head_bytes = SERVE_MAX_HEAD,
	.max_headers = SERVE_MAX_HEADERS,
	.max_body_bytes = SESSION_MAX_BODY,
	.head_too_large = "request head larger than 16384 bytes",
	.too_many_headers = "too many headers",
	.body_too_large = "body larger than 1 MiB",
};

/* Longest method and target served (the paths are short; a probe
 * pattern is at most PROBE_PATTERN_MAX). */
#define SERVE_MAX_METHOD 15
#define SERVE_MAX_TARGET 511

static void on_request(struct pending *p, const char *body, size_t len)
{
	struct serve *sv = p->sv;
	struct session_request req = { 0 };
	_cleanup_free_ char *err = NULL;
	struct det_meta *det = NULL;
	char *owner_ns = NULL, *owner_user = NULL;
	const char *owner;
	int r;

	if (sv->nsessions >= sv->o.max_sessions) {
		char msg[96];

		snprintf(msg, sizeof(msg), "runner: %u concurrent sessions, the limit (--max-sessions)",
			 sv->nsessions);
		respond_status(p, 429, msg);
		return;
	}
	r = session_request_decode(body, len, &req, &err);
	if (r < 0) {
		respond_status(p, r == -E2BIG ? 413 : 400, err ? err : tg_strerror(r));
		return;
	}
	/* a node-wide session names the node it is for: never another's */
	if (req.node_scope && sv->o.node && strcmp(req.node, sv->o.node)) {
		char msg[640];

		snprintf(msg, sizeof(msg), "\"node\": the session is for node \"%s\", this runner serves node \"%s\"",
			 req.node, sv->o.node);
		session_request_release(&req);
		respond_status(p, 400, msg);
		return;
	}
	/* whose trace it is: "owner", else a detached session's "detached" */
	owner = req.owner ? req.owner->ns : req.detached ? req.detached->ns : NULL;
	if ((r = det_meta_new(&req, &det)) < 0 ||
	    (owner && (!(owner_ns = strdup(owner)) ||
		       !(owner_user = strdup(req.owner ? req.owner->user : req.detached->user))))) {
		det_meta_free(det);
		free(owner_ns);
		session_request_release(&req);
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	start_session(p, &req, det, owner_ns, owner_user);
	session_request_release(&req);
}

/* GET /v1/sessions/ID/end: a finished session's end record (kept
 * SERVE_ENDS_KEEP_S), 409 while it runs, 404 when unknown.  Only the
 * gateway gets here (its client certificate). */
static void respond_end(struct pending *p, const struct http_request *hd, const struct wire_rpath *rp)
{
	struct serve *sv = p->sv;
	const char *trace = rp->id;
	_cleanup_buf_ struct buf resp = BUF_INIT(0);
	const struct ended *e;

	if (strcmp(hd->method, "GET") != 0) {
		respond_status(p, 405, "/v1/sessions/ID/end: GET only");
		return;
	}
	for (struct child *c = sv->children; c; c = c->next)
		if (!strcmp(c->trace, trace)) {
			respond_status(p, 409, "session still running");
			return;
		}
	e = ends_find(sv, trace);
	if (!e) {
		respond_status(p, 404, "no session with this id ended here in the last 600 s");
		return;
	}
	if (http_response_json_add(&resp, 200, e->line, strlen(e->line)) < 0) {
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	respond_raw(p, resp.s, resp.len);
}

/* GET /v1/probes[?pattern=GLOB][&verbose=1]: the probes this node offers,
 * exec -l's listing (-lv's with verbose), as text/plain.  Only the gateway
 * gets here (its client certificate); it filters the list by the caller's
 * TracePolicy.  The pattern is checked here again: a glob of
 * PROBE_PATTERN_MAX safe characters, sent unescaped. */
/* A listing runs in the serving loop (about 40 ms for -lv's 14,000 lines
 * here): at most PROBES_PER_S of them a second, so that tenants asking
 * for lists through the gateway cannot keep the loop from the sessions'
 * connections (beyond: 429, the gateway passes it on). */
#define PROBES_PER_S 8

static bool probes_rate_ok(void)
{
	static uint64_t window_ns;
	static unsigned n;
	uint64_t now = now_mono_ns();

	if (now - window_ns >= 1000000000ull) {
		window_ns = now;
		n = 0;
	}
	return ++n <= PROBES_PER_S;
}

static void respond_probes(struct pending *p, const struct http_request *hd, const struct wire_rpath *rp)
{
	const char *pattern = rp->has_pattern ? rp->pattern : NULL, *why = NULL;
	_cleanup_free_ char *text = NULL, *err = NULL;
	_cleanup_buf_ struct buf resp = BUF_INIT(0);
	bool verbose = rp->verbose;
	size_t len = 0;
	FILE *f;
	int r;

	if (strcmp(hd->method, "GET") != 0) {
		respond_status(p, 405, "/v1/probes: GET only");
		return;
	}
	if (!probes_rate_ok()) {
		respond_status(p, 429, "probe listings: at most 8 a second on this runner (PROBES_PER_S); try again");
		return;
	}
	if (!probe_pattern_valid(pattern, &why)) {
		_cleanup_free_ char *msg = NULL;

		respond_status(p, 400, asprintf(&msg, "pattern: %s", why) < 0 ? "pattern: not valid" : msg);
		return;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	r = exec_list(pattern, verbose, f, &err);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		_cleanup_free_ char *msg = NULL;

		respond_status(p, 500, asprintf(&msg, "listing probes: %s", err ? err : tg_strerror(r)) < 0
					       ? "listing probes failed" : msg);
		return;
	}
	r = http_response_head_add(&resp, &(struct http_response){ .code = 200, .content_type = "text/plain",
								     .content_length = len });
	if (r < 0 || buf_add(&resp, text ? text : "", len) < 0) {
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	log_info("%s: 200 probes listed (%zu bytes)", p->peer, len);
	respond_raw(p, resp.s, resp.len);
}

/* GET /v1/sessions: the sessions running here and whose they are (the
 * gateways count them for maxConcurrentTraces across replicas); sessions
 * without an owner (dry runs) are left out. */
static void respond_sessions(struct pending *p)
{
	_cleanup_(wire_sessions_release) struct wire_sessions l = { .node = strdup(p->sv->o.node) };
	_cleanup_free_ char *text = NULL;
	_cleanup_buf_ struct buf resp = BUF_INIT(0);
	int r = l.node ? 0 : -ENOMEM;

	for (const struct child *c = p->sv->children; r >= 0 && c; c = c->next) {
		if (!c->ns || !c->user)
			continue;
		r = wire_sessions_add(&l, &(struct wire_session_item){ .trace = c->trace, .ns = c->ns,
									.user = c->user, .state = (char *)"Running",
									.detached = c->detached });
	}
	if (r < 0 || wire_sessions_encode(&l, &text) < 0 ||
	    http_response_json_add(&resp, 200, text, strlen(text)) < 0) {
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	respond_raw(p, resp.s, resp.len);
}

/* GET /healthz: "ok", a fixed answer (the only one without no-store). */
static void respond_healthz(struct pending *p, const struct http_request *hd)
{
	_cleanup_buf_ struct buf resp = BUF_INIT(0);

	if (strcmp(hd->method, "GET") != 0) {
		respond_status(p, 405, "/healthz: GET only");
		return;
	}
	if (http_response_head_add(&resp, &(struct http_response){ .code = 200, .content_type = "text/plain",
								     .content_length = 3, .cacheable = true }) < 0 ||
	    buf_adds(&resp, "ok\n") < 0) {
		respond_status(p, 500, "runner: out of memory");
		return;
	}
	respond_raw(p, resp.s, resp.len);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct pending *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (p->st == P_HEAD) {
		struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		_cleanup_(http_request_release) struct http_request hd = { 0 };
		_cleanup_free_ char *rerr = NULL;
		const char *h, *msg = NULL;
		struct wire_rpath rp;
		size_t hlen;
		int code = 400, r;

		if (e.pos < 0) {
			if (evbuffer_get_length(in) > SERVE_MAX_HEAD)
				respond_status(p, 431, "request head larger than 16384 bytes");
			return;
		}
		hlen = (size_t)e.pos + 4;
		if (hlen > SERVE_MAX_HEAD) {
			respond_status(p, 431, "request head larger than 16384 bytes");
			return;
		}
		h = (const char *)evbuffer_pullup(in, (ssize_t)hlen);
		if (!h) {
			respond_status(p, 500, "runner: out of memory");
			return;
		}
		if (http_parse_head(h, hlen, &head_limits, &hd, &code, &msg) < 0) {
			respond_status(p, code, msg);
			return;
		}
		evbuffer_drain(in, hlen);
		if (strlen(hd.method) > SERVE_MAX_METHOD || strlen(hd.target) > SERVE_MAX_TARGET) {
			respond_status(p, 400, "request line: method or target too long");
			return;
		}
		if ((r = wire_rpath_decode(hd.target, &rp, &rerr)) < 0) {
			respond_status(p, r == -ENOENT ? 404 : r == -EINVAL ? 400 : 500,
				       rerr ? rerr : "runner: out of memory");
			return;
		}
		switch (rp.kind) {
		case WIRE_RPATH_HEALTHZ:
			respond_healthz(p, &hd);
			return;
		case WIRE_RPATH_DETACHED_LIST:
		case WIRE_RPATH_DETACHED:
		case WIRE_RPATH_DETACHED_LOG:
		case WIRE_RPATH_DETACHED_UNCLAIMED:
		case WIRE_RPATH_DETACHED_CLAIM: {
			struct bufferevent *b = TAKE_PTR(p->bev);
			struct det_table *dt = p->sv->det;

			p->st = P_DONE;
			pending_free(p);
			det_request(dt, hd.method, &rp, b);
			return;
		}
		case WIRE_RPATH_PROBES:
			respond_probes(p, &hd, &rp);
			return;
		case WIRE_RPATH_SESSION_END:
			respond_end(p, &hd, &rp);
			return;
		case WIRE_RPATH_SESSIONS:
			break;
		}
		if (!strcmp(hd.method, "GET")) {
			respond_sessions(p);
			return;
		}
		if (strcmp(hd.method, "POST") != 0) {
			respond_status(p, 405, "/v1/sessions: POST or GET");
			return;
		}
		/* http_parse_head refused Transfer-Encoding, a POST without
		 * Content-Length and a body over SESSION_MAX_BODY */
		p->content_length = hd.content_length;
		p->st = P_BODY;
	}
	if (p->st == P_BODY && evbuffer_get_length(in) >= p->content_length) {
		_cleanup_free_ char *body = malloc(p->content_length + 1);

		if (!body) {
			respond_status(p, 500, "runner: out of memory");
			return;
		}
		evbuffer_remove(in, body, p->content_length);
		body[p->content_length] = '\0';
		p->st = P_DONE;
		bufferevent_disable(p->bev, EV_READ);
		on_request(p, body, p->content_length);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pending *p = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* the client's certificate was verified: the rest of the
		 * request has the request timeout from now */
		struct timeval tv = { .tv_sec = SERVE_REQUEST_TIMEOUT_S };

		p->handshaking = false;
		evtimer_add(p->deadline, &tv);
		/* a resumed session (a ticket of ours) skips the certificate
		 * exchange: the gateway reconnecting for its next session */
		if (SSL_session_reused(bufferevent_openssl_get_ssl(bev)))
			p->sv->tls_resumed++;
		else
			p->sv->tls_full++;
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);

		if (e) {
			char tmp[256];

			ERR_error_string_n(e, tmp, sizeof(tmp));
			log_info("%s: TLS refused: %s", p->peer, tmp);
		}
	}
	pending_free(p);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	if (p->st == P_DONE) {
		pending_free(p);
		return;
	}
	if (p->handshaking)
		log_info("%s: TLS handshake not complete within %d s", p->peer, SERVE_HANDSHAKE_TIMEOUT_S);
	else
		log_info("%s: request not complete within %d s", p->peer, SERVE_REQUEST_TIMEOUT_S);
	pending_free(p);
}

/* Handshakes in progress from peer (the oldest of them in *ret_oldest). */
static unsigned peer_handshakes(struct serve *sv, const char *peer, struct pending **ret_oldest)
{
	unsigned n = 0;

	for (struct pending *q = sv->pending; q; q = q->next)
		if (q->handshaking && strcmp(q->peer, peer) == 0) {
			n++;
			if (ret_oldest)
				*ret_oldest = q;        /* newest first: the last is the oldest */
		}
	return n;
}

/* A flood must not flood the log too: at most one line a second about
 * refused connections, with how many there were. */
static void log_refusal(const char *peer, const char *why)
{
	static uint64_t last_ns, held;
	uint64_t now = now_mono_ns();

	if (last_ns && now - last_ns < 1000000000ull) {
		held++;
		return;
	}
	log_info("%s: refused: %s (and %llu more connections refused since the last such line)", peer, why,
		 (unsigned long long)held);
	last_ns = now;
	held = 0;
}

/* Whether a connection from peer may have a slot: at most
 * SERVE_MAX_HANDSHAKES_PER_PEER handshakes per peer once half the slots
 * are taken; when every slot is taken, the oldest handshake of the peer
 * holding the most goes, unless that would not leave the newcomer's peer
 * holding fewer.  The per-peer cap does not apply while slots are plenty:
 * the gateway is one address, and a burst of trace starts (one connection
 * each) refused itself at 8 (bench-load held 14-35 of 200 sessions). */
static bool admit(struct serve *sv, const char *peer)
{
	struct pending *victim = NULL;
	unsigned mine = peer_handshakes(sv, peer, NULL), most = 0;

	if (mine >= SERVE_MAX_HANDSHAKES_PER_PEER && sv->npending >= SERVE_MAX_PENDING / 2) {
		log_refusal(peer, "too many TLS handshakes in progress from this address");
		return false;
	}
	if (sv->npending < SERVE_MAX_PENDING)
		return true;
	for (struct pending *q = sv->pending; q; q = q->next) {
		struct pending *oldest = NULL;
		unsigned n;

		if (!q->handshaking)
			continue;
		n = peer_handshakes(sv, q->peer, &oldest);
		if (n > most) {
			most = n;
			victim = oldest;
		}
	}
	if (!victim || most <= mine + 1) {
		log_refusal(peer, "all connection slots taken");
		return false;
	}
	log_refusal(victim->peer, "a TLS handshake in progress dropped for a newcomer (all slots taken)");
	pending_free(victim);
	return true;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct serve *sv = arg;
	struct pending *p;
	struct timeval tv = { .tv_sec = SERVE_REQUEST_TIMEOUT_S };
	struct timeval hs = { .tv_sec = SERVE_HANDSHAKE_TIMEOUT_S };
	char peer[INET6_ADDRSTRLEN + 8] = "?";
	SSL *ssl;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, peer, sizeof(peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, peer, sizeof(peer));
	if (!admit(sv, peer)) {
		close(fd);
		return;
	}
	p = calloc(1, sizeof(*p));
	ssl = p ? SSL_new(sv->ctx) : NULL;
	if (!ssl) {
		free(p);
		close(fd);
		return;
	}
	p->sv = sv;
	p->handshaking = true;
	memcpy(p->peer, peer, sizeof(p->peer));
	p->bev = bufferevent_openssl_socket_new(sv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (!p->bev) {
		SSL_free(ssl);
		free(p);
		close(fd);
		return;
	}
	p->next = sv->pending;
	if (sv->pending)
		sv->pending->prev = p;
	sv->pending = p;
	sv->npending++;
	p->deadline = evtimer_new(sv->base, deadline_cb, p);
	if (!p->deadline) {
		pending_free(p);
		return;
	}
	evtimer_add(p->deadline, &hs);
	bufferevent_setcb(p->bev, read_cb, NULL, event_cb, p);
	bufferevent_setwatermark(p->bev, EV_READ, 0, SESSION_MAX_BODY + SERVE_MAX_HEAD);
	bufferevent_set_timeouts(p->bev, &tv, &tv);
	bufferevent_enable(p->bev, EV_READ);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;

	if (sig == SIGCHLD) {
		reap_children(sv);
		return;
	}
	log_info("signal %d: stopping; %u sessions end; TLS handshakes since the start: %llu full, %llu resumed",
		 (int)sig, sv->nsessions, (unsigned long long)sv->tls_full,
		 (unsigned long long)sv->tls_resumed);
	event_base_loopbreak(sv->base);
}

/* ---- setup ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: tracegate-runner serve --listen ADDR:PORT --cert F --key F --client-ca F\n"
		"                              [--client-cn tracegate-gateway] --node NAME\n"
		"                              [--cgroup-root PATH] [--cache-dir DIR] [--max-sessions N]\n"
		"                              [--session-grace SECONDS]\n");
}

static int parse_args(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "client-ca", required_argument, NULL, 'a' },
		{ "client-cn", required_argument, NULL, 'n' },
		{ "node", required_argument, NULL, 'N' },
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "cache-dir", required_argument, NULL, 'd' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "session-grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->client_cn = "tracegate-gateway";
	o->max_sessions = SERVE_DEFAULT_MAX_SESSIONS;
	o->session_grace_s = SERVE_SESSION_GRACE_S;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 'a': o->client_ca = optarg; break;
		case 'n': o->client_cn = optarg; break;
		case 'N': o->node = optarg; break;
		case 'r': o->cgroup_root = optarg; break;
		case 'd': o->cache_dir = optarg; break;
		case 'm': {
			uint64_t n;

			if (parse_u64(optarg, &n) < 0 || n == 0 || n > SERVE_MAX_SESSIONS_LIMIT) {
				log_error("--max-sessions \"%s\": not a number from 1 to %d", optarg,
					  SERVE_MAX_SESSIONS_LIMIT);
				return -EINVAL;
			}
			o->max_sessions = (unsigned)n;
			break;
		}
		case 'g':
			if (parse_u64(optarg, &o->session_grace_s) < 0 || o->session_grace_s == 0 ||
			    o->session_grace_s > 3600) {
				log_error("--session-grace \"%s\": not a number of seconds from 1 to 3600", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage();
			return 1;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("serve: unexpected argument \"%s\"", argv[optind]);
		return -EINVAL;
	}
	if (!o->listen || !o->cert || !o->key || !o->client_ca || !o->node) {
		log_error("serve: --listen, --cert, --key, --client-ca and --node are required");
		usage();
		return -EINVAL;
	}
	if (!*o->client_cn) {
		log_error("serve: --client-cn must not be empty");
		return -EINVAL;
	}
	return 0;
}

/* ADDR:PORT or [ADDR6]:PORT */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t hl;

	if (!colon || parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, hl ? host : "0.0.0.0", &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve *sv = arg;
	uint64_t now = now_mono_ns();

	for (struct child *c = sv->children; c; c = c->next) {
		char b;
		ssize_t n = c->attached_fd >= 0 ? read(c->attached_fd, &b, 1) : -1;

		/* attached: the duration counts from now (never later than the
		 * bound set at the start) */
		if (n == 1)
			c->attached = true;
		if (n == 1 && c->kill_at_ns) {
			uint64_t at = now + (c->duration_s + sv->o.session_grace_s) * 1000000000ull;

			if (at < c->kill_at_ns)
				c->kill_at_ns = at;
		}
		if (n >= 0) {   /* the byte, or the child closed it (exited) */
			close(c->attached_fd);
			c->attached_fd = -1;
		}
		if (c->kill_at_ns && now >= c->kill_at_ns) {
			if (c->attached)
				log_error("session %s pods=%s: still running %llu s past its duration; killing child %d",
					  c->trace, c->pods, (unsigned long long)sv->o.session_grace_s, (int)c->pid);
			else
				log_error("session %s pods=%s: not attached within %d s, and its duration and %llu s "
					  "more have passed; killing child %d", c->trace, c->pods, SERVE_ATTACH_MAX_S,
					  (unsigned long long)sv->o.session_grace_s, (int)c->pid);
			kill(c->pid, SIGKILL);
			c->kill_at_ns = 0;
		}
	}
}

int cmd_serve(int argc, char **argv)
{
	struct serve sv = { 0 };
	_cleanup_free_ char *err = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct event *sigs[3] = { NULL, NULL, NULL };
	struct event *watchdog = NULL;
	static const int signos[3] = { SIGCHLD, SIGTERM, SIGINT };
	static const struct timeval second = { .tv_sec = 1 };
	struct tls_opts to = { .sz = sizeof(to) };
	int r, i;

	r = parse_args(argc, argv, &sv.o);
	if (r != 0)
		return r > 0 ? 0 : 2;
	if (parse_listen(sv.o.listen, &ss, &sslen) < 0) {
		log_error("--listen \"%s\": not ADDR:PORT", sv.o.listen);
		return 2;
	}
	r = cgroup2_mount_find(&sv.cg2mnt, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		return 1;
	}
	{
		/* every compile reads these again and refuses when they are
		 * wrong; say so once, at the start */
		struct jail_opts jo;

		r = jail_opts_from_env(&jo, &err);
		if (r < 0) {
			log_error("%s", err ? err : tg_strerror(r));
			return 2;
		}
		if (jo.mode != JAIL_ENFORCE)
			log_warn("%s=%s: %s", JAIL_ENV, jail_mode_name(jo.mode),
				 jo.mode == JAIL_OFF ?
				 "code generation and clang run with the runner's own privileges (debugging only)" :
				 "the compile jail's seccomp filters only log what they would kill (debugging only)");
		log_info("compile jail: uids %u-%u, %llu ms per compile", jo.uid_first,
			 jo.uid_first + jo.uid_count - 1, (unsigned long long)jo.lim.wall_ms);
	}
	to.cert_file = sv.o.cert;
	to.key_file = sv.o.key;
	to.ca_file = sv.o.client_ca;
	to.require_cn = sv.o.client_cn;
	r = tls_server_ctx_new(&to, &sv.ctx, &err);
	if (r < 0) {
		log_error("%s", err ? err : tg_strerror(r));
		return 1;
	}
	{
		/* the kernel's layout for the interrupt check, read from its
		 * BTF once here: every session child inherits it instead of
		 * parsing 5 MiB of BTF again (a failure is each session's own,
		 * and names the cause there) */
		struct guard_kernel k;

		if (guard_kernel_layout(NULL, &k, &err) < 0) {
			log_warn("%s", err ? err : "kernel BTF: cannot read");
			free(TAKE_PTR(err));
		}
	}
	/* named uprobes of sessions that died with the previous runner */
	if (tracefs_find(&sv.tracefs, &err) == 0)
		log_info("removed %d uprobe(s) left by earlier sessions", upods_sweep(sv.tracefs));
	else
		free(TAKE_PTR(err));
	sv.scfg = (struct session_config){ .node = sv.o.node, .cgroup2_mnt = sv.cg2mnt,
					   .cgroup_root = sv.o.cgroup_root, .cache_dir = sv.o.cache_dir,
					   .write_timeout_s = SERVE_WRITE_TIMEOUT_S };
	signal(SIGPIPE, SIG_IGN);
	sv.base = event_base_new();
	if (!sv.base || det_table_new(sv.base, sv.o.node, &sv.det) < 0) {
		log_error("libevent: no event base");
		r = 1;
		goto out;
	}
	sv.lst = evconnlistener_new_bind(sv.base, accept_cb, &sv,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
					 (struct sockaddr *)&ss, (int)sslen);
	if (!sv.lst) {
		log_error("--listen \"%s\": %s", sv.o.listen, strerror(errno));
		r = 1;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(sv.base, signos[i], signal_cb, &sv);
		if (!sigs[i] || evsignal_add(sigs[i], NULL) < 0) {
			log_error("libevent: cannot watch signal %d", signos[i]);
			r = 1;
			goto out;
		}
	}
	watchdog = event_new(sv.base, -1, EV_PERSIST, watchdog_cb, &sv);
	if (!watchdog || event_add(watchdog, &second) < 0) {
		log_error("libevent: cannot start the session watchdog");
		r = 1;
		goto out;
	}
	log_info("serving node \"%s\" on %s (cgroup2 at \"%s\", root \"%s\", client CN \"%s\", %u sessions)",
		 sv.o.node, sv.o.listen, sv.cg2mnt, sv.o.cgroup_root ? sv.o.cgroup_root : "/", sv.o.client_cn,
		 sv.o.max_sessions);
	event_base_dispatch(sv.base);
	r = 0;
out:
	/* Children end with us: each runs END, reads its maps and detaches. */
	for (struct child *c = sv.children; c; c = c->next)
		kill(c->pid, SIGTERM);
	for (unsigned waited = 0; sv.children && waited < 50; waited++) {
		reap_children(&sv);
		if (sv.children)
			usleep(100000);
	}
	while (sv.pending)
		pending_free(sv.pending);
	sv.det = det_table_free(sv.det);
	for (i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (watchdog)
		event_free(watchdog);
	if (sv.lst)
		evconnlistener_free(sv.lst);
	if (sv.base)
		event_base_free(sv.base);
	SSL_CTX_free(sv.ctx);
	free(sv.cg2mnt);
	free(sv.tracefs);
	return r;
}
