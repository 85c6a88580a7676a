/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container of a pod, as `kubectl trace run -c NAME` names it: the
 * rules both the gateway (which finds the container in the pod's status)
 * and the runner (which turns its ID into a cgroup directory name) apply,
 * so that neither the tenant's name nor the API server's ID can carry
 * anything into a path but what these rules let through.
 */
#ifndef TG_KUBE_CONTAINER_H
#define TG_KUBE_CONTAINER_H

#include <stdbool.h>

#define TG_CONTAINER_NAME_MAX 63   /* a DNS-1123 label, as Kubernetes names containers */
#define TG_CONTAINER_HEX_LEN 64    /* the ID the runtimes give a container */

enum tg_ctr_runtime {
	TG_CTR_CONTAINERD = 1,     /* containerd:// */
	TG_CTR_CRIO,               /* cri-o:// */
	TG_CTR_DOCKER,             /* docker:// */
};

struct tg_container_id {
	enum tg_ctr_runtime runtime;
	char hex[TG_CONTAINER_HEX_LEN + 1];
};

/* A DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool tg_container_name_valid(const char *name);
/* The same, and -EINVAL with a message saying what is wrong (the name
 * quoted with its unprintable bytes escaped and cut at 64 characters). */
int tg_container_name_check(const char *name, char **ret_err);
/* "containerd://", "cri-o://" or "docker://" and exactly 64 lowercase hex
 * digits: 0 and *ret; -EINVAL for anything else. */
int tg_container_id_parse(const char *s, struct tg_container_id *ret);
/* "containerd", "cri-o", "docker" */
const char *tg_container_runtime_name(enum tg_ctr_runtime rt);

#endif
