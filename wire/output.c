// SPDX-License-Identifier: Apache-2.0
/*
 * The output record (wire/output.h): the runner's writer, the gateway's
 * shape and splice, the gateway's strict reader and the plugin's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/output.h"
#include "lib/banned.h"

/* node and pod: a node's name, namespace/name; generous, for the shape
 * and the readers to agree on one bound (the shape counts escaped bytes,
 * never fewer than the text's) */
#define WIRE_OUTPUT_MAX_NAME 4096

/* --- the runner's writer ---------------------------------------------------------- */

static bool event_type_ok(const char *type, size_t len)
{
	return len >= 1 && len <= WIRE_OUTPUT_MAX_TYPE && strspn(type, "abcdefghijklmnopqrstuvwxyz_") == len;
}

static int dump_to_buf(const char *s, size_t len, void *ud)
{
	return buf_add(ud, s, len) < 0 ? -1 : 0;
}

int wire_output_event_add(struct buf *events, bool first, const char *type, size_t len, const json_t *data)
{
	int r;

	if (!type || !event_type_ok(type, strlen(type)))
		return -EINVAL;
	r = buf_printf(events, "%s{\"type\":\"%s\",\"len\":%zu", first ? "" : ",", type, len);
	if (r >= 0 && data) {
		r = buf_adds(events, ",\"data\":");
		if (r >= 0 && json_dump_callback(data, dump_to_buf, events,
						 JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0)
			r = -ENOMEM;
	}
	return r < 0 ? r : buf_addc(events, '}');
}

int wire_output_write(struct buf *b, const char *node, const char *pod, uint32_t lines, const char *text,
		      size_t text_len, const char *events, size_t events_len)
{
	int r = buf_adds(b, "{\"type\":\"output\",");

	if (r >= 0 && node) {
		r = buf_adds(b, "\"node\":\"");
		if (r >= 0)
			r = buf_add_json_escaped(b, node, strlen(node));
		if (r >= 0)
			r = buf_adds(b, "\",");
	}
	if (r >= 0)
		r = buf_adds(b, "\"pod\":\"");
	if (r >= 0)
		r = buf_add_json_escaped(b, pod, strlen(pod));
	if (r >= 0)
		r = buf_printf(b, "\",\"lines\":%u,\"text\":\"", lines);
	if (r >= 0)
		r = buf_add(b, text, text_len);
	if (r >= 0)
		r = buf_addc(b, '"');
	if (r >= 0 && events) {
		r = buf_adds(b, ",\"events\":[");
		if (r >= 0)
			r = buf_add(b, events, events_len);
		if (r >= 0)
			r = buf_addc(b, ']');
	}
	return r < 0 ? r : buf_addc(b, '}');
}

/* --- the gateway's fast path ------------------------------------------------------ */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* p at an opening quote: past the closing one, or NULL when the string is
 * not one the relay passes on as it is (wire/output.h). */
static const char *json_string_end(const char *p, const char *end)
{
	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (end - p < 2)
				return NULL;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				/* \u0001-\u00ff only: a surrogate escape alone is not
				 * a string jansson takes, nor \u0000 (without
				 * JSON_ALLOW_NUL, which no reader here sets) */
				if (end - p < 6 || p[2] != '0' || p[3] != '0' || !is_hex(p[4]) || !is_hex(p[5]) ||
				    (p[4] == '0' && p[5] == '0'))
					return NULL;
				p += 6;
				continue;
			default:
				return NULL;
			}
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		{
			size_t n = utf8_valid_len((const unsigned char *)p, (size_t)(end - p));

			if (!n)
				return NULL;
			p += n;
		}
	}
	return NULL;
}

/* A name's JSON string (node, pod): a string the relay passes, within the
 * readers' bound. */
static const char *name_end(const char *p, const char *end)
{
	const char *q = json_string_end(p, end);

	return q && (size_t)(q - p) <= WIRE_OUTPUT_MAX_NAME + 2 ? q : NULL;
}

/* "name": at *p, advanced past it */
static bool member(const char **p, const char *end, const char *name, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, name, n))
		return false;
	*p += n;
	return true;
}

#define MEMBER(p, end, lit) member(p, end, lit, sizeof(lit) - 1)

bool wire_output_shape(const char *line, size_t len, struct wire_output_shape *ret)
{
	const char *p = line, *end = line + len, *q;
	struct wire_output_shape o;

	if (!MEMBER(&p, end, "{\"type\":\"output\","))
		return false;
	if (MEMBER(&p, end, "\"node\":")) {
		if (!(q = name_end(p, end)) || q >= end || *q != ',')
			return false;
		p = q + 1;
	}
	if (!MEMBER(&p, end, "\"pod\":") || !(q = name_end(p, end)))
		return false;
	o.pod = p;
	o.pod_len = (size_t)(q - p);
	p = q;
	if (!MEMBER(&p, end, ",\"lines\":"))
		return false;
	o.lines = p;
	o.nlines = 0;
	while (p < end && *p >= '0' && *p <= '9' && p - o.lines < 10)
		o.nlines = o.nlines * 10 + (uint64_t)(*p++ - '0');
	o.lines_len = (size_t)(p - o.lines);
	if (!o.lines_len || (o.lines[0] == '0' && o.lines_len > 1) || o.nlines > WIRE_OUTPUT_MAX_LINES)
		return false;
	if (!MEMBER(&p, end, ",\"text\":") || !(q = json_string_end(p, end)))
		return false;
	o.text = p;
	o.text_len = (size_t)(q - p);
	if (q + 1 != end || *q != '}')
		return false;
	*ret = o;
	return true;
}

int wire_output_relay(struct buf *b, const char *node, const struct wire_output_shape *o)
{
	int r;

	if ((r = buf_adds(b, "{\"type\":\"output\",\"node\":\"")) < 0 ||
	    (r = buf_add_json_escaped(b, node, strlen(node))) < 0 || (r = buf_adds(b, "\",\"pod\":")) < 0 ||
	    (r = buf_add(b, o->pod, o->pod_len)) < 0 || (r = buf_adds(b, ",\"lines\":")) < 0 ||
	    (r = buf_add(b, o->lines, o->lines_len)) < 0 || (r = buf_adds(b, ",\"text\":")) < 0 ||
	    (r = buf_add(b, o->text, o->text_len)) < 0)
		return r;
	return buf_adds(b, "}\n");
}

/* --- the readers ------------------------------------------------------------------ */

static int name_member(json_t *rec, const char *key, const char **ret, char **ret_err)
{
	json_t *v = json_object_get(rec, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > WIRE_OUTPUT_MAX_NAME ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return tg_fail(ret_err, -EINVAL, "\"%s\": must be a string of at most %d bytes", key,
			       WIRE_OUTPUT_MAX_NAME);
	*ret = json_string_value(v);
	return 0;
}

static const char *const event_members[] = { "type", "len", "data", NULL };

/* events[i]: checked, its length added to *off, which stays within text */
static int event_check(json_t *ev, size_t i, size_t text_len, size_t *off, bool strict, char **ret_err)
{
	json_t *t = json_object_get(ev, "type"), *n = json_object_get(ev, "len");

	if (!json_is_object(ev))
		return tg_fail(ret_err, -EINVAL, "\"events[%zu]\": must be an object", i);
	/* the message's "events[i]." only for a refusal: this runs for
	 * every event of a record that is not relayed as it came */
	if (strict && wire_only_members(ev, "", event_members, NULL) < 0) {
		char where[40];

		snprintf(where, sizeof(where), "events[%zu].", i);
		return wire_only_members(ev, where, event_members, ret_err);
	}
	if (!json_is_string(t) || !event_type_ok(json_string_value(t), json_string_length(t)))
		return tg_fail(ret_err, -EINVAL, "\"events[%zu].type\": must be 1 to %d of a-z and _", i,
			       WIRE_OUTPUT_MAX_TYPE);
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    (uint64_t)json_integer_value(n) > text_len - *off)
		return tg_fail(ret_err, -EINVAL, "\"events[%zu].len\": the events do not fit \"text\"", i);
	*off += (size_t)json_integer_value(n);
	return 0;
}

static const char *const output_members[] = { "type", "node", "pod", "lines", "text", "events", NULL };

static int output_decode(json_t *rec, bool strict, struct wire_output *ret, char **ret_err)
{
	json_t *type = json_object_get(rec, "type"), *lines = json_object_get(rec, "lines"),
	       *text = json_object_get(rec, "text"), *evs = json_object_get(rec, "events"), *ev;
	struct wire_output o = { 0 };
	size_t i, off = 0;
	int r;

	if (!json_is_object(rec))
		return tg_fail(ret_err, -EINVAL, "an output record must be an object");
	if (!json_is_string(type) || strcmp(json_string_value(type), "output"))
		return tg_fail(ret_err, -EINVAL, "\"type\": must be \"output\"");
	if (strict && (r = wire_only_members(rec, "", output_members, ret_err)) < 0)
		return r;
	if ((r = name_member(rec, "node", &o.node, ret_err)) < 0 ||
	    (r = name_member(rec, "pod", &o.pod, ret_err)) < 0)
		return r;
	/* the plugin never needed it: a record without it is printed */
	if (!strict && (!lines || json_is_null(lines)))
		lines = NULL;
	else if (!json_is_integer(lines) || json_integer_value(lines) < 0 ||
		 (uint64_t)json_integer_value(lines) > WIRE_OUTPUT_MAX_LINES)
		return tg_fail(ret_err, -EINVAL, "\"lines\": must be an integer from 0 to %u", WIRE_OUTPUT_MAX_LINES);
	o.lines = lines ? (uint64_t)json_integer_value(lines) : 0;
	if (!json_is_string(text))
		return tg_fail(ret_err, -EINVAL, "\"text\": must be a string");
	o.text = json_string_value(text);
	o.text_len = json_string_length(text);
	if (evs && !json_is_null(evs)) {
		if (!json_is_array(evs))
			return tg_fail(ret_err, -EINVAL, "\"events\": must be an array");
		json_array_foreach(evs, i, ev)
			if ((r = event_check(ev, i, o.text_len, &off, strict, ret_err)) < 0)
				return r;
		o.events = evs;
	}
	*ret = o;
	return 0;
}

int wire_output_from_json(json_t *rec, struct wire_output *ret, char **ret_err)
{
	return output_decode(rec, true, ret, ret_err);
}

int wire_output_from_gateway(json_t *rec, struct wire_output *ret, char **ret_err)
{
	return output_decode(rec, false, ret, ret_err);
}

int wire_output_event_at(const struct wire_output *o, size_t i, const char **ret_type, size_t *ret_len,
			 json_t **ret_data)
{
	json_t *ev = o->events ? json_array_get(o->events, i) : NULL;

	if (!ev)
		return -ERANGE;
	*ret_type = json_string_value(json_object_get(ev, "type"));
	*ret_len = (size_t)json_integer_value(json_object_get(ev, "len"));
	*ret_data = json_object_get(ev, "data");
	return 0;
}
