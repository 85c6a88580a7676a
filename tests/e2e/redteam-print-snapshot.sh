#!/usr/bin/env bash
# Red team: print(@m) of a map that probes update concurrently prints each
# key once.  The runner walked the map with get_next_key while the probes
# deleted and added keys; a deleted key sends such a walk back to the
# first key, so one print showed the same keys again and again (up to 102
# duplicates in one print of a 256-entry map, and the walk could run 16M
# steps).  The runner now takes a snapshot (BPF_MAP_LOOKUP_BATCH, else a
# bounded, de-duplicated walk) before formatting.  Through
# `tracegate-runner exec` with real BPF: a syscall flood adds and deletes
# random keys while an interval prints the map every 5 ms; no print may
# hold a key twice.
source "$(dirname "$0")/lib.sh"
need_bpf "redteam print snapshot" || exit 0
RUNNER=$TG_BIN/tracegate-runner
work=$(mktemp -d)
cleanup() {
	local p
	for p in "${TG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT
bash -c 'while :; do cat /dev/null; done' >/dev/null 2>&1 &
TG_PIDS+=($!)
disown

timeout 60 "$RUNNER" exec --duration 6 --cache-dir "$work/cache" -e '
tracepoint:syscalls:sys_enter_openat { @m[rand % 1024] = count(); delete(@m[rand % 1024]); }
interval:ms:5 { print(@m); printf("--\n"); }' >"$work/out" 2>"$work/err"
rc=$?
res=$(python3 - "$work/out" <<'PY'
import sys
blocks = open(sys.argv[1]).read().split("--\n")
prints = dup = worst = entries = 0
for b in blocks:
    ks = [l.split(":")[0] for l in b.splitlines() if l.startswith("@m[")]
    if not ks:
        continue
    prints += 1
    entries += len(ks)
    d = len(ks) - len(set(ks))
    if d:
        dup += 1
        worst = max(worst, d)
print(prints, dup, worst, entries)
PY
)
read -r prints dup worst entries <<<"$res"
if [ "$rc" -eq 0 ] && [ "${prints:-0}" -ge 100 ] && [ "${entries:-0}" -ge 1000 ]; then
	tap_ok "the map was printed $prints times while the probes changed it ($entries entries printed)"
else
	tap_fail "the map was printed at least 100 times while the probes changed it" "rc=$rc prints=${prints:-} entries=${entries:-}" "$(tail -3 "$work/err")"
fi
check "no print holds a key twice ($dup prints with duplicates, worst $worst)" test "${dup:-1}" -eq 0

# a hist printed while it fills: each bucket line once per print
timeout 60 "$RUNNER" exec --duration 2 --cache-dir "$work/cache" -e '
tracepoint:syscalls:sys_enter_openat { @h = hist(rand % 100000); @c = count(); }
interval:ms:20 { print(@h); print(@c); }' >"$work/hist" 2>"$work/herr"
rc=$?
check "a hist and a count printed while they fill still print (rc=$rc)" \
	bash -c "grep -q '^@h:' '$work/hist' && grep -q '^@c: [0-9]' '$work/hist'"
