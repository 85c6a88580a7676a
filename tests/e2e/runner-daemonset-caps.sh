#!/usr/bin/env bash
# tracegate-runner exec with exactly the capabilities the DaemonSet gives
# (deploy/40-runner.yaml's capabilities.add, read from the file;
# no_new_privs as allowPrivilegeEscalation: false): code generation and
# clang in the compile jail and the load must work without the rest of
# root's capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, ...).  The
# runner image is run this way by tests/images/check.sh (make images); this
# keeps the capability set honest in `make test`.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
T="runner daemonset caps"
need_bpf "$T" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "$T: $RUNNER is not built"
	exit 0
fi
if ! command -v setpriv >/dev/null; then
	tap_skip_or_fail "$T" "setpriv (util-linux) not installed"
	exit 0
fi
work=$(mktemp -d /tmp/tg-dscaps.XXXXXX)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT

# the add: [...] list of the runner container's securityContext
caps=$(sed -n 's/^[[:space:]]*add:[[:space:]]*\[\(.*\)\][[:space:]]*$/\1/p' "$TG_TOP/deploy/40-runner.yaml" |
	tr -d '" ' | tr ',' '\n' | tr 'A-Z' 'a-z')
if [ -z "$caps" ] || ! grep -qx bpf <<< "$caps"; then
	tap_fail "$T: no capabilities.add list with BPF in deploy/40-runner.yaml" "$caps"
	exit 0
fi
# a capability this machine's bounding set lacks cannot be given (a
# sandbox may drop some): said, and left out
bnd=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
set=-all
mask=0
for c in $caps; do
	n=$(sed -n "s/^#define CAP_${c^^}[[:space:]]\{1,\}\([0-9]\{1,\}\)\$/\1/p" /usr/include/linux/capability.h)
	if [ -z "$n" ]; then
		tap_fail "$T: 40-runner.yaml adds \"$c\", which <linux/capability.h> does not define"
		exit 0
	elif (( (bnd >> n) & 1 )); then
		set+=",+$c"
		mask=$((mask | (1 << n)))
	else
		echo "# $T: this machine's bounding set lacks $c: left out"
	fi
done

expect() { # NAME WANT-LINE EXEC-ARGS...
	local name=$1 want=$2 rc
	shift 2
	timeout 60 setpriv --no-new-privs --inh-caps=-all --bounding-set="$set" -- \
		"$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -qxF "$want" "$work/out"; then
		tap_ok "$T: $name (bounding set $set)"
	else
		tap_fail "$T: $name (bounding set $set)" "rc=$rc" "$(cat "$work/out" "$work/err")"
	fi
}
# what a process started this way holds: the set, nothing else
eff=$(setpriv --no-new-privs --inh-caps=-all --bounding-set="$set" -- awk '/^CapEff:/ { print $2 }' /proc/self/status)
if [ "$eff" = "$(printf '%016x' "$mask")" ]; then
	tap_ok "$T: a process started so holds exactly the set (CapEff $eff)"
else
	tap_fail "$T: a process started so holds exactly the set" "CapEff $eff, want $(printf '%016x' "$mask")"
fi
expect "BEGIN compiles in the jail and runs" "hi" -e 'BEGIN { printf("hi\n"); exit(); }'
# a tracepoint (its format read from tracefs) in a command exec starts
expect "a tracepoint in the command it starts" "uname seen" -c /usr/bin/uname \
	-e 'tracepoint:syscalls:sys_enter_newuname /pid == cpid/ { printf("uname seen\n"); exit(); }'
