/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTPS/1.1 server on one libevent loop that never blocks.
 *
 * One request per connection (every response says "Connection: close"),
 * which keeps the state machine short: read the head, read the body, hand
 * the request to the handler, write one response (whole, or streamed in
 * chunks), close.  Every client-controlled quantity has a limit
 * (struct http_limits); a request beyond one is answered with the HTTP
 * code that names it (413, 431, 408...) and never buffered.
 *
 * Backpressure: a streamed response's output buffer has a high-water mark;
 * the owner asks http_conn_congested() before producing more and is told
 * by on_drain when the client has caught up.  A client that stops reading
 * for stall_timeout is treated as gone.
 */
#ifndef TG_GATEWAY_HTTP_H
#define TG_GATEWAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include "lib/httphead.h"   /* struct http_request, http_parse_head() */

struct event_base;

struct http_limits {
	size_t max_body_bytes;     /* 413 beyond */
	unsigned max_headers;      /* 431 beyond */
	size_t max_header_bytes;   /* request line + headers; 431 beyond */
	unsigned max_connections;  /* when reached, a newcomer evicts a pending connection
				    * of the peer holding the most, or is closed at once */
	size_t output_high_water;  /* http_conn_congested() above this */
	unsigned request_timeout_s; /* to receive head and body (and TLS handshake) */
	unsigned handshake_timeout_s; /* to complete the TLS handshake (0: request_timeout_s) */
	unsigned max_pending_per_peer; /* connections of one address not yet handed to the
					* handler (handshake, head, body); 0: no limit */
	unsigned stall_timeout_s;  /* a response that makes no progress this long */
	unsigned keep_alive_s;     /* an HTTP/1.1 connection waits this long for its next
				      request after a whole response; 0: one request per connection */
	unsigned max_requests;     /* requests on one connection (with keep_alive_s); 0: 100 */
};

/*
 * A request the server refuses itself, before any handler (a malformed
 * or oversized head, a body over the limit, a timeout, no memory): what
 * it knows, for the owner's audit record.  method, target and user_agent
 * are the client's bytes (raw slices, not NUL-terminated; NULL when not
 * known); parsed tells whether the head was valid HTTP.
 */
struct http_refusal {
	int code;
	const char *message;       /* the Status message the client gets */
	const char *method, *target, *user_agent;
	size_t method_len, target_len, user_agent_len;
	bool parsed;
	const char *peer;          /* the client's address */
	uint64_t received_ns;      /* wall clock: when the connection was accepted */
	char audit_id[37];         /* the hook sets it when a record was written: the
				      answer then carries it in "Audit-ID" */
};
/* Called before the refusal is answered; the answer goes out whatever it
 * does (a refusal is a denial already). */
typedef void (*http_refuse_fn)(struct http_refusal *r, void *ud);

struct http_conn;
struct http_server;

/* The request handler: owns c until it has answered, or until the
 * owner's on_close is called (then c is gone). */
typedef void (*http_handler_fn)(struct http_conn *c, struct http_request *req, void *ud);

struct http_conn_ops {
	void (*on_drain)(void *ud);    /* streamed output fell below half the high-water mark */
	void (*on_close)(void *ud);    /* the client went away (or stalled) before the end */
};

int http_server_new(struct event_base *base, SSL_CTX *ssl_ctx, const char *host, const char *port,
		    const struct http_limits *lim, http_handler_fn handler, void *ud,
		    struct http_server **ret, char **ret_err);
/* Every refusal the server makes itself goes to fn first. */
void http_server_set_refuse_hook(struct http_server *s, http_refuse_fn fn, void *ud);
/* The bound port (useful with port "0"). */
int http_server_port(const struct http_server *s);
/* Stops accepting and closes connections that have not been handed to the
 * handler yet; handed-over connections stay until their owner ends them. */
void http_server_stop(struct http_server *s);
unsigned http_server_connections(const struct http_server *s);
/* Connections closed at once or evicted: max_connections reached, or
 * max_pending_per_peer of their address. */
unsigned long http_server_rejected(const struct http_server *s);
/* Connections taken (TLS not yet checked). */
unsigned long http_server_accepted(const struct http_server *s);
/* Frees the server and every connection (owners must be gone). */
struct http_server *http_server_free(struct http_server *s);

void http_conn_set_owner(struct http_conn *c, const struct http_conn_ops *ops, void *ud);
/* A whole response; extra is NULL or a NULL-terminated name, value, ... list.
 * c is closed once flushed: the caller must not use it again. */
int http_conn_respond(struct http_conn *c, int code, const char *content_type,
		      const char *const *extra, const char *body, size_t len);
/* A streamed (chunked) response. */
int http_conn_stream_start(struct http_conn *c, int code, const char *content_type,
			   const char *const *extra);
int http_conn_stream_write(struct http_conn *c, const char *data, size_t len);
bool http_conn_congested(const struct http_conn *c);
/* The connection's TLS state (the peer's certificate), or NULL. */
SSL *http_conn_ssl(const struct http_conn *c);
size_t http_conn_output_len(const struct http_conn *c);
/* Ends the stream; c is closed once flushed: the caller must not use it again. */
int http_conn_stream_end(struct http_conn *c);

#endif
