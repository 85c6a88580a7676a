// SPDX-License-Identifier: Apache-2.0
/*
 * A TracePolicy's tracepointFields rules, and the check of a program's
 * `args` uses against them: by the gateway with the generated table,
 * by the runner with the node's real formats (tpfields.h).
 *
 * For one field of one event, in this order:
 *   1. a deny glob that matches refuses it, whatever its class;
 *   2. a field no rule classifies passes;
 *   3. an allow glob that matches lets it through;
 *   4. otherwise each class it is in must be let through by its switch
 *      (otherTasks, kernelAddresses).
 * Against a wildcard attach point a deny glob refuses when it might match
 * some tracepoint the wildcard stands for, and an allow glob counts only
 * when it provably covers all of them (as probes.deny/allow do).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "policy/policy-internal.h"
#include "policy/tpfields.h"
#include "lib/banned.h"

/* ---- rules ----------------------------------------------------------------- */

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void tg_tpf_rules_release(struct tg_tpf_rules *r)
{
	if (!r)
		return;
	strs_free(r->allow, r->nallow);
	strs_free(r->deny, r->ndeny);
	free(r->policy);
	memset(r, 0, sizeof(*r));
}

static int strs_copy(char *const *from, size_t n, char ***ret)
{
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(from[i]);
		if (!v[i]) {
			strs_free(v, i);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

int tg_tpf_rules_copy(const struct tg_tpf_rules *from, const char *policy, struct tg_tpf_rules *to)
{
	struct tg_tpf_rules r = { .other_tasks = from->other_tasks, .kernel_addresses = from->kernel_addresses };
	const char *name = policy ? policy : from->policy;

	if ((name && !(r.policy = strdup(name))) || strs_copy(from->allow, from->nallow, &r.allow) < 0) {
		tg_tpf_rules_release(&r);
		return -ENOMEM;
	}
	r.nallow = from->nallow;
	if (strs_copy(from->deny, from->ndeny, &r.deny) < 0) {
		tg_tpf_rules_release(&r);
		return -ENOMEM;
	}
	r.ndeny = from->ndeny;
	*to = r;
	return 0;
}

bool tg_tpf_rules_open(const struct tg_tpf_rules *r)
{
	return r->other_tasks && r->kernel_addresses && r->ndeny == 0;
}

const char *tg_tpf_glob_problem(const char *glob)
{
	const char *a, *b;

	if (!glob || !*glob)
		return "is empty";
	if (strlen(glob) > TG_TPF_MAX_GLOB)
		return "is longer than TG_TPF_MAX_GLOB bytes";
	a = strchr(glob, ':');
	b = a ? strchr(a + 1, ':') : NULL;
	if (!a || !b || strchr(b + 1, ':'))
		return "is not \"category:event:field\" (three parts, each a name or a glob)";
	if (a == glob || b == a + 1 || !b[1])
		return "has an empty part (write \"*\" for any)";
	return NULL;
}

json_t *tg_tpf_rules_to_json(const struct tg_tpf_rules *r)
{
	json_t *allow = json_array(), *deny = json_array();

	for (size_t i = 0; allow && i < r->nallow; i++)
		if (json_array_append_new(allow, json_string(r->allow[i])) < 0) {
			json_decref(allow);
			allow = NULL;
		}
	for (size_t i = 0; deny && i < r->ndeny; i++)
		if (json_array_append_new(deny, json_string(r->deny[i])) < 0) {
			json_decref(deny);
			deny = NULL;
		}
	if (!allow || !deny) {
		json_decref(allow);
		json_decref(deny);
		return NULL;
	}
	return json_pack("{s:s?, s:b, s:b, s:o, s:o}", "policy", r->policy, "otherTasks", r->other_tasks,
			 "kernelAddresses", r->kernel_addresses, "allow", allow, "deny", deny);
}

static int globs_from_json(json_t *a, const char *key, char ***ret, size_t *ret_n, char **ret_err)
{
	size_t i;
	json_t *v;
	char **out;

	*ret = NULL;
	*ret_n = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > TG_TPF_MAX_GLOBS)
		return tg_fail(ret_err, -EINVAL, "tracepointFields.%s: not an array of at most %u strings", key,
			       TG_TPF_MAX_GLOBS);
	out = calloc(json_array_size(a) + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v), *why;

		if (!s || strlen(s) != json_string_length(v)) {
			strs_free(out, i);
			return tg_fail(ret_err, -EINVAL, "tracepointFields.%s[%zu]: not a string without NUL", key, i);
		}
		why = tg_tpf_glob_problem(s);
		if (why) {
			strs_free(out, i);
			return tg_fail(ret_err, -EINVAL, "tracepointFields.%s[%zu]: %s", key, i, why);
		}
		out[i] = strdup(s);
		if (!out[i]) {
			strs_free(out, i);
			return -ENOMEM;
		}
	}
	*ret = out;
	*ret_n = json_array_size(a);
	return 0;
}

int tg_tpf_rules_from_json(json_t *o, struct tg_tpf_rules *ret, char **ret_err)
{
	struct tg_tpf_rules r = { 0 };
	const char *key;
	json_t *v;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(o))
		return tg_fail(ret_err, -EINVAL, "tracepointFields: not an object");
	json_object_foreach(o, key, v) {
		if (!strcmp(key, "otherTasks") || !strcmp(key, "kernelAddresses")) {
			if (!json_is_boolean(v))
				return tg_fail(ret_err, -EINVAL, "tracepointFields.%s: not true or false", key);
		} else if (!strcmp(key, "policy")) {
			if (!json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 253 ||
						 strlen(json_string_value(v)) != json_string_length(v)))
				return tg_fail(ret_err, -EINVAL, "tracepointFields.policy: not a name");
		} else if (strcmp(key, "allow") && strcmp(key, "deny")) {
			/* an unknown member could be a switch we do not know: refuse */
			return tg_fail(ret_err, -EINVAL, "tracepointFields: unknown member \"%.64s\"", key);
		}
	}
	r.other_tasks = json_is_true(json_object_get(o, "otherTasks"));
	r.kernel_addresses = json_is_true(json_object_get(o, "kernelAddresses"));
	v = json_object_get(o, "policy");
	if (json_is_string(v) && !(r.policy = strdup(json_string_value(v))))
		return -ENOMEM;
	rc = globs_from_json(json_object_get(o, "allow"), "allow", &r.allow, &r.nallow, ret_err);
	if (rc == 0)
		rc = globs_from_json(json_object_get(o, "deny"), "deny", &r.deny, &r.ndeny, ret_err);
	if (rc < 0) {
		tg_tpf_rules_release(&r);
		return rc;
	}
	*ret = r;
	return 0;
}

/* ---- args uses ----------------------------------------------------------------- */

struct uses {
	tg_tpf_use_fn fn;
	void *ctx;
};

static int use_visit(struct lang_node *n, struct lang_node *parent, void *ctx)
{
	struct uses *u = ctx;

	if (n->kind != TG_N_BUILTIN || !n->str || strcmp(n->str, "args"))
		return 0;
	if (parent && parent->kind == TG_N_FIELD && parent->nkids >= 1 && parent->kids[0] == n &&
	    (parent->op == TG_OP_ARROW || parent->op == TG_OP_DOT) && parent->str)
		return u->fn(u->ctx, parent->str, &parent->loc);
	return u->fn(u->ctx, NULL, &n->loc);
}

int tg_tpf_args_uses(const struct lang_probe *probe, tg_tpf_use_fn fn, void *ctx)
{
	struct uses u = { fn, ctx };
	int r;

	if (!probe || !fn)
		return -EINVAL;
	r = lang_node_walk(probe->pred, NULL, use_visit, &u);
	return r ? r : lang_node_walk(probe->body, NULL, use_visit, &u);
}

/* ---- matching globs: tg_glob_covers / tg_glob_overlaps (glob.c) ---- */

enum match { M_EXACT, M_COVERS, M_OVERLAPS };

/* glob "c:e:f" against category, event (either may be wild) and field. */
static bool glob3(const char *glob, const char *cat, const char *ev, const char *field, enum match how)
{
	char buf[TG_TPF_MAX_GLOB + 1];
	char *p[3];
	const char *s[3] = { cat, ev, field };

	if (tg_tpf_glob_problem(glob))
		return how == M_OVERLAPS;       /* a broken deny glob refuses; a broken allow lets nothing through */
	snprintf(buf, sizeof(buf), "%s", glob);
	p[0] = buf;
	p[1] = strchr(buf, ':');
	*p[1]++ = '\0';
	p[2] = strchr(p[1], ':');
	*p[2]++ = '\0';
	for (int i = 0; i < 3; i++) {
		bool ok = how == M_EXACT ? fnmatch(p[i], s[i], 0) == 0
			  : how == M_COVERS ? tg_glob_covers(p[i], s[i]) : tg_glob_overlaps(p[i], s[i]);

		if (!ok)
			return false;
	}
	return true;
}

/* ---- one field --------------------------------------------------------------------- */

struct refusal {
	const char *rule;
	char msg[640];
};

/* Is field (classes, by class_rule) of cat:ev refused?  wild: cat or ev
 * stand for several tracepoints.  `what` names them in messages. */
static bool refused(const struct tg_tpf_rules *r, const char *cat, const char *ev, const char *field,
		    unsigned classes, const char *class_rule, bool wild, const char *what, struct refusal *out)
{
	for (size_t i = 0; i < r->ndeny; i++)
		if (glob3(r->deny[i], cat, ev, field, wild ? M_OVERLAPS : M_EXACT)) {
			out->rule = "tracepointFields.deny";
			snprintf(out->msg, sizeof(out->msg), "field \"%s\" of %s matches tracepointFields.deny \"%s\"",
				 field, what, r->deny[i]);
			return true;
		}
	classes &= TG_TPF_OTHER_TASK | TG_TPF_KERNEL_ADDRESS;
	if (!classes)
		return false;
	for (size_t i = 0; i < r->nallow; i++)
		if (glob3(r->allow[i], cat, ev, field, wild ? M_COVERS : M_EXACT))
			return false;
	if ((classes & TG_TPF_OTHER_TASK) && !r->other_tasks) {
		out->rule = "tracepointFields.otherTasks";
		snprintf(out->msg, sizeof(out->msg),
			 "field \"%s\" of %s %s a task other than the current one (rule %s), "
			 "and tracepointFields.otherTasks is false", field, what, wild ? "may describe" : "describes",
			 class_rule ? class_rule : "otherTasks");
		return true;
	}
	if ((classes & TG_TPF_KERNEL_ADDRESS) && !r->kernel_addresses) {
		out->rule = "tracepointFields.kernelAddresses";
		snprintf(out->msg, sizeof(out->msg),
			 "field \"%s\" of %s %s a kernel address (rule %s), and tracepointFields.kernelAddresses is false",
			 field, what, wild ? "may hold" : "holds", class_rule ? class_rule : "kernelAddresses");
		return true;
	}
	return false;
}

/* Classes of field in an event the table knows: its row, or none.  A
 * field this table's kernel did not have is the node's to judge: the
 * runner re-checks against the real format. */
static unsigned table_classes(const struct tg_tpf_event *e, const char *field, const char **ret_rule)
{
	const struct tg_tpf_row *row = tg_tpf_table_row(e, field);

	*ret_rule = row ? row->rule : NULL;
	return row ? row->classes : 0;
}

/* ---- the gateway: one attach point against the table -------------------------------- */

struct acheck {
	const struct tg_tpf_rules *r;
	const char *cat, *ev;          /* as written: may be globs or $N */
	bool wild;
	const char *raw;
	tg_tpf_refuse_fn refuse;
	void *ctx;
	size_t n;
	/* the gateway's path: the table events the attach point may be
	 * (a wildcard: those with rows only), found once, and the work done */
	const struct tg_tpf_event **matched;
	size_t nmatched;
	bool matched_done;
	size_t *work;
	bool over;
	/* the runner's path */
	const struct tg_tpf_field *fields;
	size_t nfields;
	const struct tg_tpf_verdict *verdicts;
};

static void report(struct acheck *c, const struct lang_loc *loc, const char *field, const struct refusal *rf,
		   const char *prefix)
{
	char construct[160], msg[900];

	snprintf(construct, sizeof(construct), field ? "args->%s" : "args", field ? field : "");
	snprintf(msg, sizeof(msg), "%s%s", prefix ? prefix : "", rf->msg);
	c->refuse(c->ctx, loc, construct, rf->rule, msg);
	c->n++;
}

/* Counts work against TG_TPF_MAX_WORK; false once it is spent. */
static bool spend(struct acheck *c, size_t units)
{
	*c->work += units;
	return *c->work <= TG_TPF_MAX_WORK;
}

/* A glob part as fnmatch takes it: $N (a parameter) stands for anything. */
static const char *as_glob(const char *s)
{
	return strchr(s, '$') ? "*" : s;
}

static int find_matched(struct acheck *c)
{
	c->matched_done = true;
	if (!c->wild) {
		const struct tg_tpf_event *e = tg_tpf_table_find(c->cat, c->ev);

		if (!e)
			return 0;
		c->matched = malloc(sizeof(*c->matched));
		if (!c->matched)
			return -ENOMEM;
		c->matched[c->nmatched++] = e;
		return 0;
	}
	c->matched = calloc(tg_tpf_nevents ? tg_tpf_nevents : 1, sizeof(*c->matched));
	if (!c->matched)
		return -ENOMEM;
	for (size_t i = 0; i < tg_tpf_nevents; i++) {
		const struct tg_tpf_event *e = &tg_tpf_events[i];

		/* an event with no row adds nothing a field's name does not */
		if (e->nrows && fnmatch(as_glob(c->cat), e->category, 0) == 0 && fnmatch(as_glob(c->ev), e->name, 0) == 0)
			c->matched[c->nmatched++] = e;
	}
	(void)spend(c, tg_tpf_nevents);
	return 0;
}

/* args->field (field != NULL) under the attach point. */
static bool field_refused_table(struct acheck *c, const char *field, struct refusal *rf)
{
	char what[400];
	const char *rule;
	unsigned classes;

	if (!c->wild) {
		const struct tg_tpf_event *e = c->nmatched ? c->matched[0] : NULL;

		snprintf(what, sizeof(what), "tracepoint \"%s:%s\"", c->cat, c->ev);
		classes = e ? table_classes(e, field, &rule) : tg_tpf_classify_name(c->cat, field, &rule);
		return refused(c->r, c->cat, c->ev, field, classes, rule, false, what, rf);
	}
	for (size_t i = 0; i < c->nmatched; i++) {
		const struct tg_tpf_event *e = c->matched[i];
		const struct tg_tpf_row *row = tg_tpf_table_row(e, field);

		if (!row)
			continue;
		snprintf(what, sizeof(what), "tracepoint \"%s:%s\" (which \"%s\" matches)", e->category, e->name,
			 c->raw);
		if (refused(c->r, e->category, e->name, field, row->classes, row->rule, false, what, rf))
			return true;
	}
	/* the node may have tracepoints the table does not: judge the name */
	snprintf(what, sizeof(what), "tracepoints matched by \"%s\" (a node may have some this gateway's table "
		 "does not know)", c->raw);
	classes = tg_tpf_classify_name(c->cat, field, &rule);
	return refused(c->r, c->cat, c->ev, field, classes, rule, true, what, rf);
}

/* args used whole under the attach point. */
static bool whole_refused_table(struct acheck *c, struct refusal *rf)
{
	char what[400];

	for (size_t i = 0; i < c->nmatched; i++) {
		const struct tg_tpf_event *e = c->matched[i];

		snprintf(what, sizeof(what), "tracepoint \"%s:%s\"", e->category, e->name);
		for (uint32_t k = 0; k < e->nrows; k++) {
			const struct tg_tpf_row *row = &tg_tpf_rows[e->first + k];

			if (refused(c->r, e->category, e->name, row->field, row->classes, row->rule, false, what, rf))
				return true;
		}
	}
	if (!c->wild && c->nmatched) {
		const struct tg_tpf_event *e = c->matched[0];

		/* the table lists classified fields only: a deny glob may name
		 * one it does not list */
		for (size_t d = 0; d < c->r->ndeny; d++)
			if (glob3(c->r->deny[d], e->category, e->name, "*", M_OVERLAPS)) {
				rf->rule = "tracepointFields.deny";
				snprintf(rf->msg, sizeof(rf->msg),
					 "tracepointFields.deny \"%s\" may name one of the fields of tracepoint \"%s:%s\"",
					 c->r->deny[d], e->category, e->name);
				return true;
			}
		return false;
	}
	if (tg_tpf_rules_open(c->r))
		return false;
	/* a wildcard, or an event the table does not know: its fields cannot
	 * all be listed here, so some may be refused */
	rf->rule = !c->r->other_tasks ? "tracepointFields.otherTasks"
		   : !c->r->kernel_addresses ? "tracepointFields.kernelAddresses" : "tracepointFields.deny";
	snprintf(rf->msg, sizeof(rf->msg),
		 "the fields of %s \"%s\" cannot all be known before it runs (%s), and %s refuses some fields: "
		 "name the fields you need (args->FIELD)",
		 c->wild ? "the tracepoints" : "tracepoint", c->raw,
		 c->wild ? "a wildcard may match tracepoints this gateway's table does not know"
			 : "this gateway's table does not know it",
		 rf->rule);
	return true;
}

static int attach_use(void *ctx, const char *field, const struct lang_loc *loc)
{
	struct acheck *c = ctx;
	struct refusal rf = { 0 };
	size_t rows = 0;

	if (!c->matched_done && find_matched(c) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->nmatched; i++)
		rows += c->matched[i]->nrows;
	if (!spend(c, 1 + rows + c->r->nallow + c->r->ndeny)) {
		c->over = true;
		return 1;
	}
	if (field ? field_refused_table(c, field, &rf) : whole_refused_table(c, &rf))
		report(c, loc, field, &rf, field ? NULL : "\"args\" uses every field: ");
	return 0;
}

size_t tg_tpf_check_attach(const struct tg_tpf_rules *r, const struct lang_attach *a, const struct lang_probe *probe,
			   size_t *work, tg_tpf_refuse_fn refuse, void *ctx)
{
	struct acheck c = { .r = r, .refuse = refuse, .ctx = ctx, .work = work };
	int rc;

	if (!r || !a || !probe || !refuse || !work || !a->type || strcmp(a->type, "tracepoint") || !a->target ||
	    !a->func)
		return 0;
	c.cat = a->target;
	c.ev = a->func;
	c.raw = a->raw ? a->raw : "tracepoint";
	c.wild = tg_glob_is_wild(c.cat) || tg_glob_is_wild(c.ev);
	/* syscalls' fields are the calling task's own arguments; a policy
	 * that refuses nothing needs no look */
	if (!strcmp(c.cat, "syscalls") || tg_tpf_rules_open(r))
		return 0;
	c.over = *work > TG_TPF_MAX_WORK;
	rc = c.over ? 1 : tg_tpf_args_uses(probe, attach_use, &c);
	free(c.matched);
	if (rc < 0 || c.over) {
		/* out of memory, or a program built to make this check slow:
		 * refused, never let through unchecked */
		struct refusal rf = { .rule = "tracepointFields" };

		snprintf(rf.msg, sizeof(rf.msg), rc < 0 && !c.over
			 ? "the tracepoint fields this program reads could not be checked (out of memory)"
			 : "the tracepoint fields this program reads take more than %u steps to check "
			   "(TG_TPF_MAX_WORK): use args in fewer places or under fewer attach points",
			 TG_TPF_MAX_WORK);
		report(&c, &probe->loc, NULL, &rf, NULL);
	}
	return c.n;
}

/* ---- the runner: one concrete event with its real format ------------------------------ */

static int format_use(void *ctx, const char *field, const struct lang_loc *loc)
{
	struct acheck *c = ctx;
	struct refusal rf = { 0 };
	char what[300];

	snprintf(what, sizeof(what), "tracepoint \"%s:%s\"", c->cat, c->ev);
	for (size_t i = 0; i < c->nfields; i++) {
		const struct tg_tpf_verdict *v = &c->verdicts[i];

		if (field && strcmp(field, c->fields[i].name))
			continue;
		if (refused(c->r, c->cat, c->ev, c->fields[i].name, v->classes, v->rule, false, what, &rf)) {
			report(c, loc, field, &rf, field ? NULL : "\"args\" uses every field: ");
			return 0;
		}
	}
	/* a field the format does not have is the engine's error to give */
	return 0;
}

size_t tg_tpf_check_format(const struct tg_tpf_rules *r, const char *category, const char *event,
			   const struct tg_tpf_field *fields, size_t n, const char *print_fmt,
			   const struct lang_probe *probe, tg_tpf_refuse_fn refuse, void *ctx)
{
	struct tg_tpf_verdict v[TG_TPF_MAX_FIELDS];
	struct acheck c = { .r = r, .cat = category, .ev = event, .refuse = refuse, .ctx = ctx, .fields = fields,
			    .nfields = n, .verdicts = v };

	if (!r || !category || !event || !probe || !refuse || !strcmp(category, "syscalls"))
		return 0;
	if (tg_tpf_classify(category, event, fields, n, print_fmt, v) < 0) {
		/* a format we cannot classify is refused as a whole */
		struct refusal rf = { .rule = "tracepointFields" };

		snprintf(rf.msg, sizeof(rf.msg), "tracepoint \"%s:%s\": its format cannot be classified (more than %d "
			 "fields?)", category, event, TG_TPF_MAX_FIELDS);
		report(&c, &probe->loc, NULL, &rf, NULL);
		return c.n;
	}
	(void)tg_tpf_args_uses(probe, format_use, &c);
	return c.n;
}
