#!/usr/bin/env bash
# Workload kinds beyond Deployment and ReplicaSet: statefulset (sts),
# daemonset (ds), job and cronjob (cj, through its Jobs' pods), each
# resolved to its Running pods by ownerReferences.  The objects are made in
# kubesim as its admin (kubesim gives each its uid), their pods reported
# Running as a kubelet would, each pod's cgroup made under its node's root
# with a process opening $TG_WORK/marker-POD.  Then pods that join a
# running workload trace (a Deployment scaled up) and leave it (deleted).
source "$(dirname "$0")/lib.sh"
need_bpf "workload kinds" || exit 0

# make_obj GROUP_VERSION KIND RESOURCE NAME SPEC_JSON [OWNER_APIVERSION OWNER_KIND OWNER_NAME OWNER_UID]:
# creates the object in team-a, prints its uid
make_obj() {
	local refs= prefix=/apis/$1
	[ "$1" = v1 ] && prefix=/api/v1
	[ -n "${6:-}" ] && refs=",\"ownerReferences\":[{\"apiVersion\":\"$6\",\"kind\":\"$7\",\"name\":\"$8\",\"uid\":\"$9\",\"controller\":true}]"
	api POST "$prefix/namespaces/team-a/$3" "{\"apiVersion\":\"$1\",\"kind\":\"$2\",\"metadata\":{\"name\":\"$4\",\"namespace\":\"team-a\",\"labels\":{\"app\":\"$4\"}$refs},\"spec\":$5}" |
		json_get 'd["metadata"]["uid"]'
}

# workload_pod NAME NODE LAYOUT OWNER_APIVERSION OWNER_KIND OWNER_NAME OWNER_UID [LABELS_JSON]:
# a pod of the owner on NODE: created (Pending), its cgroup and marker
# opener made, then reported Running, in the kubelet's order
workload_pod() {
	local labels=${8:-"{\"app\":\"$6\"}"} ctr
	api POST /api/v1/namespaces/team-a/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\",
		\"labels\":$labels,\"ownerReferences\":[{\"apiVersion\":\"$4\",\"kind\":\"$5\",\"name\":\"$6\",
		\"uid\":\"$7\",\"controller\":true}]},\"spec\":{\"nodeName\":\"$2\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}" >/dev/null || return 1
	: >"$TG_WORK/marker-$1"
	ctr=$(TG_CGROOT=$TG_CGROOT/$2 pod_make "$1" "$(pod_uid team-a "$1")" BestEffort "$3") || return 1
	pod_run "$ctr" bash -c "$(opener "$TG_WORK/marker-$1")" >/dev/null
	api PUT "/api/v1/namespaces/team-a/pods/$1/status" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
		\"metadata\":{\"name\":\"$1\"},\"status\":{\"phase\":\"Running\",\"qosClass\":\"BestEffort\"}}" |
		grep -q '"phase":"Running"'
}

objects_make() {
	local sts ds job cj cjob
	sts=$(make_obj apps/v1 StatefulSet statefulsets db '{"selector":{"matchLabels":{"app":"db"}},"serviceName":"db"}') &&
	workload_pod db-0 node-1 systemd apps/v1 StatefulSet db "$sts" &&
	workload_pod db-1 node-2 cgroupfs apps/v1 StatefulSet db "$sts" &&
	# labels of db's, owned by a ReplicaSet that has db's uid: not db's
	workload_pod db-imposter node-1 cgroupfs apps/v1 ReplicaSet db "$sts" '{"app":"db"}' &&
	ds=$(make_obj apps/v1 DaemonSet daemonsets agent '{"selector":{"matchLabels":{"app":"agent"}}}') &&
	workload_pod agent-n1 node-1 cgroupfs apps/v1 DaemonSet agent "$ds" &&
	workload_pod agent-n2 node-2 systemd apps/v1 DaemonSet agent "$ds" &&
	job=$(make_obj batch/v1 Job jobs migrate '{"selector":{"matchLabels":{"app":"migrate"}}}') &&
	workload_pod migrate-x7k2p node-2 cgroupfs batch/v1 Job migrate "$job" &&
	cj=$(make_obj batch/v1 CronJob cronjobs nightly '{"schedule":"0 3 * * *","jobTemplate":{}}') &&
	cjob=$(make_obj batch/v1 Job jobs nightly-29180 '{"selector":{"matchLabels":{"app":"nightly-29180"}}}' \
		batch/v1 CronJob nightly "$cj") &&
	workload_pod nightly-29180-q8v4z node-1 systemd batch/v1 Job nightly-29180 "$cjob" &&
	[ -n "$sts" ] && [ -n "$ds" ] && [ -n "$job" ] && [ -n "$cj" ] && [ -n "$cjob" ]
}

workload_stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
if objects_make; then
	tap_ok "stack starts; a StatefulSet, a DaemonSet, a Job and a CronJob with a Job, their pods Running"
else
	tap_fail "a StatefulSet, a DaemonSet, a Job and a CronJob with a Job, their pods Running" \
		"$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"
	exit 0
fi

PROG='tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("%s\n", str(args->filename)); }'
out=$TG_WORK/out
err=$TG_WORK/err

# 1. each kind, with kubectl's spellings, resolves to its own Running pods
# check_pods TARGET PODS NODES
check_pods() {
	kt alice check "$1" -n team-a -e "$PROG" >"$out" 2>"$err"
	local rc=$?
	if [ $rc -eq 0 ] && grep -qx "  pods: $2" "$out" && grep -qx "  nodes: $3" "$out"; then
		tap_ok "check $1: pods $2 on $3"
	else
		tap_fail "check $1: pods $2 on $3" "rc=$rc" "$(cat "$out" "$err")"
	fi
}
check_pods statefulset/db "team-a/db-0, team-a/db-1" "node-1, node-2"
check_pods sts/db "team-a/db-0, team-a/db-1" "node-1, node-2"
check_pods ds/agent "team-a/agent-n1, team-a/agent-n2" "node-1, node-2"
check_pods job/migrate "team-a/migrate-x7k2p" "node-2"
check_pods cj/nightly "team-a/nightly-29180-q8v4z" "node-1"
check_pods cronjobs/nightly "team-a/nightly-29180-q8v4z" "node-1"

# 2. traces: each pod's marker, labelled with its pod and node, no one else's
# markers_of TARGET: the (marker, pod, node) triples a 3 s trace of TARGET sees
markers_of() {
	kt alice run "$1" -n team-a --duration 3 -o json -e "$PROG" >"$out" 2>"$err"
	python3 - "$out" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# one output record holds several printed lines
print(sorted({(t.split("/marker-")[1].strip(), r["pod"], r["node"]) for r in recs
              if r["type"] == "output" for t in r["text"].split("\n") if "/marker-" in t}))
EOF
}
got=$(markers_of statefulset/db 2>&1)
check "run statefulset/db: db-0's and db-1's markers, each of its pod and node, not the imposter's ($got)" \
	test "$got" = "[('db-0', 'team-a/db-0', 'node-1'), ('db-1', 'team-a/db-1', 'node-2')]"
got=$(markers_of daemonset/agent 2>&1)
check "run daemonset/agent: both nodes' agents ($got)" \
	test "$got" = "[('agent-n1', 'team-a/agent-n1', 'node-1'), ('agent-n2', 'team-a/agent-n2', 'node-2')]"
got=$(markers_of job/migrate 2>&1)
check "run job/migrate: its one pod ($got)" \
	test "$got" = "[('migrate-x7k2p', 'team-a/migrate-x7k2p', 'node-2')]"
got=$(markers_of cronjob/nightly 2>&1)
check "run cronjob/nightly: the pod of its Job ($got)" \
	test "$got" = "[('nightly-29180-q8v4z', 'team-a/nightly-29180-q8v4z', 'node-1')]"
got=$(audit_py '[r["tracegate"]["pods"] for r in recs if r["stage"] == "ResponseStarted" and r["tracegate"].get("target") == "cronjob/nightly"][-1]' 2>&1)
check "the audit record of the run on cronjob/nightly lists its pod ($got)" \
	test "$got" = "['team-a/nightly-29180-q8v4z']"

# 3. authorization: get on the workload itself, in its API group
# refused_as USER TARGET MESSAGE
refused_as() {
	KUBECONFIG=$TG_WORK/kubeconfig-dave kubectl trace run "$2" -n team-a --context "$1" \
		-e "$PROG" >"$out" 2>"$err"
	local rc=$?
	if [ $rc -ne 0 ] && grep -qF "$3" "$err"; then
		tap_ok "$1 on $2: $3"
	else
		tap_fail "$1 on $2: $3" "rc=$rc" "$(cat "$err")"
	fi
}
refused_as dave sts/db 'Error from server (Forbidden): statefulsets.apps "db" is forbidden: User "dave" cannot get resource "statefulsets" in API group "apps" in the namespace "team-a"'
refused_as dave ds/agent 'User "dave" cannot get resource "daemonsets" in API group "apps"'
refused_as dave job/migrate 'User "dave" cannot get resource "jobs" in API group "batch"'
refused_as dave cj/nightly 'Error from server (Forbidden): cronjobs.batch "nightly" is forbidden: User "dave" cannot get resource "cronjobs" in API group "batch" in the namespace "team-a"'
kt bob run job/migrate -n team-a -e "$PROG" >"$out" 2>"$err"
check "a user of another namespace is refused (403) on job/migrate" grep -q "Forbidden" "$err"
kt alice run job/nope -n team-a -e "$PROG" >"$out" 2>"$err"
check "an unknown job is 404 in its group" grep -q 'Error from server (NotFound): jobs.batch "nope" not found' "$err"
kt alice run cronjob/nope -n team-a -e "$PROG" >"$out" 2>"$err"
check "an unknown cronjob is 404 in its group" grep -q 'Error from server (NotFound): cronjobs.batch "nope" not found' "$err"
kt alice run service/db -n team-a -e "$PROG" >"$out" 2>"$err"
check "a kind that has no pods of its own is refused by the plugin, naming it" \
	grep -q 'kind "service" cannot be traced' "$err"

# 4. a CronJob whose Job has no Running pod: 409, nothing started
make_obj batch/v1 CronJob cronjobs idle '{"schedule":"0 4 * * *","jobTemplate":{}}' >/dev/null
kt alice run cj/idle -n team-a -e "$PROG" >"$out" 2>"$err"
check "cronjob/idle has no running pods: refused, saying so" \
	grep -q 'cronjob "idle" in namespace "team-a" has no running pods' "$err"

# 5. deployment/web scaled up while traced: the new pod joins (a session
#    of its own on its node), its output comes labelled; deleted, it leaves
RS_UID=5e7a0000-0000-4000-8000-0000000000a1   # ReplicaSet web-7c9f8b6d5 (fixtures)
: >"$out"
# (90 s: the joins, the changes and the deletion below must all land
# while it runs; 40 s ended before the deletion under make test LOAD=2)
kt_bg alice run deployment/web -n team-a --duration 90 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 60 grep -q 'marker-web-a2' "$out" && wait_for 10 grep -q 'marker-web-a\\n' "$out"; then
	tap_ok "deployment/web streams both pods' markers"
else
	tap_fail "deployment/web streams both pods' markers" "$(tail -3 "$out")" "$(cat "$err")"
fi
# the ReplicaSet's new pod, as its controller makes it; Running, as the kubelet says
workload_pod web-a4 node-1 systemd apps/v1 ReplicaSet web-7c9f8b6d5 "$RS_UID" \
	'{"app":"web","pod-template-hash":"7c9f8b6d5"}' || tap_fail "pod web-a4 made" "$(tail -3 "$err")"
if wait_for 30 grep -q '"phase":"pod-joined"' "$out"; then
	got=$(py '[(r["pod"], r["node"]) for r in recs if r["type"] == "status" and r["phase"] == "pod-joined"]' "$out" 2>&1)
	check "a status record says pod-joined with the pod and its node ($got)" \
		test "$got" = "[('team-a/web-a4', 'node-1')]"
else
	tap_fail "a status record says pod-joined" "$(tail -3 "$out")" "$(tail -5 "$TG_WORK"/gateway-*.log)"
fi
check "the plugin says so on stderr" wait_for 5 grep -qF 'node "node-1": pod team-a/web-a4 joined the trace' "$err"
if wait_for 60 grep -q 'marker-web-a4' "$out"; then
	got=$(py 'sorted({(r["pod"], r["node"]) for r in outs if "/marker-web-a4" in r["text"]})' "$out" 2>&1)
	check "the joined pod's events stream, labelled with it and its node ($got)" \
		test "$got" = "[('team-a/web-a4', 'node-1')]"
else
	tap_fail "the joined pod's events stream" "$(tail -3 "$out")" "$(cat "$err")" "$(tail -5 "$TG_WORK"/runner-node-1.log)"
fi
# one on a node without a runner: said, nothing started, said once
# however often the pod changes
running_pod() { # running_pod NAME NODE PODIP: a pod of web's ReplicaSet, reported Running
	api POST /api/v1/namespaces/team-a/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\",
		\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7c9f8b6d5\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",
		\"kind\":\"ReplicaSet\",\"name\":\"web-7c9f8b6d5\",\"uid\":\"$RS_UID\",\"controller\":true}]},
		\"spec\":{\"nodeName\":\"$2\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}" >/dev/null
}
pod_status() { # pod_status NAME PODIP
	api PUT "/api/v1/namespaces/team-a/pods/$1/status" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
		\"metadata\":{\"name\":\"$1\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\"}}" >/dev/null
}
running_pod web-a5 node-3 && pod_status web-a5 10.0.0.5
if wait_for 30 grep -q '"phase":"pod-not-joined"' "$out"; then
	got=$(py '[(r["pod"], r["node"], r.get("message")) for r in recs if r["type"] == "status" and r["phase"] == "pod-not-joined"]' "$out" 2>&1)
	check "a pod on a node without a runner: pod-not-joined, saying why ($got)" \
		test "$got" = "[('team-a/web-a5', 'node-3', 'not traced: no runner for node \"node-3\"')]"
else
	tap_fail "a pod on a node without a runner: pod-not-joined" "$(tail -3 "$out")"
fi
check "the plugin says it was not added" \
	wait_for 5 grep -qF 'node "node-3": pod team-a/web-a5 was not added to the trace: not traced: no runner for node "node-3"' "$err"
pod_status web-a5 10.0.0.6
wait_for 10 grep -q '"podIP":"10.0.0.6"' <(api GET /api/v1/namespaces/team-a/pods/web-a5)
n5=$(grep -c 'marker-web-a2' "$out")
wait_for 10 bash -c "[ \$(grep -c 'marker-web-a2' '$out') -gt $n5 ]"   # the stream went on past the change
check "its next change is not said again" test "$(grep -c '"phase":"pod-not-joined"' "$out")" = 1
api DELETE /api/v1/namespaces/team-a/pods/web-a4 >/dev/null
if wait_for 30 grep -q '"phase":"pod-left"' "$out"; then
	got=$(py '[(r["pod"], r["node"]) for r in recs if r["type"] == "status" and r["phase"] == "pod-left"]' "$out" 2>&1)
	check "deleted, it leaves: a status record pod-left ($got)" test "$got" = "[('team-a/web-a4', 'node-1')]"
else
	tap_fail "deleted, it leaves: a status record pod-left" "$(tail -3 "$out")"
fi
check "the plugin says it left on stderr" wait_for 5 grep -qF 'node "node-1": pod team-a/web-a4 left the trace' "$err"
n0=$(grep -c 'marker-web-a2' "$out")
check "the others go on after it left" wait_for 10 bash -c "[ \$(grep -c 'marker-web-a2' '$out') -gt $n0 ]"
wait "$ktpid"
rc=$?
got=$(py '[r["reason"] for r in recs if r["type"] == "end"]' "$out" 2>&1)
check "the trace ends at its duration, exit 0 (rc=$rc, $got)" test "$rc" = 0 -a "$got" = "['duration']"
check "the end line is the last line" test "$(py 'recs[-1]["type"]' "$out")" = end
got=$(audit_py '[r["tracegate"]["pods"] for r in recs if r["stage"] == "ResponseComplete" and r["tracegate"].get("target") == "deployment/web"][-1]' 2>&1)
check "the ResponseComplete record lists the joined pod ($got)" \
	test "$got" = "['team-a/web-a', 'team-a/web-a2', 'team-a/web-a4']"

check "tracegate audit verify passes on the log" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"
