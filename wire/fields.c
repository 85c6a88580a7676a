// SPDX-License-Identifier: Apache-2.0
/*
 * The strict member readers of wire/ decoders (wire/fields.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/errors.h"
#include "wire/fields.h"
#include "lib/banned.h"

/* Every member of o is one of names (NULL-terminated); where prefixes the
 * name in the message ("", "pods[0].", "limits."). */
int wire_only_members(json_t *o, const char *where, const char *const *names, char **ret_err)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		const char *const *n;

		for (n = names; *n && strcmp(*n, key); n++)
			;
		if (!*n)
			return tg_fail(ret_err, -EINVAL, "%s\"%.64s\": unknown field", where, key);
	}
	return 0;
}

static bool name_char(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f && c != '/' && c != '"' && c != '\\';
}

bool wire_name_text(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* A string field of at most max bytes, printable ASCII when `printable`. */
int wire_str_field(json_t *o, const char *key, const char *where, bool required, size_t max,
		   bool printable, char **ret, char **ret_err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t len, i;

	*ret = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return tg_fail(ret_err, -EINVAL, "%s\"%s\": missing", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not a string", where, key);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": longer than %zu bytes", where, key, max);
	if (required && len == 0)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": empty", where, key);
	if (strlen(s) != len)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": contains a NUL character", where, key);
	for (i = 0; printable && i < len; i++)
		if (!name_char(s[i]))
			return tg_fail(ret_err, -EINVAL, "%s\"%s\": character %zu is not allowed", where, key, i + 1);
	*ret = strndup(s, len);
	return *ret ? 0 : -ENOMEM;
}

int wire_uint_field(json_t *o, const char *key, const char *where, uint64_t max, uint64_t *ret,
		    char **ret_err)
{
	json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not a non-negative integer", where, key);
	if ((uint64_t)json_integer_value(v) > max)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": above the limit %llu", where, key,
			     (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

/* Names kept for listing (owner, detached): control characters aside,
 * any text (a user may be an e-mail address or carry UTF-8). */
bool wire_printable_text(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int wire_text_field(json_t *o, const char *key, const char *where, size_t min, size_t max, char **ret,
		    char **ret_err)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) < min || json_string_length(v) > max ||
	    !wire_printable_text(json_string_value(v), json_string_length(v)))
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not a string of %zu to %zu printable characters", where,
			       key, min, max);
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}


int wire_json_object(const char *text, size_t len, size_t max, const char *what, json_t **ret,
		     char **ret_err)
{
	json_error_t jerr;
	json_t *j;

	if (len > max)
		return tg_fail(ret_err, -E2BIG, "%s: longer than %zu bytes", what, max);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return tg_fail(ret_err, -EINVAL, "%s: not JSON: %s", what, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return tg_fail(ret_err, -EINVAL, "%s: not a JSON object", what);
	}
	*ret = j;
	return 0;
}

int wire_strv_field(json_t *o, const char *key, const char *where, bool required, size_t maxn, size_t maxlen,
		    bool name, char ***ret, size_t *ret_n, char **ret_err)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!a || json_is_null(a))
		return required ? tg_fail(ret_err, -EINVAL, "%s\"%s\": missing", where, key) : 0;
	if (!json_is_array(a) || json_array_size(a) > maxn)
		return tg_fail(ret_err, -EINVAL, "%s\"%s\": not an array of at most %zu strings", where, key, maxn);
	if (!(*ret = calloc(json_array_size(a) + 1, sizeof(**ret))))
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		if (!s || !n || n > maxlen || !(name ? wire_name_text(s, n) : wire_printable_text(s, n)))
			return tg_fail(ret_err, -EINVAL, "%s\"%s\"[%zu]: not a string of 1 to %zu %s", where, key, i,
				       maxlen, name ? "name characters" : "printable characters");
		if (!((*ret)[i] = strdup(s)))
			return -ENOMEM;
		(*ret_n)++;
	}
	return 0;
}

bool wire_strv_ok(char *const *v, size_t n, size_t maxn, size_t maxlen, bool name)
{
	if (n > maxn)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t len = v[i] ? strlen(v[i]) : 0;

		if (!len || len > maxlen || !(name ? wire_name_text(v[i], len) : wire_printable_text(v[i], len)))
			return false;
	}
	return true;
}

int wire_set_str(json_t *o, const char *key, const char *v)
{
	return !v || json_object_set_new(o, key, json_string(v)) == 0 ? 0 : -ENOMEM;
}

bool wire_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool wire_strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!wire_str_eq(a[i], b[i]))
			return false;
	return true;
}

int wire_strv_push(char ***v, size_t *n, const char *s)
{
	char **nv, *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[(*n)++] = copy;
	*v = nv;
	return 0;
}

void wire_strvn_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

json_t *wire_strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

bool wire_dns_label(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && !(c == '-' && i > 0 && i + 1 < len))
			return false;
	}
	return true;
}

bool wire_dns_subdomain(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253)
		return false;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (!wire_dns_label(s, n, 63))
			return false;
		s += n;
		if (*s == '.' && !*++s)
			return false;
	}
	return true;
}
