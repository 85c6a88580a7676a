/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Walking a libyaml document tree with limits and errors that name the
 * place: the one walker under the kubeconfig reader (plugin/kubeconfig.c)
 * and the TracePolicy loader (policy/policy-load.c).
 *
 * Every error is "FILE:LINE:COL: PATH: message", PATH the field as a
 * reader would write it (`users[0].user.token`, `spec.limits`; left out
 * at the document's root), and only the first error of a walk is kept.
 * The walk counts the nodes it visits (max_nodes) and refuses scalars
 * over max_string bytes and scalars holding a NUL byte, so a hostile file
 * costs a bounded amount of work.
 */
#ifndef TG_LIB_YAMLWALK_H
#define TG_LIB_YAMLWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#define YW_MAX_PATH 256          /* a path longer than this is cut, never overrun */

struct yaml_walk {
	yaml_document_t *doc;
	const char *file;
	char *err;                /* the first error (caller frees) */
	size_t nodes;             /* visited */
	size_t max_nodes;         /* 0: no bound */
	size_t max_string;        /* 0: no bound */
};

/* Loads the next document of parser into doc: 1, or 0 at the end of the
 * stream; on a syntax error -TG_ECONFIG and *ret_err "FILE:LINE:COL: YAML
 * problem context". */
int yw_load(yaml_parser_t *parser, const char *file, yaml_document_t *doc, char **ret_err);

/* Keeps "FILE:LINE:COL: PATH: message" at node n (n NULL: 1:1) unless an
 * error is already kept; returns -TG_ECONFIG. */
int yw_fail(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Node id of the document, counted against max_nodes (NULL and an error
 * past it, or for a bad id). */
yaml_node_t *yw_node(struct yaml_walk *w, int id);
/* "a scalar", "a list", "a mapping" */
const char *yw_kind(const yaml_node_t *n);
/* A plain ~, null, Null, NULL or nothing: absent, as Go's YAML reads it. */
bool yw_is_null(const yaml_node_t *n);
/* A scalar's text: NUL-free and within max_string. */
int yw_scalar(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char **ret);
/* true/True/TRUE, false/False/FALSE; with yaml11 also yes/no/on/off in
 * those three cases (YAML 1.1, as Go's yaml.v2 reads kubeconfigs). */
int yw_bool(struct yaml_walk *w, const yaml_node_t *n, const char *path, bool yaml11, bool *ret);

/* Calls fn for each pair of mapping n (a key must be a string) with the
 * pair's path ("PATH.KEY").  Errors unless n is a mapping. */
typedef int (*yw_pair_fn)(struct yaml_walk *w, const char *key, const yaml_node_t *k,
			  const yaml_node_t *v, const char *path, void *ud);
int yw_mapping(struct yaml_walk *w, const yaml_node_t *n, const char *path, yw_pair_fn fn, void *ud);
/* Calls fn for each item of sequence n with its path ("PATH[I]"); errors
 * unless n is a sequence of at most max items (0: no bound).  what says
 * what the list must hold, for the error ("a list of strings"). */
typedef int (*yw_item_fn)(struct yaml_walk *w, size_t i, const yaml_node_t *v, const char *path,
			  void *ud);
int yw_sequence(struct yaml_walk *w, const yaml_node_t *n, const char *path, const char *what, size_t max,
		yw_item_fn fn, void *ud);
/* Reads list n of strings into *ret: a NULL-terminated array of copies
 * the caller frees (strv_free), written only on success; returns how many.
 * Errors name n's path or an item's ("PATH[I]"): n is not a list ("expected
 * a list of strings"), it has more than max items (max 0 or past INT_MAX:
 * INT_MAX), an item is not a string or not one yw_scalar takes.  item,
 * when given, is called with each copy, which it may refuse (yw_fail) or
 * replace (freeing the old one). */
typedef int (*yw_string_fn)(struct yaml_walk *w, const yaml_node_t *n, const char *path, char **item,
			    void *ud);
int yw_strings(struct yaml_walk *w, const yaml_node_t *n, const char *path, size_t max, yw_string_fn item,
	       void *ud, char ***ret);

#endif
