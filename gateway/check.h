/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's built-in policy, used until TracePolicy evaluation
 * (policy/policy.h) is wired in: the "restricted" probe set only
 * (tracepoint:syscalls:*, tracepoint:sched:*, BEGIN, END) and no
 * destructive functions.  Default deny: anything else is refused with the
 * construct, its line and column.
 */
#ifndef TG_GATEWAY_CHECK_H
#define TG_GATEWAY_CHECK_H

#include <jansson.h>
#include "policy/ast.h"

#define GW_BUILTIN_POLICY "builtin:restricted"

/* 0 when allowed; -TG_EPOLICY with *ret_denials, an array of
 * {"construct","line","column","rule","message","policies"}. */
int gw_check_builtin(const struct tg_program *prog, json_t **ret_denials);

#endif
