// SPDX-License-Identifier: Apache-2.0
/*
 * The byte layouts of map keys and values and of hist buckets: one owner
 * for what the generated C writes (codegen.c, codegen-expr.c) and what
 * user space reads back (engine.c).
 */
#include <stdint.h>

#include "runner/codegen-layout.h"
#include "lib/banned.h"

uint32_t cg_key_off(const struct sem_map *m, size_t i)
{
	uint32_t off = 0;

	for (size_t j = 0; j < i; j++)
		off += sem_is_blob(&m->keys[j]) ? sem_round8(m->keys[j].slen) : 8;
	return off;
}

uint32_t cg_key_size(const struct sem_map *m)
{
	uint32_t s = cg_key_off(m, m->nkeys);

	if (m->kind == MK_HIST || m->kind == MK_LHIST)
		s += 8;
	return s ? s : 8;
}

uint32_t cg_val_size(const struct sem_map *m)
{
	switch (m->kind) {
	case MK_STR:
	case MK_TEXT:
		return sem_round8(m->val.slen);
	case MK_MIN: case MK_MAX: case MK_AVG: case MK_STATS:
		return 16;
	default:
		return 8;
	}
}

unsigned cg_log2_bucket(int64_t v)
{
	uint64_t n;
	unsigned l = 0;

	if (v < 0)
		return 0;
	if (v == 0)
		return 1;
	for (n = (uint64_t)v; n > 1; n >>= 1)
		l++;
	return l + 2;
}

unsigned cg_log2k_bucket(int64_t v, unsigned k)
{
	uint64_t mask = (UINT64_C(1) << k) - 1, n = (uint64_t)v;
	unsigned l = 0;

	if (v < 0)
		return 0;
	if (n <= mask)
		return (unsigned)n + 1;
	for (; n > 1; n >>= 1)
		l++;
	l -= k;
	return ((l + 1) << k) + (unsigned)(((uint64_t)v >> l) & mask) + 1;
}

size_t cg_hist_buckets(unsigned k)
{
	/* the index of INT64_MAX, plus one */
	return k ? (size_t)cg_log2k_bucket(INT64_MAX, k) + 1 : 66;
}
