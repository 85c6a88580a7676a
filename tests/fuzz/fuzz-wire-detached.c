// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for a runner's detached sessions (wire/detached.h),
 * which the gateway reads from every runner to answer get, list and the
 * detached start: whatever bytes come, the list decoder refuses them with
 * a message, or gives sessions that encode and decode again to equal
 * ones.  Input starting with '{"items"' goes to the list decoder, any
 * other to the one-session decoder.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "wire/detached.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-detached: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_round_trip(const struct wire_det_session *s)
{
	struct wire_det_session again = { 0 };
	json_t *o = NULL;
	char *text, *err = NULL;
	int r = wire_det_session_to_json(s, &o);

	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("encode: a decoded session does not encode", tg_strerror(r));
	if (!s->trace || strchr(s->trace, '/') || !s->node || strchr(s->node, '/') || !s->state)
		fail("decode: a trace, node or state that is not a name", NULL);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return;
	r = wire_det_session_decode(text, strlen(text), &again, &err);
	if (r < 0 && r != -ENOMEM)
		fail("encode: its text does not decode", err);
	if (r == 0 && !wire_det_session_equal(s, &again))
		fail("encode: decode(encode(s)) differs from s", text);
	wire_det_session_release(&again);
	free(err);
	free(text);
}

static void check_refusal(int r, const char *err)
{
	if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
		fail("decode: unexpected error code", tg_strerror(r));
	if (r != -ENOMEM && (!err || !*err))
		fail("decode: refusal without a message", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *err = NULL;
	int r;

	if (size >= 8 && !memcmp(data, "{\"items\"", 8)) {
		struct wire_det_session *items = (void *)0x1;
		size_t n = 7;

		r = wire_det_list_decode(text, size, &items, &n, &err);
		if (r < 0) {
			check_refusal(r, err);
			if (items != (void *)0x1 || n != 7)
				fail("decode: list written on failure", err);
		} else {
			for (size_t i = 0; i < n; i++) {
				check_round_trip(&items[i]);
				wire_det_session_release(&items[i]);
			}
			free(items);
		}
	} else {
		struct wire_det_session s, blank;

		memset(&s, 0xa5, sizeof(s));
		blank = s;
		r = wire_det_session_decode(text, size, &s, &err);
		if (r < 0) {
			check_refusal(r, err);
			if (memcmp(&s, &blank, sizeof(s)))
				fail("decode: session written on failure", err);
		} else {
			check_round_trip(&s);
			wire_det_session_release(&s);
		}
	}
	free(err);
	return 0;
}
