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
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/cleanup.h"
#include "lib/cleanup-elf.h"
#include "lib/errors.h"
#include "lib/opts.h"
#include "runner/verify.h"
#include "lib/banned.h"

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

/* Helper names by id, in the order of __BPF_FUNC_MAPPER in linux/bpf.h
 * (ids are stable ABI; 210 and 211 are newer than the installed header). */
static const char *const helper_names[] = {
	[0] = "unspec",
	[1] = "map_lookup_elem",
	[2] = "map_update_elem",
	[3] = "map_delete_elem",
	[4] = "probe_read",
	[5] = "ktime_get_ns",
	[6] = "trace_printk",
	[7] = "get_prandom_u32",
	[8] = "get_smp_processor_id",
	[9] = "skb_store_bytes",
	[10] = "l3_csum_replace",
	[11] = "l4_csum_replace",
	[12] = "tail_call",
	[13] = "clone_redirect",
	[14] = "get_current_pid_tgid",
	[15] = "get_current_uid_gid",
	[16] = "get_current_comm",
	[17] = "get_cgroup_classid",
	[18] = "skb_vlan_push",
	[19] = "skb_vlan_pop",
	[20] = "skb_get_tunnel_key",
	[21] = "skb_set_tunnel_key",
	[22] = "perf_event_read",
	[23] = "redirect",
	[24] = "get_route_realm",
	[25] = "perf_event_output",
	[26] = "skb_load_bytes",
	[27] = "get_stackid",
	[28] = "csum_diff",
	[29] = "skb_get_tunnel_opt",
	[30] = "skb_set_tunnel_opt",
	[31] = "skb_change_proto",
	[32] = "skb_change_type",
	[33] = "skb_under_cgroup",
	[34] = "get_hash_recalc",
	[35] = "get_current_task",
	[36] = "probe_write_user",
	[37] = "current_task_under_cgroup",
	[38] = "skb_change_tail",
	[39] = "skb_pull_data",
	[40] = "csum_update",
	[41] = "set_hash_invalid",
	[42] = "get_numa_node_id",
	[43] = "skb_change_head",
	[44] = "xdp_adjust_head",
	[45] = "probe_read_str",
	[46] = "get_socket_cookie",
	[47] = "get_socket_uid",
	[48] = "set_hash",
	[49] = "setsockopt",
	[50] = "skb_adjust_room",
	[51] = "redirect_map",
	[52] = "sk_redirect_map",
	[53] = "sock_map_update",
	[54] = "xdp_adjust_meta",
	[55] = "perf_event_read_value",
	[56] = "perf_prog_read_value",
	[57] = "getsockopt",
	[58] = "override_return",
	[59] = "sock_ops_cb_flags_set",
	[60] = "msg_redirect_map",
	[61] = "msg_apply_bytes",
	[62] = "msg_cork_bytes",
	[63] = "msg_pull_data",
	[64] = "bind",
	[65] = "xdp_adjust_tail",
	[66] = "skb_get_xfrm_state",
	[67] = "get_stack",
	[68] = "skb_load_bytes_relative",
	[69] = "fib_lookup",
	[70] = "sock_hash_update",
	[71] = "msg_redirect_hash",
	[72] = "sk_redirect_hash",
	[73] = "lwt_push_encap",
	[74] = "lwt_seg6_store_bytes",
	[75] = "lwt_seg6_adjust_srh",
	[76] = "lwt_seg6_action",
	[77] = "rc_repeat",
	[78] = "rc_keydown",
	[79] = "skb_cgroup_id",
	[80] = "get_current_cgroup_id",
	[81] = "get_local_storage",
	[82] = "sk_select_reuseport",
	[83] = "skb_ancestor_cgroup_id",
	[84] = "sk_lookup_tcp",
	[85] = "sk_lookup_udp",
	[86] = "sk_release",
	[87] = "map_push_elem",
	[88] = "map_pop_elem",
	[89] = "map_peek_elem",
	[90] = "msg_push_data",
	[91] = "msg_pop_data",
	[92] = "rc_pointer_rel",
	[93] = "spin_lock",
	[94] = "spin_unlock",
	[95] = "sk_fullsock",
	[96] = "tcp_sock",
	[97] = "skb_ecn_set_ce",
	[98] = "get_listener_sock",
	[99] = "skc_lookup_tcp",
	[100] = "tcp_check_syncookie",
	[101] = "sysctl_get_name",
	[102] = "sysctl_get_current_value",
	[103] = "sysctl_get_new_value",
	[104] = "sysctl_set_new_value",
	[105] = "strtol",
	[106] = "strtoul",
	[107] = "sk_storage_get",
	[108] = "sk_storage_delete",
	[109] = "send_signal",
	[110] = "tcp_gen_syncookie",
	[111] = "skb_output",
	[112] = "probe_read_user",
	[113] = "probe_read_kernel",
	[114] = "probe_read_user_str",
	[115] = "probe_read_kernel_str",
	[116] = "tcp_send_ack",
	[117] = "send_signal_thread",
	[118] = "jiffies64",
	[119] = "read_branch_records",
	[120] = "get_ns_current_pid_tgid",
	[121] = "xdp_output",
	[122] = "get_netns_cookie",
	[123] = "get_current_ancestor_cgroup_id",
	[124] = "sk_assign",
	[125] = "ktime_get_boot_ns",
	[126] = "seq_printf",
	[127] = "seq_write",
	[128] = "sk_cgroup_id",
	[129] = "sk_ancestor_cgroup_id",
	[130] = "ringbuf_output",
	[131] = "ringbuf_reserve",
	[132] = "ringbuf_submit",
	[133] = "ringbuf_discard",
	[134] = "ringbuf_query",
	[135] = "csum_level",
	[136] = "skc_to_tcp6_sock",
	[137] = "skc_to_tcp_sock",
	[138] = "skc_to_tcp_timewait_sock",
	[139] = "skc_to_tcp_request_sock",
	[140] = "skc_to_udp6_sock",
	[141] = "get_task_stack",
	[142] = "load_hdr_opt",
	[143] = "store_hdr_opt",
	[144] = "reserve_hdr_opt",
	[145] = "inode_storage_get",
	[146] = "inode_storage_delete",
	[147] = "d_path",
	[148] = "copy_from_user",
	[149] = "snprintf_btf",
	[150] = "seq_printf_btf",
	[151] = "skb_cgroup_classid",
	[152] = "redirect_neigh",
	[153] = "per_cpu_ptr",
	[154] = "this_cpu_ptr",
	[155] = "redirect_peer",
	[156] = "task_storage_get",
	[157] = "task_storage_delete",
	[158] = "get_current_task_btf",
	[159] = "bprm_opts_set",
	[160] = "ktime_get_coarse_ns",
	[161] = "ima_inode_hash",
	[162] = "sock_from_file",
	[163] = "check_mtu",
	[164] = "for_each_map_elem",
	[165] = "snprintf",
	[166] = "sys_bpf",
	[167] = "btf_find_by_name_kind",
	[168] = "sys_close",
	[169] = "timer_init",
	[170] = "timer_set_callback",
	[171] = "timer_start",
	[172] = "timer_cancel",
	[173] = "get_func_ip",
	[174] = "get_attach_cookie",
	[175] = "task_pt_regs",
	[176] = "get_branch_snapshot",
	[177] = "trace_vprintk",
	[178] = "skc_to_unix_sock",
	[179] = "kallsyms_lookup_name",
	[180] = "find_vma",
	[181] = "loop",
	[182] = "strncmp",
	[183] = "get_func_arg",
	[184] = "get_func_ret",
	[185] = "get_func_arg_cnt",
	[186] = "get_retval",
	[187] = "set_retval",
	[188] = "xdp_get_buff_len",
	[189] = "xdp_load_bytes",
	[190] = "xdp_store_bytes",
	[191] = "copy_from_user_task",
	[192] = "skb_set_tstamp",
	[193] = "ima_file_hash",
	[194] = "kptr_xchg",
	[195] = "map_lookup_percpu_elem",
	[196] = "skc_to_mptcp_sock",
	[197] = "dynptr_from_mem",
	[198] = "ringbuf_reserve_dynptr",
	[199] = "ringbuf_submit_dynptr",
	[200] = "ringbuf_discard_dynptr",
	[201] = "dynptr_read",
	[202] = "dynptr_write",
	[203] = "dynptr_data",
	[204] = "tcp_raw_gen_syncookie_ipv4",
	[205] = "tcp_raw_gen_syncookie_ipv6",
	[206] = "tcp_raw_check_syncookie_ipv4",
	[207] = "tcp_raw_check_syncookie_ipv6",
	[208] = "ktime_get_tai_ns",
	[209] = "user_ringbuf_drain",
	[210] = "cgrp_storage_get",
	[211] = "cgrp_storage_delete",
};
#define HELPER_COUNT ARRAY_SIZE(helper_names)

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

/* ---- errors ------------------------------------------------------------- */

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

static int vfail(struct vobj *v, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vfail(struct vobj *v, int r, const char *fmt, ...)
{
	va_list ap;

	if (v->ret_err && !*v->ret_err) {
		va_start(ap, fmt);
		if (vasprintf(v->ret_err, fmt, ap) < 0)
			*v->ret_err = NULL;
		va_end(ap);
	}
	return r;
}

/* A name from the object, safe to quote: printable ASCII, bounded. */
static const char *vname(const char *s, char out[VERIFY_NAME_MAX + 8])
{
	size_t i, o = 0;

	if (!s)
		return "?";
	for (i = 0; s[i] && o < VERIFY_NAME_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static const char *helper_name(int64_t id)
{
	if (id < 0 || (uint64_t)id >= HELPER_COUNT || !helper_names[id])
		return NULL;
	return helper_names[id];
}

/* ---- the allow-list ------------------------------------------------------- */

/* The id of helper n ("bpf_map_lookup_elem" or "map_lookup_elem"), or 0. */
static size_t helper_id(const char *n)
{
	if (strncmp(n, "bpf_", 4) == 0)
		n += 4;
	for (size_t k = 1; k < HELPER_COUNT; k++)
		if (helper_names[k] && strcmp(helper_names[k], n) == 0)
			return k;
	return 0;
}

static int allowed_setup(struct vobj *v)
{
	const char *const *a = v->allowed;
	size_t i, k;

	for (i = 0; a[i]; i++) {
		if (strncmp(a[i], "kfunc:", 6) == 0)
			continue;
		k = helper_id(a[i]);
		if (!k) {
			char b[VERIFY_NAME_MAX + 8];

			return vfail(v, -EINVAL, "allowed helper \"%s\": no such helper", vname(a[i], b));
		}
		v->helper_ok[k] = true;
	}
	for (i = 0; verify_unscoped_helpers[i]; i++)
		v->unscoped_ok[helper_id(verify_unscoped_helpers[i])] = true;
	return 0;
}

static bool kfunc_allowed(const struct vobj *v, const char *name)
{
	size_t i;

	for (i = 0; v->allowed[i]; i++)
		if (strncmp(v->allowed[i], "kfunc:", 6) == 0 && strcmp(v->allowed[i] + 6, name) == 0)
			return true;
	return false;
}

/* ---- ELF structure ------------------------------------------------------- */

static int sym_get(struct vobj *v, size_t idx, GElf_Sym *sym, const char **name)
{
	const char *n;

	if (idx >= v->nsyms || !gelf_getsym(v->symdata, (int)idx, sym))
		return vfail(v, -TG_EVERIFY, "symbol %zu: out of range", idx);
	n = elf_strptr(v->elf, v->strtab, sym->st_name);
	if (name)
		*name = n ? n : "";
	return 0;
}

static int load_sections(struct vobj *v, size_t len)
{
	size_t shstrndx, i;
	Elf_Scn *scn;

	if (elf_getshdrnum(v->elf, &v->nsec) < 0 || elf_getshdrstrndx(v->elf, &shstrndx) < 0)
		return vfail(v, -TG_EVERIFY, "object: bad section header table: %s", elf_errmsg(-1));
	if (v->nsec == 0 || v->nsec > VERIFY_MAX_SECTIONS)
		return vfail(v, -TG_EVERIFY, "object: %zu sections (limit %d)", v->nsec, VERIFY_MAX_SECTIONS);
	if (shstrndx == 0 || shstrndx >= v->nsec)
		return vfail(v, -TG_EVERIFY, "object: section name table index %zu out of range", shstrndx);
	v->secs = calloc(v->nsec, sizeof(*v->secs));
	if (!v->secs)
		return -ENOMEM;
	for (i = 1; i < v->nsec; i++) {
		struct vsec *s = &v->secs[i];
		Elf_Data *d;

		scn = elf_getscn(v->elf, i);
		if (!scn || !gelf_getshdr(scn, &s->sh))
			return vfail(v, -TG_EVERIFY, "section %zu: unreadable header: %s", i, elf_errmsg(-1));
		s->name = elf_strptr(v->elf, shstrndx, s->sh.sh_name);
		if (!s->name)
			return vfail(v, -TG_EVERIFY, "section %zu: name out of range", i);
		if (s->sh.sh_type != SHT_NOBITS &&
		    (s->sh.sh_offset > len || s->sh.sh_size > len - s->sh.sh_offset)) {
			char b[VERIFY_NAME_MAX + 8];

			return vfail(v, -TG_EVERIFY,
				     "section \"%s\": offset %llu size %llu beyond the object (%zu bytes)",
				     vname(s->name, b), (unsigned long long)s->sh.sh_offset,
				     (unsigned long long)s->sh.sh_size, len);
		}
		if (s->sh.sh_type == SHT_NOBITS || s->sh.sh_size == 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || (d->d_size && !d->d_buf) || d->d_size != s->sh.sh_size || elf_getdata(scn, d)) {
			char b[VERIFY_NAME_MAX + 8];

			return vfail(v, -TG_EVERIFY, "section \"%s\": unreadable data: %s", vname(s->name, b),
				     elf_errmsg(-1));
		}
		s->d = d;
		s->data = d->d_buf;
		s->size = d->d_size;
		if (s->sh.sh_type == SHT_SYMTAB) {
			if (v->symdata)
				return vfail(v, -TG_EVERIFY, "object: more than one symbol table");
			if (s->sh.sh_entsize != sizeof(Elf64_Sym) || s->size % sizeof(Elf64_Sym))
				return vfail(v, -TG_EVERIFY, "symbol table: bad entry size");
			v->symdata = d;
			v->nsyms = s->size / sizeof(Elf64_Sym);
			v->strtab = s->sh.sh_link;
			if (v->nsyms > VERIFY_MAX_SYMBOLS)
				return vfail(v, -TG_EVERIFY, "symbol table: %zu symbols (limit %u)", v->nsyms,
					     VERIFY_MAX_SYMBOLS);
		}
	}
	if (!v->symdata)
		return vfail(v, -TG_EVERIFY, "object: no symbol table");
	if (v->strtab == 0 || v->strtab >= v->nsec || v->secs[v->strtab].sh.sh_type != SHT_STRTAB)
		return vfail(v, -TG_EVERIFY, "symbol table: string table index %zu is not a string table",
			     v->strtab);
	for (i = 1; i < v->nsec; i++) {
		struct vsec *s = &v->secs[i];
		char b[VERIFY_NAME_MAX + 8];

		if (strcmp(s->name, ".maps") == 0) {
			if (v->maps_idx)
				return vfail(v, -TG_EVERIFY, "object: more than one \".maps\" section");
			v->maps_idx = i;
		}
		if (!(s->sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (s->sh.sh_type != SHT_PROGBITS)
			return vfail(v, -TG_EVERIFY, "section \"%s\": executable but not PROGBITS",
				     vname(s->name, b));
		if (s->size % sizeof(struct bpf_insn))
			return vfail(v, -TG_EVERIFY, "section \"%s\": size %zu is not a whole number of instructions",
				     vname(s->name, b), s->size);
		s->exec = true;
		s->ninsns = s->size / sizeof(struct bpf_insn);
		if (s->ninsns > VERIFY_MAX_INSNS)
			return vfail(v, -TG_EVERIFY, "section \"%s\": %zu instructions (limit %u)",
				     vname(s->name, b), s->ninsns, VERIFY_MAX_INSNS);
		if (s->ninsns > VERIFY_MAX_JUMP_REACH)
			return vfail(v, -TG_EVERIFY,
				     "section \"%s\": %zu instructions, more than a 16-bit jump offset reaches (%u): "
				     "a jump in it may have been truncated", vname(s->name, b), s->ninsns,
				     VERIFY_MAX_JUMP_REACH);
		if (strcmp(s->name, ".text") == 0)
			v->text_idx = i;
		if (s->ninsns) {
			s->relsym = malloc(s->ninsns * sizeof(*s->relsym));
			s->second = calloc(s->ninsns, sizeof(*s->second));
			s->core = calloc(s->ninsns, sizeof(*s->core));
			s->task_call = calloc(s->ninsns, sizeof(*s->task_call));
			s->task_call_ok = calloc(s->ninsns, sizeof(*s->task_call_ok));
			s->scope_ref_ok = calloc(s->ninsns, sizeof(*s->scope_ref_ok));
			if (!s->relsym || !s->second || !s->core || !s->task_call || !s->task_call_ok ||
			    !s->scope_ref_ok)
				return -ENOMEM;
			memset(s->relsym, 0xff, s->ninsns * sizeof(*s->relsym));
		}
	}
	return 0;
}

static int load_relocations(struct vobj *v)
{
	size_t i, k;

	for (i = 1; i < v->nsec; i++) {
		struct vsec *r = &v->secs[i], *t;
		char b[VERIFY_NAME_MAX + 8];
		size_t n;

		if (r->sh.sh_type == SHT_RELA)
			return vfail(v, -TG_EVERIFY, "section \"%s\": RELA relocations are not used by BPF",
				     vname(r->name, b));
		if (r->sh.sh_type != SHT_REL)
			continue;
		if (r->sh.sh_info == 0 || r->sh.sh_info >= v->nsec)
			return vfail(v, -TG_EVERIFY, "section \"%s\": relocates section %u, out of range",
				     vname(r->name, b), (unsigned)r->sh.sh_info);
		t = &v->secs[r->sh.sh_info];
		if (!t->exec)
			continue; /* BTF and data relocations: nothing executes there */
		if (r->sh.sh_link >= v->nsec || v->secs[r->sh.sh_link].sh.sh_type != SHT_SYMTAB)
			return vfail(v, -TG_EVERIFY, "section \"%s\": does not use the symbol table",
				     vname(r->name, b));
		if (t->rel_from)
			return vfail(v, -TG_EVERIFY, "section \"%s\": relocated twice", vname(t->name, b));
		t->rel_from = (int)i;
		if (r->sh.sh_entsize != sizeof(Elf64_Rel) || r->size % sizeof(Elf64_Rel))
			return vfail(v, -TG_EVERIFY, "section \"%s\": bad relocation entry size", vname(r->name, b));
		n = r->size / sizeof(Elf64_Rel);
		for (k = 0; k < n; k++) {
			GElf_Rel rel;
			size_t sym, ins;

			if (!r->d || !gelf_getrel(r->d, (int)k, &rel))
				return vfail(v, -TG_EVERIFY, "section \"%s\": relocation %zu unreadable",
					     vname(r->name, b), k);
			sym = GELF_R_SYM(rel.r_info);
			if (rel.r_offset % sizeof(struct bpf_insn) || rel.r_offset / sizeof(struct bpf_insn) >= t->ninsns)
				return vfail(v, -TG_EVERIFY, "section \"%s\": relocation %zu at offset %llu outside the code",
					     vname(r->name, b), k, (unsigned long long)rel.r_offset);
			if (sym == 0 || sym >= v->nsyms)
				return vfail(v, -TG_EVERIFY, "section \"%s\": relocation %zu names symbol %zu, out of range",
					     vname(r->name, b), k, sym);
			ins = rel.r_offset / sizeof(struct bpf_insn);
			if (t->relsym[ins] >= 0)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: relocated twice",
					     vname(t->name, b), ins);
			t->relsym[ins] = (int32_t)sym;
		}
	}
	return 0;
}

/* The scope map: one symbol of that name, in .maps, and BTF that agrees. */
static int find_scope_map(struct vobj *v)
{
	const struct vsec *btfsec = NULL;
	GElf_Sym sym, found = { 0 };
	const char *name;
	size_t i, hits = 0;
	char b[VERIFY_NAME_MAX + 8];
	int r;

	for (i = 1; i < v->nsyms; i++) {
		r = sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (strcmp(name, v->scope_map) == 0) {
			hits++;
			found = sym;
		}
	}
	if (hits == 0)
		return vfail(v, -TG_EVERIFY, "object: scope map \"%s\" is not defined", vname(v->scope_map, b));
	if (hits > 1)
		return vfail(v, -TG_EVERIFY, "object: scope map \"%s\" is defined %zu times",
			     vname(v->scope_map, b), hits);
	if (!v->maps_idx || found.st_shndx != v->maps_idx || GELF_ST_TYPE(found.st_info) != STT_OBJECT)
		return vfail(v, -TG_EVERIFY, "object: scope map \"%s\" is not a map in \".maps\"",
			     vname(v->scope_map, b));
	v->scope_off = found.st_value;
	/* No other symbol may alias the same map under another name. */
	for (i = 1; i < v->nsyms; i++) {
		r = sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (sym.st_shndx == v->maps_idx && sym.st_value == v->scope_off &&
		    GELF_ST_TYPE(sym.st_info) != STT_SECTION && strcmp(name, v->scope_map) != 0)
			return vfail(v, -TG_EVERIFY, "object: symbol \"%s\" aliases the scope map",
				     vname(name, b));
	}
	/* libbpf names maps from BTF: the .maps DATASEC var of that name must
	 * sit where the symbol does (or be placed by it when size is 0). */
	for (i = 1; i < v->nsec; i++)
		if (strcmp(v->secs[i].name, ".BTF") == 0 && v->secs[i].data)
			btfsec = &v->secs[i];
	if (!btfsec)
		return vfail(v, -TG_EVERIFY, "object: no \".BTF\" section to name the maps");
	{
		/* libbpf would print its complaints about malformed BTF; the
		 * verifier does not print, it refuses. */
		libbpf_print_fn_t old_print = libbpf_set_print(NULL);
		struct btf *btf = btf__new(btfsec->data, (uint32_t)btfsec->size);
		const struct btf_type *ds;
		const struct btf_var_secinfo *vsi;
		int id, nvar = 0;
		uint16_t vl, k;

		libbpf_set_print(old_print);
		if (!btf)
			return vfail(v, -TG_EVERIFY, "section \".BTF\": does not parse");
		id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
		ds = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
		if (!ds) {
			btf__free(btf);
			return vfail(v, -TG_EVERIFY, "section \".BTF\": no \".maps\" data section");
		}
		vl = btf_vlen(ds);
		vsi = btf_var_secinfos(ds);
		for (k = 0; k < vl; k++) {
			const struct btf_type *var = btf__type_by_id(btf, vsi[k].type);
			const char *vn = var ? btf__name_by_offset(btf, var->name_off) : NULL;

			if (vn && strcmp(vn, v->scope_map) == 0) {
				nvar++;
				if (ds->size != 0 && vsi[k].offset != v->scope_off)
					nvar = 99;
			} else if (ds->size != 0 && vsi[k].offset == v->scope_off) {
				nvar = 99;
			}
		}
		btf__free(btf);
		if (nvar != 1)
			return vfail(v, -TG_EVERIFY, "section \".BTF\": map \"%s\" does not match its symbol",
				     vname(v->scope_map, b));
	}
	v->scope_found = true;
	return 0;
}

/* ---- instructions --------------------------------------------------------- */

static void insn_get(const struct vsec *s, size_t i, struct bpf_insn *in)
{
	memcpy(in, s->data + i * sizeof(*in), sizeof(*in));
}

static bool is_ldimm64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_DW | BPF_IMM);
}

static bool is_call(const struct bpf_insn *in)
{
	return (in->code & 0x07) == BPF_JMP && (in->code & 0xf0) == BPF_CALL;
}

/* Whether the relocation symbol of instruction i is the scope map. */
static bool reloc_is_scope_map(struct vobj *v, const struct vsec *s, size_t i)
{
	GElf_Sym sym;

	if (!v->scope_found || s->relsym[i] < 0 || sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
		return false;
	return sym.st_shndx == v->maps_idx && sym.st_value == v->scope_off &&
	       GELF_ST_TYPE(sym.st_info) != STT_SECTION;
}

/* The one extern a generated program may load: libbpf's USDT support
 * (<bpf/usdt.bpf.h>) reads `extern const _Bool LINUX_HAS_BPF_COOKIE
 * __kconfig`, a value libbpf itself sets from a kernel feature probe into
 * its read-only ".kconfig" map; nothing of the tenant's reaches it.  Only
 * as a 64-bit load (never a call), by that exact name. */
#define USDT_KCONFIG_EXTERN "LINUX_HAS_BPF_COOKIE"

static bool usdt_kconfig(const struct bpf_insn *in, const GElf_Sym *sym, const char *name)
{
	return is_ldimm64(in) && name && strcmp(name, USDT_KCONFIG_EXTERN) == 0 &&
	       GELF_ST_TYPE(sym->st_info) == STT_NOTYPE &&
	       (GELF_ST_BIND(sym->st_info) == STB_GLOBAL || GELF_ST_BIND(sym->st_info) == STB_WEAK);
}

/* Every instruction of every executable section: helper ids allowed, no
 * kfunc, no extern, no pre-resolved pseudo loads, relocations only where
 * libbpf applies them. */
static int check_section(struct vobj *v, struct vsec *s)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8];
	const char *sn = vname(s->name, b);
	size_t i;

	for (i = 0; i < s->ninsns; i++) {
		struct bpf_insn in;
		GElf_Sym sym = { 0 };
		const char *symname = NULL;
		int r;

		insn_get(s, i, &in);
		if (s->relsym[i] >= 0) {
			r = sym_get(v, (size_t)s->relsym[i], &sym, &symname);
			if (r < 0)
				return r;
			if (sym.st_shndx == SHN_UNDEF) {
				if (is_call(&in) && kfunc_allowed(v, symname))
					continue;
				if (usdt_kconfig(&in, &sym, symname))
					goto ldimm64;
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: %s \"%s\" is not allowed",
					     sn, i, is_call(&in) ? "kfunc call to" : "extern symbol",
					     vname(symname, b2));
			}
			if (sym.st_shndx >= v->nsec && sym.st_shndx < SHN_LORESERVE)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: symbol section out of range",
					     sn, i);
			if (!is_call(&in) && !is_ldimm64(&in))
				return vfail(v, -TG_EVERIFY,
					     "section \"%s\" instruction %zu: relocation on an instruction that is neither a call nor a 64-bit load",
					     sn, i);
		}
ldimm64:
		if (is_ldimm64(&in)) {
			struct bpf_insn hi;

			if (i + 1 >= s->ninsns)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: 64-bit load cut short", sn, i);
			insn_get(s, i + 1, &hi);
			if (hi.code || hi.dst_reg || hi.src_reg || hi.off || s->relsym[i + 1] >= 0)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed 64-bit load", sn, i);
			if (in.src_reg != 0)
				return vfail(v, -TG_EVERIFY,
					     "section \"%s\" instruction %zu: pre-resolved pseudo load (src %u) is not allowed",
					     sn, i, in.src_reg);
			s->second[i + 1] = true;
			i++;
			continue;
		}
		if ((in.code & 0x07) == BPF_JMP32 && (in.code & 0xf0) == BPF_CALL)
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed call", sn, i);
		if (!is_call(&in))
			continue;
		if (s->relsym[i] >= 0) {
			/* bpf-to-bpf call into .text or this section */
			if (in.src_reg != BPF_PSEUDO_CALL ||
			    (sym.st_shndx != v->text_idx && sym.st_shndx != (size_t)(s - v->secs)) ||
			    !v->secs[sym.st_shndx].exec)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: call to \"%s\" is not a subprogram call",
					     sn, i, vname(symname, b2));
			continue;
		}
		if (in.src_reg == BPF_PSEUDO_CALL) {
			int64_t t = (int64_t)i + 1 + in.imm;

			if (t < 0 || (uint64_t)t >= s->ninsns)
				return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: call target outside the section",
					     sn, i);
			continue;
		}
		if (in.src_reg == BPF_PSEUDO_KFUNC_CALL)
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: kfunc call (btf id %d) is not allowed",
				     sn, i, in.imm);
		if (in.src_reg != 0 || in.dst_reg || in.off)
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed call", sn, i);
		if (!helper_name(in.imm))
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: unknown helper %d", sn, i, in.imm);
		if (!v->helper_ok[in.imm] && v->require_scope &&
		    (in.imm == HELPER_TASK_BTF || in.imm == HELPER_READ_KERNEL)) {
			/* allowed only as the interrupt check's own call, which
			 * the prologue walk marks (see check_task_calls) */
			s->task_call[i] = true;
			continue;
		}
		if (!v->helper_ok[in.imm])
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: helper \"bpf_%s\" (%d) is not allowed",
				     sn, i, helper_name(in.imm), in.imm);
	}
	for (i = 0; i < s->ninsns; i++) {
		struct bpf_insn in;
		uint8_t cls;
		int64_t t;

		/* jumps must land on an instruction, not inside a 64-bit load */
		insn_get(s, i, &in);
		cls = in.code & 0x07;
		if (s->second[i] || (cls != BPF_JMP && cls != BPF_JMP32) || is_call(&in) ||
		    (in.code & 0xf0) == BPF_EXIT)
			continue;
		t = (int64_t)i + 1 + ((cls == BPF_JMP32 && (in.code & 0xf0) == BPF_JA) ? in.imm : in.off);
		if (t < 0 || (uint64_t)t >= s->ninsns || s->second[t])
			return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: jump to %lld lands outside the code",
				     sn, i, (long long)t);
	}
	return 0;
}

/* ---- CO-RE relocations (.BTF.ext) ------------------------------------------- */

/* The interrupt check reads task_struct's "stack" through a CO-RE field
 * offset relocation; libbpf applies those from .BTF.ext, so that is where
 * the verifier learns which field an instruction really reads. */
struct btf_ext_hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len;
};

static uint32_t rd32(const unsigned char *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

enum core_field { CORE_NONE, CORE_OTHER, CORE_TASK_STACK, CORE_TASK_CFS_RQ, CORE_CFS_RQ_RQ };

/* Which field a CO-RE field-offset relocation (type_id, access string
 * "0:i:j...") names: the type's name and the member names on the way. */
static enum core_field core_classify(const struct btf *btf, uint32_t type_id, const char *access)
{
	static const struct { const char *path; enum core_field f; } known[] = {
		{ "task_struct.stack", CORE_TASK_STACK },
		{ "task_struct.se.cfs_rq", CORE_TASK_CFS_RQ },
		{ "cfs_rq.rq", CORE_CFS_RQ_RQ },
	};
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	char path[128];
	const char *p, *name;
	size_t len;
	int depth = 0;

	if (!access || strncmp(access, "0:", 2))
		return CORE_OTHER;
	for (int i = 0; t && i < 16 && (btf_is_typedef(t) || btf_is_mod(t)); i++)
		t = btf__type_by_id(btf, t->type);
	name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	if (!name || strlen(name) >= 64)
		return CORE_OTHER;
	len = (size_t)snprintf(path, sizeof(path), "%s", name);
	for (p = access + 2; *p && depth < 4; depth++) {
		unsigned long n = 0;
		const struct btf_member *m;

		for (int i = 0; t && i < 16 && (btf_is_typedef(t) || btf_is_mod(t)); i++)
			t = btf__type_by_id(btf, t->type);
		if (!t || !btf_is_struct(t) || *p < '0' || *p > '9')
			return CORE_OTHER;
		for (; *p >= '0' && *p <= '9' && n < 65536; p++)
			n = n * 10 + (unsigned long)(*p - '0');
		if (n >= btf_vlen(t) || (*p && *p != ':'))
			return CORE_OTHER;
		if (*p == ':')
			p++;
		m = btf_members(t) + n;
		name = btf__name_by_offset(btf, m->name_off);
		if (!name || len + 1 + strlen(name) >= sizeof(path))
			return CORE_OTHER;
		len += (size_t)snprintf(path + len, sizeof(path) - len, ".%s", name);
		t = btf__type_by_id(btf, m->type);
	}
	if (*p)
		return CORE_OTHER;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(path, known[i].path))
			return known[i].f;
	return CORE_OTHER;
}

static int load_core_relos(struct vobj *v)
{
	const struct vsec *bs = NULL, *es = NULL;
	struct btf_ext_hdr h = { 0 };
	libbpf_print_fn_t old_print;
	struct btf *btf;
	size_t i, off, end, rec;
	int r = 0;

	for (i = 1; i < v->nsec; i++) {
		if (!v->secs[i].data)
			continue;
		if (strcmp(v->secs[i].name, ".BTF") == 0)
			bs = &v->secs[i];
		else if (strcmp(v->secs[i].name, ".BTF.ext") == 0)
			es = &v->secs[i];
	}
	if (!es)
		return 0;
	memcpy(&h, es->data, es->size < sizeof(h) ? es->size : sizeof(h));
	if (es->size < 8 || h.magic != 0xeB9F || h.version != 1 || h.hdr_len > es->size)
		return vfail(v, -TG_EVERIFY, "section \".BTF.ext\": bad header");
	if (h.hdr_len < sizeof(h) || h.core_relo_len == 0)
		return 0;
	if (!bs)
		return vfail(v, -TG_EVERIFY, "section \".BTF.ext\": no \".BTF\" for its names");
	off = (size_t)h.hdr_len + h.core_relo_off;
	if (off > es->size || h.core_relo_len > es->size - off || h.core_relo_len < 4)
		return vfail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE relocations out of bounds");
	end = off + h.core_relo_len;
	rec = rd32(es->data + off);
	if (rec < 16 || rec > 1024)
		return vfail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE record size %zu", rec);
	off += 4;
	old_print = libbpf_set_print(NULL);
	btf = btf__new(bs->data, (uint32_t)bs->size);
	libbpf_set_print(old_print);
	if (!btf)
		return vfail(v, -TG_EVERIFY, "section \".BTF\": does not parse");
	while (off < end && r == 0) {
		uint32_t name_off, num;
		const char *sn;
		struct vsec *t = NULL;

		if (end - off < 8) {
			r = vfail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE section header cut short");
			break;
		}
		name_off = rd32(es->data + off);
		num = rd32(es->data + off + 4);
		off += 8;
		sn = btf__name_by_offset(btf, name_off);
		if (!sn || num > (end - off) / rec) {
			r = vfail(v, -TG_EVERIFY, "section \".BTF.ext\": bad CO-RE section");
			break;
		}
		for (i = 1; i < v->nsec; i++) {
			if (!v->secs[i].exec || strcmp(v->secs[i].name, sn))
				continue;
			if (t) {
				char b[VERIFY_NAME_MAX + 8];

				r = vfail(v, -TG_EVERIFY, "section \"%s\": two sections of that name have CO-RE relocations",
					  vname(sn, b));
				break;
			}
			t = &v->secs[i];
		}
		for (uint32_t k = 0; k < num && r == 0; k++, off += rec) {
			uint32_t insn_off = rd32(es->data + off), type_id = rd32(es->data + off + 4);
			uint32_t acc = rd32(es->data + off + 8), kind = rd32(es->data + off + 12);
			size_t idx = insn_off / sizeof(struct bpf_insn);

			if (!t || insn_off % sizeof(struct bpf_insn) || idx >= t->ninsns) {
				r = vfail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE relocation outside the code");
				break;
			}
			if (t->core[idx] == CORE_NONE && kind == CORE_FIELD_BYTE_OFFSET)
				t->core[idx] = (uint8_t)core_classify(btf, type_id, btf__name_by_offset(btf, acc));
			else
				t->core[idx] = CORE_OTHER;
		}
	}
	btf__free(btf);
	return r;
}

/* Whether the relocation of instruction i is the read-only global var:
 * that name, 8 bytes, in ".rodata" (frozen by libbpf before any program
 * loads, so the programs cannot change it). */
static bool reloc_is_rodata(struct vobj *v, const struct vsec *s, size_t i, const char *var)
{
	GElf_Sym sym;
	const char *name;

	if (s->relsym[i] < 0 || sym_get(v, (size_t)s->relsym[i], &sym, &name) < 0)
		return false;
	return strcmp(name, var) == 0 && GELF_ST_TYPE(sym.st_info) == STT_OBJECT &&
	       sym.st_size == 8 && sym.st_value % 8 == 0 && sym.st_shndx > 0 && sym.st_shndx < v->nsec &&
	       strcmp(v->secs[sym.st_shndx].name, ".rodata") == 0;
}

/* Whether the relocation of ld_imm64 instruction i names an object in
 * ".rodata"; *ret_off is the address it loads, as an offset into that
 * section (symbol + addend, as libbpf computes it) and *ret_size the
 * section's size.  Only ".rodata" itself: libbpf creates its map
 * BPF_F_RDONLY_PROG and freezes it, so no program and no user can change
 * it once loaded; .data, .bss and other sections stay writable. */
static bool reloc_rodata_off(struct vobj *v, const struct vsec *s, size_t i, int64_t *ret_off,
			     uint64_t *ret_size)
{
	struct bpf_insn in;
	GElf_Sym sym;
	const struct vsec *d;

	if (s->relsym[i] < 0 || sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
		return false;
	if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == 0 || sym.st_shndx >= v->nsec)
		return false;
	d = &v->secs[sym.st_shndx];
	if (strcmp(d->name, ".rodata") || d->sh.sh_type != SHT_PROGBITS || d->exec ||
	    sym.st_value > d->sh.sh_size || sym.st_size > d->sh.sh_size - sym.st_value)
		return false;
	insn_get(s, i, &in);
	*ret_off = (int64_t)sym.st_value + in.imm;
	*ret_size = d->sh.sh_size;
	return true;
}

/* Whether the relocation of instruction i names a map in ".maps" (a map
 * pointer, not data: only a helper call could use it). */
static bool reloc_is_map(struct vobj *v, const struct vsec *s, size_t i)
{
	GElf_Sym sym;

	if (s->relsym[i] < 0 || sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
		return false;
	return v->maps_idx && sym.st_shndx == v->maps_idx;
}

/* ---- the scope prologue ---------------------------------------------------- */

enum akind {
	A_UNK, A_CONST, A_FP, A_CGID, A_SCOPEMAP, A_LOOKUP,
	/* the scope pre-check: a pointer into .rodata (v: offset in it) */
	A_RODATAP,
	/* the interrupt check: the current task, its stack's base, a pointer
	 * to THREAD_SIZE, THREAD_SIZE, and base + THREAD_SIZE */
	A_TASK, A_KBASE, A_TSIZEP, A_TSIZE, A_KEND,
	/* ... and the preemption counter: task->se.cfs_rq, ->rq, pointers to
	 * and values of tg_rq_off and tg_pc_off, rq - rq_off (this CPU's
	 * per-CPU base), rq + pc_off, pc_off - rq_off, the counter's address,
	 * the read's return value, the counter, the counter & IRQ_MASK */
	A_CFSRQ, A_RQ, A_RQOFFP, A_RQOFF, A_PCOFFP, A_PCOFF, A_PCPU, A_RQPC, A_PCDELTA,
	A_PCADDR, A_READRET, A_PC, A_PCMASK,
};

struct aval {
	uint8_t kind;
	int64_t v;    /* A_CONST: the value; A_FP: offset from r10; A_RODATAP: offset in .rodata */
	uint64_t lim; /* A_RODATAP: size of .rodata */
};

struct astate {
	size_t pc;
	struct aval r[MAX_BPF_REG];
	uint8_t slot[VERIFY_STACK / 8];   /* the kind (not A_FP, A_CONST) per 8-byte stack slot */
	uint8_t phase;                    /* 0: scope check, 1: stack check, 2: preemption counter */
	bool lo_ok, hi_ok;                /* phase 1: frame >= stack base, frame < base + THREAD_SIZE */
	bool read_ok, mask_ok;            /* phase 2: the counter was read, and has no IRQ_MASK bit */
	bool pc_valid;                    /* phase 2: the counter is at r10 + pc_at (4 bytes) */
	int64_t pc_at;
};

struct prologue_walk {
	struct vobj *v;
	const struct vsec *s;
	const char *sn;
	const char *pn;
	size_t start, end;
	size_t steps;
	size_t in_scope_paths;    /* paths through both checks */
	size_t irq_paths;         /* paths past the scope check */
	uint8_t phase;            /* of the step being taken */
};

static int pfail(struct prologue_walk *w, size_t pc, const char *what)
{
	static const char scope[] = "the scope check";
	const char *at = w->phase ? strstr(what, scope) : NULL;

	if (at)
		return vfail(w->v, -TG_EVERIFY,
			     "section \"%s\" program \"%s\" instruction %zu: %.*sthe interrupt check%s", w->sn,
			     w->pn, pc, (int)(at - what), what, at + sizeof(scope) - 1);
	return vfail(w->v, -TG_EVERIFY, "section \"%s\" program \"%s\" instruction %zu: %s", w->sn, w->pn,
		     pc, what);
}

/* The address arithmetic of the counter, in any of the orders clang picks:
 * (rq - rq_off) + pc_off, (rq + pc_off) - rq_off, rq + (pc_off - rq_off). */
static uint8_t irq_arith(uint8_t op, uint8_t d, uint8_t s)
{
	if (op == BPF_SUB) {
		if (d == A_RQ && s == A_RQOFF)
			return A_PCPU;
		if (d == A_RQPC && s == A_RQOFF)
			return A_PCADDR;
		if (d == A_PCOFF && s == A_RQOFF)
			return A_PCDELTA;
		return A_UNK;
	}
	if ((d == A_PCPU && s == A_PCOFF) || (d == A_PCOFF && s == A_PCPU) ||
	    (d == A_RQ && s == A_PCDELTA) || (d == A_PCDELTA && s == A_RQ))
		return A_PCADDR;
	if ((d == A_RQ && s == A_PCOFF) || (d == A_PCOFF && s == A_RQ))
		return A_RQPC;
	return A_UNK;
}

/* Tests against a constant in the preemption-counter check: the side of
 * the branch on which the read succeeded (returned 0), or on which the
 * counter has none of the IRQ_MASK bits. */
static void irq_test(struct astate *taken, struct astate *fall, uint8_t cls, uint8_t op, uint8_t kind,
		     int32_t imm)
{
	if (kind == A_READRET && cls == BPF_JMP && imm == 0) {
		if (op == BPF_JEQ)
			taken->read_ok = true;
		else if (op == BPF_JNE)
			fall->read_ok = true;
	} else if (kind == A_PCMASK && imm == 0) {
		if (op == BPF_JEQ)
			taken->mask_ok = true;
		else if (op == BPF_JNE)
			fall->mask_ok = true;
	} else if (kind == A_PC && op == BPF_JSET && ((uint32_t)imm & IRQ_MASK) == IRQ_MASK) {
		fall->mask_ok = true;
	}
}

/* A comparison of the frame (r10 + k) with the stack's base or end: marks
 * the side of the branch (taken or fallen through) on which the frame is
 * known to be inside the task's stack.  Unsigned 64-bit compares only. */
static void irq_compare(struct astate *taken, struct astate *fall, uint8_t op, const struct aval *a,
			const struct aval *b)
{
	if (b->kind == A_FP && (a->kind == A_KBASE || a->kind == A_KEND)) {
		const struct aval *t = a;

		a = b;
		b = t;
		op = op == BPF_JGT ? BPF_JLT : op == BPF_JLT ? BPF_JGT :
		     op == BPF_JGE ? BPF_JLE : op == BPF_JLE ? BPF_JGE : op;
	}
	if (a->kind != A_FP || a->v < -VERIFY_STACK || a->v > 0)
		return;
	if (b->kind == A_KBASE) {
		if (op == BPF_JGE || op == BPF_JGT)
			taken->lo_ok = true;
		else if (op == BPF_JLT || op == BPF_JLE)
			fall->lo_ok = true;
	} else if (b->kind == A_KEND) {
		if (op == BPF_JLT)
			taken->hi_ok = true;
		else if (op == BPF_JGE)
			fall->hi_ok = true;
	}
}

static void slots_clobber(struct astate *st, int64_t off, int size)
{
	int64_t a;

	for (a = off; a < off + size; a++) {
		int64_t idx = (a + VERIFY_STACK) / 8;

		if (a >= -VERIFY_STACK && a < 0)
			st->slot[idx] = A_UNK;
	}
}

static int bpf_size_bytes(uint8_t code)
{
	switch (code & 0x18) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
	}
}

/* The instruction a step interprets, decoded once for the handlers. */
struct pinsn {
	struct bpf_insn in;
	size_t pc;
	uint8_t cls, op;
	struct aval *dst, *src;
};

/* The handlers of one instruction class (prologue_step's table): the
 * same returns as prologue_step. */
static int prologue_ld(struct prologue_walk *w, struct astate *st, struct astate *fork,
		       const struct pinsn *di)
{
	struct vobj *v = w->v;
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	struct aval *dst = di->dst;

	(void)fork;
	if (!is_ldimm64(&in))
		return pfail(w, pc, "packet load before the scope check");
	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (w->s->relsym[pc] >= 0) {
		if (st->phase == 0 && reloc_is_scope_map(v, w->s, pc))
			w->s->scope_ref_ok[pc] = true;
		dst->kind = reloc_is_scope_map(v, w->s, pc) ? A_SCOPEMAP :
			    reloc_is_rodata(v, w->s, pc, THREAD_SIZE_VAR) ? A_TSIZEP :
			    reloc_is_rodata(v, w->s, pc, RQ_OFF_VAR) ? A_RQOFFP :
			    reloc_is_rodata(v, w->s, pc, PC_OFF_VAR) ? A_PCOFFP : A_UNK;
		/* Before the scope lookup, data comes only from .rodata
		 * (the pre-check's ids); a map pointer stays unusable
		 * but for the lookup in the scope map. */
		if (st->phase == 0 && dst->kind == A_UNK) {
			if (reloc_rodata_off(v, w->s, pc, &dst->v, &dst->lim))
				dst->kind = A_RODATAP;
			else if (!reloc_is_map(v, w->s, pc))
				return pfail(w, pc, "load of an address outside \".rodata\" and the maps before the scope check");
		}
	} else {
		struct bpf_insn hi;

		insn_get(w->s, pc + 1, &hi);
		dst->kind = A_CONST;
		dst->v = (int64_t)(((uint64_t)(uint32_t)hi.imm << 32) | (uint32_t)in.imm);
	}
	st->pc = pc + 2;
	return 0;
}

static int prologue_ldx(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	struct aval *dst = di->dst, *src = di->src;

	(void)fork;
	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (src->kind == A_TASK || src->kind == A_CFSRQ) {
		uint8_t f = w->s->core[pc];

		if ((in.code & 0xe0) != BPF_MEM || bpf_size_bytes(in.code) != 8 ||
		    (src->kind == A_TASK && f != CORE_TASK_STACK && f != CORE_TASK_CFS_RQ) ||
		    (src->kind == A_CFSRQ && f != CORE_CFS_RQ_RQ))
			return pfail(w, pc, "load from the task is not \"stack\" or \"se.cfs_rq->rq\" (CO-RE) before the scope check");
		dst->kind = f == CORE_TASK_STACK ? A_KBASE : f == CORE_TASK_CFS_RQ ? A_CFSRQ : A_RQ;
		st->pc = pc + 1;
		return 0;
	}
	if ((src->kind == A_TSIZEP || src->kind == A_RQOFFP || src->kind == A_PCOFFP) &&
	    (in.code & 0xe0) == BPF_MEM && bpf_size_bytes(in.code) == 8 && in.off == 0 &&
	    w->s->core[pc] == CORE_NONE) {
		dst->kind = src->kind == A_TSIZEP ? A_TSIZE : src->kind == A_RQOFFP ? A_RQOFF : A_PCOFF;
		st->pc = pc + 1;
		return 0;
	}
	if (src->kind == A_FP && st->pc_valid && (in.code & 0xe0) == BPF_MEM &&
	    bpf_size_bytes(in.code) == 4 && src->v + in.off == st->pc_at) {
		dst->kind = A_PC;
		st->pc = pc + 1;
		return 0;
	}
	if (src->kind == A_FP && (in.code & 0xe0) == BPF_MEM && bpf_size_bytes(in.code) == 8) {
		int64_t a = src->v + in.off;

		if (a >= -VERIFY_STACK && a < 0 && a % 8 == 0) {
			dst->kind = st->slot[(a + VERIFY_STACK) / 8];
			st->pc = pc + 1;
			return 0;
		}
	}
	/* the scope check reads only the stack and .rodata */
	if (st->phase == 0 && src->kind != A_FP) {
		int64_t a = src->v + in.off;

		if (src->kind != A_RODATAP || (in.code & 0xe0) != BPF_MEM || a < 0 ||
		    (uint64_t)a + (uint64_t)bpf_size_bytes(in.code) > src->lim)
			return pfail(w, pc, "load from memory other than the stack or \".rodata\" before the scope check");
	}
	dst->kind = A_UNK;
	st->pc = pc + 1;
	return 0;
}

static int prologue_st(struct prologue_walk *w, struct astate *st, struct astate *fork,
		       const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls;
	struct aval *dst = di->dst, *src = di->src;
	int size = bpf_size_bytes(in.code);
	int64_t a;

	(void)fork;

	if ((in.code & 0xe0) != BPF_MEM)
		return pfail(w, pc, "atomic operation before the scope check");
	if (dst->kind != A_FP)
		return pfail(w, pc, "store outside the stack before the scope check");
	a = dst->v + in.off;
	if (a < -VERIFY_STACK || a + size > 0)
		return pfail(w, pc, "store outside the stack before the scope check");
	slots_clobber(st, a, size);
	if (st->pc_valid && a < st->pc_at + 4 && a + size > st->pc_at)
		st->pc_valid = false;
	if (cls == BPF_STX && size == 8 && a % 8 == 0 && src->kind != A_FP && src->kind != A_CONST &&
	    src->kind != A_RODATAP)
		st->slot[(a + VERIFY_STACK) / 8] = src->kind;
	st->pc = pc + 1;
	return 0;
}

static int prologue_alu(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls, op = di->op;
	struct aval *dst = di->dst, *src = di->src;
	bool is64 = cls == BPF_ALU64;
	bool k = BPF_SRC(in.code) == BPF_K;

	(void)fork;

	if (in.dst_reg == BPF_REG_10)
		return pfail(w, pc, "write to r10");
	if (op == BPF_MOV && in.off == 0) {
		if (k) {
			dst->kind = A_CONST;
			dst->v = is64 ? (int64_t)in.imm : (int64_t)(uint32_t)in.imm;
		} else if (is64) {
			*dst = *src;
		} else {
			dst->kind = src->kind == A_CONST ? A_CONST : A_UNK;
			dst->v = (int64_t)(uint32_t)src->v;
		}
	} else if (is64 && op == BPF_ADD && !k &&
		   ((dst->kind == A_KBASE && src->kind == A_TSIZE) ||
		    (dst->kind == A_TSIZE && src->kind == A_KBASE))) {
		dst->kind = A_KEND;
	} else if (is64 && !k && (op == BPF_ADD || op == BPF_SUB) &&
		   irq_arith(op, dst->kind, src->kind) != A_UNK) {
		dst->kind = irq_arith(op, dst->kind, src->kind);
	} else if (op == BPF_AND && k && dst->kind == A_PC &&
		   ((uint32_t)in.imm & IRQ_MASK) == IRQ_MASK) {
		dst->kind = A_PCMASK;
	} else if (is64 && (dst->kind == A_FP || dst->kind == A_RODATAP) &&
		   (op == BPF_ADD || op == BPF_SUB) && (k || src->kind == A_CONST)) {
		int64_t d = k ? (int64_t)in.imm : src->v;

		if (d > (1 << 20) || d < -(1 << 20))
			dst->kind = A_UNK;
		else
			dst->v += op == BPF_ADD ? d : -d;
	} else {
		dst->kind = A_UNK;
	}
	st->pc = pc + 1;
	return 0;
}

/* A helper call: only the checks' own helpers, each in its phase. */
static int prologue_call(struct prologue_walk *w, struct astate *st, const struct pinsn *di)
{
	struct vobj *v = w->v;
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	const char *hn;
	char hmsg[160];

	if (in.src_reg != 0 || w->s->relsym[pc] >= 0)
		return pfail(w, pc, "function call before the scope check");
	if (st->phase == 2 && in.imm == HELPER_READ_KERNEL && st->r[BPF_REG_1].kind == A_FP &&
	    st->r[BPF_REG_1].v >= -VERIFY_STACK && st->r[BPF_REG_1].v <= -4 &&
	    st->r[BPF_REG_2].kind == A_CONST && st->r[BPF_REG_2].v == 4 &&
	    st->r[BPF_REG_3].kind == A_PCADDR) {
		st->pc_at = st->r[BPF_REG_1].v;
		st->pc_valid = true;
		st->read_ok = st->mask_ok = false;
		slots_clobber(st, st->pc_at, 4);
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_READRET;
		w->s->task_call_ok[pc] = true;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 1 && in.imm == HELPER_TASK_BTF) {
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_TASK;
		w->s->task_call_ok[pc] = true;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 0 && in.imm == HELPER_ANCESTOR_CGID) {
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_CGID;
		st->pc = pc + 1;
		return 0;
	}
	if (st->phase == 0 && in.imm == HELPER_MAP_LOOKUP) {
		const struct aval *key = &st->r[BPF_REG_2];

		if (st->r[BPF_REG_1].kind != A_SCOPEMAP) {
			char msg[VERIFY_NAME_MAX + 80], b[VERIFY_NAME_MAX + 8];

			snprintf(msg, sizeof(msg), "map lookup before the scope check is not in \"%s\"",
				 vname(v->scope_map, b));
			return pfail(w, pc, msg);
		}
		if (key->kind != A_FP || key->v < -VERIFY_STACK || key->v > -8 || key->v % 8 ||
		    st->slot[(key->v + VERIFY_STACK) / 8] != A_CGID)
			return pfail(w, pc, "scope map lookup key is not the ancestor cgroup id");
		for (int r = BPF_REG_0; r <= BPF_REG_5; r++)
			st->r[r].kind = A_UNK;
		st->r[BPF_REG_0].kind = A_LOOKUP;
		st->pc = pc + 1;
		return 0;
	}
	hn = helper_name(in.imm);
	snprintf(hmsg, sizeof(hmsg), "helper \"bpf_%s\" (%d) called before the scope check",
		 hn ? hn : "?", in.imm);
	return pfail(w, pc, hmsg);
}

static int prologue_jmp(struct prologue_walk *w, struct astate *st, struct astate *fork,
			const struct pinsn *di)
{
	struct bpf_insn in = di->in;
	size_t pc = di->pc;
	uint8_t cls = di->cls, op = di->op;
	struct aval *dst = di->dst, *src = di->src;

	if (cls == BPF_JMP && op == BPF_CALL)
		return prologue_call(w, st, di);
	if (cls == BPF_JMP && op == BPF_EXIT) {
		if (st->r[BPF_REG_0].kind != A_CONST || st->r[BPF_REG_0].v != 0)
			return pfail(w, pc, "return before the scope check does not return 0");
		return 1;
	}
	if (op == BPF_JA) {
		int64_t off = cls == BPF_JMP32 ? in.imm : in.off;

		if (off < 0)
			return pfail(w, pc, "backward jump before the scope check");
		st->pc = pc + 1 + (size_t)off;
		return 0;
	}
	if (op == BPF_CALL || op == BPF_EXIT || op > BPF_JSLE)
		return pfail(w, pc, "unknown jump before the scope check");
	if (in.off < 0)
		return pfail(w, pc, "backward jump before the scope check");
	if (!fork)
		return pfail(w, pc, "scope check has too many branches to verify");
	/* A test of the lookup result against NULL decides the scope: the
	 * NULL side goes on in the scope check, the other in the interrupt
	 * check. */
	if (cls == BPF_JMP && BPF_SRC(in.code) == BPF_K && in.imm == 0 && dst->kind == A_LOOKUP &&
	    (op == BPF_JEQ || op == BPF_JNE)) {
		size_t null_pc = op == BPF_JEQ ? pc + 1 + (size_t)in.off : pc + 1;
		size_t in_pc = op == BPF_JEQ ? pc + 1 : pc + 1 + (size_t)in.off;

		w->irq_paths++;
		*fork = *st;
		fork->r[in.dst_reg].kind = A_UNK;
		fork->phase = 1;
		fork->pc = in_pc;
		dst->kind = A_CONST;
		dst->v = 0;
		st->pc = null_pc;
		return 2;
	}
	*fork = *st;
	fork->pc = pc + 1 + (size_t)in.off;
	st->pc = pc + 1;
	if (st->phase == 1 && cls == BPF_JMP && BPF_SRC(in.code) == BPF_X)
		irq_compare(fork, st, op, dst, src);
	if (st->phase == 2 && BPF_SRC(in.code) == BPF_K)
		irq_test(fork, st, cls, op, dst->kind, in.imm);
	return 2;
}

static int (*const prologue_class[8])(struct prologue_walk *w, struct astate *st, struct astate *fork,
				      const struct pinsn *di) = {
	[BPF_LD] = prologue_ld,
	[BPF_LDX] = prologue_ldx,
	[BPF_ST] = prologue_st,
	[BPF_STX] = prologue_st,
	[BPF_ALU] = prologue_alu,
	[BPF_ALU64] = prologue_alu,
	[BPF_JMP] = prologue_jmp,
	[BPF_JMP32] = prologue_jmp,
};

/*
 * One step of the abstract interpreter. Returns 0 to go on at st->pc,
 * 1 when this path is finished (returned 0, or entered the scope), 2 when
 * it forks (*fork gets the taken branch), < 0 to refuse.
 */
static int prologue_step(struct prologue_walk *w, struct astate *st, struct astate *fork)
{
	struct pinsn d;
	size_t pc = st->pc;

	if (st->phase == 1 && st->lo_ok && st->hi_ok)
		st->phase = 2;
	if (st->phase == 2 && st->read_ok && st->mask_ok) {
		/* the scope map's address serves the lookup only: none may
		 * reach the body, where a program could write the map */
		for (int r = 0; r < MAX_BPF_REG; r++)
			if (st->r[r].kind == A_SCOPEMAP)
				return pfail(w, pc, "the scope map's address is kept into the body, past the scope and interrupt checks");
		for (size_t k = 0; k < VERIFY_STACK / 8; k++)
			if (st->slot[k] == A_SCOPEMAP)
				return pfail(w, pc, "the scope map's address is kept into the body, past the scope and interrupt checks");
		w->in_scope_paths++;
		return 1;
	}
	w->phase = st->phase;
	if (pc < w->start || pc >= w->end)
		return pfail(w, pc, "the scope check runs off the end of the program");
	if (++w->steps > VERIFY_PROLOGUE_STEPS)
		return pfail(w, pc, "scope check too long to verify");
	insn_get(w->s, pc, &d.in);
	d.pc = pc;
	d.cls = d.in.code & 0x07;
	d.op = d.in.code & 0xf0;
	if (d.in.dst_reg >= MAX_BPF_REG || d.in.src_reg >= MAX_BPF_REG)
		return pfail(w, pc, "bad register before the scope check");
	d.dst = &st->r[d.in.dst_reg];
	d.src = &st->r[d.in.src_reg];
	if (!prologue_class[d.cls])
		return pfail(w, pc, "unknown instruction before the scope check");
	return prologue_class[d.cls](w, st, fork, &d);
}

static int check_prologue(struct vobj *v, const struct vsec *s, const char *pname, size_t start,
			  size_t end)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8];
	struct prologue_walk w = { .v = v, .s = s, .sn = vname(s->name, b), .pn = vname(pname, b2),
				   .start = start, .end = end };
	_cleanup_free_ struct astate *stack = NULL;
	size_t depth = 0;

	stack = calloc(VERIFY_PROLOGUE_PATHS, sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	stack[0].pc = start;
	stack[0].r[BPF_REG_10].kind = A_FP;
	depth = 1;
	while (depth > 0) {
		struct astate *st = &stack[depth - 1];
		int r;

		r = prologue_step(&w, st, depth < VERIFY_PROLOGUE_PATHS ? &stack[depth] : NULL);
		if (r < 0)
			return r;
		if (r == 1) {
			depth--;
		} else if (r == 2) {
			if (depth >= VERIFY_PROLOGUE_PATHS)
				return pfail(&w, st->pc - 1, "scope check has too many branches to verify");
			/* stack[depth] holds the taken branch; it runs first */
			depth++;
		}
	}
	w.phase = 0;
	if (w.in_scope_paths == 0 && w.irq_paths)
		return pfail(&w, start, "no interrupt check after the scope check (the frame within the task's stack, "
			     "then this CPU's preemption counter without NMI, hardirq or softirq bits)");
	if (w.in_scope_paths == 0)
		return pfail(&w, start, "no scope check (lookup of the ancestor cgroup id in the scope map)");
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

				insn_get(s, k, &in);
				return vfail(v, -TG_EVERIFY,
					     "section \"%s\" instruction %zu: helper \"bpf_%s\" (%d) is not allowed",
					     vname(s->name, b), k, helper_name(in.imm), in.imm);
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
		return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu (a subprogram of section \"%s\"): %s",
			     vname(s->name, b), i, vname(v->secs[origin].name, b2), what);
	return vfail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: %s", vname(s->name, b), i, what);
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

	insn_get(s, i, &in);
	if (s->relsym[i] >= 0) {
		r = sym_get(v, (size_t)s->relsym[i], &sym, &symname);
		if (r < 0)
			return r;
	}
	if (is_ldimm64(&in)) {
		if (s->relsym[i] >= 0 && reloc_is_scope_map(v, s, i))
			return ufail(v, s, i, org, "the scope map \"%s\" is used %s", vname(v->scope_map, b),
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
	if (!is_call(&in))
		return 0;
	if (s->relsym[i] >= 0) {
		if (sym.st_shndx == SHN_UNDEF)
			return ufail(v, s, i, org, "kfunc call to \"%s\" is not allowed %s", vname(symname, b),
				     UNSCOPED_WHY);
		/* libbpf: the callee is sym + imm + 1 instructions into .text */
		if (sym.st_shndx == v->text_idx || in_text)
			return ureach_push(v, u, s, i, origin,
					   (int64_t)(sym.st_value / sizeof(struct bpf_insn)) + in.imm + 1);
		return 0;   /* into this section, which is checked whole */
	}
	if (in.src_reg == BPF_PSEUDO_CALL)
		return in_text ? ureach_push(v, u, s, i, origin, (int64_t)i + 1 + in.imm) : 0;
	if (in.src_reg == 0 && helper_name(in.imm) && !v->unscoped_ok[in.imm])
		return ufail(v, s, i, org, "helper \"bpf_%s\" (%d) is not allowed %s", helper_name(in.imm), in.imm,
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
		insn_get(t, k, &in);
		cls = in.code & 0x07;
		op = in.code & 0xf0;
		if (is_ldimm64(&in))
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
			/* check_section proved jumps land on instructions; running
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
			insn_get(s, k, &in);
			if (is_ldimm64(&in) && reloc_is_scope_map(v, s, k))
				return vfail(v, -TG_EVERIFY,
					     "section \"%s\" instruction %zu: the scope map \"%s\" is used outside the scope check",
					     vname(s->name, b), k, vname(v->scope_map, b2));
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
		r = sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (sym.st_shndx != sidx || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		if (sym.st_value % sizeof(struct bpf_insn) || sym.st_size % sizeof(struct bpf_insn) ||
		    sym.st_size == 0 || sym.st_value > s->size || sym.st_size > s->size - sym.st_value)
			return vfail(v, -TG_EVERIFY, "section \"%s\": program \"%s\" has bad bounds",
				     vname(s->name, b), name);
		nprog++;
		if (s->second[sym.st_value / sizeof(struct bpf_insn)])
			return vfail(v, -TG_EVERIFY, "section \"%s\": program \"%s\" starts inside an instruction",
				     vname(s->name, b), name);
		r = check_prologue(v, s, name, sym.st_value / sizeof(struct bpf_insn),
				   (sym.st_value + sym.st_size) / sizeof(struct bpf_insn));
		if (r < 0)
			return r;
	}
	if (nprog == 0 && s->ninsns)
		return vfail(v, -TG_EVERIFY, "section \"%s\": code without a program symbol", vname(s->name, b));
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
		return vfail(v, -TG_EVERIFY, "object: %zu bytes is too short for an ELF header", len);
	if (len > VERIFY_MAX_OBJECT)
		return vfail(v, -TG_EVERIFY, "object: %zu bytes (limit %u)", len, VERIFY_MAX_OBJECT);
	if (memcmp(elf, ELFMAG, SELFMAG) != 0)
		return vfail(v, -TG_EVERIFY, "object: not an ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return vfail(v, -EINVAL, "libelf: %s", elf_errmsg(-1));
	/* libelf may convert in place: it gets our own copy */
	memcpy(copy, elf, len);
	v->elf = elf_memory(copy, len);
	if (!v->elf || elf_kind(v->elf) != ELF_K_ELF)
		return vfail(v, -TG_EVERIFY, "object: not an ELF file: %s", elf_errmsg(-1));
	if (!gelf_getehdr(v->elf, &eh))
		return vfail(v, -TG_EVERIFY, "object: bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_BPF || eh.e_type != ET_REL)
		return vfail(v, -TG_EVERIFY, "object: not a little-endian 64-bit BPF relocatable object");
	r = load_sections(v, len);
	if (r < 0)
		return r;
	r = load_relocations(v);
	if (r < 0)
		return r;
	if (v->require_scope) {
		r = find_scope_map(v);
		if (r < 0)
			return r;
		r = load_core_relos(v);
		if (r < 0)
			return r;
	}
	for (i = 1; i < v->nsec; i++) {
		if (!v->secs[i].exec)
			continue;
		r = check_section(v, &v->secs[i]);
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
		return vfail(&v, -EINVAL, "verify: bad options");
	v.o = opts;
	v.allowed = OPTS_GET(opts, allowed_helpers, NULL) ? opts->allowed_helpers : v.allowed;
	v.require_scope = OPTS_GET(opts, require_scope, true);
	v.scope_map = OPTS_GET(opts, scope_map, NULL) ? opts->scope_map : v.scope_map;
	if (!elf)
		return vfail(&v, -EINVAL, "object: none given");
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
