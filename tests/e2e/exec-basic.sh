#!/usr/bin/env bash
# tracegate-runner exec without a scope: printf, maps printed at the end
# like bpftrace 0.17, exit(), --duration, END, positional parameters, and
# clear errors (with line and column) before anything is loaded.
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
need_bpf "exec basic" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec basic: $RUNNER is not built"
	exit 0
fi
work=$(mktemp -d)
trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT

# expect NAME EXPECTED_STDOUT ARGS...: runs exec, compares stdout exactly
expect() {
	local name=$1 want=$2 rc
	shift 2
	timeout 20 "$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$(cat "$work/out")" = "$want" ]; then
		tap_ok "exec basic: $name"
	else
		tap_fail "exec basic: $name" "rc=$rc" "got:" "$(cat "$work/out")" "want:" "$want" "$(cat "$work/err")"
	fi
}
# refuse NAME STDERR_REGEX ARGS...: exec must fail, say where, load nothing
refuse() {
	local name=$1 re=$2 rc
	shift 2
	timeout 20 "$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -ne 0 ] && grep -qE "$re" "$work/err" && ! grep -q Attaching "$work/out"; then
		tap_ok "exec basic: $name"
	else
		tap_fail "exec basic: $name" "rc=$rc" "$(cat "$work/out" "$work/err")"
	fi
}

expect "printf and exit" "$(printf 'Attaching 1 probe...\nhello 42 world -7 ff A\n\n')" \
	-e 'BEGIN { printf("hello %d %s %d %x %c\n", 42, "world", -7, 255, 65); exit(); }'
expect "maps printed sorted by name after END" "$(printf 'Attaching 2 probes...\nend\n\n\n@: 3\n@a: 2\n@b[1, x]: 1\n@s: count 2, average 5, total 10\n')" \
	-e 'BEGIN { @b[1, "x"] = count(); @a = 2; @ = 3; @s = stats(4); @s = stats(6); exit(); } END { printf("end\n"); }'
expect "control flow, variables, operators" "$(printf 'Attaching 1 probe...\nbig 15 1 i=5 yes\n\n')" \
	-e 'BEGIN { $x = 5; $x += 3; $y = $x * 2 - 1; $i = 0; while ($i < 5) { $i++; }
	  if ($y > 10 && !($y == 3)) { printf("big %d %d i=%d %s\n", $y, 7 % 3, $i, $y > 1 ? "yes" : "no"); } else { printf("small\n"); } exit(); }'
expect "positional parameters" "$(printf 'Attaching 1 probe...\n-5- hello 2 ello\n\n')" \
	-e 'BEGIN { printf("-%d- %s %d %s\n", $1, str($2), $#, str($2 + 1)); exit(); }' 5 hello
expect "hist and lhist" "$(printf 'Attaching 1 probe...\n\n\n@h: \n[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n\n@l: \n[4, 6)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n')" \
	-e 'BEGIN { @h = hist(5); @l = lhist(5, 0, 10, 2); exit(); }'

# a tracepoint with a predicate on a string and a keyed count; the
# command (-c) starts once the probe is attached and the run ends with
# it; a file of this run's own, so no other cat on the machine counts
: >"$work/marker"
printf 'cat %s; cat %s; cat %s\n' "$work/marker" "$work/marker" "$work/marker" >"$work/three.sh"
expect "tracepoint, comm predicate, keyed count, -c" "$(printf 'Attaching 1 probe...\n\n\n@opens[cat]: 3\n')" \
	--duration 60 -c "sh $work/three.sh" \
	-e 'tracepoint:syscalls:sys_enter_openat /comm == "cat" && str(args->filename) == "'"$work/marker"'"/ { @opens[comm] = count(); }'

# wildcards expand and attach
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" --duration 1 \
	-e 'tracepoint:syscalls:sys_enter_open* { @[probe] = count(); } tracepoint:syscalls:sys_exit_open* { @[probe] = count(); }' >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -qE '^Attaching [0-9]+ probes' "$work/out" && grep -q "^@\[tracepoint:syscalls:sys_exit_openat\]" "$work/out"; then
	tap_ok "exec basic: tracepoint wildcard"
else
	tap_fail "exec basic: tracepoint wildcard" "rc=$rc" "$(head -5 "$work/out" "$work/err")"
fi

# a probe that does not exist is a warning; the rest runs
timeout 20 "$RUNNER" exec --cache-dir "$work/cache" \
	-e 'tracepoint:nope:nothing { exit(); } BEGIN { printf("hi\n"); exit(); }' >"$work/out" 2>"$work/err"
if [ $? -eq 0 ] && grep -q '^hi$' "$work/out" && grep -q 'nope:nothing' "$work/err"; then
	tap_ok "exec basic: missing probe warned and skipped"
else
	tap_fail "exec basic: missing probe warned and skipped" "$(cat "$work/out" "$work/err")"
fi

refuse "unsupported construct names line and column" '^stdin:2:12: ERROR: function "override": not supported' \
	-e 'BEGIN {
	  @x[1] = override(1); }'
refuse "printf type error" 'stdin:1:9: ERROR: printf' -e 'BEGIN { printf("%d\n", comm); }'
refuse "syntax error" '^stdin:1:' -e 'BEGIN { printf("hi\n") '
refuse "nothing attachable" 'ERROR: .*no probe' -e 'tracepoint:nope:nothing { exit(); }'
refuse "unknown tracepoint field" "no field \"nosuch\"" -e 'tracepoint:syscalls:sys_enter_openat { printf("%d\n", args->nosuch); }'
refuse "map kind conflict" 'map "@x"' -e 'BEGIN { @x = count(); @x = sum(1); }'
