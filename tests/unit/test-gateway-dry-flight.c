// SPDX-License-Identifier: Apache-2.0
/* gateway/dry-flight: identical dry runs in flight wait on one, woken from
 * the event loop when it lands, in the order they came; a waiter that
 * goes is never woken; a wake may end other waiters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/event.h>
#include "gateway/dry-flight.h"

struct woken {
	int order[GW_DRY_FLIGHT_WAITERS + 8];
	size_t n;
	struct gw_dry_flight *leave_f;   /* the first wake makes leave_w leave leave_f */
	int *leave_w;
};
static struct woken W;

static void wake(void *w)
{
	W.order[W.n++] = *(int *)w;
	if (W.leave_f) {
		gw_dry_flight_leave(W.leave_f, W.leave_w);
		W.leave_f = NULL;
	}
}

static void key(unsigned char k[LRU_MAC_LEN], unsigned char c)
{
	memset(k, c, LRU_MAC_LEN);
}

static void setup_loop(struct event_base **b, struct gw_dry_flights **fs)
{
	memset(&W, 0, sizeof(W));
	*b = event_base_new();
	assert_non_null(*b);
	assert_int_equal(gw_dry_flights_new(*b, wake, fs), 0);
}

static void test_wait_and_land(void **state)
{
	struct event_base *b;
	struct gw_dry_flights *fs;
	struct gw_dry_flight *f, *got;
	unsigned char k1[LRU_MAC_LEN], k2[LRU_MAC_LEN];
	int w[3] = { 1, 2, 3 };

	(void)state;
	setup_loop(&b, &fs);
	key(k1, 1);
	key(k2, 2);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[0], &got), 0);   /* none yet */
	assert_null(got);
	f = gw_dry_flight_open(fs, k1);
	assert_non_null(f);
	assert_null(gw_dry_flight_open(fs, k1));                        /* one per key */
	assert_int_equal(gw_dry_flight_wait(fs, k2, &w[0], &got), 0);   /* another key */
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[0], &got), 1);
	assert_ptr_equal(got, f);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[1], &got), 1);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[2], &got), 1);
	assert_int_equal(gw_dry_flights_waiting(fs), 3);
	gw_dry_flight_leave(f, &w[1]);
	assert_int_equal(gw_dry_flights_waiting(fs), 2);

	gw_dry_flight_land(f);
	assert_int_equal(W.n, 0);                     /* never from inside the owner's call */
	assert_int_equal(gw_dry_flights_waiting(fs), 0);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[1], &got), 0);   /* landed: nothing to wait on */
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(W.n, 2);
	assert_int_equal(W.order[0], 1);
	assert_int_equal(W.order[1], 3);
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(W.n, 2);                     /* once */

	/* a key opens again once landed */
	f = gw_dry_flight_open(fs, k1);
	assert_non_null(f);
	gw_dry_flight_land(f);                        /* no waiters: gone at once */
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(W.n, 2);
	gw_dry_flights_free(fs);
	event_base_free(b);
}

static void test_wake_ends_another(void **state)
{
	struct event_base *b;
	struct gw_dry_flights *fs;
	struct gw_dry_flight *f1, *f2, *got;
	unsigned char k1[LRU_MAC_LEN], k2[LRU_MAC_LEN];
	int w[4] = { 1, 2, 3, 4 };

	(void)state;
	setup_loop(&b, &fs);
	key(k1, 1);
	key(k2, 2);
	f1 = gw_dry_flight_open(fs, k1);
	f2 = gw_dry_flight_open(fs, k2);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[0], &got), 1);
	assert_int_equal(gw_dry_flight_wait(fs, k1, &w[1], &got), 1);
	assert_int_equal(gw_dry_flight_wait(fs, k2, &w[2], &got), 1);
	assert_int_equal(gw_dry_flight_wait(fs, k2, &w[3], &got), 1);
	gw_dry_flight_land(f1);
	gw_dry_flight_land(f2);
	/* the first woken request ends, and with it the waiter 2 of
	 * flight 1 (landed, not yet woken): the other three are woken,
	 * 2 never is */
	W.leave_f = f1;
	W.leave_w = &w[1];
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(W.n, 3);
	for (size_t i = 0; i < W.n; i++)
		assert_int_not_equal(W.order[i], 2);
	gw_dry_flights_free(fs);
	event_base_free(b);
}

static void test_full_and_free(void **state)
{
	static int w[GW_DRY_FLIGHT_WAITERS + 1];
	struct event_base *b;
	struct gw_dry_flights *fs;
	struct gw_dry_flight *f, *got;
	unsigned char k[LRU_MAC_LEN];

	(void)state;
	setup_loop(&b, &fs);
	key(k, 7);
	f = gw_dry_flight_open(fs, k);
	assert_non_null(f);
	for (int i = 0; i < GW_DRY_FLIGHT_WAITERS; i++)
		assert_int_equal(gw_dry_flight_wait(fs, k, &w[i], &got), 1);
	/* past the bound: the request asks the runner itself */
	assert_int_equal(gw_dry_flight_wait(fs, k, &w[GW_DRY_FLIGHT_WAITERS], &got), 0);
	assert_null(got);
	/* NULL registry (no dry-run cache): nothing waits, nothing opens */
	assert_int_equal(gw_dry_flight_wait(NULL, k, &w[0], &got), 0);
	assert_null(gw_dry_flight_open(NULL, k));
	gw_dry_flight_land(NULL);
	gw_dry_flight_leave(NULL, &w[0]);
	/* landed and freed before the loop runs: no wake (shutdown) */
	gw_dry_flight_land(f);
	assert_null(gw_dry_flights_free(fs));
	event_base_loop(b, EVLOOP_NONBLOCK);
	assert_int_equal(W.n, 0);
	event_base_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_and_land),
		cmocka_unit_test(test_wake_ends_another),
		cmocka_unit_test(test_full_and_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
