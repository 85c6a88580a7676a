#!/usr/bin/env bash
# The end of a detached trace reaches the audit log (issue 8): a trace
# started with `run --detach` ends later on its runner (its duration, a
# delete), and each node's end is written exactly once as a
# ResponseComplete record of the create's Audit-ID, marked
# tracegate.detachedEnd, with the runner's reason and counts: found by the
# gateway's poll, by the DELETE, after a gateway SIGKILL and restart
# between the end and the claim, and after a gateway killed between its
# claim and its record.  Another gateway's claim is never written here.
source "$(dirname "$0")/lib.sh"
need_bpf "detached ends audited" || exit 0
DET_TITLE="detached ends"
source "$(dirname "$0")/lib-detached.sh"
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); } END { printf("END ran\n"); }'

runner_claim() { # runner_claim ID CLAIMER: prints the HTTP code
	curl -sS -o "$W/claim.out" -w '%{http_code}' -d '' --cacert "$TG_CERTS/ca.crt" \
		--cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key" \
		"$TG_RUNNER_URL/v1/detached/$1/claim?by=$2"
}
ended_on_runner() { runner_det "$1" | grep -q '"state":"Succeeded"'; }
# ends ID: the detachedEnd records of the trace, as (auditID is the create's, reason, events, drops, mapDrops, bytes, exitCode, claimedBy, afterRestart)
ends() {
	audit_py '[(r["auditID"] == next(c["auditID"] for c in recs if c["stage"] == "ResponseComplete" and c["responseStatus"]["code"] == 201 and c["tracegate"].get("trace") == "'"$1"'"), r["stage"], r["verb"], r["user"]["username"], r["tracegate"]["node"], r["tracegate"]["endReason"], r["tracegate"]["events"], r["tracegate"]["drops"], r["tracegate"]["mapDrops"], r["tracegate"]["bytes"] > 0, r["tracegate"].get("exitCode"), r["tracegate"]["claimedBy"], r["tracegate"].get("afterRestart", False)) for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$1"'"]'
}
nends() { audit_py 'sum(1 for r in recs if r.get("tracegate", {}).get("detachedEnd") and r["tracegate"].get("trace") == "'"$1"'")'; }
has_end() { [ "$(nends "$1")" -ge 1 ]; }
# runner_counts ID: the session's own end line in the runner's log: "events drops"
runner_counts() {
	sed -n "s/.*session $1 .*outcome=\([a-z-]*\) events=\([0-9]*\) drops=\([0-9]*\).*/\2 \3/p" "$W/runner.log" | tail -1
}
# the end's counts as the runner holds them: events drops mapDrops reason
runner_end() {
	runner_det "$1" | json_get '"%d %d %d %s" % (d["end"]["events"], d["end"]["drops"], d["end"]["mapDrops"], d["end"]["reason"])'
}
gw_kill() {
	kill -9 "$TG_GATEWAY_PID"
	wait "$TG_GATEWAY_PID" 2>/dev/null
}

# ---- 1. ends by its duration: the gateway's poll writes it ----------------------------------
A=$(detach 3)
check "a detached trace starts (${A:-no id}: $(tail -2 "$W/detach.err"))" test -n "$A"
check "it ends at its duration on the runner" wait_for 60 ended_on_runner "$A"
check "its end reaches the audit log with nobody asking (the gateway polls every 10 s; 40 s)" wait_for 40 has_end "$A"
read -r ev dr md rs < <(runner_end "$A")
got=$(ends "$A")
check "A: one record, ResponseComplete of the create's auditID, duration, the runner's counts ($ev events, $dr drops): $got" \
	test "$got" = "[(True, 'ResponseComplete', 'create', 'alice', 'node-1', 'duration', $ev, $dr, $md, True, 0, 'poll', False)]"
# the create's own 201 record is the start: it counts nothing and ends nothing
got=$(audit_py '[(r["tracegate"].get("endReason"), "events" in r["tracegate"], "counts" in r["tracegate"]) for r in recs if r["stage"] == "ResponseComplete" and r["responseStatus"]["code"] == 201 and r["tracegate"].get("trace") == "'"$A"'"]')
check "A: the create's 201 record says endReason detached and carries no counts (the ends do): $got" \
	test "$got" = "[('detached', False, False)]"
check "A: the runner's end is the duration's with events counted ($rs, $ev)" bash -c "[ '$rs' = duration ] && [ '$ev' -gt 0 ]"
check "A: the runner's session log line has the same counts ($(runner_counts "$A"))" test "$(runner_counts "$A")" = "$ev $dr"
# reading its log afterwards (the log path claims too) writes nothing more
kt alice logs -n team-a "$A" >"$W/logsA" 2>&1
check "A: its log has END's output" grep -q 'END ran' "$W/logsA"

# ---- 2. stopped by delete: the DELETE writes it --------------------------------------------
B=$(detach 300)
check "B starts and prints" wait_for 60 bash -c "KUBECONFIG=$W/kubeconfig kubectl trace logs --context alice -n team-a $B | grep -q '^open\$'"
kt alice delete -n team-a "$B" >"$W/delB" 2>&1
check "B is deleted ($(cat "$W/delB"))" grep -q "deleted" "$W/delB"
check "B's end reaches the audit log (10 s)" wait_for 10 has_end "$B"
read -r evb drb < <(runner_counts "$B")
got=$(ends "$B")
check "B: one record, client-stop, the runner's counts ($evb events, $drb drops), claimed by the delete or the poll: $got" \
	bash -c "[[ \"\$0\" =~ ^\\[\\(True,\\ \\'ResponseComplete\\',\\ \\'create\\',\\ \\'alice\\',\\ \\'node-1\\',\\ \\'client-stop\\',\\ $evb,\\ $drb,\\ 0,\\ True,\\ 0,\\ \\'(delete|poll)\\',\\ False\\)\\]$ ]] && [ '$evb' -gt 0 ]" "$got"

# ---- 3. the gateway SIGKILLed before the end, restarted after it ---------------------------
C=$(detach 3)
check "C starts" test -n "$C"
gw_kill
check "C ends on the runner while no gateway runs" wait_for 60 ended_on_runner "$C"
check "C: no end record yet (nobody claimed it)" test "$(nends "$C")" = 0
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
check "C's end reaches the audit log after the restart (20 s)" wait_for 20 has_end "$C"
read -r ev dr md rs < <(runner_end "$C")
got=$(ends "$C")
check "C: one record, duration, the runner's counts ($ev events), written by the restart's scan or the poll: $got" \
	bash -c "[[ \"\$0\" =~ ^\\[\\(True,\\ \\'ResponseComplete\\',\\ \\'create\\',\\ \\'alice\\',\\ \\'node-1\\',\\ \\'duration\\',\\ $ev,\\ $dr,\\ $md,\\ True,\\ 0,\\ \\'(restart|poll)\\',\\ (True|False)\\)\\]$ ]]" "$got"

# ---- 4. the gateway killed after its claim, before its record --------------------------------
CLAIMER=$(sed -n 's/.*claimed as "\([^"]*\)".*/\1/p' "$W/gateway.log" | tail -1)
check "the gateway names itself as a claimer ($CLAIMER)" test -n "$CLAIMER"
D=$(detach 3)
E=$(detach 3)
check "D and E start" bash -c "[ -n '$D' ] && [ -n '$E' ]"
gw_kill
check "D and E end on the runner" wait_for 60 bash -c "$(declare -f runner_det ended_on_runner); TG_CERTS=$TG_CERTS TG_RUNNER_URL=$TG_RUNNER_URL; ended_on_runner $D && ended_on_runner $E"
# D: claimed as this gateway, which died before writing; E: by another gateway
code=$(runner_claim "$D" "$CLAIMER")
check "D: the killed gateway's claim is granted (HTTP $code)" test "$code" = 200
code=$(runner_claim "$E" other-gateway.0000)
check "E: another gateway's claim is granted (HTTP $code)" test "$code" = 200
code=$(runner_claim "$E" "$CLAIMER")
check "E: a second claim is refused, naming the first (HTTP $code: $(cat "$W/claim.out"))" \
	bash -c "[ '$code' = 409 ] && grep -q 'claimed by \\\\\"other-gateway.0000\\\\\"' '$W/claim.out'"
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
check "D's end is written by the restarted gateway (20 s)" wait_for 20 has_end "$D"
read -r ev dr md rs < <(runner_end "$D")
got=$(ends "$D")
check "D: one record, claimed again at the restart, marked afterRestart, the runner's counts ($ev events): $got" \
	test "$got" = "[(True, 'ResponseComplete', 'create', 'alice', 'node-1', 'duration', $ev, $dr, $md, True, 0, 'restart', True)]"
check "E: the restarted gateway says another gateway claimed its end" \
	wait_for 10 grep -q "detached trace $E on node \"node-1\": its end not claimed here (restart): detached session: its end was claimed by \"other-gateway.0000\"" "$W/gateway.log"

# ---- 4b. the answer to a deleted trace's claim lost ------------------------------------------
# F: deleted on its runner, then claimed as this gateway: the runner frees
# a deleted session at its claim, and keeps the claim's answer for the
# claimer asking again=1 (before, that was 404: recorded as runner-lost,
# without counts)
F=$(detach 120)
check "F starts ($(tail -2 "$W/detach.err"))" test -n "$F"
gw_kill
curl -sS -o /dev/null -X DELETE --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/detached/$F"
check "F: deleted on the runner, the killed gateway's claim is granted" \
	wait_for 30 bash -c "$(declare -f runner_claim); W=$W TG_CERTS=$TG_CERTS TG_RUNNER_URL=$TG_RUNNER_URL; [ \"\$(runner_claim $F $CLAIMER)\" = 200 ]"
f_end=$(json_get '"%d %d %d %s" % (d["end"]["events"], d["end"]["drops"], d["end"]["mapDrops"], d["end"]["reason"])' <"$W/claim.out")
gateway_start || { tap_fail "the gateway restarts" "$(tail -5 "$W/gateway.log")"; exit 1; }
check "F's end is written by the restarted gateway (20 s)" wait_for 20 has_end "$F"
read -r ev dr md rs <<<"$f_end"
got=$(ends "$F")
check "F: one record, claimed again at the restart, the counts the runner gave its first claim ($f_end): $got" \
	test "$got" = "[(True, 'ResponseComplete', 'create', 'alice', 'node-1', '$rs', $ev, $dr, $md, True, 0, 'restart', True)]"

# ---- exactly once, whatever asked since ------------------------------------------------------
# a log read of an ended trace claims too: A's and B's ends were written
# by the gateway before the restarts, this one's claim is refused
kt alice logs -n team-a "$A" >/dev/null 2>&1
kt alice logs -n team-a "$C" >/dev/null 2>&1
refused() { grep -q "detached trace $1 on node \"node-1\": its end not claimed here (log): detached session: its end was claimed by" "$W/gateway.log"; }
check "a log read of A claims its end again and is refused" wait_for 10 bash -c "$(declare -f refused); W=$W; refused $A"
unclaimed=$(curl -sS --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/detached?unclaimed=1")
check "the runner has no unclaimed end left ($unclaimed)" test "$unclaimed" = '{"items":[]}'
counts="A=$(nends "$A") B=$(nends "$B") C=$(nends "$C") D=$(nends "$D") E=$(nends "$E") F=$(nends "$F")"
check "each end is in the audit log exactly once, another gateway's not at all ($counts)" \
	test "$counts" = "A=1 B=1 C=1 D=1 E=0 F=1"
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
