// SPDX-License-Identifier: Apache-2.0
/* gateway/http.c and gateway/httpc.c together, over real TLS on one
 * event loop: limits answered with their codes, and backpressure (a
 * paused client holds the server's output at the high-water mark). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "gateway/http.h"
#include "gateway/httpc.h"
#include "lib/tls.h"

#define CHUNK (32u << 10)
#define TOTAL (4u << 20)
#define HIGH_WATER (64u << 10)

static char dir[] = "/tmp/tg-gw-server-XXXXXX";
static char crt[300], key[300];

/* A self-signed certificate for 127.0.0.1, made here. */
static void make_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	FILE *f;

	assert_non_null(pk);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	assert_non_null(mkdtemp(dir));
	snprintf(crt, sizeof(crt), "%s/c.crt", dir);
	snprintf(key, sizeof(key), "%s/c.key", dir);
	f = fopen(crt, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pk);
}

struct world {
	struct event_base *base;
	SSL_CTX *ssl;
	struct http_server *srv;
	struct httpc *hc;
	int port;
	/* server side of /stream */
	struct http_conn *sc;
	size_t sent, max_out;
	/* client side */
	size_t got;
	long status;
	int result;
	bool done, paused_once;
	struct httpc_xfer *x;
	struct event *resume;
	char body[512];
	size_t body_len;
	/* the last refusal the server made itself, as its hook saw it */
	int refused_code;
	unsigned refusals;
	bool refused_parsed;
	char refused_method[64], refused_target[64], refused_ua[64];
};

static void produce(struct world *w)
{
	static char chunk[CHUNK];

	memset(chunk, 'x', sizeof(chunk));
	while (w->sc && w->sent < TOTAL && !http_conn_congested(w->sc)) {
		assert_int_equal(http_conn_stream_write(w->sc, chunk, CHUNK), 0);
		w->sent += CHUNK;
		if (http_conn_output_len(w->sc) > w->max_out)
			w->max_out = http_conn_output_len(w->sc);
	}
	if (w->sc && w->sent >= TOTAL) {
		http_conn_stream_end(w->sc);
		w->sc = NULL;
	}
}

static void on_drain(void *ud)
{
	produce(ud);
}

static void on_close(void *ud)
{
	struct world *w = ud;

	w->sc = NULL;
}

static const struct http_conn_ops stream_ops = { .on_drain = on_drain, .on_close = on_close };

static void handler(struct http_conn *c, struct http_request *req, void *ud)
{
	struct world *w = ud;
	char text[64];

	if (!strcmp(req->target, "/stream")) {
		w->sc = c;
		http_conn_set_owner(c, &stream_ops, w);
		assert_int_equal(http_conn_stream_start(c, 200, "application/x-ndjson", NULL), 0);
		produce(w);
		return;
	}
	snprintf(text, sizeof(text), "%s %zu", req->method, req->body_len);
	http_conn_respond(c, strcmp(req->target, "/missing") ? 200 : 404, "text/plain", NULL, text,
			  strlen(text));
}

static void slice(char *out, size_t size, const char *p, size_t len)
{
	if (!p)
		len = 0;
	if (len >= size)
		len = size - 1;
	memcpy(out, p ? p : "", len);
	out[len] = '\0';
}

static void refused(struct http_refusal *rf, void *ud)
{
	struct world *w = ud;

	w->refusals++;
	w->refused_code = rf->code;
	w->refused_parsed = rf->parsed;
	assert_non_null(rf->message);
	assert_string_equal(rf->peer, "127.0.0.1");
	assert_true(rf->received_ns > 0);
	slice(w->refused_method, sizeof(w->refused_method), rf->method, rf->method_len);
	slice(w->refused_target, sizeof(w->refused_target), rf->target, rf->target_len);
	slice(w->refused_ua, sizeof(w->refused_ua), rf->user_agent, rf->user_agent_len);
	snprintf(rf->audit_id, sizeof(rf->audit_id), "11111111-2222-4333-8444-%012u", w->refusals);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct world *w = arg;

	assert_int_equal(httpc_xfer_resume(w->x), 0);
}

static int client_data(struct httpc_xfer *x, const char *data, size_t len, void *ud)
{
	struct world *w = ud;
	struct timeval tv = { .tv_usec = 300000 };

	if (!w->paused_once) {
		/* stop reading for a while: the server must stop producing */
		w->paused_once = true;
		w->x = x;
		evtimer_add(w->resume, &tv);
		return HTTPC_PAUSE;
	}
	w->got += len;
	return 0;
}

static void client_done(struct httpc_xfer *x, int result, long status, const char *err, void *ud)
{
	struct world *w = ud;

	w->result = result;
	w->status = status;
	w->done = true;
	event_base_loopbreak(w->base);
}

static const struct httpc_xfer_ops client_ops = { .on_data = client_data, .on_done = client_done };

static void fetch_done(int result, long status, const char *body, size_t len, const char *err,
		       void *ud)
{
	struct world *w = ud;

	w->result = result;
	w->status = status;
	w->body_len = len < sizeof(w->body) - 1 ? len : sizeof(w->body) - 1;
	memcpy(w->body, body, w->body_len);
	w->body[w->body_len] = '\0';
	w->done = true;
	event_base_loopbreak(w->base);
}

static CURL *easy(struct world *w, const char *path)
{
	CURL *e = curl_easy_init();
	char url[128];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", w->port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CAINFO, crt);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	return e;
}

static void run(struct world *w)
{
	w->done = false;
	while (!w->done)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
}

static unsigned setup_keep_alive_s;

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct http_limits lim = { .max_body_bytes = 4096, .max_headers = 16,
				   .max_header_bytes = 4096, .max_connections = 8,
				   .output_high_water = HIGH_WATER, .request_timeout_s = 10,
				   .stall_timeout_s = 10, .keep_alive_s = setup_keep_alive_s,
				   .max_requests = 3 };
	struct tls_opts topts = { .sz = sizeof(topts) };
	SSL_CTX *ssl = NULL;
	char *err = NULL;

	make_cert();
	topts.cert_file = crt;
	topts.key_file = key;
	assert_int_equal(tls_server_ctx_new(&topts, &ssl, &err), 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	w->base = event_base_new();
	w->resume = evtimer_new(w->base, resume_cb, w);
	assert_int_equal(httpc_new(w->base, &w->hc), 0);
	assert_int_equal(http_server_new(w->base, ssl, "127.0.0.1", "0", &lim, handler, w, &w->srv, &err), 0);
	http_server_set_refuse_hook(w->srv, refused, w);
	w->ssl = ssl;
	w->port = http_server_port(w->srv);
	assert_true(w->port > 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	http_server_free(w->srv);
	SSL_CTX_free(w->ssl);
	httpc_free(w->hc);
	event_free(w->resume);
	event_base_free(w->base);
	free(w);
	unlink(crt);
	unlink(key);
	rmdir(dir);
	curl_global_cleanup();
	return 0;
}

static void test_small_requests_and_limits(void **state)
{
	struct world *w = *state;
	struct curl_slist *h = NULL;
	char big[5000];
	CURL *e;

	e = easy(w, "/echo");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "hello");
	assert_int_equal(httpc_fetch(w->hc, e, NULL, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->result, 0);
	assert_int_equal(w->status, 200);
	assert_string_equal(w->body, "POST 5");

	/* a body over maxBodyBytes: 413 before it is read */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e = easy(w, "/echo");
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, big);
	assert_int_equal(httpc_fetch(w->hc, e, NULL, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->status, 413);
	assert_non_null(strstr(w->body, "maxBodyBytes"));
	/* the owner heard of it first, with what the head said */
	assert_int_equal(w->refusals, 1);
	assert_int_equal(w->refused_code, 413);
	assert_string_equal(w->refused_method, "POST");
	assert_string_equal(w->refused_target, "/echo");

	/* more headers than maxHeaders: 431 */
	for (int i = 0; i < 20; i++) {
		char hdr[32];

		snprintf(hdr, sizeof(hdr), "X-H%d: %d", i, i);
		h = curl_slist_append(h, hdr);
	}
	e = easy(w, "/echo");
	assert_int_equal(httpc_fetch(w->hc, e, h, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->status, 431);
	assert_int_equal(w->refusals, 2);
	assert_int_equal(w->refused_code, 431);
	assert_string_equal(w->refused_target, "/echo");

	/* no HTTP at all: a request line that does not parse (400), its
	 * bytes as sent, a user agent that is not text */
	e = easy(w, "/a?q=1");
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GE\x01T");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "ua\xff\xfe");
	assert_int_equal(httpc_fetch(w->hc, e, NULL, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->status, 400);
	assert_int_equal(w->refusals, 3);
	assert_int_equal(w->refused_code, 400);
	assert_false(w->refused_parsed);
	assert_string_equal(w->refused_method, "GE\x01T");
	assert_string_equal(w->refused_target, "/a?q=1");
	assert_string_equal(w->refused_ua, "ua\xff\xfe");

	/* a request the handler answers is no refusal */
	e = easy(w, "/echo");
	assert_int_equal(httpc_fetch(w->hc, e, NULL, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->status, 200);
	assert_int_equal(w->refusals, 3);
	assert_int_equal(http_server_connections(w->srv), 0);
}

static void test_backpressure(void **state)
{
	struct world *w = *state;
	CURL *e = easy(w, "/stream");

	w->sent = w->got = w->max_out = 0;
	assert_int_equal(httpc_start(w->hc, e, NULL, &client_ops, w, NULL), 0);
	run(w);
	assert_int_equal(w->result, 0);
	assert_int_equal(w->status, 200);
	assert_true(w->paused_once);
	assert_int_equal(w->got, TOTAL);
	assert_int_equal(w->sent, TOTAL);
	/* the client stopped reading long enough for the server to hit the mark */
	assert_true(w->max_out > HIGH_WATER);
	/* while the client did not read, the server's buffer stayed bounded:
	 * at most the high-water mark plus the chunk that crossed it */
	if (w->max_out > HIGH_WATER + CHUNK + 64)
		fail_msg("output buffer reached %zu bytes (high water %u)", w->max_out, HIGH_WATER);
}

static int setup_keep_alive(void **state)
{
	setup_keep_alive_s = 1;
	/* a directory of its own (the first group's is gone) */
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	return setup(state);
}

static int teardown_keep_alive(void **state)
{
	setup_keep_alive_s = 0;
	return teardown(state);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Waits (on the loop) until the server holds n connections, at most 5 s. */
static void wait_connections(struct world *w, unsigned n)
{
	struct event *tick = evtimer_new(w->base, tick_cb, NULL);
	struct timeval tv = { .tv_usec = 50000 };

	for (int i = 0; i < 100 && http_server_connections(w->srv) != n; i++) {
		evtimer_add(tick, &tv);
		event_base_loop(w->base, EVLOOP_ONCE);
	}
	event_free(tick);
	assert_int_equal(http_server_connections(w->srv), n);
}

static void fetch(struct world *w, const char *path, struct curl_slist *h, long want)
{
	CURL *e = easy(w, path);

	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "hi");
	assert_int_equal(httpc_fetch(w->hc, e, h, 4096, fetch_done, w, NULL), 0);
	run(w);
	assert_int_equal(w->result, 0);
	assert_int_equal(w->status, want);
}

/* HTTP/1.1 keep-alive: whole responses leave the connection open for the
 * next request (one connection for several), a stream or a refusal or
 * "Connection: close" or maxRequests ends it, and an idle connection goes
 * after keep_alive_s. */
static void test_keep_alive(void **state)
{
	struct world *w = *state;
	struct curl_slist *h;

	fetch(w, "/echo", NULL, 200);
	assert_string_equal(w->body, "POST 2");
	assert_int_equal(http_server_connections(w->srv), 1);
	fetch(w, "/echo", NULL, 200);
	/* the client reused it: one connection for both */
	assert_int_equal(http_server_accepted(w->srv), 1);
	assert_int_equal(http_server_connections(w->srv), 1);
	/* the third request reaches max_requests (3): the answer closes */
	fetch(w, "/echo", NULL, 200);
	assert_int_equal(http_server_accepted(w->srv), 1);
	wait_connections(w, 0);
	fetch(w, "/echo", NULL, 200);
	assert_int_equal(http_server_accepted(w->srv), 2);
	wait_connections(w, 1);

	/* a stream ends its connection */
	{
		CURL *e = easy(w, "/stream");

		w->paused_once = true;
		w->sent = w->got = w->max_out = 0;
		assert_int_equal(httpc_start(w->hc, e, NULL, &client_ops, w, NULL), 0);
		run(w);
		assert_int_equal(w->status, 200);
		assert_int_equal(w->got, TOTAL);
		wait_connections(w, 0);
	}
	/* the client asks for close */
	h = curl_slist_append(NULL, "Connection: close");
	fetch(w, "/echo", h, 200);
	wait_connections(w, 0);

	/* a refusal of the HTTP layer closes */
	fetch(w, "/echo", NULL, 200);
	assert_int_equal(http_server_connections(w->srv), 1);
	/* (curl sends Content-Length too: both together are a 400) */
	h = curl_slist_append(NULL, "Transfer-Encoding: gzip");
	fetch(w, "/echo", h, 400);
	wait_connections(w, 0);

	/* a refusal (404) without credentials closes; with some, it does not */
	fetch(w, "/missing", NULL, 404);
	wait_connections(w, 0);
	h = curl_slist_append(NULL, "Authorization: Bearer x");
	fetch(w, "/missing", h, 404);
	assert_int_equal(http_server_connections(w->srv), 1);

	/* idle past keep_alive_s (1 s): closed by the server */
	fetch(w, "/echo", NULL, 200);
	assert_int_equal(http_server_connections(w->srv), 1);
	wait_connections(w, 0);
	/* and the client notices and connects again */
	fetch(w, "/echo", NULL, 200);
	assert_string_equal(w->body, "POST 2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_requests_and_limits),
		cmocka_unit_test(test_backpressure),
	};
	const struct CMUnitTest keep_alive_tests[] = {
		cmocka_unit_test(test_keep_alive),
	};
	int failed = cmocka_run_group_tests(tests, setup, teardown);

	return failed + cmocka_run_group_tests(keep_alive_tests, setup_keep_alive, teardown_keep_alive);
}
