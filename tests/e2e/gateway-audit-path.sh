#!/usr/bin/env bash
# The audit log's file taken from under a running gateway (issue 8,
# "nothing lost"): removed (an operator's rm), the gateway used to go on
# writing into the deleted file: every record after it, and the ones
# before, gone at the gateway's exit while traces ran.  Now the next record
# writes the file again at its path, whole (the records it held, then the
# new ones: the chain intact); renamed away as logrotate does (with and
# without creating an empty file in its place), the renamed file keeps
# its records and the file at the path continues the chain.  Each time,
# `tracegate audit verify` passes and every record is somewhere.
source "$(dirname "$0")/lib.sh"
need_bpf "audit log path" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

A=$TG_AUDIT
PROG='BEGIN { printf("hi\n"); exit(); }'
run1() { # a trace: a ResponseStarted and a ResponseComplete
	kt alice run pod/web-a -n team-a -e "$PROG" >"$TG_WORK/out" 2>"$TG_WORK/err" ||
		log "run: $(cat "$TG_WORK/err")"
}
nrec() { cat "$@" 2>/dev/null | grep -c .; }
wait_recs() { # wait_recs N FILE...: the files hold N records (the end's is written after the client's end)
	local n=$1
	shift
	wait_for 10 test "$(nrec "$@")" -ge "$n"
}

run1
wait_recs 2 "$A"
before=$(nrec "$A")
check "two records for a trace ($before)" test "$before" -eq 2

# ---- removed ----------------------------------------------------------------------
rm "$A"
run1
run1
wait_recs $((before + 4)) "$A"
check "after rm, the log is at its path again" test -f "$A"
check "the gateway holds no removed file open" bash -c "! ls -l /proc/$TG_GATEWAY_PID/fd | grep -q '(deleted)'"
n=$(nrec "$A")
check "it holds the records from before the rm and the new ones ($before + 4, got $n)" test "$n" -eq $((before + 4))
check "tracegate audit verify passes on it ($(tracegate audit verify "$A" 2>&1))" tracegate audit verify "$A"
total=$n

# ---- renamed away, nothing in its place (logrotate nocreate) -----------------------
mv "$A" "$A.2"
run1
wait_recs 2 "$A"
check "after mv, a new log is at the path" test -f "$A"
n=$(nrec "$A.2" "$A")
check "the renamed file and the new one hold every record ($total + 2, got $n)" test "$n" -eq $((total + 2))
check "verify passes across both ($(tracegate audit verify "$A.2" "$A" 2>&1))" tracegate audit verify "$A.2" "$A"
total=$n

# ---- renamed away, an empty file put in its place (logrotate create) ---------------
mv "$A" "$A.1"
: >"$A"
chmod 600 "$A"
run1
wait_recs 2 "$A"
n=$(nrec "$A.2" "$A.1" "$A")
check "the records go to the file put in its place ($total + 2, got $n)" test "$n" -eq $((total + 2))
check "verify passes across the three ($(tracegate audit verify "$A.2" "$A.1" "$A" 2>&1))" \
	tracegate audit verify "$A.2" "$A.1" "$A"

# ---- replaced by a file with something else in it: refused, not appended to ----------
mv "$A" "$A.0"
printf 'not an audit log\n' >"$A"
kt alice run pod/web-a -n team-a -e "$PROG" >"$TG_WORK/out" 2>"$TG_WORK/err"
rc=$?
check "a trace is refused with 503 naming the audit log (rc=$rc: $(head -c 300 "$TG_WORK/err"))" \
	bash -c "[ $rc -ne 0 ] && grep -q 'ServiceUnavailable.*audit log' '$TG_WORK/err'"
check "nothing ran" bash -c "! grep -q hi '$TG_WORK/out'"
check "the stranger's file is untouched" test "$(cat "$A")" = "not an audit log"
