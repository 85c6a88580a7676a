#!/usr/bin/env bash
# Events raised in interrupt or softirq context belong to no tenant: under
# pod scope they never reach one, whatever task was current.  Through the
# whole stack: alice's policy allows irq, timer and net tracepoints; her
# pod burns CPU in user mode and floods UDP on loopback, so timer and
# network-receive interrupts land while its tasks are current; none of
# them reaches her, while her pod's syscalls do.  A local unscoped run of
# the same probes, filtered on the pod's cgroup, shows those interrupts
# really hit the pod's tasks (so the test cannot pass by nothing happening).
source "$(dirname "$0")/lib.sh"
need_bpf "interrupt context stays out of scope" || exit 0

TG_POLICIES=$(mktemp -d /tmp/tg-policies.XXXXXX)
cat >"$TG_POLICIES/irq-lab.yaml" <<'EOF'
apiVersion: tracegate.dev/v1alpha1
kind: TracePolicy
metadata:
  name: irq-lab
spec:
  subjects:
    groups: ["team-a-devs"]
    namespaces: ["team-a"]
  scope: [pod]
  probes:
    allow: ["tracepoint:irq:*", "tracepoint:timer:*", "tracepoint:net:*", "tracepoint:syscalls:*"]
  builtins:
    allow: [probe, comm, pid, cgroup]
  functions:
    allow: [count, printf, exit]
  kernelMemory: false
  userMemory: false
  limits:
    maxDuration: 1m
    maxMapEntries: 1024
    eventsPerSecond: 100000
    cpuBudget: 1.0
EOF
export TG_POLICIES
stack_start || { tap_fail "stack starts"; exit 0; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$TG_POLICIES"; fi' EXIT

# the pod's load: a user-mode busy loop and a UDP flood on loopback
pod_run "$TG_CTR_A" bash -c 'while :; do :; done' >/dev/null
pod_run "$TG_CTR_A" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
a = r.getsockname(); r.setblocking(False)
end = time.time() + 60
while time.time() < end:
    s.sendto(b"x" * 64, a)
    try: r.recv(64)
    except BlockingIOError: pass
' >/dev/null
sleep 0.5

IRQ='tracepoint:irq:softirq_entry,tracepoint:timer:hrtimer_expire_entry,tracepoint:net:netif_receive_skb,tracepoint:irq:irq_handler_entry'

# control: unscoped, local, filtered on the pod's container cgroup
cgid=$(stat -c %i "$TG_CTR_A")
ctl=$TG_WORK/control.out
timeout 20 tracegate-runner exec --duration 3 \
	-e "$IRQ /cgroup == $cgid/ { @irq[probe] = count(); }" >"$ctl" 2>&1
if grep -qE '^@irq\[tracepoint:(irq|timer|net):[a-z_]+\]: [1-9]' "$ctl"; then
	tap_ok "control: interrupts do land while the pod's tasks are current ($(grep -c '^@irq' "$ctl") probes fired)"
else
	tap_fail "control: interrupts do land while the pod's tasks are current" "$(cat "$ctl")"
fi

# the tenant, through kubectl and the gateway
out=$TG_WORK/alice.out
kt alice run pod/web-a -n team-a --duration 4 \
	-e "$IRQ { @irq[probe] = count(); } tracepoint:syscalls:sys_enter_sendto { @task = count(); }" \
	>"$out" 2>"$TG_WORK/alice.err"
rc=$?
check "the tenant's trace runs (exit 0)" test "$rc" -eq 0
if grep -qE '^@task: [1-9]' "$out"; then
	tap_ok "task-context events of the pod reach the tenant ($(grep '^@task' "$out"))"
else
	tap_fail "task-context events of the pod reach the tenant" "$(cat "$out" "$TG_WORK/alice.err")"
fi
if grep -q '^@irq' "$out"; then
	tap_fail "no interrupt-context event reaches the tenant" "$(grep '^@irq' "$out")"
else
	tap_ok "no interrupt-context event reaches the tenant"
fi
