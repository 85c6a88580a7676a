#!/usr/bin/env bash
# Ctrl-C as bpftrace (issue 9): the real kubectl in a pseudo-terminal, the
# keystroke typed (\x03 to the pty, the terminal driver makes the SIGINT).
# The first Ctrl-C ends the trace gracefully: END runs, the maps are
# printed, exit 0, nothing left loaded.  A second Ctrl-C aborts (130).  A
# reader that closes stdout ends the trace gracefully too.  The stop is a
# DELETE of the trace (docs/internals/contracts.md): only its creator may,
# and it is audited.
source "$(dirname "$0")/lib.sh"
need_bpf "Ctrl-C as bpftrace" || exit 0
stack_start || { tap_fail "ctrl-c: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
PTY=$TG_TOP/tests/e2e/pty-drive.py
out=$TG_WORK/out

# Each open of the pod's marker prints a line (the pod's opener loop makes
# one every 0.1 s) and counts in @opens; END prints a line of its own.
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); } END { printf("END ran\n"); }'

# ---- the first Ctrl-C: END, maps, exit 0 -------------------------------------------
rc=$(python3 "$PTY" "$out" 'wait:Attaching [0-9]+ probes?' 'wait:open\r?\nopen\r?\n' 'key:\x03' exit:60 -- \
	kubectl trace run --context alice pod/web-a -n team-a -e "$PROG" 2>"$TG_WORK/pty.err")
if [ "$rc" = 0 ] && grep -q 'END ran' "$out" && grep -Eq '^@opens\[cat\]: [0-9]+' "$out" &&
	! grep -q 'interrupted' "$out"; then
	tap_ok "the first Ctrl-C ends the trace as bpftrace: END runs, the map is printed, exit 0"
else
	tap_fail "the first Ctrl-C ends the trace as bpftrace: END runs, the map is printed, exit 0" \
		"rc=$rc" "$(cat "$TG_WORK/pty.err")" "$(tail -c 600 "$out")"
fi
# the map comes after END's output, as bpftrace prints them
check "END's output, then the map" \
	bash -c "grep -n -e 'END ran' -e '^@opens' '$out' | head -2 | tr '\n' ' ' | grep -q 'END ran.*@opens'"
check "the stopped trace left nothing loaded" wait_for 10 no_progs_left
audit_py 'sum(1 for r in recs if r["verb"] == "delete" and r["annotations"]["authorization.k8s.io/decision"] == "allow")' >"$TG_WORK/n.del"
audit_py '[r["tracegate"].get("stoppedBy", "") for r in recs if r["stage"] == "ResponseComplete" and r["verb"] == "create" and r["tracegate"].get("endReason") == "client-stop"]' >"$TG_WORK/stopped"
check "the stop is audited (verb delete) and the trace's record names it ($(cat "$TG_WORK/n.del"), $(cat "$TG_WORK/stopped"))" \
	bash -c "[ \"\$(cat '$TG_WORK/n.del')\" = 1 ] && grep -Eq \"\\['[0-9a-f-]{36}'\\]\" '$TG_WORK/stopped'"

# ---- a second Ctrl-C aborts: 130 ----------------------------------------------------
# A node that is slow to stop: its session is frozen (SIGSTOP) before the
# first Ctrl-C, so the graceful stop (recorded: the DELETE's audit record)
# cannot finish; the second Ctrl-C cuts the trace at once.
SLOW='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); }'
sessions() { ps -o pid= --ppid "$TG_RUNNER_PID" | tr -d ' '; }
ndel() { grep -c '"verb":"delete"' "$TG_AUDIT"; }
n0=$(ndel)
rc=$(python3 "$PTY" "$out" 'wait:open' "sh:kill -STOP \$(ps -o pid= --ppid $TG_RUNNER_PID)" 'key:\x03' \
	"until:[ \$(grep -c '\"verb\":\"delete\"' $TG_AUDIT) -gt $n0 ]" 'key:\x03' exit:60 -- \
	kubectl trace run --context alice pod/web-a -n team-a -e "$SLOW" 2>"$TG_WORK/pty.err")
for p in $(sessions); do kill -CONT "$p"; done
check "a second Ctrl-C aborts a stop that does not finish: exit 130, 'interrupted' (rc=$rc)" \
	bash -c "[ '$rc' = 130 ] && grep -q 'interrupted: the trace was aborted' '$out'"
check "the aborted trace left nothing loaded" wait_for 10 no_progs_left

# ---- stdout closed: the trace ends gracefully ----------------------------------------
# `| head -1`: the reader leaves after the first line; the plugin sees
# EPIPE, stops the trace (END runs on the node) and exits with the trace's
# status instead of dying of SIGPIPE with the trace cut.
kt alice run pod/web-a -n team-a -e "$SLOW" 2>"$TG_WORK/head.err" | head -1 >"$TG_WORK/head.out"
rcs=("${PIPESTATUS[@]}")
check "a closed stdout stops the trace gracefully: exit 0 (rc=${rcs[0]})" \
	bash -c "[ '${rcs[0]}' = 0 ] && [ \"\$(cat '$TG_WORK/head.out')\" != '' ]"
audit_py '[(r["tracegate"].get("endReason"), bool(r["tracegate"].get("stoppedBy"))) for r in recs if r["stage"] == "ResponseComplete" and r["verb"] == "create"][-1]' >"$TG_WORK/last"
check "its end was the stop it asked for, not a cut ($(cat "$TG_WORK/last"))" \
	bash -c "[ \"\$(cat '$TG_WORK/last')\" = \"('client-stop', True)\" ]"
check "nothing left loaded after the closed stdout" wait_for 10 no_progs_left

# ---- only the trace's creator may stop it ----------------------------------------------
# emptied here, not by the background job's redirection: the waits below
# must not find the previous trace's records in it (a race that sent a
# DELETE without an id)
: >"$TG_WORK/bg.out"
kt_bg alice run pod/web-a -n team-a -e "$SLOW" -o json >>"$TG_WORK/bg.out" 2>"$TG_WORK/bg.err" &
bg=$!
# attached (the stream starts once a runner has compiled: slow on a loaded machine)
wait_for 180 grep -q '"phase":"attached"' "$TG_WORK/bg.out" ||
	tap_fail "the trace attached within 180 s" "$(tail -3 "$TG_WORK/bg.err")"
id=$(head -1 "$TG_WORK/bg.out" | json_get 'd["trace"]')
del() { # del USER ID: the DELETE as USER, prints the HTTP code
	curl -s -o "$TG_WORK/del.out" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -X DELETE \
		-H "Authorization: Bearer $(fixture_token "$1")" \
		"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces/$2"
}
code=$(del bob "$id")
check "another user may not stop it: 403 naming why ($code)" \
	bash -c "[ '$code' = 403 ] && grep -q 'only the user who started it may' '$TG_WORK/del.out'"
code=$(del alice 00000000-0000-0000-0000-000000000000)
check "a trace that does not run: 404 ($code)" bash -c "[ '$code' = 404 ]"
code=$(del alice "$id")
wait "$bg"
rc=$?
check "its creator may: 200, and the stream ends with reason client-stop, exit 0 ($code, rc=$rc)" \
	bash -c "[ '$code' = 200 ] && [ $rc = 0 ] && tail -1 '$TG_WORK/bg.out' | grep -q '\"reason\":\"client-stop\"'"
check "nothing left loaded at the end" wait_for 10 no_progs_left

# ---- a node that does not end within the stop's grace is cut -----------------------
# Its session frozen, the stop cannot finish there: after 30 s
# (TRACE_STOP_GRACE_S) the gateway ends the trace, that node failed.
# emptied here, not by the background job's redirection: the waits below
# must not find the previous trace's records in it (a race that sent a
# DELETE without an id)
: >"$TG_WORK/bg.out"
kt_bg alice run pod/web-a -n team-a -e "$SLOW" -o json >>"$TG_WORK/bg.out" 2>"$TG_WORK/bg.err" &
bg=$!
# attached (the stream starts once a runner has compiled: slow on a loaded machine)
wait_for 180 grep -q '"phase":"attached"' "$TG_WORK/bg.out" ||
	tap_fail "the trace attached within 180 s" "$(tail -3 "$TG_WORK/bg.err")"
id=$(head -1 "$TG_WORK/bg.out" | json_get 'd["trace"]')
for p in $(sessions); do kill -STOP "$p"; done
code=$(del alice "$id")
gone() { ! kill -0 "$bg" 2>/dev/null; }
wait_for 90 gone
wait "$bg"
rc=$?
for p in $(sessions); do kill -CONT "$p"; done
got=$(grep '"type":"end"' "$TG_WORK/bg.out" | json_get '(d["reason"], d.get("failedNodes"))')
check "a node frozen past the stop's grace is cut: node-failed, exit 5 ($code, rc=$rc, $got)" \
	bash -c "[ '$code' = 200 ] && [ $rc = 5 ] && [ \"$got\" = \"('node-failed', ['node-1'])\" ] && grep -q 'did not end within 30 s of the stop' '$TG_WORK/bg.out'"
check "nothing left loaded after the cut" wait_for 20 no_progs_left
