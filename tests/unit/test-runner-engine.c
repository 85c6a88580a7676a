// SPDX-License-Identifier: Apache-2.0
/*
 * engine_execute (runner/engine.h), for real: programs prepared, compiled
 * in the compile jail (as a runner has it: the defaults and the
 * environment), verified, loaded and run on this kernel, their events
 * caused by the test itself (a tracepoint on getppid and a uprobe on a
 * function of this binary, both filtered on our pid).  Each case compares
 * every call the sink got, in order (one transcript line per call), and
 * the result (reason, counts, exit code) with what the header promises:
 * BEGIN's output after "attached", END after every probe, maps sorted by
 * name at the end; exit(), the end of a BEGIN/END-only program, duration,
 * the output, rate and map entry limits, a stop from another thread; a
 * sink that fails, an after_attach hook that refuses, dry runs.  The
 * cases that are a program and options in, a transcript out, are a table
 * (tcases); the others are code.  After every run the process holds the
 * fds it held before, and every BPF program it had loaded is gone from
 * the kernel.
 *
 * Needs root, BPF, kernel BTF and tracefs: without them a case skips,
 * and fails under CI=true.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "output/output.h"
#include "runner/engine.h"
#include "tests/unit/tmpdir.h"

#define MS              1000000ull
/* generous: the machine is shared and may be loaded */
#define WAIT_MS         60000
#define MAX_PROGS       64

static char cache_dir[] = "/tmp/tg-test-engine.XXXXXX";
static const char *no_bpf;      /* why BPF cannot be used here, or NULL */

/* Every case: BPF here, or skip (fail under CI=true). */
static void need_bpf(void)
{
	if (!no_bpf)
		return;
	if (getenv("CI") && !strcmp(getenv("CI"), "true"))
		fail_msg("needs BPF under CI: %s", no_bpf);
	print_message("# skipped: %s\n", no_bpf);
	skip();
}

/* ---- the sink: a transcript of its calls ----------------------------------- */

struct tlog {
	struct buf t;               /* one line per call, in order */
	json_t *maps;               /* copies of the map records */
	uint64_t progs[MAX_PROGS];  /* BPF programs seen through our fds */
	size_t nprogs;
	size_t noutput;             /* output calls */
	size_t out_bytes;           /* and their text */
	int fail_output;            /* returned by output() (0: none) */
	int fail_map;               /* returned by map() */
	int attached[2];            /* a pipe, written at "attached" */
};

static void tlog_init(struct tlog *l)
{
	memset(l, 0, sizeof(*l));
	l->t = (struct buf)BUF_INIT(1 << 20);
	l->maps = json_array();
	assert_non_null(l->maps);
	assert_int_equal(pipe2(l->attached, O_CLOEXEC), 0);
}

static void tlog_release(struct tlog *l)
{
	buf_release(&l->t);
	json_decref(l->maps);
	close(l->attached[0]);
	close(l->attached[1]);
}

/* The programs our fds hold now (programs and links say "prog_id:"). */
static void note_progs(struct tlog *l)
{
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], line[128];
		unsigned long long id;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			size_t i;

			if (sscanf(line, "prog_id: %llu", &id) != 1)
				continue;
			for (i = 0; i < l->nprogs && l->progs[i] != id; i++)
				;
			if (i == l->nprogs && l->nprogs < MAX_PROGS)
				l->progs[l->nprogs++] = id;
		}
		fclose(f);
	}
	closedir(d);
}

static int on_output(void *ctx, uint64_t cgid, const char *text, size_t len)
{
	struct tlog *l = ctx;

	assert_int_equal(cgid, 0);      /* no scope */
	l->noutput++;
	l->out_bytes += len;
	buf_adds(&l->t, "output ");
	buf_add(&l->t, text, len);
	if (!len || text[len - 1] != '\n')
		buf_addc(&l->t, '\n');
	return l->fail_output;
}

static int on_output_rec(void *ctx, uint64_t cgid, const char *kind, const char *text, size_t len,
			 const json_t *value)
{
	struct tlog *l = ctx;
	_cleanup_free_ char *v = value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	buf_printf(&l->t, "%s %s ", kind, v ? v : "-");
	return on_output(ctx, cgid, text, len);
}

static int on_map(void *ctx, json_t *rec)
{
	struct tlog *l = ctx;

	buf_printf(&l->t, "%s %s\n", json_is_true(json_object_get(rec, "print")) ? "print" : "map",
		   json_string_value(json_object_get(rec, "name")));
	assert_int_equal(json_array_append_new(l->maps, json_deep_copy(rec)), 0);
	return l->fail_map;
}

static int on_status(void *ctx, const char *phase, json_t *details)
{
	struct tlog *l = ctx;
	_cleanup_free_ char *d = NULL;

	if (strcmp(phase, "compiled"))
		note_progs(l);
	/* "compiled" names the object; "attaching" repeats as it goes on */
	if (!strcmp(phase, "compiled") || !strcmp(phase, "loaded")) {
		buf_printf(&l->t, "status %s\n", phase);
		return 0;
	}
	if (!strcmp(phase, "attaching") && l->t.len && strstr(l->t.s, "status attaching"))
		return 0;
	d = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
	buf_printf(&l->t, "status %s %s\n", phase, d ? d : "?");
	if (!strcmp(phase, "attached"))
		assert_int_equal(write(l->attached[1], "a", 1), 1);
	return 0;
}

static int on_warning(void *ctx, const char *msg)
{
	struct tlog *l = ctx;

	buf_printf(&l->t, "warning %s\n", msg);
	return 0;
}

static const struct engine_sink sink = {
	.output = on_output, .map = on_map, .status = on_status, .warning = on_warning,
};

/* The last map record named name */
static json_t *map_rec(struct tlog *l, const char *name)
{
	json_t *rec, *found = NULL;
	size_t i;

	json_array_foreach(l->maps, i, rec)
		if (!strcmp(json_string_value(json_object_get(rec, "name")), name))
			found = rec;
	assert_non_null(found);
	return found;
}

/* The value of a map without keys */
static json_t *map_value(struct tlog *l, const char *name)
{
	json_t *e = json_array_get(json_object_get(map_rec(l, name), "entries"), 0);

	assert_non_null(e);
	return json_object_get(e, "value");
}

/* ---- one run ------------------------------------------------------------------ */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The kernel frees a program once its last reference is gone, after a
 * grace period: wait for each, bounded. */
static void assert_progs_gone(const struct tlog *l)
{
	for (size_t i = 0; i < l->nprogs; i++) {
		uint64_t start = now_mono_ns();
		int fd;

		while ((fd = bpf_prog_get_fd_by_id((uint32_t)l->progs[i])) >= 0) {
			close(fd);
			if (now_mono_ns() - start > WAIT_MS * MS)
				fail_msg("BPF program %llu still loaded after the run",
					 (unsigned long long)l->progs[i]);
			usleep(10000);
		}
		assert_int_equal(errno, ENOENT);
	}
}

/* The options every case starts from: this test's object cache, the
 * compile jail as a runner has it (the defaults and the environment), no
 * stop, no limits. */
static struct engine_opts opts_for(const char *program)
{
	return (struct engine_opts){ .sz = sizeof(struct engine_opts), .program = program,
				     .program_len = strlen(program), .program_name = "test",
				     .stop_fd = -1, .cache_dir = cache_dir };
}

/* One run: what its sink was handed, what the engine returned */
struct trun {
	struct tlog l;
	struct engine_result res;
	int r;
	char *err;
	size_t held;                /* res.nheld_fds before engine_result_release */
	uint64_t took_ns;           /* of engine_execute */
};

/* Every case starts here: BPF, or skip (fail under CI=true) */
static void trun_init(struct trun *x)
{
	need_bpf();
	memset(x, 0, sizeof(*x));
	tlog_init(&x->l);
}

static void trun_release(struct trun *x)
{
	tlog_release(&x->l);
	free(x->err);
}

/* Prepare, compile and execute eo's program (s NULL: the sink above).
 * Fails when prepare or compile fail, or when the run leaves an fd or a
 * program behind. */
static void trun_exec(struct trun *x, const struct engine_opts *eo, const struct engine_sink *s)
{
	struct engine_prog *p = NULL;
	struct compile_result cr = { 0 };
	char *err = NULL;
	int before = count_fds();
	uint64_t start;

	s = s ? s : &sink;
	if (engine_prepare(eo, s, &x->l, &p, &err) < 0)
		fail_msg("prepare: %s", err ? err : "?");
	if (engine_compile(p, &cr, &err) < 0)
		fail_msg("compile: %s", err ? err : "?");
	start = now_mono_ns();
	x->r = engine_execute(p, &cr, s, &x->l, &x->res, &x->err);
	x->took_ns = now_mono_ns() - start;
	x->held = x->res.nheld_fds;
	engine_result_release(&x->res);
	free(cr.obj);
	engine_prog_free(p);
	assert_int_equal(count_fds(), before);
	assert_progs_gone(&x->l);
}

/* How it ended: its code (the message with it), the result's reason and,
 * unless NULL, the sink's whole transcript */
static void assert_ended(const struct trun *x, int r, const char *reason, const char *transcript)
{
	if (x->r != r)
		fail_msg("engine_execute: %d (%s), not %d", x->r, x->err ? x->err : "no message", r);
	if (r < 0)
		assert_non_null(x->err);
	else
		assert_null(x->err);
	assert_string_equal(x->res.reason, reason);
	if (transcript)
		assert_string_equal(x->l.t.s, transcript);
	/* what the result counts is what the sink was handed */
	assert_int_equal(x->res.events, x->l.noutput);
	assert_int_equal(x->res.output_bytes, x->l.out_bytes);
}

/* ---- helper threads: a stop, or events of our own once attached ----------- */

struct helper {
	pthread_t th;
	const struct tlog *l;
	int stop_fd;                /* write end: written once attached, or -1 */
	long (*poke)(void);         /* called until done, once attached, or NULL */
	atomic_bool done;
	atomic_ulong pokes;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct pollfd pf = { .fd = h->l->attached[0], .events = POLLIN };
	uint64_t start = now_mono_ns();

	if (poll(&pf, 1, WAIT_MS) != 1)
		return NULL;
	if (h->stop_fd >= 0 && write(h->stop_fd, "s", 1) != 1)
		return NULL;
	while (h->poke && !atomic_load(&h->done) && now_mono_ns() - start < WAIT_MS * MS) {
		h->poke();
		atomic_fetch_add(&h->pokes, 1);
		usleep(2000);
	}
	return NULL;
}

static void helper_start(struct helper *h, const struct tlog *l, int stop_fd, long (*poke)(void))
{
	memset(h, 0, sizeof(*h));
	h->l = l;
	h->stop_fd = stop_fd;
	h->poke = poke;
	assert_int_equal(pthread_create(&h->th, NULL, helper_main, h), 0);
}

static void helper_join(struct helper *h)
{
	atomic_store(&h->done, true);
	assert_int_equal(pthread_join(h->th, NULL), 0);
}

static long call_getppid(void)
{
	return syscall(SYS_getppid);
}

/* The uprobe's target: not inlined, not folded away */
long tu_engine_probe_target(long x);
__attribute__((noinline)) long tu_engine_probe_target(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static long call_target(void)
{
	return tu_engine_probe_target(41);
}

/* ---- cases as data: a program and options in, what the sink got out ------ */

struct tcase {
	const char *name;
	const char *program;
	uint64_t duration_ns;
	bool run_until_stopped, dry_run, load_only;
	bool typed;                 /* the sink takes output_rec */
	bool refuse;                /* after_attach refuses */
	struct engine_limits lim;   /* used when lim.sz */
	int fail_output;            /* the sink's output() fails so */
	int fail_map;               /* its map() */
	/* what comes out */
	int r;
	const char *reason;
	const char *transcript;     /* every call the sink got, in order */
	const char *maps;           /* the maps at the end as bpftrace prints them */
	const char *err;            /* the message with r */
	int exit_code;
	uint64_t map_drops;
	size_t progs;               /* BPF programs loaded (then gone) */
};

/* The statuses as the transcript has them: "compiled"; for a program with
 * probes to attach, "attaching" with their number; "attached" with the
 * number of every probe (BEGIN and END count) */
#define COMPILED        "status compiled\n"
#define ATTACHING(n)    "status attaching {\"done\":0,\"probes\":" #n "}\n"
#define ATTACHED(n)     "status attached {\"probes\":" #n "}\n"

#define BEGIN_END       "BEGIN { printf(\"begin\\n\"); } END { printf(\"end\\n\"); }"
#define BEGIN_TP        "BEGIN { printf(\"begin\\n\"); } tracepoint:syscalls:sys_enter_getppid { @calls = count(); }"
#define LIMITS(...)     { .sz = sizeof(struct engine_limits), __VA_ARGS__ }

static const struct tcase tcases[] = {
	/* BEGIN's output after "attached", what follows exit() in the block
	 * never runs, END runs last */
	{ .name = "begin_exit", .reason = "exit", .exit_code = 3, .progs = 2,
	  .program = "BEGIN { printf(\"hello %d\\n\", 42); printf(\"%s\\n\", \"two\"); exit(3); "
		     "printf(\"never\\n\"); }\nEND { printf(\"end\\n\"); }",
	  .transcript = COMPILED ATTACHED(2) "output hello 42\noutput two\noutput end\n" },

	/* maps at the end, sorted by name, as bpftrace prints them; print(@m)
	 * while running is a record of its own, in event order */
	{ .name = "maps_at_end", .reason = "exit", .progs = 1,
	  .program = "BEGIN { @k[\"b\"] = count(); @k[\"a\"] = count(); @k[\"b\"] = count(); print(@k);\n"
		     "  @h = hist(-3); @h = hist(0); @h = hist(2); @h = hist(3);\n"
		     "  @h = hist(6); @h = hist(7); @h = hist(5); @h = hist(4);\n"
		     "  @c = count(); @c = count(); @a = 7; printf(\"done\\n\"); exit(); }",
	  .transcript = COMPILED ATTACHED(1) "print @k\noutput done\nmap @a\nmap @c\nmap @h\nmap @k\n",
	  .maps = "@a: 7\n"
		  "@c: 2\n"
		  "@h: \n"
		  "(..., 0)               1 |@@@@@@@@@@@@@                                       |\n"
		  "[0]                    1 |@@@@@@@@@@@@@                                       |\n"
		  "[1]                    0 |                                                    |\n"
		  "[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		  "[4, 8)                 4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		  "\n"
		  "@k[a]: 1\n@k[b]: 2\n" },

	/* the kinds output_rec tells apart, print()'s value typed */
	{ .name = "output_kinds", .typed = true, .reason = "exit", .progs = 1,
	  .program = "BEGIN { printf(\"p %d\\n\", 1); print(-5); print(\"s\"); print((1, \"t\")); exit(); }",
	  .transcript = COMPILED ATTACHED(1) "printf - output p 1\nvalue -5 output -5\n"
		        "value \"s\" output s\nvalue [1,\"t\"] output (1, t)\n" },

	/* without exit(), a BEGIN/END-only program ends after BEGIN ... */
	{ .name = "begin_end_only", .program = BEGIN_END, .reason = "end", .progs = 2,
	  .transcript = COMPILED ATTACHED(2) "output begin\noutput end\n" },
	/* ... unless it runs until stopped: then until its duration */
	{ .name = "run_until_stopped", .program = BEGIN_END, .run_until_stopped = true,
	  .duration_ns = 300 * MS, .reason = "duration", .progs = 2,
	  .transcript = COMPILED ATTACHED(2) "output begin\noutput end\n" },

	/* maxOutputBytes: the record that would pass it is not delivered,
	 * nor anything after it (END's output included); the warning comes
	 * after the output it follows, BEGIN's too */
	{ .name = "output_limit", .lim = LIMITS(.max_output_bytes = 25), .reason = "output-limit", .progs = 2,
	  .program = "BEGIN { printf(\"0123456789\\n\"); printf(\"0123456789\\n\"); "
		     "printf(\"0123456789\\n\"); printf(\"x\\n\"); }\nEND { printf(\"end\\n\"); }",
	  .transcript = COMPILED ATTACHED(2) "output 0123456789\noutput 0123456789\n"
		        "warning output limit: the trace printed 22 bytes and its next output of 11 bytes "
		        "would pass the limit maxOutputBytes (25); stopping\n" },

	/* cat() of a file that cannot be read: a warning, in its place
	 * among BEGIN's output */
	{ .name = "cat_warning", .reason = "exit", .progs = 1,
	  .program = "BEGIN { printf(\"a\\n\"); cat(\"/nonexistent/tg-engine-test\"); printf(\"b\\n\"); exit(); }",
	  .transcript = COMPILED ATTACHED(1) "output a\nwarning cat: failed to open file "
		        "\"/nonexistent/tg-engine-test\": No such file or directory\noutput b\n" },

	/* maxMapEntries: updates past it refused and counted, the map keeps
	 * what fitted */
	{ .name = "map_entry_limit", .lim = LIMITS(.max_map_entries = 2), .reason = "exit", .progs = 1,
	  .program = "BEGIN { @m[1] = 10; @m[2] = 20; @m[3] = 30; @m[1] = 11; exit(); }",
	  .maps = "@m[1]: 11\n@m[2]: 20\n", .map_drops = 1 },

	/* a sink whose map() fails: the first map's error ends it */
	{ .name = "map_sink_fails", .fail_map = -ENOSPC, .progs = 1,
	  .program = "BEGIN { @a = 1; @b = 2; exit(); }",
	  .r = -ENOSPC, .reason = "error", .err = "maps: No space left on device",
	  .transcript = COMPILED ATTACHED(1) "map @a\n", .maps = "@a: 1\n" },

	/* after_attach runs once everything is attached, before "attached";
	 * its refusal ends the run with its code and message, and BEGIN's
	 * output, held back until then, is neither handed over nor counted */
	{ .name = "after_attach_refuses", .refuse = true, .progs = 2,
	  .program = BEGIN_TP,
	  .r = -EPERM, .reason = "error", .err = "sandbox: refused for the test",
	  .transcript = COMPILED ATTACHING(1) "after_attach\n" },

	/* a sink whose output() fails on BEGIN's first line: the rest is
	 * neither handed over nor counted */
	{ .name = "begin_sink_fails", .fail_output = -EIO, .progs = 1,
	  .program = "BEGIN { printf(\"a\\n\"); printf(\"b\\n\"); printf(\"c\\n\"); exit(); }",
	  .r = -EIO, .reason = "error", .err = "engine: Input/output error",
	  .transcript = COMPILED ATTACHED(1) "output a\n" },

	/* a dry run stops before the load; load only after it: nothing runs,
	 * nothing attaches */
	{ .name = "dry_run", .program = BEGIN_TP, .dry_run = true, .reason = "checked",
	  .transcript = COMPILED },
	{ .name = "load_only", .program = BEGIN_TP, .load_only = true, .reason = "loaded", .progs = 2,
	  .transcript = COMPILED "status loaded\n" },
};

static int refuse(void *ctx, char **ret_err)
{
	struct tlog *l = ctx;

	note_progs(l);
	buf_adds(&l->t, "after_attach\n");
	*ret_err = strdup("sandbox: refused for the test");
	return -EPERM;
}

/* The maps handed over at the end, as bpftrace prints them */
static void final_maps(struct tlog *l, struct buf *out)
{
	json_t *rec;
	size_t i;

	json_array_foreach(l->maps, i, rec)
		if (!json_is_true(json_object_get(rec, "print")))
			assert_int_equal(output_map_format(out, rec, 0, 0), 0);
}

static void table_case(void **state)
{
	const struct tcase *c = *state;
	struct engine_opts eo = opts_for(c->program);
	struct engine_sink s = sink;
	_cleanup_buf_ struct buf maps = BUF_INIT(1 << 20);
	struct trun x;

	/* a bound on every run, should it not end as it ought to */
	eo.duration_ns = c->duration_ns ? c->duration_ns : WAIT_MS * MS;
	eo.run_until_stopped = c->run_until_stopped;
	eo.dry_run = c->dry_run;
	eo.load_only = c->load_only;
	eo.limits = c->lim.sz ? &c->lim : NULL;
	if (c->typed)
		s.output_rec = on_output_rec;
	trun_init(&x);
	x.l.fail_output = c->fail_output;
	x.l.fail_map = c->fail_map;
	if (c->refuse) {
		eo.after_attach = refuse;
		eo.after_attach_ctx = &x.l;
	}
	trun_exec(&x, &eo, &s);
	assert_ended(&x, c->r, c->reason, c->transcript);
	if (c->err)
		assert_string_equal(x.err, c->err);
	final_maps(&x.l, &maps);
	assert_string_equal(maps.s, c->maps ? c->maps : "");
	assert_int_equal(x.res.exit_code, c->exit_code);
	assert_int_equal(x.res.map_drops, c->map_drops);
	assert_int_equal(x.res.drops, 0);
	assert_int_equal(x.res.cpu_ns, 0);      /* no cpu budget */
	assert_int_equal(x.l.nprogs, c->progs);
	if (c->duration_ns)
		assert_true(x.took_ns >= c->duration_ns);
	trun_release(&x);
}

/* ---- cases as code: other threads, events of our own, time ---------------- */

/* The smaller of duration_ns and limits->max_duration_ns ends a run */
static void duration_limit(void **state)
{
	struct engine_limits lim = { .sz = sizeof(lim), .max_duration_ns = 400 * MS };
	struct engine_opts eo = opts_for("interval:ms:10 { @ticks = count(); }");
	struct trun x;
	json_int_t ticks;

	(void)state;
	eo.duration_ns = WAIT_MS * MS;
	eo.limits = &lim;
	trun_init(&x);
	trun_exec(&x, &eo, NULL);
	assert_ended(&x, 0, "duration", COMPILED ATTACHING(1) ATTACHED(1) "map @ticks\n");
	assert_true(x.took_ns >= 400 * MS && x.took_ns < WAIT_MS * MS);
	/* it ticked, at most once every 10 ms */
	ticks = json_integer_value(map_value(&x.l, "@ticks"));
	assert_true(ticks >= 1 && (uint64_t)ticks <= x.took_ns / (10 * MS) + 1);
	trun_release(&x);
}

/* eventsPerSecond: what passes the rate is dropped and counted; exit()
 * is not an event and is never dropped */
static void rate_limit(void **state)
{
	struct engine_limits lim = { .sz = sizeof(lim), .events_per_second = 1 };
	struct engine_opts eo = opts_for("interval:ms:10 { @n++; if (@n <= 20) { printf(\"tick %d\\n\", @n); } "
					 "if (@n == 20) { exit(); } }");
	struct trun x;

	(void)state;
	eo.limits = &lim;
	eo.duration_ns = WAIT_MS * MS;
	trun_init(&x);
	trun_exec(&x, &eo, NULL);
	assert_ended(&x, 0, "exit", NULL);
	/* one event's credit at the start, then one per ncpus seconds */
	assert_true(x.res.events >= 1 && x.res.events <= 2);
	assert_int_equal(x.res.events + x.res.drops, 20);
	assert_non_null(strstr(x.l.t.s, "output tick 1\n"));
	/* it may tick again before it is detached */
	assert_true(json_integer_value(map_value(&x.l, "@n")) >= 20);
	trun_release(&x);
}

/* Runs program with $1 our pid while another thread, once it is attached,
 * calls poke until the run is over; how often it did in *ret_pokes */
static void trun_poked(struct trun *x, const char *program, long (*poke)(void), unsigned long *ret_pokes)
{
	char pid[16];
	const char *params[] = { pid };
	struct engine_opts eo = opts_for(program);
	struct helper h;

	snprintf(pid, sizeof(pid), "%d", getpid());
	eo.params = params;
	eo.nparams = 1;
	eo.duration_ns = WAIT_MS * MS;
	helper_start(&h, &x->l, -1, poke);
	trun_exec(x, &eo, NULL);
	helper_join(&h);
	*ret_pokes = atomic_load(&h.pokes);
}

/* cpu_ns, our programs' run time, comes from BPF stats the engine turns
 * on for a CPU budget: without one it is 0, even while another process
 * has the (global) stats on, as this test does */
static void cpu_time_with_a_budget(void **state)
{
	struct engine_limits lim = { .sz = sizeof(lim), .cpu_budget = 1.0 };
	struct engine_opts eo = opts_for("BEGIN { @n = count(); exit(); } END { @n = count(); }");
	struct trun x;
	int stats;

	(void)state;
	trun_init(&x);
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	assert_true(stats >= 0);
	trun_exec(&x, &eo, NULL);
	close(stats);
	assert_ended(&x, 0, "exit", COMPILED ATTACHED(2) "map @n\n");
	assert_int_equal(x.res.cpu_ns, 0);
	trun_release(&x);

	eo.limits = &lim;
	trun_init(&x);
	trun_exec(&x, &eo, NULL);
	assert_ended(&x, 0, "exit", COMPILED ATTACHED(2) "map @n\n");
	/* BEGIN and END ran (BPF_PROG_TEST_RUN counts in the stats) */
	assert_true(x.res.cpu_ns > 0);
	trun_release(&x);
}

/* A tracepoint sees the event the test causes, filtered on its pid; its
 * perf events are held for the caller to close */
static void tracepoint_own_event(void **state)
{
	char want[160];
	unsigned long pokes;
	struct trun x;

	(void)state;
	trun_init(&x);
	/* the second block runs right after the first, on the same event:
	 * its record is in the ring buffer behind exit()'s */
	trun_poked(&x, "tracepoint:syscalls:sys_enter_getppid /pid == $1/ "
		   "{ @calls = count(); printf(\"getppid by %d\\n\", pid); exit(); }\n"
		   "tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf(\"after exit\\n\"); }",
		   call_getppid, &pokes);
	snprintf(want, sizeof(want), COMPILED ATTACHING(2) ATTACHED(2) "output getppid by %d\nmap @calls\n",
		 getpid());
	/* after exit() what events still send is not delivered */
	assert_ended(&x, 0, "exit", want);
	assert_true(pokes >= 1);
	assert_true(x.held >= 1);
	trun_release(&x);
}

/* A uprobe on a function of this binary, called by the test */
static void uprobe_own_function(void **state)
{
	char exe[4096], prog[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned long pokes;
	struct trun x;

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(prog, sizeof(prog),
		 "uprobe:%s:tu_engine_probe_target /pid == $1/ { printf(\"arg %%d\\n\", arg0); exit(); }", exe);
	trun_init(&x);
	trun_poked(&x, prog, call_target, &pokes);
	assert_ended(&x, 0, "exit", COMPILED ATTACHING(1) ATTACHED(1) "output arg 41\n");
	assert_true(pokes >= 1);
	trun_release(&x);
}

/* stop_fd written by another thread: the run ends "stop", END and the
 * maps still come */
static void stop_from_thread(void **state)
{
	struct engine_opts eo = opts_for("tracepoint:syscalls:sys_enter_getppid { @calls = count(); }\n"
					 "END { printf(\"end\\n\"); }");
	struct helper h;
	struct trun x;
	int stop[2];

	(void)state;
	trun_init(&x);
	assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
	eo.stop_fd = stop[0];
	eo.duration_ns = WAIT_MS * MS;
	helper_start(&h, &x.l, stop[1], NULL);
	trun_exec(&x, &eo, NULL);
	helper_join(&h);
	assert_ended(&x, 0, "stop", COMPILED ATTACHING(1) ATTACHED(2) "output end\nmap @calls\n");
	assert_int_equal(x.l.nprogs, 2);        /* the tracepoint's and END's, seen, then gone */
	close(stop[0]);
	close(stop[1]);
	trun_release(&x);
}

/* A sink whose output() fails while events come: the run ends with its
 * error, nothing more is handed over, no END, no maps */
static void output_sink_fails(void **state)
{
	unsigned long pokes;
	struct trun x;

	(void)state;
	trun_init(&x);
	x.l.fail_output = -EIO;
	trun_poked(&x, "tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf(\"call\\n\"); printf(\"more\\n\"); }\n"
		   "END { printf(\"end\\n\"); }", call_getppid, &pokes);
	assert_ended(&x, -EIO, "error", COMPILED ATTACHING(1) ATTACHED(2) "output call\n");
	assert_string_equal(x.err, "output: Input/output error");
	assert_int_equal(x.l.nprogs, 2);
	trun_release(&x);
}

/* ---- setup ------------------------------------------------------------------------ */

/* Can this process load a program BEGIN needs (SYSCALL), and read the
 * kernel's BTF and tracefs? */
static const char *bpf_missing(void)
{
	static const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .prog_flags = BPF_F_SLEEPABLE);
	int fd;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return "no kernel BTF (/sys/kernel/btf/vmlinux)";
	if (access("/sys/kernel/tracing/events/syscalls/sys_enter_getppid", F_OK) != 0 &&
	    access("/sys/kernel/debug/tracing/events/syscalls/sys_enter_getppid", F_OK) != 0)
		return "no tracefs with syscalls:sys_enter_getppid";
	fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "tg_test_probe", "GPL", ret0, 2, &po);
	if (fd < 0)
		return "cannot load a BPF program (root, CAP_BPF?)";
	close(fd);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	no_bpf = bpf_missing();
	return tu_tmpdir_make(cache_dir);
}

static int teardown(void **state)
{
	(void)state;
	return tu_tmpdir_remove(cache_dir);
}

int main(void)
{
	static const struct CMUnitTest coded[] = {
		cmocka_unit_test(duration_limit),
		cmocka_unit_test(rate_limit),
		cmocka_unit_test(cpu_time_with_a_budget),
		cmocka_unit_test(tracepoint_own_event),
		cmocka_unit_test(uprobe_own_function),
		cmocka_unit_test(stop_from_thread),
		cmocka_unit_test(output_sink_fails),
	};
	struct CMUnitTest tests[ARRAY_SIZE(tcases) + ARRAY_SIZE(coded)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tcases); i++)
		tests[n++] = (struct CMUnitTest){ .name = tcases[i].name, .test_func = table_case,
						  .initial_state = (void *)&tcases[i] };
	for (size_t i = 0; i < ARRAY_SIZE(coded); i++)
		tests[n++] = coded[i];
	return _cmocka_run_group_tests("tests", tests, n, setup, teardown);
}
