// SPDX-License-Identifier: Apache-2.0
/* The connection to the gateway and how its refusals are printed (plugin/conn.h). */
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
#include "lib/status.h"
#include "lib/util.h"
#include "plugin/conn.h"
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
int cancel_fd_setup(void)
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

int fail(const char *fmt, ...)
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

/* A JSON value on stdout as -o asks: indented JSON or a YAML document,
 * its strings the server's text (a trace's program, a message) with no
 * code point the terminal acts on (kt_add_json()). */
void print_object(const json_t *j, enum kt_output mode)
{
	struct buf b = BUF_INIT(4 * KT_MAX_LINE);
	int r = mode == KT_OUT_YAML ? kt_yaml_emit(&b, j)
				    : kt_add_json(&b, j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (r >= 0 && mode != KT_OUT_YAML)
		r = buf_addc(&b, '\n');
	if (r < 0)
		fprintf(stderr, "error: cannot print the answer: %s\n", strerror(-r));
	else
		fwrite(b.s, 1, b.len, stdout);
	buf_release(&b);
}

void conn_release(struct conn *c)
{
	kc_exec_cred_release(&c->cred);
	kc_resolved_release(&c->res);
	kubeconfig_release(&c->kc);
	free(c->gw);
	c->gw = NULL;
}

/* 0, or an exit status after printing why. */
int conn_open(const struct kt_args *a, struct conn *c)
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
	struct status_view v;

	if (!c->via_cluster || (code != 401 && code != 404))
		return false;
	/* a Status about traces comes from tracegate itself: no hint */
	j = json_loadb(body, len, 0, NULL);
	if (status_read(j, &v) == 0 && v.group && !strcmp(v.group, "tracegate.dev") && code == 404)
		return false;
	fprintf(stderr,
		"error: no gateway configured: without --gateway or TRACEGATE_URL, kubectl trace asks the "
		"cluster's API server (%s) as an aggregated API, and it answered HTTP %ld (%s): tracegate "
		"is not installed there, or does not know you.\n"
		"Set TRACEGATE_URL=https://GATEWAY:PORT (and TRACEGATE_CA=FILE) or pass --gateway URL.\n",
		c->gw, code, http_reason_phrase((int)code));
	return true;
}

int print_status(const struct conn *c, long code, const char *body, size_t len,
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
int transport_failed(const struct conn *c, int r, const struct kt_response *resp,
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

char *stop_url(void *ud)
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
	if (sc->node ? asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/nodetraces/%s", sc->gw, sc->rd->trace_id) < 0
		     : asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces/%s", sc->gw, sc->ns_esc,
				sc->rd->trace_id) < 0)
		return NULL;
	return url;
}

bool stop_wanted(void *ud)
{
	return ((struct stop_ctx *)ud)->rd->out_closed;
}

void progress_tick(void *ud)
{
	kt_progress_tick(ud, now_mono_ns());
}

void stop_done(void *ud, long code, const char *body, size_t len, const char *err)
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
