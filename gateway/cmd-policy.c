// SPDX-License-Identifier: Apache-2.0
/*
 * tracegate policy check|preset: the TracePolicy engine offline
 * (docs/policy.md).  check answers "would this user's program be allowed?"
 * exactly as the gateway decides it; preset prints a shipped policy.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/cmd.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "gateway/commands.h"
#include "lang/ast.h"
#include "policy/policy.h"
#include "lib/banned.h"

#define CHECK_MAX_GROUPS 64

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: tracegate policy check (--policies DIR | --preset NAME)... --user USER\n"
		"                              [--group GROUP]... [--namespace NS] [--scope pod|node]\n"
		"                              [-o json] (-e PROGRAM | -f FILE) [ARG...]\n"
		"\n"
		"Decides whether USER may run the program, as the gateway would.\n"
		"  --policies DIR  every *.yaml / *.yml TracePolicy in DIR\n"
		"  --preset NAME   a shipped policy: restricted, baseline, privileged\n"
		"  --user USER     the requester (system:serviceaccount:NS:NAME for a service account)\n"
		"  --group GROUP   a group of the requester (repeat; system:authenticated is not implied)\n"
		"  --namespace NS  the namespace of the target pods (pod scope)\n"
		"  --scope SCOPE   pod (default) or node\n"
		"  -o json         print the decision as JSON\n"
		"  ARG...          positional parameters $1, $2 ... (tokens of the parse, as the gateway takes them)\n"
		"Exit 0: allowed; 1: denied; 2: usage, unreadable policy or program that does not parse.\n");
}

static void set_freep(struct tg_policy_set **s)
{
	tg_policy_set_free(*s);
}

static void prog_freep(struct lang_program **p)
{
	lang_program_free(*p);
}

static int add_set(struct tg_policy_set **all, struct tg_policy_set *more)
{
	_cleanup_free_ char *err = NULL;
	int r;

	if (!*all) {
		*all = more;
		return 0;
	}
	r = tg_policy_set_merge(*all, &more, &err);
	if (r < 0)
		fprintf(stderr, "tracegate policy check: %s\n", err ? err : tg_strerror(r));
	return r;
}

/* The program as the gateway parses it: parameters as tokens.  Prints the
 * error with its source line on failure. */
static int parse_with_params(const char *text, size_t len, char **params, size_t nparams,
			     const char *file, struct lang_program **ret)
{
	struct lang_parse_opts po = { .sz = sizeof(po), .params = (const char *const *)params,
				    .nparams = nparams };
	struct lang_diag diag;
	int r = lang_program_parse_opts(text, len, &po, ret, &diag);

	if (r < 0) {
		_cleanup_free_ char *msg = NULL;

		if (lang_diag_format(&diag, file ? file : "stdin", text, len, &msg) == 0)
			fputs(msg, stderr);
	}
	return r;
}

/* -e PROGRAM or -f FILE into *text (the caller frees). */
static int program_text(const char *what, const char *expr, const char *file, char **text, size_t *len)
{
	int r;

	if (file) {
		r = read_file(file, TG_MAX_SOURCE_BYTES, text, len);
		if (r < 0)
			fprintf(stderr, "%s: %s: %s\n", what, file,
				r == -EFBIG ? "larger than TG_MAX_SOURCE_BYTES" : strerror(-r));
		return r;
	}
	*text = strdup(expr);
	if (!*text)
		return -ENOMEM;
	*len = strlen(*text);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policies", required_argument, NULL, 'P' },
		{ "preset", required_argument, NULL, 'B' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "scope", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(set_freep) struct tg_policy_set *set = NULL;
	_cleanup_(prog_freep) struct lang_program *prog = NULL;
	_cleanup_free_ char *text = NULL, *lng = NULL, *err = NULL;
	const char *groups[CHECK_MAX_GROUPS + 1] = { NULL };
	const char *user = NULL, *ns = NULL, *scope = "pod", *file = NULL, *expr = NULL, *out = NULL;
	struct tg_decision d;
	size_t ngroups = 0, len = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+e:f:o:h", longopts, NULL)) != -1) {
		struct tg_policy_set *more = NULL;

		switch (c) {
		case 'P':
		case 'B':
			r = c == 'P' ? tg_policy_set_load_dir(optarg, &more, &err)
				     : tg_policy_set_load_builtin(optarg, &more, &err);
			if (r < 0) {
				fprintf(stderr, "tracegate policy check: %s\n", err ? err : tg_strerror(r));
				return 2;
			}
			if (add_set(&set, more) < 0)
				return 2;
			break;
		case 'u':
			user = optarg;
			break;
		case 'g':
			if (ngroups >= CHECK_MAX_GROUPS) {
				fprintf(stderr, "tracegate policy check: more than %d --group\n", CHECK_MAX_GROUPS);
				return 2;
			}
			groups[ngroups++] = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'e':
			expr = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > TG_MAX_PARAMS || !set || !user || (!expr == !file) || (out && strcmp(out, "json")) ||
	    (strcmp(scope, "pod") && strcmp(scope, "node")) || (!strcmp(scope, "pod") && !ns)) {
		if (argc - optind > TG_MAX_PARAMS)
			fprintf(stderr, "tracegate policy check: more than %u positional parameters\n", TG_MAX_PARAMS);
		else if (!set)
			fprintf(stderr, "tracegate policy check: give --policies DIR or --preset NAME\n");
		else if (!user)
			fprintf(stderr, "tracegate policy check: --user is required\n");
		else if (!expr == !file)
			fprintf(stderr, "tracegate policy check: give exactly one of -e PROGRAM and -f FILE\n");
		else if (out && strcmp(out, "json"))
			fprintf(stderr, "tracegate policy check: -o \"%s\" is not known (json)\n", out);
		else if (strcmp(scope, "pod") && strcmp(scope, "node"))
			fprintf(stderr, "tracegate policy check: --scope \"%s\" is not pod or node\n", scope);
		else
			fprintf(stderr, "tracegate policy check: pod scope needs --namespace\n");
		check_usage(stderr);
		return 2;
	}
	if (program_text("tracegate policy check", expr, file, &text, &len) < 0)
		return 2;
	r = parse_with_params(text, len, argv + optind, (size_t)(argc - optind), file, &prog);
	if (r < 0)
		return 2;
	r = tg_policy_evaluate(set, &(struct tg_requester){ .user = user, .groups = groups,
							   .namespace = !strcmp(scope, "node") ? NULL : ns },
			       prog, scope, &d);
	if (r < 0) {
		fprintf(stderr, "tracegate policy check: cannot decide: %s\n", tg_strerror(r));
		tg_decision_release(&d);
		return 2;
	}
	if (out) {
		_cleanup_(json_decrefp) json_t *j = tg_decision_to_json(&d);
		_cleanup_free_ char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

		if (s)
			printf("%s\n", s);
	} else if (tg_decision_explain(&d, NULL, &lng) == 0) {
		fputs(lng, stdout);
	}
	r = d.allowed ? 0 : 1;
	tg_decision_release(&d);
	return r;
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: tracegate policy print [--sha256] (-e PROGRAM | -f FILE) [ARG...]\n"
		"\n"
		"Prints the canonical form of a program: what a policy decides on, what the\n"
		"audit record's canonicalSHA256 hashes and what a runner runs (positional\n"
		"parameters in their attach points, definitions as understood, one\n"
		"`// $N = \"...\"` line per parameter).\n"
		"  --sha256        print only the form's SHA-256\n"
		"Exit 0: printed; 2: usage or a program that does not parse.\n");
}

static int cmd_print(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sha256", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(prog_freep) struct lang_program *prog = NULL;
	_cleanup_free_ char *text = NULL, *canon = NULL;
	const char *file = NULL, *expr = NULL;
	bool sha_only = false;
	char sha[65];
	size_t len = 0;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+e:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			sha_only = true;
			break;
		case 'e':
			expr = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (!expr == !file || argc - optind > TG_MAX_PARAMS) {
		fprintf(stderr, "tracegate policy print: give exactly one of -e PROGRAM and -f FILE, "
			"and at most %u parameters\n", TG_MAX_PARAMS);
		print_usage(stderr);
		return 2;
	}
	if (program_text("tracegate policy print", expr, file, &text, &len) < 0 ||
	    parse_with_params(text, len, argv + optind, (size_t)(argc - optind), file, &prog) < 0)
		return 2;
	if (lang_program_canonical(prog, &canon, sha) < 0)
		return 2;
	fputs(sha_only ? sha : canon, stdout);
	if (sha_only)
		fputc('\n', stdout);
	return 0;
}

static int cmd_preset(int argc, char **argv)
{
	const char *text = argc == 2 ? tg_policy_preset_text(argv[1]) : NULL;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: tracegate policy preset restricted|baseline|privileged\n");
		return 0;
	}
	if (!text) {
		fprintf(stderr, "usage: tracegate policy preset restricted|baseline|privileged\n");
		return 2;
	}
	fputs(text, stdout);
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	static const struct cmd policy_cmds[] = {
		{ "check", cmd_check, "decide whether a user's program is allowed, and why" },
		{ "print", cmd_print, "print the canonical form of a program (what is decided and run)" },
		{ "preset", cmd_preset, "print a shipped TracePolicy (restricted, baseline, privileged)" },
		{ NULL, NULL, NULL },
	};

	return cmd_dispatch("tracegate policy", policy_cmds, argc - 1, argv + 1);
}
