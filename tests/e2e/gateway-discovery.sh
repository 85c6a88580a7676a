#!/usr/bin/env bash
# Runners found from the API (runnerDiscovery) and pod lookups from the
# gateway's watch-fed cache.  Two real runners play node-1 and node-2, each
# on an address of its own (127.0.0.2, 127.0.0.3) and the same port, as a
# DaemonSet's pods do; the gateway has no static runner map, only the
# namespace and label selector of the runner pods, which the test creates,
# marks Ready and replaces through kubesim's API.  Every runner's
# certificate names tracegate-runner and none of these addresses, so a
# session that works proves the name, not the IP, was checked.
source "$(dirname "$0")/lib.sh"
need_bpf "runner discovery" || exit 0

SEL='app.kubernetes.io/name=tracegate,app.kubernetes.io/component=runner'
DS_UID=0d5e7a11-0000-4000-8000-00000000da75

# runner_pod NAME NODE IP: a pod of DaemonSet tracegate-runner, created,
# then reported Running and Ready at IP (as the kubelet would)
runner_pod() {
	api POST /api/v1/namespaces/tracegate/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\",
		\"labels\":{\"app.kubernetes.io/name\":\"tracegate\",\"app.kubernetes.io/component\":\"runner\"},
		\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"name\":\"tracegate-runner\",
		\"uid\":\"$DS_UID\",\"controller\":true}]},\"spec\":{\"nodeName\":\"$2\"}}" >/dev/null &&
	api PUT "/api/v1/namespaces/tracegate/pods/$1/status" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
		\"metadata\":{\"name\":\"$1\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"$3\",
		\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" | grep -q "\"podIP\":\"$3\""
}

# The gateway's log says node NODE goes to IP.
discovered() { grep -q "runner discovery: node \"$1\": runner pod \"tracegate/$2\" at $3\$" "$TG_WORK/gateway.log"; }

# py CODE FILE: CODE over recs, the NDJSON records of FILE
py() {
	python3 - "$2" "$1" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))
EOF
}

node_prog_ids() { TG_RUNNER_PID=$1 runner_prog_ids; }

discovery_stack_start() {
	nodes_stack_init || return 1
	RPORT=$(free_port)
	runner_node_start node-1 "$RPORT" 127.0.0.2 || return 1
	R1=$RUNNER_PID
	runner_node_start node-2 "$RPORT" 127.0.0.3 || return 1
	R2=$RUNNER_PID
	TG_GATEWAY_PORT=$(free_port)
	TG_GATEWAY=https://127.0.0.1:$TG_GATEWAY_PORT
	TG_GATEWAY_RUNNERS="\"runnerDiscovery\":{\"namespace\":\"tracegate\",\"labelSelector\":\"$SEL\",\"port\":$RPORT},
 \"cache\":{\"pods\":true,\"maxObjects\":1000}" gateway_start || return 1
	node_pods_start "web-a node-1 systemd" "web-a2 node-2 cgroupfs" || return 1
	kubeconfig_write
	export TRACEGATE_URL=$TG_GATEWAY TRACEGATE_CA=$TG_CERTS/ca.crt
	export KUBECONFIG=$TG_WORK/kubeconfig
}

discovery_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runners at 127.0.0.2 and 127.0.0.3, a gateway without a runner map)"

PROG='tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }'
out=$TG_WORK/out
err=$TG_WORK/err
glog=$TG_WORK/gateway.log

# 1. no runner pods yet: nothing to send a session to, and it says so
wait_for 20 grep -q 'runner pods cache: synced (0 objects)' "$glog"
kt alice check pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "before any runner pod exists: refused, naming node-1 (rc=$rc)" \
	grep -q 'no runner for node "node-1" of pod "team-a/web-a"' "$out" "$err"

# 2. the DaemonSet's pods appear: each node maps to its pod's IP
runner_pod tracegate-runner-a1 node-1 127.0.0.2 &&
	runner_pod tracegate-runner-b1 node-2 127.0.0.3
check "runner pods created and reported Ready through the API" test $? -eq 0
if wait_for 20 discovered node-1 tracegate-runner-a1 127.0.0.2 &&
	wait_for 20 discovered node-2 tracegate-runner-b1 127.0.0.3; then
	tap_ok "the gateway maps node-1 and node-2 to their runner pods' IPs"
else
	tap_fail "the gateway maps node-1 and node-2 to their runner pods' IPs" "$(tail -5 "$glog")"
fi
wait_for 20 grep -q 'info: pods cache: synced' "$glog"
podlists() { grep -c 'GET /api/v1/namespaces/team-a/pods system:serviceaccount:tracegate:tracegate' "$TG_WORK/kubesim.log"; }
before=$(podlists)
kt alice run deployment/web -n team-a --duration 3 -o json -e "$PROG" >"$out" 2>"$err"
rc=$?
got=$(py 'sorted({(r["pod"], r["node"]) for r in recs if r["type"] == "output" and "/marker-" in r["text"]})' "$out" 2>&1)
if [ "$rc" -eq 0 ] && [ "$got" = "[('team-a/web-a', 'node-1'), ('team-a/web-a2', 'node-2')]" ]; then
	tap_ok "deployment/web runs on both discovered runners (certificate checked by name, not IP)"
else
	tap_fail "deployment/web runs on both discovered runners" "rc=$rc got=$got" "$(tail -3 "$err" "$glog")"
fi
check "deployment/web's pods came from the watch-fed cache: no pod LIST (before $before, after $(podlists))" \
	test "$before" = "$(podlists)"

# 3. pod lookups come from the cache: no GET of the pod reaches the API server
before=$(grep -c 'GET /api/v1/namespaces/team-a/pods/web-a ' "$TG_WORK/kubesim.log")
kt alice check pod/web-a -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
after=$(grep -c 'GET /api/v1/namespaces/team-a/pods/web-a ' "$TG_WORK/kubesim.log")
check "check pod/web-a answered from the watch-fed cache: no pod GET (rc=$rc, GETs $before -> $after)" \
	test "$rc" -eq 0 -a "$before" = "$after"
check "the gateway watches pods (LIST, then WATCH from its resourceVersion)" \
	grep -q 'GET /api/v1/pods system:serviceaccount:tracegate:tracegate 200 watch' "$TG_WORK/kubesim.log"

# 4. node-1's runner pod is replaced mid-run (deleted; a new pod at a new
#    IP): the running trace finishes on the old runner, the next one goes
#    to the new one
: >"$TG_WORK/out-old"
kt_bg alice run pod/web-a -n team-a --duration 8 -o json -e "$PROG" >"$TG_WORK/out-old" 2>"$TG_WORK/err-old" &
oldpid=$!
wait_for 10 grep -q 'marker-web-a' "$TG_WORK/out-old"
check "a trace runs on node-1's first runner" test -n "$(node_prog_ids "$R1")"
runner_node_start node-1 "$RPORT" 127.0.0.4
R1B=$RUNNER_PID
api DELETE /api/v1/namespaces/tracegate/pods/tracegate-runner-a1 | grep -q '"name":"tracegate-runner-a1"'
check "the old runner pod is deleted through the API" test $? -eq 0
runner_pod tracegate-runner-a2 node-1 127.0.0.4
if wait_for 20 discovered node-1 tracegate-runner-a2 127.0.0.4; then
	tap_ok "the replacement pod (new IP 127.0.0.4) is picked up"
else
	tap_fail "the replacement pod (new IP 127.0.0.4) is picked up" "$(tail -5 "$glog")"
fi
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 8 -o json -e "$PROG" >"$out" 2>"$err" &
newpid=$!
# its events arrive while its program is loaded by the new runner (both
# seen together: under load the first event may come late in a short run)
on_new_runner() { grep -q 'marker-web-a' "$out" && [ -n "$(node_prog_ids "$R1B")" ]; }
if wait_for 20 on_new_runner; then
	tap_ok "the next trace of pod/web-a runs on the new runner"
else
	tap_fail "the next trace of pod/web-a runs on the new runner" "$(cat "$err")" "$(tail -5 "$glog")"
fi
wait "$newpid"
rc=$?
check "the next trace ends cleanly (rc=$rc)" test "$rc" -eq 0
wait "$oldpid"
rc=$?
got=$(py '[r["reason"] for r in recs if r["type"] == "end"]' "$TG_WORK/out-old" 2>&1)
check "the trace started before the replacement ran to its end on the old runner (rc=$rc, $got)" \
	test "$rc" -eq 0 -a "$got" = "['duration']"

# 5. a pod created through the API is traceable at once (cache or GET)
uid=$(api POST /api/v1/namespaces/team-a/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-new",
	"labels":{"app":"new"}},"spec":{"nodeName":"node-2"}}' | json_get 'd["metadata"]["uid"]')
api PUT /api/v1/namespaces/team-a/pods/web-new/status '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-new"},
	"status":{"phase":"Running","qosClass":"BestEffort"}}' >/dev/null
: >"$TG_WORK/marker-web-new"
ctr=$(TG_CGROOT=$TG_CGROOT/node-2 pod_make web-new "$uid" BestEffort cgroupfs)
pod_run "$ctr" bash -c "$(opener "$TG_WORK/marker-web-new")" >/dev/null
kt alice run pod/web-new -n team-a --duration 2 -o json -e "$PROG" >"$out" 2>"$err"
rc=$?
got=$(py 'sorted({(r["pod"], r["node"]) for r in recs if r["type"] == "output" and "marker-web-new" in r["text"]})' "$out" 2>&1)
check "a pod created through the API a moment ago is traced (rc=$rc, $got)" \
	test "$rc" -eq 0 -a "$got" = "[('team-a/web-new', 'node-2')]"

# 6. a runner pod that stops being Ready takes its node out
api PUT /api/v1/namespaces/tracegate/pods/tracegate-runner-b1/status '{"apiVersion":"v1","kind":"Pod",
	"metadata":{"name":"tracegate-runner-b1"},"status":{"phase":"Running","podIP":"127.0.0.3",
	"conditions":[{"type":"Ready","status":"False"}]}}' >/dev/null
wait_for 20 grep -q 'runner discovery: node "node-2": no ready runner pod any more' "$glog"
kt alice check pod/web-a2 -n team-a -e "$PROG" >"$out" 2>"$err"
rc=$?
check "a runner pod no longer Ready: its node has no runner (rc=$rc)" \
	grep -q 'no runner for node "node-2" of pod "team-a/web-a2"' "$out" "$err"
exit 0
