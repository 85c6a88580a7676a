#!/usr/bin/env bash
# Tracepoint fields that describe another task (issue 7, class 3), end to
# end through the real kubectl, our plugin, the gateway and a runner doing
# real BPF: alice (the restricted preset) is refused sched_switch's next_*
# and sched_wakeup's pid/comm with the field, its place and the rule named;
# prev_* (current's own) still works and shows only her pod's tasks; an
# admin (privileged) runs the program alice was refused; and the runner
# refuses the same field on its own when a session request carries the
# restricted rules, whatever the gateway decided.
source "$(dirname "$0")/lib.sh"
need_bpf "tracepoint fields end to end" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
# admin: group system:masters (kubesim fixtures), so the privileged preset
kubectl config --kubeconfig "$TG_WORK/kubeconfig" set-credentials admin --token="$(fixture_token admin)" >/dev/null &&
	kubectl config --kubeconfig "$TG_WORK/kubeconfig" set-context admin --cluster sim --user admin >/dev/null ||
	tap_fail "a kubeconfig context for admin"

# refused NAME USER PROG WANT...: `kubectl trace run` fails with 403 and
# stderr holds every WANT (fixed strings); nothing reaches the runner.
refused() {
	local name=$1 user=$2 prog=$3 w missing=
	shift 3
	timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context "$1" pod/web-a -n team-a --duration 3 -e "$2"' \
		"$TG_WORK" "$user" "$prog" >"$out" 2>"$err"
	local rc=$?
	for w in Forbidden "$@"; do
		grep -qF -- "$w" "$err" || missing+=" [$w]"
	done
	if [ $rc -ne 0 ] && [ -z "$missing" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "rc=$rc, missing:$missing" "$(cat "$err" "$out" | head -8)"
	fi
}

SWITCH_NEXT='tracepoint:sched:sched_switch { printf("%s %d\n", args->next_comm, args->next_pid); }'
# sessions the runner has logged (one line each, "session ID pods=... outcome=...")
sessions() { grep -c '^.*session [^ ]* pods=[^ ]* outcome=' "$TG_WORK/runner.log" 2>/dev/null; }
sessions_before=$(sessions)

# 1. the attack: the task switched to belongs to anyone on the node
refused "alice: sched_switch args->next_comm is refused with the field, its place and the rule" alice "$SWITCH_NEXT" \
	'1:51: ERROR: field "next_comm" of tracepoint "sched:sched_switch" describes a task other than the current one (rule otherTasks.comm)' \
	'[policy "restricted", rule tracepointFields.otherTasks]'
check "... and every refused use is listed (args->next_pid at 1:68)" \
	grep -qF '1:68: ERROR: field "next_pid" of tracepoint "sched:sched_switch"' "$err"
refused "alice: sched_wakeup args->pid is refused, naming the field and the rule" alice \
	'tracepoint:sched:sched_wakeup { @[args->pid] = count(); }' \
	'1:35: ERROR: field "pid" of tracepoint "sched:sched_wakeup"' '(rule otherTasks.pid)' 'rule tracepointFields.otherTasks'
refused "alice: sched_wakeup args->comm too" alice 'tracepoint:sched:sched_wakeup { @[args->comm] = count(); }' \
	'field "comm" of tracepoint "sched:sched_wakeup"' 'rule tracepointFields.otherTasks'
refused "alice: print(args) uses every field, so it is refused" alice 'tracepoint:sched:sched_switch { print(args); }' \
	'"args" uses every field: field "next_comm"' 'rule tracepointFields.otherTasks'
refused "alice: a wildcard is refused a field any event it matches classifies" alice \
	'tracepoint:sched:* { @[args->next_pid] = count(); }' \
	'field "next_pid" of tracepoint "sched:sched_switch" (which "tracepoint:sched:*" matches)'
refused "alice: a kernel address (a kthread work function) is refused too" alice \
	'tracepoint:sched:sched_kthread_work_execute_start { @[args->function] = count(); }' \
	'(rule kernelAddresses.pointer)'
check "no refused program reached the runner" test "$(sessions)" = "$sessions_before"
rec=$(audit_py '[r["tracegate"].get("denials", [{}])[0].get("rule") for r in recs if r["stage"] == "ResponseStarted" and r["responseStatus"]["code"] == 403][0]')
check "the audit record of the refusal names the rule (got \"$rec\")" test "$rec" = "tracepointFields.otherTasks"

# 2. prev_* is the task switched from: current, which the scope check
#    admitted; alice sees her pod's tasks and nothing else
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 4 -e "$1"' \
	"$TG_WORK" 'tracepoint:sched:sched_switch { printf("%s %d\n", args->prev_comm, args->prev_pid); }' >"$out" 2>"$err"
rc=$?
lines=$(grep -cE '^(bash|cat|sleep) [0-9]+$' "$out")
foreign=$(grep -vE '^(bash|cat|sleep) [0-9]+$|^Attaching [0-9]+ probes?\.\.\.$|^$' "$out" | head -3)
if [ $rc -eq 0 ] && [ "$lines" -gt 0 ]; then
	tap_ok "alice: sched_switch args->prev_comm, args->prev_pid run ($lines lines)"
else
	tap_fail "alice: sched_switch args->prev_comm, args->prev_pid run" "rc=$rc" "$(head -5 "$err" "$out")"
fi
check "... and the runner logged that session (the count above can move)" wait_for 5 test "$(sessions)" -gt "$sessions_before"
if [ -z "$foreign" ]; then
	tap_ok "alice: every task she sees is one of her pod's (bash, cat, sleep)"
else
	tap_fail "alice: every task she sees is one of her pod's (bash, cat, sleep)" "$foreign"
fi
# the pod's long-lived bash (its opener loop) switches out at every sleep
pod_pids=$(cat "$TG_CTR_A/cgroup.procs" 2>/dev/null | tr '\n' ' ')
seen=
for p in $pod_pids; do
	grep -qx "bash $p" "$out" && seen=$p
done
if [ -n "$seen" ]; then
	tap_ok "alice: her pod's bash ($seen) is among the tasks she sees"
else
	tap_fail "alice: her pod's bash is among the tasks she sees" "pod: $pod_pids" "$(sort -u "$out" | head -5)"
fi

# 3. the privileged preset keeps the fields: admin runs what alice may not
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context admin pod/web-a -n team-a --duration 3 -e "$1"' \
	"$TG_WORK" "$SWITCH_NEXT" >"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ] && grep -qE '^[^ ]+ [0-9]+$' "$out"; then
	tap_ok "admin (privileged) runs sched_switch args->next_comm, args->next_pid"
else
	tap_fail "admin (privileged) runs sched_switch args->next_comm, args->next_pid" "rc=$rc" "$(head -5 "$err" "$out")"
fi
other=$(grep -E '^[^ ]+ [0-9]+$' "$out" | grep -vE '^(bash|cat|sleep) ' | head -1)
check "... and sees tasks outside the pod it targeted (\"$other\")" test -n "$other"

# 4. the runner on its own: a session request with the restricted rules
#    and a program the gateway would have refused
uid=$(pod_uid team-a web-a)
qos=$(pod_qos team-a web-a)
python3 - "$uid" "$qos" "$SWITCH_NEXT" >"$TG_WORK/body.json" <<'EOF'
import json, sys
uid, qos, prog = sys.argv[1:4]
print(json.dumps({"trace": "tpfields-direct", "program": prog, "canonical": __import__("subprocess").run(["tracegate", "policy", "print", "-e", prog], capture_output=True, text=True).stdout or "unparsed", "params": [], "duration": 3,
                  "pods": [{"namespace": "team-a", "name": "web-a", "uid": uid, "qos": qos}],
                  "limits": {"maxMapEntries": 4096, "eventsPerSecond": 0, "maxDuration": 300, "cpuBudget": 0},
                  "tracepointFields": {"policy": "restricted", "otherTasks": False, "kernelAddresses": False,
                                       "allow": [], "deny": []}}))
EOF
timeout 30 curl -sS -N --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" -D "$TG_WORK/direct.h" -o "$TG_WORK/direct" \
	-H 'Content-Type: application/json' --data-binary @"$TG_WORK/body.json" "$TG_RUNNER_URL/v1/sessions" 2>"$TG_WORK/direct.err"
msg=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("code"), d.get("message"))' "$TG_WORK/direct" 2>/dev/null)
case "$msg" in
"403 "*'field "next_comm" of tracepoint "sched:sched_switch"'*'[policy "restricted", rule tracepointFields.otherTasks]'*)
	tap_ok "the runner refuses args->next_comm itself (403), naming the field, rule and policy" ;;
*)
	tap_fail "the runner refuses args->next_comm itself (403), naming the field, rule and policy" "$msg" \
		"$(head -3 "$TG_WORK/direct.h" "$TG_WORK/direct" "$TG_WORK/direct.err")" ;;
esac
check "... with line and column of the use" grep -qF 'program:1:51' "$TG_WORK/direct"
if wait_for 2 no_progs_left; then
	tap_ok "no program of ours is left loaded"
else
	tap_fail "no program of ours is left loaded" "$(progs_report)"
fi
