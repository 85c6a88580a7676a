/* SPDX-License-Identifier: Apache-2.0 */
/* What a loaded TracePolicy is, shared by the loader and the checker. */
#ifndef TG_POLICY_POLICY_INTERNAL_H
#define TG_POLICY_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "lang/attach.h"
#include "policy/policy.h"
#include "policy/tpfields.h"

struct strv {
	char **v;
	size_t n;
};

struct tg_policy {
	char *name;
	char *file;
	uint32_t line, col;            /* of the document */
	struct strv users, groups, sas, namespaces;
	bool scope_pod, scope_node;
	struct strv probes_allow, probes_deny;   /* patterns, type part canonical */
	struct strv builtins_allow, builtins_deny;
	struct strv functions_allow, functions_deny;
	bool kernel_memory;
	enum tg_user_memory user_memory;
	struct tg_policy_limits limits;
	struct tg_tpf_rules tp_fields;  /* spec.tracepointFields (policy/tpfields.h) */
	struct strv includes;           /* spec.includes: header name globs; none: #include refused */
};

struct tg_policy_set {
	struct tg_policy *v;
	size_t n;
};

void tg_policy_release(struct tg_policy *p);

/* Glob parts of attach points and patterns (glob.c), erring
 * towards denial: a part with `*`, `?`, `[` (or `$`) stands for more than
 * itself; covers: pat matches every string s can stand for (only "*" or a
 * literal prefix then "*" can cover a wildcard); overlaps: pat may match
 * some of them. */
bool tg_glob_is_wild(const char *s);
size_t tg_glob_literal_prefix(const char *s);
bool tg_glob_covers(const char *pat, const char *s);
bool tg_glob_overlaps(const char *pat, const char *s);

#endif
