/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict JSON member readers every wire/ decoder is written with:
 * each refusal is -EINVAL with *ret_err naming the member, prefixed by
 * `where` ("", "pods[0].", "limits."), so a peer's mistake reads the same
 * whichever shape it was in.  Absent and null members are "not sent".
 *
 * Version skew: the runner and the gateway ship together and read each
 * other's shapes strictly (wire_only_members(): a member they do not know
 * is refused, named).  kubectl-trace is installed by each user and may be
 * older than the gateway it talks to, so the plugin's readers of the
 * gateway's shapes (the *_from_gateway() functions, wire/stream.h) skip
 * the members they do not know; a member they know is checked all the
 * same (its type, its bounds), and a wrong one is refused, named.
 */
#ifndef TG_WIRE_FIELDS_H
#define TG_WIRE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Every member of o is one of names (NULL-terminated). */
int wire_only_members(json_t *o, const char *where, const char *const *names, char **ret_err);
/* A string member of at most max bytes, no NUL; `printable`: ASCII from
 * '!' to '~' without '/', '"', '\\' (names that end up in paths and logs).
 * *ret NULL when absent (and not required). */
int wire_str_field(json_t *o, const char *key, const char *where, bool required, size_t max, bool printable,
		   char **ret, char **ret_err);
/* len bytes, no NUL, each one `printable` as wire_str_field() says. */
bool wire_name_text(const char *s, size_t len);
/* A required string member of min to max bytes of wire_printable_text()
 * (owners' names: a user may be an e-mail address or carry UTF-8). */
int wire_text_field(json_t *o, const char *key, const char *where, size_t min, size_t max, char **ret,
		    char **ret_err);
/* A non-negative integer member of at most max; 0 when absent. */
int wire_uint_field(json_t *o, const char *key, const char *where, uint64_t max, uint64_t *ret, char **ret_err);
/* Any text without control characters (a user may be an e-mail address
 * or carry UTF-8), len bytes with no NUL among them. */
bool wire_printable_text(const char *s, size_t len);

/* Text of at most max bytes (-E2BIG beyond) to a JSON object, duplicate
 * members refused (-EINVAL); `what` names the shape in the message. */
int wire_json_object(const char *text, size_t len, size_t max, const char *what, json_t **ret,
		     char **ret_err);

/* An array member of at most maxn strings of 1 to maxlen bytes, each
 * wire_name_text() when `name` (node names), else wire_printable_text()
 * (pods, groups).  Absent or null: none, or "missing" when required.  On
 * failure *ret and *ret_n hold the strings read so far (the caller's
 * release frees them). */
int wire_strv_field(json_t *o, const char *key, const char *where, bool required, size_t maxn, size_t maxlen,
		    bool name, char ***ret, size_t *ret_n, char **ret_err);
/* The encoders' check of what wire_strv_field() reads back. */
bool wire_strv_ok(char *const *v, size_t n, size_t maxn, size_t maxlen, bool name);
/* o.key = v when v is not NULL: 0, -ENOMEM. */
int wire_set_str(json_t *o, const char *key, const char *v);

/* Equal strings, both NULL included; equal arrays of n strings. */
bool wire_str_eq(const char *a, const char *b);
bool wire_strv_eq(char *const *a, size_t na, char *const *b, size_t nb);
/* Appends a copy of s to the n strings of *v: 0, -ENOMEM (*v, *n as they were). */
int wire_strv_push(char ***v, size_t *n, const char *s);
/* Frees n strings and their array. */
void wire_strvn_free(char **v, size_t n);
/* A JSON array of the n strings of v (NULL without memory). */
json_t *wire_strv_json(char *const *v, size_t n);

/* RFC 1123 label (Kubernetes namespace and pod names): [a-z0-9]([-a-z0-9]*[a-z0-9])?,
 * at most max characters. */
bool wire_dns_label(const char *s, size_t len, size_t max);
/* RFC 1123 subdomain (pod names, the gateway's routes and a trace's
 * target): labels of at most 63 joined by '.', at most 253. */
bool wire_dns_subdomain(const char *s);

#endif
