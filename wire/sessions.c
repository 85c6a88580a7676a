// SPDX-License-Identifier: Apache-2.0
/*
 * The runner's session listing (wire/sessions.h): one encoder for the
 * runner, one strict decoder for the gateway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/session.h"
#include "wire/sessions.h"
#include "lib/banned.h"

static const char *const states[] = { "Pending", "Running", "Stopping", "Succeeded", "Failed", NULL };

bool wire_sessions_state_live(const char *s)
{
	return s && (!strcmp(s, "Running") || !strcmp(s, "Pending") || !strcmp(s, "Stopping"));
}

static void item_release(struct wire_session_item *it)
{
	free(it->trace);
	free(it->ns);
	free(it->user);
	free(it->state);
}

void wire_sessions_release(struct wire_sessions *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		item_release(&l->items[i]);
	free(l->items);
	free(l->node);
	memset(l, 0, sizeof(*l));
}

struct wire_sessions *wire_sessions_free(struct wire_sessions *l)
{
	wire_sessions_release(l);
	free(l);
	return NULL;
}

int wire_sessions_add(struct wire_sessions *l, const struct wire_session_item *item)
{
	struct wire_session_item *a, *it;

	a = realloc(l->items, (l->n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	l->items = a;
	it = &a[l->n];
	*it = (struct wire_session_item){ .trace = strdup(item->trace), .ns = strdup(item->ns),
					  .user = strdup(item->user), .state = strdup(item->state),
					  .detached = item->detached };
	if (!it->trace || !it->ns || !it->user || !it->state) {
		item_release(it);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

/* ---- decoding ------------------------------------------------------------- */

static int decode_item(json_t *o, size_t i, struct wire_session_item *it, char **ret_err)
{
	static const char *const names[] = { "trace", "namespace", "user", "state", "detached", NULL };
	char where[32];
	json_t *d = json_object_get(o, "detached");
	const char *const *s;
	int r;

	snprintf(where, sizeof(where), "items[%zu].", i);
	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "items[%zu]: not an object", i);
	if ((r = wire_only_members(o, where, names, ret_err)) < 0 ||
	    (r = wire_str_field(o, "trace", where, true, SESSION_MAX_TRACE_ID, true, &it->trace, ret_err)) < 0 ||
	    (r = wire_text_field(o, "namespace", where, 0, SESSION_MAX_OWNER_NS, &it->ns, ret_err)) < 0 ||
	    (r = wire_text_field(o, "user", where, 1, SESSION_MAX_USER, &it->user, ret_err)) < 0 ||
	    (r = wire_str_field(o, "state", where, true, 16, true, &it->state, ret_err)) < 0)
		return r;
	for (s = states; *s && strcmp(*s, it->state); s++)
		;
	if (!*s)
		return tg_fail(ret_err, -EINVAL, "%s\"state\": not Pending, Running, Stopping, Succeeded or Failed",
			       where);
	if (!json_is_boolean(d))
		return tg_fail(ret_err, -EINVAL, "%s\"detached\": not a boolean", where);
	it->detached = json_is_true(d);
	return 0;
}

int wire_sessions_decode(const char *text, size_t len, struct wire_sessions *ret, char **ret_err)
{
	static const char *const names[] = { "node", "items", NULL };
	_cleanup_(wire_sessions_release) struct wire_sessions l = { 0 };
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *items, *o;
	size_t i;
	int r;

	if ((r = wire_json_object(text, len, WIRE_SESSIONS_MAX_BODY, "session list", &j, ret_err)) < 0)
		return r;
	items = json_object_get(j, "items");
	if ((r = wire_only_members(j, "", names, ret_err)) < 0 ||
	    (r = wire_str_field(j, "node", "", true, SESSION_MAX_NAME, true, &l.node, ret_err)) < 0)
		return r;
	if (!json_is_array(items) || json_array_size(items) > WIRE_SESSIONS_MAX_ITEMS)
		return tg_fail(ret_err, -EINVAL, "\"items\": not an array of at most %u sessions",
			       WIRE_SESSIONS_MAX_ITEMS);
	if (json_array_size(items) && !(l.items = calloc(json_array_size(items), sizeof(*l.items))))
		return -ENOMEM;
	json_array_foreach(items, i, o) {
		r = decode_item(o, i, &l.items[i], ret_err);
		l.n++;          /* released whole or half */
		if (r < 0)
			return r;
	}
	*ret = l;
	memset(&l, 0, sizeof(l));
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

int wire_sessions_encode(const struct wire_sessions *l, char **ret_text)
{
	_cleanup_(json_decrefp) json_t *items = json_array(), *all = NULL;
	char *text;

	if (!l->node)
		return -EINVAL;
	for (size_t i = 0; items && i < l->n; i++) {
		const struct wire_session_item *it = &l->items[i];

		if (!it->trace || !it->ns || !it->user || !it->state)
			return -EINVAL;
		if (json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:b}", "trace", it->trace,
							   "namespace", it->ns, "user", it->user, "state",
							   it->state, "detached", it->detached)) < 0)
			return -ENOMEM;
	}
	all = items ? json_pack("{s:s, s:O}", "node", l->node, "items", items) : NULL;
	text = all ? json_dumps(all, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

bool wire_sessions_equal(const struct wire_sessions *a, const struct wire_sessions *b)
{
	if (!wire_str_eq(a->node, b->node) || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct wire_session_item *x = &a->items[i], *y = &b->items[i];

		if (!wire_str_eq(x->trace, y->trace) || !wire_str_eq(x->ns, y->ns) || !wire_str_eq(x->user, y->user) ||
		    !wire_str_eq(x->state, y->state) || x->detached != y->detached)
			return false;
	}
	return true;
}
