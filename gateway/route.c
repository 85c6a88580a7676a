// SPDX-License-Identifier: Apache-2.0
#include <string.h>
#include "gateway/discovery.h"
#include "gateway/route.h"
#include "lib/util.h"
#include "wire/fields.h"
#include "lib/banned.h"

#define TRACES_PREFIX "/apis/tracegate.dev/v1alpha1/namespaces/"
#define VERSION_PATH "/apis/tracegate.dev/v1alpha1/version"
#define NODETRACES_PATH "/apis/tracegate.dev/v1alpha1/nodetraces"

/* Only dryRun=All is understood; anything else in the query is refused
 * rather than silently ignored. */
static void route_query(const char *q, struct route *r)
{
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n == strlen("dryRun=All") && !strncmp(q, "dryRun=All", n)) {
			r->dry_run = true;
		} else if (n) {
			r->kind = ROUTE_BAD_REQUEST;
			r->error = "query parameter not supported (only \"dryRun=All\")";
			return;
		}
		q = amp ? amp + 1 : NULL;
	}
}

/* pods/log's switches, as kubectl logs sends them: follow and timestamps,
 * each =true or =false; anything else is refused. */
static void route_log_query(const char *q, struct route *r)
{
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		bool *flag = NULL;
		const char *v = NULL;

		if (n > 7 && !strncmp(q, "follow=", 7)) {
			flag = &r->follow;
			v = q + 7;
		} else if (n > 11 && !strncmp(q, "timestamps=", 11)) {
			flag = &r->timestamps;
			v = q + 11;
		}
		if (flag && (size_t)(q + n - v) == 4 && !strncmp(v, "true", 4)) {
			*flag = true;
		} else if (flag && (size_t)(q + n - v) == 5 && !strncmp(v, "false", 5)) {
			*flag = false;
		} else if (n) {
			r->kind = ROUTE_BAD_REQUEST;
			r->error = "query parameter not supported on a trace's log (only follow and timestamps, "
				   "true or false)";
			return;
		}
		q = amp ? amp + 1 : NULL;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A query value, percent-decoded ('+' is a space) into out; false when it
 * does not fit or holds a bad escape or a NUL. */
static bool query_value(const char *v, size_t n, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (c == '%') {
			if (i + 2 >= n)
				return false;
			if (hexval(v[i + 1]) < 0 || hexval(v[i + 2]) < 0)
				return false;
			c = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (!c || o + 1 >= outsz)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* The probe list's query: target (required), pattern, verbose. */
static void route_probes_query(const char *q, struct route *r)
{
	bool have_target = false;
	char value[ROUTE_MAX_POD + 8];

	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n >= 7 && !strncmp(q, "target=", 7)) {
			const char *name = value;

			if (have_target || !query_value(q + 7, n - 7, value, sizeof(value))) {
				r->kind = ROUTE_BAD_REQUEST;
				r->error = "target: want one pod/NAME or NAME, a pod's name";
				return;
			}
			if (!strncmp(value, "pod/", 4))
				name = value + 4;
			else if (!strncmp(value, "pods/", 5))
				name = value + 5;
			else if (!strncmp(value, "po/", 3))
				name = value + 3;
			if (strlen(name) > ROUTE_MAX_POD || !wire_dns_subdomain(name)) {
				r->kind = ROUTE_BAD_REQUEST;
				r->error = "target: want pod/NAME or NAME with a valid pod name (probes are listed for a pod's node)";
				return;
			}
			memcpy(r->pod, name, strlen(name) + 1);
			have_target = true;
		} else if (n >= 8 && !strncmp(q, "pattern=", 8)) {
			const char *why = NULL;

			if (r->pattern[0] || !query_value(q + 8, n - 8, r->pattern, sizeof(r->pattern))) {
				r->kind = ROUTE_BAD_REQUEST;
				r->error = "pattern: want one glob of at most 256 characters";
				return;
			}
			if (!probe_pattern_valid(r->pattern, &why)) {
				r->kind = ROUTE_BAD_REQUEST;
				r->error = "pattern: only letters, digits and _ - . : * ? may appear in a probe pattern";
				return;
			}
		} else if (n == strlen("verbose=true") && !strncmp(q, "verbose=true", n)) {
			r->verbose = true;
		} else if (n == strlen("verbose=false") && !strncmp(q, "verbose=false", n)) {
			r->verbose = false;
		} else if (n) {
			r->kind = ROUTE_BAD_REQUEST;
			r->error = "query parameter not supported on probes (only target, pattern and verbose)";
			return;
		}
		q = amp ? amp + 1 : NULL;
	}
	if (!have_target) {
		r->kind = ROUTE_BAD_REQUEST;
		r->error = "target: required (pod/NAME: the probes of that pod's node)";
	}
}

/* The path names a resource of namespace ns (n bytes): r->ns, or a 400. */
static bool route_namespace(struct route *r, const char *ns, size_t n)
{
	r->resource = true;
	if (!wire_dns_label(ns, n, ROUTE_MAX_NAMESPACE)) {
		r->kind = ROUTE_BAD_REQUEST;
		r->error = "namespace in the path is not a valid name";
		return false;
	}
	memcpy(r->ns, ns, n);
	r->ns[n] = '\0';
	return true;
}

/* One trace, by any method but GET: DELETE (a graceful stop), no query. */
static void route_stop(const char *method, const char *q, struct route *r)
{
	if (strcmp(method, "DELETE")) {
		r->kind = ROUTE_METHOD_NOT_ALLOWED;
	} else if (q) {
		r->kind = ROUTE_BAD_REQUEST;
		r->error = "query parameters are not supported on a trace";
	} else {
		r->kind = ROUTE_TRACE_STOP;
	}
}

/*
 * The cluster-scoped nodetraces (docs/internals/contracts.md): POST the
 * collection to start a node-wide trace ([?dryRun=All]), DELETE one to
 * stop it gracefully as a pod trace's; nothing else.  rest: what follows
 * the collection's path, n bytes.
 */
static void route_nodetraces(const char *method, const char *rest, size_t n, const char *q,
			     struct route *r)
{
	r->resource = true;
	r->node = true;
	if (!n) {
		if (strcmp(method, "POST")) {
			r->kind = ROUTE_METHOD_NOT_ALLOWED;
			return;
		}
		r->kind = ROUTE_TRACE_CREATE;
		if (q)
			route_query(q + 1, r);
		return;
	}
	if (*rest != '/' || !wire_dns_label(rest + 1, n - 1, ROUTE_MAX_NAME)) {
		r->kind = ROUTE_BAD_REQUEST;
		r->error = "trace name in the path is not a valid name";
		return;
	}
	memcpy(r->name, rest + 1, n - 1);
	r->name[n - 1] = '\0';
	route_stop(method, q, r);
}

void route_match(const char *method, const char *target, struct route *r)
{
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	const char *ns, *slash, *name, *log = NULL;

	*r = (struct route){ .kind = ROUTE_NOT_FOUND };
	if (plen == strlen("/healthz") && !strncmp(target, "/healthz", plen)) {
		r->kind = strcmp(method, "GET") && strcmp(method, "HEAD") ? ROUTE_METHOD_NOT_ALLOWED
									  : ROUTE_HEALTHZ;
		return;
	}
	/* under the group version, so the aggregator proxies it too */
	if (plen == strlen(VERSION_PATH) && !strncmp(target, VERSION_PATH, plen)) {
		r->kind = strcmp(method, "GET") && strcmp(method, "HEAD") ? ROUTE_METHOD_NOT_ALLOWED
									  : ROUTE_VERSION;
		return;
	}
	if (gw_discovery_doc(target, plen)) {
		r->kind = strcmp(method, "GET") && strcmp(method, "HEAD") ? ROUTE_METHOD_NOT_ALLOWED
									  : ROUTE_DISCOVERY;
		return;
	}
	if (plen >= strlen(NODETRACES_PATH) && !strncmp(target, NODETRACES_PATH, strlen(NODETRACES_PATH)) &&
	    (plen == strlen(NODETRACES_PATH) || target[strlen(NODETRACES_PATH)] == '/')) {
		route_nodetraces(method, target + strlen(NODETRACES_PATH), plen - strlen(NODETRACES_PATH),
				 q, r);
		return;
	}
	if (plen <= strlen(TRACES_PREFIX) || strncmp(target, TRACES_PREFIX, strlen(TRACES_PREFIX)))
		return;
	ns = target + strlen(TRACES_PREFIX);
	slash = memchr(ns, '/', plen - (size_t)(ns - target));
	if (slash && (size_t)(target + plen - slash) == strlen("/probes") &&
	    !strncmp(slash, "/probes", strlen("/probes"))) {
		if (!route_namespace(r, ns, (size_t)(slash - ns)))
			return;
		if (strcmp(method, "GET")) {
			r->kind = ROUTE_METHOD_NOT_ALLOWED;
			return;
		}
		r->kind = ROUTE_PROBE_LIST;
		route_probes_query(q ? q + 1 : "", r);
		return;
	}
	if (!slash || (size_t)(target + plen - slash) < strlen("/traces") ||
	    strncmp(slash, "/traces", strlen("/traces")))
		return;
	name = slash + strlen("/traces");
	/* .../traces, .../traces/NAME or .../traces/NAME/log, nothing deeper */
	if (name < target + plen) {
		const char *sub = name + 1 < target + plen ? memchr(name + 1, '/', (size_t)(target + plen - name) - 1)
							    : NULL;

		if (*name != '/' || name + 1 == target + plen)
			return;
		if (sub && ((size_t)(target + plen - sub) != 4 || strncmp(sub, "/log", 4)))
			return;
		if (sub)
			log = sub;
	}
	if (!route_namespace(r, ns, (size_t)(slash - ns)))
		return;
	if (name < target + plen) {
		/* one trace: DELETE (a graceful stop of a live trace, or a
		 * detached trace's end), GET; its log: GET */
		size_t nlen = (size_t)((log ? log : target + plen) - name) - 1;

		if (!wire_dns_label(name + 1, nlen, ROUTE_MAX_NAME)) {
			r->kind = ROUTE_BAD_REQUEST;
			r->error = "trace name in the path is not a valid name";
			return;
		}
		memcpy(r->name, name + 1, nlen);
		r->name[nlen] = '\0';
		if (log) {
			if (strcmp(method, "GET")) {
				r->kind = ROUTE_METHOD_NOT_ALLOWED;
				return;
			}
			r->kind = ROUTE_TRACE_LOG;
			if (q)
				route_log_query(q + 1, r);
			return;
		}
		if (!strcmp(method, "GET")) {
			r->kind = q ? ROUTE_BAD_REQUEST : ROUTE_TRACE_GET;
			r->error = q ? "query parameters are not supported on a trace" : NULL;
			return;
		}
		route_stop(method, q, r);
		return;
	}
	if (!strcmp(method, "GET")) {
		r->kind = q ? ROUTE_BAD_REQUEST : ROUTE_TRACE_LIST;
		r->error = q ? "query parameters are not supported on a list of traces" : NULL;
		return;
	}
	if (strcmp(method, "POST")) {
		r->kind = ROUTE_METHOD_NOT_ALLOWED;
		return;
	}
	r->kind = ROUTE_TRACE_CREATE;
	if (q)
		route_query(q + 1, r);
}
