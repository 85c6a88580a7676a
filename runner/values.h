/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User-space formatting of the values BPF hands over raw (sema.h, ST_TEXT):
 * ksym/usym addresses, kstack/ustack ids, strftime nanoseconds, user ids,
 * cgroup ids.  Symbol tables and the boot time are loaded on first use.
 */
#ifndef TG_RUNNER_VALUES_H
#define TG_RUNNER_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "lib/buf.h"
#include "runner/sema.h"

struct syms_kernel;
struct syms_user_cache;
struct loader;

struct values {
	const struct sem *sem;
	const struct loader *ld;       /* stack maps tg_st<frames> */
	struct syms_kernel *kernel;    /* loaded on first ksym/kstack */
	bool kernel_tried;
	struct syms_user_cache *user;
	struct timespec boot;
	bool boot_known;
};

void values_init(struct values *v, const struct sem *s, const struct loader *ld);
void values_release(struct values *v);

/* Appends the text of one ST_TEXT value (t->slen raw bytes at raw).
 * in_key: a map key (stacks indent 4, not 8).  Unresolvable values print
 * as bpftrace prints them (an address, an empty stack), never fail. */
int values_format(struct values *v, const struct sem_type *t, const uint8_t *raw, bool in_key,
		  struct buf *out);

/* The value as bpftrace's JSON output has it: an integer (by t's size and
 * sign), a string, an array for a tuple (its elements likewise), the
 * text of any other value.  NULL when out of memory; caller owns. */
json_t *values_json(struct values *v, const struct sem_type *t, const uint8_t *raw);

#endif
