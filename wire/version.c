// SPDX-License-Identifier: Apache-2.0
/* A build's version (wire/version.h): the gateway's encoder, the plugin's reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/version.h"
#include "wire/fields.h"
#include "wire/version.h"
#include "lib/banned.h"

void wire_version_release(struct wire_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->git_commit);
	free(v->build_date);
	memset(v, 0, sizeof(*v));
}

int wire_version_this(struct wire_version *ret)
{
	struct wire_version v = { strdup(tg_version), strdup(tg_git_commit), strdup(tg_build_date) };

	if (!v.version || !v.git_commit || !v.build_date) {
		wire_version_release(&v);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

static bool member_ok(const char *s)
{
	return s && *s && strlen(s) <= WIRE_VERSION_MAX && wire_printable_text(s, strlen(s));
}

int wire_version_to_json(const struct wire_version *v, json_t **ret)
{
	json_t *o;

	if (!member_ok(v->version) || !member_ok(v->git_commit) || !member_ok(v->build_date))
		return -EINVAL;
	o = json_pack("{s:s, s:s, s:s}", "version", v->version, "gitCommit", v->git_commit, "buildDate",
		      v->build_date);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

/* A member of at most WIRE_VERSION_MAX printable bytes; absent or null: "unknown". */
static int member(json_t *o, const char *key, char **ret, char **ret_err)
{
	json_t *m = json_object_get(o, key);

	if (!m || json_is_null(m)) {
		*ret = strdup("unknown");
		return *ret ? 0 : -ENOMEM;
	}
	return wire_text_field(o, key, "", 1, WIRE_VERSION_MAX, ret, ret_err);
}

int wire_version_from_gateway(json_t *o, struct wire_version *ret, char **ret_err)
{
	_cleanup_(wire_version_release) struct wire_version v = { 0 };
	int r;

	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "version: not a JSON object");
	if ((r = member(o, "version", &v.version, ret_err)) < 0 ||
	    (r = member(o, "gitCommit", &v.git_commit, ret_err)) < 0 ||
	    (r = member(o, "buildDate", &v.build_date, ret_err)) < 0)
		return r;
	*ret = v;
	memset(&v, 0, sizeof(v));
	return 0;
}
