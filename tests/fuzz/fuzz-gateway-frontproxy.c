// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for gateway/frontproxy.h: the settings of the
 * extension-apiserver-authentication ConfigMap, and the identity headers
 * any client may send.
 *
 * Input: a first byte 'C' and a ConfigMap body (any HTTP status in the
 * second byte: 0 is 200), or else header lines "Name: value\n" (at most 64).
 *
 * Beyond "no crash, no leak": settings that parse have a CA and lists of
 * valid header names; a request without a TLS peer is never authenticated,
 * and one that carries any X-Remote-* header is never waved through to the
 * token path (0): it is refused with a message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gateway/frontproxy.h"
#include "gateway/http.h"
#include "lib/errors.h"
#include "kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_HEADERS 64

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-gateway-frontproxy: %s\n", what);
	abort();
}

static void fuzz_configmap(const char *body, size_t len, long status)
{
	struct fp_settings *s = NULL;
	char *err = NULL;
	int r = fp_settings_from_configmap(status, body, len, &s, &err);

	if (r == 0) {
		if (!s || !s->ca || !s->allowed_names || !s->user_headers || !s->group_headers ||
		    !s->extra_prefixes || !s->uid_headers || !s->version)
			fail("settings parsed with a part missing");
		for (char **h = s->user_headers; *h; h++)
			if (!**h || strpbrk(*h, " :\r\n"))
				fail("a user header name that is no header name");
		fp_settings_free(s);
	} else if (!err && r != -ENOMEM) {
		fail("a refusal without a message");
	}
	free(err);
}

static void fuzz_headers(const char *text, size_t len)
{
	struct http_header h[FUZZ_MAX_HEADERS];
	char *copy = strndup(text, len), *line, *save = NULL;
	struct http_request req = { .headers = h };
	struct kube_user u = { 0 };
	bool remote = false;
	char *err = NULL;
	int r;

	if (!copy)
		return;
	for (line = strtok_r(copy, "\n", &save); line && req.nheaders < FUZZ_MAX_HEADERS;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		h[req.nheaders].name = line;
		h[req.nheaders].value = colon + 1 + (colon[1] == ' ');
		remote |= !strncasecmp(line, "X-Remote-", 9);
		req.nheaders++;
	}
	for (int configured = 0; configured < 2; configured++) {
		r = fp_authenticate(NULL, configured, "not loaded", NULL, &req, &u, &err);
		if (r == 1)
			fail("authenticated without a front-proxy certificate");
		if (remote && r == 0)
			fail("X-Remote-* headers passed on to the token path");
		if (r < 0 && r != -ENOMEM && !err)
			fail("a refusal without a message");
		free(err);
		err = NULL;
	}
	for (size_t i = 0; i < req.nheaders; i++) {
		char *k = fp_unescape_key(h[i].value, strlen(h[i].value));

		if (k && strlen(k) > strlen(h[i].value))
			fail("an unescaped key longer than its escaped form");
		free(k);
	}
	kube_user_release(&u);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'C') {
		long status = size > 1 && data[1] ? 100 + data[1] % 500 : 200;

		fuzz_configmap((const char *)data + 2 * (size > 1), size - 1 - (size > 1), status);
		return 0;
	}
	fuzz_headers((const char *)data, size);
	return 0;
}
