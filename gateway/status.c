// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/status.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/banned.h"

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
