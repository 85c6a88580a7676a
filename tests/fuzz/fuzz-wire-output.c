// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the output record (wire/output.h), the bulk of
 * every trace's stream:
 *  - a line the gateway's shape takes (and so splices unparsed) is one
 *    jansson reads as the same record, one the strict reader takes to the
 *    same values, and its splice reads back through the plugin's reader
 *    to the gateway's node and the same pod, lines and text;
 *  - each reader refuses with a message and leaves *ret untouched, or
 *    gives a record that the runner's writer writes again to one that
 *    reads back the same; what the strict reader takes the plugin's takes
 *    to the same values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/buf.h"
#include "wire/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-output: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool output_same(const struct wire_output *a, const struct wire_output *b, bool node)
{
	const char *ta, *tb;
	size_t na, nb;
	json_t *da, *db;

	if ((node && !str_same(a->node, b->node)) || !str_same(a->pod, b->pod) || a->lines != b->lines ||
	    a->text_len != b->text_len || memcmp(a->text, b->text, a->text_len) || !a->events != !b->events)
		return false;
	for (size_t i = 0;; i++) {
		int ra = wire_output_event_at(a, i, &ta, &na, &da), rb = wire_output_event_at(b, i, &tb, &nb, &db);

		if (ra != rb)
			return false;
		if (ra < 0)
			return true;
		if (strcmp(ta, tb) || na != nb || !da != !db || (da && !json_equal(da, db)))
			return false;
	}
}

static void check_shape(const char *line, size_t len)
{
	struct wire_output_shape sh;
	struct wire_output strict, plugin;
	struct buf relay = BUF_INIT(0);
	json_t *rec, *back;
	char *err = NULL;

	if (!wire_output_shape(line, len, &sh))
		return;
	rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(rec))
		fail("shape: took a line jansson does not read as an object", NULL);
	if (wire_output_from_json(rec, &strict, &err) < 0)
		fail("shape: took a line the strict reader refuses", err);
	if (strict.events || strict.lines != sh.nlines)
		fail("shape: reads otherwise than the strict reader", NULL);
	if (wire_output_relay(&relay, "node-\"1\"", &sh) < 0)
		fail("relay: out of memory", NULL);
	if (relay.len < 2 || relay.s[relay.len - 1] != '\n' || memchr(relay.s, '\n', relay.len - 1))
		fail("relay: not one line", relay.s);
	back = json_loadb(relay.s, relay.len - 1, JSON_REJECT_DUPLICATES, NULL);
	if (wire_output_from_gateway(back, &plugin, &err) < 0)
		fail("relay: the plugin refuses the splice", err);
	if (!str_same(plugin.node, "node-\"1\"") || !output_same(&strict, &plugin, false))
		fail("relay: the splice reads otherwise than the record", NULL);
	json_decref(back);
	json_decref(rec);
	buf_release(&relay);
}

/* The writer, from a record a reader took: the bytes the runner would send. */
static int rewrite(const struct wire_output *o, struct buf *line)
{
	struct buf batch = BUF_INIT(0), events = BUF_INIT(0);
	const char *type;
	size_t n;
	json_t *d;
	int r = wire_output_text_add(&batch, o->text, o->text_len);

	for (size_t i = 0; r >= 0 && wire_output_event_at(o, i, &type, &n, &d) == 0; i++)
		r = wire_output_event_add(&events, i == 0, type, n, d);
	if (r >= 0)
		r = wire_output_write(line, o->node, o->pod ? o->pod : "", (uint32_t)o->lines, batch.s, batch.len,
				      o->events ? events.s : NULL, events.len);
	buf_release(&batch);
	buf_release(&events);
	return r;
}

static void check_readers(json_t *rec)
{
	struct wire_output strict, plugin, again, blank;
	struct buf line = BUF_INIT(0);
	char *err = NULL;
	json_t *back;
	int r;

	memset(&strict, 0x5a, sizeof(strict));
	blank = strict;
	r = wire_output_from_json(rec, &strict, &err);
	if (r < 0) {
		if (r != -EINVAL || !err || !*err)
			fail("strict: a refusal without a message", err);
		if (memcmp(&strict, &blank, sizeof(strict)))
			fail("strict: result written on failure", err);
		free(err);
		err = NULL;
	} else {
		if (wire_output_from_gateway(rec, &plugin, &err) < 0)
			fail("plugin: refused what the strict reader takes", err);
		if (!output_same(&strict, &plugin, true))
			fail("plugin: reads otherwise than the strict reader", NULL);
	}
	memset(&plugin, 0x5a, sizeof(plugin));
	r = wire_output_from_gateway(rec, &plugin, &err);
	if (r < 0) {
		if (r != -EINVAL || !err || !*err)
			fail("plugin: a refusal without a message", err);
		if (memcmp(&plugin, &blank, sizeof(plugin)))
			fail("plugin: result written on failure", err);
		free(err);
		return;
	}
	if (rewrite(&plugin, &line) < 0)
		fail("writer: a record a reader took does not write", NULL);
	back = json_loadb(line.s, line.len, JSON_REJECT_DUPLICATES, NULL);
	if (wire_output_from_json(back, &again, &err) < 0)
		fail("writer: the strict reader refuses what it wrote", err);
	/* an absent pod is written "" (the runner always says one) */
	if (!plugin.pod && again.pod && !*again.pod)
		again.pod = NULL;
	if (!output_same(&plugin, &again, true))
		fail("writer: read(write(o)) differs from o", line.s);
	/* names the splice passes: at most 4096 bytes escaped (6 a byte at worst) */
	if (!plugin.events && (!plugin.node || strlen(plugin.node) <= 4096 / 6) &&
	    (!plugin.pod || strlen(plugin.pod) <= 4096 / 6) &&
	    !wire_output_shape(line.s, line.len, &(struct wire_output_shape){ 0 }))
		fail("writer: a record without events the splice does not take", line.s);
	json_decref(back);
	buf_release(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec;

	check_shape((const char *)data, size);
	rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(rec))
		check_readers(rec);
	json_decref(rec);
	return 0;
}
