// SPDX-License-Identifier: Apache-2.0
/* tracegate-runner: the privileged node agent. */
#include <string.h>

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
	const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : argv[0] ? argv[0] : "";
	/* A multi-call binary: run as "bpftrace" it is `tracegate-runner
	 * exec`, so scripts and tests written for bpftrace (which also see
	 * the tracer's own comm as "bpftrace") run unchanged. */
	if (!strcmp(base, "bpftrace")) {
		log_init("bpftrace", LOG_LVL_INFO);
		return cmd_exec(argc, argv);
	}
	log_init("tracegate-runner", LOG_LVL_INFO);
	return cmd_dispatch("tracegate-runner", runner_cmds, argc - 1, argv + 1);
}
