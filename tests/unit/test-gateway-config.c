// SPDX-License-Identifier: Apache-2.0
/* gateway/config.c: the JSON configuration file. */
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
#include "gateway/config.h"
#include "lib/errors.h"

#define GOOD                                                                             \
	"{\"listen\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"gateway.crt\",\"key\":\"/abs/gw.key\"}," \
	"\"apiServer\":{\"server\":\"https://127.0.0.1:6443\",\"ca\":\"ca.crt\",\"tokenFile\":\"sa.token\"}," \
	"\"audiences\":[\"tracegate\"],"                                                   \
	"\"runners\":{\"node-1\":{\"url\":\"https://127.0.0.1:9443/\"},\"node-2\":{\"url\":\"https://10.0.0.2:9443\"}}," \
	"\"runnerTLS\":{\"ca\":\"ca.crt\",\"cert\":\"gateway-client.crt\",\"key\":\"gateway-client.key\"}," \
	"\"audit\":{\"path\":\"audit.log\"},\"policies\":\"policies/\"}"

static void test_config_good(void **state)
{
	struct gw_config *c = NULL;
	char *err = NULL;

	assert_int_equal(gw_config_parse(GOOD, strlen(GOOD), "/etc/tg", &c, &err), 0);
	assert_null(err);
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_string_equal(c->listen_port, "8443");
	assert_string_equal(c->tls_cert, "/etc/tg/gateway.crt");
	assert_string_equal(c->tls_key, "/abs/gw.key");
	assert_string_equal(c->api_server, "https://127.0.0.1:6443");
	assert_string_equal(c->api_ca, "/etc/tg/ca.crt");
	assert_string_equal(c->api_token_file, "/etc/tg/sa.token");
	assert_string_equal(c->audiences[0], "tracegate");
	assert_null(c->audiences[1]);
	assert_int_equal(c->nrunners, 2);
	assert_string_equal(gw_config_runner(c, "node-1")->url, "https://127.0.0.1:9443");
	assert_string_equal(gw_config_runner(c, "node-2")->url, "https://10.0.0.2:9443");
	assert_null(gw_config_runner(c, "node-3"));
	assert_null(gw_config_runner(c, NULL));
	assert_string_equal(c->runner_key, "/etc/tg/gateway-client.key");
	assert_string_equal(c->audit_path, "/etc/tg/audit.log");
	assert_string_equal(c->policies, "/etc/tg/policies/");
	assert_int_equal(c->limits.max_body_bytes, GW_DEFAULT_MAX_BODY_BYTES);
	assert_int_equal(c->limits.max_connections, GW_DEFAULT_MAX_CONNECTIONS);
	assert_int_equal(c->authn_ttl_s, GW_DEFAULT_AUTHN_TTL_S);
	/* the audit log is bounded by default: rotation, and records of
	 * refusals before authentication */
	assert_int_equal(c->audit_rotate_bytes, GW_DEFAULT_AUDIT_ROTATE_BYTES);
	assert_int_equal(c->audit_keep, GW_DEFAULT_AUDIT_KEEP);
	assert_int_equal(c->audit_detached_poll_s, GW_DEFAULT_AUDIT_DETACHED_POLL_S);
	assert_int_equal(c->audit_refusals.per_source_rate, GW_DEFAULT_REFUSALS_SOURCE_RATE);
	assert_int_equal(c->audit_refusals.per_source_burst, GW_DEFAULT_REFUSALS_SOURCE_BURST);
	assert_int_equal(c->audit_refusals.rate, GW_DEFAULT_REFUSALS_RATE);
	assert_int_equal(c->audit_refusals.burst, GW_DEFAULT_REFUSALS_BURST);
	assert_int_equal(c->audit_refusals.max_sources, GW_DEFAULT_REFUSALS_MAX_SOURCES);
	assert_int_equal(c->audit_refusals.summary_s, GW_DEFAULT_REFUSALS_SUMMARY_S);
	assert_int_equal(c->audit_refusals.max_summaries, GW_DEFAULT_REFUSALS_MAX_SUMMARIES);
	gw_config_free(c);
}

/* Replaces the first occurrence of from in GOOD by to and expects an
 * error mentioning want. */
static void expect_error(const char *from, const char *to, const char *want)
{
	char text[4096];
	const char *p = strstr(GOOD, from);
	struct gw_config *c = NULL;
	char *err = NULL;
	int r;

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
	r = gw_config_parse(text, strlen(text), "/d", &c, &err);
	if (r != -TG_ECONFIG || !err || !strstr(err, want))
		fail_msg("replacing %s by %s: r=%d err=%s (wanted %s)", from, to, r, err ? err : "(null)", want);
	assert_null(c);
	free(err);
}

static void test_config_errors_name_the_key(void **state)
{
	expect_error("\"listen\":\"127.0.0.1:8443\"", "\"listen\":\"127.0.0.1\"", "key \"listen\"");
	expect_error("\"listen\":\"127.0.0.1:8443\"", "\"listen\":\"h:99999\"", "key \"listen\"");
	expect_error("\"listen\":\"127.0.0.1:8443\"", "\"listen\":8443", "key \"listen\": expected a string");
	expect_error("\"key\":\"/abs/gw.key\"", "\"kee\":\"x\"", "key \"tls.kee\": unknown key");
	expect_error("\"cert\":\"gateway.crt\",", "", "key \"tls.cert\": missing");
	expect_error("\"server\":\"https://127.0.0.1:6443\"", "\"server\":\"http://x\"", "key \"apiServer.server\"");
	expect_error("\"audiences\":[\"tracegate\"]", "\"audiences\":[]", "key \"audiences\"");
	expect_error("\"audiences\":[\"tracegate\"]", "\"audiences\":[3]", "key \"audiences\"");
	expect_error("\"url\":\"https://10.0.0.2:9443\"", "\"url\":\"http://10.0.0.2\"", "key \"runners.node-2\"");
	expect_error("\"url\":\"https://10.0.0.2:9443\"", "\"uri\":\"https://x\"", "key \"runners.node-2.uri\": unknown key");
	expect_error("\"runnerTLS\":{", "\"runnerTLZ\":{", "key \"runnerTLZ\": unknown key");
	expect_error("\"audit\":{\"path\":\"audit.log\"}", "\"audit\":{}", "key \"audit.path\": missing");
	expect_error("\"policies\":\"policies/\"", "\"policies\":\"\"", "key \"policies\"");
	expect_error("\"policies\":\"policies/\"", "\"limits\":{\"maxBodyBytes\":10}", "key \"limits.maxBodyBytes\": 10 is out of range");
	expect_error("\"policies\":\"policies/\"", "\"limits\":{\"maxConnections\":\"many\"}", "key \"limits.maxConnections\": expected an integer");
	expect_error("\"policies\":\"policies/\"", "\"limits\":{\"maxThings\":1}", "key \"limits.maxThings\": unknown key");
	expect_error("\"policies\":\"policies/\"", "\"cache\":{\"deniedSeconds\":600}", "key \"cache.deniedSeconds\"");
	expect_error("\"tokenFile\":\"sa.token\"", "\"clientCert\":\"c.crt\"", "key \"apiServer.clientKey\"");
}

static void test_config_audit_refusals(void **state)
{
	static const char from[] = "\"audit\":{\"path\":\"audit.log\"}";
	static const char to[] = "\"audit\":{\"path\":\"audit.log\",\"rotateBytes\":0,\"keep\":2,\"detachedEndPollSeconds\":3,"
				 "\"refusals\":{\"perSourceRate\":3,\"perSourceBurst\":4,\"rate\":5,"
				 "\"burst\":6,\"maxSources\":7,\"summarySeconds\":8,\"maxSummaries\":9}}";
	char text[4096];
	const char *p = strstr(GOOD, from);
	struct gw_config *c = NULL;
	char *err = NULL;

	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
	assert_int_equal(gw_config_parse(text, strlen(text), "/d", &c, &err), 0);
	assert_int_equal(c->audit_rotate_bytes, 0);
	assert_int_equal(c->audit_keep, 2);
	assert_int_equal(c->audit_detached_poll_s, 3);
	assert_int_equal(c->audit_refusals.per_source_rate, 3);
	assert_int_equal(c->audit_refusals.per_source_burst, 4);
	assert_int_equal(c->audit_refusals.rate, 5);
	assert_int_equal(c->audit_refusals.burst, 6);
	assert_int_equal(c->audit_refusals.max_sources, 7);
	assert_int_equal(c->audit_refusals.summary_s, 8);
	assert_int_equal(c->audit_refusals.max_summaries, 9);
	gw_config_free(c);

	expect_error(from, "\"audit\":{\"path\":\"a\",\"refusals\":{\"rate\":0}}",
		     "key \"audit.refusals.rate\": 0 is out of range");
	expect_error(from, "\"audit\":{\"path\":\"a\",\"refusals\":{\"maxSources\":20000}}",
		     "key \"audit.refusals.maxSources\"");
	expect_error(from, "\"audit\":{\"path\":\"a\",\"refusals\":{\"perIP\":1}}",
		     "key \"audit.refusals.perIP\": unknown key");
	expect_error(from, "\"audit\":{\"path\":\"a\",\"refusals\":[]}",
		     "key \"audit.refusals\": expected an object");
	expect_error(from, "\"audit\":{\"path\":\"a\",\"detachedEndPollSeconds\":0}",
		     "key \"audit.detachedEndPollSeconds\": 0 is out of range");
}

static void test_config_limits_and_v6(void **state)
{
	char text[4096];
	const char *p = strstr(GOOD, "\"127.0.0.1:8443\"");
	struct gw_config *c = NULL;
	char *err = NULL;

	snprintf(text, sizeof(text), "%.*s\"[::1]:0\"%s", (int)(p - GOOD), GOOD, p + strlen("\"127.0.0.1:8443\""));
	p = strstr(text, "\"policies\"");
	memcpy(text + (p - text), "\"limits\":{\"maxBodyBytes\":2048,\"outputHighWater\":8192},\"policies\"",
	       strlen("\"limits\":{\"maxBodyBytes\":2048,\"outputHighWater\":8192},\"policies\""));
	snprintf(text + (p - text) + strlen("\"limits\":{\"maxBodyBytes\":2048,\"outputHighWater\":8192},\"policies\""),
		 sizeof(text) - (size_t)(p - text) - 80, ":\"p\"}");
	assert_int_equal(gw_config_parse(text, strlen(text), NULL, &c, &err), 0);
	assert_string_equal(c->listen_host, "::1");
	assert_string_equal(c->listen_port, "0");
	assert_int_equal(c->limits.max_body_bytes, 2048);
	assert_int_equal(c->limits.output_high_water, 8192);
	assert_int_equal(c->limits.max_headers, GW_DEFAULT_MAX_HEADERS);
	assert_string_equal(c->policies, "p");   /* no base dir: as written */
	gw_config_free(c);
}

static void test_config_not_json(void **state)
{
	struct gw_config *c = NULL;
	char *err = NULL;

	assert_int_equal(gw_config_parse("{\"listen\":", 10, "/", &c, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "line 1"));
	free(err);
	err = NULL;
	assert_int_equal(gw_config_parse("[]", 2, "/", &c, &err), -TG_ECONFIG);
	assert_non_null(err);
	free(err);
	err = NULL;
	/* duplicate keys are refused, not silently overridden */
	assert_int_equal(gw_config_parse("{\"listen\":\"a:1\",\"listen\":\"b:2\"}", 32, "/", &c, &err), -TG_ECONFIG);
	free(err);
}

static void test_config_load_file(void **state)
{
	char dir[] = "/tmp/tg-gw-config-XXXXXX";
	char path[256];
	struct gw_config *c = NULL;
	char *err = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gateway.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(GOOD, f);
	fclose(f);
	assert_int_equal(gw_config_load(path, &c, &err), 0);
	assert_string_equal(c->path, path);
	assert_string_equal(c->dir, dir);
	assert_true(strncmp(c->audit_path, dir, strlen(dir)) == 0);
	gw_config_free(c);
	unlink(path);
	assert_int_equal(gw_config_load(path, &c, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, path));
	free(err);
	rmdir(dir);
}

static struct gw_config *parse_with(const char *from, const char *to)
{
	char text[4096];
	const char *p = strstr(GOOD, from);
	struct gw_config *c = NULL;
	char *err = NULL;

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - GOOD), GOOD, to, p + strlen(from));
	if (gw_config_parse(text, strlen(text), "/d", &c, &err) < 0)
		fail_msg("%s: %s", to, err ? err : "?");
	return c;
}

/* runnerDiscovery instead of (or beside) the static map; the pod cache */
static void test_config_discovery(void **state)
{
	const char *runners = "\"runners\":{\"node-1\":{\"url\":\"https://127.0.0.1:9443/\"},\"node-2\":{\"url\":\"https://10.0.0.2:9443\"}},";
	struct gw_config *c;

	c = parse_with(runners, "\"runnerDiscovery\":{\"namespace\":\"tracegate\",\"labelSelector\":\"app=r\"},");
	assert_non_null(c->discovery);
	assert_int_equal(c->nrunners, 0);
	assert_string_equal(c->discovery->namespace, "tracegate");
	assert_string_equal(c->discovery->label_selector, "app=r");
	assert_int_equal(c->discovery->port, GW_DEFAULT_RUNNER_PORT);
	assert_string_equal(c->discovery->server_name, GW_DEFAULT_RUNNER_SERVER_NAME);
	assert_true(c->cache_pods);
	assert_int_equal(c->cache_max_objects, GW_DEFAULT_CACHE_MAX_OBJECTS);
	gw_config_free(c);
	c = parse_with(runners, "\"runnerDiscovery\":{\"namespace\":\"ns\",\"labelSelector\":\"a\",\"port\":1234,"
			 "\"serverName\":\"runner.example\"},\"cache\":{\"pods\":false,\"maxObjects\":5},");
	assert_int_equal(c->discovery->port, 1234);
	assert_string_equal(c->discovery->server_name, "runner.example");
	assert_false(c->cache_pods);
	assert_int_equal(c->cache_max_objects, 5);
	gw_config_free(c);
	/* both: the static map stays */
	c = parse_with("\"runnerTLS\"", "\"runnerDiscovery\":{\"namespace\":\"ns\",\"labelSelector\":\"a\"},\"runnerTLS\"");
	assert_int_equal(c->nrunners, 2);
	assert_non_null(c->discovery);
	gw_config_free(c);

	expect_error(runners, "", "key \"runners\": missing (and no runnerDiscovery)");
	expect_error(runners, "\"runnerDiscovery\":{\"labelSelector\":\"a\"},", "key \"runnerDiscovery.namespace\": missing");
	expect_error(runners, "\"runnerDiscovery\":{\"namespace\":\"ns\"},", "key \"runnerDiscovery.labelSelector\": missing");
	expect_error(runners, "\"runnerDiscovery\":{\"namespace\":\"Not_A_Ns\",\"labelSelector\":\"a\"},",
		     "key \"runnerDiscovery.namespace\": \"Not_A_Ns\" is not a namespace name");
	expect_error(runners, "\"runnerDiscovery\":{\"namespace\":\"ns\",\"labelSelector\":\"a\",\"serverName\":\"a:b@c\"},",
		     "key \"runnerDiscovery.serverName\"");
	expect_error(runners, "\"runnerDiscovery\":{\"namespace\":\"ns\",\"labelSelector\":\"a\",\"port\":0},",
		     "key \"runnerDiscovery.port\": 0 is out of range");
	expect_error(runners, "\"runnerDiscovery\":{\"namespace\":\"ns\",\"labelSelector\":\"a\",\"nodes\":1},",
		     "key \"runnerDiscovery.nodes\": unknown key");
	expect_error("\"policies\":\"policies/\"", "\"cache\":{\"pods\":1}", "key \"cache.pods\": expected true or false");
	expect_error("\"policies\":\"policies/\"", "\"cache\":{\"maxObjects\":0}", "key \"cache.maxObjects\": 0 is out of range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_errors_name_the_key),
		cmocka_unit_test(test_config_audit_refusals),
		cmocka_unit_test(test_config_limits_and_v6),
		cmocka_unit_test(test_config_not_json),
		cmocka_unit_test(test_config_load_file),
		cmocka_unit_test(test_config_discovery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
