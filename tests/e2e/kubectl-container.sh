#!/usr/bin/env bash
# `kubectl trace run -c NAME` (issue 10): the trace sees one container of
# the pod, as kubectl exec -c and kubectl logs -c name it.  Pods duo
# (systemd layout; app under containerd, sidecar under cri-o) and duo-2
# (cgroupfs; both under docker) of ReplicaSet duo-rs, each container
# running a process that opens a marker of its own; duo also has a
# container "idle" that is not running (no containerID in its status).
source "$(dirname "$0")/lib.sh"
need_bpf "kubectl trace -c" || exit 0
stack_start || { tap_fail "container: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out
err=$TG_WORK/err

# duo_pod NAME LAYOUT RUNTIME_APP RUNTIME_SIDECAR RS_UID [IDLE]: the pod created
# (Pending), its container cgroups and processes made, then reported Running
# with the containerIDs of those cgroups, in the kubelet's order
duo_pod() {
	local name=$1 layout=$2 rta=$3 rts=$4 rs=$5 idle=${6:-} uid ctr c rt spec statuses
	spec='{"name":"app","image":"x"},{"name":"sidecar","image":"x"}'
	[ -n "$idle" ] && spec="$spec,{\"name\":\"idle\",\"image\":\"x\"}"
	api POST /api/v1/namespaces/team-a/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$name\",
		\"labels\":{\"app\":\"duo\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",
		\"name\":\"duo-rs\",\"uid\":\"$rs\",\"controller\":true}]},
		\"spec\":{\"nodeName\":\"node-1\",\"containers\":[$spec]}}" >/dev/null || return 1
	uid=$(pod_uid team-a "$name") && [ -n "$uid" ] || return 1
	statuses=
	for c in app sidecar; do
		rt=$rta
		[ $c = sidecar ] && rt=$rts
		: >"$TG_WORK/marker-$name-$c"
		# app is the pod's first container: the fixtures' ctr_id without a name
		if [ $c = app ]; then
			ctr=$(pod_make "$name" "$uid" Burstable "$layout" "" "$rt") || return 1
			statuses="$statuses{\"name\":\"app\",\"containerID\":\"$rt://$(ctr_id "$name" "$uid")\",\"state\":{\"running\":{}}},"
		else
			ctr=$(pod_make "$name" "$uid" Burstable "$layout" "$c" "$rt") || return 1
			statuses="$statuses{\"name\":\"$c\",\"containerID\":\"$rt://$(ctr_id "$name" "$uid" "$c")\",\"state\":{\"running\":{}}},"
		fi
		pod_run "$ctr" bash -c "$(opener "$TG_WORK/marker-$name-$c")" >/dev/null
	done
	[ -n "$idle" ] && statuses="$statuses{\"name\":\"idle\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}},"
	api PUT "/api/v1/namespaces/team-a/pods/$name/status" "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
		\"metadata\":{\"name\":\"$name\"},\"status\":{\"phase\":\"Running\",\"qosClass\":\"Burstable\",
		\"containerStatuses\":[${statuses%,}]}}" | grep -q '"phase":"Running"'
}

rs=$(api POST /apis/apps/v1/namespaces/team-a/replicasets '{"apiVersion":"apps/v1","kind":"ReplicaSet",
	"metadata":{"name":"duo-rs","namespace":"team-a","labels":{"app":"duo"}},
	"spec":{"replicas":2,"selector":{"matchLabels":{"app":"duo"}}}}' | json_get 'd["metadata"]["uid"]')
# each open of a marker, until $1 of them
mk=$TG_WORK/marker-
P='tracepoint:syscalls:sys_enter_openat /comm == "cat" && strncmp(str(args->filename), "'"$mk"'", '"${#mk}"') == 0/ { printf("%s\n", str(args->filename)); @n = @n + 1; if (@n >= $1) { exit(); } }'
if [ -n "$rs" ] && duo_pod duo systemd containerd cri-o "$rs" idle && duo_pod duo-2 cgroupfs docker docker "$rs" &&
	wait_for 10 kt alice check pod/duo -n team-a -c sidecar -e "$P" 20 &&
	wait_for 10 kt alice check pod/duo-2 -n team-a -c sidecar -e "$P" 20; then
	tap_ok "pods duo and duo-2 of ReplicaSet duo-rs: containers app and sidecar Running, idle waiting"
else
	tap_fail "pods duo and duo-2 of ReplicaSet duo-rs: containers app and sidecar Running, idle waiting" \
		"rs=$rs" "$(kt alice check pod/duo -n team-a -c sidecar -e "$P" 20 2>&1)" "$(tail -5 "$TG_WORK"/*.log)"
	exit 0
fi

# markers OUT: the distinct markers the trace printed, by name, sorted
markers() {
	grep -o 'marker-[a-z0-9-]*' "$1" | sort -u | tr '\n' ' '
}

# 1. -c sidecar: that container's opens only; -c app: app's only
for c in sidecar app; do
	kt alice run pod/duo -n team-a -c $c --duration 30 -e "$P" 20 >"$out" 2>"$err"
	rc=$?
	got=$(markers "$out")
	n=$(grep -c '/marker-' "$out")
	if [ $rc = 0 ] && [ "$got" = "marker-duo-$c " ] && [ "$n" -ge 20 ]; then
		tap_ok "run pod/duo -c $c: its $n opens, none of the other container's"
	else
		tap_fail "run pod/duo -c $c: its opens, none of the other container's" "rc=$rc got=$got n=$n" \
			"$(head -5 "$out")" "$(cat "$err")"
	fi
done

# 2. without -c: the whole pod, both containers
kt alice run pod/duo -n team-a --duration 30 -e "$P" 40 >"$out" 2>"$err"
rc=$?
got=$(markers "$out")
check "run pod/duo without -c: both containers' opens (rc=$rc: $got)" \
	test "$rc" = 0 -a "$got" = "marker-duo-app marker-duo-sidecar "

# 3. a workload: -c applies to each of its pods (two layouts, three runtimes)
kt alice run replicaset/duo-rs -n team-a -c sidecar --duration 30 -e "$P" 40 >"$out" 2>"$err"
rc=$?
got=$(markers "$out")
check "run replicaset/duo-rs -c sidecar: each pod's sidecar, no app (rc=$rc: $got)" \
	test "$rc" = 0 -a "$got" = "marker-duo-2-sidecar marker-duo-sidecar "

# 4. the audit record and the gateway log name the container
check "the audit record names the container" \
	test "$(audit_py '[r["tracegate"].get("container") for r in recs if r["stage"] == "ResponseStarted"][-1]')" = sidecar
check "the gateway log names the container" grep -q 'code=200 .*container="sidecar"' "$TG_WORK/gateway.log"

# 5. refusals, each clear, and nothing run
refused() { # refused NAME WANT_TEXT -c ARGS...: rc != 0 and WANT_TEXT on stderr
	local name=$1 want=$2
	shift 2
	kt alice run pod/duo -n team-a "$@" --duration 5 -e "$P" 1 >"$out" 2>"$err"
	rc=$?
	if [ $rc != 0 ] && grep -qF -- "$want" "$err" && ! grep -q marker "$out"; then
		tap_ok "$name"
	else
		tap_fail "$name" "rc=$rc want: $want" "$(cat "$out" "$err")"
	fi
}
refused "an unknown container: refused, naming the pod's containers" \
	'container "nope" not found in pod "duo"; its containers: app, sidecar, idle' -c nope
refused "a container that is not running: refused saying so" \
	'container "idle" of pod "duo" is not running' -c idle
refused "a hostile name ../x: refused as no DNS-1123 label" \
	'container name "../x": not a DNS-1123 label' -c ../x
long=$(printf 'a%.0s' {1..300})
refused "a 300-character name: refused as too long" \
	'container name "aaaa' --container "$long"
check "... saying how long it may be" grep -q '300 characters, longer than 63' "$err"
kt alice run deployment/web -n team-a -c nope --duration 5 -e "$P" 1 >"$out" 2>"$err"
check "a workload's pod without that container: refused, nothing started (rc=$?)" \
	grep -q 'container "nope" not found in pod "web-a.*nothing was started' "$err"

# 6. the runner itself: a container ID that is not 64 hex digits after a
# known runtime is refused; a real ID of another pod is not found below this one
GW=(--cacert "$TG_CERTS/ca.crt" --cert "$TG_CERTS/gateway-client.crt" --key "$TG_CERTS/gateway-client.key")
uid=$(pod_uid team-a duo)
other=containerd://$(ctr_id web-a "$(pod_uid team-a web-a)")
for cid in 'containerd://../../../kubepods' "$other"; do
	printf '{"trace":"t-ctr","program":"BEGIN { exit(); }","canonical":"BEGIN\\n{\\n  exit();\\n}\\n","pods":[{"namespace":"team-a","name":"duo","uid":"%s","qos":"Burstable","container":"app","containerID":"%s"}]}' \
		"$uid" "$cid" >"$TG_WORK/ctr.json"
	code=$(timeout 30 curl -sS "${GW[@]}" -o "$TG_WORK/ctr.out" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$TG_WORK/ctr.json" "$TG_RUNNER_URL/v1/sessions" 2>"$TG_WORK/ctr.err")
	case $cid in
	*..*) want=400 text='\"containerID\": not containerd://' ;;
	*) want=404 text='no cgroup below the pod' ;;
	esac
	if [ "$code" = $want ] && grep -qF "$text" "$TG_WORK/ctr.out"; then
		tap_ok "the runner refuses a session's container ID ${cid:0:30}...: $want"
	else
		tap_fail "the runner refuses a session's container ID ${cid:0:30}...: $want" "code=$code" \
			"$(cat "$TG_WORK/ctr.out" "$TG_WORK/ctr.err")"
	fi
done
