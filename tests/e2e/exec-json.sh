#!/usr/bin/env bash
# tracegate-runner exec -f json: bpftrace's JSON records (attached_probes,
# printf, value, time, map, hist, stats, tuples), compared line for line
# with bpftrace 0.17's -f json on this machine where it is installed
# (stdout only: 0.17 prints a RLIMIT_MEMLOCK complaint on stderr here);
# -o FILE, lost_events, -f FORMAT refusals and the older -f FILE.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec json" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec json: $RUNNER is not built"
	exit 0
fi
BT=$(command -v bpftrace || true)
if [ -n "$BT" ] && ! "$BT" --version 2>/dev/null | grep -q 'v0\.17\.'; then
	BT=
fi
work=$(mktemp -d /tmp/tg-json.XXXXXX)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT

tg() { timeout 30 "$RUNNER" exec --cache-dir "$work/cache" "$@"; }
# same NAME PROG: our -f json stdout parses as JSON records, one a line,
# and equals bpftrace 0.17's
same() {
	local name=$1 prog=$2 rc
	tg -f json -e "$prog" >"$work/ours" 2>"$work/ours.err"
	rc=$?
	if [ $rc -ne 0 ] || ! grep . "$work/ours" | python3 -c 'import sys, json; [json.loads(l) for l in sys.stdin]' 2>"$work/perr"; then
		tap_fail "exec json: $name: records" "rc=$rc" "$(cat "$work/ours" "$work/ours.err" "$work/perr")"
		return
	fi
	tap_ok "exec json: $name: records"
	if [ -z "$BT" ]; then
		printf 'ok - exec json: %s: as bpftrace 0.17 # SKIP bpftrace 0.17 is not installed\n' "$name"
		return
	fi
	timeout 60 "$BT" -f json -e "$prog" >"$work/bt" 2>"$work/bt.err"
	rc=$?
	if [ $rc -eq 0 ] && diff "$work/bt" "$work/ours" >"$work/diff"; then
		tap_ok "exec json: $name: as bpftrace 0.17"
	else
		tap_fail "exec json: $name: as bpftrace 0.17" "bpftrace rc=$rc" "$(cat "$work/diff" "$work/bt.err")"
	fi
}

same "printf, print of values and tuples" \
	'BEGIN { printf("a\tb \"q\" \\ %d\n", 5); print(-3); print("s"); $t = (1, "x", ((int8)-2, 3)); print($t); exit(); }'
same "maps: int, string, keyed, scalar" \
	'BEGIN { @i = -1; @s["k"] = "v\"q"; @c[1, "a"] = count(); @c[2, "b"] = count(); @c[2, "b"] = count(); @u = sum(7); exit(); }'
same "hist and lhist, keyed, below and above range" \
	'BEGIN { @h = hist(0); @h = hist(-1); @h = hist(1000); @k["x"] = hist(5); @l = lhist(-5, 0, 100, 10); @l = lhist(55, 0, 100, 10); @l = lhist(500, 0, 100, 10); @z = hist(1); zero(@z); exit(); }'
same "stats and avg" \
	'BEGIN { @s = stats(2); @s = stats(10); @a["x"] = avg(4); @a["y"] = avg(8); exit(); }'
same "print(@m) with top, clear" \
	'BEGIN { @[1] = hist(10); @[2] = hist(20); @[3] = hist(30); print(@, 2); clear(@); @t = (1, "two", (3, 4)); exit(); }'

# -q: no attached_probes; -o FILE: the records in FILE
tg -q -f json -o "$work/o.json" -e 'BEGIN { printf("x"); @a = 1; exit(); }' >"$work/o.out" 2>"$work/o.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$work/o.json")" = "$(printf '%s\n%s' '{"type": "printf", "data": "x"}' '{"type": "map", "data": {"@a": 1}}')" ]; then
	tap_ok "exec json: -q -o FILE: the records in FILE, no attached_probes"
else
	tap_fail "exec json: -q -o FILE: the records in FILE" "rc=$rc" "$(cat "$work/o.json" "$work/o.err")"
fi

# events the rate limit drops are a lost_events record at the end
tg -q -f json --rate 1 -e 'BEGIN { unroll(50) { printf("x\n"); } exit(); }' >"$work/lost" 2>"$work/lost.err"
if grep -qE '^\{"type": "lost_events", "data": \{"events": [1-9][0-9]*\}\}$' "$work/lost"; then
	tap_ok "exec json: dropped events are a lost_events record"
else
	tap_fail "exec json: dropped events are a lost_events record" "$(cat "$work/lost" "$work/lost.err")"
fi

# -f takes a format; an unknown one is bpftrace's error, nothing runs
tg -f jsonx -e 'BEGIN { printf("ran\n"); exit(); }' >"$work/bad" 2>"$work/bad.err"
rc=$?
if [ $rc -ne 0 ] && grep -qx 'ERROR: Invalid output format "jsonx"' "$work/bad.err" && ! grep -q ran "$work/bad"; then
	tap_ok "exec json: -f jsonx is refused as bpftrace refuses it"
else
	tap_fail "exec json: -f jsonx is refused" "rc=$rc" "$(cat "$work/bad" "$work/bad.err")"
fi
# the older -f FILE still names a program file that exists
printf 'BEGIN { printf("from file\\n"); exit(); }\n' >"$work/prog.bt"
tg -q -f "$work/prog.bt" >"$work/file" 2>"$work/file.err"
check "exec json: -f FILE of an existing file still runs it" grep -qx 'from file' "$work/file"
tg -q -f json "$work/prog.bt" >"$work/file2" 2>"$work/file2.err"
check "exec json: -f json FILE" grep -qx '{"type": "printf", "data": "from file\\n"}' "$work/file2"
