#!/usr/bin/env bash
# A detached trace's node lost (issue 8, "nothing misreported"): its runner
# killed with its sessions, `kubectl trace get` used to answer "No
# resources found" and exit 0, as if nothing ran anywhere: the gateway
# left out the runner it could not ask and said so only in its own log.
# Now the list says it is incomplete and names the node, and the client
# prints that and exits 5 (a node failed); with the runner back, the list
# is whole again (exit 0).
source "$(dirname "$0")/lib.sh"
need_bpf "detached trace, node lost" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"
W=$TG_WORK
tree_pids() { # PID and its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do tree_pids "$c"; done
}

kt alice run pod/web-a -n team-a --duration 300 --detach \
	-e 'tracepoint:syscalls:sys_enter_openat { @n = count(); }' >"$W/created" 2>&1
ID=$(sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p' "$W/created")
check "a detached trace starts ($(cat "$W/created"))" test -n "$ID"
check "get lists it" wait_for 30 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a | grep -q '^$ID '"

kill -9 $(tree_pids "$TG_RUNNER_PID")
wait "$TG_RUNNER_PID" 2>/dev/null

kt alice get -n team-a >"$W/get.out" 2>"$W/get.err"
rc=$?
check "with its node's runner gone, get exits 5, not 0 (rc=$rc)" test "$rc" -eq 5
check "and says the list is incomplete, naming node-1 ($(head -c 300 "$W/get.err"))" \
	grep -q 'incomplete.*node "node-1"' "$W/get.err"
kt alice get -n team-a -o json >"$W/get.json" 2>/dev/null
check "-o json carries it too" bash -c "python3 -c 'import json,sys; d=json.load(open(\"$W/get.json\")); sys.exit(0 if \"node-1\" in d[\"incomplete\"] else 1)'"

runner_start || tap_fail "the runner starts again" "$(tail -3 "$W/runner.log")"
kt alice get -n team-a >"$W/get.out" 2>"$W/get.err"
rc=$?
check "with the runner back, get is whole again: exit 0, no incomplete (rc=$rc: $(cat "$W/get.err"))" \
	bash -c "[ $rc -eq 0 ] && ! grep -q incomplete '$W/get.err'"
