/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For unit tests: the cases of policy/unscoped.h, shared by the gateway's
 * policy evaluation test (test-policy-check.c) and the runner's guard
 * test (test-runner-guard.c), so both sides are held to one list.
 */
#ifndef TG_TESTS_UNIT_UNSCOPED_CASES_H
#define TG_TESTS_UNIT_UNSCOPED_CASES_H

/* Every builtin, function and operator that would observe the runner in
 * a BEGIN, END or interval body, as "@ = <expr>", and what is named. */
static const struct {
	const char *expr, *construct, *why;
} unscoped_refused[] = {
	{ "pid", "pid", "describes the runner, not the pod" },
	{ "tid", "tid", "describes the runner" },
	{ "uid", "uid", "describes the runner" },
	{ "gid", "gid", "describes the runner" },
	{ "comm", "comm", "describes the runner" },
	{ "username", "username", "describes the runner" },
	{ "cgroup", "cgroup", "describes the runner" },
	{ "cpid", "cpid", "describes the runner" },
	{ "curtask", "curtask", "describes the runner" },
	{ "kstack", "kstack", "describes the runner" },
	{ "ustack", "ustack", "describes the runner" },
	{ "sarg0", "sarg0", "describes the runner" },
	{ "func", "func", "has no event of the pod to describe" },
	{ "retval", "retval", "has no event" },
	{ "args", "args", "has no event" },
	{ "ctx", "ctx", "has no event" },
	{ "arg0", "arg0", "has no event" },
	{ "arg9", "arg9", "has no event" },
	{ "str(1)", "str", "reads memory, which nothing confines to the pod there (only a string literal or a positional parameter is copied there)" },
	{ "str($x)", "str", "reads memory" },
	{ "str(nsecs, 8)", "str", "reads memory" },
	{ "buf(@x, 4)", "buf", "reads memory" },
	{ "buf($1, 8)", "buf", "reads memory, which nothing confines to the pod there (only a string literal is copied there)" },
	{ "join(@x)", "join", "reads memory" },
	{ "kptr(1)", "kptr", "reads memory" },
	{ "uptr(1)", "uptr", "reads memory" },
	{ "reg(\"ip\")", "reg", "reads memory" },
	{ "path(1)", "path", "reads memory" },
	{ "macaddr(1)", "macaddr", "reads memory" },
	{ "kstack(perf, 3)", "kstack", "describes the runner" },
	{ "ustack(3)", "ustack", "describes the runner" },
	{ "usym(1)", "usym", "describes the runner" },
	{ "uaddr(\"f\")", "uaddr", "describes the runner" },
	{ "ksym(1)", "ksym", "reveals the node, not the pod" },
	{ "kaddr(\"f\")", "kaddr", "reveals the node" },
	{ "cgroup_path(1)", "cgroup_path", "reveals the node" },
	{ "cgroupid(\"/sys/fs/cgroup\")", "cgroupid", "reveals the node" },
	{ "cat(\"/etc/hostname\")", "cat", "reveals the node" },
	{ "signal(9)", "signal", "acts on the runner" },
	{ "override(0)", "override", "acts on the runner" },
	{ "system(\"id\")", "system", "acts on the runner" },
	{ "debugf(\"x\")", "debugf", "is not known to be harmless there" },
	{ "*$p", "*", "reads memory" },
	{ "&$x", "&", "reads memory" },
	{ "$p->f", "->", "reads memory" },
	{ "$s.f", ".", "reads memory" },
	{ "$p[1]", "[]", "reads memory" },
	{ "$1[0]", "[]", "reads memory" },
};

/* ... and what stays: the clock, the CPU, random numbers, maps, output,
 * literals and positional parameters. */
static const char *const unscoped_allowed[] = {
	"BEGIN { printf(\"%d %d %d %d %d %s\\n\", nsecs, elapsed, cpu, rand, numaid, probe); }",
	"BEGIN { printf(\"%s %s %d\\n\", str(\"lit\"), str($1), $#); @b = buf(\"ab\", 2); @c = str($2, 3); }",
	"BEGIN { @a = count(); @s = sum(1); @h = hist(2); @l = lhist(3, 0, 10, 1); @m = max(1); @v = avg(1); @t = stats(1); }",
	"interval:ms:100 { print(@a); clear(@a); zero(@s); delete(@h[1]); time(\"%H\\n\"); exit(); }",
	"END { @x = strftime(\"%H\", nsecs); @y = strncmp(\"a\", \"b\", 1); @z = bswap(7); @w = ntop(1); }",
	"END { @p = pton(\"1.2.3.4\"); @e = strerror(1); @k = sizeof(pid); @i = \"abc\"[0]; @u = (uint8)1; }",
	"BEGIN { $q = (struct task_struct *)0; @f = AF_INET; $t = (1, 2); @g = $t.0; }",
	"BEGIN /nsecs > 0/ { if (cpu == 0) { @c[cpu] = count(); } else { @c[numaid] = sum(rand); } }",
};

#endif
