// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lib/errors.h"
#include "lib/util.h"
#include "plugin/credential.h"
#include "lib/banned.h"

extern char **environ;

void kc_exec_cred_release(struct kc_exec_cred *c)
{
	if (!c)
		return;
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->cert);
	if (c->key)
		explicit_bzero(c->key, c->key_len);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

static bool api_supported(const char *v)
{
	return v && (!strcmp(v, "client.authentication.k8s.io/v1") ||
		     !strcmp(v, "client.authentication.k8s.io/v1beta1"));
}

int kc_exec_parse(const char *api_version, const char *out, size_t len, struct kc_exec_cred *ret,
		  char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct kc_exec_cred c = { 0 };
	const char *v, *tok, *cert, *key;
	json_t *st;
	json_error_t jerr;

	j = json_loadb(out, len, 0, &jerr);
	if (!json_is_object(j))
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin: output is not an ExecCredential: %s",
			    j ? "not an object" : jerr.text);
	v = json_string_value(json_object_get(j, "apiVersion"));
	if (!v || strcmp(v, api_version))
		return tg_fail(ret_err, -TG_EAUTHN,
			    "exec plugin: ExecCredential apiVersion \"%s\" does not match the configured \"%s\"",
			    v ? v : "", api_version);
	v = json_string_value(json_object_get(j, "kind"));
	if (!v || strcmp(v, "ExecCredential"))
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin: output kind is \"%s\", not ExecCredential",
			    v ? v : "");
	st = json_object_get(j, "status");
	if (!json_is_object(st))
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin: ExecCredential has no status");
	tok = json_string_value(json_object_get(st, "token"));
	cert = json_string_value(json_object_get(st, "clientCertificateData"));
	key = json_string_value(json_object_get(st, "clientKeyData"));
	if ((cert && *cert) != (key && *key))
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin: %s without %s",
			    cert && *cert ? "clientCertificateData" : "clientKeyData",
			    cert && *cert ? "clientKeyData" : "clientCertificateData");
	if (!(tok && *tok) && !(cert && *cert))
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin: ExecCredential has neither a token nor a client certificate");
	if (tok && *tok && !(c.token = strdup(tok)))
		return -ENOMEM;
	if (cert && *cert) {
		c.cert = strdup(cert);
		c.key = strdup(key);
		c.cert_len = strlen(cert);
		c.key_len = strlen(key);
		if (!c.cert || !c.key) {
			kc_exec_cred_release(&c);
			return -ENOMEM;
		}
	}
	*ret = c;
	return 0;
}

static char *exec_info(const struct kc_exec *x, const struct kc_cluster *cl, bool interactive)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	json_t *spec;

	j = json_pack("{s:s,s:s,s:{s:b}}", "apiVersion", x->api_version, "kind", "ExecCredential",
		      "spec", "interactive", interactive);
	if (!j)
		return NULL;
	spec = json_object_get(j, "spec");
	if (x->provide_cluster_info && cl) {
		json_t *c = json_object();

		if (!c)
			return NULL;
		json_object_set_new(c, "server", json_string(cl->server ? cl->server : ""));
		if (cl->tls_server_name)
			json_object_set_new(c, "tls-server-name", json_string(cl->tls_server_name));
		json_object_set_new(c, "insecure-skip-tls-verify", json_boolean(cl->insecure));
		if (cl->ca_data_b64)
			json_object_set_new(c, "certificate-authority-data", json_string(cl->ca_data_b64));
		json_object_set_new(spec, "cluster", c);
	}
	return json_dumps(j, JSON_COMPACT);
}

/* apiVersion and interactiveMode as kubectl checks them; *ret_interactive
 * says whether the plugin may prompt on the terminal */
static int exec_check_mode(const struct kc_exec *x, bool stdin_is_tty, bool *ret_interactive,
			   char **ret_err)
{
	const char *mode = x->interactive_mode;

	if (!x->api_version || !*x->api_version)
		return tg_fail(ret_err, -TG_ECONFIG, "exec plugin \"%s\": apiVersion is required", x->command);
	if (!api_supported(x->api_version))
		return tg_fail(ret_err, -TG_ECONFIG,
			    "exec plugin \"%s\": apiVersion \"%s\" is not supported (want client.authentication.k8s.io/v1 or v1beta1)",
			    x->command, x->api_version);
	if (!mode || !*mode) {
		if (!strcmp(x->api_version, "client.authentication.k8s.io/v1"))
			return tg_fail(ret_err, -TG_ECONFIG,
				    "exec plugin \"%s\": interactiveMode is required for client.authentication.k8s.io/v1",
				    x->command);
		mode = "IfAvailable";
	}
	if (strcmp(mode, "Never") && strcmp(mode, "IfAvailable") && strcmp(mode, "Always"))
		return tg_fail(ret_err, -TG_ECONFIG, "exec plugin \"%s\": interactiveMode \"%s\" is not Never, IfAvailable or Always",
			    x->command, mode);
	if (!strcmp(mode, "Always") && !stdin_is_tty)
		return tg_fail(ret_err, -TG_EAUTHN,
			    "exec plugin \"%s\": interactiveMode is Always but standard input is not a terminal",
			    x->command);
	*ret_interactive = stdin_is_tty && strcmp(mode, "Never");
	return 0;
}

/* The plugin's argv, and its environment: ours without a stale
 * KUBERNETES_EXEC_INFO, then the kubeconfig's, then infoenv */
static int exec_vectors(const struct kc_exec *x, char *infoenv, char ***ret_argv, char ***ret_envp)
{
	_cleanup_free_ char **argv = NULL, **envp = NULL;
	size_t nargs = 0, nenv = 0, nx = 0;

	for (char **a = x->args; a && *a; a++)
		nargs++;
	for (char **e = environ; e && *e; e++)
		nenv++;
	for (char **e = x->env; e && *e; e++)
		nx++;
	argv = calloc(nargs + 2, sizeof(*argv));
	envp = calloc(nenv + nx + 2, sizeof(*envp));
	if (!argv || !envp)
		return -ENOMEM;
	argv[0] = x->command;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = x->args[i];
	nenv = 0;
	for (char **e = environ; e && *e; e++)
		if (!str_has_prefix(*e, "KUBERNETES_EXEC_INFO="))
			envp[nenv++] = *e;
	for (char **e = x->env; e && *e; e++)
		envp[nenv++] = *e;
	envp[nenv++] = infoenv;
	*ret_argv = TAKE_PTR(argv);
	*ret_envp = TAKE_PTR(envp);
	return 0;
}

/* In the child: stdout into outp, stdin from /dev/null unless
 * interactive; exec's errno goes back through errp */
static _Noreturn void exec_child(const struct kc_exec *x, char **argv, char **envp, bool interactive,
				 int out_fd, int err_fd)
{
	int e;

	if (dup2(out_fd, 1) < 0)
		_exit(127);
	if (!interactive) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (nul < 0 || dup2(nul, 0) < 0)
			_exit(127);
	}
	/* stderr stays the user's: prompts and messages pass through */
	execvpe(x->command, argv, envp);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* The plugin's stdout into out, within KC_EXEC_TIMEOUT_MS and
 * KC_EXEC_MAX_OUTPUT */
static int exec_read_output(const struct kc_exec *x, int fd, struct buf *out, char **ret_err)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)KC_EXEC_TIMEOUT_MS * 1000000ull;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_mono_ns();
		char chunk[4096];
		ssize_t n;

		if (now >= deadline)
			return tg_fail(ret_err, -ETIMEDOUT, "exec plugin \"%s\": no answer within %d s",
				       x->command, KC_EXEC_TIMEOUT_MS / 1000);
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		if (buf_add(out, chunk, (size_t)n) < 0)
			return tg_fail(ret_err, -E2BIG, "exec plugin \"%s\": output longer than %u bytes",
				       x->command, KC_EXEC_MAX_OUTPUT);
	}
}

/* How the plugin ended: exec's errno, else its wait status */
static int exec_check_exit(const struct kc_exec *x, int child_errno, int status, char **ret_err)
{
	if (child_errno == ENOENT)
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin \"%s\" not found%s%s", x->command,
			       x->install_hint ? ": " : "", x->install_hint ? x->install_hint : "");
	if (child_errno)
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin \"%s\": %s", x->command, strerror(child_errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return tg_fail(ret_err, -TG_EAUTHN, "exec plugin \"%s\" failed (%s %d)", x->command,
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int kc_exec_run(const struct kc_exec *x, const struct kc_cluster *cl, bool stdin_is_tty,
		struct kc_exec_cred *ret, char **ret_err)
{
	_cleanup_free_ char *info = NULL, *infoenv = NULL;
	_cleanup_free_ char **argv = NULL, **envp = NULL;
	_cleanup_buf_ struct buf out = BUF_INIT(KC_EXEC_MAX_OUTPUT);
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	bool interactive = false;
	int status, child_errno = 0, r;
	pid_t pid;

	r = exec_check_mode(x, stdin_is_tty, &interactive, ret_err);
	if (r < 0)
		return r;
	info = exec_info(x, cl, interactive);
	if (!info || asprintf(&infoenv, "KUBERNETES_EXEC_INFO=%s", info) < 0)
		return -ENOMEM;
	r = exec_vectors(x, infoenv, &argv, &envp);
	if (r < 0)
		return r;

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto close_pipes;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto close_pipes;
	}
	if (pid == 0)
		exec_child(x, argv, envp, interactive, outp[1], errp[1]);
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;
	if (read(errp[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
		child_errno = 0;
	r = child_errno ? 0 : exec_read_output(x, outp[0], &out, ret_err);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		goto close_pipes;
	r = exec_check_exit(x, child_errno, status, ret_err);
	if (r < 0)
		goto close_pipes;
	r = kc_exec_parse(x->api_version, out.s, out.len, ret, ret_err);
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	explicit_bzero(out.s, out.len);
	return r;
}
