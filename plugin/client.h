/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's side of the wire: one HTTPS POST to the gateway, whose
 * answer is either streamed line by line to a callback (200, NDJSON) or
 * collected (a refusal, or a dry run's answer).  SIGINT's self-pipe
 * (cancel_fd) asks the gateway for a graceful stop (a DELETE of the
 * trace, beside the stream: END runs, the maps come), a second SIGINT
 * ends the transfer, which closes the connection: the gateway then cuts
 * the trace.
 */
#ifndef TG_PLUGIN_CLIENT_H
#define TG_PLUGIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/buf.h"
#include "lib/ndjson.h"
#include "plugin/render.h"

#define KT_CONNECT_TIMEOUT_MS 10000
#define KT_CHECK_TIMEOUT_MS 60000
#define KT_STOP_TIMEOUT_MS 15000     /* the DELETE of a graceful stop */

struct kt_request {
	const char *method;       /* "POST" (NULL), "GET" or "DELETE" (no body) */
	const char *url;
	const char *body;
	size_t body_len;
	const char *token;        /* bearer token, or NULL */
	const char *ca_file;      /* CA file, or */
	const char *ca_pem;       /* CA in memory (PEM), or neither: system CAs */
	size_t ca_len;
	const char *cert_pem, *key_pem;  /* client certificate, or NULL */
	const char *as_user;      /* Impersonate-User, or NULL */
	const char *const *as_groups;    /* Impersonate-Group each, NULL-terminated, or NULL */
	size_t cert_len, key_len;
	bool insecure;            /* only when the kubeconfig says so */
	long connect_timeout_ms;  /* 0: KT_CONNECT_TIMEOUT_MS */
	long total_timeout_ms;    /* 0: none (a stream lasts as long as the trace) */
	int cancel_fd;            /* -1: none */
	/* A graceful stop (kt_post): the first byte on cancel_fd, or
	 * stop_wanted saying so, sends DELETE stop_url() on the same loop
	 * once stop_url knows the trace (NULL before); a second byte on
	 * cancel_fd aborts.  Without stop_url, cancel_fd aborts at once. */
	char *(*stop_url)(void *stop_ctx);
	bool (*stop_wanted)(void *stop_ctx);
	/* the DELETE's answer (code 0 and err: it failed on the way) */
	void (*stop_done)(void *stop_ctx, long code, const char *body, size_t len, const char *err);
	void *stop_ctx;
	/* called a few times a second while the transfer runs (progress) */
	void (*tick)(void *tick_ctx);
	void *tick_ctx;
	ndjson_line_fn on_line;   /* NULL: collect the 2xx body too */
	void *ctx;
	int verbosity;            /* -v: 6 the request and its status, 7 request
				     headers, 8 bodies and response headers */
	FILE *log;                /* where -v logs (stderr) */
};

struct kt_response {
	long code;                /* HTTP status, 0 before any answer */
	char content_type[96];
	struct buf body;          /* collected body (refusals, or everything
				     when on_line is NULL) */
	bool cancelled;
	bool stop_sent;           /* a graceful stop was asked for */
	size_t pending;           /* bytes of an unfinished line at the end */
};

void kt_response_release(struct kt_response *r);

/* 0 when the exchange completed (any HTTP status: see resp->code);
 * -ECANCELED when cancel_fd fired; -TG_EUPSTREAM with *ret_err for a
 * transport failure (the reason only: the caller names the gateway);
 * the callback's own negative code when it stopped the stream. */
int kt_post(const struct kt_request *rq, struct kt_response *resp, char **ret_err);

#endif
