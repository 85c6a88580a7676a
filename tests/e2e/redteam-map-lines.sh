#!/usr/bin/env bash
# A map within the restricted policy's limits (maxMapEntries 4096,
# maxMapBytes 1Mi) whose record is longer than the gateway's
# maxLineBytes (1 MiB): its key text comes twice per entry (key, keyv),
# with JSON escapes (a control character is six bytes).  Before, the runner sent it as one line, the gateway
# ended the node's part there ("sent a line longer than the limit
# maxLineBytes", exit 5, reason error) and the maps and the end record's
# counts were lost.  Now the runner sends a big map as several records of
# at most 256 KiB, which the gateway merges: the trace ends by its
# duration, every entry printed once.
source "$(dirname "$0")/lib.sh"
need_bpf "map records longer than a line" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
# a key of 200 control characters: 1200 bytes of JSON escapes, twice an
# entry; 40 entries per open of the pod's loop (some hundred a second)
K=$(printf '\\x01%.0s' $(seq 200))
PROG="tracepoint:syscalls:sys_enter_openat { unroll(40) { @m[nsecs, \"$K\"] = count(); } }"
kt alice run pod/web-a -n team-a --duration 15 -e "$PROG" >"$out" 2>"$err"
rc=$?
check "the trace ends by its duration (rc=$rc: $(head -c 300 "$err"))" test "$rc" -eq 0
got=$(python3 - "$out" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]) if l.startswith('@m[')]
keys = set(l.split(']')[0] for l in lines)
# key text and keyv each carry the key, 6 bytes of JSON a character
print(len(lines), len(keys), 2 * 6 * 200 * len(lines) > (1 << 20))
PY
)
read -r n distinct big <<<"$got"
check "every entry is printed once ($n entries, $distinct distinct)" bash -c "[ '$n' -gt 0 ] && [ '$n' = '$distinct' ]"
check "the map was longer than one line may be ($n entries of 2 x 1200 bytes > 1 MiB: $big)" test "$big" = True
end=$(audit_py '[r["tracegate"].get("endReason") for r in recs if r["stage"] == "ResponseComplete" and not r["tracegate"].get("dryRun")][-1]')
check "the audit record's ending is duration ($end)" test "$end" = duration
