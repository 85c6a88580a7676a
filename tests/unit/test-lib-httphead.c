// SPDX-License-Identifier: Apache-2.0
/* lib/httphead: the one HTTP/1.1 request-head parser of the gateway and
 * the runner; each refusal's code and that it names its reason.  And the
 * runner's one response-head writer: the exact bytes of each shape the
 * runner sends, and that nothing is written for a head that is not one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/httphead.h"

static const struct http_head_limits lim = {
	.max_body_bytes = 1024, .max_headers = 4, .max_head_bytes = 512,
	.body_too_large = "body over maxBodyBytes",
};

static int head(const char *s, struct http_request *req, int *code, const char **err)
{
	return http_parse_head(s, strlen(s), &lim, req, code, err);
}

/* Refused with code want, and a message that has why in it. */
#define BAD(text, want, why)                                                      \
	do {                                                                      \
		code = 0;                                                         \
		err = NULL;                                                       \
		assert_int_equal(head(text, &req, &code, &err), -EINVAL);         \
		if (code != (want))                                               \
			fail_msg("%s: code %d (%s), wanted %d", #text, code, err, want); \
		assert_non_null(err);                                             \
		if (!strstr(err, why))                                            \
			fail_msg("%s: message \"%s\" does not say \"%s\"", #text, err, why); \
		assert_null(req.method);                                          \
		assert_null(req.headers);                                         \
	} while (0)

static void test_accepted(void **state)
{
	_cleanup_(http_request_release) struct http_request req = { 0 };
	const char *err = NULL;
	int code = 0;

	assert_int_equal(head("POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
			      "authorization:   Bearer t  \r\n\r\n", &req, &code, &err), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.target, "/x?y=1");
	assert_string_equal(req.version, "HTTP/1.1");
	assert_int_equal(req.nheaders, 3);
	assert_int_equal(req.content_length, 12);
	assert_string_equal(http_request_header(&req, "Authorization"), "Bearer t");
	assert_string_equal(http_request_header(&req, "content-length"), "12");
	assert_null(http_request_header(&req, "X"));
	assert_false(req.expect_continue);
	http_request_release(&req);
	assert_null(req.method);
	http_request_release(&req);   /* twice is fine */

	assert_int_equal(head("GET /healthz HTTP/1.0\r\n\r\n", &req, &code, &err), 0);
	assert_int_equal(req.content_length, 0);
	assert_int_equal(req.nheaders, 0);
	http_request_release(&req);

	/* what the runner gets from the gateway (curl) */
	assert_int_equal(head("POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:9443\r\nAccept: */*\r\n"
			      "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n",
			      &req, &code, &err), 0);
	assert_int_equal(req.content_length, 0);
	http_request_release(&req);
	assert_int_equal(head("DELETE /v1/detached/t-1 HTTP/1.1\r\n\r\n", &req, &code, &err), 0);
	assert_string_equal(req.method, "DELETE");
	http_request_release(&req);
	assert_int_equal(head("GET /v1/probes?pattern=tracepoint:sched:*&verbose=1 HTTP/1.1\r\n\r\n",
			      &req, &code, &err), 0);
	assert_string_equal(req.target, "/v1/probes?pattern=tracepoint:sched:*&verbose=1");
	http_request_release(&req);

	assert_int_equal(head("POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n",
			      &req, &code, &err), 0);
	assert_true(req.expect_continue);
	http_request_release(&req);
	/* a value keeps inner spaces and tabs */
	assert_int_equal(head("GET / HTTP/1.1\r\nA:\ta \t b\t\r\nB:\r\n\r\n", &req, &code, &err), 0);
	assert_string_equal(http_request_header(&req, "a"), "a \t b");
	assert_string_equal(http_request_header(&req, "b"), "");
	http_request_release(&req);
	/* exactly the limits */
	assert_int_equal(head("POST /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 1024\r\n\r\n",
			      &req, &code, &err), 0);
	assert_int_equal(req.content_length, 1024);
}

static void test_request_line(void **state)
{
	struct http_request req = { 0 };
	const char *err = NULL;
	int code = 0;

	BAD("GET /x HTTP/2.0\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1");
	BAD("GET /x HTTP/1.10\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1");
	BAD("GET /x http/1.1\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1");
	BAD("GET x HTTP/1.1\r\n\r\n", 400, "absolute path");
	BAD("GET * HTTP/1.1\r\n\r\n", 400, "absolute path");
	BAD("GET /x\r\n\r\n", 400, "METHOD TARGET VERSION");
	BAD("GET  /x HTTP/1.1\r\n\r\n", 400, "METHOD TARGET VERSION");
	BAD("GET /x  HTTP/1.1\r\n\r\n", 400, "METHOD TARGET VERSION");
	BAD("GET /x y HTTP/1.1\r\n\r\n", 400, "METHOD TARGET VERSION");
	BAD(" GET /x HTTP/1.1\r\n\r\n", 400, "METHOD TARGET VERSION");
	BAD("G(T /x HTTP/1.1\r\n\r\n", 400, "method is not a token");
	/* control bytes, DEL, non-ASCII and '#' in the target */
	BAD("GET /x\ty HTTP/1.1\r\n\r\n", 400, "target has a character");
	BAD("GET /x\x01y HTTP/1.1\r\n\r\n", 400, "target has a character");
	BAD("GET /x\x7fy HTTP/1.1\r\n\r\n", 400, "target has a character");
	BAD("GET /x\xc3\xa9 HTTP/1.1\r\n\r\n", 400, "target has a character");
	BAD("GET /x#y HTTP/1.1\r\n\r\n", 400, "target has a character");
	/* line ends: bare LF, bare CR */
	BAD("GET /x HTTP/1.1\nA: x\r\n\r\n", 400, "bare CR, LF or NUL");
	BAD("GET /x HTTP/1.1\rA: x\r\n\r\n", 400, "bare CR, LF or NUL");
	BAD("GET /x HTTP/1.1\n\n", 400, "does not end in an empty line");
	BAD("GET /x HTTP/1.1\r\n\n\r\n\r\n", 400, "bare CR, LF or NUL");
	/* NUL inside the head */
	code = 0;
	assert_int_equal(http_parse_head("GET /\0x HTTP/1.1\r\n\r\n", 20, &lim, &req, &code, &err), -EINVAL);
	assert_int_equal(code, 400);
	assert_non_null(strstr(err, "NUL"));
}

static void test_headers(void **state)
{
	struct http_request req = { 0 };
	const char *err = NULL;
	int code = 0;

	BAD("GET /x HTTP/1.1\r\n folded: x\r\n\r\n", 400, "folding");
	BAD("GET /x HTTP/1.1\r\nA: x\r\n\ty\r\n\r\n", 400, "folding");
	BAD("GET /x HTTP/1.1\r\nA: x\r\n y\r\n\r\n", 400, "folding");
	BAD("GET /x HTTP/1.1\r\nno colon\r\n\r\n", 400, "no name");
	BAD("GET /x HTTP/1.1\r\n: x\r\n\r\n", 400, "no name");
	BAD("GET /x HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "header name");
	BAD("GET /x HTTP/1.1\r\nName : x\r\n\r\n", 400, "header name");
	BAD("GET /x HTTP/1.1\r\nA: x\ny: z\r\n\r\n", 400, "bare CR, LF or NUL");
	BAD("GET /x HTTP/1.1\r\nA: x\ry: z\r\n\r\n", 400, "bare CR, LF or NUL");
	BAD("GET /x HTTP/1.1\r\nA: \x01\r\n\r\n", 400, "control character");
	BAD("GET /x HTTP/1.1\r\nA: a\x7f\r\n\r\n", 400, "control character");
	BAD("GET /x HTTP/1.1\r\n\r\n\r\n", 400, "bytes after its end");
	BAD("POST /x HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\n", 417, "Expect");
	/* the limits, with the message the caller gave or a plain one */
	BAD("GET /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431, "more headers than the limit");
	{
		char big[600];

		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /", 5);
		memcpy(big + sizeof(big) - 14, " HTTP/1.1\r\n\r\n", 14);
		code = 0;
		assert_int_equal(http_parse_head(big, sizeof(big), &lim, &req, &code, &err), -EINVAL);
		assert_int_equal(code, 431);
		assert_string_equal(err, "request head is larger than the limit");
	}
}

static void test_body_length(void **state)
{
	struct http_request req = { 0 };
	const char *err = NULL;
	int code = 0;

	BAD("POST /x HTTP/1.1\r\n\r\n", 411, "Content-Length is required");
	BAD("PUT /x HTTP/1.1\r\n\r\n", 411, "Content-Length is required");
	BAD("PATCH /x HTTP/1.1\r\n\r\n", 411, "Content-Length is required");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413, "body over maxBodyBytes");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "given twice");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", 400, "given twice");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 010\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "not a decimal number");
	BAD("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Transfer-Encoding");
	BAD("GET /x HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 501, "Transfer-Encoding");
	/* both: which one a proxy in front believed is unknown */
	BAD("POST /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
	    "Content-Length together with Transfer-Encoding");
	BAD("POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400,
	    "Content-Length together with Transfer-Encoding");
}

static void test_peek(void **state)
{
	struct http_head_view v;
	const char *h = "POST /a b\r\nX: 1\r\nuser-agent:  curl/8 \r\n\r\n";

	http_head_peek(h, strlen(h), &v);
	assert_int_equal(v.method_len, 4);
	assert_memory_equal(v.method, "POST", 4);
	assert_int_equal(v.target_len, 2);
	assert_memory_equal(v.target, "/a", 2);
	assert_int_equal(v.user_agent_len, 6);
	assert_memory_equal(v.user_agent, "curl/8", 6);
	http_head_peek(NULL, 0, &v);
	assert_null(v.method);
}

/* The head of h, appended to what b holds, is want (b's bytes whole). */
#define HEAD(h, want)                                                             \
	do {                                                                      \
		_cleanup_buf_ struct buf b_ = BUF_INIT(0);                        \
		assert_int_equal(buf_adds(&b_, "before|"), 0);                    \
		assert_int_equal(http_response_head_add(&b_, (h)), 0);            \
		assert_int_equal(b_.len, strlen("before|" want));                 \
		assert_string_equal(b_.s, "before|" want);                        \
	} while (0)

/* Every shape the runner sends, byte for byte. */
static void test_response_shapes(void **state)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);

	/* a listing of probes (cmd-serve.c respond_probes) */
	HEAD((&(struct http_response){ .code = 200, .content_type = "text/plain", .content_length = 1234 }),
	     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n"
	     "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
	/* a session's stream and a detached log (session.c, detached.c) */
	HEAD((&(struct http_response){ .code = 200, .content_type = "application/x-ndjson", .close_delimited = true,
				       .content_length = 99 }),
	     "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
	     "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
	/* /healthz (cmd-serve.c) */
	HEAD((&(struct http_response){ .code = 200, .content_type = "text/plain", .content_length = 3,
				       .cacheable = true }),
	     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
	/* a code without a phrase of its own, a parameter */
	HEAD((&(struct http_response){ .code = 599, .content_type = "text/plain; charset=utf-8" }),
	     "HTTP/1.1 599 Unknown\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n"
	     "Cache-Control: no-store\r\nConnection: close\r\n\r\n");

	/* a JSON answer: the sessions, an end record, a Status, a detached
	 * session (cmd-serve.c, session.c, detached.c) */
	assert_int_equal(http_response_json_add(&b, 201, "{\"a\":1}", 7), 0);
	assert_string_equal(b.s, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 8\r\n"
				 "Cache-Control: no-store\r\nConnection: close\r\n\r\n{\"a\":1}\n");
	/* the body as given, NULs and all: its length is len */
	buf_clear(&b);
	assert_int_equal(http_response_json_add(&b, 404, "\"x\0y\"", 5), 0);
	assert_int_equal(b.len, strlen("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
				       "Content-Length: 6\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n") + 6);
	assert_memory_equal(b.s + b.len - 6, "\"x\0y\"\n", 6);
}

/* Refused with -EINVAL, and b ("kept") exactly as it was. */
static void no_head(struct buf *b, int code, const char *type)
{
	if (http_response_head_add(b, &(struct http_response){ .code = code, .content_type = type }) != -EINVAL)
		fail_msg("code %d, content type \"%s\": not refused", code, type ? type : "(null)");
	assert_string_equal(b->s, "kept");
	assert_int_equal(b->len, 4);
}

static void test_response_refused(void **state)
{
	static const char *const bad_types[] = {
		/* one that would write a header of its own, or end the head */
		"text/plain\r\nSet-Cookie: a=b", "text/plain; a=b\r\n\r\n<html>", "text/plain\nX: y",
		"text/plain; a=\rb", "text/plain; a=\tb", "text/pl\x7f", "text/pl\xc3\xa4in",
		/* not type/subtype */
		NULL, "", "text", "/plain", "text/", " text/plain", "text/plain,x", "te xt/plain",
	};
	/* codes that carry no body, or are no final answer */
	static const int bad_codes[] = { 100, 199, 204, 304, 600, -1 };
	_cleanup_buf_ struct buf b = BUF_INIT(0), small = BUF_INIT(64);
	char long_type[HTTP_MAX_CONTENT_TYPE + 2];

	assert_int_equal(buf_adds(&b, "kept"), 0);
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++)
		no_head(&b, 200, bad_types[i]);
	for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++)
		no_head(&b, bad_codes[i], "text/plain");
	memset(long_type, 'a', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 1] = '\0';
	long_type[4] = '/';
	no_head(&b, 200, long_type);
	long_type[HTTP_MAX_CONTENT_TYPE] = '\0';   /* at the limit: written */
	{
		_cleanup_buf_ struct buf at = BUF_INIT(0);

		assert_int_equal(http_response_head_add(&at, &(struct http_response){ .code = 200,
										     .content_type = long_type }), 0);
		assert_non_null(strstr(at.s, long_type));
	}
	/* past the buffer's maximum */
	assert_int_equal(http_response_head_add(&small, &(struct http_response){ .code = 200,
										   .content_type = "text/plain" }), -E2BIG);
	assert_int_equal(small.len, 0);
	/* the JSON answer: refused codes, a buffer too small for all of it */
	assert_int_equal(http_response_json_add(&b, 204, "{}", 2), -EINVAL);
	assert_string_equal(b.s, "kept");
	buf_clear(&small);
	assert_int_equal(buf_adds(&small, "kept"), 0);
	assert_int_equal(http_response_json_add(&small, 200, "{}", 2), -E2BIG);
	assert_string_equal(small.s, "kept");
	assert_int_equal(small.len, 4);
	assert_int_equal(http_response_json_add(&small, 200, "{}", SIZE_MAX), -E2BIG);
	assert_string_equal(small.s, "kept");
	/* exactly as long as the maximum: all of it */
	{
		_cleanup_buf_ struct buf exact = BUF_INIT(strlen("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
								 "Content-Length: 3\r\nCache-Control: no-store\r\n"
								 "Connection: close\r\n\r\n{}\n"));

		assert_int_equal(http_response_json_add(&exact, 200, "{}", 2), 0);
		assert_int_equal(exact.len, exact.max);
		exact.max--;
		buf_clear(&exact);
		assert_int_equal(http_response_json_add(&exact, 200, "{}", 2), -E2BIG);
		assert_int_equal(exact.len, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_response_shapes),
		cmocka_unit_test(test_response_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
