// SPDX-License-Identifier: Apache-2.0
/* Identical dry runs in flight at once (gateway/dry-flight.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "gateway/dry-flight.h"
#include "lib/banned.h"

struct gw_dry_flight {
	struct gw_dry_flights *fs;
	unsigned char key[LRU_MAC_LEN];
	void **waiters;                /* in the order they came */
	size_t n, cap;
	struct gw_dry_flight *prev, *next;   /* in fs->open or fs->landed */
};

struct gw_dry_flights {
	gw_dry_wake_fn wake;
	struct event *ev;              /* wakes the landed flights' waiters */
	struct gw_dry_flight *open;
	struct gw_dry_flight *landed;
};

static void list_del(struct gw_dry_flight **head, struct gw_dry_flight *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		*head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
}

static void list_add(struct gw_dry_flight **head, struct gw_dry_flight *f)
{
	f->prev = NULL;
	f->next = *head;
	if (*head)
		(*head)->prev = f;
	*head = f;
}

static void flight_free(struct gw_dry_flight *f)
{
	free(f->waiters);
	free(f);
}

/* Each landed flight's waiters, first come first woken.  A wake may end
 * other requests, which leave this or other landed flights: each waiter
 * is taken off its flight before it is woken. */
static void flights_wake(evutil_socket_t fd, short what, void *ud)
{
	struct gw_dry_flights *fs = ud;
	struct gw_dry_flight *f;

	(void)fd;
	(void)what;
	while ((f = fs->landed)) {
		while (f->n) {
			void *w = f->waiters[0];

			memmove(f->waiters, f->waiters + 1, (f->n - 1) * sizeof(*f->waiters));
			f->n--;
			fs->wake(w);
		}
		list_del(&fs->landed, f);
		flight_free(f);
	}
}

int gw_dry_flights_new(struct event_base *base, gw_dry_wake_fn wake, struct gw_dry_flights **ret)
{
	struct gw_dry_flights *fs = calloc(1, sizeof(*fs));

	*ret = NULL;
	if (!fs)
		return -ENOMEM;
	fs->wake = wake;
	fs->ev = event_new(base, -1, 0, flights_wake, fs);
	if (!fs->ev) {
		free(fs);
		return -ENOMEM;
	}
	*ret = fs;
	return 0;
}

struct gw_dry_flights *gw_dry_flights_free(struct gw_dry_flights *fs)
{
	struct gw_dry_flight *f;

	if (!fs)
		return NULL;
	while ((f = fs->open)) {
		list_del(&fs->open, f);
		flight_free(f);
	}
	while ((f = fs->landed)) {
		list_del(&fs->landed, f);
		flight_free(f);
	}
	event_free(fs->ev);
	free(fs);
	return NULL;
}

static struct gw_dry_flight *flight_find(const struct gw_dry_flights *fs, const unsigned char key[LRU_MAC_LEN])
{
	for (struct gw_dry_flight *f = fs->open; f; f = f->next)
		if (!memcmp(f->key, key, LRU_MAC_LEN))
			return f;
	return NULL;
}

int gw_dry_flight_wait(struct gw_dry_flights *fs, const unsigned char key[LRU_MAC_LEN], void *w,
		       struct gw_dry_flight **ret)
{
	struct gw_dry_flight *f;

	*ret = NULL;
	if (!fs || !(f = flight_find(fs, key)) || f->n >= GW_DRY_FLIGHT_WAITERS)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		void **v = realloc(f->waiters, cap * sizeof(*v));

		if (!v)
			return 0;
		f->waiters = v;
		f->cap = cap;
	}
	f->waiters[f->n++] = w;
	*ret = f;
	return 1;
}

struct gw_dry_flight *gw_dry_flight_open(struct gw_dry_flights *fs, const unsigned char key[LRU_MAC_LEN])
{
	struct gw_dry_flight *f;

	if (!fs || flight_find(fs, key) || !(f = calloc(1, sizeof(*f))))
		return NULL;
	f->fs = fs;
	memcpy(f->key, key, LRU_MAC_LEN);
	list_add(&fs->open, f);
	return f;
}

void gw_dry_flight_land(struct gw_dry_flight *f)
{
	struct gw_dry_flights *fs;

	if (!f)
		return;
	fs = f->fs;
	list_del(&fs->open, f);
	if (!f->n) {
		flight_free(f);
		return;
	}
	list_add(&fs->landed, f);
	event_active(fs->ev, 0, 0);
}

void gw_dry_flight_leave(struct gw_dry_flight *f, void *w)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (f->waiters[i] == w) {
			memmove(f->waiters + i, f->waiters + i + 1, (f->n - i - 1) * sizeof(*f->waiters));
			f->n--;
			return;
		}
}

size_t gw_dry_flights_waiting(const struct gw_dry_flights *fs)
{
	size_t n = 0;

	for (const struct gw_dry_flight *f = fs ? fs->open : NULL; f; f = f->next)
		n += f->n;
	return n;
}
