#!/usr/bin/env bash
# A tenant traces their own pod, end to end, through the real kubectl, our
# plugin, the gateway, kubesim and a runner doing real BPF.
source "$(dirname "$0")/lib.sh"
need_bpf "tenant end to end" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

PROG='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
out=$TG_WORK/alice.out
err=$TG_WORK/alice.err
requests=0

# 1. alice traces her pod; a process that starts after the trace began is
#    seen too; team-b's marker, written at the same time, never is.
: >"$out"
kt alice run pod/web-a -n team-a --duration 6 -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
requests=$((requests + 1))
if wait_for 8 grep -q "marker-team-a-web-a" "$out"; then
	tap_ok "alice sees her pod's opens stream in"
else
	tap_fail "alice sees her pod's opens stream in" "$(cat "$out" "$err" | tail -20)" \
		"$(tail -20 "$TG_WORK/gateway.log" "$TG_WORK/runner.log" 2>/dev/null)"
fi
ids=$(runner_prog_ids)
check "while streaming, the runner holds our programs" test -n "$ids"
late=$TG_WORK/late-marker-a
: >"$late"
pod_run "$TG_CTR_A" bash -c "$(opener "$late")" >/dev/null
check "a process started after the trace began is seen" wait_for 4 grep -q "late-marker-a" "$out"
wait "$ktpid"
rc=$?
check "the trace ends with exit status 0 after its duration" test "$rc" -eq 0
if grep -q "marker-team-b" "$out"; then
	tap_fail "alice never sees team-b's marker" "$(grep marker-team-b "$out" | head -3)"
else
	tap_ok "alice never sees team-b's marker"
fi
# the pod's processes are bash, cat and sleep; anything else is foreign
foreign=$(grep -vE '^(cat|bash|sleep) |^Attaching [0-9]+ probes?\.\.\.$|^$' "$out" | head -3)
if [ -z "$foreign" ]; then
	tap_ok "every line comes from alice's pod"
else
	tap_fail "every line comes from alice's pod" "$foreign"
fi
# shellcheck disable=SC2086
if wait_for 2 progs_gone $ids && wait_for 2 no_progs_left; then
	tap_ok "no program of ours is left after the session (2 s)"
else
	tap_fail "no program of ours is left after the session (2 s)" "held: $(runner_prog_ids | tr '\n' ' ')" "$(progs_report)"
fi

# 2. team-b's pod: 403 with the reason, on one line
kt alice run pod/web-b -n team-b -e "$PROG" >"$out" 2>"$err"
rc=$?
requests=$((requests + 1))
if [ $rc -ne 0 ] && grep -q "Forbidden" "$err" && grep -qi "team-b" "$err"; then
	tap_ok "alice on pod/web-b -n team-b is refused (403) with the reason"
else
	tap_fail "alice on pod/web-b -n team-b is refused (403) with the reason" "rc=$rc" "$(cat "$err")"
fi
check "the refusal is one line on stderr" test "$(grep -c . "$err")" -eq 1

# 3. a user with no RoleBinding
kt carol run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
requests=$((requests + 1))
if [ $rc -ne 0 ] && grep -q "Forbidden" "$err"; then
	tap_ok "a user with no RoleBinding is refused (403)"
else
	tap_fail "a user with no RoleBinding is refused (403)" "rc=$rc" "$(cat "$err")"
fi

# 4. a bad token
kt mallory run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
requests=$((requests + 1))
if [ $rc -ne 0 ] && grep -q "Unauthorized" "$err"; then
	tap_ok "a bad token is refused (401)"
else
	tap_fail "a bad token is refused (401)" "rc=$rc" "$(cat "$err")"
fi

# 5. a client killed mid-stream: the runner detaches within 2 s
: >"$out"
kt_bg alice run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
requests=$((requests + 1))
if wait_for 8 grep -q "marker-team-a-web-a" "$out"; then
	ids=$(runner_prog_ids)
	check "while streaming, our program is loaded" test -n "$ids"
	kill -9 "$ktpid"
	wait "$ktpid" 2>/dev/null
	# shellcheck disable=SC2086
	if wait_for 2 progs_gone $ids && wait_for 2 no_progs_left; then
		tap_ok "a client killed mid-stream leaves no program of ours (2 s)"
	else
		tap_fail "a client killed mid-stream leaves no program of ours (2 s)" "$(progs_report)"
	fi
else
	tap_fail "the second trace streams" "$(cat "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# 6. the API server down: 503, nothing loaded
before=$(our_progs)
kubesim_stop
kt alice run pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
requests=$((requests + 1))
if [ $rc -ne 0 ] && grep -q "ServiceUnavailable" "$err"; then
	tap_ok "with kubesim stopped the request is refused (503)"
else
	tap_fail "with kubesim stopped the request is refused (503)" "rc=$rc" "$(cat "$err")"
fi
check "with kubesim stopped nothing is loaded" test "$(our_progs)" -le "$before"

# 7. the audit log: one decision record per request, with what a reviewer needs
sha=$(printf '%s' "$PROG" | sha256sum | cut -d' ' -f1)
got=$(audit_py 'len({r["auditID"] for r in recs if r.get("stage") == "ResponseStarted"})' 2>&1)
check "every request left exactly one decision record ($requests requests, $got records)" \
	test "$got" = "$requests"
got=$(audit_py 'max([sum(1 for r in recs if r["auditID"] == a and r.get("stage") == "ResponseStarted") for a in {r["auditID"] for r in recs}] or [0])' 2>&1)
check "no request has two decision records" test "$got" = 1
fields=$(audit_py '
[ (r["user"]["username"], "team-a-devs" in r["user"].get("groups", []), r["objectRef"]["namespace"],
   r["tracegate"]["target"], r["tracegate"]["programSHA256"],
   r["annotations"]["authorization.k8s.io/decision"], bool(r["annotations"].get("authorization.k8s.io/reason")))
  for r in recs if r.get("stage") == "ResponseStarted"
  and r["annotations"]["authorization.k8s.io/decision"] == "allow"][0]' 2>&1)
check "audit records carry user, groups, namespace, target, program SHA-256, decision, reason" \
	test "$fields" = "('alice', True, 'team-a', 'pod/web-a', '$sha', 'allow', True)"
if [ "$fields" != "('alice', True, 'team-a', 'pod/web-a', '$sha', 'allow', True)" ]; then
	echo "# got: $fields"
	echo "# want: ('alice', True, 'team-a', 'pod/web-a', '$sha', 'allow', True)"
fi
denials=$(audit_py '[(r["user"]["username"], r["objectRef"]["namespace"], r["annotations"]["authorization.k8s.io/decision"], r["responseStatus"]["code"]) for r in recs if r.get("stage") == "ResponseStarted" and r["annotations"]["authorization.k8s.io/decision"] != "allow"]' 2>&1)
check "denials are audited with their codes" \
	grep -q "('alice', 'team-b', 'forbid', 403).*('carol', 'team-a', 'forbid', 403)" <<<"$denials"
check "the bad token is audited as 401" grep -q "401" <<<"$denials"
check "the API-server outage is audited as 503" grep -q "503" <<<"$denials"
check "tracegate audit verify passes on the log" tracegate audit verify "$TG_AUDIT"
