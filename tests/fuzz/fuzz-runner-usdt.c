// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for what the runner reads from a pod's files to place
 * uprobes and usdt probes: the `.note.stapsdt` notes of an ELF file
 * (runner/usdt.h) and the container's /etc/ld.so.cache (runner/uprobe.h,
 * library names).  Both are the tenant's bytes, read by the privileged
 * runner.
 *
 * Input: one mode byte, then the file.  Mode even: the ELF bytes, in a
 * memfd, through usdt_list().  Mode odd: the bytes become the
 * ld.so.cache of a root of our own (made once: /opt/lib/libtgfoo.so.1 and
 * /usr/lib/x86_64-linux-gnu/libtgbar.so.1 exist) and "tgfoo" is resolved
 * in it.  Properties beyond "no crash, no leak": only documented codes;
 * every probe has a provider and a name of 1..USDT_MAX_NAME bytes and
 * matches itself; a resolved library is a regular file inside the root
 * (the same inode as the root's file at the path reported).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/errors.h"
#include "runner/uprobe.h"
#include "runner/usdt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-runner-usdt: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static char root[64];
static int root_fd = -1;

static void put(const char *rel, const void *b, size_t n)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (n && write(fd, b, n) != (ssize_t)n))
		fail("cannot write the fuzz root", path);
	close(fd);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void root_remove(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void root_make(void)
{
	/* the smallest file the runner's ELF check (runner/elfcheck.h) takes
	 * for a library: a 64-bit little-endian header, no sections */
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
		.e_shentsize = sizeof(Elf64_Shdr),
	};
	unsigned char elf[sizeof(eh)];

	memcpy(elf, &eh, sizeof(eh));

	snprintf(root, sizeof(root), "/tmp/tg-fuzz-usdt.XXXXXX");
	if (!mkdtemp(root))
		fail("mkdtemp", NULL);
	atexit(root_remove);
	put("/opt/lib/libtgfoo.so.1", elf, sizeof(elf));
	put("/usr/lib/x86_64-linux-gnu/libtgbar.so.1", elf, sizeof(elf));
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		fail("open root", root);
}

static void notes(const uint8_t *data, size_t size)
{
	struct usdt_probe *v = NULL;
	char *err = NULL;
	size_t n = 0;
	int fd, r;

	fd = memfd_create("fuzz-runner-usdt", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	r = usdt_list(fd, "fuzz", &v, &n, &err);
	if (r != 0 && r != -TG_ELOAD && r != -TG_ELIMIT && r != -ENOMEM)
		fail("usdt_list: unexpected code", tg_strerror(r));
	if (r < 0 && r != -ENOMEM && !err)
		fail("usdt_list: an error without a message", NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t pl = strlen(v[i].provider), nl = strlen(v[i].name);

		if (!pl || !nl || pl > USDT_MAX_NAME || nl > USDT_MAX_NAME)
			fail("a probe name out of bounds", v[i].name);
		if (!usdt_match(&v[i], v[i].provider, v[i].name))
			fail("a probe does not match itself", v[i].name);
	}
	if (r == 0 && n > USDT_MAX_PROBES)
		fail("more probes than USDT_MAX_PROBES", NULL);
	usdt_list_free(v, r == 0 ? n : 0);
	free(err);
	close(fd);
}

static void ldcache(const uint8_t *data, size_t size)
{
	char *path = NULL, *err = NULL, full[PATH_MAX];
	struct stat a, b;
	int fd = -1, r;

	put("/etc/ld.so.cache", data, size);
	r = uprobe_resolve_in_root(root_fd, "tgfoo", &fd, &path, &err);
	if (r != 0 && r != -ENOENT && r != -ENOMEM)
		fail("uprobe_resolve_in_root: unexpected code", tg_strerror(r));
	if (r == 0) {
		/* the reported path, resolved inside the root, is this file */
		snprintf(full, sizeof(full), "%s/opt/lib/libtgfoo.so.1", root);
		if (fstat(fd, &a) < 0 || stat(full, &b) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev || !S_ISREG(a.st_mode))
			fail("resolved to another file than the root's libtgfoo.so.1", path);
		close(fd);
	}
	free(path);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (root_fd < 0)
		root_make();
	if (data[0] & 1)
		ldcache(data + 1, size - 1);
	else
		notes(data + 1, size - 1);
	return 0;
}
