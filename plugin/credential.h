/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client-go's exec credential plugins (client.authentication.k8s.io/v1
 * and v1beta1): run the command with KUBERNETES_EXEC_INFO, read an
 * ExecCredential of the same apiVersion from its stdout.
 */
#ifndef TG_PLUGIN_CREDENTIAL_H
#define TG_PLUGIN_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include "plugin/kubeconfig.h"

#define KC_EXEC_MAX_OUTPUT (1u << 20)
#define KC_EXEC_TIMEOUT_MS 60000

struct kc_exec_cred {
	char *token;
	char *cert, *key;         /* PEM, plain (not base64) */
	size_t cert_len, key_len;
};

/* stdin_is_tty: whether the plugin may interact (interactiveMode). */
int kc_exec_run(const struct kc_exec *x, const struct kc_cluster *cl, bool stdin_is_tty,
		struct kc_exec_cred *ret, char **ret_err);
void kc_exec_cred_release(struct kc_exec_cred *c);

/* Parses an ExecCredential (exposed for tests). */
int kc_exec_parse(const char *api_version, const char *out, size_t len, struct kc_exec_cred *ret,
		  char **ret_err);

#endif
