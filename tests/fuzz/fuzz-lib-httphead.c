// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the one HTTP/1.1 request-head parser
 * (lib/httphead.h), which the privileged runner and the gateway both read
 * their requests with.  The input up to its first empty line is the head,
 * parsed with the runner's limits and again with limits small enough for
 * inputs to reach (the first byte sets them).
 *
 * Properties checked beyond "no crash, no leak": an accepted head was
 * CRLF-only (no bare CR or LF, no NUL), has no folded line, and holds only
 * what the limits and HTTP allow (token method, absolute target of
 * printable ASCII without '#', HTTP/1.x, token header names, values
 * without control characters, no Transfer-Encoding, at most one
 * Content-Length, a plain decimal within the body limit and equal to
 * content_length); written back out it parses to the same request; every
 * refusal names a code of the header's list and a message, and leaves
 * the request empty; http_head_peek stays inside the bytes it is given.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/httphead.h"
#include "tests/fuzz/fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-lib-httphead: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void check_raw(const char *head, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!head[i])
			fail("accepted: a NUL in the head", NULL);
		if (head[i] == '\r' && (i + 1 == len || head[i + 1] != '\n'))
			fail("accepted: a bare CR", NULL);
		if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r'))
			fail("accepted: a bare LF", NULL);
		if (head[i] == '\n' && i + 1 < len && (head[i + 1] == ' ' || head[i + 1] == '\t'))
			fail("accepted: a folded line", NULL);
	}
}

static void check_fields(const struct http_request *req, const struct http_head_limits *lim)
{
	const char *cl = NULL;

	if (!req->method || !*req->method || !req->target || req->target[0] != '/' || !req->version ||
	    (strcmp(req->version, "HTTP/1.1") && strcmp(req->version, "HTTP/1.0")))
		fail("accepted: a malformed request line", NULL);
	for (const char *p = req->method; *p; p++)
		if (!tchar(*p))
			fail("accepted: method is not a token", req->method);
	for (const char *p = req->target; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			fail("accepted: target has a character HTTP does not allow", req->target);
	if (req->nheaders > lim->max_headers)
		fail("accepted: more headers than the limit", NULL);
	if (req->body || req->body_len || req->peer[0])
		fail("accepted: the parser filled in the server's fields", NULL);
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (!h->name[0])
			fail("accepted: an empty header name", NULL);
		for (const char *p = h->name; *p; p++)
			if (!tchar(*p))
				fail("accepted: header name is not a token", h->name);
		for (const char *p = h->value; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
				fail("accepted: header value has a control character", h->name);
		if (h->value[0] == ' ' || h->value[0] == '\t' ||
		    (h->value[0] && (h->value[strlen(h->value) - 1] == ' ' ||
				     h->value[strlen(h->value) - 1] == '\t')))
			fail("accepted: header value not trimmed", h->name);
		if (!strcasecmp(h->name, "Transfer-Encoding"))
			fail("accepted: Transfer-Encoding", NULL);
		if (!strcasecmp(h->name, "Content-Length")) {
			if (cl)
				fail("accepted: two Content-Length", NULL);
			cl = h->value;
		}
	}
	if (req->content_length > lim->max_body_bytes)
		fail("accepted: Content-Length beyond the body limit", NULL);
	if (!cl && req->content_length)
		fail("accepted: a body length without Content-Length", NULL);
	if (!cl && (!strcmp(req->method, "POST") || !strcmp(req->method, "PUT") ||
		    !strcmp(req->method, "PATCH")))
		fail("accepted: a POST, PUT or PATCH without Content-Length", NULL);
	if (cl) {
		char want[32];

		snprintf(want, sizeof(want), "%zu", req->content_length);
		if (strcmp(cl, want))
			fail("accepted: Content-Length not a plain decimal of content_length", cl);
	}
}

/* The request written back out parses to the same. */
static void check_round_trip(const struct http_request *req, const struct http_head_limits *lim)
{
	struct http_request again;
	const char *err = NULL;
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	fprintf(f, "%s %s %s\r\n", req->method, req->target, req->version);
	for (size_t i = 0; i < req->nheaders; i++)
		fprintf(f, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
	fputs("\r\n", f);
	if (fclose(f) != 0) {
		free(text);
		return;
	}
	if (http_parse_head(text, len, lim, &again, &code, &err) < 0) {
		if (code == 431 || code == 500)   /* ": " may make it longer than the input */
			goto out;
		fail("round trip: refused", err);
	}
	if (strcmp(again.method, req->method) || strcmp(again.target, req->target) ||
	    strcmp(again.version, req->version) || again.nheaders != req->nheaders ||
	    again.content_length != req->content_length || again.expect_continue != req->expect_continue)
		fail("round trip: a different request", text);
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcmp(again.headers[i].name, req->headers[i].name) ||
		    strcmp(again.headers[i].value, req->headers[i].value))
			fail("round trip: a different header", req->headers[i].name);
	http_request_release(&again);
out:
	free(text);
}

static void check_head(const char *in, size_t size, const struct http_head_limits *lim)
{
	const char *end = memmem(in, size, "\r\n\r\n", 4);
	size_t head_len = end ? (size_t)(end - in) + 4 : size;
	char *head = fuzz_dup_exact(in, head_len);
	struct http_request req;
	const char *err = NULL;
	int code = 0, r;

	if (!head)
		return;
	r = http_parse_head(head, head_len, lim, &req, &code, &err);
	if (r < 0) {
		if (r != -EINVAL)
			fail("refused: an error other than -EINVAL", NULL);
		if (!err || !*err)
			fail("refused: no message", NULL);
		if (code != 400 && code != 411 && code != 413 && code != 417 && code != 431 &&
		    code != 500 && code != 501 && code != 505)
			fail("refused: an HTTP code not in the header's list", err);
		if (req.method || req.target || req.version || req.headers || req.nheaders)
			fail("refused: the request left filled in", err);
		free(head);
		return;
	}
	if (head_len > lim->max_head_bytes)
		fail("accepted: a head over the limit", NULL);
	check_raw(head, head_len);
	check_fields(&req, lim);
	check_round_trip(&req, lim);
	http_request_release(&req);
	free(head);
}

static void check_peek(const char *in, size_t size)
{
	char *raw = fuzz_dup_exact(in, size);
	struct http_head_view v;

	if (!raw)
		return;
	http_head_peek(raw, size, &v);
	if ((v.method && (v.method < raw || v.method + v.method_len > raw + size)) ||
	    (v.target && (v.target < raw || v.target + v.target_len > raw + size)) ||
	    (v.user_agent && (v.user_agent < raw || v.user_agent + v.user_agent_len > raw + size)))
		fail("peek: a slice outside the head", NULL);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* runner/cmd-serve.c's */
	static const struct http_head_limits runner = {
		.max_head_bytes = 16384, .max_headers = 64, .max_body_bytes = 1 << 20,
		.head_too_large = "request head larger than 16384 bytes",
		.too_many_headers = "too many headers", .body_too_large = "body larger than 1 MiB",
	};
	struct http_head_limits tight = { 0 };

	if (size == 0)
		return 0;
	check_head((const char *)data, size, &runner);
	check_peek((const char *)data, size);
	/* 0..7 headers, a head of up to 256 bytes, a body of up to 31 */
	tight.max_headers = data[0] & 7;
	tight.max_head_bytes = 32 + (data[0] & 0xe0);
	tight.max_body_bytes = data[0] & 31;
	check_head((const char *)data + 1, size - 1, &tight);
	return 0;
}
