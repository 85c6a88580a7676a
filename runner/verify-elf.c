// SPDX-License-Identifier: Apache-2.0
/*
 * The object verifier's reader of the object (runner/verify-int.h): the
 * ELF sections, the symbol table, the relocations of the code, the scope
 * map's symbol and BTF, the CO-RE relocations of .BTF.ext, and the check of
 * every instruction (helpers allowed, no kfunc, no extern); with the
 * messages (verify_fail, verify_name) and the helper names every verifier
 * file uses.  It calls nothing of verify.c or verify-prologue.c.
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
#include "lib/errors.h"
#include "runner/verify-int.h"
#include "lib/banned.h"


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
_Static_assert(ARRAY_SIZE(helper_names) == HELPER_COUNT, "HELPER_COUNT (verify-int.h) counts helper_names");

/* ---- errors ------------------------------------------------------------- */

int verify_fail(struct vobj *v, int r, const char *fmt, ...)
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
const char *verify_name(const char *s, char out[VERIFY_NAME_MAX + 8])
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

const char *verify_helper_name(int64_t id)
{
	if (id < 0 || (uint64_t)id >= HELPER_COUNT || !helper_names[id])
		return NULL;
	return helper_names[id];
}

/* ---- the allow-list ------------------------------------------------------- */

/* The id of helper n ("bpf_map_lookup_elem" or "map_lookup_elem"), or 0. */
size_t verify_helper_id(const char *n)
{
	if (strncmp(n, "bpf_", 4) == 0)
		n += 4;
	for (size_t k = 1; k < HELPER_COUNT; k++)
		if (helper_names[k] && strcmp(helper_names[k], n) == 0)
			return k;
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

int verify_sym_get(struct vobj *v, size_t idx, GElf_Sym *sym, const char **name)
{
	const char *n;

	if (idx >= v->nsyms || !gelf_getsym(v->symdata, (int)idx, sym))
		return verify_fail(v, -TG_EVERIFY, "symbol %zu: out of range", idx);
	n = elf_strptr(v->elf, v->strtab, sym->st_name);
	if (name)
		*name = n ? n : "";
	return 0;
}

int verify_load_sections(struct vobj *v, size_t len)
{
	size_t shstrndx, i;
	Elf_Scn *scn;

	if (elf_getshdrnum(v->elf, &v->nsec) < 0 || elf_getshdrstrndx(v->elf, &shstrndx) < 0)
		return verify_fail(v, -TG_EVERIFY, "object: bad section header table: %s", elf_errmsg(-1));
	if (v->nsec == 0 || v->nsec > VERIFY_MAX_SECTIONS)
		return verify_fail(v, -TG_EVERIFY, "object: %zu sections (limit %d)", v->nsec, VERIFY_MAX_SECTIONS);
	if (shstrndx == 0 || shstrndx >= v->nsec)
		return verify_fail(v, -TG_EVERIFY, "object: section name table index %zu out of range", shstrndx);
	v->secs = calloc(v->nsec, sizeof(*v->secs));
	if (!v->secs)
		return -ENOMEM;
	for (i = 1; i < v->nsec; i++) {
		struct vsec *s = &v->secs[i];
		Elf_Data *d;

		scn = elf_getscn(v->elf, i);
		if (!scn || !gelf_getshdr(scn, &s->sh))
			return verify_fail(v, -TG_EVERIFY, "section %zu: unreadable header: %s", i, elf_errmsg(-1));
		s->name = elf_strptr(v->elf, shstrndx, s->sh.sh_name);
		if (!s->name)
			return verify_fail(v, -TG_EVERIFY, "section %zu: name out of range", i);
		if (s->sh.sh_type != SHT_NOBITS &&
		    (s->sh.sh_offset > len || s->sh.sh_size > len - s->sh.sh_offset)) {
			char b[VERIFY_NAME_MAX + 8];

			return verify_fail(v, -TG_EVERIFY,
					   "section \"%s\": offset %llu size %llu beyond the object (%zu bytes)",
					   verify_name(s->name, b), (unsigned long long)s->sh.sh_offset,
					   (unsigned long long)s->sh.sh_size, len);
		}
		if (s->sh.sh_type == SHT_NOBITS || s->sh.sh_size == 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || (d->d_size && !d->d_buf) || d->d_size != s->sh.sh_size || elf_getdata(scn, d)) {
			char b[VERIFY_NAME_MAX + 8];

			return verify_fail(v, -TG_EVERIFY, "section \"%s\": unreadable data: %s", verify_name(s->name, b),
					   elf_errmsg(-1));
		}
		s->d = d;
		s->data = d->d_buf;
		s->size = d->d_size;
		if (s->sh.sh_type == SHT_SYMTAB) {
			if (v->symdata)
				return verify_fail(v, -TG_EVERIFY, "object: more than one symbol table");
			if (s->sh.sh_entsize != sizeof(Elf64_Sym) || s->size % sizeof(Elf64_Sym))
				return verify_fail(v, -TG_EVERIFY, "symbol table: bad entry size");
			v->symdata = d;
			v->nsyms = s->size / sizeof(Elf64_Sym);
			v->strtab = s->sh.sh_link;
			if (v->nsyms > VERIFY_MAX_SYMBOLS)
				return verify_fail(v, -TG_EVERIFY, "symbol table: %zu symbols (limit %u)", v->nsyms,
						   VERIFY_MAX_SYMBOLS);
		}
	}
	if (!v->symdata)
		return verify_fail(v, -TG_EVERIFY, "object: no symbol table");
	if (v->strtab == 0 || v->strtab >= v->nsec || v->secs[v->strtab].sh.sh_type != SHT_STRTAB)
		return verify_fail(v, -TG_EVERIFY, "symbol table: string table index %zu is not a string table",
				   v->strtab);
	for (i = 1; i < v->nsec; i++) {
		struct vsec *s = &v->secs[i];
		char b[VERIFY_NAME_MAX + 8];

		if (strcmp(s->name, ".maps") == 0) {
			if (v->maps_idx)
				return verify_fail(v, -TG_EVERIFY, "object: more than one \".maps\" section");
			v->maps_idx = i;
		}
		if (!(s->sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (s->sh.sh_type != SHT_PROGBITS)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": executable but not PROGBITS",
					   verify_name(s->name, b));
		if (s->size % sizeof(struct bpf_insn))
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": size %zu is not a whole number of instructions",
					   verify_name(s->name, b), s->size);
		s->exec = true;
		s->ninsns = s->size / sizeof(struct bpf_insn);
		if (s->ninsns > VERIFY_MAX_INSNS)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": %zu instructions (limit %u)",
					   verify_name(s->name, b), s->ninsns, VERIFY_MAX_INSNS);
		if (s->ninsns > VERIFY_MAX_JUMP_REACH)
			return verify_fail(v, -TG_EVERIFY,
					   "section \"%s\": %zu instructions, more than a 16-bit jump offset reaches (%u): "
					   "a jump in it may have been truncated", verify_name(s->name, b), s->ninsns,
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

int verify_load_relocations(struct vobj *v)
{
	size_t i, k;

	for (i = 1; i < v->nsec; i++) {
		struct vsec *r = &v->secs[i], *t;
		char b[VERIFY_NAME_MAX + 8];
		size_t n;

		if (r->sh.sh_type == SHT_RELA)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": RELA relocations are not used by BPF",
					   verify_name(r->name, b));
		if (r->sh.sh_type != SHT_REL)
			continue;
		if (r->sh.sh_info == 0 || r->sh.sh_info >= v->nsec)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": relocates section %u, out of range",
					   verify_name(r->name, b), (unsigned)r->sh.sh_info);
		t = &v->secs[r->sh.sh_info];
		if (!t->exec)
			continue; /* BTF and data relocations: nothing executes there */
		if (r->sh.sh_link >= v->nsec || v->secs[r->sh.sh_link].sh.sh_type != SHT_SYMTAB)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": does not use the symbol table",
					   verify_name(r->name, b));
		if (t->rel_from)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": relocated twice", verify_name(t->name, b));
		t->rel_from = (int)i;
		if (r->sh.sh_entsize != sizeof(Elf64_Rel) || r->size % sizeof(Elf64_Rel))
			return verify_fail(v, -TG_EVERIFY, "section \"%s\": bad relocation entry size", verify_name(r->name, b));
		n = r->size / sizeof(Elf64_Rel);
		for (k = 0; k < n; k++) {
			GElf_Rel rel;
			size_t sym, ins;

			if (!r->d || !gelf_getrel(r->d, (int)k, &rel))
				return verify_fail(v, -TG_EVERIFY, "section \"%s\": relocation %zu unreadable",
						   verify_name(r->name, b), k);
			sym = GELF_R_SYM(rel.r_info);
			if (rel.r_offset % sizeof(struct bpf_insn) || rel.r_offset / sizeof(struct bpf_insn) >= t->ninsns)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\": relocation %zu at offset %llu outside the code",
						   verify_name(r->name, b), k, (unsigned long long)rel.r_offset);
			if (sym == 0 || sym >= v->nsyms)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\": relocation %zu names symbol %zu, out of range",
						   verify_name(r->name, b), k, sym);
			ins = rel.r_offset / sizeof(struct bpf_insn);
			if (t->relsym[ins] >= 0)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: relocated twice",
						   verify_name(t->name, b), ins);
			t->relsym[ins] = (int32_t)sym;
		}
	}
	return 0;
}

/* The scope map: one symbol of that name, in .maps, and BTF that agrees. */
int verify_find_scope_map(struct vobj *v)
{
	const struct vsec *btfsec = NULL;
	GElf_Sym sym, found = { 0 };
	const char *name;
	size_t i, hits = 0;
	char b[VERIFY_NAME_MAX + 8];
	int r;

	for (i = 1; i < v->nsyms; i++) {
		r = verify_sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (strcmp(name, v->scope_map) == 0) {
			hits++;
			found = sym;
		}
	}
	if (hits == 0)
		return verify_fail(v, -TG_EVERIFY, "object: scope map \"%s\" is not defined", verify_name(v->scope_map, b));
	if (hits > 1)
		return verify_fail(v, -TG_EVERIFY, "object: scope map \"%s\" is defined %zu times",
				   verify_name(v->scope_map, b), hits);
	if (!v->maps_idx || found.st_shndx != v->maps_idx || GELF_ST_TYPE(found.st_info) != STT_OBJECT)
		return verify_fail(v, -TG_EVERIFY, "object: scope map \"%s\" is not a map in \".maps\"",
				   verify_name(v->scope_map, b));
	v->scope_off = found.st_value;
	/* No other symbol may alias the same map under another name. */
	for (i = 1; i < v->nsyms; i++) {
		r = verify_sym_get(v, i, &sym, &name);
		if (r < 0)
			return r;
		if (sym.st_shndx == v->maps_idx && sym.st_value == v->scope_off &&
		    GELF_ST_TYPE(sym.st_info) != STT_SECTION && strcmp(name, v->scope_map) != 0)
			return verify_fail(v, -TG_EVERIFY, "object: symbol \"%s\" aliases the scope map",
					   verify_name(name, b));
	}
	/* libbpf names maps from BTF: the .maps DATASEC var of that name must
	 * sit where the symbol does (or be placed by it when size is 0). */
	for (i = 1; i < v->nsec; i++)
		if (strcmp(v->secs[i].name, ".BTF") == 0 && v->secs[i].data)
			btfsec = &v->secs[i];
	if (!btfsec)
		return verify_fail(v, -TG_EVERIFY, "object: no \".BTF\" section to name the maps");
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
			return verify_fail(v, -TG_EVERIFY, "section \".BTF\": does not parse");
		id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
		ds = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
		if (!ds) {
			btf__free(btf);
			return verify_fail(v, -TG_EVERIFY, "section \".BTF\": no \".maps\" data section");
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
			return verify_fail(v, -TG_EVERIFY, "section \".BTF\": map \"%s\" does not match its symbol",
					   verify_name(v->scope_map, b));
	}
	v->scope_found = true;
	return 0;
}

/* ---- instructions --------------------------------------------------------- */

void verify_insn_get(const struct vsec *s, size_t i, struct bpf_insn *in)
{
	memcpy(in, s->data + i * sizeof(*in), sizeof(*in));
}

bool verify_is_ldimm64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_DW | BPF_IMM);
}

bool verify_is_call(const struct bpf_insn *in)
{
	return (in->code & 0x07) == BPF_JMP && (in->code & 0xf0) == BPF_CALL;
}

/* Whether the relocation symbol of instruction i is the scope map. */
bool verify_reloc_is_scope_map(struct vobj *v, const struct vsec *s, size_t i)
{
	GElf_Sym sym;

	if (!v->scope_found || s->relsym[i] < 0 || verify_sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
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
	return verify_is_ldimm64(in) && name && strcmp(name, USDT_KCONFIG_EXTERN) == 0 &&
	       GELF_ST_TYPE(sym->st_info) == STT_NOTYPE &&
	       (GELF_ST_BIND(sym->st_info) == STB_GLOBAL || GELF_ST_BIND(sym->st_info) == STB_WEAK);
}

/* Every instruction of every executable section: helper ids allowed, no
 * kfunc, no extern, no pre-resolved pseudo loads, relocations only where
 * libbpf applies them. */
int verify_check_section(struct vobj *v, struct vsec *s)
{
	char b[VERIFY_NAME_MAX + 8], b2[VERIFY_NAME_MAX + 8];
	const char *sn = verify_name(s->name, b);
	size_t i;

	for (i = 0; i < s->ninsns; i++) {
		struct bpf_insn in;
		GElf_Sym sym = { 0 };
		const char *symname = NULL;
		int r;

		verify_insn_get(s, i, &in);
		if (s->relsym[i] >= 0) {
			r = verify_sym_get(v, (size_t)s->relsym[i], &sym, &symname);
			if (r < 0)
				return r;
			if (sym.st_shndx == SHN_UNDEF) {
				if (verify_is_call(&in) && kfunc_allowed(v, symname))
					continue;
				if (usdt_kconfig(&in, &sym, symname))
					goto ldimm64;
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: %s \"%s\" is not allowed",
						   sn, i, verify_is_call(&in) ? "kfunc call to" : "extern symbol",
						   verify_name(symname, b2));
			}
			if (sym.st_shndx >= v->nsec && sym.st_shndx < SHN_LORESERVE)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: symbol section out of range",
						   sn, i);
			if (!verify_is_call(&in) && !verify_is_ldimm64(&in))
				return verify_fail(v, -TG_EVERIFY,
						   "section \"%s\" instruction %zu: relocation on an instruction that is neither a call nor a 64-bit load",
						   sn, i);
		}
ldimm64:
		if (verify_is_ldimm64(&in)) {
			struct bpf_insn hi;

			if (i + 1 >= s->ninsns)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: 64-bit load cut short", sn, i);
			verify_insn_get(s, i + 1, &hi);
			if (hi.code || hi.dst_reg || hi.src_reg || hi.off || s->relsym[i + 1] >= 0)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed 64-bit load", sn, i);
			if (in.src_reg != 0)
				return verify_fail(v, -TG_EVERIFY,
						   "section \"%s\" instruction %zu: pre-resolved pseudo load (src %u) is not allowed",
						   sn, i, in.src_reg);
			s->second[i + 1] = true;
			i++;
			continue;
		}
		if ((in.code & 0x07) == BPF_JMP32 && (in.code & 0xf0) == BPF_CALL)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed call", sn, i);
		if (!verify_is_call(&in))
			continue;
		if (s->relsym[i] >= 0) {
			/* bpf-to-bpf call into .text or this section */
			if (in.src_reg != BPF_PSEUDO_CALL ||
			    (sym.st_shndx != v->text_idx && sym.st_shndx != (size_t)(s - v->secs)) ||
			    !v->secs[sym.st_shndx].exec)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: call to \"%s\" is not a subprogram call",
						   sn, i, verify_name(symname, b2));
			continue;
		}
		if (in.src_reg == BPF_PSEUDO_CALL) {
			int64_t t = (int64_t)i + 1 + in.imm;

			if (t < 0 || (uint64_t)t >= s->ninsns)
				return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: call target outside the section",
						   sn, i);
			continue;
		}
		if (in.src_reg == BPF_PSEUDO_KFUNC_CALL)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: kfunc call (btf id %d) is not allowed",
					   sn, i, in.imm);
		if (in.src_reg != 0 || in.dst_reg || in.off)
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: malformed call", sn, i);
		if (!verify_helper_name(in.imm))
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: unknown helper %d", sn, i, in.imm);
		if (!v->helper_ok[in.imm] && v->require_scope &&
		    (in.imm == HELPER_TASK_BTF || in.imm == HELPER_READ_KERNEL)) {
			/* allowed only as the interrupt check's own call, which
			 * the prologue walk marks (see check_task_calls) */
			s->task_call[i] = true;
			continue;
		}
		if (!v->helper_ok[in.imm])
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: helper \"bpf_%s\" (%d) is not allowed",
					   sn, i, verify_helper_name(in.imm), in.imm);
	}
	for (i = 0; i < s->ninsns; i++) {
		struct bpf_insn in;
		uint8_t cls;
		int64_t t;

		/* jumps must land on an instruction, not inside a 64-bit load */
		verify_insn_get(s, i, &in);
		cls = in.code & 0x07;
		if (s->second[i] || (cls != BPF_JMP && cls != BPF_JMP32) || verify_is_call(&in) ||
		    (in.code & 0xf0) == BPF_EXIT)
			continue;
		t = (int64_t)i + 1 + ((cls == BPF_JMP32 && (in.code & 0xf0) == BPF_JA) ? in.imm : in.off);
		if (t < 0 || (uint64_t)t >= s->ninsns || s->second[t])
			return verify_fail(v, -TG_EVERIFY, "section \"%s\" instruction %zu: jump to %lld lands outside the code",
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

int verify_load_core_relos(struct vobj *v)
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
		return verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": bad header");
	if (h.hdr_len < sizeof(h) || h.core_relo_len == 0)
		return 0;
	if (!bs)
		return verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": no \".BTF\" for its names");
	off = (size_t)h.hdr_len + h.core_relo_off;
	if (off > es->size || h.core_relo_len > es->size - off || h.core_relo_len < 4)
		return verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE relocations out of bounds");
	end = off + h.core_relo_len;
	rec = rd32(es->data + off);
	if (rec < 16 || rec > 1024)
		return verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE record size %zu", rec);
	off += 4;
	old_print = libbpf_set_print(NULL);
	btf = btf__new(bs->data, (uint32_t)bs->size);
	libbpf_set_print(old_print);
	if (!btf)
		return verify_fail(v, -TG_EVERIFY, "section \".BTF\": does not parse");
	while (off < end && r == 0) {
		uint32_t name_off, num;
		const char *sn;
		struct vsec *t = NULL;

		if (end - off < 8) {
			r = verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE section header cut short");
			break;
		}
		name_off = rd32(es->data + off);
		num = rd32(es->data + off + 4);
		off += 8;
		sn = btf__name_by_offset(btf, name_off);
		if (!sn || num > (end - off) / rec) {
			r = verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": bad CO-RE section");
			break;
		}
		for (i = 1; i < v->nsec; i++) {
			if (!v->secs[i].exec || strcmp(v->secs[i].name, sn))
				continue;
			if (t) {
				char b[VERIFY_NAME_MAX + 8];

				r = verify_fail(v, -TG_EVERIFY, "section \"%s\": two sections of that name have CO-RE relocations",
						verify_name(sn, b));
				break;
			}
			t = &v->secs[i];
		}
		for (uint32_t k = 0; k < num && r == 0; k++, off += rec) {
			uint32_t insn_off = rd32(es->data + off), type_id = rd32(es->data + off + 4);
			uint32_t acc = rd32(es->data + off + 8), kind = rd32(es->data + off + 12);
			size_t idx = insn_off / sizeof(struct bpf_insn);

			if (!t || insn_off % sizeof(struct bpf_insn) || idx >= t->ninsns) {
				r = verify_fail(v, -TG_EVERIFY, "section \".BTF.ext\": CO-RE relocation outside the code");
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
bool verify_reloc_is_rodata(struct vobj *v, const struct vsec *s, size_t i, const char *var)
{
	GElf_Sym sym;
	const char *name;

	if (s->relsym[i] < 0 || verify_sym_get(v, (size_t)s->relsym[i], &sym, &name) < 0)
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
bool verify_reloc_rodata_off(struct vobj *v, const struct vsec *s, size_t i, int64_t *ret_off,
			     uint64_t *ret_size)
{
	struct bpf_insn in;
	GElf_Sym sym;
	const struct vsec *d;

	if (s->relsym[i] < 0 || verify_sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
		return false;
	if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == 0 || sym.st_shndx >= v->nsec)
		return false;
	d = &v->secs[sym.st_shndx];
	if (strcmp(d->name, ".rodata") || d->sh.sh_type != SHT_PROGBITS || d->exec ||
	    sym.st_value > d->sh.sh_size || sym.st_size > d->sh.sh_size - sym.st_value)
		return false;
	verify_insn_get(s, i, &in);
	*ret_off = (int64_t)sym.st_value + in.imm;
	*ret_size = d->sh.sh_size;
	return true;
}

/* Whether the relocation of instruction i names a map in ".maps" (a map
 * pointer, not data: only a helper call could use it). */
bool verify_reloc_is_map(struct vobj *v, const struct vsec *s, size_t i)
{
	GElf_Sym sym;

	if (s->relsym[i] < 0 || verify_sym_get(v, (size_t)s->relsym[i], &sym, NULL) < 0)
		return false;
	return v->maps_idx && sym.st_shndx == v->maps_idx;
}
