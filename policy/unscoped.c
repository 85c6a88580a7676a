// SPDX-License-Identifier: Apache-2.0
/*
 * What BEGIN, END and interval bodies may use under a pod scope
 * (policy/unscoped.h).  Everything not named harmless below is refused;
 * docs/policy.md ("Bodies that observe no event") explains each reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy/unscoped.h"
#include "lib/banned.h"

enum why { W_OK, W_RUNNER, W_NOEVENT, W_MEM, W_NODE, W_ACTS, W_UNKNOWN };

static const char *const why_text[] = {
	[W_OK] = NULL,
	[W_RUNNER] = "describes the runner, not the pod",
	[W_NOEVENT] = "has no event of the pod to describe",
	[W_MEM] = "reads memory, which nothing confines to the pod there",
	[W_NODE] = "reveals the node, not the pod",
	[W_ACTS] = "acts on the runner",
	[W_UNKNOWN] = "is not known to be harmless there",
};

struct named {
	const char *name;
	enum why why;
};

/* Every builtin the lexer knows (lang/lexer.c), and kstack/ustack
 * written without parentheses. */
static const struct named builtins[] = {
	/* harmless: the clock, the CPU and NUMA node the runner runs on, a
	 * random number, the probe's own name */
	{ "nsecs", W_OK }, { "elapsed", W_OK }, { "cpu", W_OK }, { "numaid", W_OK },
	{ "rand", W_OK }, { "probe", W_OK },
	/* the current task is the runner's session child */
	{ "pid", W_RUNNER }, { "tid", W_RUNNER }, { "uid", W_RUNNER }, { "gid", W_RUNNER },
	{ "comm", W_RUNNER }, { "username", W_RUNNER }, { "cgroup", W_RUNNER }, { "cpid", W_RUNNER },
	{ "curtask", W_RUNNER }, { "kstack", W_RUNNER }, { "ustack", W_RUNNER },
	/* what an event carries; here ctx is the runner's test-run buffer */
	{ "func", W_NOEVENT }, { "retval", W_NOEVENT }, { "args", W_NOEVENT }, { "ctx", W_NOEVENT },
};

/* Every function the lexer knows. */
static const struct named functions[] = {
	/* output, maps, time, and computations on values already in hand */
	{ "printf", W_OK }, { "print", W_OK }, { "time", W_OK }, { "exit", W_OK },
	{ "clear", W_OK }, { "zero", W_OK }, { "delete", W_OK }, { "has_key", W_OK }, { "len", W_OK },
	{ "count", W_OK }, { "sum", W_OK }, { "avg", W_OK }, { "min", W_OK }, { "max", W_OK },
	{ "stats", W_OK }, { "hist", W_OK }, { "lhist", W_OK },
	{ "strftime", W_OK }, { "strncmp", W_OK }, { "strcontains", W_OK }, { "bswap", W_OK },
	{ "sizeof", W_OK }, { "offsetof", W_OK }, { "ntop", W_OK }, { "pton", W_OK },
	{ "strerror", W_OK },
	/* str() of a literal or a positional parameter and buf() of a
	 * literal copy it; of anything else they read memory (function_why) */
	{ "str", W_MEM }, { "buf", W_MEM },
	{ "join", W_MEM }, { "kptr", W_MEM }, { "uptr", W_MEM }, { "reg", W_MEM },
	{ "path", W_MEM }, { "macaddr", W_MEM },
	/* the runner's stack and address space */
	{ "kstack", W_RUNNER }, { "ustack", W_RUNNER }, { "usym", W_RUNNER }, { "uaddr", W_RUNNER },
	/* the node's kernel addresses, cgroups and files */
	{ "ksym", W_NODE }, { "kaddr", W_NODE }, { "cgroup_path", W_NODE }, { "cgroupid", W_NODE },
	{ "cat", W_NODE },
	{ "signal", W_ACTS }, { "override", W_ACTS }, { "system", W_ACTS },
};

static enum why lookup(const struct named *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return t[i].why;
	return W_UNKNOWN;
}

/* "arg" or "sarg" followed by one or two digits */
static bool numbered(const char *name, const char *prefix)
{
	size_t l = strlen(prefix);
	const char *d = name + l;

	return !strncmp(name, prefix, l) && d[0] >= '0' && d[0] <= '9' &&
	       (d[1] == '\0' || (d[1] >= '0' && d[1] <= '9' && d[2] == '\0'));
}

static enum why builtin_why(const char *name)
{
	if (numbered(name, "arg"))
		return W_NOEVENT;
	if (numbered(name, "sarg"))
		return W_RUNNER;   /* the runner's stack */
	return lookup(builtins, sizeof(builtins) / sizeof(builtins[0]), name);
}

const char *tg_unscoped_builtin_reason(const char *name)
{
	return name ? why_text[builtin_why(name)] : why_text[W_UNKNOWN];
}

/* str() of a literal or of $N is that text (the engine substitutes the
 * parameter as a string); buf() and [] of $N take it as a number, an
 * address to read, so only a literal is a copy there. */
static bool copies(const struct lang_node *n, bool param_is_text)
{
	return n->kind == TG_N_STR || (param_is_text && n->kind == TG_N_POSPARAM);
}

static enum why function_why(const struct lang_node *n)
{
	if (n->nkids > 0 && ((!strcmp(n->str, "str") && copies(n->kids[0], true)) ||
			     (!strcmp(n->str, "buf") && copies(n->kids[0], false))))
		return W_OK;
	return lookup(functions, sizeof(functions) / sizeof(functions[0]), n->str);
}

const char *tg_unscoped_probe(const struct lang_probe *pr)
{
	for (size_t i = 0; pr && i < pr->nattach; i++) {
		const struct lang_attach *a = &pr->attach[i];

		if (!strcmp(a->type, "BEGIN") || !strcmp(a->type, "END") || !strcmp(a->type, "interval"))
			return a->raw ? a->raw : a->type;
	}
	return NULL;
}

struct walk {
	const char *probe;
	tg_unscoped_fn fn;
	void *ctx;
	int count;
};

static int report(struct walk *w, const struct lang_node *n, const char *kind, const char *construct,
		  enum why why, const char *extra)
{
	char msg[512];
	struct tg_unscoped_use use = { .loc = n->loc, .probe = w->probe, .construct = construct,
				       .message = msg };
	int r;

	snprintf(msg, sizeof(msg),
		 "%s \"%s\" in \"%s\" %s%s: under a pod scope BEGIN, END and interval bodies run in the runner, "
		 "not at an event of the pod",
		 kind, construct, w->probe, why_text[why], extra ? extra : "");
	w->count++;
	r = w->fn(w->ctx, &use);
	return r < 0 ? r : 0;
}

static int walk_node(struct walk *w, const struct lang_node *n)
{
	enum why why = W_OK;
	int r = 0;

	if (!n)
		return 0;
	switch (n->kind) {
	case TG_N_BUILTIN:
		why = builtin_why(n->str);
		if (why != W_OK)
			r = report(w, n, "builtin", n->str, why, NULL);
		return r;
	case TG_N_CALL:
		why = function_why(n);
		if (why != W_OK)
			r = report(w, n, "function", n->str, why,
				   !strcmp(n->str, "str") ? " (only a string literal or a positional parameter is copied there)" :
				   !strcmp(n->str, "buf") ? " (only a string literal is copied there)" : NULL);
		/* sizeof() and offsetof() do not evaluate their arguments */
		if (r < 0 || !strcmp(n->str, "sizeof") || !strcmp(n->str, "offsetof"))
			return r;
		break;
	case TG_N_UNOP:
		if (n->op == TG_OP_DEREF || n->op == TG_OP_ADDR)
			r = report(w, n, "operator", n->op == TG_OP_DEREF ? "*" : "&", W_MEM, NULL);
		break;
	case TG_N_FIELD:
		if (n->op == TG_OP_ARROW)
			r = report(w, n, "operator", "->", W_MEM, NULL);
		else if (!(n->flags & TG_F_TUPLE_INDEX))
			r = report(w, n, "operator", ".", W_MEM, NULL);
		break;
	case TG_N_INDEX:
		if (n->nkids > 0 && !copies(n->kids[0], false))
			r = report(w, n, "operator", "[]", W_MEM, NULL);
		break;
	default:
		/* literals, variables, maps, casts, arithmetic, statements:
		 * nothing beyond what their operands observe */
		break;
	}
	for (size_t i = 0; i < n->nkids && r >= 0; i++)
		r = walk_node(w, n->kids[i]);
	return r;
}

int tg_unscoped_check(const struct lang_program *prog, tg_unscoped_fn fn, void *ctx)
{
	struct walk w = { .fn = fn, .ctx = ctx };
	int r;

	if (!prog || !fn)
		return -EINVAL;
	for (size_t i = 0; i < prog->nprobes; i++) {
		const struct lang_probe *pr = &prog->probes[i];

		w.probe = tg_unscoped_probe(pr);
		if (!w.probe)
			continue;
		r = walk_node(&w, pr->pred);
		if (r >= 0)
			r = walk_node(&w, pr->body);
		if (r < 0)
			return r;
	}
	return w.count;
}
