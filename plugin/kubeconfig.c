// SPDX-License-Identifier: Apache-2.0
/*
 * Kubeconfig files (YAML, or JSON since JSON is YAML) into struct
 * kubeconfig, following client-go's clientcmd loader.  Parsing walks the
 * libyaml document: each node keeps its mark, so every complaint names
 * file:line:column.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "lib/util.h"
#include "lib/yamlwalk.h"
#include "plugin/kubeconfig.h"
#include "lib/banned.h"

struct kc_parse {
	struct yaml_walk w;       /* first: the walker's callbacks get &p->w */
	struct kubeconfig *kc;
	const char *path;
	char *dir;                /* absolute directory of path */
};

#define at(p, n, path, ...) yw_fail(&(p)->w, n, path, __VA_ARGS__)

/* --- base64 ------------------------------------------------------------------ */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int kc_base64_decode(const char *in, char **ret, size_t *ret_len)
{
	size_t n = strlen(in), len = 0, q = 0, pad = 0;
	unsigned char quad[4];
	_cleanup_free_ char *out = malloc(n / 4 * 3 + 4);

	if (!out)
		return -ENOMEM;
	for (const char *s = in; *s; s++) {
		int v;

		if (*s == '\r' || *s == '\n')
			continue;
		if (*s == '=') {
			if (q < 2)
				return -EINVAL;
			pad++;
			v = 0;
		} else {
			if (pad)
				return -EINVAL;  /* data after padding */
			v = b64val((unsigned char)*s);
			if (v < 0)
				return -EINVAL;
		}
		quad[q++] = (unsigned char)v;
		if (q == 4) {
			out[len++] = (char)(quad[0] << 2 | quad[1] >> 4);
			out[len++] = (char)(quad[1] << 4 | quad[2] >> 2);
			out[len++] = (char)(quad[2] << 6 | quad[3]);
			q = 0;
			if (pad) {
				if (pad > 2)
					return -EINVAL;
				len -= pad;
				/* nothing may follow a padded quantum */
				for (const char *t = s + 1; *t; t++)
					if (*t != '\r' && *t != '\n')
						return -EINVAL;
				break;
			}
		}
	}
	if (q != 0)
		return -EINVAL;
	out[len] = '\0';
	*ret_len = len;
	*ret = TAKE_PTR(out);
	return 0;
}

/* --- yaml helpers ---------------------------------------------------------------- */

/* A plain null (~, null, empty) counts as absent, as in Go's YAML. */
static int get_str(struct kc_parse *p, const yaml_node_t *n, const char *path, char **ret)
{
	const char *s;
	int r;

	if (yw_is_null(n))
		return 0;
	r = yw_scalar(&p->w, n, path, &s);
	if (r < 0)
		return r;
	free(*ret);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int get_bool(struct kc_parse *p, const yaml_node_t *n, const char *path, bool *ret)
{
	return yw_is_null(n) ? 0 : yw_bool(&p->w, n, path, true, ret);
}

static int get_b64(struct kc_parse *p, const yaml_node_t *n, const char *path, char **ret, size_t *ret_len,
		   char **ret_text)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = get_str(p, n, path, &text);
	if (r < 0 || !text)
		return r;
	free(*ret);
	*ret = NULL;
	if (kc_base64_decode(text, ret, ret_len) < 0)
		return at(p, n, path, "not valid base64");
	if (ret_text) {
		free(*ret_text);
		*ret_text = TAKE_PTR(text);
	}
	return 0;
}

/* Relative paths are relative to the defining file's directory. */
static int get_path(struct kc_parse *p, const yaml_node_t *n, const char *path, char **ret)
{
	char *s = NULL, *abs;
	int r;

	r = get_str(p, n, path, &s);
	if (r < 0 || !s)
		return r;
	if (s[0] == '/') {
		free(*ret);
		*ret = s;
		return 0;
	}
	r = asprintf(&abs, "%s/%s", p->dir, s);
	free(s);
	if (r < 0)
		return -ENOMEM;
	free(*ret);
	*ret = abs;
	return 0;
}

/* fn(p, key, value, the value's path, obj) for each key of a mapping */
typedef int (*field_fn)(struct kc_parse *p, const char *key, const yaml_node_t *val, const char *path,
			void *obj);

struct field_walk {
	field_fn fn;
	void *obj;
};

static int field_pair(struct yaml_walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v,
		      const char *path, void *ud)
{
	struct field_walk *fw = ud;

	return fw->fn((struct kc_parse *)w, key, v, path, fw->obj);
}

/* Calls fn for each key of mapping n (keys must be strings). */
static int each_field(struct kc_parse *p, const yaml_node_t *n, const char *path, field_fn fn, void *obj)
{
	struct field_walk fw = { fn, obj };

	return yw_is_null(n) ? 0 : yw_mapping(&p->w, n, path, field_pair, &fw);
}

/* A null item is the empty string, as Go's YAML reads `- ~` into a []string */
static int strv_item(struct yaml_walk *w, const yaml_node_t *e, const char *path, char **item, void *ud)
{
	if (yw_is_null(e))
		**item = '\0';
	return 0;
}

/* A list of strings; null is absent (*ret kept) */
static int get_strv(struct kc_parse *p, const yaml_node_t *n, const char *path, char ***ret)
{
	char **v = NULL;
	int r;

	if (yw_is_null(n))
		return 0;
	r = yw_strings(&p->w, n, path, KC_MAX_ENTRIES, strv_item, NULL, &v);
	if (r < 0)
		return r;
	strv_free(*ret);
	*ret = v;
	return 0;
}

/* --- stanzas ---------------------------------------------------------------------- */

static int cluster_field(struct kc_parse *p, const char *k, const yaml_node_t *v, const char *path, void *obj)
{
	struct kc_cluster *c = obj;

	if (!strcmp(k, "server"))
		return get_str(p, v, path, &c->server);
	if (!strcmp(k, "certificate-authority"))
		return get_path(p, v, path, &c->ca_file);
	if (!strcmp(k, "certificate-authority-data"))
		return get_b64(p, v, path, &c->ca_data, &c->ca_data_len, &c->ca_data_b64);
	if (!strcmp(k, "insecure-skip-tls-verify"))
		return get_bool(p, v, path, &c->insecure);
	if (!strcmp(k, "tls-server-name"))
		return get_str(p, v, path, &c->tls_server_name);
	return 0;  /* proxy-url, extensions, ...: not used here */
}

/* name and value of a {name, value} entry of env (other keys ignored, as
 * client-go does) */
struct env_entry {
	const yaml_node_t *name, *value;
	char namepath[YW_MAX_PATH], valuepath[YW_MAX_PATH];
};

static int env_pair(struct yaml_walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v,
		    const char *path, void *ud)
{
	struct env_entry *e = ud;

	if (!strcmp(key, "name")) {
		e->name = v;
		snprintf(e->namepath, sizeof(e->namepath), "%s", path);
	} else if (!strcmp(key, "value")) {
		e->value = v;
		snprintf(e->valuepath, sizeof(e->valuepath), "%s", path);
	}
	return 0;
}

static int env_item(struct yaml_walk *w, size_t i, const yaml_node_t *item, const char *path, void *ud)
{
	struct kc_parse *p = (struct kc_parse *)w;
	_cleanup_free_ char *n = NULL, *v = NULL;
	struct env_entry e = { 0 };
	char **env = ud;
	int r;

	if (item->type != YAML_MAPPING_NODE)
		return at(p, item, path, "expected {name, value}, found %s", yw_kind(item));
	r = yw_mapping(w, item, path, env_pair, &e);
	if (r < 0 || (r = get_str(p, e.name, e.namepath, &n)) < 0 || (r = get_str(p, e.value, e.valuepath, &v)) < 0)
		return r;
	if (!n || !*n || strchr(n, '='))
		return at(p, item, path, "needs a \"name\" without '='");
	if (asprintf(&env[i], "%s=%s", n, v ? v : "") < 0)
		return -ENOMEM;
	return 0;
}

static int exec_field(struct kc_parse *p, const char *k, const yaml_node_t *v, const char *path, void *obj)
{
	struct kc_exec *x = obj;

	if (!strcmp(k, "command"))
		return get_str(p, v, path, &x->command);
	if (!strcmp(k, "args"))
		return get_strv(p, v, path, &x->args);
	if (!strcmp(k, "apiVersion"))
		return get_str(p, v, path, &x->api_version);
	if (!strcmp(k, "installHint"))
		return get_str(p, v, path, &x->install_hint);
	if (!strcmp(k, "interactiveMode"))
		return get_str(p, v, path, &x->interactive_mode);
	if (!strcmp(k, "provideClusterInfo"))
		return get_bool(p, v, path, &x->provide_cluster_info);
	if (!strcmp(k, "env")) {
		_cleanup_(strv_freep) char **env = NULL;
		int r;

		if (yw_is_null(v))
			return 0;
		if (v->type == YAML_SEQUENCE_NODE &&
		    !(env = calloc((size_t)(v->data.sequence.items.top - v->data.sequence.items.start) + 1,
				   sizeof(*env))))
			return -ENOMEM;
		r = yw_sequence(&p->w, v, path, "a list of {name, value}", KC_MAX_ENTRIES, env_item, env);
		if (r < 0)
			return r;
		strv_free(x->env);
		x->env = TAKE_PTR(env);
	}
	return 0;
}

static void kc_exec_free(struct kc_exec *x)
{
	if (!x)
		return;
	free(x->command);
	strv_free(x->args);
	strv_free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x->interactive_mode);
	free(x);
}

/* as / as-groups become request headers: printable, no spaces, bounded. */
static int as_check(struct kc_parse *p, const yaml_node_t *n, const char *path, const char *const *names)
{
	size_t cnt = 0;

	for (; names && *names; names++, cnt++) {
		size_t len = strlen(*names);

		if (!len || len > KC_MAX_AS_NAME)
			return at(p, n, path, "want names of 1 to %u characters", KC_MAX_AS_NAME);
		for (size_t i = 0; i < len; i++)
			if ((*names)[i] < '!' || (*names)[i] > '~')
				return at(p, n, path, "want names of printable characters without spaces");
	}
	if (cnt > KC_MAX_AS_GROUPS)
		return at(p, n, path, "more than %u names", KC_MAX_AS_GROUPS);
	return 0;
}

static int user_field(struct kc_parse *p, const char *k, const yaml_node_t *v, const char *path, void *obj)
{
	struct kc_user *u = obj;

	if (!strcmp(k, "token"))
		return get_str(p, v, path, &u->token);
	if (!strcmp(k, "tokenFile"))
		return get_path(p, v, path, &u->token_file);
	if (!strcmp(k, "client-certificate"))
		return get_path(p, v, path, &u->cert_file);
	if (!strcmp(k, "client-key"))
		return get_path(p, v, path, &u->key_file);
	if (!strcmp(k, "client-certificate-data"))
		return get_b64(p, v, path, &u->cert_data, &u->cert_data_len, NULL);
	if (!strcmp(k, "client-key-data"))
		return get_b64(p, v, path, &u->key_data, &u->key_data_len, NULL);
	if (!strcmp(k, "exec")) {
		int r;

		if (yw_is_null(v))
			return 0;
		kc_exec_free(u->exec);
		u->exec = calloc(1, sizeof(*u->exec));
		if (!u->exec)
			return -ENOMEM;
		r = each_field(p, v, path, exec_field, u->exec);
		if (r < 0)
			return r;
		if (!u->exec->command || !*u->exec->command)
			return at(p, v, path, "needs a \"command\"");
		/* a command with a separator is a path relative to this file */
		if (strchr(u->exec->command, '/') && u->exec->command[0] != '/') {
			char *abs;

			if (asprintf(&abs, "%s/%s", p->dir, u->exec->command) < 0)
				return -ENOMEM;
			free(u->exec->command);
			u->exec->command = abs;
		}
		return 0;
	}
	if (!strcmp(k, "as")) {
		int r = get_str(p, v, path, &u->as);

		return r < 0 ? r : as_check(p, v, path, (const char *const[]){ u->as, NULL });
	}
	if (!strcmp(k, "as-groups")) {
		int r = get_strv(p, v, path, &u->as_groups);

		return r < 0 ? r : as_check(p, v, path, (const char *const *)u->as_groups);
	}
	/* impersonation the gateway cannot do: an error, not silently less */
	if ((!strcmp(k, "as-uid") || !strcmp(k, "as-user-extra")) && !yw_is_null(v))
		return at(p, v, path, "impersonation by uid or extra is not supported by kubectl trace");
	return 0;  /* username/password, auth-provider, ...: not used here */
}

static int context_field(struct kc_parse *p, const char *k, const yaml_node_t *v, const char *path, void *obj)
{
	struct kc_context *c = obj;

	if (!strcmp(k, "cluster"))
		return get_str(p, v, path, &c->cluster);
	if (!strcmp(k, "user"))
		return get_str(p, v, path, &c->user);
	if (!strcmp(k, "namespace"))
		return get_str(p, v, path, &c->namespace);
	return 0;
}

static void cluster_release(struct kc_cluster *c)
{
	free(c->name);
	free(c->source);
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->ca_data_b64);
	free(c->tls_server_name);
}

static void user_release(struct kc_user *u)
{
	free(u->name);
	free(u->source);
	if (u->token)
		explicit_bzero(u->token, strlen(u->token));
	free(u->token);
	free(u->token_file);
	free(u->cert_file);
	free(u->key_file);
	free(u->cert_data);
	if (u->key_data)
		explicit_bzero(u->key_data, u->key_data_len);
	free(u->key_data);
	kc_exec_free(u->exec);
	free(u->as);
	strv_free(u->as_groups);
}

static void context_release(struct kc_context *c)
{
	free(c->name);
	free(c->source);
	free(c->cluster);
	free(c->user);
	free(c->namespace);
}

/* One kind of named list: "clusters" with inner key "cluster", etc. */
struct list_kind {
	const char *list, *inner;
	size_t size;              /* of one element */
	size_t name_off, source_off;
	field_fn fn;
	void (*release)(void *);
};

static void cluster_release_v(void *c) { cluster_release(c); }
static void user_release_v(void *u) { user_release(u); }
static void context_release_v(void *c) { context_release(c); }

static const struct list_kind kinds[] = {
	{ "clusters", "cluster", sizeof(struct kc_cluster), offsetof(struct kc_cluster, name),
	  offsetof(struct kc_cluster, source), cluster_field, cluster_release_v },
	{ "users", "user", sizeof(struct kc_user), offsetof(struct kc_user, name),
	  offsetof(struct kc_user, source), user_field, user_release_v },
	{ "contexts", "context", sizeof(struct kc_context), offsetof(struct kc_context, name),
	  offsetof(struct kc_context, source), context_field, context_release_v },
};

static void **list_arr(struct kubeconfig *kc, size_t k, size_t **ret_n)
{
	switch (k) {
	case 0: *ret_n = &kc->nclusters; return (void **)&kc->clusters;
	case 1: *ret_n = &kc->nusers; return (void **)&kc->users;
	default: *ret_n = &kc->ncontexts; return (void **)&kc->contexts;
	}
}

static char *elem_name(const struct list_kind *lk, void *arr, size_t i)
{
	return *(char **)((char *)arr + i * lk->size + lk->name_off);
}

/* name and the inner mapping of one entry of a named list */
struct list_entry {
	const struct list_kind *lk;
	const yaml_node_t *name, *inner;
	char namepath[YW_MAX_PATH], innerpath[YW_MAX_PATH];
};

static int entry_pair(struct yaml_walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v,
		      const char *path, void *ud)
{
	struct list_entry *e = ud;

	if (!strcmp(key, "name")) {
		e->name = v;
		snprintf(e->namepath, sizeof(e->namepath), "%s", path);
	} else if (!strcmp(key, e->lk->inner)) {
		e->inner = v;
		snprintf(e->innerpath, sizeof(e->innerpath), "%s", path);
	}
	return 0;
}

struct list_walk {
	size_t kind, first_of_file;
};

static int list_item(struct yaml_walk *w, size_t idx, const yaml_node_t *item, const char *path, void *ud)
{
	struct kc_parse *p = (struct kc_parse *)w;
	struct list_walk *lw = ud;
	const struct list_kind *lk = &kinds[lw->kind];
	struct list_entry e = { .lk = lk };
	_cleanup_free_ char *name = NULL;
	size_t *cnt;
	void **arr = list_arr(p->kc, lw->kind, &cnt);
	bool taken = false;
	char *elem;
	void *na;
	int r;

	if (item->type != YAML_MAPPING_NODE)
		return at(p, item, path, "expected {name, %s}, found %s", lk->inner, yw_kind(item));
	r = yw_mapping(w, item, path, entry_pair, &e);
	if (r < 0 || (r = get_str(p, e.name, e.namepath, &name)) < 0)
		return r;
	if (!name || !*name)
		return at(p, item, path, "a %s entry has no \"name\"", lk->inner);
	for (size_t i = 0; i < *cnt; i++) {
		if (strcmp(elem_name(lk, *arr, i), name))
			continue;
		if (i >= lw->first_of_file)
			return at(p, e.name, e.namepath, "duplicate %s name \"%s\"", lk->inner, name);
		taken = true;  /* an earlier file defined it: that one wins */
	}
	/* parse even when not taken, so a broken stanza is still an error */
	na = realloc(*arr, (*cnt + 1) * lk->size);
	if (!na)
		return -ENOMEM;
	*arr = na;
	elem = (char *)na + *cnt * lk->size;
	memset(elem, 0, lk->size);
	r = each_field(p, e.inner, e.innerpath, lk->fn, elem);
	if (r >= 0) {
		*(char **)(elem + lk->name_off) = TAKE_PTR(name);
		*(char **)(elem + lk->source_off) = strdup(p->path);
		if (!*(char **)(elem + lk->source_off))
			r = -ENOMEM;
	}
	if (r < 0 || taken) {
		lk->release(elem);
		return r < 0 ? r : 0;
	}
	(*cnt)++;
	return 0;
}

static int parse_list(struct kc_parse *p, size_t kind, const yaml_node_t *n, const char *path,
		      size_t first_of_file)
{
	struct list_walk lw = { kind, first_of_file };
	char what[64];

	if (yw_is_null(n))
		return 0;
	snprintf(what, sizeof(what), "a list of {name, %s}", kinds[kind].inner);
	return yw_sequence(&p->w, n, path, what, KC_MAX_ENTRIES, list_item, &lw);
}

static int top_field(struct kc_parse *p, const char *k, const yaml_node_t *v, const char *path, void *obj)
{
	size_t *firsts = obj;

	if (!strcmp(k, "current-context")) {
		_cleanup_free_ char *cc = NULL;
		int r = get_str(p, v, path, &cc);

		if (r < 0)
			return r;
		if (cc && *cc && !p->kc->current_context)
			p->kc->current_context = TAKE_PTR(cc);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(k, kinds[i].list))
			return parse_list(p, i, v, path, firsts[i]);
	return 0;  /* apiVersion, kind, preferences, extensions */
}

static char *dir_of(const char *path)
{
	_cleanup_free_ char *cwd = NULL;
	const char *slash = strrchr(path, '/');
	char *d;

	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
	}
	if (!slash)
		return cwd ? TAKE_PTR(cwd) : NULL;
	if (slash == path)
		return strdup("/");
	if (asprintf(&d, "%s%s%.*s", cwd ? cwd : "", cwd ? "/" : "", (int)(slash - path), path) < 0)
		return NULL;
	return d;
}

int kubeconfig_parse(struct kubeconfig *kc, const char *path, const char *text, size_t len,
		     char **ret_err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct kc_parse p = { .w = { .doc = &doc, .file = path, .max_nodes = KC_MAX_NODES }, .kc = kc,
			      .path = path };
	size_t firsts[3] = { kc->nclusters, kc->nusers, kc->ncontexts };
	yaml_node_t *root;
	int r;

	if (len > KC_MAX_FILE)
		return tg_fail(ret_err, -EFBIG, "%s: larger than %u bytes", path, KC_MAX_FILE);
	if (memchr(text, '\0', len))
		return tg_fail(ret_err, -TG_ECONFIG, "%s: contains a NUL byte", path);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	r = yw_load(&parser, path, &doc, ret_err);
	yaml_parser_delete(&parser);
	if (r <= 0)
		return r;
	root = yaml_document_get_root_node(&doc);
	p.dir = dir_of(path);
	if (!p.dir) {
		r = -ENOMEM;
		goto out;
	}
	r = 0;
	if (!yw_is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			r = at(&p, root, NULL, "a kubeconfig must be a mapping (apiVersion, clusters, users, contexts)");
		else
			r = each_field(&p, root, "", top_field, firsts);
	}
	if (r < 0 && p.w.err) {
		free(*ret_err);
		*ret_err = TAKE_PTR(p.w.err);
	}
out:
	free(p.w.err);
	free(p.dir);
	yaml_document_delete(&doc);
	return r;
}

void kubeconfig_release(struct kubeconfig *kc)
{
	if (!kc)
		return;
	free(kc->current_context);
	for (size_t i = 0; i < kc->nclusters; i++)
		cluster_release(&kc->clusters[i]);
	for (size_t i = 0; i < kc->nusers; i++)
		user_release(&kc->users[i]);
	for (size_t i = 0; i < kc->ncontexts; i++)
		context_release(&kc->contexts[i]);
	free(kc->clusters);
	free(kc->users);
	free(kc->contexts);
	strv_free(kc->files);
	memset(kc, 0, sizeof(*kc));
}

/* --- loading ---------------------------------------------------------------------- */

static int add_file(struct kubeconfig *kc, size_t *n, const char *path)
{
	char **v = realloc(kc->files, (*n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	kc->files = v;
	v[*n] = strdup(path);
	if (!v[*n])
		return -ENOMEM;
	v[++*n] = NULL;
	return 0;
}

/* 1 when read and merged, 0 when missing and missing_ok. */
static int load_one(struct kubeconfig *kc, size_t *nfiles, const char *path, bool missing_ok,
		    char **ret_err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, KC_MAX_FILE, &text, &len);
	if (r == -ENOENT && missing_ok)
		return 0;
	if (r == -EFBIG)
		return tg_fail(ret_err, r, "kubeconfig \"%s\": larger than %u bytes", path, KC_MAX_FILE);
	if (r < 0)
		return tg_fail(ret_err, r, "kubeconfig \"%s\": %s", path, strerror(-r));
	r = kubeconfig_parse(kc, path, text, len, ret_err);
	if (r < 0)
		return r;
	r = add_file(kc, nfiles, path);
	return r < 0 ? r : 1;
}

int kubeconfig_load(const struct kc_load_opts *opts, struct kubeconfig *ret, char **ret_warning,
		    char **ret_err)
{
	struct kubeconfig kc = { 0 };
	size_t nfiles = 0;
	int r = 0;

	if (ret_warning)
		*ret_warning = NULL;
	if (!opts || !OPTS_VALID(opts, struct kc_load_opts))
		return -EINVAL;
	if (opts->explicit_file) {
		r = load_one(&kc, &nfiles, opts->explicit_file, false, ret_err);
	} else if (opts->env && *opts->env) {
		_cleanup_free_ char *copy = strdup(opts->env);
		_cleanup_free_ char **seen = NULL;
		size_t nseen = 0, tried = 0;
		char *save = NULL;

		if (!copy)
			return -ENOMEM;
		seen = calloc(strlen(copy) / 2 + 2, sizeof(*seen));
		if (!seen)
			return -ENOMEM;
		for (char *s = strtok_r(copy, ":", &save); s; s = strtok_r(NULL, ":", &save)) {
			bool dup = false;

			for (size_t i = 0; i < nseen; i++)
				dup = dup || !strcmp(seen[i], s);
			if (dup || !*s)
				continue;
			if (nseen == KC_MAX_FILES) {
				r = tg_fail(ret_err, -E2BIG, "KUBECONFIG: more than %u files",
					    KC_MAX_FILES);
				break;
			}
			seen[nseen++] = s;
			tried++;
			r = load_one(&kc, &nfiles, s, true, ret_err);
			if (r < 0)
				break;
		}
		if (r >= 0 && nfiles == 0 && tried > 0 && ret_warning &&
		    asprintf(ret_warning, "none of the files in KUBECONFIG exist (%s)", opts->env) < 0)
			*ret_warning = NULL;
	} else if (opts->home && *opts->home) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/.kube/config", opts->home) < 0)
			return -ENOMEM;
		r = load_one(&kc, &nfiles, path, true, ret_err);
	}
	if (r < 0) {
		kubeconfig_release(&kc);
		return r;
	}
	if (!kc.files) {
		kc.files = calloc(1, sizeof(*kc.files));
		if (!kc.files)
			return -ENOMEM;
	}
	*ret = kc;
	return 0;
}

/* --- resolution ------------------------------------------------------------------- */

void kc_resolved_release(struct kc_resolved *r)
{
	if (!r)
		return;
	free(r->context);
	free(r->namespace);
	free(r->server);
	free(r->ca);
	free(r->ca_source);
	free(r->tls_server_name);
	if (r->token)
		explicit_bzero(r->token, strlen(r->token));
	free(r->token);
	free(r->cert);
	if (r->key)
		explicit_bzero(r->key, r->key_len);
	free(r->key);
	free(r->user_name);
	memset(r, 0, sizeof(*r));
}

static int dup_mem(const char *src, size_t len, char **ret, size_t *ret_len)
{
	char *d = malloc(len + 1);

	if (!d)
		return -ENOMEM;
	memcpy(d, src, len);
	d[len] = '\0';
	*ret = d;
	if (ret_len)
		*ret_len = len;
	return 0;
}

static int read_cred(const char *what, const char *owner, const char *path, char **ret,
		     size_t *ret_len, char **ret_err)
{
	int r = read_file(path, KC_MAX_CRED, ret, ret_len);

	if (r == -EFBIG)
		return tg_fail(ret_err, r, "%s \"%s\": %s file \"%s\" is larger than %u bytes", what,
			       owner, what, path, KC_MAX_CRED);
	if (r < 0)
		return tg_fail(ret_err, r, "%s \"%s\": cannot read \"%s\": %s", what, owner, path,
			       strerror(-r));
	return 0;
}

static int resolve_user(const struct kc_user *u, const struct kc_overrides *o,
			struct kc_resolved *res, char **ret_err)
{
	int r;

	if (o->token && *o->token) {
		res->token = strdup(o->token);
		if (!res->token)
			return -ENOMEM;
	} else if (u && u->token && *u->token) {
		res->token = strdup(u->token);  /* token wins over tokenFile */
		if (!res->token)
			return -ENOMEM;
	} else if (u && u->token_file) {
		size_t len;

		r = read_cred("user", u->name, u->token_file, &res->token, &len, ret_err);
		if (r < 0)
			return r;
		/* client-go trims the file's whitespace (strings.TrimSpace) */
		while (len > 0 && strchr(" \t\r\n", res->token[len - 1]))
			res->token[--len] = '\0';
		{
			size_t lead = strspn(res->token, " \t\r\n");

			memmove(res->token, res->token + lead, len - lead + 1);
			len -= lead;
		}
		if (len == 0 || memchr(res->token, '\0', len) || strpbrk(res->token, "\r\n"))
			return tg_fail(ret_err, -TG_ECONFIG, "user \"%s\": tokenFile \"%s\" holds no usable token",
				       u->name, u->token_file);
	}
	if (!u)
		return 0;
	if (u->cert_data)
		r = dup_mem(u->cert_data, u->cert_data_len, &res->cert, &res->cert_len);
	else if (u->cert_file)
		r = read_cred("user", u->name, u->cert_file, &res->cert, &res->cert_len, ret_err);
	else
		r = 0;
	if (r < 0)
		return r;
	if (u->key_data)
		r = dup_mem(u->key_data, u->key_data_len, &res->key, &res->key_len);
	else if (u->key_file)
		r = read_cred("user", u->name, u->key_file, &res->key, &res->key_len, ret_err);
	if (r < 0)
		return r;
	if (!!res->cert != !!res->key)
		return tg_fail(ret_err, -TG_ECONFIG, "user \"%s\": %s without %s", u->name,
			       res->cert ? "client-certificate" : "client-key",
			       res->cert ? "client-key" : "client-certificate");
	/* a credential plugin runs only when nothing else gave a token */
	if (!res->token && u->exec)
		res->exec = u->exec;
	return 0;
}

int kubeconfig_resolve(const struct kubeconfig *kc, const struct kc_overrides *o,
		       struct kc_resolved *ret, char **ret_err)
{
	struct kc_resolved res = { 0 };
	const struct kc_context *ctx = NULL;
	const struct kc_cluster *cl = NULL;
	const struct kc_user *u = NULL;
	const char *ctxname = o->context && *o->context ? o->context : kc->current_context;
	const char *clname, *uname, *ns;
	int r;

	if (!ctxname || !*ctxname) {
		if (!kc->files || !kc->files[0])
			return tg_fail(ret_err, -TG_ECONFIG,
				       "no kubeconfig found: set KUBECONFIG, use --kubeconfig, or create ~/.kube/config");
		return tg_fail(ret_err, -TG_ECONFIG,
			       "no context: the kubeconfig sets no current-context; pass --context");
	}
	for (size_t i = 0; i < kc->ncontexts; i++)
		if (!strcmp(kc->contexts[i].name, ctxname))
			ctx = &kc->contexts[i];
	if (!ctx)
		return tg_fail(ret_err, -TG_ENOTFOUND, "context \"%s\" not found in the kubeconfig",
			       ctxname);
	clname = o->cluster && *o->cluster ? o->cluster : ctx->cluster;
	uname = o->user && *o->user ? o->user : ctx->user;
	if (!clname || !*clname)
		return tg_fail(ret_err, -TG_ECONFIG, "context \"%s\" names no cluster", ctxname);
	for (size_t i = 0; i < kc->nclusters; i++)
		if (!strcmp(kc->clusters[i].name, clname))
			cl = &kc->clusters[i];
	if (!cl)
		return tg_fail(ret_err, -TG_ENOTFOUND, "cluster \"%s\" (context \"%s\") not found in the kubeconfig",
			       clname, ctxname);
	if (uname && *uname) {
		for (size_t i = 0; i < kc->nusers; i++)
			if (!strcmp(kc->users[i].name, uname))
				u = &kc->users[i];
		if (!u)
			return tg_fail(ret_err, -TG_ENOTFOUND, "user \"%s\" (context \"%s\") not found in the kubeconfig",
				       uname, ctxname);
	}
	ns = o->namespace && *o->namespace ? o->namespace :
	     ctx->namespace && *ctx->namespace ? ctx->namespace : "default";
	res.context = strdup(ctxname);
	res.namespace = strdup(ns);
	res.server = cl->server ? strdup(cl->server) : NULL;
	res.tls_server_name = cl->tls_server_name ? strdup(cl->tls_server_name) : NULL;
	res.user_name = uname ? strdup(uname) : NULL;
	if (u) {
		res.as_user = u->as;
		res.as_groups = (const char *const *)u->as_groups;
	}
	res.insecure = cl->insecure;
	res.cluster_entry = cl;
	if (!res.context || !res.namespace) {
		r = -ENOMEM;
		goto fail;
	}
	if (cl->ca_data) {
		r = dup_mem(cl->ca_data, cl->ca_data_len, &res.ca, &res.ca_len);
		if (r >= 0 && asprintf(&res.ca_source, "cluster \"%s\" certificate-authority-data (%s)",
				       cl->name, cl->source) < 0)
			r = -ENOMEM;
	} else if (cl->ca_file) {
		r = read_cred("cluster", cl->name, cl->ca_file, &res.ca, &res.ca_len, ret_err);
		if (r >= 0 && !(res.ca_source = strdup(cl->ca_file)))
			r = -ENOMEM;
	} else {
		r = 0;
	}
	if (r < 0)
		goto fail;
	r = resolve_user(u, o, &res, ret_err);
	if (r < 0)
		goto fail;
	*ret = res;
	return 0;
fail:
	kc_resolved_release(&res);
	return r;
}
