/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubesim: a small HTTPS Kubernetes API server for tests.  See README.md
 * for flags and fixture formats.  Parts:
 *   yaml.c    YAML files (multi-document) into jansson values
 *   rbac.c    RBAC evaluated as kube's RBAC authorizer does
 *   select.c  field and label selectors for lists
 *   main.c    the server: authentication, authorization, handlers
 */
#ifndef TG_KUBESIM_H
#define TG_KUBESIM_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* Limits on fixtures: they come from files, but a broken one must fail
 * with a message, not crash. */
#define KS_YAML_MAX_FILE (8u << 20)
#define KS_YAML_MAX_DEPTH 64
#define KS_YAML_MAX_NODES 200000

/* ---- yaml.c ---- */
/* Appends every document of path (a file, or a directory whose *.yaml,
 * *.yml and *.json files are read in name order) to docs; a document of
 * kind List contributes its items.  Plain scalars become null, booleans,
 * integers or strings as YAML 1.1's core schema does for Kubernetes. */
int ks_yaml_load_path(const char *path, json_t *docs, char **ret_err);
int ks_yaml_load_string(const char *text, size_t len, const char *name, json_t *docs,
			char **ret_err);

/* ---- rbac.c ---- */
struct ks_identity {
	const char *user;
	const char *const *groups; /* NULL-terminated */
};

struct ks_attrs {
	bool resource_request;
	const char *verb;
	/* resource requests */
	const char *namespace;
	const char *group;
	const char *resource;
	const char *subresource;
	const char *name;
	/* non-resource requests */
	const char *path;
};

struct ks_rbac;
/* Takes Role, ClusterRole, RoleBinding and ClusterRoleBinding documents
 * from docs (others are ignored) and checks their shape. */
int ks_rbac_new(json_t *docs, struct ks_rbac **ret, char **ret_err);
struct ks_rbac *ks_rbac_free(struct ks_rbac *r);
size_t ks_rbac_count(const struct ks_rbac *r);
/* true when allowed; *ret_reason names the binding (kube's wording) and
 * *ret_evalerr collects roles that bindings name but do not exist. */
bool ks_rbac_authorize(const struct ks_rbac *r, const struct ks_identity *id,
		       const struct ks_attrs *a, char **ret_reason, char **ret_evalerr);

/* ---- select.c ---- */
struct ks_selector;
/* kind "label" (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)) or
 * "field" (k=v, k==v, k!=v over the given allowed field paths). */
int ks_selector_parse_labels(const char *s, struct ks_selector **ret, char **ret_err);
int ks_selector_parse_fields(const char *s, const char *const *allowed, struct ks_selector **ret,
			     char **ret_err);
struct ks_selector *ks_selector_free(struct ks_selector *s);
bool ks_selector_match_labels(const struct ks_selector *s, json_t *labels);
bool ks_selector_match_fields(const struct ks_selector *s, json_t *obj);
/* matchLabels-style: every key of want is in labels with the same value. */
bool ks_labels_match(json_t *want, json_t *labels);

#endif
