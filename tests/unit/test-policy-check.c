// SPDX-License-Identifier: Apache-2.0
/*
 * TracePolicy: every field taking effect, the presets, denials naming line,
 * column, rule and the policies tried, and YAML errors with file:line:column.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "lib/errors.h"
#include "lib/util.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "tests/unit/unscoped-cases.h"

static const char *const authn[] = { "system:authenticated", NULL };
static const char *const admins[] = { "system:authenticated", "system:masters", NULL };

#define HEAD "apiVersion: tracegate.dev/v1alpha1\nkind: TracePolicy\n"

/* A policy text with the parts that vary. */
static char *doc(const char *name, const char *spec)
{
	char *s = NULL;

	assert_true(asprintf(&s, HEAD "metadata:\n  name: %s\nspec:\n%s", name, spec) > 0);
	return s;
}

static struct tg_policy_set *load(const char *yaml)
{
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	int r = tg_policy_set_load_buffer("test.yaml", yaml, strlen(yaml), &set, &err);

	if (r < 0)
		fail_msg("load: %s (%d)", err ? err : "?", r);
	return set;
}

static int load_errors_bad;

static void load_error(const char *yaml, const char *want)
{
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	int r = tg_policy_set_load_buffer("p.yaml", yaml, strlen(yaml), &set, &err);

	if (r >= 0)
		fail_msg("loaded, want error \"%s\"", want);
	assert_null(set);
	if (!err || strcmp(err, want) != 0) {
		print_error("error \"%s\"\n want  \"%s\"\n", err ? err : "(none)", want);
		load_errors_bad++;
	}
	free(err);
}

static struct lang_program *parse(const char *src)
{
	struct lang_program *p = NULL;
	struct lang_diag d;

	if (lang_program_parse(src, strlen(src), &p, &d) < 0)
		fail_msg("%s: %s", src, d.msg);
	return p;
}

static bool decide(const struct tg_policy_set *set, const char *user, const char *const *groups, const char *ns,
		   const char *scope, const char *src, struct tg_decision *d)
{
	struct lang_program *p = parse(src);
	struct tg_requester who = { .user = user, .groups = groups, .namespace = ns };

	assert_int_equal(tg_policy_evaluate(set, &who, p, scope, d), 0);
	lang_program_free(p);
	return d->allowed;
}

/* Allowed?  Releases the decision. */
static bool allowed(const struct tg_policy_set *set, const char *user, const char *const *groups, const char *ns,
		    const char *scope, const char *src)
{
	struct tg_decision d;
	bool ok = decide(set, user, groups, ns, scope, src, &d);

	tg_decision_release(&d);
	return ok;
}

/* The denial with this rule, or fail. */
static json_t *denial(const struct tg_decision *d, const char *rule, size_t nth)
{
	size_t i;
	json_t *v;

	json_array_foreach(d->denials, i, v) {
		if (!strcmp(json_string_value(json_object_get(v, "rule")), rule) && nth-- == 0)
			return v;
	}
	fail_msg("no denial with rule %s", rule);
	return NULL;
}

static void check_denial(const struct tg_decision *d, const char *rule, const char *policy, const char *construct,
			 int line, int col, const char *msg)
{
	json_t *v = denial(d, rule, 0);

	if (policy)
		assert_string_equal(json_string_value(json_object_get(v, "policy")), policy);
	else
		assert_true(json_is_null(json_object_get(v, "policy")));
	assert_string_equal(json_string_value(json_object_get(v, "construct")), construct);
	assert_int_equal(json_integer_value(json_object_get(v, "line")), line);
	assert_int_equal(json_integer_value(json_object_get(v, "column")), col);
	if (msg && strcmp(json_string_value(json_object_get(v, "message")), msg) != 0)
		fail_msg("message \"%s\"\n want   \"%s\"", json_string_value(json_object_get(v, "message")), msg);
}

#define OPEN_SPEC                                                                            \
	"  subjects: {groups: [\"system:authenticated\"]}\n"                                  \
	"  scope: pod\n"                                                                     \
	"  probes: {allow: [\"*\"]}\n"                                                       \
	"  builtins: {allow: [\"*\"]}\n"                                                     \
	"  functions: {allow: [\"*\"]}\n"

/* ---- presets --------------------------------------------------------------- */

static void test_presets_embedded_match_files(void **state)
{
	static const char *const names[] = { "restricted", "baseline", "privileged" };

	for (size_t i = 0; i < 3; i++) {
		char path[128], *text = NULL;
		size_t len;
		const char *emb = tg_policy_preset_text(names[i]);

		snprintf(path, sizeof(path), "policy/presets/%s.yaml", names[i]);
		if (read_file(path, 1 << 20, &text, &len) < 0)
			fail_msg("cannot read %s (run from the top of the tree)", path);
		assert_non_null(emb);
		if (strlen(emb) != len || memcmp(emb, text, len) != 0)
			fail_msg("policy/presets.c differs from %s: run policy/presets/generate.py", path);
		free(text);
	}
	assert_null(tg_policy_preset_text("nope"));
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	assert_int_equal(tg_policy_set_load_builtin("nope", &set, &err), -ENOENT);
	assert_string_equal(err, "preset \"nope\" is not known (restricted, baseline, privileged)");
	free(err);
}

static void test_restricted(void **state)
{
	struct tg_policy_set *set = NULL;
	struct tg_decision d;
	char *err = NULL;

	assert_int_equal(tg_policy_set_load_builtin("restricted", &set, &err), 0);
	assert_true(allowed(set, "alice", authn, "team-a", "pod",
			    "tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)); }"));
	assert_true(decide(set, "alice", authn, "team-a", "pod",
			   "tracepoint:sched:sched_switch { @[args->prev_comm] = count(); } interval:s:1 { print(@); clear(@); }"
			   " uprobe:/bin/bash:readline { @r = count() } usdt:/bin/x:p:n { } END { }",
			   &d));
	assert_string_equal(d.policy, "restricted");
	assert_int_equal(d.limits.max_duration_s, 300);
	assert_int_equal(d.limits.max_map_entries, 4096);
	assert_int_equal(d.limits.max_map_bytes, 1 << 20);
	assert_int_equal(d.limits.events_per_second, 1000);
	assert_int_equal(d.limits.max_traces_per_user, 2);
	assert_int_equal(d.limits.max_traces_per_namespace, 5);
	assert_true(d.limits.cpu_budget > 0.049 && d.limits.cpu_budget < 0.051);
	assert_int_equal(json_array_size(d.denials), 0);
	tg_decision_release(&d);

	/* under a pod scope a uprobe goes only at a function's entry */
	assert_false(decide(set, "alice", authn, "team-a", "pod",
			    "uprobe:/bin/bash:readline+1 { }\nuretprobe:/bin/bash:0x1234 { }", &d));
	check_denial(&d, "scope.uprobeEntry", "restricted", "uprobe:/bin/bash:readline+1", 1, 1, NULL);
	assert_int_equal(json_integer_value(json_object_get(denial(&d, "scope.uprobeEntry", 1), "line")), 2);
	tg_decision_release(&d);
	/* #include is refused under restricted, naming the line of each */
	assert_false(decide(set, "alice", authn, "team-a", "pod",
			    "#define X 1\n#include <linux/sched.h>\nBEGIN { exit(); }", &d));
	check_denial(&d, "includes", "restricted", "#include <linux/sched.h>", 2, 1,
		     "#include <linux/sched.h> is not allowed: spec.includes of the policy does not name it");
	tg_decision_release(&d);
	/* kprobes */
	assert_false(decide(set, "alice", authn, "team-a", "pod", "kprobe:vfs_read { }", &d));
	check_denial(&d, "probes.allow", "restricted", "kprobe:vfs_read", 1, 1,
		     "probe \"kprobe:vfs_read\" is not allowed by probes.allow");
	assert_int_equal(json_array_size(d.tried), 1);
	assert_string_equal(json_string_value(json_array_get(d.tried, 0)), "restricted");
	tg_decision_release(&d);
	/* kernel memory: ->, deref, casts, curtask, kstack */
	assert_false(decide(set, "alice", authn, "team-a", "pod",
			    "tracepoint:syscalls:sys_enter_nanosleep\n{\n  $x = args->rqtp->tv_sec; $y = *$x;\n"
			    "  $t = (struct task_struct *)0; @ = kstack; }",
			    &d));
	check_denial(&d, "kernelMemory", "restricted", "args->rqtp->tv_sec", 3, 8,
		     "\"args->rqtp->tv_sec\" dereferences kernel memory, and kernelMemory is false");
	json_t *v = denial(&d, "kernelMemory", 1);
	assert_string_equal(json_string_value(json_object_get(v, "construct")), "*$x");
	v = denial(&d, "kernelMemory", 2);
	assert_string_equal(json_string_value(json_object_get(v, "construct")), "(struct task_struct *)0");
	assert_int_equal(json_integer_value(json_object_get(v, "line")), 4);
	tg_decision_release(&d);
	assert_false(allowed(set, "alice", authn, "team-a", "pod", "tracepoint:sched:sched_switch { @ = curtask }"));
	/* system, signal, override */
	assert_false(decide(set, "alice", authn, "team-a", "pod", "BEGIN { system(\"id\") }", &d));
	check_denial(&d, "functions.deny", "restricted", "system", 1, 9,
		     "function \"system\" matches functions.deny \"system\"");
	tg_decision_release(&d);
	assert_false(allowed(set, "alice", authn, "team-a", "pod", "tracepoint:syscalls:sys_enter_kill { signal(9) }"));
	assert_false(allowed(set, "alice", authn, "team-a", "pod", "tracepoint:syscalls:sys_enter_kill { override(1) }"));
	/* node scope */
	assert_false(decide(set, "alice", authn, NULL, "node", "BEGIN { }", &d));
	check_denial(&d, "scope", "restricted", "node", 0, 0,
		     "scope \"node\" is not granted by policy \"restricted\" (it grants pod)");
	tg_decision_release(&d);
	/* user memory other than str() of a syscall argument */
	assert_false(decide(set, "alice", authn, "team-a", "pod", "uprobe:/bin/bash:readline { printf(\"%s\", str(arg0)) }",
			    &d));
	check_denial(&d, "userMemory", "restricted", "str(arg0)", 1, 42,
		     "\"str(arg0)\" reads user memory, and userMemory is syscallArgs (only str() of a syscall tracepoint's args->field)");
	tg_decision_release(&d);
	assert_false(allowed(set, "alice", authn, "team-a", "pod", "tracepoint:syscalls:sys_enter_execve { join(args->argv) }"));
	assert_false(allowed(set, "alice", authn, "team-a", "pod", "tracepoint:sched:sched_process_exec { str(args->filename) }"));
	/* no group: restricted does not apply */
	assert_false(allowed(set, "alice", NULL, "team-a", "pod", "BEGIN { }"));
	tg_policy_set_free(set);
}

static void test_privileged_and_baseline(void **state)
{
	struct tg_policy_set *set = NULL, *more = NULL;
	struct tg_decision d;
	char *err = NULL;
	static const char *const base[] = { "system:authenticated", "tracegate:baseline", NULL };

	assert_int_equal(tg_policy_set_load_builtin("restricted", &set, &err), 0);
	assert_int_equal(tg_policy_set_load_builtin("privileged", &more, &err), 0);
	assert_int_equal(tg_policy_set_merge(set, &more, &err), 0);
	assert_int_equal(tg_policy_set_load_builtin("baseline", &more, &err), 0);
	assert_int_equal(tg_policy_set_merge(set, &more, &err), 0);
	assert_int_equal(tg_policy_set_count(set), 3);
	assert_string_equal(tg_policy_set_name(set, 0), "baseline");

	assert_true(decide(set, "root", admins, NULL, "node",
			   "kprobe:vfs_read { @[kstack] = count(); $t = (struct task_struct *)curtask; print($t->pid); system(\"id\") }",
			   &d));
	assert_string_equal(d.policy, "privileged");
	assert_int_equal(d.limits.max_duration_s, 3600);
	tg_decision_release(&d);
	/* a node-scope trace may place a uprobe anywhere, as bpftrace */
	assert_true(allowed(set, "root", admins, NULL, "node", "uprobe:/bin/bash:readline+1 { }"));
	/* privileged names every header (spec.includes: ["*"]), baseline none */
	assert_true(allowed(set, "root", admins, NULL, "node", "#include <linux/sched.h>\nBEGIN { }"));
	assert_false(allowed(set, "bob", base, "team-a", "pod", "#include <linux/sched.h>\nBEGIN { }"));
	/* additive: a pod-scope request of an admin is allowed by the first policy that allows it */
	assert_true(decide(set, "root", admins, "team-a", "pod", "BEGIN { }", &d));
	assert_string_equal(d.policy, "privileged");
	assert_int_equal(json_array_size(d.tried), 2);
	tg_decision_release(&d);

	assert_true(decide(set, "bob", base, "team-a", "pod", "kprobe:vfs_read { @[comm] = count() } kretprobe:tcp_sendmsg { }",
			   &d));
	assert_string_equal(d.policy, "baseline");
	tg_decision_release(&d);
	assert_false(decide(set, "bob", base, "team-a", "pod", "kprobe:vfs_getxattr { }", &d));
	check_denial(&d, "probes.deny", "baseline", "kprobe:vfs_getxattr", 1, 1,
		     "probe \"kprobe:vfs_getxattr\" matches probes.deny \"kprobe:vfs_*xattr*\"");
	/* both tried, each with its reasons */
	assert_int_equal(json_array_size(d.tried), 2);
	check_denial(&d, "probes.allow", "restricted", "kprobe:vfs_getxattr", 1, 1, NULL);
	tg_decision_release(&d);
	assert_false(allowed(set, "bob", base, "team-a", "pod", "kprobe:commit_creds { }"));
	tg_policy_set_free(set);
}

/* ---- each field ------------------------------------------------------------------ */

static void test_subjects(void **state)
{
	char *y = doc("p", "  subjects:\n    users: [alice, \"dev-*\"]\n    groups: [ops]\n"
			   "    serviceAccounts: [\"ci/builder\", \"tools/*\"]\n    namespaces: [team-a, \"shared-*\"]\n"
			   "  scope: [pod]\n  probes: {allow: [BEGIN]}\n");
	struct tg_policy_set *set = load(y);
	static const char *const ops[] = { "ops", NULL };
	static const char *const other[] = { "other", NULL };

	assert_true(allowed(set, "alice", NULL, "team-a", "pod", "BEGIN {}"));
	assert_true(allowed(set, "dev-joe", NULL, "shared-x", "pod", "BEGIN {}"));
	assert_true(allowed(set, "carol", ops, "team-a", "pod", "BEGIN {}"));
	assert_false(allowed(set, "carol", other, "team-a", "pod", "BEGIN {}"));
	assert_true(allowed(set, "system:serviceaccount:ci:builder", NULL, "team-a", "pod", "BEGIN {}"));
	assert_true(allowed(set, "system:serviceaccount:tools:x", NULL, "team-a", "pod", "BEGIN {}"));
	assert_false(allowed(set, "system:serviceaccount:ci:other", NULL, "team-a", "pod", "BEGIN {}"));
	assert_false(allowed(set, "system:serviceaccount:ci:builder:x", NULL, "team-a", "pod", "BEGIN {}"));
	assert_false(allowed(set, "alice", NULL, "team-b", "pod", "BEGIN {}"));
	/* node scope has no namespace: only namespaces ["*"] (or none) covers it */
	assert_false(allowed(set, "alice", NULL, NULL, "node", "BEGIN {}"));
	tg_policy_set_free(set);
	free(y);

	y = doc("p", "  subjects: {users: [\"*\"]}\n  scope: [node]\n  probes: {allow: [BEGIN]}\n");
	set = load(y);
	assert_true(allowed(set, "anyone", NULL, NULL, "node", "BEGIN {}"));
	tg_policy_set_free(set);
	free(y);
}

static void test_scope(void **state)
{
	char *y = doc("p", "  subjects: {users: [a]}\n  scope: node\n  probes: {allow: [BEGIN]}\n");
	struct tg_policy_set *set = load(y);
	struct tg_decision d;

	assert_true(allowed(set, "a", NULL, NULL, "node", "BEGIN {}"));
	assert_false(decide(set, "a", NULL, "ns", "pod", "BEGIN {}", &d));
	check_denial(&d, "scope", "p", "pod", 0, 0, "scope \"pod\" is not granted by policy \"p\" (it grants node)");
	assert_true(json_is_null(json_object_get(denial(&d, "scope", 0), "line")));
	tg_decision_release(&d);
	tg_policy_set_free(set);
	free(y);
}

/* kubectl trace list: one probe name as a listing prints it, judged by
 * scope, probes.deny and probes.allow of the policies that apply */
static void test_probe_allowed(void **state)
{
	char *y1 = doc("r", "  subjects: {groups: [g]}\n  scope: [pod]\n"
			    "  probes: {allow: [\"tracepoint:sched:*\", \"software:*\"],"
			    " deny: [\"tracepoint:sched:sched_switch\"]}\n");
	char *y2 = doc("n", "  subjects: {groups: [g]}\n  scope: [node]\n  probes: {allow: [\"tracepoint:*:*\"]}\n");
	char *all = NULL;
	struct tg_policy_set *set;
	const char *groups[] = { "g", NULL };
	struct tg_requester who = { .user = "u", .groups = groups, .namespace = "ns" };
	struct tg_requester other = { .user = "v", .namespace = "ns" };
	bool ok = true;

	assert_true(asprintf(&all, "%s---\n%s", y1, y2) > 0);
	set = load(all);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:sched:sched_wakeup", &ok), 0);
	assert_true(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:sched:sched_switch", &ok), 0);
	assert_false(ok);   /* probes.deny */
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:irq:irq_handler_entry", &ok), 0);
	assert_false(ok);   /* only the node-scoped policy allows it */
	assert_int_equal(tg_policy_probe_allowed(set, &who, "node", "tracepoint:irq:irq_handler_entry", &ok), 0);
	assert_true(ok);
	/* bpftrace lists software events with a trailing ':' */
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "software:cpu-clock:", &ok), 0);
	assert_true(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &other, "pod", "tracepoint:sched:sched_wakeup", &ok), 0);
	assert_false(ok);   /* no policy applies */
	/* not a probe name: never allowed, never parsed as more than a name */
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:sched:x { system(\"id\") }", &ok), 0);
	assert_false(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:sched:x\nBEGIN", &ok), 0);
	assert_false(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "", &ok), 0);
	assert_false(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "pod", "tracepoint:sched", &ok), 0);
	assert_false(ok);
	assert_int_equal(tg_policy_probe_allowed(set, &who, "cluster", "tracepoint:sched:x", &ok), -EINVAL);
	assert_false(ok);
	tg_policy_set_free(set);
	free(all);
	free(y1);
	free(y2);
	(void)state;
}

static void test_probe_patterns(void **state)
{
	char *y = doc("p", "  subjects: {users: [a]}\n  scope: pod\n"
			   "  probes:\n    allow: [\"t:syscalls:sys_enter_*\", \"tracepoint:sched:sched_switch\", \"k:vfs_read\","
			   " \"uprobe:/app/*:*\", \"interval:*\", \"usdt:*\"]\n"
			   "    deny: [\"tracepoint:syscalls:sys_enter_kill\", \"uprobe:/app/secret:*\"]\n");
	struct tg_policy_set *set = load(y);
	struct tg_decision d;
	json_t *v;

	assert_true(allowed(set, "a", NULL, "n", "pod", "tracepoint:syscalls:sys_enter_openat {}"));
	assert_true(allowed(set, "a", NULL, "n", "pod", "t:syscalls:sys_enter_open* {}"));
	assert_true(allowed(set, "a", NULL, "n", "pod", "kprobe:vfs_read+16 {}"));
	assert_true(allowed(set, "a", NULL, "n", "pod", "uprobe:/app/bin:main, uprobe:/app/lib.so:f {}"));
	assert_true(allowed(set, "a", NULL, "n", "pod", "interval:ms:100 {} i:s:1 {}"));
	assert_true(allowed(set, "a", NULL, "n", "pod", "usdt:/x:y {} usdt:/x:p:y {}"));
	/* a wildcard that could reach beyond the pattern */
	assert_false(decide(set, "a", NULL, "n", "pod", "tracepoint:syscalls:* {}", &d));
	check_denial(&d, "probes.deny", "p", "tracepoint:syscalls:*", 1, 1, NULL);  /* may reach sys_enter_kill */
	tg_decision_release(&d);
	assert_false(decide(set, "a", NULL, "n", "pod", "tracepoint:syscalls:sys_exit_* {}", &d));
	check_denial(&d, "probes.allow", "p", "tracepoint:syscalls:sys_exit_*", 1, 1, NULL);
	tg_decision_release(&d);
	assert_false(allowed(set, "a", NULL, "n", "pod", "tracepoint:sched:sched_* {}"));
	assert_false(allowed(set, "a", NULL, "n", "pod", "tracepoint:*:sys_enter_openat {}"));
	assert_false(allowed(set, "a", NULL, "n", "pod", "kprobe:vfs_read* {}"));
	/* positional parameters are in place before the policy looks: $1 is a
	 * parse error without its value (tests/unit/test-lang-parser.c) */
	/* deny wins, and a wildcard that may overlap a deny is refused */
	assert_false(decide(set, "a", NULL, "n", "pod", "tracepoint:syscalls:sys_enter_kill {}", &d));
	check_denial(&d, "probes.deny", "p", "tracepoint:syscalls:sys_enter_kill", 1, 1,
		     "probe \"tracepoint:syscalls:sys_enter_kill\" matches probes.deny \"tracepoint:syscalls:sys_enter_kill\"");
	tg_decision_release(&d);
	assert_false(allowed(set, "a", NULL, "n", "pod", "tracepoint:syscalls:sys_enter_k* {}"));
	assert_false(allowed(set, "a", NULL, "n", "pod", "uprobe:/app/*:f {}"));
	assert_false(allowed(set, "a", NULL, "n", "pod", "uprobe:/app/secret:f {}"));
	/* every attach point of a probe is checked, each with its own position */
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN { }\nk:vfs_read,\n  k:vfs_write { }", &d));
	assert_int_equal(json_array_size(d.denials), 2);   /* BEGIN and kprobe:vfs_write */
	check_denial(&d, "probes.allow", "p", "BEGIN", 1, 1, NULL);
	v = denial(&d, "probes.allow", 1);
	assert_string_equal(json_string_value(json_object_get(v, "construct")), "kprobe:vfs_write");
	assert_int_equal(json_integer_value(json_object_get(v, "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "column")), 3);
	tg_decision_release(&d);
	tg_policy_set_free(set);
	free(y);
}

static void test_builtins_functions(void **state)
{
	char *y = doc("p", "  subjects: {users: [a]}\n  scope: pod\n  probes: {allow: [\"*\"]}\n"
			   "  builtins: {allow: [pid, \"arg*\"], deny: [arg5]}\n"
			   "  functions: {allow: [printf, \"s*\"], deny: [system]}\n");
	struct tg_policy_set *set = load(y);
	struct tg_decision d;

	assert_true(allowed(set, "a", NULL, "n", "pod", "uprobe:/bin/sh:f { printf(\"%d %d\", pid, arg0); $s = sum(1); }"));
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN {\n\tprintf(\"%s\", comm) }", &d));
	check_denial(&d, "builtins.allow", "p", "comm", 2, 15, "builtin \"comm\" is not allowed by builtins.allow");
	tg_decision_release(&d);
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN { arg5 }", &d));
	check_denial(&d, "builtins.deny", "p", "arg5", 1, 9, "builtin \"arg5\" matches builtins.deny \"arg5\"");
	tg_decision_release(&d);
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN { @ = count() }", &d));
	check_denial(&d, "functions.allow", "p", "count", 1, 13, "function \"count\" is not allowed by functions.allow");
	tg_decision_release(&d);
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN { system(\"x\") }", &d));
	check_denial(&d, "functions.deny", "p", "system", 1, 9, NULL);
	tg_decision_release(&d);
	/* predicates are checked too */
	assert_false(decide(set, "a", NULL, "n", "pod", "BEGIN /tid/ { }", &d));
	check_denial(&d, "builtins.allow", "p", "tid", 1, 8, NULL);
	tg_decision_release(&d);
	tg_policy_set_free(set);
	free(y);
}

static void test_memory(void **state)
{
	char *closed = doc("p", OPEN_SPEC "  kernelMemory: false\n  userMemory: none\n");
	char *sys = doc("p", OPEN_SPEC "  kernelMemory: false\n  userMemory: syscallArgs\n");
	char *open = doc("p", OPEN_SPEC "  kernelMemory: true\n  userMemory: all\n");
	struct tg_policy_set *c = load(closed), *s = load(sys), *o = load(open);
	static const char *const kernel_reads[] = {
		"kprobe:f { $p = (struct file *)arg0; }",
		"kprobe:f { @ = *arg0 }",
		"kprobe:f { @ = ((struct x *)arg0)->y }",
		"tracepoint:sched:sched_switch { @ = curtask }",
		"tracepoint:sched:sched_switch { @ = ctx }",
		"tracepoint:sched:sched_switch { @[kstack] = count() }",
		"tracepoint:sched:sched_switch { @[kstack(perf)] = count() }",
		"tracepoint:sched:sched_switch { @ = ksym(1) }",
		"tracepoint:sched:sched_switch { @ = kaddr(\"x\") }",
		"tracepoint:sched:sched_switch { @ = kptr(1) }",
		"tracepoint:irq:irq_handler_entry { @ = str(args->name) }",
		"tracepoint:sched:sched_switch { @ = args->prev->pid }",
		"tracepoint:sched:sched_switch { @ = args->x[1] }",
		"kprobe:f { @ = str(arg0) }",
		"kprobe:f { @ = buf(arg0, 4) }",
		"tracepoint:sched:sched_switch { @ = buf($1, 64) }",
		"kprobe:f { @ = sarg0 }",
		"kprobe:f { @ = reg(\"ip\") }",
		"profile:hz:99 { @ = reg(\"sp\") }",
		"kretprobe:f { @ = reg(\"ax\") }",
		"kprobe:f { @ = &$x }",
		"tracepoint:sched:sched_switch { @ = str(0xffff0000) }",
		/* registers of kernel code: a struct file *, a stack slot */
		"kprobe:f { @ = arg0 + retval }",
		"kprobe:vfs_read { printf(\"%llx\\n\", arg0) }",
		"kprobe:f { @[arg9] = count() }",
		"kretprobe:f { @ = retval }",
		"profile:hz:99 { @ = arg0 }",
	};
	static const char *const user_reads[] = {
		"uprobe:/bin/sh:f { @ = str(arg0) }",
		"uprobe:/bin/sh:f { @ = *arg0 }",
		"uprobe:/bin/sh:f { @[ustack] = count() }",
		"uprobe:/bin/sh:f { @ = uptr(arg0) }",
		"uprobe:/bin/sh:f { @ = usym(arg0) }",
		"tracepoint:syscalls:sys_enter_write { @ = buf(args->buf, 4) }",
		"tracepoint:syscalls:sys_enter_execve { join(args->argv) }",
		"tracepoint:syscalls:sys_enter_execve { @ = args->argv[0] }",
	};
	static const char *const no_reads[] = {
		"tracepoint:sched:sched_switch { @[args->prev_comm, args->prev_pid] = count() }",
		"kfunc:vfs_read { @ = args->count }",
		"BEGIN { @ = str(\"abc\"); @s = str($1); $t = (1, 2); @x = $t.0 } t:a:b { @c = str(comm) }",
		"BEGIN { @ = sizeof((*(struct x *)0).y) }",
		"uprobe:/bin/sh:f { @ = arg0 + arg9 } uretprobe:/bin/sh:f { @r = retval }",
		/* reg() as arg0..9: a register of the traced process is a value */
		"uprobe:/bin/sh:f { @ = reg(\"sp\") } usdt:/bin/sh:p { @i = reg(\"ip\") }",
		"kprobe:f { @[comm, func] = count() }",
		"BEGIN { @ = (uint8)1 }",
	};

	for (size_t i = 0; i < sizeof(kernel_reads) / sizeof(kernel_reads[0]); i++) {
		struct tg_decision d;

		if (decide(c, "a", authn, "n", "pod", kernel_reads[i], &d))
			fail_msg("allowed with kernelMemory false: %s", kernel_reads[i]);
		denial(&d, "kernelMemory", 0);
		tg_decision_release(&d);
		if (!allowed(o, "a", authn, "n", "pod", kernel_reads[i]))
			fail_msg("denied with kernelMemory true: %s", kernel_reads[i]);
	}
	for (size_t i = 0; i < sizeof(user_reads) / sizeof(user_reads[0]); i++) {
		struct tg_decision d;

		if (decide(s, "a", authn, "n", "pod", user_reads[i], &d))
			fail_msg("allowed with userMemory syscallArgs: %s", user_reads[i]);
		denial(&d, "userMemory", 0);
		tg_decision_release(&d);
		if (!allowed(o, "a", authn, "n", "pod", user_reads[i]))
			fail_msg("denied with userMemory all: %s", user_reads[i]);
	}
	for (size_t i = 0; i < sizeof(no_reads) / sizeof(no_reads[0]); i++)
		if (!allowed(c, "a", authn, "n", "pod", no_reads[i]))
			fail_msg("denied though it reads no memory: %s", no_reads[i]);
	/* str() of a syscall argument: syscallArgs yes, none no */
	const char *openat = "tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count() }";
	struct tg_decision d;

	assert_true(allowed(s, "a", authn, "n", "pod", openat));
	assert_false(decide(c, "a", authn, "n", "pod", openat, &d));
	check_denial(&d, "userMemory", "p", "str(args->filename)", 1, 42,
		     "\"str(args->filename)\" reads user memory (a syscall argument), and userMemory is none");
	tg_decision_release(&d);
	/* a probe with both user and kernel attach points reads both */
	assert_false(decide(s, "a", authn, "n", "pod", "uprobe:/bin/sh:f, kprobe:f { @ = *arg0 }", &d));
	denial(&d, "kernelMemory", 0);
	denial(&d, "userMemory", 0);
	tg_decision_release(&d);
	tg_policy_set_free(c);
	tg_policy_set_free(s);
	tg_policy_set_free(o);
	free(closed);
	free(sys);
	free(open);
}

/* ---- bodies that observe no event (policy/unscoped.h) ------------------------ */

static void test_unscoped(void **state)
{
	static const struct { const char *head, *probe; } heads[] = {
		{ "BEGIN { @ = ", "BEGIN" },
		{ "END { @ = ", "END" },
		{ "interval:ms:100 { @ = ", "interval:ms:100" },
		{ "i:s:1 { @ = ", "interval:s:1" },
	};
	char *y = doc("open", "  subjects: {groups: [\"system:authenticated\"]}\n  scope: [pod, node]\n"
			      "  probes: {allow: [\"*\"]}\n  builtins: {allow: [\"*\"]}\n  functions: {allow: [\"*\"]}\n"
			      "  kernelMemory: true\n  userMemory: all\n");
	struct tg_policy_set *set = load(y), *restricted = NULL;
	struct tg_decision d;
	char *err = NULL;
	json_t *v;

	(void)state;
	for (size_t i = 0; i < sizeof(unscoped_refused) / sizeof(unscoped_refused[0]); i++) {
		for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
			char *prog = NULL, *want = NULL;

			assert_true(asprintf(&prog, "%s%s }", heads[h].head, unscoped_refused[i].expr) > 0);
			/* under a pod scope: refused at the construct, whatever the policy */
			if (decide(set, "a", authn, "n", "pod", prog, &d))
				fail_msg("allowed under a pod scope: %s", prog);
			v = json_array_get(d.denials, 0);
			assert_string_equal(json_string_value(json_object_get(v, "rule")), "scope.unscopedProbe");
			assert_string_equal(json_string_value(json_object_get(v, "policy")), "open");
			if (strcmp(json_string_value(json_object_get(v, "construct")), unscoped_refused[i].construct))
				fail_msg("%s: construct \"%s\", want \"%s\"", prog,
					 json_string_value(json_object_get(v, "construct")), unscoped_refused[i].construct);
			assert_int_equal(json_integer_value(json_object_get(v, "line")), 1);
			assert_int_equal(json_integer_value(json_object_get(v, "column")), strlen(heads[h].head) + 1);
			assert_true(asprintf(&want, "\"%s\" in \"%s\" %s", unscoped_refused[i].construct, heads[h].probe,
					     unscoped_refused[i].why) > 0);
			if (!strstr(json_string_value(json_object_get(v, "message")), want))
				fail_msg("%s: message \"%s\" lacks \"%s\"", prog,
					 json_string_value(json_object_get(v, "message")), want);
			tg_decision_release(&d);
			/* node scope (BEGIN describes the node it runs on): allowed */
			if (!allowed(set, "a", authn, NULL, "node", prog))
				fail_msg("denied under node scope: %s", prog);
			free(prog);
			free(want);
		}
		/* in a probe of the pod's events: allowed (this policy opens all) */
		{
			char *prog = NULL;

			assert_true(asprintf(&prog, "tracepoint:syscalls:sys_enter_openat { @ = %s }",
					     unscoped_refused[i].expr) > 0);
			if (!allowed(set, "a", authn, "n", "pod", prog))
				fail_msg("denied in a scoped probe: %s", prog);
			free(prog);
		}
	}
	for (size_t i = 0; i < sizeof(unscoped_allowed) / sizeof(unscoped_allowed[0]); i++)
		if (!decide(set, "a", authn, "n", "pod", unscoped_allowed[i], &d)) {
			char *one = NULL;

			tg_decision_explain(&d, &one, NULL);
			fail_msg("denied under a pod scope: %s: %s", unscoped_allowed[i], one);
		} else {
			tg_decision_release(&d);
		}
	/* the whole sentence; every use, each at its line:column, the
	 * predicate too, and a probe with an event attach point as well */
	assert_false(decide(set, "a", authn, "n", "pod",
			    "BEGIN /pid != 0/ {\n  printf(\"%d %s\\n\", nsecs, comm);\n}\n"
			    "tracepoint:syscalls:sys_enter_openat, interval:ms:100 { @[uid] = count(); }",
			    &d));
	assert_int_equal(json_array_size(d.denials), 3);
	check_denial(&d, "scope.unscopedProbe", "open", "pid", 1, 8,
		     "builtin \"pid\" in \"BEGIN\" describes the runner, not the pod: under a pod scope BEGIN, END and "
		     "interval bodies run in the runner, not at an event of the pod");
	v = denial(&d, "scope.unscopedProbe", 1);
	assert_string_equal(json_string_value(json_object_get(v, "construct")), "comm");
	assert_int_equal(json_integer_value(json_object_get(v, "line")), 2);
	assert_int_equal(json_integer_value(json_object_get(v, "column")), 28);
	v = denial(&d, "scope.unscopedProbe", 2);
	assert_string_equal(json_string_value(json_object_get(v, "construct")), "uid");
	assert_int_equal(json_integer_value(json_object_get(v, "line")), 4);
	assert_int_equal(json_integer_value(json_object_get(v, "column")), 59);
	assert_non_null(strstr(json_string_value(json_object_get(v, "message")), "in \"interval:ms:100\""));
	tg_decision_release(&d);
	/* the shipped restricted policy allows pid and comm: only this rule
	 * refuses them in BEGIN, and explain() names it */
	assert_int_equal(tg_policy_set_load_builtin("restricted", &restricted, &err), 0);
	assert_false(decide(restricted, "alice", authn, "team-a", "pod", "BEGIN { printf(\"%d %s\\n\", pid, comm) }", &d));
	assert_int_equal(json_array_size(d.denials), 2);
	check_denial(&d, "scope.unscopedProbe", "restricted", "pid", 1, 27, NULL);
	{
		char *one = NULL;

		assert_int_equal(tg_decision_explain(&d, &one, NULL), 0);
		assert_non_null(strstr(one, "denied: 1:27: builtin \"pid\" in \"BEGIN\" describes the runner, not the pod"));
		assert_non_null(strstr(one, "[policy \"restricted\", rule scope.unscopedProbe] (and 1 more)"));
		free(one);
	}
	tg_decision_release(&d);
	assert_true(allowed(restricted, "alice", authn, "team-a", "pod",
			    "tracepoint:syscalls:sys_enter_openat { @[pid, comm] = count(); } interval:s:1 { print(@); clear(@); }"));
	tg_policy_set_free(restricted);
	tg_policy_set_free(set);
	free(y);
}

static void test_limits(void **state)
{
	char *y = doc("p", "  subjects: {users: [a]}\n  scope: pod\n  probes: {allow: [BEGIN]}\n"
			   "  limits:\n    maxDuration: 2h\n    maxMapEntries: 10\n    maxMapBytes: 64Ki\n"
			   "    eventsPerSecond: 7\n    maxConcurrentTraces: {perUser: 3, perNamespace: 4}\n    cpuBudget: 0.25\n"
			   "    maxOutputBytes: 300Ki\n");
	char *dflt = doc("q", "  subjects: {users: [a]}\n  scope: pod\n  probes: {allow: [BEGIN]}\n"
			      "  limits: {maxDuration: 90, maxMapBytes: 2M}\n");
	struct tg_policy_set *set = load(y), *set2 = load(dflt);
	struct tg_decision d;

	assert_true(decide(set, "a", NULL, "n", "pod", "BEGIN {}", &d));
	assert_int_equal(d.limits.max_duration_s, 7200);
	assert_int_equal(d.limits.max_map_entries, 10);
	assert_int_equal(d.limits.max_map_bytes, 65536);
	assert_int_equal(d.limits.events_per_second, 7);
	assert_int_equal(d.limits.max_traces_per_user, 3);
	assert_int_equal(d.limits.max_traces_per_namespace, 4);
	assert_true(d.limits.cpu_budget == 0.25);
	assert_int_equal(d.limits.max_output_bytes, 300 * 1024);
	tg_decision_release(&d);
	assert_true(decide(set2, "a", NULL, "n", "pod", "BEGIN {}", &d));
	assert_int_equal(d.limits.max_duration_s, 90);
	assert_int_equal(d.limits.max_map_bytes, 2000000);
	assert_int_equal(d.limits.max_map_entries, TG_POLICY_DEFAULT_MAP_ENTRIES);
	assert_int_equal(d.limits.events_per_second, TG_POLICY_DEFAULT_EVENTS_PER_S);
	assert_int_equal(d.limits.max_traces_per_user, TG_POLICY_DEFAULT_TRACES_PER_USER);
	assert_int_equal(d.limits.max_output_bytes, TG_POLICY_DEFAULT_OUTPUT_BYTES);
	tg_decision_release(&d);
	tg_policy_set_free(set);
	tg_policy_set_free(set2);
	free(y);
	free(dflt);
}

static void test_additive(void **state)
{
	char *a = doc("a-strict", "  subjects: {users: [u]}\n  scope: pod\n  probes: {allow: [BEGIN]}\n"
				  "  limits: {maxDuration: 10}\n");
	char *b = doc("b-wide", "  subjects: {users: [u]}\n  scope: pod\n  probes: {allow: [BEGIN, END]}\n"
				"  limits: {maxDuration: 20}\n");
	char *both = NULL;
	struct tg_policy_set *set;
	struct tg_decision d;
	char *one = NULL, *lng = NULL;

	assert_true(asprintf(&both, "%s---\n%s", a, b) > 0);
	set = load(both);
	assert_int_equal(tg_policy_set_count(set), 2);
	/* both allow: the first by name rules */
	assert_true(decide(set, "u", NULL, "n", "pod", "BEGIN {}", &d));
	assert_string_equal(d.policy, "a-strict");
	assert_int_equal(d.limits.max_duration_s, 10);
	tg_decision_release(&d);
	/* only the second allows */
	assert_true(decide(set, "u", NULL, "n", "pod", "END {}", &d));
	assert_string_equal(d.policy, "b-wide");
	assert_int_equal(d.limits.max_duration_s, 20);
	tg_decision_release(&d);
	/* neither: reasons from both, both tried, and the explanation says so */
	assert_false(decide(set, "u", NULL, "n", "pod", "BEGIN {}\ni:s:1 { }", &d));
	assert_int_equal(json_array_size(d.tried), 2);
	assert_int_equal(json_array_size(d.denials), 2);
	assert_int_equal(tg_decision_explain(&d, &one, &lng), 0);
	assert_string_equal(one, "denied: 2:1: probe \"interval:s:1\" is not allowed by probes.allow [policy \"a-strict\", rule probes.allow]"
				 " (and 1 more); policies tried: \"a-strict\", \"b-wide\"");
	assert_string_equal(lng, "denied (2 reasons)\npolicies tried: \"a-strict\", \"b-wide\"\n"
				 "  2:1: probe \"interval:s:1\" is not allowed by probes.allow [policy \"a-strict\", rule probes.allow]\n"
				 "  2:1: probe \"interval:s:1\" is not allowed by probes.allow [policy \"b-wide\", rule probes.allow]\n");
	free(one);
	free(lng);
	json_t *j = tg_decision_to_json(&d);
	assert_false(json_is_true(json_object_get(j, "allowed")));
	assert_int_equal(json_array_size(json_object_get(j, "denials")), 2);
	json_decref(j);
	tg_decision_release(&d);
	/* nobody applies */
	assert_false(decide(set, "v", authn, "n", "pod", "BEGIN {}", &d));
	assert_int_equal(tg_decision_explain(&d, &one, NULL), 0);
	assert_string_equal(one, "denied: no TracePolicy applies to user \"v\" (groups \"system:authenticated\") in namespace \"n\"");
	free(one);
	tg_decision_release(&d);
	/* bad arguments decide nothing and deny */
	struct lang_program *p = parse("BEGIN {}");
	assert_int_equal(tg_policy_evaluate(set, &(struct tg_requester){ .user = "u" }, p, "cluster", &d), -EINVAL);
	assert_false(d.allowed);
	tg_decision_release(&d);
	assert_int_equal(tg_policy_evaluate(set, &(struct tg_requester){ .user = NULL }, p, "pod", &d), -EINVAL);
	tg_decision_release(&d);
	lang_program_free(p);
	tg_policy_set_free(set);
	free(a);
	free(b);
	free(both);
}

/* ---- YAML errors ------------------------------------------------------------------- */

static void test_yaml_errors(void **state)
{
	load_error("apiVersion: [", "p.yaml:2:1: YAML did not find expected node content while parsing a flow node");
	load_error("a: b\n c: d\n", "p.yaml:2:3: YAML mapping values are not allowed in this context");
	load_error("- 1\n", "p.yaml:1:1: expected a mapping, found a list");
	load_error("apiVersion: v1\nkind: TracePolicy\n", "p.yaml:1:13: apiVersion: \"v1\" is not \"tracegate.dev/v1alpha1\"");
	load_error("apiVersion: tracegate.dev/v1alpha1\nkind: Pod\n", "p.yaml:2:7: kind: \"Pod\" is not \"TracePolicy\"");
	load_error("kind: TracePolicy\n",
		   "p.yaml:1:1: document needs \"apiVersion: tracegate.dev/v1alpha1\" and \"kind: TracePolicy\"");
	load_error(HEAD "spec: {}\n", "p.yaml:3:7: spec: \"subjects\" is required");
	load_error(HEAD "metadata: {}\nspec: {}\n", "p.yaml:4:7: spec: \"subjects\" is required");
	load_error(HEAD "metadata: {name: x}\n", "p.yaml:1:1: spec is required");
	load_error(HEAD "metadata: {name: Bad_Name}\n", "p.yaml:3:18: metadata.name: \"Bad_Name\" is not a valid name (lower case letters, digits, \"-\" and \".\")");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  kernelMemroy: false\n",
		   "p.yaml:6:3: spec: unknown field \"kernelMemroy\"");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: cluster\n",
		   "p.yaml:6:10: spec.scope: scope \"cluster\" is not \"pod\" or \"node\"");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n",
		   "p.yaml:5:3: spec: \"scope\" is required");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {namespaces: [a]}\n",
		   "p.yaml:5:13: spec.subjects: names nobody: give users, groups or serviceAccounts");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: a}\n",
		   "p.yaml:5:21: spec.subjects.users: expected a list of strings, found a scalar");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [[a]]}\n",
		   "p.yaml:5:22: spec.subjects.users[0]: expected a string, found a list");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {serviceAccounts: [builder]}\n",
		   "p.yaml:5:32: spec.subjects.serviceAccounts[0]: \"builder\" is not \"namespace/name\"");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  probes: {allow: [\"kprob:f\"]}\n",
		   "p.yaml:7:20: spec.probes.allow[0]: probe type \"kprob\" in \"kprob:f\" is not valid (use a full type such as \"tracepoint\" or \"*\")");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  builtins: {deny: [curtsk]}\n",
		   "p.yaml:7:21: spec.builtins.deny[0]: \"curtsk\" is not a bpftrace builtin");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  functions: {allow: [sytem]}\n",
		   "p.yaml:7:23: spec.functions.allow[0]: \"sytem\" is not a bpftrace function");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  functions: {allow: [], allow: []}\n",
		   "p.yaml:7:26: spec.functions: field \"allow\" given twice");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  kernelMemory: maybe\n",
		   "p.yaml:7:17: spec.kernelMemory: expected true or false, found \"maybe\"");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  userMemory: some\n",
		   "p.yaml:7:15: spec.userMemory: \"some\" is not none, syscallArgs or all");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxDuration: 5x}\n",
		   "p.yaml:7:25: spec.limits.maxDuration: \"5x\" is not a duration (seconds, or a number with s, m or h)");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxDuration: 0}\n",
		   "p.yaml:7:25: spec.limits.maxDuration: 0 is out of range [1, 604800] seconds");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxMapBytes: 1Ti}\n",
		   "p.yaml:7:25: spec.limits.maxMapBytes: \"1Ti\" is not a size (bytes, or a number with Ki, Mi, Gi, K, M or G)");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxMapEntries: -1}\n",
		   "p.yaml:7:27: spec.limits.maxMapEntries: \"-1\" is not a whole number");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxOutputBytes: 0}\n",
		   "p.yaml:7:28: spec.limits.maxOutputBytes: 0 is out of range [1, 68719476736] bytes");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {cpuBudget: 0}\n",
		   "p.yaml:7:23: spec.limits.cpuBudget: \"0\" is not a fraction of a CPU in (0, 64]");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n  limits: {maxConcurrentTraces: {perPod: 1}}\n",
		   "p.yaml:7:34: spec.limits.maxConcurrentTraces: unknown field \"perPod\"");
	load_error(HEAD "metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n---\n" HEAD
			"metadata: {name: x}\nspec:\n  subjects: {users: [a]}\n  scope: pod\n",
		   "p.yaml:8:1: policy \"x\" is defined twice (first in p.yaml:1:1)");

	assert_int_equal(load_errors_bad, 0);

	/* limits on the document itself */
	char *big = calloc(1, TG_POLICY_MAX_FILE_BYTES + 2);
	struct tg_policy_set *set = NULL;
	char *err = NULL;
	memset(big, '#', TG_POLICY_MAX_FILE_BYTES + 1);
	assert_int_equal(tg_policy_set_load_buffer("big.yaml", big, TG_POLICY_MAX_FILE_BYTES + 1, &set, &err),
			 -TG_ELIMIT);
	assert_string_equal(err, "big.yaml: file is 1048577 bytes, more than 1048576 (TG_POLICY_MAX_FILE_BYTES)");
	free(err);
	free(big);
	/* a billion laughs: aliases may not multiply the work */
	const char *laughs =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\napiVersion: tracegate.dev/v1alpha1\n";
	assert_true(tg_policy_set_load_buffer("l.yaml", laughs, strlen(laughs), &set, &err) < 0);
	free(err);
	/* an empty file is an empty set */
	assert_int_equal(tg_policy_set_load_buffer("e.yaml", "", 0, &set, &err), 0);
	assert_int_equal(tg_policy_set_count(set), 0);
	tg_policy_set_free(set);
}

static void test_load_dir(void **state)
{
	char dir[] = "/tmp/tg-policy-test-XXXXXX";
	char path[256];
	struct tg_policy_set *set = NULL;
	char *err = NULL, *a = doc("zeta", "  subjects: {users: [a]}\n  scope: pod\n"),
	     *b = doc("alpha", "  subjects: {users: [a]}\n  scope: pod\n");

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/1.yaml", dir);
	assert_int_equal(write_file_atomic(path, a, strlen(a), 0644), 0);
	snprintf(path, sizeof(path), "%s/2.yml", dir);
	assert_int_equal(write_file_atomic(path, b, strlen(b), 0644), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	assert_int_equal(write_file_atomic(path, "garbage: [", 10, 0644), 0);
	assert_int_equal(tg_policy_set_load_dir(dir, &set, &err), 0);
	assert_int_equal(tg_policy_set_count(set), 2);
	assert_string_equal(tg_policy_set_name(set, 0), "alpha");
	assert_string_equal(tg_policy_set_name(set, 1), "zeta");
	tg_policy_set_free(set);

	/* one broken file: nothing loads, and the error names the file */
	snprintf(path, sizeof(path), "%s/3.yaml", dir);
	assert_int_equal(write_file_atomic(path, "spec:\n  - [", 11, 0644), 0);
	assert_true(tg_policy_set_load_dir(dir, &set, &err) < 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/3.yaml:3:1: YAML did not find expected node content while parsing a flow node", dir);
	assert_string_equal(err, want);
	free(err);
	unlink(path);
	/* the same name in two files */
	snprintf(path, sizeof(path), "%s/4.yaml", dir);
	assert_int_equal(write_file_atomic(path, a, strlen(a), 0644), 0);
	assert_true(tg_policy_set_load_dir(dir, &set, &err) < 0);
	snprintf(want, sizeof(want), "%s/4.yaml:1:1: policy \"zeta\" is defined twice (first in %s/1.yaml:1:1)", dir, dir);
	assert_string_equal(err, want);
	free(err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/1.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/2.yml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	unlink(path);
	rmdir(dir);
	assert_true(tg_policy_set_load_dir("/nonexistent/dir", &set, &err) < 0);
	assert_string_equal(err, "/nonexistent/dir: cannot read policy directory: No such file or directory");
	free(err);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets_embedded_match_files),
		cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_privileged_and_baseline),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_probe_allowed),
		cmocka_unit_test(test_probe_patterns),
		cmocka_unit_test(test_builtins_functions),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_unscoped),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_additive),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_load_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
