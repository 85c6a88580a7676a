#!/usr/bin/env bash
# tracegate-runner exec --cgroup: events raised in interrupt context
# (hardirq, softirq, NMI) belong to no tenant, even when the interrupted
# task is inside the scope.  A busy process, a UDP flood on loopback and a
# sleeper run in a cgroup; the same interrupt-context probes fire for tasks
# of that cgroup without --cgroup (so this cannot pass vacuously), none
# reaches the output under --cgroup, and task-context probes still do.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec interrupt" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec interrupt: $RUNNER is not built"
	exit 0
fi

mnt=$(cgroup2_mnt)
dir=$mnt/tracegate-irq-$$
work=$(mktemp -d)
cleanup() {
	local p
	for p in "${TG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	cgroup_remove_tree "$dir" >/dev/null 2>&1
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
mkdir -p "$dir" || { tap_fail "exec interrupt: cannot make a cgroup under $mnt"; exit 0; }
cgid=$(stat -c %i "$dir")

# user-mode CPU (timer interrupts taken from user mode run on the task's
# own stack: the case a stack test alone misses)
pod_run "$dir" bash -c 'while :; do :; done' >/dev/null
# loopback traffic: softirq NET_RX and netif_receive_skb
pod_run "$dir" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0)); r.setblocking(False)
a = r.getsockname()
while True:
    s.sendto(b"tracegate", a)
    try:
        r.recv(64)
    except BlockingIOError:
        pass
' >/dev/null
# a sleeper woken by hrtimers (sched_wakeup from interrupt context)
sleeper=$(pod_run "$dir" python3 -c 'import time
while True: time.sleep(0.002)')
sleep 0.3

irq_probes='tracepoint:irq:softirq_entry /F/ { @softirq = count(); }
tracepoint:timer:hrtimer_expire_entry /F/ { @hrtimer = count(); }
tracepoint:irq:irq_handler_entry /F/ { @hardirq = count(); }
tracepoint:net:netif_receive_skb /F/ { @netrx = count(); }
tracepoint:sched:sched_wakeup /F && args->pid == '"$sleeper"'/ { @wakeup = count(); }'
count_of() { # count_of NAME FILE: the value of "@NAME: N", 0 when absent
	awk -v n="@$1:" '$1 == n { v = $2 } END { print v + 0 }' "$2"
}

# 1. without a scope, the interrupt-context probes fire while tasks of the
#    cgroup are the current task
prog=${irq_probes//\/F/\/cgroup == $cgid}
if timeout 30 "$RUNNER" exec --cache-dir "$work/cache" --duration 3 -e "$prog" >"$work/unscoped" 2>"$work/unscoped.err"; then
	tap_ok "exec interrupt: unscoped run"
else
	tap_fail "exec interrupt: unscoped run" "$(cat "$work/unscoped.err")"
fi
for n in softirq hrtimer netrx; do
	c=$(count_of $n "$work/unscoped")
	if [ "$c" -gt 0 ]; then
		tap_ok "exec interrupt: @$n fires for the cgroup's tasks without a scope ($c)"
	else
		tap_fail "exec interrupt: @$n fires for the cgroup's tasks without a scope" "$(cat "$work/unscoped")"
	fi
done
log "unscoped, current task in the cgroup: hardirq $(count_of hardirq "$work/unscoped"), wakeup $(count_of wakeup "$work/unscoped")"

# 2. under the scope: none of them, while task context still fires
prog="${irq_probes//\/F && /\/}"
prog="${prog//\/F\/ /}
tracepoint:syscalls:sys_enter_sendto { @sendto = count(); }
tracepoint:exceptions:page_fault_user { @pagefault = count(); }"
if timeout 30 "$RUNNER" exec --summary --cache-dir "$work/cache" --cgroup "$dir" --duration 3 -e "$prog" \
	>"$work/scoped" 2>"$work/scoped.err"; then
	tap_ok "exec interrupt: scoped run"
else
	tap_fail "exec interrupt: scoped run" "$(cat "$work/scoped.err")"
fi
c=$(count_of sendto "$work/scoped")
if [ "$c" -gt 0 ]; then
	tap_ok "exec interrupt: task-context syscalls of the cgroup still fire under the scope ($c)"
else
	tap_fail "exec interrupt: task-context syscalls of the cgroup still fire under the scope" "$(cat "$work/scoped")"
fi
for n in softirq hrtimer hardirq netrx wakeup; do
	c=$(count_of $n "$work/scoped")
	if [ "$c" -eq 0 ]; then
		tap_ok "exec interrupt: no @$n under the scope"
	else
		tap_fail "exec interrupt: no @$n under the scope ($c reached the output)" "$(cat "$work/scoped")"
	fi
done
log "scoped: sendto $(count_of sendto "$work/scoped"), page faults $(count_of pagefault "$work/scoped")"

# 3. interval under a scope runs from the runner's timer (no interrupt)
prog='tracepoint:syscalls:sys_enter_sendto { @n = count(); } interval:ms:500 { print(@n); clear(@n); }'
timeout 30 "$RUNNER" exec --cache-dir "$work/cache" --cgroup "$dir" --duration 3 -e "$prog" >"$work/interval" 2>&1
ticks=$(grep -c '^@n: [1-9]' "$work/interval")
if [ "$ticks" -ge 4 ]; then
	tap_ok "exec interrupt: interval under a scope prints and clears ($ticks ticks in 3 s)"
else
	tap_fail "exec interrupt: interval under a scope prints and clears" "$(cat "$work/interval")"
fi

# 4. profile and software probes are refused under a scope, with line:col
timeout 30 "$RUNNER" exec --cache-dir "$work/cache" --cgroup "$dir" -e 'BEGIN { }
  profile:hz:99 { @[comm] = count(); }' >"$work/profile" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'stdin:2:3: ERROR: probe "profile:hz:99": profile probes sample interrupt context, which belongs to no tenant' "$work/profile"; then
	tap_ok "exec interrupt: profile refused under a scope with line:col"
else
	tap_fail "exec interrupt: profile refused under a scope with line:col" "rc=$rc" "$(cat "$work/profile")"
fi
timeout 30 "$RUNNER" exec --cache-dir "$work/cache" --cgroup "$dir" -e 'software:cpu-clock:100000 { @ = count(); }' >"$work/software" 2>&1
if [ $? -eq 1 ] && grep -q 'software probes sample interrupt context' "$work/software"; then
	tap_ok "exec interrupt: software refused under a scope"
else
	tap_fail "exec interrupt: software refused under a scope" "$(cat "$work/software")"
fi
