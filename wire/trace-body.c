// SPDX-License-Identifier: Apache-2.0
/*
 * The trace request (wire/trace-body.h): the plugin's one encoder and the
 * gateway's one strict decoder.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire/trace-body.h"
#include "lib/cleanup.h"
#include "lib/cleanup-json.h"
#include "lang/ast.h"
#include "kube/container.h"
#include "kube/workload.h"
#include "wire/fields.h"
#include "lib/banned.h"

static int body_fail(char **ret_field, char **ret_err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int body_fail(char **ret_field, char **ret_err, const char *field, const char *fmt, ...)
{
	va_list ap;

	*ret_field = strdup(field);
	va_start(ap, fmt);
	if (vasprintf(ret_err, fmt, ap) < 0)
		*ret_err = NULL;
	va_end(ap);
	return -EINVAL;
}

void trace_body_release(struct trace_body *b)
{
	free(b->target);
	free(b->name);
	free(b->program);
	free(b->container);
	kube_selector_free(b->selector);
	json_decref(b->params);
	*b = (struct trace_body){ 0 };
}

static int body_target(json_t *v, struct trace_body *b, char **ret_field, char **ret_err)
{
	const char *s, *slash, *name;
	enum kube_workload_kind kind = 0;

	if (!json_is_string(v))
		return body_fail(ret_field, ret_err, "target", "field \"target\" must be a string like \"pod/NAME\"");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) > 300)
		return body_fail(ret_field, ret_err, "target", "field \"target\" is not a valid name");
	slash = strchr(s, '/');
	name = s;
	if (slash) {
		size_t kl = (size_t)(slash - s);

		b->node = (kl == 4 && !strncmp(s, "node", 4)) || (kl == 5 && !strncmp(s, "nodes", 5)) ||
			  (kl == 2 && !strncmp(s, "no", 2));
		if (!(kl == 3 && !strncmp(s, "pod", 3)) && !b->node &&
		    kube_workload_kind_from_name(s, kl, &kind) < 0)
			return body_fail(ret_field, ret_err, "target",
					 "field \"target\": kind \"%.*s\" is not supported (use \"pod/NAME\", "
					 "\"deployment/NAME\", \"replicaset/NAME\", \"statefulset/NAME\", "
					 "\"daemonset/NAME\", \"job/NAME\", \"cronjob/NAME\", \"node/NAME\" "
					 "or \"NAME\" for a pod)",
					 (int)MIN(kl, 64), s);
		name = slash + 1;
	}
	if (!wire_dns_subdomain(name))
		return body_fail(ret_field, ret_err, "target",
				 "field \"target\": \"%s\" is not a valid %s name", name,
				 b->node ? "node" : kind ? kube_workload_kind_name(kind) : "pod");
	b->kind = kind;
	b->target = strdup(s);
	b->name = strdup(name);
	return b->target && b->name ? 0 : -ENOMEM;
}

static int body_params(json_t *v, struct trace_body *b, char **ret_field, char **ret_err)
{
	_cleanup_(json_decrefp) json_t *out = json_array();
	size_t i;
	json_t *p;

	if (!out)
		return -ENOMEM;
	if (!json_is_array(v))
		return body_fail(ret_field, ret_err, "params", "field \"params\" must be an array of strings");
	if (json_array_size(v) > TRACE_MAX_PARAMS)
		return body_fail(ret_field, ret_err, "params",
				 "field \"params\" has more than %d entries", TRACE_MAX_PARAMS);
	json_array_foreach(v, i, p) {
		char num[32];

		if (json_is_integer(p)) {
			/* bpftrace takes $1 as text and converts where it is used. */
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(p));
			json_array_append_new(out, json_string(num));
			continue;
		}
		if (!json_is_string(p) || strlen(json_string_value(p)) != json_string_length(p))
			return body_fail(ret_field, ret_err, "params",
					 "field \"params[%zu]\" must be a string without NUL bytes", i);
		if (json_string_length(p) > TRACE_MAX_PARAM_BYTES)
			return body_fail(ret_field, ret_err, "params",
					 "field \"params[%zu]\" is longer than %d bytes", i,
					 TRACE_MAX_PARAM_BYTES);
		json_array_append(out, p);
	}
	b->params = TAKE_PTR(out);
	return 0;
}

/* The tenant's name for a container: it reaches a message and the runner,
 * so nothing but a DNS-1123 label passes. */
static int body_container(json_t *v, struct trace_body *b, char **ret_field, char **ret_err)
{
	_cleanup_free_ char *err = NULL;

	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return body_fail(ret_field, ret_err, "container",
				 "field \"container\" must be a container name (a string)");
	if (tg_container_name_check(json_string_value(v), &err) < 0)
		return body_fail(ret_field, ret_err, "container", "field \"container\": %s",
				 err ? err : "not a valid container name");
	b->container = strdup(json_string_value(v));
	return b->container ? 0 : -ENOMEM;
}

/* "selector" (a tenant's label selector, instead of "target") and
 * "allNamespaces"; the target then reads "-l SELECTOR [-A]", as typed. */
static int body_selector(json_t *j, struct trace_body *b, char **ret_field, char **ret_err)
{
	json_t *v = json_object_get(j, "selector"), *all = json_object_get(j, "allNamespaces");
	_cleanup_free_ char *err = NULL;
	int r;

	if (all && !json_is_null(all) && !json_is_boolean(all))
		return body_fail(ret_field, ret_err, "allNamespaces", "field \"allNamespaces\" must be true or false");
	b->all_namespaces = json_is_true(all);
	if (!v || json_is_null(v)) {
		if (b->all_namespaces)
			return body_fail(ret_field, ret_err, "allNamespaces",
					 "field \"allNamespaces\" needs a \"selector\" (a target is one namespace's)");
		return 0;
	}
	if (json_object_get(j, "target"))
		return body_fail(ret_field, ret_err, "selector",
				 "fields \"target\" and \"selector\" cannot be given together");
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return body_fail(ret_field, ret_err, "selector", "field \"selector\" must be a label selector (a string)");
	r = kube_selector_parse(json_string_value(v), &b->selector, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return body_fail(ret_field, ret_err, "selector", "field \"selector\": %s", err ? err : "invalid");
	if (asprintf(&b->target, "-l %s%s", kube_selector_string(b->selector), b->all_namespaces ? " -A" : "") < 0) {
		b->target = NULL;
		return -ENOMEM;
	}
	return 0;
}

int trace_body_decode(const char *body, size_t len, struct trace_body *ret, char **ret_field,
		      char **ret_err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct trace_body b = { 0 };
	json_error_t jerr;
	const char *k;
	json_t *v;
	int r;

	*ret_field = NULL;
	*ret_err = NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return body_fail(ret_field, ret_err, "", "body is not JSON: line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);
	if (!json_is_object(j))
		return body_fail(ret_field, ret_err, "", "body must be a JSON object");
	json_object_foreach(j, k, v) {
		if (strcmp(k, "target") && strcmp(k, "program") && strcmp(k, "params") &&
		    strcmp(k, "duration") && strcmp(k, "output") && strcmp(k, "apiVersion") &&
		    strcmp(k, "kind") && strcmp(k, "detach") && strcmp(k, "container") &&
		    strcmp(k, "selector") && strcmp(k, "allNamespaces") && strcmp(k, "allNodes"))
			return body_fail(ret_field, ret_err, k, "field \"%s\" is not known", k);
	}
	r = body_selector(j, &b, ret_field, ret_err);
	if (r < 0)
		goto fail;
	v = json_object_get(j, "target");
	if (!v && !b.selector) {
		r = body_fail(ret_field, ret_err, "target", "field \"target\" (or \"selector\") is required");
		goto fail;
	}
	r = b.selector ? 0 : body_target(v, &b, ret_field, ret_err);
	if (r < 0)
		goto fail;
	v = json_object_get(j, "program");
	if (!v || !json_is_string(v) || json_string_length(v) == 0) {
		r = body_fail(ret_field, ret_err, "program", "field \"program\" is required (a non-empty string)");
		goto fail;
	}
	if (json_string_length(v) > TG_MAX_SOURCE_BYTES) {
		r = body_fail(ret_field, ret_err, "program", "field \"program\" is longer than %u bytes",
			      TG_MAX_SOURCE_BYTES);
		goto fail;
	}
	b.program_len = json_string_length(v);
	b.program = malloc(b.program_len + 1);
	if (!b.program) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(b.program, json_string_value(v), b.program_len + 1);
	v = json_object_get(j, "params");
	if (v && !json_is_null(v)) {
		r = body_params(v, &b, ret_field, ret_err);
		if (r < 0)
			goto fail;
	}
	v = json_object_get(j, "duration");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > TRACE_MAX_DURATION_S) {
			r = body_fail(ret_field, ret_err, "duration",
				      "field \"duration\" must be whole seconds from 0 to %d",
				      TRACE_MAX_DURATION_S);
			goto fail;
		}
		b.has_duration = true;
		b.duration = json_integer_value(v);
	}
	v = json_object_get(j, "output");
	if (v && !json_is_null(v) && !json_is_string(v)) {
		r = body_fail(ret_field, ret_err, "output", "field \"output\" must be a string");
		goto fail;
	}
	b.output_events = json_is_string(v) && !strcmp(json_string_value(v), "bpftrace-json");
	v = json_object_get(j, "detach");
	if (v && !json_is_null(v) && !json_is_boolean(v)) {
		r = body_fail(ret_field, ret_err, "detach", "field \"detach\" must be true or false");
		goto fail;
	}
	b.detach = json_is_true(v);
	/* A detached trace is filed in the request's namespace and readable
	 * by whoever may get traces there (trace-detached.c); one across
	 * namespaces would show their pods and events with one namespace's
	 * rights (tests/e2e/redteam-selector-detached.sh). */
	if (b.detach && b.all_namespaces) {
		r = body_fail(ret_field, ret_err, "detach",
			      "field \"detach\": a trace with \"allNamespaces\" cannot be detached (it would be "
			      "filed in one namespace and readable with that namespace's rights alone)");
		goto fail;
	}
	v = json_object_get(j, "allNodes");
	if (v && !json_is_null(v) && !json_is_boolean(v)) {
		r = body_fail(ret_field, ret_err, "allNodes", "field \"allNodes\" must be true or false");
		goto fail;
	}
	b.all_nodes = json_is_true(v);
	v = json_object_get(j, "container");
	if (v && !json_is_null(v)) {
		r = body_container(v, &b, ret_field, ret_err);
		if (r < 0)
			goto fail;
	}
	*ret = b;
	return 0;
fail:
	trace_body_release(&b);
	return r;
}

/* ---- encoding ------------------------------------------------------------- */

/* The members in the order the plugin has always written them. */
static int encode_options(const struct trace_body *b, json_t *j)
{
	if (b->selector && b->all_namespaces && json_object_set_new(j, "allNamespaces", json_true()) < 0)
		return -ENOMEM;
	if (b->all_nodes && json_object_set_new(j, "allNodes", json_true()) < 0)
		return -ENOMEM;
	if (b->has_duration && json_object_set_new(j, "duration", json_integer((json_int_t)b->duration)) < 0)
		return -ENOMEM;
	if (b->detach && json_object_set_new(j, "detach", json_true()) < 0)
		return -ENOMEM;
	/* the runners then say where each output event begins and its kind */
	if (b->output_events && json_object_set_new(j, "output", json_string("bpftrace-json")) < 0)
		return -ENOMEM;
	if (b->container && json_object_set_new(j, "container", json_string(b->container)) < 0)
		return -ENOMEM;
	return 0;
}

int trace_body_encode(const struct trace_body *b, char **ret_text)
{
	_cleanup_(json_decrefp) json_t *j = json_object();
	json_t *params = b->params ? json_deep_copy(b->params) : json_array();
	char *text;
	int r;

	if (!params)
		return -ENOMEM;
	if (!b->program || (!b->target && !b->selector) ||
	    (b->params && !json_is_array(b->params))) {
		json_decref(params);
		return -EINVAL;
	}
	if (!j || json_object_set_new(j, b->selector ? "selector" : "target",
				      json_string(b->selector ? kube_selector_string(b->selector) : b->target)) < 0 ||
	    json_object_set_new(j, "program", json_stringn(b->program, b->program_len)) < 0 ||
	    json_object_set_new(j, "params", params) < 0)
		return -ENOMEM;
	r = encode_options(b, j);
	if (r < 0)
		return r;
	text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

static bool params_equal(json_t *a, json_t *b)
{
	if (!a || !b)
		return (!a || !json_array_size(a)) && (!b || !json_array_size(b));
	return json_equal(a, b);
}

bool trace_body_equal(const struct trace_body *a, const struct trace_body *b)
{
	return wire_str_eq(a->target, b->target) && a->kind == b->kind && a->node == b->node &&
	       wire_str_eq(a->name, b->name) && a->program_len == b->program_len &&
	       (!a->program_len || !memcmp(a->program, b->program, a->program_len)) &&
	       params_equal(a->params, b->params) && a->has_duration == b->has_duration &&
	       a->duration == b->duration && a->detach == b->detach && a->output_events == b->output_events &&
	       wire_str_eq(a->container, b->container) && !a->selector == !b->selector &&
	       (!a->selector || !strcmp(kube_selector_string(a->selector), kube_selector_string(b->selector))) &&
	       a->all_namespaces == b->all_namespaces && a->all_nodes == b->all_nodes;
}
