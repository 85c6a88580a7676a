/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tracegate-runner exec --policy FILE`: the TracePolicy check a local run
 * goes through before anything is compiled, and the limits it grants.
 */
#ifndef TG_RUNNER_EXEC_POLICY_H
#define TG_RUNNER_EXEC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "runner/engine.h"

/* Loads the policies in path (a YAML file or a directory of them),
 * evaluates the program for user (groups: "system:authenticated") in
 * namespace "local" and scope "pod"
 * (scoped) or "node", and on an allow tightens *lim to the allowing
 * policy's limits (a limit already set stays when it is tighter).
 * Returns 0 when allowed, -TG_EPOLICY when denied with *ret_err the
 * explanation (every denial with its line:column), other negative codes
 * when the policies or the program cannot be read. */
struct tg_tpf_rules;

/* What an allowing decision hands the engine besides limits: the form the
 * policy decided on (the engine runs nothing else) and the policy's
 * tracepoint field rules (re-checked against this node's formats). */
struct exec_policy_result {
	char *canonical;                /* lang_program_print of the decided program */
	struct tg_tpf_rules *tp_fields; /* NULL: none */
};
void exec_policy_result_release(struct exec_policy_result *res);

/* params: the positional parameters, parsed as tokens as the engine will. */
int exec_policy_apply(const char *path, const char *user, const char *program, size_t len,
		      const char *const *params, size_t nparams, bool scoped,
		      struct engine_limits *lim, struct exec_policy_result *res, char **ret_err);

#endif
