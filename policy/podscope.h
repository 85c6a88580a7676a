/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rules of a pod scope that no policy can lift, decided by the front end
 * for the gateway (policy-check.c, rule names below) and applied again by
 * the runner (runner/probes.c), with the same words.
 */
#ifndef TG_POLICY_PODSCOPE_H
#define TG_POLICY_PODSCOPE_H

#include <stdbool.h>
#include "lang/ast.h"

/* A uprobe's breakpoint is written into the pod's processes' code: only at
 * a function's entry, never at an offset or a raw address that could land
 * inside an instruction. */
#define TG_RULE_UPROBE_ENTRY "scope.uprobeEntry"
#define TG_UPROBE_ENTRY_ONLY                                                                      \
	"under a pod scope a uprobe attaches only at a function's entry: an offset or a raw "   \
	"address could land inside an instruction of the pod's processes"

/* True when attach point a breaks TG_RULE_UPROBE_ENTRY. */
static inline bool tg_uprobe_not_at_entry(const struct lang_attach *a)
{
	return a->type && (!__builtin_strcmp(a->type, "uprobe") || !__builtin_strcmp(a->type, "uretprobe")) &&
	       (a->offset || !a->func);
}

#endif
