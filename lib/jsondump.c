// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/cleanup.h"
#include "lib/jsondump.h"
#include "lib/banned.h"

struct key {
	const char *s;
	size_t len;
	json_t *v;
};

/* jansson's order (compare_keys in dump.c): bytes, then the shorter first */
static int key_cmp(const struct key *a, const struct key *b)
{
	int r = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

	if (r)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int key_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* Escapes as jansson's dump_string without flags: '"', '\\', the short
 * escapes of \b \f \n \r \t, any other control character as \u00XX
 * (upper-case hex); everything else, UTF-8 included, as it is.  A string
 * that is not UTF-8 fails, as json_dumps does. */
static int dump_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;
	int r;

	r = buf_grow(b, len + 2);
	if (r < 0)
		return r;
	b->s[b->len++] = '"';
	while (i < len) {
		size_t j = i;
		unsigned char c;
		char esc[6];
		size_t n = 2;

		while (j < len && (c = (unsigned char)s[j]) >= 0x20 && c != '"' && c != '\\') {
			if (c >= 0x80) {
				size_t u = utf8_valid_len((const unsigned char *)s + j, len - j);

				if (!u)
					return -EINVAL;
				j += u;
			} else {
				j++;
			}
		}
		if (j > i && (r = buf_add(b, s + i, j - i)) < 0)
			return r;
		if (j == len)
			break;
		c = (unsigned char)s[j];
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if ((r = buf_add(b, esc, n)) < 0)
			return r;
		i = j + 1;
	}
	return buf_addc(b, '"');
}

static int dump(struct buf *b, const json_t *j, unsigned depth);

static int dump_object(struct buf *b, const json_t *j, unsigned depth)
{
	struct key small[32], *keys = small;
	_cleanup_free_ struct key *big = NULL;
	size_t n = json_object_size(j), k = 0;
	int r;

	if (n > sizeof(small) / sizeof(small[0])) {
		keys = big = calloc(n, sizeof(*keys));
		if (!big)
			return -ENOMEM;
	}
	for (void *it = json_object_iter((json_t *)j); it; it = json_object_iter_next((json_t *)j, it)) {
		if (k == n)
			return -EINVAL;   /* changed under us */
		keys[k].s = json_object_iter_key(it);
		keys[k].len = json_object_iter_key_len(it);
		keys[k++].v = json_object_iter_value(it);
	}
	if (keys == small) {
		/* records' objects have a handful of keys: insertion sort */
		for (size_t i = 1; i < k; i++) {
			struct key t = keys[i];
			size_t p = i;

			while (p > 0 && key_cmp(&keys[p - 1], &t) > 0) {
				keys[p] = keys[p - 1];
				p--;
			}
			keys[p] = t;
		}
	} else {
		qsort(keys, k, sizeof(*keys), key_qcmp);
	}
	if ((r = buf_addc(b, '{')) < 0)
		return r;
	for (size_t i = 0; i < k; i++) {
		if (i && (r = buf_addc(b, ',')) < 0)
			return r;
		if ((r = dump_string(b, keys[i].s, keys[i].len)) < 0 || (r = buf_addc(b, ':')) < 0 ||
		    (r = dump(b, keys[i].v, depth + 1)) < 0)
			return r;
	}
	return buf_addc(b, '}');
}

static int dump(struct buf *b, const json_t *j, unsigned depth)
{
	char num[32];
	int r, n;

	if (!j || depth > JSON_DUMP_MAX_DEPTH)
		return -EINVAL;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return dump_object(b, j, depth);
	case JSON_ARRAY:
		if ((r = buf_addc(b, '[')) < 0)
			return r;
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i && (r = buf_addc(b, ',')) < 0)
				return r;
			if ((r = dump(b, json_array_get(j, i), depth + 1)) < 0)
				return r;
		}
		return buf_addc(b, ']');
	case JSON_STRING:
		return dump_string(b, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return buf_add(b, num, (size_t)n);
	case JSON_REAL: {
		/* jansson's own formatting (precision, locale, ".0"): none
		 * of the hot records carries a real */
		_cleanup_free_ char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

		return s ? buf_adds(b, s) : -EINVAL;
	}
	case JSON_TRUE:
		return buf_add(b, "true", 4);
	case JSON_FALSE:
		return buf_add(b, "false", 5);
	case JSON_NULL:
		return buf_add(b, "null", 4);
	}
	return -EINVAL;
}

int json_dump_string(struct buf *b, const char *s, size_t len)
{
	return dump_string(b, s, len);
}

int json_dump_sorted(struct buf *b, const json_t *j)
{
	return dump(b, j, 0);
}
