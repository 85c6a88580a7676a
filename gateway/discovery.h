/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API discovery of tracegate.dev/v1alpha1 (GET /apis, /apis/tracegate.dev,
 * /apis/tracegate.dev/v1alpha1), as an aggregated API server serves it, so
 * the aggregator and `kubectl api-resources` list traces and nodetraces.
 * Pure: fixed documents.
 */
#ifndef TG_GATEWAY_DISCOVERY_H
#define TG_GATEWAY_DISCOVERY_H

#include <stddef.h>

/* The JSON document served at path[0..len), or NULL when path is not a
 * discovery path. */
const char *gw_discovery_doc(const char *path, size_t len);

#endif
