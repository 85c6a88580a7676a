/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP client transfers on the gateway's event loop: libcurl's multi
 * interface driven by libevent (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION and
 * curl_multi_socket_action), so API server calls and runner sessions never
 * block the loop.
 *
 * A transfer's owner sees the response body through on_data and the end
 * through on_done, called exactly once unless the owner cancels first.
 * Callbacks are never re-entered; httpc_xfer_cancel may be called from
 * any callback except the transfer's own on_data.
 */
#ifndef TG_GATEWAY_HTTPC_H
#define TG_GATEWAY_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

struct event_base;
struct httpc;
struct httpc_xfer;

/* on_data returns: 0 consumed; HTTPC_PAUSE to pause (the same data comes
 * again after httpc_xfer_resume); negative to abort (on_done then sees
 * that code). */
#define HTTPC_PAUSE 1

struct httpc_xfer_ops {
	int (*on_data)(struct httpc_xfer *x, const char *data, size_t len, void *ud);
	/* result 0 when the transfer completed (any HTTP status), negative
	 * otherwise with err naming what failed. */
	void (*on_done)(struct httpc_xfer *x, int result, long http_status, const char *err, void *ud);
};

int httpc_new(struct event_base *base, struct httpc **ret);
/* Cancels every transfer (no callbacks) and frees. */
struct httpc *httpc_free(struct httpc *h);

/* Starts e (configured by the caller), taking ownership of e and headers. */
int httpc_start(struct httpc *h, CURL *e, struct curl_slist *headers, const struct httpc_xfer_ops *ops,
		void *ud, struct httpc_xfer **ret);
/*
 * A gate: at most limit transfers through it are connecting at once (the
 * TCP connect and TLS handshake, until the request goes out); further
 * ones wait in order and start as the earlier ones get through.  For a
 * runner, which bounds the handshakes one address may hold: a burst of
 * sessions queues here for milliseconds instead of being cut there.  A
 * waiting transfer is cancelled as any other; httpc_xfer_status is 0.
 */
struct httpc_gate;
int httpc_gate_new(struct httpc *h, unsigned limit, struct httpc_gate **ret);
/* Cancels the transfers waiting (no callbacks); running ones go on. */
struct httpc_gate *httpc_gate_free(struct httpc_gate *g);
unsigned httpc_gate_waiting(const struct httpc_gate *g);
int httpc_start_gated(struct httpc *h, struct httpc_gate *gate, CURL *e, struct curl_slist *headers,
		      const struct httpc_xfer_ops *ops, void *ud, struct httpc_xfer **ret);
/* Stops and frees x at once; no callback follows. */
void httpc_xfer_cancel(struct httpc_xfer *x);
int httpc_xfer_resume(struct httpc_xfer *x);
/* Half-closes x's connection (TCP FIN, our side only): the peer sees the
 * end of our request while its answer keeps coming.  For a runner
 * session this is the graceful stop (docs/internals/contracts.md).
 * -ENOTCONN when x has no connection yet. */
int httpc_xfer_shutdown_write(struct httpc_xfer *x);
bool httpc_xfer_paused(const struct httpc_xfer *x);
/* The response code seen so far (0 before the headers). */
long httpc_xfer_status(const struct httpc_xfer *x);
unsigned httpc_active(const struct httpc *h);

/* A client identity for mutual TLS (the gateway's to its runners): the
 * CA, certificate (and chain) and key files, decoded once and again when
 * one of them changes on disk.  Errors name the file. */
struct httpc_mtls;
int httpc_mtls_new(const char *ca, const char *cert, const char *key, struct httpc_mtls **ret,
		   char **ret_err);
struct httpc_mtls *httpc_mtls_free(struct httpc_mtls *m);
/* A handle for url over mutual TLS (a runner): https only, no redirects,
 * the peer verified against m's CA only (name included), m's certificate
 * and key, TLS 1.2 or later, no .netrc.  m must outlive the handle.  NULL
 * when out of memory. */
CURL *httpc_mtls_easy(const char *url, struct httpc_mtls *m);

/* A convenience for small JSON calls: collects the body (at most max
 * bytes, -E2BIG beyond) and calls done once. */
typedef void (*httpc_body_fn)(int result, long http_status, const char *body, size_t len,
			      const char *err, void *ud);
int httpc_fetch(struct httpc *h, CURL *e, struct curl_slist *headers, size_t max, httpc_body_fn done,
		void *ud, struct httpc_xfer **ret);
int httpc_fetch_gated(struct httpc *h, struct httpc_gate *gate, CURL *e, struct curl_slist *headers,
		      size_t max, httpc_body_fn done, void *ud, struct httpc_xfer **ret);

#endif
