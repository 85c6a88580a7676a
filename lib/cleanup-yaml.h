/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_YAML_H
#define TG_LIB_CLEANUP_YAML_H

#include <yaml.h>
#include "lib/cleanup.h"

/* yaml_document_t and yaml_parser_t live on the stack: delete, not free. */
static inline void yaml_parser_deletep(yaml_parser_t **p)
{
	if (*p)
		yaml_parser_delete(*p);
}

static inline void yaml_document_deletep(yaml_document_t **d)
{
	if (*d)
		yaml_document_delete(*d);
}

#endif
