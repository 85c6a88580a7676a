// SPDX-License-Identifier: Apache-2.0
/*
 * The runner's probe listing (wire/probes.h): its line writers and its
 * strict line reader.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "lib/errors.h"
#include "wire/probes.h"
#include "lib/banned.h"

#define INDENT_LEN (sizeof(WIRE_PROBES_INDENT) - 1)

/* a name: printable ASCII, no space */
static size_t bad_name_at(const char *s, size_t len);

bool wire_probes_name_ok(const char *s, size_t len)
{
	return len && len <= WIRE_PROBES_MAX_LINE && !bad_name_at(s, len);
}

static size_t bad_field_at(const char *s, size_t len);

bool wire_probes_field_ok(const char *s, size_t len)
{
	return len && len + INDENT_LEN <= WIRE_PROBES_MAX_LINE && !bad_field_at(s, len);
}

static size_t bad_name_at(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return i + 1;
	return 0;
}

/* a declaration: printable ASCII and tabs, not starting with a blank */
static size_t bad_field_at(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || (unsigned char)s[i] >= 0x7f ||
		    (i == 0 && (s[i] == ' ' || s[i] == '\t')))
			return i + 1;
	return 0;
}

int wire_probes_line_decode(const char *line, size_t len, struct wire_probe_line *ret, char **ret_err)
{
	size_t at;

	if (len > WIRE_PROBES_MAX_LINE)
		return tg_fail(ret_err, -EINVAL, "probe listing: a line longer than %u bytes", WIRE_PROBES_MAX_LINE);
	if (!len) {
		*ret = (struct wire_probe_line){ .kind = WIRE_PROBE_BLANK, .text = line, .len = 0 };
		return 0;
	}
	if (len > INDENT_LEN && !memcmp(line, WIRE_PROBES_INDENT, INDENT_LEN)) {
		if ((at = bad_field_at(line + INDENT_LEN, len - INDENT_LEN)))
			return tg_fail(ret_err, -EINVAL, "probe listing: field line: byte %zu is not allowed",
				       at + INDENT_LEN);
		*ret = (struct wire_probe_line){ .kind = WIRE_PROBE_FIELD, .text = line + INDENT_LEN,
						 .len = len - INDENT_LEN };
		return 0;
	}
	if ((at = bad_name_at(line, len)))
		return tg_fail(ret_err, -EINVAL, "probe listing: name line: byte %zu is not allowed", at);
	*ret = (struct wire_probe_line){ .kind = WIRE_PROBE_NAME, .text = line, .len = len };
	return 0;
}

int wire_probes_name_write(FILE *out, const char *name)
{
	size_t n = strlen(name);

	if (!n || n > WIRE_PROBES_MAX_LINE || bad_name_at(name, n))
		return -EINVAL;
	return fprintf(out, "%s\n", name) < 0 ? -EIO : 0;
}

int wire_probes_field_write(FILE *out, const char *decl)
{
	size_t n = strlen(decl);

	if (!n || n + INDENT_LEN > WIRE_PROBES_MAX_LINE || bad_field_at(decl, n))
		return -EINVAL;
	return fprintf(out, WIRE_PROBES_INDENT "%s\n", decl) < 0 ? -EIO : 0;
}
