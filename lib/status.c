// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
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

static const char *str_member(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int status_read(const json_t *j, struct status_view *ret)
{
	const json_t *details, *code;
	const char *kind = str_member(j, "kind");

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(j) || (json_object_get(j, "kind") && (!kind || strcmp(kind, "Status"))))
		return -EINVAL;
	code = json_object_get(j, "code");
	if (json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) <= 999)
		ret->code = (int)json_integer_value(code);
	ret->status = str_member(j, "status");
	ret->reason = str_member(j, "reason");
	ret->message = str_member(j, "message");
	details = json_object_get(j, "details");
	ret->kind = str_member(details, "kind");
	ret->group = str_member(details, "group");
	ret->name = str_member(details, "name");
	if (json_is_array(json_object_get(details, "causes")))
		ret->causes = json_object_get(details, "causes");
	return 0;
}

int status_cause(const struct status_view *v, size_t i, struct status_cause *ret)
{
	const json_t *c;

	memset(ret, 0, sizeof(*ret));
	if (!v->causes || i >= json_array_size(v->causes))
		return -ENOENT;
	c = json_array_get(v->causes, i);
	ret->reason = str_member(c, "reason");
	ret->field = str_member(c, "field");
	ret->message = str_member(c, "message");
	return 0;
}

const char *status_cause_message(const struct status_view *v, const char *field)
{
	struct status_cause c;

	for (size_t i = 0; status_cause(v, i, &c) == 0; i++)
		if (c.field && !strcmp(c.field, field))
			return c.message;
	return NULL;
}

char *status_body_message(const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	struct status_view v;
	char *m = NULL;

	if (status_read(j, &v) == 0 && v.message)
		m = strdup(v.message);
	json_decref(j);
	return m;
}
