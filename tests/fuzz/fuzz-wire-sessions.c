// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the runner's session listing (wire/sessions.h),
 * which the gateway reads from every runner to count maxConcurrentTraces:
 * whatever bytes come, the decoder refuses them with a message and leaves
 * its result untouched, or gives a list within its bounds that encodes,
 * decodes again to an equal list and encodes to the same text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "wire/session.h"
#include "wire/sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-sessions: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_bounds(const struct wire_sessions *l)
{
	if (!l->node || !*l->node || strchr(l->node, '/') || l->n > WIRE_SESSIONS_MAX_ITEMS || (l->n && !l->items))
		fail("decode: a node or a count beyond its bounds", l->node);
	for (size_t i = 0; i < l->n; i++) {
		const struct wire_session_item *it = &l->items[i];

		if (!it->trace || !*it->trace || strlen(it->trace) > SESSION_MAX_TRACE_ID || strchr(it->trace, '/'))
			fail("decode: a trace id that is not a name", it->trace);
		if (!it->ns || strlen(it->ns) > SESSION_MAX_OWNER_NS || !it->user || !*it->user ||
		    strlen(it->user) > SESSION_MAX_USER || !it->state)
			fail("decode: an owner beyond its bounds", NULL);
		for (const char *s = it->user; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fail("decode: a control character in a user", NULL);
	}
}

static void check_round_trip(const struct wire_sessions *l)
{
	struct wire_sessions again = { 0 };
	char *text = NULL, *text2 = NULL, *err = NULL;
	int r = wire_sessions_encode(l, &text);

	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("encode: a decoded list does not encode", tg_strerror(r));
	r = wire_sessions_decode(text, strlen(text), &again, &err);
	if (r == -ENOMEM) {
		free(text);
		return;
	}
	if (r < 0)
		fail("encode: its text does not decode", err);
	if (!wire_sessions_equal(l, &again))
		fail("encode: decode(encode(l)) differs from l", text);
	if (wire_sessions_encode(&again, &text2) == 0 && strcmp(text, text2))
		fail("encode: the text of a round trip changed", text2);
	wire_sessions_release(&again);
	free(text);
	free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_sessions l, blank;
	char *err = NULL;
	int r;

	memset(&l, 0xa5, sizeof(l));
	blank = l;
	r = wire_sessions_decode((const char *)data, size, &l, &err);
	if (r < 0) {
		if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
			fail("decode: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && (!err || !*err))
			fail("decode: refusal without a message", NULL);
		if (memcmp(&l, &blank, sizeof(l)))
			fail("decode: result written on failure", err);
		free(err);
		return 0;
	}
	if (err)
		fail("decode: success with a message", err);
	check_bounds(&l);
	check_round_trip(&l);
	wire_sessions_release(&l);
	return 0;
}
