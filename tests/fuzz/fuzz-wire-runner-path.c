// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the runner's router (wire/runner-path.h): whatever
 * target comes (the runner's bound, no NUL), the router refuses it as a
 * 404 or a 400 with a message and leaves its result untouched, or gives a
 * path whose ids (and claimer) are ids; that path is written back by the gateway's
 * writer (unless its pattern has a character a query cannot carry) and
 * routed again to the same path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "wire/runner-path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-runner-path: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static bool query_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr("&#%", *s))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_rpath p, blank, again;
	char target[WIRE_RPATH_MAX_TARGET + 1], *err = NULL, *text = NULL;
	int r;

	if (size > WIRE_RPATH_MAX_TARGET || memchr(data, 0, size))
		return 0;
	memcpy(target, data, size);
	target[size] = '\0';
	memset(&p, 0x5a, sizeof(p));
	blank = p;
	r = wire_rpath_decode(target, &p, &err);
	if (r < 0) {
		if ((r != -ENOENT && r != -EINVAL) || !err || !*err)
			fail("decode: a refusal that is neither a 404 nor a 400 with a message", tg_strerror(r));
		if (memcmp(&p, &blank, sizeof(p)))
			fail("decode: result written on failure", err);
		free(err);
		return 0;
	}
	if ((p.kind == WIRE_RPATH_SESSION_END || p.kind == WIRE_RPATH_DETACHED || p.kind == WIRE_RPATH_DETACHED_LOG ||
	     p.kind == WIRE_RPATH_DETACHED_CLAIM) &&
	    !wire_rpath_id_ok(p.id, strlen(p.id)))
		fail("decode: an id that is not one", p.id);
	if (p.kind == WIRE_RPATH_DETACHED_CLAIM &&
	    (strlen(p.by) > WIRE_RPATH_MAX_CLAIMER || !wire_rpath_id_ok(p.by, strlen(p.by))))
		fail("decode: a claimer that is not one", p.by);
	if (p.kind == WIRE_RPATH_DETACHED_LIST && *p.ns && !wire_rpath_id_ok(p.ns, strlen(p.ns)))
		fail("decode: a namespace that is not one", p.ns);
	r = wire_rpath_encode(&p, &text);
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		if (p.kind == WIRE_RPATH_PROBES && p.has_pattern && !query_safe(p.pattern))
			return 0;
		fail("encode: a routed path does not encode", target);
	}
	if (wire_rpath_decode(text, &again, &err) < 0)
		fail("encode: its target is not routed", err);
	if (!wire_rpath_equal(&p, &again))
		fail("encode: route(write(p)) differs from p", text);
	free(text);
	return 0;
}
