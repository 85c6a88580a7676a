// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the trace request (wire/trace-body.h), the body a
 * tenant POSTs to the gateway: whatever bytes come, the decoder refuses
 * them with the field and a message and leaves its result untouched, or
 * gives a request within every bound that encodes, decodes again to an
 * equal request and encodes to the same text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kube/container.h"
#include "kube/selector.h"
#include "lang/ast.h"
#include "lib/errors.h"
#include "tests/fuzz/fuzz-util.h"
#include "wire/fields.h"
#include "wire/trace-body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-wire-trace-body: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void check_bounds(const struct trace_body *b)
{
	char *err = NULL;

	if (!b->target)
		fail("decode: no target", NULL);
	if (b->selector ? b->name || b->kind || b->node || strncmp(b->target, "-l ", 3)
			: !b->name || !wire_dns_subdomain(b->name) || b->all_namespaces)
		fail("decode: a target that is neither a valid name nor a selector", b->target);
	if (b->node && b->kind)
		fail("decode: a node that is also a workload", b->target);
	if (!b->program || !b->program_len || b->program_len > TG_MAX_SOURCE_BYTES || b->program[b->program_len])
		fail("decode: program missing, unbounded or unterminated", NULL);
	if (b->has_duration ? b->duration < 0 || b->duration > TRACE_MAX_DURATION_S : b->duration)
		fail("decode: duration out of range", NULL);
	if (b->detach && b->all_namespaces)
		fail("decode: a detached trace across namespaces", NULL);
	if (b->container && tg_container_name_check(b->container, &err) < 0)
		fail("decode: a container that is not a name", err);
	if (b->params) {
		size_t i;
		json_t *p;

		if (!json_is_array(b->params) || json_array_size(b->params) > TRACE_MAX_PARAMS)
			fail("decode: params not a bounded array", NULL);
		json_array_foreach(b->params, i, p)
			if (!json_is_string(p) || json_string_length(p) > TRACE_MAX_PARAM_BYTES ||
			    strlen(json_string_value(p)) != json_string_length(p))
				fail("decode: a param is not a bounded string without NUL", NULL);
	}
}

static void check_round_trip(const struct trace_body *b)
{
	struct trace_body again = { 0 };
	char *text = NULL, *text2 = NULL, *field = NULL, *err = NULL;
	int r = trace_body_encode(b, &text);

	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("encode: a decoded request does not encode", tg_strerror(r));
	r = trace_body_decode(text, strlen(text), &again, &field, &err);
	if (r == -ENOMEM) {
		free(text);
		return;
	}
	if (r < 0)
		fail("encode: its text does not decode", err);
	if (!trace_body_equal(b, &again))
		fail("encode: decode(encode(b)) differs from b", text);
	if (trace_body_encode(&again, &text2) == 0 && strcmp(text, text2))
		fail("encode: the text of a round trip changed", text2);
	trace_body_release(&again);
	free(text);
	free(text2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_body b, blank;
	char *field = NULL, *err = NULL;
	char *copy = fuzz_dup_exact((const char *)data, size);
	int r;

	if (!copy)
		return 0;
	memset(&b, 0xa5, sizeof(b));
	blank = b;
	r = trace_body_decode(copy, size, &b, &field, &err);
	free(copy);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			fail("decode: unexpected error code", tg_strerror(r));
		if (r == -EINVAL && (!field || !err || !*err))
			fail("decode: refusal without a field and a message", NULL);
		if (memcmp(&b, &blank, sizeof(b)))
			fail("decode: result written on failure", err);
		free(field);
		free(err);
		return 0;
	}
	if (field || err)
		fail("decode: success with a field or message", err);
	check_bounds(&b);
	check_round_trip(&b);
	trace_body_release(&b);
	return 0;
}
