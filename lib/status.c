// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include "lib/httpstatus.h"
#include "lib/status.h"
#include "lib/banned.h"

json_t *status_new(int code, const char *message, json_t *details)
{
	json_t *s;

	if (code >= 400)
		s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
			      "metadata", "status", "Failure", "message", message ? message : "", "reason",
			      status_reason(code), "code", code);
	else
		s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
			      "metadata", "status", "Success", "message", message ? message : "", "code", code);
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
