// SPDX-License-Identifier: Apache-2.0
/* lib/opts.h: sized option structs, checked as libbpf checks them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <openssl/ssl.h>
#include "lib/opts.h"
#include "lib/tls.h"

struct old_opts {
	size_t sz;
	int a;
};

/* what a newer caller would pass: the same struct, one field more */
struct new_opts {
	size_t sz;
	int a;
	long b;
};

static void test_valid(void **state)
{
	struct new_opts n = { .sz = sizeof(n), .a = 1 };
	const struct old_opts *as_old = (const void *)&n;
	struct old_opts o = { .sz = sizeof(o), .a = 2 };
	const struct old_opts *none = NULL;

	assert_true(OPTS_VALID(&o, struct old_opts));
	assert_true(OPTS_VALID(none, struct old_opts));          /* optional */
	/* a larger struct whose extra field is unset is fine ... */
	assert_true(OPTS_VALID(as_old, struct old_opts));
	/* ... set, it is refused: it would be ignored */
	n.b = 7;
	assert_false(OPTS_VALID(as_old, struct old_opts));
	/* too small: refused */
	o.sz = offsetof(struct old_opts, a);
	assert_false(OPTS_VALID(&o, struct old_opts));
	o.sz = 0;
	assert_false(OPTS_VALID(&o, struct old_opts));
	o.sz = sizeof(o);
	assert_int_equal(OPTS_GET(&o, a, -1), 2);
	assert_int_equal(OPTS_GET(none, a, -1), -1);
}

/* A callee of lib/ checks the size before it reads a field (tls). */
static void test_callee_checks(void **state)
{
	struct tls_opts o = { .sz = sizeof(o) - 1 };
	SSL_CTX *ctx = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(tls_server_ctx_new(&o, &ctx, &err), -EINVAL);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(tls_client_ctx_new(NULL, &ctx, &err), -EINVAL);
	assert_null(ctx);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_callee_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
