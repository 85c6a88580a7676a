// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the runner's session request (wire/session.h):
 * the body of POST /v1/sessions, which arrives from the network (behind
 * mTLS, but a compromised or buggy gateway is still untrusted input), and
 * the resolution of its pods to cgroup directories.
 *
 * The pods are resolved under a private directory laid out as the
 * kubelet lays out pod cgroups (a few pods of each layout and QoS class),
 * standing in for the cgroup2 mount, so that a uid or qos class that
 * walks out of the tree would be seen: every resolved directory must be
 * one of the pod directories made here.
 *
 * Properties beyond "no crash, no leak": a decoded request respects every
 * SESSION_* limit, has pods or a named node scope (never both), printable
 * names without '/', a duration capped by limits.maxDuration; it encodes,
 * and the text decodes to an equal request (and encodes to the same
 * text); a refusal has a message and leaves the request untouched.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/errors.h"
#include <sys/socket.h>
#include <unistd.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "runner/detached.h"
#include "runner/scope.h"
#include "runner/session.h"
#include "wire/runner-path.h"
#include "wire/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ROOT "/tg-fuzz"

static char mnt[] = "/tmp/tg-fuzz-session-XXXXXX";
static bool have_tree;

/* Pod directories, relative to mnt: the only answers resolution may give. */
static const char *const pod_dirs[] = {
	FUZZ_ROOT "/kubepods/burstable/pod6c0f4a1e-2b3d-4c5e-8f70-00000000a001",
	FUZZ_ROOT "/kubepods/besteffort/pod6c0f4a1e-2b3d-4c5e-8f70-00000000b002",
	FUZZ_ROOT "/kubepods/pod6c0f4a1e-2b3d-4c5e-8f70-00000000c003",
	FUZZ_ROOT "/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod6c0f4a1e_2b3d_4c5e_8f70_00000000d004.slice",
	FUZZ_ROOT "/kubepods.slice/kubepods-pod8a2b1c3d4e5f60718293a4b5c6d7e8f9.slice",
};

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-runner-session: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static int mkdir_p(const char *path)
{
	char p[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	(void)remove(p);
	return 0;
}

static void remove_tree(void)
{
	(void)nftw(mnt, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_tree(void)
{
	char p[PATH_MAX];

	if (!mkdtemp(mnt))
		return;
	atexit(remove_tree);
	for (size_t i = 0; i < sizeof(pod_dirs) / sizeof(pod_dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", mnt, pod_dirs[i]);
		if (mkdir_p(p) < 0)
			return;
	}
	have_tree = true;
}

static bool printable_name(const char *s, size_t max, bool required)
{
	size_t n;

	if (!s)
		return !required;
	n = strlen(s);
	if ((required && !n) || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '/' ||
		    s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static void check_resolve(const struct session_request *req)
{
	struct session_config cfg = { .node = "node-fuzz", .cgroup2_mnt = mnt,
				      .cgroup_root = FUZZ_ROOT };
	struct scope sc = { 0 };
	char *err = NULL;
	int r;

	r = session_resolve(req, &cfg, &sc, &err);
	if (r < 0 && !err && r != -ENOMEM)
		fail("resolve: refusal without a message", tg_strerror(r));
	for (size_t i = 0; i < sc.n; i++) {
		const char *path = sc.targets[i].path;
		bool known = false;

		for (size_t k = 0; k < sizeof(pod_dirs) / sizeof(pod_dirs[0]) && !known; k++)
			known = path && !strncmp(path, mnt, strlen(mnt)) &&
				!strcmp(path + strlen(mnt), pod_dirs[k]);
		if (!known)
			fail("resolve: a pod resolved to a directory that is no pod's", path);
	}
	/* a pod named twice is one target; a node-wide session has none */
	if (r == 0 && (req->node_scope ? sc.n != 0 : sc.n == 0 || sc.n > req->npods))
		fail("resolve: success without targets, or with more targets than pods", NULL);
	scope_release(&sc);
	free(err);
}

/*
 * "T" METHOD-LETTER TARGET: a request under /v1/detached (runner/detached.h)
 * that the runner's router (wire/runner-path.h, as cmd-serve.c's read_cb)
 * passes, answered by an empty table: every target gets one answer,
 * nothing leaks.  The router's refusals are fuzz-wire-runner-path's.
 */
static void check_detached_request(const char *in, size_t len)
{
	static struct event_base *base;
	static struct det_table *t;
	static const char *const methods[] = { "GET", "DELETE", "POST", "PUT" };
	char target[256], *err = NULL;
	struct bufferevent *bev;
	struct wire_rpath rp;
	int sp[2];

	if (len < 1 || len - 1 >= sizeof(target) - 12)
		return;
	if (!base && (!(base = event_base_new()) || det_table_new(base, "node-1", &t) < 0))
		fail("detached: no table", NULL);
	memcpy(target, "/v1/detached", 12);
	memcpy(target + 12, in + 1, len - 1);
	target[len + 11] = '\0';
	if (strlen(target) != len + 11)
		return;   /* a NUL: the request head parser never passes one */
	if (wire_rpath_decode(target, &rp, &err) < 0) {
		free(err);
		return;
	}
	if (rp.kind != WIRE_RPATH_DETACHED_LIST && rp.kind != WIRE_RPATH_DETACHED && rp.kind != WIRE_RPATH_DETACHED_LOG &&
	    rp.kind != WIRE_RPATH_DETACHED_UNCLAIMED && rp.kind != WIRE_RPATH_DETACHED_CLAIM)
		fail("detached: a target under /v1/detached routed elsewhere", target);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return;
	bev = bufferevent_socket_new(base, sp[0], BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(sp[0]);
		close(sp[1]);
		return;
	}
	det_request(t, methods[(unsigned char)in[0] % 4], &rp, bev);
	event_base_loop(base, EVLOOP_NONBLOCK);
	{
		char head[16] = "";

		if (read(sp[1], head, sizeof(head) - 1) <= 0 || strncmp(head, "HTTP/1.1 ", 9))
			fail("detached: a request without an answer", target);
	}
	close(sp[1]);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* What decodes encodes (wire/session.h) and decodes again to the same. */
static void check_round_trip(const struct session_request *req)
{
	struct session_request again;
	char *text = NULL, *text2 = NULL, *err = NULL;
	int r = session_request_encode(req, &text);

	if (r == -ENOMEM)
		return;
	if (r < 0 || !text)
		fail("encode: a decoded request does not encode", tg_strerror(r));
	r = session_request_decode(text, strlen(text), &again, &err);
	if (r == -ENOMEM) {
		free(text);
		return;
	}
	if (r < 0)
		fail("encode: its text does not decode", err);
	if (!session_request_equal(req, &again))
		fail("encode: decode(encode(r)) differs from r", text);
	if (session_request_encode(&again, &text2) == 0 && strcmp(text, text2))
		fail("encode: the text of a round trip changed", text2);
	session_request_release(&again);
	free(text);
	free(text2);
}

/* The body's "detached" member, kept for listing. */
static void check_detached_meta(const struct session_request *req)
{
	struct det_meta *m = NULL;
	int r = det_meta_new(req, &m);

	if (r != -ENOMEM && r != (req->detached ? 1 : 0))
		fail("detached: kept when it should not be, or not kept", NULL);
	if (r == 1 && !m)
		fail("detached: accepted without metadata", NULL);
	if (req->detached && req->dry_run)
		fail("detached: a detached dry run decoded", NULL);
	det_meta_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_request req, blank;
	char *err = NULL, *body, *pods;
	int r;

	if (size && data[0] == 'T') {
		check_detached_request((const char *)data, size);
		return 0;
	}
	if (!have_tree && mnt[sizeof(mnt) - 2] == 'X')
		make_tree();
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	memset(&req, 0xa5, sizeof(req));
	blank = req;
	r = session_request_decode(body, size, &req, &err);
	if (r < 0) {
		if (r != -EINVAL && r != -E2BIG && r != -ENOMEM)
			fail("decode: unexpected error code", tg_strerror(r));
		if (r != -ENOMEM && (!err || !*err))
			fail("decode: refusal without a message", NULL);
		if (memcmp(&req, &blank, sizeof(req)))
			fail("decode: request written on failure", err);
		free(err);
		free(body);
		return 0;
	}
	if (err)
		fail("decode: success with a message", err);
	if (!printable_name(req.trace, SESSION_MAX_TRACE_ID, true))
		fail("decode: trace id not a bounded printable name", req.trace);
	if (!req.program || req.program_len != strlen(req.program) || !req.program_len)
		fail("decode: program missing or its length wrong", NULL);
	if (!req.canonical || !*req.canonical)
		fail("decode: no canonical form, yet accepted", NULL);
	if (req.nparams > SESSION_MAX_PARAMS || (req.nparams && !req.params))
		fail("decode: params beyond the limit", NULL);
	for (size_t i = 0; i < req.nparams; i++)
		if (!req.params[i] || strlen(req.params[i]) > SESSION_MAX_PARAM_LEN)
			fail("decode: a param beyond the limit", NULL);
	/* pods, or an explicit node scope: never both, never neither */
	if (req.node_scope ? (req.npods || !printable_name(req.node, SESSION_MAX_NAME, true))
			   : (!req.npods || req.npods > SESSION_MAX_PODS || !req.pods || req.node))
		fail("decode: the scope is neither pods nor a named node, or both", NULL);
	for (size_t i = 0; i < req.npods; i++) {
		const struct session_pod *p = &req.pods[i];

		if (!printable_name(p->ns, SESSION_MAX_NAME, true) ||
		    !printable_name(p->name, SESSION_MAX_NAME, true) ||
		    !printable_name(p->uid, 128, true) || !printable_name(p->qos, 32, false))
			fail("decode: a pod field is not a bounded printable name", NULL);
		if (!p->container != !p->container_id)
			fail("decode: a container without its ID, or an ID without its name", NULL);
	}
	if (req.duration_s > SESSION_MAX_DURATION_S)
		fail("decode: duration beyond the limit", NULL);
	if (req.limits.max_duration_s &&
	    (session_request_duration(&req) == 0 || session_request_duration(&req) > req.limits.max_duration_s))
		fail("decode: duration not capped by limits.maxDuration", NULL);
	if (req.limits.cpu_budget < 0 || req.limits.cpu_budget > 1024)
		fail("decode: limits out of range", NULL);
	if (req.owner && (!req.owner->ns || !req.owner->user || !*req.owner->user))
		fail("decode: an owner without a user", NULL);
	pods = session_request_pods(&req);
	if (!pods)
		fail("decode: no pod list", NULL);
	free(pods);
	check_round_trip(&req);
	check_detached_meta(&req);
	if (have_tree)
		check_resolve(&req);
	session_request_release(&req);
	free(body);
	return 0;
}
