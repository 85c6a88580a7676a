/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label selectors as a tenant writes them (`kubectl trace run -l ...`),
 * read as Kubernetes' labels.Parse reads them: requirements joined by
 * commas, all of which must hold:
 *
 *   k=v  k==v  k!=v          equality
 *   k  !k                    the label is there / is not
 *   k in (a,b)  k notin (a,b) sets
 *
 * Keys are qualified names ([DNS subdomain "/"] name of at most 63),
 * values label values (at most 63, may be empty): nothing else reaches a
 * query or a message.  `<`, `>`, an empty selector (it would select
 * everything) and anything the grammar does not have are refused with
 * the position (1-based) of what is wrong.  Pure: no I/O.
 */
#ifndef TG_KUBE_SELECTOR_H
#define TG_KUBE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define KUBE_SELECTOR_MAX_BYTES   1024    /* the selector as written */
#define KUBE_SELECTOR_MAX_REQS    32      /* requirements */
#define KUBE_SELECTOR_MAX_VALUES  64      /* values of one in/notin */

struct kube_selector;

/* 0 and *ret; -EINVAL with *ret_err ("label selector: at position 5: ..."),
 * -TG_ELIMIT past a limit (also with *ret_err), -ENOMEM. */
int kube_selector_parse(const char *s, struct kube_selector **ret, char **ret_err);
struct kube_selector *kube_selector_free(struct kube_selector *s);
static inline void kube_selector_freep(struct kube_selector **s)
{
	if (*s)
		kube_selector_free(*s);
}
/* Kubernetes' String() of it: requirements sorted by key, set values
 * sorted, "==" written "=": what goes into a labelSelector query and
 * into messages and the audit record. */
const char *kube_selector_string(const struct kube_selector *s);
/* Whether labels (a JSON object of strings, or NULL: no labels) match. */
bool kube_selector_matches(const struct kube_selector *s, json_t *labels);

/* Kubernetes' label key (qualified name) and value rules. */
bool kube_label_key_valid(const char *k);
bool kube_label_value_valid(const char *v);

#endif
