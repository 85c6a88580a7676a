// SPDX-License-Identifier: Apache-2.0
/* exec credential plugins: real commands (shell scripts) run for real. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "plugin/credential.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-exec-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static char *script(struct fx *f, const char *name, const char *body)
{
	char *p = NULL, *text = NULL;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	assert_true(asprintf(&text, "#!/bin/sh\n%s", body) > 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0700), 0);
	free(text);
	return p;
}

#define V1 "client.authentication.k8s.io/v1"
#define V1B "client.authentication.k8s.io/v1beta1"

static void test_token_and_exec_info(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *info = NULL, *infopath = NULL, *cmd = NULL;
	char *args[] = { "one", "two words", NULL };
	char *env[] = { "TG_EXTRA=hello", NULL };
	struct kc_cluster cl = { .name = "c", .server = "https://api:6443", .ca_data_b64 = "Q0E=",
				 .insecure = false };
	struct kc_exec x = { .api_version = V1, .interactive_mode = "Never", .args = args,
			     .env = env, .provide_cluster_info = true };
	struct kc_exec_cred c;
	char *err = NULL;
	size_t len;

	assert_true(asprintf(&infopath, "%s/info", f->dir) > 0);
	cmd = script(f, "cred",
		     "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/info\"\n"
		     "[ \"$1\" = one ] && [ \"$2\" = 'two words' ] && [ \"$TG_EXTRA\" = hello ] || exit 3\n"
		     "echo '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		     "\"status\":{\"token\":\"exec-token\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}'\n");
	x.command = cmd;
	assert_int_equal(kc_exec_run(&x, &cl, false, &c, &err), 0);
	assert_string_equal(c.token, "exec-token");
	assert_null(c.cert);
	kc_exec_cred_release(&c);
	assert_int_equal(read_file(infopath, 65536, &info, &len), 0);
	assert_string_equal(info,
			    "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false,"
			    "\"cluster\":{\"server\":\"https://api:6443\",\"insecure-skip-tls-verify\":false,"
			    "\"certificate-authority-data\":\"Q0E=\"}}}");
}

static void test_path_lookup_and_cert(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *cmd = NULL, *path = NULL;
	struct kc_exec x = { .api_version = V1B, .command = "tg-test-cred" };
	struct kc_exec_cred c;
	const char *old = getenv("PATH");
	char *err = NULL;

	cmd = script(f, "tg-test-cred",
		     "cat <<'EOF'\n{\"apiVersion\":\"" V1B "\",\"kind\":\"ExecCredential\",\"status\":"
		     "{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nX\\n-----END CERTIFICATE-----\\n\","
		     "\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\nY\\n-----END PRIVATE KEY-----\\n\"}}\nEOF\n");
	assert_true(asprintf(&path, "%s:%s", f->dir, old ? old : "/usr/bin:/bin") > 0);
	setenv("PATH", path, 1);
	/* v1beta1: interactiveMode defaults to IfAvailable */
	assert_int_equal(kc_exec_run(&x, NULL, false, &c, &err), 0);
	if (old)
		setenv("PATH", old, 1);
	assert_null(c.token);
	assert_true(str_has_prefix(c.cert, "-----BEGIN CERTIFICATE-----\n"));
	assert_true(str_has_prefix(c.key, "-----BEGIN PRIVATE KEY-----\n"));
	kc_exec_cred_release(&c);
}

static void expect_fail(struct kc_exec *x, const char *want)
{
	struct kc_exec_cred c = { 0 };
	char *err = NULL;

	assert_true(kc_exec_run(x, NULL, false, &c, &err) < 0);
	if (!err || !strstr(err, want))
		fail_msg("want \"%s\", got \"%s\"", want, err ? err : "(null)");
	free(err);
	assert_null(c.token);
}

static void test_failures(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *fails = script(f, "fails", "echo nope >&2; exit 4\n");
	_cleanup_free_ char *other = script(f, "other",
					     "echo '{\"apiVersion\":\"" V1B "\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n");
	_cleanup_free_ char *half = script(f, "half",
					    "echo '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"C\"}}'\n");
	_cleanup_free_ char *empty = script(f, "empty",
					     "echo '{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}'\n");
	_cleanup_free_ char *garbage = script(f, "garbage", "echo hello\n");
	struct kc_exec x = { .api_version = V1, .interactive_mode = "Never" };

	x.command = fails;
	expect_fail(&x, "failed (exit status 4)");
	x.command = other;
	expect_fail(&x, "apiVersion \"" V1B "\" does not match the configured \"" V1 "\"");
	x.command = half;
	expect_fail(&x, "clientCertificateData without clientKeyData");
	x.command = empty;
	expect_fail(&x, "neither a token nor a client certificate");
	x.command = garbage;
	expect_fail(&x, "not an ExecCredential");
	x.command = "/nonexistent/cred";
	x.install_hint = "install it with: apt install cred";
	expect_fail(&x, "exec plugin \"/nonexistent/cred\" not found: install it with: apt install cred");
	x.install_hint = NULL;
	/* configuration errors, before anything runs */
	x.command = other;
	x.interactive_mode = NULL;
	expect_fail(&x, "interactiveMode is required");
	x.interactive_mode = "Always";
	expect_fail(&x, "standard input is not a terminal");
	x.interactive_mode = "Sometimes";
	expect_fail(&x, "interactiveMode \"Sometimes\"");
	x.interactive_mode = "Never";
	x.api_version = "client.authentication.k8s.io/v1alpha1";
	expect_fail(&x, "is not supported");
	x.api_version = NULL;
	expect_fail(&x, "apiVersion is required");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_and_exec_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_lookup_and_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
