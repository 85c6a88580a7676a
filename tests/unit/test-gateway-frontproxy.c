// SPDX-License-Identifier: Apache-2.0
/* gateway/frontproxy.c (request-header settings and the refusals that need
 * no TLS peer), gateway/discovery.c, and the "requestHeader" configuration.
 * The certificate checks run for real in tests/e2e/kubectl-aggregated.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "gateway/config.h"
#include "gateway/discovery.h"
#include "gateway/frontproxy.h"
#include "gateway/http.h"
#include "gateway/route.h"
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "kube/kube.h"

/* A self-signed CA certificate, PEM (caller frees). */
static char *ca_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME *n;
	char *data, *out;
	long len;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"test-ca", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	len = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)len);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return out;
}

static char *configmap(const char *pem, const char *extra_data)
{
	json_t *cm = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "kind", "ConfigMap", "apiVersion",
			       "v1", "metadata", "resourceVersion", "42", "data",
			       "requestheader-client-ca-file", pem, "requestheader-allowed-names",
			       "[\"front-proxy-client\"]");
	char *text;

	if (extra_data) {
		json_t *x = json_loads(extra_data, 0, NULL);

		assert_non_null(x);
		json_object_update(json_object_get(cm, "data"), x);
		json_decref(x);
	}
	text = json_dumps(cm, JSON_COMPACT);
	json_decref(cm);
	return text;
}

static void test_configmap(void **state)
{
	_cleanup_free_ char *pem = ca_pem(), *good = configmap(pem, NULL);
	struct fp_settings *s = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(fp_settings_from_configmap(200, good, strlen(good), &s, &err), 0);
	assert_null(err);
	assert_string_equal(s->version, "42");
	assert_string_equal(s->allowed_names[0], "front-proxy-client");
	assert_null(s->allowed_names[1]);
	/* absent lists: the standard names; no uid header */
	assert_string_equal(s->user_headers[0], "X-Remote-User");
	assert_string_equal(s->group_headers[0], "X-Remote-Group");
	assert_string_equal(s->extra_prefixes[0], "X-Remote-Extra-");
	assert_null(s->uid_headers[0]);
	fp_settings_free(s);
	s = NULL;

	/* configured names */
	{
		_cleanup_free_ char *t = configmap(pem, "{\"requestheader-username-headers\":\"[\\\"X-User\\\",\\\"X-Remote-User\\\"]\","
							"\"requestheader-uid-headers\":\"[\\\"X-Remote-Uid\\\"]\","
							"\"requestheader-allowed-names\":\"[]\"}");

		assert_int_equal(fp_settings_from_configmap(200, t, strlen(t), &s, &err), 0);
		assert_string_equal(s->user_headers[0], "X-User");
		assert_string_equal(s->user_headers[1], "X-Remote-User");
		assert_string_equal(s->uid_headers[0], "X-Remote-Uid");
		assert_null(s->allowed_names[0]);  /* empty: any name of the CA */
		fp_settings_free(s);
		s = NULL;
	}
	/* errors name the key */
	{
		static const char *const bad[][2] = {
			{ "{\"requestheader-allowed-names\":\"front-proxy-client\"}", "requestheader-allowed-names" },
			{ "{\"requestheader-group-headers\":\"[1]\"}", "requestheader-group-headers: entry 0" },
			{ "{\"requestheader-username-headers\":\"[\\\"X User\\\"]\"}", "not a valid header name" },
			{ "{\"requestheader-client-ca-file\":\"not a certificate\"}", "no PEM certificate" },
			{ "{\"requestheader-client-ca-file\":\"\"}", "requestheader-client-ca-file: empty" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			_cleanup_free_ char *t = configmap(pem, bad[i][0]);

			assert_int_equal(fp_settings_from_configmap(200, t, strlen(t), &s, &err), -TG_ECONFIG);
			assert_non_null(err);
			if (!strstr(err, bad[i][1]))
				fail_msg("%s: got \"%s\"", bad[i][1], err);
			free(err);
			err = NULL;
		}
	}
	{
		const char *nodata = "{\"kind\":\"ConfigMap\",\"metadata\":{}}";

		assert_int_equal(fp_settings_from_configmap(200, nodata, strlen(nodata), &s, &err), -TG_ECONFIG);
		assert_non_null(strstr(err, "front-proxy authentication is off"));
		free(err);
		err = NULL;
	}
	assert_int_equal(fp_settings_from_configmap(404, "{\"message\":\"nope\"}", 18, &s, &err), -TG_ENOTFOUND);
	assert_string_equal(err, "HTTP 404: nope");
	free(err);
}

static void test_unescape(void **state)
{
	static const char *const cases[][2] = {
		{ "reason%2fwhy", "reason/why" }, { "a%41", "aA" }, { "plain", "plain" },
		{ "bad%zz", "bad%zz" }, { "cut%4", "cut%4" }, { "%", "%" }, { "%25", "%" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *k = fp_unescape_key(cases[i][0], strlen(cases[i][0]));

		assert_string_equal(k, cases[i][1]);
	}
}

/* Refusals decided before any certificate: no TLS peer here. */
static void test_refusals_without_peer(void **state)
{
	_cleanup_free_ char *pem = ca_pem(), *good = configmap(pem, NULL);
	struct http_header h[] = { { "Content-Type", "application/json" }, { "x-remote-user", "admin" } };
	struct http_request req = { .headers = h, .nheaders = 2 };
	struct fp_settings *s = NULL;
	struct kube_user u = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(fp_settings_from_configmap(200, good, strlen(good), &s, &err), 0);
	/* no identity header: not a front-proxy request */
	req.nheaders = 1;
	assert_int_equal(fp_authenticate(s, true, NULL, NULL, &req, &u, &err), 0);
	assert_null(err);
	req.nheaders = 2;
	/* from a client without a certificate */
	assert_int_equal(fp_authenticate(s, true, NULL, NULL, &req, &u, &err), -TG_EAUTHN);
	assert_non_null(strstr(err, "\"x-remote-user\" from a client without the front-proxy client certificate"));
	free(err);
	/* not configured: still refused, never ignored */
	assert_int_equal(fp_authenticate(NULL, false, NULL, NULL, &req, &u, &err), -TG_EAUTHN);
	assert_non_null(strstr(err, "front-proxy authentication is not configured"));
	free(err);
	/* configured, not loaded: 503 material */
	assert_int_equal(fp_authenticate(NULL, true, "HTTP 403", NULL, &req, &u, &err), -EAGAIN);
	assert_string_equal(err, "front-proxy authentication is not loaded yet: HTTP 403");
	free(err);
	/* the standard names count whatever is configured: X-Remote-Extra-* too */
	h[1].name = "X-Remote-Extra-Scopes";
	assert_int_equal(fp_authenticate(s, true, NULL, NULL, &req, &u, &err), -TG_EAUTHN);
	free(err);
	assert_null(u.username);
	fp_settings_free(s);
}

static void test_discovery(void **state)
{
	struct route r;
	const char *doc;
	json_t *j, *res;

	(void)state;
	route_match("GET", "/apis", &r);
	assert_int_equal(r.kind, ROUTE_DISCOVERY);
	route_match("GET", "/apis/tracegate.dev?timeout=32s", &r);
	assert_int_equal(r.kind, ROUTE_DISCOVERY);
	route_match("POST", "/apis/tracegate.dev/v1alpha1", &r);
	assert_int_equal(r.kind, ROUTE_METHOD_NOT_ALLOWED);
	route_match("GET", "/apis/tracegate.dev/v1", &r);
	assert_int_equal(r.kind, ROUTE_NOT_FOUND);
	doc = gw_discovery_doc("/apis/tracegate.dev/v1alpha1", 28);
	j = json_loads(doc, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "APIResourceList");
	res = json_object_get(j, "resources");
	assert_int_equal(json_array_size(res), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "name")), "traces");
	assert_true(json_is_true(json_object_get(json_array_get(res, 0), "namespaced")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(res, 1), "name")), "nodetraces");
	assert_true(json_is_false(json_object_get(json_array_get(res, 1), "namespaced")));
	json_decref(j);
	for (const char *const *p = (const char *const[]){ "/apis", "/apis/tracegate.dev", NULL }; *p; p++) {
		j = json_loads(gw_discovery_doc(*p, strlen(*p)), 0, NULL);
		assert_non_null(j);
		json_decref(j);
	}
}

#define BASE                                                                                         \
	"{\"listen\":\"127.0.0.1:8443\",\"tls\":{\"cert\":\"c\",\"key\":\"k\"},"                        \
	"\"apiServer\":{\"server\":\"https://a:6443\",\"ca\":\"ca\",\"tokenFile\":\"t\"},"              \
	"\"audiences\":[\"tracegate\"],\"runners\":{},"                                                 \
	"\"runnerTLS\":{\"ca\":\"ca\",\"cert\":\"c\",\"key\":\"k\"},\"audit\":{\"path\":\"a\"},"

static void test_config(void **state)
{
	struct gw_config *c = NULL;
	char *err = NULL;
	const char *t;

	(void)state;
	t = BASE "\"requestHeader\":{}}";
	assert_int_equal(gw_config_parse(t, strlen(t), "/d", &c, &err), 0);
	assert_true(c->rh_enabled);
	assert_string_equal(c->rh_cm_namespace, "kube-system");
	assert_string_equal(c->rh_cm_name, "extension-apiserver-authentication");
	assert_int_equal(c->rh_poll_s, GW_DEFAULT_RH_POLL_S);
	c = gw_config_free(c);
	t = BASE "\"requestHeader\":{\"clientCA\":\"fp.crt\",\"allowedNames\":[\"front-proxy-client\"]}}";
	assert_int_equal(gw_config_parse(t, strlen(t), "/d", &c, &err), 0);
	assert_string_equal(c->rh_client_ca, "/d/fp.crt");
	assert_string_equal(c->rh_allowed_names[0], "front-proxy-client");
	assert_null(c->rh_user_headers);
	assert_null(c->rh_cm_name);
	c = gw_config_free(c);
	t = BASE "\"policies\":\"p\"}";
	assert_int_equal(gw_config_parse(t, strlen(t), "/d", &c, &err), 0);
	assert_false(c->rh_enabled);
	c = gw_config_free(c);

	{
		static const char *const bad[][2] = {
			{ BASE "\"requestHeader\":{\"allowedNames\":[\"x\"]}}", "key \"requestHeader.clientCA\": missing" },
			{ BASE "\"requestHeader\":{\"configMap\":\"nons\"}}", "is not NAMESPACE/NAME" },
			{ BASE "\"requestHeader\":{\"configMap\":\"a/b\",\"clientCA\":\"f\"}}", "not both" },
			{ BASE "\"requestHeader\":{\"pollSeconds\":0}}", "requestHeader.pollSeconds" },
			{ BASE "\"requestHeader\":{\"clientCA\":\"f\",\"groupHeaders\":[\"\"]}}", "entry 0" },
			{ BASE "\"requestHeader\":{\"headers\":1}}", "requestHeader.headers\": unknown key" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			assert_int_equal(gw_config_parse(bad[i][0], strlen(bad[i][0]), "/d", &c, &err),
					 -TG_ECONFIG);
			if (!err || !strstr(err, bad[i][1]))
				fail_msg("%s: got \"%s\"", bad[i][1], err ? err : "(null)");
			free(err);
			err = NULL;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configmap),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_refusals_without_peer),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
