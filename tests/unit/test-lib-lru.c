// SPDX-License-Identifier: Apache-2.0
/* lib/lru: the bounded LRU with TTLs under the TokenReview, SAR and
 * dry-run caches. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/lru.h"

static uint64_t fake_now;
static size_t freed;

static uint64_t clock_fn(void *ud)
{
	return fake_now;
}

static void count_free(void *v)
{
	freed++;
	free(v);
}

static struct lru *mk(size_t max)
{
	struct lru_opts o = { .sz = sizeof(o), .max_entries = max, .now_ns = clock_fn,
			      .free_val = count_free };
	struct lru *l = NULL;

	fake_now = 1000;
	freed = 0;
	assert_int_equal(lru_new(&o, &l), 0);
	return l;
}

static int copy_int(const void *val, void *ud)
{
	*(int *)ud = *(const int *)val;
	return 0;
}

static int copy_fails(const void *val, void *ud)
{
	return -ENOMEM;
}

static int *boxed(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static int get(struct lru *l, const char *key)
{
	int out = -1;

	return lru_lookup(l, key, strlen(key), copy_int, &out) == 1 ? out : -1;
}

static void test_ttl(void **state)
{
	struct lru *l = mk(4);

	assert_int_equal(lru_store(l, "a", 1, 10, boxed(1)), 0);
	assert_int_equal(get(l, "a"), 1);
	fake_now += 9;
	assert_int_equal(get(l, "a"), 1);
	fake_now += 1;               /* now >= stored + ttl: gone, and freed */
	assert_int_equal(get(l, "a"), -1);
	assert_int_equal(freed, 1);
	assert_int_equal(lru_size(l), 0);
	/* UINT64_MAX: not stored, the value freed */
	assert_int_equal(lru_store(l, "b", 1, UINT64_MAX, boxed(2)), 0);
	assert_int_equal(get(l, "b"), -1);
	assert_int_equal(freed, 2);
	/* a TTL that would overflow the clock lives for ever */
	assert_int_equal(lru_store(l, "c", 1, UINT64_MAX - 1, boxed(3)), 0);
	fake_now = UINT64_MAX - 1;
	assert_int_equal(get(l, "c"), 3);
	lru_free(l);
}

static void test_bound_and_recency(void **state)
{
	struct lru *l = mk(3);

	assert_int_equal(lru_store(l, "a", 1, 100, boxed(1)), 0);
	assert_int_equal(lru_store(l, "b", 1, 100, boxed(2)), 0);
	assert_int_equal(lru_store(l, "c", 1, 100, boxed(3)), 0);
	assert_int_equal(get(l, "a"), 1);   /* a is now the most recent: b goes next */
	assert_int_equal(lru_store(l, "d", 1, 100, boxed(4)), 0);
	assert_int_equal(lru_size(l), 3);
	assert_int_equal(get(l, "b"), -1);
	assert_int_equal(get(l, "a"), 1);
	assert_int_equal(get(l, "c"), 3);
	assert_int_equal(get(l, "d"), 4);
	/* the same key replaces, the old value freed */
	freed = 0;
	assert_int_equal(lru_store(l, "c", 1, 100, boxed(30)), 0);
	assert_int_equal(freed, 1);
	assert_int_equal(get(l, "c"), 30);
	assert_int_equal(lru_size(l), 3);
	/* keys are bytes: an embedded NUL and a prefix are other keys */
	assert_int_equal(lru_store(l, "a\0x", 3, 100, boxed(5)), 0);
	assert_int_equal(lru_lookup(l, "a\0x", 3, NULL, NULL), 1);
	assert_int_equal(get(l, "a"), -1);  /* it was the least recent of c, d, a */
	assert_int_equal(lru_lookup(l, "a\0y", 3, NULL, NULL), 0);
	lru_clear(l);
	assert_int_equal(lru_size(l), 0);
	assert_int_equal(get(l, "c"), -1);
	assert_int_equal(lru_store(l, "a", 1, 100, boxed(6)), 0);
	assert_int_equal(get(l, "a"), 6);
	lru_free(l);
}

static void test_copy_error_and_opts(void **state)
{
	struct lru_opts small = { .sz = sizeof(small) - 1 };
	unsigned char m1[LRU_MAC_LEN], m2[LRU_MAC_LEN];
	struct lru *l = mk(2), *other = NULL;

	assert_int_equal(lru_store(l, "a", 1, 100, boxed(1)), 0);
	assert_int_equal(lru_lookup(l, "a", 1, copy_fails, NULL), -ENOMEM);
	assert_int_equal(lru_new(&small, &other), -EINVAL);
	/* the MAC is keyed per cache */
	assert_int_equal(lru_new(NULL, &other), 0);
	assert_int_equal(lru_mac(l, "tok", 3, m1), 0);
	assert_int_equal(lru_mac(other, "tok", 3, m2), 0);
	assert_memory_not_equal(m1, m2, LRU_MAC_LEN);
	assert_int_equal(lru_mac(l, "tok", 3, m2), 0);
	assert_memory_equal(m1, m2, LRU_MAC_LEN);
	assert_null(lru_free(other));
	assert_null(lru_free(l));
	assert_null(lru_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_bound_and_recency),
		cmocka_unit_test(test_copy_error_and_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
