/* SPDX-License-Identifier: Apache-2.0 */
/* Detached traces from the command line (docs/kubectl-trace.md). */
#ifndef TG_PLUGIN_DETACHED_H
#define TG_PLUGIN_DETACHED_H

#include "plugin/cli.h"
#include "plugin/client.h"

/* run --detach answered 201: the name, kubectl style (or the Trace, -o). */
int kt_detached_created(const struct kt_args *a, const struct kt_response *resp);
/* get, logs, attach, delete. */
int kt_detached_command(const struct kt_args *a);

#endif
