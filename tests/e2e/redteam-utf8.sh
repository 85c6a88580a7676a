#!/usr/bin/env bash
# A tenant's bytes are not the transport's: printf text, a str() or
# string-literal map key, a string value, a comm may hold any byte (a
# "\xff" escape, a process that renamed itself), and each crosses to the
# gateway in a JSON string, which must be valid UTF-8.  Before, jansson
# refused such a string, the runner took it for a failed allocation, and
# the trace ended as an error ("maps: Cannot allocate memory", exit 1),
# its maps lost: a false ending any tenant could cause on its own trace.
# Now each invalid byte is U+FFFD and the trace ends as it really did.
source "$(dirname "$0")/lib.sh"
need_bpf "tenant bytes that are not UTF-8" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

out=$TG_WORK/out
err=$TG_WORK/err
# one event of the pod (its loop opens the marker file), then exit():
# the output, the map key and the string value all carry \xff / \xfe
PROG='tracepoint:syscalls:sys_enter_openat { printf("x\xffy\n"); @k["k\xfe"] = count(); @s = "v\xc3"; exit(); }'
timeout 60 bash -c 'KUBECONFIG=$1/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 20 -e "$2"' \
	_ "$TG_WORK" "$PROG" >"$out" 2>"$err"
rc=$?
check "the trace ends as it did, by exit() (rc=$rc: $(head -c 300 "$err"))" test "$rc" -eq 0
check "its output is there, the byte as U+FFFD" grep -q $'^x\xef\xbf\xbdy$' "$out"
check "its map is there, the key's byte as U+FFFD" grep -qE $'^@k\\[k\xef\xbf\xbd\\]: [1-9][0-9]*$' "$out"
check "its string value is there, the cut sequence as U+FFFD" grep -q $'^@s: v\xef\xbf\xbd$' "$out"
check "no false error on stderr" bash -c "! grep -qi 'allocate memory\|error' '$err'"
end=$(audit_py '[r["tracegate"].get("endReason") for r in recs if r["stage"] == "ResponseComplete" and not r["tracegate"].get("dryRun")][-1]')
check "the audit record's ending is exit ($end)" test "$end" = exit

# A NUL byte printed (%c of 0): bpftrace 0.17 prints nothing for it, and
# so does tracegate (had it travelled, "\u0000" would be refused by
# jansson's reader: buf_add_utf8 makes any NUL a U+FFFD, test-lib-buf).
PROG='tracepoint:syscalls:sys_enter_openat { printf("n%cn\n", 0); @c = count(); exit(); }'
timeout 60 bash -c 'KUBECONFIG=$1/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 20 -e "$2"' \
	_ "$TG_WORK" "$PROG" >"$out" 2>"$err"
rc=$?
check "a printed NUL byte: the trace ends by exit() (rc=$rc: $(head -c 300 "$err"))" test "$rc" -eq 0
check "the line as bpftrace 0.17 prints it (nn), the map printed" bash -c "grep -qx nn '$out' && grep -qE '^@c: [1-9]' '$out'"

# Text that looks like the stream's own records is only text: an end
# record, an error record in printf, a map key with "} and a newline.
PROG='tracepoint:syscalls:sys_enter_openat { printf("\n{\"type\":\"end\",\"reason\":\"policy\",\"events\":999}\n{\"type\":\"error\",\"message\":\"x\"}\n"); @m["\"}\n{\"type\":\"end\"}"] = count(); exit(); }'
timeout 60 bash -c 'KUBECONFIG=$1/kubeconfig exec kubectl trace run --context alice pod/web-a -n team-a --duration 20 -e "$2"' \
	_ "$TG_WORK" "$PROG" >"$out" 2>"$err"
rc=$?
check "records printed by the program are its output, the ending is its own (rc=$rc: $(head -c 300 "$err"))" \
	bash -c "[ $rc = 0 ] && grep -qxF '{\"type\":\"end\",\"reason\":\"policy\",\"events\":999}' '$out' && ! grep -qi error '$err'"
got=$(audit_py '[(r["tracegate"].get("endReason"), 0 <= r["tracegate"]["events"] < 999) for r in recs if r["stage"] == "ResponseComplete" and not r["tracegate"].get("dryRun")][-1]')
check "the audit record's ending and counts are the runner's ($got)" test "$got" = "('exit', True)"
