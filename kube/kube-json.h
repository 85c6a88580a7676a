/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers the kube/ parsers share (kube.c, workload.c): not a contract
 * for other folders.  They follow kube/kube.h's rules: any unexpected
 * shape is -TG_EUPSTREAM with a message, and messages never quote a body.
 */
#ifndef TG_KUBE_KUBE_JSON_H
#define TG_KUBE_KUBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "kube/kube.h"

/* Replaces *ret_err (when ret_err is not NULL) with the formatted text; 0. */
int kube_json_set_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The body as a JSON object (duplicate keys refused); NULL with *ret_err. */
json_t *kube_json_load_object(const char *body, size_t len, const char *what, char **ret_err);
/* For a non-2xx answer: -code, *ret_err naming the Status message if any. */
int kube_json_status_error(long http_status, const char *body, size_t len, const char *what,
			   int code, char **ret_err);
/* 0 when j's apiVersion and kind are these, else -TG_EUPSTREAM. */
int kube_json_check_type(json_t *j, const char *api_version, const char *kind, const char *what,
			 char **ret_err);
/* An omitempty string: missing or null -> NULL; not a string -> -EINVAL. */
int kube_json_get_str(json_t *obj, const char *key, const char **ret);
/* A Kubernetes UID as it may appear in a cgroup name: [0-9A-Za-z-]{1,64}. */
bool kube_uid_valid(const char *s);
/* Percent-encodes s onto b: everything but RFC 3986's unreserved characters. */
struct buf;
int kube_query_escape(struct buf *b, const char *s);
/* A Pod object (typed, or a list item without kind), as kube_pod_parse. */
int kube_pod_from_json(json_t *j, struct kube_pod *ret, char **ret_err);

#endif
