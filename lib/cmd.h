/* SPDX-License-Identifier: Apache-2.0 */
/* bpftool-style command tables: {name, handler, summary}. */
#ifndef TG_LIB_CMD_H
#define TG_LIB_CMD_H

#include <stddef.h>

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);   /* argv[0] is the command name */
	const char *summary;
};

/* Runs the command named by argv[0] from the NULL-terminated table; prints
 * usage for "help", "-h", "--help" or nothing, and the build (lib/version.h:
 * "PROG VERSION (commit C, built D)") for "--version"; returns the exit
 * status. */
int cmd_dispatch(const char *prog, const struct cmd *table, int argc, char **argv);

#endif
