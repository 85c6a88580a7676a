/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubectl-trace's command line.  kubectl execs a plugin with every flag
 * passed through unparsed (including its global --kubeconfig, --context,
 * -n), so this parser takes kubectl's global flags as well as our own, in
 * any position, in the forms pflag accepts: --flag value, --flag=value,
 * -f value, -fvalue, -f=value.  "--" ends the flags.
 */
#ifndef TG_PLUGIN_CLI_H
#define TG_PLUGIN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/buf.h"

#define KT_MAX_VERBOSITY 10           /* -v N: 6 requests, 8 headers and bodies */
#define KT_MAX_PROGRAM (512u * 1024)  /* program text; the body is at most 1 MiB */
#define KT_MAX_PARAMS 64              /* positional program arguments */
#define KT_MAX_AS_GROUPS 64           /* --as-group (the gateway takes as many) */
#define KT_MAX_AS_NAME 256            /* --as, --as-group: one name */
#define KT_MAX_PARAM_LEN 4096
#define KT_MAX_DURATION 86400         /* --duration, seconds */

enum kt_cmd {
	KT_CMD_NONE, KT_CMD_RUN, KT_CMD_CHECK, KT_CMD_VERSION, KT_CMD_HELP,
	KT_CMD_COMPLETION,        /* completion bash|zsh: a shell script */
	KT_CMD_COMPLETE,          /* __complete WORDS...: cobra's protocol */
	KT_CMD_GET,               /* get [NAME]: detached traces */
	KT_CMD_LOGS,              /* logs NAME [-f] [--timestamps] */
	KT_CMD_ATTACH,            /* attach NAME */
	KT_CMD_DELETE,            /* delete NAME */
	KT_CMD_LIST,              /* list [PATTERN] TARGET [-v]: the probes the policy allows */
};
/* KT_OUT_BPFTRACE_JSON: run, logs and attach: the stream as bpftrace
 * 0.17's -f json lines (plugin/render.c) */
enum kt_output { KT_OUT_TEXT, KT_OUT_JSON, KT_OUT_YAML, KT_OUT_BPFTRACE_JSON };

struct kt_args {
	enum kt_cmd cmd;
	const char *target;       /* pod/NAME, NAME, deployment/NAME, replicaset/NAME; NULL with -l */
	const char *ns;           /* -n / --namespace */
	const char *expr;         /* -e */
	const char *file;         /* -f/--filename/--file; "-" is stdin */
	const char *container;    /* -c/--container: one container of each pod */
	const char *selector;     /* -l/--selector, checked (kube/selector.h):
				     every Running pod it matches instead of a TARGET */
	bool all_namespaces;      /* -A/--all-namespaces: with -l, in every namespace */
	bool all_nodes;           /* --all-nodes: a pod on a node without a runner refuses the trace */
	const char *gateway, *gateway_ca;
	const char *context, *kubeconfig, *cluster, *user, *token;
	const char *as;           /* --as: impersonate this user */
	const char *as_groups[KT_MAX_AS_GROUPS + 1];  /* --as-group, repeatable; NULL-terminated */
	size_t nas_groups;
	uint64_t duration;        /* 0: none given */
	long request_timeout_ms;  /* --request-timeout; 0: default */
	enum kt_output output;
	int verbosity;            /* -v N (kubectl's klog levels) */
	enum kt_cmd help_for;     /* KT_CMD_HELP: the subcommand asked about */
	const char *shell;        /* completion: bash or zsh */
	char **words;             /* __complete: the words after the command */
	size_t nwords;
	bool prefix;              /* --prefix: [pod/NAME/NODE] before each output line */
	bool help;                /* -h/--help */
	bool client_only;         /* version --client */
	bool detach;              /* run --detach: the trace runs with nobody attached */
	bool follow;              /* logs -f/--follow */
	bool timestamps;          /* logs --timestamps */
	bool list_verbose;        /* list -v / --verbose: tracepoint fields (bpftrace -lv) */
	const char *pattern;      /* list: the glob, or NULL (every probe) */
	const char *name;         /* get, logs, attach, delete: the trace's name */
	const char **params;      /* positional ARGS (NULL-terminated) */
	size_t nparams;
};

/* argv[0] is the program name.  -EINVAL with a message for bad usage. */
int kt_args_parse(int argc, char **argv, struct kt_args *ret, char **ret_err);
void kt_args_release(struct kt_args *a);
/* The usage text: the overview for KT_CMD_NONE/KT_CMD_HELP, else the
 * subcommand's, with examples. */
const char *kt_usage(enum kt_cmd cmd);

/* Completion in cobra's __complete protocol (what kubectl 1.26+ expects
 * from kubectl_complete-trace): candidates, one a line (TAB then a
 * description), then ":DIRECTIVE".  words are the words after "trace",
 * the last being the one completed (possibly empty). */
int kt_complete(struct buf *out, char *const *words, size_t nwords);
/* A completion script for `kubectl-trace` typed as a command (bash, zsh);
 * NULL for another shell. */
const char *kt_completion_script(const char *shell);

/* "pod/NAME" or "NAME" (a pod), "deployment/NAME", "replicaset/NAME", ...,
 * "node/NAME", in kubectl's spellings (po, pods, deploy, deployments, rs,
 * replicasets, no, nodes);
 * -EINVAL for another kind or a name that is not a DNS subdomain. */
int kt_target_check(const char *target, char **ret_err);
/* A checked target as the gateway takes it: "pod/x", "deployment/x",
 * "replicaset/x" or a bare pod name (NULL without memory). */
char *kt_target_normalize(const char *target);
/* node/NAME (nodes/, no/): a node-wide trace, POSTed to the cluster-scoped
 * .../nodetraces. */
bool kt_target_is_node(const char *target);

#endif
