/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A build's version, gateway -> plugin (docs/internals/contracts.md): the
 * answer to GET /apis/tracegate.dev/v1alpha1/version (no authentication,
 * as Kubernetes' /version) and the plugin's own in `kubectl trace
 * version -o json` (clientVersion, serverVersion):
 *   {"version":"0.1.0","gitCommit":"0123456789ab","buildDate":"2026-12-08T00:00:00Z"}
 * The gateway writes it with wire_version_to_json(), the plugin reads it
 * with wire_version_from_gateway(): members it does not know are skipped
 * (wire/fields.h, "Version skew"), a missing one reads as "unknown", a
 * wrong one is refused, named.  tests/unit/test-wire-version.c
 * round-trips it.
 */
#ifndef TG_WIRE_VERSION_H
#define TG_WIRE_VERSION_H

#include <jansson.h>

#define WIRE_VERSION_MAX 128      /* bytes of each member */

struct wire_version {
	char *version;
	char *git_commit;
	char *build_date;
};

/* This build's (lib/version.h): 0, -ENOMEM. */
int wire_version_this(struct wire_version *ret);
/* 0, -ENOMEM, -EINVAL for a member the reader would refuse. */
int wire_version_to_json(const struct wire_version *v, json_t **ret);
/* The plugin's: 0, or -EINVAL naming the member (*ret untouched), -ENOMEM. */
int wire_version_from_gateway(json_t *o, struct wire_version *ret, char **ret_err);
void wire_version_release(struct wire_version *v);

#endif
