// SPDX-License-Identifier: Apache-2.0
/* kubectl-trace: the kubectl plugin, tracegate's front door. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/httpstatus.h"
#include "lib/util.h"
#include "plugin/cli.h"
#include "plugin/client.h"
#include "plugin/credential.h"
#include "plugin/kubeconfig.h"
#include "plugin/conn.h"
#include "plugin/detached.h"
#include "plugin/probes.h"
#include "plugin/render.h"
#include "kube/selector.h"
#include "wire/trace-body.h"
#include "wire/traces.h"
#include "wire/version.h"
#include "lib/banned.h"

/* The trace request (wire/trace-body.h); the selector was checked by
 * the command line, and the gateway reads it again, canonically. */
static char *request_body(const struct kt_args *a, const char *program)
{
	_cleanup_free_ char *target = a->target ? kt_target_normalize(a->target) : NULL;
	_cleanup_(kube_selector_freep) struct kube_selector *sel = NULL;
	_cleanup_(json_decrefp) json_t *params = json_array();
	_cleanup_free_ char *err = NULL;
	struct trace_body b;
	char *text = NULL;

	if (!params || (a->target && !target))
		return NULL;
	/* -l: every Running pod the selector matches (-A: in every namespace) */
	if (!target && kube_selector_parse(a->selector ? a->selector : "", &sel, &err) < 0)
		return NULL;
	for (size_t i = 0; i < a->nparams; i++)
		if (json_array_append_new(params, json_string(a->params[i])) < 0)
			return NULL;
	b = (struct trace_body){
		.target = target,
		.selector = sel,
		.all_namespaces = a->all_namespaces,
		.all_nodes = a->all_nodes,
		.program = (char *)program,
		.program_len = strlen(program),
		.params = params,
		.has_duration = a->duration != 0,
		.duration = (int64_t)a->duration,
		.detach = a->detach,
		.output_events = a->output == KT_OUT_BPFTRACE_JSON,
		.container = (char *)a->container,
	};
	return trace_body_encode(&b, &text) < 0 ? NULL : text;
}

/* A list ("a, b, c") of n strings, cleaned for the terminal. */
static void check_list(struct buf *b, const char *what, char *const *v, size_t n)
{
	buf_printf(b, "  %s: ", what);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(b, ", ");
		kt_add_clean(b, v[i], strlen(v[i]), false);
	}
	buf_addc(b, '\n');
}

/* `check` allowed: the decision, what it covers, what each node did. */
static void check_print(struct buf *b, const struct wire_checked *c)
{
	buf_adds(b, "allowed");
	if (c->message && *c->message) {
		buf_adds(b, ": ");
		kt_add_clean(b, c->message, strlen(c->message), false);
	}
	buf_addc(b, '\n');
	if (c->policy) {
		buf_adds(b, "  policy: ");
		kt_add_clean(b, c->policy, strlen(c->policy), false);
		buf_addc(b, '\n');
	}
	check_list(b, "pods", c->pods, c->npods);
	check_list(b, "nodes", c->nodes, c->nnodes);
	/* pods on nodes without a runner: a run would leave them out */
	for (size_t i = 0; i < c->nleft_out; i++) {
		buf_adds(b, "  left out: ");
		kt_add_clean(b, c->left_out[i].pod, strlen(c->left_out[i].pod), false);
		buf_adds(b, " (no runner for node \"");
		kt_add_clean(b, c->left_out[i].node, strlen(c->left_out[i].node), false);
		buf_adds(b, "\")\n");
	}
	/* what each node's runner did: up to the load, as a run */
	if (c->ncompiled) {
		buf_adds(b, "  compiled and verified on: ");
		for (size_t i = 0; i < c->ncompiled; i++) {
			const struct wire_checked_node *n = &c->compiled[i];

			if (i)
				buf_adds(b, ", ");
			kt_add_clean(b, n->node, strlen(n->node), false);
			if (n->has_probes)
				buf_printf(b, " (%" PRIu64 " probe%s)", n->probes, n->probes == 1 ? "" : "s");
		}
		buf_addc(b, '\n');
	}
}

/* `check`: the gateway's decision. */
static int check_result(const struct conn *c, const struct kt_args *a,
			const struct kt_response *resp, const char *program)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct buf b = BUF_INIT(64 * 1024);
	const char *nl;
	bool ok = resp->code >= 200 && resp->code < 300;

	if (a->output != KT_OUT_TEXT) {
		/* the decision as one object: allowed, and the gateway's answer */
		_cleanup_(json_decrefp) json_t *o = json_object();
		json_t *ans;

		nl = ok ? memchr(resp->body.s, '\n', resp->body.len) : NULL;
		ans = json_loadb(resp->body.s, nl ? (size_t)(nl - resp->body.s) : resp->body.len, 0, NULL);
		json_object_set_new(o, "allowed", json_boolean(ok));
		json_object_set_new(o, "code", json_integer(resp->code));
		json_object_set_new(o, ok ? "decision" : "status", ans ? ans : json_null());
		print_object(o, a->output);
		fflush(stdout);
		return ok ? KT_EXIT_OK : kt_status_exit(resp->code, resp->body.s, resp->body.len);
	}
	if (ok) {
		_cleanup_(wire_checked_release) struct wire_checked ck = { 0 };
		_cleanup_free_ char *err = NULL;

		nl = memchr(resp->body.s, '\n', resp->body.len);
		j = json_loadb(resp->body.s, nl ? (size_t)(nl - resp->body.s) : resp->body.len, 0, NULL);
		if (wire_checked_from_gateway(j, &ck, &err) < 0) {
			buf_release(&b);
			fprintf(stderr, "error: the gateway's answer to the check is not one: %s\n",
				err ? err : "out of memory");
			return KT_EXIT_FAILURE;
		}
		check_print(&b, &ck);
		fputs(b.s, stdout);
		buf_release(&b);
		return KT_EXIT_OK;
	}
	buf_release(&b);
	if (kt_status_is_denial(resp->code)) {
		/* the decision itself goes to stdout; the why follows it */
		fputs("denied\n", stdout);
		fflush(stdout);
	}
	return print_status(c, resp->code, resp->body.s, resp->body.len, program);
}

/* -f -: the program from standard input, with the same limit. */
static int read_stdin(size_t max, char **ret, size_t *ret_len)
{
	struct buf b = BUF_INIT(max);
	char chunk[65536];

	for (;;) {
		ssize_t n = read(0, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			buf_release(&b);
			return e;
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n) < 0) {
			buf_release(&b);
			return -EFBIG;
		}
	}
	*ret_len = b.len;
	*ret = b.alloc ? b.s : strdup("");
	return *ret ? 0 : -ENOMEM;
}

static int load_program(const struct kt_args *a, char **ret)
{
	const char *name = a->file && !strcmp(a->file, "-") ? "standard input" : a->file;
	size_t len;
	int r;

	if (!a->file) {
		*ret = strdup(a->expr);
		return *ret ? 0 : fail("out of memory");
	}
	r = strcmp(a->file, "-") ? read_file(a->file, KT_MAX_PROGRAM, ret, &len)
				 : read_stdin(KT_MAX_PROGRAM, ret, &len);
	if (r == -EFBIG)
		return fail("program file \"%s\": longer than %u bytes", name, KT_MAX_PROGRAM);
	if (r < 0)
		return fail("program file \"%s\": %s", name, strerror(-r));
	if (memchr(*ret, '\0', len))
		return fail("program file \"%s\": contains a NUL byte", name);
	return 0;
}

static int run(struct kt_args *a)
{
	_cleanup_free_ char *program = NULL, *err = NULL, *body = NULL, *url = NULL;
	struct conn c = { 0 };
	struct kt_response resp = { 0 };
	struct kt_render rd;
	struct stop_ctx sc = { .rd = &rd };
	char *ns_esc = NULL;
	CURL *esc = NULL;
	int r, rc;

	/* The renderer flushes after each record; a buffer that holds a whole
	 * output record (the runner's are about 64 KiB at most) makes that one
	 * write(2) per record, where stdio's default 4 KiB took three. */
	static char outbuf[256 << 10];

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	kt_render_init(&rd, stdout, stderr, a->output);
	rd.prefix = a->prefix;
	rc = load_program(a, &program);
	if (rc)
		goto out;
	rd.program = program;
	rc = conn_open(a, &c);
	if (rc)
		goto out;
	rc = KT_EXIT_FAILURE;
	esc = curl_easy_init();
	ns_esc = esc ? curl_easy_escape(esc, c.res.namespace, 0) : NULL;
	if (esc)
		curl_easy_cleanup(esc);
	/* a node-wide trace is cluster-scoped: no namespace in its path */
	sc.node = a->target && kt_target_is_node(a->target);
	if (!ns_esc)
		goto out;
	if (sc.node ? asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/nodetraces%s", c.gw,
			       a->cmd == KT_CMD_CHECK ? "?dryRun=All" : "") < 0
		    : asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces%s", c.gw, ns_esc,
			       a->cmd == KT_CMD_CHECK ? "?dryRun=All" : "") < 0)
		goto out;
	body = request_body(a, program);
	if (!body)
		goto out;
	c.rq.url = url;
	c.rq.body = body;
	c.rq.body_len = strlen(body);
	if (a->cmd == KT_CMD_CHECK || a->detach) {
		c.rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : KT_CHECK_TIMEOUT_MS;
	} else {
		c.rq.on_line = kt_render_line_cb;
		c.rq.ctx = &rd;
		c.rq.cancel_fd = cancel_fd_setup();
		/* a closed stdout is an EPIPE the renderer notices (a graceful
		 * stop), not a death that would cut the trace */
		signal(SIGPIPE, SIG_IGN);
		sc.gw = c.gw;
		sc.ns_esc = ns_esc;
		c.rq.stop_url = stop_url;
		c.rq.stop_wanted = stop_wanted;
		c.rq.stop_done = stop_done;
		c.rq.stop_ctx = &sc;
		/* progress only where a person watches, and only in text */
		if (a->output == KT_OUT_TEXT && isatty(STDERR_FILENO)) {
			char what[160];

			if (sc.node)
				snprintf(what, sizeof(what), "starting %s: resolving, compiling", a->target);
			else if (!a->target)
				snprintf(what, sizeof(what), "starting -l %.64s %s%s: resolving, compiling",
					 a->selector, a->all_namespaces ? "in every namespace" : "in ",
					 a->all_namespaces ? "" : c.res.namespace);
			else
				snprintf(what, sizeof(what), "starting %s in %s: resolving, compiling", a->target,
					 c.res.namespace);
			kt_progress_start(&rd, what, now_mono_ns());
			c.rq.tick = progress_tick;
			c.rq.tick_ctx = &rd;
		}
	}

	r = kt_post(&c.rq, &resp, &err);
	fflush(stdout);
	if (r == -ECANCELED) {
		/* the second Ctrl-C: closing the connection cuts the trace;
		 * what came is printed, END and the maps are lost */
		fprintf(stderr, "interrupted: the trace was aborted\n");
		rc = KT_EXIT_INTERRUPTED;
		goto out;
	}
	if (r == -EBADMSG) {
		rc = fail("%s", rd.problem ? rd.problem : "the gateway sent a bad record");
		goto out;
	}
	rc = transport_failed(&c, r, &resp, err);
	if (rc)
		goto out;
	if (a->cmd == KT_CMD_CHECK) {
		rc = check_result(&c, a, &resp, program);
		goto out;
	}
	if (a->detach) {
		rc = resp.code == 201 ? kt_detached_created(a, &resp)
				      : print_status(&c, resp.code, resp.body.s, resp.body.len, program);
		goto out;
	}
	if (resp.code < 200 || resp.code >= 300) {
		rc = print_status(&c, resp.code, resp.body.s, resp.body.len, program);
		goto out;
	}
	if (resp.body.len || strncmp(resp.content_type, "application/x-ndjson", 20)) {
		rc = fail("gateway \"%s\" answered with Content-Type \"%s\", not an NDJSON stream", c.gw,
			  resp.content_type);
		goto out;
	}
	if (!rd.ended) {
		rc = fail("the stream from gateway \"%s\" ended before the trace did%s", c.gw,
			  resp.pending ? " (in the middle of a record)" : "");
		goto out;
	}
	if (rd.drops > 0)
		fprintf(stderr, "warning: %lld events lost\n", (long long)rd.drops);
	if (!strcmp(rd.end_reason, "cpu-budget") || !strcmp(rd.end_reason, "rate-limit") ||
	    !strcmp(rd.end_reason, "output-limit"))
		fprintf(stderr, "warning: the trace was stopped early: %s limit reached\n",
			rd.end_reason);
	rc = rd.exit_code;
out:
	curl_free(ns_esc);
	kt_response_release(&resp);
	kt_render_release(&rd);
	conn_release(&c);
	if (program)
		explicit_bzero(program, strlen(program));
	return rc;
}

/*
 * `version`: this build, and the gateway's when one answers.  kubectl's
 * shape: clientVersion and serverVersion (absent when unreachable, with
 * the reason on stderr; a version is still a success).
 */
static int version(const struct kt_args *a)
{
	_cleanup_(json_decrefp) json_t *o = json_object(), *server = NULL, *mine = NULL, *theirs = NULL;
	_cleanup_free_ char *url = NULL, *err = NULL, *why = NULL;
	_cleanup_(wire_version_release) struct wire_version cv = { 0 }, sv = { 0 };
	struct conn c = { 0 };
	struct kt_response resp = { 0 };
	int r;

	if (!o || wire_version_this(&cv) < 0 || wire_version_to_json(&cv, &mine) < 0 ||
	    json_object_set(o, "clientVersion", mine) < 0)
		return fail("out of memory");
	if (!a->client_only) {
		/* conn_open explains itself on stderr: that is the reason */
		if (conn_open(a, &c) == 0 &&
		    asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/version", c.gw) >= 0) {
			c.rq.method = "GET";
			c.rq.url = url;
			c.rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : 10000;
			r = kt_post(&c.rq, &resp, &err);
			if (r < 0)
				r = asprintf(&why, "cannot reach gateway \"%s\": %s", c.gw,
					     err ? err : tg_strerror(r));
			else if (resp.code != 200)
				r = asprintf(&why, "gateway \"%s\" answered HTTP %ld to its version", c.gw,
					     resp.code);
			else if (!(server = json_loadb(resp.body.s, resp.body.len, 0, NULL)) ||
				 wire_version_from_gateway(server, &sv, &err) < 0 ||
				 wire_version_to_json(&sv, &theirs) < 0)
				r = asprintf(&why, "gateway \"%s\" sent a version that is not one: %s", c.gw,
					     err ? err : server ? "out of memory" : "not JSON");
			if (why)
				fprintf(stderr, "warning: %s\n", why);
			else
				json_object_set(o, "serverVersion", theirs);
			(void)r;
		}
	}
	if (a->output == KT_OUT_TEXT) {
		printf("Client Version: %s (commit %s, built %s)\n", cv.version, cv.git_commit, cv.build_date);
		if (theirs) {
			struct buf b = BUF_INIT(4096);
			const char *v[] = { sv.version, sv.git_commit, sv.build_date };
			const char *sep[] = { "Gateway Version: ", " (commit ", ", built " };

			/* the server's words: cleaned before they reach the terminal */
			for (size_t i = 0; i < 3; i++) {
				buf_adds(&b, sep[i]);
				kt_add_clean(&b, v[i], strlen(v[i]), false);
			}
			printf("%s)\n", b.s);
			buf_release(&b);
		}
	} else {
		print_object(o, a->output);
	}
	kt_response_release(&resp);
	conn_release(&c);
	return KT_EXIT_OK;
}

static int complete(const struct kt_args *a)
{
	struct buf b = BUF_INIT(1u << 20);

	kt_complete(&b, a->words, a->nwords);
	fputs(b.s, stdout);
	buf_release(&b);
	return KT_EXIT_OK;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *err = NULL;
	const char *base = strrchr(argv[0], '/');
	struct kt_args a;
	int rc;

	/* kubectl 1.26+ runs kubectl_complete-trace WORDS... for completion */
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "kubectl_complete-trace")) {
		a = (struct kt_args){ .cmd = KT_CMD_COMPLETE, .words = argv + 1,
				      .nwords = argc > 1 ? (size_t)(argc - 1) : 0 };
		return complete(&a);
	}
	if (kt_args_parse(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "error: %s\nSee 'kubectl trace --help' for usage.\n",
			err ? err : "bad arguments");
		return KT_EXIT_USAGE;
	}
	switch (a.cmd) {
	case KT_CMD_HELP:
	case KT_CMD_NONE:
		fputs(kt_usage(a.help_for), stdout);
		rc = KT_EXIT_OK;
		break;
	case KT_CMD_COMPLETION:
		fputs(kt_completion_script(a.shell), stdout);
		rc = KT_EXIT_OK;
		break;
	case KT_CMD_COMPLETE:
		rc = complete(&a);
		break;
	case KT_CMD_VERSION:
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = version(&a);
		curl_global_cleanup();
		break;
	case KT_CMD_LIST:
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = kt_probes_command(&a);
		curl_global_cleanup();
		break;
	case KT_CMD_GET:
	case KT_CMD_LOGS:
	case KT_CMD_ATTACH:
	case KT_CMD_DELETE:
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = kt_detached_command(&a);
		curl_global_cleanup();
		break;
	default:
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = run(&a);
		curl_global_cleanup();
		break;
	}
	kt_args_release(&a);
	return rc;
}
