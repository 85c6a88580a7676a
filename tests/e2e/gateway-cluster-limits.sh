#!/usr/bin/env bash
# Cluster-wide concurrency limits (issue 10): maxConcurrentTraces per user
# and per namespace are counted from the runners (GET /v1/sessions: every
# session with its owner), not from one gateway's memory.  Two gateway
# processes share the runner: a trace alice runs through the first counts
# when she (or dave, of the same namespace) starts one through the second:
# 429 naming the limit, audited by the second; bob in another namespace is
# not held back; once alice's trace ends the second gateway admits her.
# The second gateway also knows a runner for node-2: a count that cannot
# ask it (stopped, killed) fails closed, 503 naming the node and the
# limit, audited and logged; once it is back, starts are admitted again.
source "$(dirname "$0")/lib.sh"
need_bpf "cluster-wide limits" || exit 0

POL=$(mktemp -d /tmp/tg-e2e-climits.XXXXXX)
cat >"$POL/limited.yaml" <<EOF
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: limited
spec:
  subjects: {groups: [team-a-devs, team-b-devs, team-a-pod-tracers]}
  scope: [pod]
  probes: {allow: ["tracepoint:syscalls:*", BEGIN, END]}
  builtins: {allow: ["*"]}
  functions: {allow: ["*"]}
  userMemory: syscallArgs
  limits: {maxDuration: 120s, maxConcurrentTraces: {perUser: 1, perNamespace: 1}}
EOF
export TG_POLICIES=$POL
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 1; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$POL"; fi' EXIT
tap_ok "stack starts"

# ---- a second gateway process, sharing the runner, and a runner of node-2 ---------------
mkdir -p "$TG_CGROOT/node-2"
N2_PORT=$(free_port)
runner_node_start node-2 "$N2_PORT" || { tap_fail "node-2's runner starts"; exit 1; }
G2_PORT=$(free_port)
G2=https://127.0.0.1:$G2_PORT
G2_AUDIT=$TG_WORK/audit-2.log
python3 - "$TG_WORK/gateway.json" "$TG_WORK/gateway-2.json" "$G2_PORT" "$G2_AUDIT" "$N2_PORT" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["listen"] = "127.0.0.1:" + sys.argv[3]
c["audit"]["path"] = sys.argv[4]
c["runners"]["node-2"] = {"url": "https://127.0.0.1:" + sys.argv[5]}
json.dump(c, open(sys.argv[2], "w"))
EOF
tracegate serve --config "$TG_WORK/gateway-2.json" 2>>"$TG_WORK/gateway-2.log" &
TG_PIDS+=("$!")
check "a second gateway starts" wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$G2/healthz" -o /dev/null

out=$TG_WORK/out
err=$TG_WORK/err
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }'
: >"$TG_WORK/bg.out"
kt_bg alice run pod/web-a -n team-a -e "$PROG" >"$TG_WORK/bg.out" 2>"$TG_WORK/bg.err" &
bgpid=$!
if ! wait_for 60 grep -q open "$TG_WORK/bg.out"; then
	tap_fail "alice's trace runs through the first gateway" "$(cat "$TG_WORK/bg.err")"
	exit 1
fi
tap_ok "alice's trace runs through the first gateway"

# the runner lists it with its owner (what the gateways count)
sessions=$(curl -sS --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/sessions")
got=$(json_get '[(s["namespace"], s["user"], s["detached"]) for s in d["items"]]' <<<"$sessions")
check "the runner's GET /v1/sessions lists it with its owner ($got)" test "$got" = "[('team-a', 'alice', False)]"

second() { # second CONTEXT ARGS...: kubectl trace run through the second gateway
	local u=$1
	shift
	TRACEGATE_URL=$G2 timeout 30 kubectl trace run --context "$u" "$@" -e 'BEGIN { printf("hi\n"); exit(); }' \
		>"$out" 2>"$err"
}
second alice pod/web-a -n team-a
rc=$?
check "alice through the second gateway: 429 naming maxConcurrentTraces.perUser and the count (rc=$rc)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'TooManyRequests' '$err' && grep -q 'user \"alice\" already runs 1, the limit maxConcurrentTraces.perUser' '$err'"
second alice --token "$(fixture_token dave)" pod/web-a -n team-a
rc=$?
check "dave (team-a) through the second gateway: 429 naming maxConcurrentTraces.perNamespace (rc=$rc)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'namespace \"team-a\" already runs 1, the limit maxConcurrentTraces.perNamespace' '$err'"
got=$(python3 -c '
import json, sys
print([r["responseStatus"]["code"] for r in map(json.loads, open(sys.argv[1])) if r["stage"] == "ResponseStarted"])' "$G2_AUDIT")
check "the second gateway audited both refusals as 429 ($got)" test "$got" = "[429, 429]"
second bob pod/web-b -n team-b
rc=$?
check "bob (team-b) through the second gateway runs (rc=$rc)" grep -q '^hi$' "$out"

kill "$bgpid" 2>/dev/null
wait "$bgpid" 2>/dev/null
no_alice() { ! curl -sS --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" "$TG_RUNNER_URL/v1/sessions" | grep -q alice; }
check "alice's session is gone from the runner" wait_for 20 no_alice
second alice pod/web-a -n team-a
rc=$?
check "then the second gateway admits alice (rc=$rc)" grep -q '^hi$' "$out"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" \
	--key "$TG_CERTS/gateway-client.key" -X PUT --data-binary '' "$TG_RUNNER_URL/v1/sessions")
check "the runner's /v1/sessions answers 405 to other methods ($code)" test "$code" = 405

# ---- a runner that cannot be counted: fail closed ---------------------------------------
# node-2 runs nothing of alice's, and her pod is on node-1: its count used
# to be skipped and she was admitted, whatever might have run there
g2_last() { # g2_last EXPR over the second gateway's last ResponseStarted record r
	python3 - "$G2_AUDIT" "$1" <<'EOF'
import json, sys
r = [r for r in map(json.loads, open(sys.argv[1])) if r["stage"] == "ResponseStarted"][-1]
print(eval(sys.argv[2]))
EOF
}
uncounted() { # uncounted HOW: alice's start refused, 503 naming node-2 and the limit
	local rc got
	TRACEGATE_URL=$G2 timeout 90 kubectl trace run --context alice pod/web-a -n team-a \
		-e 'BEGIN { printf("hi\n"); exit(); }' >"$out" 2>"$err"
	rc=$?
	check "node-2's runner $1: alice's start is refused, 503 naming the node and maxConcurrentTraces (rc=$rc)" \
		bash -c "[ $rc -ne 0 ] && ! grep -q '^hi$' '$out' && grep -q 'cannot count running traces on node \"node-2\" (maxConcurrentTraces of policy \"limited\")' '$err'"
	got=$(g2_last '(r["responseStatus"]["code"], r["annotations"]["authorization.k8s.io/decision"], "cannot count running traces on node \"node-2\"" in r["responseStatus"].get("message", ""))')
	check "node-2's runner $1: the refusal is audited ($got)" test "$got" = "(503, 'forbid', True)"
}
counted_again() { # counted_again WHAT: alice's start admitted through the second gateway
	local rc
	second alice pod/web-a -n team-a
	rc=$?
	check "$1: alice's start through the second gateway is admitted again (rc=$rc)" grep -q '^hi$' "$out"
}
kill -STOP "$RUNNER_PID_node_2"
uncounted stopped
check "the second gateway's log names node-2 and the limit" \
	grep -q 'cannot count running traces on node "node-2" (maxConcurrentTraces): .*the start is refused' \
	"$TG_WORK/gateway-2.log"
kill -CONT "$RUNNER_PID_node_2"
counted_again "node-2's runner continued"
kill -KILL "$RUNNER_PID_node_2"
wait "$RUNNER_PID_node_2" 2>/dev/null
uncounted killed
runner_node_start node-2 "$N2_PORT" || tap_fail "node-2's runner starts again"
counted_again "node-2's runner restarted"
