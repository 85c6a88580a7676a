/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tracepoints through tracefs: where tracefs is, which tracepoints exist
 * (wildcard expansion) and the layout of each one's context record (the
 * `format` file), so generated code reads args->FIELD at its offset.
 */
#ifndef TG_RUNNER_TRACEPOINT_H
#define TG_RUNNER_TRACEPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TP_MAX_FIELDS   64      /* fields in one format file */
#define TP_MAX_EXPAND   1024    /* tracepoints one wildcard may expand to */

enum tp_field_kind {
	TPF_INT,        /* integer of size 1/2/4/8 (signed or not) */
	TPF_CHARARRAY,  /* char x[N]: a string of at most N bytes */
	TPF_PTR,        /* a pointer (8 bytes); char_ptr when it points to char */
	TPF_DATALOC,    /* __data_loc char[]: u32 (len << 16 | offset) */
	TPF_OTHER,      /* anything else (arrays of ints, structs): not readable */
};

struct tp_field {
	char *name;
	char *type;            /* as written, e.g. "const char *" */
	enum tp_field_kind kind;
	uint32_t offset;
	uint32_t size;
	bool is_signed;
	bool char_ptr;
};

struct tp_format {
	char *category;
	char *name;
	struct tp_field *fields;   /* without the common_ fields */
	size_t n;
};

/* The tracefs mount (/sys/kernel/tracing or /sys/kernel/debug/tracing);
 * mounts it at /sys/kernel/tracing when absent and we may. */
int tracefs_find(char **ret_path, char **ret_err);

/* Reads <tracefs>/events/<cat>/<name>/format. */
int tp_format_read(const char *tracefs, const char *cat, const char *name, struct tp_format *f,
		   char **ret_err);
void tp_format_release(struct tp_format *f);
const struct tp_field *tp_format_field(const struct tp_format *f, const char *name);

/* Expands glob patterns over available tracepoints; *ret is a
 * NULL-terminated array of "cat:name" strings (strv_free), sorted; an
 * empty result is not an error (*ret_n = 0). */
int tp_expand(const char *tracefs, const char *cat_glob, const char *name_glob, char ***ret,
	      size_t *ret_n, char **ret_err);

/* Parses one "field:TYPE NAME;\toffset:O;\tsize:S;\tsigned:G;" line. */
int tp_field_parse(const char *line, struct tp_field *f);

#endif
