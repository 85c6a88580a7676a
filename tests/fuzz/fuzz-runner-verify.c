// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the ELF object verifier (runner/verify.h): any
 * bytes, as a hostile or broken compiler could hand the runner.  The
 * seed corpus holds real objects compiled by clang -O2 -g -target bpf
 * (tests/fuzz/mkcorpus-runner-verify.sh): correct scoped ones in the
 * engine's prologue shape and hostile ones, plus truncated and mutated
 * copies.
 *
 * Properties beyond "no crash, no leak": every refusal has a message and
 * a known code; the answer does not depend on the buffer's address or on
 * earlier calls; an object accepted with the scope required is accepted
 * without it, and one accepted under a short helper list is accepted
 * under the default one, which holds it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "runner/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-runner-verify: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

/* A subset of the default list: what the engine's prologue and a printf
 * need. */
static const char *const short_list[] = {
	"bpf_get_current_ancestor_cgroup_id", "bpf_map_lookup_elem", "bpf_ringbuf_reserve",
	"bpf_ringbuf_submit", NULL,
};

static int run(const void *obj, size_t len, const char *const *allowed, bool scope, char **err)
{
	struct verify_opts o = { .sz = sizeof(o), .allowed_helpers = allowed, .require_scope = scope,
				 .scope_map = "tg_scope" };
	int r = verify_object(obj, len, &o, err);

	if (r < 0) {
		if (!*err || !**err)
			fail("refused without a message", NULL);
		if (r != -TG_EVERIFY && r != -EINVAL && r != -ENOMEM)
			fail("unexpected error code", tg_strerror(r));
	} else if (r != 0) {
		fail("positive return", NULL);
	} else if (*err) {
		fail("accepted with a message", *err);
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
	/* a misaligned copy: the verifier must not assume ELF alignment */
	uint8_t *odd = malloc(size + 1);
	int r1, r2, r3, r4;

	if (!odd)
		return 0;
	memcpy(odd + 1, data, size);
	r1 = run(data, size, NULL, true, &e1);
	r2 = run(odd + 1, size, NULL, true, &e2);
	if (r1 != r2 || (e1 && strcmp(e1, e2)))
		fail("answer depends on the buffer's address", e1 ? e1 : e2);
	r3 = run(data, size, NULL, false, &e3);
	if (r1 == 0 && r3 != 0)
		fail("accepted with the scope required, refused without", e3);
	r4 = run(data, size, short_list, true, &e4);
	if (r4 == 0 && r1 != 0)
		fail("accepted under a short helper list, refused under the default one", e1);
	free(e1);
	free(e2);
	free(e3);
	free(e4);
	free(odd);
	return 0;
}
