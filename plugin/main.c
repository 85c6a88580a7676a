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
#include "lib/util.h"
#include "plugin/cli.h"
#include "plugin/client.h"
#include "plugin/exec.h"
#include "plugin/kubeconfig.h"
#include "plugin/render.h"
#include "lib/banned.h"

#define EXIT_INTERRUPTED 130

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
	return 1;
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

static int print_status(long code, const char *body, size_t len, FILE *f)
{
	struct buf b = BUF_INIT(KT_MAX_STATUS_BODY * 2);

	if (kt_status_render(&b, code, body, len) < 0)
		fprintf(f, "Error from server (%s): the server answered HTTP %ld\n", kt_http_reason(code),
			code);
	else
		fputs(b.s, f);
	buf_release(&b);
	return 1;
}

/* `check`: the gateway's decision. */
static int check_result(const struct kt_response *resp)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct buf b = BUF_INIT(64 * 1024);
	const char *nl;
	json_t *v;
	size_t i;

	if (resp->code >= 200 && resp->code < 300) {
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
		fputs(b.s, stdout);
		buf_release(&b);
		return 0;
	}
	buf_release(&b);
	if (kt_status_is_denial(resp->code)) {
		/* the decision itself goes to stdout; the why follows it */
		fputs("denied\n", stdout);
		fflush(stdout);
	}
	return print_status(resp->code, resp->body.s, resp->body.len, stderr);
}

static int run(struct kt_args *a)
{
	_cleanup_free_ char *program = NULL, *warning = NULL, *err = NULL, *body = NULL;
	_cleanup_free_ char *url = NULL, *gw = NULL, *ns_esc = NULL;
	struct kubeconfig kc = { 0 };
	struct kc_resolved res = { 0 };
	struct kc_exec_cred cred = { 0 };
	struct kc_load_opts lo = { .sz = sizeof(lo), .explicit_file = a->kubeconfig,
				   .env = getenv("KUBECONFIG"), .home = home_dir() };
	struct kc_overrides ov = { .context = a->context, .cluster = a->cluster, .user = a->user,
				   .namespace = a->ns, .token = a->token };
	struct kt_request rq = { .cancel_fd = -1 };
	struct kt_response resp = { 0 };
	struct kt_render rd;
	const char *gateway, *gateway_ca;
	bool via_cluster;
	CURL *esc = NULL;
	int r, rc = 1;

	kt_render_init(&rd, stdout, stderr, a->output);
	rd.prefix = a->prefix;
	if (a->file) {
		size_t len;

		r = read_file(a->file, KT_MAX_PROGRAM, &program, &len);
		if (r == -EFBIG)
			return fail("program file \"%s\": longer than %u bytes", a->file, KT_MAX_PROGRAM);
		if (r < 0)
			return fail("program file \"%s\": %s", a->file, strerror(-r));
		if (memchr(program, '\0', len))
			return fail("program file \"%s\": contains a NUL byte", a->file);
	} else {
		program = strdup(a->expr);
		if (!program)
			return fail("out of memory");
	}

	r = kubeconfig_load(&lo, &kc, &warning, &err);
	if (warning)
		fprintf(stderr, "warning: %s\n", warning);
	if (r < 0) {
		rc = fail("%s", err ? err : tg_strerror(r));
		goto out;
	}
	r = kubeconfig_resolve(&kc, &ov, &res, &err);
	if (r < 0) {
		rc = fail("%s", err ? err : tg_strerror(r));
		goto out;
	}
	if (!dns_label(res.namespace)) {
		rc = fail("namespace \"%s\" is not a valid namespace name", res.namespace);
		goto out;
	}
	if (!res.token && res.exec) {
		r = kc_exec_run(res.exec, res.cluster_entry, isatty(0), &cred, &err);
		if (r < 0) {
			rc = fail("user \"%s\": %s", res.user_name ? res.user_name : "",
				  err ? err : tg_strerror(r));
			goto out;
		}
	}

	/* where to: the gateway, or the API server as an aggregated API */
	gateway = a->gateway ? a->gateway : getenv("TRACEGATE_URL");
	via_cluster = !gateway || !*gateway;
	if (via_cluster)
		gateway = res.server;
	if (!gateway || !*gateway) {
		rc = fail("no gateway: pass --gateway URL or set TRACEGATE_URL (cluster \"%s\" has no server)",
			  res.cluster_entry ? res.cluster_entry->name : "");
		goto out;
	}
	if (!str_has_prefix(gateway, "https://")) {
		rc = fail("gateway \"%s\": only https:// is allowed (the request carries your token)",
			  gateway);
		goto out;
	}
	gw = strdup(gateway);
	if (!gw)
		goto out;
	while (strlen(gw) > 8 && gw[strlen(gw) - 1] == '/')
		gw[strlen(gw) - 1] = '\0';
	esc = curl_easy_init();
	ns_esc = esc ? curl_easy_escape(esc, res.namespace, 0) : NULL;
	if (esc)
		curl_easy_cleanup(esc);
	if (!ns_esc || asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces%s", gw,
				ns_esc, a->cmd == KT_CMD_CHECK ? "?dryRun=All" : "") < 0)
		goto out;

	gateway_ca = a->gateway_ca ? a->gateway_ca : getenv("TRACEGATE_CA");
	if (gateway_ca && *gateway_ca) {
		if (access(gateway_ca, R_OK) < 0) {
			rc = fail("gateway CA \"%s\": %s", gateway_ca, strerror(errno));
			goto out;
		}
		rq.ca_file = gateway_ca;
	} else {
		rq.ca_pem = res.ca;
		rq.ca_len = res.ca_len;
		/* the kubeconfig's insecure-skip-tls-verify describes its own server */
		rq.insecure = via_cluster && res.insecure;
	}
	body = request_body(a, program);
	if (!body)
		goto out;
	rq.url = url;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.token = res.token ? res.token : cred.token;
	rq.cert_pem = res.cert ? res.cert : cred.cert;
	rq.cert_len = res.cert ? res.cert_len : cred.cert_len;
	rq.key_pem = res.key ? res.key : cred.key;
	rq.key_len = res.key ? res.key_len : cred.key_len;
	rq.connect_timeout_ms = a->request_timeout_ms;
	if (a->cmd == KT_CMD_CHECK) {
		rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : KT_CHECK_TIMEOUT_MS;
	} else {
		rq.on_line = kt_render_line_cb;
		rq.ctx = &rd;
		rq.cancel_fd = cancel_fd_setup();
	}

	r = kt_post(&rq, &resp, &err);
	fflush(stdout);
	if (r == -ECANCELED) {
		/* closing the connection stops the trace; what came is printed */
		fprintf(stderr, "interrupted: the trace was stopped\n");
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (r == -TG_EUPSTREAM && resp.code == 0) {
		rc = fail("cannot reach gateway \"%s\": %s", gw, err ? err : "connection failed");
		goto out;
	}
	if (r == -TG_EUPSTREAM) {
		rc = fail("connection to gateway \"%s\" lost: %s", gw, err ? err : "connection failed");
		goto out;
	}
	if (r == -EBADMSG) {
		rc = fail("%s", rd.problem ? rd.problem : "the gateway sent a bad record");
		goto out;
	}
	if (r < 0) {
		rc = fail("gateway \"%s\": %s", gw, err ? err : tg_strerror(r));
		goto out;
	}
	if (a->cmd == KT_CMD_CHECK) {
		rc = check_result(&resp);
		goto out;
	}
	if (resp.code < 200 || resp.code >= 300) {
		rc = print_status(resp.code, resp.body.s, resp.body.len, stderr);
		goto out;
	}
	if (resp.body.len || strncmp(resp.content_type, "application/x-ndjson", 20)) {
		rc = fail("gateway \"%s\" answered with Content-Type \"%s\", not an NDJSON stream", gw,
			  resp.content_type);
		goto out;
	}
	if (!rd.ended) {
		rc = fail("the stream from gateway \"%s\" ended before the trace did%s", gw,
			  resp.pending ? " (in the middle of a record)" : "");
		goto out;
	}
	if (rd.drops > 0)
		fprintf(stderr, "warning: %lld events lost\n", (long long)rd.drops);
	if (!strcmp(rd.end_reason, "cpu-budget") || !strcmp(rd.end_reason, "rate-limit"))
		fprintf(stderr, "warning: the trace was stopped early: %s limit reached\n",
			rd.end_reason);
	rc = rd.exit_code;
out:
	curl_free(ns_esc);
	ns_esc = NULL;
	kt_response_release(&resp);
	kt_render_release(&rd);
	kc_exec_cred_release(&cred);
	kc_resolved_release(&res);
	kubeconfig_release(&kc);
	if (program)
		explicit_bzero(program, strlen(program));
	return rc;
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *err = NULL;
	struct kt_args a;
	int rc;

	if (kt_args_parse(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "error: %s\nSee 'kubectl trace --help' for usage.\n",
			err ? err : "bad arguments");
		return 1;
	}
	switch (a.cmd) {
	case KT_CMD_HELP:
	case KT_CMD_NONE:
		fputs(kt_usage(), stdout);
		rc = 0;
		break;
	case KT_CMD_VERSION:
		printf("kubectl-trace version %s\n", KT_VERSION);
		rc = 0;
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
