#!/usr/bin/env bash
# tracegate-runner exec: blocks on one attach point run in program order,
# as bpftrace's do, and an exit() in a later block keeps the output every
# earlier block wrote for that event.  Tracepoints run their programs
# oldest attachment first, uprobes newest first: both kinds are covered.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec order" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec order: $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
runner_pid=
cleanup() {
	[ -n "$runner_pid" ] && kill "$runner_pid" 2>/dev/null
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

# A copy of id(1) under a name of our own: its comm selects our events only.
marker=tgord$$
cp "$(command -v id)" "$work/$marker"
libc=$(ldd "$work/$marker" | awk '/libc\.so/ { print $3; exit }')

attached() { grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED "$work/err"; }
running() { kill -0 "$runner_pid" 2>/dev/null; }
not_running() { ! running; }

# order NAME EXPECTED_STDOUT PROGRAM: runs PROGRAM, runs the marker once
# attached (again each second until the program's exit(): a uprobe now and
# then misses the first call after it is armed) and compares the first
# lines of stdout, as many as EXPECTED_STDOUT has, exactly.
order() {
	local name=$1 want=$2 prog=$3 rc i
	: >"$work/out"
	__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 timeout 120 "$RUNNER" exec --cache-dir "$work/cache" \
		-e "$prog" >"$work/out" 2>"$work/err" &
	runner_pid=$!
	if ! wait_for 60 attached; then
		tap_fail "exec order: $name" "not attached within 60 s" "$(cat "$work/out" "$work/err")"
		kill "$runner_pid" 2>/dev/null
		wait "$runner_pid" 2>/dev/null
		runner_pid=
		return
	fi
	for ((i = 0; i < 60; i++)); do
		"$work/$marker" -u >/dev/null
		wait_for 1 not_running && break
	done
	kill "$runner_pid" 2>/dev/null
	wait "$runner_pid"
	rc=$?
	runner_pid=
	if [ "$rc" -eq 0 ] && [ "$(head -n "$(printf '%s\n' "$want" | wc -l)" "$work/out")" = "$want" ]; then
		tap_ok "exec order: $name"
	else
		tap_fail "exec order: $name" "rc=$rc" "got:" "$(cat "$work/out")" "want:" "$want" "$(cat "$work/err")"
	fi
}

order "tracepoint: two blocks in program order, exit() in the second keeps the first's output" \
	"$(printf 'Attaching 2 probes...\nfirst 1\nsecond\n')" \
	"tracepoint:sched:sched_process_exit /comm == \"$marker\"/ { printf(\"first %d\\n\", 1); }
	 tracepoint:sched:sched_process_exit /comm == \"$marker\"/ { printf(\"second\\n\"); exit(); }"
order "tracepoint: three blocks, a wildcard among them, in program order" \
	"$(printf 'Attaching 3 probes...\na\nb\nc\n')" \
	"tracepoint:syscalls:sys_enter_geteuid /comm == \"$marker\"/ { printf(\"a\\n\"); }
	 tracepoint:syscalls:sys_enter_geteui* /comm == \"$marker\"/ { printf(\"b\\n\"); }
	 tracepoint:syscalls:sys_enter_geteuid /comm == \"$marker\"/ { printf(\"c\\n\"); exit(); }"
order "uprobe: two blocks in program order, exit() in the second keeps the first's output" \
	"$(printf 'Attaching 2 probes...\nfirst\nsecond\n')" \
	"uprobe:$libc:geteuid /comm == \"$marker\"/ { printf(\"first\\n\"); }
	 uprobe:$libc:geteuid /comm == \"$marker\"/ { printf(\"second\\n\"); exit(); }"

# One program for a list of attach points: `probe` names the tracepoint
# that fired (the attach cookie), not the first of the list.
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 timeout 120 "$RUNNER" exec --cache-dir "$work/cache" --load-only \
	-e "tracepoint:syscalls:sys_enter_getuid, tracepoint:syscalls:sys_enter_geteuid,
	    tracepoint:syscalls:sys_enter_getegid /comm == \"$marker\"/ { printf(\"%s\\n\", probe); }" \
	>"$work/out" 2>"$work/err"
check "exec order: a list of attach points sharing a body is one program" \
	test "$(grep -c '^  tg_p' "$work/out")" -eq 1
order "a list of attach points: probe is the one that fired" \
	"$(printf 'Attaching 4 probes...\ntracepoint:syscalls:sys_enter_geteuid\n')" \
	"tracepoint:syscalls:sys_enter_getuid, tracepoint:syscalls:sys_enter_getegid,
	 tracepoint:syscalls:sys_enter_geteuid /comm == \"$marker\"/ { printf(\"%s\\n\", probe); }
	 tracepoint:syscalls:sys_exit_geteuid /comm == \"$marker\"/ { exit(); }"
