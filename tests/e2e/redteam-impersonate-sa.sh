#!/usr/bin/env bash
# --as of a ServiceAccount, as the Kubernetes API server decides it: the
# user name system:serviceaccount:NS:NAME is that ServiceAccount, and
# impersonating it takes verb impersonate on serviceaccounts/NAME in NS;
# a grant to impersonate users does not reach it (before, the gateway
# asked only users/NAME: carol, allowed to impersonate human users, could
# act as any ServiceAccount, one of a CI system or of a controller).  A
# ServiceAccount impersonated without --as-group has its own groups
# (system:serviceaccounts, system:serviceaccounts:NS), as the API server
# gives them.
source "$(dirname "$0")/lib.sh"
need_bpf "impersonating a ServiceAccount" || exit 0
TG_EXTRA_RBAC=$(mktemp -d /tmp/tg-rbac.XXXXXX)
cat >"$TG_EXTRA_RBAC/impersonate-sa.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: impersonate-users
rules:
- apiGroups: [""]
  resources: ["users", "groups"]
  verbs: ["impersonate"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: carol-impersonates-users
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: impersonate-users
subjects:
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: carol
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: impersonate-builder
  namespace: team-b
rules:
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["impersonate"]
  resourceNames: ["builder"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: dave-impersonates-builder
  namespace: team-b
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: impersonate-builder
subjects:
- kind: User
  apiGroup: rbac.authorization.k8s.io
  name: dave
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: builder-traces
  namespace: team-b
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: tracegate-tracer
subjects:
- kind: ServiceAccount
  name: builder
  namespace: team-b
YAML
export TG_EXTRA_RBAC
stack_start || { tap_fail "impersonating a ServiceAccount: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$TG_EXTRA_RBAC"; fi' EXIT
out=$TG_WORK/out err=$TG_WORK/err
PROG='BEGIN { printf("hello\n"); exit(); }'
SA=system:serviceaccount:team-b:builder

# dave has no context in the stack's kubeconfig
cat >"$TG_WORK/kubeconfig-dave" <<KC
apiVersion: v1
kind: Config
current-context: dave
clusters:
- name: sim
  cluster: {server: "$TG_API", certificate-authority: "$TG_CERTS/ca.crt"}
users:
- name: dave
  user: {token: "$(fixture_token dave)"}
contexts:
- name: dave
  context: {cluster: sim, user: dave}
KC
dave() { KUBECONFIG=$TG_WORK/kubeconfig-dave kubectl trace "$@"; }

kt carol run pod/web-b -n team-b --as bob --as-group team-b-devs -e "$PROG" >"$out" 2>"$err"
rc=$?
check "control: carol, who may impersonate users and groups, acts as bob (rc=$rc)" bash -c "[ $rc = 0 ] && grep -qx hello '$out'"

kt carol run pod/web-b -n team-b --as "$SA" -e "$PROG" >"$out" 2>"$err"
rc=$?
check "carol may not act as ServiceAccount team-b/builder: impersonating users does not reach it (rc=$rc)" \
	bash -c "[ $rc = 3 ] && ! grep -q hello '$out' && grep -qF 'serviceaccounts \"builder\" is forbidden: User \"carol\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"team-b\"' '$err'"
[ $rc = 3 ] || sed 's/^/# /' "$err" "$out"

dave run pod/web-b -n team-b --as "$SA" -e "$PROG" >"$out" 2>"$err"
rc=$?
check "dave, granted serviceaccounts/builder in team-b, acts as it (rc=$rc)" \
	bash -c "[ $rc = 0 ] && grep -qx hello '$out'"
[ $rc = 0 ] || sed 's/^/# /' "$err"
got=$(audit_py '[(r["user"]["username"], r["impersonatedUser"]["username"], r["impersonatedUser"]["groups"]) for r in recs if r.get("impersonatedUser") and r["stage"] == "ResponseStarted" and r["user"]["username"] == "dave"]')
check "with the ServiceAccount's own groups, audited as both ($got)" \
	test "$got" = "[('dave', '$SA', ['system:serviceaccounts', 'system:serviceaccounts:team-b', 'system:authenticated'])]"

dave run pod/web-b -n team-b --as bob -e "$PROG" >"$out" 2>"$err"
rc=$?
check "dave's grant on a ServiceAccount is not one on users (rc=$rc)" \
	bash -c "[ $rc = 3 ] && grep -qF 'User \"dave\" cannot impersonate resource \"users\"' '$err'"
