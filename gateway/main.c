// SPDX-License-Identifier: Apache-2.0
/* tracegate: the unprivileged gateway and its tools. */
#include <stddef.h>
#include "lib/cmd.h"
#include "lib/log.h"
#include "gateway/commands.h"

static const struct cmd gateway_cmds[] = {
	{ "serve", cmd_serve, "serve the trace API (HTTPS)" },
	{ "audit", cmd_audit, "verify and query the audit log" },
	{ "policy", cmd_policy, "check programs against TracePolicy documents offline" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	log_init("tracegate", LOG_LVL_INFO);
	return cmd_dispatch("tracegate", gateway_cmds, argc - 1, argv + 1);
}
