// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for kube/kube.h's response parsers: TokenReview,
 * SubjectAccessReview and Pod answers, with any body and any HTTP status.
 *
 * and kube/workload.h's: Deployment/ReplicaSet, their lists, selectors.
 *
 * Input: a first line "<which> [status] [words...]" then the body, e.g.
 *   T 201 tracegate,other\n{"apiVersion":"authentication.k8s.io/v1",...}
 * <which> is T (tokenreview; words: audiences), S (subjectaccessreview),
 * P (pod), W (workload; words: kind ns name), R (ReplicaSet list of a
 * Deployment; words: uid), L (pod list; words: max-pods owner-uid,...)
 * or X (a LabelSelector object); any other first byte picks one by its
 * value, a missing status is 200.
 *
 * Beyond "no crash, no leak", each answer is checked against the body
 * read independently: nobody is authenticated or allowed unless the body
 * says so in the expected place, every failure explains itself, a
 * TokenReview's error never repeats the token it echoes, and a parsed pod
 * only ever carries a uid and container ids a cgroup path can hold.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "kube/kube.h"
#include "kube/workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_AUDS 4

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-kube: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* The body read on its own: the object, or NULL. */
static json_t *load(const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static bool str_is(json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static size_t count_in(const char *hay, size_t n, const char *needle)
{
	size_t k = 0, nl = strlen(needle);
	const char *p = hay, *end = hay + n;

	while (nl && p < end && (p = memmem(p, (size_t)(end - p), needle, nl))) {
		k++;
		p += nl;
	}
	return k;
}

/* Messages may name the audiences we asked for: those are ours. */
static bool in_audiences(const char *const *auds, const char *s)
{
	for (; auds && *auds; auds++)
		if (strstr(*auds, s))
			return true;
	return false;
}

static void check_tokenreview(long status, const char *body, size_t len, const char *const *auds)
{
	struct kube_user u = { 0 }, u2 = { 0 };
	char *err = NULL, *err2 = NULL;
	bool cacheable = true;
	json_t *j, *st, *token;
	int r, r2;

	r = kube_tokenreview_parse_ex(status, body, len, auds, &u, &cacheable, &err);
	r2 = kube_tokenreview_parse(status, body, len, auds, &u2, &err2);
	if (r != r2)
		fail("tokenreview: parse and parse_ex disagree", NULL);
	j = load(body, len);
	if (r == 0) {
		bool match = !auds || !auds[0];
		json_t *a;
		size_t i;

		if (!u.username || !*u.username || strlen(u.username) > KUBE_MAX_NAME_LEN)
			fail("tokenreview: authenticated without a bounded user name", NULL);
		if (!u.groups)
			fail("tokenreview: groups is NULL", NULL);
		if (!cacheable)
			fail("tokenreview: an authenticated answer is not cacheable", NULL);
		if (status < 200 || status > 299 || !j)
			fail("tokenreview: authenticated by a non-2xx or non-JSON answer", NULL);
		st = json_object_get(j, "status");
		if (!json_is_true(json_object_get(st, "authenticated")))
			fail("tokenreview: authenticated without status.authenticated true", NULL);
		if (!str_is(json_object_get(j, "kind"), "TokenReview") ||
		    !str_is(json_object_get(j, "apiVersion"), "authentication.k8s.io/v1"))
			fail("tokenreview: authenticated by an answer of another kind", NULL);
		json_array_foreach(json_object_get(st, "audiences"), i, a)
			for (const char *const *w = auds; w && *w && !match; w++)
				match = str_is(a, *w);
		if (!match)
			fail("tokenreview: authenticated without an audience we asked for", NULL);
		if (strcmp(u.username, u2.username))
			fail("tokenreview: parse and parse_ex read different users", NULL);
	} else {
		if (r != -TG_EAUTHN && r != -TG_EUPSTREAM && r != -ENOMEM)
			fail("tokenreview: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("tokenreview: failure without a message", NULL);
		if (r == -TG_EUPSTREAM && cacheable)
			fail("tokenreview: an unexpected answer was marked cacheable", NULL);
		if (u.username || u.groups)
			fail("tokenreview: user written on failure", NULL);
		/* the answer echoes the token: it must never reach a message */
		token = json_object_get(json_object_get(j, "spec"), "token");
		if (err && json_is_string(token) && json_string_length(token) >= 6 &&
		    strlen(json_string_value(token)) == json_string_length(token) &&
		    count_in(body, len, json_string_value(token)) == 1 &&
		    !in_audiences(auds, json_string_value(token)) && strstr(err, json_string_value(token)))
			fail("tokenreview: error message repeats the token", err);
	}
	json_decref(j);
	kube_user_release(&u);
	kube_user_release(&u2);
	free(err);
	free(err2);
}

static void check_sar(long status, const char *body, size_t len)
{
	bool allowed = true, allowed2 = true;
	char *reason = NULL, *err = NULL;
	json_t *j, *st;
	int r;

	r = kube_sar_parse(status, body, len, &allowed, &reason, &err);
	/* ret_reason is optional */
	if (kube_sar_parse(status, body, len, &allowed2, NULL, NULL) != r || allowed2 != allowed)
		fail("sar: the answer depends on whether a reason is asked for", NULL);
	j = load(body, len);
	if (r == 0) {
		if (!reason)
			fail("sar: no reason on success", NULL);
		if (allowed) {
			if (status < 200 || status > 299 || !j)
				fail("sar: allowed by a non-2xx or non-JSON answer", NULL);
			st = json_object_get(j, "status");
			if (!json_is_true(json_object_get(st, "allowed")) ||
			    json_is_true(json_object_get(st, "denied")))
				fail("sar: allowed without status.allowed true and denied not true", NULL);
			if (!str_is(json_object_get(j, "kind"), "SubjectAccessReview") ||
			    !str_is(json_object_get(j, "apiVersion"), "authorization.k8s.io/v1"))
				fail("sar: allowed by an answer of another kind", NULL);
		}
	} else {
		if (allowed)
			fail("sar: allowed on failure", NULL);
		if (r != -TG_EUPSTREAM && r != -ENOMEM)
			fail("sar: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("sar: failure without a message", NULL);
	}
	json_decref(j);
	free(reason);
	free(err);
}

static bool uid_chars(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return false;
	return strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

static void check_pod(long status, const char *body, size_t len)
{
	struct kube_pod p = { 0 };
	char *err = NULL;
	size_t n = 0;
	int r;

	r = kube_pod_parse(status, body, len, &p, &err);
	if (r == 0) {
		if (status < 200 || status > 299)
			fail("pod: parsed from a non-2xx answer", NULL);
		if (!p.namespace || !*p.namespace || !p.name || !*p.name || !p.node || !p.qos ||
		    !p.phase || !p.uid)
			fail("pod: a field is NULL or a name is empty", NULL);
		if (!uid_chars(p.uid))
			fail("pod: uid a cgroup name cannot hold", p.uid);
		if (*p.qos && strcmp(p.qos, "Guaranteed") && strcmp(p.qos, "Burstable") &&
		    strcmp(p.qos, "BestEffort"))
			fail("pod: unknown qos class accepted", p.qos);
		if (!p.container_ids)
			fail("pod: container_ids is NULL", NULL);
		for (char **c = p.container_ids; *c; c++, n++) {
			const char *sep = strstr(*c, "://");

			if (!sep || strchr(sep + 3, '/') || strchr(sep + 3, '.') || !sep[3])
				fail("pod: container id is not <runtime>://<id>", *c);
		}
		if (n > KUBE_MAX_CONTAINERS)
			fail("pod: more containers than the limit", NULL);
	} else {
		if (status == 404 && r != -TG_ENOTFOUND)
			fail("pod: 404 is not TG_ENOTFOUND", tg_strerror(r));
		if (r != -TG_ENOTFOUND && r != -TG_EUPSTREAM && r != -ENOMEM)
			fail("pod: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("pod: failure without a message", NULL);
		if (p.namespace || p.name || p.uid || p.container_ids)
			fail("pod: fields written on failure", NULL);
	}
	kube_pod_release(&p);
	free(err);
}

/* A list request built from a parsed workload: one path, the selector
 * percent-encoded into the one query parameter, nothing injected. */
static void check_list_request(const struct kube_workload *w)
{
	struct kube_request rq = { 0 };
	const char *q;
	int r;

	r = kube_workload_owns(w->kind) ? kube_owned_list_request(w, &rq)
					: kube_pod_list_request(w, &rq);
	if (r < 0) {
		if (r != -ENOMEM && r != -EINVAL && r != -TG_ELIMIT)
			fail("workload: list request: unexpected error code", tg_strerror(r));
		return;
	}
	q = strchr(rq.path, '?');
	if (!w->selector && q)
		fail("workload: a list without a selector has a query", rq.path);
	if (w->selector && (!q || strncmp(q, "?labelSelector=", 15) || strchr(q + 1, '?') ||
			    strchr(q, '&') || strchr(q, '#')))
		fail("workload: list request query is not one labelSelector", rq.path);
	for (const char *p = rq.path; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			fail("workload: list request path has a raw byte", rq.path);
	kube_request_release(&rq);
}

static void check_workload(long status, const char *body, size_t len, const char *kind,
			   const char *ns, const char *name)
{
	enum kube_workload_kind k = KUBE_WORKLOAD_DEPLOYMENT;
	struct kube_workload w = { 0 };
	char *err = NULL;
	int r;

	if (kind && kube_workload_kind_from_name(kind, strlen(kind), &k) < 0)
		k = KUBE_WORKLOAD_REPLICASET;
	ns = ns ? ns : "team-a";
	name = name ? name : "web";
	r = kube_workload_parse(k, status, body, len, ns, name, &w, &err);
	if (r == 0) {
		if (status < 200 || status > 299)
			fail("workload: parsed from a non-2xx answer", NULL);
		if (w.kind != k || !w.namespace || strcmp(w.namespace, ns) || !w.name ||
		    strcmp(w.name, name))
			fail("workload: not the one asked for", NULL);
		if (!w.uid || !*w.uid || (k != KUBE_WORKLOAD_CRONJOB && !w.selector) ||
		    (w.selector && (!*w.selector || strlen(w.selector) > KUBE_MAX_SELECTOR_BYTES)))
			fail("workload: no uid, or an empty or unbounded selector", w.selector);
		check_list_request(&w);
	} else {
		if (status == 404 && r != -TG_ENOTFOUND)
			fail("workload: 404 is not TG_ENOTFOUND", tg_strerror(r));
		if (r != -TG_ENOTFOUND && r != -TG_EUPSTREAM && r != -ENOMEM && r != -TG_ELIMIT)
			fail("workload: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("workload: failure without a message", NULL);
		if (w.namespace || w.name || w.uid || w.selector)
			fail("workload: fields written on failure", NULL);
	}
	kube_workload_release(&w);
	free(err);
}

static void check_rs_list(long status, const char *body, size_t len, const char *uid)
{
	struct kube_workload w = { .kind = KUBE_WORKLOAD_DEPLOYMENT, .namespace = (char *)"team-a",
				   .name = (char *)"web",
				   .uid = (char *)(uid ? uid : "5e7a0000-0000-4000-8000-0000000000d1"),
				   .selector = (char *)"app=web" };
	char **uids = NULL, *err = NULL;
	size_t n = 0;
	int r;

	r = kube_owned_list_owned(&w, status, body, len, &uids, &err);
	if (r == 0) {
		if (!uids)
			fail("replicasets: no list on success", NULL);
		for (; uids[n]; n++)
			if (!*uids[n])
				fail("replicasets: an empty uid", NULL);
		if (n > KUBE_MAX_OWNED)
			fail("replicasets: more than the limit", NULL);
		for (size_t i = 0; uids[i]; i++)
			free(uids[i]);
		free(uids);
	} else {
		if (r != -TG_EUPSTREAM && r != -ENOMEM && r != -TG_ELIMIT && r != -TG_ENOTFOUND)
			fail("replicasets: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("replicasets: failure without a message", NULL);
	}
	free(err);
}

static void check_pod_list(long status, const char *body, size_t len, const char *max,
			   char *owners)
{
	struct kube_workload w = { .kind = KUBE_WORKLOAD_REPLICASET, .namespace = (char *)"team-a",
				   .name = (char *)"web-7c9f8b6d5",
				   .uid = (char *)"5e7a0000-0000-4000-8000-0000000000a1",
				   .selector = (char *)"app=web" };
	const char *uids[FUZZ_MAX_AUDS + 1] = { 0 };
	struct kube_pod *pods = NULL;
	size_t max_pods = max ? strtoul(max, NULL, 10) % 100 : KUBE_DEFAULT_MAX_PODS, count = 0, k = 0;
	char *err = NULL, *save = NULL;
	int r;

	for (char *a = owners ? strtok_r(owners, ",", &save) : NULL; a && k < FUZZ_MAX_AUDS;
	     a = strtok_r(NULL, ",", &save))
		uids[k++] = a;
	if (!k)
		uids[0] = w.uid;
	r = kube_pod_list_owned(&w, status, body, len, uids, max_pods, &pods, &count, &err);
	if (r == 0) {
		if (count > max_pods || (count && !pods))
			fail("pod list: more pods than max_pods", NULL);
		for (size_t i = 0; i < count; i++) {
			if (!pods[i].namespace || strcmp(pods[i].namespace, w.namespace))
				fail("pod list: a pod of another namespace", pods[i].namespace);
			if (!pods[i].phase || strcmp(pods[i].phase, "Running"))
				fail("pod list: a pod that is not Running", pods[i].name);
			if (!pods[i].uid || !uid_chars(pods[i].uid))
				fail("pod list: uid a cgroup name cannot hold", pods[i].uid);
			if (i && strcmp(pods[i - 1].name, pods[i].name) > 0)
				fail("pod list: not sorted by name", pods[i].name);
		}
		kube_pods_free(pods, count);
	} else {
		if (r == -TG_ELIMIT && count <= max_pods)
			fail("pod list: over the limit with a count within it", NULL);
		if (r != -TG_EUPSTREAM && r != -ENOMEM && r != -TG_ELIMIT && r != -TG_ENOTFOUND)
			fail("pod list: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && !err)
			fail("pod list: failure without a message", NULL);
	}
	free(err);
}

static void check_selector(const char *body, size_t len)
{
	json_t *sel = json_loadb(body, len, 0, NULL);
	char *out = NULL, *err = NULL;
	int r;

	r = kube_label_selector(sel, "spec.selector", &out, &err);
	if (r == 0) {
		if (!out || !*out || strlen(out) > KUBE_MAX_SELECTOR_BYTES)
			fail("selector: empty or unbounded", out);
	} else if (r != -ENOMEM && !err) {
		fail("selector: refusal without a message", tg_strerror(r));
	}
	free(out);
	free(err);
	json_decref(sel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl, *body;
	char head[256], *auds[FUZZ_MAX_AUDS + 1] = { 0 }, *words[4] = { 0 }, *save = NULL, *tok;
	long status = 200;
	size_t hl, len, k = 0, nw = 0;
	char which;

	if (size == 0)
		return 0;
	nl = memchr(in, '\n', size);
	hl = nl ? (size_t)(nl - in) : size;
	body = nl ? nl + 1 : in + size;
	len = size - (size_t)(body - in);
	if (hl >= sizeof(head))
		hl = sizeof(head) - 1;
	memcpy(head, in, hl);
	head[hl] = '\0';
	which = head[0];
	if (!which || !strchr("TSPWRLX", which))
		which = "TSPWRLX"[(unsigned char)which % 7];
	tok = strtok_r(head + 1, " ", &save);
	if (tok) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (*end == '\0')
			status = v;
		tok = strtok_r(NULL, " ", &save);
	}
	for (; tok && nw < 4; tok = strtok_r(NULL, " ", &save))
		words[nw++] = tok;
	if (which == 'T' && words[0])
		for (char *a = strtok_r(words[0], ",", &save); a && k < FUZZ_MAX_AUDS;
		     a = strtok_r(NULL, ",", &save))
			auds[k++] = a;

	/* a private copy, so ASan sees any read past len */
	{
		char *b = malloc(len ? len : 1);

		if (!b)
			return 0;
		memcpy(b, body, len);
		switch (which) {
		case 'T':
			check_tokenreview(status, b, len, k ? (const char *const *)auds : NULL);
			break;
		case 'S':
			check_sar(status, b, len);
			break;
		case 'W':
			check_workload(status, b, len, words[0], words[1], words[2]);
			break;
		case 'R':
			check_rs_list(status, b, len, words[0]);
			break;
		case 'L':
			check_pod_list(status, b, len, words[0], words[1]);
			break;
		case 'X':
			check_selector(b, len);
			break;
		default:
			check_pod(status, b, len);
			break;
		}
		free(b);
	}
	return 0;
}
