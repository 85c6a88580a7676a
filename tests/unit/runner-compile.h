/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For runner unit tests: compile generated BPF C with the real clang
 * driver into cache_dir and hand the object to the real verifier with
 * the scope required; any failure fails the test, printing why.  The
 * caller frees ret->obj.  A header (static), not a .c file in tests/unit/,
 * because those are linked into every unit test and this needs runner/.
 */
#ifndef TG_TESTS_UNIT_RUNNER_COMPILE_H
#define TG_TESTS_UNIT_RUNNER_COMPILE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/cleanup.h"
#include "runner/compile.h"
#include "runner/verify.h"

static void tu_compile_verify(const char *src, const char *cache_dir, struct compile_result *ret)
{
	_cleanup_free_ char *err = NULL, *verr = NULL;
	struct verify_opts vo = { .sz = sizeof(vo), .require_scope = true, .scope_map = "tg_scope" };
	int r;

	r = compile_bpf(src, strlen(src), cache_dir, ret, &err);
	if (r < 0)
		print_message("%s\n", err ? err : "?");
	assert_int_equal(r, 0);
	r = verify_object(ret->obj, ret->len, &vo, &verr);
	if (r < 0)
		print_message("%s\n", verr ? verr : "?");
	assert_int_equal(r, 0);
}

#endif
