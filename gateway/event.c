// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/rand.h>
#include "gateway/event.h"
#include "gateway/status.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "lib/banned.h"

int gw_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

static json_t *event_user(const struct kube_user *u)
{
	json_t *j, *groups;

	if (!u || !u->username)
		return json_pack("{s:s, s:[s]}", "username", "system:anonymous", "groups",
				 "system:unauthenticated");
	groups = json_array();
	for (char **g = u->groups; g && *g; g++)
		json_array_append_new(groups, json_string(*g));
	j = json_pack("{s:s, s:o}", "username", u->username, "groups", groups);
	if (j && u->uid && *u->uid)
		json_object_set_new(j, "uid", json_string(u->uid));
	if (j && json_is_object(u->extra) && json_object_size(u->extra))
		json_object_set(j, "extra", u->extra);
	return j;
}

json_t *gw_event_build(const struct gw_event *ev)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *obj, *status, *ann;
	char received[32], staged[32];

	format_rfc3339_us(ev->received_ns, received);
	format_rfc3339_us(ev->stage_ns, staged);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[s], s:s, s:s}", "kind", "Event",
		      "apiVersion", "audit.k8s.io/v1", "level", "Metadata", "auditID", ev->audit_id,
		      "stage", ev->stage, "verb", ev->verb ? ev->verb : "create", "user",
		      event_user(ev->user), "sourceIPs", ev->source_ip ? ev->source_ip : "",
		      "requestReceivedTimestamp", received, "stageTimestamp", staged);
	if (!j)
		return NULL;
	if (ev->request_uri)
		json_object_set_new(j, "requestURI", json_string(ev->request_uri));
	if (ev->user_agent)
		json_object_set_new(j, "userAgent", json_string(ev->user_agent));
	obj = json_pack("{s:s, s:s, s:s}", "resource", "traces", "apiGroup", "tracegate.dev",
			"apiVersion", "v1alpha1");
	if (!obj)
		return NULL;
	if (ev->ns)
		json_object_set_new(obj, "namespace", json_string(ev->ns));
	if (ev->name)
		json_object_set_new(obj, "name", json_string(ev->name));
	json_object_set_new(j, "objectRef", obj);
	if (ev->code) {
		status = json_pack("{s:{}, s:i}", "metadata", "code", ev->code);
		if (!status)
			return NULL;
		if (ev->code >= 300) {
			json_object_set_new(status, "status", json_string("Failure"));
			json_object_set_new(status, "reason", json_string(status_reason(ev->code)));
			if (ev->message)
				json_object_set_new(status, "message", json_string(ev->message));
		}
		json_object_set_new(j, "responseStatus", status);
	}
	ann = json_object();
	if (!ann)
		return NULL;
	if (ev->decision)
		json_object_set_new(ann, "authorization.k8s.io/decision", json_string(ev->decision));
	if (ev->reason)
		json_object_set_new(ann, "authorization.k8s.io/reason", json_string(ev->reason));
	json_object_set_new(j, "annotations", ann);
	if (ev->tracegate)
		json_object_set(j, "tracegate", ev->tracegate);
	return TAKE_PTR(j);
}
