// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the gateway's parsers of untrusted bytes:
 *  - a client's request: head (lib/httphead.h http_parse_head, held to
 *    HTTP by fuzz-lib-httphead.c), route (gateway/route.h) and the trace
 *    body (wire/trace-body.h);
 *  - a runner's stream: NDJSON line splitting (lib/ndjson.h), fed in
 *    pieces of varying size, each line read as JSON as the gateway does
 *    (an output record in the runner's shape, wire_output_shape, is
 *    relayed unparsed: jansson must read it the same);
 *  - the configuration file (gateway/config.h), which is the operator's
 *    but is parsed by the same kind of code.
 *
 * The first byte picks the mode: 'B' trace body, 'N' NDJSON, 'C' config;
 * anything else is an HTTP request (the whole input: head, then body).
 *
 * Properties checked beyond "no crash, no leak": a routed namespace is an
 * RFC 1123 label; a parsed body names a valid pod and bounded fields; the NDJSON splitter emits exactly
 * the lines a plain split of the whole stream gives, whatever the pieces,
 * and refuses exactly the lines longer than its limit; the audit record
 * of a refusal built from whatever a head seems to say is one bounded,
 * valid JSON line (check_refusal_record).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gateway/config.h"
#include "gateway/event.h"
#include "gateway/http.h"
#include "lib/ndjson.h"
#include "wire/output.h"
#include "gateway/route.h"
#include "wire/trace-body.h"
#include "lib/errors.h"
#include "tests/fuzz/fuzz-util.h"
#include "lang/ast.h"
#include "wire/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-gateway-http: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* ---- the trace body --------------------------------------------------------- */

static void check_body(const char *body, size_t len)
{
	struct trace_body b = { 0 };
	char *field = NULL, *err = NULL;
	char *copy = fuzz_dup_exact(body, len);
	int r;

	if (!copy)
		return;
	r = trace_body_decode(copy, len, &b, &field, &err);
	if (r == 0) {
		if (field || err)
			fail("body: accepted with a field or message", err);
		if (!b.target || (!b.selector && (!b.name || !wire_dns_subdomain(b.name))))
			fail("body: accepted without a valid pod name", b.name);
		if (!b.program || !b.program_len || b.program_len > TG_MAX_SOURCE_BYTES ||
		    b.program[b.program_len] != '\0')
			fail("body: program missing, unbounded or unterminated", NULL);
		if (b.has_duration && (b.duration < 0 || b.duration > TRACE_MAX_DURATION_S))
			fail("body: duration out of range", NULL);
		if (b.params) {
			size_t i;
			json_t *p;

			if (!json_is_array(b.params) || json_array_size(b.params) > TRACE_MAX_PARAMS)
				fail("body: params not a bounded array", NULL);
			json_array_foreach(b.params, i, p)
				if (!json_is_string(p) || json_string_length(p) > TRACE_MAX_PARAM_BYTES ||
				    strlen(json_string_value(p)) != json_string_length(p))
					fail("body: a param is not a bounded string without NUL", NULL);
		}
	} else {
		if (r != -EINVAL && r != -ENOMEM)
			fail("body: unexpected error code", tg_strerror(r));
		if (r == -EINVAL && (!field || !err))
			fail("body: refusal without a field and a message", NULL);
	}
	trace_body_release(&b);
	free(field);
	free(err);
	free(copy);
}

/* ---- the request ------------------------------------------------------------ */

static void check_route(const struct http_request *req)
{
	struct route rt;

	route_match(req->method, req->target, &rt);
	switch (rt.kind) {
	case ROUTE_TRACE_CREATE:
		if (strcmp(req->method, "POST"))
			fail("route: trace create without POST", req->method);
		if (!wire_dns_label(rt.ns, strlen(rt.ns), ROUTE_MAX_NAMESPACE))
			fail("route: namespace is not an RFC 1123 label", rt.ns);
		break;
	case ROUTE_TRACE_STOP:
		if (strcmp(req->method, "DELETE"))
			fail("route: trace stop without DELETE", req->method);
		if (!wire_dns_label(rt.ns, strlen(rt.ns), ROUTE_MAX_NAMESPACE))
			fail("route: namespace is not an RFC 1123 label", rt.ns);
		if (!wire_dns_label(rt.name, strlen(rt.name), ROUTE_MAX_NAME))
			fail("route: trace name is not an RFC 1123 label", rt.name);
		break;
	case ROUTE_TRACE_LIST:
	case ROUTE_TRACE_GET:
	case ROUTE_TRACE_LOG:
		if (strcmp(req->method, "GET"))
			fail("route: a read of traces without GET", req->method);
		if (!wire_dns_label(rt.ns, strlen(rt.ns), ROUTE_MAX_NAMESPACE))
			fail("route: namespace is not an RFC 1123 label", rt.ns);
		if (rt.kind != ROUTE_TRACE_LIST && !wire_dns_label(rt.name, strlen(rt.name), ROUTE_MAX_NAME))
			fail("route: trace name is not an RFC 1123 label", rt.name);
		if (rt.kind != ROUTE_TRACE_LOG && (rt.follow || rt.timestamps))
			fail("route: follow or timestamps outside a log", req->target);
		break;
	case ROUTE_BAD_REQUEST:
		if (!rt.error)
			fail("route: bad request without a message", req->target);
		break;
	case ROUTE_HEALTHZ:
	case ROUTE_VERSION:
	case ROUTE_NOT_FOUND:
	case ROUTE_METHOD_NOT_ALLOWED:
		break;
	default:
		fail("route: unknown kind", req->target);
	}
}

/*
 * The audit record of a refused request, from whatever its head seems to
 * say (http_head_peek, as the server does for a head that does not
 * parse): the record built from it is valid JSON, one line, within its field bounds and
 * GW_EVENT_MAX_REFUSAL_RECORD (chain fields aside).
 */
static void check_refusal_record(const char *in, size_t size)
{
	char *raw = fuzz_dup_exact(in, size), *uri, *ua, *verb, *text;
	struct http_head_view v;
	struct gw_event e = { .audit_id = "11111111-2222-4333-8444-555555555555",
			      .stage = "ResponseStarted", .source_ip = "127.0.0.1", .code = 400,
			      .message = "m", .decision = "forbid", .reason = "m",
			      .non_resource = true };
	json_t *ev, *back;

	if (!raw)
		return;
	/* (fuzz-lib-httphead checks the view stays inside raw) */
	http_head_peek(raw, size, &v);
	uri = gw_event_uri(v.target, v.target_len);
	ua = v.user_agent ? gw_event_text(v.user_agent, v.user_agent_len, GW_EVENT_MAX_USER_AGENT) : NULL;
	verb = gw_event_verb(v.method, v.method_len, false);
	if (!uri || !verb || (v.user_agent && !ua))
		fail("record: a field was not made", NULL);
	if (strlen(uri) > GW_EVENT_MAX_URI || strlen(verb) > GW_EVENT_MAX_VERB ||
	    (ua && strlen(ua) > GW_EVENT_MAX_USER_AGENT))
		fail("record: a field over its bound", uri);
	e.request_uri = uri;
	e.user_agent = ua;
	e.verb = verb;
	ev = gw_event_build(&e);
	if (!ev)
		fail("record: not built", uri);
	text = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strchr(text, '\n') || strlen(text) > GW_EVENT_MAX_REFUSAL_RECORD - 256)
		fail("record: not one bounded line", text);
	back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!back || !json_equal(back, ev))
		fail("record: does not read back the same", text);
	if (strcmp(json_string_value(json_object_get(back, "requestURI")), uri))
		fail("record: requestURI changed on the way", uri);
	json_decref(back);
	free(text);
	json_decref(ev);
	free(uri);
	free(ua);
	free(verb);
	free(raw);
}

/* What the parser accepts (tests/fuzz/fuzz-lib-httphead.c holds it to
 * HTTP) goes on to the router and, once whole, to the body parser. */
static void check_request(const char *in, size_t size, const struct http_head_limits *lim)
{
	const char *end = memmem(in, size, "\r\n\r\n", 4);
	size_t head_len = end ? (size_t)(end - in) + 4 : size;
	struct http_request req;
	const char *err = NULL;
	char *head = fuzz_dup_exact(in, head_len);
	int code = 0;

	if (!head)
		return;
	if (http_parse_head(head, head_len, lim, &req, &code, &err) < 0) {
		free(head);
		return;
	}
	check_route(&req);
	/* the body as the server would hand it over: once it is all there */
	if (req.content_length && size - head_len >= req.content_length)
		check_body(in + head_len, req.content_length);
	http_request_release(&req);
	free(head);
}

/* ---- NDJSON from runners ------------------------------------------------------- */

struct lines {
	const char *stream;     /* the whole input, for the expected lines */
	size_t len, pos;        /* where the next expected line starts */
	size_t max_line;
	size_t got;
};

/* The next line a plain split gives: [*s, *n) or false at the end. */
static bool expect_next(struct lines *l, const char **s, size_t *n)
{
	while (l->pos < l->len) {
		const char *p = l->stream + l->pos;
		const char *nl = memchr(p, '\n', l->len - l->pos);
		size_t raw;

		if (!nl)
			return false;
		raw = (size_t)(nl - p);
		l->pos += raw + 1;
		if (raw && p[raw - 1] == '\r')
			raw--;
		if (raw) {
			*s = p;
			*n = raw;
			return true;
		}
	}
	return false;
}

static int on_line(const char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;
	const char *want;
	size_t wn;
	json_t *rec;

	if (!expect_next(l, &want, &wn) || wn != len || memcmp(want, line, len))
		fail("ndjson: a line differs from a plain split of the stream", NULL);
	if (len > l->max_line)
		fail("ndjson: a line longer than the limit was emitted", NULL);
	l->got++;
	/* what the gateway does with it: an output record in the runner's
	 * shape is relayed unparsed, so jansson must read it the same */
	rec = json_loadb(line, len, 0, NULL);
	(void)json_string_value(json_object_get(rec, "type"));
	{
		struct wire_output_shape o;

		if (wire_output_shape(line, len, &o)) {
			json_t *text = json_loadb(o.text, o.text_len, JSON_DECODE_ANY, NULL);

			if (!json_is_object(rec) || !json_equal(text, json_object_get(rec, "text")) ||
			    json_object_size(rec) != (json_object_get(rec, "node") ? 5u : 4u))
				fail("ndjson: an output record relayed unparsed reads otherwise in jansson", NULL);
			json_decref(text);
		}
	}
	json_decref(rec);
	/* a handler may stop the feed */
	return line[0] == '!' ? -ECANCELED : 0;
}

static void check_ndjson(const char *in, size_t size)
{
	struct ndjson_splitter sp;
	struct lines l = { .stream = in, .len = size };
	size_t off = 0, k = 0, chunk, pending;
	bool overlong = false, stopped = false;
	int r = 0;

	if (size < 2)
		return;
	/* the limit and the piece sizes come from the first two bytes */
	l.max_line = (unsigned char)in[0] + 1;
	chunk = (unsigned char)in[1] % 13 + 1;
	l.stream = in + 2;
	l.len = size - 2;

	/* what a plain split says: the first line beyond the limit, or a '!' line */
	{
		struct lines ref = l;
		const char *p = ref.stream, *end = ref.stream + ref.len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t raw = nl ? (size_t)(nl - p) : (size_t)(end - p);
			size_t n = raw && nl && p[raw - 1] == '\r' ? raw - 1 : raw;

			if (raw > ref.max_line) {
				overlong = true;
				break;
			}
			if (nl && n && p[0] == '!') {
				stopped = true;
				break;
			}
			if (!nl)
				break;
			p = nl + 1;
		}
	}

	ndjson_init(&sp, l.max_line);
	while (off < l.len) {
		size_t n = chunk + (k++ % 3) * 5;
		char *piece;

		if (n > l.len - off)
			n = l.len - off;
		piece = fuzz_dup_exact(l.stream + off, n);
		if (!piece)
			break;
		r = ndjson_feed(&sp, piece, n, on_line, &l);
		free(piece);
		if (r < 0)
			break;
		off += n;
	}
	if (overlong && r != -TG_ELIMIT)
		fail("ndjson: a line beyond the limit was not refused", NULL);
	if (stopped && !overlong && r != -ECANCELED)
		fail("ndjson: the handler's error did not stop the feed", NULL);
	if (!overlong && !stopped) {
		const char *s;
		size_t n, tail;

		if (r != 0)
			fail("ndjson: a stream within the limit was refused", tg_strerror(r));
		if (expect_next(&l, &s, &n))
			fail("ndjson: a line was not emitted", NULL);
		pending = ndjson_pending(&sp);
		tail = l.len - l.pos;
		if (pending != tail)
			fail("ndjson: pending bytes differ from the unterminated tail", NULL);
	}
	ndjson_release(&sp);
}

/* ---- the configuration file ---------------------------------------------------- */

static void check_config(const char *in, size_t size)
{
	struct gw_config *cfg = NULL;
	char *err = NULL;
	char *copy = fuzz_dup_exact(in, size);
	int r;

	if (!copy)
		return;
	r = gw_config_parse(copy, size, "/fuzz/etc", &cfg, &err);
	if (r == 0) {
		if (!cfg || err)
			fail("config: success without a config, or with a message", err);
		if (!cfg->audiences || !cfg->audiences[0])
			fail("config: accepted without an audience", NULL);
		for (size_t i = 0; i < cfg->nrunners; i++)
			if (gw_config_runner(cfg, cfg->runners[i].node) == NULL)
				fail("config: a runner cannot be found by its node", cfg->runners[i].node);
	} else if (r != -ENOMEM && !err) {
		fail("config: refusal without a message", tg_strerror(r));
	}
	gw_config_free(cfg);
	free(err);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct gw_limits gl;
	struct http_head_limits lim, tight;

	if (size == 0)
		return 0;
	switch (in[0]) {
	case 'B':
		check_body(in + 1, size - 1);
		return 0;
	case 'N':
		check_ndjson(in + 1, size - 1);
		return 0;
	case 'C':
		check_config(in + 1, size - 1);
		return 0;
	}
	gw_limits_default(&gl);
	lim = (struct http_head_limits){ .max_body_bytes = gl.max_body_bytes,
					 .max_headers = gl.max_headers,
					 .max_head_bytes = gl.max_header_bytes };
	check_request(in, size, &lim);
	check_refusal_record(in, size);
	/* the same with limits small enough for inputs to reach */
	tight = lim;
	tight.max_headers = 3;
	tight.max_head_bytes = 200;
	tight.max_body_bytes = 100;
	check_request(in, size, &tight);
	return 0;
}
