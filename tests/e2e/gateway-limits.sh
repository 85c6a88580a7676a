#!/usr/bin/env bash
# The allowing policy's limits, through the gateway to the runner and back:
# maxDuration ends a trace with reason "duration"; maxMapEntries and
# maxMapBytes stop maps growing and count the drops; eventsPerSecond drops a flood and the
# count reaches the client's end line and the audit record; concurrent
# traces per user and per namespace answer 429 naming the limit; the CPU
# budget stops a program with reason "cpu-budget"; maxOutputBytes stops a
# printf bomb with reason "output-limit".
source "$(dirname "$0")/lib.sh"
need_bpf "gateway limits" || exit 0

# A ServiceAccount tenant of team-a, for the per-namespace limit.
TG_WITH_DEBUGGER_SA=1
SA_TOKEN=$TG_DEBUGGER_TOKEN

POL=$(mktemp -d /tmp/tg-e2e-limits.XXXXXX)
# limits LIMITS-FLOW-MAP: the one policy, with these limits
policy_text() {
	cat <<EOF
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: limited
spec:
  subjects: {groups: [team-a-devs], serviceAccounts: [team-a/debugger]}
  scope: [pod]
  probes: {allow: ["tracepoint:syscalls:*", BEGIN, END, "interval:*"]}
  builtins: {allow: ["*"]}
  functions: {allow: ["*"]}
  userMemory: syscallArgs
  limits: $1
EOF
}
reloads() { grep -c 'reloaded: ' "$TG_WORK/gateway.log" 2>/dev/null; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
limits() {
	local before
	before=$(reloads)
	policy_text "$1" >"$POL/.limited.yaml.tmp" && mv "$POL/.limited.yaml.tmp" "$POL/limited.yaml"
	wait_for 5 reloaded_since "$before" || log "policy not reloaded: $(tail -2 "$TG_WORK/gateway.log")"
}
policy_text '{maxDuration: 3s}' >"$POL/limited.yaml"
export TG_POLICIES=$POL
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
FLOOD_PIDS=()
flood_stop() {
	local p
	for p in "${FLOOD_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	FLOOD_PIDS=()
}
trap 'if [ "$BASHPID" = "$$" ]; then flood_stop; stack_stop; rm -rf "$POL"; fi' EXIT
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
# the end record of a -o json run, as python: end EXPR
end_rec() { grep '"type":"end"' "$out" | tail -1 | json_get "$1" 2>/dev/null; }
last_complete() { # last_complete EXPR over the last trace's (not a dry run's, not a DELETE's) ResponseComplete record r
	audit_py '[('"$1"') for r in recs if r["stage"] == "ResponseComplete" and r["verb"] == "create" and not r["tracegate"].get("dryRun")][-1]'
}
# A flood inside pod web-a: opens without forking, bounded to ~20k/s.
flood() {
	FLOOD_PIDS+=("$(pod_run "$TG_CTR_A" bash -c 'while :; do for i in $(seq 200); do : </dev/null; done; sleep 0.01; done')")
}

# ---- maxDuration -------------------------------------------------------------
start=$(date +%s)
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 60 -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @ = count(); }' >"$out" 2>"$err"
rc=$?
took=$(($(date +%s) - start))
reason=$(end_rec 'd["reason"]')
if [ "$reason" = duration ] && [ "$took" -le 8 ]; then
	tap_ok "maxDuration 3s: a trace asking 60 s ends after ${took}s with reason duration"
else
	tap_fail "maxDuration 3s: a trace asking 60 s ends with reason duration" "rc=$rc took=${took}s reason=$reason" "$(tail -3 "$out" "$err")"
fi
check "the granted duration (3) and the end reason are in the audit record" \
	test "$(last_complete '(r["tracegate"]["duration"], r["tracegate"]["endReason"])')" = "(3, 'duration')"

# ---- maxMapEntries -----------------------------------------------------------
limits '{maxDuration: 3s, maxMapEntries: 8}'
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @[nsecs] = count(); }' >"$out" 2>"$err"
entries=$(grep '"type":"map"' "$out" | tail -1 | json_get 'len(d["entries"])' 2>/dev/null)
mapdrops=$(end_rec 'd.get("mapDrops")')
if [ -n "$entries" ] && [ "$entries" -le 8 ] && [ "${mapdrops:-0}" -gt 0 ] 2>/dev/null; then
	tap_ok "maxMapEntries 8: the map stops at $entries entries and $mapdrops drops reach the end line"
else
	tap_fail "maxMapEntries 8: the map stops growing and the drops are counted" "entries=$entries mapDrops=$mapdrops" "$(grep -v '"output"' "$out" | tail -3)" "$(cat "$err")"
fi
check "the map drops are in the audit record ($mapdrops)" \
	test "$(last_complete 'r["tracegate"].get("mapDrops")')" = "${mapdrops:-x}"

# ---- maxMapBytes -------------------------------------------------------------
# @[nsecs] = count(): an 8-byte key and a per-CPU 8-byte count per entry
per=$((8 + 8 * $(nproc)))
limits "{maxDuration: 3s, maxMapBytes: $((per * 12))}"
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @[nsecs] = count(); }' >"$out" 2>"$err"
entries=$(grep '"type":"map"' "$out" | tail -1 | json_get 'len(d["entries"])' 2>/dev/null)
mapdrops=$(end_rec 'd.get("mapDrops")')
if [ -n "$entries" ] && [ "$entries" -le 12 ] && [ "${mapdrops:-0}" -gt 0 ] 2>/dev/null; then
	tap_ok "maxMapBytes $((per * 12)): the map stops at $entries entries of $per bytes and $mapdrops drops reach the end line"
else
	tap_fail "maxMapBytes: the maps stop growing within the bytes and the drops are counted" "entries=$entries mapDrops=$mapdrops" "$(grep -v '"output"' "$out" | tail -3)" "$(cat "$err")"
fi

# ---- eventsPerSecond ------------------------------------------------------------
limits '{maxDuration: 3s, eventsPerSecond: 20}'
flood
sleep 0.3
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { printf("%s\n", comm); }' >"$out" 2>"$err"
flood_stop
lines=$(grep -c '"type":"output"' "$out")
drops=$(end_rec 'd["drops"]')
events=$(end_rec 'd["events"]')
# a token bucket per CPU: at most rate x CPUs x (duration + 1) gets through
cap=$((20 * $(nproc) * 4))
if [ "${drops:-0}" -gt 0 ] 2>/dev/null && [ "$lines" -le "$cap" ]; then
	tap_ok "eventsPerSecond 20: a flood is cut to $lines events, $drops drops reach the end line"
else
	tap_fail "eventsPerSecond 20: a flood is dropped and counted" "lines=$lines (cap $cap) drops=$drops events=$events" "$(grep -v '"output"' "$out" | tail -2)" "$(cat "$err")"
fi
check "the drops and events are in the audit record" \
	test "$(last_complete '(r["tracegate"]["drops"], r["tracegate"]["counts"]["drops"], r["tracegate"]["events"])')" = "($drops, $drops, $events)"
q=$(tracegate audit query "$TG_AUDIT" --user alice 2>&1 | tail -1)
check "tracegate audit query shows the events of the last trace" grep -qw "$events" <<<"$q"

# ---- concurrency: 429 naming the limit -------------------------------------------
limits '{maxDuration: 8s, maxConcurrentTraces: {perUser: 1, perNamespace: 1}}'
: >"$TG_WORK/bg.out"
kt_bg alice run pod/web-a -n team-a -e 'tracepoint:syscalls:sys_enter_openat { printf("%s\n", comm); }' >"$TG_WORK/bg.out" 2>"$TG_WORK/bg.err" &
bgpid=$!
wait_for 8 grep -q . "$TG_WORK/bg.out"
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "BEGIN { exit(); }"' \
	"$TG_WORK" >"$out" 2>"$err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'TooManyRequests' "$err" && grep -q 'maxConcurrentTraces.perUser' "$err"; then
	tap_ok "a second trace of the same user answers 429 naming maxConcurrentTraces.perUser"
else
	tap_fail "a second trace of the same user answers 429 naming maxConcurrentTraces.perUser" "rc=$rc" "$(cat "$err")"
fi
timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice --token "$1" pod/web-a -n team-a -e "BEGIN { exit(); }"' \
	"$TG_WORK" "$SA_TOKEN" >"$out" 2>"$err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'TooManyRequests' "$err" && grep -q 'maxConcurrentTraces.perNamespace' "$err"; then
	tap_ok "another user's trace in the same namespace answers 429 naming maxConcurrentTraces.perNamespace"
else
	tap_fail "another user's trace in the same namespace answers 429 naming maxConcurrentTraces.perNamespace" "rc=$rc" "$(cat "$err")"
fi
codes=$(audit_py '[r["responseStatus"]["code"] for r in recs if r["stage"] == "ResponseStarted"][-2:]')
check "both refusals are audited as 429" test "$codes" = "[429, 429]"
completes() { audit_py 'len([r for r in recs if r["stage"] == "ResponseComplete"])'; }
n0=$(completes)
kill "$bgpid" 2>/dev/null
wait "$bgpid" 2>/dev/null
# the gateway sees the client leave and records the end with the runner's counts
completes_above() { [ "$(completes)" -gt "$1" ]; }
wait_for 10 completes_above "$n0"
hi() {
	timeout 20 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "BEGIN { printf(\"hi\\n\"); exit(); }"' \
		"$TG_WORK" >"$out" 2>"$err"
}
hi
rc=$?
check "once the first trace is gone, the user may start another (rc=$rc)" grep -q '^hi$' "$out"
# perUser 1: each starts the moment the last one's end reached its client,
# while that runner session may still be exiting (and listed)
ok=0
for i in $(seq 1 12); do
	hi && grep -q '^hi$' "$out" || break
	ok=$i
done
if [ "$ok" -eq 12 ]; then
	tap_ok "twelve traces back to back, each started as the last one's end arrives, are all admitted"
else
	tap_fail "twelve traces back to back, each started as the last one's end arrives, are all admitted ($ok of 12)" \
		"$(cat "$err")"
fi
# perUser 1: a trace stopped (Ctrl-C: the DELETE, END, the end) or aborted
# (the client killed, as a second Ctrl-C leaves) and a start at once, six
# times in a row: the aborted trace's runner session may still be winding
# down, and it must not hold the slot
ok=0
for i in $(seq 1 6); do
	: >"$TG_WORK/bg.out"
	kt_bg alice run pod/web-a -n team-a -e 'tracepoint:syscalls:sys_enter_openat { printf("%s\n", comm); }' \
		>"$TG_WORK/bg.out" 2>"$TG_WORK/bg.err" &
	bgpid=$!
	wait_for 60 grep -q . "$TG_WORK/bg.out" || { log "trace $i did not print: $(cat "$TG_WORK/bg.err")"; break; }
	how=aborted
	if [ $((i % 2)) -eq 1 ]; then how=stopped; kill -INT "$bgpid"; else kill -KILL "$bgpid"; fi
	wait "$bgpid" 2>/dev/null
	hi && grep -q '^hi$' "$out" || { log "after trace $i ($how): $(cat "$err")"; break; }
	ok=$i
done
check "a start at once after each of six traces stopped or aborted by the client is admitted ($ok of 6)" \
	test "$ok" -eq 6
# a session child that starts its link-destroying threads just before its
# seccomp filter: their rseq registration was SIGSYS (5 of 40 sessions
# killed, some before their end record reached the gateway)
if grep -q 'outcome=crashed' "$TG_WORK/runner.log"; then
	tap_fail "no session child of the runner died of a signal" "$(grep 'outcome=crashed' "$TG_WORK/runner.log" | head -3)"
else
	tap_ok "no session child of the runner died of a signal"
fi

# ---- CPU budget ---------------------------------------------------------------
limits '{maxDuration: 10s, eventsPerSecond: 100000000, cpuBudget: 0.0005}'
flood
sleep 0.3
start=$(date +%s)
timeout 25 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @[tid, comm] = count(); @s[nsecs % 64] = sum(nsecs); }' >"$out" 2>"$err"
rc=$?
took=$(($(date +%s) - start))
flood_stop
reason=$(end_rec 'd["reason"]')
cpu=$(end_rec 'd["cpuNs"]')
if [ "$reason" = cpu-budget ] && [ "$took" -lt 10 ]; then
	tap_ok "cpuBudget 0.0005: a program burning CPU is stopped after ${took}s with reason cpu-budget (cpuNs $cpu)"
else
	tap_fail "cpuBudget: a program burning CPU is stopped with reason cpu-budget" "rc=$rc took=${took}s reason=$reason cpuNs=$cpu" "$(grep -v '"output"' "$out" | tail -2)" "$(cat "$err")"
fi
check "the cpu-budget end and its CPU time are in the audit record" \
	test "$(last_complete '(r["tracegate"]["endReason"], r["tracegate"]["cpuNs"])')" = "('${reason:-x}', ${cpu:-0})"

# ---- maxOutputBytes -----------------------------------------------------------
# red team 4: printf of 32 x %4096d turns each 4 KB record into 128 KB of
# text; the node's session stops at the policy's maxOutputBytes and the
# client sees the reason (exit 6, the limit named)
limits '{maxDuration: 20s, eventsPerSecond: 100000000, maxOutputBytes: 300Ki}'
flood
BOMB_FMT=$(python3 -c 'print("%4096d" * 32)')
BOMB_ARGS=$(python3 -c 'print(", ".join(["1"] * 32))')
start=$(date +%s)
timeout 40 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
	"$TG_WORK" "tracepoint:syscalls:sys_enter_openat { printf(\"$BOMB_FMT\n\", $BOMB_ARGS); }" >"$out" 2>"$err"
rc=$?
took=$(($(date +%s) - start))
flood_stop
got=$(wc -c <"$out")
if [ "$rc" -eq 6 ] && [ "$took" -lt 20 ] && [ "$got" -le $((300 * 1024 + 4096)) ] && [ "$got" -gt 0 ] &&
	grep -q "output limit: .* would pass the limit maxOutputBytes (307200); stopping" "$err" &&
	grep -q "stopped early: output-limit" "$err"; then
	tap_ok "maxOutputBytes 300Ki: a printf bomb is stopped after ${took}s with ${got} bytes printed, exit 6, the reason on stderr"
else
	tap_fail "maxOutputBytes 300Ki: a printf bomb is stopped with reason output-limit" "rc=$rc took=${took}s bytes=$got" "$(cat "$err")"
fi
check "the output-limit end is in the audit record" \
	test "$(last_complete 'r["tracegate"]["endReason"]')" = output-limit
check "no program of ours is left" wait_for 3 no_progs_left
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
