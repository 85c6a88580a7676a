#!/usr/bin/env bash
# Re-authorization (issue 10): a running stream asks its SubjectAccessReviews
# again every decision-cache TTL (2 s here), past the cache.  The admin
# deletes team-a's RoleBinding in kubesim while alice streams: the trace
# ends gracefully (END runs on the node, maps come) within the TTL plus
# slack, with end reason "revoked", a message naming the permission, exit 3
# and a ResponseComplete record carrying both.  With the binding created
# again alice traces again.  An impersonation right (a ClusterRoleBinding
# created at run time) revoked ends a stream the same way.  A target pod deleted during its stream ends it
# the same way with "target-gone" (exit 5).
source "$(dirname "$0")/lib.sh"
need_bpf "re-authorization" || exit 0
TTL=2
export TG_GATEWAY_EXTRA='"cache":{"allowedSeconds":'$TTL',"deniedSeconds":'$TTL'},'
stack_start || { tap_fail "reauth: stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 1; }
tap_ok "stack starts (decision cache TTL $TTL s)"
out=$TG_WORK/out
err=$TG_WORK/err
ADMIN=$(fixture_token admin)
RB=$TG_API/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings
api() { curl -sS --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $ADMIN" "$@"; }
# end_rec REASON EXPR: EXPR over the last ResponseComplete record r with
# that endReason, once there is one (the client may exit before it is written)
has_end_rec() { audit_py "[1 for r in recs if r['stage'] == 'ResponseComplete' and r['tracegate'].get('endReason') == '$1']" | grep -q 1; }
end_rec() {
	wait_for 10 has_end_rec "$1"
	audit_py "[($2) for r in recs if r['stage'] == 'ResponseComplete' and r['tracegate'].get('endReason') == '$1'][-1]"
}
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @opens[comm] = count(); printf("open\n"); } END { printf("END ran\n"); }'

# ---- kubesim: RBAC bindings written at run time ------------------------------------
code=$(api -o "$TG_WORK/rb.json" -w '%{http_code}' "$RB/tracegate-tracer")
check "kubesim serves team-a's RoleBinding ($code)" test "$code" = 200
code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$RB/no-such-binding")
check "deleting a missing RoleBinding is 404 ($code)" test "$code" = 404
code=$(api -o "$TG_WORK/bad.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"x"},"roleRef":{"kind":"Role","name":"r"}}' "$RB")
check "a RoleBinding without roleRef.apiGroup is 422 naming it ($code)" \
	bash -c "[ '$code' = 422 ] && grep -q 'roleRef' '$TG_WORK/bad.json'"
code=$(curl -sS --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token tracegate)" \
	-o /dev/null -w '%{http_code}' -X DELETE "$RB/tracegate-tracer")
check "the gateway's ServiceAccount may not delete RoleBindings (403: $code)" test "$code" = 403

# ---- a RoleBinding deleted during a stream ----------------------------------------
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 120 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 60 grep -q '"type":"output"' "$out"; then
	# two rounds of re-checks (create traces, get pods: 2 reviews each) reach
	# the API server and allow: the stream goes on
	sars() { grep -c 'subjectaccessreviews' "$TG_WORK/kubesim.log"; }
	n0=$(sars)
	rounds() { [ "$(sars)" -ge $((n0 + 4)) ]; }
	check "the stream's reviews are asked again of the API server (2 rounds)" wait_for $((4 * TTL + 20)) rounds
	check "allowed re-checks leave the stream running" kill -0 "$ktpid"
	t0=$(date +%s.%N)
	code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$RB/tracegate-tracer")
	check "the admin deletes team-a's RoleBinding ($code)" test "$code" = 200
	ended() { grep -q '"type":"end"' "$out"; }
	wait_for $((TTL + 20)) ended
	t1=$(date +%s.%N)
	wait "$ktpid"
	rc=$?
	took=$(python3 -c "print(round($t1 - $t0, 1))")
	check "the stream ended ${took} s after the deletion (TTL $TTL s + slack 10 s)" \
		python3 -c "import sys; sys.exit(0 if $took <= $TTL + 10 else 1)"
	got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], "create" in d.get("message", "") and "traces" in d.get("message", "") and "alice" in d.get("message", ""))')
	check "the end says revoked, the message names the permission ($got)" test "$got" = "('revoked', True)"
	check "END ran on the node and the map came (graceful stop)" \
		bash -c "grep -q 'END ran' '$out' && grep -q '\"type\":\"map\"' '$out'"
	check "the plugin exits 3 (refused) ($rc)" test "$rc" -eq 3
	got=$(end_rec revoked 'r["tracegate"]["endReason"], "permission revoked" in r["tracegate"].get("endMessage", "")')
	check "the ResponseComplete record carries revoked and the message ($got)" test "$got" = "('revoked', True)"
	check "the revoked trace left nothing loaded" wait_for 10 no_progs_left
else
	tap_fail "alice's trace streams" "$(tail -3 "$out" "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# ---- without the binding: refused; with it again: allowed --------------------------
refused() { ! kt alice run pod/web-a -n team-a --duration 1 -e 'BEGIN { exit(); }' >/dev/null 2>"$err" && grep -q Forbidden "$err"; }
check "without the binding alice is refused (403)" wait_for $((TTL + 10)) refused
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d @"$TG_WORK/rb.json" "$RB")
check "the admin creates the RoleBinding again ($code)" test "$code" = 201
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d @"$TG_WORK/rb.json" "$RB")
check "creating it twice is 409 ($code)" test "$code" = 409
allowed() { kt alice run pod/web-a -n team-a --duration 1 -e 'BEGIN { exit(); }' >/dev/null 2>"$err"; }
check "with the binding again alice traces (within the denied TTL)" wait_for $((TTL + 10)) allowed

# ---- an impersonation right revoked during a stream --------------------------------
# carol (no binding of her own) gets the right to impersonate bob at run
# time (a ClusterRole and a ClusterRoleBinding POSTed to kubesim); her
# stream as bob ends when the ClusterRoleBinding goes.
CR=$TG_API/apis/rbac.authorization.k8s.io/v1/clusterroles
CRB=$TG_API/apis/rbac.authorization.k8s.io/v1/clusterrolebindings
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"impersonate-bob"},"rules":[{"apiGroups":[""],"resources":["users"],"verbs":["impersonate"],"resourceNames":["bob"]},{"apiGroups":[""],"resources":["groups"],"verbs":["impersonate"],"resourceNames":["team-b-devs"]}]}' "$CR")
code2=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"carol-impersonates-bob"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"impersonate-bob"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"carol"}]}' "$CRB")
check "the admin lets carol impersonate bob at run time ($code, $code2)" test "$code $code2" = "201 201"
PROG_B='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_B"'"/ { printf("open\n"); } END { printf("END ran\n"); }'
: >"$out"
kt_bg carol run pod/web-b -n team-b --as bob --as-group team-b-devs --duration 120 -o json -e "$PROG_B" >"$out" 2>"$err" &
ktpid=$!
if wait_for 60 grep -q '"type":"output"' "$out"; then
	code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$CRB/carol-impersonates-bob")
	check "the admin deletes the ClusterRoleBinding ($code)" test "$code" = 200
	wait_for $((TTL + 20)) grep -q '"type":"end"' "$out"
	wait "$ktpid"
	rc=$?
	got=$(grep '"type":"end"' "$out" | json_get '(d["reason"], "carol" in d.get("message", "") and "impersonate" in d.get("message", "") and "bob" in d.get("message", ""))')
	check "carol's stream as bob ends revoked, the message naming the impersonation ($got, rc=$rc)" \
		bash -c "[ \"$got\" = \"('revoked', True)\" ] && [ $rc -eq 3 ] && grep -q 'END ran' '$out'"
	imp_rec() { audit_py '[1 for r in recs if r["stage"] == "ResponseComplete" and r.get("impersonatedUser")]' | grep -q 1; }
	wait_for 10 imp_rec
	got=$(end_rec revoked 'r["user"]["username"], r.get("impersonatedUser", {}).get("username"), r["tracegate"]["endReason"]')
	check "its ResponseComplete names both identities and revoked ($got)" test "$got" = "('carol', 'bob', 'revoked')"
else
	tap_fail "carol's stream as bob runs" "$(tail -3 "$out" "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi

# ---- the target pod deleted during a stream ------------------------------------------
# (text this time: the message goes to stderr as the plugin shows it)
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 120 -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 60 grep -q '^open' "$out"; then
	code=$(api -o /dev/null -w '%{http_code}' -X DELETE "$TG_API/api/v1/namespaces/team-a/pods/web-a")
	check "the admin deletes pod web-a ($code)" test "$code" = 200
	gone() { ! kill -0 "$ktpid" 2>/dev/null; }
	wait_for $((TTL + 20)) gone
	wait "$ktpid"
	rc=$?
	check "stderr says the pod was deleted" grep -q 'error: pod "web-a" in namespace "team-a" was deleted' "$err"
	check "END ran and the map came (graceful stop)" \
		bash -c "grep -q 'END ran' '$out' && grep -Eq '^@opens\[cat\]: [0-9]+' '$out'"
	check "the plugin exits 5 ($rc)" test "$rc" -eq 5
	got=$(end_rec target-gone 'r["tracegate"]["endReason"], "web-a" in r["tracegate"].get("endMessage", "")')
	check "the ResponseComplete record says target-gone naming the pod ($got)" test "$got" = "('target-gone', True)"
else
	tap_fail "alice's trace of a pod to be deleted streams" "$(tail -3 "$out" "$err")"
	kill -9 "$ktpid" 2>/dev/null
fi
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"
