/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C types for programs: the kernel's, from /sys/kernel/btf/vmlinux, and
 * the program's own `struct X { ... }` definitions, compiled by clang into
 * BTF once per preamble.  sema types member accesses with them; codegen
 * asks for the C name of every kernel type it casts to and, at the end,
 * for the declarations of exactly those types (btf_dump, with
 * preserve_access_index, so field reads are CO-RE relocated).
 */
#ifndef TG_RUNNER_KTYPES_H
#define TG_RUNNER_KTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/buf.h"

#define KTYPE_MAX_USED        1024     /* kernel types one program casts to */
#define KTYPE_MAX_PREAMBLE    (64u * 1024)
#define KTYPE_MAX_DUMP        (16u << 20)  /* declarations emitted for one program */
#define KTYPE_MAX_DEPTH       32       /* anonymous members, typedef chains */

enum ktype_src { KTYPE_NONE = 0, KTYPE_KERNEL = 1, KTYPE_USER = 2 };

/* A type: which BTF (kernel, or the program's definitions) and its id. */
struct ktype_ref {
	uint8_t src;
	uint32_t id;
};

enum ktype_kind { KK_VOID, KK_INT, KK_PTR, KK_ARRAY, KK_STRUCT, KK_UNION, KK_ENUM, KK_FUNC, KK_FWD };

/* A type with typedefs and qualifiers skipped. */
struct ktype_info {
	enum ktype_kind k;
	struct ktype_ref self;     /* the resolved type */
	uint32_t size;          /* bytes (0 for void, fwd, func) */
	bool sign;              /* KK_INT, KK_ENUM */
	bool is_char;           /* KK_INT named "char" */
	struct ktype_ref target;   /* KK_PTR: pointee; KK_ARRAY: element */
	uint32_t nelems;        /* KK_ARRAY */
};

struct ktype_member {
	struct ktype_ref type;
	uint32_t bit_off;       /* from the start of the containing type */
	uint32_t bitfield;      /* bits; 0: not a bitfield */
};

struct ktypes;

int ktype_new(struct ktypes **ret);
struct ktypes *ktype_free(struct ktypes *kt);

/* Compiles the program's definitions (lang_program.preamble: the canonical
 * C the front end printed from what it parsed, never the text as written;
 * BPFTRACE_HAVE_BTF is defined) so that the types named in
 * defs[0..ndefs-1] ("struct X") come from it.  -TG_ECOMPILE with
 * *ret_err (caller frees) when clang refuses it. */
int ktype_preamble(struct ktypes *kt, const char *preamble, const char *const *defs, size_t ndefs,
		const char *cache_dir, char **ret_err);

/* Each `#include <name>` of prog names a header that exists in a system
 * include directory (/usr/include, its multiarch directory,
 * /usr/local/include, clang's own): looked up by name beneath each
 * directory (openat2 RESOLVE_BENEATH), never read: the types come from
 * BTF.  -TG_EPARSE with diag at the line ("file not found") otherwise. */
struct lang_program;
struct lang_diag;
int ktype_includes_check(const struct lang_program *prog, struct lang_diag *diag);

/* "struct X", "union X", "enum X" or a typedef name: the program's
 * definition first, then the kernel's.  -ENOENT when neither has it. */
int ktype_find(struct ktypes *kt, const char *name, struct ktype_ref *ret);
int ktype_resolve(struct ktypes *kt, struct ktype_ref ref, struct ktype_info *ret);
/* Member `name` of a struct or union (also inside anonymous members). */
int ktype_member(struct ktypes *kt, struct ktype_ref agg, const char *name, struct ktype_member *ret);
/* Calls fn for each member of struct or union agg, in order: its name
 * ("" for an anonymous member) and where it is (bit_off from agg's
 * start).  Returns fn's first nonzero return, or 0; -EINVAL when agg is
 * no struct or union. */
int ktype_each_member(struct ktypes *kt, struct ktype_ref agg,
		   int (*fn)(void *ctx, const char *name, const struct ktype_member *m), void *ctx);
/* An enumerator of the program's or the kernel's enums. */
int ktype_enum_value(struct ktypes *kt, const char *name, int64_t *ret);
/* "struct sock", "union X" ... for messages. */
const char *ktype_name(struct ktypes *kt, struct ktype_ref ref, char *b, size_t sz);

/* The C name codegen casts to, for a named kernel struct/union (or a
 * typedef of one); records it for ktype_dump.  -ENOENT for the program's
 * own types and for anonymous ones (read by offset instead). */
int ktype_cname(struct ktypes *kt, struct ktype_ref ref, char *b, size_t sz);
/* Declarations of every type recorded by ktype_cname and what they need, in
 * dependency order, with preserve_access_index; nothing when none. */
int ktype_dump(struct ktypes *kt, struct buf *out);

#endif
