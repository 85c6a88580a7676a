#!/usr/bin/env bash
# A detached trace whose runner lost it (issue 8, "nothing lost, nothing
# misreported"): the runner SIGKILLed and started again while the trace
# ran knows nothing of it, answers 404 to the claim of its end, and the
# audit log used to keep the create with no end forever.  Now the gateway
# that wrote the create records that node's end once: endReason
# runner-lost, countsMissing, no counts; found by its poll (the runner's
# list no longer holds the session, its claim is a 404) or, when the
# gateway was down too, by its restart's scan.  A trace that ended
# normally before keeps its one normal end, and no runner-lost is added.
source "$(dirname "$0")/lib.sh"
need_bpf "detached end, runner lost" || exit 0
DET_TITLE="detached lost"
source "$(dirname "$0")/lib-detached.sh"
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); }'

state_is() { runner_det "$1" | grep -q "\"state\":\"$2\""; }
tree_pids() { # PID and its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do tree_pids "$c"; done
}
runner_kill_restart() {
	kill -9 $(tree_pids "$TG_RUNNER_PID")
	wait "$TG_RUNNER_PID" 2>/dev/null
	runner_start || { tap_fail "the runner starts again" "$(tail -3 "$W/runner.log")"; exit 1; }
}
gw_kill() {
	kill -9 "$TG_GATEWAY_PID"
	wait "$TG_GATEWAY_PID" 2>/dev/null
}
# ends ID: the trace's detachedEnd records: (auditID is the create's, stage, user, node,
# endReason, countsMissing, any count present, claimedBy, afterRestart)
ends() {
	audit_py '[(r["auditID"] == next(c["auditID"] for c in recs if c["stage"] == "ResponseComplete" and c["responseStatus"]["code"] == 201 and c["tracegate"].get("trace") == "'"$1"'"), r["stage"], r["user"]["username"], r["tracegate"]["node"], r["tracegate"]["endReason"], r["tracegate"].get("countsMissing", False), any(k in r["tracegate"] for k in ("counts", "events", "drops", "bytes", "cpuNs")), r["tracegate"]["claimedBy"], r["tracegate"].get("afterRestart", False)) for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$1"'"]'
}
nends() { audit_py 'sum(1 for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$1"'")'; }
has_end() { [ "$(nends "$1")" -ge 1 ]; }

# ---- 1. the runner restarted under a running trace: the poll finds it -----------------------
N=$(detach 3)
L=$(detach 300)
check "two detached traces start (${N:-none} ${L:-none}: $(tail -2 "$W/detach.err"))" bash -c "[ -n '$N' ] && [ -n '$L' ]"
check "L runs on the runner" wait_for 30 state_is "$L" Running
check "N ends at its duration and its end is recorded by the poll (40 s)" wait_for 40 has_end "$N"
runner_kill_restart
check "the restarted runner does not know L" bash -c "! runner_det '$L' | grep -q '\"trace\"'"
check "L's end is recorded: its runner lost it (40 s)" wait_for 40 has_end "$L"
got=$(ends "$L")
check "L: one record, ResponseComplete of the create's auditID, runner-lost, countsMissing, no counts, found by the poll: $got" \
	test "$got" = "[(True, 'ResponseComplete', 'alice', 'node-1', 'runner-lost', True, False, 'poll', False)]"
got=$(audit_py '[r["tracegate"].get("endMessage", "") for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$L"'"]')
check "L: its message says the runner no longer knew the session ($got)" grep -q "no longer knew the session" <<<"$got"
check "the gateway log says so" grep -q "detached trace $L on node \"node-1\": its runner no longer knows the session (poll): end recorded end=runner-lost" "$W/gateway.log"
got=$(ends "$N")
check "N: its one normal end, counted, and no runner-lost ($got)" \
	test "$got" = "[(True, 'ResponseComplete', 'alice', 'node-1', 'duration', False, True, 'poll', False)]"

# ---- 2. the gateway down too: its restart's scan finds it --------------------------------------
R=$(detach 300)
check "R starts and runs (${R:-none})" wait_for 30 state_is "$R" Running
gw_kill
runner_kill_restart
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
check "R's end is recorded after the restart (20 s)" wait_for 20 has_end "$R"
got=$(ends "$R")
check "R: one record, runner-lost, countsMissing, no counts, found by the restart's scan (or the poll): $got" \
	bash -c "[[ \"\$0\" =~ ^\\[\\(True,\\ \\'ResponseComplete\\',\\ \\'alice\\',\\ \\'node-1\\',\\ \\'runner-lost\\',\\ True,\\ False,\\ \\'(restart|poll)\\',\\ (True|False)\\)\\]$ ]]" "$got"

# ---- 3. a normal end after the runner's restart is still a normal end ------------------------
M=$(detach 3)
check "M starts on the restarted runner (${M:-none})" test -n "$M"
check "M's end is recorded (60 s)" wait_for 60 has_end "$M"
got=$(ends "$M")
check "M: one normal end, counted ($got)" \
	test "$got" = "[(True, 'ResponseComplete', 'alice', 'node-1', 'duration', False, True, 'poll', False)]"

# ---- exactly once: a gateway restart finds nothing left open --------------------------------
gw_kill
: >"$W/gateway.log"
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
check "the restarted gateway finds no detached start without its end" \
	bash -c "! grep -q 'detached traces of the log have a node without an end record' '$W/gateway.log'"
# ---- 4. another replica deleted it and claimed its end: not lost here ----------------------
# (replica B's DELETE and claim made as B would, at the runner; this
# gateway wrote the create, so the session it keeps is gone from the
# runner's list: the runner names B as the claimer rather than answering
# 404, and this gateway records nothing)
runner_claim() { # runner_claim ID CLAIMER: prints the HTTP code
	curl -sS -o "$W/claim.out" -w '%{http_code}' -d '' --cacert "$TG_CERTS/ca.crt" \
		--cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key" \
		"$TG_RUNNER_URL/v1/detached/$1/claim?by=$2"
}
B=$(detach 300)
check "B starts and runs (${B:-none})" wait_for 30 state_is "$B" Running
code=$(curl -sS -o "$W/delete.out" -w '%{http_code}' -X DELETE --cacert "$TG_CERTS/ca.crt" \
	--cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/detached/$B")
check "replica B deletes B at the runner (HTTP $code)" test "$code" = 200
code=$(runner_claim "$B" other-replica.0000)
check "replica B claims its end (HTTP $code)" test "$code" = 200
check "this gateway's poll is told replica B claimed it (40 s)" \
	wait_for 40 grep -q "detached trace $B on node \"node-1\": its end not claimed here (poll): detached session: its end was claimed by \"other-replica.0000\"" "$W/gateway.log"
check "... and records no end for it (not runner-lost: $(ends "$B"))" test "$(nends "$B")" = 0

counts="N=$(nends "$N") L=$(nends "$L") R=$(nends "$R") M=$(nends "$M") B=$(nends "$B")"
check "each end is in the audit log exactly once, replica B's not here ($counts)" \
	test "$counts" = "N=1 L=1 R=1 M=1 B=0"
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
