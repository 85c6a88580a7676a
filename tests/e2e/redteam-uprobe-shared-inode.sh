#!/usr/bin/env bash
# e2e: alone (it measures a loop's pace beside the probes: other lanes would move it)
# Red team (issue 7's held-out suite): a uprobe acts on the probed FILE, in
# every process that maps it, not only in the pod's processes.  The scope
# check in the BPF program drops the events of other tasks, but the
# breakpoint the kernel writes into their code, the return address a
# uretprobe swaps on their stack and the trap on every call are theirs.
# Whenever the pod shares a file's inode with processes outside it (the
# same image layer in another pod on the node: overlayfs lower layers are
# shared and uprobes attach to the real inode; a hostPath or a shared
# volume; here, as in every e2e test, pods whose root is the host's `/`),
# alice, with the shipped `restricted` policy and nothing else:
#
#   1. puts a breakpoint in the MIDDLE of an instruction (`FUNC+1`, or a
#      raw address) and so rewrites the code a process outside her pod
#      runs: its `movl $0x11223344` now loads 0x112233cc;
#   2. kills a process outside her pod with a plain `uretprobe` on a C++
#      function that throws: the unwinder meets the uretprobe trampoline
#      instead of the caller and calls std::terminate;
#   3. slows a process outside her pod by orders of magnitude with a plain
#      `uprobe` on a function it calls in a loop (every call traps into
#      the kernel), outside her cpuBudget, while her trace sees 0 events.
#
# The claim says a tenant observes only her pods' events, through what her
# policy allows; here she changes, crashes and stalls code of tasks that
# are not in her pod at all.  Each case passes only when the process
# outside the pod is untouched (or the probe is refused).
source "$(dirname "$0")/lib.sh"
need_bpf "red team: uprobes act on the file" || exit 0
if [ "$(uname -m)" != x86_64 ]; then
	tap_skip_or_fail "red team: uprobes act on the file" "the victims are x86-64 code"
	exit 0
fi
for cc in cc c++; do
	if ! command -v "$cc" >/dev/null; then
		tap_skip_or_fail "red team: uprobes act on the file" "no $cc to build the victims"
		exit 0
	fi
done
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

V=$TG_WORK/victims
mkdir -p "$V"

# ---- the victims: ordinary programs run OUTSIDE every pod ------------------
# magic: one instruction, movl $0x11223344,%eax (b8 44 33 22 11), then ret;
# magic+1 is the immediate's first byte, not an instruction boundary.
cat >"$V/patch.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
unsigned magic(void);
__asm__(".text\n.globl magic\n.type magic,@function\nmagic:\n\tmovl $0x11223344, %eax\n\tret\n.size magic, .-magic\n");
int main(void) { setvbuf(stdout, NULL, _IOLBF, 0); for (;;) { printf("%x\n", magic()); usleep(50000); } }
EOF
# thrower: a C++ exception through one frame, caught by the caller
cat >"$V/exc.cc" <<'EOF'
#include <cstdio>
#include <stdexcept>
#include <unistd.h>
extern "C" __attribute__((noinline)) void thrower(int i) { if (i >= 0) throw std::runtime_error("x"); }
int main() { setvbuf(stdout, nullptr, _IOLBF, 0); for (long n = 0;; n++) { try { thrower(1); } catch (const std::exception &) { } printf("alive %ld\n", n); usleep(20000); } }
EOF
# work: called in a tight loop; one line per 0.2 s with the calls made
cat >"$V/spin.c" <<'EOF'
#include <stdio.h>
#include <time.h>
__attribute__((noinline)) int work(int x) { __asm__ volatile(""); return x + 1; }
static long ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }
int main(void) { setvbuf(stdout, NULL, _IOLBF, 0); for (;;) { long n = 0, a = ns(); do { for (int i = 0; i < 100; i++) n = work((int)n); } while (ns() - a < 200000000L); printf("%ld\n", n); } }
EOF
if ! cc -O2 -o "$V/patch" "$V/patch.c" || ! c++ -O2 -o "$V/exc" "$V/exc.cc" || ! cc -O2 -o "$V/spin" "$V/spin.c"; then
	tap_fail "the victims build"
	exit 0
fi
# started from this script: in the test's own cgroup, in no pod
start_victim() { # NAME -> pid; output in $V/NAME.out
	"$V/$1" >"$V/$1.out" 2>&1 &
	TG_PIDS+=("$!")
	printf '%s\n' "$!"
}
not_in_pod() { # PID: its cgroup is outside both pods
	! grep -qE "pod|kubepods" "/proc/$1/cgroup"
}
lines() { wc -l <"$1" 2>/dev/null || echo 0; }
lines_at_least() { [ "$(lines "$1")" -ge "$2" ]; }

# alice's trace of her own pod, in the background; waits until it is
# attached (or refused); $TRACE_OUT holds the NDJSON stream
TRACE_OUT=$TG_WORK/trace.out
trace_start() { # PROGRAM SECONDS
	: >"$TRACE_OUT"
	kt_bg alice run pod/web-a -n team-a --duration "$2" -o json -e "$1" >"$TRACE_OUT" 2>"$TRACE_OUT.err" &
	TRACE_PID=$!
	wait_for 60 bash -c 'grep -q "\"phase\":\"attached\"" "$0" || ! kill -0 $1' "$TRACE_OUT" "$TRACE_PID"
}
trace_attached() { grep -q '"phase":"attached"' "$TRACE_OUT"; }
trace_events() { # the scope check let none of the victim's calls through
	python3 - "$TRACE_OUT" <<'EOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    try: d = json.loads(l)
    except ValueError: continue
    if d.get("type") == "map":
        n += sum(int(e.get("value", 0)) for e in d.get("entries", []))
print(n)
EOF
}

# ---- 1. a breakpoint in the middle of an instruction ------------------------
pid=$(start_victim patch)
wait_for 10 lines_at_least "$V/patch.out" 3
if [ "$(sort -u "$V/patch.out")" != 11223344 ] || ! not_in_pod "$pid"; then
	tap_fail "control: the victim outside the pods prints 11223344" "$(sort "$V/patch.out" | uniq -c)"
fi
addr=$(nm "$V/patch" | awk '$3 == "magic" { print $1 }')
for attach in "uprobe:$V/patch:magic+1" "uprobe:$V/patch:$(printf '0x%x' $((16#${addr:-0} + 1)))"; do
	n0=$(lines "$V/patch.out")
	trace_start "$attach { @ = count(); }" 3
	wait "$TRACE_PID"
	attached=$(trace_attached && echo attached || echo refused)
	wait_for 5 lines_at_least "$V/patch.out" $((n0 + 3))
	# what the victim printed from the start of alice's trace on
	seen=$(tail -n +$((n0 + 1)) "$V/patch.out" | sort | uniq -c | tr '\n' ' ')
	if [ -z "$(tail -n +$((n0 + 1)) "$V/patch.out" | grep -vx 11223344)" ]; then
		tap_ok "alice's '$attach' ($attached) leaves the code of a process outside her pod alone"
	else
		tap_fail "alice's '$attach' ($attached) leaves the code of a process outside her pod alone" \
			"the victim (pid $pid, in no pod) printed: $seen" \
			"alice's trace counted $(trace_events) events of her pod" "$(head -c 600 "$TRACE_OUT.err")"
	fi
done
kill "$pid" 2>/dev/null

# ---- 2. a uretprobe kills a C++ process outside the pod ---------------------
pid=$(start_victim exc)
wait_for 10 lines_at_least "$V/exc.out" 3
trace_start "uretprobe:$V/exc:thrower { @ = count(); }" 3
wait "$TRACE_PID"
attached=$(trace_attached && echo attached || echo refused)
before=$(lines "$V/exc.out")
wait_for 5 lines_at_least "$V/exc.out" $((before + 5))
if kill -0 "$pid" 2>/dev/null && ! grep -q terminate "$V/exc.out"; then
	tap_ok "alice's uretprobe ($attached) does not kill a process outside her pod"
else
	tap_fail "alice's uretprobe ($attached) does not kill a process outside her pod" \
		"the victim (pid $pid, in no pod): $(tail -n 3 "$V/exc.out" | tr '\n' ' ')" \
		"alice's trace counted $(trace_events) events of her pod"
fi
kill "$pid" 2>/dev/null

# ---- 3. a uprobe stalls a process outside the pod ---------------------------
pid=$(start_victim spin)
wait_for 10 lines_at_least "$V/spin.out" 5
base=$(tail -n 3 "$V/spin.out" | sort -n | tail -1)
trace_start "uprobe:$V/spin:work { @ = count(); }" 4
attached=$(trace_attached && echo attached || echo refused)
n0=$(lines "$V/spin.out")
wait_for 10 lines_at_least "$V/spin.out" $((n0 + 6))
during=$(tail -n +$((n0 + 2)) "$V/spin.out" | head -n 4 | sort -n | tail -1)
wait "$TRACE_PID"
if [ -n "$during" ] && [ "$base" -gt 0 ] && [ $((during * 10)) -ge "$base" ]; then
	tap_ok "alice's uprobe ($attached) does not stall a process outside her pod ($base -> $during calls per 0.2 s)"
else
	tap_fail "alice's uprobe ($attached) does not stall a process outside her pod" \
		"the victim (pid $pid, in no pod) made $base calls per 0.2 s before, at most ${during:-?} while alice's trace ran" \
		"alice's trace counted $(trace_events) events of her pod; her cpuBudget is 0.05"
fi
kill "$pid" 2>/dev/null

# ---- 4. the pod runs the same binaries: its own copy is armed, only it ------
# (runner/uprobe-attach.h: a named uprobe, one perf event per process of the
# pod, inherited by its children; nothing outside the pod is armed)
out_pid=$(start_victim exc)
spin_out=$(start_victim spin)
in_pid=$(pod_run "$TG_CTR_A" "$V/exc")
in_spin=$(pod_run "$TG_CTR_A" "$V/spin")
wait_for 10 lines_at_least "$V/exc.out" 3
wait_for 10 lines_at_least "$V/spin.out" 5
base=$(tail -n 3 "$V/spin.out" | sort -n | tail -1)
trace_start "uretprobe:$V/exc:thrower { @[pid] = count(); } uprobe:$V/spin:work { @w[pid] = count(); @f[pid] = min(elapsed / 1000000); @l[pid] = max(elapsed / 1000000); }" 4
attached=$(trace_attached && echo attached || echo refused)
n0=$(lines "$V/spin.out")
wait_for 10 lines_at_least "$V/spin.out" $((n0 + 6))
during=$(tail -n +$((n0 + 2)) "$V/spin.out" | head -n 4 | sort -n | tail -1)
wait "$TRACE_PID"
counts=$(python3 - "$TRACE_OUT" <<'EOF2'
import json, sys
for l in open(sys.argv[1]):
    try: d = json.loads(l)
    except ValueError: continue
    if d.get("type") == "map":
        for e in d.get("entries", []):
            print(d["name"], e.get("key"), e.get("value"))
EOF2
)
# (thrower never returns normally, so its uretprobe never fires: it is
# there to be armed in the pod's copy while the copy outside must live)
if [ "$attached" = attached ] && grep -q "^@w $in_spin [1-9]" <<<"$counts" &&
	! grep -qE "^@w? ($out_pid|$spin_out) " <<<"$counts"; then
	tap_ok "with the same binaries in her pod, alice's probes fire for her pod's copies only"
else
	tap_fail "with the same binaries in her pod, alice's probes fire for her pod's copies only" \
		"attached=$attached in-pod exc=$in_pid spin=$in_spin, outside exc=$out_pid spin=$spin_out" "$counts" \
		"$(head -c 600 "$TRACE_OUT.err")"
fi
# The pod's shell forks a `cat` and a `sleep` every 0.1 s.  The kernel
# copies a program to the inherited copies of the event it is attached
# to, and took it off the probe when the first such child exited: the
# loop kept trapping, the trace counted nothing after its first 0.1 s.
first=$(awk -v p="$in_spin" '$1 == "@f" && $2 == p { print $3 }' <<<"$counts")
last=$(awk -v p="$in_spin" '$1 == "@l" && $2 == p { print $3 }' <<<"$counts")
if [ -n "$first" ] && [ -n "$last" ] && [ $((last - first)) -ge 2000 ]; then
	tap_ok "the probe keeps firing while the pod's processes fork and their children exit (hits over $((last - first)) ms of a 4 s trace)"
else
	tap_fail "the probe keeps firing while the pod's processes fork and their children exit" \
		"the in-pod loop's first and last hits: ${first:-none} ms, ${last:-none} ms (of a 4 s trace)" "$counts"
fi
if kill -0 "$out_pid" 2>/dev/null && [ -n "$during" ] && [ $((during * 10)) -ge "$base" ]; then
	tap_ok "the same binaries outside her pod are untouched: the C++ process lives, the loop keeps its pace ($base -> $during)"
else
	tap_fail "the same binaries outside her pod are untouched" \
		"outside exc alive: $(kill -0 "$out_pid" 2>/dev/null && echo yes || echo no); spin $base -> ${during:-?}"
fi
kill "$out_pid" "$spin_out" "$in_pid" "$in_spin" 2>/dev/null

# ---- nothing is left behind -------------------------------------------------
if wait_for 10 no_progs_left; then
	tap_ok "no program of ours is left"
else
	tap_fail "no program of ours is left" "$(progs_report)"
fi
