// SPDX-License-Identifier: Apache-2.0
/* exec --policy (runner/exec-policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "policy/tpfields.h"
#include "runner/exec-policy.h"
#include "lib/banned.h"

static uint64_t tighter(uint64_t have, uint64_t policy)
{
	if (!policy)
		return have;
	return have && have < policy ? have : policy;
}

static int load(const char *path, struct tg_policy_set **ret, char **ret_err)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		if (asprintf(ret_err, "--policy \"%s\": %s", path, strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	if (S_ISDIR(st.st_mode))
		return tg_policy_set_load_dir(path, ret, ret_err);
	r = read_file(path, TG_POLICY_MAX_FILE_BYTES, &text, &len);
	if (r < 0) {
		if (asprintf(ret_err, "--policy \"%s\": %s", path,
			     r == -EFBIG ? "larger than the policy file limit" : strerror(-r)) < 0)
			*ret_err = NULL;
		return r;
	}
	return tg_policy_set_load_buffer(path, text, len, ret, ret_err);
}

void exec_policy_result_release(struct exec_policy_result *res)
{
	if (!res)
		return;
	free(res->canonical);
	if (res->tp_fields) {
		tg_tpf_rules_release(res->tp_fields);
		free(res->tp_fields);
	}
	memset(res, 0, sizeof(*res));
}

int exec_policy_apply(const char *path, const char *user, const char *program, size_t len,
		      const char *const *params, size_t nparams, bool scoped,
		      struct engine_limits *lim, struct exec_policy_result *res, char **ret_err)
{
	struct tg_policy_set *set = NULL;
	struct lang_program *prog = NULL;
	struct lang_diag diag = { 0 };
	struct tg_decision d = { 0 };
	/* the local user is authenticated by the system it runs on */
	static const char *const groups[] = { "system:authenticated", NULL };
	struct tg_requester who = { .user = user, .groups = groups, .namespace = "local" };
	char *oneline = NULL, *explain = NULL;
	int r;

	*ret_err = NULL;
	r = load(path, &set, ret_err);
	if (r < 0)
		return r;
	memset(res, 0, sizeof(*res));
	{
		struct lang_parse_opts po = { .sz = sizeof(po), .params = params, .nparams = nparams };

		r = lang_program_parse_opts(program, len, &po, &prog, &diag);
	}
	if (r < 0) {
		/* the engine reports parse errors with the source line */
		tg_policy_set_free(set);
		return 0;
	}
	r = tg_policy_evaluate(set, &who, prog, scoped ? "pod" : "node", &d);
	if (r >= 0 && !d.allowed) {
		r = tg_decision_explain(&d, &oneline, &explain);
		if (r >= 0) {
			*ret_err = explain;
			explain = NULL;
		}
		r = -TG_EPOLICY;
	} else if (r >= 0) {
		lim->max_map_entries = tighter(lim->max_map_entries, d.limits.max_map_entries);
		lim->max_map_bytes = tighter(lim->max_map_bytes, d.limits.max_map_bytes);
		lim->max_output_bytes = tighter(lim->max_output_bytes, d.limits.max_output_bytes);
		lim->events_per_second = tighter(lim->events_per_second, d.limits.events_per_second);
		lim->max_duration_ns = tighter(lim->max_duration_ns, d.limits.max_duration_s * 1000000000ull);
		if (d.limits.cpu_budget > 0 && (lim->cpu_budget <= 0 || d.limits.cpu_budget < lim->cpu_budget))
			lim->cpu_budget = d.limits.cpu_budget;
		r = lang_program_print(prog, &res->canonical);
		if (r >= 0 && d.tracepoint_fields) {
			res->tp_fields = calloc(1, sizeof(*res->tp_fields));
			r = res->tp_fields ? tg_tpf_rules_from_json(d.tracepoint_fields, res->tp_fields, ret_err)
					   : -ENOMEM;
		}
		if (r < 0)
			exec_policy_result_release(res);
	} else if (asprintf(ret_err, "--policy \"%s\": cannot decide: %s", path, tg_strerror(r)) < 0) {
		*ret_err = NULL;
	}
	free(oneline);
	free(explain);
	tg_decision_release(&d);
	lang_program_free(prog);
	tg_policy_set_free(set);
	return r;
}
