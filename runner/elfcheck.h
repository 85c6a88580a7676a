/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shape of an ELF file the runner is about to hand to libelf or libbpf
 * when a tenant controls it (a uprobe/usdt target inside a pod, a file a
 * pod's process maps).  libelf allocates a descriptor of ~320 bytes per
 * section at elf_begin() and converts (copies) every section it reads from
 * a foreign byte order, so a 4 KiB sparse file claiming 10 million
 * sections cost 3.2 GB of the privileged runner's memory.  elf_check_fd()
 * reads only the headers, with pread, and refuses before libelf sees the
 * file:
 *   - anything but a regular file of at most ELF_CHECK_MAX_FILE_BYTES;
 *   - a bad magic, class, version, or a byte order other than the host's;
 *   - more than ELF_CHECK_MAX_SECTIONS section headers or
 *     ELF_CHECK_MAX_SEGMENTS program headers (counting the extended
 *     numbering of section 0), header sizes that are not the class's;
 *   - a header table or a section's contents (other than SHT_NOBITS)
 *     outside the file;
 *   - symbol tables (SHT_SYMTAB, SHT_DYNSYM) of more than
 *     ELF_CHECK_MAX_SYMTAB_BYTES together or with an entry size other than
 *     the class's, notes (SHT_NOTE) of more than ELF_CHECK_MAX_NOTE_BYTES
 *     together (sections may overlap: the totals bound the work, not the
 *     file).
 */
#ifndef TG_RUNNER_ELFCHECK_H
#define TG_RUNNER_ELFCHECK_H

#include <stdint.h>

#define ELF_CHECK_MAX_FILE_BYTES (4ull << 30)
#define ELF_CHECK_MAX_SECTIONS 16384
#define ELF_CHECK_MAX_SEGMENTS 4096
#define ELF_CHECK_MAX_SYMTAB_BYTES (256ull << 20)
#define ELF_CHECK_MAX_NOTE_BYTES (16ull << 20)

/* 0 when fd's file may be given to libelf; -TG_ELIMIT (a limit) or
 * -TG_ELOAD (malformed, foreign) with *ret_err naming label and what,
 * -errno when it cannot be read. */
int elf_check_fd(int fd, const char *label, char **ret_err);

#endif
