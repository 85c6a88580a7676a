// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/util.h"
#include "output/output.h"
#include "plugin/render.h"
#include "lib/httpstatus.h"
#include "lib/status.h"
#include "lang/ast.h"
#include "wire/end.h"
#include "wire/map.h"
#include "wire/output.h"
#include "wire/record.h"
#include "wire/stream.h"
#include "lib/banned.h"

/* --- cleaning text from the server ------------------------------------------------ */

/* The length of the UTF-8 sequence at s (at most len bytes) and its code
 * point, or 0 when it is not well-formed (overlong, surrogate, past
 * U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, v = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, v = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points a terminal acts on or that reorder what is shown: C0 and
 * C1 controls (U+009B is CSI, as 0x9b is in an 8-bit terminal), DEL, and
 * the bidirectional embeddings, overrides and isolates. */
static bool cp_controls_terminal(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

int kt_add_clean(struct buf *out, const char *s, size_t len, bool keep_newlines)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = utf8_seq(u + i, len - i, &cp);
		int r;

		if (n == 0)
			r = buf_addc(out, '?'), n = 1;   /* not UTF-8: a raw 0x9b is CSI */
		else if (cp == '\n' && keep_newlines)
			r = buf_addc(out, '\n');
		else if (cp == '\n' || cp == '\r')
			r = buf_addc(out, ' ');
		else if (cp_controls_terminal(cp))
			r = buf_addc(out, '?');
		else
			r = buf_add(out, s + i, n);
		if (r < 0)
			return r;
		i += n;
	}
	return 0;
}

static int add_clean_str(struct buf *out, const char *s, bool keep_newlines)
{
	return kt_add_clean(out, s, strlen(s), keep_newlines);
}

int kt_add_json_text(struct buf *out, const char *t, size_t len)
{
	const unsigned char *u = (const unsigned char *)t;

	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = utf8_seq(u + i, len - i, &cp);
		int r;

		/* a JSON string holds no raw C0; outside strings, a
		 * carriage return is whitespace as a space is */
		if (n == 0)
			r = buf_addc(out, '?'), n = 1;
		else if (cp == '\r')
			r = buf_addc(out, ' ');
		else if (cp >= 0x7f && cp_controls_terminal(cp))
			r = buf_printf(out, "\\u%04x", (unsigned)cp);
		else
			r = buf_add(out, t + i, n);
		if (r < 0)
			return r;
		i += n;
	}
	return 0;
}

int kt_add_json(struct buf *out, const json_t *v, size_t flags)
{
	_cleanup_free_ char *t = json_dumps(v, flags);

	return t ? kt_add_json_text(out, t, strlen(t)) : -ENOMEM;
}

/* --- records ----------------------------------------------------------------------- */

void kt_render_init(struct kt_render *r, FILE *out, FILE *err, enum kt_output mode)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->err = err;
	r->mode = mode;
	/* the program's bytes may come from the pod or be another user's:
	 * on a terminal they must not drive it (into a file, as they are) */
	r->clean_output = isatty(fileno(out)) == 1;
}

void kt_render_release(struct kt_render *r)
{
	free(r->problem);
	r->problem = NULL;
	free(r->last_error);
	r->last_error = NULL;
	if (r->out_null)
		fclose(r->out_null);
	r->out_null = NULL;
}

static int render_problem(struct kt_render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int render_problem(struct kt_render *r, const char *fmt, ...)
{
	va_list ap;

	free(r->problem);
	va_start(ap, fmt);
	if (vasprintf(&r->problem, fmt, ap) < 0)
		r->problem = NULL;
	va_end(ap);
	return -EBADMSG;
}

static const char *str_of(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int render_end(struct kt_render *r, json_t *j)
{
	_cleanup_(wire_end_release) struct wire_end e = { 0 };
	_cleanup_free_ char *err = NULL;
	const char *reason;

	r->ended = true;
	if (wire_end_from_gateway(j, &e, &err) < 0) {
		snprintf(r->end_reason, sizeof(r->end_reason), "error");
		return render_problem(r, "gateway sent an end record that is not one: %s", err ? err : "out of memory");
	}
	reason = e.reason;
	if (e.has & WIRE_END_EVENTS)
		r->events = (json_int_t)e.events;
	if (e.has & WIRE_END_DROPS)
		r->drops = (json_int_t)e.drops;
	if (e.has & WIRE_END_EXIT_CODE)
		r->exit_code = e.exit_code & 0xff;
	snprintf(r->end_reason, sizeof(r->end_reason), "%s", reason);
	if (r->exit_code != 0)
		return 0;
	/* the program's own exit(N) stands; otherwise the ending's class */
	if (!strcmp(reason, "error"))
		r->exit_code = r->error_class ? r->error_class : KT_EXIT_NODE;
	else if (!strcmp(reason, "runner-lost") || !strcmp(reason, "node-failed") ||
		 !strcmp(reason, "target-gone"))
		r->exit_code = KT_EXIT_NODE;
	else if (!strcmp(reason, "cpu-budget") || !strcmp(reason, "rate-limit") ||
		 !strcmp(reason, "output-limit"))
		r->exit_code = KT_EXIT_LIMIT;
	else if (!strcmp(reason, "policy") || !strcmp(reason, "revoked"))
		r->exit_code = KT_EXIT_REFUSED;
	else if (!strcmp(reason, "program-error"))
		r->exit_code = KT_EXIT_PROGRAM;
	else if (!strcmp(reason, "shutdown") || !strcmp(reason, "stopped") || !strcmp(reason, "stop"))
		r->exit_code = KT_EXIT_STOPPED;
	return 0;
}

static void print_err_line(struct kt_render *r, const char *prefix, const char *node,
			   const char *msg);

/* An end that says some nodes failed: the summary, once, on stderr. */
static void render_end_message(struct kt_render *r, json_t *j)
{
	const char *msg = str_of(j, "message");

	if (msg && *msg)
		print_err_line(r, "error: ", NULL, msg);
}

/* "[pod/web-a/node-1] " for an output of team-a/web-a on node-1;
 * "[node/node-1] " for one of no pod (BEGIN, END, interval). */
static void output_source(const struct wire_output *o, struct buf *b)
{
	const char *pod = o->pod, *node = o->node, *slash;

	if (pod && (slash = strchr(pod, '/')))
		pod = slash + 1;
	buf_adds(b, "[");
	if (pod && *pod) {
		buf_adds(b, "pod/");
		add_clean_str(b, pod, false);
		if (node && *node)
			buf_addc(b, '/');
	} else if (node && *node) {
		buf_adds(b, "node/");
	}
	if (node && *node)
		add_clean_str(b, node, false);
	buf_adds(b, "] ");
}

/*
 * Output with each line begun by its source.  printf output may end in
 * the middle of a line; when the next output is another source's, its
 * line is ended first so no line carries two sources' text.
 */
static void render_prefixed(struct kt_render *r, json_t *j, const struct wire_output *o)
{
	const char *text = o->text;
	size_t len = o->text_len;
	struct buf src = BUF_INIT(sizeof(r->last_source) - 1);
	struct buf out = BUF_INIT(KT_MAX_LINE * 2);

	if (r->timestamps && str_of(j, "time")) {
		add_clean_str(&src, str_of(j, "time"), false);
		buf_addc(&src, ' ');
	}
	if (r->prefix)
		output_source(o, &src);
	if (r->mid_line && strcmp(src.s, r->last_source)) {
		buf_addc(&out, '\n');
		r->mid_line = false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!r->mid_line)
			buf_add(&out, src.s, src.len);
		buf_addc(&out, text[i]);
		r->mid_line = text[i] != '\n';
	}
	snprintf(r->last_source, sizeof(r->last_source), "%s", src.s);
	fwrite(out.s, 1, out.len, r->out);
	buf_release(&src);
	buf_release(&out);
}

/* Text mode's output: exactly the program's bytes into a file or a pipe;
 * on a terminal (clean_output) what would drive it is replaced, since
 * the bytes may be another user's (a detached trace's log) or come from
 * inside the traced pod (a file's name, a request) even in a run. */
static int render_output(struct kt_render *r, json_t *j, struct wire_output *out)
{
	_cleanup_buf_ struct buf clean = BUF_INIT(KT_MAX_LINE * 2);

	if (r->clean_output) {
		if (kt_add_clean(&clean, out->text, out->text_len, true) < 0)
			return render_problem(r, "cannot print an output record: out of memory");
		out->text = clean.s;
		out->text_len = clean.len;
	}
	if (r->prefix || r->timestamps)
		render_prefixed(r, j, out);
	else
		fwrite(out->text, 1, out->text_len, r->out);
	fflush(r->out);
	return 0;
}

/* Messages on stderr: what the runner or gateway reported, cleaned. */
static void print_err_line(struct kt_render *r, const char *prefix, const char *node,
			   const char *msg)
{
	struct buf b = BUF_INIT(64 * 1024);

	buf_adds(&b, prefix);
	if (node) {
		buf_adds(&b, "node \"");
		add_clean_str(&b, node, false);
		buf_adds(&b, "\": ");
	}
	add_clean_str(&b, msg ? msg : "(no message)", false);
	fprintf(r->err, "%s\n", b.s);
	fflush(r->err);
	buf_release(&b);
}

/* A pod that joined or left a running workload trace (wire/stream.h): a
 * line on stderr.  Other status records: nothing. */
static int render_pod_change(struct kt_render *r, json_t *j, const char *phase)
{
	_cleanup_(wire_pod_change_release) struct wire_pod_change c = { 0 };
	_cleanup_free_ char *line = NULL, *err = NULL;
	const char *what;

	if (!wire_pod_change_phase(phase))
		return 0;
	if (wire_pod_change_from_json(j, &c, &err) < 0)
		return render_problem(r, "gateway sent a %s record that is not one: %s", phase,
				      err ? err : "out of memory");
	if (!strcmp(c.phase, "pod-joined"))
		what = "joined the trace";
	else if (!strcmp(c.phase, "pod-left"))
		what = "left the trace";
	else
		what = "was not added to the trace";
	if (asprintf(&line, "pod %s %s%s%s", c.pod, what, c.message ? ": " : "", c.message ? c.message : "") < 0)
		return 0;
	print_err_line(r, "", c.node, line);
	return 0;
}

/*
 * An error from a node.  One in bpftrace's form (program:LINE:COL) is
 * printed as bpftrace prints it, from the program's own text, once however
 * many nodes found it; its class (refused by the runner's policy check, a
 * program error) decides the exit status.
 */
static void render_error(struct kt_render *r, const struct wire_error *e)
{
	const char *msg = e->message, *loc, *m;
	size_t loc_len, m_len;
	struct buf b = BUF_INIT(64 * 1024);
	int cls = KT_EXIT_NODE;

	if (kt_find_program_error(msg, &loc, &loc_len, &m, &m_len) == 0) {
		cls = e->code == 401 || e->code == 403 ? KT_EXIT_REFUSED : KT_EXIT_PROGRAM;
		if (kt_program_error(&b, loc, loc_len, m, m_len, r->program) >= 0 &&
		    !(r->last_error && !strcmp(r->last_error, b.s))) {
			fputs(b.s, r->err);
			fflush(r->err);
			free(r->last_error);
			r->last_error = strdup(b.s);
		}
	} else {
		print_err_line(r, "error: ", e->node, msg);
	}
	buf_release(&b);
	/* a program error explains a failure better than a lost node does */
	if (!r->error_class || cls == KT_EXIT_PROGRAM || cls == KT_EXIT_REFUSED)
		r->error_class = cls;
}

static void render_yaml_record(struct kt_render *r, json_t *j)
{
	struct buf b = BUF_INIT(KT_MAX_LINE * 4);

	buf_adds(&b, "---\n");
	kt_yaml_emit(&b, j);
	fwrite(b.s, 1, b.len, r->out);
	fflush(r->out);
	buf_release(&b);
}

static int map_problem(struct kt_render *r, json_t *j, int e)
{
	return render_problem(r, "cannot print map record \"%s\": %s", str_of(j, "name") ? str_of(j, "name") : "?",
			      strerror(e < -4000 ? EINVAL : -e));
}

/* bpftrace's attach count, once, however many nodes attach: true (and
 * *ret_n) for the status record that shows it */
static bool attach_count_once(struct kt_render *r, json_t *j, json_int_t *ret_n)
{
	const char *phase = str_of(j, "phase");
	json_t *probes = json_object_get(j, "probes");

	if (!phase || strcmp(phase, "attached") || r->attached_shown || !json_is_integer(probes))
		return false;
	r->attached_shown = true;
	*ret_n = json_integer_value(probes);
	return true;
}


/*
 * -o bpftrace-json: an output record's events as bpftrace 0.17's -f json
 * prints them, one line each.  The record's "events" (the runners send
 * them when the request asked: "output": "bpftrace-json") say each one's
 * type, its length within "text" and print()'s typed value (a detached
 * trace's always: runner/session.c); a record without them (an older
 * runner) is one printf.
 */
static int bjson_output(struct kt_render *r, const struct wire_output *o, struct buf *b)
{
	const char *type;
	size_t off = 0, n;
	json_t *data;
	int e = 0;

	if (!o->events)
		return output_json_event(b, "printf", o->text, o->text_len, NULL);
	/* each event's type is bpftrace's (wire_output_from_gateway
	 * checked it: [a-z_]), never other bytes of the server's */
	for (size_t i = 0; wire_output_event_at(o, i, &type, &n, &data) == 0; i++) {
		e = output_json_event(b, type, o->text + off, n, data);
		if (e < 0)
			return render_problem(r, "cannot print an output event: %s", strerror(e < -4000 ? EINVAL : -e));
		off += n;
	}
	/* text past the last event: what a runner grouped without saying */
	return off < o->text_len ? output_json_event(b, "printf", o->text + off, o->text_len - off, NULL) : 0;
}

/* -o bpftrace-json: stdout has bpftrace 0.17's -f json records, as
 * `tracegate-runner exec -f json` prints them (output/output.h); errors,
 * warnings and pods joining go to stderr as in text mode. */
static int render_bpftrace_json(struct kt_render *r, const char *type, json_t *j, const struct wire_error *we,
				const struct wire_output *out, const struct wire_map *map)
{
	_cleanup_buf_ struct buf b = BUF_INIT(KT_MAX_LINE * 4);
	int e = 0;

	if (!strcmp(type, "output")) {
		e = bjson_output(r, out, &b);
		if (e == -EBADMSG)
			return e;
	} else if (!strcmp(type, "map")) {
		/* print(@m, top, div)'s arguments, which the record carries (0: none) */
		e = output_map_format_json(&b, j, map->top, map->div);
		if (e < 0)
			return map_problem(r, j, e);
	} else if (!strcmp(type, "error")) {
		render_error(r, we);
	} else if (!strcmp(type, "status")) {
		json_int_t n;

		if (attach_count_once(r, j, &n))
			e = output_json_attached_probes(&b, (uint64_t)n);
		if (render_pod_change(r, j, str_of(j, "phase")) < 0)
			return -EBADMSG;   /* as in the other modes */
	} else if (!strcmp(type, "end")) {
		if ((e = render_end(r, j)) < 0)
			return e;
		if (r->drops > 0)
			e = output_json_lost_events(&b, (uint64_t)r->drops);
		render_end_message(r, j);
	}
	if (e < 0)
		return render_problem(r, "cannot print a %s record: %s", type, strerror(e < -4000 ? EINVAL : -e));
	if (b.len && r->clean_output) {
		_cleanup_buf_ struct buf clean = BUF_INIT(KT_MAX_LINE * 12);

		/* JSON lines: the same values, what the terminal acts on escaped */
		if (kt_add_json_text(&clean, b.s, b.len) < 0)
			return render_problem(r, "cannot print a %s record: out of memory", type);
		fwrite(clean.s, 1, clean.len, r->out);
		fflush(r->out);
	} else if (b.len) {
		fwrite(b.s, 1, b.len, r->out);
		fflush(r->out);
	}
	return 0;
}

void kt_progress_start(struct kt_render *r, const char *what, uint64_t now_ns)
{
	struct kt_progress *p = &r->progress;

	memset(p, 0, sizeof(*p));
	p->enabled = true;
	p->phase_ns = now_ns;
	snprintf(p->what, sizeof(p->what), "%s", what);
}

static void progress_text(const struct kt_progress *p, char *buf, size_t n)
{
	size_t nn = p->nodes, k;
	const char *s = nn == 1 ? "" : "s";

	switch (p->phase) {
	case 0:
		snprintf(buf, n, "%s", p->what);
		break;
	case 1:
		k = p->compiled;
		if (k)
			snprintf(buf, n, "compiling on %zu node%s (%zu done)", nn, s, k);
		else
			snprintf(buf, n, "compiling on %zu node%s", nn, s);
		break;
	default: {
		uint64_t done = 0, probes = 0;
		char counts[64] = "";

		for (size_t i = 0; i < p->nnamed; i++) {
			done += p->node[i].done;
			probes += p->node[i].probes;
		}
		k = p->attached;
		if (probes && done < probes)
			snprintf(counts, sizeof(counts), "%" PRIu64 " of %" PRIu64 " probes", done, probes);
		if (k)
			snprintf(buf, n, "attached on %zu of %zu node%s%s%s", k, nn, s, counts[0] ? ", " : "",
				 counts);
		else if (counts[0] && nn > 1)
			snprintf(buf, n, "attaching %s on %zu nodes", counts, nn);
		else if (counts[0])
			snprintf(buf, n, "attaching %s", counts);
		else
			snprintf(buf, n, "attaching on %zu node%s", nn, s);
		break;
	}
	}
}

static size_t progress_node(struct kt_progress *p, const char *name)
{
	for (size_t i = 0; name && i < p->nnamed; i++)
		if (!strcmp(p->node[i].name, name))
			return i;
	return SIZE_MAX;
}

void kt_progress_tick(struct kt_render *r, uint64_t now_ns)
{
	struct kt_progress *p = &r->progress;
	char text[160];

	if (!p->enabled || p->done || now_ns - p->phase_ns < KT_PROGRESS_AFTER_NS)
		return;
	progress_text(p, text, sizeof(text));
	if (!strcmp(text, p->shown))
		return;
	fprintf(r->err, "%s...\n", text);
	fflush(r->err);
	memcpy(p->shown, text, sizeof(text));
}

/* What a record says about the start: the phases, nodes compiled,
 * attached or failed; anything printed ends the progress. */
static void progress_record(struct kt_render *r, const char *type, json_t *j, const struct wire_accepted *acc,
			    const struct wire_error *we)
{
	struct kt_progress *p = &r->progress;
	const char *phase = str_of(j, "phase");
	uint64_t now = now_mono_ns();
	int was = p->phase;

	if (!p->enabled || p->done)
		return;
	if (!strcmp(type, "status") && phase) {
		size_t i = progress_node(p, str_of(j, "node"));
		json_t *done = json_object_get(j, "done"), *probes = json_object_get(j, "probes");

		if (acc) {
			p->nodes = acc->nnodes ? acc->nnodes : 1;
			p->phase = 1;
			for (size_t k = 0; k < acc->nnodes && p->nnamed < KT_PROGRESS_MAX_NODES; k++)
				snprintf(p->node[p->nnamed++].name, sizeof(p->node[0].name), "%s", acc->nodes[k]);
		} else if (!strcmp(phase, "compiled")) {
			p->compiled++;
		} else if (!strcmp(phase, "attaching") && i != SIZE_MAX && json_is_integer(done) &&
			   json_is_integer(probes) && json_integer_value(done) >= 0 &&
			   json_integer_value(probes) >= json_integer_value(done)) {
			p->node[i].done = (uint64_t)json_integer_value(done);
			p->node[i].probes = (uint64_t)json_integer_value(probes);
		} else if (!strcmp(phase, "attached")) {
			p->attached++;
			if (i != SIZE_MAX)
				p->node[i].done = p->node[i].probes;
		}
	} else if (we && !we->warning && we->node) {
		p->failed++;     /* that node will neither compile nor attach */
	} else if (strcmp(type, "status")) {
		p->done = true;  /* output, a map, the end: the trace speaks for itself */
		return;
	}
	if (p->phase >= 1 && p->compiled + p->failed >= p->nodes)
		p->phase = 2;
	if (p->phase == 2 && p->attached + p->failed >= p->nodes)
		p->done = true;
	if (p->phase != was)
		p->phase_ns = now;
}

int kt_render_line(struct kt_render *r, const char *line, size_t len)
{
	_cleanup_(wire_accepted_release) struct wire_accepted acc = { 0 };
	_cleanup_(wire_error_release) struct wire_error we = { 0 };
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct wire_output out = { 0 };
	struct wire_map map = { 0 };
	json_error_t jerr;
	const char *type;
	bool accepted;

	j = json_loadb(line, len, 0, &jerr);
	if (!j || !json_is_object(j))
		return render_problem(r, "gateway sent a line that is not a JSON object (%s)",
				      j ? "not an object" : jerr.text);
	type = str_of(j, "type");
	if (!type)
		return render_problem(r, "gateway sent a record without \"type\"");
	accepted = !strcmp(type, "status") && str_of(j, "phase") && !strcmp(str_of(j, "phase"), "accepted");
	if (accepted) {
		_cleanup_free_ char *err = NULL;

		if (wire_accepted_from_json(j, &acc, &err) < 0)
			return render_problem(r, "gateway sent an accepted record that is not one: %s",
					      err ? err : "out of memory");
	}
	if (!strcmp(type, "output")) {
		_cleanup_free_ char *err = NULL;

		if (wire_output_from_gateway(j, &out, &err) < 0)
			return render_problem(r, "gateway sent an output record that is not one: %s",
					      err ? err : "out of memory");
	}
	if (!strcmp(type, "map")) {
		_cleanup_free_ char *err = NULL;

		if (wire_map_from_gateway(j, &map, &err) < 0)
			return render_problem(r, "gateway sent a map record that is not one: %s",
					      err ? err : "out of memory");
	}
	if (!strcmp(type, "error")) {
		_cleanup_free_ char *err = NULL;

		if (wire_error_from_gateway(j, &we, &err) < 0)
			return render_problem(r, "gateway sent an error record that is not one: %s",
					      err ? err : "out of memory");
	}
	progress_record(r, type, j, accepted ? &acc : NULL, we.message ? &we : NULL);
	if (accepted && !r->trace_id[0]) {
		const char *id = acc.trace;
		size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-");

		/* a name for the URL of the stop: only a label's characters */
		if (id && n && n < sizeof(r->trace_id) && !id[n])
			memcpy(r->trace_id, id, n + 1);
	}
	if (r->mode == KT_OUT_BPFTRACE_JSON)
		return render_bpftrace_json(r, type, j, &we, &out, &map);
	if (r->mode == KT_OUT_JSON || r->mode == KT_OUT_YAML) {
		/* the raw stream, one record per line (document), as it arrives */
		if (r->mode == KT_OUT_JSON) {
			struct buf b = BUF_INIT(KT_MAX_LINE * 4);

			/* the same record, what the terminal acts on escaped */
			if (kt_add_json_text(&b, line, len) < 0 || buf_addc(&b, '\n') < 0) {
				buf_release(&b);
				return render_problem(r, "cannot print a record: out of memory");
			}
			fwrite(b.s, 1, b.len, r->out);
			fflush(r->out);
			buf_release(&b);
		} else {
			render_yaml_record(r, j);
		}
		if (!strcmp(type, "status"))
			return render_pod_change(r, j, str_of(j, "phase"));   /* stderr, beside the stream */
		if (!strcmp(type, "error")) {
			const char *loc, *mm;
			size_t ll, ml;
			int cls = KT_EXIT_NODE;

			if (kt_find_program_error(we.message, &loc, &ll, &mm, &ml) == 0)
				cls = we.code == 403 ? KT_EXIT_REFUSED : KT_EXIT_PROGRAM;
			if (!r->error_class || cls != KT_EXIT_NODE)
				r->error_class = cls;
		}
		if (!strcmp(type, "end"))
			return render_end(r, j);
		return 0;
	}
	if (!strcmp(type, "output")) {
		return render_output(r, j, &out);
	} else if (!strcmp(type, "map")) {
		struct buf b = BUF_INIT(KT_MAX_LINE * 4);

		if (r->prefix && r->mid_line) {
			fputc('\n', r->out);
			r->mid_line = false;
		}
		int e = output_map_format(&b, j, map.top, map.div);

		if (e < 0) {
			buf_release(&b);
			return map_problem(r, j, e);
		}
		if (r->clean_output) {
			struct buf clean = BUF_INIT(KT_MAX_LINE * 4);

			if (kt_add_clean(&clean, b.s, b.len, true) < 0) {
				buf_release(&clean);
				buf_release(&b);
				return render_problem(r, "cannot print a map record: out of memory");
			}
			buf_release(&b);
			b = clean;
		}
		fwrite(b.s, 1, b.len, r->out);
		fflush(r->out);
		buf_release(&b);
	} else if (!strcmp(type, "error")) {
		render_error(r, &we);
	} else if (!strcmp(type, "status")) {
		json_int_t n;

		if (attach_count_once(r, j, &n)) {
			fprintf(r->out, "Attaching %" JSON_INTEGER_FORMAT " probe%s...\n", n, n == 1 ? "" : "s");
			fflush(r->out);
		}
		return render_pod_change(r, j, str_of(j, "phase"));
	} else if (!strcmp(type, "end")) {
		if (r->prefix && r->mid_line) {
			fputc('\n', r->out);
			r->mid_line = false;
		}
		if (render_end(r, j) < 0)
			return -EBADMSG;
		render_end_message(r, j);
	}
	/* other types: newer gateways may add some; nothing to print */
	return 0;
}

int kt_render_line_cb(const char *line, size_t len, void *ctx)
{
	struct kt_render *r = ctx;
	int ret = kt_render_line(r, line, len);

	if (!r->out_closed && ferror(r->out)) {
		/* stdout is gone (a reader that left): what follows has
		 * nowhere to go, but the stream is still read to its end */
		r->out_closed = true;
		r->out_null = fopen("/dev/null", "we");
		if (r->out_null)
			r->out = r->out_null;
	}
	return ret;
}

/* --- Status ------------------------------------------------------------------------ */

bool kt_status_is_denial(long code)
{
	return code == 400 || code == 403;
}

int kt_status_render(struct buf *out, long code, const char *body, size_t len)
{
	return kt_status_render_program(out, code, body, len, NULL);
}

/* "program:LINE:COL" */
static bool located(const char *f)
{
	const char *p;

	if (!f || !str_has_prefix(f, "program:"))
		return false;
	p = f + strlen("program:");
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':' || *p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return !*p;
}

/* The causes of a refusal, one indented line each ("  field: message"),
 * at most 100; those located in the program are skipped when they were
 * already printed in bpftrace's form. */
static int add_causes(struct buf *out, const struct status_view *v, bool skip_located)
{
	struct status_cause c;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < 100 && status_cause(v, i, &c) == 0; i++) {
		const char *f = c.field, *m = c.message;

		if (!m || (skip_located && located(f)))
			continue;
		r = buf_adds(out, "  ");
		if (r >= 0 && f && *f) {
			r = add_clean_str(out, f, false);
			if (r >= 0)
				r = buf_adds(out, ": ");
		}
		if (r >= 0)
			r = add_clean_str(out, m, false);
		if (r >= 0)
			r = buf_addc(out, '\n');
	}
	return r;
}

int kt_find_program_error(const char *text, const char **ret_loc, size_t *ret_loc_len,
			  const char **ret_msg, size_t *ret_msg_len)
{
	for (const char *p = strstr(text, "program:"); p; p = strstr(p + 1, "program:")) {
		const char *q = p + strlen("program:"), *loc = q;

		if (*q < '0' || *q > '9')
			continue;
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q++ != ':' || *q < '0' || *q > '9')
			continue;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q[0] != ':' || q[1] != ' ')
			continue;
		*ret_loc = loc;
		*ret_loc_len = (size_t)(q - loc);
		*ret_msg = q + 2;
		*ret_msg_len = strcspn(q + 2, "\n");
		return 0;
	}
	return -ENOENT;
}

int kt_program_error(struct buf *out, const char *loc, size_t loc_len, const char *msg,
		     size_t msg_len, const char *program)
{
	uint64_t line = 0, col = 0;
	const char *p = loc, *end = loc + loc_len, *src;
	int r;

	while (p < end && *p >= '0' && *p <= '9' && line < 100000000)
		line = line * 10 + (uint64_t)(*p++ - '0');
	if (p < end && *p == ':')
		p++;
	while (p < end && *p >= '0' && *p <= '9' && col < 100000000)
		col = col * 10 + (uint64_t)(*p++ - '0');
	if (msg_len >= 7 && !strncmp(msg, "ERROR: ", 7)) {
		msg += 7;
		msg_len -= 7;
	}
	r = buf_adds(out, "program:");
	if (r >= 0)
		r = kt_add_clean(out, loc, loc_len, false);
	if (r >= 0)
		r = buf_adds(out, ": ERROR: ");
	if (r >= 0)
		r = kt_add_clean(out, msg, msg_len, false);
	if (r >= 0)
		r = buf_addc(out, '\n');
	if (r < 0 || !program || line == 0 || line > UINT32_MAX || col > UINT32_MAX)
		return r;
	src = program;
	for (uint64_t l = 1; l < line && src; l++) {
		src = strchr(src, '\n');
		if (src)
			src++;
	}
	if (!src || strcspn(src, "\n") > 4096)
		return 0;  /* no such line, or no caret under a line nobody can read */
	{
		/* the source line and its caret as bpftrace and the runner print
		 * them (lang_diag_source: a tab is four spaces) */
		const struct lang_diag d = { .loc = { .line = (uint32_t)line, .col = (uint32_t)col } };
		_cleanup_free_ char *text = NULL;

		r = lang_diag_source(&d, program, strlen(program), &text);
		if (r >= 0)
			r = kt_add_clean(out, text, strlen(text), true);
	}
	return r;
}

int kt_status_exit(long code, const char *body, size_t len)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct status_view v;
	struct status_cause c;

	switch (code) {
	case 401:
	case 403:
	case 429:
		return KT_EXIT_REFUSED;
	case 400:
		j = json_loadb(body, len, 0, NULL);
		(void)status_read(j, &v);
		if (v.message && str_has_prefix(v.message, "program:"))
			return KT_EXIT_PROGRAM;
		for (size_t i = 0; status_cause(&v, i, &c) == 0; i++)
			if (located(c.field))
				return KT_EXIT_PROGRAM;
		return KT_EXIT_FAILURE;
	case 503:
		/* a trace that could start on no node: its causes say so */
		j = json_loadb(body, len, 0, NULL);
		(void)status_read(j, &v);
		for (size_t i = 0; status_cause(&v, i, &c) == 0; i++)
			if (c.reason && !strcmp(c.reason, "NodeFailed"))
				return KT_EXIT_NODE;
		return KT_EXIT_FAILURE;
	default:
		return KT_EXIT_FAILURE;
	}
}

int kt_status_render_program(struct buf *out, long code, const char *body, size_t len,
			     const char *program)
{
	_cleanup_(json_decrefp) json_t *j = json_loadb(body, len, 0, NULL);
	struct status_view v;
	struct status_cause c;
	const char *reason, *msg;
	int r;

	(void)status_read(j, &v);   /* not a Status: all NULL */
	reason = v.reason;
	msg = v.message;
	if (program) {
		bool any = false;

		for (size_t i = 0; i < 100 && status_cause(&v, i, &c) == 0; i++) {
			const char *f = c.field, *m = c.message;

			if (!m || !located(f))
				continue;
			f += strlen("program:");
			r = kt_program_error(out, f, strlen(f), m, strlen(m), program);
			if (r < 0)
				return r;
			any = true;
		}
		if (any && code == 400)
			return 0;  /* the program's errors are the whole answer, as bpftrace's */
		/* the policy's one-line summary repeats the causes: keep its tail */
		if (any && msg && str_has_prefix(msg, "denied: ") && strstr(msg, "; policies tried: "))
			msg = NULL;
		if (any) {
			const char *tried = v.message ? strstr(v.message, "; policies tried: ") : NULL;

			r = buf_adds(out, "Error from server (");
			if (r >= 0)
				r = add_clean_str(out, reason && *reason ? reason : status_reason((int)code), false);
			if (r >= 0)
				r = buf_adds(out, "): ");
			if (r >= 0)
				r = add_clean_str(out, msg ? msg : "the program is denied by policy", false);
			if (r >= 0 && !msg && tried)
				r = add_clean_str(out, tried, false);
			if (r >= 0)
				r = buf_addc(out, '\n');
			if (r >= 0)
				r = add_causes(out, &v, true);
			return r < 0 ? r : 0;
		}
	}
	r = buf_adds(out, "Error from server (");
	if (r >= 0)
		r = add_clean_str(out, reason && *reason ? reason : status_reason((int)code), false);
	if (r >= 0)
		r = buf_adds(out, "): ");
	if (r < 0)
		return r;
	if (msg && *msg) {
		r = add_clean_str(out, msg, false);
	} else {
		/* not a Status: the first line of whatever came, briefly */
		size_t n = 0;

		while (n < len && n < 200 && body[n] != '\n')
			n++;
		if (n)
			r = kt_add_clean(out, body, n, false);
		else
			r = buf_printf(out, "the server answered HTTP %ld", code);
	}
	if (r >= 0)
		r = buf_addc(out, '\n');
	if (r >= 0)
		r = add_causes(out, &v, false);
	return r < 0 ? r : 0;
}

/* --- YAML ---------------------------------------------------------------------------- */

/* A string YAML reads back as the same string when written plain. */
static bool yaml_plain(const char *s, size_t n)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null",
					     "y", "n", "~" };

	if (!n || n > 200)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '/' || c == '-' || c == '@'))
			return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == n && !strncasecmp(s, words[i], n))
			return false;
	return true;
}

static int yaml_scalar(struct buf *out, const json_t *v)
{
	if (json_is_string(v) && yaml_plain(json_string_value(v), json_string_length(v)))
		return buf_add(out, json_string_value(v), json_string_length(v));
	/* JSON's double-quoted strings, numbers, true, false, null are
	 * YAML's too, \uXXXX escapes included */
	return kt_add_json(out, v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int yaml_indent(struct buf *out, int n)
{
	int r = 0;

	while (r >= 0 && n-- > 0)
		r = buf_addc(out, ' ');
	return r;
}

static bool yaml_empty_or_scalar(const json_t *v)
{
	return !(json_is_object(v) && json_object_size(v)) && !(json_is_array(v) && json_array_size(v));
}

static int yaml_inline(struct buf *out, const json_t *v)
{
	if (json_is_object(v))
		return buf_adds(out, "{}");
	if (json_is_array(v))
		return buf_adds(out, "[]");
	return yaml_scalar(out, v);
}

/* A block collection at indent; the first line's indent is already written
 * when first_done (the "- " of a sequence item). */
static int yaml_block(struct buf *out, const json_t *v, int indent, bool first_done, int depth)
{
	const char *k;
	json_t *e;
	size_t i;
	int r = 0;

	if (depth > 64)
		return -E2BIG;
	if (json_is_object(v)) {
		bool first = true;

		json_object_foreach((json_t *)v, k, e) {
			json_t *key = json_string(k);

			if (!(first && first_done))
				r = yaml_indent(out, indent);
			first = false;
			if (r >= 0)
				r = key ? yaml_scalar(out, key) : -ENOMEM;
			json_decref(key);
			if (r >= 0)
				r = buf_addc(out, ':');
			if (r >= 0 && yaml_empty_or_scalar(e)) {
				r = buf_addc(out, ' ');
				if (r >= 0)
					r = yaml_inline(out, e);
				if (r >= 0)
					r = buf_addc(out, '\n');
			} else if (r >= 0) {
				r = buf_addc(out, '\n');
				if (r >= 0)
					r = yaml_block(out, e, json_is_array(e) ? indent : indent + 2, false,
						       depth + 1);
			}
			if (r < 0)
				return r;
		}
		return 0;
	}
	json_array_foreach(v, i, e) {
		if (!(i == 0 && first_done))
			r = yaml_indent(out, indent);
		if (r >= 0)
			r = buf_adds(out, "- ");
		if (r >= 0 && yaml_empty_or_scalar(e)) {
			r = yaml_inline(out, e);
			if (r >= 0)
				r = buf_addc(out, '\n');
		} else if (r >= 0) {
			r = yaml_block(out, e, indent + 2, true, depth + 1);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int kt_yaml_emit(struct buf *out, const json_t *v)
{
	int r;

	if (yaml_empty_or_scalar(v)) {
		r = yaml_inline(out, v);
		return r < 0 ? r : buf_addc(out, '\n');
	}
	return yaml_block(out, v, 0, false, 0);
}
