// SPDX-License-Identifier: Apache-2.0
/* The gateway's HTTPS server: see http.h for the model. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include "gateway/http.h"
#include "gateway/status.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/httpstatus.h"
#include "lib/util.h"
#include "lib/banned.h"

enum conn_state {
	CONN_HEAD,       /* reading the request line and headers */
	CONN_BODY,       /* reading Content-Length bytes */
	CONN_HANDLER,    /* handed to the handler, nothing sent yet */
	CONN_STREAMING,  /* chunked response under way */
	CONN_CLOSING,    /* response complete: flush, then close */
};

struct http_conn {
	struct http_server *srv;
	struct bufferevent *bev;
	struct event *deadline;
	struct http_conn *prev, *next;
	enum conn_state state;
	struct http_request req;
	size_t head_scanned;
	const struct http_conn_ops *ops;
	void *ud;
	char peer[INET6_ADDRSTRLEN];
	uint64_t accepted_ns;     /* wall clock */
	bool keep_alive;          /* this request's response leaves the connection open */
	bool idle;                /* between requests: waiting keep_alive_s for the next */
	bool next_pending;        /* bytes of the next request came early: read them next */
	unsigned served;          /* requests answered on this connection */
	uint64_t accepted_mono_ns;
	bool handshaken;          /* TLS handshake complete */
};

struct http_server {
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	struct evconnlistener *listener;
	struct http_limits lim;
	struct http_head_limits head_lim;   /* lim's, for the head parser */
	http_handler_fn handler;
	void *ud;
	http_refuse_fn refuse;
	void *refuse_ud;
	struct http_conn *conns;
	unsigned nconns;
	unsigned long rejected;
	unsigned long accepted;
	int port;
};

/* ---- connections ---------------------------------------------------------- */

static void conn_free(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

		/* close_notify, so the client can tell an end from a cut. */
		if (ssl && c->state == CONN_CLOSING)
			(void)SSL_shutdown(ssl);
		bufferevent_free(c->bev);
	}
	http_request_release(&c->req);
	free(c);
}

/* The client is gone: tell the owner, then free. */
static void conn_gone(struct http_conn *c)
{
	const struct http_conn_ops *ops = c->ops;
	void *ud = c->ud;
	bool owned = c->state == CONN_HANDLER || c->state == CONN_STREAMING;

	c->ops = NULL;
	conn_free(c);
	if (owned && ops && ops->on_close)
		ops->on_close(ud);
}

static int conn_write_head(struct http_conn *c, int code, const char *content_type,
			   const char *const *extra, bool chunked, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", code, http_reason_phrase(code)) < 0)
		return -ENOMEM;
	/* A streamed response, and any answer outside the handler (a refusal
	 * of the HTTP layer), ends its connection. */
	if (!chunked && c->keep_alive && c->state == CONN_HANDLER) {
		if (evbuffer_add_printf(out, "Keep-Alive: timeout=%u\r\n", c->srv->lim.keep_alive_s) < 0)
			return -ENOMEM;
	} else if (evbuffer_add_printf(out, "Connection: close\r\n") < 0) {
		return -ENOMEM;
	}
	if (content_type && evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type) < 0)
		return -ENOMEM;
	/* The response is for this client only and holds no cacheable state. */
	if (evbuffer_add_printf(out, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n") < 0)
		return -ENOMEM;
	for (const char *const *h = extra; h && h[0] && h[1]; h += 2)
		if (evbuffer_add_printf(out, "%s: %s\r\n", h[0], h[1]) < 0)
			return -ENOMEM;
	if (chunked) {
		if (evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n\r\n") < 0)
			return -ENOMEM;
	} else if (evbuffer_add_printf(out, "Content-Length: %zu\r\n\r\n", len) < 0) {
		return -ENOMEM;
	}
	return 0;
}

static void conn_closing(struct http_conn *c)
{
	struct timeval stall = { .tv_sec = c->srv->lim.stall_timeout_s };

	c->state = CONN_CLOSING;
	c->ops = NULL;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, NULL, &stall);
	bufferevent_enable(c->bev, EV_WRITE);
}

/*
 * A whole response went out on a keep-alive connection: the connection
 * waits for the next request, at most keep_alive_s (then it is closed
 * without a word, as one that never sent anything).  Bytes of the next
 * request that came early are read from the loop, never from inside the
 * owner's call that answered.
 */
static void conn_next(struct http_conn *c)
{
	struct timeval idle = { .tv_sec = c->srv->lim.keep_alive_s };
	struct timeval now = { 0 };
	struct timeval stall = { .tv_sec = c->srv->lim.stall_timeout_s };

	c->ops = NULL;
	c->ud = NULL;
	http_request_release(&c->req);
	c->head_scanned = 0;
	c->keep_alive = false;
	c->served++;
	c->state = CONN_HEAD;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	/* a client that does not read its answers is dropped */
	bufferevent_set_timeouts(c->bev, NULL, &stall);
	if (evbuffer_get_length(bufferevent_get_input(c->bev))) {
		c->idle = false;
		c->next_pending = true;
		evtimer_add(c->deadline, &now);
	} else {
		c->idle = true;
		evtimer_add(c->deadline, &idle);
	}
}

int http_conn_respond(struct http_conn *c, int code, const char *content_type,
		      const char *const *extra, const char *body, size_t len)
{
	bool again;
	int r;

	if (c->state != CONN_HANDLER && c->state != CONN_HEAD && c->state != CONN_BODY)
		return -EINVAL;
	if (c->deadline)
		event_del(c->deadline);
	/* A refusal of a request without credentials ends its connection:
	 * only clients that present some are held between requests. */
	if (code >= 400 && !http_request_header(&c->req, "Authorization"))
		c->keep_alive = false;
	again = c->keep_alive && c->state == CONN_HANDLER;
	r = conn_write_head(c, code, content_type, extra, false, len);
	if (r >= 0 && len && !strcmp(c->req.method ? c->req.method : "", "HEAD"))
		len = 0;
	if (r >= 0 && len && bufferevent_write(c->bev, body, len) < 0)
		r = -ENOMEM;
	if (r >= 0 && again)
		conn_next(c);
	else
		conn_closing(c);
	return r;
}

/* What the owner's audit record of a refusal can know of the request. */
static void conn_describe(struct http_conn *c, struct http_refusal *rf)
{
	struct evbuffer *in;
	struct http_head_view v;
	size_t n;
	const char *raw;

	if (c->req.method) {
		const char *ua = http_request_header(&c->req, "User-Agent");

		rf->parsed = true;
		rf->method = c->req.method;
		rf->method_len = strlen(c->req.method);
		rf->target = c->req.target;
		rf->target_len = strlen(c->req.target);
		rf->user_agent = ua;
		rf->user_agent_len = ua ? strlen(ua) : 0;
		return;
	}
	/* The head did not parse (or is not whole): what it seems to say.
	 * Never more than a head may hold is looked at. */
	in = bufferevent_get_input(c->bev);
	n = evbuffer_get_length(in);
	if (n > c->srv->lim.max_header_bytes)
		n = c->srv->lim.max_header_bytes;
	raw = n ? (const char *)evbuffer_pullup(in, (ssize_t)n) : NULL;
	if (!raw)
		return;
	http_head_peek(raw, n, &v);
	rf->method = v.method;
	rf->method_len = v.method_len;
	rf->target = v.target;
	rf->target_len = v.target_len;
	rf->user_agent = v.user_agent;
	rf->user_agent_len = v.user_agent_len;
}

/* Answers a request refused at the HTTP layer with a Status body, after
 * the owner's hook has had its say (its audit record). */
static void conn_refuse(struct http_conn *c, int code, const char *msg)
{
	struct http_refusal rf = { .code = code, .message = msg, .peer = c->peer,
				   .received_ns = c->accepted_ns };
	const char *hdrs[] = { "Audit-ID", rf.audit_id, NULL };
	json_t *st;
	char *text;

	if (c->srv->refuse) {
		conn_describe(c, &rf);
		c->srv->refuse(&rf, c->srv->refuse_ud);
		rf.audit_id[sizeof(rf.audit_id) - 1] = '\0';
	}
	st = status_new(code, msg, NULL);
	text = st ? json_dumps(st, JSON_COMPACT) : NULL;
	(void)http_conn_respond(c, code, "application/json", rf.audit_id[0] ? hdrs : NULL,
				text ? text : "", text ? strlen(text) : 0);
	free(text);
	json_decref(st);
}

int http_conn_stream_start(struct http_conn *c, int code, const char *content_type,
			   const char *const *extra)
{
	struct timeval stall = { .tv_sec = c->srv->lim.stall_timeout_s };
	int r;

	if (c->state != CONN_HANDLER)
		return -EINVAL;
	r = conn_write_head(c, code, content_type, extra, true, 0);
	if (r < 0)
		return r;
	c->state = CONN_STREAMING;
	/* writecb fires when output drains below half the high-water mark. */
	bufferevent_setwatermark(c->bev, EV_WRITE, c->srv->lim.output_high_water / 2, 0);
	bufferevent_set_timeouts(c->bev, NULL, &stall);
	return 0;
}

int http_conn_stream_write(struct http_conn *c, const char *data, size_t len)
{
	struct evbuffer *out;

	if (c->state != CONN_STREAMING)
		return -EINVAL;
	if (!len)
		return 0;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_add_printf(out, "%zx\r\n", len) < 0 || evbuffer_add(out, data, len) < 0 ||
	    evbuffer_add(out, "\r\n", 2) < 0)
		return -ENOMEM;
	return 0;
}

bool http_conn_congested(const struct http_conn *c)
{
	return http_conn_output_len(c) > c->srv->lim.output_high_water;
}

SSL *http_conn_ssl(const struct http_conn *c)
{
	return c->bev ? bufferevent_openssl_get_ssl(c->bev) : NULL;
}

size_t http_conn_output_len(const struct http_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

int http_conn_stream_end(struct http_conn *c)
{
	int r = 0;

	if (c->state != CONN_STREAMING)
		return -EINVAL;
	if (evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5) < 0)
		r = -ENOMEM;
	conn_closing(c);
	return r;
}

void http_conn_set_owner(struct http_conn *c, const struct http_conn_ops *ops, void *ud)
{
	c->ops = ops;
	c->ud = ud;
}

/* HTTP/1.1 without "Connection: close", within the limits, the server
 * not stopping. */
static bool conn_wants_keep_alive(const struct http_conn *c)
{
	const struct http_server *s = c->srv;
	const char *conn = http_request_header(&c->req, "Connection");
	unsigned max = s->lim.max_requests ? s->lim.max_requests : 100;

	if (!s->lim.keep_alive_s || !s->listener || c->served + 1 >= max)
		return false;
	if (!c->req.version || strcmp(c->req.version, "HTTP/1.1"))
		return false;
	return !conn || !strcasestr(conn, "close");
}

static void conn_dispatch(struct http_conn *c)
{
	struct http_server *s = c->srv;

	event_del(c->deadline);
	c->state = CONN_HANDLER;
	c->keep_alive = conn_wants_keep_alive(c);
	/* Keep reading, to notice a client that goes away; what it sends
	 * from now on is kept for the next request on a keep-alive
	 * connection (up to a head's limit), else discarded. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	memcpy(c->req.peer, c->peer, sizeof(c->peer));
	s->handler(c, &c->req, s->ud);
}

static void conn_read_body(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (evbuffer_get_length(in) < c->req.content_length)
		return;
	c->req.body = malloc(c->req.content_length + 1);
	if (!c->req.body) {
		conn_refuse(c, 500, "out of memory");
		return;
	}
	evbuffer_remove(in, c->req.body, c->req.content_length);
	c->req.body[c->req.content_length] = '\0';
	c->req.body_len = c->req.content_length;
	/* what follows is the next request's, if the connection is kept */
	conn_dispatch(c);
}

static void conn_read_head(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail = evbuffer_get_length(in);
	struct evbuffer_ptr start, found;
	const char *err = NULL;
	int code = 400;
	size_t head_len;
	char *head;

	evbuffer_ptr_set(in, &start, c->head_scanned > 3 ? c->head_scanned - 3 : 0, EVBUFFER_PTR_SET);
	found = evbuffer_search(in, "\r\n\r\n", 4, &start);
	if (found.pos < 0) {
		c->head_scanned = avail;
		if (avail > c->srv->lim.max_header_bytes)
			conn_refuse(c, 431, "request head is larger than the limit \"maxHeaderBytes\"");
		return;
	}
	head_len = (size_t)found.pos + 4;
	head = (char *)evbuffer_pullup(in, (ssize_t)head_len);
	if (!head) {
		conn_refuse(c, 500, "out of memory");
		return;
	}
	if (http_parse_head(head, head_len, &c->srv->head_lim, &c->req, &code, &err) < 0) {
		conn_refuse(c, code, err);
		return;
	}
	evbuffer_drain(in, head_len);
	c->state = CONN_BODY;
	if (c->req.expect_continue && evbuffer_get_length(in) < c->req.content_length &&
	    bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
		conn_refuse(c, 500, "out of memory");
		return;
	}
	conn_read_body(c);
}

static void conn_readcb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	switch (c->state) {
	case CONN_HEAD:
		if (c->idle) {
			/* the next request began: it has requestTimeoutSeconds */
			struct timeval deadline = { .tv_sec = c->srv->lim.request_timeout_s };

			c->idle = false;
			evtimer_add(c->deadline, &deadline);
		}
		if (c->next_pending)
			break;   /* read from the deadline timer, on the loop */
		conn_read_head(c);
		break;
	case CONN_BODY:
		conn_read_body(c);
		break;
	case CONN_HANDLER:
		/* kept for the next request, bounded by a head's limit */
		if (c->keep_alive &&
		    evbuffer_get_length(bufferevent_get_input(bev)) <= c->srv->lim.max_header_bytes)
			break;
		c->keep_alive = false;
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	default:
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	}
}

static void conn_writecb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	if (c->state == CONN_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	if (c->state == CONN_STREAMING && c->ops && c->ops->on_drain)
		c->ops->on_drain(c->ud);
}

static void conn_handshaken(struct http_conn *c);

static void conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		conn_handshaken(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_gone(c);
}

static void conn_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	if (c->next_pending) {
		/* a keep-alive connection's next request, read on the loop */
		struct timeval deadline = { .tv_sec = c->srv->lim.request_timeout_s };

		c->next_pending = false;
		evtimer_add(c->deadline, &deadline);
		conn_read_head(c);
		return;
	}
	/* Head and body must arrive within request_timeout in total: a slow
	 * drip of bytes does not extend it.  An idle keep-alive connection
	 * is closed as one that never sent anything; a handshake not complete
	 * within handshake_timeout carried no request: closed without an
	 * answer. */
	if (!c->handshaken ||
	    (c->state == CONN_HEAD && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
	     c->head_scanned == 0))
		conn_free(c);
	else
		conn_refuse(c, 408, "request was not received within the limit \"requestTimeoutSeconds\"");
}

static bool conn_pending(const struct http_conn *c)
{
	return c->state == CONN_HEAD || c->state == CONN_BODY;
}

/* The handshake is done: the request has what is left of request_timeout. */
static void conn_handshaken(struct http_conn *c)
{
	const struct http_server *s = c->srv;
	uint64_t used = now_mono_ns() - c->accepted_mono_ns, all = (uint64_t)s->lim.request_timeout_s * 1000000000ull;
	uint64_t left = used < all ? all - used : 1000000;
	struct timeval tv = { .tv_sec = (time_t)(left / 1000000000ull),
			      .tv_usec = (suseconds_t)(left % 1000000000ull / 1000) };

	c->handshaken = true;
	if (conn_pending(c))
		evtimer_add(c->deadline, &tv);
}

/* Pending connections (not yet handed to the handler) of peer. */
static unsigned peer_pending(const struct http_server *s, const char *peer)
{
	unsigned n = 0;

	for (const struct http_conn *c = s->conns; c; c = c->next)
		n += conn_pending(c) && !strcmp(c->peer, peer);
	return n;
}

/*
 * Every slot is taken: the oldest pending connection of the address that
 * holds the most pending connections gives its slot to a newcomer from
 * peer, unless that address would not then hold more than peer.  So one
 * address (or a few) holding idle or dripping connections cannot keep
 * everyone else out; connections handed to the handler (authenticated
 * requests, running traces) are never evicted.
 */
static bool server_evict_for(struct http_server *s, const char *peer)
{
	struct http_conn *victim = NULL;
	const char *top = NULL;
	unsigned most = 0, mine = peer_pending(s, peer);

	for (struct http_conn *c = s->conns; c; c = c->next) {
		unsigned n;

		if (!conn_pending(c) || (top && !strcmp(c->peer, top)))
			continue;
		n = peer_pending(s, c->peer);
		if (n > most) {
			most = n;
			top = c->peer;
		}
	}
	if (!top || most <= mine + 1)
		return false;
	for (struct http_conn *c = s->conns; c; c = c->next)
		if (conn_pending(c) && !strcmp(c->peer, top) &&
		    (!victim || c->accepted_mono_ns < victim->accepted_mono_ns))
			victim = c;
	/* a request under way is recorded (the owner's hook) but not answered:
	 * the slot is needed now, not once a slow reader has taken the answer */
	if (victim->handshaken && s->refuse &&
	    (victim->head_scanned || evbuffer_get_length(bufferevent_get_input(victim->bev)))) {
		struct http_refusal rf = { .code = 503, .peer = victim->peer,
					   .message = "connection evicted before its request was complete: every "
						      "connection slot was taken and this address held the most",
					   .received_ns = victim->accepted_ns };

		conn_describe(victim, &rf);
		s->refuse(&rf, s->refuse_ud);
	}
	conn_free(victim);
	return true;
}

static void server_acceptcb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int salen, void *arg)
{
	struct http_server *s = arg;
	unsigned hs = s->lim.handshake_timeout_s && s->lim.handshake_timeout_s < s->lim.request_timeout_s
			      ? s->lim.handshake_timeout_s : s->lim.request_timeout_s;
	struct timeval deadline = { .tv_sec = hs };
	char peer[INET6_ADDRSTRLEN] = "";
	struct http_conn *c;
	SSL *ssl;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof(peer));
	if ((s->lim.max_pending_per_peer && peer_pending(s, peer) >= s->lim.max_pending_per_peer) ||
	    (s->nconns >= s->lim.max_connections && !server_evict_for(s, peer))) {
		s->rejected++;
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	ssl = c ? SSL_new(s->ssl_ctx) : NULL;
	if (!ssl) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->accepted_ns = now_real_ns();
	c->accepted_mono_ns = now_mono_ns();
	memcpy(c->peer, peer, sizeof(c->peer));
	c->srv = s;
	c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	c->deadline = evtimer_new(s->base, conn_deadlinecb, c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->accepted++;
	if (!c->bev || !c->deadline) {
		if (!c->bev) {
			SSL_free(ssl);
			evutil_closesocket(fd);
		}
		conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	/* The head is read in pieces: cap what one read pulls in. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, s->lim.max_header_bytes + s->lim.max_body_bytes + 4096);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evtimer_add(c->deadline, &deadline);
}

int http_server_new(struct event_base *base, SSL_CTX *ssl_ctx, const char *host, const char *port,
		    const struct http_limits *lim, http_handler_fn handler, void *ud,
		    struct http_server **ret, char **ret_err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct http_server *s;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r;

	*ret_err = NULL;
	r = getaddrinfo(host && *host ? host : NULL, port, &hints, &ai);
	if (r != 0) {
		if (asprintf(ret_err, "listen address \"%s:%s\": %s", host, port, gai_strerror(r)) < 0)
			*ret_err = NULL;
		return -TG_ECONFIG;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	s->base = base;
	s->ssl_ctx = ssl_ctx;
	s->lim = *lim;
	s->head_lim = (struct http_head_limits){
		.max_head_bytes = lim->max_header_bytes,
		.max_headers = lim->max_headers,
		.max_body_bytes = lim->max_body_bytes,
		.head_too_large = "request head is larger than the limit \"maxHeaderBytes\"",
		.too_many_headers = "more headers than the limit \"maxHeaders\"",
		.body_too_large = "request body is larger than the limit \"maxBodyBytes\"",
	};
	s->handler = handler;
	s->ud = ud;
	s->listener = evconnlistener_new_bind(base, server_acceptcb, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						      LEV_OPT_CLOSE_ON_EXEC,
					      128, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!s->listener) {
		r = -errno;
		if (asprintf(ret_err, "listen address \"%s:%s\": %s", host, port, strerror(errno)) < 0)
			*ret_err = NULL;
		free(s);
		return r < 0 ? r : -EADDRNOTAVAIL;
	}
	if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	*ret = s;
	return 0;
}

void http_server_set_refuse_hook(struct http_server *s, http_refuse_fn fn, void *ud)
{
	s->refuse = fn;
	s->refuse_ud = ud;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	struct http_conn *c, *next;

	if (s->listener) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->state == CONN_HEAD || c->state == CONN_BODY)
			conn_free(c);
	}
}

unsigned http_server_connections(const struct http_server *s)
{
	return s->nconns;
}

unsigned long http_server_rejected(const struct http_server *s)
{
	return s->rejected;
}

unsigned long http_server_accepted(const struct http_server *s)
{
	return s->accepted;
}

struct http_server *http_server_free(struct http_server *s)
{
	if (!s)
		return NULL;
	if (s->listener)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	while (s->conns) {
		s->conns->ops = NULL;
		conn_free(s->conns);
	}
	free(s);
	return NULL;
}
