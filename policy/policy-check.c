// SPDX-License-Identifier: Apache-2.0
/*
 * Evaluating a program against a set of TracePolicy documents.
 *
 * Every check errs towards denial when it cannot be sure:
 *   - a probe pattern covers a wildcard attach point only when it is
 *     provably wider (`*`, or a literal prefix then `*`); positional
 *     parameters are already in place (a parse option: the program
 *     decided on is the program run), and a `$` that still appeared
 *     would be treated as a wildcard that only `*` covers;
 *   - a deny pattern refuses a wildcard attach point whenever the two
 *     might overlap;
 *   - without types, any dereference, `->` (other than tracepoint and
 *     kfunc `args->`), pointer cast, index or str()/buf() of something
 *     that is not already a string is a memory read, of kernel memory in
 *     kernel probes and of user memory in uprobe/usdt probes (buf($1, n)
 *     too: the engine takes $1 as a number there, an address).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "policy/podscope.h"
#include "policy/policy-internal.h"
#include "policy/unscoped.h"
#include "lib/banned.h"

/* ---- subjects ---------------------------------------------------------- */

static bool glob_any(const struct strv *pats, const char *s)
{
	for (size_t i = 0; s && i < pats->n; i++)
		if (fnmatch(pats->v[i], s, 0) == 0)
			return true;
	return false;
}

static bool applies(const struct tg_policy *p, const struct tg_requester *who)
{
	bool subject = glob_any(&p->users, who->user);
	static const char sa_prefix[] = "system:serviceaccount:";

	for (const char *const *g = who->groups; !subject && g && *g; g++)
		subject = glob_any(&p->groups, *g);
	if (!subject && p->sas.n && strncmp(who->user, sa_prefix, sizeof(sa_prefix) - 1) == 0) {
		const char *rest = who->user + sizeof(sa_prefix) - 1;
		const char *colon = strchr(rest, ':');

		if (colon && colon != rest && colon[1] && !strchr(colon + 1, ':')) {
			char nsname[512];

			snprintf(nsname, sizeof(nsname), "%.*s/%s", (int)(colon - rest), rest, colon + 1);
			subject = glob_any(&p->sas, nsname);
		}
	}
	if (!subject)
		return false;
	if (p->namespaces.n == 0)
		return true;
	if (!who->namespace) {
		for (size_t i = 0; i < p->namespaces.n; i++)
			if (!strcmp(p->namespaces.v[i], "*"))
				return true;
		return false;
	}
	return glob_any(&p->namespaces, who->namespace);
}

/* ---- denials ------------------------------------------------------------- */

struct check {
	const struct tg_policy *p;
	json_t *out;                 /* denials of this policy */
	size_t *total;               /* across policies, against TG_POLICY_MAX_DENIALS */
	int err;
	size_t *tpf_work;            /* across policies, against TG_TPF_MAX_WORK */
	/* per probe */
	bool has_kernel, has_user, syscall_tp, args_ok;
};

static void deny(struct check *c, const char *rule, const char *construct, const struct lang_loc *loc,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void deny(struct check *c, const char *rule, const char *construct, const struct lang_loc *loc,
		 const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	json_t *d;

	if (c->err || *c->total >= TG_POLICY_MAX_DENIALS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "policy", c->p->name, "rule", rule, "construct",
		      construct, "line", loc ? json_integer(loc->line) : json_null(), "column",
		      loc ? json_integer(loc->col) : json_null(), "message", msg);
	if (!d || json_array_append_new(c->out, d) < 0) {
		c->err = -ENOMEM;
		return;
	}
	(*c->total)++;
}

/* ---- probes ---------------------------------------------------------------- */

#define MAX_PARTS 8

struct parts {
	const char *v[MAX_PARTS];
	size_t n;
	char buf[32];
};

static void probe_parts(const struct lang_attach *a, struct parts *pp)
{
	const char *t = a->type;

	pp->n = 0;
	pp->v[pp->n++] = t;
	if (!strcmp(t, "BEGIN") || !strcmp(t, "END"))
		return;
	if (!strcmp(t, "kprobe") || !strcmp(t, "kretprobe") || !strcmp(t, "iter")) {
		pp->v[pp->n++] = a->func ? a->func : "";
		return;
	}
	if (!strcmp(t, "profile") || !strcmp(t, "interval") ||
	    ((!strcmp(t, "software") || !strcmp(t, "hardware")))) {
		pp->v[pp->n++] = a->target ? a->target : "";
		if (a->freq || !strcmp(t, "profile") || !strcmp(t, "interval")) {
			snprintf(pp->buf, sizeof(pp->buf), "%llu", (unsigned long long)a->freq);
			pp->v[pp->n++] = pp->buf;
		}
		return;
	}
	if (a->target)
		pp->v[pp->n++] = a->target;
	if (a->ns)
		pp->v[pp->n++] = a->ns;
	if (a->func) {
		pp->v[pp->n++] = a->func;
	} else {
		snprintf(pp->buf, sizeof(pp->buf), "0x%llx", (unsigned long long)a->address);
		pp->v[pp->n++] = pp->buf;
	}
}

/* Splits pattern at ':' into pp (pointing into buf). */
static void pattern_parts(char *buf, struct parts *pp)
{
	pp->n = 0;
	pp->v[pp->n++] = buf;
	for (char *c = buf; *c; c++)
		if (*c == ':' && pp->n < MAX_PARTS) {
			*c = '\0';
			pp->v[pp->n++] = c + 1;
		}
}

static bool pattern_matches(const char *pattern, const struct parts *probe, bool allow)
{
	char buf[1100];
	struct parts pat;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", pattern);
	pattern_parts(buf, &pat);
	/* "*" alone, or a trailing "*" part, stands for every remaining part */
	if (pat.n > probe->n)
		return false;
	if (pat.n < probe->n && strcmp(pat.v[pat.n - 1], "*") != 0)
		return false;
	n = pat.n < probe->n ? pat.n - 1 : pat.n;
	for (size_t i = 0; i < n; i++)
		if (allow ? !tg_glob_covers(pat.v[i], probe->v[i]) : !tg_glob_overlaps(pat.v[i], probe->v[i]))
			return false;
	return true;
}

static void check_probe(struct check *c, const struct lang_attach *a)
{
	struct parts pp;
	bool ok = false;

	probe_parts(a, &pp);
	for (size_t i = 0; i < c->p->probes_deny.n; i++)
		if (pattern_matches(c->p->probes_deny.v[i], &pp, false)) {
			deny(c, "probes.deny", a->raw, &a->loc, "probe \"%s\" matches probes.deny \"%s\"", a->raw,
			     c->p->probes_deny.v[i]);
			return;
		}
	for (size_t i = 0; i < c->p->probes_allow.n && !ok; i++)
		ok = pattern_matches(c->p->probes_allow.v[i], &pp, true);
	if (!ok)
		deny(c, "probes.allow", a->raw, &a->loc, "probe \"%s\" is not allowed by probes.allow%s", a->raw,
		     tg_glob_is_wild(a->raw) ? " (a wildcard is allowed only where a pattern covers all it can match)" : "");
}

/* ---- tracepoint fields (policy/tpfields.h) ---------------------------------------- */

static void tp_field_refused(void *ctx, const struct lang_loc *loc, const char *construct, const char *rule,
			     const char *msg)
{
	deny(ctx, rule, construct, loc, "%s", msg);
}

/* Every args use of a probe, under each of its tracepoint attach points. */
static void check_tp_fields(struct check *c, const struct lang_probe *pr)
{
	for (size_t j = 0; j < pr->nattach && !c->err; j++)
		tg_tpf_check_attach(&c->p->tp_fields, &pr->attach[j], pr, c->tpf_work, tp_field_refused, c);
}

/* What the runner re-checks the node's real formats against. */
static json_t *tp_fields_for_runner(const struct tg_policy *p)
{
	struct tg_tpf_rules r = p->tp_fields;

	r.policy = p->name;
	return tg_tpf_rules_to_json(&r);
}

/* ---- program nodes --------------------------------------------------------------- */

enum mem { MEM_KERNEL, MEM_USER, MEM_USER_SYSCALL_ARG };

static void construct_text(const struct lang_node *n, char *out, size_t outsz)
{
	char *s = NULL;

	if (lang_expr_print(n, &s) < 0 || !s) {
		snprintf(out, outsz, "%s", lang_node_kind_str(n->kind));
	} else if (strlen(s) >= outsz) {
		snprintf(out, outsz, "%.*s...", (int)(outsz - 4), s);
	} else {
		snprintf(out, outsz, "%s", s);
	}
	free(s);
}

static void mem_read(struct check *c, const struct lang_node *n, enum mem kind, const char *what)
{
	char text[96];

	construct_text(n, text, sizeof(text));
	if (kind == MEM_KERNEL && !c->p->kernel_memory)
		deny(c, "kernelMemory", text, &n->loc, "\"%s\" %s kernel memory, and kernelMemory is false", text,
		     what);
	else if (kind == MEM_USER && c->p->user_memory != TG_UMEM_ALL)
		deny(c, "userMemory", text, &n->loc, "\"%s\" %s user memory, and userMemory is %s%s", text, what,
		     c->p->user_memory == TG_UMEM_NONE ? "none" : "syscallArgs",
		     c->p->user_memory == TG_UMEM_NONE ? "" : " (only str() of a syscall tracepoint's args->field)");
	else if (kind == MEM_USER_SYSCALL_ARG && c->p->user_memory == TG_UMEM_NONE)
		deny(c, "userMemory", text, &n->loc, "\"%s\" %s user memory (a syscall argument), and userMemory is none",
		     text, what);
}

/* A read whose address space follows the probe: kernel, user or both. */
static void mem_read_ctx(struct check *c, const struct lang_node *n, const char *what)
{
	if (c->has_kernel)
		mem_read(c, n, MEM_KERNEL, what);
	if (c->has_user)
		mem_read(c, n, MEM_USER, what);
}

static bool is_args_field(const struct check *c, const struct lang_node *n)
{
	return c->args_ok && n->kind == TG_N_FIELD && n->op == TG_OP_ARROW && n->nkids == 1 &&
	       n->kids[0]->kind == TG_N_BUILTIN && !strcmp(n->kids[0]->str, "args");
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Is n already a string value (str() of it copies, reads no memory)? */
static bool is_string_value(const struct lang_node *n)
{
	static const char *const str_builtins[] = { "comm", "username", "func", "probe", NULL };
	static const char *const str_calls[] = { "str", "strftime", "ksym", "usym", "ntop", "cgroup_path",
						 "strerror", "path", "macaddr", NULL };

	return n->kind == TG_N_STR || n->kind == TG_N_POSPARAM ||
	       (n->kind == TG_N_BUILTIN && in_list(n->str, str_builtins)) ||
	       (n->kind == TG_N_CALL && in_list(n->str, str_calls));
}

/* arg0 .. arg9 and retval: registers of the probed context. */
static bool is_register_builtin(const char *name)
{
	return !strcmp(name, "retval") ||
	       (!strncmp(name, "arg", 3) && name[3] >= '0' && name[3] <= '9' && !name[4]);
}

static void check_name(struct check *c, const struct lang_node *n, bool builtin)
{
	const struct strv *allow = builtin ? &c->p->builtins_allow : &c->p->functions_allow;
	const struct strv *den = builtin ? &c->p->builtins_deny : &c->p->functions_deny;
	const char *what = builtin ? "builtin" : "function";
	char rule[32];

	for (size_t i = 0; i < den->n; i++)
		if (fnmatch(den->v[i], n->str, 0) == 0) {
			snprintf(rule, sizeof(rule), "%ss.deny", what);
			deny(c, rule, n->str, &n->loc, "%s \"%s\" matches %s \"%s\"", what, n->str, rule, den->v[i]);
			return;
		}
	if (!glob_any(allow, n->str)) {
		snprintf(rule, sizeof(rule), "%ss.allow", what);
		deny(c, rule, n->str, &n->loc, "%s \"%s\" is not allowed by %s", what, n->str, rule);
	}
}

static void check_node(struct check *c, const struct lang_node *n);

static void check_kids(struct check *c, const struct lang_node *n, size_t from)
{
	for (size_t i = from; i < n->nkids && !c->err; i++)
		check_node(c, n->kids[i]);
}

static void check_call(struct check *c, const struct lang_node *n)
{
	static const char *const kernel_calls[] = { "kptr", "kaddr", "ksym", "kstack", "path", "macaddr", NULL };
	static const char *const user_calls[] = { "uptr", "uaddr", "usym", "ustack", NULL };
	const char *f = n->str;

	check_name(c, n, false);
	/* sizeof/offsetof do not evaluate their arguments */
	if (!strcmp(f, "sizeof") || !strcmp(f, "offsetof"))
		return;
	if (in_list(f, kernel_calls))
		mem_read(c, n, MEM_KERNEL, "reads or reveals");
	else if (in_list(f, user_calls))
		mem_read(c, n, MEM_USER, "reads or reveals");
	else if (!strcmp(f, "reg") && c->has_kernel)
		/* the class of arg0..9 and retval: a register of kernel code is
		 * kernel memory; of a traced process (uprobe, usdt), its value */
		mem_read(c, n, MEM_KERNEL, "reveals a register of kernel code, often a kernel address: that is");
	else if ((!strcmp(f, "str") || !strcmp(f, "buf") || !strcmp(f, "join")) && n->nkids > 0) {
		const struct lang_node *a = n->kids[0];

		/* buf($1, n) takes the parameter as a number: an address */
		if (is_string_value(a) && strcmp(f, "join") != 0 &&
		    !(a->kind == TG_N_POSPARAM && !strcmp(f, "buf"))) {
			/* a copy of a string: no read */
		} else if (c->syscall_tp && is_args_field(c, a)) {
			mem_read(c, n, !strcmp(f, "str") ? MEM_USER_SYSCALL_ARG : MEM_USER, "reads");
		} else {
			mem_read_ctx(c, n, "reads");
		}
	}
	check_kids(c, n, 0);
}

static void check_node(struct check *c, const struct lang_node *n)
{
	static const char *const kernel_builtins[] = { "curtask", "ctx", "kstack", NULL };

	if (!n || c->err)
		return;
	switch (n->kind) {
	case TG_N_BUILTIN:
		check_name(c, n, true);
		if (in_list(n->str, kernel_builtins))
			mem_read(c, n, MEM_KERNEL, "reads or reveals");
		else if (!strcmp(n->str, "ustack"))
			mem_read(c, n, MEM_USER, "reads");
		else if (!strncmp(n->str, "sarg", 4))
			mem_read_ctx(c, n, "reads the stack, which is");
		else if (is_register_builtin(n->str) && c->has_kernel)
			/* a register of kernel code (kprobe arguments, kretprobe
			 * return values, the interrupted context of profile):
			 * often a kernel address (struct file *, a stack slot),
			 * which breaks KASLR as surely as reg() or ksym() */
			mem_read(c, n, MEM_KERNEL, "reveals a register of kernel code, often a kernel address: that is");
		return;
	case TG_N_CALL:
		check_call(c, n);
		return;
	case TG_N_UNOP:
		if (n->op == TG_OP_DEREF)
			mem_read_ctx(c, n, "dereferences");
		else if (n->op == TG_OP_ADDR)
			mem_read_ctx(c, n, "takes an address in");
		break;
	case TG_N_FIELD:
		if (n->op == TG_OP_ARROW && !is_args_field(c, n))
			mem_read_ctx(c, n, "dereferences");
		break;
	case TG_N_INDEX:
		if (is_args_field(c, n->kids[0]))
			mem_read(c, n, c->syscall_tp ? MEM_USER : MEM_KERNEL, "indexes");
		else
			mem_read_ctx(c, n, "indexes");
		break;
	case TG_N_CAST:
		if (strchr(n->str, '*'))
			mem_read_ctx(c, n, "casts to a pointer into");
		break;
	default:
		break;
	}
	check_kids(c, n, 0);
}

static bool is_type(const struct lang_attach *a, const char *const *types)
{
	return in_list(a->type, types);
}

/* #include names a system header the runner only looks up (its types come
 * from BTF); still, a policy must allow each name (spec.includes). */
static void check_includes(struct check *c, const struct lang_program *prog)
{
	for (size_t i = 0; i < prog->nincludes && !c->err; i++) {
		const struct lang_include *inc = &prog->includes[i];
		char construct[300];

		if (glob_any(&c->p->includes, inc->name))
			continue;
		snprintf(construct, sizeof(construct), "#include <%s>", inc->name);
		deny(c, "includes", construct, &inc->loc,
		     "#include <%s> is not allowed: spec.includes of the policy does not name it", inc->name);
	}
}

static void check_program(struct check *c, const struct lang_program *prog)
{
	static const char *const user_types[] = { "uprobe", "uretprobe", "usdt", NULL };
	static const char *const args_types[] = { "tracepoint", "kfunc", "kretfunc", NULL };

	check_includes(c, prog);

	for (size_t i = 0; i < prog->nprobes && !c->err; i++) {
		const struct lang_probe *pr = &prog->probes[i];

		c->has_kernel = c->has_user = false;
		c->syscall_tp = c->args_ok = true;
		for (size_t j = 0; j < pr->nattach; j++) {
			const struct lang_attach *a = &pr->attach[j];

			check_probe(c, a);
			if (is_type(a, user_types))
				c->has_user = true;
			else
				c->has_kernel = true;
			if (!is_type(a, args_types))
				c->args_ok = false;
			if (strcmp(a->type, "tracepoint") || !a->target || strcmp(a->target, "syscalls"))
				c->syscall_tp = false;
		}
		check_node(c, pr->pred);
		check_node(c, pr->body);
		check_tp_fields(c, pr);
	}
}

/* ---- bodies that observe no event (policy/unscoped.h) ------------------------------ */

/* Under a pod scope, BEGIN, END and interval bodies run in the runner: no
 * policy can make pid, comm or a memory read there describe the pod, so
 * every policy refuses them, with the same list the runner enforces. */
static int unscoped_deny(void *ctx, const struct tg_unscoped_use *u)
{
	struct check *c = ctx;

	deny(c, TG_UNSCOPED_RULE, u->construct, &u->loc, "%s", u->message);
	return c->err;
}

/* Under a pod scope: uprobes only at a function's entry (policy/podscope.h). */
static void check_uprobe_entries(struct check *c, const struct lang_program *prog)
{
	for (size_t i = 0; i < prog->nprobes && !c->err; i++)
		for (size_t j = 0; j < prog->probes[i].nattach; j++) {
			const struct lang_attach *a = &prog->probes[i].attach[j];

			if (tg_uprobe_not_at_entry(a))
				deny(c, TG_RULE_UPROBE_ENTRY, a->raw, &a->loc, "probe \"%s\": %s", a->raw,
				     TG_UPROBE_ENTRY_ONLY);
		}
}

static void check_unscoped(struct check *c, const struct lang_program *prog)
{
	int r = tg_unscoped_check(prog, unscoped_deny, c);

	if (r < 0 && !c->err)
		c->err = r;
}

/* ---- decisions ------------------------------------------------------------------- */

void tg_decision_release(struct tg_decision *d)
{
	if (!d)
		return;
	free(d->policy);
	json_decref(d->denials);
	json_decref(d->tried);
	json_decref(d->tracepoint_fields);
	memset(d, 0, sizeof(*d));
}

int tg_policy_evaluate(const struct tg_policy_set *set, const struct tg_requester *who,
		       const struct lang_program *prog, const char *scope, struct tg_decision *ret)
{
	size_t total = 0, tpf_work = 0;
	bool node;

	memset(ret, 0, sizeof(*ret));
	ret->denials = json_array();
	ret->tried = json_array();
	if (!ret->denials || !ret->tried) {
		tg_decision_release(ret);
		return -ENOMEM;
	}
	if (!set || !who || !who->user || !*who->user || !prog || !scope ||
	    (strcmp(scope, "pod") && strcmp(scope, "node")))
		return -EINVAL;
	node = !strcmp(scope, "node");

	for (size_t i = 0; i < set->n; i++) {
		const struct tg_policy *p = &set->v[i];
		struct check c = { .p = p, .total = &total, .tpf_work = &tpf_work };

		if (!applies(p, who))
			continue;
		if (json_array_append_new(ret->tried, json_string(p->name)) < 0)
			return -ENOMEM;
		if (ret->allowed)
			continue;
		c.out = json_array();
		if (!c.out)
			return -ENOMEM;
		if (node ? !p->scope_node : !p->scope_pod)
			deny(&c, "scope", scope, NULL, "scope \"%s\" is not granted by policy \"%s\" (it grants %s)", scope,
			     p->name, p->scope_pod && p->scope_node ? "pod and node" : p->scope_pod ? "pod" : "node");
		check_program(&c, prog);
		if (!node) {
			check_unscoped(&c, prog);
			check_uprobe_entries(&c, prog);
		}
		if (c.err) {
			json_decref(c.out);
			return c.err;
		}
		if (json_array_size(c.out) == 0) {
			ret->allowed = true;
			ret->policy = strdup(p->name);
			ret->tracepoint_fields = tp_fields_for_runner(p);
			if (!ret->policy || !ret->tracepoint_fields) {
				json_decref(c.out);
				ret->allowed = false;
				return -ENOMEM;
			}
			ret->limits = p->limits;
		} else if (json_array_extend(ret->denials, c.out) < 0) {
			json_decref(c.out);
			return -ENOMEM;
		}
		json_decref(c.out);
	}
	if (ret->allowed) {
		json_array_clear(ret->denials);
		return 0;
	}
	if (json_array_size(ret->tried) == 0) {
		char msg[768];
		size_t o;

		o = (size_t)snprintf(msg, sizeof(msg), "no TracePolicy applies to user \"%s\"", who->user);
		for (const char *const *g = who->groups; g && *g && o < sizeof(msg); g++)
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s\"%s\"", g == who->groups ? " (groups " : ", ", *g);
		if (who->groups && who->groups[0] && o < sizeof(msg))
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, ")");
		if (o < sizeof(msg))
			snprintf(msg + o, sizeof(msg) - o, who->namespace ? " in namespace \"%s\"" : " for node scope%s",
				 who->namespace ? who->namespace : "");
		if (json_array_append_new(ret->denials,
					  json_pack("{s:n, s:s, s:s, s:n, s:n, s:s}", "policy", "rule", "subjects",
						    "construct", who->user, "line", "column", "message", msg)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int tg_policy_probe_allowed(const struct tg_policy_set *set, const struct tg_requester *who,
			    const char *scope, const char *probe, bool *ret_allowed)
{
	char src[PROBE_PATTERN_MAX + 512];
	struct lang_program *prog = NULL;
	struct lang_diag diag = { 0 };
	size_t total = 0, tpf_work = 0;
	bool node;
	int r = 0;

	*ret_allowed = false;
	if (!set || !who || !who->user || !*who->user || !probe || !scope ||
	    (strcmp(scope, "pod") && strcmp(scope, "node")))
		return -EINVAL;
	node = !strcmp(scope, "node");
	/* a name as a listing prints it, nothing that could close the block */
	for (const char *c = probe; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr("_-.:/", *c)))
			return 0;
	if (!*probe || strlen(probe) > sizeof(src) - 8)
		return 0;
	/* "software:cpu-clock:" as bpftrace lists it is the event with its
	 * default count: "software:cpu-clock" */
	snprintf(src, sizeof(src), "%.*s {}", (int)(strlen(probe) - (probe[strlen(probe) - 1] == ':')), probe);
	if (lang_program_parse(src, strlen(src), &prog, &diag) < 0)
		return 0;   /* a name that does not parse as a probe is not offered */
	for (size_t i = 0; i < set->n && !*ret_allowed && !r; i++) {
		const struct tg_policy *p = &set->v[i];
		struct check c = { .p = p, .total = &total, .tpf_work = &tpf_work };

		if (!applies(p, who) || (node ? !p->scope_node : !p->scope_pod))
			continue;
		c.out = json_array();
		if (!c.out) {
			r = -ENOMEM;
			break;
		}
		for (size_t k = 0; k < prog->nprobes; k++)
			for (size_t j = 0; j < prog->probes[k].nattach; j++)
				check_probe(&c, &prog->probes[k].attach[j]);
		r = c.err;
		*ret_allowed = !r && prog->nprobes && json_array_size(c.out) == 0;
		json_decref(c.out);
	}
	lang_program_free(prog);
	if (r < 0)
		*ret_allowed = false;
	return r;
}

json_t *tg_decision_to_json(const struct tg_decision *d)
{
	const struct tg_policy_limits *l = &d->limits;
	json_t *lim = d->allowed ? json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:f, s:I}",
					      "maxDuration", (json_int_t)l->max_duration_s,
					      "maxMapEntries", (json_int_t)l->max_map_entries,
					      "maxMapBytes", (json_int_t)l->max_map_bytes,
					      "eventsPerSecond", (json_int_t)l->events_per_second,
					      "maxConcurrentTraces", "perUser", (json_int_t)l->max_traces_per_user,
					      "perNamespace", (json_int_t)l->max_traces_per_namespace,
					      "cpuBudget", l->cpu_budget,
					      "maxOutputBytes", (json_int_t)l->max_output_bytes)
				 : json_null();

	return json_pack("{s:b, s:s?, s:o, s:O, s:O}", "allowed", d->allowed, "policy", d->policy, "limits",
			 lim, "denials", d->denials ? d->denials : json_array(), "tried",
			 d->tried ? d->tried : json_array());
}

static int add_names(struct buf *b, json_t *names)
{
	size_t i;
	json_t *v;
	int r = 0;

	json_array_foreach(names, i, v) {
		r = buf_printf(b, "%s\"%s\"", i ? ", " : "", json_string_value(v));
		if (r < 0)
			return r;
	}
	return r;
}

static int add_denial(struct buf *b, json_t *d, bool oneline)
{
	json_t *line = json_object_get(d, "line"), *col = json_object_get(d, "column");
	const char *pol = json_string_value(json_object_get(d, "policy"));
	const char *rule = json_string_value(json_object_get(d, "rule"));
	const char *msg = json_string_value(json_object_get(d, "message"));
	int r;

	if (json_is_integer(line))
		r = buf_printf(b, oneline ? "%lld:%lld: " : "  %lld:%lld: ", (long long)json_integer_value(line),
			       (long long)json_integer_value(col));
	else
		r = buf_adds(b, oneline ? "" : "  ");
	if (r == 0)
		r = buf_adds(b, msg ? msg : "");
	if (r == 0 && pol)
		r = buf_printf(b, " [policy \"%s\", rule %s]", pol, rule ? rule : "");
	return r;
}

int tg_decision_explain(const struct tg_decision *d, char **ret_oneline, char **ret_long)
{
	_cleanup_buf_ struct buf one = BUF_INIT(64 * 1024);
	_cleanup_buf_ struct buf lng = BUF_INIT(1024 * 1024);
	size_t n = d->denials ? json_array_size(d->denials) : 0;
	const struct tg_policy_limits *l = &d->limits;
	int r;

	if (d->allowed) {
		r = buf_printf(&one, "allowed by policy \"%s\"", d->policy);
		if (r == 0)
			r = buf_printf(&lng,
				       "allowed by policy \"%s\"\n"
				       "limits: maxDuration %llus, maxMapEntries %llu, maxMapBytes %llu, eventsPerSecond %llu, "
				       "maxConcurrentTraces %llu per user / %llu per namespace, cpuBudget %g, maxOutputBytes %llu\n",
				       d->policy, (unsigned long long)l->max_duration_s,
				       (unsigned long long)l->max_map_entries, (unsigned long long)l->max_map_bytes,
				       (unsigned long long)l->events_per_second,
				       (unsigned long long)l->max_traces_per_user,
				       (unsigned long long)l->max_traces_per_namespace, l->cpu_budget,
				       (unsigned long long)l->max_output_bytes);
	} else {
		r = buf_adds(&one, "denied: ");
		if (r == 0 && n)
			r = add_denial(&one, json_array_get(d->denials, 0), true);
		if (r == 0 && n > 1)
			r = buf_printf(&one, " (and %zu more)", n - 1);
		if (r == 0 && d->tried && json_array_size(d->tried)) {
			r = buf_adds(&one, "; policies tried: ");
			if (r == 0)
				r = add_names(&one, d->tried);
		}
		if (r == 0)
			r = buf_printf(&lng, "denied (%zu reason%s)\n", n, n == 1 ? "" : "s");
		if (r == 0 && d->tried) {
			r = buf_adds(&lng, "policies tried: ");
			if (r == 0)
				r = json_array_size(d->tried) ? add_names(&lng, d->tried) : buf_adds(&lng, "none applies");
			if (r == 0)
				r = buf_addc(&lng, '\n');
		}
		for (size_t i = 0; i < n && r == 0; i++) {
			r = add_denial(&lng, json_array_get(d->denials, i), false);
			if (r == 0)
				r = buf_addc(&lng, '\n');
		}
	}
	if (r < 0)
		return r;
	if (ret_oneline)
		*ret_oneline = buf_detach(&one, NULL);
	if (ret_long)
		*ret_long = buf_detach(&lng, NULL);
	return 0;
}
