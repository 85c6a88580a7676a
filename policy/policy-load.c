// SPDX-License-Identifier: Apache-2.0
/*
 * Loading TracePolicy documents: YAML (libyaml's document API) into
 * struct tg_policy, with a strict schema.  An unknown field in spec is an
 * error, not a silent default: a misspelt `kernelMemroy: false` must not
 * pass unnoticed.  Every error names file:line:column and the field path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/lexer.h"
#include "policy/policy-internal.h"
#include "lang/preproc.h"
#include "lib/yamlwalk.h"
#include "lib/banned.h"

static int get_string(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **ret)
{
	const char *s = NULL;
	int r = yw_scalar(y, n, path, &s);

	if (r < 0)
		return r;
	if (!*s)
		return yw_fail(y, n, path, "must not be empty");
	free(*ret);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int get_bool(struct yaml_walk *y, const yaml_node_t *n, const char *path, bool *ret)
{
	return yw_bool(y, n, path, false, ret);
}

typedef int (*item_check_fn)(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item);

/* An item of a list of strings: not empty, then the field's own check
 * (*ud), which may rewrite it. */
static int strv_item(struct yaml_walk *y, const yaml_node_t *e, const char *path, char **item, void *ud)
{
	const item_check_fn *check = ud;

	if (!**item)
		return yw_fail(y, e, path, "must not be empty");
	return *check ? (*check)(y, e, path, item) : 0;
}

/* A list of strings (a single string is a list of one when single_ok). */
static int get_strv(struct yaml_walk *y, const yaml_node_t *n, const char *path, struct strv *out,
		    bool single_ok, item_check_fn check)
{
	int r;

	for (size_t i = 0; i < out->n; i++)
		free(out->v[i]);
	free(out->v);
	out->v = NULL;
	out->n = 0;
	if (n->type == YAML_SCALAR_NODE && single_ok) {
		out->v = calloc(1, sizeof(char *));
		if (!out->v)
			return -ENOMEM;
		out->n = 1;
		if (get_string(y, n, path, &out->v[0]) < 0)
			return -TG_ECONFIG;
		return check ? check(y, n, path, &out->v[0]) : 0;
	}
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0;       /* `allow:` with nothing after it: an empty list */
	r = yw_strings(y, n, path, TG_POLICY_MAX_LIST, strv_item, &check, &out->v);
	if (r < 0)
		return r;
	out->n = (size_t)r;
	return 0;
}

/* ---- item checks: catch typos where a typo would quietly deny or allow ---- */

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int check_probe_pattern(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	size_t tl = strcspn(*item, ":");
	char type[64];
	const char *canon;
	char *fixed;

	if (tl >= sizeof(type))
		return yw_fail(y, n, path, "probe type in \"%s\" is not valid", *item);
	memcpy(type, *item, tl);
	type[tl] = '\0';
	if (!strcmp(type, "*"))
		return 0;
	canon = lang_probe_type_canonical(type);
	if (!canon)
		return yw_fail(y, n, path, "probe type \"%s\" in \"%s\" is not valid (use a full type such as \"tracepoint\" or \"*\")", type, *item);
	if (!strcmp(canon, type))
		return 0;
	if (asprintf(&fixed, "%s%s", canon, *item + tl) < 0)
		return -ENOMEM;
	free(*item);
	*item = fixed;
	return 0;
}

static int check_builtin(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	if (has_glob(*item) || lang_lex_is_builtin(*item))
		return 0;
	return yw_fail(y, n, path, "\"%s\" is not a bpftrace builtin", *item);
}

static int check_function(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	if (has_glob(*item) || lang_lex_is_function(*item))
		return 0;
	return yw_fail(y, n, path, "\"%s\" is not a bpftrace function", *item);
}

static int check_include(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	if (lang_include_name_ok(*item, true))
		return 0;
	return yw_fail(y, n, path, "\"%s\" is not a header name pattern (\"linux/*.h\", \"*\")", *item);
}

static int check_sa(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	const char *slash = strchr(*item, '/');

	if (!slash || slash == *item || !slash[1] || strchr(slash + 1, '/'))
		return yw_fail(y, n, path, "\"%s\" is not \"namespace/name\"", *item);
	return 0;
}

/* ---- numbers -------------------------------------------------------------- */

static int get_u64(struct yaml_walk *y, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
		   bool bytes, bool duration, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
		bool bytes;
	} units[] = {
		{ "Ki", 1ull << 10, true }, { "Mi", 1ull << 20, true }, { "Gi", 1ull << 30, true },
		{ "K", 1000, true },        { "M", 1000000, true },     { "G", 1000000000, true },
		{ "s", 1, false },          { "m", 60, false },         { "h", 3600, false },
	};
	const char *s = NULL;
	char num[64];
	uint64_t v, mult = 1;
	size_t len;
	int r = yw_scalar(y, n, path, &s);

	if (r < 0)
		return r;
	len = strlen(s);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		size_t sl = strlen(units[i].suffix);

		if (units[i].bytes != bytes || (!bytes && !duration) || len <= sl ||
		    strcmp(s + len - sl, units[i].suffix) != 0)
			continue;
		mult = units[i].mult;
		len -= sl;
		break;
	}
	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, s, len);
	num[len] = '\0';
	if (parse_u64(num, &v) < 0 || (v && mult > UINT64_MAX / v))
		goto bad;
	v *= mult;
	if (v < min || v > max)
		return yw_fail(y, n, path, "%s is out of range [%llu, %llu]%s", s, (unsigned long long)min,
			    (unsigned long long)max, duration ? " seconds" : bytes ? " bytes" : "");
	*ret = v;
	return 0;
bad:
	return yw_fail(y, n, path, "\"%s\" is not %s", s,
		    duration ? "a duration (seconds, or a number with s, m or h)"
		    : bytes ? "a size (bytes, or a number with Ki, Mi, Gi, K, M or G)" : "a whole number");
}

/* ---- mappings ----------------------------------------------------------------- */

struct field {
	const char *name;
	int (*fn)(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path);
};

struct map_walk {
	struct tg_policy *p;
	const char *path;             /* the mapping's */
	const struct field *fields;
	size_t nfields;
	bool ignore_unknown;
	bool seen[32];
};

static int map_pair(struct yaml_walk *y, const char *key, const yaml_node_t *k, const yaml_node_t *v,
		    const char *sub, void *ud)
{
	struct map_walk *m = ud;
	size_t i;

	for (i = 0; i < m->nfields; i++)
		if (!strcmp(m->fields[i].name, key))
			break;
	if (i == m->nfields)
		return m->ignore_unknown ? 0 : yw_fail(y, k, m->path, "unknown field \"%s\"", key);
	if (m->seen[i])
		return yw_fail(y, k, m->path, "field \"%s\" given twice", key);
	m->seen[i] = true;
	return m->fields[i].fn ? m->fields[i].fn(y, m->p, v, sub) : 0;
}

static int walk_map(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *n, const char *path,
		    const struct field *fields, size_t nfields, bool ignore_unknown)
{
	struct map_walk m = { .p = p, .path = path, .fields = fields, .nfields = nfields, .ignore_unknown = ignore_unknown };

	return yw_mapping(y, n, path, map_pair, &m);
}

#define STRV_FIELD(fname, member, single, check)                                              \
	static int fname(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path) \
	{                                                                                     \
		return get_strv(y, v, path, &p->member, single, check);                       \
	}

STRV_FIELD(f_users, users, false, NULL)
STRV_FIELD(f_groups, groups, false, NULL)
STRV_FIELD(f_sas, sas, false, check_sa)
STRV_FIELD(f_namespaces, namespaces, false, NULL)
STRV_FIELD(f_probes_allow, probes_allow, false, check_probe_pattern)
STRV_FIELD(f_probes_deny, probes_deny, false, check_probe_pattern)
STRV_FIELD(f_builtins_allow, builtins_allow, false, check_builtin)
STRV_FIELD(f_builtins_deny, builtins_deny, false, check_builtin)
STRV_FIELD(f_functions_allow, functions_allow, false, check_function)
STRV_FIELD(f_functions_deny, functions_deny, false, check_function)
STRV_FIELD(f_includes, includes, false, check_include)

static int f_subjects(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = {
		{ "users", f_users }, { "groups", f_groups },
		{ "serviceAccounts", f_sas }, { "namespaces", f_namespaces },
	};
	int r = walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);

	if (r == 0 && p->users.n + p->groups.n + p->sas.n == 0)
		return yw_fail(y, v, path, "names nobody: give users, groups or serviceAccounts");
	return r;
}

static int f_scope(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	struct strv s = { 0 };
	int r = get_strv(y, v, path, &s, true, NULL);

	for (size_t i = 0; r == 0 && i < s.n; i++) {
		if (!strcmp(s.v[i], "pod"))
			p->scope_pod = true;
		else if (!strcmp(s.v[i], "node"))
			p->scope_node = true;
		else
			r = yw_fail(y, v, path, "scope \"%s\" is not \"pod\" or \"node\"", s.v[i]);
	}
	if (r == 0 && s.n == 0)
		r = yw_fail(y, v, path, "must name \"pod\", \"node\" or both");
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	return r;
}

#define ALLOW_DENY(fname, allow, deny)                                                        \
	static int fname(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path) \
	{                                                                                     \
		static const struct field f[] = { { "allow", allow }, { "deny", deny } };      \
		return walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);                      \
	}

ALLOW_DENY(f_probes, f_probes_allow, f_probes_deny)
ALLOW_DENY(f_builtins, f_builtins_allow, f_builtins_deny)
ALLOW_DENY(f_functions, f_functions_allow, f_functions_deny)

static int f_kernel_memory(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_bool(y, v, path, &p->kernel_memory);
}

static int f_user_memory(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	const char *s = NULL;
	int r = yw_scalar(y, v, path, &s);

	if (r < 0)
		return r;
	if (!strcmp(s, "none") || !strcmp(s, "false"))
		p->user_memory = TG_UMEM_NONE;
	else if (!strcmp(s, "syscallArgs"))
		p->user_memory = TG_UMEM_SYSCALL_ARGS;
	else if (!strcmp(s, "all") || !strcmp(s, "true"))
		p->user_memory = TG_UMEM_ALL;
	else
		return yw_fail(y, v, path, "\"%s\" is not none, syscallArgs or all", s);
	return 0;
}

/* ---- spec.tracepointFields (policy/tpfields.h) ------------------------------------ */

static int check_tpf_glob(struct yaml_walk *y, const yaml_node_t *n, const char *path, char **item)
{
	const char *why = tg_tpf_glob_problem(*item);

	return why ? yw_fail(y, n, path, "\"%s\" %s", *item, why) : 0;
}

static int tpf_globs(struct yaml_walk *y, const yaml_node_t *v, const char *path, char ***list, size_t *n)
{
	struct strv s = { .v = *list, .n = *n };
	int r = get_strv(y, v, path, &s, false, check_tpf_glob);

	*list = s.v;
	*n = s.n;
	return r;
}

static int f_tpf_other_tasks(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_bool(y, v, path, &p->tp_fields.other_tasks);
}

static int f_tpf_kernel_addresses(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_bool(y, v, path, &p->tp_fields.kernel_addresses);
}

static int f_tpf_allow(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return tpf_globs(y, v, path, &p->tp_fields.allow, &p->tp_fields.nallow);
}

static int f_tpf_deny(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return tpf_globs(y, v, path, &p->tp_fields.deny, &p->tp_fields.ndeny);
}

/* Left out, both switches are false: a policy written before the field
 * existed refuses classified fields rather than silently allowing them. */
static int f_tracepoint_fields(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = {
		{ "otherTasks", f_tpf_other_tasks }, { "kernelAddresses", f_tpf_kernel_addresses },
		{ "allow", f_tpf_allow }, { "deny", f_tpf_deny },
	};

	return walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);
}

static int f_max_duration(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 7 * 24 * 3600, false, true, &p->limits.max_duration_s);
}

static int f_max_map_entries(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 10000000, false, false, &p->limits.max_map_entries);
}

static int f_max_map_bytes(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 64ull << 30, true, false, &p->limits.max_map_bytes);
}

static int f_max_output_bytes(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 64ull << 30, true, false, &p->limits.max_output_bytes);
}

static int f_eps(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 100000000, false, false, &p->limits.events_per_second);
}

static int f_per_user(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 10000, false, false, &p->limits.max_traces_per_user);
}

static int f_per_ns(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	return get_u64(y, v, path, 1, 10000, false, false, &p->limits.max_traces_per_namespace);
}

static int f_concurrent(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = { { "perUser", f_per_user }, { "perNamespace", f_per_ns } };

	return walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);
}

static int f_cpu_budget(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	const char *s = NULL;
	double d;
	int r = yw_scalar(y, v, path, &s);

	if (r < 0)
		return r;
	if (parse_double(s, &d) < 0 || !(d > 0.0) || d > 64.0)
		return yw_fail(y, v, path, "\"%s\" is not a fraction of a CPU in (0, 64]", s);
	p->limits.cpu_budget = d;
	return 0;
}

static int f_limits(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = {
		{ "maxDuration", f_max_duration }, { "maxMapEntries", f_max_map_entries },
		{ "maxMapBytes", f_max_map_bytes }, { "eventsPerSecond", f_eps },
		{ "maxConcurrentTraces", f_concurrent }, { "cpuBudget", f_cpu_budget },
		{ "maxOutputBytes", f_max_output_bytes },
	};

	return walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);
}

static int f_spec(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = {
		{ "subjects", f_subjects }, { "scope", f_scope }, { "probes", f_probes },
		{ "builtins", f_builtins }, { "functions", f_functions },
		{ "kernelMemory", f_kernel_memory }, { "userMemory", f_user_memory },
		{ "limits", f_limits }, { "tracepointFields", f_tracepoint_fields },
		{ "includes", f_includes },
	};
	int r = walk_map(y, p, v, path, f, ARRAY_SIZE(f), false);

	if (r == 0 && !p->users.n && !p->groups.n && !p->sas.n)
		return yw_fail(y, v, path, "\"subjects\" is required");
	if (r == 0 && !p->scope_pod && !p->scope_node)
		return yw_fail(y, v, path, "\"scope\" is required");
	return r;
}

static bool dns_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      ((c == '-' || c == '.') && i > 0 && i + 1 < n)))
			return false;
	}
	return true;
}

static int f_name(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	int r = get_string(y, v, path, &p->name);

	if (r == 0 && !dns_name(p->name))
		return yw_fail(y, v, path, "\"%s\" is not a valid name (lower case letters, digits, \"-\" and \".\")", p->name);
	return r;
}

static int f_metadata(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	static const struct field f[] = { { "name", f_name } };

	return walk_map(y, p, v, path, f, ARRAY_SIZE(f), true);
}

static int f_api_version(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	const char *s = NULL;
	int r = yw_scalar(y, v, path, &s);

	if (r == 0 && strcmp(s, "tracegate.dev/v1alpha1") != 0)
		return yw_fail(y, v, path, "\"%s\" is not \"tracegate.dev/v1alpha1\"", s);
	return r;
}

static int f_kind(struct yaml_walk *y, struct tg_policy *p, const yaml_node_t *v, const char *path)
{
	const char *s = NULL;
	int r = yw_scalar(y, v, path, &s);

	if (r == 0 && strcmp(s, "TracePolicy") != 0)
		return yw_fail(y, v, path, "\"%s\" is not \"TracePolicy\"", s);
	return r;
}

static int parse_document(struct yaml_walk *y, const yaml_node_t *root, struct tg_policy *p)
{
	static const struct field f[] = {
		{ "apiVersion", f_api_version }, { "kind", f_kind }, { "metadata", f_metadata },
		{ "spec", f_spec }, { "status", NULL },
	};
	bool have[3] = { false };
	int r;

	p->line = (uint32_t)root->start_mark.line + 1;
	p->col = (uint32_t)root->start_mark.column + 1;
	p->limits = (struct tg_policy_limits){
		.max_duration_s = TG_POLICY_DEFAULT_DURATION_S,
		.max_map_entries = TG_POLICY_DEFAULT_MAP_ENTRIES,
		.max_map_bytes = TG_POLICY_DEFAULT_MAP_BYTES,
		.events_per_second = TG_POLICY_DEFAULT_EVENTS_PER_S,
		.max_traces_per_user = TG_POLICY_DEFAULT_TRACES_PER_USER,
		.max_traces_per_namespace = TG_POLICY_DEFAULT_TRACES_PER_NS,
		.cpu_budget = TG_POLICY_DEFAULT_CPU_BUDGET,
		.max_output_bytes = TG_POLICY_DEFAULT_OUTPUT_BYTES,
	};
	r = walk_map(y, p, root, "", f, ARRAY_SIZE(f), false);
	if (r < 0)
		return r;
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pr->key);
		const char *key = (const char *)k->data.scalar.value;

		have[0] |= !strcmp(key, "apiVersion");
		have[1] |= !strcmp(key, "kind");
		have[2] |= !strcmp(key, "spec");
	}
	if (!have[0] || !have[1])
		return yw_fail(y, root, NULL, "document needs \"apiVersion: tracegate.dev/v1alpha1\" and \"kind: TracePolicy\"");
	if (!p->name)
		return yw_fail(y, root, NULL, "metadata.name is required");
	if (!have[2])
		return yw_fail(y, root, NULL, "spec is required");
	return 0;
}

/* ---- sets ------------------------------------------------------------------------ */

static void strv_release(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void tg_policy_release(struct tg_policy *p)
{
	free(p->name);
	free(p->file);
	strv_release(&p->users);
	strv_release(&p->groups);
	strv_release(&p->sas);
	strv_release(&p->namespaces);
	strv_release(&p->probes_allow);
	strv_release(&p->probes_deny);
	strv_release(&p->builtins_allow);
	strv_release(&p->builtins_deny);
	strv_release(&p->functions_allow);
	strv_release(&p->functions_deny);
	strv_release(&p->includes);
	tg_tpf_rules_release(&p->tp_fields);
	memset(p, 0, sizeof(*p));
}

struct tg_policy_set *tg_policy_set_free(struct tg_policy_set *set)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		tg_policy_release(&set->v[i]);
	free(set->v);
	free(set);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct tg_policy_set *, tg_policy_set_free)

size_t tg_policy_set_count(const struct tg_policy_set *set)
{
	return set ? set->n : 0;
}

const char *tg_policy_set_name(const struct tg_policy_set *set, size_t i)
{
	return set && i < set->n ? set->v[i].name : NULL;
}

static int cmp_policy(const void *a, const void *b)
{
	return strcmp(((const struct tg_policy *)a)->name, ((const struct tg_policy *)b)->name);
}

static int add_policy(struct tg_policy_set *set, struct tg_policy *p, char **ret_err)
{
	struct tg_policy *v;

	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, p->name)) {
			if (asprintf(ret_err, "%s:%u:%u: policy \"%s\" is defined twice (first in %s:%u:%u)",
				     p->file, p->line, p->col, p->name, set->v[i].file, set->v[i].line,
				     set->v[i].col) < 0)
				*ret_err = NULL;
			return -TG_ECONFIG;
		}
	if (set->n >= TG_POLICY_MAX_POLICIES) {
		if (asprintf(ret_err, "%s:%u:%u: more than %u policies (TG_POLICY_MAX_POLICIES)", p->file,
			     p->line, p->col, TG_POLICY_MAX_POLICIES) < 0)
			*ret_err = NULL;
		return -TG_ELIMIT;
	}
	v = reallocarray(set->v, set->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	set->v = v;
	v[set->n++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

static int load_into(struct tg_policy_set *set, const char *name, const char *yaml, size_t len, char **ret_err)
{
	yaml_parser_t parser;
	int r = 0;

	if (len > TG_POLICY_MAX_FILE_BYTES) {
		if (asprintf(ret_err, "%s: file is %zu bytes, more than %u (TG_POLICY_MAX_FILE_BYTES)", name, len,
			     TG_POLICY_MAX_FILE_BYTES) < 0)
			*ret_err = NULL;
		return -TG_ELIMIT;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;
		struct tg_policy p = { 0 };
		struct yaml_walk y = { .doc = &doc, .file = name, .max_nodes = TG_POLICY_MAX_YAML_NODES,
				       .max_string = TG_POLICY_MAX_STRING };

		r = yw_load(&parser, name, &doc, ret_err);
		if (r <= 0)
			break;
		root = yaml_document_get_root_node(&doc);
		r = parse_document(&y, root, &p);
		if (r == 0) {
			p.file = strdup(name);
			r = p.file ? add_policy(set, &p, ret_err) : -ENOMEM;
		} else if (y.err) {
			*ret_err = TAKE_PTR(y.err);
		}
		free(y.err);
		tg_policy_release(&p);
		yaml_document_delete(&doc);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	return r;
}

static void sort_set(struct tg_policy_set *set)
{
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(set->v[0]), cmp_policy);
}

int tg_policy_set_load_buffer(const char *name, const char *yaml, size_t len, struct tg_policy_set **ret,
			      char **ret_err)
{
	_cleanup_(tg_policy_set_freep) struct tg_policy_set *set = calloc(1, sizeof(*set));
	char *err = NULL;
	int r;

	if (!set)
		return -ENOMEM;
	r = load_into(set, name ? name : "<buffer>", yaml ? yaml : "", yaml ? len : 0, &err);
	if (r < 0) {
		if (ret_err)
			*ret_err = err;
		else
			free(err);
		return r;
	}
	sort_set(set);
	*ret = TAKE_PTR(set);
	return 0;
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' &&
	       ((n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) || (n > 4 && !strcmp(d->d_name + n - 4, ".yml")));
}

int tg_policy_set_load_dir(const char *dir, struct tg_policy_set **ret, char **ret_err)
{
	_cleanup_(tg_policy_set_freep) struct tg_policy_set *set = calloc(1, sizeof(*set));
	struct dirent **names = NULL;
	char *err = NULL;
	int n, r = 0;

	if (!set)
		return -ENOMEM;
	n = scandir(dir, &names, yaml_name, alphasort);
	if (n < 0) {
		r = -errno;
		if (asprintf(&err, "%s: cannot read policy directory: %s", dir, strerror(errno)) < 0)
			err = NULL;
		goto out;
	}
	if (n > (int)TG_POLICY_MAX_FILES) {
		r = -TG_ELIMIT;
		if (asprintf(&err, "%s: %d policy files, more than %u (TG_POLICY_MAX_FILES)", dir, n,
			     TG_POLICY_MAX_FILES) < 0)
			err = NULL;
		goto out;
	}
	for (int i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *path = NULL, *text = NULL;
		size_t len = 0;

		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
			path = NULL;
			r = -ENOMEM;
			break;
		}
		r = read_file(path, TG_POLICY_MAX_FILE_BYTES, &text, &len);
		if (r < 0) {
			if (asprintf(&err, "%s: cannot read: %s", path,
				     r == -EFBIG ? "more than TG_POLICY_MAX_FILE_BYTES" : strerror(-r)) < 0)
				err = NULL;
			break;
		}
		r = load_into(set, path, text, len, &err);
	}
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0) {
		if (ret_err)
			*ret_err = err;
		else
			free(err);
		return r;
	}
	sort_set(set);
	*ret = TAKE_PTR(set);
	return 0;
}

int tg_policy_set_load_builtin(const char *name, struct tg_policy_set **ret, char **ret_err)
{
	const char *text = name ? tg_policy_preset_text(name) : NULL;
	char fname[64];

	if (!text) {
		if (ret_err && asprintf(ret_err, "preset \"%s\" is not known (restricted, baseline, privileged)",
					name ? name : "") < 0)
			*ret_err = NULL;
		return -ENOENT;
	}
	snprintf(fname, sizeof(fname), "preset:%s.yaml", name);
	return tg_policy_set_load_buffer(fname, text, strlen(text), ret, ret_err);
}

int tg_policy_set_merge(struct tg_policy_set *into, struct tg_policy_set **from, char **ret_err)
{
	char *err = NULL;
	int r = 0;

	for (size_t i = 0; *from && i < (*from)->n && r == 0; i++)
		r = add_policy(into, &(*from)->v[i], &err);
	*from = tg_policy_set_free(*from);
	sort_set(into);
	if (r < 0) {
		if (ret_err)
			*ret_err = err;
		else
			free(err);
	}
	return r;
}
