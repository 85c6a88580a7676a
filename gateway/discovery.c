// SPDX-License-Identifier: Apache-2.0
/* Discovery documents of tracegate.dev/v1alpha1: discovery.h. */
#include <string.h>
#include "gateway/discovery.h"
#include "lib/cleanup.h"
#include "lib/banned.h"

#define GV "{\"groupVersion\":\"tracegate.dev/v1alpha1\",\"version\":\"v1alpha1\"}"
#define GROUP "\"name\":\"tracegate.dev\",\"versions\":[" GV "],\"preferredVersion\":" GV

static const struct {
	const char *path;
	const char *doc;
} docs[] = {
	{ "/apis", "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{" GROUP "}]}\n" },
	{ "/apis/tracegate.dev", "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," GROUP "}\n" },
	{ "/apis/tracegate.dev/v1alpha1",
	  "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"tracegate.dev/v1alpha1\","
	  "\"resources\":["
	  "{\"name\":\"traces\",\"singularName\":\"trace\",\"namespaced\":true,\"kind\":\"Trace\","
	  "\"verbs\":[\"create\",\"delete\",\"get\",\"list\"]},"
	  "{\"name\":\"nodetraces\",\"singularName\":\"nodetrace\",\"namespaced\":false,"
	  "\"kind\":\"NodeTrace\",\"verbs\":[\"create\"]}]}\n" },
};

const char *gw_discovery_doc(const char *path, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		if (strlen(docs[i].path) == len && !memcmp(docs[i].path, path, len))
			return docs[i].doc;
	return NULL;
}
