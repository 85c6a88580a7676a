// SPDX-License-Identifier: Apache-2.0
/* Record rendering and Status rendering (the line splitter: test-lib-ndjson). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/buf.h"
#include "lib/util.h"
#include "lib/httpstatus.h"
#include "plugin/render.h"

struct cap {
	char *out, *err;
	size_t outlen, errlen;
	FILE *fo, *fe;
	struct kt_render r;
};

static void cap_open(struct cap *c, enum kt_output mode)
{
	memset(c, 0, sizeof(*c));
	c->fo = open_memstream(&c->out, &c->outlen);
	c->fe = open_memstream(&c->err, &c->errlen);
	kt_render_init(&c->r, c->fo, c->fe, mode);
}

static void cap_close(struct cap *c)
{
	fclose(c->fo);
	fclose(c->fe);
	kt_render_release(&c->r);
}

static void cap_free(struct cap *c)
{
	free(c->out);
	free(c->err);
}

static int feed(struct cap *c, const char *line)
{
	return kt_render_line(&c->r, line, strlen(line));
}



/* Progress: a step shows only after a second, once; the end of the start
 * (attached everywhere, or anything printed) ends it. */
static void test_progress(void **state)
{
	const uint64_t s = 1000000000ull;
	struct cap c;
	uint64_t t;

	cap_open(&c, KT_OUT_TEXT);
	t = now_mono_ns();
	kt_progress_start(&c.r, "starting pod/x in ns: resolving, compiling", t);
	kt_progress_tick(&c.r, t + s / 2);          /* fast so far: nothing */
	kt_progress_tick(&c.r, t + s + s / 10);     /* slow: shown */
	kt_progress_tick(&c.r, t + 2 * s);          /* once */
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[\"n1\",\"n2\"]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"compiled\",\"node\":\"n1\"}"), 0);
	t = now_mono_ns();
	kt_progress_tick(&c.r, t + s / 5);          /* a new step: not yet */
	kt_progress_tick(&c.r, t + 3 * s / 2);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"compiled\",\"node\":\"n2\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n1\",\"probes\":1}"), 0);
	t = now_mono_ns();
	kt_progress_tick(&c.r, t + s / 2);          /* attaching, fast so far */
	kt_progress_tick(&c.r, t + 2 * s);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n2\",\"probes\":1}"), 0);
	kt_progress_tick(&c.r, t + 9 * s);          /* attached everywhere: done */
	cap_close(&c);
	assert_string_equal(c.err, "starting pod/x in ns: resolving, compiling...\n"
				   "compiling on 2 nodes (1 done)...\n"
				   "attached on 1 of 2 nodes...\n");
	assert_string_equal(c.out, "Attaching 1 probe...\n");
	cap_free(&c);

	/* a fast start prints nothing; a node that fails does not hold it */
	cap_open(&c, KT_OUT_TEXT);
	t = now_mono_ns();
	kt_progress_start(&c.r, "starting", t);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[\"n1\",\"n2\"]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"compiled\",\"node\":\"n1\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"error\",\"node\":\"n2\",\"message\":\"runner lost\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n1\",\"probes\":1}"), 0);
	kt_progress_tick(&c.r, now_mono_ns() + 9 * s);
	cap_close(&c);
	assert_null(strstr(c.err, "..."));
	cap_free(&c);

	/* a wildcard: the runner's "attaching" counts, summed over nodes */
	cap_open(&c, KT_OUT_TEXT);
	kt_progress_start(&c.r, "starting", now_mono_ns());
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[\"n1\"]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"compiled\",\"node\":\"n1\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attaching\",\"node\":\"n1\",\"done\":0,\"probes\":300}"), 0);
	t = now_mono_ns();
	kt_progress_tick(&c.r, t + 2 * s);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attaching\",\"node\":\"n1\",\"done\":120,\"probes\":300}"), 0);
	kt_progress_tick(&c.r, t + 3 * s);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n1\",\"probes\":300}"), 0);
	kt_progress_tick(&c.r, t + 9 * s);
	cap_close(&c);
	assert_string_equal(c.err, "attaching 0 of 300 probes...\n"
				   "attaching 120 of 300 probes...\n");
	cap_free(&c);

	/* not started (stderr no terminal, -o json): never */
	cap_open(&c, KT_OUT_TEXT);
	kt_progress_tick(&c.r, now_mono_ns() + 9 * s);
	cap_close(&c);
	assert_int_equal(c.errlen, 0);
	cap_free(&c);
}

static void test_render_text(void **state)
{
	struct cap c;

	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[\"a/b\"],\"nodes\":[\"n1\",\"n2\"]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n1\",\"probes\":2}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n2\",\"probes\":2}"), 0);
	/* output text goes out byte for byte, escapes included: it is the program's */
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"pod\":\"a/b\",\"text\":\"bash /etc/passwd\\n\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"text\":\"no newline \\u001b[1m\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"error\",\"node\":\"n1\",\"message\":\"probe\\nfailed \\u001b[31m\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"future-kind\",\"x\":1}"), 0);
	assert_false(c.r.ended);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"exit\",\"events\":12,\"drops\":3,\"exitCode\":7}"), 0);
	assert_true(c.r.ended);
	assert_int_equal(c.r.exit_code, 7);
	assert_int_equal(c.r.drops, 3);
	assert_int_equal(c.r.events, 12);
	assert_string_equal(c.r.end_reason, "exit");
	cap_close(&c);
	assert_string_equal(c.out, "Attaching 2 probes...\nbash /etc/passwd\nno newline \x1b[1m");
	assert_string_equal(c.err, "error: node \"n1\": probe failed ?[31m\n");
	cap_free(&c);
}

/* A workload's stream: several pods on several nodes, printf lines that
 * end mid-line, maps merged; plain text by default (as bpftrace prints),
 * [pod/NAME/NODE] before each line with --prefix. */
static const char *const multi[] = {
	"{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[\"team-a/web-a\",\"team-a/web-a2\"],\"nodes\":[\"node-1\",\"node-2\"]}",
	"{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"node-1\",\"probes\":1}",
	"{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"node-2\",\"probes\":1}",
	"{\"type\":\"output\",\"pod\":\"team-a/web-a\",\"node\":\"node-1\",\"text\":\"cat /m1\\n\"}",
	"{\"type\":\"output\",\"pod\":\"team-a/web-a2\",\"node\":\"node-2\",\"text\":\"cat /m2\\ncat /m2b\\n\"}",
	"{\"type\":\"output\",\"pod\":\"team-a/web-a\",\"node\":\"node-1\",\"text\":\"half \"}",
	"{\"type\":\"output\",\"pod\":\"team-a/web-a2\",\"node\":\"node-2\",\"text\":\"other\\n\"}",
	"{\"type\":\"output\",\"pod\":\"\",\"node\":\"node-2\",\"text\":\"end of node-2\\n\"}",
	"{\"type\":\"error\",\"node\":\"node-2\",\"message\":\"runner \\\"node-2\\\" unreachable or failed\"}",
	"{\"type\":\"map\",\"name\":\"@\",\"kind\":\"count\",\"keyed\":true,\"entries\":[{\"key\":\"cat\",\"keyv\":[\"cat\"],\"value\":5}]}",
	"{\"type\":\"end\",\"reason\":\"error\",\"events\":5,\"failedNodes\":[\"node-2\"],\"message\":\"1 of 2 nodes failed: node \\\"node-2\\\": gone; the other nodes ran to the end (\\\"duration\\\")\"}",
	NULL,
};

static void test_render_multi_node(void **state)
{
	struct cap c;

	cap_open(&c, KT_OUT_TEXT);
	for (size_t i = 0; multi[i]; i++)
		assert_int_equal(feed(&c, multi[i]), 0);
	assert_int_equal(c.r.exit_code, KT_EXIT_NODE);
	cap_close(&c);
	assert_string_equal(c.out, "Attaching 1 probe...\ncat /m1\ncat /m2\ncat /m2b\nhalf other\n"
				   "end of node-2\n@[cat]: 5\n");
	assert_string_equal(c.err, "error: node \"node-2\": runner \"node-2\" unreachable or failed\n"
				   "error: 1 of 2 nodes failed: node \"node-2\": gone; the other nodes "
				   "ran to the end (\"duration\")\n");
	cap_free(&c);

	cap_open(&c, KT_OUT_TEXT);
	c.r.prefix = true;
	for (size_t i = 0; multi[i]; i++)
		assert_int_equal(feed(&c, multi[i]), 0);
	cap_close(&c);
	assert_string_equal(c.out, "Attaching 1 probe...\n"
				   "[pod/web-a/node-1] cat /m1\n"
				   "[pod/web-a2/node-2] cat /m2\n"
				   "[pod/web-a2/node-2] cat /m2b\n"
				   "[pod/web-a/node-1] half \n"
				   "[pod/web-a2/node-2] other\n"
				   "[node/node-2] end of node-2\n"
				   "@[cat]: 5\n");
	cap_free(&c);

	/* a source's unfinished line is finished by its own next output, and
	 * the map after it starts on a line of its own */
	cap_open(&c, KT_OUT_TEXT);
	c.r.prefix = true;
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"pod\":\"a/p\",\"node\":\"n\",\"text\":\"x=\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"pod\":\"a/p\",\"node\":\"n\",\"text\":\"1\\ny=\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"int\",\"keyed\":false,\"entries\":[{\"value\":2}]}"), 0);
	cap_close(&c);
	assert_string_equal(c.out, "[pod/p/n] x=1\n[pod/p/n] y=\n@x: 2\n");
	cap_free(&c);
}

/* Pods joining and leaving a workload trace: a line each on stderr, in
 * text and JSON modes, its text cleaned; the JSON stream keeps the record. */
static void test_render_pod_changes(void **state)
{
	static const char *const lines[] = {
		"{\"type\":\"status\",\"phase\":\"pod-joined\",\"trace\":\"t\",\"pod\":\"team-a/web-a4\",\"node\":\"node-1\"}",
		"{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\",\"pod\":\"team-a/web-a4\",\"node\":\"node-1\"}",
		"{\"type\":\"status\",\"phase\":\"pod-not-joined\",\"trace\":\"t\",\"pod\":\"team-a/x\",\"node\":\"node-9\",\"message\":\"not traced: no runner for node \\\"node-9\\\" \\u001b[2J\"}",
		"{\"type\":\"status\",\"phase\":\"pod-something\",\"pod\":\"team-a/y\"}",
		NULL,
	};
	static const char want[] = "node \"node-1\": pod team-a/web-a4 joined the trace\n"
				   "node \"node-1\": pod team-a/web-a4 left the trace\n"
				   "node \"node-9\": pod team-a/x was not added to the trace: not traced: "
				   "no runner for node \"node-9\" ?[2J\n";
	enum kt_output modes[] = { KT_OUT_TEXT, KT_OUT_JSON };
	struct cap c;

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		cap_open(&c, modes[m]);
		for (size_t i = 0; lines[i]; i++)
			assert_int_equal(feed(&c, lines[i]), 0);
		/* a pod name with a control character is no pod name: refused, not printed */
		assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\","
					  "\"pod\":\"team-a/x\\u001b[2J\",\"node\":\"node-1\"}"), -EBADMSG);
		cap_close(&c);
		assert_string_equal(c.err, want);
		if (modes[m] == KT_OUT_TEXT)
			assert_string_equal(c.out, "");
		else
			assert_non_null(strstr(c.out, "\"phase\":\"pod-joined\""));
		cap_free(&c);
	}
}

static void test_render_map(void **state)
{
	struct cap c;

	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@bytes\",\"kind\":\"count\",\"keyed\":true,"
				  "\"entries\":[{\"key\":\"bash\",\"keyv\":[\"bash\"],\"value\":3},"
				  "{\"key\":\"cat\",\"keyv\":[\"cat\"],\"value\":1}]}"),
			 0);
	cap_close(&c);
	/* as bpftrace prints it at exit: ascending by value */
	assert_non_null(strstr(c.out, "@bytes[cat]: 1\n@bytes[bash]: 3\n"));
	cap_free(&c);
}

/* -o bpftrace-json: bpftrace 0.17's -f json lines on stdout, one per
 * event ("events" of an output record), map and attach count; errors on
 * stderr as in text */
static void test_render_bpftrace_json(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, KT_OUT_BPFTRACE_JSON);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\",\"pods\":[],\"nodes\":[\"n1\",\"n2\"]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n1\",\"probes\":2}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"attached\",\"node\":\"n2\",\"probes\":2}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"pod\":\"\",\"lines\":4,\"text\":\"ab\\n-3\\n(1, x)\\n\","
				  "\"events\":[{\"type\":\"printf\",\"len\":1},{\"type\":\"printf\",\"len\":2},"
				  "{\"type\":\"value\",\"len\":3,\"data\":-3},{\"type\":\"value\",\"len\":7,\"data\":[1,\"x\"]}]}"), 0);
	/* without events (an older runner, a detached trace's log): one printf */
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"lines\":2,\"text\":\"p\\nq\\n\"}"), 0);
	/* text past the events: a printf of its own */
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"text\":\"ab\",\"events\":[{\"type\":\"time\",\"len\":1}]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@c\",\"kind\":\"count\",\"keyed\":true,"
				  "\"entries\":[{\"key\":\"b\",\"keyv\":[\"b\"],\"value\":3},{\"key\":\"a\",\"keyv\":[\"a\"],\"value\":1}]}"), 0);
	/* print(@c, 1): top honoured */
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@c\",\"kind\":\"count\",\"keyed\":true,\"print\":true,\"top\":1,"
				  "\"entries\":[{\"key\":\"b\",\"keyv\":[\"b\"],\"value\":3},{\"key\":\"a\",\"keyv\":[\"a\"],\"value\":1}]}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"error\",\"node\":\"n2\",\"message\":\"runner lost\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"exit\",\"drops\":4,\"exitCode\":3}"), 0);
	/* events that do not fit the text are a bad record */
	assert_int_equal(feed(&c, "{\"type\":\"output\",\"text\":\"ab\",\"events\":[{\"type\":\"printf\",\"len\":3}]}"), -EBADMSG);
	assert_non_null(strstr(c.r.problem, "do not fit"));
	cap_close(&c);
	assert_string_equal(c.out, "{\"type\": \"attached_probes\", \"data\": {\"probes\": 2}}\n"
				   "{\"type\": \"printf\", \"data\": \"a\"}\n"
				   "{\"type\": \"printf\", \"data\": \"b\\n\"}\n"
				   "{\"type\": \"value\", \"data\": -3}\n"
				   "{\"type\": \"value\", \"data\": [1,\"x\"]}\n"
				   "{\"type\": \"printf\", \"data\": \"p\\nq\\n\"}\n"
				   "{\"type\": \"time\", \"data\": \"a\"}\n"
				   "{\"type\": \"printf\", \"data\": \"b\"}\n"
				   "{\"type\": \"map\", \"data\": {\"@c\": {\"a\": 1, \"b\": 3}}}\n"
				   "{\"type\": \"map\", \"data\": {\"@c\": {\"b\": 3}}}\n"
				   "{\"type\": \"lost_events\", \"data\": {\"events\": 4}}\n");
	assert_string_equal(c.err, "error: node \"n2\": runner lost\n");
	assert_int_equal(c.r.exit_code, 3);
	cap_free(&c);

	/* text honours print()'s top and div too (it printed every entry) */
	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@c\",\"kind\":\"count\",\"keyed\":true,\"print\":true,\"top\":1,"
				  "\"div\":3,\"entries\":[{\"key\":\"b\",\"keyv\":[\"b\"],\"value\":9},{\"key\":\"a\",\"keyv\":[\"a\"],\"value\":1}]}"), 0);
	cap_close(&c);
	assert_string_equal(c.out, "@c[b]: 3\n");
	cap_free(&c);
}

static void test_render_json_and_bad_lines(void **state)
{
	struct cap c;
	const char *l1 = "{\"type\":\"output\",\"text\":\"x\\n\"}";

	cap_open(&c, KT_OUT_JSON);
	assert_int_equal(feed(&c, l1), 0);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"error\",\"drops\":0}"), 0);
	assert_true(c.r.ended);
	assert_int_equal(c.r.exit_code, KT_EXIT_NODE);  /* the trace failed on its node */
	assert_int_equal(feed(&c, "not json"), -EBADMSG);
	assert_non_null(strstr(c.r.problem, "not a JSON object"));
	assert_int_equal(feed(&c, "{\"no\":\"type\"}"), -EBADMSG);
	assert_non_null(strstr(c.r.problem, "without \"type\""));
	assert_int_equal(feed(&c, "[1]"), -EBADMSG);
	cap_close(&c);
	assert_string_equal(c.out, "{\"type\":\"output\",\"text\":\"x\\n\"}\n"
				   "{\"type\":\"end\",\"reason\":\"error\",\"drops\":0}\n");
	cap_free(&c);

	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, "{\"type\":\"output\"}"), -EBADMSG);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@x\",\"kind\":\"bogus\",\"entries\":[]}"), -EBADMSG);
	assert_non_null(strstr(c.r.problem, "cannot print map record \"@x\""));
	cap_close(&c);
	cap_free(&c);
	/* the end record is wire/end.h's: a count that is not one is
	 * refused naming it */
	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"exit\",\"drops\":\"3\"}"), -EBADMSG);
	assert_non_null(strstr(c.r.problem, "\"drops\""));
	assert_true(c.r.ended);
	cap_close(&c);
	cap_free(&c);
}

static void expect_problem(enum kt_output mode, const char *line, const char *want)
{
	struct cap c;

	cap_open(&c, mode);
	if (feed(&c, line) != -EBADMSG)
		fail_msg("mode %d: %s: not refused", (int)mode, line);
	if (!c.r.problem || !strstr(c.r.problem, want))
		fail_msg("%s: %s (wanted %s)", line, c.r.problem, want);
	cap_close(&c);
	cap_free(&c);
}

/*
 * Version skew: kubectl-trace may be older than its gateway.  A member
 * the plugin does not know (a newer gateway's) is skipped in every record
 * the plugin decodes (accepted, pod changes, errors, the end); a member it
 * knows with the wrong type is refused with a message naming it.
 */
static void test_render_version_skew(void **state)
{
	enum kt_output modes[] = { KT_OUT_TEXT, KT_OUT_JSON, KT_OUT_BPFTRACE_JSON };
	struct cap c;

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		cap_open(&c, modes[m]);
		assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t-1\","
					  "\"pods\":[\"a/b\"],\"nodes\":[\"node-1\"],\"cluster\":{\"name\":\"x\"}}"), 0);
		assert_string_equal(c.r.trace_id, "t-1");
		assert_int_equal(feed(&c, "{\"type\":\"status\",\"phase\":\"pod-joined\",\"trace\":\"t-1\","
					  "\"pod\":\"a/c\",\"node\":\"node-1\",\"since\":3}"), 0);
		assert_int_equal(feed(&c, "{\"type\":\"error\",\"node\":\"node-1\",\"message\":\"boom\","
					  "\"hint\":[1,2],\"code\":503}"), 0);
		assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"error\",\"events\":2,"
					  "\"exitcode\":0,\"newCounts\":{\"a\":1}}"), 0);
		assert_true(c.r.ended);
		assert_int_equal(c.r.exit_code, KT_EXIT_NODE);
		cap_close(&c);
		assert_non_null(strstr(c.err, "pod a/c joined the trace"));
		if (modes[m] == KT_OUT_JSON)   /* the stream as it came, unknown members too */
			assert_non_null(strstr(c.out, "\"hint\":[1,2]"));
		else
			assert_non_null(strstr(c.err, "node \"node-1\": boom"));
		cap_free(&c);

		expect_problem(modes[m], "{\"type\":\"error\",\"message\":\"x\",\"code\":\"403\"}", "\"code\"");
		expect_problem(modes[m], "{\"type\":\"error\",\"message\":\"x\",\"code\":42}", "\"code\"");
		expect_problem(modes[m], "{\"type\":\"error\",\"message\":\"x\",\"node\":5}", "\"node\"");
		expect_problem(modes[m], "{\"type\":\"error\",\"message\":\"x\",\"warning\":1}", "\"warning\"");
		expect_problem(modes[m], "{\"type\":\"error\",\"text\":\"x\"}", "\"message\"");
		expect_problem(modes[m], "{\"type\":\"end\",\"reason\":\"exit\",\"events\":-1,\"x\":1}",
			       "\"events\"");
		expect_problem(modes[m], "{\"type\":\"status\",\"phase\":\"accepted\",\"trace\":\"t\","
					 "\"pods\":[],\"nodes\":\"node-1\",\"x\":1}", "\"nodes\"");
		expect_problem(modes[m], "{\"type\":\"status\",\"phase\":\"pod-left\",\"trace\":\"t\","
					 "\"pod\":[\"a/b\"],\"x\":1}", "\"pod\"");
	}
}

static void test_status_forbidden_one_line(void **state)
{
	struct buf b = BUF_INIT(0);
	const char body[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			    "\"message\":\"user \\\"alice\\\" may not create traces in namespace \\\"team-b\\\"\","
			    "\"reason\":\"Forbidden\",\"code\":403}";

	assert_int_equal(kt_status_render(&b, 403, body, strlen(body)), 0);
	assert_string_equal(b.s, "Error from server (Forbidden): user \"alice\" may not create traces in namespace \"team-b\"\n");
	assert_true(kt_status_is_denial(403));
	assert_false(kt_status_is_denial(503));
	buf_release(&b);
}

static void test_status_causes(void **state)
{
	struct buf b = BUF_INIT(0);
	const char body[] =
		"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"program denied by policy\","
		"\"reason\":\"Forbidden\",\"code\":403,\"details\":{\"causes\":["
		"{\"reason\":\"FieldValueForbidden\",\"field\":\"program:1:1\",\"message\":\"probe \\\"kprobe:vfs_read\\\" is not allowed\"},"
		"{\"message\":\"tried policies: restricted\"},{\"field\":\"x\"}]}}";

	assert_int_equal(kt_status_render(&b, 403, body, strlen(body)), 0);
	assert_string_equal(b.s, "Error from server (Forbidden): program denied by policy\n"
				 "  program:1:1: probe \"kprobe:vfs_read\" is not allowed\n"
				 "  tried policies: restricted\n");
	buf_release(&b);
}

static void test_status_not_a_status(void **state)
{
	struct buf b = BUF_INIT(0);
	const char html[] = "<html>\x1b]0;pwned\x07 bad gateway</html>\nsecond line";
	const char msg[] = "{\"kind\":\"Status\",\"message\":\"line one\\nline two\",\"code\":401}";

	/* the reason comes from the code; the body's first line, cleaned */
	assert_int_equal(kt_status_render(&b, 502, html, strlen(html)), 0);
	assert_string_equal(b.s, "Error from server (BadGateway): <html>?]0;pwned? bad gateway</html>\n");
	buf_clear(&b);
	assert_int_equal(kt_status_render(&b, 503, "", 0), 0);
	assert_string_equal(b.s, "Error from server (ServiceUnavailable): the server answered HTTP 503\n");
	buf_clear(&b);
	/* a Status without reason: the code's; a message stays one line */
	assert_int_equal(kt_status_render(&b, 401, msg, strlen(msg)), 0);
	assert_string_equal(b.s, "Error from server (Unauthorized): line one line two\n");
	buf_release(&b);
	assert_string_equal(status_reason(429), "TooManyRequests");
	assert_string_equal(status_reason(411), "LengthRequired");
	assert_string_equal(http_reason_phrase(411), "Length Required");
	assert_string_equal(status_reason(418), "BadRequest");
	assert_string_equal(status_reason(599), "InternalError");
	assert_string_equal(http_reason_phrase(418), "Unknown");
}

/* A node found a program error: bpftrace's form, from the program's own
 * text (a tab printed as four spaces, the caret under its column, as
 * bpftrace 0.17 prints them), once for two nodes; the exit status says
 * "program error". */
static void test_render_node_program_error(void **state)
{
	static const char prog[] = "BEGIN { }\n\ttracepoint:syscalls:sys_enter_openat { printf(\"%d\\n\", comm); }\n";
	static const char rec[] =
		"{\"type\":\"error\",\"node\":\"%s\",\"code\":400,\"message\":\"runner \\\"%s\\\" refused the "
		"session (HTTP 400): program:2:42: ERROR: printf: \\\"%%d\\\" (argument 1) expects a value of "
		"type integer (string supplied)\\ntracepoint...\\n     ^\"}";
	char line[1024];
	struct cap c;

	cap_open(&c, KT_OUT_TEXT);
	c.r.program = prog;
	snprintf(line, sizeof(line), rec, "node-1", "node-1");
	assert_int_equal(feed(&c, line), 0);
	snprintf(line, sizeof(line), rec, "node-2", "node-2");
	assert_int_equal(feed(&c, line), 0);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"error\"}"), 0);
	assert_int_equal(c.r.exit_code, KT_EXIT_PROGRAM);
	cap_close(&c);
	assert_string_equal(c.err,
			    "program:2:42: ERROR: printf: \"%d\" (argument 1) expects a value of type integer (string supplied)\n"
			    "    tracepoint:syscalls:sys_enter_openat { printf(\"%d\\n\", comm); }\n"
			    "                                            ^\n");
	cap_free(&c);

	/* the runner's own policy check (403) is a refusal */
	cap_open(&c, KT_OUT_TEXT);
	c.r.program = prog;
	assert_int_equal(feed(&c, "{\"type\":\"error\",\"code\":403,\"message\":\"program:1:1: field\"}"), 0);
	assert_int_equal(feed(&c, "{\"type\":\"end\",\"reason\":\"error\"}"), 0);
	assert_int_equal(c.r.exit_code, KT_EXIT_REFUSED);
	cap_close(&c);
	assert_string_equal(c.err, "program:1:1: ERROR: field\nBEGIN { }\n^\n");
	cap_free(&c);
}

/* Refusals of the gateway that point into the program: bpftrace's form,
 * and nothing said twice. */
static void test_status_program(void **state)
{
	struct buf b = BUF_INIT(0);
	const char prog[] = "tracepoint:syscalls:sys_enter_openat\n{ @x = counnt(); }";
	const char bad[] = "{\"kind\":\"Status\",\"message\":\"program:2:8: function \\\"counnt\\\" is not known\","
			   "\"reason\":\"BadRequest\",\"code\":400,\"details\":{\"causes\":[{\"field\":\"program:2:8\","
			   "\"message\":\"function \\\"counnt\\\" is not known\"}]}}";
	const char denied[] = "{\"kind\":\"Status\",\"message\":\"denied: 1:1: probe \\\"kprobe:vfs_read\\\" is not "
			      "allowed; policies tried: \\\"restricted\\\"\",\"reason\":\"Forbidden\",\"code\":403,"
			      "\"details\":{\"causes\":[{\"field\":\"program:1:1\",\"message\":\"probe \\\"kprobe:vfs_read\\\" "
			      "is not allowed\"}]}}";

	assert_int_equal(kt_status_render_program(&b, 400, bad, strlen(bad), prog), 0);
	assert_string_equal(b.s, "program:2:8: ERROR: function \"counnt\" is not known\n"
				 "{ @x = counnt(); }\n"
				 "       ^\n");
	assert_int_equal(kt_status_exit(400, bad, strlen(bad)), KT_EXIT_PROGRAM);
	buf_clear(&b);
	assert_int_equal(kt_status_render_program(&b, 403, denied, strlen(denied), "kprobe:vfs_read { }"), 0);
	assert_string_equal(b.s, "program:1:1: ERROR: probe \"kprobe:vfs_read\" is not allowed\n"
				 "kprobe:vfs_read { }\n"
				 "^\n"
				 "Error from server (Forbidden): the program is denied by policy; policies tried: \"restricted\"\n");
	assert_int_equal(kt_status_exit(403, denied, strlen(denied)), KT_EXIT_REFUSED);
	assert_int_equal(kt_status_exit(429, "", 0), KT_EXIT_REFUSED);
	assert_int_equal(kt_status_exit(400, "{\"message\":\"body is not JSON\"}", 29), KT_EXIT_FAILURE);
	assert_int_equal(kt_status_exit(503, "", 0), KT_EXIT_FAILURE);
	/* a line past the program's end: the message alone */
	buf_clear(&b);
	assert_int_equal(kt_program_error(&b, "9:1", 3, "x", 1, prog), 0);
	assert_string_equal(b.s, "program:9:1: ERROR: x\n");
	buf_release(&b);
}

static void test_yaml(void **state)
{
	struct buf b = BUF_INIT(0);
	json_t *j = json_loads("{\"type\":\"map\",\"name\":\"@x\",\"keyed\":true,\"n\":3,"
			       "\"entries\":[{\"key\":\"a: b\",\"keyv\":[\"yes\",1]},{}],"
			       "\"empty\":[],\"o\":{\"s\":\"line\\nnext\",\"t\":\"plain-word\"}}", 0, NULL);

	assert_non_null(j);
	assert_int_equal(kt_yaml_emit(&b, j), 0);
	assert_string_equal(b.s, "type: map\n"
				 "name: \"@x\"\n"
				 "keyed: true\n"
				 "\"n\": 3\n"  /* YAML 1.1 reads a bare n as false */
				 "entries:\n"
				 "- key: \"a: b\"\n"
				 "  keyv:\n"
				 "  - \"yes\"\n"
				 "  - 1\n"
				 "- {}\n"
				 "empty: []\n"
				 "o:\n"
				 "  s: \"line\\nnext\"\n"
				 "  t: plain-word\n");
	json_decref(j);
	buf_release(&b);
}

/* A hostile gateway (or any text it relays) cannot drive the terminal
 * through what the plugin cleans: C1 controls as UTF-8 (U+009B is CSI to
 * xterm), a raw 0x9b byte (CSI to an 8-bit terminal) in a body that is
 * not JSON, bidirectional overrides that reorder what is shown, overlong
 * and truncated sequences; well-formed text outside them is kept. */
static void test_clean_c1_and_bidi(void **state)
{
	struct buf b = BUF_INIT(0);
	const char csi8[] = "<html>\x9b" "2J\x9b" "31mred</html>";
	const char json[] = "{\"kind\":\"Status\",\"message\":\"a\\u009b2Jb\\u202egnp.exe \\u00e9t\\u00e9 \\u4e2d\",\"code\":403}";
	const char raw[] = "x\xc2\x9b" "1m\xe2\x80\xae" "y\xc0\xaf\xe2\x82" "z";

	(void)state;
	assert_int_equal(kt_status_render(&b, 502, csi8, strlen(csi8)), 0);
	assert_string_equal(b.s, "Error from server (BadGateway): <html>?2J?31mred</html>\n");
	buf_clear(&b);
	assert_int_equal(kt_status_render(&b, 403, json, strlen(json)), 0);
	assert_string_equal(b.s, "Error from server (Forbidden): a?2Jb?gnp.exe \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\n");
	buf_clear(&b);
	assert_int_equal(kt_add_clean(&b, raw, strlen(raw), false), 0);
	assert_string_equal(b.s, "x?1m?y????z");   /* c0 af e2 82: four bad bytes */
	buf_release(&b);
}

/* -o json and -o yaml print the server's objects (a Trace's program, a
 * tenant's text): what the terminal would act on is escaped, not raw */
static void test_json_yaml_escape_terminal_controls(void **state)
{
	const char text[] = "{\"program\":\"a\\u009b2J\\u202eb\\u007f\\u00e9\\n\"}";
	json_t *j = json_loads(text, 0, NULL);
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_non_null(j);
	assert_int_equal(kt_add_json(&b, j, JSON_COMPACT), 0);
	assert_string_equal(b.s, "{\"program\":\"a\\u009b2J\\u202eb\\u007f\xc3\xa9\\n\"}");
	buf_clear(&b);
	assert_int_equal(kt_yaml_emit(&b, j), 0);
	assert_string_equal(b.s, "program: \"a\\u009b2J\\u202eb\\u007f\xc3\xa9\\n\"\n");
	buf_release(&b);
	json_decref(j);
}

/* -o json streams each record as it came, but for the code points the
 * terminal acts on (a tenant's printf text, read by another user's
 * `logs -o json`): the same record, escaped */
static void test_render_json_escapes_terminal_controls(void **state)
{
	struct cap c;

	(void)state;
	cap_open(&c, KT_OUT_JSON);
	assert_int_equal(feed(&c, "{\"type\":\"output\",\r\"text\":\"\xc2\x9b" "2J\xe2\x80\xae\x7f\xc3\xa9\\u001b\"}"), 0);
	cap_close(&c);
	assert_string_equal(c.out, "{\"type\":\"output\", \"text\":\"\\u009b2J\\u202e\\u007f\xc3\xa9\\u001b\"}\n");
	cap_free(&c);
}

/* logs and attach on a terminal: the trace may be another user's, its
 * output and maps are cleaned as the server's text is (newlines and tabs
 * kept); run's output stays the program's exact bytes */
static void test_render_clean_output(void **state)
{
	const char *rec = "{\"type\":\"output\",\"text\":\"\\u001b]52;c;cm0gLXJmIH4K\\u0007a\\tb\\r\xc2\x9b" "2J\\n\"}";
	struct cap c;

	(void)state;
	cap_open(&c, KT_OUT_TEXT);
	c.r.clean_output = true;
	assert_int_equal(feed(&c, rec), 0);
	assert_int_equal(feed(&c, "{\"type\":\"map\",\"name\":\"@k\",\"kind\":\"count\","
				  "\"entries\":[{\"key\":\"\\u001b[2J\",\"value\":3}]}"), 0);
	cap_close(&c);
	assert_null(strchr(c.out, '\x1b'));
	assert_non_null(strstr(c.out, "?]52;c;cm0gLXJmIH4K?a\tb ?2J\n"));
	cap_free(&c);

	cap_open(&c, KT_OUT_TEXT);
	assert_int_equal(feed(&c, rec), 0);
	cap_close(&c);
	assert_non_null(strstr(c.out, "\x1b]52;c;"));
	cap_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_map),
		cmocka_unit_test(test_render_pod_changes),
		cmocka_unit_test(test_render_multi_node),
		cmocka_unit_test(test_render_json_and_bad_lines),
		cmocka_unit_test(test_render_version_skew),
		cmocka_unit_test(test_status_forbidden_one_line),
		cmocka_unit_test(test_status_causes),
		cmocka_unit_test(test_render_node_program_error),
		cmocka_unit_test(test_status_program),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_render_bpftrace_json),
		cmocka_unit_test(test_status_not_a_status),
		cmocka_unit_test(test_clean_c1_and_bidi),
		cmocka_unit_test(test_json_yaml_escape_terminal_controls),
		cmocka_unit_test(test_render_json_escapes_terminal_controls),
		cmocka_unit_test(test_render_clean_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
