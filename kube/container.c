// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/container.h"
#include "lib/banned.h"

#define NAME_QUOTE_MAX 64

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool tg_container_name_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, TG_CONTAINER_NAME_MAX + 1);
	if (len == 0 || len > TG_CONTAINER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!lower_alnum(name[i]) && !(name[i] == '-' && i > 0 && i + 1 < len))
			return false;
	return true;
}

/* name for a message: printable ASCII but '"' and '\' kept, the rest \xHH */
static char *name_quote(const char *s)
{
	struct buf b = BUF_INIT(NAME_QUOTE_MAX * 4 + 8);

	(void)buf_add_quoted_name(&b, s, NAME_QUOTE_MAX);
	return buf_detach(&b, NULL);
}

int tg_container_name_check(const char *name, char **ret_err)
{
	_cleanup_free_ char *q = NULL;
	size_t len;

	if (!name || !*name)
		return tg_fail(ret_err, -EINVAL, "container name: empty");
	if (tg_container_name_valid(name))
		return 0;
	q = name_quote(name);
	len = strlen(name);
	if (len > TG_CONTAINER_NAME_MAX)
		return tg_fail(ret_err, -EINVAL, "container name \"%s\": %zu characters, longer than %d",
				 q ? q : "?", len, TG_CONTAINER_NAME_MAX);
	return tg_fail(ret_err, -EINVAL,
			 "container name \"%s\": not a DNS-1123 label (lower case letters, digits and '-', "
			 "beginning and ending with a letter or digit)",
			 q ? q : "?");
}

static const struct {
	const char *prefix;
	enum tg_ctr_runtime rt;
	const char *name;
} runtimes[] = {
	{ "containerd://", TG_CTR_CONTAINERD, "containerd" },
	{ "cri-o://", TG_CTR_CRIO, "cri-o" },
	{ "docker://", TG_CTR_DOCKER, "docker" },
};

int tg_container_id_parse(const char *s, struct tg_container_id *ret)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++) {
		size_t pl = strlen(runtimes[i].prefix);
		const char *h = s + pl;

		if (strncmp(s, runtimes[i].prefix, pl) != 0)
			continue;
		if (strnlen(h, TG_CONTAINER_HEX_LEN + 1) != TG_CONTAINER_HEX_LEN)
			return -EINVAL;
		for (size_t k = 0; k < TG_CONTAINER_HEX_LEN; k++)
			if (!((h[k] >= '0' && h[k] <= '9') || (h[k] >= 'a' && h[k] <= 'f')))
				return -EINVAL;
		ret->runtime = runtimes[i].rt;
		memcpy(ret->hex, h, TG_CONTAINER_HEX_LEN);
		ret->hex[TG_CONTAINER_HEX_LEN] = '\0';
		return 0;
	}
	return -EINVAL;
}

const char *tg_container_runtime_name(enum tg_ctr_runtime rt)
{
	for (size_t i = 0; i < ARRAY_SIZE(runtimes); i++)
		if (runtimes[i].rt == rt)
			return runtimes[i].name;
	return "?";
}
