// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-curl.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "lib/version.h"
#include "plugin/cli.h"
#include "plugin/client.h"
#include "lib/httpstatus.h"
#include "lib/banned.h"

struct xfer {
	const struct kt_request *rq;
	struct kt_response *resp;
	CURL *easy;
	struct ndjson_splitter split;
	bool streaming;           /* decided on the first body bytes */
	bool decided;
	int cb_err;               /* the line callback's error */
	char user_agent[64];
	uint64_t started_ns;
	bool status_logged;
};

/* -v: kubectl's round-tripper lines, on stderr; the token never appears. */
static void vlog(const struct kt_request *rq, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vlog(const struct kt_request *rq, int level, const char *fmt, ...)
{
	va_list ap;

	if (rq->verbosity < level || !rq->log)
		return;
	fputs("kubectl-trace: ", rq->log);
	va_start(ap, fmt);
	vfprintf(rq->log, fmt, ap);
	va_end(ap);
	fputc('\n', rq->log);
	fflush(rq->log);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * nmemb, n = len;

	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n && x->rq->verbosity >= 8) {
		struct buf b = BUF_INIT(4096);

		kt_add_clean(&b, data, MIN(n, 4000), false);
		vlog(x->rq, 8, "Response Header: %s", b.s);
		buf_release(&b);
	}
	if (!n && !x->status_logged) {
		long code = 0;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200) {  /* not a 1xx interim answer */
			vlog(x->rq, 6, "%s %s %ld %s in %llu milliseconds", x->rq->method ? x->rq->method : "POST",
			     x->rq->url, code, http_reason_phrase((int)code),
			     (unsigned long long)((now_mono_ns() - x->started_ns) / 1000000));
			x->status_logged = true;
		}
	}
	return len;
}

void kt_response_release(struct kt_response *r)
{
	if (r)
		buf_release(&r->body);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * nmemb;
	int r;

	if (!x->decided) {
		char *ct = NULL;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp->code);
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
		snprintf(x->resp->content_type, sizeof(x->resp->content_type), "%s", ct ? ct : "");
		x->streaming = x->rq->on_line && x->resp->code >= 200 && x->resp->code < 300 &&
			       ct && !strncmp(ct, "application/x-ndjson", 20);
		x->decided = true;
	}
	if (!x->streaming) {
		if (buf_add(&x->resp->body, data, len) < 0) {
			x->cb_err = -E2BIG;
			return 0;
		}
		return len;
	}
	r = ndjson_feed(&x->split, data, len, x->rq->on_line, x->rq->ctx);
	if (r == -TG_ELIMIT)
		r = -E2BIG;   /* as for an answer over its limit: "longer than the limit" */
	if (r < 0) {
		x->cb_err = r;
		return 0;  /* aborts the transfer */
	}
	return len;
}

static int setup(struct xfer *x, CURL *e, struct curl_slist **hdrs, char *errbuf)
{
	const struct kt_request *rq = x->rq;
	_cleanup_free_ char *auth = NULL;
	struct curl_slist *h = NULL;
	struct curl_blob blob;

	if (rq->token) {
		if (asprintf(&auth, "Authorization: Bearer %s", rq->token) < 0)
			return -ENOMEM;
		h = curl_slist_append(h, auth);
		explicit_bzero(auth, strlen(auth));
	}
	if (!rq->method || !strcmp(rq->method, "POST"))
		h = curl_slist_append(h, "Content-Type: application/json");
	if (rq->as_user) {
		_cleanup_free_ char *imp = NULL;

		/* the values were checked printable (cli.c): no header injection */
		if (asprintf(&imp, "Impersonate-User: %s", rq->as_user) < 0)
			return -ENOMEM;
		h = curl_slist_append(h, imp);
		vlog(rq, 7, "Request Header: %s", imp);
		for (const char *const *g = rq->as_groups; g && *g && h; g++) {
			free(imp);
			if (asprintf(&imp, "Impersonate-Group: %s", *g) < 0) {
				imp = NULL;
				curl_slist_free_all(h);
				return -ENOMEM;
			}
			h = curl_slist_append(h, imp);
			vlog(rq, 7, "Request Header: %s", imp);
		}
	}
	h = curl_slist_append(h, "Accept: application/x-ndjson, application/json");
	h = curl_slist_append(h, "Expect:");
	if (!h)
		return -ENOMEM;
	*hdrs = h;
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, x->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (rq->method && !strcmp(rq->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (rq->method && !strcmp(rq->method, "DELETE")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 rq->connect_timeout_ms ? rq->connect_timeout_ms : (long)KT_CONNECT_TIMEOUT_MS);
	if (rq->total_timeout_ms)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->total_timeout_ms);
	/* an idle stream is fine (a quiet probe), a dead peer is not */
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (rq->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, rq->ca_file);
	} else if (rq->ca_pem) {
		blob = (struct curl_blob){ .data = (void *)rq->ca_pem, .len = rq->ca_len,
					   .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (rq->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (rq->cert_pem && rq->key_pem) {
		blob = (struct curl_blob){ .data = (void *)rq->cert_pem, .len = rq->cert_len,
					   .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		blob = (struct curl_blob){ .data = (void *)rq->key_pem, .len = rq->key_len,
					   .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return 0;
}

/* ---- the graceful stop: DELETE of the trace beside its stream ----------------- */

struct stop {
	const struct kt_request *rq;     /* the stream's */
	struct kt_request drq;           /* the DELETE: same credentials, CA, logging */
	struct kt_response dresp;
	struct xfer x;
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	char errbuf[CURL_ERROR_SIZE];
	bool started;
};

/* -EAGAIN: the trace is not known yet (no `accepted` record). */
static int stop_start(struct stop *s, CURLM *m)
{
	int r;

	s->url = s->rq->stop_url(s->rq->stop_ctx);
	if (!s->url)
		return -EAGAIN;
	s->drq = *s->rq;
	s->drq.method = "DELETE";
	s->drq.url = s->url;
	s->drq.body = NULL;
	s->drq.body_len = 0;
	s->drq.on_line = NULL;
	s->drq.total_timeout_ms = KT_STOP_TIMEOUT_MS;
	buf_init(&s->dresp.body, KT_MAX_STATUS_BODY);
	s->x = (struct xfer){ .rq = &s->drq, .resp = &s->dresp };
	snprintf(s->x.user_agent, sizeof(s->x.user_agent), "kubectl-trace/%s", tg_version);
	s->easy = curl_easy_init();
	if (!s->easy)
		return -ENOMEM;
	s->x.easy = s->easy;
	r = setup(&s->x, s->easy, &s->hdrs, s->errbuf);
	if (r < 0)
		return r;
	vlog(&s->drq, 6, "DELETE %s", s->url);
	s->x.started_ns = now_mono_ns();
	if (curl_multi_add_handle(m, s->easy) != CURLM_OK)
		return -ENOMEM;
	s->started = true;
	return 0;
}

static void stop_finish(struct stop *s, CURLcode res)
{
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->dresp.code);
	if (s->dresp.body.len)
		vlog(&s->drq, 8, "Response Body: %.*s", (int)MIN(s->dresp.body.len, 64u * 1024),
		     s->dresp.body.s);
	if (s->rq->stop_done)
		s->rq->stop_done(s->rq->stop_ctx, res == CURLE_OK ? s->dresp.code : 0, s->dresp.body.s,
				 s->dresp.body.len,
				 res == CURLE_OK ? NULL : s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
}

static void stop_release(struct stop *s, CURLM *m)
{
	if (s->easy) {
		curl_multi_remove_handle(m, s->easy);
		curl_easy_cleanup(s->easy);
	}
	curl_slist_free_all(s->hdrs);
	free(s->url);
	kt_response_release(&s->dresp);
}

int kt_post(const struct kt_request *rq, struct kt_response *resp, char **ret_err)
{
	_cleanup_(curl_easy_cleanupp) CURL *e = NULL;
	_cleanup_(curl_slist_free_allp) struct curl_slist *hdrs = NULL;
	struct xfer x = { .rq = rq, .resp = resp };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLM *m = NULL;
	CURLcode res = CURLE_OK;
	int running = 1, r;
	unsigned interrupts = 0;
	bool stop_pending = false;
	struct stop stop = { .rq = rq };

	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, rq->on_line ? KT_MAX_STATUS_BODY : KT_MAX_LINE);
	ndjson_init(&x.split, KT_MAX_LINE);
	e = curl_easy_init();
	m = curl_multi_init();
	if (!e || !m) {
		r = -ENOMEM;
		goto out;
	}
	x.easy = e;
	snprintf(x.user_agent, sizeof(x.user_agent), "kubectl-trace/%s", tg_version);
	r = setup(&x, e, &hdrs, errbuf);
	if (r < 0)
		goto out;
	vlog(rq, 6, "%s %s", rq->method ? rq->method : "POST", rq->url);
	vlog(rq, 7, "Request Header: Authorization: %s", rq->token ? "Bearer <masked>" :
		 rq->cert_pem ? "(client certificate)" : "(none)");
	vlog(rq, 7, "Request Header: User-Agent: %s", x.user_agent);
	if (rq->body && (!rq->method || !strcmp(rq->method, "POST")))
		vlog(rq, 8, "Request Body: %.*s", (int)MIN(rq->body_len, 64u * 1024), rq->body);
	x.started_ns = now_mono_ns();
	if (curl_multi_add_handle(m, e) != CURLM_OK) {
		r = -ENOMEM;
		goto out;
	}
	while (running) {
		struct curl_waitfd extra = { .fd = rq->cancel_fd, .events = CURL_WAIT_POLLIN };
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (msg->easy_handle == e)
				res = msg->data.result;
			else if (stop.easy && msg->easy_handle == stop.easy)
				stop_finish(&stop, msg->data.result);
		}
		if (!running)
			break;
		curl_multi_poll(m, rq->cancel_fd >= 0 ? &extra : NULL, rq->cancel_fd >= 0 ? 1 : 0,
				rq->tick ? 200 : 1000, NULL);
		if (rq->tick)
			rq->tick(rq->tick_ctx);
		if (rq->cancel_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN)) {
			char sig[16];
			ssize_t n = read(rq->cancel_fd, sig, sizeof(sig));

			interrupts += n > 0 ? (unsigned)n : 1;
			if (!rq->stop_url || interrupts >= 2) {
				resp->cancelled = true;
				break;
			}
			stop_pending = true;
		}
		if (!stop_pending && rq->stop_wanted && rq->stop_wanted(rq->stop_ctx))
			stop_pending = true;
		if (stop_pending && !stop.started) {
			r = stop_start(&stop, m);
			if (r < 0 && r != -EAGAIN) {
				/* the stop cannot even be sent: say so now */
				stop.started = true;
				if (rq->stop_done)
					rq->stop_done(rq->stop_ctx, 0, NULL, 0, tg_strerror(r));
			}
			resp->stop_sent = stop.started;
		}
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->code);
	curl_multi_remove_handle(m, e);
	stop_release(&stop, m);
	resp->pending = ndjson_pending(&x.split);
	if (resp->body.len)
		vlog(rq, 8, "Response Body: %.*s", (int)MIN(resp->body.len, 64u * 1024), resp->body.s);
	if (resp->cancelled) {
		r = -ECANCELED;
	} else if (x.cb_err) {
		r = x.cb_err;
		if (r == -E2BIG && ret_err)
			*ret_err = strdup(x.streaming ? "the gateway sent a line longer than the limit" :
					  "the gateway's answer is longer than the limit");
	} else if (res != CURLE_OK) {
		r = -TG_EUPSTREAM;
		if (ret_err)
			*ret_err = strdup(errbuf[0] ? errbuf : curl_easy_strerror(res));
	} else {
		r = 0;
	}
out:
	ndjson_release(&x.split);
	if (m)
		curl_multi_cleanup(m);
	return r;
}
