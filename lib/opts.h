/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sized option structs, as libbpf's (LIBBPF_OPTS, OPTS_VALID, OPTS_GET):
 * a struct of options begins with `size_t sz`, which the caller sets to
 * sizeof the struct it was built with:
 *
 *	struct verify_opts vo = { .sz = sizeof(vo), .require_scope = true };
 *
 * and the callee checks it once with OPTS_VALID before reading a field.
 * Here every caller is built from the same tree, so the rule is simpler
 * than libbpf's (which accepts older, shorter structs): sz must cover the
 * whole struct the callee knows, and any bytes a newer caller put beyond
 * it must be zero, so a field the callee does not know can never be set
 * and ignored.  Options are optional where the callee says so: NULL is
 * valid, and OPTS_GET then gives the fallback.
 */
#ifndef TG_LIB_OPTS_H
#define TG_LIB_OPTS_H

#include <stdbool.h>
#include <stddef.h>

static inline bool opts_tail_zero(const void *opts, size_t known, size_t sz)
{
	const unsigned char *p = opts;

	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

/* NULL, or sz at least sizeof(type) with nothing set beyond it. */
#define OPTS_VALID(opts, type)                                                              \
	({                                                                                  \
		const typeof(*(opts)) *opts_ = (opts);                                      \
		!opts_ || (opts_->sz >= sizeof(type) && opts_tail_zero(opts_, sizeof(type), opts_->sz)); \
	})
/* opts->field, or fallback when opts is NULL (after OPTS_VALID). */
#define OPTS_GET(opts, field, fallback)                                                     \
	({                                                                                  \
		const typeof(*(opts)) *opts_ = (opts);                                      \
		opts_ ? opts_->field : (fallback);                                          \
	})

#endif
