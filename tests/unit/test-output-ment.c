// SPDX-License-Identifier: Apache-2.0
/*
 * output/output.h's entry builders (the runner's side of a map record)
 * against its readers: what tg_ment_* build, output_map_format and
 * output_map_format_json print as the real bpftrace 0.17 printed the same
 * maps on this machine (each program is quoted above its bytes), and
 * output_map_merge adds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/buf.h"
#include "output/output.h"

static json_t *record(const char *name, const char *kind, bool keyed, json_t *entries)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:b, s:o}", "type", "map", "name", name, "kind", kind, "keyed",
			      keyed, "entries", entries);

	assert_non_null(r);
	return r;
}

static json_t *keyv2(json_int_t i, const char *s)
{
	json_t *kv = json_pack("[I, s]", i, s);

	assert_non_null(kv);
	return kv;
}

static void prints(const json_t *rec, const char *text, const char *json)
{
	struct buf b = BUF_INIT(0);

	assert_int_equal(output_map_format(&b, rec, 0, 0), 0);
	assert_string_equal(b.s, text);
	buf_release(&b);
	b = (struct buf)BUF_INIT(0);
	assert_int_equal(output_map_format_json(&b, rec, 0, 0), 0);
	assert_string_equal(b.s, json);
	buf_release(&b);
}

/* BEGIN { @c[1, "a"] = count(); @c[1, "a"] = count(); @c[2, "b"] = count(); exit(); } */
static void test_keyed_count(void **state)
{
	json_t *ents = json_array(), *e;

	(void)state;
	e = output_ment_new("1, a", 4, keyv2(1, "a"));
	assert_non_null(e);
	assert_int_equal(output_ment_set_int(e, 2), 0);
	json_array_append_new(ents, e);
	e = output_ment_new("2, b", 4, keyv2(2, "b"));
	assert_int_equal(output_ment_set_int(e, 1), 0);
	json_array_append_new(ents, e);
	e = record("@c", "count", true, ents);
	prints(e, "@c[2, b]: 1\n@c[1, a]: 2\n", "{\"type\": \"map\", \"data\": {\"@c\": {\"2,b\": 1, \"1,a\": 2}}}\n");
	json_decref(e);
}

/* BEGIN { @s = stats(5); @s = stats(-1); @a = avg(7); @a = avg(2); exit(); } */
static void test_stats_avg(void **state)
{
	json_t *e = output_ment_new(NULL, 0, NULL), *r;

	(void)state;
	assert_int_equal(output_ment_set_stats(e, 4, 2), 0);
	r = record("@s", "stats", false, json_pack("[o]", e));
	prints(r, "@s: count 2, average 2, total 4\n\n",
	       "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 2, \"average\": 2, \"total\": 4}}}\n");
	json_decref(r);
	e = output_ment_new(NULL, 0, NULL);
	assert_int_equal(output_ment_set_stats(e, 9, 2), 0);
	r = record("@a", "avg", false, json_pack("[o]", e));
	prints(r, "@a: 4\n\n", "{\"type\": \"stats\", \"data\": {\"@a\": 4}}\n");
	json_decref(r);
}

/* BEGIN { @h[7] = hist(3); @h[7] = hist(0); @h[7] = hist(100); exit(); } */
static const char ref_hist[] =
	"@h[7]: \n"
	"[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[1]                    0 |                                                    |\n"
	"[2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[4, 8)                 0 |                                                    |\n"
	"[8, 16)                0 |                                                    |\n"
	"[16, 32)               0 |                                                    |\n"
	"[32, 64)               0 |                                                    |\n"
	"[64, 128)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"\n";
static const char ref_hist_json[] =
	"{\"type\": \"hist\", \"data\": {\"@h\": {\"7\": [{\"min\": 0, \"max\": 0, \"count\": 1}, "
	"{\"min\": 1, \"max\": 1, \"count\": 0}, {\"min\": 2, \"max\": 3, \"count\": 1}, "
	"{\"min\": 4, \"max\": 7, \"count\": 0}, {\"min\": 8, \"max\": 15, \"count\": 0}, "
	"{\"min\": 16, \"max\": 31, \"count\": 0}, {\"min\": 32, \"max\": 63, \"count\": 0}, "
	"{\"min\": 64, \"max\": 127, \"count\": 1}]}}}\n";

static json_t *hist7(void)
{
	json_t *ents = json_array(), *e = output_ment_new("7", 1, json_pack("[i]", 7));

	assert_int_equal(output_ment_set_hist(e, TG_HIST_BUCKETS, 0), 0);
	/* bucket 0 is below 0, 1 is [0], 2 is [1], 3 is [2, 4) ... */
	assert_int_equal(output_ment_add(e, 3, 1), 0);
	assert_int_equal(output_ment_add(e, 1, 1), 0);
	assert_int_equal(output_ment_add(e, 8, 1), 0);
	/* past the buckets: nothing */
	assert_int_equal(output_ment_add(e, TG_HIST_BUCKETS, 5), 0);
	json_array_append_new(ents, e);
	return record("@h", "hist", true, ents);
}

static void test_hist(void **state)
{
	json_t *r = hist7(), *b = hist7(), *bk;

	(void)state;
	output_ment_trim_hist(json_object_get(r, "entries"));
	bk = json_object_get(json_object_get(json_array_get(json_object_get(r, "entries"), 0), "value"),
			     "buckets");
	assert_int_equal(json_array_size(bk), 9);
	prints(r, ref_hist, ref_hist_json);
	/* a merge of the untrimmed twin doubles each count */
	assert_int_equal(output_map_merge(r, b), 0);
	bk = json_object_get(json_object_get(json_array_get(json_object_get(r, "entries"), 0), "value"),
			     "buckets");
	assert_int_equal(json_integer_value(json_array_get(bk, 3)), 2);
	assert_int_equal(json_integer_value(json_array_get(bk, 8)), 2);
	json_decref(r);
	json_decref(b);
}

/* BEGIN { @l = lhist(5, 0, 10, 5); @l = lhist(12, 0, 10, 5); @l = lhist(-1, 0, 10, 5); exit(); } */
static void test_lhist(void **state)
{
	json_t *e = output_ment_new(NULL, 0, NULL), *r;

	(void)state;
	assert_int_equal(output_ment_set_lhist(e, 0, 10, 5, 4), 0);
	assert_int_equal(output_ment_add(e, 2, 1), 0);
	assert_int_equal(output_ment_add(e, 3, 1), 0);
	assert_int_equal(output_ment_add(e, 0, 1), 0);
	r = record("@l", "lhist", false, json_pack("[o]", e));
	prints(r,
	       "@l: \n"
	       "(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	       "[0, 5)                 0 |                                                    |\n"
	       "[5, 10)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	       "[10, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	       "\n",
	       "{\"type\": \"hist\", \"data\": {\"@l\": [{\"max\": -1, \"count\": 1}, {\"min\": 0, \"max\": 4, "
	       "\"count\": 0}, {\"min\": 5, \"max\": 9, \"count\": 1}, {\"min\": 10, \"count\": 1}]}}\n");
	json_decref(r);
}

/* BEGIN { @t[2] = (1, "x"); @x = "str"; exit(); } */
static void test_text(void **state)
{
	json_t *e = output_ment_new("2", 1, json_pack("[i]", 2)), *r;

	(void)state;
	assert_int_equal(output_ment_set_text(e, "(1, x)", 6, json_pack("[i, s]", 1, "x")), 0);
	r = record("@t", "text", true, json_pack("[o]", e));
	prints(r, "@t[2]: (1, x)\n", "{\"type\": \"map\", \"data\": {\"@t\": {\"2\": [1,\"x\"]}}}\n");
	json_decref(r);
	e = output_ment_new(NULL, 0, NULL);
	assert_int_equal(output_ment_set_text(e, "str", 3, NULL), 0);
	r = record("@x", "str", false, json_pack("[o]", e));
	prints(r, "@x: str\n", "{\"type\": \"map\", \"data\": {\"@x\": \"str\"}}\n");
	json_decref(r);
}

/* A key or value the program chose is any bytes: made valid UTF-8 */
static void test_bytes(void **state)
{
	json_t *e = output_ment_new("b\xff", 2, json_pack("[s]", "b")), *r;

	(void)state;
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "key")), "b\xef\xbf\xbd");
	assert_int_equal(output_ment_set_text(e, "\xc3(", 2, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(e, "value")), "\xef\xbf\xbd(");
	r = record("@k", "str", true, json_pack("[o]", e));
	prints(r, "@k[b\xef\xbf\xbd]: \xef\xbf\xbd(\n",
	       "{\"type\": \"map\", \"data\": {\"@k\": {\"b\": \"\xef\xbf\xbd(\"}}}\n");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed_count),
		cmocka_unit_test(test_stats_avg),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_lhist),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
