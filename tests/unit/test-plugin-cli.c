// SPDX-License-Identifier: Apache-2.0
/* kubectl-trace's command line, as kubectl passes it through. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/buf.h"
#include "plugin/cli.h"

#define ARGV(...) ((char *[]){ "kubectl-trace", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "kubectl-trace", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) kt_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err))

static void expect_error(int r, char *err, const char *want)
{
	assert_int_equal(r, -EINVAL);
	if (!err || !strstr(err, want))
		fail_msg("want \"%s\", got \"%s\"", want, err ? err : "(null)");
	free(err);
}

static void test_run_all_flags(void **state)
{
	struct kt_args a;
	char *err = NULL;

	assert_int_equal(PARSE(&a, &err, "run", "pod/web-a", "-n", "team-a", "-e", "BEGIN { exit(); }",
			       "--duration", "30", "--gateway", "https://gw:8443", "--gateway-ca", "ca.crt",
			       "--context", "alice", "--kubeconfig", "/k", "-o", "json", "arg1", "arg2"),
			 0);
	assert_int_equal(a.cmd, KT_CMD_RUN);
	assert_string_equal(a.target, "pod/web-a");
	assert_string_equal(a.ns, "team-a");
	assert_string_equal(a.expr, "BEGIN { exit(); }");
	assert_null(a.file);
	assert_int_equal(a.duration, 30);
	assert_string_equal(a.gateway, "https://gw:8443");
	assert_string_equal(a.gateway_ca, "ca.crt");
	assert_string_equal(a.context, "alice");
	assert_string_equal(a.kubeconfig, "/k");
	assert_int_equal(a.output, KT_OUT_JSON);
	assert_int_equal(a.nparams, 2);
	assert_string_equal(a.params[0], "arg1");
	assert_string_equal(a.params[1], "arg2");
	assert_null(a.params[2]);
	kt_args_release(&a);
}

static void test_flag_spellings(void **state)
{
	struct kt_args a;
	char *err = NULL;

	/* kubectl puts its flags wherever the user typed them: after the
	 * subcommand, between positionals, in pflag's forms */
	assert_int_equal(PARSE(&a, &err, "run", "--context=bob", "web", "-nteam-b", "-f=prog.bt",
			       "--namespace=team-c", "-ojson", "--duration=5m", "x"),
			 0);
	assert_string_equal(a.context, "bob");
	assert_string_equal(a.target, "web");
	assert_string_equal(a.ns, "team-c");  /* the last one wins, as in pflag */
	assert_string_equal(a.file, "prog.bt");
	assert_int_equal(a.output, KT_OUT_JSON);
	assert_int_equal(a.duration, 300);
	assert_int_equal(a.nparams, 1);
	kt_args_release(&a);
	assert_false(a.prefix);

	assert_int_equal(PARSE(&a, &err, "run", "deployment/web", "--prefix", "-e", "x"), 0);
	assert_true(a.prefix);
	assert_string_equal(a.target, "deployment/web");
	kt_args_release(&a);
	{
		int r = PARSE(&a, &err, "run", "web", "--prefix=true", "-e", "x");

		expect_error(r, err, "takes no value");
		err = NULL;
	}

	/* "--" ends flags: a program argument may look like one */
	assert_int_equal(PARSE(&a, &err, "check", "web", "-e", "x", "--", "-n", "--foo"), 0);
	assert_int_equal(a.cmd, KT_CMD_CHECK);
	assert_null(a.ns);
	assert_int_equal(a.nparams, 2);
	assert_string_equal(a.params[0], "-n");
	assert_string_equal(a.params[1], "--foo");
	kt_args_release(&a);

	/* a value may start with '-' */
	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "-1", "--token", "t", "--cluster", "c",
			       "--user", "u", "--request-timeout", "30s"),
			 0);
	assert_string_equal(a.expr, "-1");
	assert_string_equal(a.token, "t");
	assert_string_equal(a.cluster, "c");
	assert_string_equal(a.user, "u");
	assert_int_equal(a.request_timeout_ms, 30000);
	kt_args_release(&a);
}

static void test_help_version(void **state)
{
	struct kt_args a;
	char *err = NULL;

	assert_int_equal(kt_args_parse(1, ARGV(NULL), &a, &err), 0);
	assert_int_equal(a.cmd, KT_CMD_HELP);
	assert_int_equal(PARSE(&a, &err, "--help"), 0);
	assert_int_equal(a.cmd, KT_CMD_HELP);
	assert_int_equal(a.help_for, KT_CMD_NONE);
	/* a subcommand's --help wants none of its arguments */
	assert_int_equal(PARSE(&a, &err, "run", "-h"), 0);
	assert_int_equal(a.cmd, KT_CMD_HELP);
	assert_int_equal(a.help_for, KT_CMD_RUN);
	assert_int_equal(PARSE(&a, &err, "check", "--help", "--duration", "3"), 0);
	assert_int_equal(a.help_for, KT_CMD_CHECK);
	assert_int_equal(PARSE(&a, &err, "help", "version"), 0);
	assert_int_equal(a.cmd, KT_CMD_HELP);
	assert_int_equal(a.help_for, KT_CMD_VERSION);
	assert_int_equal(PARSE(&a, &err, "version"), 0);
	assert_int_equal(a.cmd, KT_CMD_VERSION);
	assert_int_equal(PARSE(&a, &err, "version", "--client", "-o", "yaml"), 0);
	assert_true(a.client_only);
	assert_int_equal(a.output, KT_OUT_YAML);
	assert_non_null(strstr(kt_usage(KT_CMD_NONE), "Commands:"));
	/* each command's help is its own, with examples */
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "kubectl trace run TARGET"));
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "Examples:"));
	assert_null(strstr(kt_usage(KT_CMD_RUN), "kubectl trace version [--client]"));
	assert_non_null(strstr(kt_usage(KT_CMD_CHECK), "Examples:"));
	assert_non_null(strstr(kt_usage(KT_CMD_VERSION), "Examples:"));
	assert_non_null(strstr(kt_usage(KT_CMD_COMPLETION), "Examples:"));
}

static void test_filename_verbosity_completion(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	assert_int_equal(PARSE(&a, &err, "run", "web", "--filename", "p.bt"), 0);
	assert_string_equal(a.file, "p.bt");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "web", "--file=p.bt"), 0);
	assert_string_equal(a.file, "p.bt");
	kt_args_release(&a);
	/* iovisor kubectl-trace's spellings */
	assert_int_equal(PARSE(&a, &err, "run", "web", "--eval", "BEGIN { }", "--deadline", "60"), 0);
	assert_string_equal(a.expr, "BEGIN { }");
	assert_int_equal(a.duration, 60);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "check", "web", "-f", "-", "x"), 0);
	assert_string_equal(a.file, "-");
	assert_int_equal(a.nparams, 1);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "x", "-v", "6"), 0);
	assert_int_equal(a.verbosity, 6);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "x", "--v=8"), 0);
	assert_int_equal(a.verbosity, 8);
	kt_args_release(&a);
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-v", "99");
	expect_error(r, err, "want a level from 0 to 10");
	err = NULL;
	assert_int_equal(PARSE(&a, &err, "completion", "zsh"), 0);
	assert_int_equal(a.cmd, KT_CMD_COMPLETION);
	assert_string_equal(a.shell, "zsh");
	r = PARSE(&a, &err, "completion", "fish");
	expect_error(r, err, "want one shell, bash or zsh");
	err = NULL;
	/* a flag another command takes is named, not ignored */
	r = PARSE(&a, &err, "version", "--duration", "5");
	expect_error(r, err, "version: flag --duration does not apply");
	err = NULL;
	r = PARSE(&a, &err, "check", "web", "-e", "x", "--prefix");
	expect_error(r, err, "check: flag --prefix does not apply");
	err = NULL;
	assert_int_equal(PARSE(&a, &err, "__complete", "run", "--na"), 0);
	assert_int_equal(a.cmd, KT_CMD_COMPLETE);
	assert_int_equal(a.nwords, 2);
}

static void complete_is(const char *want, size_t n, char **words)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(kt_complete(&b, words, n), 0);
	if (strcmp(b.s, want))
		fail_msg("completion of \"%s\": want\n%s\ngot\n%s", words[n - 1], want, b.s);
	buf_release(&b);
}

static void test_complete(void **state)
{
	complete_is("check\task whether a program would be allowed\n"
		    "completion\ta shell completion script\n:4\n",
		    1, (char *[]){ "c" });
	complete_is("--namespace\tthe target's namespace\n:4\n", 2, (char *[]){ "run", "--nam" });
	complete_is("--prefix\tbegin each line with its source\n:4\n", 2, (char *[]){ "run", "--pre" });
	complete_is(":4\n", 2, (char *[]){ "check", "--pre" });
	complete_is("json\n:4\n", 3, (char *[]){ "run", "-o", "j" });
	complete_is("text\tas bpftrace prints\njson\nyaml\nbpftrace-json\tas bpftrace -f json prints\n:4\n", 3,
		    (char *[]){ "attach", "-o", "" });
	complete_is("text\tas bpftrace prints\njson\nyaml\n:4\n", 3, (char *[]){ "check", "-o", "" });
	complete_is(":0\n", 3, (char *[]){ "run", "--filename", "" });
	complete_is("deployment/\tevery running pod of a deployment\n:6\n", 4,
		    (char *[]){ "run", "-n", "team-a", "dep" });
	complete_is(":4\n", 3, (char *[]){ "run", "pod/web-a", "" });
	complete_is("node/\tthe whole node (create nodetraces, a policy with node scope)\n:6\n", 2,
		    (char *[]){ "check", "no" });
	complete_is("bash\n:4\n", 2, (char *[]){ "completion", "b" });
}

static void test_errors(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	r = PARSE(&a, &err, "fly");
	expect_error(r, err, "unknown command \"fly\"");
	err = NULL;
	r = PARSE(&a, &err, "run");
	expect_error(r, err, "no TARGET");
	err = NULL;
	r = PARSE(&a, &err, "run", "web");
	expect_error(r, err, "exactly one of -e PROGRAM and -f FILE");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-f", "y");
	expect_error(r, err, "exactly one of");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e");
	expect_error(r, err, "flag -e needs a value");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--bogus=1");
	expect_error(r, err, "unknown flag \"--bogus\"");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-z");
	expect_error(r, err, "unknown flag \"-z\"");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--duration", "0");
	expect_error(r, err, "want a positive number of seconds");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--duration", "10x");
	expect_error(r, err, "--duration \"10x\"");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--duration", "2000000");
	expect_error(r, err, "more than 86400 seconds");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-o", "xml");
	expect_error(r, err, "flag -o \"xml\": want text, json, yaml or bpftrace-json");
	err = NULL;
	/* bpftrace's records: run, logs and attach only, without --detach or a source */
	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "x", "-o", "bpftrace-json"), 0);
	assert_int_equal(a.output, KT_OUT_BPFTRACE_JSON);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "logs", "t1", "-o", "bpftrace-json"), 0);
	assert_int_equal(a.output, KT_OUT_BPFTRACE_JSON);
	kt_args_release(&a);
	r = PARSE(&a, &err, "check", "web", "-e", "x", "-o", "bpftrace-json");
	expect_error(r, err, "check: -o bpftrace-json is for run, logs and attach");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-o", "bpftrace-json", "--detach");
	expect_error(r, err, "is for run, logs and attach (without --detach)");
	err = NULL;
	r = PARSE(&a, &err, "version", "-o", "bpftrace-json");
	expect_error(r, err, "is for run, logs and attach");
	err = NULL;
	r = PARSE(&a, &err, "logs", "t1", "-o", "bpftrace-json", "--timestamps");
	expect_error(r, err, "--timestamps does not apply to -o bpftrace-json");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--gateway", "ftp://x");
	expect_error(r, err, "want an https:// URL");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-n", "");
	expect_error(r, err, "empty namespace");
	err = NULL;
	r = PARSE(&a, &err, "version", "extra");
	expect_error(r, err, "takes no arguments");
	err = NULL;
	r = PARSE(&a, &err, "--help=yes");
	expect_error(r, err, "takes no value");
}

static void n_is(const char *target, const char *want)
{
	char *n = kt_target_normalize(target);

	assert_non_null(n);
	assert_string_equal(n, want);
	free(n);
}

static void test_targets(void **state)
{
	char *err = NULL;
	int r;

	assert_int_equal(kt_target_check("pod/web-a", &err), 0);
	assert_int_equal(kt_target_check("web-a", &err), 0);
	assert_int_equal(kt_target_check("pods/web-a.x", &err), 0);
	assert_int_equal(kt_target_check("po/w", &err), 0);
	assert_int_equal(kt_target_check("deployment/web", &err), 0);
	assert_int_equal(kt_target_check("deploy/web", &err), 0);
	assert_int_equal(kt_target_check("rs/web-7c9f8b6d5", &err), 0);
	assert_int_equal(kt_target_check("replicasets/web-7c9f8b6d5", &err), 0);
	assert_int_equal(kt_target_check("sts/db", &err), 0);
	assert_int_equal(kt_target_check("ds/agent", &err), 0);
	assert_int_equal(kt_target_check("job/migrate", &err), 0);
	assert_int_equal(kt_target_check("cj/nightly", &err), 0);
	r = kt_target_check("service/web", &err);
	expect_error(r, err, "kind \"service\" cannot be traced");
	err = NULL;
	r = kt_target_check("deployment/Web", &err);
	expect_error(r, err, "\"Web\" is not a valid deployment name");
	err = NULL;
	r = kt_target_check("/web", &err);
	expect_error(r, err, "kind \"\" cannot be traced");
	err = NULL;
	{
		static const char *const cases[][2] = {
			{ "web-a", "web-a" },		 { "po/web-a", "pod/web-a" },
			{ "pods/web-a", "pod/web-a" },	 { "deploy/web", "deployment/web" },
			{ "deployments/web", "deployment/web" }, { "rs/web-1", "replicaset/web-1" },
			{ "replicaset/web-1", "replicaset/web-1" }, { "sts/db", "statefulset/db" },
			{ "daemonsets/agent", "daemonset/agent" }, { "jobs/m", "job/m" },
			{ "cj/nightly", "cronjob/nightly" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *n = kt_target_normalize(cases[i][0]);

			assert_non_null(n);
			assert_string_equal(n, cases[i][1]);
			free(n);
		}
		assert_null(kt_target_normalize("service/x"));
	}
	/* a node: its own kind, for run and check alone, no -c or --detach */
	{
		struct kt_args a;

		assert_int_equal(kt_target_check("node/node-1", &err), 0);
		assert_int_equal(kt_target_check("no/ip-10-0-0-1.ec2.internal", &err), 0);
		assert_true(kt_target_is_node("nodes/node-1"));
		assert_false(kt_target_is_node("pod/node-1"));
		assert_false(kt_target_is_node("node-1"));
		n_is("nodes/node-1", "node/node-1");
		r = kt_target_check("node/Node_1", &err);
		expect_error(r, err, "\"Node_1\" is not a valid node name");
		err = NULL;
		assert_int_equal(PARSE(&a, &err, "run", "node/node-1", "-e", "BEGIN {}"), 0);
		kt_args_release(&a);
		r = PARSE(&a, &err, "run", "node/node-1", "-e", "BEGIN {}", "--detach");
		expect_error(r, err, "a node-wide trace (node/node-1) cannot be detached yet");
		err = NULL;
		r = PARSE(&a, &err, "check", "node/node-1", "-e", "BEGIN {}", "-c", "app");
		expect_error(r, err, "has no container: it sees the whole node");
		err = NULL;
		r = PARSE(&a, &err, "list", "node/node-1");
		expect_error(r, err, "probes are listed for a pod's node");
		err = NULL;
	}
	r = kt_target_check("pod/", &err);
	expect_error(r, err, "is not a valid pod name");
	err = NULL;
	r = kt_target_check("Web", &err);
	expect_error(r, err, "\"Web\" is not a valid pod name");
	err = NULL;
	r = kt_target_check("pod/-x", &err);
	expect_error(r, err, "not a valid pod name");
	err = NULL;
	r = kt_target_check("pod/a/b", &err);
	expect_error(r, err, "not a valid pod name");
}

static void test_limits(void **state)
{
	char *argv[KT_MAX_PARAMS + 8];
	size_t big = KT_MAX_PROGRAM + 1;
	char *prog = malloc(big + 1);
	struct kt_args a;
	char *err = NULL;
	int argc = 0, r;

	argv[argc++] = "kubectl-trace";
	argv[argc++] = "run";
	argv[argc++] = "web";
	argv[argc++] = "-e";
	argv[argc++] = "x";
	for (int i = 0; i < KT_MAX_PARAMS; i++)
		argv[argc++] = "p";
	argv[argc] = NULL;
	assert_int_equal(kt_args_parse(argc, argv, &a, &err), 0);
	assert_int_equal(a.nparams, KT_MAX_PARAMS);
	kt_args_release(&a);
	argv[argc++] = "one-too-many";
	argv[argc] = NULL;
	r = kt_args_parse(argc, argv, &a, &err);
	expect_error(r, err, "more than 64 program arguments");
	err = NULL;

	memset(prog, 'x', big);
	prog[big] = '\0';
	r = PARSE(&a, &err, "run", "web", "-e", prog);
	expect_error(r, err, "longer than");
	free(prog);
}

static void test_impersonation(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "x", "--as", "bob", "--as-group", "g1",
			       "--as-group=g2"),
			 0);
	assert_string_equal(a.as, "bob");
	assert_int_equal(a.nas_groups, 2);
	assert_string_equal(a.as_groups[0], "g1");
	assert_string_equal(a.as_groups[1], "g2");
	assert_null(a.as_groups[2]);
	kt_args_release(&a);
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--as-group", "g1");
	expect_error(r, err, "--as-group needs --as");
	err = NULL;
	/* a header value: no CR/LF, no spaces, no control characters */
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--as", "bob\r\nX-Evil: 1");
	expect_error(r, err, "printable characters without spaces");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--as", "");
	expect_error(r, err, "want a name of 1 to");
	err = NULL;
	r = PARSE(&a, &err, "version", "--as", "bob");
	expect_error(r, err, "flag --as does not apply");
}

/* Detached traces: run --detach, get, logs, attach, delete. */
static void test_detached_commands(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	assert_int_equal(PARSE(&a, &err, "run", "web", "-f", "p.bt", "--detach", "--duration", "1h"), 0);
	assert_true(a.detach);
	assert_string_equal(a.file, "p.bt");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "get", "-n", "team-a"), 0);
	assert_int_equal(a.cmd, KT_CMD_GET);
	assert_null(a.name);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "get", "0b5e6f2a-1c3d", "-o", "yaml"), 0);
	assert_string_equal(a.name, "0b5e6f2a-1c3d");
	assert_int_equal(a.output, KT_OUT_YAML);
	kt_args_release(&a);
	/* logs -f follows (kubectl logs'), where run -f reads a file */
	assert_int_equal(PARSE(&a, &err, "logs", "-f", "x1", "--timestamps"), 0);
	assert_int_equal(a.cmd, KT_CMD_LOGS);
	assert_true(a.follow);
	assert_true(a.timestamps);
	assert_null(a.file);
	assert_string_equal(a.name, "x1");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "--context", "alice", "logs", "x1", "--follow"), 0);
	assert_true(a.follow);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "attach", "x1", "--prefix"), 0);
	assert_int_equal(a.cmd, KT_CMD_ATTACH);
	assert_true(a.prefix);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "delete", "x1", "--as", "olive"), 0);
	assert_int_equal(a.cmd, KT_CMD_DELETE);
	assert_string_equal(a.as, "olive");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "help", "logs"), 0);
	assert_int_equal(a.help_for, KT_CMD_LOGS);
	assert_non_null(strstr(kt_usage(KT_CMD_LOGS), "--timestamps"));
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "--detach"));

	r = PARSE(&a, &err, "logs");
	expect_error(r, err, "logs: want the trace's NAME");
	err = NULL;
	r = PARSE(&a, &err, "delete", "a", "b");
	expect_error(r, err, "want the trace's NAME");
	err = NULL;
	r = PARSE(&a, &err, "get", "Not_A_Name");
	expect_error(r, err, "is not a trace's name");
	err = NULL;
	r = PARSE(&a, &err, "check", "web", "-e", "x", "--detach");
	expect_error(r, err, "flag --detach does not apply");
	err = NULL;
	r = PARSE(&a, &err, "delete", "x1", "--timestamps");
	expect_error(r, err, "flag --timestamps does not apply");
	err = NULL;
	r = PARSE(&a, &err, "get", "x1", "-e", "x");
	expect_error(r, err, "flag -e does not apply");
	complete_is("attach\tfollow a detached trace, Ctrl-C ends it\n:4\n", 1, (char *[]){ "at" });
	complete_is("--follow\tgo on printing until the trace ends\n:4\n", 2, (char *[]){ "logs", "--fo" });
}

/* list [PATTERN] TARGET: -v is bpftrace's -lv unless a number follows */
static void test_list(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	assert_int_equal(PARSE(&a, &err, "list", "pod/web-a", "-n", "team-a"), 0);
	assert_int_equal(a.cmd, KT_CMD_LIST);
	assert_string_equal(a.target, "pod/web-a");
	assert_null(a.pattern);
	assert_false(a.list_verbose);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "list", "tracepoint:sched:*", "web-a", "-v"), 0);
	assert_string_equal(a.pattern, "tracepoint:sched:*");
	assert_string_equal(a.target, "web-a");
	assert_true(a.list_verbose);
	assert_int_equal(a.verbosity, 0);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "list", "-v", "*open*", "po/web-a"), 0);
	assert_true(a.list_verbose);
	assert_string_equal(a.pattern, "*open*");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "list", "web-a", "-v", "6", "--verbose", "-o", "json"), 0);
	assert_true(a.list_verbose);
	assert_int_equal(a.verbosity, 6);
	assert_int_equal(a.output, KT_OUT_JSON);
	kt_args_release(&a);
	/* run keeps -v N */
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-v");
	expect_error(r, err, "flag -v needs a value");
	err = NULL;
	r = PARSE(&a, &err, "list");
	expect_error(r, err, "list: want [PATTERN] TARGET");
	err = NULL;
	r = PARSE(&a, &err, "list", "a", "b", "c");
	expect_error(r, err, "list: want [PATTERN] TARGET");
	err = NULL;
	r = PARSE(&a, &err, "list", "deployment/web");
	expect_error(r, err, "probes are listed for a pod's node");
	err = NULL;
	r = PARSE(&a, &err, "list", "sched_[sw]*", "web");
	expect_error(r, err, "list: pattern \"sched_[sw]*\": only letters, digits and _ - . : * ?");
	err = NULL;
	r = PARSE(&a, &err, "run", "web", "-e", "x", "--verbose");
	expect_error(r, err, "flag --verbose does not apply");
	assert_non_null(strstr(kt_usage(KT_CMD_LIST), "bpftrace -lv"));
	(void)state;
}

/* -c/--container NAME: run and check; the gateway judges the name */
static void test_container(void **state)
{
	struct kt_args a;
	char *err = NULL;
	int r;

	(void)state;
	assert_int_equal(PARSE(&a, &err, "run", "pod/web-0", "-c", "sidecar", "-e", "x"), 0);
	assert_string_equal(a.container, "sidecar");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "check", "deployment/web", "--container=app", "-e", "x"), 0);
	assert_string_equal(a.container, "app");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "web", "-e", "x"), 0);
	assert_null(a.container);
	kt_args_release(&a);
	r = PARSE(&a, &err, "run", "web", "-e", "x", "-c", "");
	expect_error(r, err, "empty container name");
	err = NULL;
	r = PARSE(&a, &err, "get", "-c", "app");
	expect_error(r, err, "does not apply");
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "-c, --container NAME"));
}

/* -l/--selector and -A/--all-namespaces, as kubectl's */
static void test_selector(void **state)
{
	struct kt_args a;
	struct buf out = BUF_INIT(1 << 16);
	char *err = NULL;
	int r;

	(void)state;
	assert_int_equal(PARSE(&a, &err, "run", "-l", "app=web", "-n", "team-a", "-e", "x"), 0);
	assert_string_equal(a.selector, "app=web");
	assert_null(a.target);
	assert_false(a.all_namespaces);
	assert_int_equal(a.nparams, 0);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "check", "--selector=tier in (a,b),!x", "-A", "-e", "x", "--", "p1"), 0);
	assert_string_equal(a.selector, "tier in (a,b),!x");
	assert_true(a.all_namespaces);
	assert_int_equal(a.nparams, 1);
	assert_string_equal(a.params[0], "p1");
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "--all-namespaces", "-lapp", "-e", "x"), 0);
	assert_string_equal(a.selector, "app");
	kt_args_release(&a);
	/* a TARGET and -l: a usage error, as kubectl's */
	r = PARSE(&a, &err, "run", "pod/web-a", "-l", "app=web", "-e", "x");
	expect_error(r, err, "a TARGET (\"pod/web-a\") and -l cannot be given together");
	err = NULL;
	r = PARSE(&a, &err, "run", "-l", "app=web", "deployment/web", "-e", "x");
	expect_error(r, err, "cannot be given together");
	err = NULL;
	r = PARSE(&a, &err, "run", "-A", "pod/web-a", "-e", "x");
	expect_error(r, err, "-A (--all-namespaces) needs -l SELECTOR");
	err = NULL;
	r = PARSE(&a, &err, "run", "-e", "x");
	expect_error(r, err, "no TARGET");
	err = NULL;
	/* the selector's syntax, with the position */
	r = PARSE(&a, &err, "run", "-l", "app>1", "-e", "x");
	expect_error(r, err, "flag -l: label selector: at position 4: the operator '>' is not supported");
	err = NULL;
	r = PARSE(&a, &err, "run", "--selector", "app=-x", "-e", "x");
	expect_error(r, err, "flag --selector: label selector: at position 5: invalid label value \"-x\"");
	err = NULL;
	r = PARSE(&a, &err, "run", "-l", "", "-e", "x");
	expect_error(r, err, "empty");
	err = NULL;
	r = PARSE(&a, &err, "get", "-l", "app=web");
	expect_error(r, err, "does not apply");
	err = NULL;
	/* help and completion name them */
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "-l, --selector SELECTOR"));
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "-A, --all-namespaces"));
	assert_non_null(strstr(kt_usage(KT_CMD_CHECK), "-l, --selector SELECTOR"));
	assert_int_equal(kt_complete(&out, (char *[]){ "run", "-" }, 2), 0);
	assert_non_null(strstr(out.s, "\n-l\t"));
	assert_non_null(strstr(out.s, "--all-namespaces\t"));
	buf_release(&out);
}

/* --all-nodes: run and check, all or nothing across the pods' nodes */
static void test_all_nodes(void **state)
{
	struct kt_args a;
	struct buf out = BUF_INIT(1 << 16);
	char *err = NULL;
	int r;

	(void)state;
	assert_int_equal(PARSE(&a, &err, "run", "deployment/web", "-e", "x"), 0);
	assert_false(a.all_nodes);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "run", "deployment/web", "--all-nodes", "-e", "x"), 0);
	assert_true(a.all_nodes);
	kt_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "check", "-l", "app=web", "--all-nodes", "-e", "x"), 0);
	assert_true(a.all_nodes);
	kt_args_release(&a);
	r = PARSE(&a, &err, "run", "deployment/web", "--all-nodes=true", "-e", "x");
	assert_true(r < 0);
	free(err);
	err = NULL;
	r = PARSE(&a, &err, "logs", "x", "--all-nodes");
	expect_error(r, err, "does not apply");
	err = NULL;
	assert_non_null(strstr(kt_usage(KT_CMD_RUN), "--all-nodes"));
	assert_non_null(strstr(kt_usage(KT_CMD_CHECK), "--all-nodes"));
	assert_int_equal(kt_complete(&out, (char *[]){ "run", "-" }, 2), 0);
	assert_non_null(strstr(out.s, "--all-nodes\t"));
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_all_flags),
		cmocka_unit_test(test_flag_spellings),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_filename_verbosity_completion),
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_impersonation),
		cmocka_unit_test(test_detached_commands),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_all_nodes),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
