// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the object verifier (runner/verify.c): any bytes
 * are refused or accepted, never a crash, a leak or undefined behaviour.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "runner/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verify_opts o = { .sz = sizeof(o), .require_scope = true, .scope_map = "tg_scope" };
	char *err = NULL;

	if (verify_object(data, size, &o, &err) < 0 && !err)
		abort(); /* every refusal has a reason */
	free(err);
	o.require_scope = false;
	err = NULL;
	(void)verify_object(data, size, &o, &err);
	free(err);
	return 0;
}
