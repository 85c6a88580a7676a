// SPDX-License-Identifier: Apache-2.0
/*
 * RBAC as kube's RBAC authorizer evaluates it
 * (plugin/pkg/auth/authorizer/rbac/rbac.go, pkg/registry/rbac/validation):
 * every ClusterRoleBinding, then the RoleBindings of the request's
 * namespace; a binding applies when one of its subjects is the user (User),
 * one of the user's groups (Group) or the user's service-account name
 * (ServiceAccount, namespace defaulting to the binding's); the first rule
 * of the bound role that covers the request allows it, and the reason
 * names that binding.  Aggregated ClusterRoles (aggregationRule with
 * matchLabels) take the rules of the ClusterRoles they select.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "tests/kubesim/kubesim.h"
#include "lib/banned.h"

#define RBAC_API "rbac.authorization.k8s.io/v1"
#define RBAC_GROUP "rbac.authorization.k8s.io"

struct ks_rbac {
	json_t *roles;        /* arrays of objects (owned) */
	json_t *clusterroles;
	json_t *rolebindings;
	json_t *clusterrolebindings;
};

static void set_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;

	if (!ret_err)
		return;
	free(*ret_err);
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
}

struct ks_rbac *ks_rbac_free(struct ks_rbac *r)
{
	if (!r)
		return NULL;
	json_decref(r->roles);
	json_decref(r->clusterroles);
	json_decref(r->rolebindings);
	json_decref(r->clusterrolebindings);
	free(r);
	return NULL;
}

size_t ks_rbac_count(const struct ks_rbac *r)
{
	return json_array_size(r->roles) + json_array_size(r->clusterroles) +
	       json_array_size(r->rolebindings) + json_array_size(r->clusterrolebindings);
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static bool strlist_ok(json_t *a, bool required)
{
	size_t i;
	json_t *v;

	if (!a || json_is_null(a))
		return !required;
	if (!json_is_array(a) || (required && !json_array_size(a)))
		return false;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

static int check_rules(json_t *o, const char *what, char **ret_err)
{
	json_t *rules = json_object_get(o, "rules"), *rule;
	size_t i;

	if (rules && !json_is_null(rules) && !json_is_array(rules)) {
		set_err(ret_err, "%s: \"rules\" is not a list", what);
		return -EINVAL;
	}
	json_array_foreach(rules, i, rule) {
		json_t *nr = json_object_get(rule, "nonResourceURLs");
		json_t *res = json_object_get(rule, "resources");

		if (!json_is_object(rule) || !strlist_ok(json_object_get(rule, "verbs"), true) ||
		    !strlist_ok(json_object_get(rule, "apiGroups"), false) ||
		    !strlist_ok(res, false) ||
		    !strlist_ok(json_object_get(rule, "resourceNames"), false) ||
		    !strlist_ok(nr, false)) {
			set_err(ret_err, "%s: rules[%zu]: \"verbs\" (required), \"apiGroups\", \"resources\", "
				"\"resourceNames\" and \"nonResourceURLs\" must be lists of strings", what, i);
			return -EINVAL;
		}
		/* the API server's validation: a rule is about resources or
		 * about URLs, and resource rules name their groups */
		if (json_array_size(nr) && json_array_size(res)) {
			set_err(ret_err, "%s: rules[%zu]: both \"resources\" and \"nonResourceURLs\"", what, i);
			return -EINVAL;
		}
		if (json_array_size(res) && !json_array_size(json_object_get(rule, "apiGroups"))) {
			set_err(ret_err, "%s: rules[%zu]: \"resources\" without \"apiGroups\"", what, i);
			return -EINVAL;
		}
		if (!json_array_size(res) && !json_array_size(nr)) {
			set_err(ret_err, "%s: rules[%zu]: neither \"resources\" nor \"nonResourceURLs\"", what, i);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_binding(json_t *o, bool cluster, const char *what, char **ret_err)
{
	json_t *ref = json_object_get(o, "roleRef"), *subs = json_object_get(o, "subjects"), *s;
	const char *kind;
	size_t i;

	if (!json_is_object(ref) || !*str(ref, "name") || strcmp(str(ref, "apiGroup"), RBAC_GROUP) != 0) {
		set_err(ret_err, "%s: \"roleRef\" needs \"apiGroup: %s\", \"kind\" and \"name\"", what, RBAC_GROUP);
		return -EINVAL;
	}
	kind = str(ref, "kind");
	if (strcmp(kind, "ClusterRole") != 0 && (cluster || strcmp(kind, "Role") != 0)) {
		set_err(ret_err, "%s: \"roleRef.kind\" \"%s\" is not %s", what, kind,
			cluster ? "ClusterRole" : "Role or ClusterRole");
		return -EINVAL;
	}
	if (subs && !json_is_null(subs) && !json_is_array(subs)) {
		set_err(ret_err, "%s: \"subjects\" is not a list", what);
		return -EINVAL;
	}
	json_array_foreach(subs, i, s) {
		const char *sk = str(s, "kind");

		if (!json_is_object(s) || !*str(s, "name")) {
			set_err(ret_err, "%s: subjects[%zu] has no \"name\"", what, i);
			return -EINVAL;
		}
		if (strcmp(sk, "ServiceAccount") == 0) {
			if (json_object_get(s, "apiGroup") && *str(s, "apiGroup")) {
				set_err(ret_err, "%s: subjects[%zu]: a ServiceAccount has apiGroup \"\"", what, i);
				return -EINVAL;
			}
			if (cluster && !*str(s, "namespace")) {
				set_err(ret_err, "%s: subjects[%zu]: ServiceAccount needs a \"namespace\"", what, i);
				return -EINVAL;
			}
		} else if (strcmp(sk, "User") == 0 || strcmp(sk, "Group") == 0) {
			if (strcmp(str(s, "apiGroup"), RBAC_GROUP) != 0) {
				set_err(ret_err, "%s: subjects[%zu]: %s needs \"apiGroup: %s\"", what, i, sk,
					RBAC_GROUP);
				return -EINVAL;
			}
		} else {
			set_err(ret_err, "%s: subjects[%zu]: unknown kind \"%s\"", what, i, sk);
			return -EINVAL;
		}
	}
	return 0;
}

/* Where a document of kind goes; NULL for kinds RBAC does not hold. */
static json_t *rbac_dest(struct ks_rbac *r, const char *kind, bool *namespaced, bool *cluster)
{
	*namespaced = !strcmp(kind, "Role") || !strcmp(kind, "RoleBinding");
	*cluster = !*namespaced;
	if (!strcmp(kind, "Role"))
		return r->roles;
	if (!strcmp(kind, "ClusterRole"))
		return r->clusterroles;
	if (!strcmp(kind, "RoleBinding"))
		return r->rolebindings;
	if (!strcmp(kind, "ClusterRoleBinding"))
		return r->clusterrolebindings;
	return NULL;
}

/* The API server's validation of one RBAC document of kind. */
static int rbac_check(json_t *d, const char *kind, bool namespaced, bool cluster, char **ret_err)
{
	json_t *meta = json_object_get(d, "metadata");
	_cleanup_free_ char *what = NULL;

	if (asprintf(&what, "%s \"%s\"", kind, str(meta, "name")) < 0) {
		set_err(ret_err, "out of memory");
		return -ENOMEM;
	}
	if (strcmp(str(d, "apiVersion"), RBAC_API) != 0) {
		set_err(ret_err, "%s: apiVersion must be \"%s\"", what, RBAC_API);
		return -EINVAL;
	}
	if (!json_is_object(meta) || !*str(meta, "name")) {
		set_err(ret_err, "%s: metadata.name is missing", what);
		return -EINVAL;
	}
	if (namespaced != !!*str(meta, "namespace")) {
		set_err(ret_err, "%s: %s", what,
			namespaced ? "metadata.namespace is missing" : "is cluster-scoped: no metadata.namespace");
		return -EINVAL;
	}
	return strstr(kind, "Binding") ? check_binding(d, cluster, what, ret_err)
				       : check_rules(d, what, ret_err);
}

int ks_rbac_new(json_t *docs, struct ks_rbac **ret, char **ret_err)
{
	struct ks_rbac *r = calloc(1, sizeof(*r));
	json_t *d;
	size_t i;

	if (!r)
		return -ENOMEM;
	r->roles = json_array();
	r->clusterroles = json_array();
	r->rolebindings = json_array();
	r->clusterrolebindings = json_array();
	if (!r->roles || !r->clusterroles || !r->rolebindings || !r->clusterrolebindings)
		goto oom;
	json_array_foreach(docs, i, d) {
		const char *kind = str(d, "kind");
		bool namespaced, cluster;
		json_t *dest = rbac_dest(r, kind, &namespaced, &cluster);

		if (!dest)
			continue;
		if (rbac_check(d, kind, namespaced, cluster, ret_err) < 0)
			goto fail;
		if (json_array_append(dest, d) < 0)
			goto oom;
	}
	*ret = r;
	return 0;
oom:
	set_err(ret_err, "out of memory");
fail:
	ks_rbac_free(r);
	return -EINVAL;
}

/* ---- writes at run time --------------------------------------------------- */

static json_t *find(json_t *arr, const char *ns, const char *name);

static const char *const rbac_kinds[][2] = {
	{ "roles", "Role" },
	{ "clusterroles", "ClusterRole" },
	{ "rolebindings", "RoleBinding" },
	{ "clusterrolebindings", "ClusterRoleBinding" },
};

const char *ks_rbac_kind_of(const char *resource)
{
	for (size_t i = 0; i < sizeof(rbac_kinds) / sizeof(rbac_kinds[0]); i++)
		if (!strcmp(resource, rbac_kinds[i][0]))
			return rbac_kinds[i][1];
	return NULL;
}

static json_t *rbac_details(const char *resource, const char *name)
{
	return json_pack("{s:s, s:s, s:s}", "name", name ? name : "", "group", RBAC_GROUP, "kind",
			 resource);
}

int ks_rbac_write(struct ks_rbac *r, enum ks_rbac_op op, const char *resource, const char *ns,
		  const char *name, json_t *body, json_t **ret)
{
	const char *kind = ks_rbac_kind_of(resource);
	_cleanup_free_ char *err = NULL;
	bool namespaced, cluster;
	json_t *dest, *o, *m;
	size_t i;

	dest = kind ? rbac_dest(r, kind, &namespaced, &cluster) : NULL;
	if (!dest || namespaced != (ns && *ns)) {
		*ret = ks_status(404, "NotFound", NULL, "the server could not find the requested resource");
		return 404;
	}
	if (op == KS_RBAC_CREATE) {
		if (!json_is_object(body) || strcmp(str(body, "kind"), kind) != 0) {
			*ret = ks_status(400, "BadRequest", NULL, "the body must be a %s of %s", kind, RBAC_API);
			return 400;
		}
		m = json_object_get(body, "metadata");
		if (namespaced && json_is_object(m) && !*str(m, "namespace"))
			json_object_set_new(m, "namespace", json_string(ns));
		if (namespaced && json_is_object(m) && strcmp(str(m, "namespace"), ns) != 0) {
			*ret = ks_status(400, "BadRequest", NULL,
					 "the namespace of the provided object does not match the namespace sent on the request");
			return 400;
		}
		if (rbac_check(body, kind, namespaced, cluster, &err) < 0) {
			*ret = ks_status(422, "Invalid", rbac_details(resource, str(m, "name")), "%s",
					 err ? err : "invalid");
			return 422;
		}
		if (find(dest, namespaced ? ns : NULL, str(m, "name"))) {
			*ret = ks_status(409, "AlreadyExists", rbac_details(resource, str(m, "name")),
					 "%s.%s \"%s\" already exists", resource, RBAC_GROUP, str(m, "name"));
			return 409;
		}
		if (json_array_append(dest, body) < 0) {
			*ret = ks_status(500, "InternalError", NULL, "out of memory");
			return 500;
		}
		*ret = json_incref(body);
		return 201;
	}
	json_array_foreach(dest, i, o) {
		m = json_object_get(o, "metadata");
		if (strcmp(str(m, "name"), name) != 0 || (namespaced && strcmp(str(m, "namespace"), ns) != 0))
			continue;
		*ret = json_incref(o);
		if (op == KS_RBAC_DELETE)
			json_array_remove(dest, i);
		return 200;
	}
	*ret = ks_status(404, "NotFound", rbac_details(resource, name), "%s.%s \"%s\" not found",
			 resource, RBAC_GROUP, name);
	return 404;
}

/* ---- matching ------------------------------------------------------------ */

static bool list_has(json_t *a, const char *want, bool star)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		if (s && ((star && strcmp(s, "*") == 0) || strcmp(s, want) == 0))
			return true;
	}
	return false;
}

static bool resource_matches(json_t *rule, const char *resource, const char *sub)
{
	_cleanup_free_ char *combined = NULL;
	json_t *v;
	size_t i;

	if (sub && *sub) {
		if (asprintf(&combined, "%s/%s", resource, sub) < 0)
			return false;
	}
	json_array_foreach(json_object_get(rule, "resources"), i, v) {
		const char *s = json_string_value(v);

		if (!s)
			continue;
		if (!strcmp(s, "*") || !strcmp(s, combined ? combined : resource))
			return true;
		/* "*\/sub" covers that subresource of every resource */
		if (combined && s[0] == '*' && s[1] == '/' && !strcmp(s + 2, sub))
			return true;
	}
	return false;
}

static bool url_matches(json_t *rule, const char *path)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(rule, "nonResourceURLs"), i, v) {
		const char *s = json_string_value(v);
		size_t n;

		if (!s)
			continue;
		n = strlen(s);
		if (!strcmp(s, "*") || !strcmp(s, path))
			return true;
		if (n && s[n - 1] == '*' && strncmp(s, path, n - 1) == 0)
			return true;
	}
	return false;
}

static bool rule_allows(json_t *rule, const struct ks_attrs *a)
{
	json_t *names;

	if (!list_has(json_object_get(rule, "verbs"), a->verb, true))
		return false;
	if (!a->resource_request)
		return url_matches(rule, a->path ? a->path : "");
	if (!list_has(json_object_get(rule, "apiGroups"), a->group ? a->group : "", true))
		return false;
	if (!resource_matches(rule, a->resource ? a->resource : "", a->subresource))
		return false;
	names = json_object_get(rule, "resourceNames");
	if (!json_array_size(names))
		return true;
	return a->name && *a->name && list_has(names, a->name, false);
}

static json_t *find(json_t *arr, const char *ns, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		json_t *m = json_object_get(o, "metadata");

		if (!strcmp(str(m, "name"), name) && (!ns || !strcmp(str(m, "namespace"), ns)))
			return o;
	}
	return NULL;
}

static bool role_allows(const struct ks_rbac *r, json_t *role, const struct ks_attrs *a, int depth)
{
	json_t *rule, *agg, *sel, *cr;
	size_t i, j, k;

	json_array_foreach(json_object_get(role, "rules"), i, rule)
		if (rule_allows(rule, a))
			return true;
	/* an aggregated ClusterRole: the rules of every ClusterRole its
	 * selectors pick (the controller would have copied them in) */
	agg = json_object_get(role, "aggregationRule");
	if (!agg || depth > 4)
		return false;
	json_array_foreach(json_object_get(agg, "clusterRoleSelectors"), j, sel) {
		json_t *ml = json_object_get(sel, "matchLabels");

		if (!json_is_object(ml) || !json_object_size(ml))
			continue;
		json_array_foreach(r->clusterroles, k, cr) {
			if (cr == role)
				continue;
			if (ks_labels_match(ml, json_object_get(json_object_get(cr, "metadata"), "labels")) &&
			    role_allows(r, cr, a, depth + 1))
				return true;
		}
	}
	return false;
}

static bool applies(const struct ks_identity *id, json_t *s, const char *binding_ns)
{
	const char *kind = str(s, "kind"), *name = str(s, "name");

	if (!strcmp(kind, "User"))
		return id->user && !strcmp(id->user, name);
	if (!strcmp(kind, "Group")) {
		for (const char *const *g = id->groups; g && *g; g++)
			if (!strcmp(*g, name))
				return true;
		return false;
	}
	if (!strcmp(kind, "ServiceAccount")) {
		const char *ns = *str(s, "namespace") ? str(s, "namespace") : binding_ns;
		_cleanup_free_ char *u = NULL;

		if (!ns || !*ns || !id->user)
			return false;
		if (asprintf(&u, "system:serviceaccount:%s:%s", ns, name) < 0)
			return false;
		return !strcmp(u, id->user);
	}
	return false;
}

static char *describe_subject(json_t *s, const char *binding_ns)
{
	char *d = NULL;

	if (!strcmp(str(s, "kind"), "ServiceAccount")) {
		const char *ns = *str(s, "namespace") ? str(s, "namespace") : binding_ns;

		if (asprintf(&d, "ServiceAccount \"%s/%s\"", str(s, "name"), ns ? ns : "") < 0)
			d = NULL;
	} else if (asprintf(&d, "%s \"%s\"", str(s, "kind"), str(s, "name")) < 0) {
		d = NULL;
	}
	return d;
}

static void add_evalerr(struct buf *e, const char *kind, const char *ns, const char *name)
{
	if (e->len)
		(void)buf_adds(e, ", ");
	if (ns)
		(void)buf_printf(e, "%s.rbac.authorization.k8s.io \"%s\" not found in namespace \"%s\"",
				 kind, name, ns);
	else
		(void)buf_printf(e, "%s.rbac.authorization.k8s.io \"%s\" not found", kind, name);
}

/* Checks one binding; true and *ret_reason when it allows. */
static bool binding_allows(const struct ks_rbac *r, json_t *b, bool cluster, const struct ks_identity *id,
			   const struct ks_attrs *a, struct buf *evalerr, char **ret_reason)
{
	json_t *meta = json_object_get(b, "metadata"), *ref = json_object_get(b, "roleRef"), *s, *role;
	const char *bns = cluster ? NULL : str(meta, "namespace");
	_cleanup_free_ char *subj = NULL;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(b, "subjects"), i, s)
		if (applies(id, s, bns)) {
			found = true;
			break;
		}
	if (!found)
		return false;
	if (!strcmp(str(ref, "kind"), "Role")) {
		role = find(r->roles, bns, str(ref, "name"));
		if (!role)
			add_evalerr(evalerr, "role", bns, str(ref, "name"));
	} else {
		role = find(r->clusterroles, NULL, str(ref, "name"));
		if (!role)
			add_evalerr(evalerr, "clusterrole", NULL, str(ref, "name"));
	}
	if (!role || !role_allows(r, role, a, 0))
		return false;
	subj = describe_subject(s, bns);
	if (ret_reason) {
		free(*ret_reason);
		if (cluster) {
			if (asprintf(ret_reason, "RBAC: allowed by ClusterRoleBinding \"%s\" of %s \"%s\" to %s",
				     str(meta, "name"), str(ref, "kind"), str(ref, "name"), subj ? subj : "") < 0)
				*ret_reason = NULL;
		} else if (asprintf(ret_reason, "RBAC: allowed by RoleBinding \"%s/%s\" of %s \"%s\" to %s",
				    str(meta, "name"), bns, str(ref, "kind"), str(ref, "name"),
				    subj ? subj : "") < 0) {
			*ret_reason = NULL;
		}
	}
	return true;
}

bool ks_rbac_authorize(const struct ks_rbac *r, const struct ks_identity *id, const struct ks_attrs *a,
		       char **ret_reason, char **ret_evalerr)
{
	struct buf evalerr = BUF_INIT(64 * 1024);
	bool ok = false;
	json_t *b;
	size_t i;

	if (!a->verb || !*a->verb)
		return false;
	json_array_foreach(r->clusterrolebindings, i, b)
		if ((ok = binding_allows(r, b, true, id, a, &evalerr, ret_reason)))
			goto out;
	if (a->resource_request && a->namespace && *a->namespace)
		json_array_foreach(r->rolebindings, i, b) {
			if (strcmp(str(json_object_get(b, "metadata"), "namespace"), a->namespace) != 0)
				continue;
			if ((ok = binding_allows(r, b, false, id, a, &evalerr, ret_reason)))
				goto out;
		}
out:
	if (ret_evalerr && evalerr.len && !ok) {
		free(*ret_evalerr);
		*ret_evalerr = buf_detach(&evalerr, NULL);
	}
	buf_release(&evalerr);
	return ok;
}
