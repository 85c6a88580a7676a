// SPDX-License-Identifier: Apache-2.0
/*
 * Records of refused requests (gateway/event.h): the builder keeps every
 * client byte bounded and safe for one JSON line whatever it is (hostile
 * URIs, user agents, methods), such records chain and verify in a real
 * audit log and stay within GW_EVENT_MAX_REFUSAL_RECORD; the bound on
 * refusals before authentication (struct gw_refusals) lets through
 * exactly what its buckets allow, counts the rest, and its summaries
 * account for every record it did not let through.  Also the HTTP
 * layer's view of a raw, broken head (http_head_peek).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "gateway/audit.h"
#include "gateway/config.h"
#include "gateway/event.h"
#include "gateway/http.h"
#include "lib/util.h"

#define S (1000000000ull)
#define T0 (1767323045ull * S)  /* a wall clock: 2026-01-02T03:04:05Z */

static size_t trunc_len(void)
{
	return strlen(GW_EVENT_TRUNCATED);
}

/* s is what jansson takes as a string, and its JSON form is one line. */
static void assert_json_safe(const char *s)
{
	json_t *j = json_string(s);
	char *text;

	if (!j)
		fail_msg("not a valid JSON string: \"%s\"", s);
	text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\r'));
	free(text);
	json_decref(j);
}

static void test_uri(void **state)
{
	static const char hostile[] = "/a b\"c\\d\r\n{\"x\":1}\x7f\xff%2F\0tail";
	char *u, *again, *big;

	(void)state;
	u = gw_event_uri(hostile, sizeof(hostile) - 1);
	assert_string_equal(u, "/a%20b\"c\\d%0D%0A{\"x\":1}%7F%FF%2F%00tail");
	assert_json_safe(u);
	again = gw_event_uri(u, strlen(u));
	assert_string_equal(again, u);
	free(again);
	free(u);

	/* a long URI: cut, marked, within the bound, and stable */
	big = malloc(20000);
	memset(big, 'a', 20000);
	big[1000] = '\n';
	u = gw_event_uri(big, 20000);
	assert_true(strlen(u) <= GW_EVENT_MAX_URI);
	assert_true(strlen(u) > GW_EVENT_MAX_URI - 3 - trunc_len());
	assert_string_equal(u + strlen(u) - trunc_len(), GW_EVENT_TRUNCATED);
	assert_memory_equal(u + 1000, "%0A", 3);
	again = gw_event_uri(u, strlen(u));
	assert_string_equal(again, u);
	free(again);
	free(u);
	/* escapes are never split by the cut */
	memset(big, '\xff', 20000);
	u = gw_event_uri(big, 20000);
	assert_true(strlen(u) <= GW_EVENT_MAX_URI);
	assert_int_equal((strlen(u) - trunc_len()) % 3, 0);
	assert_json_safe(u);
	free(u);
	/* exactly at the bound: kept whole */
	memset(big, 'b', GW_EVENT_MAX_URI);
	u = gw_event_uri(big, GW_EVENT_MAX_URI);
	assert_int_equal(strlen(u), GW_EVENT_MAX_URI);
	assert_null(strstr(u, GW_EVENT_TRUNCATED));
	free(u);
	free(big);
	u = gw_event_uri(NULL, 5);
	assert_string_equal(u, "");
	free(u);
}

static void test_text(void **state)
{
	/* valid: é, €, 😀; invalid: a lone continuation byte, an overlong
	 * '/', a surrogate, a code point past U+10FFFF, a cut sequence;
	 * controls: NUL, tab, ESC, DEL, NEL (C1), U+2028 */
	static const char in[] = "ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|"
				 "\xf4\x90\x80\x80|\0|\t|\x1b[31m|\x7f|\xc2\x85|\xe2\x80\xa8|\xe2\x82";
	static const char want[] = "ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xef\xbf\xbd|"
				   "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
				   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd|"
				   "\xef\xbf\xbd|\xef\xbf\xbd[31m|\xef\xbf\xbd|\xef\xbf\xbd|"
				   "\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd";
	char *t, *again, big[5000];

	(void)state;
	t = gw_event_text(in, sizeof(in) - 1, 4096);
	assert_string_equal(t, want);
	assert_json_safe(t);
	again = gw_event_text(t, strlen(t), 4096);
	assert_string_equal(again, t);
	free(again);
	free(t);

	/* cut on a character boundary: 3-byte characters never split */
	for (size_t i = 0; i + 3 <= sizeof(big); i += 3)
		memcpy(big + i, "\xe2\x82\xac", 3);
	t = gw_event_text(big, sizeof(big) - sizeof(big) % 3, GW_EVENT_MAX_USER_AGENT);
	assert_true(strlen(t) <= GW_EVENT_MAX_USER_AGENT);
	assert_string_equal(t + strlen(t) - trunc_len(), GW_EVENT_TRUNCATED);
	assert_int_equal((strlen(t) - trunc_len()) % 3, 0);
	assert_json_safe(t);
	again = gw_event_text(t, strlen(t), GW_EVENT_MAX_USER_AGENT);
	assert_string_equal(again, t);
	free(again);
	free(t);
	/* invalid bytes grow threefold: the bound is on what is kept */
	memset(big, '\xfe', sizeof(big));
	t = gw_event_text(big, sizeof(big), GW_EVENT_MAX_USER_AGENT);
	assert_true(strlen(t) <= GW_EVENT_MAX_USER_AGENT);
	assert_json_safe(t);
	free(t);
}

static void test_verb(void **state)
{
	static const struct { const char *m; bool res; const char *want; } cases[] = {
		{ "POST", true, "create" }, { "GET", true, "list" }, { "HEAD", true, "list" },
		{ "PUT", true, "update" }, { "PATCH", true, "patch" },
		{ "DELETE", true, "deletecollection" }, { "PROPFIND", true, "propfind" },
		{ "GET", false, "get" }, { "POST", false, "post" }, { "", false, "" },
	};
	char *v, m[100];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = gw_event_verb(cases[i].m, strlen(cases[i].m), cases[i].res);
		assert_string_equal(v, cases[i].want);
		free(v);
	}
	v = gw_event_verb(NULL, 0, true);
	assert_string_equal(v, "");
	free(v);
	/* a token method of any length, or bytes that are no method at all */
	memset(m, 'X', sizeof(m));
	v = gw_event_verb(m, sizeof(m), false);
	assert_true(strlen(v) <= GW_EVENT_MAX_VERB);
	assert_string_equal(v + strlen(v) - trunc_len(), GW_EVENT_TRUNCATED);
	assert_int_equal(v[0], 'x');
	free(v);
	v = gw_event_verb("\x16\x03\x01\x02\x00\x01", 6, false);
	assert_json_safe(v);
	free(v);
}

/* A refusal record as the gateway builds one before authentication. */
static json_t *refusal(const char *uri, const char *ua, const char *verb, int code)
{
	struct gw_event e = {
		.audit_id = "11111111-2222-4333-8444-555555555555", .stage = "ResponseStarted",
		.request_uri = uri, .verb = verb, .source_ip = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		.user_agent = ua, .code = code,
		.message = "request head is larger than the limit \"maxHeaderBytes\"",
		.received_ns = T0, .stage_ns = T0 + 1, .decision = "forbid",
		.reason = "request head is larger than the limit \"maxHeaderBytes\"",
		.non_resource = true,
	};
	json_t *tg = json_pack("{s:s, s:s}", "refusedBy", "http", "authentication", "not attempted");
	json_t *ev;

	e.tracegate = tg;
	ev = gw_event_build(&e);
	json_decref(tg);
	return ev;
}

struct logdir {
	char dir[64], path[128], key[128];
};

static void logdir_make(struct logdir *d)
{
	int fd;

	snprintf(d->dir, sizeof(d->dir), "/tmp/tg-refusals-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/audit.log", d->dir);
	snprintf(d->key, sizeof(d->key), "%s/key", d->dir);
	fd = open(d->key, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef-secret-key", 27), 27);
	close(fd);
}

static void logdir_remove(struct logdir *d)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	assert_int_equal(system(cmd), 0);
}

static void verify_log(const char *path, uint64_t want_records)
{
	struct audit_verify_result res;
	const char *files[] = { path };

	if (audit_verify(files, 1, NULL, &res) != 0)
		fail_msg("verify: line %zu: %s", res.line, res.problem ? res.problem : "?");
	assert_int_equal(res.records, want_records);
	audit_verify_result_release(&res);
}

/* The longest line of the file, newline excluded. */
static size_t longest_line(const char *path, size_t *ret_lines)
{
	char *data = NULL, *p, *nl;
	size_t len = 0, max = 0;

	assert_int_equal(read_file(path, 64 << 20, &data, &len), 0);
	*ret_lines = 0;
	for (p = data; p < data + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(data + len - p));
		assert_non_null(nl);
		if ((size_t)(nl - p) > max)
			max = (size_t)(nl - p);
		(*ret_lines)++;
	}
	free(data);
	return max;
}

static void test_hostile_records_chain(void **state)
{
	struct audit_opts o = { .sz = sizeof(o) };
	struct audit_log *log = NULL;
	struct logdir d;
	char *err = NULL, *uri, *ua, *verb;
	size_t lines, longest;
	unsigned seed = 7;
	json_t *ev;
	int n = 0;

	(void)state;
	logdir_make(&d);
	o.key_file = d.key;
	assert_int_equal(audit_log_open(d.path, &o, &log, &err), 0);

	/* the worst case: every kept byte doubles when JSON-escaped */
	uri = malloc(64 << 10);
	ua = malloc(64 << 10);
	verb = malloc(64 << 10);
	memset(uri, '"', 64 << 10);
	memset(ua, '\\', 64 << 10);
	memset(verb, '"', 64 << 10);
	uri[(64 << 10) - 1] = ua[(64 << 10) - 1] = verb[(64 << 10) - 1] = '\0';
	ev = refusal(uri, ua, verb, 431);
	assert_non_null(ev);
	assert_int_equal(audit_log_append(log, ev, &err), 0);
	json_decref(ev);
	n++;

	/* the worst a refusal in the traces flow can be before
	 * authentication (trace.c): a 401 with the API server's long error
	 * text, the body's claimed target (at most 300 bytes) twice, the
	 * user agent as trace.c keeps it (256 bytes) */
	{
		char target[301], longmsg[20000];
		json_t *tg;
		struct gw_event e = {
			.audit_id = "11111111-2222-4333-8444-555555555555", .stage = "ResponseStarted",
			.request_uri = "/apis/tracegate.dev/v1alpha1/namespaces/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/traces?dryRun=All",
			.verb = "create", .source_ip = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
			.ns = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			.code = 401, .received_ns = T0, .stage_ns = T0, .decision = "forbid",
		};

		memset(target, '"', 300);
		target[300] = '\0';
		memset(longmsg, '\\', sizeof(longmsg) - 1);
		longmsg[sizeof(longmsg) - 1] = '\0';
		ua[256] = '\0';
		e.user_agent = ua;
		e.name = target;
		e.message = e.reason = longmsg;
		tg = json_pack("{s:s, s:b, s:s, s:s}", "trace", e.audit_id, "dryRun", 1, "target",
			       target, "programSHA256",
			       "0000000000000000000000000000000000000000000000000000000000000000");
		e.tracegate = tg;
		ev = gw_event_build(&e);
		assert_non_null(ev);
		assert_true(strlen(json_string_value(json_object_get(
			json_object_get(ev, "responseStatus"), "message"))) <= GW_EVENT_MAX_MESSAGE);
		assert_int_equal(audit_log_append(log, ev, &err), 0);
		json_decref(ev);
		json_decref(tg);
		n++;
	}

	/* random bytes, NUL-free (C strings), through the whole path */
	for (int i = 0; i < 300; i++) {
		size_t ul = (size_t)rand_r(&seed) % 5000, al = (size_t)rand_r(&seed) % 3000;

		for (size_t k = 0; k < ul; k++)
			uri[k] = (char)(1 + rand_r(&seed) % 255);
		for (size_t k = 0; k < al; k++)
			ua[k] = (char)(1 + rand_r(&seed) % 255);
		uri[ul] = ua[al] = '\0';
		ev = refusal(uri, ua, ua, 400);
		if (!ev)
			fail_msg("no record for random bytes (round %d)", i);
		assert_non_null(json_object_get(ev, "requestURI"));
		assert_true(strlen(json_string_value(json_object_get(ev, "requestURI"))) <= GW_EVENT_MAX_URI);
		if (al)
			assert_true(strlen(json_string_value(json_object_get(ev, "userAgent"))) <=
				    GW_EVENT_MAX_USER_AGENT);
		assert_true(strlen(json_string_value(json_object_get(ev, "verb"))) <= GW_EVENT_MAX_VERB);
		assert_int_equal(audit_log_append(log, ev, &err), 0);
		json_decref(ev);
		n++;
	}
	audit_log_close(log);
	free(uri);
	free(ua);
	free(verb);

	verify_log(d.path, (uint64_t)n);
	longest = longest_line(d.path, &lines);
	assert_int_equal(lines, (size_t)n);
	if (longest > GW_EVENT_MAX_REFUSAL_RECORD)
		fail_msg("a refusal record of %zu bytes, over %u", longest, GW_EVENT_MAX_REFUSAL_RECORD);
	logdir_remove(&d);
}

static void test_record_shape(void **state)
{
	json_t *ev, *x;

	(void)state;
	ev = refusal("/nope?x=\xff", "curl/8 \x01", "get", 404);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "requestURI")), "/nope?x=%FF");
	assert_string_equal(json_string_value(json_object_get(ev, "userAgent")), "curl/8 \xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(ev, "verb")), "get");
	/* not authenticated: recorded as Kubernetes records an anonymous request */
	x = json_object_get(ev, "user");
	assert_string_equal(json_string_value(json_object_get(x, "username")), "system:anonymous");
	assert_string_equal(json_string_value(json_array_get(json_object_get(x, "groups"), 0)),
			    "system:unauthenticated");
	/* a path that names no resource has no objectRef */
	assert_null(json_object_get(ev, "objectRef"));
	x = json_object_get(ev, "responseStatus");
	assert_int_equal(json_integer_value(json_object_get(x, "code")), 404);
	assert_string_equal(json_string_value(json_object_get(x, "reason")), "NotFound");
	assert_non_null(json_object_get(x, "message"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "sourceIPs"), 0)),
			    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	json_decref(ev);
}

static struct gw_refusal_limits limits(unsigned src_rate, unsigned src_burst, unsigned rate,
				       unsigned burst, unsigned max_sources, unsigned max_summaries)
{
	struct gw_refusal_limits l;

	gw_refusal_limits_default(&l);
	l.per_source_rate = src_rate;
	l.per_source_burst = src_burst;
	l.rate = rate;
	l.burst = burst;
	l.max_sources = max_sources;
	l.max_summaries = max_summaries;
	return l;
}

static uint64_t summary_count(json_t *ev)
{
	return (uint64_t)json_integer_value(json_object_get(
		json_object_get(json_object_get(ev, "tracegate"), "suppressed"), "count"));
}

static void test_bound_per_source(void **state)
{
	struct gw_refusal_limits l = limits(1, 10, 1000, 1000, 16, 16);
	struct gw_refusals *rl = NULL;
	struct gw_refusals_stats st;
	uint64_t admitted = 0, sent = 0;
	json_t *sums, *ev, *sup;
	const char *reason;

	(void)state;
	assert_int_equal(gw_refusals_new(&l, &rl), 0);
	/* the burst at once, then nothing more at the same instant */
	for (int i = 0; i < 10; i++)
		assert_true(gw_refusals_admit(rl, "192.0.2.1", 404, 5 * S, T0));
	assert_false(gw_refusals_admit(rl, "192.0.2.1", 404, 5 * S, T0));
	/* another source has its own bucket */
	assert_true(gw_refusals_admit(rl, "192.0.2.2", 404, 5 * S, T0));
	/* one second later, one more */
	assert_true(gw_refusals_admit(rl, "192.0.2.1", 404, 6 * S, T0 + S));
	assert_false(gw_refusals_admit(rl, "192.0.2.1", 404, 6 * S, T0 + S));
	sums = gw_refusals_flush(rl, T0 + 2 * S, false);
	assert_int_equal(json_array_size(sums), 1);
	json_decref(sums);

	/* a flood: 1000 a second for 60 s: 1 a second gets through, exactly */
	for (uint64_t ms = 0; ms < 60000; ms++, sent++) {
		uint64_t t = 100 * S + ms * 1000000ull;

		if (gw_refusals_admit(rl, "192.0.2.1", ms % 2 ? 400 : 431, t, T0 + t))
			admitted++;
	}
	/* the bucket was full again after the quiet time: its burst, then
	 * one at each whole second after the start */
	assert_int_equal(admitted, 10 + 59);
	gw_refusals_stats(rl, &st);
	assert_int_equal(st.pending, sent - admitted);

	sums = gw_refusals_flush(rl, T0 + 200 * S, false);
	assert_int_equal(json_array_size(sums), 1);
	ev = json_array_get(sums, 0);
	assert_int_equal(summary_count(ev), sent - admitted);
	sup = json_object_get(json_object_get(ev, "tracegate"), "suppressed");
	assert_string_equal(json_string_value(json_object_get(sup, "source")), "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sup, "codes"), "400")) +
			 json_integer_value(json_object_get(json_object_get(sup, "codes"), "431")),
			 sent - admitted);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(sup, "overLimit"),
							    "perSourceRate")), sent - admitted);
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "sourceIPs"), 0)),
			    "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(sup, "first")), "2026-01-02T03:05:45.010000Z");
	reason = json_string_value(json_object_get(json_object_get(ev, "annotations"),
						   "authorization.k8s.io/reason"));
	assert_non_null(strstr(reason, "similar records suppressed from 192.0.2.1 between "
				       "2026-01-02T03:05:45.010000Z and 2026-01-02T03:06:44.999000Z"));
	assert_string_equal(json_string_value(json_object_get(ev, "kind")), "Event");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "user"), "username")),
			    "system:anonymous");
	json_decref(sums);
	/* everything is accounted for: nothing pending, the next flush is empty */
	gw_refusals_stats(rl, &st);
	assert_int_equal(st.pending, 0);
	sums = gw_refusals_flush(rl, T0 + 201 * S, false);
	assert_int_equal(json_array_size(sums), 0);
	json_decref(sums);
	gw_refusals_free(rl);
}

static void test_bound_total_and_many_sources(void **state)
{
	struct gw_refusal_limits l = limits(1, 10, 2, 20, 64, 4);
	struct gw_refusals *rl = NULL;
	struct gw_refusals_stats st;
	uint64_t admitted = 0, sent = 0, summed = 0;
	json_t *sums, *ev;
	size_t i;
	bool untracked = false;
	const unsigned secs = 30;

	(void)state;
	assert_int_equal(gw_refusals_new(&l, &rl), 0);
	/* 5000 sources (a botnet, or a /48 of IPv6 /64s), 100 a second for 30 s */
	for (uint64_t k = 0; k < 100 * secs; k++, sent++) {
		char src[64];
		uint64_t t = 10 * S + k * (S / 100);

		if (k % 2)
			snprintf(src, sizeof(src), "10.%u.%u.%u", (unsigned)(k >> 16) & 255,
				 (unsigned)(k >> 8) & 255, (unsigned)k & 255);
		else
			snprintf(src, sizeof(src), "2001:db8:%x:%x::1", (unsigned)(k >> 16),
				 (unsigned)k & 0xffff);
		if (gw_refusals_admit(rl, src, 400, t, T0 + k * (S / 100)))
			admitted++;
	}
	/* the total bucket: its burst, then its rate */
	if (admitted > 20 + 2 * secs)
		fail_msg("%" PRIu64 " records let through, over burst 20 + 2/s for %u s", admitted, secs);
	assert_true(admitted >= 2 * secs);
	gw_refusals_stats(rl, &st);
	assert_int_equal(st.sources, 64);
	assert_int_equal(st.admitted, admitted);
	assert_int_equal(st.suppressed, sent - admitted);

	sums = gw_refusals_flush(rl, T0 + 100 * S, false);
	assert_true(json_array_size(sums) <= 4);
	assert_true(json_array_size(sums) >= 2);
	json_array_foreach(sums, i, ev) {
		json_t *sup = json_object_get(json_object_get(ev, "tracegate"), "suppressed");

		summed += summary_count(ev);
		if (json_is_true(json_object_get(sup, "untracked")))
			untracked = true;
	}
	assert_int_equal(summed, sent - admitted);
	assert_true(untracked);
	json_decref(sums);
	gw_refusals_free(rl);
}

static void test_bound_sources(void **state)
{
	struct gw_refusal_limits l = limits(1, 2, 1000, 1000, 2, 16);
	struct gw_refusals *rl = NULL;
	struct gw_refusals_stats st;
	json_t *sums, *ev;
	size_t i;

	(void)state;
	assert_int_equal(gw_refusals_new(&l, &rl), 0);
	/* one IPv6 /64 is one source; a v4-mapped address is its IPv4 one */
	assert_true(gw_refusals_admit(rl, "2001:db8::1", 400, S, T0));
	assert_true(gw_refusals_admit(rl, "2001:db8::ffff:2", 400, S, T0));
	assert_false(gw_refusals_admit(rl, "2001:db8::3", 400, S, T0));
	assert_true(gw_refusals_admit(rl, "192.0.2.9", 400, S, T0));
	assert_true(gw_refusals_admit(rl, "::ffff:192.0.2.9", 400, S, T0));
	assert_false(gw_refusals_admit(rl, "192.0.2.9", 400, S, T0));
	/* the table (2 sources) is full of sources with pending counts:
	 * a third shares only the total bucket */
	assert_true(gw_refusals_admit(rl, "198.51.100.1", 400, S, T0));
	gw_refusals_stats(rl, &st);
	assert_int_equal(st.sources, 2);
	sums = gw_refusals_flush(rl, T0 + S, true);
	assert_int_equal(json_array_size(sums), 2);
	json_array_foreach(sums, i, ev) {
		const char *src = json_string_value(json_object_get(json_object_get(
			json_object_get(ev, "tracegate"), "suppressed"), "source"));

		assert_true(!strcmp(src, "2001:db8::/64") || !strcmp(src, "192.0.2.9"));
		assert_int_equal(summary_count(ev), 1);
	}
	json_decref(sums);
	/* once idle (bucket full again, nothing pending), a slot is taken over */
	assert_true(gw_refusals_admit(rl, "198.51.100.1", 400, 10 * S, T0 + 9 * S));
	assert_true(gw_refusals_admit(rl, "198.51.100.1", 400, 10 * S, T0 + 9 * S));
	assert_false(gw_refusals_admit(rl, "198.51.100.1", 400, 10 * S, T0 + 9 * S));
	sums = gw_refusals_flush(rl, T0 + 10 * S, false);
	assert_int_equal(json_array_size(sums), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    json_array_get(sums, 0), "tracegate"), "suppressed"), "source")),
			    "198.51.100.1");
	json_decref(sums);
	/* no address at all is a source too */
	assert_true(gw_refusals_admit(rl, NULL, 400, 20 * S, T0));
	assert_true(gw_refusals_admit(rl, "", 400, 20 * S, T0));
	gw_refusals_free(rl);
}

/* Summaries are records like any other: they chain and verify. */
static void test_summaries_in_log(void **state)
{
	struct gw_refusal_limits l = limits(1, 1, 1, 1, 8, 3);
	struct gw_refusals *rl = NULL;
	struct audit_log *log = NULL;
	struct logdir d;
	char *err = NULL;
	json_t *sums, *ev;
	size_t i, lines, written = 0;

	(void)state;
	logdir_make(&d);
	assert_int_equal(audit_log_open(d.path, NULL, &log, &err), 0);
	assert_int_equal(gw_refusals_new(&l, &rl), 0);
	for (int k = 0; k < 1000; k++) {
		char src[32];

		snprintf(src, sizeof(src), "203.0.113.%d", k % 20);
		if (gw_refusals_admit(rl, src, 404 + k % 2, S, T0 + (uint64_t)k)) {
			ev = refusal("/x", "y", "get", 404);
			assert_int_equal(audit_log_append(log, ev, &err), 0);
			json_decref(ev);
			written++;
		}
	}
	assert_int_equal(written, 1);
	sums = gw_refusals_flush(rl, T0 + S, false);
	assert_int_equal(json_array_size(sums), 3);
	json_array_foreach(sums, i, ev) {
		assert_int_equal(audit_log_append(log, ev, &err), 0);
		written++;
	}
	json_decref(sums);
	audit_log_close(log);
	verify_log(d.path, written);
	if (longest_line(d.path, &lines) > GW_EVENT_MAX_REFUSAL_RECORD)
		fail_msg("a summary over %u bytes", GW_EVENT_MAX_REFUSAL_RECORD);
	gw_refusals_free(rl);
	logdir_remove(&d);
}

static void expect_view(const char *head, const char *m, const char *t, const char *ua)
{
	struct http_head_view v;

	http_head_peek(head, strlen(head), &v);
	assert_int_equal(v.method_len, strlen(m));
	assert_memory_equal(v.method, m, v.method_len);
	assert_int_equal(v.target_len, strlen(t));
	if (v.target_len)
		assert_memory_equal(v.target, t, v.target_len);
	if (!ua) {
		assert_null(v.user_agent);
		return;
	}
	assert_int_equal(v.user_agent_len, strlen(ua));
	assert_memory_equal(v.user_agent, ua, v.user_agent_len);
}

static void test_head_peek(void **state)
{
	struct http_head_view v;
	char *buf;

	(void)state;
	expect_view("GET /x HTTP/1.1\r\nHost: a\r\nuser-AGENT: \t curl/8 \r\n\r\n", "GET", "/x", "curl/8");
	expect_view("G\x01T /a\x7f\xff HTTP/9\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n", "G\x01T",
		    "/a\x7f\xff", "a");
	expect_view("garbage\r\n\r\n", "garbage", "", NULL);
	expect_view("GET /partial", "GET", "/partial", NULL);
	expect_view("GET /x HTTP/1.1\r\n\r\nUser-Agent: in-body\r\n", "GET", "/x", NULL);
	expect_view("GET  /two-spaces HTTP/1.1\n", "GET", "", NULL);
	expect_view("\x16\x03\x01\x02\x00", "\x16\x03\x01\x02\x00", "", NULL);
	expect_view("GET /x HTTP/1.1\r\nUser-Agent:", "GET", "/x", "");
	http_head_peek(NULL, 0, &v);
	assert_null(v.method);
	/* never past len: the bytes after it are not there */
	buf = malloc(10);
	memcpy(buf, "POST /abcd", 10);
	http_head_peek(buf, 10, &v);
	assert_int_equal(v.target_len, 5);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_verb),
		cmocka_unit_test(test_record_shape),
		cmocka_unit_test(test_hostile_records_chain),
		cmocka_unit_test(test_bound_per_source),
		cmocka_unit_test(test_bound_total_and_many_sources),
		cmocka_unit_test(test_bound_sources),
		cmocka_unit_test(test_summaries_in_log),
		cmocka_unit_test(test_head_peek),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
