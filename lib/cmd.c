// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>
#include "lib/cmd.h"
#include "lib/version.h"

static void cmd_usage(FILE *f, const char *prog, const struct cmd *table)
{
	fprintf(f, "usage: %s COMMAND [OPTIONS]\n\ncommands:\n", prog);
	for (const struct cmd *c = table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'%s COMMAND --help' describes a command; '%s --version' tells the build.\n",
		prog, prog);
}

int cmd_dispatch(const char *prog, const struct cmd *table, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help")) {
		cmd_usage(argc < 1 ? stderr : stdout, prog, table);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "--version")) {
		printf("%s %s (commit %s, built %s)\n", prog, tg_version, tg_git_commit, tg_build_date);
		return 0;
	}
	for (const struct cmd *c = table; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->fn(argc, argv);
	fprintf(stderr, "%s: unknown command \"%s\"\n", prog, argv[0]);
	cmd_usage(stderr, prog, table);
	return 2;
}
