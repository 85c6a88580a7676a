// SPDX-License-Identifier: Apache-2.0
/*
 * kube/kube.c against the real kubesim binary over real TLS, with the
 * fixtures of tests/kubesim/fixtures and the manifests of deploy:
 * a wrong manifest or a wrong parser fails here.
 *
 * Runs from the top of the tree (tests/run does); kubesim is
 * build/tests/kubesim unless TG_KUBESIM names another; certificates come
 * from tests/certs.sh into build/certs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/errors.h"
#include "lib/util.h"
#include "kube/cache.h"
#include "kube/kube.h"

#define SA_TOKEN "tg-sa-gateway-1c2d3e4f5a6b7c8d"
#define UNBOUND_SA_TOKEN "tg-sa-unbound-9f8e7d6c5b4a3928"
#define ALICE "tg-alice-5f0c2a9e4b7d41c8"
#define ALICE_API "tg-alice-api-8b9a0c1d2e3f4a5b"
#define ALICE_OTHER "tg-alice-other-audience-6a5b4c3d"
#define BOB "tg-bob-0e8b7c6d5a4f4e3d"
#define CAROL "tg-carol-3a2b1c0d9e8f4a7b"
#define OLGA "tg-olga-6b1c2d3e4f5a6b7c"
#define ADMIN "tg-admin-7e6d5c4b3a294817"

#define CERTS "build/certs"
#define FIXTURES "tests/kubesim/fixtures"

static pid_t sim_pid = -1;
static char workdir[] = "/tmp/tg-test-kubesim.XXXXXX";
static char server[64];
static char token_path[256];
static struct kube_client *client;
static const char *const auds[] = { "tracegate", NULL };

static void write_token(const char *t)
{
	assert_int_equal(write_file_atomic(token_path, t, strlen(t), 0600), 0);
}

static int start_kubesim(void **state)
{
	const char *bin = getenv("TG_KUBESIM") ? getenv("TG_KUBESIM") : "build/tests/kubesim";
	char portfile[256], logfile[256];
	struct kube_client_opts o = { .sz = sizeof(o) };
	char *err = NULL;

	if (access(bin, X_OK) < 0) {
		fprintf(stderr, "kubesim binary \"%s\" missing: make build/tests/kubesim\n", bin);
		return -1;
	}
	if (system("tests/certs.sh " CERTS " >/dev/null 2>&1") != 0) {
		fprintf(stderr, "tests/certs.sh failed\n");
		return -1;
	}
	if (!mkdtemp(workdir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", workdir);
	snprintf(logfile, sizeof(logfile), "%s/kubesim.log", workdir);
	snprintf(token_path, sizeof(token_path), "%s/sa.token", workdir);
	sim_pid = fork();
	if (sim_pid < 0)
		return -1;
	if (sim_pid == 0) {
		execl(bin, bin, "--listen", "127.0.0.1:0", "--cert", CERTS "/kubesim.crt", "--key",
		      CERTS "/kubesim.key", "--tokens", FIXTURES "/tokens.yaml", "--objects", FIXTURES "/objects",
		      "--rbac", FIXTURES "/rbac", "--rbac", "deploy", "--log", logfile, "--port-file",
		      portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		char *text = NULL;
		uint64_t port;
		int status;

		if (read_file(portfile, 64, &text, NULL) == 0) {
			text[strcspn(text, "\n")] = '\0';
			if (parse_u64(text, &port) == 0)
				snprintf(server, sizeof(server), "https://127.0.0.1:%u", (unsigned)port);
			free(text);
			break;
		}
		if (waitpid(sim_pid, &status, WNOHANG) == sim_pid) {
			fprintf(stderr, "kubesim exited early (status %d)\n", status);
			sim_pid = -1;
			return -1;
		}
		usleep(50000);
	}
	if (!server[0])
		return -1;
	write_token(SA_TOKEN);
	o.server = server;
	o.ca_file = CERTS "/ca.crt";
	o.token_file = token_path;
	o.timeout_ms = 5000;
	if (kube_client_new(&o, &client, &err) < 0) {
		fprintf(stderr, "client: %s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

static int stop_kubesim(void **state)
{
	char cmd[300];

	kube_client_free(client);
	if (sim_pid > 0) {
		int status;

		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, &status, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (workdir[strlen(workdir) - 1] != 'X' && system(cmd) != 0)
		return -1;
	return 0;
}

/* One call as the gateway's SA (token file as given). */
static long call(struct kube_request *r, struct buf *body)
{
	long status = 0;
	char *err = NULL;
	int ret = kube_client_do(client, r, &status, body, &err);

	if (ret < 0)
		fail_msg("kube_client_do: %d %s", ret, err ? err : "");
	free(err);
	return status;
}

static int tokenreview(const char *token, struct kube_user *u, char **err)
{
	struct kube_request r = { 0 };
	struct buf body = BUF_INIT(0);
	long st;
	int ret;

	assert_int_equal(kube_tokenreview_request(token, auds, &r), 0);
	st = call(&r, &body);
	ret = kube_tokenreview_parse(st, body.s, body.len, auds, u, err);
	kube_request_release(&r);
	buf_release(&body);
	return ret;
}

static void test_tokenreview(void **state)
{
	struct kube_user u = { 0 };
	char *err = NULL;
	bool has_auth = false;

	assert_int_equal(tokenreview(ALICE, &u, &err), 0);
	assert_string_equal(u.username, "alice");
	assert_string_equal(u.uid, "9d3c1f0e-a11c-4e00-8000-00000000a11c");
	assert_string_equal(u.groups[0], "team-a-devs");
	for (char **g = u.groups; *g; g++)
		has_auth |= !strcmp(*g, "system:authenticated");
	assert_true(has_auth);
	kube_user_release(&u);

	/* unknown token, token for another audience, token for the API
	 * server's own audience only: all not authenticated */
	assert_int_equal(tokenreview("no-such-token", &u, &err), -TG_EAUTHN);
	assert_int_equal(tokenreview(ALICE_OTHER, &u, &err), -TG_EAUTHN);
	assert_non_null(strstr(err, "some-other-service"));
	assert_int_equal(tokenreview(ALICE_API, &u, &err), -TG_EAUTHN);
	assert_null(u.username);
	free(err);
}

static int sar(const struct kube_user *u, const char *ns, const char *verb, const char *group,
	       const char *resource, const char *name, bool *allowed, char **reason)
{
	struct kube_resource_attrs a = { .namespace = ns, .verb = verb, .group = group, .resource = resource,
					 .name = name };
	struct kube_request r = { 0 };
	struct buf body = BUF_INIT(0);
	char *err = NULL;
	long st;
	int ret;

	assert_int_equal(kube_sar_request(u, &a, &r), 0);
	st = call(&r, &body);
	ret = kube_sar_parse(st, body.s, body.len, allowed, reason, &err);
	if (ret < 0)
		fprintf(stderr, "sar: %s\n", err);
	free(err);
	kube_request_release(&r);
	buf_release(&body);
	return ret;
}

static void test_sar_by_manifests(void **state)
{
	struct kube_user alice = { 0 }, bob = { 0 }, carol = { 0 };
	char *err = NULL, *reason = NULL;
	bool ok;

	/* identities exactly as TokenReview returned them */
	assert_int_equal(tokenreview(ALICE, &alice, &err), 0);
	assert_int_equal(tokenreview(BOB, &bob, &err), 0);
	assert_int_equal(tokenreview(CAROL, &carol, &err), 0);

	assert_int_equal(sar(&alice, "team-a", "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_true(ok);
	assert_string_equal(reason, "RBAC: allowed by RoleBinding \"tracegate-tracer/team-a\" of ClusterRole "
				    "\"tracegate-tracer\" to Group \"team-a-devs\"");
	assert_int_equal(sar(&alice, "team-a", "get", "", "pods", "web-a", &ok, &reason), 0);
	assert_true(ok);
	assert_int_equal(sar(&alice, "team-b", "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_false(ok);
	assert_int_equal(sar(&alice, "team-b", "get", "", "pods", "web-b", &ok, &reason), 0);
	assert_false(ok);
	/* not more than the role says */
	assert_int_equal(sar(&alice, "team-a", "delete", "", "pods", "web-a", &ok, &reason), 0);
	assert_false(ok);
	assert_int_equal(sar(&alice, NULL, "create", "tracegate.dev", "nodetraces", "node-1", &ok, &reason), 0);
	assert_false(ok);
	/* cluster-wide (no namespace) is not granted by a RoleBinding */
	assert_int_equal(sar(&alice, NULL, "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_false(ok);

	assert_int_equal(sar(&bob, "team-b", "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_true(ok);
	assert_int_equal(sar(&bob, "team-a", "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_false(ok);
	assert_int_equal(sar(&carol, "team-a", "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
	assert_false(ok);

	/* node operators: create nodetraces named for any node, cluster-wide,
	 * through the ClusterRole tracegate-node-tracer; nothing of traces */
	{
		struct kube_user olga = { 0 };

		assert_int_equal(tokenreview(OLGA, &olga, &err), 0);
		assert_int_equal(sar(&olga, NULL, "create", "tracegate.dev", "nodetraces", "node-1", &ok, &reason), 0);
		assert_true(ok);
		assert_non_null(strstr(reason, "ClusterRoleBinding \"tracegate-node-tracer-operators\" of ClusterRole "
					       "\"tracegate-node-tracer\""));
		assert_int_equal(sar(&olga, NULL, "create", "tracegate.dev", "traces", NULL, &ok, &reason), 0);
		assert_false(ok);
		assert_int_equal(sar(&olga, "team-a", "get", "", "pods", "web-a", &ok, &reason), 0);
		assert_false(ok);
		kube_user_release(&olga);
	}

	kube_user_release(&alice);
	kube_user_release(&bob);
	kube_user_release(&carol);
	free(reason);
	free(err);
}

static int get_pod(const char *ns, const char *name, struct kube_pod *p, char **err)
{
	struct kube_request r = { 0 };
	struct buf body = BUF_INIT(0);
	long st;
	int ret;

	assert_int_equal(kube_pod_get_request(ns, name, &r), 0);
	st = call(&r, &body);
	ret = kube_pod_parse(st, body.s, body.len, p, err);
	kube_request_release(&r);
	buf_release(&body);
	return ret;
}

static void test_pods(void **state)
{
	struct kube_pod p = { 0 };
	char *err = NULL;

	assert_int_equal(get_pod("team-a", "web-a", &p, &err), 0);
	assert_string_equal(p.uid, "6c0f4a1e-2b3d-4c5e-8f70-00000000a001");
	assert_string_equal(p.node, "node-1");
	assert_string_equal(p.qos, "Burstable");
	assert_string_equal(p.phase, "Running");
	assert_true(str_has_prefix(p.container_ids[0], "containerd://"));
	assert_int_equal(strlen(p.container_ids[0]), strlen("containerd://") + 64);
	kube_pod_release(&p);

	assert_int_equal(get_pod("team-b", "web-b", &p, &err), 0);
	assert_string_equal(p.uid, "6c0f4a1e-2b3d-4c5e-8f70-00000000b001");
	assert_string_equal(p.qos, "BestEffort");
	kube_pod_release(&p);

	assert_int_equal(get_pod("kube-system", "etcd-node-1", &p, &err), 0);
	assert_string_equal(p.uid, "2f1e0d9c8b7a69584736251403f2e1d0");
	kube_pod_release(&p);

	assert_int_equal(get_pod("team-a", "nope", &p, &err), -TG_ENOTFOUND);
	assert_non_null(strstr(err, "pods \"nope\" not found"));
	/* web-b exists, but not in team-a */
	assert_int_equal(get_pod("team-a", "web-b", &p, &err), -TG_ENOTFOUND);
	free(err);
}

static void test_refused_clients(void **state)
{
	struct kube_request r = { 0 };
	struct kube_user u = { 0 };
	struct kube_pod p = { 0 };
	char *err = NULL;

	/* the token file is read on every request: rotate it to a token
	 * kubesim does not know, and the same client is refused (401) */
	write_token("not-a-valid-token");
	assert_int_equal(tokenreview(ALICE, &u, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "401"));
	assert_int_equal(get_pod("team-a", "web-a", &p, &err), -TG_EUPSTREAM);

	/* a user token is not valid for the API server's own audience */
	write_token(ALICE);
	assert_int_equal(get_pod("team-a", "web-a", &p, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "Unauthorized"));

	/* a ServiceAccount without deploy' grants: 403 */
	write_token(UNBOUND_SA_TOKEN);
	assert_int_equal(tokenreview(ALICE, &u, &err), -TG_EUPSTREAM);
	assert_non_null(strstr(err, "403"));
	assert_non_null(strstr(err, "tokenreviews"));
	{
		bool ok = true;
		char *reason = NULL;
		char *g[] = { "team-a-devs", NULL };
		struct kube_user alice = { .username = "alice", .groups = g };
		struct kube_resource_attrs a = { .namespace = "team-a", .verb = "create", .group = "tracegate.dev",
						 .resource = "traces" };
		struct buf body = BUF_INIT(0);
		long st;

		assert_int_equal(kube_sar_request(&alice, &a, &r), 0);
		st = call(&r, &body);
		assert_int_equal(st, 403);
		assert_int_equal(kube_sar_parse(st, body.s, body.len, &ok, &reason, &err), -TG_EUPSTREAM);
		assert_false(ok);
		kube_request_release(&r);
		buf_release(&body);
		free(reason);
	}

	/* an empty token file: nothing is sent */
	write_token("");
	{
		struct buf body = BUF_INIT(0);
		long st = 0;

		assert_int_equal(kube_pod_get_request("team-a", "web-a", &r), 0);
		assert_int_equal(kube_client_do(client, &r, &st, &body, &err), -TG_EUPSTREAM);
		assert_non_null(strstr(err, "empty"));
		kube_request_release(&r);
		buf_release(&body);
	}

	/* back to the gateway's token: served again */
	write_token(SA_TOKEN);
	assert_int_equal(get_pod("team-a", "web-a", &p, &err), 0);
	kube_pod_release(&p);
	free(err);
}

static void test_tls_verified(void **state)
{
	struct kube_client_opts o = { .sz = sizeof(o), .server = server, .token_file = token_path };
	struct kube_client *c = NULL;
	struct kube_request r = { 0 };
	struct buf body = BUF_INIT(0);
	char *err = NULL;
	long st = 0;

	/* a CA that did not sign kubesim's certificate */
	o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	if (access(o.ca_file, R_OK) < 0)
		o.ca_file = CERTS "/gateway.crt";
	assert_int_equal(kube_client_new(&o, &c, &err), 0);
	assert_int_equal(kube_pod_get_request("team-a", "web-a", &r), 0);
	assert_int_equal(kube_client_do(c, &r, &st, &body, &err), -TG_EUPSTREAM);
	assert_int_equal(st, 0);
	kube_client_free(c);
	c = NULL;

	/* the right CA but a name the certificate does not carry */
	{
		char other[80];
		const char *port = strrchr(server, ':');

		snprintf(other, sizeof(other), "https://127.0.0.2%s", port);
		o.server = other;
		o.ca_file = CERTS "/ca.crt";
		assert_int_equal(kube_client_new(&o, &c, &err), 0);
		assert_int_equal(kube_client_do(c, &r, &st, &body, &err), -TG_EUPSTREAM);
		kube_client_free(c);
	}
	kube_request_release(&r);
	buf_release(&body);
	free(err);
}

static void test_with_caches(void **state)
{
	struct kube_token_cache *tc = NULL;
	struct kube_sar_cache *sc = NULL;
	struct kube_request r = { 0 };
	struct kube_user u = { 0 }, cu = { 0 };
	struct buf body = BUF_INIT(0);
	char *err = NULL, *reason = NULL;
	bool authn = false, ok = false;
	long st;

	assert_int_equal(kube_token_cache_new(NULL, &tc), 0);
	assert_int_equal(kube_sar_cache_new(NULL, &sc), 0);
	assert_int_equal(kube_tokenreview_request(ALICE, auds, &r), 0);
	st = call(&r, &body);
	kube_request_release(&r);
	assert_int_equal(kube_token_cache_parse_store(tc, ALICE, auds, st, body.s, body.len, &u, &err), 0);
	assert_int_equal(kube_token_cache_lookup(tc, ALICE, auds, &authn, &cu), 1);
	assert_true(authn);
	assert_string_equal(cu.username, "alice");
	{
		struct kube_resource_attrs a = { .namespace = "team-a", .verb = "create", .group = "tracegate.dev",
						 .resource = "traces" };

		assert_int_equal(kube_sar_request(&cu, &a, &r), 0);
		st = call(&r, &body);
		kube_request_release(&r);
		assert_int_equal(kube_sar_cache_parse_store(sc, &cu, &a, st, body.s, body.len, &ok, &reason, &err), 0);
		assert_true(ok);
		ok = false;
		assert_int_equal(kube_sar_cache_lookup(sc, &cu, &a, &ok, &reason), 1);
		assert_true(ok);
		assert_non_null(strstr(reason, "tracegate-tracer/team-a"));
	}
	kube_user_release(&u);
	kube_user_release(&cu);
	buf_release(&body);
	free(reason);
	free(err);
	kube_token_cache_free(tc);
	kube_sar_cache_free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenreview),
		cmocka_unit_test(test_sar_by_manifests),
		cmocka_unit_test(test_pods),
		cmocka_unit_test(test_refused_clients),
		cmocka_unit_test(test_tls_verified),
		cmocka_unit_test(test_with_caches),
	};
	return cmocka_run_group_tests(tests, start_kubesim, stop_kubesim);
}
