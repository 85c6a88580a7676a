#!/usr/bin/env bash
# bpftrace 0.2x language that 0.17 refuses ("exit() requires no arguments",
# "Unknown function: has_key"), so nothing to compare with here: each case
# follows a section of bpftrace's reference documentation, docs/stdlib.md
# of github.com/bpftrace/bpftrace (cited per case).
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec lang 0.2x" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec lang 0.2x: $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# expect NAME WANT_RC WANT_STDOUT ARGS...
expect() {
	local name=$1 wrc=$2 want=$3 rc
	shift 3
	timeout 20 "$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -eq "$wrc" ] && [ "$(cat "$work/out")" = "$want" ]; then
		tap_ok "exec lang 0.2x: $name"
	else
		tap_fail "exec lang 0.2x: $name" "rc=$rc (want $wrc)" "got:" "$(cat "$work/out")" "want:" "$want" "$(cat "$work/err")"
	fi
}
refuse() {
	local name=$1 re=$2 rc
	shift 2
	timeout 20 "$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -ne 0 ] && grep -qE -- "$re" "$work/err" && ! grep -q Attaching "$work/out"; then
		tap_ok "exec lang 0.2x: $name"
	else
		tap_fail "exec lang 0.2x: $name" "rc=$rc" "$(cat "$work/out" "$work/err")"
	fi
}

# docs/stdlib.md "exit": void exit([int code]); "The END probe will still
# trigger (if specified) and maps will be printed. An optional exit code
# can be provided."
expect "exit(code): END runs, maps printed, the code is the exit status (stdlib.md exit)" 3 \
	"$(printf 'Attaching 2 probes...\nend\n\n\n@a: 1')" \
	-e 'BEGIN { @a = 1; exit(3); } END { printf("end\n"); }'
expect "exit(1) as in the example (stdlib.md exit)" 1 "$(printf 'Attaching 1 probe...\n\n')" -e 'BEGIN { exit(1); }'
expect "exit() is status 0 (stdlib.md exit)" 0 "$(printf 'Attaching 1 probe...\n\n')" -e 'BEGIN { exit(); }'
# cat opens a file every 0.1 s until the run has ended, however long it
# takes to attach (a single cat after a fixed delay raced the attach)
opener() { while :; do cat /dev/null; sleep 0.1; done; }
opener &
opener_pid=$!
expect "exit(code) from a tracepoint (stdlib.md exit)" 7 "$(printf 'Attaching 1 probe...\nopened\n\n')" \
	-e 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("opened\n"); exit(7); }'
kill "$opener_pid"; wait "$opener_pid" 2>/dev/null

# docs/stdlib.md "has_key": boolean has_key(map m, mapkey k); "Return true
# if the key exists in this map. Otherwise return false. Error if called
# with a map that has no keys (aka scalar map)."  The example's print of a
# tuple is a printf here (tuples are not implemented).
expect "has_key of a key of two parts, the example (stdlib.md has_key)" 0 \
	"$(printf 'Attaching 1 probe...\nbye\n\n\n@associative[1, 2]: 1')" \
	-e 'BEGIN { @associative[1,2] = 1; if (!has_key(@associative, (1,3))) { printf("bye\n"); }
	  if (!has_key(@associative, (1,2))) { printf("wrong\n"); } exit(); }'
expect "has_key: 1 when present, 0 when absent or deleted; as a value and a key (stdlib.md has_key)" 0 \
	"$(printf 'Attaching 1 probe...\n1 0 0 1\n\n\n@b[1]: 0\n@m[hello]: 1')" \
	-e 'BEGIN { @m["hello"] = 1; @m["gone"] = 2; delete(@m["gone"]); $a = has_key(@m, "hello"); $k = "hello";
	  printf("%d %d %d %d\n", $a, has_key(@m, "nope"), has_key(@m, "gone"), has_key(@m, $k));
	  @b[has_key(@m, "hello")] = has_key(@m, "nope"); exit(); }'
# probes count into a map while another asks: has_key sees the other
# probe's key (one map, every CPU)
opener &
opener_pid=$!
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	-e 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @seen[comm] = count(); }
	  tracepoint:syscalls:sys_exit_openat /has_key(@seen, comm)/ { printf("seen %s\n", comm); exit(); }' >"$work/out" 2>"$work/err"
rc=$?
kill "$opener_pid"; wait "$opener_pid" 2>/dev/null
if [ $rc -eq 0 ] && [ "$(head -2 "$work/out")" = "$(printf 'Attaching 2 probes...\nseen cat')" ] &&
	grep -qE '^@seen\[cat\]: [1-9][0-9]*$' "$work/out"; then
	tap_ok "exec lang 0.2x: has_key sees keys written by another probe (stdlib.md has_key)"
else
	tap_fail "exec lang 0.2x: has_key sees keys written by another probe (stdlib.md has_key)" "rc=$rc" "$(cat "$work/out" "$work/err")"
fi
refuse "has_key of a scalar map is an error (stdlib.md has_key)" 'stdin:1:[0-9]+: ERROR: has_key\(\): takes a map and a key' \
	-e 'BEGIN { @scalar = 1; if (has_key(@scalar)) { printf("hello\n"); } exit(); }'
refuse "has_key with a key on a scalar map is an error (stdlib.md has_key)" 'map "@scalar": used with 1 keys here and 0 keys before' \
	-e 'BEGIN { @scalar = 1; if (has_key(@scalar, 1)) { printf("hello\n"); } exit(); }'
refuse "has_key of a hist map names the limit" 'has_key\(\): not supported on a hist\(\) map' \
	-e 'BEGIN { @h[1] = hist(3); printf("%d\n", has_key(@h, 1)); exit(); }'
