// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the end fields of an audit record (struct
 * gw_audit_end, gateway/event.h), which the gateway reads back from its
 * log at start and `tracegate audit query` from any log it is given:
 * whatever bytes come as the "tracegate" object, the decoder refuses them
 * with a message and leaves its result untouched, or gives an end within
 * every GW_AUDIT_END_* bound that encodes, decodes again to an equal end
 * and encodes to the same text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gateway/event.h"
#include "lib/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-gateway-audit-end: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_nodes(const struct gw_audit_node *v, size_t n)
{
	if (n > GW_AUDIT_END_MAX_NODES || (n && !v))
		fail("decode: a node map beyond its bound", NULL);
	for (size_t i = 0; i < n; i++)
		if (!v[i].node || !*v[i].node || strlen(v[i].node) > GW_AUDIT_END_MAX_NAME || !v[i].text ||
		    strlen(v[i].text) > GW_AUDIT_END_MAX_MESSAGE)
			fail("decode: a node or its text beyond its bound", v[i].node);
}

static void check_bounds(const struct gw_audit_end *e)
{
	if (e->reason && (!*e->reason || strlen(e->reason) > GW_AUDIT_END_MAX_REASON))
		fail("decode: an endReason beyond its bound", e->reason);
	if (e->message && strlen(e->message) > GW_AUDIT_END_MAX_MESSAGE)
		fail("decode: an endMessage beyond its bound", NULL);
	if ((e->events | e->drops | e->map_drops | e->bytes | e->cpu_ns) > INT64_MAX)
		fail("decode: a count beyond a JSON integer", NULL);
	if (e->counts_missing && e->nmissing)
		fail("decode: countsMissing both ways", NULL);
	if (e->nfailed_nodes > GW_AUDIT_END_MAX_NODES)
		fail("decode: failedNodes beyond its bound", NULL);
	if (e->node && (!*e->node || strlen(e->node) > GW_AUDIT_END_MAX_NAME))
		fail("decode: a node beyond its bound", e->node);
	if (e->claimed_by && strcmp(e->claimed_by, "poll") && strcmp(e->claimed_by, "delete") &&
	    strcmp(e->claimed_by, "log") && strcmp(e->claimed_by, "restart"))
		fail("decode: a claimedBy that is not a path", e->claimed_by);
	check_nodes(e->node_reasons, e->nnode_reasons);
	check_nodes(e->missing, e->nmissing);
}

static char *encode(const struct gw_audit_end *e)
{
	json_t *tg = json_object();
	char *text = NULL;
	int r = tg ? gw_audit_end_to_json(e, tg) : -ENOMEM;

	if (r < 0 && r != -ENOMEM)
		fail("encode: a decoded end does not encode", tg_strerror(r));
	if (r == 0)
		text = json_dumps(tg, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(tg);
	return text;
}

static void check_round_trip(const struct gw_audit_end *e)
{
	struct gw_audit_end again = { 0 };
	char *text = encode(e), *text2, *err = NULL;
	json_t *tg;
	int r;

	if (!text)
		return;
	tg = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!tg) {
		free(text);
		return;
	}
	r = gw_audit_end_from_json(tg, &again, &err);
	json_decref(tg);
	if (r == -ENOMEM) {
		free(text);
		return;
	}
	if (r < 0)
		fail("encode: its text does not decode", err);
	if (!gw_audit_end_equal(e, &again))
		fail("encode: decode(encode(e)) differs from e", text);
	text2 = encode(&again);
	if (text2 && strcmp(text, text2))
		fail("encode: the text of a round trip changed", text2);
	gw_audit_end_release(&again);
	free(text);
	free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *tg = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct gw_audit_end e, blank;
	char *err = NULL;
	int r;

	if (!tg)
		return 0;
	memset(&e, 0xa5, sizeof(e));
	blank = e;
	r = gw_audit_end_from_json(tg, &e, &err);
	json_decref(tg);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			fail("decode: unexpected error code", tg_strerror(r));
		if (r == -EINVAL && (!err || !*err))
			fail("decode: refusal without a message", NULL);
		if (memcmp(&e, &blank, sizeof(e)))
			fail("decode: result written on failure", err);
		free(err);
		return 0;
	}
	if (err)
		fail("decode: success with a message", err);
	check_bounds(&e);
	check_round_trip(&e);
	gw_audit_end_release(&e);
	return 0;
}
