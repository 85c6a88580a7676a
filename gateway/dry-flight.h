/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identical dry runs in flight at once ask a runner once.  A dry run's
 * node whose check the dry-run cache does not hold (dry-cache.h) looks
 * for a flight of its key: none, and it opens one and asks the runner
 * (the owner); one, and it waits on it (a waiter) instead of opening a
 * second session on that runner for the same check.  A burst of one
 * caller's identical `kubectl trace check` (a CI job fanned out) is one
 * compile, not one per request up to the runner's session limit and 429s
 * beyond it.  The key is the dry-run cache's, so only one caller's own
 * identical checks ever share a flight.
 *
 * When the owner's session ends, however it ended (checked, refused,
 * failed, its request gone), the flight lands: every waiter is woken
 * from the event loop, never from inside the owner's callback, and looks
 * in the cache again.  The owner's answer is stored there first when it
 * checked; otherwise the waiter asks the runner itself, so a waiter never
 * takes a failure that was not its own.  A waiter whose request goes
 * first leaves the flight.  At most GW_DRY_FLIGHT_WAITERS wait on one
 * flight; past that a request asks the runner as before.
 */
#ifndef TG_GATEWAY_DRY_FLIGHT_H
#define TG_GATEWAY_DRY_FLIGHT_H

#include <stdbool.h>
#include "lib/lru.h"

#define GW_DRY_FLIGHT_WAITERS 256

struct event_base;
struct gw_dry_flights;
struct gw_dry_flight;

/* wake(waiter): called once for each waiter of a landed flight, from the
 * event loop. */
typedef void (*gw_dry_wake_fn)(void *waiter);

int gw_dry_flights_new(struct event_base *base, gw_dry_wake_fn wake, struct gw_dry_flights **ret);
/* Frees every flight, landed or not, without waking anyone (shutdown). */
struct gw_dry_flights *gw_dry_flights_free(struct gw_dry_flights *fs);

/* Joins the flight of key as waiter w: 1 and the flight in *ret; 0 when
 * there is none (w should open one) or it is full.  fs NULL: 0. */
int gw_dry_flight_wait(struct gw_dry_flights *fs, const unsigned char key[LRU_MAC_LEN], void *w,
		       struct gw_dry_flight **ret);
/* Opens the flight of key, its owner asking the runner now: the flight, or
 * NULL (fs NULL, out of memory, or one already open: the caller asks
 * alone). */
struct gw_dry_flight *gw_dry_flight_open(struct gw_dry_flights *fs, const unsigned char key[LRU_MAC_LEN]);
/* The owner's session ended: its waiters are woken from the event loop.
 * f is the caller's no more. */
void gw_dry_flight_land(struct gw_dry_flight *f);
/* Waiter w goes without waiting for the flight (its request ended). */
void gw_dry_flight_leave(struct gw_dry_flight *f, void *w);
/* Waiters on open flights (for tests and the log). */
size_t gw_dry_flights_waiting(const struct gw_dry_flights *fs);

#endif
