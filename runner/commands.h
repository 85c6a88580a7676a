/* SPDX-License-Identifier: Apache-2.0 */
/* tracegate-runner's subcommands, one file each (cmd-<name>.c). */
#ifndef TG_RUNNER_COMMANDS_H
#define TG_RUNNER_COMMANDS_H

int cmd_exec(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
