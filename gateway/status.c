// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/status.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/banned.h"

json_t *status_new(int code, const char *message, json_t *details)
{
	json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status",
			      "apiVersion", "v1", "metadata", "status", "Failure", "message",
			      message ? message : "", "reason", status_reason(code), "code", code);

	if (!s) {
		json_decref(details);
		return NULL;
	}
	if (details && json_object_set_new(s, "details", details) < 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

json_t *status_details(const char *kind, const char *group, const char *name)
{
	json_t *d = json_object();

	if (!d)
		return NULL;
	if ((name && json_object_set_new(d, "name", json_string(name)) < 0) ||
	    (group && json_object_set_new(d, "group", json_string(group)) < 0) ||
	    (kind && json_object_set_new(d, "kind", json_string(kind)) < 0)) {
		json_decref(d);
		return NULL;
	}
	return d;
}

int status_add_cause(json_t *details, const char *reason, const char *field, const char *message)
{
	json_t *causes = json_object_get(details, "causes");
	json_t *c;

	if (!causes) {
		causes = json_array();
		if (!causes || json_object_set_new(details, "causes", causes) < 0)
			return -ENOMEM;
	}
	c = json_object();
	if (!c)
		return -ENOMEM;
	if ((reason && json_object_set_new(c, "reason", json_string(reason)) < 0) ||
	    (field && json_object_set_new(c, "field", json_string(field)) < 0) ||
	    (message && json_object_set_new(c, "message", json_string(message)) < 0) ||
	    json_array_append_new(causes, c) < 0)
		return -ENOMEM;
	return 0;
}

char *status_forbidden_message(const char *user, const char *verb, const char *group,
			       const char *resource, const char *ns, const char *name,
			       const char *reason)
{
	char *s = NULL;
	int r;

	/* k8s.io/apiserver/pkg/endpoints/handlers/responsewriters: the
	 * qualified resource, the name when there is one, then the attributes. */
	r = asprintf(&s, "%s%s%s%s%s%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\"%s%s%s%s%s",
		     resource, group && *group ? "." : "", group ? group : "",
		     name ? " \"" : "", name ? name : "", name ? "\"" : "",
		     user ? user : "", verb, resource, group ? group : "",
		     ns ? " in the namespace \"" : " at the cluster scope", ns ? ns : "", ns ? "\"" : "",
		     reason && *reason ? ": " : "", reason && *reason ? reason : "");
	return r < 0 ? NULL : s;
}

int status_code_for(int err)
{
	switch (err < 0 ? -err : err) {
	case TG_EPARSE:
	case TG_EUNSUPPORTED:
	case TG_ETYPE:
	case EINVAL:
		return 400;
	case TG_EAUTHN:
		return 401;
	case TG_EAUTHZ:
	case TG_EPOLICY:
		return 403;
	case TG_ENOTFOUND:
	case TG_ENOSCOPE:
		return 404;
	case TG_ELIMIT:
		return 429;
	case TG_EUPSTREAM:
	case TG_EAUDIT:
		return 503;
	default:
		return 500;
	}
}
