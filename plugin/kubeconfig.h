/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubeconfig loading, merging and resolution as client-go's clientcmd does
 * it (docs/internals/plugin.md):
 *  - --kubeconfig: exactly that file, which must exist;
 *  - else KUBECONFIG, split on ':', duplicates and empty entries dropped,
 *    missing files skipped (a warning only when all are missing), an
 *    unreadable or unparsable file an error naming file:line:column;
 *  - else ~/.kube/config (missing: an empty configuration);
 *  - the first file that defines a cluster, user or context name wins that
 *    name whole; current-context comes from the first file that sets it;
 *  - relative paths (certificate-authority, client-certificate, client-key,
 *    tokenFile, exec.command with a '/') resolve against the directory of
 *    the file that defined the stanza.
 * Errors come back as negative codes with a message (caller frees).
 */
#ifndef TG_PLUGIN_KUBECONFIG_H
#define TG_PLUGIN_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KC_MAX_FILE (4u << 20)       /* one kubeconfig file */
#define KC_MAX_FILES 64              /* entries in KUBECONFIG */
#define KC_MAX_ENTRIES 10000         /* clusters/users/contexts per file */
#define KC_MAX_NODES (1u << 20)      /* YAML nodes visited in one file */
#define KC_MAX_CRED (1u << 20)       /* a CA, certificate, key or token file */
#define KC_MAX_AS_NAME 256           /* as, an as-groups entry: header values */
#define KC_MAX_AS_GROUPS 64

struct kc_exec {
	char *command;
	char **args;              /* NULL-terminated */
	char **env;               /* "NAME=value", NULL-terminated */
	char *api_version;
	char *install_hint;
	char *interactive_mode;
	bool provide_cluster_info;
};

struct kc_cluster {
	char *name;
	char *source;             /* file that defined it */
	char *server;
	char *ca_file;            /* resolved path */
	char *ca_data;            /* decoded certificate-authority-data */
	size_t ca_data_len;
	char *ca_data_b64;        /* as written, for KUBERNETES_EXEC_INFO */
	char *tls_server_name;
	bool insecure;
};

struct kc_user {
	char *name;
	char *source;
	char *token;
	char *token_file;         /* resolved path */
	char *cert_file, *key_file;
	char *cert_data, *key_data;
	size_t cert_data_len, key_data_len;
	struct kc_exec *exec;
	char *as;                 /* impersonate this user (kubectl --as) */
	char **as_groups;         /* and these groups (--as-group), NULL-terminated */
};

struct kc_context {
	char *name;
	char *source;
	char *cluster, *user, *namespace;
};

struct kubeconfig {
	char *current_context;
	struct kc_cluster *clusters;
	size_t nclusters;
	struct kc_user *users;
	size_t nusers;
	struct kc_context *contexts;
	size_t ncontexts;
	char **files;             /* the files that were read, in order */
};

struct kc_load_opts {
	size_t sz;
	const char *explicit_file;  /* --kubeconfig */
	const char *env;            /* KUBECONFIG's value (NULL: unset) */
	const char *home;           /* for ~/.kube/config */
};

/* Loads and merges.  *ret_warning (may be NULL) gets a message a caller
 * should print, such as all KUBECONFIG files missing. */
int kubeconfig_load(const struct kc_load_opts *opts, struct kubeconfig *ret, char **ret_warning,
		    char **ret_err);
/* Parses one file's text into kc, keeping names already defined (the
 * first definition wins).  path names the file in errors and anchors
 * relative paths.  Used by kubeconfig_load and the fuzz target. */
int kubeconfig_parse(struct kubeconfig *kc, const char *path, const char *text, size_t len,
		     char **ret_err);
void kubeconfig_release(struct kubeconfig *kc);

/* Command-line overrides, applied before the kubeconfig's values. */
struct kc_overrides {
	const char *context, *cluster, *user, *namespace, *token;
};

/* What a request needs, with every referenced file read in. */
struct kc_resolved {
	char *context;
	char *namespace;          /* override, the context's, or "default" */
	char *server;
	char *ca;                 /* PEM, from -data or the file; NULL: system */
	size_t ca_len;
	char *ca_source;          /* where ca came from (for messages) */
	char *tls_server_name;
	bool insecure;
	char *token;              /* NULL: none (cert, exec, or anonymous) */
	char *cert, *key;         /* PEM client certificate and key, or NULL */
	size_t cert_len, key_len;
	const struct kc_exec *exec; /* set when a credential plugin must run */
	const struct kc_cluster *cluster_entry;
	char *user_name;
	/* the user entry's impersonation (borrowed from the kubeconfig) */
	const char *as_user;
	const char *const *as_groups;
};

int kubeconfig_resolve(const struct kubeconfig *kc, const struct kc_overrides *o,
		       struct kc_resolved *ret, char **ret_err);
void kc_resolved_release(struct kc_resolved *r);

/* Strict base64 (standard alphabet, padding required, CR/LF ignored). */
int kc_base64_decode(const char *in, char **ret, size_t *ret_len);

#endif
