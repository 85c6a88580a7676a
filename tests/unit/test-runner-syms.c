// SPDX-License-Identifier: Apache-2.0
/*
 * runner/syms: kernel and user symbols, stacks, time and cgroup paths.
 * Expected stacks are bpftrace 0.17's own output on this machine for
 *   tracepoint:sched:sched_switch { @v[1] = kstack(2); @w[1] = kstack(perf, 2); }
 * with a kallsyms fixture holding the two functions at the addresses
 * bpftrace saw, so the test does not depend on this boot's KASLR.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <elf.h>
#include "lib/buf.h"
#include "lib/errors.h"
#include "runner/syms.h"
#include "tests/unit/tmpdir.h"

static char tmpdir[] = "/tmp/tg-syms-XXXXXX";

static void write_text(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char kallsyms_fixture[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T _text\n"
	"ffffffff8139bb30 t __traceiter_sched_switch\n"
	"ffffffff8139bc00 D some_data\n"
	"ffffffff821fa6c0 T __schedule\n"
	"ffffffff821fb000 r some_rodata\n"
	"ffffffffc0001000 t mod_func\t[mymod]\n"
	"garbage line\n"
	"ffffffffc0002000 b mod_bss\t[mymod]\n";

static struct syms_kernel *fixture_kernel(void)
{
	struct syms_kernel *k = NULL;
	char path[256];

	write_text("kallsyms", kallsyms_fixture);
	snprintf(path, sizeof(path), "%s/kallsyms", tmpdir);
	assert_int_equal(syms_kernel_load(&k, path), 0);
	return k;
}

static void test_kernel_fixture(void **state)
{
	struct syms_kernel *k = fixture_kernel();
	struct buf b = BUF_INIT(0);
	const char *name;
	uint64_t off, addr;

	/* data symbols (D, r, b) are skipped, as bcc does */
	assert_int_equal(syms_kernel_count(k), 5);
	assert_int_equal(syms_kernel_lookup(k, 0xffffffff8139bc10, &name, &off), 0);
	assert_string_equal(name, "__traceiter_sched_switch");
	assert_int_equal(off, 0xe0);
	/* two names at one address: the first one */
	assert_int_equal(syms_kernel_lookup(k, 0xffffffff81000010, &name, &off), 0);
	assert_string_equal(name, "_stext");
	assert_int_equal(syms_kernel_lookup(k, 0xffffffffc0001004, &name, &off), 0);
	assert_string_equal(name, "mod_func");
	assert_int_equal(syms_kernel_lookup(k, 0x1000, &name, &off), -ENOENT);
	assert_int_equal(syms_kernel_addr(k, "__schedule", &addr), 0);
	assert_int_equal(addr, 0xffffffff821fa6c0);
	assert_int_equal(syms_kernel_addr(k, "some_data", &addr), -ENOENT);

	assert_int_equal(syms_format_ksym(&b, k, 0xffffffff821fa6c5, false), 0);
	buf_adds(&b, "|");
	assert_int_equal(syms_format_ksym(&b, k, 0xffffffff821fa6c5, true), 0);
	buf_adds(&b, "|");
	/* unknown: as C++ streams a pointer (bpftrace prints ksym(0) as "0") */
	assert_int_equal(syms_format_ksym(&b, k, 0x1234, false), 0);
	buf_adds(&b, "|");
	assert_int_equal(syms_format_ksym(&b, k, 0, true), 0);
	assert_string_equal(b.s, "__schedule|__schedule+5|0x1234|0");
	buf_release(&b);
	syms_kernel_free(k);
}

static void test_kernel_refusals(void **state)
{
	struct syms_kernel *k = NULL;
	char path[256];

	/* kptr_restrict: every address zero */
	write_text("zeros", "0000000000000000 T a\n0000000000000000 T b\n");
	snprintf(path, sizeof(path), "%s/zeros", tmpdir);
	assert_int_equal(syms_kernel_load(&k, path), -EPERM);
	assert_null(k);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(syms_kernel_load(&k, path), -ENOENT);
	assert_null(syms_kernel_free(NULL));
}

static void test_kernel_real(void **state)
{
	struct syms_kernel *k = NULL;
	struct buf b = BUF_INIT(0);
	uint64_t addr;
	char want[64];

	assert_int_equal(syms_kernel_load(&k, NULL), 0);
	assert_true(syms_kernel_count(k) > 10000);
	assert_int_equal(syms_kernel_addr(k, "__schedule", &addr), 0);
	assert_int_equal(syms_format_ksym(&b, k, addr + 7, true), 0);
	snprintf(want, sizeof(want), "__schedule+7");
	assert_string_equal(b.s, want);
	buf_release(&b);
	syms_kernel_free(k);
}

static void test_kstack_as_bpftrace(void **state)
{
	struct syms_kernel *k = fixture_kernel();
	struct buf b = BUF_INIT(0);
	const uint64_t ips[] = { 0xffffffff8139bb71, 0xffffffff821facd8, 0, 0xffffffff821facd8 };
	struct syms_stack_opts o = { .sz = sizeof(o), .mode = SYMS_STACK_BPFTRACE, .indent = 8,
				     .kernel = k };

	assert_int_equal(syms_format_stack(&b, ips, 4, &o), 0);
	assert_string_equal(b.s, "\n        __traceiter_sched_switch+65\n        __schedule+1560\n");
	buf_clear(&b);
	o.mode = SYMS_STACK_PERF;
	assert_int_equal(syms_format_stack(&b, ips, 4, &o), 0);
	assert_string_equal(b.s, "\n\tffffffff8139bb71 __traceiter_sched_switch+65\n"
				 "\tffffffff821facd8 __schedule+1560\n");
	buf_clear(&b);
	/* as a map key bpftrace indents by 4 */
	o.mode = SYMS_STACK_BPFTRACE;
	o.indent = 4;
	assert_int_equal(syms_format_stack(&b, ips, 1, &o), 0);
	assert_string_equal(b.s, "\n    __traceiter_sched_switch+65\n");
	buf_clear(&b);
	/* an empty stack is a lone newline */
	assert_int_equal(syms_format_stack(&b, ips + 2, 1, &o), 0);
	assert_string_equal(b.s, "\n");
	o.sz = 0;
	assert_int_equal(syms_format_stack(&b, ips, 1, &o), -EINVAL);
	buf_release(&b);
	syms_kernel_free(k);
}

/* symbols of this very process */
__attribute__((noinline, used)) int tg_syms_test_target(int x);
__attribute__((noinline, used)) int tg_syms_test_target(int x)
{
	return x * 3 + 1;
}

int tg_syms_test_object = 42;

static void test_user_self(void **state)
{
	struct syms_user_cache *c = syms_user_cache_new();
	struct buf b = BUF_INIT(0);
	uint64_t fn = (uint64_t)(uintptr_t)&tg_syms_test_target;
	char exe[PATH_MAX], want[PATH_MAX + 64];
	const char *name, *module;
	uint64_t off, addr, size;
	ssize_t n;

	assert_non_null(c);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(syms_user_lookup(c, getpid(), fn + 2, &name, &off, &module), 0);
	assert_string_equal(name, "tg_syms_test_target");
	assert_int_equal(off, 2);
	assert_string_equal(module, exe);

	assert_int_equal(syms_format_usym(&b, c, getpid(), fn, false, false), 0);
	assert_string_equal(b.s, "tg_syms_test_target");
	buf_clear(&b);
	assert_int_equal(syms_format_usym(&b, c, getpid(), fn + 1, true, true), 0);
	snprintf(want, sizeof(want), "tg_syms_test_target+1 (%s)", exe);
	assert_string_equal(b.s, want);
	buf_clear(&b);

	/* a libc function, through its .dynsym (not one ASan intercepts) */
	assert_int_equal(syms_user_lookup(c, getpid(), (uint64_t)(uintptr_t)&getpid, &name, &off,
					  &module), 0);
	assert_non_null(strstr(module, "libc.so"));
	assert_int_equal(off, 0);
	assert_non_null(strstr(name, "getpid"));

	/* unknown */
	assert_int_equal(syms_format_usym(&b, c, getpid(), 0x10, true, true), 0);
	assert_string_equal(b.s, "0x10 ([unknown])");
	buf_clear(&b);

	/* ustack(perf) */
	{
		const uint64_t ips[] = { fn + 4, 0x10, 0 };
		struct syms_stack_opts o = { .sz = sizeof(o), .mode = SYMS_STACK_PERF, .user = true,
					     .pid = getpid(), .ucache = c };

		assert_int_equal(syms_format_stack(&b, ips, 3, &o), 0);
		snprintf(want, sizeof(want), "\n\t%llx tg_syms_test_target+4 (%s)\n\t10 0x10 ([unknown])\n",
			 (unsigned long long)(fn + 4), exe);
		assert_string_equal(b.s, want);
		buf_clear(&b);
		o.mode = SYMS_STACK_BPFTRACE;
		o.indent = 8;
		assert_int_equal(syms_format_stack(&b, ips, 3, &o), 0);
		assert_string_equal(b.s, "\n        tg_syms_test_target+4\n        0x10\n");
	}

	/* uaddr: objects only, as bpftrace's resolve_uname */
	assert_int_equal(syms_elf_symbol_addr(c, exe, "tg_syms_test_object", &addr, &size), 0);
	assert_int_equal(size, sizeof(int));
	assert_true(addr != 0);
	assert_int_equal(syms_elf_symbol_addr(c, exe, "tg_syms_test_target", &addr, &size), -ENOENT);
	assert_int_equal(syms_elf_symbol_addr(c, "/nonexistent", "x", &addr, &size), -ENOENT);

	/* a process that is gone */
	assert_int_equal(syms_user_lookup(c, INT_MAX, fn, &name, &off, &module), -ESRCH);
	buf_release(&b);
	syms_user_cache_free(c);
	assert_null(syms_user_cache_free(NULL));
}

/* The file offset of the code at addr in this process's own mapping. */
static uint64_t self_file_offset(uint64_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	unsigned long long start, end, off;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx", &start, &end, &off) == 3 && addr >= start &&
		    addr < end) {
			fclose(f);
			return addr - start + off;
		}
	}
	fclose(f);
	fail_msg("no mapping of %llx", (unsigned long long)addr);
	return 0;
}

/* A copy of this test's binary mapped executable at a fresh address; the
 * address of tg_syms_test_target in that mapping. */
static uint64_t map_copy(const char *name, void **ret_map, size_t *ret_len)
{
	char path[256], cmd[600];
	struct stat st;
	void *map;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe '%s'", (int)getpid(), path);
	assert_int_equal(system(cmd), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	close(fd);
	*ret_map = map;
	*ret_len = (size_t)st.st_size;
	return (uint64_t)(uintptr_t)map +
	       self_file_offset((uint64_t)(uintptr_t)&tg_syms_test_target);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "syms: the lookup blocked on a FIFO put where the mapped file was\n";

	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(3);
	_exit(2);
}

/* A pod's process maps a file, unlinks it and puts, at "NAME (deleted)"
 * (the name /proc/PID/maps then shows), a symlink to a host file or a
 * FIFO.  The runner read that name through /proc/PID/root with a plain
 * open(): the symlink's absolute target resolved against the RUNNER's
 * root (a host file parsed as root), a FIFO blocked the session.  The
 * lookup now opens the mapped file itself (/proc/PID/map_files) and
 * still names the function. */
static void test_user_mapping_swapped(void **state)
{
	struct syms_user_cache *c;
	const char *name, *module;
	char path[256], dpath[300];
	void *m1, *m2;
	size_t l1, l2;
	uint64_t off, a1, a2;

	a1 = map_copy("swapped-link", &m1, &l1);
	a2 = map_copy("swapped-fifo", &m2, &l2);
	snprintf(path, sizeof(path), "%s/swapped-link", tmpdir);
	snprintf(dpath, sizeof(dpath), "%s (deleted)", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/bin/true", dpath), 0);
	snprintf(path, sizeof(path), "%s/swapped-fifo", tmpdir);
	snprintf(dpath, sizeof(dpath), "%s (deleted)", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(dpath, 0600), 0);

	c = syms_user_cache_new();
	assert_non_null(c);
	signal(SIGALRM, on_alarm);
	alarm(20);
	assert_int_equal(syms_user_lookup(c, getpid(), a1 + 1, &name, &off, &module), 0);
	assert_string_equal(name, "tg_syms_test_target");
	assert_int_equal(off, 1);
	assert_non_null(strstr(module, "swapped-link (deleted)"));
	assert_int_equal(syms_user_lookup(c, getpid(), a2, &name, &off, &module), 0);
	assert_string_equal(name, "tg_syms_test_target");
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	syms_user_cache_free(c);
	munmap(m1, l1);
	munmap(m2, l2);
}

static void test_user_not_elf(void **state)
{
	struct syms_user_cache *c = syms_user_cache_new();
	char path[256];
	uint64_t addr;

	write_text("notelf", "hello\n");
	snprintf(path, sizeof(path), "%s/notelf", tmpdir);
	assert_int_equal(syms_elf_symbol_addr(c, path, "x", &addr, NULL), -EINVAL);
	syms_user_cache_free(c);
}

/* A tenant's binary whose symbols all name one long string: the names
 * kept would be symbols x length bytes, so the file is refused past
 * SYMS_ELF_MAX_NAME_BYTES instead (found by fuzz-runner-syms). */
static void test_user_name_pool_limit(void **state)
{
	enum { NSYMS = 1700, NAMELEN = 40000 };
	static const char shstr[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
	struct syms_user_cache *c = syms_user_cache_new();
	size_t off_text = sizeof(Elf64_Ehdr), off_sym = off_text + 16;
	size_t off_str = off_sym + NSYMS * sizeof(Elf64_Sym), off_shstr = off_str + NAMELEN + 2;
	size_t off_sh = (off_shstr + sizeof(shstr) + 7) & ~(size_t)7;
	size_t len = off_sh + 5 * sizeof(Elf64_Shdr);
	unsigned char *img = calloc(1, len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Sym *sym = (Elf64_Sym *)(img + off_sym);
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + off_sh);
	char path[256];
	uint64_t addr;
	FILE *f;

	assert_non_null(img);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_REL;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_shoff = off_sh;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 5;
	eh->e_shstrndx = 4;
	for (size_t i = 1; i < NSYMS; i++)
		sym[i] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
				      .st_shndx = 1, .st_value = 0x1000 + i * 8, .st_size = 8 };
	memset(img + off_str + 1, 'A', NAMELEN);
	memcpy(img + off_shstr, shstr, sizeof(shstr));
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
			      .sh_offset = off_text, .sh_size = 16, .sh_addralign = 8 };
	sh[2] = (Elf64_Shdr){ .sh_name = 7, .sh_type = SHT_SYMTAB, .sh_offset = off_sym,
			      .sh_size = NSYMS * sizeof(Elf64_Sym), .sh_link = 3, .sh_info = 1,
			      .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym) };
	sh[3] = (Elf64_Shdr){ .sh_name = 15, .sh_type = SHT_STRTAB, .sh_offset = off_str,
			      .sh_size = NAMELEN + 2, .sh_addralign = 1 };
	sh[4] = (Elf64_Shdr){ .sh_name = 23, .sh_type = SHT_STRTAB, .sh_offset = off_shstr,
			      .sh_size = sizeof(shstr), .sh_addralign = 1 };
	assert_true((uint64_t)NSYMS * (NAMELEN + 1) > SYMS_ELF_MAX_NAME_BYTES);
	snprintf(path, sizeof(path), "%s/pool-bomb.o", tmpdir);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(syms_elf_symbol_addr(c, path, "x", &addr, NULL), -TG_ELIMIT);

	/* the same file with one symbol of that name is read */
	for (size_t i = 2; i < NSYMS; i++)
		sym[i].st_name = 0;
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	syms_user_cache_free(c);
	c = syms_user_cache_new();
	assert_int_equal(syms_elf_symbol_addr(c, path, "x", &addr, NULL), -ENOENT);
	syms_user_cache_free(c);
	free(img);
}

static void test_time(void **state)
{
	struct buf b = BUF_INIT(0);
	struct timespec boot = { .tv_sec = 100, .tv_nsec = 999999000 }, now;

	setenv("TZ", "UTC", 1);
	tzset();
	/* time()'s default format */
	assert_int_equal(syms_format_time(&b, "%H:%M:%S\n", 3723), 0);
	assert_string_equal(b.s, "01:02:03\n");
	buf_clear(&b);
	/* 64 bytes or more: bpftrace's strftime fails, time() prints nothing */
	assert_int_equal(syms_format_time(&b, "%Y-%m-%d %H:%M:%S %Y-%m-%d %H:%M:%S %Y-%m-%d %H:%M:%S %H:%M", 0),
			 -ERANGE);
	assert_string_equal(b.s, "");
	/* strftime(): boot time plus nsecs, "%f" microseconds */
	assert_int_equal(syms_format_strftime(&b, "%H:%M:%S.%f", &boot, 2000), 0);
	assert_string_equal(b.s, "00:01:41.000001");
	buf_clear(&b);
	/* 0.17 replaces the "%f" inside "%%f" too; strftime then fails: "(?)" */
	assert_int_equal(syms_format_strftime(&b, "%H|%%f\n", &boot, 0), 0);
	assert_string_equal(b.s, "(?)");
	buf_clear(&b);
	assert_int_equal(syms_boottime(&now), 0);
	assert_true(now.tv_sec > 1000000000 && now.tv_nsec >= 0 && now.tv_nsec < 1000000000);
	buf_release(&b);
}

static void test_cgroup_path_fixture(void **state)
{
	char mounts[1024], dir[512];
	struct buf b = BUF_INIT(0);
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/unified/kubepods/podabc", tmpdir);
	assert_int_equal(system((snprintf(mounts, sizeof(mounts), "mkdir -p %s %s/cpu,cpuacct/x", dir,
					  tmpdir), mounts)), 0);
	snprintf(mounts, sizeof(mounts),
		 "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
		 "cgroup %s/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
		 "cgroup2 %s/unified cgroup2 rw 0 0\n", tmpdir, tmpdir);
	write_text("mounts", mounts);
	snprintf(mounts, sizeof(mounts), "%s/mounts", tmpdir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(syms_cgroup_path(&b, st.st_ino, NULL, mounts), 0);
	assert_string_equal(b.s, "unified:/kubepods/podabc");
	buf_clear(&b);
	/* the filter names hierarchies */
	assert_int_equal(syms_cgroup_path(&b, st.st_ino, "cpu*", mounts), 0);
	assert_string_equal(b.s, "");
	snprintf(dir, sizeof(dir), "%s/cpu,cpuacct", tmpdir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(syms_cgroup_path(&b, st.st_ino, NULL, mounts), 0);
	assert_string_equal(b.s, "cpu,cpuacct:/");
	buf_release(&b);
}

static void test_cgroup_path_real(void **state)
{
	char line[4096], path[8192];
	struct buf b = BUF_INIT(0);
	const char *mnt = NULL;
	char mntbuf[4096];
	struct stat st;
	FILE *f;

	/* this process's cgroup v2 directory, found from mountinfo */
	f = fopen("/proc/self/mountinfo", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");
		char m[4096];

		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1) {
			snprintf(mntbuf, sizeof(mntbuf), "%s", m);
			mnt = mntbuf;
			break;
		}
	}
	fclose(f);
	if (!mnt)
		skip();
	f = fopen("/proc/self/cgroup", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	assert_true(!strncmp(line, "0::", 3));
	snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(syms_cgroup_path(&b, st.st_ino, "unified", NULL), 0);
	snprintf(path, sizeof(path), "unified:%s", line + 3);
	assert_string_equal(b.s, path);
	buf_release(&b);
}

static int setup(void **state)
{
	return tu_tmpdir_make(tmpdir);
}

static int teardown(void **state)
{
	return tu_tmpdir_remove(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_fixture),
		cmocka_unit_test(test_kernel_refusals),
		cmocka_unit_test(test_kernel_real),
		cmocka_unit_test(test_kstack_as_bpftrace),
		cmocka_unit_test(test_user_self),
		cmocka_unit_test(test_user_mapping_swapped),
		cmocka_unit_test(test_user_not_elf),
		cmocka_unit_test(test_user_name_pool_limit),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_cgroup_path_fixture),
		cmocka_unit_test(test_cgroup_path_real),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
