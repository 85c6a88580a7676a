// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the runner's reading of user-space ELF files
 * (runner/syms.h): ustack()/usym()/uaddr() make the privileged runner
 * open binaries inside the tenant's containers and read their symbol
 * tables and program headers with libelf, so those bytes are the
 * tenant's.  The input is written to a memfd and read through
 * /proc/self/fd/N, as a file in /proc/PID/root would be.
 *
 * Input: the ELF bytes.  The symbol looked up is a data object named in
 * the seed objects ("tg_fuzz_counter"), then the same again (from the
 * cache).  Properties beyond "no crash, no leak, no unbounded memory":
 * the answer is one of the documented codes, and the cached answer is
 * the first answer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/errors.h"
#include "runner/syms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-runner-syms: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct syms_user_cache *c;
	uint64_t addr = 0, sz = 0, addr2 = 0, sz2 = 0;
	char path[64];
	int fd, r, r2;

	fd = memfd_create("fuzz-runner-syms", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = syms_user_cache_new();
	if (!c) {
		close(fd);
		return 0;
	}
	r = syms_elf_symbol_addr(c, path, "tg_fuzz_counter", &addr, &sz);
	if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOMEM && r != -TG_ELIMIT)
		fail("unexpected error code", tg_strerror(r));
	if (r == 0 && !addr)
		fail("a symbol at address 0", NULL);
	r2 = syms_elf_symbol_addr(c, path, "tg_fuzz_counter", &addr2, &sz2);
	if (r == 0 && (r2 != 0 || addr2 != addr || sz2 != sz))
		fail("the cached answer differs from the first", NULL);
	syms_user_cache_free(c);
	close(fd);
	return 0;
}
