// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for kube/selector.h: a tenant's label selector
 * (`kubectl trace run -l`, the body's "selector").
 *
 * Input: the selector, then optionally a NUL and a JSON object of labels
 * to match it against.  Beyond "no crash, no leak": a refusal always
 * explains itself in printable ASCII; an accepted selector's canonical
 * text holds only label characters and the grammar's (nothing to smuggle
 * into a query), parses again to itself, and matches the same labels.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "kube/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-selector: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	char *text = strndup((const char *)data, slen);
	struct kube_selector *s = NULL, *again = NULL;
	json_t *labels = NULL;
	char *err = NULL;
	int r;

	if (!text)
		return 0;
	if (nul)
		labels = json_loadb((const char *)nul + 1, size - slen - 1, JSON_REJECT_DUPLICATES, NULL);
	r = kube_selector_parse(text, &s, &err);
	if (r < 0) {
		if (s)
			fail("a refusal returned a selector", text);
		if (r != -ENOMEM && !err)
			fail("a refusal without a message", text);
		for (const char *p = err; p && *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				fail("a message with a byte that is not printable ASCII", err);
	} else {
		const char *c = kube_selector_string(s);

		for (const char *p = c; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			      strchr("-_./=!,() ", *p)))
				fail("a canonical selector with a byte no label has", c);
		if (kube_selector_parse(c, &again, NULL) < 0 || strcmp(kube_selector_string(again), c))
			fail("the canonical selector does not read back as itself", c);
		if (labels && kube_selector_matches(s, labels) != kube_selector_matches(again, labels))
			fail("the canonical selector matches otherwise", c);
	}
	kube_selector_free(again);
	kube_selector_free(s);
	json_decref(labels);
	free(err);
	free(text);
	return 0;
}
