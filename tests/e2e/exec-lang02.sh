#!/usr/bin/env bash
# bpftrace 0.2x language that 0.17 refuses ("exit() requires no arguments",
# "Unknown function: has_key"), so nothing to compare with here: each case
# follows a section of bpftrace's reference documentation, docs/stdlib.md
# and docs/language.md of github.com/bpftrace/bpftrace (cited per case).
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec lang 0.2x" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec lang 0.2x: $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT

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
# with a map that has no keys (aka scalar map)."  The example's print is a
# printf here.
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

# docs/language.md "Variables and Maps": "'scratch' variables can also
# declared before or during initialization with let ... If no assignment
# is specified variables will initialize to 0." and "'scratch' variables
# cannot be accessed outside of their lexical block" (for let variables;
# a 0.17 variable assigned without let keeps 0.17's probe scope).
expect "let \$x; is 0, let \$x = e; its value (language.md Variables and Maps)" 0 \
	"$(printf 'Attaching 1 probe...\n0 1 hello\n\n')" \
	-e 'BEGIN { let $a; let $b = 1; let $c = "hello"; printf("%d %d %s\n", $a, $b, $c); exit(); }'
expect "the example: let \$b; assigned in a block (language.md Variables and Maps)" 0 \
	"$(printf 'Attaching 1 probe...\nhello 2\n\n')" \
	-e 'BEGIN { let $a = 1; let $b; if ($a == 1) { $b = "hello"; $a = 2; } printf("%s %d\n", $b, $a); exit(); }'
expect "let in a loop body starts again each iteration (language.md Variables and Maps)" 0 \
	"$(printf 'Attaching 1 probe...\n0 0 0\n\n')" \
	-e 'BEGIN { $i = 0; while ($i < 3) { let $z; printf("%d%s", $z, $i < 2 ? " " : "\n"); $z = 5; $i++; } exit(); }'
expect "sibling blocks may each let the same name, of other types (language.md Variables and Maps)" 0 \
	"$(printf 'Attaching 1 probe...\n1\nx\n\n')" \
	-e 'BEGIN { if (1) { let $v = 1; printf("%d\n", $v); } if (1) { let $v = "x"; printf("%s\n", $v); } exit(); }'
refuse "a let variable outside its block is an error naming the let (language.md Variables and Maps)" \
	'variable "\$c": not in scope here \(the block of its let at 1:18 has ended\)' \
	-e 'BEGIN { if (1) { let $c = 1; } printf("%d\n", $c); exit(); }'
refuse "let of a name already in scope is an error" 'variable "\$x": already declared' \
	-e 'BEGIN { $x = 1; let $x = 2; exit(); }'

# docs/language.md "Map Keys": "Map keys that are composed of multiple
# values are represented as tuples e.g. @name[(key1,key2)] = expression
# ... this, more concise, syntax is supported and the same as the
# explicit tuple above"
expect "@m[(k1, k2)] is @m[k1, k2] (language.md Map Keys)" 0 \
	"$(printf 'Attaching 1 probe...\n\n\n@[1, a]: 2')" \
	-e 'BEGIN { @[(1, "a")] = count(); @[1, "a"] = count(); exit(); }'
expect "a tuple variable as the key is its parts: one map (language.md Map Keys)" 0 \
	"$(printf 'Attaching 1 probe...\n\n\n@[2, b]: 3')" \
	-e 'BEGIN { $t = (2, "b"); @[$t] = 1; @[2, "b"] += 1; @[(2, "b")] += 1; exit(); }'
# docs/stdlib.md "print": "void print(T val) ... prints the value"
expect "print(@m[k]) prints the value (stdlib.md print)" 0 \
	"$(printf 'Attaching 1 probe...\n5\n(1, x)\n\n\n@m[1]: 5\n@t[1]: (1, x)')" \
	-e 'BEGIN { @m[1] = 5; @t[1] = (1, "x"); print(@m[1]); print(@t[1]); exit(); }'

# docs/language.md "For": "for loops can be used to iterate over elements
# in a map, or over a range of integers ... If the iteration is over a map,
# the value will be a tuple containing a key and a value from the map ...
# If a map has multiple keys, the loop variable will be initialised with
# nested tuple of the form: ((key1, key2, ...), value) ... inclusive of the
# start value and exclusive of the end value ... The for start and end
# values are evaluated once" and its table of continue, break, return.
# (Map iteration follows the kernel's hash order: one entry, or a sum.)
expect "for over a map: \$kv.0 the key, \$kv.1 the value (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n10 20\n\n\n@map[10]: 20')" \
	-e 'BEGIN { @map[10] = 20; for ($kv : @map) { printf("%d %d\n", $kv.0, $kv.1); } exit(); }'
expect "for over a map of two keys: ((key1, key2), value) (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n10 11 20\n\n\n@map[10, 11]: 20')" \
	-e 'BEGIN { @map[10,11] = 20; for ($kv : @map) { printf("%d %d %d\n", $kv.0.0, $kv.0.1, $kv.1); } exit(); }'
expect "for visits every entry; count() values summed over CPUs (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n3 entries, keys 6, counts 6\n\n')" \
	-e 'BEGIN { @c[1] = count(); @c[2] = count(); @c[2] = count(); @c[3] = count(); @c[3] = count(); @c[3] = count();
	  $k = 0; $v = 0; $n = 0; for ($kv : @c) { $k += $kv.0; $v += $kv.1; $n++; }
	  printf("%d entries, keys %d, counts %d\n", $n, $k, $v); clear(@c); exit(); }'
expect "for over a range: start inclusive, end exclusive, evaluated once (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n0 1 2 3 4 5 6 7 8 9 \n\n')" \
	-e 'BEGIN { $a = 10; for ($i : 0..$a) { printf("%d ", $i); $a--; } printf("\n"); exit(); }'
expect "for: continue, break (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n0 2 3\n\n')" \
	-e 'BEGIN { for ($i : 0..10) { if ($i == 1) { continue; } if ($i == 4) { break; } printf("%d%s", $i, $i < 3 ? " " : "\n"); } exit(); }'
expect "for: return leaves the probe (language.md For)" 0 \
	"$(printf 'Attaching 1 probe...\n0\n\n')" \
	-e 'BEGIN { for ($i : 0..3) { printf("%d\n", $i); exit(); return; } printf("after\n"); }'
# docs/stdlib.md "len": "int64 len(map m) ... For maps, return the number
# of elements in the map."
expect "len(@m) is the number of elements (stdlib.md len)" 0 \
	"$(printf 'Attaching 1 probe...\n0 3 2\n\n')" \
	-e 'BEGIN { @e[1] = 1; delete(@e[1]); @m[1] = 1; @m[2] = 2; @m[3] = 3; @c["a", 1] = count(); @c["b", 2] = count();
	  printf("%d %d %d\n", len(@e), len(@m), len(@c)); clear(@m); clear(@c); exit(); }'
refuse "len of a scalar map is an error (stdlib.md len)" 'len\(\): map "@x" has no keys' \
	-e 'BEGIN { @x = 1; printf("%d\n", len(@x)); exit(); }'
# in a probe of the kernel, under the kernel verifier: a count per comm,
# read back in END with for and len
opener &
opener_pid=$!
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	-e 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @[comm] = count(); if (len(@) > 0 && @[comm] >= 3) { exit(); } }
	  END { for ($kv : @) { printf("%s %d\n", $kv.0, $kv.1 >= 3); } clear(@); }' >"$work/out" 2>"$work/err"
rc=$?
kill "$opener_pid"; wait "$opener_pid" 2>/dev/null
if [ $rc -eq 0 ] && [ "$(cat "$work/out")" = "$(printf 'Attaching 2 probes...\ncat 1\n\n')" ]; then
	tap_ok "exec lang 0.2x: for and len in a tracepoint and END (language.md For, stdlib.md len)"
else
	tap_fail "exec lang 0.2x: for and len in a tracepoint and END" "rc=$rc" "$(cat "$work/out" "$work/err")"
fi

# docs/stdlib.md "hist": "hist_t hist(int64 n[, int k]) Create a log2
# histogram of n using 2^k buckets per power of 2, 0 <= k <= 5, defaults
# to 0."  (k 0 keeps bpftrace 0.17's printing.)
expect "hist(n, 1): two buckets per power of 2 (stdlib.md hist)" 0 \
	"$(printf '%s\n' 'Attaching 1 probe...' '' '' '@h: ' \
	'[2]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |' \
	'[3]                    0 |                                                    |' \
	'[4, 6)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|' \
	'[6, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |' '')" \
	-e 'BEGIN { @h = hist(2, 1); @h = hist(4, 1); @h = hist(5, 1); @h = hist(7, 1); exit(); }'
refuse "hist(n, 6) is an error (stdlib.md hist: 0 <= k <= 5)" 'hist\(\): k must be 0..5' \
	-e 'BEGIN { @h = hist(1, 6); exit(); }'

# docs/stdlib.md "len": "int64 len(ustack stack), int64 len(kstack stack)
# ... For kstack/ustack, return the depth (measured in # of frames) of the
# call stack."  The depth is checked against the frames the same event's
# stack prints (a map keyed by it: one line per frame), so the test holds
# whatever the unwinder finds; a frame count limits it; BEGIN's stack is
# empty here (docs/compat.md).
WL=$TG_TOP/build/tests/tools/lib-user-workload
stack_len() { # NAME STACK PROBE: len(STACK) equals the frames @[STACK] prints
	local name=$1 st=$2 probe=$3 rc
	timeout 30 "$RUNNER" exec --cache-dir "$work/cache" -c "$WL" \
		-e "$probe { @n = count(); if (@n == 1) { @len = len($st); @s[$st] = count(); } }" >"$work/out" 2>"$work/err"
	rc=$?
	local want have
	want=$(sed -n 's/^@len: //p' "$work/out")
	have=$(awk '/^@s\[$/ { f = 1; next } f && /^\]: / { f = 0 } f' "$work/out" | grep -c .)
	if [ $rc -eq 0 ] && [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$want" -eq "$have" ]; then
		tap_ok "exec lang 0.2x: $name (stdlib.md len)"
	else
		tap_fail "exec lang 0.2x: $name (stdlib.md len)" "rc=$rc len=$want frames=$have" "$(cat "$work/out" "$work/err")"
	fi
}
stack_len "len(ustack) is the frames ustack prints in a uprobe" ustack "uprobe:$WL:uw_greet"
stack_len "len(kstack) is the frames kstack prints in a syscall tracepoint" kstack \
	'tracepoint:syscalls:sys_enter_getppid /pid == cpid/'
stack_len "len(ustack(2)) is at most 2 frames" 'ustack(2)' "uprobe:$WL:uw_greet"
expect "len(kstack) and len(ustack) are 0 in BEGIN, whose stacks are empty (stdlib.md len)" 0 \
	"$(printf 'Attaching 1 probe...\n0 0\n\n')" -e 'BEGIN { printf("%d %d\n", len(kstack), len(ustack(3))); exit(); }'
refuse "len() of something else is an error naming what it takes (stdlib.md len)" \
	'len\(\): takes one map or stack' -e 'BEGIN { printf("%d\n", len(5)); exit(); }'
