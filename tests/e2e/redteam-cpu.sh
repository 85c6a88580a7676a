#!/usr/bin/env bash
# e2e: alone (it measures the session's CPU time against a budget)
# Red team: the session's own CPU time counts in the policy's cpuBudget.
# A program whose work is in user space, not in its BPF programs (an
# interval body zeroing a 4096-entry map every millisecond makes the
# session child walk and rewrite the map a thousand times a second), kept
# most of a node's CPU busy under the shipped restricted policy's budget of
# 0.05 until its duration ran out, because only the programs' kernel run
# time was counted.  Through the real kubectl as alice: the trace is
# stopped with reason cpu-budget, well before its duration, and the
# session child's CPU time stays near the budget; a quiet program under the
# same policy still runs to its duration.
source "$(dirname "$0")/lib.sh"
need_bpf "redteam cpu" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
end_rec() { # a field of the stream's end record
	python3 - "$out" "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    try:
        d = json.loads(l)
    except ValueError:
        continue
    if d.get("type") == "end":
        print(eval(sys.argv[2]))
        break
PY
}

# Fill the map from the pod's openat calls, zero it from user space every
# millisecond.
prog='tracepoint:syscalls:sys_enter_openat { @m[rand % 4096] = count(); } interval:ms:1 { zero(@m); }'
start=$(date +%s)
timeout 60 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 30 -o json -e "$1"' \
	"$TG_WORK" "$prog" >"$out" 2>"$err"
rc=$?
took=$(($(date +%s) - start))
reason=$(end_rec 'd.get("reason")')
if [ "$reason" = cpu-budget ] && [ "$took" -lt 20 ]; then
	tap_ok "a map zeroed from an interval body every ms is stopped after ${took}s with reason cpu-budget (budget 0.05)"
else
	tap_fail "a map zeroed from an interval body every ms is stopped with reason cpu-budget" \
		"rc=$rc took=${took}s reason=${reason:-none}" "$(grep -v '"output"' "$out" | tail -3)" "$(tail -3 "$err")"
fi
if grep -q "the session's own" "$out" "$err"; then
	tap_ok "the warning says the session's own CPU time counted"
else
	tap_fail "the warning says the session's own CPU time counted" "$(grep -i budget "$out" "$err" | head -3)"
fi
check "the cpu-budget end is in the audit record" \
	test "$(audit_py '[r["tracegate"].get("endReason") for r in recs if r["stage"] == "ResponseComplete"][-1]')" = cpu-budget

# A quiet program under the same budget runs to its duration.
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 3 -o json -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @n = count(); } interval:ms:100 { print(@n); }' >"$out" 2>"$err"
rc=$?
reason=$(end_rec 'd.get("reason")')
check "a quiet program with an interval body still runs to its duration (reason ${reason:-none}, rc=$rc)" test "$reason" = duration
check "no program of ours is left" wait_for 3 no_progs_left
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
