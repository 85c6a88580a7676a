/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP/1.1 request head, one parser for every server (issue 12): the
 * gateway's front (gateway/http.c) and the privileged runner
 * (runner/cmd-serve.c) read requests with it; tests/unit/test-lib-httphead.c
 * and tests/fuzz/fuzz-lib-httphead.c hold it to what follows.  And the
 * response head, one writer for the runner's answers (at the end).
 *
 * It is strict, because one of its callers runs as root: a request line of
 * exactly METHOD SP TARGET SP HTTP/1.x with a token method and an absolute
 * path of printable ASCII; header lines ended by CRLF (a bare CR, LF or NUL
 * anywhere is refused), token names, no folded lines (obs-fold), no
 * control characters in values; one Content-Length at most, a plain
 * decimal; no Transfer-Encoding (501), and never both (400: how requests
 * are smuggled past a proxy).  Every refusal says why, in a message that
 * can go into the Status the client gets.
 */
#ifndef TG_LIB_HTTPHEAD_H
#define TG_LIB_HTTPHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include "lib/buf.h"

struct http_head_limits {
	size_t max_head_bytes;     /* request line, headers and the empty line: 431 beyond */
	unsigned max_headers;      /* 431 beyond */
	size_t max_body_bytes;     /* a Content-Length beyond: 413 */
	/* The refusals' messages for these three, naming each limit as the
	 * server's configuration does (static text; NULL: a plain one). */
	const char *head_too_large, *too_many_headers, *body_too_large;
};

struct http_header {
	char *name;
	char *value;
};

struct http_request {
	char *method;
	char *target;              /* as sent: path and query */
	char *version;             /* "HTTP/1.1" or "HTTP/1.0" */
	struct http_header *headers;
	size_t nheaders;
	size_t content_length;     /* 0 without Content-Length */
	bool expect_continue;      /* "Expect: 100-continue" was sent */
	/* The server's to fill in, never the parser's: */
	char *body;                /* NUL-terminated, body_len bytes */
	size_t body_len;
	char peer[INET6_ADDRSTRLEN];   /* client address, no port */
};

/* Frees what req holds and zeroes it; a zeroed req is fine (and so is
 * _cleanup_(http_request_release) on a local). */
void http_request_release(struct http_request *req);
/* The first header with this name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/*
 * Parses a request head: head_len bytes that end in "\r\n\r\n" (no NUL
 * needed).  On failure returns -EINVAL with req zeroed, *ret_code the HTTP
 * code to answer (400, 411 a POST, PUT or PATCH without Content-Length,
 * 413, 417 an Expect other than 100-continue, 431, 500 out of memory, 501
 * Transfer-Encoding, 505 not HTTP/1.x) and *ret_err static text.
 */
int http_parse_head(const char *head, size_t head_len, const struct http_head_limits *lim,
		    struct http_request *req, int *ret_code, const char **ret_err);

/*
 * What a raw request head seems to say, for the audit record of a
 * refusal: slices of head (never past len), not validated, any of them
 * may be empty.  The method is the first line up to its first space, the
 * target what follows up to the next space, the user agent the value of
 * the first "User-Agent:" line before the empty line.
 */
struct http_head_view {
	const char *method, *target, *user_agent;
	size_t method_len, target_len, user_agent_len;
};
void http_head_peek(const char *head, size_t len, struct http_head_view *ret);

/*
 * A response head as the runner writes every one (the gateway's front
 * writes its own, with keep-alive and chunked streams: gateway/http.c):
 *
 *   HTTP/1.1 CODE REASON\r\n          (REASON: http_reason_phrase)
 *   Content-Type: TYPE\r\n
 *   Content-Length: N\r\n             (not when close_delimited)
 *   Cache-Control: no-store\r\n       (not when cacheable)
 *   Connection: close\r\n
 *   \r\n
 *
 * Every answer ends its connection, so a stream needs no chunks: its body
 * is what comes until the close (RFC 9112 section 6.3, the last rule).
 */
struct http_response {
	int code;                  /* 200 to 599, but 204 and 304 (a body follows) */
	const char *content_type;  /* type/subtype (tokens), then at most "; parameters"
				    * of printable ASCII; 128 bytes at most */
	size_t content_length;     /* the body's bytes; not with close_delimited */
	bool close_delimited;      /* a stream: no Content-Length */
	bool cacheable;            /* no "Cache-Control: no-store": a fixed answer (/healthz) */
};

/* The longest content type http_response_head_add writes. */
#define HTTP_MAX_CONTENT_TYPE 128

/*
 * Appends the head of h to b.  -EINVAL for a code outside the range or a
 * content type that is not one (a CR or LF in it would let whoever chose
 * it write headers of their own: nothing is written then); -E2BIG at b's
 * maximum, -ENOMEM.  On failure b is as it was.
 */
int http_response_head_add(struct buf *b, const struct http_response *h);
/*
 * Appends a whole application/json answer: the head (no-store, a
 * Content-Length of len + 1), the len bytes of json, a newline.  The
 * runner's answers all end their JSON with a newline, as its stream's
 * records do.  Errors as http_response_head_add's; b is as it was.
 */
int http_response_json_add(struct buf *b, int code, const char *json, size_t len);

#endif
