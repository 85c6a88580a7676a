// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gateway/check.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/banned.h"

#define GW_CHECK_MAX_DENIALS 32

static const char *const destructive_fns[] = { "system", "signal", "override", NULL };

static int add_denial(json_t *arr, const char *construct, struct tg_loc loc, const char *rule,
		      const char *msg)
{
	json_t *d;

	if (json_array_size(arr) >= GW_CHECK_MAX_DENIALS)
		return 0;
	d = json_pack("{s:s, s:I, s:I, s:s, s:s, s:[s]}", "construct", construct, "line",
		      (json_int_t)loc.line, "column", (json_int_t)loc.col, "rule", rule, "message",
		      msg, "policies", GW_BUILTIN_POLICY);
	if (!d || json_array_append_new(arr, d) < 0)
		return -ENOMEM;
	return 0;
}

static bool probe_allowed(const struct tg_attach *a)
{
	if (!strcmp(a->type, "BEGIN") || !strcmp(a->type, "END"))
		return true;
	/* The category must be named exactly: a glob there could reach any. */
	return !strcmp(a->type, "tracepoint") && a->target &&
	       (!strcmp(a->target, "syscalls") || !strcmp(a->target, "sched"));
}

static int check_call(struct tg_node *n, struct tg_node *parent, void *ctx)
{
	json_t *arr = ctx;
	char what[600];

	if (n->kind != TG_N_CALL || !n->str)
		return 0;
	for (const char *const *f = destructive_fns; *f; f++) {
		if (strcmp(*f, n->str))
			continue;
		snprintf(what, sizeof(what),
			 "function \"%s\" is not allowed by policy \"%s\" (destructive actions)", n->str,
			 GW_BUILTIN_POLICY);
		if (add_denial(arr, n->str, n->loc, "functions", what) < 0)
			return -ENOMEM;
	}
	return 0;
}

int gw_check_builtin(const struct tg_program *prog, json_t **ret_denials)
{
	_cleanup_(json_decrefp) json_t *arr = json_array();
	int r;

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < prog->nprobes; i++) {
		const struct tg_probe *p = &prog->probes[i];

		for (size_t k = 0; k < p->nattach; k++) {
			const struct tg_attach *a = &p->attach[k];
			char what[1024];

			if (probe_allowed(a))
				continue;
			snprintf(what, sizeof(what),
				 "probe \"%s\" is not allowed by policy \"%s\" (allowed: tracepoint:syscalls:*, tracepoint:sched:*, BEGIN, END)",
				 a->raw ? a->raw : a->type, GW_BUILTIN_POLICY);
			r = add_denial(arr, a->raw ? a->raw : a->type, a->loc, "probes", what);
			if (r < 0)
				return r;
		}
	}
	r = tg_program_walk((struct tg_program *)prog, check_call, arr);
	if (r < 0)
		return r;
	if (json_array_size(arr) == 0)
		return 0;
	*ret_denials = TAKE_PTR(arr);
	return -TG_EPOLICY;
}
