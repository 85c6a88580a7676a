// SPDX-License-Identifier: Apache-2.0
/*
 * Impersonation in the traces flow (kubectl --as, --as-group), as the
 * Kubernetes API server's impersonation filter does it: the headers
 * Impersonate-User and Impersonate-Group are read (bounded, checked),
 * and after authentication the authenticated user needs verb impersonate
 * on users/NAME and on groups/NAME for each group, at the cluster scope;
 * then the request acts as that user, with those groups and
 * system:authenticated, and its audit records carry both identities.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gateway/http.h"
#include "gateway/route.h"
#include "gateway/trace-int.h"
#include "lib/cleanup.h"
#include "lib/util.h"
#include "wire/fields.h"
#include "lib/banned.h"

#define SA_PREFIX "system:serviceaccount:"

/* What the Impersonate-* headers asked (t->imp): this file's own */
struct trace_impersonation {
	char *user;
	char **groups;                 /* NULL-terminated, or NULL */
	size_t ngroups;
	size_t next;                   /* the review asked: 0 the user, then each group */
	/* user names a ServiceAccount (system:serviceaccount:NS:NAME, a valid
	 * namespace and name): its namespace, "" for a user, and its name,
	 * pointing into user */
	char sa_ns[ROUTE_MAX_NAMESPACE + 1];
	const char *sa_name;
};

bool trace_impersonation_asked(const struct trace_req *t)
{
	return t->imp && t->imp->user;
}

void trace_impersonation_free(struct trace_req *t)
{
	if (!t->imp)
		return;
	free(t->imp->user);
	strv_free(t->imp->groups);
	free(t->imp);
	t->imp = NULL;
}

/*
 * As the API server's serviceaccount.SplitUsername: a user name
 * system:serviceaccount:NS:NAME with a valid namespace and name is that
 * ServiceAccount, whose impersonation is verb impersonate on
 * serviceaccounts/NAME in NS (not on users: a grant to impersonate users
 * does not reach ServiceAccounts); any other name is a user.
 */
static void impersonation_split_sa(struct trace_req *t)
{
	const char *rest = t->imp->user + strlen(SA_PREFIX), *colon;

	t->imp->sa_ns[0] = '\0';
	t->imp->sa_name = NULL;
	if (strncmp(t->imp->user, SA_PREFIX, strlen(SA_PREFIX)) || !(colon = strchr(rest, ':')) ||
	    strchr(colon + 1, ':') || !wire_dns_label(rest, (size_t)(colon - rest), ROUTE_MAX_NAMESPACE) ||
	    !wire_dns_subdomain(colon + 1))
		return;
	memcpy(t->imp->sa_ns, rest, (size_t)(colon - rest));
	t->imp->sa_ns[colon - rest] = '\0';
	t->imp->sa_name = colon + 1;
}

static void impersonation_granted(struct trace_req *t)
{
	struct kube_user as = { 0 };
	size_t n = 0;
	bool has_auth = false, oom = false;
	char sa_ns_group[sizeof("system:serviceaccounts:") + ROUTE_MAX_NAMESPACE];

	as.username = strdup(t->imp->user);
	as.groups = calloc(t->imp->ngroups + 4, sizeof(*as.groups));
	oom = !as.username || !as.groups;
	for (size_t i = 0; !oom && i < t->imp->ngroups; i++) {
		oom = !(as.groups[n++] = strdup(t->imp->groups[i]));
		has_auth |= !strcmp(t->imp->groups[i], "system:authenticated");
	}
	/* a ServiceAccount impersonated without groups has its own, as the
	 * API server gives them (serviceaccount.MakeGroupNames) */
	if (!oom && t->imp->sa_name && !t->imp->ngroups) {
		snprintf(sa_ns_group, sizeof(sa_ns_group), "system:serviceaccounts:%s", t->imp->sa_ns);
		oom = !(as.groups[n++] = strdup("system:serviceaccounts")) ||
		      !(as.groups[n++] = strdup(sa_ns_group));
	}
	if (!oom && !has_auth && strcmp(t->imp->user, "system:anonymous"))
		oom = !(as.groups[n++] = strdup("system:authenticated"));
	if (oom) {
		kube_user_release(&as);
		trace_refuse(t, 500, "out of memory", NULL);
		return;
	}
	t->real_user = t->user;
	t->user = as;
	t->impersonating = true;
	trace_goto(t, STEP_AUTHENTICATED);
}

/*
 * Impersonation as the API server does it (impersonation filter): the
 * authenticated user needs verb impersonate on users/NAME and on
 * groups/NAME for each group asked, at the cluster scope; then the
 * request acts as that user, with those groups and system:authenticated.
 */
void trace_impersonate_step(struct trace_req *t)
{
	struct kube_resource_attrs a = { .verb = "impersonate", .group = "", .version = "v1" };

	if (t->imp->next > t->imp->ngroups) {
		impersonation_granted(t);
		return;
	}
	if (t->imp->next == 0 && t->imp->sa_name) {
		a.resource = "serviceaccounts";
		a.namespace = t->imp->sa_ns;
		a.name = t->imp->sa_name;
	} else if (t->imp->next == 0) {
		a.resource = "users";
		a.name = t->imp->user;
	} else {
		a.resource = "groups";
		a.name = t->imp->groups[t->imp->next - 1];
	}
	trace_step_sar(t, STEP_SAR_IMPERSONATE, &a);
}

void trace_impersonate_allowed(struct trace_req *t)
{
	t->imp->next++;
	trace_impersonate_step(t);
}

static bool impersonation_name_ok(const char *v)
{
	size_t n = strlen(v);

	if (!n || n > TRACE_MAX_IMPERSONATE_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '!' || v[i] > '~')
			return false;
	return true;
}

/* Impersonate-User and Impersonate-Group (kubectl --as, --as-group); the
 * other impersonation headers are refused rather than ignored.  -1 when
 * t was refused (and freed). */
int trace_impersonation_headers(struct trace_req *t, const struct http_request *req)
{
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name, *v = req->headers[i].value;

		if (strncasecmp(name, "Impersonate-", 12))
			continue;
		if (strcasecmp(name, "Impersonate-User") && strcasecmp(name, "Impersonate-Group")) {
			trace_refusef(t, 400, NULL, "header \"%.64s\" is not supported (only Impersonate-User and Impersonate-Group)",
				      name);
			return -1;
		}
		if (!impersonation_name_ok(v)) {
			trace_refusef(t, 400, NULL, "header \"%s\": want a name of 1 to %u printable characters",
				      name, TRACE_MAX_IMPERSONATE_NAME);
			return -1;
		}
		if (!t->imp && !(t->imp = calloc(1, sizeof(*t->imp))))
			goto oom;
		if (!strcasecmp(name, "Impersonate-User")) {
			if (t->imp->user) {
				trace_refuse(t, 400, "more than one Impersonate-User header", NULL);
				return -1;
			}
			t->imp->user = strdup(v);
			if (!t->imp->user)
				goto oom;
			continue;
		}
		if (t->imp->ngroups >= TRACE_MAX_IMPERSONATE_GROUPS) {
			trace_refusef(t, 400, NULL, "more than %u Impersonate-Group headers",
				      TRACE_MAX_IMPERSONATE_GROUPS);
			return -1;
		}
		if (!t->imp->groups) {
			t->imp->groups = calloc(TRACE_MAX_IMPERSONATE_GROUPS + 1, sizeof(*t->imp->groups));
			if (!t->imp->groups)
				goto oom;
		}
		t->imp->groups[t->imp->ngroups] = strdup(v);
		if (!t->imp->groups[t->imp->ngroups])
			goto oom;
		t->imp->ngroups++;
	}
	if (t->imp && t->imp->ngroups && !t->imp->user) {
		trace_refuse(t, 400, "Impersonate-Group without Impersonate-User: groups are impersonated only with a user",
			     NULL);
		return -1;
	}
	if (trace_impersonation_asked(t))
		impersonation_split_sa(t);
	return 0;
oom:
	trace_refuse(t, 500, "out of memory", NULL);
	return -1;
}
