// SPDX-License-Identifier: Apache-2.0
/*
 * The object verifier (runner/verify.h).  Reads a BPF ELF object with
 * libelf, checks every bound itself, decodes every executable section and
 * refuses the object unless every helper call is allowed, no kfunc or
 * extern is used, and every probe program starts with the scope check of
 * docs/internals/runner.md.  The scope check is proved by walking every
 * path from the program's entry with a small abstract interpreter until it
 * either passes a non-NULL test of a lookup in the scope map keyed by the
 * task's ancestor cgroup id, or returns 0; anything else on the way
 * (another helper, a store outside the stack, a backward jump, ...) is
 * refused.  docs/internals/scope.md has the reasoning.
 *
 * verify-elf.c reads the object (sections, symbols, relocations, CO-RE)
 * and checks each instruction, verify-prologue.c is the interpreter; this
 * file holds the allow-lists, the checks of unscoped code and of the
 * scope map's uses, and the entry point (runner/verify-int.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include "lib/cleanup.h"
#include "lib/cleanup-elf.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "runner/verify.h"
#include "runner/verify-int.h"
#include "lib/banned.h"

const char *const verify_default_helpers[] = {
	"bpf_map_lookup_elem",
	"bpf_map_update_elem",
	"bpf_map_delete_elem",
	"bpf_ringbuf_output",
	"bpf_ringbuf_reserve",
	"bpf_ringbuf_submit",
	"bpf_ringbuf_discard",
	"bpf_perf_event_output",
	"bpf_get_current_pid_tgid",
	"bpf_get_current_uid_gid",
	"bpf_get_current_comm",
	"bpf_get_current_task",
	"bpf_get_current_cgroup_id",
	"bpf_get_current_ancestor_cgroup_id",
	"bpf_ktime_get_ns",
	"bpf_ktime_get_boot_ns",
	"bpf_get_smp_processor_id",
	"bpf_get_numa_node_id",
	"bpf_get_prandom_u32",
	"bpf_probe_read_user",
	"bpf_probe_read_user_str",
	"bpf_probe_read_kernel",
	"bpf_probe_read_kernel_str",
	"bpf_get_stack",
	"bpf_get_stackid",
	"bpf_snprintf",
	"bpf_get_attach_cookie",   /* bpf_usdt_arg(): the attachment's usdt spec id */
	/* bpftrace 0.2x's for and len(): a callback per map entry or
	 * iteration (a subprogram of .text, checked as the program is), the
	 * program's own per-CPU values */
	"bpf_for_each_map_elem",
	"bpf_loop",
	"bpf_map_lookup_percpu_elem",
	NULL,
};

/* What a program without the scope check may call (BEGIN, END and, under
 * a scope, interval timers: the sections exempt_section() names, and every
 * subprogram they reach).  The runner runs those itself, so the current
 * task is its own session child: a helper that reads memory or describes
 * a task (probe_read*, get_current_*, stacks, signals, d_path, snprintf
 * with %s, ...) would read or describe the runner, not the pod.  An
 * allow-list, so a helper added to the kernel later stays out.  Not here:
 * bpf_snprintf, whose %s, %pks, %pus, %pI4 and %pI6 read memory at
 * addresses the program passes (kernel/bpf/helpers.c,
 * bpf_bprintf_prepare); the generated code formats in user space. */
const char *const verify_unscoped_helpers[] = {
	"bpf_map_lookup_elem",
	"bpf_map_update_elem",
	"bpf_map_delete_elem",
	"bpf_ringbuf_output",
	"bpf_ringbuf_reserve",
	"bpf_ringbuf_submit",
	"bpf_ringbuf_discard",
	"bpf_ktime_get_ns",
	"bpf_ktime_get_boot_ns",
	"bpf_get_smp_processor_id",
	"bpf_get_numa_node_id",
	"bpf_get_prandom_u32",
	/* their callbacks are reached and checked as unscoped code too
	 * (unscoped_insn: a 64-bit load of a .text function) */
	"bpf_for_each_map_elem",
	"bpf_loop",
	"bpf_map_lookup_percpu_elem",
	NULL,
};

/* ---- the allow-list ------------------------------------------------------- */

static int allowed_setup(struct vobj *v)
{
	const char *const *a = v->allowed;
	size_t i, k;

	for (i = 0; a[i]; i++) {
		if (strncmp(a[i], "kfunc:", 6) == 0)
			continue;
		k = verify_helper_id(a[i]);
		if (!k) {
			char b[VERIFY_NAME_MAX + 8];

			return verify_fail(v, -EINVAL, "allowed helper \"%s\": no such helper", verify_name(a[i], b));
		}
		v->helper_ok[k] = true;
	}
	for (i = 0; verify_unscoped_helpers[i]; i++)
		v->unscoped_ok[verify_helper_id(verify_unscoped_helpers[i])] = true;
	return 0;
}

/* Run only by the runner itself (BPF_PROG_TEST_RUN on SYSCALL programs,
 * which no kernel event can trigger): BEGIN, END and intervals under a
 * scope. */
static bool exempt_section(const char *name)
{
	return strcmp(name, "tg_begin") == 0 || strcmp(name, "tg_end") == 0 ||
	       strncmp(name, "tg_timer/", 9) == 0;
}

/* A bpf_get_current_task_btf call not on the allow-list is accepted only
 * where a prologue walk found it as the interrupt check's own call. */
static int check_task_calls(struct vobj *v)
{
	char b[VERIFY_NAME_MAX + 8];

	for (size_t i = 1; i < v->nsec; i++) {
		const struct vsec *s = &v->secs[i];

		for (size_t k = 0; s->exec && k < s->ninsns; k++)
			if (s->task_call[k] && !s->task_call_ok[k]) {
				struct bpf_insn in;

				verify_insn_get(s, k, &in);
				return verify_fail(v, -TG_EVERIFY,
						   "section \"%s\" instruction %zu: helper \"bpf_%s\" (%d) is not allowed",
						   verify_name(s->name, b), k, verify_helper_name(in.imm), in.imm);
			}
	}
	return 0;
}

/* ---- programs without the scope check ---------------------------------------- */

#define UNSCOPED_WHY \
	"without the scope check: BEGIN, END and interval timer programs run in the runner's own context, " \
	"where it would read or describe the runner, not the pod (they may call map, ring buffer, clock, " \
	"CPU and NUMA node number and random number helpers)"
#define UNSCOPED_SCOPE_WHY \
	"without the scope check: a program the runner runs itself (BEGIN, END, an interval timer) may " \
	"not change which cgroups the probes admit"

/* The .text instructions reachable from unscoped code: a worklist, and for
 * each instruction the exempt section that first reached it. */
struct ureach {
	uint8_t *seen;
	uint32_t *origin;
	uint32_t *stack;
	size_t n;
};

static void ureach_release(struct ureach *u)
{
	free(u->seen);
	free(u->origin);
	free(u->stack);
}

static int ufail(struct vobj *v, const struct vsec *s, size_t i, size_t origin, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int ufail(struct vobj *v, const struct vsec *s, size_t i, size_t origin, const char *fmt, ...)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8], what[VERIFY_NAME_MAX + 512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (origin)
		return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu (a subprogram of section \"%s\"): %s",
				   verify_name(s->name, b), i, verify_name(v->secs[origin].name, b2), what);
	return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: %s", verify_name(s->name, b), i, what);
}

/* Instruction t of .text becomes reachable from section origin. */
static int ureach_push(struct vobj *v, struct ureach *u, const struct vsec *s, size_t i, size_t origin,
		       int64_t t)
{
	const struct vsec *text = v->text_idx ? &v->secs[v->text_idx] : NULL;

	if (!text || t < 0 || (uint64_t)t >= text->ninsns || text->second[t])
		return ufail(v, s, i, s == text ? origin : 0, "call target %lld outside \".text\" %s", (long long)t,
			     UNSCOPED_WHY);
	if (!u->seen) {
		u->seen = calloc(text->ninsns, sizeof(*u->seen));
		u->origin = calloc(text->ninsns, sizeof(*u->origin));
		u->stack = calloc(text->ninsns, sizeof(*u->stack));
		if (!u->seen || !u->origin || !u->stack)
			return -ENOMEM;
	}
	if (u->seen[t])
		return 0;
	u->seen[t] = 1;
	u->origin[t] = (uint32_t)origin;
	u->stack[u->n++] = (uint32_t)t;
	return 0;
}

/* One instruction of unscoped code (section s, reached from section
 * origin when s is .text): only the helpers of verify_unscoped_helpers,
 * no kfunc, no reference to the scope map (a write to it would widen the
 * scope of every probe); calls into .text join the worklist. */
static int unscoped_insn(struct vobj *v, const struct vsec *s, size_t i, size_t origin, struct ureach *u)
{
	bool in_text = v->text_idx && s == &v->secs[v->text_idx];
	size_t org = in_text ? origin : 0;
	char b[VERIFY_NAME_MAX + 8];
	struct bpf_insn in;
	GElf_Sym sym = { 0 };
	const char *symname = NULL;
	int r;

	verify_insn_get(s, i, &in);
	if (s->relsym[i] >= 0) {
		r = verify_sym_get(v, (size_t)s->relsym[i], &sym, &symname);
		if (r < 0)
			return r;
	}
	if (verify_is_ldimm64(&in)) {
		if (s->relsym[i] >= 0 && verify_reloc_is_scope_map(v, s, i))
			return ufail(v, s, i, org, "the scope map \"%s\" is used %s", verify_name(v->scope_map, b),
				     UNSCOPED_SCOPE_WHY);
		/* the address of a function in .text: a callback (libbpf makes
		 * it BPF_PSEUDO_FUNC; bpf_loop, bpf_for_each_map_elem call it),
		 * unscoped code too, starting sym + imm bytes in */
		if (s->relsym[i] >= 0 && v->text_idx && sym.st_shndx == v->text_idx) {
			int64_t off = (int64_t)sym.st_value + in.imm;

			if (off < 0 || off % (int64_t)sizeof(struct bpf_insn))
				return ufail(v, s, i, org, "callback address %lld is not an instruction of \".text\" %s",
					     (long long)off, UNSCOPED_WHY);
			return ureach_push(v, u, s, i, origin, off / (int64_t)sizeof(struct bpf_insn));
		}
		return 0;
	}
	if (!verify_is_call(&in))
		return 0;
	if (s->relsym[i] >= 0) {
		if (sym.st_shndx == SHN_UNDEF)
			return ufail(v, s, i, org, "kfunc call to \"%s\" is not allowed %s", verify_name(symname, b),
				     UNSCOPED_WHY);
		/* libbpf: the callee is sym + imm + 1 instructions into .text */
		if (sym.st_shndx == v->text_idx || in_text)
			return ureach_push(v, u, s, i, origin,
					   (int64_t)(sym.st_value / sizeof(struct bpf_insn)) + in.imm + 1);
		return 0;   /* into this section, which is checked whole */
	}
	if (in.src_reg == BPF_PSEUDO_CALL)
		return in_text ? ureach_push(v, u, s, i, origin, (int64_t)i + 1 + in.imm) : 0;
	if (in.src_reg == 0 && verify_helper_name(in.imm) && !v->unscoped_ok[in.imm])
		return ufail(v, s, i, org, "helper \"bpf_%s\" (%d) is not allowed %s", verify_helper_name(in.imm), in.imm,
			     UNSCOPED_WHY);
	return 0;
}

/* Every instruction of every exempt section, and every .text instruction
 * a call from one of them can reach (fall-through, jumps, calls). */
static int check_unscoped(struct vobj *v)
{
	struct ureach u = { 0 };
	int r = 0;

	for (size_t i = 1; i < v->nsec && r >= 0; i++) {
		const struct vsec *s = &v->secs[i];

		if (!s->exec || i == v->text_idx || !exempt_section(s->name))
			continue;
		for (size_t k = 0; k < s->ninsns && r >= 0; k++)
			if (!s->second[k])
				r = unscoped_insn(v, s, k, i, &u);
	}
	while (r >= 0 && u.n > 0) {
		const struct vsec *t = &v->secs[v->text_idx];
		size_t k = u.stack[--u.n], origin = u.origin[k];
		struct bpf_insn in;
		uint8_t cls, op;
		int64_t next[2] = { -1, -1 };

		r = unscoped_insn(v, t, k, origin, &u);
		if (r < 0)
			break;
		verify_insn_get(t, k, &in);
		cls = in.code & 0x07;
		op = in.code & 0xf0;
		if (verify_is_ldimm64(&in))
			next[0] = (int64_t)k + 2;
		else if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_EXIT)
			;
		else if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_CALL)
			next[0] = (int64_t)k + 1;
		else if ((cls == BPF_JMP || cls == BPF_JMP32) && op == BPF_JA)
			next[0] = (int64_t)k + 1 + (cls == BPF_JMP32 ? in.imm : in.off);
		else if (cls == BPF_JMP || cls == BPF_JMP32) {
			next[0] = (int64_t)k + 1;
			next[1] = (int64_t)k + 1 + in.off;
		} else {
			next[0] = (int64_t)k + 1;
		}
		for (int j = 0; j < 2 && r >= 0; j++)
			/* verify_check_section proved jumps land on instructions; running
			 * off the end is the kernel's to refuse */
			if (next[j] >= 0 && (uint64_t)next[j] < t->ninsns && !t->second[next[j]] &&
			    !u.seen[next[j]]) {
				u.seen[next[j]] = 1;
				u.origin[next[j]] = (uint32_t)origin;
				u.stack[u.n++] = (uint32_t)next[j];
			}
	}
	ureach_release(&u);
	return r;
}

/* The scope map's address may be loaded only where a scope check walk
 * found it serving the lookup (before the check, so a program cannot
 * update or delete its entries and widen what every probe admits; the
 * map is BPF_MAP_FREEZE'd against user space, not against programs). */
static int check_scope_refs(struct vobj *v)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8];

	for (size_t i = 1; i < v->nsec; i++) {
		const struct vsec *s = &v->secs[i];

		for (size_t k = 0; s->exec && k < s->ninsns; k++) {
			struct bpf_insn in;

			if (s->second[k] || s->relsym[k] < 0 || s->scope_ref_ok[k])
				continue;
			verify_insn_get(s, k, &in);
			if (verify_is_ldimm64(&in) && verify_reloc_is_scope_map(v, s, k))
				return verify_fail(v, -TG_EVERIFY,
						   "section \"%s\" instruction %zu: the scope map \"%s\" is used outside the scope check",
						   verify_name(s->name, b), k, verify_name(v->scope_map, b2));
		}
	}
	return 0;
}

/* Every function symbol in a program section is an entry point libbpf
 * loads; each must start with the scope check. */
static int check_programs(struct vobj *v, const struct vsec *s, size_t sidx)
{
	char b[VERIFY_NAME_MAX + 8];
	size_t i, nprog = 0;
	GElf_Sym sym;
	const char *name;
	int r;

	for (i = 1; i < v->nsyms; i++) {
		r = verify_sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (sym.st_shndx != sidx || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		if (sym.st_value % sizeof(struct bpf_insn) || sym.st_size % sizeof(struct bpf_insn) ||
		    sym.st_size == 0 || sym.st_value > s->size || sym.st_size > s->size - sym.st_value)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": program \"%s\" has bad bounds",
					   verify_name(s->name, b), name);
		nprog++;
		if (s->second[sym.st_value / sizeof(struct bpf_insn)])
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": program \"%s\" starts inside an instruction",
					   verify_name(s->name, b), name);
		r = verify_check_prologue(v, s, name, sym.st_value / sizeof(struct bpf_insn),
					  (sym.st_value + sym.st_size) / sizeof(struct bpf_insn));
		if (r < 0)
			return r;
	}
	if (nprog == 0 && s->ninsns)
		return verify_fail(v, -TG_EVERIFY, "section \"%s\": code without a program symbol", verify_name(s->name, b));
	return 0;
}

/* ---- entry ------------------------------------------------------------------ */

static void vobj_release(struct vobj *v)
{
	size_t i;

	if (v->secs) {
		for (i = 0; i < v->nsec; i++) {
			free(v->secs[i].relsym);
			free(v->secs[i].second);
			free(v->secs[i].core);
			free(v->secs[i].task_call);
			free(v->secs[i].task_call_ok);
			free(v->secs[i].scope_ref_ok);
		}
		free(v->secs);
	}
	if (v->elf)
		elf_end(v->elf);
}

static int verify_run(struct vobj *v, const void *elf, size_t len, char *copy)
{
	GElf_Ehdr eh;
	size_t i;
	int r;

	r = allowed_setup(v);
	if (r < 0)
		return r;
	if (len < sizeof(Elf64_Ehdr))
		return verify_fail(v, -TG_EVERIFY, "object: %zu bytes is too short for an ELF header", len);
	if (len > VERIFY_MAX_OBJECT)
		return verify_fail(v, -TG_EVERIFY, "object: %zu bytes (limit %u)", len, VERIFY_MAX_OBJECT);
	if (memcmp(elf, ELFMAG, SELFMAG) != 0)
		return verify_fail(v, -TG_EVERIFY, "object: not an ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return verify_fail(v, -EINVAL, "libelf: %s", elf_errmsg(-1));
	/* libelf may convert in place: it gets our own copy */
	memcpy(copy, elf, len);
	v->elf = elf_memory(copy, len);
	if (!v->elf || elf_kind(v->elf) != ELF_K_ELF)
		return verify_fail(v, -TG_EVERIFY, "object: not an ELF file: %s", elf_errmsg(-1));
	if (!gelf_getehdr(v->elf, &eh))
		return verify_fail(v, -TG_EVERIFY, "object: bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_BPF || eh.e_type != ET_REL)
		return verify_fail(v, -TG_EVERIFY, "object: not a little-endian 64-bit BPF relocatable object");
	r = verify_load_sections(v, len);
	if (r < 0)
		return r;
	r = verify_load_relocations(v);
	if (r < 0)
		return r;
	if (v->require_scope) {
		r = verify_find_scope_map(v);
		if (r < 0)
			return r;
		r = verify_load_core_relos(v);
		if (r < 0)
			return r;
	}
	for (i = 1; i < v->nsec; i++) {
		if (!v->secs[i].exec)
			continue;
		r = verify_check_section(v, &v->secs[i]);
		if (r < 0)
			return r;
	}
	if (!v->require_scope)
		return 0;
	r = check_unscoped(v);
	if (r < 0)
		return r;
	for (i = 1; i < v->nsec; i++) {
		const struct vsec *s = &v->secs[i];

		if (!s->exec || i == v->text_idx || exempt_section(s->name))
			continue;
		r = check_programs(v, s, i);
		if (r < 0)
			return r;
	}
	r = check_scope_refs(v);
	if (r < 0)
		return r;
	return check_task_calls(v);
}

int verify_object(const void *elf, size_t len, const struct verify_opts *opts, char **ret_err)
{
	struct vobj v = { .ret_err = ret_err, .require_scope = true, .scope_map = "tg_scope",
			  .allowed = verify_default_helpers };
	_cleanup_free_ char *copy = NULL;
	int r;

	if (ret_err)
		*ret_err = NULL;
	if (!OPTS_VALID(opts, struct verify_opts))
		return verify_fail(&v, -EINVAL, "verify: bad options");
	v.o = opts;
	v.allowed = OPTS_GET(opts, allowed_helpers, NULL) ? opts->allowed_helpers : v.allowed;
	v.require_scope = OPTS_GET(opts, require_scope, true);
	v.scope_map = OPTS_GET(opts, scope_map, NULL) ? opts->scope_map : v.scope_map;
	if (!elf)
		return verify_fail(&v, -EINVAL, "object: none given");
	if (len >= sizeof(Elf64_Ehdr) && len <= VERIFY_MAX_OBJECT) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
	}
	r = verify_run(&v, elf, len, copy);
	vobj_release(&v);
	if (r < 0 && ret_err && !*ret_err)
		*ret_err = strdup(tg_strerror(r));
	return r;
}
