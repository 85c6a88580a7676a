// SPDX-License-Identifier: Apache-2.0
/* lib/yamlwalk: the walker under the kubeconfig reader and the TracePolicy
 * loader: placed, path-named errors and the limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "lib/errors.h"
#include "lib/yamlwalk.h"

struct doc {
	yaml_document_t d;
	struct yaml_walk w;
	yaml_node_t *root;
};

static void load(struct doc *d, const char *text, size_t max_nodes, size_t max_string)
{
	yaml_parser_t parser;
	char *err = NULL;

	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	assert_int_equal(yw_load(&parser, "f.yaml", &d->d, &err), 1);
	yaml_parser_delete(&parser);
	d->w = (struct yaml_walk){ .doc = &d->d, .file = "f.yaml", .max_nodes = max_nodes,
				   .max_string = max_string };
	d->root = yaml_document_get_root_node(&d->d);
}

static void unload(struct doc *d)
{
	free(d->w.err);
	yaml_document_delete(&d->d);
}

/* collects "path=value" of every scalar, depth first */
struct seen {
	char out[512];
};

static int walk_any(struct yaml_walk *w, const yaml_node_t *v, const char *path, struct seen *s);

static int on_pair(struct yaml_walk *w, const char *key, const yaml_node_t *k, const yaml_node_t *v,
		   const char *path, void *ud)
{
	return walk_any(w, v, path, ud);
}

static int on_item(struct yaml_walk *w, size_t i, const yaml_node_t *v, const char *path, void *ud)
{
	return walk_any(w, v, path, ud);
}

static int walk_any(struct yaml_walk *w, const yaml_node_t *v, const char *path, struct seen *s)
{
	const char *text;
	int r;

	if (v->type == YAML_MAPPING_NODE)
		return yw_mapping(w, v, path, on_pair, s);
	if (v->type == YAML_SEQUENCE_NODE)
		return yw_sequence(w, v, path, "a list", 3, on_item, s);
	r = yw_scalar(w, v, path, &text);
	if (r < 0)
		return r;
	snprintf(s->out + strlen(s->out), sizeof(s->out) - strlen(s->out), "%s=%s;", path, text);
	return 0;
}

static void test_paths(void **state)
{
	struct seen s = { "" };
	struct doc d;

	load(&d, "a: {b: [x, {c: y}]}\nd: z\n", 0, 0);
	assert_int_equal(walk_any(&d.w, d.root, "", &s), 0);
	assert_string_equal(s.out, "a.b[0]=x;a.b[1].c=y;d=z;");
	unload(&d);
}

/* the walk's error is want; the document unloaded */
static void unload_expecting(struct doc *d, const char *want)
{
	if (!d->w.err || strcmp(d->w.err, want))
		fail_msg("want \"%s\", got \"%s\"", want, d->w.err ? d->w.err : "(null)");
	unload(d);
}

static void expect_error(const char *text, size_t max_nodes, size_t max_string, const char *want)
{
	struct seen s = { "" };
	struct doc d;

	load(&d, text, max_nodes, max_string);
	assert_int_equal(walk_any(&d.w, d.root, "", &s), -TG_ECONFIG);
	unload_expecting(&d, want);
}

static void test_errors(void **state)
{
	expect_error("a: [1, 2, 3, 4]\n", 0, 0, "f.yaml:1:4: a: list has 4 entries, more than 3");
	expect_error("a: {b: c}\nd: e\n", 4, 0, "f.yaml:2:1: the document has more than 4 nodes");
	expect_error("a: 12345\n", 0, 4, "f.yaml:1:4: a: string is longer than 4 bytes");
	expect_error("a: \"x\\0y\"\n", 0, 0, "f.yaml:1:4: a: string contains a NUL byte");
	expect_error("? [k]\n: v\n", 0, 0, "f.yaml:1:3: a key is a list, not a string");
	/* only the first error is kept */
	{
		struct doc d;

		load(&d, "a: b\n", 0, 0);
		assert_int_equal(yw_fail(&d.w, d.root, "one", "first"), -TG_ECONFIG);
		assert_int_equal(yw_fail(&d.w, d.root, "two", "second"), -TG_ECONFIG);
		assert_string_equal(d.w.err, "f.yaml:1:1: one: first");
		unload(&d);
	}
}

static void test_long_path_is_cut(void **state)
{
	char text[2 * YW_MAX_PATH + 16];
	struct seen s = { "" };
	struct doc d;

	memset(text, 'k', 2 * YW_MAX_PATH);
	strcpy(text + 2 * YW_MAX_PATH, ": [v]\n");
	load(&d, text, 0, 0);
	assert_int_equal(walk_any(&d.w, d.root, "", &s), 0);
	/* the path is cut to YW_MAX_PATH - 1 bytes, and the walk goes on */
	assert_int_equal(strlen(s.out), YW_MAX_PATH - 1 + strlen("=v;"));
	unload(&d);
}

static void test_null_and_bool(void **state)
{
	struct doc d;
	bool b = false;
	const yaml_node_t *v;

	load(&d, "[~, null, \"null\", '', yes, True, off, maybe]\n", 0, 0);
	v = d.root;
#define ITEM(i) yaml_document_get_node(&d.d, v->data.sequence.items.start[i])
	assert_true(yw_is_null(ITEM(0)));
	assert_true(yw_is_null(ITEM(1)));
	assert_false(yw_is_null(ITEM(2)));    /* quoted: a string */
	assert_false(yw_is_null(ITEM(3)));
	assert_true(yw_is_null(NULL));
	assert_int_equal(yw_bool(&d.w, ITEM(4), "x", true, &b), 0);
	assert_true(b);
	assert_int_equal(yw_bool(&d.w, ITEM(6), "x", true, &b), 0);
	assert_false(b);
	assert_int_equal(yw_bool(&d.w, ITEM(5), "x", false, &b), 0);
	assert_true(b);
	/* strict: yes is not a boolean */
	assert_int_equal(yw_bool(&d.w, ITEM(4), "x", false, &b), -TG_ECONFIG);
	assert_string_equal(d.w.err, "f.yaml:1:23: x: expected true or false, found \"yes\"");
#undef ITEM
	unload(&d);
}

/* refuses "no", upper-cases "up" in place */
static int string_check(struct yaml_walk *w, const yaml_node_t *n, const char *path, char **item, void *ud)
{
	int *calls = ud;

	(*calls)++;
	if (!strcmp(*item, "no"))
		return yw_fail(w, n, path, "\"%s\" refused", *item);
	if (!strcmp(*item, "up")) {
		free(*item);
		*item = strdup("UP");
		return *item ? 0 : -ENOMEM;
	}
	return 0;
}

static void test_strings(void **state)
{
	_cleanup_(strv_freep) char **v = NULL;
	const yaml_node_t *a;
	struct doc d;
	int calls = 0;

	load(&d, "a: [x, \"y\", '', ~, up]\nb: []\n", 0, 0);
	a = yaml_document_get_node(&d.d, d.root->data.mapping.pairs.start[0].value);
	assert_int_equal(yw_strings(&d.w, a, "a", 5, string_check, &calls, &v), 5);
	assert_int_equal(calls, 5);
	/* a plain ~ is the text "~" here: what null means is the caller's */
	assert_string_equal(v[0], "x");
	assert_string_equal(v[1], "y");
	assert_string_equal(v[2], "");
	assert_string_equal(v[3], "~");
	assert_string_equal(v[4], "UP");
	assert_null(v[5]);
	strv_free(v);
	v = NULL;
	/* no item function, no bound; an empty list is an array of none */
	a = yaml_document_get_node(&d.d, d.root->data.mapping.pairs.start[1].value);
	assert_int_equal(yw_strings(&d.w, a, "b", 0, NULL, NULL, &v), 0);
	assert_non_null(v);
	assert_null(v[0]);
	assert_null(d.w.err);
	unload(&d);
}

static void expect_strings_error(const char *text, size_t max, size_t max_string, const char *want)
{
	static char *untouched[1];
	char **v = untouched;     /* written only on success */
	const yaml_node_t *a;
	struct doc d;
	int calls = 0;

	load(&d, text, 0, max_string);
	a = yaml_document_get_node(&d.d, d.root->data.mapping.pairs.start[0].value);
	assert_int_equal(yw_strings(&d.w, a, "spec.a", max, string_check, &calls, &v), -TG_ECONFIG);
	assert_ptr_equal(v, untouched);
	unload_expecting(&d, want);
}

static void test_strings_errors(void **state)
{
	static const struct {
		const char *text;
		size_t max, max_string;
		const char *want;
	} cases[] = {
		{ "a: x\n", 3, 0, "f.yaml:1:4: spec.a: expected a list of strings, found a scalar" },
		{ "a: {b: c}\n", 3, 0, "f.yaml:1:4: spec.a: expected a list of strings, found a mapping" },
		{ "a: [1, 2, 3, 4]\n", 3, 0, "f.yaml:1:4: spec.a: list has 4 entries, more than 3" },
		{ "a: [x, [y]]\n", 3, 0, "f.yaml:1:8: spec.a[1]: expected a string, found a list" },
		{ "a: [x, {y: z}]\n", 3, 0, "f.yaml:1:8: spec.a[1]: expected a string, found a mapping" },
		{ "a: [x, \"y\\0\"]\n", 3, 0, "f.yaml:1:8: spec.a[1]: string contains a NUL byte" },
		{ "a: [x, 12345]\n", 3, 4, "f.yaml:1:8: spec.a[1]: string is longer than 4 bytes" },
		/* the item function's refusal, the items before it freed */
		{ "a: [x, up, no]\n", 3, 0, "f.yaml:1:12: spec.a[2]: \"no\" refused" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_strings_error(cases[i].text, cases[i].max, cases[i].max_string, cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_path_is_cut),
		cmocka_unit_test(test_null_and_bool),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_strings_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
