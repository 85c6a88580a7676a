// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "gateway/ndjson.h"
#include "lib/errors.h"
#include "lib/banned.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* p at an opening quote: past the closing one, or NULL when the string is
 * not one the relay passes on as it is (ndjson.h). */
static const char *json_string_end(const char *p, const char *end)
{
	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (end - p < 2)
				return NULL;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				/* \u0001-\u00ff only: a surrogate escape alone is not
				 * a string jansson takes, nor \u0000 (without
				 * JSON_ALLOW_NUL, which no reader here sets) */
				if (end - p < 6 || p[2] != '0' || p[3] != '0' || !is_hex(p[4]) || !is_hex(p[5]) ||
				    (p[4] == '0' && p[5] == '0'))
					return NULL;
				p += 6;
				continue;
			default:
				return NULL;
			}
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		{
			size_t n = utf8_valid_len((const unsigned char *)p, (size_t)(end - p));

			if (!n)
				return NULL;
			p += n;
		}
	}
	return NULL;
}

/* "name": at *p, advanced past it */
static bool member(const char **p, const char *end, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(end - *p) < n || memcmp(*p, name, n))
		return false;
	*p += n;
	return true;
}

bool ndjson_output_shape(const char *line, size_t len, struct ndjson_output *ret)
{
	const char *p = line, *end = line + len, *q;
	struct ndjson_output o;

	if (!member(&p, end, "{\"type\":\"output\","))
		return false;
	if (member(&p, end, "\"node\":")) {
		if (!(q = json_string_end(p, end)) || q >= end || *q != ',')
			return false;
		p = q + 1;
	}
	if (!member(&p, end, "\"pod\":") || !(q = json_string_end(p, end)))
		return false;
	o.pod = p;
	o.pod_len = (size_t)(q - p);
	p = q;
	if (!member(&p, end, ",\"lines\":"))
		return false;
	o.lines = p;
	while (p < end && *p >= '0' && *p <= '9' && p - o.lines < 10)
		p++;
	o.lines_len = (size_t)(p - o.lines);
	if (!o.lines_len || (o.lines[0] == '0' && o.lines_len > 1))
		return false;
	if (!member(&p, end, ",\"text\":") || !(q = json_string_end(p, end)))
		return false;
	o.text = p;
	o.text_len = (size_t)(q - p);
	if (q + 1 != end || *q != '}')
		return false;
	*ret = o;
	return true;
}
