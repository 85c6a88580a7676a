// SPDX-License-Identifier: Apache-2.0
/* tracegate-runner: the privileged node agent. */
#include "lib/cmd.h"
#include "lib/log.h"
#include "runner/commands.h"

static const struct cmd runner_cmds[] = {
	{ "exec", cmd_exec, "run one program locally and print like bpftrace" },
	{ "serve", cmd_serve, "serve trace sessions to the gateway (mTLS)" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	log_init("tracegate-runner", LOG_LVL_INFO);
	return cmd_dispatch("tracegate-runner", runner_cmds, argc - 1, argv + 1);
}
