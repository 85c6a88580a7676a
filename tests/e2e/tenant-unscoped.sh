#!/usr/bin/env bash
# Issue 7, class 4: BEGIN, END and interval bodies run in the runner's own
# context (BPF_PROG_TEST_RUN, from its timers), so under a pod scope they
# may not use what describes the current task or reads memory: there it
# would describe the runner's privileged session child.  Through the real
# kubectl, the plugin, the gateway and a runner doing real BPF: alice's
# BEGIN reading pid and comm and an interval reading uid are refused with
# line:column and the rule (kubectl trace check says the same, nothing is
# loaded, the refusal is audited), a BEGIN printing a constant and an
# interval printing a map still work, and a runner asked directly with the
# gateway's own certificate (a compromised gateway) refuses the same.
source "$(dirname "$0")/lib.sh"
need_bpf "tenant unscoped" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
WHY='under a pod scope BEGIN, END and interval bodies run in the runner, not at an event of the pod'

# refused NAME PROG REGEX...: `kubectl trace run` is refused (403) and its
# stderr matches each REGEX; then `kubectl trace check` denies it with the
# same words
refused() {
	local name=$1 prog=$2 re bad=
	shift 2
	timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
		"$TG_WORK" "$prog" >"$out" 2>"$err"
	rc=$?
	[ $rc -ne 0 ] && grep -q Forbidden "$err" || bad="not refused with 403 (rc=$rc)"
	for re in "$@"; do
		grep -qE -- "$re" "$err" || bad="$bad; run: no match for /$re/"
	done
	grep -q . "$out" && bad="$bad; output on stdout: $(head -3 "$out")"
	timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context alice pod/web-a -n team-a -e "$1"' \
		"$TG_WORK" "$prog" >"$out.check" 2>"$err.check"
	rc=$?
	[ $rc -eq 3 ] && grep -q '^denied' "$out.check" || bad="$bad; check not denied with exit status 3 (rc=$rc)"
	for re in "$@"; do
		grep -qE -- "$re" "$err.check" || bad="$bad; check: no match for /$re/"
	done
	if [ -z "$bad" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "$bad" "run: $(cat "$err")" "check: $(cat "$out.check" "$err.check")"
	fi
}

# ---- 1. what describes the runner is refused, with line:column --------------
refused "alice's BEGIN reading pid and comm is refused at 1:27, naming the builtin, the probe and the rule" \
	'BEGIN { printf("%d %s\n", pid, comm) }' \
	'program:1:27: ERROR: builtin "pid" in "BEGIN" describes the runner, not the pod' \
	"$WHY" 'rule scope\.unscopedProbe' 'program:1:32: ERROR: builtin "comm" in "BEGIN"'
refused "alice's interval reading uid is refused at 1:34" \
	'interval:ms:100 { printf("%d\n", uid); }' \
	'program:1:34: ERROR: builtin "uid" in "interval:ms:100" describes the runner, not the pod' 'rule scope\.unscopedProbe'
refused "alice's END reading kernel memory is refused at 2:11" \
	$'tracepoint:syscalls:sys_enter_openat { @n = count(); }\nEND { @ = *(uint64 *)0xffffffff81000000; print(@n); }' \
	'program:2:11: ERROR: operator "\*" in "END" reads memory, which nothing confines to the pod there' 'rule scope\.unscopedProbe'
refused "alice's BEGIN reading str() of an address is refused" \
	'BEGIN { printf("%s\n", str(0xffffffff81000000)); exit(); }' \
	'program:1:24: ERROR: function "str" in "BEGIN" reads memory.*only a string literal or a positional parameter'
refused "alice's interval with curtask is refused (the policy and the new rule both say so)" \
	'interval:s:1 { @t = curtask; }' 'builtin "curtask" in "interval:s:1" describes the runner' 'rule builtins\.deny'
check "nothing was loaded for the refused programs" test "$(our_progs)" -eq 0
denials=$(audit_py '[d["rule"] for r in recs for d in r["tracegate"].get("denials", []) if d.get("rule") == "scope.unscopedProbe"]' 2>/dev/null)
if grep -q scope.unscopedProbe <<<"$denials"; then
	tap_ok "the refusals are audited with the rule scope.unscopedProbe"
else
	tap_fail "the refusals are audited with the rule scope.unscopedProbe" "$(tail -2 "$TG_AUDIT")"
fi

# ---- 2. what observes nothing still works ------------------------------------
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a -e "$1"' \
	"$TG_WORK" 'BEGIN { printf("hello %d %s\n", 42, "tenant"); @start = nsecs; exit(); } END { printf("end %d\n", nsecs > @start); }' \
	>"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^hello 42 tenant$' "$out" && grep -q '^end 1$' "$out"; then
	tap_ok "a BEGIN that prints a constant, and END, still run"
else
	tap_fail "a BEGIN that prints a constant, and END, still run" "rc=$rc" "$(cat "$out" "$err")"
fi
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 3 -e "$1"' \
	"$TG_WORK" 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); } interval:ms:500 { print(@opens); clear(@opens); printf("tick %d\n", cpu >= 0); }' \
	>"$out" 2>"$err"
rc=$?
ticks=$(grep -c '^tick 1$' "$out")
if [ $rc -eq 0 ] && [ "$ticks" -ge 2 ] && grep -qE '^@opens\[cat\]: [1-9]' "$out"; then
	tap_ok "an interval that prints and clears a map still runs ($ticks ticks)"
else
	tap_fail "an interval that prints and clears a map still runs" "rc=$rc ticks=$ticks" "$(head -20 "$out")" "$(cat "$err")"
fi
if wait_for 5 no_progs_left; then
	tap_ok "no program of ours is left after the sessions"
else
	tap_fail "no program of ours is left after the sessions" "$(progs_report)"
fi

# ---- 3. a compromised gateway: the runner refuses on its own ----------------
GW=(--cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key")
python3 - "$(pod_uid team-a web-a)" "$(pod_qos team-a web-a)" >"$TG_WORK/direct.json" <<'EOF'
import json, sys
prog = 'BEGIN { printf("%d %s %d\\n", pid, comm, uid); exit(); }\ninterval:ms:100 { @[username] = count(); }'
print(json.dumps({"trace": "t-unscoped-direct", "program": prog, "canonical": __import__("subprocess").run(["tracegate", "policy", "print", "-e", prog], capture_output=True, text=True).stdout or "unparsed", "params": [], "duration": 5,
                  "pods": [{"namespace": "team-a", "name": "web-a", "uid": sys.argv[1], "qos": sys.argv[2]}],
                  "limits": {"maxMapEntries": 4096, "eventsPerSecond": 0, "maxDuration": 60, "cpuBudget": 0}}))
EOF
code=$(timeout 30 curl -sS "${GW[@]}" -o "$TG_WORK/direct.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$TG_WORK/direct.json" "$TG_RUNNER_URL/v1/sessions" 2>"$TG_WORK/direct.err")
if [ "$code" = 403 ] && grep -q 'builtin \\"pid\\" in \\"BEGIN\\" describes the runner' "$TG_WORK/direct.out" &&
	grep -qE ':1:30' "$TG_WORK/direct.out"; then
	tap_ok "a runner asked directly with the gateway's certificate refuses it too (403, line:column)"
else
	tap_fail "a runner asked directly with the gateway's certificate refuses it too (403, line:column)" \
		"code=$code" "$(cat "$TG_WORK/direct.out" "$TG_WORK/direct.err")"
fi
check "the runner loaded nothing for it" test "$(our_progs)" -eq 0
