/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TracePolicy: who may trace what, where, and how much.
 *
 * Platform teams write TracePolicy documents (YAML, Kubernetes style):
 *
 *   apiVersion: tracegate.dev/v1alpha1
 *   kind: TracePolicy
 *   metadata: {name: restricted}
 *   spec:
 *     subjects: {groups: [system:authenticated], namespaces: ["*"]}
 *     scope: [pod]
 *     probes:    {allow: ["tracepoint:syscalls:*"], deny: [...]}
 *     builtins:  {allow: [pid, comm], deny: [...]}
 *     functions: {allow: [printf, count], deny: [system]}
 *     kernelMemory: false
 *     userMemory: syscallArgs        # none | syscallArgs | all (false/true)
 *     tracepointFields: {otherTasks: false, kernelAddresses: false,
 *                        allow: ["sched:sched_switch:prev_*"], deny: [...]}
 *     limits: {maxDuration: 5m, maxMapEntries: 4096, maxMapBytes: 1Mi,
 *              eventsPerSecond: 1000, cpuBudget: 0.05,
 *              maxConcurrentTraces: {perUser: 2, perNamespace: 5}}
 *
 * Policies are additive and the default is deny: a request is allowed
 * when at least one policy that applies to the requester allows every
 * probe, builtin, function and memory access of the program, in the
 * requested scope; the first such policy (by metadata.name) is the one
 * whose limits are in force.  docs/policy.md is the reference.
 *
 * Nothing here prints: errors come back as text ("file:line:column: ...").
 */
#ifndef TG_POLICY_POLICY_H
#define TG_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lang/ast.h"

/* Limits on what a policy document may be (the YAML is untrusted input
 * for the fuzzer and, in a cluster, written by people with some rights). */
#define TG_POLICY_MAX_FILE_BYTES  (1024u * 1024)  /* one YAML file */
#define TG_POLICY_MAX_FILES       256             /* *.yaml files in a directory */
#define TG_POLICY_MAX_POLICIES    256             /* documents in a set */
#define TG_POLICY_MAX_LIST        1024            /* entries in one list */
#define TG_POLICY_MAX_STRING      1024            /* bytes in one string */
#define TG_POLICY_MAX_YAML_NODES  100000          /* nodes visited in one file */
#define TG_POLICY_MAX_DENIALS     256             /* denials reported per decision */

/* Defaults for limits a policy leaves out: tight, never unlimited. */
#define TG_POLICY_DEFAULT_DURATION_S      60
#define TG_POLICY_DEFAULT_MAP_ENTRIES     1024
#define TG_POLICY_DEFAULT_MAP_BYTES       (256u * 1024)
#define TG_POLICY_DEFAULT_EVENTS_PER_S    1000
#define TG_POLICY_DEFAULT_TRACES_PER_USER 1
#define TG_POLICY_DEFAULT_TRACES_PER_NS   3
#define TG_POLICY_DEFAULT_CPU_BUDGET      0.05
#define TG_POLICY_DEFAULT_OUTPUT_BYTES    (16ull << 20)

struct tg_requester {
	const char *user;               /* "alice", "system:serviceaccount:ns:name" */
	const char *const *groups;      /* NULL-terminated; may be NULL */
	const char *namespace;          /* target namespace; NULL for node scope */
};

struct tg_policy_limits {
	uint64_t max_duration_s;
	uint64_t max_map_entries;
	uint64_t max_map_bytes;
	uint64_t events_per_second;
	uint64_t max_traces_per_user;
	uint64_t max_traces_per_namespace;
	double cpu_budget;              /* fraction of one CPU, (0, 64] */
	uint64_t max_output_bytes;      /* text a trace prints, per node session */
};

enum tg_user_memory {
	TG_UMEM_NONE = 0,
	TG_UMEM_SYSCALL_ARGS,           /* only str(args->x) in tracepoint:syscalls:* */
	TG_UMEM_ALL,
};

struct tg_policy_set;

/* Every *.yaml / *.yml file in dir (not recursive), in name order.  A
 * document that does not parse or does not fit the schema is an error
 * naming file:line:column; a set with a broken document is not loaded. */
int tg_policy_set_load_dir(const char *dir, struct tg_policy_set **ret, char **ret_err);
/* One YAML text (may hold several documents); name is used in messages. */
int tg_policy_set_load_buffer(const char *name, const char *yaml, size_t len,
			      struct tg_policy_set **ret, char **ret_err);
/* "restricted", "baseline" or "privileged" (the texts of policy/presets/). */
int tg_policy_set_load_builtin(const char *name, struct tg_policy_set **ret, char **ret_err);
/* Moves every policy of *from into into (names must stay unique); *from is freed. */
int tg_policy_set_merge(struct tg_policy_set *into, struct tg_policy_set **from, char **ret_err);
struct tg_policy_set *tg_policy_set_free(struct tg_policy_set *set);
size_t tg_policy_set_count(const struct tg_policy_set *set);
const char *tg_policy_set_name(const struct tg_policy_set *set, size_t i);

/* The embedded preset texts (byte-identical to policy/presets/<name>.yaml). */
const char *tg_policy_preset_text(const char *name);

struct tg_decision {
	bool allowed;
	char *policy;                   /* name of the policy that allowed, or NULL */
	struct tg_policy_limits limits; /* that policy's limits (zero when denied) */
	json_t *denials;                /* [{"policy","rule","construct","line","column","message"}] */
	json_t *tried;                  /* names of the policies that applied to the requester */
	/* The allowing policy's spec.tracepointFields, as the gateway sends
	 * it to the runner ("tracepointFields" of the session request:
	 * policy/tpfields.h, tg_tpf_rules_to_json); NULL when denied. */
	json_t *tracepoint_fields;
};

/*
 * Decides whether who may run prog in scope ("pod" or "node").  Returns 0
 * with *ret filled whether allowed or not (ret->allowed says which); a
 * negative code only when the decision could not be made (bad arguments,
 * no memory), in which case *ret is denied.  Release with
 * tg_decision_release().
 */
int tg_policy_evaluate(const struct tg_policy_set *set, const struct tg_requester *who,
		       const struct lang_program *prog, const char *scope, struct tg_decision *ret);
void tg_decision_release(struct tg_decision *d);
/*
 * Whether some TracePolicy that applies to who lets it attach probe (a
 * full probe name as a listing prints it: "tracepoint:sched:sched_switch")
 * in scope: the policy's scope and its probes.deny and probes.allow, as a
 * program on that probe alone would be judged.  A name that is not a
 * probe is not allowed.  0 with *ret_allowed, or a negative code (then
 * *ret_allowed is false).
 */
int tg_policy_probe_allowed(const struct tg_policy_set *set, const struct tg_requester *who,
			    const char *scope, const char *probe, bool *ret_allowed);

/* One line for logs and Status messages, and a multi-line explanation
 * listing every denial with its line:column, rule and policy. */
int tg_decision_explain(const struct tg_decision *d, char **ret_oneline, char **ret_long);
/* The decision as JSON: {"allowed","policy","limits","denials","tried"}. */
json_t *tg_decision_to_json(const struct tg_decision *d);

#endif
