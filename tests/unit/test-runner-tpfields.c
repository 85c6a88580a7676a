// SPDX-License-Identifier: Apache-2.0
/*
 * Tracepoint fields on the node: the generated table (policy/tpfields-
 * table.c) re-derived from this kernel's formats and compared (under
 * CI=true a rules difference fails on any kernel, so the table cannot go
 * stale silently; a kernel difference fails only on the table's kernel);
 * the runner's own re-check against the real formats (tp_fields_check);
 * the format reader's print fmt and array flag; the session request's
 * "tracepointFields".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lang/ast.h"
#include "policy/tpfields.h"
#include "runner/session.h"
#include "runner/tracepoint.h"

static char *tracefs;

/* tracefs, or skip (fail under CI: CI has root and tracefs). */
static bool have_tracefs(void)
{
	char *err = NULL;

	if (tracefs)
		return true;
	if (tracefs_find(&tracefs, &err) == 0)
		return true;
	if (getenv("CI") && !strcmp(getenv("CI"), "true"))
		fail_msg("no tracefs under CI: %s", err ? err : "?");
	print_message("# no tracefs: %s\n", err ? err : "?");
	free(err);
	return false;
}

/* ---- the table against this kernel ---------------------------------------------- */

/*
 * Two kinds of difference.  An event whose format has the digest the table
 * recorded must be classified as the table says: otherwise the rules
 * changed and the table was not regenerated (fails under CI=true, on any
 * kernel).  An event this kernel lacks, adds or formats differently is a
 * kernel difference: the gateway errs towards denial for those and the
 * runner re-checks the node's real formats, so it fails only on the kernel
 * the table names (a table that no longer describes its own kernel).
 */
struct cmp {
	size_t next;            /* index in tg_tpf_events */
	size_t rules, kernel;   /* differences of each kind */
	size_t same;            /* events whose format matched the table's */
	size_t derived;
	char first_rule[512];   /* the first rules difference, for the failure */
	char first_kernel[512];
};

#define MAX_REPORTED 30

static void differs(size_t *count, char *first, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void differs(size_t *count, char *first, const char *kind, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if ((*count)++ >= MAX_REPORTED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*count == 1)
		snprintf(first, 512, "%s", msg);
	print_message("# table differs (%s): %s\n", kind, msg);
}

#define RULE_DIFF(c, ...)   differs(&(c)->rules, (c)->first_rule, "rules", __VA_ARGS__)
#define KERNEL_DIFF(c, ...) differs(&(c)->kernel, (c)->first_kernel, "kernel", __VA_ARGS__)

static void compare_rows(struct cmp *c, const struct tg_tpf_event *e, const struct tp_format *f,
			 const struct tg_tpf_verdict *v)
{
	size_t row = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct tg_tpf_row *r;

		if (!v[i].classes)
			continue;
		r = row < e->nrows ? &tg_tpf_rows[e->first + row] : NULL;
		row++;
		if (!r || strcmp(r->field, f->fields[i].name) || r->classes != v[i].classes || strcmp(r->rule, v[i].rule))
			RULE_DIFF(c, "\"%s:%s\" field \"%s\": derived classes %u rule %s, table %s %u %s", f->category,
				  f->name, f->fields[i].name, v[i].classes, v[i].rule, r ? r->field : "(none)",
				  r ? r->classes : 0, r ? r->rule : "");
	}
	if (row != e->nrows)
		RULE_DIFF(c, "\"%s:%s\": %zu classified fields derived, %u in the table", f->category, f->name, row,
			  e->nrows);
}

static int compare_event(void *ctx, const struct tp_format *f, const struct tg_tpf_verdict *v)
{
	struct cmp *c = ctx;
	const struct tg_tpf_event *e = c->next < tg_tpf_nevents ? &tg_tpf_events[c->next] : NULL;
	struct tg_tpf_field fields[TP_MAX_FIELDS];
	size_t nf = tp_format_tpf_fields(f, fields);

	c->derived++;
	/* events the table has that this kernel lacks come first in order */
	while (e && (strcmp(e->category, f->category) < 0 ||
		     (!strcmp(e->category, f->category) && strcmp(e->name, f->name) < 0))) {
		KERNEL_DIFF(c, "\"%s:%s\" is in the table, not on this kernel", e->category, e->name);
		e = ++c->next < tg_tpf_nevents ? &tg_tpf_events[c->next] : NULL;
	}
	if (!e || strcmp(e->category, f->category) || strcmp(e->name, f->name)) {
		KERNEL_DIFF(c, "\"%s:%s\" is on this kernel, not in the table", f->category, f->name);
		return 0;
	}
	c->next++;
	if (e->format != tg_tpf_format_digest(fields, nf, f->print_fmt)) {
		KERNEL_DIFF(c, "\"%s:%s\": its format differs from the table's kernel", f->category, f->name);
		return 0;
	}
	c->same++;
	compare_rows(c, e, f, v);
	return 0;
}

static void test_table_matches_kernel(void **state)
{
	bool ci = getenv("CI") && !strcmp(getenv("CI"), "true");
	struct cmp c = { 0 };
	struct utsname u;
	char *err = NULL;
	bool own;

	(void)state;
	if (!have_tracefs())
		skip();
	assert_int_equal(uname(&u), 0);
	own = !strcmp(u.release, tg_tpf_table_kernel);
	if (tp_fields_derive(tracefs, compare_event, &c, &err) < 0)
		fail_msg("this kernel's formats: %s", err ? err : "?");
	for (; c.next < tg_tpf_nevents; c.next++)
		KERNEL_DIFF(&c, "\"%s:%s\" is in the table, not on this kernel", tg_tpf_events[c.next].category,
			    tg_tpf_events[c.next].name);
	assert_true(c.derived > 100);
	print_message("# %zu events, %zu with the format of kernel %s (this is %s); %zu differ by kernel, "
		      "%zu by rules\n",
		      c.derived, c.same, tg_tpf_table_kernel, u.release, c.kernel, c.rules);
	if (c.rules || (own && c.kernel) || c.same <= 100) {
		print_message("# regenerate: build/tests/tools/runner-tpfields-gen -o policy/tpfields-table.c\n");
		if (!ci)
			skip();
		if (c.rules)
			fail_msg("policy/tpfields-table.c is stale for the rules (%zu differences; first: %s)", c.rules,
				 c.first_rule);
		if (own && c.kernel)
			fail_msg("policy/tpfields-table.c no longer describes its own kernel %s (%zu differences; "
				 "first: %s)",
				 u.release, c.kernel, c.first_kernel);
		fail_msg("only %zu events have the format the table recorded: the rules went unchecked (first "
			 "difference: %s)",
			 c.same, c.first_kernel);
	}
}

/* ---- the format reader ------------------------------------------------------------ */

static void count_name(void *ctx, const char *name, size_t len)
{
	int *n = ctx;

	if (len == 4 && !strncmp(name, "site", 4))
		(*n)++;
}

static void test_format_reader(void **state)
{
	struct tp_field f;
	struct tp_format fm;
	char *err = NULL;

	(void)state;
	assert_int_equal(tp_field_parse("\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;", &f), 0);
	assert_true(f.array);
	assert_string_equal(f.type, "char");
	free(f.name);
	free(f.type);
	assert_int_equal(tp_field_parse("\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;", &f), 0);
	assert_false(f.array);
	free(f.name);
	free(f.type);
	/* a print fmt whose string holds a newline runs to the end of the file */
	{
		char dir[] = "/tmp/tg-tpf-XXXXXX", path[256];
		int got = 0;
		FILE *fp;

		assert_non_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/events", dir);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/events/c", dir);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/events/c/e", dir);
		assert_int_equal(mkdir(path, 0700), 0);
		snprintf(path, sizeof(path), "%s/events/c/e/format", dir);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs("name: e\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n"
		      "\tfield:unsigned long site;\toffset:8;\tsize:8;\tsigned:0;\n"
		      "\tfield:int n;\toffset:16;\tsize:4;\tsigned:1;\n\n"
		      "print fmt: \"n %d\nsite %pS\", REC->n, (void *)REC->site\n", fp);
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(tp_format_read(dir, "c", "e", &fm, &err), 0);
		assert_int_equal(fm.n, 2);
		assert_string_equal(fm.print_fmt, "\"n %d\nsite %pS\", REC->n, (void *)REC->site");
		assert_int_equal(tg_tpf_print_fmt_addresses(fm.print_fmt, count_name, &got), 0);
		assert_int_equal(got, 1);
		tp_format_release(&fm);
		assert_int_equal(unlink(path), 0);
		for (int i = 0; i < 3; i++) {
			*strrchr(path, '/') = '\0';
			assert_int_equal(rmdir(path), 0);
		}
		assert_int_equal(rmdir(dir), 0);
	}
	if (!have_tracefs())
		skip();
	assert_int_equal(tp_format_read(tracefs, "sched", "sched_switch", &fm, &err), 0);
	assert_non_null(fm.print_fmt);
	assert_int_equal(strncmp(fm.print_fmt, "\"prev_comm=%s", 13), 0);
	assert_true(tp_format_field(&fm, "prev_comm")->array);
	tp_format_release(&fm);
}

/* ---- the runner's re-check ---------------------------------------------------------- */

static struct lang_program *parse(const char *src)
{
	struct lang_program *p = NULL;
	struct lang_diag d;

	if (lang_program_parse(src, strlen(src), &p, &d) < 0)
		fail_msg("%s: %s", src, d.msg);
	return p;
}

/* tp_fields_check of probe 0 of src against the real format of cat:ev */
static int check(const struct tg_tpf_rules *r, const char *cat, const char *ev, const char *src, struct lang_diag *d)
{
	struct lang_program *p = parse(src);
	struct tp_format fm;
	char *err = NULL;
	int rc;

	assert_int_equal(tp_format_read(tracefs, cat, ev, &fm, &err), 0);
	memset(d, 0, sizeof(*d));
	rc = tp_fields_check(r, &p->probes[0], &fm, d);
	tp_format_release(&fm);
	lang_program_free(p);
	return rc;
}

static void test_runner_check(void **state)
{
	struct tg_tpf_rules closed = { .policy = (char *)"restricted" };
	struct tg_tpf_rules open = { .policy = (char *)"privileged", .other_tasks = true, .kernel_addresses = true };
	char *allow[] = { (char *)"sched:sched_switch:next_comm", NULL };
	struct tg_tpf_rules glob = { .policy = (char *)"custom", .allow = allow, .nallow = 1 };
	struct lang_diag d;

	(void)state;
	if (!have_tracefs())
		skip();
	assert_int_equal(check(&closed, "sched", "sched_switch",
			       "tracepoint:sched:sched_switch {\n  printf(\"%s\\n\", args->next_comm);\n}", &d),
			 -TG_EPOLICY);
	assert_int_equal(d.loc.line, 2);
	assert_int_equal(d.loc.col, 18);
	assert_string_equal(d.msg, "field \"next_comm\" of tracepoint \"sched:sched_switch\" describes a task other than "
				   "the current one (rule otherTasks.comm), and tracepointFields.otherTasks is false "
				   "[policy \"restricted\", rule tracepointFields.otherTasks]");
	assert_int_equal(check(&closed, "sched", "sched_wakeup", "tracepoint:sched:sched_wakeup { @[args->pid] = count() }",
			       &d), -TG_EPOLICY);
	assert_int_equal(d.loc.col, 35);
	assert_non_null(strstr(d.msg, "field \"pid\" of tracepoint \"sched:sched_wakeup\""));
	assert_int_equal(check(&closed, "sched", "sched_switch", "tracepoint:sched:sched_switch { print(args) }", &d),
			 -TG_EPOLICY);
	assert_non_null(strstr(d.msg, "\"args\" uses every field: field \"next_comm\""));
	assert_int_equal(check(&closed, "timer", "timer_start", "tracepoint:timer:timer_start { @[args->function] = count() }",
			       &d), -TG_EPOLICY);
	assert_non_null(strstr(d.msg, "holds a kernel address (rule kernelAddresses.pointer)"));
	/* current's own fields, and the same program under a wider policy */
	assert_int_equal(check(&closed, "sched", "sched_switch",
			       "tracepoint:sched:sched_switch { @[args->prev_comm, args->prev_pid] = count() }", &d), 0);
	assert_int_equal(check(&open, "sched", "sched_switch", "tracepoint:sched:sched_switch { print(args) }", &d), 0);
	assert_int_equal(check(&glob, "sched", "sched_switch", "tracepoint:sched:sched_switch { @[args->next_comm] = count() }",
			       &d), 0);
	assert_int_equal(check(&glob, "sched", "sched_switch", "tracepoint:sched:sched_switch { @[args->next_pid] = count() }",
			       &d), -TG_EPOLICY);
	assert_int_equal(check(NULL, "sched", "sched_switch", "tracepoint:sched:sched_switch { print(args) }", &d), 0);
	/* syscalls are the caller's own */
	assert_int_equal(check(&closed, "syscalls", "sys_enter_kill",
			       "tracepoint:syscalls:sys_enter_kill { @[args->pid] = count() }", &d), 0);
}

/* ---- the session request ------------------------------------------------------------ */

#define BODY_HEAD "{\"trace\":\"t1\",\"program\":\"BEGIN { }\",\"canonical\":\"BEGIN\\n{\\n}\\n\",\"pods\":[{\"namespace\":\"a\",\"name\":\"b\",\"uid\":\"c\"}]"

static void test_session_request(void **state)
{
	struct session_request req;
	char *err = NULL;
	static const char ok[] = BODY_HEAD ",\"tracepointFields\":{\"policy\":\"restricted\",\"otherTasks\":false,"
				 "\"kernelAddresses\":false,\"allow\":[\"sched:sched_switch:prev_*\"],\"deny\":[]}}";
	static const char none[] = BODY_HEAD "}";
	static const char bad[] = BODY_HEAD ",\"tracepointFields\":{\"otherTasks\":\"no\"}}";
	static const char bad_glob[] = BODY_HEAD ",\"tracepointFields\":{\"allow\":[\"sched\"]}}";

	(void)state;
	assert_int_equal(session_request_decode(ok, strlen(ok), &req, &err), 0);
	assert_non_null(req.tp_fields);
	assert_false(req.tp_fields->other_tasks);
	assert_string_equal(req.tp_fields->policy, "restricted");
	assert_int_equal(req.tp_fields->nallow, 1);
	assert_string_equal(req.tp_fields->allow[0], "sched:sched_switch:prev_*");
	session_request_release(&req);
	assert_int_equal(session_request_decode(none, strlen(none), &req, &err), 0);
	assert_null(req.tp_fields);
	session_request_release(&req);
	assert_int_equal(session_request_decode(bad, strlen(bad), &req, &err), -EINVAL);
	assert_string_equal(err, "tracepointFields.otherTasks: not true or false");
	free(err);
	err = NULL;
	assert_int_equal(session_request_decode(bad_glob, strlen(bad_glob), &req, &err), -EINVAL);
	assert_string_equal(err, "tracepointFields.allow[0]: is not \"category:event:field\" (three parts, each a name or a glob)");
	free(err);
	err = NULL;
	/* dryRun: kubectl trace check; a boolean or nothing */
	assert_false(req.dry_run);
	{
		static const char dry[] = BODY_HEAD ",\"dryRun\":true}";
		static const char dry_bad[] = BODY_HEAD ",\"dryRun\":\"yes\"}";

		assert_int_equal(session_request_decode(dry, strlen(dry), &req, &err), 0);
		assert_true(req.dry_run);
		session_request_release(&req);
		assert_int_equal(session_request_decode(dry_bad, strlen(dry_bad), &req, &err), -EINVAL);
		assert_string_equal(err, "\"dryRun\": not a boolean");
		free(err);
		err = NULL;
	}
	/* outputEvents: -o bpftrace-json; a boolean or nothing */
	{
		static const char ev[] = BODY_HEAD ",\"outputEvents\":true}";
		static const char ev_bad[] = BODY_HEAD ",\"outputEvents\":1}";

		assert_int_equal(session_request_decode(ev, strlen(ev), &req, &err), 0);
		assert_true(req.output_events);
		session_request_release(&req);
		assert_int_equal(session_request_decode(none, strlen(none), &req, &err), 0);
		assert_false(req.output_events);
		session_request_release(&req);
		assert_int_equal(session_request_decode(ev_bad, strlen(ev_bad), &req, &err), -EINVAL);
		assert_string_equal(err, "\"outputEvents\": not a boolean");
		free(err);
	}
}

static int teardown(void **state)
{
	(void)state;
	free(tracefs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_kernel),
		cmocka_unit_test(test_format_reader),
		cmocka_unit_test(test_runner_check),
		cmocka_unit_test(test_session_request),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
