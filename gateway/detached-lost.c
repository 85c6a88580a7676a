// SPDX-License-Identifier: Apache-2.0
/*
 * The detached sessions whose runner lost them (detached-lost.h,
 * docs/audit.md "Detached traces' ends").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/detached-lost.h"
#include "gateway/event.h"
#include "kube/kube.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/banned.h"

struct gw_detlost {
	json_t *kept;           /* "node/trace" -> template with "node" */
};

struct gw_detlost *gw_detlost_new(void)
{
	struct gw_detlost *dl = calloc(1, sizeof(*dl));

	if (dl && !(dl->kept = json_object())) {
		free(dl);
		return NULL;
	}
	return dl;
}

struct gw_detlost *gw_detlost_free(struct gw_detlost *dl)
{
	if (dl) {
		json_decref(dl->kept);
		free(dl);
	}
	return NULL;
}

/* ---- templates ------------------------------------------------------------------ */

static bool tpl_ok(json_t *tpl)
{
	return json_is_string(json_object_get(tpl, "auditID")) && json_is_string(json_object_get(tpl, "trace")) &&
	       json_is_string(json_object_get(tpl, "ns")) && json_is_string(json_object_get(tpl, "target")) &&
	       json_is_string(json_object_get(tpl, "user")) && json_is_array(json_object_get(tpl, "groups"));
}

json_t *gw_detlost_tpl_session(json_t *s)
{
	/* the session's member, the template's */
	static const char *const keys[][2] = { { "auditID", "auditID" }, { "trace", "trace" }, { "node", "node" },
					       { "namespace", "ns" }, { "target", "target" }, { "user", "user" },
					       { "groups", "groups" }, { "requester", "requester" },
					       { "duration", "duration" }, { "pods", "pods" } };
	_cleanup_(json_decrefp) json_t *tpl = json_object();

	for (size_t i = 0; tpl && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(s, keys[i][0]) && json_object_set(tpl, keys[i][1], json_object_get(s, keys[i][0])) < 0)
			return NULL;
	return tpl_ok(tpl) ? TAKE_PTR(tpl) : NULL;
}

json_t *gw_detlost_tpl_create(json_t *rec)
{
	json_t *tg = json_object_get(rec, "tracegate"), *ref = json_object_get(rec, "objectRef");
	json_t *user = json_object_get(rec, "user"), *imp = json_object_get(rec, "impersonatedUser");
	json_t *owner = imp ? imp : user, *groups = json_object_get(owner, "groups");
	_cleanup_(json_decrefp) json_t *tpl = NULL;

	/* as the create was recorded: an impersonator is "user", the owner
	 * "impersonatedUser" (trace-req.c) */
	tpl = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:o, s:O?}", "auditID", json_object_get(rec, "auditID"),
			"trace", json_object_get(tg, "trace"), "ns", json_object_get(ref, "namespace"), "target",
			json_object_get(tg, "target"), "user", json_object_get(owner, "username"), "groups",
			json_is_array(groups) ? json_incref(groups) : json_array(), "duration",
			json_object_get(tg, "duration"));
	if (tpl && imp && json_is_string(json_object_get(user, "username")))
		json_object_set(tpl, "requester", json_object_get(user, "username"));
	return tpl_ok(tpl) ? TAKE_PTR(tpl) : NULL;
}

/* ---- the set -------------------------------------------------------------------- */

static char *key_of(const char *node, const char *trace)
{
	char *k = NULL;

	return asprintf(&k, "%s/%s", node, trace) < 0 ? NULL : k;
}

int gw_detlost_add(struct gw_detlost *dl, json_t *tpl, const char *node)
{
	const char *trace = json_string_value(json_object_get(tpl, "trace"));
	_cleanup_(json_decrefp) json_t *t = NULL;
	_cleanup_free_ char *k = NULL;

	if (!trace || !node)
		return -EINVAL;
	if (!(k = key_of(node, trace)))
		return -ENOMEM;
	if (json_object_get(dl->kept, k))
		return 0;
	if (json_object_size(dl->kept) >= GW_DETLOST_MAX)
		return -E2BIG;
	t = json_deep_copy(tpl);
	if (!t || json_object_set_new(t, "node", json_string(node)) < 0 ||
	    json_object_set(dl->kept, k, t) < 0)
		return -ENOMEM;
	return 0;
}

void gw_detlost_forget(struct gw_detlost *dl, const char *node, const char *trace)
{
	_cleanup_free_ char *k = key_of(node, trace);

	if (k)
		json_object_del(dl->kept, k);
}

bool gw_detlost_has_node(const struct gw_detlost *dl, const char *node)
{
	const char *k;
	json_t *t;

	json_object_foreach(dl->kept, k, t)
		if (!strcmp(json_string_value(json_object_get(t, "node")), node))
			return true;
	return false;
}

json_t *gw_detlost_absent(const struct gw_detlost *dl, const char *node, json_t *listed)
{
	json_t *out = json_array(), *t;
	const char *k;

	json_object_foreach(dl->kept, k, t) {
		const char *trace = json_string_value(json_object_get(t, "trace"));

		if (out && !strcmp(json_string_value(json_object_get(t, "node")), node) &&
		    !json_object_get(listed, trace))
			json_array_append_new(out, json_string(trace));
	}
	return out;
}

/* ---- the record ----------------------------------------------------------------- */

static json_t *lost_tg(json_t *tpl, const char *why)
{
	const char *node = json_string_value(json_object_get(tpl, "node"));
	/* no counts, none invented (docs/audit.md, "Runner lost"); its
	 * strings are borrowed: a is only encoded, never released */
	struct gw_audit_end a = {
		.reason = (char *)"runner-lost",
		.message = (char *)"the node's runner no longer knew the session (it restarted, or it forgot an end "
				   "nobody claimed): its end and counts are unknown",
		.counts_missing = true,
		.detached_end = true,
		.after_restart = !strcmp(why, "restart"),
		.node = (char *)node,
		.claimed_by = (char *)why,
	};
	_cleanup_(json_decrefp) json_t *tg = json_pack("{s:O, s:O}", "trace", json_object_get(tpl, "trace"),
							"target", json_object_get(tpl, "target"));

	if (!tg || gw_audit_end_to_json(&a, tg) < 0)
		return NULL;
	if (json_object_get(tpl, "pods"))
		json_object_set(tg, "pods", json_object_get(tpl, "pods"));
	if (json_is_integer(json_object_get(tpl, "duration")))
		json_object_set(tg, "duration", json_object_get(tpl, "duration"));
	return TAKE_PTR(tg);
}

static json_t *lost_record(json_t *tpl, const char *why, uint64_t now)
{
	json_t *groups = json_object_get(tpl, "groups"), *g;
	_cleanup_(json_decrefp) json_t *tg = lost_tg(tpl, why);
	_cleanup_free_ char **gv = calloc(json_array_size(groups) + 1, sizeof(*gv));
	_cleanup_free_ char *reason = NULL;
	size_t i, n = 0;

	if (!tg || !gv ||
	    asprintf(&reason, "detached trace ended on node \"%s\" (runner-lost), found by %s",
		     json_string_value(json_object_get(tpl, "node")), why) < 0)
		return NULL;
	json_array_foreach(groups, i, g)
		if (json_is_string(g))
			gv[n++] = (char *)json_string_value(g);
	return gw_event_detached_end(&(struct gw_detached_start){
					     .audit_id = json_string_value(json_object_get(tpl, "auditID")),
					     .ns = json_string_value(json_object_get(tpl, "ns")),
					     .target = json_string_value(json_object_get(tpl, "target")),
					     .user = json_string_value(json_object_get(tpl, "user")),
					     .groups = gv,
					     .requester = json_string_value(json_object_get(tpl, "requester")) },
				     reason, tg, now);
}

json_t *gw_detlost_take(struct gw_detlost *dl, const char *node, const char *trace, const char *why,
			uint64_t now_real_ns)
{
	_cleanup_free_ char *k = key_of(node, trace);
	json_t *tpl = k ? json_object_get(dl->kept, k) : NULL, *rec;

	if (!tpl)
		return NULL;
	rec = lost_record(tpl, why, now_real_ns);
	if (rec)
		json_object_del(dl->kept, k);
	return rec;
}
