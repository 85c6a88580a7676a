// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/util.h"
#include "plugin/cli.h"
#include "kube/selector.h"
#include "lib/banned.h"

#define GLOBAL_FLAGS \
	"Connection flags (kubectl's, accepted anywhere after the subcommand):\n" \
	"      --kubeconfig FILE       the kubeconfig (default: $KUBECONFIG, ~/.kube/config)\n" \
	"      --context NAME          the kubeconfig context\n" \
	"      --cluster NAME, --user NAME, --token TOKEN\n" \
	"      --as USER, --as-group GROUP  (run, check) act as USER (and GROUP, repeatable):\n" \
	"                              needs RBAC's impersonate on those users and groups\n" \
	"      --request-timeout DUR   give up connecting after DUR (30, 30s, 1m)\n" \
	"  -n, --namespace NS          the target's namespace (default: the context's)\n" \
	"      --gateway URL           the tracegate gateway (default: $TRACEGATE_URL, else\n" \
	"                              the cluster's API server, which serves tracegate as\n" \
	"                              an aggregated API)\n" \
	"      --gateway-ca FILE       CA for the gateway (default: $TRACEGATE_CA, else the\n" \
	"                              cluster's certificate authority)\n" \
	"  -v, --v N                   log requests to stderr: 6 method, URL, status, time;\n" \
	"                              8 also headers and bodies (the token is never shown)\n" \
	"  -h, --help                  this help\n"

#define EXIT_STATUS \
	"Exit status: 0 ok (or the program's exit(N) code), 1 failure, 2 usage,\n" \
	"3 refused (RBAC, policy, limits), 4 program error (parse, semantics, compile,\n" \
	"verifier), 5 a node failed or was lost, 6 stopped by the cpu budget or rate\n" \
	"limit, 7 stopped by the gateway, 130 aborted by a second Ctrl-C.\n" \
	"\n" \
	"Ctrl-C ends a trace as bpftrace's: END runs and the maps are printed (exit 0);\n" \
	"a second Ctrl-C aborts.\n"

static const char usage_overview[] =
	"kubectl trace: run bpftrace programs against your pods through tracegate.\n"
	"\n"
	"Commands:\n"
	"  run         run a program on a pod, a workload's pods or a node, print what it\n"
	"              prints\n"
	"  check       ask whether a program would be allowed, without running it\n"
	"  get         list detached traces (run --detach), or show one\n"
	"  logs        what a detached trace printed (-f: and what it prints)\n"
	"  attach      follow a detached trace; Ctrl-C ends it as an attached run's\n"
"  delete      stop a detached trace: END runs, its programs are unloaded\n"
	"  list        the probes your policy allows on a pod's node (bpftrace -l)\n"
	"  version     the client's version and, when reachable, the gateway's\n"
	"  completion  a shell completion script (bash, zsh)\n"
	"  help        help on a command\n"
	"\n"
	"Examples:\n"
	"  kubectl trace run pod/web-a -n team-a \\\n"
	"      -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s\\n\", str(args->filename)); }'\n"
	"  kubectl trace run deployment/web -f opens.bt --duration 30s\n"
	"  kubectl trace check pod/web-a -e 'kprobe:vfs_read { @ = count(); }'\n"
	"  kubectl trace run pod/web-a -f opens.bt --duration 1h --detach\n"
	"  kubectl trace get; kubectl trace logs -f NAME; kubectl trace delete NAME\n"
	"  kubectl trace run node/node-1 -e 'profile:hz:99 { @[comm] = count(); }'\n"
	"  kubectl trace run -l app=web -A -f opens.bt\n"
	"\n"
	"Use 'kubectl trace COMMAND --help' for a command's flags.\n"
	"\n" EXIT_STATUS;

static const char usage_run[] =
	"Run a bpftrace program on a pod, on every running pod of a workload, or on a\n"
	"whole node, and print what it prints, as bpftrace would.  A workload's maps\n"
	"are merged.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace run TARGET (-e PROGRAM | -f FILE) [flags] [ARGS...]\n"
	"  kubectl trace run -l SELECTOR [-A] (-e PROGRAM | -f FILE) [flags] [-- ARGS...]\n"
	"\n"
	"TARGET is pod/NAME (or NAME), or every Running pod of a workload:\n"
	"deployment/NAME, replicaset/NAME, statefulset/NAME, daemonset/NAME, job/NAME\n"
	"or cronjob/NAME (the pods of its Jobs).  node/NAME traces the whole node, every\n"
	"process on it, in a pod or not: it needs RBAC's create on nodetraces named\n"
	"NAME and a TracePolicy with node scope (such as the privileged preset), takes\n"
	"no -n, -c or --detach.  ARGS are the program's $1, $2, ...; put them after --\n"
	"when they begin with - (and always with -l).\n"
	"\n"
	"-l SELECTOR instead of a TARGET traces every Running pod of the namespace whose\n"
	"labels match (k=v, k!=v, k, !k, k in (a,b), k notin (a,b), comma-separated,\n"
	"as kubectl's -l); pods that start matching join the trace, pods deleted\n"
	"leave it.  It needs RBAC's list on pods besides create on traces.  With -A,\n"
	"in every namespace: that needs both at the cluster scope (a\n"
	"ClusterRoleBinding), as kubectl get pods -A does.\n"
	"\n"
	"Examples:\n"
	"  # which files does web-a open?\n"
	"  kubectl trace run pod/web-a -n team-a \\\n"
	"      -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s\\n\", str(args->filename)); }'\n"
	"  # syscalls per process, across a deployment, for 10 seconds\n"
	"  kubectl trace run deployment/web --duration 10s \\\n"
	"      -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'\n"
	"  # every pod labelled app=web in team-a, then in every namespace\n"
	"  kubectl trace run -l app=web -n team-a -f opens.bt\n"
	"  kubectl trace run -l 'app in (web,api),track!=canary' -A -f opens.bt\n"
	"  # a program from a file, or from standard input\n"
	"  kubectl trace run pod/web-a -f opens.bt\n"
	"  echo 'BEGIN { printf(\"%s\\n\", str($1)); exit(); }' | kubectl trace run web-a -f - hello\n"
	"  # the raw event stream (NDJSON), or as YAML documents\n"
	"  kubectl trace run pod/web-a -f opens.bt -o json\n"
	"\n"
	"Flags:\n"
	"  -e, --expr PROGRAM          the program text (--eval is the same flag)\n"
	"  -f, --filename FILE         read the program from FILE (- for standard input;\n"
	"                              --file is the same flag)\n"
	"  -c, --container NAME        trace only this container of the pod (of each pod\n"
	"                              of a workload), as kubectl exec -c names it\n"
	"  -l, --selector SELECTOR     every Running pod matching the label selector,\n"
	"                              instead of a TARGET\n"
	"  -A, --all-namespaces        with -l: the matching pods of every namespace\n"
	"      --all-nodes             all or nothing: refuse the trace when a pod's node\n"
	"                              has no runner (else such pods are left out and\n"
	"                              named on stderr)\n"
	"      --duration DUR          stop after DUR (seconds, or 30s, 5m, 1h; the policy\n"
	"                              may cap it; --deadline is the same flag)\n"
	"  -o, --output FORMAT         text (as bpftrace prints), json (the NDJSON stream),\n"
	"                              yaml (one document per record) or bpftrace-json\n"
	"                              (as bpftrace -f json prints)\n"
	"      --prefix                begin each output line with its source,\n"
	"                              [pod/NAME/NODE] (as kubectl logs --prefix)\n"
	"      --detach                start the trace and return its name: it runs on the\n"
	"                              nodes with nobody attached until its duration (the\n"
	"                              policy's maximum without --duration); see get, logs,\n"
	"                              attach, delete\n"
	"\n" GLOBAL_FLAGS "\n" EXIT_STATUS;

static const char usage_get[] =
	"List the detached traces of a namespace (kubectl trace run --detach), or show\n"
	"one.  Everyone sees their own; others' need RBAC's list (get) on traces in\n"
	"the namespace.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace get [NAME] [-o json|yaml]\n"
	"\n"
	"Examples:\n"
	"  kubectl trace get -n team-a\n"
	"  kubectl trace get 0b5c... -o yaml\n"
	"\n"
	"Columns: NAME, TARGET, NODES, STATE (Pending, Running, Stopping, Succeeded,\n"
	"Failed), EVENTS (the records printed so far while it runs, the events its\n"
	"programs counted once it ended), AGE.\n"
	"\n"
	"Flags:\n"
	"  -o, --output FORMAT         text (a table), json or yaml (Trace, TraceList)\n"
	"\n" GLOBAL_FLAGS;

static const char usage_logs[] =
	"Print what a detached trace printed: the runners keep its last 1 MiB of\n"
	"records per node, for 10 minutes after it ends.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace logs NAME [-f] [--timestamps]\n"
	"\n"
	"Examples:\n"
	"  kubectl trace logs 0b5c... -n team-a\n"
	"  kubectl trace logs -f --timestamps 0b5c...\n"
	"\n"
	"Flags:\n"
	"  -f, --follow                go on printing what it prints, until it ends\n"
	"                              (Ctrl-C leaves it running)\n"
	"      --timestamps            begin each line with the time the runner got it\n"
	"  -o, --output FORMAT         text, json (the NDJSON records), yaml or\n"
	"                              bpftrace-json (as bpftrace -f json prints)\n"
	"      --prefix                begin each output line with its source\n"
	"\n" GLOBAL_FLAGS;

static const char usage_attach[] =
	"Attach to a detached trace: print what it printed and goes on printing, as\n"
	"run would.  Ctrl-C ends the trace as an attached one's: END runs, the maps\n"
	"are printed (a second Ctrl-C leaves, the trace going on).\n"
	"\n"
	"Usage:\n"
	"  kubectl trace attach NAME\n"
	"\n"
	"Flags:\n"
	"  -o, --output FORMAT         text, json, yaml or bpftrace-json\n"
	"      --prefix                begin each output line with its source\n"
	"\n" GLOBAL_FLAGS "\n" EXIT_STATUS;

static const char usage_delete[] =
	"Delete a detached trace: its programs stop, END runs and everything is\n"
	"unloaded from the nodes; the answer comes once that is done.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace delete NAME\n"
	"\n" GLOBAL_FLAGS;

static const char usage_list[] =
	"List the probes your TracePolicy lets you attach on the node of a pod, as\n"
	"bpftrace -l lists them (-v: with each tracepoint's fields, as bpftrace -lv).\n"
	"The pod's node lists what it offers; the gateway keeps the probes a program\n"
	"of yours could attach there.  Authorized as 'kubectl trace check' on the pod.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace list [PATTERN] TARGET [-v] [-o json|yaml]\n"
	"\n"
	"PATTERN is a glob matched against whole probe names (letters, digits and\n"
	"_ - . : * ?, at most 256 characters); TARGET is pod/NAME or NAME.\n"
	"\n"
	"Examples:\n"
	"  kubectl trace list pod/web-a -n team-a\n"
	"  kubectl trace list 'tracepoint:syscalls:sys_enter_open*' pod/web-a -v\n"
	"\n"
	"Flags:\n"
	"  -v, --verbose               each tracepoint's fields (-v N, a number, is still\n"
	"                              the log level)\n"
	"  -o, --output FORMAT         text, json or yaml: the ProbeList object\n"
	"\n" GLOBAL_FLAGS;

static const char usage_check[] =
	"Ask the gateway whether a program would be allowed on a target, without\n"
	"running it: authorization, the target's pods and nodes, the policy that\n"
	"allows it (or why none does).\n"
	"\n"
	"Usage:\n"
	"  kubectl trace check TARGET (-e PROGRAM | -f FILE) [flags] [ARGS...]\n"
	"  kubectl trace check -l SELECTOR [-A] (-e PROGRAM | -f FILE) [flags] [-- ARGS...]\n"
	"\n"
	"Examples:\n"
	"  kubectl trace check pod/web-a -n team-a -e 'kprobe:vfs_read { @ = count(); }'\n"
	"  kubectl trace check deployment/web -f opens.bt -o json\n"
	"  kubectl trace check node/node-1 -e 'kprobe:vfs_read { @ = count(); }'\n"
	"\n"
	"Flags:\n"
	"  -e, --expr PROGRAM          the program text\n"
	"  -f, --filename FILE         read the program from FILE (- for standard input)\n"
	"  -c, --container NAME        one container of each pod (as run -c)\n"
	"  -l, --selector SELECTOR     every Running pod matching it (as run -l)\n"
	"  -A, --all-namespaces        with -l: in every namespace (as run -A)\n"
	"      --all-nodes             refuse when a pod's node has no runner (as run)\n"
	"      --duration DUR          the duration to ask for\n"
	"  -o, --output FORMAT         text, json or yaml: the decision as an object\n"
	"\n" GLOBAL_FLAGS "\n"
	"Exit status: 0 allowed, 3 denied, 4 the program does not parse, 1 the\n"
	"gateway could not decide, 2 usage.\n";

static const char usage_version[] =
	"Print the client's version, commit and build date and, when a gateway is\n"
	"reachable, the gateway's.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace version [--client] [-o json|yaml]\n"
	"\n"
	"Examples:\n"
	"  kubectl trace version\n"
	"  kubectl trace version --client -o json\n"
	"\n"
	"Flags:\n"
	"      --client                the client's version only (no request)\n"
	"  -o, --output FORMAT         text, json or yaml\n"
	"\n" GLOBAL_FLAGS;

static const char usage_completion[] =
	"Print a shell completion script for kubectl-trace typed as a command.\n"
	"Completion under 'kubectl trace' needs no script: kubectl 1.26 and later run\n"
	"kubectl_complete-trace, installed beside kubectl-trace.\n"
	"\n"
	"Usage:\n"
	"  kubectl trace completion bash|zsh\n"
	"\n"
	"Examples:\n"
	"  source <(kubectl trace completion bash)\n"
	"  kubectl trace completion zsh > \"${fpath[1]}/_kubectl-trace\"\n";

const char *kt_usage(enum kt_cmd cmd)
{
	switch (cmd) {
	case KT_CMD_RUN: return usage_run;
	case KT_CMD_CHECK: return usage_check;
	case KT_CMD_VERSION: return usage_version;
	case KT_CMD_COMPLETION: return usage_completion;
	case KT_CMD_GET: return usage_get;
	case KT_CMD_LIST: return usage_list;
	case KT_CMD_LOGS: return usage_logs;
	case KT_CMD_ATTACH: return usage_attach;
	case KT_CMD_DELETE: return usage_delete;
	default: return usage_overview;
	}
}

static int cli_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (ret_err) {
		va_start(ap, fmt);
		if (vasprintf(ret_err, fmt, ap) < 0)
			*ret_err = NULL;
		va_end(ap);
	}
	return -EINVAL;
}

enum opt_id {
	OPT_NS, OPT_EXPR, OPT_FILE, OPT_DURATION, OPT_GATEWAY, OPT_GATEWAY_CA, OPT_OUTPUT,
	OPT_CONTEXT, OPT_KUBECONFIG, OPT_CLUSTER, OPT_USER, OPT_TOKEN, OPT_TIMEOUT, OPT_HELP,
	OPT_PREFIX, OPT_VERBOSITY, OPT_CLIENT, OPT_AS, OPT_AS_GROUP, OPT_DETACH, OPT_FOLLOW,
	OPT_TIMESTAMPS, OPT_LIST_VERBOSE, OPT_CONTAINER, OPT_SELECTOR, OPT_ALL_NAMESPACES,
	OPT_ALL_NODES,
};

/* Which commands take a flag (a bit per enum kt_cmd); 0: every command. */
#define FOR(c) (1u << (c))
#define PROGRAM_CMDS (FOR(KT_CMD_RUN) | FOR(KT_CMD_CHECK))
#define DETACHED_CMDS (FOR(KT_CMD_GET) | FOR(KT_CMD_LOGS) | FOR(KT_CMD_ATTACH) | FOR(KT_CMD_DELETE))
#define STREAM_CMDS (FOR(KT_CMD_RUN) | FOR(KT_CMD_LOGS) | FOR(KT_CMD_ATTACH))

struct opt {
	const char *longname;
	char shortname;
	bool has_arg;
	enum opt_id id;
	unsigned cmds;
	const char *help;         /* for completion */
};

static const struct opt opts[] = {
	{ "namespace", 'n', true, OPT_NS, 0, "the target's namespace" },
	{ "expr", 'e', true, OPT_EXPR, PROGRAM_CMDS, "the program text" },
	{ "eval", 0, true, OPT_EXPR, PROGRAM_CMDS, "the same as --expr (iovisor kubectl-trace)" },
	/* before filename: logs' -f is kubectl logs' (find_short picks by command) */
	{ "follow", 'f', false, OPT_FOLLOW, FOR(KT_CMD_LOGS), "go on printing until the trace ends" },
	{ "filename", 'f', true, OPT_FILE, PROGRAM_CMDS, "read the program from a file (- for stdin)" },
	{ "file", 0, true, OPT_FILE, PROGRAM_CMDS, "the same as --filename" },
	{ "container", 'c', true, OPT_CONTAINER, PROGRAM_CMDS, "trace this container of each pod only" },
	{ "selector", 'l', true, OPT_SELECTOR, PROGRAM_CMDS,
	  "every Running pod matching this label selector (app=web, tier in (a,b))" },
	{ "all-namespaces", 'A', false, OPT_ALL_NAMESPACES, PROGRAM_CMDS,
	  "with -l: the matching pods of every namespace" },
	{ "all-nodes", 0, false, OPT_ALL_NODES, PROGRAM_CMDS,
	  "refuse the trace when a pod's node has no runner, instead of leaving the pod out" },
	{ "duration", 0, true, OPT_DURATION, PROGRAM_CMDS, "stop after this long" },
	{ "deadline", 0, true, OPT_DURATION, PROGRAM_CMDS, "the same as --duration (iovisor kubectl-trace)" },
	{ "output", 'o', true, OPT_OUTPUT, PROGRAM_CMDS | STREAM_CMDS | FOR(KT_CMD_VERSION) | FOR(KT_CMD_GET) |
	  FOR(KT_CMD_LIST), "text, json, yaml (bpftrace-json: run, logs, attach)" },
	{ "verbose", 0, false, OPT_LIST_VERBOSE, FOR(KT_CMD_LIST), "each tracepoint's fields (bpftrace -lv)" },
	{ "prefix", 0, false, OPT_PREFIX, STREAM_CMDS, "begin each line with its source" },
	{ "detach", 0, false, OPT_DETACH, FOR(KT_CMD_RUN), "start it, return its name, leave it running" },
	{ "timestamps", 0, false, OPT_TIMESTAMPS, FOR(KT_CMD_LOGS), "begin each line with its time" },
	{ "client", 0, false, OPT_CLIENT, FOR(KT_CMD_VERSION), "the client's version only" },
	{ "gateway", 0, true, OPT_GATEWAY, 0, "the tracegate gateway URL" },
	{ "gateway-ca", 0, true, OPT_GATEWAY_CA, 0, "CA file for the gateway" },
	{ "context", 0, true, OPT_CONTEXT, 0, "the kubeconfig context" },
	{ "kubeconfig", 0, true, OPT_KUBECONFIG, 0, "the kubeconfig file" },
	{ "cluster", 0, true, OPT_CLUSTER, 0, "the kubeconfig cluster" },
	{ "user", 0, true, OPT_USER, 0, "the kubeconfig user" },
	{ "token", 0, true, OPT_TOKEN, 0, "a bearer token" },
	{ "as", 0, true, OPT_AS, PROGRAM_CMDS | DETACHED_CMDS | FOR(KT_CMD_LIST), "impersonate this user" },
	{ "as-group", 0, true, OPT_AS_GROUP, PROGRAM_CMDS | DETACHED_CMDS | FOR(KT_CMD_LIST),
	  "impersonate this group (repeatable)" },
	{ "request-timeout", 0, true, OPT_TIMEOUT, 0, "give up connecting after this long" },
	{ "v", 'v', true, OPT_VERBOSITY, 0, "log requests to stderr (6, 8)" },
	{ "help", 'h', false, OPT_HELP, 0, "help for the command" },
};

/* SECONDS, or a number with s, m or h. */
static int parse_seconds(const char *s, uint64_t *ret)
{
	char num[24];
	size_t len = strlen(s);
	uint64_t n, mul = 1;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	if (num[len - 1] == 's' || num[len - 1] == 'm' || num[len - 1] == 'h') {
		mul = num[len - 1] == 's' ? 1 : num[len - 1] == 'm' ? 60 : 3600;
		num[len - 1] = '\0';
	}
	if (num[0] < '0' || num[0] > '9' || parse_u64(num, &n) < 0 || n > UINT32_MAX)
		return -EINVAL;
	*ret = n * mul;
	return 0;
}

static int set_opt(struct kt_args *a, const struct opt *o, const char *v, const char *spelled,
		   char **ret_err)
{
	uint64_t n;

	switch (o->id) {
	case OPT_NS:
		if (!*v)
			return cli_err(ret_err, "flag %s: empty namespace", spelled);
		a->ns = v;
		break;
	case OPT_EXPR:
		a->expr = v;
		break;
	case OPT_FILE:
		a->file = v;
		break;
	case OPT_CONTAINER:
		/* the gateway checks the name (a DNS-1123 label) and says why */
		if (!*v)
			return cli_err(ret_err, "flag %s: empty container name", spelled);
		a->container = v;
		break;
	case OPT_SELECTOR: {
		struct kube_selector *sel = NULL;
		char *err = NULL;
		int r = kube_selector_parse(v, &sel, &err);

		if (r < 0) {
			r = r == -ENOMEM ? r : cli_err(ret_err, "flag %s: %s", spelled, err ? err : "invalid");
			free(err);
			return r;
		}
		kube_selector_free(sel);
		a->selector = v;   /* the gateway reads it again, and canonically */
		break;
	}
	case OPT_ALL_NAMESPACES:
		a->all_namespaces = true;
		break;
	case OPT_ALL_NODES:
		a->all_nodes = true;
		break;
	case OPT_DURATION:
		if (parse_seconds(v, &n) < 0 || n == 0)
			return cli_err(ret_err, "flag %s \"%s\": want a positive number of seconds", spelled, v);
		if (n > KT_MAX_DURATION)
			return cli_err(ret_err, "flag %s \"%s\": more than %u seconds", spelled, v,
				       KT_MAX_DURATION);
		a->duration = n;
		break;
	case OPT_GATEWAY:
		if (!str_has_prefix(v, "https://") && !str_has_prefix(v, "http://"))
			return cli_err(ret_err, "flag %s \"%s\": want an https:// URL", spelled, v);
		a->gateway = v;
		break;
	case OPT_GATEWAY_CA:
		a->gateway_ca = v;
		break;
	case OPT_OUTPUT:
		if (!strcmp(v, "text"))
			a->output = KT_OUT_TEXT;
		else if (!strcmp(v, "json"))
			a->output = KT_OUT_JSON;
		else if (!strcmp(v, "yaml"))
			a->output = KT_OUT_YAML;
		else if (!strcmp(v, "bpftrace-json"))
			a->output = KT_OUT_BPFTRACE_JSON;   /* for streams only: kt_args_parse */
		else
			return cli_err(ret_err, "flag %s \"%s\": want text, json, yaml or bpftrace-json",
				       spelled, v);
		break;
	case OPT_CONTEXT:
		a->context = v;
		break;
	case OPT_KUBECONFIG:
		a->kubeconfig = v;
		break;
	case OPT_CLUSTER:
		a->cluster = v;
		break;
	case OPT_USER:
		a->user = v;
		break;
	case OPT_TOKEN:
		a->token = v;
		break;
	case OPT_AS:
	case OPT_AS_GROUP:
		/* a header value: printable, no spaces, bounded */
		if (!*v || strlen(v) > KT_MAX_AS_NAME)
			return cli_err(ret_err, "flag %s: want a name of 1 to %u characters", spelled,
				       KT_MAX_AS_NAME);
		for (const char *p = v; *p; p++)
			if (*p < '!' || *p > '~')
				return cli_err(ret_err, "flag %s \"%s\": a name of printable characters without spaces",
					       spelled, v);
		if (o->id == OPT_AS) {
			a->as = v;
		} else {
			if (a->nas_groups >= KT_MAX_AS_GROUPS)
				return cli_err(ret_err, "flag %s: more than %u groups", spelled,
					       KT_MAX_AS_GROUPS);
			a->as_groups[a->nas_groups++] = v;
		}
		break;
	case OPT_TIMEOUT:
		/* kubectl's form: 0 (none), 30, 30s, 1m, 1h */
		if (parse_seconds(v, &n) < 0 || n > 86400)
			return cli_err(ret_err, "flag %s \"%s\": want a duration like 30s", spelled, v);
		a->request_timeout_ms = (long)n * 1000;
		break;
	case OPT_HELP:
		a->help = true;
		break;
	case OPT_PREFIX:
		a->prefix = true;
		break;
	case OPT_CLIENT:
		a->client_only = true;
		break;
	case OPT_DETACH:
		a->detach = true;
		break;
	case OPT_FOLLOW:
		a->follow = true;
		break;
	case OPT_TIMESTAMPS:
		a->timestamps = true;
		break;
	case OPT_LIST_VERBOSE:
		a->list_verbose = true;
		break;
	case OPT_VERBOSITY:
		if (v[0] < '0' || v[0] > '9' || parse_u64(v, &n) < 0 || n > KT_MAX_VERBOSITY)
			return cli_err(ret_err, "flag %s \"%s\": want a level from 0 to %d", spelled, v,
				       KT_MAX_VERBOSITY);
		a->verbosity = (int)n;
		break;
	}
	return 0;
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strlen(opts[i].longname) == len && !strncmp(opts[i].longname, name, len))
			return &opts[i];
	return NULL;
}

/* The first flag spelled -c that cmd takes, else the first spelled -c
 * (which cmd then refuses as a flag that does not apply). */
static const struct opt *find_short_for(char c, enum kt_cmd cmd)
{
	const struct opt *any = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
		if (opts[i].shortname != c)
			continue;
		if (cmd == KT_CMD_NONE || !opts[i].cmds || (opts[i].cmds & FOR(cmd)))
			return &opts[i];
		if (!any)
			any = &opts[i];
	}
	return any;
}

/* The pre-scan and completion, before the command is known: -f is a
 * file's (it takes a value) */
static const struct opt *find_short(char c)
{
	return find_short_for(c, KT_CMD_RUN);
}

static int add_positional(struct kt_args *a, const char **pos, size_t *npos, const char *s,
			  char **ret_err)
{
	if (*npos >= KT_MAX_PARAMS + 2)
		return cli_err(ret_err, "more than %u program arguments", KT_MAX_PARAMS);
	pos[(*npos)++] = s;
	return 0;
}

static const struct {
	const char *name;
	enum kt_cmd cmd;
	const char *help;
} commands[] = {
	{ "run", KT_CMD_RUN, "run a program on a pod or workload" },
	{ "check", KT_CMD_CHECK, "ask whether a program would be allowed" },
	{ "get", KT_CMD_GET, "list detached traces, or show one" },
	{ "logs", KT_CMD_LOGS, "what a detached trace printed" },
	{ "attach", KT_CMD_ATTACH, "follow a detached trace, Ctrl-C ends it" },
	{ "delete", KT_CMD_DELETE, "stop and unload a detached trace" },
	{ "list", KT_CMD_LIST, "the probes your policy allows on a pod's node" },
	{ "version", KT_CMD_VERSION, "client and gateway versions" },
	{ "completion", KT_CMD_COMPLETION, "a shell completion script" },
	{ "help", KT_CMD_HELP, "help on a command" },
};

static bool dns_subdomain(const char *s);

static int command_of(const char *s, enum kt_cmd *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(s, commands[i].name)) {
			*ret = commands[i].cmd;
			return 0;
		}
	return -ENOENT;
}

/* What the flag loop leaves for the command's checks */
struct parse_state {
	const char **pos;      /* the positionals, the command first */
	size_t npos;
	size_t npos_flags;     /* positionals before "--" */
	const struct opt *seen[ARRAY_SIZE(opts)];
	char seen_spelled[ARRAY_SIZE(opts)][64];
};

/* The command first: a short flag may mean another thing to it
 * (logs -f follows, run -f reads a file) */
static enum kt_cmd prescan_command(int argc, char **argv)
{
	enum kt_cmd cmd = KT_CMD_NONE;

	for (int i = 1; i < argc; i++) {
		const struct opt *o = argv[i][0] == '-' ? (argv[i][1] == '-'
				? find_long(argv[i] + 2, strcspn(argv[i] + 2, "=")) : find_short(argv[i][1]))
							: NULL;

		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-') {
			(void)command_of(argv[i], &cmd);
			break;
		}
		if (o && o->has_arg && !strchr(argv[i], '=') && (argv[i][1] == '-' || !argv[i][2]))
			i++;   /* its value */
	}
	return cmd;
}

/* One flag at argv[*i], with its value when it takes one (*i then moves
 * past a value given as the next word) */
static int parse_flag(struct kt_args *a, struct parse_state *st, int argc, char **argv, int *i,
		      enum kt_cmd cmd, char **ret_err)
{
	const char *s = argv[*i];
	const struct opt *o;
	const char *val = NULL;
	char spelled[64];

	if (cmd == KT_CMD_LIST && !strcmp(s, "-v") && (*i + 1 >= argc || argv[*i + 1][0] < '0' ||
						       argv[*i + 1][0] > '9')) {
		/* list -v is bpftrace's -lv; -v N (a number) stays the log level */
		o = find_long("verbose", strlen("verbose"));
		st->seen[o - opts] = o;
		snprintf(st->seen_spelled[o - opts], sizeof(st->seen_spelled[0]), "-v");
		a->list_verbose = true;
		return 0;
	}
	if (s[1] == '-') {
		const char *eq = strchr(s + 2, '=');
		size_t len = eq ? (size_t)(eq - (s + 2)) : strlen(s + 2);

		o = find_long(s + 2, len);
		snprintf(spelled, sizeof(spelled), "--%.*s", (int)MIN(len, 40), s + 2);
		if (!o)
			return cli_err(ret_err, "unknown flag \"%s\"", spelled);
		if (eq)
			val = eq + 1;
	} else {
		o = find_short_for(s[1], cmd);
		snprintf(spelled, sizeof(spelled), "-%c", s[1]);
		if (!o)
			return cli_err(ret_err, "unknown flag \"%s\"", spelled);
		if (s[2])
			val = s[2] == '=' ? s + 3 : s + 2;
	}
	st->seen[o - opts] = o;
	memcpy(st->seen_spelled[o - opts], spelled, sizeof(spelled));
	if (!o->has_arg) {
		if (val)
			return cli_err(ret_err, "flag %s takes no value", spelled);
		return set_opt(a, o, NULL, spelled, ret_err);
	}
	if (!val) {
		if (*i + 1 >= argc)
			return cli_err(ret_err, "flag %s needs a value", spelled);
		val = argv[++*i];
	}
	return set_opt(a, o, val, spelled, ret_err);
}

/* Every word after the program's name: flags, and positionals (all of
 * them after "--") */
static int parse_words(struct kt_args *a, struct parse_state *st, int argc, char **argv, enum kt_cmd cmd,
		       char **ret_err)
{
	bool flags_done = false;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (flags_done || s[0] != '-' || !s[1]) {
			r = add_positional(a, st->pos, &st->npos, s, ret_err);
			if (r < 0)
				return r;
			continue;
		}
		if (!strcmp(s, "--")) {
			flags_done = true;
			st->npos_flags = st->npos;
			continue;
		}
		r = parse_flag(a, st, argc, argv, &i, cmd, ret_err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* help, and --help on any command */
static int finish_help(struct kt_args *a, const struct parse_state *st, char **ret_err)
{
	const char **pos = st->pos;

	if (a->cmd == KT_CMD_HELP) {
		a->help_for = KT_CMD_NONE;
		if (st->npos > 2)
			return cli_err(ret_err, "help takes one command");
		if (st->npos == 2 && (command_of(pos[1], &a->help_for) < 0 || a->help_for == KT_CMD_HELP))
			return cli_err(ret_err, "help: unknown command \"%s\" (want run, check, get, logs, attach, delete, list, "
				       "version or completion)",
				       pos[1]);
		return 0;
	}
	/* `run --help` wants no TARGET: the help is the answer */
	a->help_for = a->cmd;
	a->cmd = KT_CMD_HELP;
	return 0;
}

/* The flags given against what the command takes */
static int check_flags_apply(const struct kt_args *a, const struct parse_state *st, char **ret_err)
{
	const char **pos = st->pos;

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (st->seen[i] && st->seen[i]->cmds && !(st->seen[i]->cmds & FOR(a->cmd)))
			return cli_err(ret_err, "%s: flag %s does not apply (see 'kubectl trace %s --help')",
				       pos[0], st->seen_spelled[i], pos[0]);
	/* bpftrace's records are a trace's output: nothing else has them */
	if (a->output == KT_OUT_BPFTRACE_JSON && (!(FOR(a->cmd) & STREAM_CMDS) || a->detach))
		return cli_err(ret_err, "%s: -o bpftrace-json is for run, logs and attach (without --detach)",
			       pos[0]);
	if (a->output == KT_OUT_BPFTRACE_JSON && (a->prefix || a->timestamps))
		return cli_err(ret_err, "%s: %s does not apply to -o bpftrace-json (bpftrace's records have no source)",
			       pos[0], a->prefix ? "--prefix" : "--timestamps");
	return 0;
}

/* get, logs, attach, delete: a detached trace's NAME */
static int finish_named(struct kt_args *a, const struct parse_state *st, char **ret_err)
{
	const char **pos = st->pos;
	size_t npos = st->npos;

	if (npos > 2 || (npos < 2 && a->cmd != KT_CMD_GET))
		return cli_err(ret_err, "%s: want %sthe trace's NAME (see 'kubectl trace get')", pos[0],
			       a->cmd == KT_CMD_GET ? "at most " : "");
	if (npos == 2 && !dns_subdomain(pos[1]))
		return cli_err(ret_err, "%s: \"%s\" is not a trace's name", pos[0], pos[1]);
	a->name = npos == 2 ? pos[1] : NULL;
	return 0;
}

/* list [PATTERN] TARGET */
static int finish_list(struct kt_args *a, const struct parse_state *st, char **ret_err)
{
	_cleanup_free_ char *norm = NULL;
	const char **pos = st->pos;
	size_t npos = st->npos;
	const char *why = NULL;
	int r;

	if (npos < 2 || npos > 3)
		return cli_err(ret_err, "list: want [PATTERN] TARGET (pod/NAME or NAME)");
	a->target = pos[npos - 1];
	a->pattern = npos == 3 ? pos[1] : NULL;
	r = kt_target_check(a->target, ret_err);
	if (r < 0)
		return r;
	norm = kt_target_normalize(a->target);
	if (!norm)
		return -ENOMEM;
	if (strchr(norm, '/') && strncmp(norm, "pod/", 4))
		return cli_err(ret_err, "list: target \"%s\": probes are listed for a pod's node (want pod/NAME)",
			       a->target);
	if (!probe_pattern_valid(a->pattern, &why))
		return cli_err(ret_err, "list: pattern \"%.64s%s\": %s", a->pattern,
			       strlen(a->pattern) > 64 ? "..." : "", why);
	if (a->nas_groups && !a->as)
		return cli_err(ret_err, "%s: --as-group needs --as (groups are impersonated only with a user)",
			       pos[0]);
	return 0;
}

/* run and check: TARGET or -l, the program, and which flags go together */
static int check_program_cmd(struct kt_args *a, const struct parse_state *st, size_t *ret_first,
			     char **ret_err)
{
	const char **pos = st->pos;
	size_t npos = st->npos;
	size_t first = 2;
	int r;

	if (a->all_namespaces && !a->selector)
		return cli_err(ret_err, "%s: -A (--all-namespaces) needs -l SELECTOR: a TARGET is one "
				       "namespace's", pos[0]);
	if (a->selector) {
		/* as kubectl's: a name and a selector exclude each other; the
		 * program's ARGS come after -- */
		if (MIN(npos, st->npos_flags) > 1)
			return cli_err(ret_err, "%s: a TARGET (\"%.64s\") and -l cannot be given together "
					       "(program ARGS with -l go after --)", pos[0], pos[1]);
		first = 1;
	} else if (npos < 2) {
		return cli_err(ret_err, "%s: no TARGET (pod/NAME, NAME, a workload such as deployment/NAME, "
				       "node/NAME) or -l SELECTOR", pos[0]);
	} else {
		a->target = pos[1];
		r = kt_target_check(a->target, ret_err);
		if (r < 0)
			return r;
	}
	if (!a->expr == !a->file)
		return cli_err(ret_err, "%s: give the program with exactly one of -e PROGRAM and -f FILE",
			       pos[0]);
	if (a->detach && a->cmd != KT_CMD_RUN)
		return cli_err(ret_err, "%s: --detach is for run", pos[0]);
	if (a->target && kt_target_is_node(a->target) && a->detach)
		return cli_err(ret_err, "%s: --detach: a node-wide trace (%s) cannot be detached yet", pos[0], a->target);
	if (a->all_namespaces && a->detach)
		return cli_err(ret_err, "%s: --detach: a trace with -A cannot be detached (it would be filed in one "
				       "namespace and readable with that namespace's rights alone)", pos[0]);
	if (a->target && kt_target_is_node(a->target) && a->container)
		return cli_err(ret_err, "%s: -c: a node-wide trace (%s) has no container: it sees the whole node",
			       pos[0], a->target);
	if (a->nas_groups && !a->as)
		return cli_err(ret_err, "%s: --as-group needs --as (groups are impersonated only with a user)",
			       pos[0]);
	if (a->expr && strlen(a->expr) > KT_MAX_PROGRAM)
		return cli_err(ret_err, "-e: the program is longer than %u bytes", KT_MAX_PROGRAM);
	*ret_first = first;
	return 0;
}

/* The program's ARGS: the positionals from first on */
static int collect_params(struct kt_args *a, const struct parse_state *st, size_t first, char **ret_err)
{
	a->nparams = st->npos - first;
	if (a->nparams > KT_MAX_PARAMS)
		return cli_err(ret_err, "more than %u program arguments", KT_MAX_PARAMS);
	a->params = calloc(a->nparams + 1, sizeof(*a->params));
	if (!a->params)
		return -ENOMEM;
	for (size_t i = 0; i < a->nparams; i++) {
		if (strlen(st->pos[first + i]) > KT_MAX_PARAM_LEN) {
			free(a->params);
			return cli_err(ret_err, "program argument %zu is longer than %u bytes", i + 1,
				       KT_MAX_PARAM_LEN);
		}
		a->params[i] = st->pos[first + i];
	}
	return 0;
}

/* The positionals and flags against the command they came with */
static int finish_command(struct kt_args *a, const struct parse_state *st, char **ret_err)
{
	size_t first = 2;
	int r;

	if (st->npos == 0) {
		a->cmd = KT_CMD_HELP;
		a->help_for = KT_CMD_NONE;
		return 0;
	}
	if (command_of(st->pos[0], &a->cmd) < 0) {
		if (a->help) {
			a->cmd = KT_CMD_HELP;
			return 0;
		}
		return cli_err(ret_err, "unknown command \"%s\" (want run, check, get, logs, attach, delete, list, version, "
				       "completion or help)",
			       st->pos[0]);
	}
	if (a->cmd == KT_CMD_HELP || a->help)
		return finish_help(a, st, ret_err);
	r = check_flags_apply(a, st, ret_err);
	if (r < 0)
		return r;
	switch (a->cmd) {
	case KT_CMD_VERSION:
		if (st->npos > 1)
			return cli_err(ret_err, "%s takes no arguments", st->pos[0]);
		return 0;
	case KT_CMD_GET:
	case KT_CMD_LOGS:
	case KT_CMD_ATTACH:
	case KT_CMD_DELETE:
		return finish_named(a, st, ret_err);
	case KT_CMD_LIST:
		return finish_list(a, st, ret_err);
	case KT_CMD_COMPLETION:
		if (st->npos != 2 || !kt_completion_script(st->pos[1]))
			return cli_err(ret_err, "completion: want one shell, bash or zsh");
		a->shell = st->pos[1];
		return 0;
	default:
		break;
	}
	r = check_program_cmd(a, st, &first, ret_err);
	if (r < 0)
		return r;
	return collect_params(a, st, first, ret_err);
}

int kt_args_parse(int argc, char **argv, struct kt_args *ret, char **ret_err)
{
	struct kt_args a = { .cmd = KT_CMD_NONE };
	_cleanup_free_ const char **pos = calloc(KT_MAX_PARAMS + 3, sizeof(*pos));
	struct parse_state st = { .pos = pos, .npos_flags = SIZE_MAX };
	enum kt_cmd cmd;
	int r;

	if (!pos)
		return -ENOMEM;
	cmd = prescan_command(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "__complete")) {
		a.cmd = KT_CMD_COMPLETE;
		a.words = argv + 2;
		a.nwords = (size_t)(argc - 2);
		*ret = a;
		return 0;
	}
	r = parse_words(&a, &st, argc, argv, cmd, ret_err);
	if (r < 0)
		return r;
	r = finish_command(&a, &st, ret_err);
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

/* --- completion ------------------------------------------------------------------- */

/* cobra's ShellCompDirective bits */
#define COMP_NOSPACE 2
#define COMP_NOFILE 4

static void comp_add(struct buf *out, const char *cand, const char *help, const char *prefix)
{
	if (!str_has_prefix(cand, prefix))
		return;
	buf_adds(out, cand);
	if (help) {
		buf_addc(out, '\t');
		buf_adds(out, help);
	}
	buf_addc(out, '\n');
}

int kt_complete(struct buf *out, char *const *words, size_t nwords)
{
	const char *cur = nwords ? words[nwords - 1] : "";
	const char *prev = nwords >= 2 ? words[nwords - 2] : NULL;
	enum kt_cmd cmd = KT_CMD_NONE;
	size_t npos = 0;
	int directive = COMP_NOFILE;

	/* the command and how many positionals precede the word */
	for (size_t i = 0; i + 1 < nwords; i++) {
		const char *w = words[i];

		if (w[0] == '-' && w[1]) {
			const struct opt *o = w[1] == '-' ? find_long(w + 2, strcspn(w + 2, "="))
							  : find_short_for(w[1], cmd == KT_CMD_NONE ? KT_CMD_RUN : cmd);

			if (o && o->has_arg && !strchr(w, '=') && (w[1] == '-' || !w[2]))
				i++;  /* its value */
			continue;
		}
		if (npos++ == 0 && command_of(w, &cmd) < 0)
			cmd = KT_CMD_NONE;
	}
	if (prev && prev[0] == '-' && !strchr(prev, '=')) {
		const struct opt *o = prev[1] == '-' ? find_long(prev + 2, strlen(prev + 2))
						     : (prev[1] && !prev[2] ? find_short_for(prev[1], cmd == KT_CMD_NONE
												? KT_CMD_RUN : cmd) : NULL);

		if (o && o->has_arg) {
			switch (o->id) {
			case OPT_OUTPUT:
				comp_add(out, "text", "as bpftrace prints", cur);
				comp_add(out, "json", NULL, cur);
				comp_add(out, "yaml", NULL, cur);
				if (FOR(cmd) & STREAM_CMDS)
					comp_add(out, "bpftrace-json", "as bpftrace -f json prints", cur);
				break;
			case OPT_FILE:
			case OPT_KUBECONFIG:
			case OPT_GATEWAY_CA:
				directive = 0;  /* the shell's file completion */
				break;
			default:
				break;
			}
			return buf_printf(out, ":%d\n", directive);
		}
	}
	if (cur[0] == '-') {
		for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
			char name[64];

			if (opts[i].cmds && cmd != KT_CMD_NONE && !(opts[i].cmds & FOR(cmd)))
				continue;
			snprintf(name, sizeof(name), "--%s", opts[i].longname);
			comp_add(out, name, opts[i].help, cur);
			if (opts[i].shortname && cur[1] != '-') {
				snprintf(name, sizeof(name), "-%c", opts[i].shortname);
				comp_add(out, name, opts[i].help, cur);
			}
		}
	} else if (npos == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			comp_add(out, commands[i].name, commands[i].help, cur);
	} else if (cmd == KT_CMD_HELP && npos == 1) {
		for (size_t i = 0; i + 1 < ARRAY_SIZE(commands); i++)
			comp_add(out, commands[i].name, commands[i].help, cur);
	} else if (cmd == KT_CMD_COMPLETION && npos == 1) {
		comp_add(out, "bash", NULL, cur);
		comp_add(out, "zsh", NULL, cur);
	} else if ((cmd == KT_CMD_RUN || cmd == KT_CMD_CHECK) && npos == 1 && !strchr(cur, '/')) {
		comp_add(out, "pod/", "a pod", cur);
		comp_add(out, "deployment/", "every running pod of a deployment", cur);
		comp_add(out, "replicaset/", "every running pod of a replicaset", cur);
		comp_add(out, "statefulset/", "every running pod of a statefulset", cur);
		comp_add(out, "daemonset/", "every running pod of a daemonset", cur);
		comp_add(out, "job/", "every running pod of a job", cur);
		comp_add(out, "cronjob/", "every running pod of a cronjob's jobs", cur);
		comp_add(out, "node/", "the whole node (create nodetraces, a policy with node scope)", cur);
		directive |= COMP_NOSPACE;
	}
	return buf_printf(out, ":%d\n", directive);
}

/* Both scripts ask the program itself (cobra's protocol) and drop the
 * directive line; a directive without COMP_NOFILE falls back to files. */
static const char completion_bash[] =
	"# bash completion for kubectl-trace (kubectl trace completion bash)\n"
	"_kubectl_trace() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} out directive\n"
	"\tout=$(kubectl-trace __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null) || return\n"
	"\tdirective=${out##*:}\n"
	"\tout=$(printf '%s\\n' \"$out\" | sed '$d' | cut -f1)\n"
	"\tCOMPREPLY=($(compgen -W \"$out\" -- \"$cur\"))\n"
	"\tif [ $((directive & 4)) -eq 0 ] && [ ${#COMPREPLY[@]} -eq 0 ]; then\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\tfi\n"
	"\t[ $((directive & 2)) -ne 0 ] && compopt -o nospace 2>/dev/null\n"
	"\treturn 0\n"
	"}\n"
	"complete -F _kubectl_trace kubectl-trace\n";

static const char completion_zsh[] =
	"#compdef kubectl-trace\n"
	"# zsh completion for kubectl-trace (kubectl trace completion zsh)\n"
	"_kubectl_trace() {\n"
	"\tlocal -a lines cands\n"
	"\tlocal directive line\n"
	"\tlines=(\"${(@f)$(kubectl-trace __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
	"\tdirective=${lines[-1]#:}\n"
	"\tfor line in \"${(@)lines[1,-2]}\"; do cands+=(\"${line//:/\\:}\"); done\n"
	"\tcands=(\"${(@)cands//$'\\t'/:}\")\n"
	"\tif (( ${#cands} )); then\n"
	"\t\tif (( directive & 2 )); then _describe 'kubectl-trace' cands -S ''\n"
	"\t\telse _describe 'kubectl-trace' cands; fi\n"
	"\telif (( ! (directive & 4) )); then\n"
	"\t\t_files\n"
	"\tfi\n"
	"}\n"
	"compdef _kubectl_trace kubectl-trace\n";

const char *kt_completion_script(const char *shell)
{
	if (!strcmp(shell, "bash"))
		return completion_bash;
	if (!strcmp(shell, "zsh"))
		return completion_zsh;
	return NULL;
}

void kt_args_release(struct kt_args *a)
{
	if (!a)
		return;
	free(a->params);
	a->params = NULL;
	a->nparams = 0;
}

/* RFC 1123 subdomain: what Kubernetes accepts as a pod name. */
static bool dns_subdomain(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '.')
			return false;
		if ((i == 0 || i == len - 1) && !alnum)
			return false;
	}
	return true;
}

/* kubectl's spellings of the kinds we trace, and what the gateway calls them. */
static const struct {
	const char *spelling;
	const char *kind;
} target_kinds[] = {
	{ "pod", "pod" },	      { "pods", "pod" },		{ "po", "pod" },
	{ "deployment", "deployment" }, { "deployments", "deployment" }, { "deploy", "deployment" },
	{ "replicaset", "replicaset" }, { "replicasets", "replicaset" }, { "rs", "replicaset" },
	{ "statefulset", "statefulset" }, { "statefulsets", "statefulset" }, { "sts", "statefulset" },
	{ "daemonset", "daemonset" },	{ "daemonsets", "daemonset" },	 { "ds", "daemonset" },
	{ "job", "job" },		{ "jobs", "job" },
	{ "cronjob", "cronjob" },	{ "cronjobs", "cronjob" },	 { "cj", "cronjob" },
	{ "node", "node" },		{ "nodes", "node" },		 { "no", "node" },
};

static const char *target_kind(const char *target, size_t kl)
{
	for (size_t i = 0; i < ARRAY_SIZE(target_kinds); i++)
		if (strlen(target_kinds[i].spelling) == kl && !strncmp(target, target_kinds[i].spelling, kl))
			return target_kinds[i].kind;
	return NULL;
}

int kt_target_check(const char *target, char **ret_err)
{
	const char *slash = strchr(target, '/');
	const char *name = target, *kind = "pod";

	if (slash) {
		size_t kl = (size_t)(slash - target);

		kind = target_kind(target, kl);
		if (!kind)
			return cli_err(ret_err, "target \"%s\": kind \"%.*s\" cannot be traced (want "
						"pod/NAME, NAME, deployment, replicaset, "
						"statefulset, daemonset, job or cronjob/NAME, or node/NAME)",
				       target, (int)MIN(kl, 64), target);
		name = slash + 1;
	}
	if (!dns_subdomain(name))
		return cli_err(ret_err, "target \"%s\": \"%s\" is not a valid %s name", target, name,
			       kind);
	return 0;
}

bool kt_target_is_node(const char *target)
{
	const char *slash = strchr(target, '/');
	const char *kind = slash ? target_kind(target, (size_t)(slash - target)) : NULL;

	return kind && !strcmp(kind, "node");
}

char *kt_target_normalize(const char *target)
{
	const char *slash = strchr(target, '/');
	const char *kind;
	char *s;

	if (!slash)
		return strdup(target);
	kind = target_kind(target, (size_t)(slash - target));
	if (!kind || asprintf(&s, "%s/%s", kind, slash + 1) < 0)
		return NULL;
	return s;
}
