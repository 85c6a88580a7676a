/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a program may use where it observes no event of the pod.
 *
 * Under a pod scope, BEGIN, END and interval bodies are not tied to any
 * event of a tenant's task: the runner runs them itself
 * (BPF_PROG_TEST_RUN, from its own timers), so there the "current task"
 * is the runner's privileged session child.  A builtin that describes the
 * current task (pid, comm, uid, cgroup, curtask, stacks, ...) would
 * describe the runner, and a memory read would not be confined to the pod
 * by anything.  This is the one list of what such a body may use, shared
 * by the gateway's policy evaluation (policy/policy-check.c, rule
 * TG_UNSCOPED_RULE, so `kubectl trace check` and dryRun see it) and the
 * runner (runner/guard.c, refusing the same program even when a gateway
 * did not).  The runner's object verifier (runner/verify.c) holds the same
 * line below the front end: unscoped programs may call no helper that
 * reads memory or describes a task.
 *
 * It is an allow-list: a builtin, function or operation not named here as
 * harmless is refused, so one added to the language later is refused
 * until someone decides otherwise.
 */
#ifndef TG_POLICY_UNSCOPED_H
#define TG_POLICY_UNSCOPED_H

#include <stdbool.h>
#include "lang/ast.h"

#define TG_UNSCOPED_RULE "scope.unscopedProbe"

/* The first attach point of pr that is not tied to an event (BEGIN, END,
 * interval: "BEGIN", "interval:ms:100" as written), or NULL when pr has
 * none. */
const char *tg_unscoped_probe(const struct lang_probe *pr);

/* One use of something an unscoped body may not use. */
struct tg_unscoped_use {
	struct lang_loc loc;          /* of the builtin, call or operator */
	const char *probe;          /* the attach point, as tg_unscoped_probe() */
	const char *construct;      /* "pid", "str", "->", "*" ... */
	const char *message;        /* the whole sentence: construct, probe, why */
};

/* Called for each use in source order; a negative return stops the walk
 * and is returned. */
typedef int (*tg_unscoped_fn)(void *ctx, const struct tg_unscoped_use *use);

/* Walks the predicate and body of every probe that tg_unscoped_probe()
 * names and calls fn for each builtin, function or operation there that
 * would observe the runner or read memory.  Returns the number of uses
 * (0: nothing refused), fn's negative return, or -ENOMEM. */
int tg_unscoped_check(const struct lang_program *prog, tg_unscoped_fn fn, void *ctx);

/* Why builtin name may not be used in an unscoped body, or NULL when it
 * may ("nsecs", "cpu", ...). */
const char *tg_unscoped_builtin_reason(const char *name);

#endif
