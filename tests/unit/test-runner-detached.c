// SPDX-License-Identifier: Apache-2.0
/*
 * runner/detached.h without a session: the body's "detached" member
 * (wire/session.h decodes it, det_meta_new keeps it) and
 * the answers of /v1/detached for what the table does not hold (tests/e2e/
 * kubectl-detach.sh runs real sessions).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "runner/detached.h"
#include "wire/runner-path.h"
#include "wire/session.h"

#define BODY(d) "{\"trace\":\"t1\",\"program\":\"BEGIN { }\",\"canonical\":\"BEGIN { }\",\"duration\":30," \
		"\"pods\":[{\"namespace\":\"team-a\",\"name\":\"web-a\",\"uid\":\"u\"}]" d "}"

static void expect_meta_error(const char *body, const char *want)
{
	struct session_request req;
	char *err = NULL;

	assert_int_equal(session_request_decode(body, strlen(body), &req, &err), -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("want \"%s\", got \"%s\"", want, err ? err : "(null)");
	free(err);
}

static void test_meta(void **state)
{
	static const char ok[] = BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"alice\","
				      "\"groups\":[\"team-a-devs\"],\"target\":\"pod/web-a\","
				      "\"created\":\"2026-12-06T08:35:11Z\"}");
	static const char none[] = BODY("");
	struct session_request req;
	struct det_meta *m = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(session_request_decode(none, strlen(none), &req, &err), 0);
	assert_int_equal(det_meta_new(&req, &m), 0);
	assert_null(m);
	session_request_release(&req);
	assert_int_equal(session_request_decode(ok, strlen(ok), &req, &err), 0);
	assert_int_equal(det_meta_new(&req, &m), 1);
	assert_non_null(m);
	assert_null(err);
	det_meta_free(m);
	session_request_release(&req);

	expect_meta_error(BODY(",\"detached\":true"), "\"detached\": not an object");
	expect_meta_error(BODY(",\"detached\":{\"user\":\"alice\"}"), "\"detached.namespace\"");
	expect_meta_error(BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"al\\u0001ice\",\"target\":\"x\","
			       "\"created\":\"x\"}"), "\"detached.user\": not a string of 1 to 256 printable");
	expect_meta_error(BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"a\\u0000b\",\"target\":\"x\","
			       "\"created\":\"x\"}"), "body: not JSON");
	expect_meta_error(BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"a\",\"target\":\"x\","
			       "\"created\":\"x\",\"groups\":[1]}"), "\"detached.groups[0]\"");
	expect_meta_error(BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"a\",\"target\":\"\","
			       "\"created\":\"x\"}"), "\"detached.target\"");
}

/* What the table answers to method and target, the status line and body.
 * A target the runner's router (wire_rpath_decode, as cmd-serve.c's
 * read_cb calls it) refuses is answered there: 404 or 400 and its message. */
static char *ask(struct event_base *base, struct det_table *t, const char *method, const char *target)
{
	static char buf[4096];
	struct bufferevent *bev;
	struct wire_rpath rp;
	char *err = NULL;
	size_t got = 0;
	int sp[2], r;

	r = wire_rpath_decode(target, &rp, &err);
	if (r < 0) {
		snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s", r == -ENOENT ? 404 : 400, err ? err : "");
		free(err);
		return buf;
	}
	assert_true(rp.kind == WIRE_RPATH_DETACHED_LIST || rp.kind == WIRE_RPATH_DETACHED ||
		    rp.kind == WIRE_RPATH_DETACHED_LOG || rp.kind == WIRE_RPATH_DETACHED_UNCLAIMED ||
		    rp.kind == WIRE_RPATH_DETACHED_CLAIM);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	bev = bufferevent_socket_new(base, sp[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	det_request(t, method, &rp, bev);
	for (int i = 0; i < 100; i++) {
		ssize_t n;

		event_base_loop(base, EVLOOP_NONBLOCK);
		n = recv(sp[1], buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;   /* answered and closed */
		if (n > 0)
			got += (size_t)n;
	}
	close(sp[1]);
	buf[got] = '\0';
	return buf;
}

static void expect_answer(struct event_base *base, struct det_table *t, const char *method, const char *target,
			  const char *status, const char *body_has)
{
	const char *a = ask(base, t, method, target);

	if (strncmp(a, status, strlen(status)) || !strstr(a, body_has))
		fail_msg("%s %s: want \"%s\" with \"%s\", got \"%s\"", method, target, status, body_has, a);
}

static void test_requests(void **state)
{
	struct event_base *base = event_base_new();
	struct det_table *t = NULL;

	(void)state;
	assert_non_null(base);
	assert_int_equal(det_table_new(base, "node-1", &t), 0);
	expect_answer(base, t, "GET", "/v1/detached", "HTTP/1.1 200", "{\"items\":[]}");
	expect_answer(base, t, "GET", "/v1/detached?namespace=team-a", "HTTP/1.1 200", "{\"items\":[]}");
	expect_answer(base, t, "GET", "/v1/detached?ns=team-a", "HTTP/1.1 400", "the only queries are namespace=NS");
	expect_answer(base, t, "GET", "/v1/detached?unclaimed=1", "HTTP/1.1 200", "{\"items\":[]}");
	expect_answer(base, t, "GET", "/v1/detached/abc/claim?by=gw-1", "HTTP/1.1 405", "POST only");
	expect_answer(base, t, "POST", "/v1/detached/abc/claim?by=gw-1", "HTTP/1.1 404", "no detached session");
	expect_answer(base, t, "POST", "/v1/detached/abc/claims", "HTTP/1.1 404", "no such path");
	expect_answer(base, t, "POST", "/v1/detached/abc/claim?by=gw-1&again=1", "HTTP/1.1 404", "no detached session");
	/* the router checks the query first: a bad one is the 400 before the 405 or 404 */
	expect_answer(base, t, "GET", "/v1/detached/abc/claim", "HTTP/1.1 400", "the query is by=NAME[&again=1]");
	expect_answer(base, t, "POST", "/v1/detached/abc/claim?by=gw/1", "HTTP/1.1 400", "at most &again=1");
	expect_answer(base, t, "POST", "/v1/detached?unclaimed=1", "HTTP/1.1 405", "GET only");
	expect_answer(base, t, "POST", "/v1/detached", "HTTP/1.1 405", "GET only");
	expect_answer(base, t, "GET", "/v1/detached/abc", "HTTP/1.1 404", "no detached session");
	expect_answer(base, t, "DELETE", "/v1/detached/abc", "HTTP/1.1 404", "no detached session");
	expect_answer(base, t, "GET", "/v1/detached/abc/log?follow=1", "HTTP/1.1 404", "no detached session");
	expect_answer(base, t, "GET", "/v1/detached/abc/log?follow=2", "HTTP/1.1 400", "follow=1");
	expect_answer(base, t, "GET", "/v1/detached/abc?follow=1", "HTTP/1.1 400", "follow=1");
	expect_answer(base, t, "GET", "/v1/detached/abc/logs", "HTTP/1.1 404", "no such path");
	expect_answer(base, t, "GET", "/v1/detached/abc/log/x", "HTTP/1.1 404", "no such path");
	expect_answer(base, t, "GET", "/v1/detached/a%2fb", "HTTP/1.1 400", "session id");
	expect_answer(base, t, "GET", "/v1/detached/", "HTTP/1.1 400", "session id");
	expect_answer(base, t, "GET", "/v1/detachedx", "HTTP/1.1 404", "no such path");
	det_table_free(t);
	event_base_free(base);
}

/* One detached session that ran and died (no end of its own) after
 * printing about bytes: its child's stream fed and closed, then reaped. */
static void add_ended(struct event_base *base, struct det_table *t, const char *trace, pid_t pid, size_t bytes)
{
	static const char body[] = BODY(",\"detached\":{\"namespace\":\"team-a\",\"user\":\"alice\","
					"\"target\":\"pod/web-a\",\"created\":\"2026-12-06T08:35:11Z\","
					"\"auditID\":\"a-1\"}");
	static const char head[] = "HTTP/1.1 200 OK\r\n\r\n{\"type\":\"output\",\"text\":\"";
	struct session_request req;
	struct det_meta *m = NULL;
	struct bufferevent *answer;
	char *err = NULL, *text;
	int sp[2], ap[2];

	assert_int_equal(session_request_decode(body, strlen(body), &req, &err), 0);
	assert_int_equal(det_meta_new(&req, &m), 1);
	session_request_release(&req);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ap), 0);
	answer = bufferevent_socket_new(base, ap[0], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(answer);
	close(ap[1]);
	assert_int_equal(det_session_add(t, m, trace, pid, sp[0], answer), 0);
	text = malloc(bytes + 64);
	assert_non_null(text);
	memset(text, 'x', bytes);
	memcpy(text + bytes, "\"}\n", 4);
	assert_int_equal(write(sp[1], head, strlen(head)), (ssize_t)strlen(head));
	for (size_t off = 0; off < bytes + 3;) {
		ssize_t n = write(sp[1], text + off, bytes + 3 - off);

		if (n > 0)
			off += (size_t)n;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	free(text);
	close(sp[1]);
	for (int i = 0; i < 100; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	det_session_reaped(t, pid, 0);
}

/* A burst of sessions that print much does not push an older end out
 * before a gateway claims it (its records may go) */
static void test_unclaimed_kept(void **state)
{
	struct event_base *base = event_base_new();
	struct det_table *t = NULL;
	char trace[16];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(base);
	assert_int_equal(det_table_new(base, "node-1", &t), 0);
	add_ended(base, t, "victim", 1000, 500 * 1000);
	for (int i = 0; i < (int)(DET_KEEP_BYTES / (1000u * 1000u)) + 2; i++) {
		snprintf(trace, sizeof(trace), "flood-%d", i);
		add_ended(base, t, trace, 2000 + i, 1000 * 1000);
	}
	expect_answer(base, t, "POST", "/v1/detached/victim/claim?by=gw-1", "HTTP/1.1 200", "\"auditID\":\"a-1\"");
	det_table_free(t);
	event_base_free(base);
}

/* A session freed once its end was claimed (deleted, then claimed): a
 * second gateway's claim is told who claimed it (409, the claimer as the
 * cause "claimedBy"), not 404, which the gateway that started it would
 * record as its runner having lost it; the claimer asking again=1 (the
 * answer lost on the way, or killed before its record) gets the same
 * answer again */
static void test_claimed_gone(void **state)
{
	struct event_base *base = event_base_new();
	struct det_table *t = NULL;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(base);
	assert_int_equal(det_table_new(base, "node-1", &t), 0);
	add_ended(base, t, "gone-1", 3000, 10);
	expect_answer(base, t, "DELETE", "/v1/detached/gone-1", "HTTP/1.1 200", "");
	expect_answer(base, t, "GET", "/v1/detached/gone-1", "HTTP/1.1 404", "no detached session");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-b", "HTTP/1.1 200", "\"auditID\":\"a-1\"");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-a", "HTTP/1.1 409 Conflict",
		      "\"field\":\"claimedBy\",\"message\":\"gw-b\"");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-b", "HTTP/1.1 409",
		      "its end was claimed by \\\"gw-b\\\"");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-b&again=1", "HTTP/1.1 200",
		      "\"auditID\":\"a-1\"");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-b&again=1", "HTTP/1.1 200",
		      "\"claimedBy\":\"gw-b\"");
	expect_answer(base, t, "POST", "/v1/detached/gone-1/claim?by=gw-a&again=1", "HTTP/1.1 409",
		      "\"field\":\"claimedBy\",\"message\":\"gw-b\"");
	expect_answer(base, t, "GET", "/v1/detached", "HTTP/1.1 200", "{\"items\":[]}");
	det_table_free(t);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_unclaimed_kept),
		cmocka_unit_test(test_claimed_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
