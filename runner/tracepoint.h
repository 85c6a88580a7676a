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
#include "lang/ast.h"
#include "policy/tpfields.h"

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
	bool array;            /* declared with [N] */
};

struct tp_format {
	char *category;
	char *name;
	struct tp_field *fields;   /* without the common_ fields */
	size_t n;
	char *print_fmt;           /* the text after "print fmt: ", or NULL */
};

/* The tracefs mount (/sys/kernel/tracing or /sys/kernel/debug/tracing);
 * mounts it at /sys/kernel/tracing when absent and we may. */
int tracefs_find(char **ret_path, char **ret_err);

/* Reads <tracefs>/events/<cat>/<name>/format. */
int tp_format_read(const char *tracefs, const char *cat, const char *name, struct tp_format *f,
		   char **ret_err);
void tp_format_release(struct tp_format *f);
/* The names alone (no fields: n 0), for a program that does not read
 * them; the names checked as tp_format_read checks them (-EINVAL). */
int tp_format_names(const char *cat, const char *name, struct tp_format *f);
const struct tp_field *tp_format_field(const struct tp_format *f, const char *name);

/* Expands glob patterns over available tracepoints; *ret is a
 * NULL-terminated array of "cat:name" strings (strv_free), sorted; an
 * empty result is not an error (*ret_n = 0). */
int tp_expand(const char *tracefs, const char *cat_glob, const char *name_glob, char ***ret,
	      size_t *ret_n, char **ret_err);

/* Parses one "field:TYPE NAME;\toffset:O;\tsize:S;\tsigned:G;" line. */
int tp_field_parse(const char *line, struct tp_field *f);

/* ---- classified fields (policy/tpfields.h) ---- */

/* Every event in <tracefs>/available_events, "cat:name", sorted
 * (strv_free); bounded by the file's size, not TP_MAX_EXPAND. */
int tp_list_all(const char *tracefs, char ***ret, size_t *ret_n, char **ret_err);

/* Every event of available_events outside syscalls, in sorted order:
 * its format read and classified, fn(ctx, &format, verdicts).  A format
 * that cannot be read or classified is an error (a table must be
 * complete); fn's negative return stops and is returned. */
typedef int (*tp_derive_fn)(void *ctx, const struct tp_format *f, const struct tg_tpf_verdict *v);
int tp_fields_derive(const char *tracefs, tp_derive_fn fn, void *ctx, char **ret_err);

/* f's fields as the classifier takes them (pointing into f); out has
 * room for TP_MAX_FIELDS. */
size_t tp_format_tpf_fields(const struct tp_format *f, struct tg_tpf_field *out);

/* Refuses a probe whose body reads a field of f (one tracepoint it
 * attaches to, with the node's real format) that rules refuse:
 * -TG_EPOLICY with diag at the first refused args use, naming the
 * field, the rule and the policy.  rules NULL: no check. */
int tp_fields_check(const struct tg_tpf_rules *rules, const struct lang_probe *probe, const struct tp_format *f,
		    struct lang_diag *diag);

#endif
