/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl trace list: the probes the caller's policy allows (docs/kubectl-trace.md). */
#ifndef TG_PLUGIN_PROBES_H
#define TG_PLUGIN_PROBES_H

#include "plugin/cli.h"

/* GET .../probes; prints bpftrace -l's (-lv's) listing, or the ProbeList
 * with -o json|yaml.  The exit status. */
int kt_probes_command(const struct kt_args *a);

#endif
