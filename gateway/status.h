/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's Status messages; the objects themselves are built by
 * lib/status.h (status_new), the runner's with the same code.
 */
#ifndef TG_GATEWAY_STATUS_H
#define TG_GATEWAY_STATUS_H

#include <jansson.h>
#include "lib/httpstatus.h"   /* status_reason(), http_code_for_error() */
#include "lib/status.h"       /* status_new(), status_details(), status_add_cause() */

/* Kubernetes' forbidden message:
 *   traces.tracegate.dev "web-a" is forbidden: User "carol" cannot create
 *   resource "traces" in API group "tracegate.dev" in the namespace "team-a"
 * (name may be NULL; reason, when given, is appended after ": "). */
char *status_forbidden_message(const char *user, const char *verb, const char *group,
			       const char *resource, const char *ns, const char *name,
			       const char *reason);

#endif
