#!/usr/bin/env bash
# Issue 10: `kubectl trace run node/NAME`, a node-wide trace, through the
# real kubectl, the plugin, the gateway and a runner doing real BPF.  It
# needs RBAC's create on nodetraces named for the node (alice has none:
# 403, exit 3) and a policy with node scope (olga has nodetraces but only
# restricted applies to her: refused by the policy, naming scope); oscar
# (nodetraces, tracegate-admins: the privileged preset) sees a process
# that is in no pod.  An unknown node is a 404 naming it, a node without
# a runner a 503; the audit records name the nodetraces target; nothing
# stays loaded.
source "$(dirname "$0")/lib.sh"
need_bpf "kubectl node" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner of node-1, gateway, two pods)"

out=$TG_WORK/out
err=$TG_WORK/err
run_as() { # run_as USER ARGS...: kubectl trace run as USER, status in rc
	local u=$1
	shift
	timeout 60 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace run --context "$@"' "$TG_WORK" "$u" "$@" \
		>"$out" 2>"$err"
	rc=$?
}
expect() { # expect NAME RC REGEX...: the last run's status and stderr
	local name=$1 want=$2 re bad=
	shift 2
	[ "$rc" = "$want" ] || bad="rc=$rc, want $want"
	for re in "$@"; do
		grep -qE -- "$re" "$err" || bad="$bad; stderr: no match for /$re/"
	done
	if [ -z "$bad" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "$bad" "$(head -5 "$err")" "$(head -5 "$out")"
	fi
}

# ---- 1. RBAC: create nodetraces on that node --------------------------------
run_as alice node/node-1 -e 'BEGIN { printf("x\n"); exit(); }'
expect "alice (no nodetraces) is refused: 403, exit 3, naming the permission" 3 \
	'Forbidden' 'nodetraces\.tracegate\.dev "node-1" is forbidden' \
	'User "alice" cannot create resource "nodetraces" in API group "tracegate\.dev" at the cluster scope'
check "alice's refusal printed nothing on stdout" test ! -s "$out"
sar=$(audit_py '[(r["objectRef"]["resource"], r["objectRef"].get("namespace"), r["objectRef"]["name"], r["responseStatus"]["code"]) for r in recs if r["user"]["username"] == "alice"]')
check "alice's refusal is audited as create nodetraces node/node-1, cluster-scoped, 403 ($sar)" \
	grep -qF "('nodetraces', None, 'node/node-1', 403)" <<<"$sar"

# ---- 2. the policy: node scope ---------------------------------------------------
run_as olga node/node-1 -e 'BEGIN { printf("x\n"); exit(); }'
expect "olga (nodetraces, restricted only) is refused by the policy, naming scope" 3 \
	'Forbidden' 'scope "node" is not granted by policy "restricted"' 'rule scope'
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context olga node/node-1 -e "BEGIN { exit(); }"' \
	"$TG_WORK" >"$out" 2>"$err"
rc=$?
[ $rc -eq 3 ] && grep -q '^denied' "$out"
check "kubectl trace check says the same to olga (exit 3) (rc=$rc)" test $? -eq 0

# ---- 3. the privileged policy: the whole node ------------------------------------
mark=$TG_WORK/node-mark-outside
: >"$mark"
# this shell's child is in no pod's cgroup: a pod-scoped trace never sees it
bash -c "$(opener "$mark")" &
outside=$!
TG_PIDS+=("$outside")
run_as oscar node/node-1 --duration 30 \
	-e "tracepoint:syscalls:sys_enter_openat /str(args->filename) == \"$mark\"/ { printf(\"outside %s %d\\n\", comm, pid); exit(); }"
if [ "$rc" = 0 ] && grep -qE '^outside cat [0-9]+$' "$out"; then
	tap_ok "oscar (nodetraces, privileged) traces node-1 and sees a process outside every pod"
else
	tap_fail "oscar (nodetraces, privileged) traces node-1 and sees a process outside every pod" \
		"rc=$rc" "$(head -5 "$out")" "$(head -5 "$err")"
fi
timeout 30 bash -c 'KUBECONFIG=$0/kubeconfig exec kubectl trace check --context oscar node/node-1 -e "kprobe:vfs_read { @[comm] = count(); }"' \
	"$TG_WORK" >"$out" 2>"$err"
rc=$?
check "kubectl trace check allows oscar a kprobe on the node, by privileged (rc=$rc)" \
	grep -q 'allowed by policy "privileged"' "$out"
# BEGIN keeps bpftrace's meaning on a node: the tracer's own pid
run_as oscar nodes/node-1 -e 'BEGIN { printf("begin %d\n", pid > 0); exit(); }'
expect "BEGIN may read pid on a node (no pod scope), nodes/ spelling" 0
check "BEGIN printed (stdout: $(head -2 "$out"))" grep -q '^begin 1$' "$out"
kill "$outside" 2>/dev/null

# ---- 4. the node must exist and have a runner -------------------------------------
run_as oscar node/node-9 -e 'BEGIN { exit(); }'
expect "an unknown node is a 404 naming it" 1 'nodes "node-9" not found'
run_as oscar node/node-2 -e 'BEGIN { exit(); }'
expect "a node without a runner is a 503 naming it" 1 'no runner for node "node-2"'

# ---- 5. what the plugin refuses itself -------------------------------------------
run_as oscar node/node-1 --detach -e 'BEGIN { exit(); }'
expect "--detach with a node target is a usage error" 2 'cannot be detached'
run_as oscar node/node-1 -c app -e 'BEGIN { exit(); }'
expect "-c with a node target is a usage error" 2 'has no container'
code=$(curl -sS --cacert "$TG_CERTS/ca.crt" -o "$out" -w '%{http_code}' -H "Authorization: Bearer $(fixture_token oscar)" \
	-H 'Content-Type: application/json' --data '{"target":"node/node-1","program":"BEGIN { exit(); }"}' \
	"$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces" 2>"$err")
check "node/NAME posted to a namespace's traces is a 400 (code=$code)" \
	bash -c "[ '$code' = 400 ] && grep -q nodetraces '$out'"

# ---- 6. the audit records ---------------------------------------------------------
got=$(audit_py '[(r["stage"], r["objectRef"]["resource"], r["objectRef"].get("namespace"), r["tracegate"].get("target"), r["tracegate"].get("scope"), r["tracegate"].get("nodes"), r["tracegate"].get("policy"), r["tracegate"].get("pods")) for r in recs if r["user"]["username"] == "oscar" and r["responseStatus"]["code"] == 200 and not r["tracegate"].get("dryRun")]')
check "oscar's trace is audited: nodetraces, no namespace, target node/node-1, scope node, node-1, privileged, no pods" \
	grep -qF "('ResponseStarted', 'nodetraces', None, 'node/node-1', 'node', ['node-1'], 'privileged', [])" <<<"$got"
check "and its end ($got)" grep -qF "('ResponseComplete', 'nodetraces', None, 'node/node-1', 'node'" <<<"$got"
got=$(audit_py '[(r["tracegate"].get("target"), r["responseStatus"]["code"], [d["rule"] for d in r["tracegate"].get("denials", [])]) for r in recs if r["user"]["username"] == "olga"]')
check "olga's policy refusal is audited with the rule scope ($got)" \
	grep -qF "('node/node-1', 403, ['scope'])" <<<"$got"
check "the audit log verifies" tracegate audit verify "$TG_AUDIT"

# ---- 7. the runner takes node scope only when said so, never with pods --------------
GW=(--cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key")
direct() { # direct EXTRA_JSON: a session body straight to the runner; prints the HTTP code
	printf '{"trace":"t-node-direct","program":"BEGIN { exit(); }","canonical":"BEGIN { exit(); }","duration":5,"limits":{"maxMapEntries":64,"maxDuration":60}%s}' "$1" >"$TG_WORK/direct.json"
	timeout 30 curl -sS "${GW[@]}" -o "$TG_WORK/direct.out" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$TG_WORK/direct.json" "$TG_RUNNER_URL/v1/sessions" 2>/dev/null
}
pods=',"pods":[{"namespace":"team-a","name":"web-a","uid":"'"$(pod_uid team-a web-a)"'"}]'
code=$(direct ',"scope":"node","node":"node-1"'"$pods")
check "the runner refuses a node scope with pods (400, code=$code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'never both' '$TG_WORK/direct.out'"
code=$(direct '')
check "the runner refuses a body with neither pods nor node scope (400, code=$code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'missing or not an array' '$TG_WORK/direct.out'"
code=$(direct ',"scope":"node","node":"node-2"')
check "the runner refuses a node scope for another node (400, code=$code)" \
	bash -c "[ '$code' = 400 ] && grep -q 'this runner serves node' '$TG_WORK/direct.out'"

if wait_for 5 no_progs_left; then
	tap_ok "no program of ours is left"
else
	tap_fail "no program of ours is left" "$(progs_report)"
fi
