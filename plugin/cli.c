// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/util.h"
#include "plugin/cli.h"
#include "lib/banned.h"

static const char usage_text[] =
	"kubectl trace: run bpftrace programs against your pods through tracegate\n"
	"\n"
	"usage:\n"
	"  kubectl trace run TARGET -n NS (-e PROG | -f FILE) [--duration SECONDS]\n"
	"                  [--gateway URL] [--gateway-ca FILE] [-o text|json] [--prefix]\n"
	"                  [ARGS...]\n"
	"  kubectl trace check TARGET -n NS (-e PROG | -f FILE) [ARGS...]\n"
	"  kubectl trace version\n"
	"\n"
	"TARGET is pod/NAME (or NAME), deployment/NAME or replicaset/NAME: a workload's\n"
	"running pods are traced on every node they run on, and its maps merged.\n"
	"ARGS are the program's $1, $2, ...\n"
	"\n"
	"options:\n"
	"  -e, --expr PROG         the program text\n"
	"  -f, --file FILE         read the program from FILE\n"
	"  -n, --namespace NS      the target's namespace (default: the context's)\n"
	"      --duration SECONDS  stop after this long (the policy may cap it)\n"
	"  -o, --output FORMAT     text (as bpftrace prints) or json (the raw NDJSON stream)\n"
	"      --prefix            begin each output line with its source, [pod/NAME/NODE]\n"
	"                          (as kubectl logs --prefix)\n"
	"      --gateway URL       the tracegate gateway (default: $TRACEGATE_URL, else the\n"
	"                          cluster's API server, which serves tracegate as an\n"
	"                          aggregated API)\n"
	"      --gateway-ca FILE   CA for the gateway (default: $TRACEGATE_CA, else the\n"
	"                          cluster's certificate authority)\n"
	"kubectl's flags: --kubeconfig FILE, --context NAME, --cluster NAME, --user NAME,\n"
	"  --token TOKEN, --request-timeout DURATION\n"
	"\n"
	"Exit status: 0 when the trace ran (or the program's exit code), 1 when refused\n"
	"or failed, 130 when interrupted; check: 0 allowed, 1 denied.\n";

const char *kt_usage(void)
{
	return usage_text;
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
	OPT_PREFIX,
};

struct opt {
	const char *longname;
	char shortname;
	bool has_arg;
	enum opt_id id;
};

static const struct opt opts[] = {
	{ "namespace", 'n', true, OPT_NS },
	{ "expr", 'e', true, OPT_EXPR },
	{ "file", 'f', true, OPT_FILE },
	{ "duration", 0, true, OPT_DURATION },
	{ "gateway", 0, true, OPT_GATEWAY },
	{ "gateway-ca", 0, true, OPT_GATEWAY_CA },
	{ "output", 'o', true, OPT_OUTPUT },
	{ "context", 0, true, OPT_CONTEXT },
	{ "kubeconfig", 0, true, OPT_KUBECONFIG },
	{ "cluster", 0, true, OPT_CLUSTER },
	{ "user", 0, true, OPT_USER },
	{ "token", 0, true, OPT_TOKEN },
	{ "request-timeout", 0, true, OPT_TIMEOUT },
	{ "help", 'h', false, OPT_HELP },
	{ "prefix", 0, false, OPT_PREFIX },
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
		else
			return cli_err(ret_err, "flag %s \"%s\": want text or json", spelled, v);
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
	case OPT_TIMEOUT:
		/* kubectl's form: 0 (none), 30, 30s, 1m, 1h */
		if (parse_seconds(v, &n) < 0 || n > 86400)
			return cli_err(ret_err, "flag %s \"%s\": want a duration like 30s", spelled, v);
		a->request_timeout_ms = (long)n * 1000;
		break;
	case OPT_HELP:
		a->cmd = KT_CMD_HELP;
		break;
	case OPT_PREFIX:
		a->prefix = true;
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

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].shortname == c)
			return &opts[i];
	return NULL;
}

static int add_positional(struct kt_args *a, const char **pos, size_t *npos, const char *s,
			  char **ret_err)
{
	if (*npos >= KT_MAX_PARAMS + 2)
		return cli_err(ret_err, "more than %u program arguments", KT_MAX_PARAMS);
	pos[(*npos)++] = s;
	return 0;
}

int kt_args_parse(int argc, char **argv, struct kt_args *ret, char **ret_err)
{
	struct kt_args a = { .cmd = KT_CMD_NONE };
	_cleanup_free_ const char **pos = calloc(KT_MAX_PARAMS + 3, sizeof(*pos));
	size_t npos = 0, first = 1;
	bool flags_done = false;
	int r;

	if (!pos)
		return -ENOMEM;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const struct opt *o;
		const char *val = NULL;
		char spelled[64];

		if (flags_done || s[0] != '-' || !s[1]) {
			r = add_positional(&a, pos, &npos, s, ret_err);
			if (r < 0)
				return r;
			continue;
		}
		if (!strcmp(s, "--")) {
			flags_done = true;
			continue;
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
			o = find_short(s[1]);
			snprintf(spelled, sizeof(spelled), "-%c", s[1]);
			if (!o)
				return cli_err(ret_err, "unknown flag \"%s\"", spelled);
			if (s[2])
				val = s[2] == '=' ? s + 3 : s + 2;
		}
		if (!o->has_arg) {
			if (val)
				return cli_err(ret_err, "flag %s takes no value", spelled);
			r = set_opt(&a, o, NULL, spelled, ret_err);
			if (r < 0)
				return r;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return cli_err(ret_err, "flag %s needs a value", spelled);
			val = argv[++i];
		}
		r = set_opt(&a, o, val, spelled, ret_err);
		if (r < 0)
			return r;
	}
	if (a.cmd == KT_CMD_HELP) {
		*ret = a;
		return 0;
	}
	if (npos == 0) {
		a.cmd = KT_CMD_HELP;
		*ret = a;
		return 0;
	}
	if (!strcmp(pos[0], "run"))
		a.cmd = KT_CMD_RUN;
	else if (!strcmp(pos[0], "check"))
		a.cmd = KT_CMD_CHECK;
	else if (!strcmp(pos[0], "version"))
		a.cmd = KT_CMD_VERSION;
	else if (!strcmp(pos[0], "help"))
		a.cmd = KT_CMD_HELP;
	else
		return cli_err(ret_err, "unknown command \"%s\" (want run, check or version)", pos[0]);
	if (a.cmd == KT_CMD_VERSION || a.cmd == KT_CMD_HELP) {
		if (npos > 1)
			return cli_err(ret_err, "%s takes no arguments", pos[0]);
		*ret = a;
		return 0;
	}
	if (npos < 2)
		return cli_err(ret_err, "%s: no TARGET (pod/NAME, NAME, deployment/NAME or replicaset/NAME)",
			       pos[0]);
	a.target = pos[1];
	r = kt_target_check(a.target, ret_err);
	if (r < 0)
		return r;
	if (!a.expr == !a.file)
		return cli_err(ret_err, "%s: give the program with exactly one of -e PROG and -f FILE",
			       pos[0]);
	if (a.expr && strlen(a.expr) > KT_MAX_PROGRAM)
		return cli_err(ret_err, "-e: the program is longer than %u bytes", KT_MAX_PROGRAM);
	first = 2;
	a.nparams = npos - first;
	if (a.nparams > KT_MAX_PARAMS)
		return cli_err(ret_err, "more than %u program arguments", KT_MAX_PARAMS);
	a.params = calloc(a.nparams + 1, sizeof(*a.params));
	if (!a.params)
		return -ENOMEM;
	for (size_t i = 0; i < a.nparams; i++) {
		if (strlen(pos[first + i]) > KT_MAX_PARAM_LEN) {
			free(a.params);
			return cli_err(ret_err, "program argument %zu is longer than %u bytes", i + 1,
				       KT_MAX_PARAM_LEN);
		}
		a.params[i] = pos[first + i];
	}
	*ret = a;
	return 0;
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
						"pod/NAME, deployment/NAME or replicaset/NAME)",
				       target, (int)MIN(kl, 64), target);
		name = slash + 1;
	}
	if (!dns_subdomain(name))
		return cli_err(ret_err, "target \"%s\": \"%s\" is not a valid %s name", target, name,
			       kind);
	return 0;
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
