#!/usr/bin/env bash
# The API server frozen or gone (issue 8: faults): authentication and
# authorization fail closed.  A request is refused with a 503 that says
# the API server is unavailable and which review could not be made (once,
# not twice), within the gateway's cut-off, and audited; once the API
# server is back, the next request runs.
source "$(dirname "$0")/lib.sh"
need_bpf "API server down" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
thaw() { kill -CONT "$TG_KUBESIM_PID" 2>/dev/null; }
trap 'if [ "$BASHPID" = "$$" ]; then thaw; stack_stop; fi' EXIT

# run USER: a one-probe trace of the user's pod; its exit code
run() {
	local ns=team-a pod=web-a
	[ "$1" = bob ] && ns=team-b pod=web-b
	timeout 120 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context "$1" "pod/$2" -n "$3" -e "BEGIN { printf(\"up\\n\"); exit(); }"' \
		"$TG_WORK" "$1" "$pod" "$ns" >"$out" 2>"$err"
}
records() { audit_py 'len(recs)'; }

# ---- 1. frozen: the reviews hang ----------------------------------------------------
n0=$(records)
kill -STOP "$TG_KUBESIM_PID"
run bob
rc=$?
check "frozen: bob's request is refused (exit $rc, not 0)" test "$rc" -ne 0
check "frozen: the error says the API server is unavailable ($(head -c 300 "$err"))" \
	grep -q 'API server unavailable' "$err"
check "frozen: it names the review once, not twice" \
	bash -c '! grep -qE "(tokenreview|subjectaccessreview): (tokenreview|subjectaccessreview)" "$0"' "$err"
got=$(audit_py "[(r['responseStatus']['code'], r['annotations'].get('authorization.k8s.io/decision')) for r in recs[$n0:]]")
check "frozen: audited as a 503 forbid ($got)" bash -c '[[ "$0" == *"(503, '"'"'forbid'"'"')"* ]]' "$got"
check "frozen: nothing was allowed ($got)" bash -c '[[ "$0" != *allow* ]]' "$got"
thaw

# ---- 2. back: the next request runs -------------------------------------------------
check "back: bob's next request runs" wait_for 60 bash -c "$(declare -f run); TG_WORK=$TG_WORK out=$out err=$err; run bob && grep -qx up $out"

# ---- 3. gone: the connection is refused ---------------------------------------------
n0=$(records)
kill -9 "$TG_KUBESIM_PID"
wait "$TG_KUBESIM_PID" 2>/dev/null
# carol's token has not been reviewed yet: the TokenReview itself fails
run carol
rc=$?
check "gone: carol's request is refused (exit $rc, not 0)" test "$rc" -ne 0
check "gone: the error says the API server is unavailable ($(head -c 300 "$err"))" \
	grep -q 'API server unavailable' "$err"
check "gone: it names the review once" \
	bash -c '! grep -qE "(tokenreview|subjectaccessreview): (tokenreview|subjectaccessreview)" "$0"' "$err"
got=$(audit_py "[r['responseStatus']['code'] for r in recs[$n0:]]")
check "gone: audited as a 503 ($got)" bash -c '[[ "$0" == *503* ]]' "$got"
check "tracegate audit verify passes" tracegate audit verify "$TG_AUDIT"
