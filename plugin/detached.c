// SPDX-License-Identifier: Apache-2.0
/*
 * Detached traces from the command line: run --detach's answer, get,
 * logs, attach and delete (docs/kubectl-trace.md).  The gateway's Trace
 * and TraceList are Kubernetes-shaped; everything they carry is the
 * server's text and is cleaned before it reaches the terminal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "plugin/conn.h"
#include "plugin/detached.h"
#include "wire/traces.h"
#include "lib/banned.h"

#define KT_GET_TIMEOUT_MS 30000L
#define KT_DELETE_TIMEOUT_MS 90000L   /* END runs and the programs are unloaded first */

/* kubectl's AGE: 42s, 7m, 3h, 2d */
static void age_of(const char *rfc3339, char *out, size_t n)
{
	struct tm tm = { 0 };
	const char *end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm);
	time_t then, now = time(NULL);
	long long d;

	if (!end) {
		snprintf(out, n, "<unknown>");
		return;
	}
	then = timegm(&tm);
	d = now > then ? (long long)(now - then) : 0;
	if (d < 120)
		snprintf(out, n, "%llds", d);
	else if (d < 2 * 3600)
		snprintf(out, n, "%lldm", d / 60);
	else if (d < 2 * 86400)
		snprintf(out, n, "%lldh", d / 3600);
	else
		snprintf(out, n, "%lldd", d / 86400);
}

/* The base URL of the namespace's traces, NAME and a tail appended. */
static char *traces_url(const struct conn *c, const char *name, const char *tail)
{
	CURL *e = curl_easy_init();
	char *ns = e ? curl_easy_escape(e, c->res.namespace, 0) : NULL;
	char *url = NULL;

	if (ns && asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/traces%s%s%s", c->gw, ns,
			   name ? "/" : "", name ? name : "", tail ? tail : "") < 0)
		url = NULL;
	curl_free(ns);
	if (e)
		curl_easy_cleanup(e);
	return url;
}

int kt_detached_created(const struct kt_args *a, const struct kt_response *resp)
{
	_cleanup_(json_decrefp) json_t *j = json_loadb(resp->body.s, resp->body.len, JSON_REJECT_DUPLICATES, NULL);
	_cleanup_(wire_trace_release) struct wire_trace tr = { 0 };
	_cleanup_free_ char *err = NULL;
	struct buf b = BUF_INIT(4096);

	if (!j || wire_trace_from_gateway(j, &tr, &err) < 0)
		return fail("the gateway's answer to a detached run is not a Trace%s%s", err ? ": " : "",
			    err ? err : "");
	if (a->output != KT_OUT_TEXT) {
		print_object(j, a->output);   /* as it came, members of a newer gateway too */
		return KT_EXIT_OK;
	}
	kt_add_clean(&b, tr.name, strlen(tr.name), false);
	printf("trace.tracegate.dev/%s created\n", b.s);
	buf_release(&b);
	if (!a->duration)
		fprintf(stderr, "note: no --duration: it runs for the policy's maximum, %llu s\n",
			(unsigned long long)tr.duration);
	for (size_t i = 0; i < tr.nleft_out; i++) {
		const char *m = tr.left_out[i].message ? tr.left_out[i].message : "not traced";
		struct buf w = BUF_INIT(4096);

		kt_add_clean(&w, tr.left_out[i].pod, strlen(tr.left_out[i].pod), false);
		buf_adds(&w, " was not added to the trace: ");
		kt_add_clean(&w, m, strlen(m), false);
		fprintf(stderr, "warning: pod %s\n", w.s);
		buf_release(&w);
	}
	if (tr.nfailed_nodes) {
		const char *m = tr.message ? tr.message : "";
		struct buf w = BUF_INIT(64 * 1024);

		kt_add_clean(&w, m, strlen(m), false);
		fprintf(stderr, "warning: some nodes did not start it: %s\n", w.s);
		buf_release(&w);
	}
	return KT_EXIT_OK;
}

/* One table cell, cleaned, into row (tab-separated for the layout). */
static void cell(json_t *row, const char *s)
{
	struct buf b = BUF_INIT(1024);

	kt_add_clean(&b, s ? s : "", s ? strlen(s) : 0, false);
	json_array_append_new(row, json_string(b.s ? b.s : ""));
	buf_release(&b);
}

static void print_table(const struct wire_trace *items, size_t n)
{
	static const char *const head[] = { "NAME", "TARGET", "NODES", "STATE", "EVENTS", "AGE" };
	_cleanup_(json_decrefp) json_t *rows = json_array();
	size_t width[6] = { 0 }, i, k;
	json_t *row;

	json_array_append_new(rows, json_array());
	for (k = 0; k < 6; k++)
		cell(json_array_get(rows, 0), head[k]);
	for (i = 0; i < n; i++) {
		const struct wire_trace *it = &items[i];
		struct buf nodes = BUF_INIT(4096);
		char events[32], age[32];

		row = json_array();
		for (size_t j = 0; j < it->nnodes; j++)
			buf_printf(&nodes, "%s%s", j ? "," : "", it->nodes[j]);
		snprintf(events, sizeof(events), "%llu", (unsigned long long)it->events);
		age_of(it->created ? it->created : "", age, sizeof(age));
		cell(row, it->name);
		cell(row, it->target);
		cell(row, nodes.s ? nodes.s : "");
		cell(row, it->phase);
		cell(row, events);
		cell(row, age);
		buf_release(&nodes);
		json_array_append_new(rows, row);
	}
	json_array_foreach(rows, i, row)
		for (k = 0; k < 6; k++)
			width[k] = MAX(width[k], strlen(json_string_value(json_array_get(row, k))));
	json_array_foreach(rows, i, row) {
		for (k = 0; k < 5; k++)
			printf("%-*s   ", (int)width[k], json_string_value(json_array_get(row, k)));
		printf("%s\n", json_string_value(json_array_get(row, 5)));
	}
}

/* One request of a trace (or the list) whose answer is a whole JSON body:
 * 0 with resp a 200, else the exit status after saying why. */
static int plain_request(const struct kt_args *a, struct conn *c, const char *method, long timeout_ms,
			 struct kt_response *resp)
{
	_cleanup_free_ char *url = traces_url(c, a->name, NULL), *err = NULL;
	int rc;

	if (!url)
		return fail("out of memory");
	c->rq.method = method;
	c->rq.url = url;
	c->rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : timeout_ms;
	rc = transport_failed(c, kt_post(&c->rq, resp, &err), resp, err);
	if (!rc && resp->code != 200)
		rc = print_status(c, resp->code, resp->body.s, resp->body.len, NULL);
	c->rq.url = NULL;
	return rc;
}

/* A list without the traces of runners the gateway could not ask is not
 * the namespace's traces: said on stderr, and exit 5 (a node failed). */
static int list_incomplete(const char *s)
{
	struct buf clean = BUF_INIT(4096);

	if (!s)
		return KT_EXIT_OK;
	if (kt_add_clean(&clean, s, strlen(s), false) < 0)
		(void)buf_adds(&clean, "(no reason given)");
	fprintf(stderr, "error: the list is incomplete, the traces of these nodes are not in it: %s\n",
		clean.s ? clean.s : "");
	buf_release(&clean);
	return KT_EXIT_NODE;
}

static int cmd_get(const struct kt_args *a, struct conn *c)
{
	_cleanup_(wire_trace_list_release) struct wire_trace_list list = { 0 };
	_cleanup_(wire_trace_release) struct wire_trace one = { 0 };
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *err = NULL;
	struct kt_response resp = { 0 };
	int rc = plain_request(a, c, "GET", KT_GET_TIMEOUT_MS, &resp);

	if (rc)
		goto out;
	j = json_loadb(resp.body.s, resp.body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || (a->name ? wire_trace_from_gateway(j, &one, &err) : wire_trace_list_from_gateway(j, &list, &err)) < 0) {
		rc = fail("gateway \"%s\" answered with something that is not a %s%s%s", c->gw,
			  a->name ? "Trace" : "TraceList", err ? ": " : "", err ? err : "");
		goto out;
	}
	if (a->output != KT_OUT_TEXT)
		print_object(j, a->output);   /* as it came, members of a newer gateway too */
	else if (a->name)
		print_table(&one, 1);
	else if (!list.nitems && !list.incomplete)
		fprintf(stderr, "No resources found in %s namespace.\n", c->res.namespace);
	else if (list.nitems)
		print_table(list.items, list.nitems);
	rc = list_incomplete(list.incomplete);
out:
	kt_response_release(&resp);
	return rc;
}

static int cmd_delete(const struct kt_args *a, struct conn *c)
{
	struct kt_response resp = { 0 };
	int rc = plain_request(a, c, "DELETE", KT_DELETE_TIMEOUT_MS, &resp);

	if (!rc)
		printf("trace.tracegate.dev \"%s\" deleted\n", a->name);
	kt_response_release(&resp);
	return rc;
}

/* logs and attach: the trace's records, rendered as run renders them. */
static int cmd_stream(const struct kt_args *a, struct conn *c)
{
	bool attach = a->cmd == KT_CMD_ATTACH, follow = attach || a->follow;
	_cleanup_free_ char *url = NULL, *err = NULL;
	struct kt_response resp = { 0 };
	struct kt_render rd;
	struct stop_ctx sc = { .rd = &rd };
	CURL *e = NULL;
	char *ns_esc = NULL;
	int r, rc;

	kt_render_init(&rd, stdout, stderr, a->output);
	rd.prefix = a->prefix;
	rd.timestamps = a->timestamps;
	url = traces_url(c, a->name, follow ? (a->timestamps ? "/log?follow=true&timestamps=true" : "/log?follow=true")
					    : (a->timestamps ? "/log?timestamps=true" : "/log"));
	e = curl_easy_init();
	ns_esc = e ? curl_easy_escape(e, c->res.namespace, 0) : NULL;
	if (e)
		curl_easy_cleanup(e);
	if (!url || !ns_esc) {
		rc = fail("out of memory");
		goto out;
	}
	c->rq.method = "GET";
	c->rq.url = url;
	c->rq.on_line = kt_render_line_cb;
	c->rq.ctx = &rd;
	if (!follow)
		c->rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : KT_GET_TIMEOUT_MS;
	c->rq.cancel_fd = follow ? cancel_fd_setup() : -1;
	signal(SIGPIPE, SIG_IGN);
	if (attach) {
		/* the first Ctrl-C deletes the trace: END runs, the maps come
		 * on this stream, as for a trace run attached */
		snprintf(rd.trace_id, sizeof(rd.trace_id), "%s", a->name);
		sc.gw = c->gw;
		sc.ns_esc = ns_esc;
		c->rq.stop_url = stop_url;
		c->rq.stop_wanted = stop_wanted;
		c->rq.stop_done = stop_done;
		c->rq.stop_ctx = &sc;
	}
	r = kt_post(&c->rq, &resp, &err);
	fflush(stdout);
	if (r == -ECANCELED) {
		if (attach)
			fprintf(stderr, "interrupted: left the trace, which goes on (kubectl trace delete %s ends it)\n",
				a->name);
		rc = KT_EXIT_INTERRUPTED;
		goto out;
	}
	if (r == -EBADMSG) {
		rc = fail("%s", rd.problem ? rd.problem : "the gateway sent a bad record");
		goto out;
	}
	rc = transport_failed(c, r, &resp, err);
	if (rc)
		goto out;
	if (resp.code != 200) {
		rc = print_status(c, resp.code, resp.body.s, resp.body.len, NULL);
		goto out;
	}
	if (attach && !rd.ended) {
		rc = fail("the stream from gateway \"%s\" ended before the trace did", c->gw);
		goto out;
	}
	if (rd.drops > 0)
		fprintf(stderr, "warning: %lld events lost\n", (long long)rd.drops);
	rc = rd.ended ? rd.exit_code : KT_EXIT_OK;
out:
	curl_free(ns_esc);
	kt_response_release(&resp);
	kt_render_release(&rd);
	return rc;
}

int kt_detached_command(const struct kt_args *a)
{
	struct conn c = { 0 };
	int rc = conn_open(a, &c);

	if (!rc) {
		switch (a->cmd) {
		case KT_CMD_GET:
			rc = cmd_get(a, &c);
			break;
		case KT_CMD_DELETE:
			rc = cmd_delete(a, &c);
			break;
		default:
			rc = cmd_stream(a, &c);
			break;
		}
	}
	conn_release(&c);
	return rc;
}
