#!/usr/bin/env bash
# `kubectl trace check` as a full dry run (issue 9): the policy, then on
# a runner of the target's node the parse, semantic analysis, code
# generation, clang and the object verifier, without loading anything.
# Its answer is what `run` would do up to the load: a program that cannot
# run on the node fails the check with bpftrace's error form and exit 4
# (a program error), in text and in -o json.  workload.sh checks a
# deployment across two nodes.
source "$(dirname "$0")/lib.sh"
need_bpf "check as a dry run" || exit 0
stack_start || { tap_fail "check: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out
err=$TG_WORK/err

# 1. a misspelled tracepoint: only the node knows it does not exist
BAD='tracepoint:syscalls:sys_enter_opnat { }'
kt alice check pod/web-a -n team-a -e "$BAD" >"$out" 2>"$err"
rc=$?
cat "$out" "$err" >"$TG_WORK/both"
n=$(grep -c '^program:1:1: ERROR: no probe of the program exists here: probe "tracepoint:syscalls:sys_enter_opnat": no such tracepoint here' "$TG_WORK/both")
if [ "$rc" = 4 ] && [ "$n" = 1 ] && grep -qxF "$BAD" "$TG_WORK/both" && grep -qx '\^' "$TG_WORK/both"; then
	tap_ok "check of a misspelled tracepoint: why, once, in bpftrace's form (line, source, caret), exit 4"
else
	tap_fail "check of a misspelled tracepoint: why, once, in bpftrace's form (line, source, caret), exit 4" \
		"rc=$rc n=$n" "$(cat "$TG_WORK/both")"
fi
kt alice run pod/web-a -n team-a -e "$BAD" >"$out" 2>"$err"
rrc=$?
cat "$out" "$err" | grep -v '^denied$' >"$TG_WORK/run-both"
grep -v '^denied$' "$TG_WORK/both" >"$TG_WORK/check-both"
check "run says the same and exits the same (rc=$rrc)" \
	bash -c "[ '$rrc' = 4 ] && diff '$TG_WORK/check-both' '$TG_WORK/run-both' >/dev/null"
kt alice check pod/web-a -n team-a -e "$BAD" -o json >"$out" 2>"$err"
rc=$?
got=$(json_get '(d["allowed"], d["code"], d["status"]["details"]["causes"][0]["field"], "sys_enter_opnat" in d["status"]["message"])' <"$out" 2>&1)
check "check -o json: not allowed, 400, the cause at program:1:1, exit 4 ($got, rc=$rc)" \
	test "$got" = "(False, 400, 'program:1:1', True)" -a "$rc" = 4

# 2. printf("%d", comm): a string where an integer is expected
PF='tracepoint:syscalls:sys_enter_openat { printf("%d", comm); }'
kt alice check pod/web-a -n team-a -e "$PF" >"$out" 2>"$err"
rc=$?
cat "$out" "$err" >"$TG_WORK/both"
n=$(grep -c '^program:1:40: ERROR: printf: "%d" (argument 1) expects a value of type integer (string supplied)$' "$TG_WORK/both")
check "check of printf(\"%d\", comm): why, once, with source and caret, exit 4 (rc=$rc, $n)" \
	bash -c "[ '$rc' = 4 ] && [ '$n' = 1 ] && grep -qxF '$PF' '$TG_WORK/both' && grep -qx ' \{39\}\^' '$TG_WORK/both'"
kt alice check pod/web-a -n team-a -e "$PF" -o json >"$out" 2>"$err"
rc=$?
got=$(json_get '(d["allowed"], d["code"], d["status"]["details"]["causes"][0]["field"])' <"$out" 2>&1)
check "its -o json: not allowed, 400 at program:1:40, exit 4 ($got, rc=$rc)" \
	test "$got" = "(False, 400, 'program:1:40')" -a "$rc" = 4

# 3. a program that can run: checked on the node's runner, nothing loaded
GOOD='tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
kt alice check pod/web-a -n team-a -e "$GOOD" >"$out" 2>"$err"
rc=$?
check "a good program: allowed, compiled and verified on node-1, exit 0 (rc=$rc)" \
	bash -c "[ '$rc' = 0 ] && grep -q '^allowed: allowed by policy \"restricted\"' '$out' &&
		grep -qx '  compiled and verified on: node-1 (1 probe)' '$out'"
check "the runner's session was a check: outcome checked, nothing loaded" \
	grep -q "session .* outcome=checked " "$TG_WORK/runner.log"
check "no program stays loaded" no_progs_left
kt alice check pod/web-a -n team-a -e "$GOOD" -o json >"$out" 2>"$err"
got=$(json_get '(d["allowed"], d["decision"]["status"]["phase"], [(c["node"], c["probes"], len(c["object"])) for c in d["decision"]["compiled"]])' <"$out" 2>&1)
check "its -o json: the nodes' compiled objects ($got)" test "$got" = "(True, 'Checked', [('node-1', 1, 64)])"
cached=$(json_get '[c["fromCache"] for c in d["decision"]["compiled"]] == [True]' <"$out" 2>&1)
# the records of the last two dry runs, each its stages and end
got=$(audit_py '[[(x["stage"], x["tracegate"].get("endReason")) for x in recs if x["auditID"] == a] for a in list(dict.fromkeys(r["auditID"] for r in recs if r["tracegate"].get("dryRun")))[-2:]]')
want="[('ResponseStarted', None), ('ResponseComplete', 'dryRun')]"
# the same check again within cache.dryRunSeconds asks no runner: its
# answer's record is the only one (docs/audit.md)
last=$want
[ "$cached" = True ] && last="[('ResponseComplete', 'dryRun')]"
check "audited: the decision before the runners, then the outcome; from the cache, the outcome alone (cached $cached: $got)" \
	test "$got" = "[$want, $last]"

# 4. the policy still comes first: a denied program never reaches a runner
before=$(grep -c "session " "$TG_WORK/runner.log")
kt alice check pod/web-a -n team-a -e 'kprobe:do_nanosleep { @ = count(); }' >"$out" 2>"$err"
rc=$?
check "a program the policy denies: denied, exit 3, no runner session (rc=$rc)" \
	bash -c "[ '$rc' = 3 ] && grep -qx denied '$out' && [ \$(grep -c 'session ' '$TG_WORK/runner.log') = $before ]"
