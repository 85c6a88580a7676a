// SPDX-License-Identifier: Apache-2.0
/*
 * print() maps of a live trace, per tick (docs/internals/gateway.md,
 * "Streaming prints").  The runner marks a map record that a print() made
 * ("print": true); the N-th print of map @m on one node is the same tick's
 * as the N-th print of @m on every other node, so the gateway merges them
 * (output_map_merge) into one record, the group (@m, N), and sends it when
 * every node still running has sent its own, or TRACE_PRINT_WAIT_MS after
 * the first one came (a slow node does not hold the others longer), or
 * when the held bytes pass their bound.  A node whose print waits has its
 * next records held behind it, so each node's order (printf, print, ...)
 * is bpftrace's.  A print that comes after its group went out (the slow
 * node) goes out on its own, with its node.  A trace of one node never
 * waits: its group is complete at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <jansson.h>
#include "gateway/gateway.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/util.h"
#include "output/output.h"
#include "lib/banned.h"

/* all the groups waiting together, at most (then the oldest goes out) */
#define TRACE_PRINT_MAX_BYTES (16u << 20)

/* The print state of one trace (t->print), made by its first print */
struct trace_print {
	struct print_group *groups;    /* waiting for every node's of the same tick */
	size_t bytes;                  /* of the groups waiting */
	json_t *emitted;               /* {map name: highest tick emitted} */
	struct event *timer;           /* the earliest group's deadline; held ends */
	bool pumping;
	bool flushing;                 /* the trace ends: prints go out as they come */
};

struct print_group {
	struct print_group *next;
	char *name;
	json_int_t seq;
	json_t *map;        /* merged so far */
	bool *from;         /* [t->fan.nlegs]: the legs whose print is in it */
	size_t bytes;
	uint64_t deadline_ns;
};

static void group_free(struct print_group *g)
{
	if (!g)
		return;
	free(g->name);
	json_decref(g->map);
	free(g->from);
	free(g);
}

/* Still to send its print of a tick: its records are not all in yet. */
static bool leg_active(const struct leg *l)
{
	return !l->has_end && !l->error && !(l->done && !l->done_deferred) && l->status == 200;
}

static bool group_complete(const struct trace_req *t, const struct print_group *g)
{
	for (size_t i = 0; i < t->fan.nlegs; i++)
		if (!g->from[i] && leg_active(&t->fan.legs[i]))
			return false;
	return true;
}

/* Sends g and frees it; the legs that waited on it go on. */
static void group_emit(struct trace_req *t, struct print_group *g)
{
	struct print_group **pp;
	size_t n = 0, last = 0;
	json_t *seen;

	for (pp = &t->print->groups; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		if (g->from[i]) {
			n++;
			last = i;
		}
		if (t->fan.legs[i].blocked_on == g)
			t->fan.legs[i].blocked_on = NULL;
	}
	/* one node's print says whose it is; a merged one is everyone's */
	if (n == 1)
		json_object_set_new(g->map, "node", json_string(t->fan.legs[last].runner->node));
	else
		json_object_del(g->map, "node");
	(void)trace_emit(t, g->map);
	seen = json_object_get(t->print->emitted, g->name);
	if (!seen || json_integer_value(seen) < g->seq)
		json_object_set_new(t->print->emitted, g->name, json_integer(g->seq));
	t->print->bytes -= MIN(t->print->bytes, g->bytes);
	group_free(g);
}

/* The earliest deadline, or at once when a held transfer end can go. */
static void print_arm(struct trace_req *t)
{
	uint64_t now = now_mono_ns(), at = UINT64_MAX;
	struct timeval tv;

	if (!t->print || !t->print->timer || t->finishing)
		return;
	for (struct print_group *g = t->print->groups; g; g = g->next)
		at = MIN(at, g->deadline_ns);
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		const struct leg *l = &t->fan.legs[i];

		if (l->done_deferred && !l->blocked_on && !json_array_size(l->held))
			at = now;
	}
	if (at == UINT64_MAX) {
		evtimer_del(t->print->timer);
		return;
	}
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000000000u);
	tv.tv_usec = (suseconds_t)(at % 1000000000u / 1000u);
	evtimer_add(t->print->timer, &tv);
}

/* Complete groups go out; legs no longer waiting replay what they held;
 * again until nothing changes. */
void trace_print_pump(struct trace_req *t)
{
	bool changed;

	/* no print yet: no group, nothing held */
	if (!t->print || t->print->pumping || t->finishing)
		return;
	t->print->pumping = true;
	do {
		struct print_group *g, *next;

		changed = false;
		for (g = t->print->groups; g; g = next) {
			next = g->next;
			if (group_complete(t, g)) {
				group_emit(t, g);
				changed = true;
				break;   /* the list changed under next */
			}
		}
		for (size_t i = 0; i < t->fan.nlegs; i++) {
			struct leg *l = &t->fan.legs[i];
			_cleanup_(json_decrefp) json_t *held = NULL;
			size_t k;
			json_t *h;

			if (l->blocked_on || !json_array_size(l->held))
				continue;
			held = TAKE_PTR(l->held);
			l->held = json_array();
			l->held_bytes = 0;
			if (!l->held) {
				trace_leg_fail(l, "node \"%s\": out of memory", l->runner->node);
				continue;
			}
			changed = true;
			json_array_foreach(held, k, h) {
				json_t *rec = json_object_get(h, "r");
				size_t n = (size_t)json_integer_value(json_object_get(h, "n"));

				if (l->blocked_on)
					(void)trace_print_hold(l, rec, n);
				else
					(void)t->flow->leg_record(l, rec, n);
			}
		}
	} while (changed);
	t->print->pumping = false;
	print_arm(t);
}

static void print_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct trace_req *t = arg;
	uint64_t now = now_mono_ns();
	struct print_group *g;

	(void)fd;
	(void)what;
	/* a client that left: the trace ends with the runners' kept counts */
	if (t->finishing || t->client_left)
		return;
	/* past their wait: out with the nodes that came */
	while ((g = t->print->groups)) {
		for (; g && g->deadline_ns > now; g = g->next)
			;
		if (!g)
			break;
		group_emit(t, g);
	}
	trace_print_pump(t);
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];

		if (l->done_deferred && !l->blocked_on && !json_array_size(l->held) &&
		    t->flow->leg_done_finish(l))
			return;   /* the trace ended: t is freed */
	}
	print_arm(t);
}

bool trace_print_hold(struct leg *l, json_t *rec, size_t len)
{
	struct trace_req *t = l->t;
	json_t *h;

	if (!l->blocked_on)
		return false;
	if (!l->held)
		l->held = json_array();
	h = json_pack("{s:O, s:I}", "r", rec, "n", (json_int_t)len);
	if (!l->held || !h || json_array_append_new(l->held, h) < 0) {
		trace_leg_fail(l, "node \"%s\": out of memory", l->runner->node);
		return true;
	}
	l->held_bytes += len;
	/* too much behind one print: it goes out with the nodes that came */
	if (l->held_bytes > TRACE_PRINT_HOLD_BYTES && !t->print->pumping) {
		group_emit(t, l->blocked_on);
		trace_print_pump(t);
	}
	return true;
}

int trace_print_map(struct leg *l, json_t *rec, size_t len)
{
	struct trace_req *t = l->t;
	const char *name = json_string_value(json_object_get(rec, "name"));
	struct print_group *g, **tail;
	json_int_t seq;
	json_t *seen;
	size_t i = (size_t)(l - t->fan.legs);

	if (!name) {
		trace_leg_fail(l, "runner \"%s\" sent a map record without a name", l->runner->node);
		return -EINVAL;
	}
	if (!t->print)
		t->print = calloc(1, sizeof(*t->print));
	if (!t->print)
		return -ENOMEM;
	if (!l->nprints)
		l->nprints = json_object();
	if (!t->print->emitted)
		t->print->emitted = json_object();
	if (!l->nprints || !t->print->emitted)
		return -ENOMEM;
	seq = json_integer_value(json_object_get(l->nprints, name));
	if (json_object_set_new(l->nprints, name, json_integer(seq + 1)) < 0)
		return -ENOMEM;
	if (t->print->flushing) {
		json_object_set_new(rec, "node", json_string(l->runner->node));
		return trace_emit(t, rec);
	}
	for (tail = &t->print->groups; (g = *tail); tail = &g->next)
		if (g->seq == seq && !strcmp(g->name, name))
			break;
	if (!g) {
		seen = json_object_get(t->print->emitted, name);
		if (seen && json_integer_value(seen) >= seq) {
			/* its tick went out without it: late, on its own */
			json_object_set_new(rec, "node", json_string(l->runner->node));
			return trace_emit(t, rec);
		}
		g = calloc(1, sizeof(*g));
		if (!g || !(g->from = calloc(MAX(t->fan.legs_cap, t->fan.nlegs), sizeof(*g->from))) || !(g->name = strdup(name)) ||
		    !(g->map = json_deep_copy(rec))) {
			group_free(g);
			return -ENOMEM;
		}
		g->seq = seq;
		g->deadline_ns = now_mono_ns() + TRACE_PRINT_WAIT_MS * 1000000ull;
		*tail = g;
	} else if (g->from[i]) {
		/* cannot happen: this leg's seq is new */
		return -EINVAL;
	} else if (output_map_merge(g->map, rec) < 0) {
		trace_leg_fail(l, "map \"%s\" from runner \"%s\" does not merge with the others", name,
			       l->runner->node);
		return -EINVAL;
	}
	g->from[i] = true;
	g->bytes += len;
	t->print->bytes += len;
	l->blocked_on = g;
	if (t->print->bytes > TRACE_PRINT_MAX_BYTES && !t->print->pumping)
		group_emit(t, t->print->groups);
	if (!t->print->timer) {
		t->print->timer = evtimer_new(t->gw->base, print_timer_fired, t);
		if (!t->print->timer)
			return -ENOMEM;
	}
	trace_print_pump(t);
	return 0;
}

void trace_print_flush(struct trace_req *t)
{
	/* no print yet: none waits, and a print from now on goes out at once */
	if (!t->print)
		t->print = calloc(1, sizeof(*t->print));
	if (!t->print)
		return;
	t->print->flushing = true;
	while (t->print->groups)
		group_emit(t, t->print->groups);
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		struct leg *l = &t->fan.legs[i];
		_cleanup_(json_decrefp) json_t *held = TAKE_PTR(l->held);
		size_t k;
		json_t *h;

		l->blocked_on = NULL;
		l->held_bytes = 0;
		json_array_foreach(held, k, h)
			(void)t->flow->leg_record(l, json_object_get(h, "r"),
						  (size_t)json_integer_value(json_object_get(h, "n")));
	}
}

void trace_print_free(struct trace_req *t)
{
	struct trace_print *p = TAKE_PTR(t->print);
	struct print_group *g;

	while (p && (g = p->groups)) {
		p->groups = g->next;
		group_free(g);
	}
	if (p && p->timer)
		event_free(p->timer);
	if (p)
		json_decref(p->emitted);
	free(p);
	for (size_t i = 0; i < t->fan.nlegs; i++) {
		json_decref(t->fan.legs[i].held);
		json_decref(t->fan.legs[i].nprints);
		free(t->fan.legs[i].done_err);
	}
}
