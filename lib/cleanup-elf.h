/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TG_LIB_CLEANUP_ELF_H
#define TG_LIB_CLEANUP_ELF_H

#include <libelf.h>
#include "lib/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(Elf *, elf_end)

#endif
