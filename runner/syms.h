/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Symbols, stacks, times and cgroup paths as bpftrace 0.17 prints them
 * (ksym, usym, kstack, ustack, time, strftime, cgroup_path, kaddr, uaddr).
 *
 *   struct syms_kernel *k = NULL;
 *   r = syms_kernel_load(&k, NULL);             once: /proc/kallsyms
 *   r = syms_format_ksym(&out, k, addr, false); "vfs_read" or "0xffff..."
 *   syms_kernel_free(k);
 *
 *   struct syms_user_cache *u = syms_user_cache_new();
 *   r = syms_format_usym(&out, u, pid, addr, false, false);
 *   syms_user_cache_free(u);
 *
 * Nothing here prints; errors are negative codes.  docs/internals/output.md
 * describes the formats.
 */
#ifndef TG_RUNNER_SYMS_H
#define TG_RUNNER_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "lib/buf.h"

/* Limits: a kallsyms file or an ELF symbol table larger than these is
 * refused (-TG_ELIMIT); cgroup_path walks at most SYMS_CGROUP_MAX_DIRS
 * directories per hierarchy. */
#define SYMS_KALLSYMS_MAX_BYTES (64u << 20)
#define SYMS_ELF_MAX_SYMBOLS (4u << 20)
#define SYMS_ELF_MAX_NAME_BYTES (64u << 20) /* symbol names kept of one ELF file */
#define SYMS_USER_MAX_FILES 256          /* ELF files cached at once */
#define SYMS_MAPS_MAX_BYTES (16u << 20)  /* /proc/PID/maps */
#define SYMS_CGROUP_MAX_DIRS 100000
/* bpftrace's STRING_SIZE: time() and strftime() results are shorter */
#define SYMS_TIME_MAX 64

/* --- kernel symbols ------------------------------------------------------ */

struct syms_kernel;

/* Loads and sorts the function symbols of a kallsyms file (NULL:
 * /proc/kallsyms), skipping data symbols as bcc does.  -EPERM when every
 * address reads as zero (kptr_restrict). */
int syms_kernel_load(struct syms_kernel **ret, const char *path);
struct syms_kernel *syms_kernel_free(struct syms_kernel *k);
size_t syms_kernel_count(const struct syms_kernel *k);
/* The symbol at or below addr: name and addr - start.  -ENOENT below the
 * first symbol.  *ret_name lives as long as k. */
int syms_kernel_lookup(const struct syms_kernel *k, uint64_t addr, const char **ret_name,
		       uint64_t *ret_off);
/* kaddr("name"): the first symbol of that name. -ENOENT if none. */
int syms_kernel_addr(const struct syms_kernel *k, const char *name, uint64_t *ret_addr);
/* ksym(): "name", or "name+off" with show_offset; an unknown address
 * prints as C++ streams a pointer: "0x1234", or "0" for zero. */
int syms_format_ksym(struct buf *out, const struct syms_kernel *k, uint64_t addr,
		     bool show_offset);

/* --- user symbols ---------------------------------------------------------- */

struct syms_user_cache;

struct syms_user_cache *syms_user_cache_new(void);
struct syms_user_cache *syms_user_cache_free(struct syms_user_cache *c);
/* The symbol covering addr in process pid (its /proc/PID/maps and the
 * ELF files mapped, read through /proc/PID/root so container paths
 * work).  *ret_module is the path as the maps file names it.  Strings live
 * as long as the cache.  -ENOENT when no symbol covers addr, -ESRCH when
 * the process is gone. */
int syms_user_lookup(struct syms_user_cache *c, int pid, uint64_t addr, const char **ret_name,
		     uint64_t *ret_off, const char **ret_module);
/* usym(): "name[+off][ (module)]"; unknown: "0x7f..." and " ([unknown])". */
int syms_format_usym(struct buf *out, struct syms_user_cache *c, int pid, uint64_t addr,
		     bool show_offset, bool show_module);
/* uaddr("name") in an ELF file: the symbol's st_value (and size).  As
 * bpftrace, only data objects (STT_OBJECT) are found.  -ENOENT if none. */
int syms_elf_symbol_addr(struct syms_user_cache *c, const char *path, const char *name,
			 uint64_t *ret_addr, uint64_t *ret_size);

/* --- stacks ----------------------------------------------------------------- */

enum syms_stack_mode {
	SYMS_STACK_BPFTRACE,    /* "\n" then indent + "func+off\n" per frame */
	SYMS_STACK_PERF,        /* "\n" then "\t%lx func+off[ (module)]\n" */
};

struct syms_stack_opts {
	size_t sz;                      /* sizeof(struct syms_stack_opts) */
	enum syms_stack_mode mode;
	bool user;                      /* ustack: resolve in pid */
	int pid;
	int indent;                     /* 8 for values and printf, 4 for map keys */
	const struct syms_kernel *kernel;
	struct syms_user_cache *ucache;
};

/* kstack/ustack text for the ips (the first zero ends the stack), as
 * bpftrace's get_stack() builds it. */
int syms_format_stack(struct buf *out, const uint64_t *ips, size_t n,
		      const struct syms_stack_opts *opts);

/* --- time ------------------------------------------------------------------- */

/* time(fmt): strftime of the local time t; bpftrace's default format is
 * "%H:%M:%S\n".  -ERANGE when the result is empty or SYMS_TIME_MAX bytes
 * or longer (bpftrace then prints nothing). */
int syms_format_time(struct buf *out, const char *fmt, time_t t);
/* The wall-clock time of boot, as bpftrace 0.17 measures it. */
int syms_boottime(struct timespec *ret);
/* strftime(fmt, nsecs): nsecs since boot on top of boottime, with "%f"
 * as microseconds (0.17's extension).  Failure prints "(?)" as 0.17. */
int syms_format_strftime(struct buf *out, const char *fmt, const struct timespec *boottime,
			 uint64_t nsecs);

/* --- cgroups ---------------------------------------------------------------- */

/* cgroup_path(id[, filter]): "unified:/a/b" and "name:/path" for each
 * mounted hierarchy whose name matches the glob filter (NULL: "*") and
 * holds a directory with that inode, joined by ",".  mounts: a mounts
 * file (NULL: /proc/self/mounts). */
int syms_cgroup_path(struct buf *out, uint64_t cgid, const char *filter, const char *mounts);

#endif
