/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kubectl trace run -c NAME`: the container NAME of each target pod,
 * found in the pod's spec and status (kube/kube.h, struct kube_container)
 * the way kubectl exec -c and kubectl logs -c find it, with refusals that
 * say what the tenant can do instead.
 */
#ifndef TG_GATEWAY_TRACE_CONTAINER_H
#define TG_GATEWAY_TRACE_CONTAINER_H

#include "kube/kube.h"

/* How many of a pod's container names a refusal lists. */
#define TRACE_CONTAINER_LIST_MAX 32

/*
 * Container `name` of pod p: 0 and *ret when it runs with a container ID
 * the runner can place (kube/container.h).  Else 1, the HTTP code to
 * refuse with in *ret_code and a message in *ret_err: 400 a name that is no
 * DNS-1123 label, 404 a container the pod does not have (the message
 * lists the pod's: `container "x" not found in pod "web-0"; its
 * containers: app, sidecar`), 409 one that is not running or whose ID
 * names another runtime.  A negative errno only for -ENOMEM.
 */
int trace_pod_container(const struct kube_pod *p, const char *name, const struct kube_container **ret,
			int *ret_code, char **ret_err);

#endif
