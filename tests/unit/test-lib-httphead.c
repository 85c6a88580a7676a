// SPDX-License-Identifier: Apache-2.0
/* lib/httphead: the one HTTP/1.1 request-head parser of the gateway and
 * the runner; each refusal's code and that it names its reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_peek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
