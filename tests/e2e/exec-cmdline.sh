#!/usr/bin/env bash
# bpftrace's command line for tracegate-runner exec: -q, -o FILE, -c 'CMD'
# with the cpid builtin, -l [PATTERN] and -lv, -p PID; each compared with bpftrace 0.17 on this
# machine where it is installed (stdout only: 0.17 prints a RLIMIT_MEMLOCK
# complaint on stderr here).
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
PY=/usr/bin/python3.11
need_bpf "exec cmdline" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec cmdline: $RUNNER is not built"
	exit 0
fi
BT=$(command -v bpftrace || true)
if [ -n "$BT" ] && ! "$BT" --version 2>/dev/null | grep -q 'v0\.17\.'; then
	BT=
fi
work=$(mktemp -d /tmp/tg-cmd.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

tg() { timeout 30 "$RUNNER" exec --cache-dir "$work/cache" "$@"; }
# same_as_bpftrace NAME OURS_FILE ARGS...: bpftrace 0.17's stdout for ARGS
# equals OURS_FILE (after SED, a sed script normalising run-dependent
# numbers, when set); nothing to compare without bpftrace 0.17
same_as_bpftrace() {
	local name=$1 ours=$2 rc
	shift 2
	if [ -z "$BT" ]; then
		printf 'ok - exec cmdline: %s: as bpftrace 0.17 # SKIP bpftrace 0.17 is not installed\n' "$name"
		return
	fi
	timeout 60 "$BT" "$@" >"$work/bt.out" 2>"$work/bt.err"
	rc=$?
	if [ $rc -eq 0 ] && diff <(sed -e "${SED:-}" "$work/bt.out") <(sed -e "${SED:-}" "$ours") >"$work/diff"; then
		tap_ok "exec cmdline: $name: as bpftrace 0.17"
	else
		tap_fail "exec cmdline: $name: as bpftrace 0.17" "bpftrace rc=$rc" "$(cat "$work/diff" "$work/bt.err")"
	fi
}
# refuse NAME STDERR_REGEX ARGS...: exec fails, says why, runs nothing
refuse() {
	local name=$1 re=$2 rc
	shift 2
	tg "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -ne 0 ] && grep -qE -- "$re" "$work/err" && ! grep -q Attaching "$work/out"; then
		tap_ok "exec cmdline: $name"
	else
		tap_fail "exec cmdline: $name" "rc=$rc" "$(cat "$work/out" "$work/err")"
	fi
}

# 1. -q: no "Attaching N probes..."
P='BEGIN { printf("x\n"); @a = 1; exit(); }'
tg -q -e "$P" >"$work/q" 2>"$work/q.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$work/q")" = "$(printf 'x\n\n\n@a: 1')" ]; then
	tap_ok "exec cmdline: -q drops the Attaching line"
else
	tap_fail "exec cmdline: -q drops the Attaching line" "rc=$rc" "$(cat "$work/q" "$work/q.err")"
fi
same_as_bpftrace "-q" "$work/q" -q -e "$P"

# 2. -o FILE: the output in FILE; the "\n\n" before the exit-time maps
# stays on stdout (bpftrace 0.17 writes it to std::cout)
tg -o "$work/o.file" -e "$P" >"$work/o" 2>"$work/o.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(od -c <"$work/o")" = "$(printf '\n\n' | od -c)" ] &&
	[ "$(cat "$work/o.file")" = "$(printf 'Attaching 1 probe...\nx\n@a: 1')" ]; then
	tap_ok "exec cmdline: -o FILE gets the output, stdout the blank lines"
else
	tap_fail "exec cmdline: -o FILE gets the output" "rc=$rc" "$(od -c "$work/o")" "$(cat "$work/o.file" "$work/o.err")"
fi
if [ -n "$BT" ]; then
	same_as_bpftrace "-o stdout" "$work/o" -o "$work/bt.file" -e "$P"
	if diff "$work/bt.file" "$work/o.file" >"$work/diff"; then
		tap_ok "exec cmdline: -o FILE: the file as bpftrace 0.17's"
	else
		tap_fail "exec cmdline: -o FILE: the file as bpftrace 0.17's" "$(cat "$work/diff")"
	fi
fi
tg -q -o "$work/qo.file" -e 'BEGIN { printf("y\n"); exit(); }' >/dev/null 2>&1
check "exec cmdline: -q -o FILE: the file holds the output alone" \
	test "$(cat "$work/qo.file")" = y
printf 'old text that must go\n' >"$work/trunc"
tg -q -o "$work/trunc" -e 'BEGIN { printf("new\n"); exit(); }' >/dev/null 2>&1
check "exec cmdline: -o FILE truncates FILE" test "$(cat "$work/trunc")" = new
refuse "-o FILE in a missing directory" "-o \"$work/nodir/f\": No such file" \
	-o "$work/nodir/f" -e 'BEGIN { exit(); }'

# 3. -c CMD: held until the probes are attached (its first open is seen),
# cpid its pid, the run ends when it exits, maps printed
cat >"$work/child.sh" <<EOF
#!/bin/sh
exec 3<$work/marker
echo \$\$ >$work/child.pid
EOF
chmod +x "$work/child.sh"
: >"$work/marker"
P="tracepoint:syscalls:sys_enter_openat /pid == cpid && str(args->filename) == \"$work/marker\"/ { @opens = count(); }
BEGIN { printf(\"cpid %d\\n\", cpid); }"
rm -f "$work/child.pid"
tg -c "/bin/sh $work/child.sh" -e "$P" >"$work/c" 2>"$work/c.err"
rc=$?
cpid=$(cat "$work/child.pid" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$cpid" ] &&
	[ "$(cat "$work/c")" = "$(printf 'Attaching 2 probes...\ncpid %s\n\n\n@opens: 1' "$cpid")" ]; then
	tap_ok "exec cmdline: -c: held until attached, cpid is its pid, the run ends with it"
else
	tap_fail "exec cmdline: -c: held until attached, cpid is its pid" "rc=$rc cpid=$cpid" "$(cat "$work/c" "$work/c.err")"
fi
SED='s/^cpid [0-9]*$/cpid N/' same_as_bpftrace "-c" "$work/c" -c "/bin/sh $work/child.sh" -e "$P"

# arguments split at spaces, the command found on PATH
tg -c "printf %s-%s a b" -e 'BEGIN { printf("%d\n", cpid > 0); }' >"$work/split" 2>"$work/split.err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^a-b' "$work/split"; then
	tap_ok "exec cmdline: -c: split at spaces, found on PATH"
else
	tap_fail "exec cmdline: -c: split at spaces, found on PATH" "rc=$rc" "$(cat "$work/split" "$work/split.err")"
fi

# a run that ends first (exit()) kills the command, as bpftrace
tg -c "/bin/sleep 60" -e 'tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { printf("sleeping %d\n", cpid); exit(); }' \
	>"$work/kill" 2>"$work/kill.err"
rc=$?
spid=$(sed -n 's/^sleeping //p' "$work/kill")
if [ $rc -eq 0 ] && [ -n "$spid" ] && ! kill -0 "$spid" 2>/dev/null; then
	tap_ok "exec cmdline: -c: the command is killed when the run ends first"
else
	tap_fail "exec cmdline: -c: the command is killed when the run ends first" "rc=$rc pid=$spid" "$(cat "$work/kill" "$work/kill.err")"
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
fi

# the command starts with no signal blocked or ignored by the runner
# (grep itself is the command: a shell would clear its mask)
tg -c "/bin/grep -E ^Sig(Blk|Ign): /proc/self/status" -e 'BEGIN { }' >"$work/mask" 2>"$work/mask.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(grep '^Sig' "$work/mask")" = "$(printf 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000')" ]; then
	tap_ok "exec cmdline: -c: the command starts with no signal blocked or ignored"
else
	tap_fail "exec cmdline: -c: the command starts with no signal blocked or ignored" "rc=$rc" "$(cat "$work/mask" "$work/mask.err" 2>&1)"
fi

refuse "cpid without -c" '^stdin:1:[0-9]+: ERROR: cpid cannot be used without child command' \
	-e 'BEGIN { printf("%d\n", cpid); exit(); }'
refuse "-c of a command that does not exist" 'path "tg_no_such_cmd_xyz" does not exist or is not executable' \
	-c 'tg_no_such_cmd_xyz arg' -e 'BEGIN { exit(); }'
refuse "-c of an empty command" '-c: empty command' -c '   ' -e 'BEGIN { exit(); }'
refuse "-p and -c together" 'at most one of -p PID and -c CMD' -p 1 -c /bin/true -e 'BEGIN { exit(); }'
refuse "-p of a process that does not exist" '-p 4194304: no such process' -p 4194304 -e 'BEGIN { exit(); }'
refuse "-p that is not a pid" '-p "12x": expected a process id' -p 12x -e 'BEGIN { exit(); }'
refuse "-c with --cgroup" '-c cannot be combined with --cgroup' -c /bin/true --cgroup / -e 'BEGIN { exit(); }'

# 4. -l [PATTERN], -lv: bpftrace 0.17's listing (a sorted set of full
# names matched whole against the glob; -lv a tracepoint's fields as its
# format file declares them, common_ ones left out)
TRACEFS=/sys/kernel/tracing
[ -r "$TRACEFS/available_events" ] || TRACEFS=/sys/kernel/debug/tracing
tg -l >"$work/l" 2>"$work/l.err"
rc=$?
LC_ALL=C sort -u "$TRACEFS/available_events" | sed 's/^/tracepoint:/' >"$work/l.want"
if [ $rc -eq 0 ] && diff "$work/l.want" <(grep '^tracepoint:' "$work/l") >"$work/diff" &&
	grep -qx 'software:cpu-clock:' "$work/l" && LC_ALL=C sort -c "$work/l"; then
	tap_ok "exec cmdline: -l lists every tracepoint ($(grep -c '^tracepoint:' "$work/l")) and the software events, sorted"
else
	tap_fail "exec cmdline: -l lists every tracepoint and the software events, sorted" "rc=$rc" "$(head -20 "$work/diff" "$work/l.err")"
fi
if [ -n "$BT" ]; then
	"$BT" -l 2>/dev/null | grep '^tracepoint:' >"$work/bt.l"
	if diff "$work/bt.l" <(grep '^tracepoint:' "$work/l") >"$work/diff"; then
		tap_ok "exec cmdline: -l: the tracepoints as bpftrace 0.17 lists them"
	else
		tap_fail "exec cmdline: -l: the tracepoints as bpftrace 0.17 lists them" "$(head -20 "$work/diff")"
	fi
fi
tg -l '*sched_switch*' >"$work/lg" 2>&1
check "exec cmdline: -l '*sched_switch*' matches the whole name" \
	test "$(cat "$work/lg")" = tracepoint:sched:sched_switch
tg -l 'software:cpu*' >"$work/ls" 2>&1
check "exec cmdline: -l 'software:cpu*' lists the software events by name" \
	test "$(cat "$work/ls")" = "$(printf 'software:cpu-clock:\nsoftware:cpu-migrations:')"
tg -l 'tracepoint:sched:sched_switc' >"$work/ln" 2>&1
rc=$?
check "exec cmdline: -l of a pattern that matches nothing prints nothing, exit 0" \
	test $rc -eq 0 -a ! -s "$work/ln"
# (0.17 here prints software and hardware globs back as "software:GLOB:"
# lines; docs/compat.md)
for pat in 'tracepoint:sched:*' 'tracepoint:syscalls:sys_enter_open*' 'software:cpu-clock'; do
	tg -l "$pat" >"$work/lp" 2>&1
	same_as_bpftrace "-l '$pat'" "$work/lp" -l "$pat"
done
tg -lv 'tracepoint:sched:sched_switch' >"$work/lv" 2>&1
want='tracepoint:sched:sched_switch
    char prev_comm[16]
    pid_t prev_pid
    int prev_prio
    long prev_state
    char next_comm[16]
    pid_t next_pid
    int next_prio'
check "exec cmdline: -lv prints a tracepoint's fields as bpftrace" test "$(cat "$work/lv")" = "$want"
tg -lv 'tracepoint:syscalls:sys_enter_openat' >"$work/lv2" 2>&1
check "exec cmdline: -lv keeps a pointer's declaration (const char * filename)" \
	grep -qx '    const char \* filename' "$work/lv2"
tg -lv 'tracepoint:*' >"$work/lvall" 2>&1
same_as_bpftrace "-lv of every tracepoint ($(wc -l <"$work/lvall") lines)" "$work/lvall" -lv 'tracepoint:*'
refuse "-l with a program" '-l \[PATTERN\] takes no program' -l -e 'BEGIN { exit(); }'
refuse "-v without -l" '-v is supported only with -l' -v -e 'BEGIN { exit(); }'

# 5. -p PID: usdt probes armed in that process only (bpftrace 0.17: -p
# "enable USDT probes on PID"; uprobes and tracepoints are not narrowed)
if [ ! -x "$PY" ] || ! readelf -n "$PY" 2>/dev/null | grep -q 'Name: function__entry'; then
	tap_skip_or_fail "exec cmdline: -p narrows usdt" "$PY with usdt probes is not installed"
	exit 0
fi
cat >"$work/app.py" <<'EOF'
import sys, time
sys.setprofile(lambda *a: None)
def tg_cmdline_mark(n):
    return n + 1
end = time.time() + float(sys.argv[1])
while time.time() < end:
    tg_cmdline_mark(1)
    time.sleep(0.02)
EOF
"$PY" "$work/app.py" 60 >/dev/null 2>&1 &
A=$!
pids+=($A)
"$PY" "$work/app.py" 60 >/dev/null 2>&1 &
pids+=($!)
P="usdt:$PY:python:function__entry /str(arg1) == \"tg_cmdline_mark\"/ { if (pid == $A) { @a = count(); } else { @b = count(); } }
interval:s:1 { exit(); }"
tg -p "$A" -e "$P" >"$work/p" 2>"$work/p.err"
rc=$?
if [ $rc -eq 0 ] && grep -qE '^@a: [1-9]' "$work/p" && grep -qx '@b: 0' "$work/p"; then
	tap_ok "exec cmdline: -p PID arms usdt in PID only ($(grep '^@a' "$work/p"))"
else
	tap_fail "exec cmdline: -p PID arms usdt in PID only" "rc=$rc" "$(cat "$work/p" "$work/p.err")"
fi
SED='s/^@a: [0-9]*$/@a: N/' same_as_bpftrace "-p usdt" "$work/p" -p "$A" -e "$P"
tg -e "$P" >"$work/nop" 2>"$work/nop.err"
if grep -qE '^@a: [1-9]' "$work/nop" && grep -qE '^@b: [1-9]' "$work/nop"; then
	tap_ok "exec cmdline: control: without -p both processes fire"
else
	tap_fail "exec cmdline: control: without -p both processes fire" "$(cat "$work/nop" "$work/nop.err")"
fi
