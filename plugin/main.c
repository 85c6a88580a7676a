// SPDX-License-Identifier: Apache-2.0
/* kubectl-trace: the kubectl plugin, tracegate's front door. */
#include <errno.h>
#include <fcntl.h>
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
#include "lib/version.h"
#include "plugin/cli.h"
#include "plugin/client.h"
#include "plugin/exec.h"
#include "plugin/kubeconfig.h"
#include "plugin/render.h"
#include "lib/banned.h"

static int sigpipe_w = -1;

static void on_sigint(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (write(sigpipe_w, &c, 1) < 0) {
		/* nothing more a handler can do */
	}
	errno = saved;
}

/* SIGINT writes to a pipe the transfer loop polls. */
static int cancel_fd_setup(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	sigpipe_w = p[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	return p[0];
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KT_EXIT_FAILURE;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(getuid());
	return pw ? pw->pw_dir : NULL;
}

/* RFC 1123 label: a namespace name. */
static bool dns_label(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');

		if (!alnum && (s[i] != '-' || i == 0 || i == len - 1))
			return false;
	}
	return true;
}

static char *request_body(const struct kt_args *a, const char *program)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *target = kt_target_normalize(a->target);
	json_t *params;

	if (!target)
		return NULL;
	j = json_pack("{s:s,s:s,s:[]}", "target", target, "program", program, "params");
	if (!j)
		return NULL;
	params = json_object_get(j, "params");
	for (size_t i = 0; i < a->nparams; i++)
		if (json_array_append_new(params, json_string(a->params[i])) < 0)
			return NULL;
	if (a->duration && json_object_set_new(j, "duration", json_integer((json_int_t)a->duration)) < 0)
		return NULL;
	return json_dumps(j, JSON_COMPACT);
}

/* A JSON value on stdout as -o asks: indented JSON or a YAML document. */
static void print_object(const json_t *j, enum kt_output mode)
{
	struct buf b = BUF_INIT(16u << 20);

	if (mode == KT_OUT_YAML) {
		kt_yaml_emit(&b, j);
		fputs(b.s, stdout);
	} else {
		char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (t)
			printf("%s\n", t);
		free(t);
	}
	buf_release(&b);
}

/* Everything a request to the gateway needs, from the kubeconfig and flags. */
struct conn {
	struct kubeconfig kc;
	struct kc_resolved res;
	struct kc_exec_cred cred;
	char *gw;                 /* the gateway's base URL, no trailing slash */
	bool via_cluster;         /* no gateway configured: the API server */
	struct kt_request rq;     /* TLS and credentials filled in */
};

static void conn_release(struct conn *c)
{
	kc_exec_cred_release(&c->cred);
	kc_resolved_release(&c->res);
	kubeconfig_release(&c->kc);
	free(c->gw);
	c->gw = NULL;
}

/* 0, or an exit status after printing why. */
static int conn_open(const struct kt_args *a, struct conn *c)
{
	_cleanup_free_ char *warning = NULL, *err = NULL;
	struct kc_load_opts lo = { .sz = sizeof(lo), .explicit_file = a->kubeconfig,
				   .env = getenv("KUBECONFIG"), .home = home_dir() };
	struct kc_overrides ov = { .context = a->context, .cluster = a->cluster, .user = a->user,
				   .namespace = a->ns, .token = a->token };
	const char *gateway, *gateway_ca;
	int r;

	c->rq = (struct kt_request){ .cancel_fd = -1, .verbosity = a->verbosity, .log = stderr };
	r = kubeconfig_load(&lo, &c->kc, &warning, &err);
	if (warning)
		fprintf(stderr, "warning: %s\n", warning);
	if (r < 0)
		return fail("%s", err ? err : tg_strerror(r));
	r = kubeconfig_resolve(&c->kc, &ov, &c->res, &err);
	if (r < 0)
		return fail("%s", err ? err : tg_strerror(r));
	/* impersonation: each flag over the user entry's own (client-go's
	 * override of as and as-groups, field by field) */
	c->rq.as_user = a->as ? a->as : c->res.as_user;
	c->rq.as_groups = a->nas_groups ? a->as_groups : c->res.as_groups;
	if (c->rq.as_groups && *c->rq.as_groups && !c->rq.as_user)
		return fail("user \"%s\": as-groups needs as (groups are impersonated only with a user)",
			    c->res.user_name ? c->res.user_name : "");
	if (!dns_label(c->res.namespace))
		return fail("namespace \"%s\" is not a valid namespace name", c->res.namespace);
	if (!c->res.token && c->res.exec) {
		r = kc_exec_run(c->res.exec, c->res.cluster_entry, isatty(0), &c->cred, &err);
		if (r < 0)
			return fail("user \"%s\": %s", c->res.user_name ? c->res.user_name : "",
				    err ? err : tg_strerror(r));
	}

	/* where to: the gateway, or the API server as an aggregated API */
	gateway = a->gateway ? a->gateway : getenv("TRACEGATE_URL");
	c->via_cluster = !gateway || !*gateway;
	if (c->via_cluster)
		gateway = c->res.server;
	if (!gateway || !*gateway)
		return fail("no gateway configured: pass --gateway URL or set TRACEGATE_URL (and the "
			    "cluster \"%s\" has no server to reach tracegate through)",
			    c->res.cluster_entry ? c->res.cluster_entry->name : "");
	if (!str_has_prefix(gateway, "https://"))
		return fail("gateway \"%s\": only https:// is allowed (the request carries your token)",
			    gateway);
	c->gw = strdup(gateway);
	if (!c->gw)
		return fail("out of memory");
	while (strlen(c->gw) > 8 && c->gw[strlen(c->gw) - 1] == '/')
		c->gw[strlen(c->gw) - 1] = '\0';

	gateway_ca = a->gateway_ca ? a->gateway_ca : getenv("TRACEGATE_CA");
	if (gateway_ca && *gateway_ca) {
		if (access(gateway_ca, R_OK) < 0)
			return fail("gateway CA \"%s\": %s", gateway_ca, strerror(errno));
		c->rq.ca_file = gateway_ca;
	} else {
		c->rq.ca_pem = c->res.ca;
		c->rq.ca_len = c->res.ca_len;
		/* the kubeconfig's insecure-skip-tls-verify describes its own server */
		c->rq.insecure = c->via_cluster && c->res.insecure;
	}
	c->rq.token = c->res.token ? c->res.token : c->cred.token;
	c->rq.cert_pem = c->res.cert ? c->res.cert : c->cred.cert;
	c->rq.cert_len = c->res.cert ? c->res.cert_len : c->cred.cert_len;
	c->rq.key_pem = c->res.key ? c->res.key : c->cred.key;
	c->rq.key_len = c->res.key ? c->res.key_len : c->cred.key_len;
	c->rq.connect_timeout_ms = a->request_timeout_ms;
	return 0;
}

/*
 * Without --gateway or TRACEGATE_URL the request went to the cluster's API
 * server; one that does not serve tracegate answers 404 (or 401 when it
 * does not know the user, 403 when RBAC hides the group) in its own words.
 * Say what was tried and how to point the plugin at a gateway.
 */
static bool no_gateway_hint(const struct conn *c, long code, const char *body, size_t len)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *details;

	if (!c->via_cluster || (code != 401 && code != 404))
		return false;
	/* a Status about traces comes from tracegate itself: no hint */
	j = json_loadb(body, len, 0, NULL);
	details = json_object_get(j, "details");
	if (json_is_string(json_object_get(details, "group")) &&
	    !strcmp(json_string_value(json_object_get(details, "group")), "tracegate.dev") && code == 404)
		return false;
	fprintf(stderr,
		"error: no gateway configured: without --gateway or TRACEGATE_URL, kubectl trace asks the "
		"cluster's API server (%s) as an aggregated API, and it answered HTTP %ld (%s): tracegate "
		"is not installed there, or does not know you.\n"
		"Set TRACEGATE_URL=https://GATEWAY:PORT (and TRACEGATE_CA=FILE) or pass --gateway URL.\n",
		c->gw, code, http_reason_phrase((int)code));
	return true;
}

static int print_status(const struct conn *c, long code, const char *body, size_t len,
			const char *program)
{
	struct buf b = BUF_INIT(KT_MAX_STATUS_BODY * 2);

	if (no_gateway_hint(c, code, body, len))
		return KT_EXIT_FAILURE;
	if (kt_status_render_program(&b, code, body, len, program) < 0)
		fprintf(stderr, "Error from server (%s): the server answered HTTP %ld\n",
			status_reason((int)code), code);
	else
		fputs(b.s, stderr);
	buf_release(&b);
	return kt_status_exit(code, body, len);
}

/* A transport failure: 0 when there was none, else the exit status. */
static int transport_failed(const struct conn *c, int r, const struct kt_response *resp,
			    const char *err)
{
	if (r == -TG_EUPSTREAM && resp->code == 0)
		return fail("cannot reach gateway \"%s\": %s", c->gw, err ? err : "connection failed");
	if (r == -TG_EUPSTREAM)
		return fail("connection to gateway \"%s\" lost: %s", c->gw, err ? err : "connection failed");
	if (r < 0)
		return fail("gateway \"%s\": %s", c->gw, err ? err : tg_strerror(r));
	return 0;
}

/* `check`: the gateway's decision. */
static int check_result(const struct conn *c, const struct kt_args *a,
			const struct kt_response *resp, const char *program)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct buf b = BUF_INIT(64 * 1024);
	const char *nl;
	json_t *v;
	size_t i;
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
		nl = memchr(resp->body.s, '\n', resp->body.len);
		j = json_loadb(resp->body.s, nl ? (size_t)(nl - resp->body.s) : resp->body.len, 0, NULL);
		buf_adds(&b, "allowed");
		if (json_is_string(v = json_object_get(j, "message")) && *json_string_value(v)) {
			buf_adds(&b, ": ");
			kt_add_clean(&b, json_string_value(v), json_string_length(v), false);
		}
		buf_addc(&b, '\n');
		for (const char *const *k = (const char *const[]){ "policy", "pods", "nodes", NULL }; *k; k++) {
			json_t *e;

			v = json_object_get(j, *k);
			if (!v)
				continue;
			buf_printf(&b, "  %s: ", *k);
			if (json_is_string(v))
				kt_add_clean(&b, json_string_value(v), json_string_length(v), false);
			json_array_foreach(v, i, e) {
				if (!json_is_string(e))
					continue;
				if (i)
					buf_adds(&b, ", ");
				kt_add_clean(&b, json_string_value(e), json_string_length(e), false);
			}
			buf_addc(&b, '\n');
		}
		/* what each node's runner did: up to the load, as a run */
		v = json_object_get(j, "compiled");
		if (json_array_size(v)) {
			json_t *e;

			buf_adds(&b, "  compiled and verified on: ");
			json_array_foreach(v, i, e) {
				json_t *n = json_object_get(e, "node"), *p = json_object_get(e, "probes");

				if (!json_is_string(n))
					continue;
				if (i)
					buf_adds(&b, ", ");
				kt_add_clean(&b, json_string_value(n), json_string_length(n), false);
				if (json_is_integer(p))
					buf_printf(&b, " (%" JSON_INTEGER_FORMAT " probe%s)", json_integer_value(p),
						   json_integer_value(p) == 1 ? "" : "s");
			}
			buf_addc(&b, '\n');
		}
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

/* The graceful stop (first Ctrl-C, stdout closed): DELETE of the trace. */
struct stop_ctx {
	struct kt_render *rd;
	const char *gw, *ns_esc;
	bool line_ended;
};

static char *stop_url(void *ud)
{
	struct stop_ctx *sc = ud;
	char *url;

	if (!sc->line_ended && !sc->rd->out_closed && isatty(fileno(sc->rd->out))) {
		/* the terminal echoed ^C: END's output and the maps start on a
		 * line of their own, as bpftrace's do */
		fputc('\n', sc->rd->out);
		fflush(sc->rd->out);
		sc->line_ended = true;
	}
	if (!sc->rd->trace_id[0])
		return NULL;   /* not accepted yet: asked again as the stream goes */
	if (asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces/%s", sc->gw, sc->ns_esc,
		     sc->rd->trace_id) < 0)
		return NULL;
	return url;
}

static bool stop_wanted(void *ud)
{
	return ((struct stop_ctx *)ud)->rd->out_closed;
}

static void progress_tick(void *ud)
{
	kt_progress_tick(ud, now_mono_ns());
}

static void stop_done(void *ud, long code, const char *body, size_t len, const char *err)
{
	struct stop_ctx *sc = ud;
	struct buf b = BUF_INIT(KT_MAX_STATUS_BODY * 2);

	if (code >= 200 && code < 300)
		return;
	if (sc->rd->ended)
		return;   /* it ended on its own meanwhile (the stop's 404) */
	if (code && kt_status_render(&b, code, body, len) == 0)
		fprintf(stderr, "warning: the trace could not be stopped gracefully (Ctrl-C again aborts it): %s",
			b.s);
	else
		fprintf(stderr, "warning: the trace could not be stopped gracefully (Ctrl-C again aborts it): %s\n",
			err ? err : "no answer");
	buf_release(&b);
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
	if (!ns_esc || asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces%s", c.gw,
				ns_esc, a->cmd == KT_CMD_CHECK ? "?dryRun=All" : "") < 0)
		goto out;
	body = request_body(a, program);
	if (!body)
		goto out;
	c.rq.url = url;
	c.rq.body = body;
	c.rq.body_len = strlen(body);
	if (a->cmd == KT_CMD_CHECK) {
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
	_cleanup_(json_decrefp) json_t *o = NULL, *server = NULL;
	_cleanup_free_ char *url = NULL, *err = NULL, *why = NULL;
	struct conn c = { 0 };
	struct kt_response resp = { 0 };
	int r;

	o = json_pack("{s:{s:s,s:s,s:s}}", "clientVersion", "version", tg_version, "gitCommit",
		      tg_git_commit, "buildDate", tg_build_date);
	if (!o)
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
			else if (!json_is_object(server = json_loadb(resp.body.s, resp.body.len, 0, NULL)))
				r = asprintf(&why, "gateway \"%s\" sent a version that is not a JSON object",
					     c.gw);
			if (why)
				fprintf(stderr, "warning: %s\n", why);
			else
				json_object_set(o, "serverVersion", server);
			(void)r;
		}
	}
	if (a->output == KT_OUT_TEXT) {
		json_t *sv = json_object_get(o, "serverVersion");

		printf("Client Version: %s (commit %s, built %s)\n", tg_version, tg_git_commit,
		       tg_build_date);
		if (sv) {
			struct buf b = BUF_INIT(4096);
			const char *k[] = { "version", "gitCommit", "buildDate" };
			const char *sep[] = { "Gateway Version: ", " (commit ", ", built " };

			/* the server's words: cleaned before they reach the terminal */
			for (size_t i = 0; i < 3; i++) {
				const char *v = json_string_value(json_object_get(sv, k[i]));

				buf_adds(&b, sep[i]);
				kt_add_clean(&b, v ? v : "unknown", strlen(v ? v : "unknown"), false);
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
	default:
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = run(&a);
		curl_global_cleanup();
		break;
	}
	kt_args_release(&a);
	return rc;
}
