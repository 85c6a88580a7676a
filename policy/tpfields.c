// SPDX-License-Identifier: Apache-2.0
/*
 * Classifying tracepoint fields (tpfields.h has the rules in one list;
 * docs/policy.md explains them to platform teams).  Everything here works
 * on a format as the kernel writes it: a field's declared type, its name,
 * its size, and the event's print fmt.  The same function makes the
 * generated table (tests/tools/runner-tpfields-gen) and checks a node's
 * real formats in the runner, so the two cannot drift apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/util.h"
#include "policy/tpfields.h"
#include "lib/banned.h"

/* ---- names and types ------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/* name is one of bare[] or ends in "_" + one of them */
static bool name_is(const char *name, const char *const *bare)
{
	size_t n = strlen(name);

	for (; *bare; bare++) {
		size_t b = strlen(*bare);

		if (!strcmp(name, *bare))
			return true;
		if (n > b + 1 && name[n - b - 1] == '_' && !strcmp(name + n - b, *bare))
			return true;
	}
	return false;
}

static bool is_pointer(const struct tg_tpf_field *f)
{
	return f->type && strchr(f->type, '*') && !str_has_prefix(f->type, "__data_loc");
}

/* The last identifier of a type without '*': "const pid_t" -> "pid_t". */
static bool base_type_is(const struct tg_tpf_field *f, const char *const *names)
{
	const char *t = f->type, *e, *s;
	char word[64];

	if (!t || strchr(t, '*'))
		return false;
	e = t + strlen(t);
	while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	s = e;
	while (s > t && (s[-1] == '_' || (s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z') ||
			 (s[-1] >= '0' && s[-1] <= '9')))
		s--;
	if (s == e || (size_t)(e - s) >= sizeof(word))
		return false;
	memcpy(word, s, (size_t)(e - s));
	word[e - s] = '\0';
	return in_set(word, names);
}

static const char *const pid_names[] = { "pid", "tgid", "ngid", "ppid", NULL };
static const char *const code_names[] = { "ip", "caller", "call_site", "callsite", "func", "function", "fn", NULL };
static const char *const pid_types[] = { "pid_t", NULL };
static const char *const cred_types[] = { "uid_t", "gid_t", "kuid_t", "kgid_t", NULL };

/* The otherTasks rules that need only the name. */
static const char *other_task_by_name(const char *name)
{
	if (name_is(name, pid_names))
		return "otherTasks.pid";
	if (ends_with(name, "comm"))
		return "otherTasks.comm";
	if (ends_with(name, "prio"))
		return "otherTasks.prio";
	if (ends_with(name, "oom_score_adj"))
		return "otherTasks.oom";
	return NULL;
}

unsigned tg_tpf_classify_name(const char *category, const char *field, const char **ret_rule)
{
	const char *rule;

	if (!category || !field || !strcmp(category, "syscalls"))
		return 0;
	rule = other_task_by_name(field);
	if (rule) {
		if (ret_rule)
			*ret_rule = rule;
		return TG_TPF_OTHER_TASK;
	}
	if (name_is(field, code_names)) {
		if (ret_rule)
			*ret_rule = "kernelAddresses.code";
		return TG_TPF_KERNEL_ADDRESS;
	}
	return 0;
}

/* ---- print fmt --------------------------------------------------------------- */

/* One conversion of a printf format, at *p (just after '%').  Sets
 * *ret_args to the arguments it consumes (width and precision '*' count)
 * and *ret_addr when it prints a kernel address.  -EINVAL when it is not
 * a conversion we know. */
static int conversion(const char **p, unsigned *ret_args, bool *ret_addr)
{
	const char *s = *p;
	unsigned args = 0;

	*ret_addr = false;
	while (*s && strchr("-+ #0", *s))
		s++;
	if (*s == '*') {
		args++;
		s++;
	} else {
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == '.') {
		s++;
		if (*s == '*') {
			args++;
			s++;
		} else {
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	while (*s && strchr("hlLqjzt", *s))
		s++;
	if (!*s || !strchr("diouxXcspeEfgGaAn", *s))
		return -EINVAL;
	if (*s == 'p') {
		/* the kernel's %p extensions: only these print an address;
		 * %pI4, %pM, %pU, %pd ... print what the pointer points to */
		s++;
		*ret_addr = !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) ||
			    strchr("SsBFfKx", *s) != NULL;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
			s++;
	} else {
		s++;
	}
	*ret_args = args + 1;
	*p = s;
	return 0;
}

/* The end of one argument starting at s: a ',' or NUL at depth 0. */
static const char *arg_end(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '"' || *s == '\'') {
			char q = *s;

			for (s++; *s && *s != q; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return s;
		} else if (*s == '(' || *s == '[' || *s == '{') {
			depth++;
		} else if (*s == ')' || *s == ']' || *s == '}') {
			depth--;
		} else if (*s == ',' && depth == 0) {
			return s;
		}
	}
	return s;
}

/* s..e is "REC->name", maybe inside parentheses and after casts:
 * "(void *)REC->x", "((unsigned long)(REC->x))". */
static bool rec_field(const char *s, const char *e, const char **ret_name, size_t *ret_len)
{
	for (;;) {
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s < e && *s == '(') {
			int depth = 0;
			const char *c = s;

			for (; c < e; c++) {
				if (*c == '(')
					depth++;
				else if (*c == ')' && --depth == 0)
					break;
			}
			if (c >= e)
				return false;
			if (c == e - 1) {
				s++;     /* "( ... )" around the whole: look inside */
				e--;
			} else {
				s = c + 1; /* a cast: what follows it */
			}
			continue;
		}
		break;
	}
	if ((size_t)(e - s) <= 5 || strncmp(s, "REC->", 5) != 0)
		return false;
	s += 5;
	for (const char *c = s; c < e; c++)
		if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return false;
	*ret_name = s;
	*ret_len = (size_t)(e - s);
	return true;
}

#define MAX_CONVERSIONS 256

int tg_tpf_print_fmt_addresses(const char *print_fmt, void (*fn)(void *ctx, const char *name, size_t len),
			       void *ctx)
{
	bool addr[MAX_CONVERSIONS];
	size_t nconv = 0, nargs = 0;
	const char *s = print_fmt, *args[MAX_CONVERSIONS], *ends[MAX_CONVERSIONS];

	if (!s || strnlen(s, TG_TPF_MAX_PRINT_FMT + 1) > TG_TPF_MAX_PRINT_FMT)
		return -EINVAL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != '"')
		return -EINVAL;
	while (*s && *s != '"') {
		unsigned n;
		bool a;

		if (*s == '\\' && s[1]) {
			s += 2;
			continue;
		}
		if (*s != '%') {
			s++;
			continue;
		}
		s++;
		if (*s == '%') {
			s++;
			continue;
		}
		if (conversion(&s, &n, &a) < 0)
			return -EINVAL;
		for (unsigned i = 0; i < n; i++) {
			if (nconv == MAX_CONVERSIONS)
				return -EINVAL;
			addr[nconv++] = a && i == n - 1;
		}
	}
	if (*s++ != '"')
		return -EINVAL;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	while (*s == ',') {
		const char *e = arg_end(++s);

		if (nargs == MAX_CONVERSIONS)
			return -EINVAL;
		args[nargs] = s;
		ends[nargs++] = e;
		s = e;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s || nargs != nconv)
		return -EINVAL;
	for (size_t i = 0; i < nconv; i++) {
		const char *name;
		size_t len;

		if (addr[i] && rec_field(args[i], ends[i], &name, &len))
			fn(ctx, name, len);
	}
	return 0;
}

/* ---- fields that describe current by construction --------------------------- */

/*
 * Each entry keeps a field the rules would classify, because the kernel
 * fills it from the task that is running when the event fires (the task
 * the scope check just admitted; interrupt context is out of scope).
 * The proof is quoted from torvalds/linux (include/trace/events/sched.h
 * read at 4981f05f; the call sites as they stand in 6.x).  Adding an
 * entry needs the same: the line that proves it, next to it.
 */
#define WHY_SWITCH "include/trace/events/sched.h __trace_sched_switch_state(preempt, prev_state, p), called with prev: " \
	"\"BUG_ON(p != current);\"; kernel/sched/core.c __schedule(): \"prev = rq->curr;\" ... "              \
	"\"trace_sched_switch(preempt, prev, next, prev_state);\""
#define WHY_FORK "kernel/fork.c kernel_clone(): \"trace_sched_process_fork(current, p);\" (parent = current)"
#define WHY_EXEC "fs/exec.c exec_binprm(): \"old_pid = current->pid;\" ... " \
	"\"trace_sched_process_exec(current, old_pid, bprm);\""
#define WHY_PREPARE_EXEC "fs/exec.c begin_new_exec(): \"trace_sched_prepare_exec(current, bprm);\""
#define WHY_EXIT "kernel/exit.c do_exit(): \"struct task_struct *tsk = current;\" ... " \
	"\"trace_sched_process_exit(tsk, group_dead);\""
#define WHY_WAIT "include/trace/events/sched.h TRACE_EVENT(sched_process_wait) TP_fast_assign: comm from " \
	"\"current->comm\", \"__entry->prio = current->prio;\" (pid is \"pid_nr(pid)\", the pid waited for: "  \
	"not kept)"

static const struct kept {
	const char *category, *event, *field, *why;
} kept[] = {
	{ "sched", "sched_switch", "prev_comm", WHY_SWITCH },
	{ "sched", "sched_switch", "prev_pid", WHY_SWITCH },
	{ "sched", "sched_switch", "prev_prio", WHY_SWITCH },
	{ "sched", "sched_process_fork", "parent_comm", WHY_FORK },
	{ "sched", "sched_process_fork", "parent_pid", WHY_FORK },
	{ "sched", "sched_process_exec", "pid", WHY_EXEC },
	{ "sched", "sched_process_exec", "old_pid", WHY_EXEC },
	{ "sched", "sched_prepare_exec", "pid", WHY_PREPARE_EXEC },
	{ "sched", "sched_prepare_exec", "comm", WHY_PREPARE_EXEC },
	{ "sched", "sched_process_exit", "comm", WHY_EXIT },
	{ "sched", "sched_process_exit", "pid", WHY_EXIT },
	{ "sched", "sched_process_exit", "prio", WHY_EXIT },
	{ "sched", "sched_process_wait", "comm", WHY_WAIT },
	{ "sched", "sched_process_wait", "prio", WHY_WAIT },
};

static const char *kept_why(const char *category, const char *event, const char *field)
{
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
		if (!strcmp(kept[i].category, category) && !strcmp(kept[i].event, event) &&
		    !strcmp(kept[i].field, field))
			return kept[i].why;
	return NULL;
}

/* ---- classification ------------------------------------------------------------ */

struct printed {
	const struct tg_tpf_field *fields;
	size_t n;
	bool *hit;
};

static void mark_printed(void *ctx, const char *name, size_t len)
{
	struct printed *p = ctx;

	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->fields[i].name) == len && !strncmp(p->fields[i].name, name, len))
			p->hit[i] = true;
}

static void classify_one(const struct tg_tpf_field *f, bool printed, struct tg_tpf_verdict *v)
{
	const char *rule = NULL;
	unsigned c = 0;
	bool ptr = is_pointer(f);

	if ((!ptr && base_type_is(f, pid_types))) {
		c |= TG_TPF_OTHER_TASK;
		rule = "otherTasks.pid";
	} else if ((rule = other_task_by_name(f->name)) != NULL) {
		c |= TG_TPF_OTHER_TASK;
	} else if (!ptr && base_type_is(f, cred_types)) {
		c |= TG_TPF_OTHER_TASK;
		rule = "otherTasks.cred";
	}
	if (ptr) {
		c |= TG_TPF_KERNEL_ADDRESS;
		rule = rule ? rule : "kernelAddresses.pointer";
	} else if (printed) {
		c |= TG_TPF_KERNEL_ADDRESS;
		rule = rule ? rule : "kernelAddresses.printed";
	} else if (!f->array && f->size == 8 && !str_has_prefix(f->type, "__data_loc") &&
		   name_is(f->name, code_names)) {
		c |= TG_TPF_KERNEL_ADDRESS;
		rule = rule ? rule : "kernelAddresses.code";
	}
	v->classes = c;
	v->rule = c ? rule : NULL;
	v->kept = NULL;
}

int tg_tpf_classify(const char *category, const char *event, const struct tg_tpf_field *fields, size_t n,
		    const char *print_fmt, struct tg_tpf_verdict *ret)
{
	bool hit[TG_TPF_MAX_FIELDS] = { false };
	struct printed p = { .fields = fields, .n = n, .hit = hit };

	if (!category || !event || (n && (!fields || !ret)) || n > TG_TPF_MAX_FIELDS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!fields[i].name || !fields[i].type)
			return -EINVAL;
	memset(ret, 0, n * sizeof(*ret));
	if (!strcmp(category, "syscalls"))
		return 0;
	/* a format whose arguments do not line up just lacks this rule */
	if (print_fmt)
		(void)tg_tpf_print_fmt_addresses(print_fmt, mark_printed, &p);
	for (size_t i = 0; i < n; i++) {
		struct tg_tpf_verdict *v = &ret[i];
		const char *why;

		classify_one(&fields[i], hit[i], v);
		if (!(v->classes & TG_TPF_OTHER_TASK) || (v->classes & TG_TPF_KERNEL_ADDRESS))
			continue;
		why = kept_why(category, event, fields[i].name);
		if (why) {
			v->classes = TG_TPF_CURRENT;
			v->kept = why;
		}
	}
	return 0;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * FNV_PRIME;
	return h;
}

uint64_t tg_tpf_format_digest(const struct tg_tpf_field *fields, size_t n, const char *print_fmt)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++) {
		unsigned char tail[5] = { (unsigned char)fields[i].size, (unsigned char)(fields[i].size >> 8),
					  (unsigned char)(fields[i].size >> 16), (unsigned char)(fields[i].size >> 24),
					  fields[i].array };

		h = fnv(h, fields[i].name, strlen(fields[i].name) + 1);
		h = fnv(h, fields[i].type, strlen(fields[i].type) + 1);
		h = fnv(h, tail, sizeof(tail));
	}
	/* a marker byte keeps "no print fmt" apart from an empty one */
	h = fnv(h, print_fmt ? "P" : "N", 1);
	return print_fmt ? fnv(h, print_fmt, strlen(print_fmt)) : h;
}

/* ---- the table -------------------------------------------------------------------- */

struct key {
	const char *category, *name;
};

static int cmp_event(const void *k, const void *e)
{
	const struct key *a = k;
	const struct tg_tpf_event *b = e;
	int r = strcmp(a->category, b->category);

	return r ? r : strcmp(a->name, b->name);
}

const struct tg_tpf_event *tg_tpf_table_find(const char *category, const char *event)
{
	struct key k = { category, event };

	if (!category || !event)
		return NULL;
	return bsearch(&k, tg_tpf_events, tg_tpf_nevents, sizeof(tg_tpf_events[0]), cmp_event);
}

const struct tg_tpf_row *tg_tpf_table_row(const struct tg_tpf_event *e, const char *field)
{
	for (uint32_t i = 0; e && field && i < e->nrows && e->first + i < tg_tpf_nrows; i++)
		if (!strcmp(tg_tpf_rows[e->first + i].field, field))
			return &tg_tpf_rows[e->first + i];
	return NULL;
}
