// SPDX-License-Identifier: Apache-2.0
/*
 * wire/runner-path.h: every target the gateway writes is routed by the
 * runner to the same path, the targets the gateway has always written
 * route as before, and the router refuses what the runner has always
 * refused, with the same status class and message.
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
#include "wire/runner-path.h"

static void round_trip(const struct wire_rpath *p, const char *want)
{
	struct wire_rpath back;
	char *text = NULL, *err = NULL;

	assert_int_equal(wire_rpath_encode(p, &text), 0);
	assert_string_equal(text, want);
	if (wire_rpath_decode(text, &back, &err) < 0)
		fail_msg("%s: %s", text, err);
	assert_true(wire_rpath_equal(p, &back));
	free(text);
}

static void test_round_trip(void **state)
{
	struct wire_rpath p = { .kind = WIRE_RPATH_SESSIONS };

	(void)state;
	round_trip(&p, "/v1/sessions");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_HEALTHZ };
	round_trip(&p, "/healthz");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_SESSION_END, .id = "0b5e6f2a-1c3d_x.y" };
	round_trip(&p, "/v1/sessions/0b5e6f2a-1c3d_x.y/end");
	/* what trace-probes.c always wrote: pattern= even when empty */
	p = (struct wire_rpath){ .kind = WIRE_RPATH_PROBES, .has_pattern = true, .pattern = "tracepoint:sched:*" };
	round_trip(&p, "/v1/probes?pattern=tracepoint:sched:*");
	p.verbose = true;
	round_trip(&p, "/v1/probes?pattern=tracepoint:sched:*&verbose=1");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_PROBES, .has_pattern = true, .verbose = true };
	round_trip(&p, "/v1/probes?pattern=&verbose=1");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_PROBES, .pattern = "ignored" };
	round_trip(&p, "/v1/probes");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_PROBES, .verbose = true };
	round_trip(&p, "/v1/probes?verbose=1");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_LIST, .ns = "team-a" };
	round_trip(&p, "/v1/detached?namespace=team-a");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_LIST };
	round_trip(&p, "/v1/detached");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED, .id = "t1" };
	round_trip(&p, "/v1/detached/t1");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_LOG, .id = "t1" };
	round_trip(&p, "/v1/detached/t1/log");
	p.follow = true;
	round_trip(&p, "/v1/detached/t1/log?follow=1");
	/* gateway/detached-end.c's poll and claims */
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_UNCLAIMED };
	round_trip(&p, "/v1/detached?unclaimed=1");
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_CLAIM, .id = "t1", .by = "gw-1.12345678" };
	round_trip(&p, "/v1/detached/t1/claim?by=gw-1.12345678");
	p.again = true;
	round_trip(&p, "/v1/detached/t1/claim?by=gw-1.12345678&again=1");
	memset(p.by, 'b', WIRE_RPATH_MAX_CLAIMER);
	p.by[WIRE_RPATH_MAX_CLAIMER] = '\0';
	p.again = false;
	{
		char want[200];

		snprintf(want, sizeof(want), "/v1/detached/t1/claim?by=%s", p.by);
		round_trip(&p, want);
	}
}

static void expect_refused(const char *target, int code, const char *want)
{
	struct wire_rpath p;
	char *err = NULL;

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(wire_rpath_decode(target, &p, &err), code);
	if (!err || strcmp(err, want))
		fail_msg("%s: \"%s\" (wanted \"%s\")", target, err, want);
	assert_int_equal(p.kind, 0x5a5a5a5a);   /* untouched */
	free(err);
}

static void test_refusals(void **state)
{
	static const char nf[] = "no such path (POST or GET /v1/sessions, GET /v1/sessions/ID/end, /v1/detached, "
				 "GET /v1/probes, GET /healthz)";
	static const char bad_id[] = "session id: 1 to 128 letters, digits, '-', '_' and '.'";
	static const char det_nf[] = "no such path (/v1/detached/ID, /v1/detached/ID/log or /v1/detached/ID/claim)";
	static const char list_q[] = "/v1/detached: the only queries are namespace=NS and unclaimed=1";
	static const char claim_q[] = "/v1/detached/ID/claim: the query is by=NAME[&again=1]";
	static const char claim_by[] = "/v1/detached/ID/claim: by=NAME (1 to 128 letters, digits, '-', '_', '.') "
				       "and at most &again=1";
	char big[200];

	(void)state;
	expect_refused("/", -ENOENT, nf);
	expect_refused("/v1/sessions?x=1", -ENOENT, nf);
	expect_refused("/v1/probesx", -ENOENT, nf);
	expect_refused("/healthz/", -ENOENT, nf);
	expect_refused("/v1/sessions/t1", -ENOENT, "no such path (GET /v1/sessions/ID/end)");
	expect_refused("/v1/sessions//end", -ENOENT, "no such path (GET /v1/sessions/ID/end)");
	expect_refused("/v1/sessions/t1/end?x", -ENOENT, "no such path (GET /v1/sessions/ID/end)");
	expect_refused("/v1/sessions/t%201/end", -EINVAL, "session id: only letters, digits, '-', '_' and '.'");
	memset(big, 'a', sizeof(big));
	memcpy(big, "/v1/sessions/", 13);
	memcpy(big + 13 + 129, "/end", 5);
	expect_refused(big, -ENOENT, "no such path (GET /v1/sessions/ID/end)");
	expect_refused("/v1/probes?pattern=a&pattern=b", -EINVAL,
		       "/v1/probes: query parameters are pattern=GLOB and verbose=1");
	expect_refused("/v1/probes?verbose=true", -EINVAL, "/v1/probes: query parameters are pattern=GLOB and verbose=1");
	expect_refused("/v1/detached?ns=a", -EINVAL, list_q);
	expect_refused("/v1/detached?namespace=", -EINVAL, list_q);
	expect_refused("/v1/detached?namespace=a/b", -EINVAL, list_q);
	expect_refused("/v1/detached?unclaimed=0", -EINVAL, list_q);
	expect_refused("/v1/detached?unclaimed=1&namespace=a", -EINVAL, list_q);
	expect_refused("/v1/detached?namespace=a&unclaimed=1", -EINVAL, list_q);
	expect_refused("/v1/detached/", -EINVAL, bad_id);
	expect_refused("/v1/detached/a b", -EINVAL, bad_id);
	expect_refused("/v1/detached/t1/logs", -ENOENT, det_nf);
	expect_refused("/v1/detached/t1/end", -ENOENT, det_nf);
	expect_refused("/v1/detached/t1?follow=1", -EINVAL, "the only query is follow=1, on /v1/detached/ID/log");
	expect_refused("/v1/detached/t1/log?follow=true", -EINVAL, "the only query is follow=1, on /v1/detached/ID/log");
	expect_refused("/v1/detached/t1/claims?by=a", -ENOENT, det_nf);
	expect_refused("/v1/detached/t1/claim/x?by=a", -ENOENT, det_nf);
	expect_refused("/v1/detached/a b/claim?by=a", -EINVAL, bad_id);
	expect_refused("/v1/detached/t1/claim", -EINVAL, claim_q);
	expect_refused("/v1/detached/t1/claim?again=1&by=a", -EINVAL, claim_q);
	expect_refused("/v1/detached/t1/claim?follow=1", -EINVAL, claim_q);
	expect_refused("/v1/detached/t1/claim?by=", -EINVAL, claim_by);
	expect_refused("/v1/detached/t1/claim?by=&again=1", -EINVAL, claim_by);
	expect_refused("/v1/detached/t1/claim?by=a/b", -EINVAL, claim_by);
	expect_refused("/v1/detached/t1/claim?by=a&again=2", -EINVAL, claim_by);
	expect_refused("/v1/detached/t1/claim?by=a&again=1&again=1", -EINVAL, claim_by);
	expect_refused("/v1/detached/t1/claim?by=a&by=b", -EINVAL, claim_by);
	memset(big, 'a', sizeof(big));
	memcpy(big, "/v1/detached/t1/claim?by=", 25);
	big[25 + WIRE_RPATH_MAX_CLAIMER + 1] = '\0';
	expect_refused(big, -EINVAL, claim_by);
	big[25 + WIRE_RPATH_MAX_CLAIMER] = '\0';
	{
		struct wire_rpath p;
		char *err = NULL;

		assert_int_equal(wire_rpath_decode(big, &p, &err), 0);   /* 128: the bound */
		assert_int_equal(p.kind, WIRE_RPATH_DETACHED_CLAIM);
		assert_int_equal(strlen(p.by), WIRE_RPATH_MAX_CLAIMER);
		assert_false(p.again);
	}
}

/* The writer writes nothing the router would refuse or read otherwise. */
static void test_encode_refuses(void **state)
{
	struct wire_rpath p = { .kind = WIRE_RPATH_PROBES, .has_pattern = true, .pattern = "a&verbose=1" };
	char *text = NULL;

	(void)state;
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);
	snprintf(p.pattern, sizeof(p.pattern), "a%%26");
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED, .id = "a/log" };
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);
	p = (struct wire_rpath){ .kind = WIRE_RPATH_SESSION_END };
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);   /* no id */
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_LIST, .ns = "a?b" };
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_CLAIM, .id = "t1" };
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);   /* no claimer */
	snprintf(p.by, sizeof(p.by), "gw&again=1");
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);
	p = (struct wire_rpath){ .kind = WIRE_RPATH_DETACHED_CLAIM, .by = "gw" };
	assert_int_equal(wire_rpath_encode(&p, &text), -EINVAL);   /* no id */
	assert_null(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_encode_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
