#!/usr/bin/env bash
# kubectl trace --as / --as-group (issue 9): honoured through the gateway
# as the Kubernetes API server honours them, with a SubjectAccessReview of
# verb impersonate on users/NAME and groups/NAME for the authenticated
# user; audited with both identities (user and impersonatedUser); refused
# with a 403 naming the missing permission otherwise.  kubesim's RBAC: carol
# (no binding of her own) may impersonate user bob and group team-b-devs.
source "$(dirname "$0")/lib.sh"
need_bpf "impersonation" || exit 0
TG_EXTRA_RBAC=$(mktemp -d /tmp/tg-rbac.XXXXXX)
cat >"$TG_EXTRA_RBAC/impersonate.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: impersonate-bob
rules:
- apiGroups: [""]
  resources: ["users"]
  verbs: ["impersonate"]
  resourceNames: ["bob"]
- apiGroups: [""]
  resources: ["groups"]
  verbs: ["impersonate"]
  resourceNames: ["team-b-devs"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: carol-impersonates-bob
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: impersonate-bob
subjects:
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: carol
YAML
export TG_EXTRA_RBAC
stack_start || { tap_fail "impersonation: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$TG_EXTRA_RBAC"; fi' EXIT
out=$TG_WORK/out err=$TG_WORK/err
PROG='BEGIN { printf("hello\n"); exit(); }'

kt carol run pod/web-b -n team-b -e "$PROG" >"$out" 2>"$err"
rc=$?
check "control: carol alone may not trace in team-b (rc=$rc)" bash -c "[ $rc = 3 ]"

kt carol run pod/web-b -n team-b --as bob --as-group team-b-devs -e "$PROG" >"$out" 2>"$err"
rc=$?
check "carol --as bob --as-group team-b-devs traces web-b as bob (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -qx hello '$out'"
got=$(audit_py '[(r["user"]["username"], r["impersonatedUser"]["username"], r["impersonatedUser"]["groups"]) for r in recs if r.get("impersonatedUser") and r["stage"] == "ResponseStarted"]')
check "the audit record has both identities: user carol, impersonatedUser bob ($got)" \
	test "$got" = "[('carol', 'bob', ['team-b-devs', 'system:authenticated'])]"
kt carol check pod/web-b -n team-b --as bob --as-group team-b-devs -e "$PROG" >"$out" 2>"$err"
rc=$?
check "check honours --as too (rc=$rc)" bash -c "[ $rc = 0 ] && grep -q '^allowed' '$out'"

kt carol run pod/web-b -n team-b --as dave -e "$PROG" >"$out" 2>"$err"
rc=$?
check "a user carol may not impersonate: 403 naming the permission, exit 3 (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -qF 'Error from server (Forbidden): users \"dave\" is forbidden: User \"carol\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope' '$err'"
[ $rc = 3 ] || sed 's/^/# /' "$err"
kt carol run pod/web-b -n team-b --as bob --as-group system:masters -e "$PROG" >"$out" 2>"$err"
rc=$?
check "a group carol may not impersonate: 403 naming it (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -qF 'groups \"system:masters\" is forbidden: User \"carol\" cannot impersonate resource \"groups\"' '$err'"
kt alice run pod/web-b -n team-b --as bob -e "$PROG" >"$out" 2>"$err"
rc=$?
check "alice, without impersonate, may not act as bob (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -qF 'User \"alice\" cannot impersonate resource \"users\"' '$err'"
got=$(audit_py 'sum(1 for r in recs if r["annotations"]["authorization.k8s.io/decision"] == "forbid" and "cannot impersonate" in r["annotations"]["authorization.k8s.io/reason"])')
check "the refusals are audited ($got)" test "$got" = 3

kt carol run pod/web-b -n team-b --as-group team-b-devs -e "$PROG" >"$out" 2>"$err"
rc=$?
check "--as-group without --as is a usage error (rc=$rc)" bash -c "[ $rc = 2 ] && grep -q 'needs --as' '$err'"
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token carol)" \
	-H 'Content-Type: application/json' -H 'Impersonate-User: bob' -H 'Impersonate-Uid: 1' \
	--data '{"target":"pod/web-b","program":"BEGIN { exit(); }"}' \
	"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-b/traces")
check "other impersonation headers are refused, not ignored: 400 ($code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'Impersonate-Uid' '$out'"

# the kubeconfig's own impersonation (a user entry's as, as-groups), and
# the flags over it, field by field as client-go merges them
cat >"$TG_WORK/kubeconfig-as" <<KC
apiVersion: v1
kind: Config
current-context: carol-as-bob
clusters:
- name: sim
  cluster: {server: "$TG_API", certificate-authority: "$TG_CERTS/ca.crt"}
users:
- name: carol-as-bob
  user: {token: "$(fixture_token carol)", as: bob, as-groups: [team-b-devs]}
contexts:
- name: carol-as-bob
  context: {cluster: sim, user: carol-as-bob}
KC
KUBECONFIG=$TG_WORK/kubeconfig-as kubectl trace run pod/web-b -n team-b -e "$PROG" >"$out" 2>"$err"
rc=$?
check "a kubeconfig user with as: bob, as-groups: [team-b-devs] traces as bob (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -qx hello '$out'"
KUBECONFIG=$TG_WORK/kubeconfig-as kubectl trace run pod/web-b -n team-b --as dave -e "$PROG" >"$out" 2>"$err"
rc=$?
check "--as over the kubeconfig's as (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -qF 'users \"dave\" is forbidden: User \"carol\" cannot impersonate' '$err'"
