/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes Status objects for refusals (docs/internals/contracts.md):
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *    "message":M,"reason":R,"code":C,"details":{...}}
 * HTTP codes live only here and in the request handlers (STYLE 1).
 */
#ifndef TG_GATEWAY_STATUS_H
#define TG_GATEWAY_STATUS_H

#include <jansson.h>
#include "lib/httpstatus.h"   /* status_reason() */

/* A Status for code with message; details (may be NULL) is stolen. */
json_t *status_new(int code, const char *message, json_t *details);
/* details with kind/group/name (any may be NULL) and no causes. */
json_t *status_details(const char *kind, const char *group, const char *name);
/* Appends {"reason":reason,"field":field,"message":message} to details.causes. */
int status_add_cause(json_t *details, const char *reason, const char *field, const char *message);
/* Kubernetes' forbidden message:
 *   traces.tracegate.dev "web-a" is forbidden: User "carol" cannot create
 *   resource "traces" in API group "tracegate.dev" in the namespace "team-a"
 * (name may be NULL; reason, when given, is appended after ": "). */
char *status_forbidden_message(const char *user, const char *verb, const char *group,
			       const char *resource, const char *ns, const char *name,
			       const char *reason);
/* Maps a negative tracegate/errno code to the HTTP code the gateway answers. */
int status_code_for(int err);

#endif
