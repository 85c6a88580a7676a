#!/usr/bin/env bash
# Red team (issue 7's held-out suite): files inside alice's pod that the
# privileged runner reads.  With the shipped `restricted` policy alice
# names any file of her pod as a uprobe or usdt target; the runner opens
# it inside the pod's root and hands it to libelf and libbpf.  libelf
# allocates a descriptor per section at elf_begin(), so a 4 KiB sparse
# file claiming millions of sections made the privileged session child
# allocate hundreds of MB per probe (3.2 GB for 10 million sections,
# alice may run several traces at once, the runner's pod has 1 GiB):
# memory of the node's tracing service, for every tenant, by one file.
# And a usdt probe is armed by libbpf with one perf event per site and
# process, each removed by the kernel with an RCU grace period of its own
# (~1.3 s here): a file of 24 sites in alice's pod kept her session past
# its grace (killed, its runner slot busy until the kernel was done: 22
# minutes for 1024 sites); the runner now counts sites x processes.
# Each case passes only when the trace is refused with a clear error
# naming the file and the limit, quickly, the session's memory stays
# small, and the runner keeps serving.
source "$(dirname "$0")/lib.sh"
need_bpf "red team: pod files" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (kubesim, runner, gateway, two pods)"

# mkelf PATH NSECTIONS [extended]: a sparse ELF64 header claiming N sections
mkelf() {
	python3 - "$@" <<'PY'
import struct, sys, os
path, nsec = sys.argv[1], int(sys.argv[2])
shoff = 64
with open(path, 'wb') as f:
    f.write(b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8) +
            struct.pack('<HHIQQQIHHHHHH', 3, 62, 1, 0, 0, shoff, 0, 64, 56, 0, 64, 0, 0))
    # extended numbering: section 0's sh_size holds the count
    f.write(struct.pack('<IIQQQQIIQQ', 0, 0, 0, 0, 0, nsec, 0, 0, 0, 0))
    f.truncate(shoff + nsec * 64)
os.chmod(path, 0o755)
PY
}

# peak_rss_watch FILE: the largest VmHWM (kB) of the runner's session
# children, written to FILE while it runs (stopped by killing $!)
peak_rss_watch() {
	local f=$1
	echo 0 >"$f"
	(
		peak=0
		while :; do
			for c in $(pgrep -P "$TG_RUNNER_PID"); do
				h=$(awk '/^VmHWM/ { print $2 }' "/proc/$c/status" 2>/dev/null)
				if [ -n "$h" ] && [ "$h" -gt "$peak" ]; then
					peak=$h
					echo "$peak" >"$f"
				fi
			done
			sleep 0.02
		done
	) &
}

out=$TG_WORK/out
err=$TG_WORK/err
run_alice() { # run_alice PROGRAM
	timeout 60 bash -c 'KUBECONFIG=$1/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 2 -e "$2"' \
		_ "$TG_WORK" "$1" >"$out" 2>"$err"
}

BOMB=$TG_WORK/pod-files/bomb.so
mkdir -p "$(dirname "$BOMB")"
mkelf "$BOMB" 2000000
log "bomb: $(du -k "$BOMB" | cut -f1) KiB on disk, $(stat -c %s "$BOMB") bytes"

for probe in "uprobe:$BOMB:main" "usdt:$BOMB:p:n"; do
	peak_rss_watch "$TG_WORK/peak"
	watcher=$!
	t0=$(date +%s%N)
	run_alice "$probe { @ = count(); }"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	peak=$(cat "$TG_WORK/peak")
	if [ "$rc" -ne 0 ] && grep -q '2000000 sections, more than the 16384' "$err" &&
		grep -qF "$BOMB" "$err" && [ "$peak" -lt 204800 ]; then
		tap_ok "${probe%%:*} of a sparse file claiming 2e6 sections: refused naming the limit (${ms} ms, largest session RSS seen ${peak} kB)"
	else
		tap_fail "${probe%%:*} of a sparse file claiming 2e6 sections: refused naming the limit" \
			"rc=$rc ${ms} ms, session peak RSS ${peak} kB (limit 200 MB)" "$(cat "$out" "$err")"
	fi
done

# many usdt sites: one provider:name at N places (notes written by hand,
# as <sys/sdt.h> would)
if command -v cc >/dev/null; then
	cat >"$TG_WORK/sites.c" <<'C'
#include <unistd.h>
__asm__(".ifndef _.stapsdt.base\n.pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n.weak _.stapsdt.base\n.hidden _.stapsdt.base\n_.stapsdt.base: .space 1\n.size _.stapsdt.base, 1\n.popsection\n.endif\n");
__attribute__((noinline)) void sites(void)
{
	__asm__ volatile(".rept 24\n990: nop\n.pushsection .note.stapsdt,\"?\",\"note\"\n.balign 4\n"
			 ".4byte 992f-991f, 994f-993f, 3\n991: .asciz \"stapsdt\"\n992: .balign 4\n"
			 "993: .8byte 990b\n.8byte _.stapsdt.base\n.8byte 0\n.asciz \"tg\"\n.asciz \"site\"\n"
			 ".asciz \"\"\n994: .balign 4\n.popsection\n.endr\n");
}
int main(void) { for (;;) { sites(); usleep(100000); } }
C
	if cc -O2 -o "$TG_WORK/pod-files/sites" "$TG_WORK/sites.c"; then
		pod_run "$TG_CTR_A" "$TG_WORK/pod-files/sites" >/dev/null
		t0=$(date +%s%N)
		run_alice "usdt:$TG_WORK/pod-files/sites:tg:site { @ = count(); }"
		rc=$?
		ms=$((($(date +%s%N) - t0) / 1000000))
		if [ "$rc" -ne 0 ] && grep -q '24 site(s) in [0-9]* process(es) of the pods would take [0-9]* usdt events, more than the 16 a trace may arm' "$err" &&
			[ "$ms" -lt 15000 ]; then
			tap_ok "usdt with 24 sites: refused naming the limit (${ms} ms)"
		else
			tap_fail "usdt with 24 sites: refused naming the limit, quickly" "rc=$rc ${ms} ms" "$(cat "$out" "$err")" \
				"$(tail -3 "$TG_WORK/runner.log")"
		fi
		check "no session child of the runner is left" wait_for 10 bash -c "[ -z \"\$(pgrep -P $TG_RUNNER_PID)\" ]"
	else
		tap_fail "the usdt sites program builds"
	fi
else
	tap_skip_or_fail "usdt with 24 sites" "no cc to build the program"
fi

# the runner still serves alice
run_alice 'tracepoint:syscalls:sys_enter_openat { @ = count(); }'
check "the runner still serves alice afterwards" grep -qE '^@: [0-9]+' "$out"
