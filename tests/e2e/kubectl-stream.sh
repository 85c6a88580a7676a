#!/usr/bin/env bash
# Streaming prints through kubectl (issue 9): `print(@x); clear(@x)` in
# `interval:s:1` reaches the client once per tick while the trace runs,
# in bpftrace's order (the tick's printf, then its map), not one
# accumulated map at the end.  A pod target here; workload.sh has the
# same across two nodes (the tick's maps merged).
source "$(dirname "$0")/lib.sh"
need_bpf "streaming prints" || exit 0
stack_start || { tap_fail "stream: stack starts" "$(tail -5 "$TG_WORK"/*.log)"; exit 1; }
out=$TG_WORK/out
err=$TG_WORK/err

# The pod's opener opens its marker every 0.1 s: about 10 a tick.
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'"$TG_MARK_A"'"/ { @x[comm] = count(); }
interval:s:1 { printf("tick\n"); print(@x); clear(@x); }'

# -o json: each tick's map record arrives while the trace still runs
: >"$out"
kt_bg alice run pod/web-a -n team-a --duration 6 -o json -e "$PROG" >"$out" 2>"$err" &
ktpid=$!
if wait_for 10 grep -q '"type":"map"' "$out" && kill -0 "$ktpid" 2>/dev/null; then
	tap_ok "the first tick's map arrives while the trace runs"
	n1=$(grep -c '"type":"map"' "$out")
	if wait_for 4 bash -c "[ \$(grep -c '\"type\":\"map\"' '$out') -gt $n1 ]" && kill -0 "$ktpid" 2>/dev/null; then
		tap_ok "the next tick's map arrives a tick later, still while it runs"
	else
		tap_fail "the next tick's map arrives a tick later, still while it runs" "$(tail -3 "$out")"
	fi
else
	tap_fail "the first tick's map arrives while the trace runs" "$(tail -5 "$out")" "$(cat "$err")"
fi
wait "$ktpid"
rc=$?
check "the trace ends with exit status 0 (rc=$rc)" test "$rc" -eq 0
# one map record per tick (5 or 6 in 6 s), each a print, each after its
# tick's printf, and each a tick's worth (cleared between), none empty
got=$(python3 - "$out" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seq = [("m" if r["type"] == "map" else "t") for r in recs
       if (r["type"] == "map" and r.get("print")) or (r["type"] == "output" and r["text"] == "tick\n")]
maps = [r for r in recs if r["type"] == "map"]
prints = [r for r in maps if r.get("print")]
vals = [sum(e["value"] for e in r["entries"]) for r in prints]
ok_order = "".join(seq).replace("tm", "") in ("", "t")
print(len(prints) in (5, 6), len(prints) == len(maps) - (1 if maps and not maps[-1].get("print") else 0),
      ok_order, all(3 <= v <= 20 for v in vals[:-1]), vals, "".join(seq))
EOF
)
check "one print per tick, after its printf, each with one tick's counts ($got)" \
	bash -c "[[ '$got' == 'True True True True '* ]]"

# text, in a pty as a person: `tick` then `@x[cat]: N`, once per tick
rc=$(python3 "$TG_TOP/tests/e2e/pty-drive.py" "$out" 'wait:tick\r?\n@x\[cat\]: [0-9]+\r?\n' exit:30 -- \
	kubectl trace run --context alice pod/web-a -n team-a --duration 4 -e "$PROG" 2>"$err")
n=$(grep -cE '^@x\[cat\]: [0-9]+' "$out")
check "as text, the ticks print as they come (rc=$rc, $n @x lines)" test "$rc" = 0 -a "$n" -ge 3
