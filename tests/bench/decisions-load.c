// SPDX-License-Identifier: Apache-2.0
/*
 * decisions-load: the load client of the cached-decisions benchmark
 * (tests/bench/gateway.py, docs/performance.md).  N kept HTTPS
 * connections (HTTP/1.1 keep-alive) on one epoll loop, one request in
 * flight on each; every answer's status is checked, latencies go into a
 * histogram (1 us buckets up to 1 s, 1 ms buckets up to 60 s).  The
 * Python clients it replaces used 250 us of CPU a request, as much as the
 * gateway they measured; this costs a few us.
 *
 *   decisions-load --port P --ca FILE --token T --path PATH --body JSON
 *                  --want CODE [--host H] [--conns 64] [--seconds 10]
 *                  [--warmup 1] [--pid NAME=PID]...
 *
 * Prints one JSON object: requests, per_s, p50_ms, p90_ms, p99_ms,
 * p999_ms, max_ms,
 * unexpected ({"<status>" or "<error>": count}), reconnects, and
 * cpu_s ({"self": .., NAME: .. per --pid, "wall": ..}) over the measured
 * window (after the warm-up, which also opens the connections).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/util.h"
#include "lib/banned.h"

#define MAX_CONNS  4096
#define MAX_PIDS   8
#define RESP_MAX   65536
#define HIST_US    1000000u   /* 1 us buckets below 1 s */
#define HIST_MS    60000u     /* 1 ms buckets below 60 s */

enum conn_state { C_CONNECT, C_HANDSHAKE, C_WRITE, C_READ };

struct conn {
	int fd;
	SSL *ssl;
	enum conn_state state;
	size_t sent;
	size_t got;
	uint64_t t0;               /* the request's start, mono ns */
	unsigned events;           /* what epoll watches now */
	char resp[RESP_MAX];
};

struct unexpected {
	char what[48];
	uint64_t n;
};

static struct {
	const char *host;
	bool host_is_ip;
	unsigned port;
	SSL_CTX *ctx;
	struct sockaddr_in addr;
	char *req;
	size_t reqlen;
	int want;
	int ep;
	bool measuring, stopping;
	uint64_t requests, reconnects;
	uint32_t *hist_us, *hist_ms;
	uint64_t max_ns;
	struct unexpected bad[64];
	size_t nbad;
} L;

static void bad(const char *what)
{
	size_t i;

	if (!L.measuring)
		return;
	for (i = 0; i < L.nbad; i++)
		if (!strcmp(L.bad[i].what, what)) {
			L.bad[i].n++;
			return;
		}
	if (L.nbad == sizeof(L.bad) / sizeof(L.bad[0]))
		i = L.nbad - 1;   /* the last slot takes whatever does not fit */
	else
		snprintf(L.bad[L.nbad++].what, sizeof(L.bad[0].what), "%s", what);
	L.bad[i].n++;
}

static void record(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (!L.measuring)
		return;
	L.requests++;
	if (ns > L.max_ns)
		L.max_ns = ns;
	if (us < HIST_US)
		L.hist_us[us]++;
	else
		L.hist_ms[us / 1000 < HIST_MS ? us / 1000 : HIST_MS - 1]++;
}

/* The latency (ms) below which a fraction f of the requests were. */
static double quantile(double f)
{
	uint64_t want, seen = 0;

	if (!L.requests)
		return -1;
	want = (uint64_t)(f * (double)L.requests);
	if (want >= L.requests)
		want = L.requests - 1;
	for (uint32_t i = 0; i < HIST_US; i++) {
		seen += L.hist_us[i];
		if (seen > want)
			return (i + 0.5) / 1000.0;
	}
	for (uint32_t i = 0; i < HIST_MS; i++) {
		seen += L.hist_ms[i];
		if (seen > want)
			return i + 0.5;
	}
	return (double)L.max_ns / 1e6;
}

static void watch(struct conn *c, unsigned events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	epoll_ctl(L.ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->events = events;
}

static void conn_close(struct conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);   /* leaves the epoll set with it */
	c->fd = -1;
	c->events = 0;
}

static int conn_open(struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&L.addr, sizeof(L.addr)) < 0 && errno != EINPROGRESS) {
		int e = -errno;

		conn_close(c);
		return e;
	}
	c->ssl = SSL_new(L.ctx);
	if (!c->ssl) {
		conn_close(c);
		return -ENOMEM;
	}
	SSL_set_fd(c->ssl, c->fd);
	if (L.host_is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), L.host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, L.host);
		SSL_set1_host(c->ssl, L.host);
	}
	c->state = C_CONNECT;
	watch(c, EPOLLOUT);
	return 0;
}

static void conn_restart(struct conn *c, const char *why)
{
	if (why)
		bad(why);
	L.reconnects++;
	conn_close(c);
	if (!L.stopping && conn_open(c) < 0)
		bad("connect");
}

/* Interprets SSL's answer; true when the call should be retried later. */
static bool ssl_wait(struct conn *c, int r, const char *what)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		watch(c, EPOLLIN);
		return true;
	case SSL_ERROR_WANT_WRITE:
		watch(c, EPOLLOUT);
		return true;
	case SSL_ERROR_ZERO_RETURN:
		conn_restart(c, "closed by the gateway");
		return false;
	default:
		ERR_clear_error();
		conn_restart(c, what);
		return false;
	}
}

static void start_request(struct conn *c)
{
	c->state = C_WRITE;
	c->sent = 0;
	c->got = 0;
	c->t0 = now_mono_ns();
}

/* Head parsed: status, Content-Length, Connection: close.  0 when the
 * head is not complete yet, -1 when it is not HTTP, else its length. */
static ssize_t parse_head(struct conn *c, int *status, size_t *clen, bool *close_after)
{
	char *end = memmem(c->resp, c->got, "\r\n\r\n", 4);
	char *p, *eol;

	if (!end)
		return c->got == RESP_MAX ? -1 : 0;
	*end = 0;
	if (strncmp(c->resp, "HTTP/1.", 7) || c->got < 12)
		return -1;
	*status = (int)strtol(c->resp + 9, NULL, 10);
	*clen = 0;
	*close_after = c->resp[7] == '0';
	for (p = strstr(c->resp, "\r\n"); p && p < end; p = eol) {
		p += 2;
		eol = strstr(p, "\r\n");
		if (!strncasecmp(p, "content-length:", 15))
			*clen = strtoul(p + 15, NULL, 10);
		else if (!strncasecmp(p, "connection:", 11))
			*close_after = strcasestr(p + 11, "close") && (!eol || strcasestr(p + 11, "close") < eol);
	}
	*end = '\r';
	return end - c->resp + 4;
}

static void on_answer(struct conn *c, int status, bool close_after)
{
	char what[32];

	record(now_mono_ns() - c->t0);
	if (status != L.want) {
		snprintf(what, sizeof(what), "%d", status);
		bad(what);
	}
	if (close_after) {
		conn_restart(c, NULL);
		return;
	}
	if (!L.stopping)
		start_request(c);
}

static void step(struct conn *c)
{
	int r;

	for (;;) {
		switch (c->state) {
		case C_CONNECT:
			c->state = C_HANDSHAKE;
			/* fallthrough */
		case C_HANDSHAKE:
			r = SSL_connect(c->ssl);
			if (r != 1) {
				ssl_wait(c, r, "handshake");
				return;
			}
			if (L.stopping)
				return;
			start_request(c);
			break;
		case C_WRITE:
			r = SSL_write(c->ssl, L.req + c->sent, (int)(L.reqlen - c->sent));
			if (r <= 0) {
				ssl_wait(c, r, "write");
				return;
			}
			c->sent += (size_t)r;
			if (c->sent == L.reqlen)
				c->state = C_READ;
			break;
		case C_READ: {
			int status = 0;
			size_t clen = 0;
			bool close_after = false;
			ssize_t head;

			r = SSL_read(c->ssl, c->resp + c->got, (int)(RESP_MAX - c->got));
			if (r <= 0) {
				ssl_wait(c, r, "read");
				return;
			}
			c->got += (size_t)r;
			head = parse_head(c, &status, &clen, &close_after);
			if (head < 0) {
				conn_restart(c, "not HTTP");
				return;
			}
			if (head == 0 || c->got < (size_t)head + clen)
				break;
			on_answer(c, status, close_after);
			if (L.stopping || c->fd < 0 || c->state != C_WRITE)
				return;
			break;
		}
		}
	}
}

static double proc_cpu_s(int pid)
{
	char path[64], text[1024], *p;
	unsigned long ut = 0, st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	p = strrchr(text, ')');
	/* after ")": state, then fields 4.. ; utime and stime are 14 and 15 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void run_until(struct conn *conns, size_t n, uint64_t deadline)
{
	struct epoll_event evs[256];

	for (;;) {
		uint64_t now = now_mono_ns();
		int k;

		if (now >= deadline)
			return;
		k = epoll_wait(L.ep, evs, 256, (int)((deadline - now) / 1000000) + 1);
		for (int i = 0; i < k; i++)
			step(evs[i].data.ptr);
	}
	(void)conns;
	(void)n;
}

static void usage(void)
{
	fprintf(stderr, "usage: decisions-load --port P --ca FILE --token T --path PATH --body JSON "
			"--want CODE [--host H] [--conns N] [--seconds S] [--warmup S] [--pid NAME=PID]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ca = NULL, *token = NULL, *path = NULL, *body = NULL;
	const char *pid_name[MAX_PIDS];
	int pid[MAX_PIDS];
	double cpu0[MAX_PIDS], self0, seconds = 10, warmup = 1, wall;
	uint64_t conns = 64, v, t0;
	size_t npids = 0;
	struct conn *cs;
	int len;

	L.host = "localhost";
	L.want = 200;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			usage();
		i++;
		if (!strcmp(a, "--host"))
			L.host = val;
		else if (!strcmp(a, "--port") && parse_u64(val, &v) >= 0 && v && v < 65536)
			L.port = (unsigned)v;
		else if (!strcmp(a, "--ca"))
			ca = val;
		else if (!strcmp(a, "--token"))
			token = val;
		else if (!strcmp(a, "--path"))
			path = val;
		else if (!strcmp(a, "--body"))
			body = val;
		else if (!strcmp(a, "--want") && parse_u64(val, &v) >= 0 && v < 600)
			L.want = (int)v;
		else if (!strcmp(a, "--conns") && parse_u64(val, &conns) >= 0 && conns && conns <= MAX_CONNS)
			;
		else if (!strcmp(a, "--seconds") && parse_double(val, &seconds) >= 0 && seconds > 0)
			;
		else if (!strcmp(a, "--warmup") && parse_double(val, &warmup) >= 0 && warmup >= 0)
			;
		else if (!strcmp(a, "--pid") && npids < MAX_PIDS && strchr(val, '=') &&
			 parse_u64(strchr(val, '=') + 1, &v) >= 0 && v) {
			pid_name[npids] = val;
			pid[npids++] = (int)v;
		} else
			usage();
	}
	if (!L.port || !ca || !token || !path || !body)
		usage();

	L.addr.sin_family = AF_INET;
	L.addr.sin_port = htons((uint16_t)L.port);
	if (inet_pton(AF_INET, !strcmp(L.host, "localhost") ? "127.0.0.1" : L.host, &L.addr.sin_addr) != 1) {
		fprintf(stderr, "decisions-load: --host \"%s\": an IPv4 address or localhost\n", L.host);
		return 2;
	}
	L.host_is_ip = strcmp(L.host, "localhost") != 0;
	L.ctx = SSL_CTX_new(TLS_client_method());
	if (!L.ctx || SSL_CTX_load_verify_locations(L.ctx, ca, NULL) != 1) {
		fprintf(stderr, "decisions-load: CA \"%s\" unreadable\n", ca);
		return 1;
	}
	SSL_CTX_set_verify(L.ctx, SSL_VERIFY_PEER, NULL);
	len = asprintf(&L.req,
		       "POST %s HTTP/1.1\r\nHost: %s:%u\r\nAuthorization: Bearer %s\r\n"
		       "Content-Type: application/json\r\nUser-Agent: decisions-load\r\n"
		       "Content-Length: %zu\r\n\r\n%s",
		       path, L.host, L.port, token, strlen(body), body);
	if (len < 0)
		return 1;
	L.reqlen = (size_t)len;
	L.hist_us = calloc(HIST_US, sizeof(*L.hist_us));
	L.hist_ms = calloc(HIST_MS, sizeof(*L.hist_ms));
	cs = calloc(conns, sizeof(*cs));
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!L.hist_us || !L.hist_ms || !cs || L.ep < 0)
		return 1;
	for (size_t i = 0; i < conns; i++) {
		cs[i].fd = -1;
		if (conn_open(&cs[i]) < 0) {
			fprintf(stderr, "decisions-load: connect: %s\n", strerror(errno));
			return 1;
		}
	}

	run_until(cs, conns, now_mono_ns() + (uint64_t)(warmup * 1e9));
	L.measuring = true;
	for (size_t i = 0; i < npids; i++)
		cpu0[i] = proc_cpu_s(pid[i]);
	self0 = self_cpu_s();
	t0 = now_mono_ns();
	run_until(cs, conns, t0 + (uint64_t)(seconds * 1e9));
	wall = (double)(now_mono_ns() - t0) / 1e9;
	/* answers to requests in flight at the end are not counted (their
	 * time straddles the window): stop, and let them go */
	L.measuring = false;
	L.stopping = true;

	printf("{\"conns\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"per_s\":%.1f,\"p50_ms\":%.3f,"
	       "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"reconnects\":%" PRIu64 ",\"unexpected\":{",
	       conns, L.requests, (double)L.requests / wall, quantile(0.5), quantile(0.9), quantile(0.99),
	       quantile(0.999), (double)L.max_ns / 1e6, L.reconnects);
	for (size_t i = 0; i < L.nbad; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", L.bad[i].what, L.bad[i].n);
	printf("},\"cpu_s\":{\"wall\":%.3f,\"self\":%.3f", wall, self_cpu_s() - self0);
	for (size_t i = 0; i < npids; i++)
		printf(",\"%.*s\":%.3f", (int)(strchr(pid_name[i], '=') - pid_name[i]), pid_name[i],
		       proc_cpu_s(pid[i]) - cpu0[i]);
	printf("}}\n");
	for (size_t i = 0; i < conns; i++)
		conn_close(&cs[i]);
	free(cs);
	free(L.req);
	SSL_CTX_free(L.ctx);
	return 0;
}
