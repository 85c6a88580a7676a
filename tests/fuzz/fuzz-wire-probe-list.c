// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the ProbeList (wire/probe-list.h), which the
 * plugin reads from the gateway: whatever comes, the reader refuses it
 * with a message and leaves its result untouched, or gives a list within
 * every WIRE_PROBE_LIST_* bound, each name and field as wire/probes.h
 * takes them, that encodes, decodes again to an equal list and encodes to
 * the same JSON.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "wire/fields.h"
#include "wire/probe-list.h"
#include "wire/probes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-probe-list: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_bounds(const struct wire_probe_list *l)
{
	size_t nf = 0;

	if (l->nitems > WIRE_PROBE_LIST_MAX_ITEMS || l->nfields > WIRE_PROBE_LIST_MAX_FIELDS)
		fail("decode: beyond the limits", NULL);
	for (size_t i = 0; i < l->nitems; i++) {
		if (!wire_probes_name_ok(l->items[i].name, strlen(l->items[i].name)))
			fail("decode: a name that is not one", l->items[i].name);
		if (l->items[i].nfields && !l->verbose)
			fail("decode: fields in a list that is not verbose", NULL);
		for (size_t k = 0; k < l->items[i].nfields; k++)
			if (!wire_probes_field_ok(l->items[i].fields[k], strlen(l->items[i].fields[k])))
				fail("decode: a field that is not one", l->items[i].fields[k]);
		nf += l->items[i].nfields;
	}
	if (nf != l->nfields)
		fail("decode: nfields is not the count of fields", NULL);
	if ((l->node && strpbrk(l->node, "/\" \\")) || (l->namespace && strpbrk(l->namespace, "/\" \\")))
		fail("decode: a node or namespace that is not a name", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_probe_list l, blank, again = { 0 };
	json_t *rec = NULL, *enc = NULL, *enc2 = NULL;
	char *err = NULL;
	int r;

	if (wire_json_object((const char *)data, size, 1u << 20, "ProbeList", &rec, &err) < 0) {
		free(err);
		return 0;
	}
	memset(&l, 0xa5, sizeof(l));
	blank = l;
	r = wire_probe_list_from_gateway(rec, &l, &err);
	if (r < 0) {
		if ((r != -EINVAL && r != -ENOMEM) || (r == -EINVAL && (!err || !*err)))
			fail("decode: a refusal without a message", tg_strerror(r));
		if (memcmp(&l, &blank, sizeof(l)))
			fail("decode: result written on failure", err);
		free(err);
		json_decref(rec);
		return 0;
	}
	check_bounds(&l);
	r = wire_probe_list_to_json(&l, &enc);
	if (r < 0 && r != -ENOMEM)
		fail("encode: a decoded list does not encode", tg_strerror(r));
	if (r == 0) {
		if (wire_probe_list_from_gateway(enc, &again, &err) < 0)
			fail("encode: its JSON does not decode", err);
		if (!wire_probe_list_equal(&l, &again))
			fail("encode: decode(encode(l)) differs from l", NULL);
		if (wire_probe_list_to_json(&again, &enc2) == 0 && !json_equal(enc, enc2))
			fail("encode: the JSON of a round trip changed", NULL);
	}
	wire_probe_list_release(&l);
	wire_probe_list_release(&again);
	json_decref(rec);
	json_decref(enc);
	json_decref(enc2);
	return 0;
}
