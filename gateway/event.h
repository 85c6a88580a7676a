/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit events in the shape of audit.k8s.io/v1 Event (see
 * /work/shared/reference/kubernetes.md section 5 and docs/audit.md), plus
 * tracegate's own fields under "tracegate".  Pure: fields in, JSON out.
 */
#ifndef TG_GATEWAY_EVENT_H
#define TG_GATEWAY_EVENT_H

#include <stdint.h>
#include <jansson.h>
#include "rbac/kube.h"

struct gw_event {
	const char *audit_id;
	const char *stage;            /* "ResponseStarted", "ResponseComplete" */
	const char *request_uri;
	const char *verb;             /* "create" */
	const struct kube_user *user; /* NULL: not authenticated (system:anonymous) */
	const char *source_ip;
	const char *user_agent;       /* may be NULL */
	const char *ns;               /* objectRef.namespace */
	const char *name;             /* objectRef.name: the target as written, or NULL */
	int code;                     /* responseStatus.code */
	const char *message;          /* responseStatus.message for failures */
	uint64_t received_ns;         /* wall clock */
	uint64_t stage_ns;
	const char *decision;         /* "allow" / "forbid" */
	const char *reason;           /* authorization.k8s.io/reason */
	json_t *tracegate;            /* borrowed; may be NULL */
};

json_t *gw_event_build(const struct gw_event *ev);
/* A random (version 4) UUID, 36 characters and NUL. */
int gw_uuid(char out[37]);

#endif
