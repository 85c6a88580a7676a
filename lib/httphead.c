// SPDX-License-Identifier: Apache-2.0
/* The HTTP/1.1 request head: see httphead.h for what is accepted; and the
 * response head the runner writes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/httphead.h"
#include "lib/httpstatus.h"
#include "lib/util.h"
#include "lib/banned.h"

void http_request_release(struct http_request *req)
{
	free(req->method);
	free(req->target);
	free(req->version);
	for (size_t i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	free(req->headers);
	free(req->body);
	*req = (struct http_request){ 0 };
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* RFC 9110 token characters, for methods and header names. */
static bool http_tchar(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static int head_fail(int code, const char *msg, int *ret_code, const char **ret_err)
{
	*ret_code = code;
	*ret_err = msg;
	return -EINVAL;
}

/* One line of the head, without its CRLF; NULs and bare CR/LF are refused. */
static int head_line(const char **cur, const char *end, const char **ret, size_t *ret_len)
{
	const char *p = *cur;

	for (const char *q = p; q + 1 < end; q++) {
		if (*q == '\r' && q[1] == '\n') {
			*ret = p;
			*ret_len = (size_t)(q - p);
			*cur = q + 2;
			return 0;
		}
		if (*q == '\0' || *q == '\r' || *q == '\n')
			return -EINVAL;
	}
	return -EINVAL;
}

static int parse_request_line(const char *l, size_t n, struct http_request *req, int *ret_code,
			      const char **ret_err)
{
	const char *sp1 = memchr(l, ' ', n), *sp2;

	if (!sp1 || sp1 == l)
		return head_fail(400, "request line is not METHOD TARGET VERSION", ret_code, ret_err);
	for (const char *p = l; p < sp1; p++)
		if (!http_tchar(*p))
			return head_fail(400, "request method is not a token", ret_code, ret_err);
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - l)))
		return head_fail(400, "request line is not METHOD TARGET VERSION", ret_code, ret_err);
	if (sp1[1] != '/')
		return head_fail(400, "request target is not an absolute path", ret_code, ret_err);
	for (const char *p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return head_fail(400, "request target has a character that is not allowed",
					 ret_code, ret_err);
	if ((size_t)(l + n - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return head_fail(505, "only HTTP/1.0 and HTTP/1.1 are served", ret_code, ret_err);
	req->method = strndup(l, (size_t)(sp1 - l));
	req->target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	req->version = strndup(sp2 + 1, 8);
	if (!req->method || !req->target || !req->version)
		return -ENOMEM;
	return 0;
}

static int parse_header(const char *l, size_t n, struct http_request *req, int *ret_code,
			const char **ret_err)
{
	const char *colon = memchr(l, ':', n), *v, *e = l + n;
	struct http_header *h;

	if (n && (l[0] == ' ' || l[0] == '\t'))
		return head_fail(400, "header line folding is not accepted", ret_code, ret_err);
	if (!colon || colon == l)
		return head_fail(400, "header line has no name", ret_code, ret_err);
	for (const char *p = l; p < colon; p++)
		if (!http_tchar(*p))
			return head_fail(400, "header name has a character that is not allowed",
					 ret_code, ret_err);
	v = colon + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *p = v; p < e; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return head_fail(400, "header value has a control character", ret_code, ret_err);
	h = &req->headers[req->nheaders];
	h->name = strndup(l, (size_t)(colon - l));
	h->value = strndup(v, (size_t)(e - v));
	if (!h->name || !h->value) {
		free(h->name);
		free(h->value);
		return -ENOMEM;
	}
	req->nheaders++;
	return 0;
}

static int head_finish(const struct http_head_limits *lim, struct http_request *req, int *ret_code,
		       const char **ret_err)
{
	const char *cl = NULL;
	bool te = false;
	uint64_t v;

	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (!strcasecmp(h->name, "Transfer-Encoding"))
			te = true;
		if (!strcasecmp(h->name, "Content-Length")) {
			/* Even equal duplicates: a proxy in front may have read
			 * another one (request smuggling). */
			if (cl)
				return head_fail(400, "Content-Length is given twice", ret_code, ret_err);
			cl = h->value;
		}
		if (!strcasecmp(h->name, "Expect")) {
			if (strcasecmp(h->value, "100-continue"))
				return head_fail(417, "Expect other than \"100-continue\" is not supported",
						 ret_code, ret_err);
			req->expect_continue = true;
		}
	}
	if (te && cl)
		return head_fail(400, "Content-Length together with Transfer-Encoding is not accepted",
				 ret_code, ret_err);
	if (te)
		return head_fail(501, "Transfer-Encoding in requests is not accepted (send Content-Length)",
				 ret_code, ret_err);
	if (!cl) {
		if (!strcmp(req->method, "POST") || !strcmp(req->method, "PUT") ||
		    !strcmp(req->method, "PATCH"))
			return head_fail(411, "Content-Length is required", ret_code, ret_err);
		req->content_length = 0;
		return 0;
	}
	if (cl[0] < '0' || cl[0] > '9' || strspn(cl, "0123456789") != strlen(cl) ||
	    parse_u64(cl, &v) < 0 || (cl[0] == '0' && cl[1]))
		return head_fail(400, "Content-Length is not a decimal number", ret_code, ret_err);
	if (v > lim->max_body_bytes)
		return head_fail(413, lim->body_too_large ? lim->body_too_large
							  : "request body is larger than the limit",
				 ret_code, ret_err);
	req->content_length = (size_t)v;
	return 0;
}

int http_parse_head(const char *head, size_t head_len, const struct http_head_limits *lim,
		    struct http_request *req, int *ret_code, const char **ret_err)
{
	const char *cur = head, *end = head + head_len, *l;
	size_t n;
	int r;

	*req = (struct http_request){ 0 };
	if (head_len > lim->max_head_bytes)
		return head_fail(431, lim->head_too_large ? lim->head_too_large
							  : "request head is larger than the limit",
				 ret_code, ret_err);
	if (head_len < 4 || memcmp(end - 4, "\r\n\r\n", 4))
		return head_fail(400, "request head does not end in an empty line", ret_code, ret_err);
	if (head_line(&cur, end, &l, &n) < 0)
		return head_fail(400, "request line has a bare CR, LF or NUL", ret_code, ret_err);
	r = parse_request_line(l, n, req, ret_code, ret_err);
	if (r < 0)
		goto fail;
	req->headers = calloc(lim->max_headers ? lim->max_headers : 1, sizeof(*req->headers));
	if (!req->headers) {
		r = -ENOMEM;
		goto fail;
	}
	for (;;) {
		if (head_line(&cur, end, &l, &n) < 0) {
			r = head_fail(400, "header line has a bare CR, LF or NUL", ret_code, ret_err);
			goto fail;
		}
		if (n == 0)
			break;
		if (req->nheaders >= lim->max_headers) {
			r = head_fail(431, lim->too_many_headers ? lim->too_many_headers
								 : "more headers than the limit",
				      ret_code, ret_err);
			goto fail;
		}
		r = parse_header(l, n, req, ret_code, ret_err);
		if (r < 0)
			goto fail;
	}
	if (cur != end) {
		r = head_fail(400, "request head has bytes after its end", ret_code, ret_err);
		goto fail;
	}
	r = head_finish(lim, req, ret_code, ret_err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	if (r == -ENOMEM) {
		*ret_code = 500;
		*ret_err = "out of memory";
	}
	http_request_release(req);
	return -EINVAL;
}

static bool head_is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

void http_head_peek(const char *head, size_t len, struct http_head_view *ret)
{
	const char *p = head, *end = head + len, *eol, *sp;

	*ret = (struct http_head_view){ 0 };
	if (!head || !len)
		return;
	eol = memchr(p, '\n', len);
	if (!eol)
		eol = end;
	sp = memchr(p, ' ', (size_t)(eol - p));
	ret->method = p;
	ret->method_len = (size_t)((sp ? sp : eol) - p);
	if (ret->method_len && p[ret->method_len - 1] == '\r' && !sp)
		ret->method_len--;
	if (sp) {
		const char *t = sp + 1, *tend = memchr(t, ' ', (size_t)(eol - t));

		if (!tend) {
			tend = eol;
			if (tend > t && tend[-1] == '\r')
				tend--;
		}
		ret->target = t;
		ret->target_len = (size_t)(tend - t);
	}
	/* header lines, up to the empty one */
	for (p = eol < end ? eol + 1 : end; p < end; p = eol + 1) {
		static const char ua[] = "user-agent:";
		size_t n;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (n >= sizeof(ua) - 1 && !strncasecmp(p, ua, sizeof(ua) - 1)) {
			const char *v = p + sizeof(ua) - 1, *ve = p + n;

			while (v < ve && head_is_space(*v))
				v++;
			while (ve > v && head_is_space(ve[-1]))
				ve--;
			ret->user_agent = v;
			ret->user_agent_len = (size_t)(ve - v);
			break;
		}
		if (eol == end)
			break;
	}
}

/* ---- the response head ---------------------------------------------------- */

/* type/subtype, then nothing or parameters of printable ASCII: never a
 * CR, LF or NUL, which would end the header line where its writer did
 * not mean it to. */
static bool content_type_valid(const char *t)
{
	const char *p = t;

	if (!t || strnlen(t, HTTP_MAX_CONTENT_TYPE + 1) > HTTP_MAX_CONTENT_TYPE)
		return false;
	while (http_tchar(*p))
		p++;
	if (p == t || *p++ != '/' || !http_tchar(*p))
		return false;
	while (http_tchar(*p))
		p++;
	if (*p && *p != ';' && *p != ' ')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

int http_response_head_add(struct buf *b, const struct http_response *h)
{
	char length[48] = "";

	if (h->code < 200 || h->code > 599 || h->code == 204 || h->code == 304 ||
	    !content_type_valid(h->content_type))
		return -EINVAL;
	if (!h->close_delimited)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n", h->content_length);
	/* one write: on failure b is as it was */
	return buf_printf(b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%sConnection: close\r\n\r\n", h->code,
			  http_reason_phrase(h->code), h->content_type, length,
			  h->cacheable ? "" : "Cache-Control: no-store\r\n");
}

int http_response_json_add(struct buf *b, int code, const char *json, size_t len)
{
	_cleanup_buf_ struct buf head = BUF_INIT(512);
	const struct http_response h = { .code = code, .content_type = "application/json",
					 .content_length = len + 1 };
	int r;

	if (len == SIZE_MAX)
		return -E2BIG;
	r = http_response_head_add(&head, &h);
	if (r < 0)
		return r;
	/* room for all of it first, so that the adds below cannot fail */
	if (head.len > SIZE_MAX - len - 1)
		return -E2BIG;
	r = buf_grow(b, head.len + len + 1);
	if (r < 0)
		return r;
	(void)buf_add(b, head.s, head.len);
	(void)buf_add(b, json, len);
	return buf_addc(b, '\n');
}
