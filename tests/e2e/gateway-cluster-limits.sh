#!/usr/bin/env bash
# Cluster-wide concurrency limits (issue 10): maxConcurrentTraces per user
# and per namespace are counted from the runners (GET /v1/sessions: every
# session with its owner), not from one gateway's memory.  Two gateway
# processes share the runner: a trace alice runs through the first counts
# when she (or dave, of the same namespace) starts one through the second:
# 429 naming the limit, audited by the second; bob in another namespace is
# not held back; once alice's trace ends the second gateway admits her.
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
trap 'stack_stop; rm -rf "$POL"' EXIT
tap_ok "stack starts"

# ---- a second gateway process, sharing the runner -------------------------------------
G2_PORT=$(free_port)
G2=https://127.0.0.1:$G2_PORT
G2_AUDIT=$TG_WORK/audit-2.log
python3 - "$TG_WORK/gateway.json" "$TG_WORK/gateway-2.json" "$G2_PORT" "$G2_AUDIT" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["listen"] = "127.0.0.1:" + sys.argv[3]
c["audit"]["path"] = sys.argv[4]
json.dump(c, open(sys.argv[2], "w"))
EOF
tracegate serve --config "$TG_WORK/gateway-2.json" 2>>"$TG_WORK/gateway-2.log" &
TG_PIDS+=("$!")
check "a second gateway starts" wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$G2/healthz" -o /dev/null

out=$TG_WORK/out
err=$TG_WORK/err
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { printf("open\n"); }'
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
