#!/usr/bin/env bash
# reg("NAME") as bpftrace 0.17 has it (src/arch/x86_64.cpp: the fields of
# pt_regs), run for real on a uprobe: at the entry of libc's exit(), rdi
# is its argument (so reg("di") == arg0 == the status), rip is the probed
# address, rsp a stack address.  Where bpftrace refuses it (tracepoints,
# a name that is not a register) the error is bpftrace's; a policy decides
# (restricted denies reg; kernel probes need kernelMemory, as arg0..9).
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec reg()" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec reg(): $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT
LIBC=$(ldd /bin/false | awk '/libc\.so/ {print $3; exit}')
[ -r "$LIBC" ] || { tap_fail "exec reg(): libc of /bin/false not found"; exit 0; }

# /bin/false exits through exit(1): its first argument register is 1
timeout 60 "$RUNNER" exec --cache-dir "$work/cache" -c /bin/false -e "uprobe:$LIBC:exit /pid == cpid/ {
	printf(\"di=%d same=%d sp=%d ip=%d\\n\", reg(\"di\"), reg(\"di\") == arg0, reg(\"sp\") > 4096, reg(\"ip\") > 4096);
}" >"$work/out" 2>"$work/err"
rc=$?
check "uprobe: reg(\"di\") is exit()'s status and arg0, sp and ip are addresses (rc=$rc: $(tr '\n' ' ' <"$work/out"))" \
	grep -qx 'di=1 same=1 sp=1 ip=1' "$work/out"
timeout 60 "$RUNNER" exec --cache-dir "$work/cache" -c '/bin/ls /nonexistent-tg-exec-reg' -e "uprobe:$LIBC:exit /pid == cpid/ {
	@[reg(\"di\")] = count();
}" >"$work/out" 2>"$work/err"
check "uprobe: a map keyed by reg(\"di\") (ls of a missing file exits 2): @[2]" grep -qx '@\[2\]: 1' "$work/out"

# where bpftrace refuses it, as bpftrace says it
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" -e 'tracepoint:sched:sched_switch { @ = reg("ip"); }' \
	>"$work/out" 2>"$work/err"
check "tracepoint: bpftrace's refusal, with line and column" \
	grep -q "^stdin:1:37: ERROR: The reg function cannot be used with 'tracepoint' probes" "$work/err"
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" -e "uprobe:$LIBC:exit { @ = reg(\"rip\"); }" \
	>"$work/out" 2>"$work/err"
check "a name that is not a register: bpftrace's message" \
	grep -q "ERROR: 'rip' is not a valid register on this architecture (x86_64)" "$work/err"

# the policy: restricted denies reg(); a kernel probe's register is kernel memory
tracegate policy check --preset restricted --user a --group system:authenticated --namespace n \
	-e "uprobe:$LIBC:exit { @ = reg(\"di\"); }" >"$work/out" 2>&1
check "restricted: reg() is denied by functions.deny" grep -q 'function "reg" matches functions.deny' "$work/out"
printf '%s\n' 'apiVersion: tracegate.dev/v1alpha1' 'kind: TracePolicy' 'metadata: {name: regs}' 'spec:' \
	'  subjects: {users: [a]}' '  scope: [pod]' '  probes: {allow: ["uprobe:*", "kprobe:*"]}' \
	'  functions: {allow: ["*"]}' '  builtins: {allow: ["*"]}' >"$work/regs.yaml"
mkdir -p "$work/pol" && mv "$work/regs.yaml" "$work/pol/"
tracegate policy check --policies "$work/pol" --user a --namespace n \
	-e "uprobe:$LIBC:exit { @ = reg(\"di\"); }" >"$work/out" 2>&1
check "a policy allowing reg(): a uprobe's register is the process's value, allowed" grep -q '^allowed' "$work/out"
tracegate policy check --policies "$work/pol" --user a --namespace n \
	-e 'kprobe:vfs_read { @ = reg("di"); }' >"$work/out" 2>&1
check "the same policy: a kprobe's register is kernel memory (kernelMemory false), as arg0" \
	grep -q 'reveals a register of kernel code.*kernelMemory is false' "$work/out"
