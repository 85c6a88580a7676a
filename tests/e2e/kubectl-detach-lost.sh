#!/usr/bin/env bash
# A detached trace's node lost or cut off (issue 8, "nothing
# misreported"), on two nodes (deployment/web: web-a on node-1, web-a2 on
# node-2).  node-2's runner frozen (a partition: it holds its session and
# cannot be asked): `kubectl trace delete` used to answer "deleted" and
# exit 0 after stopping it on node-1 alone, since only the runners that
# answered were asked to stop it; now it names node-2 and fails.
# node-2's runner killed: `kubectl trace get` used to list what node-1
# holds and exit 0, the gateway saying only in its own log that a node
# was left out; now the list says it is incomplete, naming node-2, and
# the client exits 5 (a node failed).
source "$(dirname "$0")/lib.sh"
need_bpf "detached trace, node lost" || exit 0
workload_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"
W=$TG_WORK
tree_pids() { # PID and its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do tree_pids "$c"; done
}
detach() {
	kt alice run deployment/web -n team-a --duration 300 --detach \
		-e 'tracepoint:syscalls:sys_enter_openat { @n = count(); }' 2>&1 |
		sed -n 's|^trace.tracegate.dev/\([0-9a-f-]*\) created$|\1|p'
}
listed() { KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a | grep -q "^$1 .*node-1,node-2"; }

# ---- delete while node-2 cannot be asked ---------------------------------------------
ID=$(detach)
check "a detached trace starts on both nodes ($ID)" wait_for 30 listed "$ID"
frozen=$(tree_pids "$RUNNER_PID_node_2")
kill -STOP $frozen
kt alice delete "$ID" -n team-a >"$W/del.out" 2>"$W/del.err"
rc=$?
kill -CONT $frozen
check "delete with node-2 cut off does not say deleted: exit != 0 (rc=$rc: $(cat "$W/del.out"))" \
	bash -c "[ $rc -ne 0 ] && ! grep -q deleted '$W/del.out'"
check "it names node-2 ($(head -c 300 "$W/del.err"))" grep -q 'node "node-2"' "$W/del.err"
check "the trace still runs on node-2: get shows it" wait_for 30 bash -c \
	"KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a | grep -q '^$ID '"
kt alice delete "$ID" -n team-a >/dev/null 2>&1
check "a delete with both nodes there stops it" wait_for 30 bash -c \
	"! KUBECONFIG=$W/kubeconfig kubectl trace get --context alice -n team-a | grep -q '^$ID '"

# ---- list while node-2's runner is gone ---------------------------------------------------
ID=$(detach)
check "a second detached trace starts on both nodes ($ID)" wait_for 30 listed "$ID"
kill -9 $(tree_pids "$RUNNER_PID_node_2")
wait "$RUNNER_PID_node_2" 2>/dev/null
kt alice get -n team-a >"$W/get.out" 2>"$W/get.err"
rc=$?
check "with node-2's runner gone, get exits 5, not 0 (rc=$rc)" test "$rc" -eq 5
check "and says the list is incomplete, naming node-2 ($(head -c 300 "$W/get.err"))" \
	grep -q 'incomplete.*node "node-2"' "$W/get.err"
check "what node-1 holds is still listed" grep -q "^$ID " "$W/get.out"
kt alice get -n team-a -o json >"$W/get.json" 2>/dev/null
check "-o json carries it too" bash -c "python3 -c 'import json,sys; d=json.load(open(\"$W/get.json\")); sys.exit(0 if \"node-2\" in d[\"incomplete\"] else 1)'"
kt alice delete "$ID" -n team-a >/dev/null 2>&1

runner_node_start node-2 "$PORT2" || tap_fail "node-2's runner starts again" "$(tail -3 "$W/runner-node-2.log")"
kt alice get -n team-a >"$W/get.out" 2>"$W/get.err"
rc=$?
check "with the runner back, get is whole again: exit 0, no incomplete (rc=$rc: $(cat "$W/get.err"))" \
	bash -c "[ $rc -eq 0 ] && ! grep -q incomplete '$W/get.err'"
