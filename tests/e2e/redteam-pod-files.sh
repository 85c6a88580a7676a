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

# the runner still serves alice
run_alice 'tracepoint:syscalls:sys_enter_openat { @ = count(); }'
check "the runner still serves alice afterwards" grep -qE '^@: [0-9]+' "$out"
