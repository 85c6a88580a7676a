/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracepoint fields that say more than the current task's own business.
 *
 * The scope check admits an event because the task running when it fires
 * is in the tenant's pod; a field that names another task (the task
 * switched to, woken, signalled, forked) or holds a kernel address
 * (which breaks KASLR and names other tasks' objects) lets the tenant see
 * past that.  These functions classify such fields by written rules
 * applied to the kernel's own formats (<tracefs>/events/CAT/EVENT/format),
 * and decide whether a TracePolicy's `tracepointFields` lets a program
 * read them.  docs/policy.md ("tracepointFields") is the reference.
 *
 * The rules (tg_tpf_classify), for every event outside `syscalls` (whose
 * fields are the calling task's own arguments and are never classified):
 *
 *   otherTasks
 *     otherTasks.pid        the type is pid_t, or the name is pid, tgid,
 *                           ngid or ppid or ends in _pid, _tgid, _ngid,
 *                           _ppid (next_pid, child_pid, src_tgid ...)
 *     otherTasks.comm       the name is comm or ends in comm (next_comm,
 *                           parent_comm, oldcomm ...)
 *     otherTasks.prio       the name is prio or ends in prio (next_prio,
 *                           oldprio, ioprio ...)
 *     otherTasks.oom        the name ends in oom_score_adj
 *     otherTasks.cred       the type is uid_t, gid_t, kuid_t or kgid_t
 *   kernelAddresses
 *     kernelAddresses.pointer   the declared type is a C pointer (has '*')
 *     kernelAddresses.printed   the event's own print fmt prints the field
 *                               with %p, %pS, %ps, %pB, %pF, %pf, %pK or
 *                               %px (the kernel says it is an address)
 *     kernelAddresses.code      an 8-byte integer named ip, caller,
 *                               call_site, callsite, func, function or fn,
 *                               or ending in _ip, _caller, _func,
 *                               _function or _fn
 *
 * A field that matches a rule but describes `current` by construction is
 * kept (TG_TPF_CURRENT): each such exception is listed in tpfields.c with
 * the kernel source line that proves it.
 *
 * The gateway has no tracefs: it uses the table generated from one
 * kernel's formats (policy/tpfields-table.c, tg_tpf_table) and, for
 * events or wildcards that table may not cover, the rules that need only
 * a field's name (tg_tpf_classify_name), erring towards denial.  The
 * runner re-checks against the node's real formats.
 *
 * Nothing here prints or allocates except where said.
 */
#ifndef TG_POLICY_TPFIELDS_H
#define TG_POLICY_TPFIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lang/ast.h"

#define TG_TPF_OTHER_TASK     (1u << 0)
#define TG_TPF_KERNEL_ADDRESS (1u << 1)
#define TG_TPF_CURRENT        (1u << 2)   /* matched a rule, kept: describes current */

/* Limits on what the parsers below accept (formats come from the kernel,
 * rules from a session request: both bounded). */
#define TG_TPF_MAX_FIELDS     64          /* fields of one event (runner/tracepoint.h agrees) */
#define TG_TPF_MAX_PRINT_FMT  (16u * 1024)/* bytes of a print fmt line we look at */
#define TG_TPF_MAX_GLOBS      1024        /* allow or deny globs in one rule set */
#define TG_TPF_MAX_GLOB       1024        /* bytes of one glob */
#define TG_TPF_MAX_WORK       2000000u    /* steps one decision may spend checking fields */

/* One field of a format, as the classifier needs it. */
struct tg_tpf_field {
	const char *name;
	const char *type;      /* as declared, without the name or [N]: "pid_t",
				  "char", "__data_loc char[]", "const void *" */
	uint32_t size;
	bool array;            /* declared with [N] */
};

struct tg_tpf_verdict {
	unsigned classes;      /* TG_TPF_* (0: not classified) */
	const char *rule;      /* "otherTasks.comm" ...; NULL when not classified */
	const char *kept;      /* TG_TPF_CURRENT: why (the kernel source line) */
};

/* Classifies every field of one event; ret has n entries.  print_fmt is
 * the text after "print fmt: " (NULL or unparsable: that rule is
 * skipped).  -EINVAL on bad arguments. */
int tg_tpf_classify(const char *category, const char *event, const struct tg_tpf_field *fields, size_t n,
		    const char *print_fmt, struct tg_tpf_verdict *ret);

/* The rules that need only a name (for events the table does not know):
 * classes (never TG_TPF_CURRENT) and, when classified, *ret_rule. */
unsigned tg_tpf_classify_name(const char *category, const char *field, const char **ret_rule);

/* A digest (64-bit FNV-1a) of what tg_tpf_classify reads of one event
 * besides its names: every field's name, type, size and array flag, and
 * the print fmt (NULL and "" differ).  The table records it, so a test on
 * another kernel can tell a format that changed from a rule that did. */
uint64_t tg_tpf_format_digest(const struct tg_tpf_field *fields, size_t n, const char *print_fmt);

/* Field names print_fmt prints as kernel addresses: calls fn(ctx, name)
 * for each.  -EINVAL when the format string and its arguments do not
 * line up (then nothing is called). */
int tg_tpf_print_fmt_addresses(const char *print_fmt, void (*fn)(void *ctx, const char *name, size_t len),
			       void *ctx);

/* ---- the generated table (policy/tpfields-table.c) ---- */

struct tg_tpf_row {
	const char *field;
	uint8_t classes;       /* TG_TPF_*, or TG_TPF_CURRENT alone for a kept field */
	const char *rule;
};

struct tg_tpf_event {
	const char *category;
	const char *name;
	uint32_t first;        /* index of its first row in tg_tpf_rows */
	uint32_t nrows;        /* classified and kept fields only */
	uint64_t format;       /* tg_tpf_format_digest of its format on that kernel */
};

extern const struct tg_tpf_event tg_tpf_events[];  /* every event outside syscalls, sorted */
extern const size_t tg_tpf_nevents;
extern const struct tg_tpf_row tg_tpf_rows[];
extern const size_t tg_tpf_nrows;
extern const char tg_tpf_table_kernel[];            /* uname -r of the kernel it was made on */

const struct tg_tpf_event *tg_tpf_table_find(const char *category, const char *event);
/* The row of field in e, or NULL when the table lists no rule for it. */
const struct tg_tpf_row *tg_tpf_table_row(const struct tg_tpf_event *e, const char *field);

/* ---- a policy's rules ---- */

/* spec.tracepointFields of a TracePolicy (owning). */
struct tg_tpf_rules {
	bool other_tasks;      /* otherTasks: true lets classified fields of that class through */
	bool kernel_addresses;
	char **allow;          /* "category:event:field" globs, let through whatever their class */
	size_t nallow;
	char **deny;           /* refused whatever their class (deny wins) */
	size_t ndeny;
	char *policy;          /* the policy they came from, for messages; may be NULL */
};

void tg_tpf_rules_release(struct tg_tpf_rules *r);
int tg_tpf_rules_copy(const struct tg_tpf_rules *from, const char *policy, struct tg_tpf_rules *to);
/* Nothing is refused: both classes let through and no deny glob. */
bool tg_tpf_rules_open(const struct tg_tpf_rules *r);
/* Is glob a valid "category:event:field" pattern?  NULL or a reason. */
const char *tg_tpf_glob_problem(const char *glob);
/* {"policy","otherTasks","kernelAddresses","allow","deny"}, as the
 * gateway sends it to the runner (docs/internals/contracts.md). */
json_t *tg_tpf_rules_to_json(const struct tg_tpf_rules *r);
/* The same object back, bounds-checked; -EINVAL with *ret_err naming the
 * member ("tracepointFields.allow[2]: ..."). */
int tg_tpf_rules_from_json(json_t *o, struct tg_tpf_rules *ret, char **ret_err);

/* ---- checking a program ---- */

/* Called for each refusal: rule is "tracepointFields.deny",
 * "tracepointFields.otherTasks" or "tracepointFields.kernelAddresses". */
typedef void (*tg_tpf_refuse_fn)(void *ctx, const struct lang_loc *loc, const char *construct, const char *rule,
				 const char *msg);

/* Every use of `args` in a probe's predicate and body: fn(ctx, field,
 * loc) for args->field (and args.field), fn(ctx, NULL, loc) for args
 * used whole (print(args), @[args], $a = args ...).  A non-zero return
 * from fn stops the walk and is returned. */
typedef int (*tg_tpf_use_fn)(void *ctx, const char *field, const struct lang_loc *loc);
int tg_tpf_args_uses(const struct lang_probe *probe, tg_tpf_use_fn fn, void *ctx);

/* The gateway's check of one tracepoint attach point (a->type is
 * "tracepoint"; its parts may be globs or $N) against the table:
 * refuse() once per refused use.  *work counts the steps spent, shared
 * by every call of one decision: past TG_TPF_MAX_WORK (a program built to
 * make the gateway's event loop slow) the probe is refused with rule
 * "tracepointFields".  Returns the number of refusals. */
size_t tg_tpf_check_attach(const struct tg_tpf_rules *r, const struct lang_attach *a, const struct lang_probe *probe,
			   size_t *work, tg_tpf_refuse_fn refuse, void *ctx);

/* The runner's check of one concrete event with its real format. */
size_t tg_tpf_check_format(const struct tg_tpf_rules *r, const char *category, const char *event,
			   const struct tg_tpf_field *fields, size_t n, const char *print_fmt,
			   const struct lang_probe *probe, tg_tpf_refuse_fn refuse, void *ctx);

#endif
