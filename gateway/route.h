/* SPDX-License-Identifier: Apache-2.0 */
/* Which handler a request goes to: a pure function of method and target. */
#ifndef TG_GATEWAY_ROUTE_H
#define TG_GATEWAY_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum route_kind {
	ROUTE_NOT_FOUND,          /* 404 */
	ROUTE_METHOD_NOT_ALLOWED, /* 405 */
	ROUTE_BAD_REQUEST,        /* 400: malformed namespace or query */
	ROUTE_HEALTHZ,            /* GET /healthz */
	ROUTE_VERSION,            /* GET /apis/tracegate.dev/v1alpha1/version */
	ROUTE_DISCOVERY,          /* GET /apis, /apis/tracegate.dev, /apis/tracegate.dev/v1alpha1 */
	ROUTE_TRACE_CREATE,       /* POST /apis/tracegate.dev/v1alpha1/namespaces/{ns}/traces,
				     or POST .../v1alpha1/nodetraces (node, ns "") */
	ROUTE_TRACE_STOP,         /* DELETE /apis/tracegate.dev/v1alpha1/namespaces/{ns}/traces/{name},
				     or DELETE .../v1alpha1/nodetraces/{name} (node, ns "") */
	ROUTE_TRACE_LIST,         /* GET .../namespaces/{ns}/traces (detached traces) */
	ROUTE_TRACE_GET,          /* GET .../namespaces/{ns}/traces/{name} */
	ROUTE_TRACE_LOG,          /* GET .../namespaces/{ns}/traces/{name}/log[?follow=true&timestamps=true] */
	ROUTE_PROBE_LIST,         /* GET .../namespaces/{ns}/probes?target=pod/NAME[&pattern=GLOB][&verbose=true] */
};

#define ROUTE_MAX_NAMESPACE 63
#define ROUTE_MAX_NAME 63         /* a trace's name: its id (a UUID) */
#define ROUTE_MAX_POD 253         /* a pod's name: a DNS subdomain */
#define ROUTE_MAX_PATTERN 256     /* PROBE_PATTERN_MAX (lib/util.h) */

struct route {
	enum route_kind kind;
	char ns[ROUTE_MAX_NAMESPACE + 1]; /* a valid namespace from the path, or "" */
	char name[ROUTE_MAX_NAME + 1];    /* STOP, GET, LOG: the trace, a valid label */
	bool resource;            /* the path is a traces collection (any method, valid or not) */
	bool node;                /* the cluster-scoped nodetraces path: ns is "" */
	bool dry_run;             /* ?dryRun=All */
	bool follow;              /* ROUTE_TRACE_LOG: ?follow=true */
	bool timestamps;          /* ROUTE_TRACE_LOG: ?timestamps=true */
	/* ROUTE_PROBE_LIST: the pod (target=pod/NAME or NAME, percent-decoded,
	 * a valid name), the glob (pattern=, decoded, probe_pattern_valid;
	 * "" for every probe) and verbose=true (-lv: tracepoint fields) */
	char pod[ROUTE_MAX_POD + 1];
	char pattern[ROUTE_MAX_PATTERN + 1];
	bool verbose;
	const char *error;        /* for ROUTE_BAD_REQUEST: static text */
};

void route_match(const char *method, const char *target, struct route *ret);

#endif
