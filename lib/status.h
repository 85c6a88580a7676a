/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes Status objects, one builder for every program that answers
 * with one (issue 12): the gateway's refusals and its Success answers to a
 * DELETE, the runner's refusals (docs/internals/contracts.md):
 *   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *    "message":M,"reason":R,"code":C,"details":{...}}
 * and for a code below 400 "status":"Success" without a reason.  The
 * reason is status_reason(code) (lib/httpstatus.h, the one table).
 * status_read is its one reader, for every program that reads an answer
 * (the gateway a runner's, the plugin the gateway's).
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

/* A Status as read: every member NULL (or 0) that the answer lacks or
 * holds as another type.  Strings and causes are borrowed from the JSON
 * tree they came from. */
struct status_view {
	int code;
	const char *status;    /* "Success", "Failure" */
	const char *reason;
	const char *message;
	const char *kind;      /* details.kind, details.group, details.name */
	const char *group;
	const char *name;
	json_t *causes;        /* details.causes: an array, or NULL */
};

/* One cause of a Status as read (members NULL as above). */
struct status_cause {
	const char *reason;
	const char *field;
	const char *message;
};

/* Reads j as a Status: 0, or -EINVAL when j is not an object or names
 * another kind ("kind" other than "Status"); *ret is then all NULL. */
int status_read(const json_t *j, struct status_view *ret);
/* Cause i of v (0-based): 0, or -ENOENT past the last one; a cause that is
 * not an object reads as all NULL. */
int status_cause(const struct status_view *v, size_t i, struct status_cause *ret);
/* The message of a cause whose field is field, or NULL. */
const char *status_cause_message(const struct status_view *v, const char *field);
/* The message of an answer's body (len bytes) when it is a Status with
 * one, copied; NULL otherwise (not JSON, no message, out of memory). */
char *status_body_message(const char *body, size_t len);

#endif
