#!/usr/bin/env bash
# uprobes and usdt probes of a pod target, through the whole stack (kubectl
# trace -> gateway -> runner): the probe's file is found inside the pod's
# root through a process of the pod, and only the pod's tasks fire it.  A
# python3.11 in web-a's container and one outside any pod call the same
# function; alice's usdt trace of web-a sees only the pod's python.  A
# uprobe path climbing out of the root (`/../../../usr/bin/python3.11`)
# resolves inside it (our fake pods' root is the host's `/`, so escapes
# through symlinks are tested against a root of their own in
# tests/unit/test-runner-uprobe.c).  A pod without a process: a clear error
# naming it, nothing attached.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3.11
need_bpf "pod uprobes and usdt" || exit 0
if [ ! -x "$PY" ] || ! readelf -n "$PY" 2>/dev/null | grep -q 'Name: function__entry'; then
	tap_skip_or_fail "pod uprobes and usdt" "$PY with usdt probes is not installed"
	exit 0
fi

TG_POLICIES=$(mktemp -d /tmp/tg-policies.XXXXXX)
cat >"$TG_POLICIES/uprobe-lab.yaml" <<'EOF'
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: uprobe-lab
spec:
  subjects:
    groups: ["team-a-devs"]
    namespaces: ["team-a"]
  scope: [pod]
  probes:
    allow: ["usdt:*", "uprobe:*", "uretprobe:*"]
  builtins:
    allow: [pid, probe, arg0, arg1, arg2]
  functions:
    allow: [count, printf, str, exit]
  kernelMemory: false
  userMemory: all
  limits:
    maxDuration: 1m
    maxMapEntries: 1024
EOF
export TG_POLICIES
stack_start || { tap_fail "stack starts"; exit 0; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$TG_POLICIES"; fi' EXIT

# kt under a timeout (kt is a function: timeout runs kubectl itself)
ktt() {
	local user=$1 sub=$2
	shift 2
	KUBECONFIG=$TG_WORK/kubeconfig timeout 60 kubectl trace "$sub" --context "$user" "$@"
}

# the same program in the pod and outside any pod: calls FN every 50 ms.
# (Python 3.11 fires function__entry for python-to-python calls only
# while a profile function is set: a no-op one.)
FN=tg_pod_uprobe_fn_$$
cat >"$TG_WORK/app.py" <<EOF
import sys, time
sys.setprofile(lambda *a: None)

def $FN(n):
    return n + 1

end = time.time() + 120
while time.time() < end:
    $FN(1)
    time.sleep(0.05)
EOF
pod_pid=$(pod_run "$TG_CTR_A" "$PY" "$TG_WORK/app.py")
"$PY" "$TG_WORK/app.py" >/dev/null 2>&1 &
host_pid=$!
TG_PIDS+=("$host_pid")
sleep 0.7
log "pod python $pod_pid, host python $host_pid"

# control: unscoped, local: both pythons fire
ctl=$TG_WORK/control.out
timeout 20 tracegate-runner exec --duration 2 \
	-e "usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { @[pid] = count(); }" >"$ctl" 2>&1
if grep -qE "^@\[$pod_pid\]: [1-9]" "$ctl" && grep -qE "^@\[$host_pid\]: [1-9]" "$ctl"; then
	tap_ok "control: unscoped, both pythons fire function__entry"
else
	tap_fail "control: unscoped, both pythons fire function__entry" "$(cat "$ctl")"
fi

# alice's usdt trace of web-a: only the pod's python
out=$TG_WORK/usdt.out
ktt alice run pod/web-a -n team-a --duration 3 \
	-e "usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { @[pid] = count(); }" \
	>"$out" 2>"$TG_WORK/usdt.err"
rc=$?
check "the usdt trace of web-a runs (exit 0)" test "$rc" -eq 0
if grep -qE "^@\[$pod_pid\]: [1-9]" "$out"; then
	tap_ok "usdt: the pod's python fires ($(grep "^@\[$pod_pid\]" "$out"))"
else
	tap_fail "usdt: the pod's python fires" "$(cat "$out" "$TG_WORK/usdt.err")"
fi
if [ "$rc" -ne 0 ] || ! grep -qE "^@\[$pod_pid\]: [1-9]" "$out" || grep -q "^@\[$host_pid\]" "$out"; then
	tap_fail "usdt: the python outside the pod never reaches alice" "$(cat "$out")"
else
	tap_ok "usdt: the python outside the pod never reaches alice"
fi

# arguments through the stack: file, function, line
out=$TG_WORK/args.out
ktt alice run pod/web-a -n team-a --duration 10 \
	-e "usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { printf(\"%s|%s|%d\\n\", str(arg0), str(arg1), arg2); exit(); }" \
	>"$out" 2>"$TG_WORK/args.err"
if grep -qxF "$TG_WORK/app.py|$FN|4" "$out"; then
	tap_ok "usdt: arg0..arg2 reach alice ($TG_WORK/app.py|$FN|4)"
else
	tap_fail "usdt: arg0..arg2 reach alice" "$(cat "$out" "$TG_WORK/args.err")"
fi

# a uprobe whose path climbs above the pod's root: resolved inside it
out=$TG_WORK/escape.out
ktt alice run pod/web-a -n team-a --duration 3 \
	-e "uprobe:/../../../usr/bin/python3.11:PyObject_GetAttr { @[pid] = count(); }" \
	>"$out" 2>"$TG_WORK/escape.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -qE "^@\[$pod_pid\]: [1-9]" "$out" && ! grep -q "^@\[$host_pid\]" "$out"; then
	tap_ok "uprobe: /../../../usr/bin/python3.11 resolves inside the pod's root; only the pod fires"
else
	tap_fail "uprobe: /../../../usr/bin/python3.11 resolves inside the pod's root" "rc=$rc" \
		"$(cat "$out" "$TG_WORK/escape.err")"
fi

# a file the pod lacks: warned and skipped, so nothing attaches
out=$TG_WORK/absent.out
ktt alice run pod/web-a -n team-a --duration 2 \
	-e "uprobe:/no/such/binary:main { @ = count(); }" >"$out" 2>"$TG_WORK/absent.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'pod \\\?"team-a/web-a\\\?": file \\\?"/no/such/binary\\\?": cannot open inside the pod' "$TG_WORK/absent.err"; then
	tap_ok "uprobe: a file the pod lacks is refused with its name"
else
	tap_fail "uprobe: a file the pod lacks is refused with its name" "rc=$rc" \
		"$(cat "$out" "$TG_WORK/absent.err")"
fi

# no process left in the pod: a clear error naming the pod, nothing loaded
before=$(our_progs)
victims=$(cat "$TG_CTR_A/cgroup.procs")
kill -9 $victims 2>/dev/null
for p in $victims; do
	wait "$p" 2>/dev/null   # our children: reaped quietly
done
wait_for 5 bash -c "[ ! -s '$TG_CTR_A/cgroup.procs' ]"
out=$TG_WORK/empty.out
ktt alice run pod/web-a -n team-a --duration 2 \
	-e "usdt:$PY:python:function__entry { @ = count(); }" >"$out" 2>"$TG_WORK/empty.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'pod \\\?"team-a/web-a\\\?": no process in its cgroup' "$TG_WORK/empty.err" &&
	[ "$(our_progs)" -le "$before" ]; then
	tap_ok "a pod without a process: a clear error naming it, nothing loaded"
else
	tap_fail "a pod without a process: a clear error naming it" "rc=$rc" "$(cat "$out" "$TG_WORK/empty.err")"
fi
