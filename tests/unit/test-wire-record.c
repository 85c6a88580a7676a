// SPDX-License-Identifier: Apache-2.0
/*
 * wire/record.h: a runner's status records of each phase and its error
 * records survive encode -> decode, the records the runner has always
 * written decode, the gateway's reader replaces a record by its encoding,
 * and the decoder refuses what it must, naming the member.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup-json.h"
#include "wire/record.h"

static void status_round_trip(const struct wire_status *s)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct wire_status again = { 0 };
	char *err = NULL;

	assert_int_equal(wire_status_to_json(s, &o), 0);
	assert_int_equal(wire_status_from_json(o, &again, &err), 0);
	assert_null(err);
	assert_true(wire_status_equal(s, &again));
	wire_status_release(&again);
}

static void test_status(void **state)
{
	struct wire_status compiled = { .phase = "compiled", .probes = 3, .object = "ab12cd", .cached = true };
	struct wire_status attaching = { .phase = "attaching", .probes = 500, .done = 120, .node = "node-1" };
	struct wire_status attached = { .phase = "attached", .probes = 1 };
	struct wire_status alive = { .phase = "alive" };
	struct wire_status bad = { .phase = "attaching", .probes = 1, .done = 2 };
	json_t *o = NULL;

	(void)state;
	status_round_trip(&compiled);
	status_round_trip(&attaching);
	status_round_trip(&attached);
	status_round_trip(&alive);
	assert_int_equal(wire_status_to_json(&bad, &o), -EINVAL);
	bad.phase = "loaded";
	assert_int_equal(wire_status_to_json(&bad, &o), -EINVAL);
	assert_null(o);
}

static void test_error(void **state)
{
	struct wire_error e = { .message = "program:1:1: ERROR: \"quoted\"\nsecond line", .node = "n" };
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct wire_error again = { 0 };

	(void)state;
	assert_int_equal(wire_error_to_json(&e, &o), 0);
	assert_int_equal(wire_error_from_json(o, &again, NULL), 0);
	assert_true(wire_error_equal(&e, &again));
	wire_error_release(&again);
	e.warning = true;
	json_decref(o);
	o = NULL;
	assert_int_equal(wire_error_to_json(&e, &o), 0);
	assert_int_equal(wire_error_from_json(o, &again, NULL), 0);
	assert_true(again.warning);
	wire_error_release(&again);
}

/*
 * The gateway's own error records on the client's stream (trace_emit_error):
 * what it has always written decodes in the plugin, "code" included,
 * encode(decode(text)) is the text, and a record of a newer gateway (a
 * member the plugin does not know) decodes to the same error.
 */
static void test_gateway_error(void **state)
{
	static const char *const texts[] = {
		"{\"type\":\"error\",\"message\":\"node \\\"n1\\\": policy denied\",\"node\":\"n1\",\"code\":403}",
		"{\"type\":\"error\",\"message\":\"runner unreachable\",\"node\":\"node-1\"}",
		"{\"type\":\"error\",\"message\":\"probe missing\",\"warning\":true,\"node\":\"n1\"}",
	};
	struct wire_error e = { .message = "m", .node = "n1", .code = 400 }, again = { 0 }, skew = { 0 };
	json_t *o = NULL, *newer;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *rec = json_loads(texts[i], 0, NULL);

		assert_non_null(rec);
		if (wire_error_from_gateway(rec, &again, &err) < 0)
			fail_msg("%s: %s", texts[i], err);
		assert_int_equal(wire_error_to_json(&again, &o), 0);
		assert_true(json_equal(rec, o));
		json_decref(o);
		json_decref(rec);
		wire_error_release(&again);
	}
	assert_int_equal(wire_error_to_json(&e, &o), 0);
	assert_int_equal(wire_error_from_gateway(o, &again, NULL), 0);
	assert_true(wire_error_equal(&e, &again));
	assert_int_equal(again.code, 400);
	/* a runner's error never has one: its strict reader refuses it */
	assert_int_equal(wire_error_from_json(o, &skew, &err), -EINVAL);
	assert_non_null(strstr(err, "\"code\": unknown field"));
	free(err);
	err = NULL;
	newer = json_deep_copy(o);
	json_object_set_new(newer, "hint", json_pack("{s:i}", "retryAfter", 3));
	assert_int_equal(wire_error_from_gateway(newer, &skew, &err), 0);
	assert_true(wire_error_equal(&again, &skew));
	wire_error_release(&skew);
	/* but a member it knows, of the wrong type, is refused and named */
	json_object_set_new(newer, "code", json_string("403"));
	assert_int_equal(wire_error_from_gateway(newer, &skew, &err), -EINVAL);
	assert_non_null(strstr(err, "\"code\""));
	assert_null(skew.message);
	free(err);
	json_decref(newer);
	json_decref(o);
	wire_error_release(&again);
	/* the encoder writes nothing the decoders refuse */
	e.code = 42;
	assert_int_equal(wire_error_to_json(&e, &o), -EINVAL);
	e.code = 0;
	e.node = "a/b";
	assert_int_equal(wire_error_to_json(&e, &o), -EINVAL);
	e.node = NULL;
	e.message = "";
	assert_int_equal(wire_error_to_json(&e, &o), -EINVAL);
}

/*
 * A detached session's log: what the runner has always written (each
 * record stamped with "time", the dropped warning) passes the gateway's
 * reader unchanged with timestamps, without "time" otherwise; refusals
 * name the member.
 */
static void log_passes(const char *text, bool keep_time, const char *want_text)
{
	json_t *rec = json_loads(text, 0, NULL), *want = json_loads(want_text, 0, NULL);
	char *err = NULL;

	assert_non_null(rec);
	assert_non_null(want);
	if (wire_log_record_decode(&rec, keep_time, &err) < 0)
		fail_msg("%s: %s", text, err);
	if (!json_equal(rec, want))
		fail_msg("%s: read as %s", text, json_dumps(rec, JSON_COMPACT));
	json_decref(rec);
	json_decref(want);
}

static void log_refused(const char *text, const char *want)
{
	json_t *rec = json_loads(text, 0, NULL), *before = rec;
	char *err = NULL;

	assert_non_null(rec);
	assert_int_equal(wire_log_record_decode(&rec, true, &err), -EINVAL);
	assert_ptr_equal(rec, before);
	if (!err || !strstr(err, want))
		fail_msg("%s: \"%s\" does not name %s", text, err ? err : "", want);
	free(err);
	json_decref(rec);
}

static void test_log(void **state)
{
	static const char *const texts[] = {
		"{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"node\":\"n1\",\"time\":\"2026-12-07T02:40:00.123456Z\"}",
		"{\"type\":\"error\",\"message\":\"probe missing\",\"warning\":true,\"node\":\"n1\","
		"\"time\":\"2026-12-07T02:40:00.123456Z\"}",
		"{\"type\":\"error\",\"message\":\"the oldest records of this trace were dropped: a detached trace keeps "
		"its last 1 MiB\",\"warning\":true,\"node\":\"n1\",\"dropped\":12}",
		"{\"type\":\"output\",\"node\":\"n1\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"hi\\n\","
		"\"events\":[{\"type\":\"printf\",\"len\":3}],\"time\":\"2026-12-07T02:40:00Z\"}",
		"{\"type\":\"map\",\"name\":\"@\",\"kind\":\"hist\",\"keyed\":false,\"entries\":[{\"value\":{\"buckets\":[0,1]}}],"
		"\"print\":true,\"top\":2,\"node\":\"n1\",\"time\":\"2026-12-07T02:40:00Z\"}",
		"{\"type\":\"end\",\"reason\":\"exit\",\"events\":1,\"node\":\"n1\",\"time\":\"2026-12-07T02:40:00Z\"}",
	};
	json_t *rec = json_object();
	struct wire_error e = { .message = "m", .dropped = 3 }, back = { 0 };
	json_t *o = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *j = json_loads(texts[i], 0, NULL);
		char *no_time;

		log_passes(texts[i], true, texts[i]);
		json_object_del(j, "time");
		no_time = json_dumps(j, JSON_COMPACT);
		log_passes(texts[i], false, no_time);
		free(no_time);
		json_decref(j);
	}
	log_refused("{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"time\":5}", "\"time\"");
	log_refused("{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"time\":\"a b\"}", "\"time\"");
	log_refused("{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"extra\":1}", "\"extra\"");
	log_refused("{\"type\":\"error\",\"message\":\"m\",\"dropped\":-1}", "\"dropped\"");
	log_refused("{\"type\":\"error\",\"message\":\"m\",\"code\":403}", "\"code\"");
	log_refused("{\"type\":\"end\",\"reason\":\"exit\",\"drops\":\"1\"}", "\"drops\"");
	log_refused("{\"text\":\"x\"}", "\"type\"");
	/* output records: wire/output.h's strict reader, "time" aside */
	log_refused("{\"type\":\"output\",\"text\":\"hi\\n\",\"lines\":1,\"anything\":1,\"time\":\"2026-12-07T02:40:00Z\"}",
		    "\"anything\"");
	log_refused("{\"type\":\"output\",\"text\":\"hi\",\"lines\":1,\"events\":[{\"type\":\"printf\",\"len\":3}]}",
		    "\"events[0].len\"");
	log_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":false,\"entries\":{},"
		    "\"time\":\"2026-12-07T02:40:00Z\"}",
		    "\"entries\"");
	/* the runner's stamp, and the dropped count through the plugin's reader */
	assert_int_equal(wire_log_stamp(rec, "2026-12-07T02:40:00Z"), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "time")), "2026-12-07T02:40:00Z");
	assert_int_equal(wire_log_stamp(rec, "a\nb"), -EINVAL);
	json_decref(rec);
	assert_int_equal(wire_error_to_json(&e, &o), 0);
	assert_int_equal(wire_error_from_gateway(o, &back, NULL), 0);
	assert_true(wire_error_equal(&e, &back));
	wire_error_release(&back);
	json_decref(o);
}

/* What the runner wrote before wire/record.h, through the gateway's reader. */
static void test_runner_texts(void **state)
{
	static const char *const texts[] = {
		"{\"type\":\"status\",\"phase\":\"compiled\",\"probes\":1,\"object\":\"0f3a\",\"cached\":false,\"node\":\"n1\"}",
		"{\"type\":\"status\",\"phase\":\"attaching\",\"done\":0,\"probes\":1,\"node\":\"n1\"}",
		"{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"node\":\"n1\"}",
		"{\"type\":\"status\",\"phase\":\"alive\"}",
		"{\"type\":\"error\",\"message\":\"probe missing\",\"warning\":true,\"node\":\"n1\"}",
		"{\"type\":\"error\",\"message\":\"boom\"}",
		"{\"type\":\"output\",\"node\":\"n1\",\"pod\":\"\",\"lines\":2,\"text\":\"x-3\\n\","
		"\"events\":[{\"type\":\"printf\",\"len\":1},{\"type\":\"value\",\"len\":3,\"data\":-3}]}",
		"{\"type\":\"map\",\"name\":\"@bytes\",\"kind\":\"count\",\"keyed\":true,"
		"\"entries\":[{\"key\":\"bash\",\"keyv\":[\"bash\"],\"value\":3}],\"node\":\"n1\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *rec = json_loads(texts[i], 0, NULL);
		json_t *want = json_loads(texts[i], 0, NULL);
		char *err = NULL;

		assert_non_null(rec);
		assert_int_equal(wire_runner_record_decode(&rec, &err), 0);
		assert_null(err);
		assert_true(json_equal(rec, want));
		json_decref(rec);
		json_decref(want);
	}
}

static void expect_refused(const char *text, const char *want)
{
	json_t *rec = json_loads(text, 0, NULL), *before = rec;
	char *err = NULL;

	assert_non_null(rec);
	assert_int_equal(wire_runner_record_decode(&rec, &err), -EINVAL);
	assert_ptr_equal(rec, before);
	if (!err || !strstr(err, want))
		fail_msg("refusal of %s: \"%s\" does not name %s", text, err ? err : "", want);
	free(err);
	json_decref(rec);
}

static void test_refusals(void **state)
{
	json_t *other = json_loads("{\"type\":\"newer\",\"whatever\":1}", 0, NULL), *before = other;

	(void)state;
	/* types it does not know are left alone */
	assert_int_equal(wire_runner_record_decode(&other, NULL), 0);
	assert_ptr_equal(other, before);
	json_decref(other);
	expect_refused("{\"type\":\"status\",\"phase\":\"attached\",\"probes\":1,\"extra\":1}", "\"extra\": unknown field");
	expect_refused("{\"type\":\"status\",\"phase\":\"accepted\",\"probes\":1}", "\"phase\"");
	expect_refused("{\"type\":\"status\",\"phase\":\"attached\"}", "\"probes\": missing");
	expect_refused("{\"type\":\"status\",\"phase\":\"alive\",\"probes\":1}", "\"probes\": unknown field");
	expect_refused("{\"type\":\"status\",\"phase\":\"attaching\",\"probes\":1}", "\"done\": missing");
	expect_refused("{\"type\":\"status\",\"phase\":\"attaching\",\"probes\":1,\"done\":5}", "\"done\": more");
	expect_refused("{\"type\":\"status\",\"phase\":\"compiled\",\"probes\":1,\"object\":\"a b\",\"cached\":true}",
		       "\"object\"");
	expect_refused("{\"type\":\"status\",\"phase\":\"compiled\",\"probes\":1,\"object\":\"ab\",\"cached\":1}",
		       "\"cached\"");
	expect_refused("{\"type\":\"status\",\"phase\":\"attached\",\"probes\":-1}", "\"probes\"");
	expect_refused("{\"type\":\"error\"}", "\"message\": missing");
	expect_refused("{\"type\":\"error\",\"message\":\"m\",\"warning\":false}", "\"warning\"");
	expect_refused("{\"type\":\"error\",\"message\":\"m\",\"code\":403}", "\"code\": unknown field");
	expect_refused("{\"type\":\"error\",\"message\":\"m\",\"node\":\"a/b\"}", "\"node\"");
	/* an output record the relay did not splice: wire/output.h's strict reader */
	expect_refused("{\"type\":\"output\",\"pod\":\"a/b\",\"lines\":1,\"text\":\"x\",\"whatever\":1}",
		       "\"whatever\": unknown field");
	expect_refused("{\"type\":\"output\",\"pod\":\"a/b\",\"text\":\"x\"}", "\"lines\"");
	/* a map record's envelope: wire/map.h's strict reader */
	expect_refused("{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"count\",\"keyed\":false,\"entries\":[],\"whatever\":1}",
		       "\"whatever\": unknown field");
	expect_refused("{\"type\":\"map\",\"kind\":\"count\",\"keyed\":false,\"entries\":[]}", "\"name\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_gateway_error),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_runner_texts),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
