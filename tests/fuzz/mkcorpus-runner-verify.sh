#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates part of the seed corpus of fuzz-runner-verify: real objects
# compiled by clang -O2 -g -target bpf from small BPF C files (a correct
# scoped object in the engine's prologue shape, docs/internals/runner.md,
# and hostile ones), plus truncated and mutated copies.  The output is
# deterministic for one clang; run it by hand, then commit the corpus.
#
#   tests/fuzz/mkcorpus-runner-verify.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-tests/fuzz/corpus/runner-verify}
tmp=$(mktemp -d /tmp/tg-mkcorpus-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

cat > "$tmp/prelude.h" <<'EOF'
typedef unsigned long long __u64; typedef unsigned int __u32; typedef unsigned char __u8;
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *k, const void *v, __u64 f) = (void *)2;
static long (*bpf_tail_call)(void *ctx, void *map, __u32 i) = (void *)12;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_probe_write_user)(void *dst, const void *src, __u32 len) = (void *)36;
static long (*bpf_send_signal)(__u32 sig) = (void *)109;
static __u64 (*bpf_get_current_ancestor_cgroup_id)(int level) = (void *)123;
static void *(*bpf_ringbuf_reserve)(void *rb, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
struct { __uint(type, 1); __uint(max_entries, 256); __type(key, __u64); __type(value, __u8); } tg_scope SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 256); __type(key, __u64); __type(value, __u8); } tg_other SEC(".maps");
struct { __uint(type, 27); __uint(max_entries, 4096); } tg_events SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
#define PROLOGUE \
	__u64 tg_cgid; \
	tg_cgid = bpf_get_current_ancestor_cgroup_id(3); \
	if (bpf_map_lookup_elem(&tg_scope, &tg_cgid)) goto tg_in_scope; \
	tg_cgid = bpf_get_current_ancestor_cgroup_id(4); \
	if (bpf_map_lookup_elem(&tg_scope, &tg_cgid)) goto tg_in_scope; \
	return 0; \
tg_in_scope: ;
#define EMIT(x) do { __u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0); \
	if (!e) return 0; e[0] = tg_cgid; e[1] = (x); bpf_ringbuf_submit(e, 0); } while (0)
EOF

src() { # name, then the C body on stdin
	{ echo '#include "prelude.h"'; cat; } > "$tmp/$1.c"
	timeout 60 clang -O2 -g -target bpf -c "$tmp/$1.c" -o "$tmp/$1.o"
	cp "$tmp/$1.o" "$out/$1.o"
}

src good <<'EOF'
SEC("tracepoint/syscalls/sys_enter_openat")
int tg_p0(void *ctx) { PROLOGUE EMIT(bpf_get_current_pid_tgid()); return 0; }
SEC("perf_event")
int tg_p1(void *ctx) { PROLOGUE __u8 one = 1; bpf_map_update_elem(&tg_other, &tg_cgid, &one, 0); return 0; }
SEC("tg_begin")
int tg_prog_begin(void *ctx) { __u64 *e = bpf_ringbuf_reserve(&tg_events, 16, 0); if (!e) return 0; e[0] = 0; e[1] = 1; bpf_ringbuf_submit(e, 0); return 0; }
SEC("tg_end")
int tg_prog_end(void *ctx) { return 0; }
EOF
src good-one-level <<'EOF'
SEC("uprobe")
int tg_p0(void *ctx)
{
	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(2);
	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid))
		return 0;
	EMIT(1);
	return 0;
}
EOF
src helper-first <<'EOF'
SEC("tracepoint/syscalls/sys_enter_read")
int tg_p0(void *ctx) { __u64 pid = bpf_get_current_pid_tgid(); PROLOGUE EMIT(pid); return 0; }
EOF
src other-map <<'EOF'
SEC("tracepoint/syscalls/sys_enter_read")
int tg_p0(void *ctx)
{
	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);
	if (!bpf_map_lookup_elem(&tg_other, &tg_cgid)) return 0;
	EMIT(1);
	return 0;
}
EOF
src const-key <<'EOF'
SEC("tracepoint/syscalls/sys_enter_read")
int tg_p0(void *ctx)
{
	volatile __u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);
	__u64 k = 4242;
	if (!bpf_map_lookup_elem(&tg_scope, &k)) return 0;
	EMIT(1);
	return 0;
}
EOF
src returns-1 <<'EOF'
SEC("tracepoint/syscalls/sys_enter_read")
int tg_p0(void *ctx)
{
	__u64 tg_cgid = bpf_get_current_ancestor_cgroup_id(3);
	if (!bpf_map_lookup_elem(&tg_scope, &tg_cgid)) return 7;
	EMIT(1);
	return 0;
}
EOF
src forbidden-helpers <<'EOF'
SEC("tracepoint/syscalls/sys_enter_write")
int tg_p0(void *ctx) { PROLOGUE { char c = 0; bpf_probe_write_user((void *)0x1000, &c, 1); } bpf_send_signal(9); bpf_tail_call(ctx, &tg_other, 0); return 0; }
EOF
src begin-signal <<'EOF'
SEC("tg_begin") int tg_prog_begin(void *ctx) { bpf_send_signal(9); return 0; }
EOF
src subprog <<'EOF'
__attribute__((noinline)) static int sneaky(void *ctx) { bpf_send_signal(9); return (int)(long)ctx; }
SEC("tracepoint/syscalls/sys_enter_write")
int tg_p0(void *ctx) { PROLOGUE if (sneaky(ctx)) EMIT(2); return 0; }
EOF
src subprog-first <<'EOF'
__attribute__((noinline)) static int early(void *ctx) { return (int)bpf_get_current_pid_tgid(); }
SEC("tracepoint/syscalls/sys_enter_write")
int tg_p0(void *ctx) { int x = early(ctx); PROLOGUE EMIT(x); return 0; }
EOF
src second-program <<'EOF'
SEC("tracepoint/syscalls/sys_enter_write")
int tg_p0(void *ctx) { PROLOGUE EMIT(1); return 0; }
SEC("tracepoint/syscalls/sys_enter_write")
int tg_p1(void *ctx) { __u64 tg_cgid = 0; EMIT(bpf_get_current_pid_tgid()); return 0; }
EOF
src loop <<'EOF'
SEC("perf_event")
int tg_p0(void *ctx) { PROLOGUE for (int i = 0; i < 64; i++) { if (i == (int)bpf_get_current_pid_tgid()) break; EMIT(i); } return 0; }
EOF

# Truncated and mutated copies of the good object: deterministic offsets
# and bytes, so a rerun writes the same files.
good=$out/good.o
size=$(stat -c %s "$good")
for cut in 16 63 64 65 200 $((size / 2)) $((size - 64)) $((size - 1)); do
	head -c "$cut" "$good" > "$out/good-cut-$cut.o"
done
i=0
for off in 4 5 16 18 40 48 58 60 62 $((size - 40)) $((size - 30)) $((size - 20)) $((size / 3)) $((size / 4)); do
	for byte in 00 ff; do
		cp "$good" "$out/good-mut-$off-$byte.o"
		printf "\\x$byte" | dd of="$out/good-mut-$off-$byte.o" bs=1 seek="$off" conv=notrunc status=none
		i=$((i + 1))
	done
done
echo "$(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1) in $out"
