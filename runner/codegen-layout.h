/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte layouts shared by the generated C and user space: map keys and
 * values, and the buckets of hist/lhist (codegen-layout.c).
 */
#ifndef TG_RUNNER_CODEGEN_LAYOUT_H
#define TG_RUNNER_CODEGEN_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "runner/sema.h"

uint32_t cg_key_size(const struct sem_map *m);    /* keys, + 8 for the bucket of hist/lhist */
uint32_t cg_key_off(const struct sem_map *m, size_t i);
uint32_t cg_val_size(const struct sem_map *m);
/* bpftrace 0.17's hist bucket of v (0: negative, 1: zero, 2 + log2 v). */
unsigned cg_log2_bucket(int64_t v);
/* bpftrace 0.2x's hist(v, k) bucket (2^k per power of 2; k 0 is 0.17's). */
unsigned cg_log2k_bucket(int64_t v, unsigned k);
/* Buckets a hist of k bits can index (k 0: 0.17's 65, and one spare). */
size_t cg_hist_buckets(unsigned k);

#endif
