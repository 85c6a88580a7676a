// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/trace-container.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/container.h"
#include "lib/banned.h"

/* "app, sidecar" (the names are DNS-1123 labels: nothing to escape) */
static char *container_names(const struct kube_pod *p)
{
	struct buf b = BUF_INIT((TG_CONTAINER_NAME_MAX + 2) * TRACE_CONTAINER_LIST_MAX + 64);
	size_t i;

	for (i = 0; i < p->ncontainers && i < TRACE_CONTAINER_LIST_MAX; i++)
		(void)buf_printf(&b, "%s%s", i ? ", " : "", p->containers[i].name);
	if (i < p->ncontainers)
		(void)buf_printf(&b, " and %zu more", p->ncontainers - i);
	if (!p->ncontainers)
		(void)buf_adds(&b, "none");
	return buf_detach(&b, NULL);
}

static int refuse(int *ret_code, int code, char **ret_err, char *msg)
{
	if (!msg)
		return -ENOMEM;
	*ret_code = code;
	if (ret_err) {
		free(*ret_err);
		*ret_err = msg;
	} else {
		free(msg);
	}
	return 1;
}

int trace_pod_container(const struct kube_pod *p, const char *name, const struct kube_container **ret,
			int *ret_code, char **ret_err)
{
	_cleanup_free_ char *names = NULL, *err = NULL;
	const struct kube_container *c = NULL;
	struct tg_container_id id;
	char *msg = NULL;

	if (tg_container_name_check(name, &err) < 0)
		return refuse(ret_code, 400, ret_err, TAKE_PTR(err));
	for (size_t i = 0; i < p->ncontainers && !c; i++)
		if (!strcmp(p->containers[i].name, name))
			c = &p->containers[i];
	if (!c) {
		names = container_names(p);
		if (!names || asprintf(&msg, "container \"%s\" not found in pod \"%s\"; its containers: %s", name,
				       p->name, names) < 0)
			return -ENOMEM;
		return refuse(ret_code, 404, ret_err, msg);
	}
	if (!c->running || !c->id || !*c->id) {
		if (asprintf(&msg, "container \"%s\" of pod \"%s\" is not running (%s)", name, p->name,
			     c->id && *c->id ? "waiting or terminated" : "no container ID in its status") < 0)
			return -ENOMEM;
		return refuse(ret_code, 409, ret_err, msg);
	}
	if (tg_container_id_parse(c->id, &id) < 0) {
		if (asprintf(&msg,
			     "container \"%s\" of pod \"%s\": its container ID is not one tracegate can find the "
			     "cgroup of (containerd://, cri-o:// or docker:// and 64 hex digits)",
			     name, p->name) < 0)
			return -ENOMEM;
		return refuse(ret_code, 409, ret_err, msg);
	}
	*ret = c;
	return 0;
}
