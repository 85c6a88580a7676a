// SPDX-License-Identifier: Apache-2.0
/*
 * wire/map.h: the runner's encoder and split and the two readers of a
 * map record's envelope.  What the encoder writes is the runner's bytes
 * as they have always been, and both readers give its struct back; it
 * refuses what the strict reader would.  A split map's parts are each
 * within the bound, hold whole entries whose union (in order) is the
 * map's, repeat its other members and read back through the gateway's
 * strict reader; the readers refuse what they must, naming the member,
 * and the plugin's skips what a newer gateway may add.
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
#include "lib/cleanup-json.h"
#include "wire/end.h"
#include "wire/map.h"

struct parts {
	json_t *all;      /* the parts sent, in order */
	int fail_at;      /* send's error at this part (0: never) */
};

static int collect(void *ctx, json_t *part)
{
	struct parts *p = ctx;

	assert_non_null(part);
	if (p->fail_at && (int)json_array_size(p->all) + 1 == p->fail_at) {
		json_decref(part);
		return -EPIPE;
	}
	return json_array_append_new(p->all, part) == 0 ? 0 : -ENOMEM;
}

static json_t *big_map(size_t n, size_t key_len)
{
	_cleanup_(json_decrefp) json_t *entries = json_array();
	struct wire_map m = { .name = "@bytes", .kind = "count", .keyed = true, .entries = entries, .node = "node-1" };
	json_t *rec = NULL;
	char *key = malloc(key_len + 1);

	assert_non_null(key);
	for (size_t i = 0; i < n; i++) {
		/* distinct, each with a quote (an escape in its JSON) */
		memset(key, 'a' + (int)(i % 26), key_len);
		key[key_len] = 0;
		snprintf(key, key_len + 1, "%zu\"", i);
		key[strlen(key)] = 'z';
		key[key_len] = 0;
		json_array_append_new(entries, json_pack("{s:s, s:[s], s:I}", "key", key, "keyv", key, "value",
							 (json_int_t)i));
	}
	free(key);
	assert_int_equal(wire_map_to_json(&m, &rec), 0);
	return rec;
}

static void test_split(void **state)
{
	_cleanup_(json_decrefp) json_t *small = big_map(3, 8), *big = big_map(600, 200);
	struct parts p = { .all = json_array() };
	json_t *part, *union_ = json_array();
	size_t i, k;

	(void)state;
	/* within the bound: one copy, the same */
	assert_int_equal(wire_map_split(small, 256 * 1024, collect, &p), 0);
	assert_int_equal(json_array_size(p.all), 1);
	assert_true(json_equal(json_array_get(p.all, 0), small));
	assert_ptr_not_equal(json_array_get(p.all, 0), small);
	json_array_clear(p.all);

	/* beyond: parts within it, whole entries, their union the map's */
	assert_int_equal(wire_map_split(big, 32 * 1024, collect, &p), 0);
	assert_true(json_array_size(p.all) > 3);
	json_array_foreach(p.all, i, part) {
		char *text = json_dumps(part, JSON_COMPACT);
		struct wire_map m;
		json_t *e;

		assert_true(strlen(text) <= 32 * 1024);
		free(text);
		assert_int_equal(wire_map_from_json(part, &m, NULL), 0);
		assert_string_equal(m.name, "@bytes");
		assert_string_equal(m.kind, "count");
		assert_true(m.keyed);
		assert_string_equal(m.node, "node-1");
		json_array_foreach(m.entries, k, e)
			json_array_append(union_, e);
	}
	assert_true(json_equal(union_, json_object_get(big, "entries")));
	json_array_clear(p.all);

	/* one entry over the bound still goes, alone */
	json_decref(small);
	small = big_map(2, 4000);
	assert_int_equal(wire_map_split(small, 1024, collect, &p), 0);
	assert_int_equal(json_array_size(p.all), 2);
	json_array_clear(p.all);
	/* send's error stops it */
	p.fail_at = 2;
	assert_int_equal(wire_map_split(big, 32 * 1024, collect, &p), -EPIPE);
	assert_int_equal(json_array_size(p.all), 1);
	json_decref(p.all);
	json_decref(union_);
}

/* The runner's records (a node-wide session's stream, before "node" was
 * its encoder's), and the structs that make them */
static void test_encode(void **state)
{
	static const struct {
		struct wire_map m;
		const char *entries;
		const char *text;
	} cases[] = {
		{ { .name = "@a", .kind = "int", .keyed = true, .print = true },
		  "[{\"key\":\"1\",\"keyv\":[1],\"value\":2}]",
		  "{\"type\":\"map\",\"name\":\"@a\",\"kind\":\"int\",\"keyed\":true,"
		  "\"entries\":[{\"key\":\"1\",\"keyv\":[1],\"value\":2}],\"print\":true}" },
		{ { .name = "@s", .kind = "sum", .keyed = true, .top = 1, .div = 2, .print = true, .node = "node-1" },
		  "[{\"key\":\"1, x\",\"keyv\":[1,\"x\"],\"value\":3}]",
		  "{\"type\":\"map\",\"name\":\"@s\",\"kind\":\"sum\",\"keyed\":true,"
		  "\"entries\":[{\"key\":\"1, x\",\"keyv\":[1,\"x\"],\"value\":3}],\"top\":1,\"div\":2,"
		  "\"print\":true,\"node\":\"node-1\"}" },
		{ { .name = "@h", .kind = "hist", .div = 3, .print = true },
		  "[{\"value\":{\"buckets\":[0,0,0,0,1]}}]",
		  "{\"type\":\"map\",\"name\":\"@h\",\"kind\":\"hist\",\"keyed\":false,"
		  "\"entries\":[{\"value\":{\"buckets\":[0,0,0,0,1]}}],\"div\":3,\"print\":true}" },
		{ { .name = "@k", .kind = "text", .value_type = "kstack" },
		  "[{\"value\":\"\\n\"}]",
		  "{\"type\":\"map\",\"name\":\"@k\",\"kind\":\"text\",\"keyed\":false,\"valueType\":\"kstack\","
		  "\"entries\":[{\"value\":\"\\n\"}]}" },
		{ { .name = "@t", .kind = "text", .value_type = "tuple" },
		  "[{\"value\":\"(1, two)\",\"valuev\":[1,\"two\"]}]",
		  "{\"type\":\"map\",\"name\":\"@t\",\"kind\":\"text\",\"keyed\":false,\"valueType\":\"tuple\","
		  "\"entries\":[{\"value\":\"(1, two)\",\"valuev\":[1,\"two\"]}]}" },
		{ { .name = "@u", .kind = "sum", .is_unsigned = true },
		  "[{\"value\":4}]",
		  "{\"type\":\"map\",\"name\":\"@u\",\"kind\":\"sum\",\"keyed\":false,\"unsigned\":true,"
		  "\"entries\":[{\"value\":4}]}" },
		{ { .name = "@", .kind = "count", .top = INT64_MAX },
		  "[]",
		  "{\"type\":\"map\",\"name\":\"@\",\"kind\":\"count\",\"keyed\":false,\"entries\":[],"
		  "\"top\":9223372036854775807}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_(json_decrefp) json_t *entries = json_loads(cases[i].entries, 0, NULL), *rec = NULL,
						 *again = NULL;
		struct wire_map m = cases[i].m, a, b;
		char *text, *err = NULL;

		assert_non_null(entries);
		m.entries = entries;
		assert_int_equal(wire_map_to_json(&m, &rec), 0);
		text = json_dumps(rec, JSON_COMPACT);
		assert_non_null(text);
		assert_string_equal(text, cases[i].text);
		free(text);
		if (wire_map_from_json(rec, &a, &err) < 0)
			fail_msg("%s: %s", cases[i].text, err);
		assert_true(wire_map_equal(&a, &m));
		assert_int_equal(wire_map_from_gateway(rec, &b, NULL), 0);
		assert_true(wire_map_equal(&b, &m));
		/* the gateway reads the line, not the runner's object */
		again = json_loads(cases[i].text, 0, NULL);
		assert_int_equal(wire_map_from_json(again, &a, NULL), 0);
		assert_true(wire_map_equal(&a, &m));
	}
}

/* What the strict reader would refuse is not written. */
static void test_encode_refused(void **state)
{
	_cleanup_(json_decrefp) json_t *entries = json_pack("[{}]"), *bad = json_pack("[{}, 7]"),
					 *obj = json_object();
	const struct wire_map ok = { .name = "@x", .kind = "count", .entries = entries };
	struct wire_map m;
	char long_node[WIRE_END_MAX_NAME + 2];
	json_t *rec = NULL;

	(void)state;
	memset(long_node, 'n', sizeof(long_node) - 1);
	long_node[sizeof(long_node) - 1] = 0;
	assert_int_equal(wire_map_to_json(&ok, &rec), 0);
	json_decref(rec);
	rec = NULL;
#define REFUSED(member, value)                                         \
	do {                                                           \
		m = ok;                                                \
		m.member = value;                                      \
		assert_int_equal(wire_map_to_json(&m, &rec), -EINVAL); \
		assert_null(rec);                                      \
	} while (0)
	REFUSED(name, NULL);
	REFUSED(name, "x");
	REFUSED(name, "@a b");
	REFUSED(kind, NULL);
	REFUSED(kind, "median");
	REFUSED(value_type, "a\nb");
	REFUSED(node, long_node);
	REFUSED(node, "a\x1b[2J");
	REFUSED(top, (uint64_t)INT64_MAX + 1);
	REFUSED(div, UINT64_MAX);
	REFUSED(entries, NULL);
	REFUSED(entries, obj);
	REFUSED(entries, bad);
#undef REFUSED
}

static void test_records(void **state)
{
	static const char *const texts[] = {
		"{\"type\":\"map\",\"name\":\"@bytes\",\"kind\":\"count\",\"keyed\":true,"
		"\"entries\":[{\"key\":\"bash\",\"keyv\":[\"bash\"],\"value\":3}],\"node\":\"node-1\"}",
		"{\"type\":\"map\",\"name\":\"@\",\"kind\":\"int\",\"keyed\":false,\"unsigned\":true,\"entries\":[{\"value\":1}]}",
		"{\"type\":\"map\",\"name\":\"@s\",\"kind\":\"text\",\"keyed\":true,\"valueType\":\"kstack\",\"entries\":[],"
		"\"print\":true,\"top\":3,\"div\":10}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		_cleanup_(json_decrefp) json_t *rec = json_loads(texts[i], 0, NULL);
		struct wire_map a, b;
		char *err = NULL;

		assert_non_null(rec);
		if (wire_map_from_json(rec, &a, &err) < 0)
			fail_msg("%s: %s", texts[i], err);
		assert_int_equal(wire_map_from_gateway(rec, &b, NULL), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	{
		_cleanup_(json_decrefp) json_t *rec = json_loads(texts[2], 0, NULL);
		struct wire_map m;

		assert_int_equal(wire_map_from_json(rec, &m, NULL), 0);
		assert_string_equal(m.value_type, "kstack");
		assert_true(m.print);
		assert_int_equal(m.top, 3);
		assert_int_equal(m.div, 10);
		assert_null(m.node);
	}
}

static void expect_refused(const char *text, bool strict, const char *needle)
{
	_cleanup_(json_decrefp) json_t *rec = json_loads(text, 0, NULL);
	struct wire_map m, blank;
	char *err = NULL;
	int r;

	assert_non_null(rec);
	memset(&m, 0x5a, sizeof(m));
	blank = m;
	r = strict ? wire_map_from_json(rec, &m, &err) : wire_map_from_gateway(rec, &m, &err);
	if (r != -EINVAL)
		fail_msg("%s reader took: %s", strict ? "strict" : "plugin's", text);
	if (!err || !strstr(err, needle))
		fail_msg("message \"%s\" does not name \"%s\"", err ? err : "", needle);
	assert_memory_equal(&m, &blank, sizeof(m));
	free(err);
}

#define MAP "{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":false,\"entries\":[]"

static void test_refused(void **state)
{
	_cleanup_(json_decrefp) json_t *newer = NULL;
	struct wire_map m;

	(void)state;
	for (int strict = 0; strict < 2; strict++) {
		expect_refused("{\"type\":\"output\",\"name\":\"@x\",\"kind\":\"count\",\"entries\":[]}", strict, "\"type\"");
		expect_refused("{\"type\":\"map\",\"kind\":\"count\",\"entries\":[]}", strict, "\"name\"");
		expect_refused("{\"type\":\"map\",\"name\":\"x\",\"kind\":\"count\",\"entries\":[]}", strict, "\"name\"");
		expect_refused("{\"type\":\"map\",\"name\":\"@a b\",\"kind\":\"count\",\"entries\":[]}", strict, "\"name\"");
		expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"\\u001b[2J\",\"entries\":[]}", strict, "\"kind\"");
		expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":1,\"entries\":[]}", strict,
			       "\"keyed\"");
		expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":true}", strict, "\"entries\"");
		expect_refused(MAP ",\"entries\":[1]}", strict, "\"entries");
		expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":false,\"entries\":[7]}", strict,
			       "\"entries[0]\"");
		expect_refused(MAP ",\"top\":-1}", strict, "\"top\"");
		expect_refused(MAP ",\"div\":\"2\"}", strict, "\"div\"");
		expect_refused(MAP ",\"print\":1}", strict, "\"print\"");
		expect_refused(MAP ",\"unsigned\":\"yes\"}", strict, "\"unsigned\"");
		expect_refused(MAP ",\"valueType\":\"a\\nb\"}", strict, "\"valueType\"");
		expect_refused(MAP ",\"node\":7}", strict, "\"node\"");
	}
	/* the runner and the gateway ship together */
	expect_refused(MAP ",\"colour\":\"red\"}", true, "\"colour\": unknown field");
	expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"median\",\"keyed\":false,\"entries\":[]}", true,
		       "\"kind\"");
	expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"entries\":[]}", true, "\"keyed\"");
	/* the plugin may be older than its gateway: a member or a kind it
	 * does not know is skipped (output_map_format refuses a kind it cannot
	 * print, naming the map) */
	newer = json_loads("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"median\",\"entries\":[],\"colour\":\"red\","
			   "\"time\":\"t\"}",
			   0, NULL);
	assert_int_equal(wire_map_from_gateway(newer, &m, NULL), 0);
	assert_string_equal(m.kind, "median");
	assert_false(m.keyed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_refused),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
