#!/usr/bin/env bash
# The fourth red team: the registers of kernel code are kernel addresses.  Under the
# shipped baseline preset (kernelMemory: false) a kprobe's arg0 was "a
# value": `kprobe:vfs_read { printf("%llx\n", arg0) }` printed a struct
# file *, `kprobe:do_nanosleep`'s arg0 a kernel stack address, a
# kretprobe's retval whatever pointer the function returns, and
# profile's arg0 the interrupted kernel context's register: KASLR and the
# kernel heap laid bare to a tenant.  The decision (`tracegate policy
# check`, the gateway's own code) must refuse each, naming the builtin,
# the place and the rule; what counts and times kernel functions, and the
# registers of a pod's own process (uprobes), stay allowed.
source "$(dirname "$0")/lib.sh"
TG=$TG_BIN/tracegate
work=$(mktemp -d)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT

decide() { # decide PRESET PROG: the exit status of the decision, output in $work/out
	"$TG" policy check --preset "$1" --user alice --group system:authenticated \
		--group tracegate:baseline --namespace team-a -e "$2" >"$work/out" 2>&1
}

refused() { # refused NAME PROG REGEX
	decide baseline "$2"
	local rc=$?
	if [ $rc -eq 1 ] && grep -qE -- "$3" "$work/out" && grep -q 'rule kernelMemory' "$work/out"; then
		tap_ok "$1"
	else
		tap_fail "$1" "rc=$rc" "$(cat "$work/out")"
	fi
}

refused "baseline refuses a kprobe printing arg0 (a struct file *), at 1:36" \
	'kprobe:vfs_read { printf("%llx\n", arg0); }' \
	'1:36: "arg0" reveals a register of kernel code, often a kernel address'
refused "baseline refuses do_nanosleep's arg0 (a kernel stack address) as a map key" \
	'kprobe:do_nanosleep { @[arg0] = count(); }' '"arg0" reveals a register of kernel code'
refused "baseline refuses a kretprobe's retval" \
	'kretprobe:vfs_read { @ = hist(retval); }' '"retval" reveals a register of kernel code'
refused "baseline refuses profile's arg0 (the interrupted kernel context)" \
	'profile:hz:99 { @[arg0] = count(); }' '"arg0" reveals a register of kernel code'

decide baseline 'kprobe:vfs_read { @[comm, func] = count(); } kretprobe:vfs_read { @t = nsecs; }'
rc=$?
if [ $rc -eq 0 ]; then
	tap_ok "baseline still counts and times kernel functions"
else
	tap_fail "baseline still counts and times kernel functions" "rc=$rc" "$(cat "$work/out")"
fi
decide restricted 'uprobe:/bin/sh:main { @[arg0, arg1] = count(); } uretprobe:/bin/sh:main { @r = retval; }'
rc=$?
if [ $rc -eq 0 ]; then
	tap_ok "a pod process's own registers (uprobe arg0, uretprobe retval) stay allowed"
else
	tap_fail "a pod process's own registers (uprobe arg0, uretprobe retval) stay allowed" "rc=$rc" "$(cat "$work/out")"
fi
