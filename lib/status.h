/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes Status objects, one builder for every program that answers
 * with one (issue 12): the gateway's refusals and its Success answers to a
 * DELETE, the runner's refusals (docs/internals/contracts.md):
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *    "message":M,"reason":R,"code":C,"details":{...}}
 * and for a code below 400 "status":"Success" without a reason.  The
 * reason is status_reason(code) (lib/httpstatus.h, the one table).
 */
#ifndef TG_LIB_STATUS_H
#define TG_LIB_STATUS_H

#include <jansson.h>

/* A Status for code with message (NULL: ""); details (may be NULL) is
 * stolen.  NULL when out of memory. */
json_t *status_new(int code, const char *message, json_t *details);
/* details with name/group/kind (any may be NULL) and no causes. */
json_t *status_details(const char *kind, const char *group, const char *name);
/* Appends {"reason":reason,"field":field,"message":message} to details.causes. */
int status_add_cause(json_t *details, const char *reason, const char *field, const char *message);

#endif
