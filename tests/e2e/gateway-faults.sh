#!/usr/bin/env bash
# A runner that fails the way nodes fail (issue 8, "nothing lost, nothing
# misreported"), through the real kubectl: killed with its session
# processes (a node crash, an OOM of the whole pod), the client's end,
# the gateway log and the audit record count at least the events the
# client received, not 0; frozen mid-stream (SIGSTOP of the runner and
# its sessions: a hung node, a network gone), the client's end comes
# within the gateway's silence bound (30 s), not at the trace's duration
# plus two minutes, naming the node and runner-lost; a trace that prints
# nothing for longer than that bound is not cut (its runner says it is
# alive); a runner hung before it answers (compiling) gives a 503 within
# limits.runnerAnswerSeconds.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway faults" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
FLOOD='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
tree_pids() { # PID and its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do tree_pids "$c"; done
}
# end_counts: the last ResponseComplete's (endReason, events)
last_end() { audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["events"]) for r in recs if r["stage"] == "ResponseComplete"][-1]'; }
n_complete() { audit_py 'len([r for r in recs if r["stage"] == "ResponseComplete"])'; }
received() { py 'sum(1 for o in outs)' "$out"; }
ended() { ! kill -0 "$ktpid" 2>/dev/null; }

# ---- 1. quiet for longer than the silence bound: not cut ------------------------------
# (first, while the runner is whole: 35 s of a trace that prints nothing
# until its maps at the end)
kt_bg alice run pod/web-a -n team-a --duration 35 -o json \
	-e 'tracepoint:syscalls:sys_enter_openat { @n = count(); }' >"$out" 2>"$err" &
ktpid=$!
wait "$ktpid"
rc=$?
got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], d["events"])')
check "a trace silent for 35 s runs to its duration, exit 0 ($rc, $got)" \
	test "$rc" -eq 0 -a "$got" = "('duration', 0)"
check "its map came" grep -q '"type":"map"' "$out"
check "no keep-alive reached the client" bash -c "! grep -q '\"alive\"' '$out'"

# ---- 2. the runner killed with its sessions: the counts of what was received ----------
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 60 -o json -e "$FLOOD" >"$out" 2>"$err" &
ktpid=$!
many() { [ "$(grep -c '"type":"output"' "$out")" -ge 3 ]; }
if wait_for 30 many; then
	before=$(n_complete)
	kill -9 $(tree_pids "$TG_RUNNER_PID")
	wait "$TG_RUNNER_PID" 2>/dev/null
	wait "$ktpid"
	rc=$?
	n=$(received)
	got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], d.get("failedNodes"), d["events"])')
	ev=$(grep '"type":"end"' "$out" | json_get 'd["events"]')
	check "the client exits 5, runner-lost on node-1 ($rc, $got)" \
		test "$rc" -eq 5 -a "${got%,*}" = "('runner-lost', ['node-1']"
	check "the end counts the $n events received, not 0 ($ev)" test "${ev:-0}" -ge "$n" -a "$n" -gt 0
	wait_for 10 test "$(n_complete)" -gt "$before"
	got=$(last_end)
	check "the audit record has the same counts ($got)" test "$got" = "('runner-lost', $ev)"
	check "the gateway log line too" grep -q "end=runner-lost events=$ev " "$TG_WORK/gateway.log"
else
	tap_fail "a flood streams before the runner is killed" "$(tail -3 "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi
runner_start || tap_fail "the runner starts again" "$(tail -3 "$TG_WORK/runner.log")"

# ---- 3. a hung runner: a bounded, named end ----------------------------------------------
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 120 -o json -e "$FLOOD" >"$out" 2>"$err" &
ktpid=$!
if wait_for 30 many; then
	before=$(n_complete)
	pids=$(tree_pids "$TG_RUNNER_PID")
	kill -STOP $pids
	t0=$(date +%s)
	wait_for 75 ended
	took=$(($(date +%s) - t0))
	check "the client ends within 75 s of the runner hanging, not at 120 s + 120 s ($took s)" ended
	wait "$ktpid"
	rc=$?
	kill -CONT $pids
	n=$(received)
	got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], d.get("failedNodes"), d["events"] >= '"$n"')')
	check "exit 5, runner-lost on node-1, the $n events received counted ($rc, $got)" \
		test "$rc" -eq 5 -a "$got" = "('runner-lost', ['node-1'], True)"
	check "an error line says the runner went silent" \
		grep -q '"type":"error".*node-1.*sent nothing for 30 s' "$out"
	wait_for 10 test "$(n_complete)" -gt "$before"
	check "the audit record says runner-lost ($(last_end))" grep -q "^('runner-lost'," <<<"$(last_end)"
	# the runner, running again, finds its gateway gone and unloads
	check "the session, continued, unloads its programs (30 s)" wait_for 30 no_progs_left
else
	tap_fail "a flood streams before the runner hangs" "$(tail -3 "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"

# ---- 4. a runner hung before it answers (compiling): 503 within runnerAnswerSeconds ---
# (the gateway again with limits.runnerAnswerSeconds 5; the runner and
# its session frozen the moment the session's process appears, before
# its compile is done: the trace's hard stop would be 120 s + 120 s)
kill "$TG_GATEWAY_PID" 2>/dev/null
wait "$TG_GATEWAY_PID" 2>/dev/null
TG_GATEWAY_EXTRA='"limits":{"runnerAnswerSeconds":5},' gateway_start ||
	tap_fail "the gateway restarts with runnerAnswerSeconds 5" "$(tail -3 "$TG_WORK/gateway.log")"
# The freeze must land before the session answers: the program is new
# each try and long (300 printfs: a cold compile of about a second on a
# quiet machine, where a one-line program's took 50 ms and a loaded CI
# machine answered before the poller ran, 3 tries of 3), and a try whose
# stream had started anyway (what it then tests is a runner lost
# mid-stream, gateway-flow.sh's) is done again.
for try in 1 2 3; do
	before=$(n_complete)
	: >"$out"
	body=$(for i in $(seq 300); do printf 'printf("cold %d %d %%d\\n", pid); ' "$try" "$i"; done)
	kt_bg alice run pod/web-a -n team-a --duration 120 -o json \
		-e "tracepoint:syscalls:sys_enter_openat { $body }" >"$out" 2>"$err" &
	ktpid=$!
	# every 2 ms: the runner's first child is the session; stop it and the runner
	frozen=$(python3 - "$TG_RUNNER_PID" <<'PY'
import os, signal, sys, time
runner = sys.argv[1]
end = time.time() + 60
while time.time() < end:
    try:
        kids = open("/proc/%s/task/%s/children" % (runner, runner)).read().split()
    except OSError:
        break
    if kids:
        for p in [runner] + kids:
            os.kill(int(p), signal.SIGSTOP)
        print(" ".join([runner] + kids))
        break
    time.sleep(0.002)
PY
)
	[ -n "$frozen" ] || break
	t0=$(date +%s)
	if grep -q '"type"' "$out"; then
		# late: the session had answered; let it go and try again
		for p in $frozen; do kill -CONT "$p" 2>/dev/null; done
		kill -INT "$ktpid" 2>/dev/null
		wait_for 60 ended || kill -9 "$ktpid" 2>/dev/null
		wait "$ktpid"
		wait_for 30 no_progs_left
		echo "# try $try: the stream had started before the freeze ($(head -c 200 "$out" | tr '\n' ' ')); again"
		continue
	fi
	wait_for 60 ended || kill -9 "$ktpid" 2>/dev/null
	took=$(($(date +%s) - t0))
	wait "$ktpid"
	rc=$?
	for p in $frozen; do kill -CONT "$p" 2>/dev/null; done
	grep -q '"type"' "$out" || break
	echo "# try $try: the stream had started before the freeze; again"
	wait_for 30 no_progs_left
done
if [ -n "$frozen" ]; then
	check "the client's answer comes within 60 s, not at 240 s ($took s)" test "$took" -lt 60
	check "503 naming the node and the runner that did not answer, exit 5 ($rc)" bash -c \
		"[ $rc -eq 5 ] && grep -q 'ServiceUnavailable.*node-1.*no answer within 5 s' '$err' && ! grep -q '\"type\"' '$out'"
	wait_for 10 test "$(n_complete)" -gt "$before"
	got=$(audit_py '[(r["responseStatus"]["code"], r["tracegate"]["endReason"]) for r in recs if r["stage"] == "ResponseComplete"][-1]')
	check "its ResponseComplete: 503, node-failed ($got)" test "$got" = "(503, 'node-failed')"
	check "the session, continued, leaves nothing loaded (30 s)" wait_for 30 no_progs_left
else
	tap_fail "the session's process was seen" "$(tail -3 "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi
check "tracegate audit verify passes at the end" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"
