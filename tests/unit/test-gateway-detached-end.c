// SPDX-License-Identifier: Apache-2.0
/* gateway/detached-end: the claims a gateway remembers stay bounded, and
 * the bound never drops a claim under way; trace-detached.c's ended
 * traces (gw->sessions_ended) stay bounded too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <jansson.h>
#include "gateway/detached-end.h"
#include "gateway/gateway.h"
#include "gateway/trace-int.h"

#define SEC 1000000000ull

static void key_of(char *out, size_t size, unsigned i)
{
	snprintf(out, size, "node-%u/trace-%u", i % 7, i);
}

/* Many more granted claims than the bound, as a burst of short detached
 * traces leaves: the set holds at most max, forgets the oldest first. */
static void test_claimed_bounded(void **state)
{
	struct gw_claimed cl;
	char key[64];
	uint64_t now = 5 * SEC;

	(void)state;
	assert_int_equal(gw_claimed_init(&cl, 64), 0);
	for (unsigned i = 0; i < 10000; i++) {
		key_of(key, sizeof(key), i);
		assert_int_equal(gw_claimed_begin(&cl, key, now), 1);
		gw_claimed_end(&cl, key, true, now);
		assert_true(gw_claimed_count(&cl) <= 64);
	}
	assert_int_equal(gw_claimed_count(&cl), 64);
	assert_int_equal(cl.forgotten, 10000 - 64);
	/* the newest are remembered: claimed here already */
	key_of(key, sizeof(key), 9999);
	assert_int_equal(gw_claimed_begin(&cl, key, now), 0);
	key_of(key, sizeof(key), 10000 - 64);
	assert_int_equal(gw_claimed_begin(&cl, key, now), 0);
	/* the oldest was forgotten: it may be claimed (its runner says 409) */
	key_of(key, sizeof(key), 0);
	assert_int_equal(gw_claimed_begin(&cl, key, now), 1);
	gw_claimed_release(&cl);
}

/* The default bound is GW_DETEND_MAX_SEEN, above the claims under way. */
static void test_claimed_default(void **state)
{
	struct gw_claimed cl;
	char key[64];

	(void)state;
	assert_true(GW_DETEND_MAX_SEEN > GW_DETEND_MAX_CALLS);
	assert_int_equal(gw_claimed_init(&cl, 0), 0);
	assert_int_equal(cl.max, GW_DETEND_MAX_SEEN);
	for (unsigned i = 0; i < GW_DETEND_MAX_SEEN + 1000; i++) {
		key_of(key, sizeof(key), i);
		assert_int_equal(gw_claimed_begin(&cl, key, SEC), 1);
		gw_claimed_end(&cl, key, true, SEC);
	}
	assert_int_equal(gw_claimed_count(&cl), GW_DETEND_MAX_SEEN);
	gw_claimed_release(&cl);
}

/* A claim under way is never forgotten: with max of them under way a new
 * one is refused (-ENOSPC: the next poll claims it), and a second claim
 * of one under way is not begun. */
static void test_claimed_under_way_kept(void **state)
{
	struct gw_claimed cl;
	char key[64];

	(void)state;
	assert_int_equal(gw_claimed_init(&cl, 4), 0);
	for (unsigned i = 0; i < 4; i++) {
		key_of(key, sizeof(key), i);
		assert_int_equal(gw_claimed_begin(&cl, key, SEC), 1);
		assert_int_equal(gw_claimed_begin(&cl, key, SEC), 0);
	}
	assert_int_equal(gw_claimed_begin(&cl, "node-1/new", SEC), -ENOSPC);
	assert_int_equal(gw_claimed_count(&cl), 4);
	/* one refused by its runner: forgotten at once, claimable again */
	key_of(key, sizeof(key), 2);
	gw_claimed_end(&cl, key, false, 0);
	assert_int_equal(gw_claimed_count(&cl), 3);
	assert_int_equal(gw_claimed_begin(&cl, "node-1/new", SEC), 1);
	/* one granted: the next newcomer takes its place, not an under-way one's */
	key_of(key, sizeof(key), 1);
	gw_claimed_end(&cl, key, true, SEC);
	assert_int_equal(gw_claimed_begin(&cl, "node-1/newer", SEC), 1);
	assert_int_equal(cl.forgotten, 1);
	for (unsigned i = 0; i < 4; i++) {
		if (i == 1 || i == 2)
			continue;
		key_of(key, sizeof(key), i);
		assert_int_equal(gw_claimed_begin(&cl, key, SEC), 0);
	}
	assert_int_equal(gw_claimed_begin(&cl, "node-1/new", SEC), 0);
	gw_claimed_release(&cl);
}

/* A granted claim is remembered GW_DETEND_SEEN_NS, then pruned. */
static void test_claimed_expires(void **state)
{
	struct gw_claimed cl;

	(void)state;
	assert_int_equal(gw_claimed_init(&cl, 0), 0);
	assert_int_equal(gw_claimed_begin(&cl, "node-1/a", 2 * SEC), 1);
	gw_claimed_end(&cl, "node-1/a", true, 2 * SEC);
	assert_int_equal(gw_claimed_begin(&cl, "node-1/a", 2 * SEC + GW_DETEND_SEEN_NS), 0);
	assert_int_equal(gw_claimed_begin(&cl, "node-1/a", 4 * SEC + GW_DETEND_SEEN_NS), 1);
	gw_claimed_release(&cl);
}

/* A burst of short traces within the minute an ended one is remembered:
 * at most TRACE_ENDED_MAX, the newest kept. */
static void test_sessions_ended_bounded(void **state)
{
	struct gateway gw = { 0 };
	struct trace_req t = { .gw = &gw };
	unsigned n = TRACE_ENDED_MAX + 3000;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		snprintf(t.trace_id, sizeof(t.trace_id), "5f0c6a4e-0000-4000-8000-%012u", i);
		trace_detached_ended(&t);
		assert_true(json_object_size(gw.sessions_ended) <= TRACE_ENDED_MAX);
	}
	assert_int_equal(json_object_size(gw.sessions_ended), TRACE_ENDED_MAX);
	assert_non_null(json_object_get(gw.sessions_ended, t.trace_id));
	assert_null(json_object_get(gw.sessions_ended, "5f0c6a4e-0000-4000-8000-000000000000"));
	json_decref(gw.sessions_ended);
}

/* A claim's answer: a lost one (the exchange failed after it was sent, or
 * a 200 that is no session) may have been granted, and is claimed again
 * (again=1), never taken as refused; 404 is the runner's loss. */
static void test_claim_answer(void **state)
{
	(void)state;
	assert_int_equal(gw_detend_answer(0, 200, true), GW_CLAIM_GRANTED);
	assert_int_equal(gw_detend_answer(0, 200, false), GW_CLAIM_UNSURE);
	assert_int_equal(gw_detend_answer(-ETIMEDOUT, 0, false), GW_CLAIM_UNSURE);
	assert_int_equal(gw_detend_answer(-ECONNRESET, 200, false), GW_CLAIM_UNSURE);
	assert_int_equal(gw_detend_answer(0, 404, false), GW_CLAIM_LOST);
	assert_int_equal(gw_detend_answer(0, 409, false), GW_CLAIM_REFUSED);
	assert_int_equal(gw_detend_answer(0, 500, false), GW_CLAIM_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claimed_bounded),
		cmocka_unit_test(test_claimed_default),
		cmocka_unit_test(test_claimed_under_way_kept),
		cmocka_unit_test(test_claimed_expires),
		cmocka_unit_test(test_sessions_ended_bounded),
		cmocka_unit_test(test_claim_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
