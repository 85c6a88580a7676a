/* SPDX-License-Identifier: Apache-2.0 */
/* tracegate's subcommands, one file each (cmd-<name>.c). */
#ifndef TG_GATEWAY_COMMANDS_H
#define TG_GATEWAY_COMMANDS_H

int cmd_serve(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_policy(int argc, char **argv);

#endif
