#!/usr/bin/env bash
# Truthful endings through the whole stack (issue 8): a client that
# dies in the middle of a flood leaves an audit record and a gateway log line with
# the real counts (reason "client"); a runner killed mid-stream ends the
# client's trace naming the node and the reason (runner-lost, exit 5);
# a runner that is down when a trace starts gives an HTTP error, not
# 200 then an in-stream error.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway endings" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
FLOOD='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'

# ---- a client that dies in a flood: the real counts -------------------------------
# (SIGKILL: a first Ctrl-C is a graceful stop since issue 9, tested in
# kubectl-ctrlc.sh; a client that goes away without a word is this path)
pod_run "$TG_CTR_A" python3 -c '
import time
end = time.time() + 60
while time.time() < end:
    open("/etc/hostname").close()
    time.sleep(0.002)
' >/dev/null
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 60 -e "$FLOOD" >"$out" 2>"$err" &
ktpid=$!
many() { [ "$(wc -l <"$out")" -gt 500 ]; }
if wait_for 60 many; then
	kill -KILL "$ktpid"
	wait "$ktpid" 2>/dev/null
	rc=$?
	lines=$(grep -vc "^Attaching" "$out")
	check "the client is gone (killed: $rc)" test "$rc" -eq 137
	trace_done() { audit_py '[r for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("endReason") == "client"]' | grep -q auditID; }
	check "the trace's ResponseComplete is written (5 s)" wait_for 5 trace_done
	got=$(audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["events"], r["tracegate"]["bytes"], r["tracegate"]["counts"]["events"] == r["tracegate"]["events"]) for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("endReason") == "client"]')
	ev=$(python3 -c "import sys; print(eval(sys.argv[1])[0][1])" "$got" 2>/dev/null || echo 0)
	by=$(python3 -c "import sys; print(eval(sys.argv[1])[0][2])" "$got" 2>/dev/null || echo 0)
	check "the audit record has reason client and the real counts: events $ev >= $lines lines received, bytes $by > 0 ($got)" \
		test "${ev:-0}" -ge "$lines" -a "${by:-0}" -gt 0
	logline=$(grep -m1 'end=client events=' "$TG_WORK/gateway.log")
	check "the gateway log line carries the same counts ($logline)" grep -q "end=client events=$ev " <<<"$logline"
else
	tap_fail "a flood streams" "$(tail -3 "$out" "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# ---- a runner killed mid-stream ------------------------------------------------
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 30 -o json -e "$FLOOD" >"$out" 2>"$err" &
ktpid=$!
if wait_for 10 grep -q '"type":"output"' "$out"; then
	kill -9 "$TG_RUNNER_PID"
	wait "$TG_RUNNER_PID" 2>/dev/null
	if wait_for 10 grep -q '"type":"end"' "$out"; then :; fi
	wait "$ktpid"
	rc=$?
	check "the client exits 5 (a node failed: runner lost) ($rc)" test "$rc" -eq 5
	got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], d.get("failedNodes"), d["events"] > 0)')
	check "the end names the reason and the node, with counts ($got)" \
		test "$got" = "('runner-lost', ['node-1'], True)"
	got=$(grep '"type":"error"' "$out" | json_get '(d.get("node"), "runner" in d["message"] and "node-1" in d["message"])')
	check "an error line names the node ($got)" test "$got" = "('node-1', True)"
	kt alice run pod/web-a -n team-a --duration 30 -e "$FLOOD" >/dev/null 2>"$err" &
	wait $!
	rc=$?
	# ---- the runner is down: nothing starts, an HTTP error ------------------------
	# (its running traces cannot be counted for maxConcurrentTraces: the
	# start is refused there, before anything is allowed)
	check "with the runner down, the client exits 5 ($rc)" test "$rc" -eq 5
	check "with the runner down: 503 naming the node, no stream" \
		grep -q 'Error from server (ServiceUnavailable): cannot count running traces on node "node-1" (maxConcurrentTraces of policy "[a-z]*"): runner unreachable' "$err"
	got=$(audit_py '[(r["responseStatus"]["code"], r["annotations"]["authorization.k8s.io/decision"], "node \"node-1\"" in r["responseStatus"].get("message", "")) for r in recs if r["stage"] == "ResponseStarted"][-1]')
	check "its record is a refusal, 503 naming the node ($got)" test "$got" = "(503, 'forbid', True)"
	id=$(audit_py '[r["auditID"] for r in recs if r["stage"] == "ResponseStarted"][-1]')
	check "no 200 was logged for it ($id)" bash -c '! grep "audit=$1" "$0" | grep -q "code=200"' "$TG_WORK/gateway.log" "$id"
else
	tap_fail "a trace streams before the runner is killed" "$(cat "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"
