// SPDX-License-Identifier: Apache-2.0
/* Header checks of a tenant's ELF file before libelf reads it (see
 * elfcheck.h). */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/errors.h"
#include "runner/elfcheck.h"
#include "lib/banned.h"

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

static int read_at(int fd, void *b, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (char *)b + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		got += (size_t)k;
	}
	return 0;
}

/* One section header, in the 64-bit form whatever the class. */
struct shdr {
	uint32_t type;
	uint64_t offset, size, entsize;
	uint32_t info;
};

static void shdr_get(const unsigned char *p, bool is64, struct shdr *s)
{
	if (is64) {
		Elf64_Shdr h;

		memcpy(&h, p, sizeof(h));
		*s = (struct shdr){ h.sh_type, h.sh_offset, h.sh_size, h.sh_entsize, h.sh_info };
	} else {
		Elf32_Shdr h;

		memcpy(&h, p, sizeof(h));
		*s = (struct shdr){ h.sh_type, h.sh_offset, h.sh_size, h.sh_entsize, h.sh_info };
	}
}

static bool within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int elf_check_fd(int fd, const char *label, char **ret_err)
{
	unsigned char eh[sizeof(Elf64_Ehdr)];
	_cleanup_free_ unsigned char *tab = NULL;
	uint64_t shoff, shnum, phoff, phnum, shentsize, phentsize, symtab = 0, notes = 0;
	size_t ehsize, want_sh, want_ph, want_sym;
	struct stat st;
	bool is64;
	int r;

	if (!label)
		label = "?";
	if (fstat(fd, &st) < 0)
		return tg_fail(ret_err, -errno, "file \"%s\": cannot stat: %s", label, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": not a regular file", label);
	if ((uint64_t)st.st_size > ELF_CHECK_MAX_FILE_BYTES)
		return tg_fail(ret_err, -TG_ELIMIT, "file \"%s\": %llu bytes, more than the %llu an ELF file may have",
			       label, (unsigned long long)st.st_size, ELF_CHECK_MAX_FILE_BYTES);
	if ((uint64_t)st.st_size < EI_NIDENT || read_at(fd, eh, EI_NIDENT, 0) < 0 ||
	    memcmp(eh, ELFMAG, SELFMAG))
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": not an ELF file", label);
	if (eh[EI_CLASS] != ELFCLASS64 && eh[EI_CLASS] != ELFCLASS32)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": unknown ELF class %u", label, eh[EI_CLASS]);
	if (eh[EI_DATA] != HOST_DATA)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": ELF byte order %u is not this host's", label,
			       eh[EI_DATA]);
	if (eh[EI_VERSION] != EV_CURRENT)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": unknown ELF version %u", label,
			       eh[EI_VERSION]);
	is64 = eh[EI_CLASS] == ELFCLASS64;
	ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	want_sh = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	want_ph = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	want_sym = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	if ((uint64_t)st.st_size < ehsize || (r = read_at(fd, eh, ehsize, 0)) < 0)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": truncated ELF header", label);
	if (is64) {
		Elf64_Ehdr h;

		memcpy(&h, eh, sizeof(h));
		shoff = h.e_shoff, shnum = h.e_shnum, shentsize = h.e_shentsize;
		phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
	} else {
		Elf32_Ehdr h;

		memcpy(&h, eh, sizeof(h));
		shoff = h.e_shoff, shnum = h.e_shnum, shentsize = h.e_shentsize;
		phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
	}
	if (shoff && shentsize != want_sh)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": section header size %llu, not %zu",
			       label, (unsigned long long)shentsize, want_sh);
	if (phnum && phentsize != want_ph)
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": program header size %llu, not %zu",
			       label, (unsigned long long)phentsize, want_ph);
	/* extended numbering: section 0 holds the counts */
	if (shoff && (shnum == 0 || phnum == PN_XNUM)) {
		unsigned char b[sizeof(Elf64_Shdr)];
		struct shdr s0;

		if (!within(shoff, want_sh, (uint64_t)st.st_size) || read_at(fd, b, want_sh, shoff) < 0)
			return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": section headers outside the file",
				       label);
		shdr_get(b, is64, &s0);
		if (shnum == 0)
			shnum = s0.size;
		if (phnum == PN_XNUM)
			phnum = s0.info;
	}
	if (!shoff)
		shnum = 0;
	if (shnum > ELF_CHECK_MAX_SECTIONS)
		return tg_fail(ret_err, -TG_ELIMIT, "file \"%s\": %llu sections, more than the %d an ELF file may have",
			       label, (unsigned long long)shnum, ELF_CHECK_MAX_SECTIONS);
	if (phnum > ELF_CHECK_MAX_SEGMENTS)
		return tg_fail(ret_err, -TG_ELIMIT, "file \"%s\": %llu program headers, more than the %d an ELF file may have",
			       label, (unsigned long long)phnum, ELF_CHECK_MAX_SEGMENTS);
	if (phnum && !within(phoff, phnum * want_ph, (uint64_t)st.st_size))
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": program headers outside the file", label);
	if (!shnum)
		return 0;
	if (!within(shoff, shnum * want_sh, (uint64_t)st.st_size))
		return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": section headers outside the file", label);
	tab = malloc(shnum * want_sh);
	if (!tab)
		return -ENOMEM;
	r = read_at(fd, tab, shnum * want_sh, shoff);
	if (r < 0)
		return tg_fail(ret_err, r, "file \"%s\": cannot read its section headers: %s", label,
			       strerror(-r));
	for (uint64_t i = 1; i < shnum; i++) {
		struct shdr s;

		shdr_get(tab + i * want_sh, is64, &s);
		if (s.type == SHT_NOBITS || s.type == SHT_NULL)
			continue;
		if (!within(s.offset, s.size, (uint64_t)st.st_size))
			return tg_fail(ret_err, -TG_ELOAD, "file \"%s\": section %llu lies outside the file",
				       label, (unsigned long long)i);
		if (s.type == SHT_SYMTAB || s.type == SHT_DYNSYM) {
			if (s.entsize != want_sym)
				return tg_fail(ret_err, -TG_ELOAD,
					       "file \"%s\": symbol table %llu has entries of %llu bytes, not %zu",
					       label, (unsigned long long)i, (unsigned long long)s.entsize,
					       want_sym);
			symtab += s.size;
			if (symtab > ELF_CHECK_MAX_SYMTAB_BYTES)
				return tg_fail(ret_err, -TG_ELIMIT,
					       "file \"%s\": symbol tables of more than %llu bytes together",
					       label, ELF_CHECK_MAX_SYMTAB_BYTES);
		} else if (s.type == SHT_NOTE) {
			notes += s.size;
			if (notes > ELF_CHECK_MAX_NOTE_BYTES)
				return tg_fail(ret_err, -TG_ELIMIT,
					       "file \"%s\": notes of more than %llu bytes together", label,
					       ELF_CHECK_MAX_NOTE_BYTES);
		}
	}
	return 0;
}
