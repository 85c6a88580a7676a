// SPDX-License-Identifier: Apache-2.0
/*
 * kubectl trace list [PATTERN] pod/NAME [-v]: asks the gateway for the
 * probes the caller's TracePolicy allows on the pod's node (a ProbeList)
 * and prints them as bpftrace 0.17's -l and -lv do: one full probe name a
 * line, each tracepoint's fields under it indented by four spaces.  The
 * names and fields are the server's text, cleaned before the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "plugin/conn.h"
#include "plugin/probes.h"
#include "plugin/render.h"
#include "wire/probe-list.h"
#include "wire/probes.h"
#include "lib/banned.h"

#define KT_LIST_TIMEOUT_MS 60000L     /* the node reads tracefs; -v every format file */

static char *probes_url(const struct conn *c, const struct kt_args *a)
{
	_cleanup_free_ char *target = kt_target_normalize(a->target);
	CURL *e = curl_easy_init();
	char *ns = e ? curl_easy_escape(e, c->res.namespace, 0) : NULL;
	char *tg = e && target ? curl_easy_escape(e, target, 0) : NULL;
	char *pat = e && a->pattern ? curl_easy_escape(e, a->pattern, 0) : NULL;
	char *url = NULL;

	if (ns && tg && (pat || !a->pattern) &&
	    asprintf(&url, "%s/apis/tracegate.dev/v1alpha1/namespaces/%s/probes?target=%s%s%s%s", c->gw, ns, tg,
		     pat ? "&pattern=" : "", pat ? pat : "", a->list_verbose ? "&verbose=true" : "") < 0)
		url = NULL;
	curl_free(ns);
	curl_free(tg);
	curl_free(pat);
	if (e)
		curl_easy_cleanup(e);
	return url;
}

static void print_clean(const char *indent, const char *s)
{
	struct buf b = BUF_INIT(4096);

	kt_add_clean(&b, s, strlen(s), false);
	printf("%s%s\n", indent, b.s ? b.s : "");
	buf_release(&b);
}

int kt_probes_command(const struct kt_args *a)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *url = NULL, *err = NULL, *derr = NULL;
	_cleanup_(wire_probe_list_release) struct wire_probe_list pl = { 0 };
	struct kt_response resp = { 0 };
	struct conn c = { 0 };
	int rc = conn_open(a, &c);

	if (rc)
		goto out;
	url = probes_url(&c, a);
	if (!url) {
		rc = fail("out of memory");
		goto out;
	}
	c.rq.method = "GET";
	c.rq.url = url;
	c.rq.total_timeout_ms = a->request_timeout_ms ? a->request_timeout_ms : KT_LIST_TIMEOUT_MS;
	rc = transport_failed(&c, kt_post(&c.rq, &resp, &err), &resp, err);
	c.rq.url = NULL;
	if (rc)
		goto out;
	if (resp.code != 200) {
		rc = print_status(&c, resp.code, resp.body.s, resp.body.len, NULL);
		goto out;
	}
	j = json_loadb(resp.body.s, resp.body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || wire_probe_list_from_gateway(j, &pl, &derr) < 0) {
		rc = fail("gateway \"%s\" answered with something that is not a ProbeList%s%s", c.gw,
			  derr ? ": " : "", derr ? derr : "");
		goto out;
	}
	if (a->output != KT_OUT_TEXT) {
		print_object(j, a->output);   /* as it came, members of a newer gateway too */
	} else {
		for (size_t i = 0; i < pl.nitems; i++) {
			print_clean("", pl.items[i].name);
			for (size_t k = 0; k < pl.items[i].nfields; k++)
				print_clean(WIRE_PROBES_INDENT, pl.items[i].fields[k]);
		}
		if (!pl.nitems)
			fprintf(stderr, "no probe%s%s%s is allowed by your TracePolicy on the node of %s\n",
				a->pattern ? " matching \"" : "", a->pattern ? a->pattern : "", a->pattern ? "\"" : "",
				a->target);
	}
	if (pl.truncated)
		fprintf(stderr, "warning: the list was cut at the gateway's limit: give a narrower PATTERN\n");
	rc = KT_EXIT_OK;
out:
	kt_response_release(&resp);
	conn_release(&c);
	return rc;
}
