#!/usr/bin/env bash
# The gateway's dry-run cache (issue 8, "cached decisions >= 10,000/s"):
# `kubectl trace check` of the same program on the same pod within
# cache.dryRunSeconds is answered from what the runner said the first
# time, with no runner session, and says so (compiled[].fromCache, the
# audit record's reason); anything that reaches the runner differently
# (a parameter, another program, another pod's scope) is checked by the
# runner again, and so is another caller's (fromCache would otherwise
# tell one tenant what another checked); the policy and authorization
# come first every time; 0 turns it off.
source "$(dirname "$0")/lib.sh"
need_bpf "the dry-run cache" || exit 0
export TG_GATEWAY_EXTRA='"cache":{"dryRunSeconds":300},'
stack_start || { tap_fail "dry cache: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out
err=$TG_WORK/err

sessions() { grep -c "session .* outcome=checked " "$TG_WORK/runner.log"; }
# check_json USER PROGRAM [ARGS...]: (allowed, [(node, fromCache)]) of its -o json
check_json() {
	local user=$1 prog=$2
	shift 2
	kt "$user" check pod/web-a -n team-a -e "$prog" -o json "$@" >"$out" 2>"$err"
	json_get '(d["allowed"], [(c["node"], c["fromCache"]) for c in d["decision"]["compiled"]])' <"$out" 2>&1
}
# the stages of the last dry run's records, and its decision
last_stages() {
	audit_py '[(r["stage"], r["annotations"].get("authorization.k8s.io/decision")) for r in recs if r["auditID"] == [x for x in recs if x["tracegate"].get("dryRun")][-1]["auditID"]]'
}
last_reason() {
	audit_py '[r["annotations"].get("authorization.k8s.io/reason") for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("dryRun")][-1]'
}

P='tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }'
before=$(sessions)
got=$(check_json alice "$P")
check "the first check goes to the runner ($got)" test "$got" = "(True, [('node-1', False)])"
check "... which checked it in a session" test "$(sessions)" = $((before + 1))
got=$(last_stages)
check "... its decision recorded before the runner was asked, then its outcome ($got)" \
	test "$got" = "[('ResponseStarted', 'allow'), ('ResponseComplete', 'allow')]"

got=$(check_json alice "$P")
check "the same check again: from the gateway's cache ($got)" test "$got" = "(True, [('node-1', True)])"
check "... no runner session" test "$(sessions)" = $((before + 1))
reason=$(last_reason)
check "... and the audit record says so ($reason)" \
	test "$reason" = "dry run: checked, not run (1 of 1 nodes' checks from the gateway's cache)"
got=$(last_stages)
check "... in one record: no runner was asked, so none precedes the answer's ($got)" \
	test "$got" = "[('ResponseComplete', 'allow')]"
# a hostile tenant learns nothing from fromCache: dave, who may trace
# web-a too, checking alice's program is not told she just checked it
sed -e "s/^users:/users:\n- name: dave\n  user:\n    token: $(fixture_token dave)/" \
	-e "s/^contexts:/contexts:\n- name: dave\n  context:\n    cluster: sim\n    user: dave/" \
	"$TG_WORK/kubeconfig" >"$TG_WORK/kubeconfig-dave"
KUBECONFIG=$TG_WORK/kubeconfig-dave kubectl trace check --context dave pod/web-a -n team-a -e "$P" -o json \
	>"$out" 2>"$err"
got=$(json_get '(d["allowed"], [(c["node"], c["fromCache"]) for c in d["decision"]["compiled"]])' <"$out" 2>&1)
check "another caller's identical check goes to the runner ($got)" test "$got" = "(True, [('node-1', False)])"
kt alice check pod/web-a -n team-a -e "$P" >"$out" 2>"$err"
rc=$?
check "kubectl trace check prints the same as from the runner (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -q '^allowed: allowed by policy \"restricted\"' '$out' &&
		grep -qx '  compiled and verified on: node-1 (1 probe)' '$out'"

# what the runner is sent differs: checked again
PP='tracepoint:syscalls:sys_enter_openat /pid == $1/ { @opens[comm] = count(); }'
got=$(check_json alice "$PP" 1)
check "another parameter is another check: to the runner ($got)" test "$got" = "(True, [('node-1', False)])"
got=$(check_json alice "$PP" 2)
check "... and another value of it too ($got)" test "$got" = "(True, [('node-1', False)])"
got=$(check_json alice "$PP" 2)
check "... the same value again: cached ($got)" test "$got" = "(True, [('node-1', True)])"
got=$(check_json alice "$P" --duration 7)
check "a duration is not part of the check's answer, but of the session: to the runner ($got)" \
	test "$got" = "(True, [('node-1', False)])"

# the decision is made every time: a caller without rights, a program
# the policy denies, never get a cached answer
kt carol check pod/web-a -n team-a -e "$P" >"$out" 2>"$err"
rc=$?
check "carol (no rights in team-a) is refused, cache or not (rc=$rc)" \
	test "$rc" = 3
kt alice check pod/web-a -n team-a -e 'kprobe:do_nanosleep { @ = count(); }' >"$out" 2>"$err"
rc=$?
check "a program the policy denies is denied (rc=$rc)" bash -c "[ '$rc' = 3 ] && grep -qx denied '$out'"

# a failed check is never kept: the runner is asked each time
BAD='tracepoint:syscalls:sys_enter_opnat { }'
before=$(grep -c "session " "$TG_WORK/runner.log")
kt alice check pod/web-a -n team-a -e "$BAD" >/dev/null 2>&1
kt alice check pod/web-a -n team-a -e "$BAD" >"$out" 2>"$err"
rc=$?
check "a program the node refuses: refused each time by the runner (rc=$rc)" \
	bash -c "[ '$rc' = 4 ] && [ \$(grep -c 'session ' '$TG_WORK/runner.log') -ge $((before + 2)) ]"

# a burst of one caller's identical first-time checks (a CI job fanned
# out): the first asks the runner, the others wait for its answer
# (gateway/dry-flight.h) instead of a session each; checks arriving after
# it are answered from the cache.  Either way the runner checks it once.
PB='tracepoint:syscalls:sys_enter_close { @closes[comm] = count(); }'
before=$(sessions)
pids=()
for i in 1 2 3 4 5 6 7 8; do
	kt alice check pod/web-a -n team-a -e "$PB" -o json >"$out.$i" 2>"$err.$i" &
	pids+=($!)
done
rcs=
for p in "${pids[@]}"; do wait "$p"; rcs+="$?"; done
got=$(for i in 1 2 3 4 5 6 7 8; do
	json_get '(d["allowed"], [c["fromCache"] for c in d["decision"]["compiled"]])' <"$out.$i" 2>&1
done | sort | uniq -c | tr -s ' \n' ' ')
check "8 identical checks at once: all allowed, one of them from the runner (rcs $rcs:$got)" \
	test "$rcs:$got" = "00000000: 1 (True, [False]) 7 (True, [True]) "
check "... which checked it in one session" test "$(sessions)" = $((before + 1))
# a burst of a program the runner refuses: each waiter, woken, asks the
# runner itself (a failure is never passed on to a request it was not)
BADB='tracepoint:syscalls:sys_enter_clse { }'
before=$(grep -c "session " "$TG_WORK/runner.log")
pids=()
for i in 1 2 3; do
	kt alice check pod/web-a -n team-a -e "$BADB" >"$out.$i" 2>"$err.$i" &
	pids+=($!)
done
rcs=
for p in "${pids[@]}"; do wait "$p"; rcs+="$?"; done
check "3 identical refused checks at once: each refused by the runner itself (rcs $rcs)" \
	bash -c "[ '$rcs' = 444 ] && [ \$(grep -c 'session ' '$TG_WORK/runner.log') -ge $((before + 3)) ]"

# cache.dryRunSeconds 0: off
kill "$TG_GATEWAY_PID" 2>/dev/null
wait "$TG_GATEWAY_PID" 2>/dev/null
TG_GATEWAY_EXTRA='"cache":{"dryRunSeconds":0},' gateway_start ||
	tap_fail "the gateway restarts with dryRunSeconds 0" "$(tail -3 "$TG_WORK/gateway.log")"
got=$(check_json alice "$P")
got2=$(check_json alice "$P")
check "dryRunSeconds 0: every check goes to the runner ($got, $got2)" \
	test "$got $got2" = "(True, [('node-1', False)]) (True, [('node-1', False)])"
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"
