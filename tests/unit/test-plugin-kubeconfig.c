// SPDX-License-Identifier: Apache-2.0
/* Kubeconfig loading, merging and resolution: every rule of client-go's
 * loader the plugin follows (reference section 7.1 and 7.3). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "plugin/kubeconfig.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/tg-kc-XXXXXX");
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

/* Writes dir/name (creating subdirectories one level deep) and returns the path. */
static char *put(struct fx *f, const char *name, const char *text)
{
	char *p = NULL;
	char *slash;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	slash = strrchr(p, '/');
	*slash = '\0';
	mkdir(p, 0700);
	*slash = '/';
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0600), 0);
	return p;
}

static const char base_config[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: alice\n"
	"clusters:\n"
	"- name: sim\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:6443\n"
	"    certificate-authority: ca.crt\n"
	"users:\n"
	"- name: alice\n"
	"  user:\n"
	"    token: alice-token\n"
	"contexts:\n"
	"- name: alice\n"
	"  context:\n"
	"    cluster: sim\n"
	"    user: alice\n"
	"    namespace: team-a\n"
	"- name: nons\n"
	"  context:\n"
	"    cluster: sim\n"
	"    user: alice\n";

static int load(struct kubeconfig *kc, const char *file, const char *env, const char *home,
		char **warning, char **err)
{
	struct kc_load_opts o = { .sz = sizeof(o), .explicit_file = file, .env = env, .home = home };

	return kubeconfig_load(&o, kc, warning, err);
}

static void test_single_file(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "kc/config", base_config), *ca = put(f, "kc/ca.crt", "PEM-CA");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL, *warn = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, &warn, &err), 0);
	assert_null(warn);
	assert_string_equal(kc.current_context, "alice");
	assert_int_equal(kc.nclusters, 1);
	assert_string_equal(kc.files[0], p);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.context, "alice");
	assert_string_equal(r.namespace, "team-a");
	assert_string_equal(r.server, "https://127.0.0.1:6443");
	assert_string_equal(r.token, "alice-token");
	/* relative certificate-authority: against the file's directory */
	assert_string_equal(r.ca, "PEM-CA");
	assert_string_equal(r.ca_source, ca);
	assert_false(r.insecure);
	assert_null(r.exec);
	kc_resolved_release(&r);

	/* a context without a namespace: "default"; -n wins over the context */
	o.context = "nons";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.namespace, "default");
	kc_resolved_release(&r);
	o.context = NULL;
	o.namespace = "other";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.namespace, "other");
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_explicit_file_must_exist(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *env = put(f, "other", base_config), *missing = NULL;
	struct kubeconfig kc;
	char *err = NULL;

	assert_true(asprintf(&missing, "%s/missing", f->dir) > 0);
	/* --kubeconfig beats KUBECONFIG and is never optional */
	assert_int_equal(load(&kc, missing, env, NULL, NULL, &err), -ENOENT);
	assert_non_null(strstr(err, missing));
	free(err);
}

static void test_explicit_file_only(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *a = put(f, "a", "clusters:\n- name: only-a\n  cluster: {server: https://a}\n");
	_cleanup_free_ char *b = put(f, "b", base_config);
	struct kubeconfig kc;
	char *err = NULL;

	/* nothing from KUBECONFIG is merged in */
	assert_int_equal(load(&kc, a, b, NULL, NULL, &err), 0);
	assert_int_equal(kc.nclusters, 1);
	assert_null(kc.current_context);
	assert_int_equal(kc.ncontexts, 0);
	kubeconfig_release(&kc);
}

static void test_merge_first_definition_wins(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *one = put(f, "one",
				       "clusters:\n"
				       "- name: sim\n"
				       "  cluster:\n"
				       "    server: https://first\n"
				       "users:\n"
				       "- name: alice\n"
				       "  user:\n"
				       "    token: first-token\n");
	_cleanup_free_ char *two = put(f, "two", base_config);
	_cleanup_free_ char *env = NULL;
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL, *warn = NULL;

	assert_true(asprintf(&env, "%s:%s", one, two) > 0);
	assert_int_equal(load(&kc, NULL, env, NULL, &warn, &err), 0);
	assert_null(warn);
	/* current-context: from the first file that sets it (the second) */
	assert_string_equal(kc.current_context, "alice");
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	/* the first file's stanza is taken whole: its server, and no CA from
	 * the second file's stanza of the same name */
	assert_string_equal(r.server, "https://first");
	assert_null(r.ca);
	assert_string_equal(r.token, "first-token");
	/* the context came from the second file */
	assert_string_equal(r.namespace, "team-a");
	kc_resolved_release(&r);
	assert_int_equal(kc.nclusters, 1);
	assert_string_equal(kc.clusters[0].source, one);
	kubeconfig_release(&kc);
}

static void test_merge_current_context_first_setter(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *one = put(f, "one", "current-context: from-one\n");
	_cleanup_free_ char *two = put(f, "two", base_config);
	_cleanup_free_ char *env = NULL;
	struct kubeconfig kc;
	char *err = NULL;

	assert_true(asprintf(&env, "%s:%s", one, two) > 0);
	assert_int_equal(load(&kc, NULL, env, NULL, NULL, &err), 0);
	assert_string_equal(kc.current_context, "from-one");
	kubeconfig_release(&kc);
}

static void test_kubeconfig_env_missing_dup_empty(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *good = put(f, "good", base_config), *env = NULL;
	struct kubeconfig kc;
	char *err = NULL, *warn = NULL;

	/* missing files are skipped without a word when another exists;
	 * duplicates and empty entries are dropped */
	assert_true(asprintf(&env, "::%s/nope:%s:%s:", f->dir, good, good) > 0);
	assert_int_equal(load(&kc, NULL, env, NULL, &warn, &err), 0);
	assert_null(warn);
	assert_non_null(kc.files[0]);
	assert_null(kc.files[1]);  /* read once */
	assert_int_equal(kc.nclusters, 1);
	kubeconfig_release(&kc);
	free(env);

	/* all missing: a warning, and an empty configuration */
	assert_true(asprintf(&env, "%s/x:%s/y", f->dir, f->dir) > 0);
	assert_int_equal(load(&kc, NULL, env, NULL, &warn, &err), 0);
	assert_non_null(warn);
	assert_non_null(strstr(warn, "none of the files in KUBECONFIG exist"));
	free(warn);
	{
		struct kc_overrides o = { 0 };
		struct kc_resolved r;

		assert_true(kubeconfig_resolve(&kc, &o, &r, &err) < 0);
		assert_non_null(strstr(err, "no kubeconfig found"));
		free(err);
		err = NULL;
	}
	kubeconfig_release(&kc);
}

static void test_home_default(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, ".kube/config", base_config);
	struct kubeconfig kc;
	char *err = NULL;

	assert_int_equal(load(&kc, NULL, NULL, f->dir, NULL, &err), 0);
	assert_string_equal(kc.files[0], p);
	assert_string_equal(kc.current_context, "alice");
	kubeconfig_release(&kc);
	/* an empty KUBECONFIG counts as unset */
	assert_int_equal(load(&kc, NULL, "", f->dir, NULL, &err), 0);
	assert_int_equal(kc.ncontexts, 2);
	kubeconfig_release(&kc);
}

static void expect_load_error(struct fx *f, const char *text, const char *want)
{
	_cleanup_free_ char *p = put(f, "bad", text), *full = NULL, *good = NULL, *env = NULL;
	struct kubeconfig kc;
	char *err = NULL;

	assert_true(asprintf(&full, "%s%s", p, want) > 0);
	/* an unparsable file in KUBECONFIG is an error, not a skip */
	good = put(f, "good", base_config);
	assert_true(asprintf(&env, "%s:%s", good, p) > 0);
	assert_true(load(&kc, NULL, env, NULL, NULL, &err) < 0);
	if (!err || strcmp(err, full))
		fail_msg("want \"%s\", got \"%s\"", full, err ? err : "(null)");
	free(err);
}

static void test_errors_name_file_line_column(void **state)
{
	struct fx *f = *state;

	expect_load_error(f, "clusters:\n - name: x\n  bad: [\n",
			  ":3:3: YAML did not find expected '-' indicator while parsing a block collection");
	expect_load_error(f, "apiVersion: v1\nclusters: nope\n",
			  ":2:11: clusters: expected a list of {name, cluster}, found a scalar");
	expect_load_error(f, "users:\n- name: u\n  user:\n    token: [1, 2]\n",
			  ":4:12: users[0].user.token: expected a string, found a list");
	expect_load_error(f, "contexts:\n- context: {cluster: c}\n",
			  ":2:3: contexts[0]: a context entry has no \"name\"");
	expect_load_error(f, "clusters:\n- name: c\n  cluster: {server: https://x}\n- name: c\n  cluster: {}\n",
			  ":4:9: clusters[1].name: duplicate cluster name \"c\"");
	expect_load_error(f, "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: \"not base64!\"\n",
			  ":4:33: clusters[0].cluster.certificate-authority-data: not valid base64");
	expect_load_error(f, "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n",
			  ":4:31: clusters[0].cluster.insecure-skip-tls-verify: expected true or false, found \"maybe\"");
	expect_load_error(f, "- just\n- a list\n",
			  ":1:1: a kubeconfig must be a mapping (apiVersion, clusters, users, contexts)");
	expect_load_error(f, "users:\n- name: u\n  user:\n    exec: {args: [x]}\n",
			  ":4:11: users[0].user.exec: needs a \"command\"");
}

/* as, as-groups: kubectl's impersonation in the user entry */
static void test_impersonation(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "kc/config",
				     "clusters:\n- name: c\n  cluster: {server: https://x}\n"
				     "users:\n- name: u\n  user: {token: t, as: bob, as-groups: [g1, g2]}\n"
				     "contexts:\n- name: c\n  context: {cluster: c, user: u}\n"
				     "current-context: c\n");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL, *warn = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, &warn, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.as_user, "bob");
	assert_string_equal(r.as_groups[0], "g1");
	assert_string_equal(r.as_groups[1], "g2");
	assert_null(r.as_groups[2]);
	kc_resolved_release(&r);
	kubeconfig_release(&kc);

	/* header values: nothing that could end a header */
	expect_load_error(f, "users:\n- name: u\n  user: {as: \"bob\\r\\nX: y\"}\n",
			  ":3:14: users[0].user.as: want names of printable characters without spaces");
	expect_load_error(f, "users:\n- name: u\n  user: {as-groups: [\"\"]}\n",
			  ":3:21: users[0].user.as-groups: want names of 1 to 256 characters");
	/* what the gateway cannot honour is an error, not quietly dropped */
	expect_load_error(f, "users:\n- name: u\n  user: {as: bob, as-uid: \"1\"}\n",
			  ":3:27: users[0].user.as-uid: impersonation by uid or extra is not supported by kubectl trace");
}

static void test_token_wins_over_token_file(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "kc/config",
				     "current-context: c\n"
				     "clusters: [{name: s, cluster: {server: https://s}}]\n"
				     "contexts:\n"
				     "- {name: c, context: {cluster: s, user: both}}\n"
				     "- {name: f, context: {cluster: s, user: file}}\n"
				     "- {name: m, context: {cluster: s, user: missing}}\n"
				     "- {name: e, context: {cluster: s, user: empty}}\n"
				     "users:\n"
				     "- {name: both, user: {token: inline, tokenFile: tok}}\n"
				     "- {name: file, user: {tokenFile: sub/tok}}\n"
				     "- {name: missing, user: {tokenFile: /nonexistent/tok}}\n"
				     "- {name: empty, user: {tokenFile: empty}}\n");
	_cleanup_free_ char *t1 = put(f, "kc/tok", "from-file\n");
	_cleanup_free_ char *t2 = put(f, "kc/sub/tok", "  sub-token \n\n");
	_cleanup_free_ char *t3 = put(f, "kc/empty", " \n");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	/* load from another working directory: paths are the file's, not ours */
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.token, "inline");
	kc_resolved_release(&r);
	o.context = "f";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.token, "sub-token");
	kc_resolved_release(&r);
	o.context = "m";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -ENOENT);
	assert_non_null(strstr(err, "\"/nonexistent/tok\""));
	free(err);
	err = NULL;
	o.context = "e";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "holds no usable token"));
	free(err);
	err = NULL;
	/* --token beats both */
	o.context = "c";
	o.token = "flag-token";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.token, "flag-token");
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_relative_paths_per_defining_file(void **state)
{
	struct fx *f = *state;
	/* the user comes from dir a, the cluster from dir b: each resolves
	 * against its own file's directory */
	_cleanup_free_ char *a = put(f, "a/config",
				     "current-context: c\n"
				     "contexts: [{name: c, context: {cluster: s, user: u}}]\n"
				     "users: [{name: u, user: {client-certificate: cert.pem, client-key: ../a/key.pem}}]\n");
	_cleanup_free_ char *b = put(f, "b/config",
				     "clusters: [{name: s, cluster: {server: https://s, certificate-authority: ca.pem}}]\n");
	_cleanup_free_ char *ca = put(f, "b/ca.pem", "CA-B"), *cert = put(f, "a/cert.pem", "CERT-A");
	_cleanup_free_ char *key = put(f, "a/key.pem", "KEY-A"), *env = NULL;
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_true(asprintf(&env, "%s:%s", a, b) > 0);
	assert_int_equal(load(&kc, NULL, env, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.ca, "CA-B");
	assert_string_equal(r.cert, "CERT-A");
	assert_string_equal(r.key, "KEY-A");
	assert_null(r.token);
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_base64_data_fields(void **state)
{
	struct fx *f = *state;
	/* "CA-DATA" "CERT" "KEY": the -data fields win over the paths */
	_cleanup_free_ char *p = put(f, "config",
				     "current-context: c\n"
				     "contexts: [{name: c, context: {cluster: s, user: u}}]\n"
				     "clusters:\n"
				     "- name: s\n"
				     "  cluster:\n"
				     "    server: https://s\n"
				     "    certificate-authority: /nonexistent\n"
				     "    certificate-authority-data: Q0EtREFUQQ==\n"
				     "    insecure-skip-tls-verify: true\n"
				     "users:\n"
				     "- name: u\n"
				     "  user:\n"
				     "    client-certificate-data: |\n"
				     "      Q0VS\n"
				     "      VA==\n"
				     "    client-key-data: S0VZ\n"
				     "    client-key: /nonexistent\n");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_int_equal(r.ca_len, 7);
	assert_memory_equal(r.ca, "CA-DATA", 7);
	assert_string_equal(r.cert, "CERT");
	assert_string_equal(r.key, "KEY");
	assert_true(r.insecure);
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_cert_without_key(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "config",
				     "current-context: c\n"
				     "contexts: [{name: c, context: {cluster: s, user: u}}]\n"
				     "clusters: [{name: s, cluster: {server: https://s}}]\n"
				     "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ECONFIG);
	assert_string_equal(err, "user \"u\": client-certificate without client-key");
	free(err);
	kubeconfig_release(&kc);
}

static void test_resolution_errors(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "config",
				     "clusters: [{name: s, cluster: {server: https://s}}]\n"
				     "users: [{name: u, user: {token: t}}]\n"
				     "contexts:\n"
				     "- {name: nouser, context: {cluster: s, user: ghost}}\n"
				     "- {name: nocluster, context: {cluster: ghost, user: u}}\n"
				     "- {name: anon, context: {cluster: s}}\n");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ECONFIG);
	assert_non_null(strstr(err, "no current-context"));
	free(err);
	o.context = "missing";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ENOTFOUND);
	assert_string_equal(err, "context \"missing\" not found in the kubeconfig");
	free(err);
	o.context = "nouser";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ENOTFOUND);
	assert_non_null(strstr(err, "user \"ghost\""));
	free(err);
	o.context = "nocluster";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), -TG_ENOTFOUND);
	assert_non_null(strstr(err, "cluster \"ghost\""));
	free(err);
	/* --cluster and --user override the context's */
	o.cluster = "s";
	o.user = "u";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.token, "t");
	kc_resolved_release(&r);
	/* a context without a user: anonymous */
	o = (struct kc_overrides){ .context = "anon" };
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_null(r.token);
	assert_null(r.cert);
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_exec_stanza(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "d/config",
				     "current-context: c\n"
				     "contexts: [{name: c, context: {cluster: s, user: u}}, {name: p, context: {cluster: s, user: plain}}]\n"
				     "clusters: [{name: s, cluster: {server: https://s}}]\n"
				     "users:\n"
				     "- name: u\n"
				     "  user:\n"
				     "    exec:\n"
				     "      apiVersion: client.authentication.k8s.io/v1\n"
				     "      command: ./bin/cred\n"
				     "      args: [get, --x]\n"
				     "      env: [{name: A, value: b}, {name: C}]\n"
				     "      interactiveMode: Never\n"
				     "      provideClusterInfo: true\n"
				     "- name: plain\n"
				     "  user: {exec: {command: cred-helper, apiVersion: x}}\n");
	_cleanup_free_ char *want = NULL;
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_non_null(r.exec);
	assert_true(asprintf(&want, "%s/d/./bin/cred", f->dir) > 0);
	assert_string_equal(r.exec->command, want);
	assert_string_equal(r.exec->args[0], "get");
	assert_string_equal(r.exec->args[1], "--x");
	assert_null(r.exec->args[2]);
	assert_string_equal(r.exec->env[0], "A=b");
	assert_string_equal(r.exec->env[1], "C=");
	assert_true(r.exec->provide_cluster_info);
	assert_string_equal(r.exec->interactive_mode, "Never");
	kc_resolved_release(&r);
	/* a bare command is looked up on PATH later: left alone */
	o.context = "p";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.exec->command, "cred-helper");
	kc_resolved_release(&r);
	/* a token from the command line means the plugin is not run */
	o.token = "t";
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_null(r.exec);
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_json_kubeconfig(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *p = put(f, "config.json",
				     "{\"apiVersion\":\"v1\",\"current-context\":\"c\","
				     "\"clusters\":[{\"name\":\"s\",\"cluster\":{\"server\":\"https://j\"}}],"
				     "\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"jt\"}}],"
				     "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"s\",\"user\":\"u\",\"namespace\":\"n\"}}]}");
	struct kubeconfig kc;
	struct kc_resolved r;
	struct kc_overrides o = { 0 };
	char *err = NULL;

	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kubeconfig_resolve(&kc, &o, &r, &err), 0);
	assert_string_equal(r.server, "https://j");
	assert_string_equal(r.token, "jt");
	assert_string_equal(r.namespace, "n");
	kc_resolved_release(&r);
	kubeconfig_release(&kc);
}

static void test_null_values_and_empty_file(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ char *e = put(f, "empty", ""), *n = put(f, "nulls",
				      "current-context: ~\nclusters: null\nusers:\ncontexts: []\n");
	struct kubeconfig kc;
	char *err = NULL;

	assert_int_equal(load(&kc, e, NULL, NULL, NULL, &err), 0);
	assert_int_equal(kc.nclusters, 0);
	kubeconfig_release(&kc);
	assert_int_equal(load(&kc, n, NULL, NULL, NULL, &err), 0);
	assert_null(kc.current_context);
	kubeconfig_release(&kc);
}

static void test_base64(void **state)
{
	char *out = NULL;
	size_t len;

	assert_int_equal(kc_base64_decode("aGVsbG8=", &out, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(kc_base64_decode("aGVs\r\nbG8h", &out, &len), 0);
	assert_string_equal(out, "hello!");
	free(out);
	assert_int_equal(kc_base64_decode("", &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(kc_base64_decode("aGVsbG8", &out, &len), -EINVAL);   /* no padding */
	assert_int_equal(kc_base64_decode("aGVsbG8=x", &out, &len), -EINVAL); /* after padding */
	assert_int_equal(kc_base64_decode("a===", &out, &len), -EINVAL);
	assert_int_equal(kc_base64_decode("aGV-bG8=", &out, &len), -EINVAL);  /* URL alphabet */
}

static void test_file_size_limit(void **state)
{
	struct fx *f = *state;
	char *big = malloc(KC_MAX_FILE + 2), *p, *err = NULL;
	struct kubeconfig kc;

	memset(big, '#', KC_MAX_FILE + 1);
	big[KC_MAX_FILE + 1] = '\0';
	p = put(f, "big", big);
	assert_int_equal(load(&kc, p, NULL, NULL, NULL, &err), -EFBIG);
	assert_non_null(strstr(err, "larger than"));
	free(err);
	free(big);
	free(p);
}

int main(void)
{
	char cwd[4096];
	int r;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_file_must_exist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit_file_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_first_definition_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_current_context_first_setter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubeconfig_env_missing_dup_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_home_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_file_line_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_wins_over_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths_per_defining_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base64_data_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_without_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolution_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_stanza, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_kubeconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_values_and_empty_file, setup, teardown),
		cmocka_unit_test(test_base64),
		cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impersonation, setup, teardown),
	};

	if (!getcwd(cwd, sizeof(cwd)))
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	if (chdir(cwd) < 0)
		return 1;
	return r;
}
