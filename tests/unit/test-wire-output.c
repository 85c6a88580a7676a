// SPDX-License-Identifier: Apache-2.0
/*
 * wire/output.h: the runner's writer, the gateway's shape and splice and
 * both readers agree.  A record the runner writes is the shape the relay
 * splices (without "events"), the splice reads back through the plugin's
 * reader to the same node, pod, lines and text, and the strict reader
 * takes every record the writer makes; the writer's bytes are the ones
 * the runner has always sent (users' -o json prints them); the readers
 * refuse what they must, naming the member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup-json.h"
#include "wire/output.h"

/* The relay never takes a line jansson would read differently: what
 * wire_output_shape accepts parses, as a whole, to an object of exactly
 * those members with exactly those values, which the strict reader takes
 * to the same values. */
static void check_shape_agrees(const char *line, size_t len)
{
	struct wire_output_shape o;
	struct wire_output w;
	json_t *rec, *pod, *text;
	char num[16], *err = NULL;

	if (!wire_output_shape(line, len, &o))
		return;
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(rec))
		fail_msg("shape accepted a line jansson refuses: %.*s", (int)len, line);
	pod = json_loadb(o.pod, o.pod_len, JSON_DECODE_ANY, NULL);
	text = json_loadb(o.text, o.text_len, JSON_DECODE_ANY, NULL);
	snprintf(num, sizeof(num), "%.*s", (int)o.lines_len, o.lines);
	assert_true(json_is_string(pod) && json_is_string(text));
	assert_true(json_equal(pod, json_object_get(rec, "pod")));
	assert_true(json_equal(text, json_object_get(rec, "text")));
	assert_string_equal(json_string_value(json_object_get(rec, "type")), "output");
	assert_int_equal(json_integer_value(json_object_get(rec, "lines")), strtoll(num, NULL, 10));
	assert_int_equal(o.nlines, strtoull(num, NULL, 10));
	assert_int_equal(json_object_size(rec), json_object_get(rec, "node") ? 5 : 4);
	if (wire_output_from_json(rec, &w, &err) < 0)
		fail_msg("shape accepted what the strict reader refuses (%s): %.*s", err, (int)len, line);
	assert_int_equal(w.lines, o.nlines);
	assert_int_equal(w.text_len, json_string_length(text));
	assert_memory_equal(w.text, json_string_value(text), w.text_len);
	assert_string_equal(w.pod, json_string_value(pod));
	assert_null(w.events);
	json_decref(pod);
	json_decref(text);
	json_decref(rec);
}

static void test_shape(void **state)
{
	static const char *const refused[] = {
		/* a member more, one missing, another order, white space */
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\",\"end\":1}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"text\":\"x\"}",
		"{\"type\":\"output\",\"lines\":1,\"pod\":\"a/b\",\"text\":\"x\"}",
		"{\"type\": \"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"}",
		"{\"type\":\"end\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"}",
		/* events: the strict reader's, never the splice's */
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\",\"events\":[]}",
		/* the text's end is its first unescaped quote: what follows is not the record's end */
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"}{\"type\":\"end\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\",\"reason\":\"exit\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"} ",
		/* strings jansson refuses or reads otherwise */
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\ty\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"\\x41\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"\\ud800\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"\\u0000\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"\xff\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"\xc3\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\\\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":01,\"text\":\"x\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":-1,\"text\":\"x\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":12345678901,\"text\":\"x\"}",
		/* more lines than the readers take */
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":4294967296,\"text\":\"x\"}",
		"{\"type\":\"output\",\"node\":1,\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"}",
		"{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\"",
	};
	struct wire_output_shape o;
	struct buf rec = BUF_INIT(0), raw = BUF_INIT(0);
	const char *ok = "{\"type\":\"output\",\"node\":\"node-1\",\"pod\":\"team-a/web-a\",\"lines\":2,"
			 "\"text\":\"a \\\"b\\\"\\n{\\\"type\\\":\\\"end\\\"}\\n\\u0001 \xc3\xa9\"}";
	unsigned seed = 8;

	(void)state;
	assert_true(wire_output_shape(ok, strlen(ok), &o));
	assert_int_equal(o.pod_len, strlen("\"team-a/web-a\""));
	assert_memory_equal(o.pod, "\"team-a/web-a\"", o.pod_len);
	assert_memory_equal(o.lines, "2", o.lines_len);
	assert_int_equal(o.nlines, 2);
	assert_int_equal(o.text + o.text_len, ok + strlen(ok) - 1);
	check_shape_agrees(ok, strlen(ok));
	/* without a node (a runner without --node) */
	ok = "{\"type\":\"output\",\"pod\":\"\",\"lines\":1,\"text\":\"\"}";
	assert_true(wire_output_shape(ok, strlen(ok), &o));
	check_shape_agrees(ok, strlen(ok));
	ok = "{\"type\":\"output\",\"pod\":\"\",\"lines\":4294967295,\"text\":\"\"}";
	assert_true(wire_output_shape(ok, strlen(ok), &o));
	check_shape_agrees(ok, strlen(ok));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (wire_output_shape(refused[i], strlen(refused[i]), &o))
			fail_msg("accepted: %s", refused[i]);

	/* Printed bytes of every kind, made a record by the runner's writer
	 * (valid UTF-8, then JSON escapes): accepted, the text the same. */
	for (int round = 0; round < 2000; round++) {
		char bytes[64];
		size_t n = (size_t)(rand_r(&seed) % sizeof(bytes));
		struct buf batch = BUF_INIT(0);
		json_t *t;

		for (size_t i = 0; i < n; i++)
			bytes[i] = (char)(round % 3 ? rand_r(&seed) % 255 + 1 : "\"\\\n{}:,e"[rand_r(&seed) % 8]);
		buf_clear(&raw);
		buf_clear(&rec);
		assert_int_equal(buf_add_utf8(&raw, bytes, n), 0);
		assert_int_equal(wire_output_text_add(&batch, raw.s, raw.len), 0);
		assert_int_equal(wire_output_write(&rec, NULL, "", 1, batch.s, batch.len, NULL, 0), 0);
		buf_release(&batch);
		if (!wire_output_shape(rec.s, rec.len, &o))
			fail_msg("the runner's record refused: %s", rec.s);
		t = json_loadb(o.text, o.text_len, JSON_DECODE_ANY, NULL);
		assert_true(json_is_string(t));
		assert_int_equal(json_string_length(t), raw.len);
		assert_memory_equal(json_string_value(t), raw.s, raw.len);
		json_decref(t);
		check_shape_agrees(rec.s, rec.len);
		/* and any one byte changed: still never read otherwise than jansson does */
		for (int k = 0; k < 8 && rec.len; k++) {
			size_t at = (size_t)rand_r(&seed) % rec.len;
			char was = rec.s[at];

			rec.s[at] = "\"\\}{,\n\x01\xff u0"[rand_r(&seed) % 12];
			check_shape_agrees(rec.s, rec.len);
			rec.s[at] = was;
		}
	}
	buf_release(&rec);
	buf_release(&raw);
}

/* The writer's bytes are the runner's of before (kubectl trace -o json
 * prints the relayed record as it is): members in this order, the text
 * escaped by buf_add_json_escaped, each event as jansson dumped the
 * object {"type","len","data"} the runner used to build. */
static void test_writer_bytes(void **state)
{
	_cleanup_(json_decrefp) json_t *data = json_pack("[i, s, {s:i}]", 1, "x\"y", "a", 2);
	_cleanup_(json_decrefp) json_t *d1 = json_pack("{s:s, s:I}", "type", "printf", "len", (json_int_t)4);
	_cleanup_(json_decrefp) json_t *d2 = json_pack("{s:s, s:I}", "type", "value", "len", (json_int_t)3);
	struct buf batch = BUF_INIT(0), events = BUF_INIT(0), rec = BUF_INIT(0), want = BUF_INIT(0);
	char *s1, *s2;

	(void)state;
	assert_int_equal(wire_output_text_add(&batch, "a\"b\n", 4), 0);
	assert_int_equal(wire_output_text_add(&batch, "\x01\t\\", 3), 0);
	assert_int_equal(wire_output_write(&rec, "node-1", "team-a/web-a", 2, batch.s, batch.len, NULL, 0), 0);
	assert_string_equal(rec.s, "{\"type\":\"output\",\"node\":\"node-1\",\"pod\":\"team-a/web-a\",\"lines\":2,"
				   "\"text\":\"a\\\"b\\n\\u0001\\t\\\\\"}");

	assert_int_equal(wire_output_event_add(&events, true, "printf", 4, NULL), 0);
	assert_int_equal(wire_output_event_add(&events, false, "value", 3, data), 0);
	json_object_set(d2, "data", data);
	s1 = json_dumps(d1, JSON_COMPACT | JSON_PRESERVE_ORDER);
	s2 = json_dumps(d2, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_printf(&want, "%s,%s", s1, s2);
	assert_string_equal(events.s, want.s);
	buf_clear(&rec);
	assert_int_equal(wire_output_write(&rec, "node-1", "", 2, batch.s, batch.len, events.s, events.len), 0);
	buf_clear(&want);
	buf_printf(&want, "{\"type\":\"output\",\"node\":\"node-1\",\"pod\":\"\",\"lines\":2,"
			  "\"text\":\"a\\\"b\\n\\u0001\\t\\\\\",\"events\":[%s,%s]}", s1, s2);
	assert_string_equal(rec.s, want.s);
	/* an events member even with no event described (outputEvents, a plain printf) */
	buf_clear(&rec);
	buf_clear(&events);
	assert_int_equal(wire_output_write(&rec, NULL, "p", 1, "x", 1, events.s, events.len), 0);
	assert_string_equal(rec.s, "{\"type\":\"output\",\"pod\":\"p\",\"lines\":1,\"text\":\"x\",\"events\":[]}");
	/* a type that is not bpftrace's is the runner's bug, never written */
	assert_int_equal(wire_output_event_add(&events, true, "Printf", 1, NULL), -EINVAL);
	assert_int_equal(wire_output_event_add(&events, true, "", 0, NULL), -EINVAL);
	free(s1);
	free(s2);
	buf_release(&batch);
	buf_release(&events);
	buf_release(&rec);
	buf_release(&want);
}

/* runner -> gateway (splice) -> plugin, and runner -> gateway (strict
 * reader, the slow path) -> plugin: the same record either way. */
static void test_round_trip(void **state)
{
	static const char *const texts[] = { "", "hello\n", "a \"quoted\" {\"type\":\"end\"}\n",
					     "\x01\x1f\x7f tab\there\r\n", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n" };
	static const char *const pods[] = { "", "team-a/web-a", "ns/p\"od" };

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (size_t k = 0; k < sizeof(pods) / sizeof(pods[0]); k++) {
			struct buf batch = BUF_INIT(0), rec = BUF_INIT(0), relay = BUF_INIT(0);
			_cleanup_(json_decrefp) json_t *slow = NULL, *fast = NULL;
			struct wire_output_shape sh;
			struct wire_output a, b;
			char *err = NULL;

			assert_int_equal(wire_output_text_add(&batch, texts[i], strlen(texts[i])), 0);
			assert_int_equal(wire_output_write(&rec, "runner-says", pods[k], (uint32_t)(i + 1), batch.s,
							   batch.len, NULL, 0),
					 0);
			/* the fast path */
			assert_true(wire_output_shape(rec.s, rec.len, &sh));
			assert_int_equal(wire_output_relay(&relay, "node-1", &sh), 0);
			assert_int_equal(relay.s[relay.len - 1], '\n');
			fast = json_loadb(relay.s, relay.len - 1, JSON_REJECT_DUPLICATES, NULL);
			assert_int_equal(wire_output_from_gateway(fast, &a, &err), 0);
			assert_string_equal(a.node, "node-1");
			assert_string_equal(a.pod, pods[k]);
			assert_int_equal(a.lines, i + 1);
			assert_int_equal(a.text_len, strlen(texts[i]));
			assert_memory_equal(a.text, texts[i], a.text_len);
			assert_null(a.events);
			/* the slow path: parsed, read strictly, its node set */
			slow = json_loadb(rec.s, rec.len, 0, NULL);
			assert_int_equal(wire_output_from_json(slow, &b, &err), 0);
			assert_string_equal(b.node, "runner-says");
			json_object_set_new(slow, "node", json_string("node-1"));
			assert_true(json_equal(slow, fast));
			buf_release(&batch);
			buf_release(&rec);
			buf_release(&relay);
		}
	}
}

/* outputEvents: the events the runner describes read back in order,
 * covering the text. */
static void test_events(void **state)
{
	_cleanup_(json_decrefp) json_t *data = json_pack("{s:[i,s]}", "@t", 7, "x");
	_cleanup_(json_decrefp) json_t *rec = NULL;
	struct buf batch = BUF_INIT(0), events = BUF_INIT(0), line = BUF_INIT(0);
	struct wire_output o, g;
	const char *type;
	json_t *d;
	size_t n;

	(void)state;
	assert_int_equal(wire_output_text_add(&batch, "12:00\n", 6), 0);
	assert_int_equal(wire_output_event_add(&events, true, "time", 6, NULL), 0);
	assert_int_equal(wire_output_text_add(&batch, "@t: (7, x)\n", 11), 0);
	assert_int_equal(wire_output_event_add(&events, false, "value", 11, data), 0);
	assert_int_equal(wire_output_text_add(&batch, "tail", 4), 0);
	assert_int_equal(wire_output_write(&line, "n", "a/b", 3, batch.s, batch.len, events.s, events.len), 0);
	assert_false(wire_output_shape(line.s, line.len, &(struct wire_output_shape){ 0 }));
	rec = json_loadb(line.s, line.len, 0, NULL);
	assert_int_equal(wire_output_from_json(rec, &o, NULL), 0);
	assert_int_equal(wire_output_from_gateway(rec, &g, NULL), 0);
	assert_int_equal(wire_output_event_at(&o, 0, &type, &n, &d), 0);
	assert_string_equal(type, "time");
	assert_int_equal(n, 6);
	assert_null(d);
	assert_int_equal(wire_output_event_at(&g, 1, &type, &n, &d), 0);
	assert_string_equal(type, "value");
	assert_int_equal(n, 11);
	assert_true(json_equal(d, data));
	assert_int_equal(wire_output_event_at(&o, 2, &type, &n, &d), -ERANGE);
	assert_int_equal(o.text_len, 21);
	buf_release(&batch);
	buf_release(&events);
	buf_release(&line);
}

static void expect_refused(const char *text, bool strict, const char *needle)
{
	_cleanup_(json_decrefp) json_t *rec = json_loads(text, 0, NULL);
	struct wire_output o, blank;
	char *err = NULL;
	int r;

	assert_non_null(rec);
	memset(&o, 0x5a, sizeof(o));
	blank = o;
	r = strict ? wire_output_from_json(rec, &o, &err) : wire_output_from_gateway(rec, &o, &err);
	if (r != -EINVAL)
		fail_msg("%s reader took: %s", strict ? "strict" : "plugin's", text);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" does not name \"%s\"", err, needle);
	assert_memory_equal(&o, &blank, sizeof(o));
	free(err);
}

static void test_refused(void **state)
{
	_cleanup_(json_decrefp) json_t *newer = NULL;
	struct wire_output o;

	(void)state;
	/* both readers */
	for (int strict = 0; strict < 2; strict++) {
		expect_refused("{\"type\":\"map\",\"lines\":1,\"text\":\"\"}", strict, "type");
		expect_refused("{\"type\":\"output\",\"lines\":1}", strict, "text");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":3}", strict, "text");
		expect_refused("{\"type\":\"output\",\"lines\":-1,\"text\":\"x\"}", strict, "lines");
		expect_refused("{\"type\":\"output\",\"lines\":4294967296,\"text\":\"x\"}", strict, "lines");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"pod\":7,\"text\":\"x\"}", strict, "pod");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"node\":[],\"text\":\"x\"}", strict, "node");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":{}}", strict, "events");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":[1]}", strict, "events[0]");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"xy\",\"events\":[{\"type\":\"printf\",\"len\":1},"
			       "{\"type\":\"printf\",\"len\":2}]}",
			       strict, "events[1].len");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":[{\"type\":\"Printf\",\"len\":1}]}",
			       strict, "events[0].type");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":[{\"type\":\"\\u001b[2J\",\"len\":1}]}",
			       strict, "events[0].type");
		expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":[{\"len\":1}]}", strict,
			       "events[0].type");
	}
	/* the plugin does without "lines", the gateway never */
	expect_refused("{\"type\":\"output\",\"text\":\"x\"}", true, "lines");
	/* the runner and the gateway ship together: a member unknown is refused, named */
	expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"colour\":\"red\"}", true, "colour");
	expect_refused("{\"type\":\"output\",\"lines\":1,\"text\":\"x\",\"events\":[{\"type\":\"printf\",\"len\":1,\"x\":1}]}",
		       true, "events[0].\"x\"");
	/* the plugin may be older than its gateway: skipped (a detached log's "time" too) */
	newer = json_loads("{\"type\":\"output\",\"node\":\"n\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\",\"time\":\"t\","
			   "\"colour\":\"red\",\"events\":[{\"type\":\"printf\",\"len\":1,\"x\":1}]}",
			   0, NULL);
	assert_int_equal(wire_output_from_gateway(newer, &o, NULL), 0);
	assert_string_equal(o.pod, "a/b");
	assert_int_equal(o.text_len, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_writer_bytes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
