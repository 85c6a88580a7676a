// SPDX-License-Identifier: Apache-2.0
/*
 * Tracepoint fields (policy/tpfields.h): the classification rules on
 * formats as the kernel writes them, the print fmt reader, the generated
 * table, and the TracePolicy rule `tracepointFields` with line:column,
 * rule and policy in every denial: sched_switch next_*, sched_wakeup
 * pid/comm, args used whole, wildcards, events the table does not know,
 * and a custom policy's allow and deny globs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/errors.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "policy/tpfields.h"

/* alice's groups: each preset applies to one of them */
static const char *const authn[] = { "system:authenticated", "system:masters", "tracegate:baseline", NULL };

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

#define HEAD "apiVersion: tracegate.dev/v1alpha1\nkind: TracePolicy\n"

/* ---- classification --------------------------------------------------------- */

#define F(n, t, s, a) { .name = (n), .type = (t), .size = (s), .array = (a) }

/* sched_switch as 6.x writes it */
static const struct tg_tpf_field sched_switch[] = {
	F("prev_comm", "char", 16, true), F("prev_pid", "pid_t", 4, false), F("prev_prio", "int", 4, false),
	F("prev_state", "long", 8, false), F("next_comm", "char", 16, true), F("next_pid", "pid_t", 4, false),
	F("next_prio", "int", 4, false),
};
static const char sched_switch_fmt[] =
	"\"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", "
	"REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001) + 1) << 1) - 1)) ? "
	"__print_flags(REC->prev_state & ((((0x00000000 | 0x00000001) + 1) << 1) - 1), \"|\", { 0x00000001, \"S\" }, "
	"{ 0x00000002, \"D\" }) : \"R\", REC->prev_state & (((0x00000000 | 0x00000001) + 1) << 1) ? \"+\" : \"\", "
	"REC->next_comm, REC->next_pid, REC->next_prio";

static void classify(const char *cat, const char *ev, const struct tg_tpf_field *f, size_t n, const char *fmt,
		     struct tg_tpf_verdict *v)
{
	assert_int_equal(tg_tpf_classify(cat, ev, f, n, fmt, v), 0);
}

static void expect(const struct tg_tpf_verdict *v, unsigned classes, const char *rule)
{
	assert_int_equal(v->classes, classes);
	if (rule)
		assert_string_equal(v->rule, rule);
	else if (classes == 0)
		assert_null(v->rule);
}

static void test_classify_sched(void **state)
{
	struct tg_tpf_verdict v[8];
	static const struct tg_tpf_field wakeup[] = {
		F("comm", "char", 16, true), F("pid", "pid_t", 4, false), F("prio", "int", 4, false),
		F("target_cpu", "int", 4, false),
	};
	static const struct tg_tpf_field fork[] = {
		F("parent_comm", "__data_loc char[]", 4, false), F("parent_pid", "pid_t", 4, false),
		F("child_comm", "__data_loc char[]", 4, false), F("child_pid", "pid_t", 4, false),
	};
	static const struct tg_tpf_field wait[] = {
		F("comm", "__data_loc char[]", 4, false), F("pid", "pid_t", 4, false), F("prio", "int", 4, false),
	};

	(void)state;
	classify("sched", "sched_switch", sched_switch, 7, sched_switch_fmt, v);
	expect(&v[0], TG_TPF_CURRENT, "otherTasks.comm");
	assert_non_null(strstr(v[0].kept, "BUG_ON(p != current);"));
	expect(&v[1], TG_TPF_CURRENT, "otherTasks.pid");
	expect(&v[2], TG_TPF_CURRENT, "otherTasks.prio");
	expect(&v[3], 0, NULL);
	expect(&v[4], TG_TPF_OTHER_TASK, "otherTasks.comm");
	expect(&v[5], TG_TPF_OTHER_TASK, "otherTasks.pid");
	expect(&v[6], TG_TPF_OTHER_TASK, "otherTasks.prio");
	/* the same fields in another event are not kept */
	classify("sched", "sched_wakeup", wakeup, 4, NULL, v);
	expect(&v[0], TG_TPF_OTHER_TASK, "otherTasks.comm");
	expect(&v[1], TG_TPF_OTHER_TASK, "otherTasks.pid");
	expect(&v[2], TG_TPF_OTHER_TASK, "otherTasks.prio");
	expect(&v[3], 0, NULL);
	classify("sched", "sched_process_fork", fork, 4, NULL, v);
	expect(&v[0], TG_TPF_CURRENT, "otherTasks.comm");
	assert_non_null(strstr(v[0].kept, "trace_sched_process_fork(current, p);"));
	expect(&v[1], TG_TPF_CURRENT, "otherTasks.pid");
	expect(&v[2], TG_TPF_OTHER_TASK, "otherTasks.comm");
	expect(&v[3], TG_TPF_OTHER_TASK, "otherTasks.pid");
	/* sched_process_wait: comm and prio are current's, pid the one waited for */
	classify("sched", "sched_process_wait", wait, 3, NULL, v);
	expect(&v[0], TG_TPF_CURRENT, "otherTasks.comm");
	expect(&v[1], TG_TPF_OTHER_TASK, "otherTasks.pid");
	expect(&v[2], TG_TPF_CURRENT, "otherTasks.prio");
	/* syscalls are never classified, whatever the names */
	classify("syscalls", "sys_enter_kill", wakeup, 4, NULL, v);
	for (int i = 0; i < 4; i++)
		expect(&v[i], 0, NULL);
}

static void test_classify_addresses(void **state)
{
	struct tg_tpf_verdict v[8];
	static const struct tg_tpf_field timer[] = {
		F("timer", "void *", 8, false), F("function", "void *", 8, false), F("expires", "unsigned long", 8, false),
		F("now", "unsigned long", 8, false), F("flags", "unsigned int", 4, false),
	};
	static const struct tg_tpf_field kmalloc[] = {
		F("call_site", "unsigned long", 8, false), F("ptr", "const void *", 8, false),
		F("bytes_req", "size_t", 8, false), F("owner", "fl_owner_t", 8, false),
		F("ip", "unsigned long", 8, false), F("function", "unsigned int", 4, false),
		F("saddr", "__u8", 4, true), F("name", "__data_loc char[]", 4, false),
	};
	static const char kmalloc_fmt[] =
		"\"call_site=%pS ptr=%p bytes_req=%zu owner=%p ip=%lx function=%x %pI4 %s\", (void *)REC->call_site, "
		"REC->ptr, REC->bytes_req, ((void *)(REC->owner)), REC->ip, REC->function, REC->saddr, __get_str(name)";
	static const struct tg_tpf_field creds[] = {
		F("uid", "uid_t", 4, false), F("gid", "gid_t", 4, false), F("oom_score_adj", "short", 2, false),
		F("leader", "pid_t", 4, false), F("newcomm", "char", 16, true), F("ioprio", "unsigned short", 2, false),
	};

	(void)state;
	classify("timer", "timer_start", timer, 5, "\"timer=%p function=%ps expires=%lu\", REC->timer, REC->function, REC->expires", v);
	expect(&v[0], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.pointer");
	expect(&v[1], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.pointer");
	expect(&v[2], 0, NULL);
	expect(&v[3], 0, NULL);
	expect(&v[4], 0, NULL);
	classify("kmem", "kmalloc", kmalloc, 8, kmalloc_fmt, v);
	expect(&v[0], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.printed");   /* an integer the kernel prints %pS */
	expect(&v[1], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.pointer");
	expect(&v[2], 0, NULL);
	expect(&v[3], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.printed");   /* a typedef'd pointer, printed %p */
	expect(&v[4], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.code");      /* an 8-byte integer named ip */
	expect(&v[5], 0, NULL);                                             /* 4 bytes: not an address */
	expect(&v[6], 0, NULL);                                             /* %pI4 prints what it points to */
	expect(&v[7], 0, NULL);
	/* without the print fmt, the printed rule cannot apply; the others do */
	classify("kmem", "kmalloc", kmalloc, 8, NULL, v);
	expect(&v[0], TG_TPF_KERNEL_ADDRESS, "kernelAddresses.code");
	expect(&v[3], 0, NULL);
	classify("oom", "mark_victim", creds, 6, NULL, v);
	expect(&v[0], TG_TPF_OTHER_TASK, "otherTasks.cred");
	expect(&v[1], TG_TPF_OTHER_TASK, "otherTasks.cred");
	expect(&v[2], TG_TPF_OTHER_TASK, "otherTasks.oom");
	expect(&v[3], TG_TPF_OTHER_TASK, "otherTasks.pid");                /* pid_t, whatever the name */
	expect(&v[4], TG_TPF_OTHER_TASK, "otherTasks.comm");
	expect(&v[5], TG_TPF_OTHER_TASK, "otherTasks.prio");
	assert_int_equal(tg_tpf_classify(NULL, "x", creds, 1, NULL, v), -EINVAL);
	assert_int_equal(tg_tpf_classify("a", "x", creds, TG_TPF_MAX_FIELDS + 1, NULL, v), -EINVAL);
}

static void test_classify_name(void **state)
{
	const char *rule = NULL;

	(void)state;
	assert_int_equal(tg_tpf_classify_name("sched", "next_pid", &rule), TG_TPF_OTHER_TASK);
	assert_string_equal(rule, "otherTasks.pid");
	assert_int_equal(tg_tpf_classify_name("x", "child_tgid", &rule), TG_TPF_OTHER_TASK);
	assert_int_equal(tg_tpf_classify_name("x", "oldcomm", &rule), TG_TPF_OTHER_TASK);
	assert_string_equal(rule, "otherTasks.comm");
	assert_int_equal(tg_tpf_classify_name("x", "target_prio", &rule), TG_TPF_OTHER_TASK);
	assert_int_equal(tg_tpf_classify_name("x", "call_site", &rule), TG_TPF_KERNEL_ADDRESS);
	assert_string_equal(rule, "kernelAddresses.code");
	assert_int_equal(tg_tpf_classify_name("x", "parent_ip", &rule), TG_TPF_KERNEL_ADDRESS);
	assert_int_equal(tg_tpf_classify_name("x", "target_cpu", &rule), 0);
	assert_int_equal(tg_tpf_classify_name("x", "rapid", &rule), 0);   /* ends in "pid", not "_pid" */
	assert_int_equal(tg_tpf_classify_name("x", "zip", &rule), 0);
	assert_int_equal(tg_tpf_classify_name("syscalls", "pid", &rule), 0);
}

struct names {
	char got[512];
};

static void add_name(void *ctx, const char *name, size_t len)
{
	struct names *n = ctx;
	size_t o = strlen(n->got);

	snprintf(n->got + o, sizeof(n->got) - o, "%s%.*s", o ? "," : "", (int)len, name);
}

static void fmt_case(const char *fmt, int want_r, const char *want)
{
	struct names n = { { 0 } };
	int r = tg_tpf_print_fmt_addresses(fmt, add_name, &n);

	if (r != want_r || strcmp(n.got, want) != 0)
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", fmt, r, n.got, want_r, want);
}

static void test_print_fmt(void **state)
{
	(void)state;
	fmt_case("\"a=%p b=%pS c=%ps d=%pB e=%pK f=%px\", REC->a, REC->b, REC->c, REC->d, REC->e, REC->f", 0,
		 "a,b,c,d,e,f");
	/* what the pointer points to, not the address */
	fmt_case("\"%pI4 %pI6c %pISpc %pM %pU %pd\", REC->a, REC->b, REC->c, REC->d, REC->e, REC->f", 0, "");
	/* casts and parentheses; * width takes an argument; %% takes none */
	fmt_case("\"%*s 100%% %p %p %p\", REC->w, REC->s, (void *)REC->a, ((void *)(REC->b)), (REC->c)", 0, "a,b,c");
	/* commas inside strings and calls do not split arguments */
	fmt_case("\"%s %p\", __print_flags(REC->f, \"|\", { 1, \"a,b\" }, { 2, \"\\\"c,\" }), REC->x", 0, "x");
	/* an expression is not a field */
	fmt_case("\"%p\", REC->a + 8", 0, "");
	fmt_case("\"%pS\", REC->a ? REC->b : REC->c", 0, "");
	/* do not line up, or not a format: nothing */
	fmt_case("\"%p %p\", REC->a", -EINVAL, "");
	fmt_case("\"%p\", REC->a, REC->b", -EINVAL, "");
	fmt_case("\"%y\", REC->a", -EINVAL, "");
	fmt_case("no quote", -EINVAL, "");
	fmt_case("\"unterminated %p, REC->a", -EINVAL, "");
	fmt_case("\"no args\"", 0, "");
}

/* Every input the classifier reads moves the digest; equal inputs agree. */
static void test_format_digest(void **state)
{
	struct tg_tpf_field f[2] = { { "pid", "pid_t", 4, false }, { "comm", "char", 16, true } };
	const char *fmt = "\"pid=%d comm=%s\", REC->pid, REC->comm";
	uint64_t base = tg_tpf_format_digest(f, 2, fmt), seen[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(tg_tpf_format_digest(f, 2, fmt), base);
	seen[n++] = base;
	seen[n++] = tg_tpf_format_digest(f, 1, fmt);
	seen[n++] = tg_tpf_format_digest(f, 2, NULL);
	seen[n++] = tg_tpf_format_digest(f, 2, "");
	f[1].array = false;
	seen[n++] = tg_tpf_format_digest(f, 2, fmt);
	f[1].size = 17;
	seen[n++] = tg_tpf_format_digest(f, 2, fmt);
	f[0].type = "int";
	seen[n++] = tg_tpf_format_digest(f, 2, fmt);
	/* a name and a type do not run into each other */
	f[0] = (struct tg_tpf_field){ "pidp", "id_t", 4, false };
	seen[n++] = tg_tpf_format_digest(f, 1, fmt);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (seen[i] == seen[j])
				fail_msg("digests %zu and %zu agree", i, j);
}

/* ---- the table -------------------------------------------------------------------- */

static void test_table(void **state)
{
	const struct tg_tpf_event *e;
	const struct tg_tpf_row *row;

	(void)state;
	assert_true(tg_tpf_nevents > 100);
	for (size_t i = 0; i < tg_tpf_nevents; i++) {
		e = &tg_tpf_events[i];
		assert_string_not_equal(e->category, "syscalls");
		assert_true(e->first + e->nrows <= tg_tpf_nrows);
		if (i) {
			const struct tg_tpf_event *p = &tg_tpf_events[i - 1];
			int c = strcmp(p->category, e->category);

			if (c > 0 || (c == 0 && strcmp(p->name, e->name) >= 0))
				fail_msg("table not sorted at %s:%s", e->category, e->name);
		}
		assert_ptr_equal(tg_tpf_table_find(e->category, e->name), e);
	}
	for (size_t i = 0; i < tg_tpf_nrows; i++)
		assert_true(tg_tpf_rows[i].classes == TG_TPF_CURRENT ||
			    (tg_tpf_rows[i].classes && !(tg_tpf_rows[i].classes & TG_TPF_CURRENT)));
	e = tg_tpf_table_find("sched", "sched_switch");
	assert_non_null(e);
	row = tg_tpf_table_row(e, "next_comm");
	assert_non_null(row);
	assert_int_equal(row->classes, TG_TPF_OTHER_TASK);
	assert_int_equal(tg_tpf_table_row(e, "prev_comm")->classes, TG_TPF_CURRENT);
	assert_null(tg_tpf_table_row(e, "prev_state"));
	e = tg_tpf_table_find("sched", "sched_wakeup");
	assert_non_null(e);
	assert_int_equal(tg_tpf_table_row(e, "pid")->classes, TG_TPF_OTHER_TASK);
	assert_int_equal(tg_tpf_table_row(e, "comm")->classes, TG_TPF_OTHER_TASK);
	assert_null(tg_tpf_table_find("sched", "sched_nonesuch"));
	assert_null(tg_tpf_table_find("syscalls", "sys_enter_openat"));
	assert_non_null(tg_tpf_table_kernel[0] ? tg_tpf_table_kernel : NULL);
}

/* ---- the policy rule -------------------------------------------------------------------- */

static struct tg_policy_set *preset(const char *name)
{
	struct tg_policy_set *set = NULL;
	char *err = NULL;

	if (tg_policy_set_load_builtin(name, &set, &err) < 0)
		fail_msg("preset %s: %s", name, err);
	return set;
}

static struct tg_policy_set *custom(const char *tpfields)
{
	struct tg_policy_set *set = NULL;
	char *err = NULL, *y = NULL;

	assert_true(asprintf(&y, HEAD "metadata:\n  name: custom\nspec:\n"
			     "  subjects: {groups: [\"system:authenticated\"]}\n"
			     "  scope: pod\n"
			     "  probes: {allow: [\"*\"]}\n"
			     "  builtins: {allow: [\"*\"]}\n"
			     "  functions: {allow: [\"*\"]}\n%s", tpfields) > 0);
	if (tg_policy_set_load_buffer("custom.yaml", y, strlen(y), &set, &err) < 0)
		fail_msg("custom: %s", err);
	free(y);
	return set;
}

static bool decide(const struct tg_policy_set *set, const char *src, struct tg_decision *d)
{
	struct lang_program *p = NULL;
	struct lang_diag diag;
	struct tg_requester who = { .user = "alice", .groups = authn, .namespace = "team-a" };

	if (lang_program_parse(src, strlen(src), &p, &diag) < 0)
		fail_msg("%s: %s", src, diag.msg);
	assert_int_equal(tg_policy_evaluate(set, &who, p, "pod", d), 0);
	lang_program_free(p);
	return d->allowed;
}

static bool allowed(const struct tg_policy_set *set, const char *src)
{
	struct tg_decision d;
	bool ok = decide(set, src, &d);

	if (!ok) {
		char *one = NULL;

		tg_decision_explain(&d, &one, NULL);
		print_message("# denied: %s\n", one);
		free(one);
	}
	tg_decision_release(&d);
	return ok;
}

/* Denied, with this one (first) denial. */
static void refused(const struct tg_policy_set *set, const char *src, const char *rule, const char *policy,
		    const char *construct, int line, int col, const char *msg_part)
{
	struct tg_decision d;
	json_t *v;

	if (decide(set, src, &d))
		fail_msg("allowed: %s", src);
	v = json_array_get(d.denials, 0);
	assert_non_null(v);
	if (strcmp(jstr(v, "rule"), rule) || strcmp(jstr(v, "policy"), policy) || strcmp(jstr(v, "construct"), construct) ||
	    json_integer_value(json_object_get(v, "line")) != line ||
	    json_integer_value(json_object_get(v, "column")) != col ||
	    !strstr(jstr(v, "message"), msg_part)) {
		char *s = json_dumps(v, 0);

		fail_msg("%s\n got  %s\n want rule %s policy %s construct %s at %d:%d message with \"%s\"", src, s, rule,
			 policy, construct, line, col, msg_part);
	}
	tg_decision_release(&d);
}

static void test_rule_sched_switch(void **state)
{
	struct tg_policy_set *r = preset("restricted"), *b = preset("baseline"), *p = preset("privileged");
	const char *next = "tracepoint:sched:sched_switch {\n  printf(\"%s %d\\n\", args->next_comm, args->next_pid);\n}";
	struct tg_decision d;
	char *one = NULL;

	(void)state;
	refused(r, next, "tracepointFields.otherTasks", "restricted", "args->next_comm", 2, 21,
		"field \"next_comm\" of tracepoint \"sched:sched_switch\" describes a task other than the current one "
		"(rule otherTasks.comm), and tracepointFields.otherTasks is false");
	/* every use is named, each with its own place */
	assert_false(decide(r, next, &d));
	assert_int_equal(json_array_size(d.denials), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d.denials, 1), "construct")),
			    "args->next_pid");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(d.denials, 1), "column")), 38);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(d.denials, 1), "message")),
			       "(rule otherTasks.pid)"));
	assert_int_equal(tg_decision_explain(&d, &one, NULL), 0);
	assert_non_null(strstr(one, "2:21: field \"next_comm\""));
	assert_non_null(strstr(one, "[policy \"restricted\", rule tracepointFields.otherTasks]"));
	free(one);
	tg_decision_release(&d);
	refused(r, "tracepoint:sched:sched_switch { @[args->next_prio] = count() }", "tracepointFields.otherTasks",
		"restricted", "args->next_prio", 1, 35, "(rule otherTasks.prio)");
	/* the predicate counts too */
	refused(r, "tracepoint:sched:sched_switch /args->next_pid == 1/ { }", "tracepointFields.otherTasks",
		"restricted", "args->next_pid", 1, 32, "next_pid");
	/* prev_* is the task switched from: current */
	assert_true(allowed(r, "tracepoint:sched:sched_switch { printf(\"%s %d %d\\n\", args->prev_comm, args->prev_pid, "
			       "args->prev_prio); @[args->prev_state] = count(); }"));
	refused(b, next, "tracepointFields.otherTasks", "baseline", "args->next_comm", 2, 21, "next_comm");
	assert_true(allowed(p, next));
	tg_policy_set_free(r);
	tg_policy_set_free(b);
	tg_policy_set_free(p);
}

static void test_rule_sched_wakeup(void **state)
{
	struct tg_policy_set *r = preset("restricted"), *p = preset("privileged");

	(void)state;
	refused(r, "tracepoint:sched:sched_wakeup { @[args->pid] = count() }", "tracepointFields.otherTasks",
		"restricted", "args->pid", 1, 35,
		"field \"pid\" of tracepoint \"sched:sched_wakeup\" describes a task other than the current one (rule "
		"otherTasks.pid)");
	refused(r, "tracepoint:sched:sched_wakeup { printf(\"%s\\n\", args->comm) }", "tracepointFields.otherTasks",
		"restricted", "args->comm", 1, 48, "(rule otherTasks.comm)");
	refused(r, "tracepoint:sched:sched_waking { @ = args->prio }", "tracepointFields.otherTasks", "restricted",
		"args->prio", 1, 37, "sched:sched_waking");
	refused(r, "t:sched:sched_wakeup_new { @ = args->pid }", "tracepointFields.otherTasks", "restricted",
		"args->pid", 1, 32, "sched:sched_wakeup_new");
	assert_true(allowed(r, "tracepoint:sched:sched_wakeup { @[args->target_cpu] = count() }"));
	/* the same name in a syscall is the caller's own argument */
	assert_true(allowed(r, "tracepoint:syscalls:sys_enter_kill { @[args->pid] = count() }"));
	/* kept by the exceptions, with the kernel line that proves it */
	assert_true(allowed(r, "tracepoint:sched:sched_process_exec { @[args->pid, args->old_pid] = count() }"));
	assert_true(allowed(r, "tracepoint:sched:sched_process_fork { @[args->parent_pid] = count() }"));
	refused(r, "tracepoint:sched:sched_process_fork { @[args->child_pid] = count() }", "tracepointFields.otherTasks",
		"restricted", "args->child_pid", 1, 41, "child_pid");
	assert_true(allowed(p, "tracepoint:sched:sched_wakeup { @[args->comm, args->pid] = count() }"));
	tg_policy_set_free(r);
	tg_policy_set_free(p);
}

static void test_rule_args_whole(void **state)
{
	struct tg_policy_set *r = preset("restricted"), *p = preset("privileged");

	(void)state;
	refused(r, "tracepoint:sched:sched_switch { print(args) }", "tracepointFields.otherTasks", "restricted", "args",
		1, 39, "\"args\" uses every field: field \"next_comm\" of tracepoint \"sched:sched_switch\"");
	refused(r, "tracepoint:sched:sched_wakeup { @[args] = count() }", "tracepointFields.otherTasks", "restricted",
		"args", 1, 35, "field \"comm\"");
	refused(r, "tracepoint:sched:sched_switch { $a = args; print($a) }", "tracepointFields.otherTasks",
		"restricted", "args", 1, 38, "uses every field");
	/* an event whose classified fields are all current's */
	assert_true(allowed(r, "tracepoint:sched:sched_process_exec { print(args) }"));
	assert_true(allowed(r, "tracepoint:syscalls:sys_enter_openat { print(args) }"));
	assert_true(allowed(p, "tracepoint:sched:sched_switch { print(args) }"));
	tg_policy_set_free(r);
	tg_policy_set_free(p);
}

static void test_rule_wildcards(void **state)
{
	struct tg_policy_set *r = preset("restricted"), *p = preset("privileged");

	(void)state;
	/* a field some matching event classifies */
	refused(r, "tracepoint:sched:* { @[args->next_comm] = count() }", "tracepointFields.otherTasks", "restricted",
		"args->next_comm", 1, 24,
		"field \"next_comm\" of tracepoint \"sched:sched_switch\" (which \"tracepoint:sched:*\" matches)");
	refused(r, "tracepoint:sched:sched_wak* { @[args->pid] = count() }", "tracepointFields.otherTasks", "restricted",
		"args->pid", 1, 33, "sched:sched_wakeup\"");
	/* kept in every event the table knows, but the node may have more:
	 * a name that looks classified is refused under a wildcard */
	refused(r, "tracepoint:sched:sched_process_ex* { @[args->pid] = count() }", "tracepointFields.otherTasks",
		"restricted", "args->pid", 1, 40, "may describe");
	refused(r, "tracepoint:sched:sched_switc* { @[args->prev_comm] = count() }", "tracepointFields.otherTasks",
		"restricted", "args->prev_comm", 1, 35, "a node may have some this gateway's table does not know");
	/* a glob over the whole category */
	refused(r, "tracepoint:sched:* { @[args->next_comm] = count() }", "tracepointFields.otherTasks", "restricted",
		"args->next_comm", 1, 24, "next_comm");
	refused(r, "tracepoint:sched:* { print(args) }", "tracepointFields.otherTasks", "restricted", "args", 1, 28,
		"\"args\" uses every field");
	assert_true(allowed(r, "tracepoint:sched:* { @[args->target_cpu] = count() }"));
	assert_true(allowed(r, "tracepoint:syscalls:sys_enter_* { @[args->pid] = count() }"));
	assert_true(allowed(p, "tracepoint:sched:* { @[args->next_comm] = count(); print(args) }"));
	/* an event the table does not know: judged by its field names */
	{
		struct tg_policy_set *c = custom("");

		refused(c, "tracepoint:foo:bar { @[args->victim_pid] = count() }", "tracepointFields.otherTasks", "custom",
			"args->victim_pid", 1, 24, "of tracepoint \"foo:bar\"");
		assert_true(allowed(c, "tracepoint:foo:bar { @[args->size] = count() }"));
		refused(c, "tracepoint:foo:bar { print(args) }", "tracepointFields.otherTasks", "custom", "args", 1, 28,
			"this gateway's table does not know it");
		tg_policy_set_free(c);
	}
	/* kernel addresses */
	{
		struct tg_policy_set *c = custom(""), *k = custom("  tracepointFields: {kernelAddresses: true}\n");

		refused(c, "tracepoint:timer:timer_start { @[args->function] = count() }",
			"tracepointFields.kernelAddresses", "custom", "args->function", 1, 34,
			"holds a kernel address (rule kernelAddresses.pointer)");
		refused(c, "tracepoint:kmem:kmalloc { @[args->call_site] = count() }", "tracepointFields.kernelAddresses",
			"custom", "args->call_site", 1, 29, "(rule kernelAddresses.printed)");
		assert_true(allowed(c, "tracepoint:timer:timer_start { @[args->expires] = count() }"));
		/* an event the table knows is judged by its rows: kvm_cpuid's
		 * 4-byte "function" is a cpuid leaf, not an address */
		assert_true(allowed(c, "tracepoint:kvm:kvm_cpuid { @[args->function] = count() }"));
		/* and a field its kernel did not have is left to the runner,
		 * which has the node's real format */
		assert_true(allowed(c, "tracepoint:sched:sched_switch { @[args->next_new_pid] = count() }"));
		assert_true(allowed(k, "tracepoint:timer:timer_start { @[args->function] = count() }"));
		refused(k, "tracepoint:sched:sched_switch { @[args->next_pid] = count() }", "tracepointFields.otherTasks",
			"custom", "args->next_pid", 1, 35, "next_pid");
		tg_policy_set_free(c);
		tg_policy_set_free(k);
	}
	tg_policy_set_free(r);
	tg_policy_set_free(p);
}

static void test_rule_globs(void **state)
{
	struct tg_policy_set *c = custom("  tracepointFields:\n"
					 "    otherTasks: false\n"
					 "    allow: [\"sched:sched_switch:next_comm\", \"sched:*:child_*\"]\n"
					 "    deny: [\"sched:*:target_cpu\", \"sched:sched_switch:prev_state\"]\n");
	struct tg_decision d;

	(void)state;
	assert_true(allowed(c, "tracepoint:sched:sched_switch { @[args->next_comm] = count() }"));
	refused(c, "tracepoint:sched:sched_switch { @[args->next_pid] = count() }", "tracepointFields.otherTasks",
		"custom", "args->next_pid", 1, 35, "next_pid");
	/* an allow glob covers a wildcard only when it covers all it stands for */
	assert_true(allowed(c, "tracepoint:sched:sched_process_f* { @[args->child_pid] = count() }"));
	refused(c, "tracepoint:sched:sched_s* { @[args->next_comm] = count() }", "tracepointFields.otherTasks", "custom",
		"args->next_comm", 1, 31, "next_comm");
	/* deny refuses whatever the class */
	refused(c, "tracepoint:sched:sched_wakeup { @[args->target_cpu] = count() }", "tracepointFields.deny",
		"custom", "args->target_cpu", 1, 35,
		"field \"target_cpu\" of tracepoint \"sched:sched_wakeup\" matches tracepointFields.deny \"sched:*:target_cpu\"");
	refused(c, "tracepoint:sched:sched_switch { @[args->prev_state] = count() }", "tracepointFields.deny", "custom",
		"args->prev_state", 1, 35, "prev_state");
	/* ... and a deny glob that might match some tracepoint of a wildcard */
	refused(c, "tracepoint:sch*:* { @[args->target_cpu] = count() }", "tracepointFields.deny", "custom",
		"args->target_cpu", 1, 23, "tracepointFields.deny");
	/* args whole: the first field refused, a deny glob's included */
	refused(c, "tracepoint:sched:sched_switch { print(args) }", "tracepointFields.otherTasks", "custom", "args", 1,
		39, "field \"next_pid\"");
	/* the table lists classified fields only: a deny glob that may name
	 * some field of the event refuses args whole */
	refused(c, "tracepoint:sched:sched_process_exec { print(args) }", "tracepointFields.deny", "custom", "args", 1,
		45, "tracepointFields.deny \"sched:*:target_cpu\" may name one of the fields");
	{
		struct tg_policy_set *o = custom("  tracepointFields:\n"
						 "    otherTasks: true\n"
						 "    deny: [\"sched:sched_switch:prev_state\"]\n");

		assert_true(allowed(o, "tracepoint:sched:sched_switch { @[args->next_pid] = count() }"));
		refused(o, "tracepoint:sched:sched_switch { print(args) }", "tracepointFields.deny", "custom", "args", 1,
			39, "tracepointFields.deny \"sched:sched_switch:prev_state\" may name one of the fields");
		tg_policy_set_free(o);
	}
	/* the decision carries the rules for the runner */
	assert_true(decide(c, "tracepoint:sched:sched_switch { @[args->next_comm] = count() }", &d));
	assert_non_null(d.tracepoint_fields);
	{
		char *s = json_dumps(d.tracepoint_fields, JSON_SORT_KEYS | JSON_COMPACT);

		assert_string_equal(s, "{\"allow\":[\"sched:sched_switch:next_comm\",\"sched:*:child_*\"],"
				       "\"deny\":[\"sched:*:target_cpu\",\"sched:sched_switch:prev_state\"],"
				       "\"kernelAddresses\":false,\"otherTasks\":false,\"policy\":\"custom\"}");
		free(s);
	}
	tg_decision_release(&d);
	assert_false(decide(c, "tracepoint:sched:sched_switch { @[args->next_pid] = count() }", &d));
	assert_null(d.tracepoint_fields);
	tg_decision_release(&d);
	tg_policy_set_free(c);
}

/* A program made to make the check slow is refused, quickly. */
static void test_rule_work_limit(void **state)
{
	struct tg_policy_set *r = preset("restricted");
	struct tg_decision d;
	size_t n = 4000, len = 64 + n * 24;
	char *src = malloc(len);
	size_t o;
	struct timespec t0, t1;
	json_t *v;
	size_t i;
	bool found = false;

	(void)state;
	assert_non_null(src);
	o = (size_t)snprintf(src, len, "tracepoint:*:* {");
	for (size_t k = 0; k < n; k++)
		o += (size_t)snprintf(src + o, len - o, " @a%zu = args->f%zu;", k, k);
	snprintf(src + o, len - o, " }");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(decide(r, src, &d));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	json_array_foreach(d.denials, i, v)
		if (!strcmp(jstr(v, "rule"), "tracepointFields") && strstr(jstr(v, "message"), "TG_TPF_MAX_WORK"))
			found = true;
	assert_true(found);
	/* well under a second even under sanitizers */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
	tg_decision_release(&d);
	free(src);
	tg_policy_set_free(r);
}

static void load_error(const char *tpfields, const char *want)
{
	struct tg_policy_set *set = NULL;
	char *err = NULL, *y = NULL;

	assert_true(asprintf(&y, HEAD "metadata:\n  name: p\nspec:\n  subjects: {groups: [g]}\n  scope: pod\n%s",
			     tpfields) > 0);
	if (tg_policy_set_load_buffer("p.yaml", y, strlen(y), &set, &err) >= 0)
		fail_msg("loaded: %s", tpfields);
	if (!err || strcmp(err, want))
		fail_msg("error \"%s\"\n want  \"%s\"", err ? err : "(none)", want);
	free(err);
	free(y);
}

static void test_policy_load(void **state)
{
	(void)state;
	load_error("  tracepointFields: {allow: [\"sched:next_comm\"]}\n",
		   "p.yaml:8:30: spec.tracepointFields.allow[0]: \"sched:next_comm\" is not \"category:event:field\" "
		   "(three parts, each a name or a glob)");
	load_error("  tracepointFields: {deny: [\"sched::pid\"]}\n",
		   "p.yaml:8:29: spec.tracepointFields.deny[0]: \"sched::pid\" has an empty part (write \"*\" for any)");
	load_error("  tracepointFields: {otherTasks: maybe}\n",
		   "p.yaml:8:34: spec.tracepointFields.otherTasks: expected true or false, found \"maybe\"");
	load_error("  tracepointFields: {otherTask: true}\n",
		   "p.yaml:8:22: spec.tracepointFields: unknown field \"otherTask\"");
	load_error("  tracepointFields: [x]\n", "p.yaml:8:21: spec.tracepointFields: expected a mapping, found a list");
}

/* ---- the rules as the runner takes them --------------------------------------------------- */

static void test_rules_json(void **state)
{
	struct tg_tpf_rules r = { 0 }, back = { 0 };
	char *err = NULL;
	json_t *j;
	static const char *const bad[][2] = {
		{ "[]", "tracepointFields: not an object" },
		{ "{\"otherTasks\": 1}", "tracepointFields.otherTasks: not true or false" },
		{ "{\"otherTask\": true}", "tracepointFields: unknown member \"otherTask\"" },
		{ "{\"allow\": \"a:b:c\"}", "tracepointFields.allow: not an array of at most 1024 strings" },
		{ "{\"deny\": [\"a:b\"]}", "tracepointFields.deny[0]: is not \"category:event:field\" (three parts, each a name or a glob)" },
		{ "{\"deny\": [1]}", "tracepointFields.deny[0]: not a string without NUL" },
		{ "{\"policy\": 3}", "tracepointFields.policy: not a name" },
	};

	(void)state;
	j = json_loads("{\"policy\":\"restricted\",\"otherTasks\":true,\"kernelAddresses\":false,"
		       "\"allow\":[\"a:b:c\"],\"deny\":[\"x:*:z\"]}", 0, NULL);
	assert_int_equal(tg_tpf_rules_from_json(j, &r, &err), 0);
	json_decref(j);
	assert_true(r.other_tasks);
	assert_false(r.kernel_addresses);
	assert_int_equal(r.nallow, 1);
	assert_string_equal(r.deny[0], "x:*:z");
	assert_string_equal(r.policy, "restricted");
	assert_false(tg_tpf_rules_open(&r));
	assert_int_equal(tg_tpf_rules_copy(&r, "other", &back), 0);
	assert_string_equal(back.policy, "other");
	assert_string_equal(back.allow[0], "a:b:c");
	j = tg_tpf_rules_to_json(&back);
	assert_non_null(j);
	tg_tpf_rules_release(&back);
	assert_int_equal(tg_tpf_rules_from_json(j, &back, &err), 0);
	json_decref(j);
	assert_string_equal(back.policy, "other");
	assert_int_equal(back.ndeny, 1);
	tg_tpf_rules_release(&back);
	tg_tpf_rules_release(&r);
	/* left out, the switches are false */
	j = json_object();
	assert_int_equal(tg_tpf_rules_from_json(j, &r, &err), 0);
	json_decref(j);
	assert_false(r.other_tasks || r.kernel_addresses);
	tg_tpf_rules_release(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i][0], JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		assert_int_equal(tg_tpf_rules_from_json(j, &r, &err), -EINVAL);
		if (!err || strcmp(err, bad[i][1]))
			fail_msg("%s: \"%s\", want \"%s\"", bad[i][0], err ? err : "", bad[i][1]);
		free(err);
		err = NULL;
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_sched),
		cmocka_unit_test(test_classify_addresses),
		cmocka_unit_test(test_classify_name),
		cmocka_unit_test(test_print_fmt),
		cmocka_unit_test(test_format_digest),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_rule_sched_switch),
		cmocka_unit_test(test_rule_sched_wakeup),
		cmocka_unit_test(test_rule_args_whole),
		cmocka_unit_test(test_rule_wildcards),
		cmocka_unit_test(test_rule_globs),
		cmocka_unit_test(test_rule_work_limit),
		cmocka_unit_test(test_policy_load),
		cmocka_unit_test(test_rules_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
