// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for kube/informer.h: a LIST answer, then watch bytes
 * cut into pieces, as an API server (or something posing as one) could
 * send them.
 *
 * Input: the first byte is the piece size for the watch bytes (0 means
 * all at once); then the LIST body up to the first empty line ("\n\n");
 * the rest is the watch stream.  After every step: the store holds only
 * typed pods of the informer's namespace with valid names and
 * resourceVersions, never more than its cap, and a synced informer's
 * pods parse or fail cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "kube/informer.h"
#include "kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_OBJECTS 8

static void fail(const char *what, const char *key)
{
	fprintf(stderr, "fuzz-informer: %s: %s\n", what, key ? key : "");
	abort();
}

static void check_store(const struct kube_informer *inf)
{
	json_t *store = kube_informer_objects(inf), *o;
	const char *key;

	if (json_object_size(store) > FUZZ_MAX_OBJECTS)
		fail("more objects than the cap", NULL);
	json_object_foreach(store, key, o) {
		json_t *m = json_object_get(o, "metadata");
		const char *ns = json_string_value(json_object_get(m, "namespace"));
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *rv = json_string_value(json_object_get(m, "resourceVersion"));
		char *err = NULL;
		struct kube_pod pod = { 0 };

		if (strcmp(json_string_value(json_object_get(o, "kind")) ?: "", "Pod") ||
		    strcmp(json_string_value(json_object_get(o, "apiVersion")) ?: "", "v1"))
			fail("an untyped or foreign object stored", key);
		if (!ns || strcmp(ns, "tracegate") || !kube_name_valid(name) || !rv || !*rv)
			fail("an object of another namespace or without a name or resourceVersion", key);
		if (kube_informer_synced(inf) && kube_informer_pod(inf, ns, name, &pod, &err) == 0)
			kube_pod_release(&pod);
		free(err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_informer_opts o = { .sz = sizeof(o), .api_prefix = "/api/v1", .resource = "pods",
					.kind = "Pod", .api_version = "v1", .namespace = "tracegate",
					.label_selector = "app=r", .max_objects = FUZZ_MAX_OBJECTS };
	struct kube_informer *inf = NULL;
	struct kube_request req = { 0 };
	enum kube_informer_step step;
	const char *text = (const char *)data + 1, *sep;
	size_t piece, len;
	char *err = NULL;

	if (size < 1 || kube_informer_new(&o, &inf, NULL) < 0)
		return 0;
	piece = data[0];
	len = size - 1;
	sep = memmem(text, len, "\n\n", 2);
	if (kube_informer_list_done(inf, 200, text, sep ? (size_t)(sep - text) : len, &err) < 0 && !err)
		fail("a refused list without a message", NULL);
	free(err);
	err = NULL;
	check_store(inf);
	if (sep) {
		const char *w = sep + 2;
		size_t left = len - (size_t)(w - text);

		while (left) {
			size_t n = piece && piece < left ? piece : left;
			int r = kube_informer_watch_data(inf, w, n, &err);

			if (r < 0 && !err)
				fail("a dropped watch without a message", NULL);
			free(err);
			err = NULL;
			check_store(inf);
			if (r < 0) {
				if (kube_informer_synced(inf))
					fail("synced after a dropped watch", NULL);
				break;
			}
			w += n;
			left -= n;
		}
		kube_informer_watch_end(inf, true);
	}
	if (kube_informer_next(inf, &req, &step) == 0)
		kube_request_release(&req);
	kube_informer_free(inf);
	return 0;
}
