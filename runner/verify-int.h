/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the object verifier (runner/verify.h): what verify.c (the
 * allow-lists, the checks of unscoped code and of the scope map's uses,
 * the entry point), verify-elf.c (the reader of the object) and
 * verify-prologue.c (the interpreter that proves the scope check) share.
 * Calls go one way (tests/structure.py): verify.c calls the other two,
 * verify-prologue.c calls verify-elf.c, verify-elf.c calls neither.
 */
#ifndef TG_RUNNER_VERIFY_INT_H
#define TG_RUNNER_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>
#include <linux/bpf.h>
#include "runner/verify.h"

/* Limits: an object is refused beyond these. */
#define VERIFY_MAX_OBJECT (64u << 20)     /* bytes */
#define VERIFY_MAX_SECTIONS 16384
#define VERIFY_MAX_SYMBOLS (1u << 20)
#define VERIFY_MAX_INSNS (1u << 20)       /* per section: the kernel's own limit */
/* per section: a jump's 16-bit offset reaches every instruction of a section
 * this long, and only then; in a longer one clang (no -mcpu=v4) wraps a far
 * jump's offset silently, to a target inside the code that no check can
 * tell from the intended one (red team 4: nested unroll, 131120 wrapped) */
#define VERIFY_MAX_JUMP_REACH 32768u
#define VERIFY_PROLOGUE_STEPS 4096        /* instructions walked per program entry */
#define VERIFY_PROLOGUE_PATHS 256         /* pending branches per program entry */
#define VERIFY_STACK 512
#define VERIFY_NAME_MAX 128               /* characters of a name quoted in a message */

#define HELPER_ANCESTOR_CGID 123          /* bpf_get_current_ancestor_cgroup_id */
#define HELPER_MAP_LOOKUP 1               /* bpf_map_lookup_elem */
#define HELPER_TASK_BTF 158               /* bpf_get_current_task_btf */
#define HELPER_READ_KERNEL 113            /* bpf_probe_read_kernel */
#define THREAD_SIZE_VAR "tg_thread_size"  /* the interrupt check's read-only globals */
#define RQ_OFF_VAR "tg_rq_off"
#define PC_OFF_VAR "tg_pc_off"
#define IRQ_MASK 0x00ff0100u              /* NMI, hardirq, serving softirq bits */
#define CORE_FIELD_BYTE_OFFSET 0          /* enum bpf_core_relo_kind */
#define HELPER_COUNT 212                  /* helper ids 0 to 211: verify-elf.c's names */

/* The field a CO-RE field-offset relocation reads (struct vsec's core). */
enum core_field { CORE_NONE, CORE_OTHER, CORE_TASK_STACK, CORE_TASK_CFS_RQ, CORE_CFS_RQ_RQ };

struct vsec {
	const char *name;       /* points into the section string table */
	GElf_Shdr sh;
	Elf_Data *d;
	const unsigned char *data;
	size_t size;
	bool exec;
	size_t ninsns;
	int32_t *relsym;        /* per instruction: symbol index of its relocation, or -1 */
	bool *second;           /* per instruction: second half of a ld_imm64 */
	int rel_from;           /* section index of the SHT_REL section, or 0 */
	uint8_t *core;          /* per instruction: CO-RE relocation, enum core_field */
	bool *task_call;        /* per instruction: a call of the interrupt check's helpers not on the list */
	bool *task_call_ok;     /* per instruction: ... that is the interrupt check's own */
	bool *scope_ref_ok;     /* per instruction: a load of the scope map's address the scope check uses */
};

struct vobj {
	Elf *elf;
	const struct verify_opts *o;
	char **ret_err;
	size_t nsec;
	struct vsec *secs;
	Elf_Data *symdata;
	size_t nsyms;
	size_t strtab;
	size_t maps_idx;        /* 0: none */
	size_t text_idx;        /* 0: none */
	bool scope_found;
	GElf_Addr scope_off;    /* offset of the scope map in .maps */
	bool helper_ok[HELPER_COUNT];
	bool unscoped_ok[HELPER_COUNT]; /* verify_unscoped_helpers */
	const char *const *allowed;
	bool require_scope;
	const char *scope_map;
};

/* ---- verify-elf.c ---------------------------------------------------------- */

/* Keeps the first message in *v->ret_err; returns r. */
int verify_fail(struct vobj *v, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* s made safe to quote in out: printable ASCII, at most VERIFY_NAME_MAX. */
const char *verify_name(const char *s, char out[VERIFY_NAME_MAX + 8]);
/* Helper id's name without "bpf_", or NULL when there is no such helper. */
const char *verify_helper_name(int64_t id);
/* The id of helper n ("bpf_map_lookup_elem" or "map_lookup_elem"), or 0. */
size_t verify_helper_id(const char *n);

/* The reader, in the order verify.c runs it: the sections (bounds, the
 * symbol table, .maps, .text, each executable section's per-instruction
 * arrays), the relocations of the code, the scope map (its symbol and
 * BTF), the CO-RE relocations of .BTF.ext, then every instruction of an
 * executable section (helpers, kfuncs, externs, 64-bit loads, jumps). */
int verify_load_sections(struct vobj *v, size_t len);
int verify_load_relocations(struct vobj *v);
int verify_find_scope_map(struct vobj *v);
int verify_load_core_relos(struct vobj *v);
int verify_check_section(struct vobj *v, struct vsec *s);

/* Symbol idx and its name ("" when it has none). */
int verify_sym_get(struct vobj *v, size_t idx, GElf_Sym *sym, const char **name);
/* Instruction i of s. */
void verify_insn_get(const struct vsec *s, size_t i, struct bpf_insn *in);
bool verify_is_ldimm64(const struct bpf_insn *in);
bool verify_is_call(const struct bpf_insn *in);
/* What the relocation of instruction i of s names: the scope map; the
 * read-only global var; an address in .rodata (its offset in *ret_off,
 * the section's size in *ret_size); a map in .maps. */
bool verify_reloc_is_scope_map(struct vobj *v, const struct vsec *s, size_t i);
bool verify_reloc_is_rodata(struct vobj *v, const struct vsec *s, size_t i, const char *var);
bool verify_reloc_rodata_off(struct vobj *v, const struct vsec *s, size_t i, int64_t *ret_off,
			     uint64_t *ret_size);
bool verify_reloc_is_map(struct vobj *v, const struct vsec *s, size_t i);

/* ---- verify-prologue.c ----------------------------------------------------- */

/* 0 when program pname (instructions start to end of s) begins with the
 * scope check and then the interrupt check (docs/internals/runner.md) on
 * every path from start; marks the calls and the scope map loads the
 * checks use (s->task_call_ok, s->scope_ref_ok) for verify.c. */
int verify_check_prologue(struct vobj *v, const struct vsec *s, const char *pname, size_t start,
			  size_t end);

#endif
