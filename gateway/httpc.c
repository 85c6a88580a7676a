// SPDX-License-Identifier: Apache-2.0
/* libcurl multi on libevent: the standard socket/timer integration. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "gateway/httpc.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/tls.h"
#include "lib/banned.h"

struct httpc {
	struct event_base *base;
	CURLM *multi;
	CURLSH *share;            /* TLS sessions, for resumption on new connections */
	struct event *timer;
	struct httpc_xfer *xfers;
	unsigned n;
};

/* At most limit transfers connecting through a gate at once (TCP and TLS
 * handshake, until the request goes out); the others wait, in order. */
struct httpc_gate {
	struct httpc *h;
	unsigned limit, busy;
	struct httpc_xfer *qhead, *qtail;
	struct event *pump;       /* starts waiting transfers, from the loop */
};

struct httpc_xfer {
	struct httpc *h;
	CURL *e;
	struct curl_slist *headers;
	const struct httpc_xfer_ops *ops;
	void *ud;
	struct httpc_xfer *prev, *next;
	bool paused;
	int abort_code;
	int sock;                 /* the connection's socket, -1 before (httpc_start) */
	char errbuf[CURL_ERROR_SIZE];
	/* httpc_fetch */
	struct buf body;
	httpc_body_fn fetch_done;
	/* through a gate: waiting (queued), or holding one of its slots */
	struct httpc_gate *gate;
	struct httpc_xfer *qnext;
	bool queued, holds_slot;
};

struct httpc_sock {
	struct event *ev;
};

static void gate_release(struct httpc_xfer *x)
{
	struct httpc_gate *g = x->gate;

	if (!g)
		return;
	if (x->queued) {
		struct httpc_xfer **pp = &g->qhead, *prev = NULL;

		while (*pp && *pp != x) {
			prev = *pp;
			pp = &(*pp)->qnext;
		}
		if (*pp)
			*pp = x->qnext;
		if (g->qtail == x)
			g->qtail = prev;
		x->queued = false;
	}
	if (x->holds_slot) {
		x->holds_slot = false;
		g->busy--;
		if (g->qhead)
			event_active(g->pump, 0, 0);
	}
}

/* CURLOPT_PREREQFUNCTION: connected (TLS included), the request goes out
 * now.  Only counts: the next waiting transfer starts from the loop. */
static int gate_prereq(void *ud, char *ip, char *local_ip, int port, int local_port)
{
	gate_release(ud);
	return CURL_PREREQFUNC_OK;
}

static void xfer_unlink(struct httpc_xfer *x)
{
	struct httpc *h = x->h;

	gate_release(x);
	if (x->prev)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	h->n--;
	curl_multi_remove_handle(h->multi, x->e);
}

static void xfer_free(struct httpc_xfer *x)
{
	curl_easy_cleanup(x->e);
	curl_slist_free_all(x->headers);
	buf_release(&x->body);
	free(x);
}

static void httpc_check_done(struct httpc *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct httpc_xfer *x = NULL;
		long status = 0;
		const char *err = NULL;
		int result = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
		if (msg->data.result != CURLE_OK) {
			result = x->abort_code ? x->abort_code : -TG_EUPSTREAM;
			err = x->errbuf[0] ? x->errbuf : curl_easy_strerror(msg->data.result);
			if (x->abort_code == -E2BIG)
				err = "response larger than the limit";
		}
		xfer_unlink(x);
		if (x->fetch_done)
			x->fetch_done(result, status, x->body.s, x->body.len, err, x->ud);
		else if (x->ops && x->ops->on_done)
			x->ops->on_done(x, result, status, err, x->ud);
		xfer_free(x);
	}
}

static void httpc_eventcb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc *h = arg;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(h->multi, fd, action, &running);
	httpc_check_done(h);
}

static void httpc_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc *h = arg;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	httpc_check_done(h);
}

static int httpc_sockcb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct httpc *h = userp;
	struct httpc_sock *sk = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (sk) {
			event_free(sk->ev);
			free(sk);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (!sk) {
		sk = calloc(1, sizeof(*sk));
		if (!sk)
			return -1;
		sk->ev = event_new(h->base, s, 0, httpc_eventcb, h);
		if (!sk->ev) {
			free(sk);
			return -1;
		}
		curl_multi_assign(h->multi, s, sk);
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) |
		       EV_PERSIST);
	event_del(sk->ev);
	event_assign(sk->ev, h->base, s, kind, httpc_eventcb, h);
	return event_add(sk->ev, NULL);
}

static int httpc_timerfn(CURLM *m, long timeout_ms, void *userp)
{
	struct httpc *h = userp;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

	/* Never call socket_action from here: schedule it on the loop. */
	if (timeout_ms < 0)
		return evtimer_del(h->timer);
	return evtimer_add(h->timer, &tv);
}

int httpc_new(struct event_base *base, struct httpc **ret)
{
	struct httpc *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, httpc_timercb, h);
	if (!h->multi || !h->timer) {
		httpc_free(h);
		return -ENOMEM;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, httpc_sockcb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, httpc_timerfn);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* one loop, one thread: the share needs no locks */
	h->share = curl_share_init();
	if (!h->share || curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		httpc_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

struct httpc *httpc_free(struct httpc *h)
{
	if (!h)
		return NULL;
	while (h->xfers)
		httpc_xfer_cancel(h->xfers);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->share)
		curl_share_cleanup(h->share);
	if (h->timer)
		event_free(h->timer);
	free(h);
	return NULL;
}

static size_t httpc_writecb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct httpc_xfer *x = userdata;
	size_t n = size * nmemb;
	int r;

	if (x->abort_code)
		return 0;
	if (x->fetch_done) {
		r = buf_add(&x->body, ptr, n);
		if (r < 0) {
			x->abort_code = r;
			return 0;
		}
		return n;
	}
	r = x->ops->on_data(x, ptr, n, x->ud);
	if (r == HTTPC_PAUSE) {
		x->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (r < 0) {
		x->abort_code = r;
		return 0;
	}
	return n;
}

static int httpc_add(struct httpc *h, struct httpc_gate *g, struct httpc_xfer *x,
		     struct httpc_xfer **ret)
{
	x->h = h;
	x->gate = g;
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, httpc_writecb);
	curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->e, CURLOPT_SHARE, h->share);
	if (x->headers)
		curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->headers);
	if (g) {
		curl_easy_setopt(x->e, CURLOPT_PREREQFUNCTION, gate_prereq);
		curl_easy_setopt(x->e, CURLOPT_PREREQDATA, x);
	}
	if (g && g->busy >= g->limit) {
		/* waits its turn: gate_pump adds it */
		x->queued = true;
		if (g->qtail)
			g->qtail->qnext = x;
		else
			g->qhead = x;
		g->qtail = x;
	} else {
		if (curl_multi_add_handle(h->multi, x->e) != CURLM_OK) {
			xfer_free(x);
			return -ENOMEM;
		}
		if (g) {
			x->holds_slot = true;
			g->busy++;
		}
	}
	x->next = h->xfers;
	if (h->xfers)
		h->xfers->prev = x;
	h->xfers = x;
	h->n++;
	if (ret)
		*ret = x;
	return 0;
}

static int httpc_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct httpc_xfer *x = ud;

	if (purpose == CURLSOCKTYPE_IPCXN)
		x->sock = fd;
	return CURL_SOCKOPT_OK;
}

int httpc_start(struct httpc *h, CURL *e, struct curl_slist *headers, const struct httpc_xfer_ops *ops,
		void *ud, struct httpc_xfer **ret)
{
	return httpc_start_gated(h, NULL, e, headers, ops, ud, ret);
}

int httpc_start_gated(struct httpc *h, struct httpc_gate *gate, CURL *e, struct curl_slist *headers,
		      const struct httpc_xfer_ops *ops, void *ud, struct httpc_xfer **ret)
{
	struct httpc_xfer *x = calloc(1, sizeof(*x));

	if (!x) {
		curl_easy_cleanup(e);
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	x->e = e;
	x->headers = headers;
	x->ops = ops;
	x->ud = ud;
	x->sock = -1;
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, httpc_sockopt);
	curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, x);
	buf_init(&x->body, 0);
	return httpc_add(h, gate, x, ret);
}

int httpc_fetch(struct httpc *h, CURL *e, struct curl_slist *headers, size_t max, httpc_body_fn done,
		void *ud, struct httpc_xfer **ret)
{
	return httpc_fetch_gated(h, NULL, e, headers, max, done, ud, ret);
}

int httpc_fetch_gated(struct httpc *h, struct httpc_gate *gate, CURL *e, struct curl_slist *headers,
		      size_t max, httpc_body_fn done, void *ud, struct httpc_xfer **ret)
{
	struct httpc_xfer *x = calloc(1, sizeof(*x));

	if (!x) {
		curl_easy_cleanup(e);
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	x->e = e;
	x->headers = headers;
	x->fetch_done = done;
	x->ud = ud;
	buf_init(&x->body, max);
	return httpc_add(h, gate, x, ret);
}

/* Starts waiting transfers while the gate has room.  One that cannot be
 * added ends as a failed transfer. */
static void gate_pump(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_gate *g = arg;

	while (g->qhead && g->busy < g->limit) {
		struct httpc_xfer *x = g->qhead;

		g->qhead = x->qnext;
		if (!g->qhead)
			g->qtail = NULL;
		x->qnext = NULL;
		x->queued = false;
		if (curl_multi_add_handle(g->h->multi, x->e) != CURLM_OK) {
			xfer_unlink(x);
			if (x->fetch_done)
				x->fetch_done(-ENOMEM, 0, NULL, 0, "cannot start the transfer", x->ud);
			else if (x->ops && x->ops->on_done)
				x->ops->on_done(x, -ENOMEM, 0, "cannot start the transfer", x->ud);
			xfer_free(x);
			continue;
		}
		x->holds_slot = true;
		g->busy++;
	}
}

int httpc_gate_new(struct httpc *h, unsigned limit, struct httpc_gate **ret)
{
	struct httpc_gate *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->h = h;
	g->limit = limit ? limit : 1;
	g->pump = event_new(h->base, -1, 0, gate_pump, g);
	if (!g->pump) {
		free(g);
		return -ENOMEM;
	}
	*ret = g;
	return 0;
}

struct httpc_gate *httpc_gate_free(struct httpc_gate *g)
{
	if (!g)
		return NULL;
	while (g->qhead)
		httpc_xfer_cancel(g->qhead);
	/* transfers still running through it forget it */
	for (struct httpc_xfer *x = g->h->xfers; x; x = x->next)
		if (x->gate == g) {
			x->gate = NULL;
			x->holds_slot = false;
		}
	event_free(g->pump);
	free(g);
	return NULL;
}

unsigned httpc_gate_waiting(const struct httpc_gate *g)
{
	unsigned n = 0;

	for (const struct httpc_xfer *x = g ? g->qhead : NULL; x; x = x->qnext)
		n++;
	return n;
}

void httpc_xfer_cancel(struct httpc_xfer *x)
{
	if (!x)
		return;
	xfer_unlink(x);
	xfer_free(x);
}

int httpc_xfer_shutdown_write(struct httpc_xfer *x)
{
	/* CURLINFO_ACTIVESOCKET answers only for CONNECT_ONLY handles; the
	 * socket is the one curl made for this transfer (its connections
	 * are not shared: runners answer Connection: close), valid while the
	 * transfer runs, which is when its owner may call this. */
	if (x->sock < 0)
		return -ENOTCONN;
	if (shutdown(x->sock, SHUT_WR) < 0)
		return -errno;
	return 0;
}

int httpc_xfer_resume(struct httpc_xfer *x)
{
	if (!x->paused)
		return 0;
	x->paused = false;
	/* May deliver the held data at once, through on_data. */
	return curl_easy_pause(x->e, CURLPAUSE_CONT) == CURLE_OK ? 0 : -EIO;
}

bool httpc_xfer_paused(const struct httpc_xfer *x)
{
	return x->paused;
}

long httpc_xfer_status(const struct httpc_xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

unsigned httpc_active(const struct httpc *h)
{
	return h->n;
}

/* ---- a client identity for mutual TLS, loaded once ---------------------- */

/*
 * libcurl's OpenSSL backend makes a new SSL_CTX for every connection and,
 * given file names, reads and decodes the CA file, the certificate and
 * the key into it each time: with OpenSSL 3's decoders most of the
 * gateway's CPU for a dry run.  Here they are decoded once and handed to
 * each new context (CURLOPT_SSL_CTX_FUNCTION, reference counted), and
 * decoded again when a file changes (a certificate rotated on disk).
 */
struct httpc_mtls {
	char *paths[3];                /* ca, cert, key */
	struct stat st[3];             /* as last loaded */
	X509_STORE *store;             /* the CA: the only roots trusted */
	X509 *cert;
	STACK_OF(X509) *chain;         /* intermediates after the certificate */
	EVP_PKEY *key;
};

static void mtls_objects_free(X509_STORE *store, X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key)
{
	X509_STORE_free(store);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
}

static int mtls_fail(char **ret_err, const char *what, const char *path)
{
	_cleanup_free_ char *why = tls_error_string();

	return tg_fail(ret_err, -TG_ECONFIG, "runnerTLS %s \"%s\": %s", what, path, why ? why : "unreadable");
}

static int mtls_load(struct httpc_mtls *m, char **ret_err)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *cert = NULL, *extra;
	EVP_PKEY *key = NULL;
	struct stat st[3];
	FILE *f;
	int r = 0;

	for (int i = 0; i < 3; i++)
		if (stat(m->paths[i], &st[i]) < 0)
			return tg_fail(ret_err, -errno, "runnerTLS \"%s\": %s", m->paths[i], strerror(errno));
	if (!store || !chain) {
		r = -ENOMEM;
		goto out;
	}
	if (X509_STORE_load_file(store, m->paths[0]) != 1) {
		r = mtls_fail(ret_err, "ca", m->paths[0]);
		goto out;
	}
	f = fopen(m->paths[1], "re");
	if (f) {
		cert = PEM_read_X509(f, NULL, NULL, NULL);
		while (cert && (extra = PEM_read_X509(f, NULL, NULL, NULL)))
			if (!sk_X509_push(chain, extra))
				X509_free(extra);
		ERR_clear_error();   /* the end of the file */
		fclose(f);
	}
	if (!cert) {
		r = mtls_fail(ret_err, "cert", m->paths[1]);
		goto out;
	}
	f = fopen(m->paths[2], "re");
	if (f) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!key) {
		r = mtls_fail(ret_err, "key", m->paths[2]);
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		r = mtls_fail(ret_err, "key does not match the certificate", m->paths[2]);
		goto out;
	}
	mtls_objects_free(m->store, m->cert, m->chain, m->key);
	m->store = TAKE_PTR(store);
	m->cert = TAKE_PTR(cert);
	m->chain = TAKE_PTR(chain);
	m->key = TAKE_PTR(key);
	memcpy(m->st, st, sizeof(st));
out:
	mtls_objects_free(store, cert, chain, key);
	return r;
}

int httpc_mtls_new(const char *ca, const char *cert, const char *key, struct httpc_mtls **ret,
		   char **ret_err)
{
	struct httpc_mtls *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->paths[0] = strdup(ca);
	m->paths[1] = strdup(cert);
	m->paths[2] = strdup(key);
	r = m->paths[0] && m->paths[1] && m->paths[2] ? mtls_load(m, ret_err) : -ENOMEM;
	if (r < 0) {
		httpc_mtls_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct httpc_mtls *httpc_mtls_free(struct httpc_mtls *m)
{
	if (!m)
		return NULL;
	mtls_objects_free(m->store, m->cert, m->chain, m->key);
	for (int i = 0; i < 3; i++)
		free(m->paths[i]);
	free(m);
	return NULL;
}

/* A file changed since it was loaded: load them all again; on failure
 * (a file half written by a rotation) the identity loaded stays until a
 * later connection finds the files whole. */
static void mtls_refresh(struct httpc_mtls *m)
{
	struct stat st;
	char *err = NULL;

	for (int i = 0; i < 3; i++)
		if (stat(m->paths[i], &st) < 0 || st.st_ino != m->st[i].st_ino ||
		    st.st_size != m->st[i].st_size || st.st_mtim.tv_sec != m->st[i].st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != m->st[i].st_mtim.tv_nsec) {
			(void)mtls_load(m, &err);
			free(err);
			return;
		}
}

static CURLcode mtls_ctx(CURL *e, void *sslctx, void *ud)
{
	const struct httpc_mtls *m = ud;
	SSL_CTX *ctx = sslctx;

	if (SSL_CTX_use_certificate(ctx, m->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, m->key) != 1)
		return CURLE_SSL_CERTPROBLEM;
	for (int i = 0; i < sk_X509_num(m->chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(m->chain, i)) != 1)
			return CURLE_SSL_CERTPROBLEM;
	/* replaces whatever curl set up: only our CA is trusted */
	SSL_CTX_set1_cert_store(ctx, m->store);
	return CURLE_OK;
}

CURL *httpc_mtls_easy(const char *url, struct httpc_mtls *m)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	mtls_refresh(m);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* no CA bundle of the system, no files read per connection: mtls_ctx */
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, mtls_ctx);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, m);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tracegate/0.1");
	return e;
}
