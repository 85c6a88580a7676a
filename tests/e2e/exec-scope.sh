#!/usr/bin/env bash
# tracegate-runner exec --cgroup: only events of tasks in that cgroup are
# seen (also from a task started after the trace began), and nothing of
# ours stays in the kernel after the runner ends, however it ends.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec scope" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec scope: $RUNNER is not built"
	exit 0
fi

# IDs of the BPF programs process $1 holds (other engineers' tests may run
# tg_ programs at the same time, so never count globally)
prog_ids_of() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '$1 == "prog_id:" { print $2 }' "$f" 2>/dev/null
	done | sort -u
}
ids_gone() { # ids_gone ID...: none of these programs exists any more
	local id
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}
runner_child() { pgrep -P "$1" | head -1; }

mnt=$(cgroup2_mnt)
root=$mnt/tracegate-test-$$
work=$(mktemp -d)
cleanup() {
	local p
	for p in "${TG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	cgroup_remove_tree "$root" >/dev/null 2>&1
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
mkdir -p "$root/a" "$root/b" || { tap_fail "exec scope: cannot make cgroups under $mnt"; exit 0; }
touch "$work/marker-a" "$work/marker-b" "$work/marker-late"

pod_run "$root/a" bash -c "$(opener "$work/marker-a")" >/dev/null
pod_run "$root/b" bash -c "$(opener "$work/marker-b")" >/dev/null

prog='tracepoint:syscalls:sys_enter_openat /strncmp(str(args->filename), "'"$work"'", '"${#work}"') == 0/ { printf("%s %d\n", str(args->filename), pid); }'
: >"$work/out"
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	--cgroup "$root/a" --duration 3 -e "$prog" >"$work/out" 2>"$work/err" &
rpid=$!
if wait_for 10 grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED "$work/err"; then
	ids=$(prog_ids_of "$(runner_child "$rpid")")
	tap_ok "exec scope: attached"
else
	tap_fail "exec scope: attached" "$(cat "$work/err")"
fi
# a task that starts in cgroup a after the trace began
pod_run "$root/a" bash -c "$(opener "$work/marker-late")" >/dev/null
wait "$rpid"
rc=$?
check "exec scope: exits 0 after --duration" test "$rc" -eq 0
if grep -q "marker-a " "$work/out"; then
	tap_ok "exec scope: sees cgroup a"
else
	tap_fail "exec scope: sees cgroup a" "$(head -5 "$work/out")" "$(cat "$work/err")"
fi
if grep -q "marker-late " "$work/out"; then
	tap_ok "exec scope: sees a task started in cgroup a after attach"
else
	tap_fail "exec scope: sees a task started in cgroup a after attach" "$(head -5 "$work/out")"
fi
if grep -q "marker-b" "$work/out"; then
	tap_fail "exec scope: never sees sibling cgroup b" "$(grep marker-b "$work/out" | head -3)"
else
	tap_ok "exec scope: never sees sibling cgroup b"
fi
check "exec scope: its programs were visible while running" test -n "$ids"
# shellcheck disable=SC2086
check "exec scope: no program left after a normal exit" wait_for 2 ids_gone $ids

# killed with SIGKILL while attached: the kernel frees everything
rm -f "$work/err"
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	--cgroup "$root/a" -e "$prog" >/dev/null 2>"$work/err" &
rpid=$!
wait_for 10 grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED "$work/err"
# $rpid is timeout(1); the runner is its child
child=$(runner_child "$rpid")
ids=$(prog_ids_of "$child")
check "exec scope: programs loaded while running" test -n "$ids"
kill -9 "${child:-$rpid}" 2>/dev/null
wait "$rpid" 2>/dev/null
# shellcheck disable=SC2086
check "exec scope: no program left after SIGKILL" wait_for 2 ids_gone $ids

# SIGINT ends like bpftrace: END runs, maps printed, exit 0
: >"$work/out"
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	--cgroup "$root/a" -e 'tracepoint:syscalls:sys_enter_openat { @opens = count(); } END { printf("end\n"); }' \
	>"$work/out" 2>"$work/err" &
rpid=$!
wait_for 10 grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED "$work/err"
ids=$(prog_ids_of "$(runner_child "$rpid")")
sleep 0.5
kill -INT "$rpid"
wait "$rpid"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^end$' "$work/out" && grep -qE '^@opens: [1-9]' "$work/out"; then
	tap_ok "exec scope: SIGINT runs END and prints maps"
else
	tap_fail "exec scope: SIGINT runs END and prints maps" "rc=$rc" "$(cat "$work/out" "$work/err")"
fi
# shellcheck disable=SC2086
check "exec scope: no program left after SIGINT" wait_for 2 ids_gone $ids
