#!/usr/bin/env bash
# usdt probes with tracegate-runner exec: python3.11's python:function__entry
# (arguments: file, function, line) while a python3.11 program calls a
# function with a distinctive name; arg0..arg2 exact; provider and name
# globs; a probe name without its provider; a missing probe warned and
# skipped; under --cgroup the file is found through a process of the cgroup
# and only that cgroup's python fires.
#
# Python 3.11 runs python-to-python calls inside one eval loop and fires
# function__entry for them only while a profile function is set, so the
# workload sets a no-op one (sys.setprofile).
source "$(dirname "$0")/lib.sh"
RUNNER=${TG_RUNNER:-$TG_BIN/tracegate-runner}
PY=/usr/bin/python3.11
need_bpf "exec usdt" || exit 0
if [ ! -x "$RUNNER" ]; then
	tap_fail "exec usdt: $RUNNER is not built"
	exit 0
fi
if [ ! -x "$PY" ] || ! readelf -n "$PY" 2>/dev/null | grep -q 'Name: function__entry'; then
	tap_skip_or_fail "exec usdt" "$PY with usdt probes is not installed"
	exit 0
fi
work=$(mktemp -d /tmp/tg-usdt.XXXXXX)
pids=()
cg=
cleanup() {
	local p
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$cg" ] && cgroup_remove_tree "$cg"
	rm -rf "$work"
}
trap 'if [ "$BASHPID" = "$$" ]; then cleanup; fi' EXIT

# app.py NAME SECONDS: calls NAME(1) every 50 ms; NAME is defined on line 4
app() {
	cat >"$work/$1.py" <<EOF
import sys, time
sys.setprofile(lambda *a: None)

def $1(n):
    x = n + 1
    return x

end = time.time() + float(sys.argv[1])
while time.time() < end:
    $1(1)
    time.sleep(0.05)
EOF
	printf '%s\n' "$work/$1.py"
}
FN=tg_usdt_marker_$$
APP=$(app "$FN")
"$PY" "$APP" 60 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5

run() { # run OUT ARGS...
	local out=$1
	shift
	timeout 30 "$RUNNER" exec --cache-dir "$work/cache" "$@" >"$work/$out" 2>"$work/$out.err"
}

# 1. the function shows up, counted by name
run count --duration 2 -e 'usdt:/usr/bin/python3.11:python:function__entry { @[str(arg1)] = count(); }'
rc=$?
if [ $rc -eq 0 ] && grep -qE "^@\[$FN\]: [1-9][0-9]*$" "$work/count"; then
	tap_ok "exec usdt: function__entry counts $FN by str(arg1) ($(grep "^@\[$FN\]" "$work/count"))"
else
	tap_fail "exec usdt: function__entry counts $FN by str(arg1)" "rc=$rc" "$(cat "$work/count" "$work/count.err")"
fi

# 2. arguments: arg0 the file, arg1 the function, arg2 its first line
run args -e "usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { printf(\"%s|%s|%d\\n\", str(arg0), str(arg1), arg2); exit(); }"
rc=$?
want="$APP|$FN|4"
if [ $rc -eq 0 ] && [ "$(sed -n 2p "$work/args")" = "$want" ]; then
	tap_ok "exec usdt: arg0, arg1, arg2 are file, function and line ($want)"
else
	tap_fail "exec usdt: arg0, arg1, arg2 are file, function and line" "rc=$rc want $want" "$(cat "$work/args" "$work/args.err")"
fi

# 3. a probe the file lacks: warned, skipped, the others run
run missing --duration 2 -e "usdt:$PY:python:no_such_probe { @m = count(); }
usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { @hit = count(); }"
rc=$?
if [ $rc -eq 0 ] && grep -q 'WARNING: probe "usdt:/usr/bin/python3.11:python:no_such_probe": no such usdt probe, skipped' "$work/missing.err" &&
	grep -qE '^@hit: [1-9]' "$work/missing"; then
	tap_ok "exec usdt: a missing probe is warned about and skipped; the others fire"
else
	tap_fail "exec usdt: a missing probe is warned about and skipped" "rc=$rc" "$(cat "$work/missing" "$work/missing.err")"
fi
run nothing --duration 1 -e "usdt:$PY:python:no_such_probe { @m = count(); }"
rc=$?
if [ $rc -ne 0 ] && grep -q 'no probe of the program exists here: probe "usdt:/usr/bin/python3.11:python:no_such_probe": no such usdt probe, skipped' "$work/nothing.err" && ! grep -q Attaching "$work/nothing"; then
	tap_ok "exec usdt: a program whose only probe is missing fails"
else
	tap_fail "exec usdt: a program whose only probe is missing fails" "rc=$rc" "$(cat "$work/nothing" "$work/nothing.err")"
fi

# 4. globs over provider and name; a name without its provider
run glob --duration 2 -e "usdt:$PY:py*:function__* /str(arg1) == \"$FN\"/ { @[probe] = count(); }
usdt:$PY:function__return /str(arg1) == \"$FN\"/ { @noprov = count(); }"
rc=$?
if [ $rc -eq 0 ] && grep -qE "^@\[usdt:$PY:python:function__entry\]: [1-9]" "$work/glob" &&
	grep -qE "^@\[usdt:$PY:python:function__return\]: [1-9]" "$work/glob" &&
	grep -qE '^@noprov: [1-9]' "$work/glob"; then
	tap_ok "exec usdt: py*:function__* matches entry and return; a name alone matches any provider"
else
	tap_fail "exec usdt: globs and a name without provider" "rc=$rc" "$(cat "$work/glob" "$work/glob.err")"
fi

# 5. an argument the probe does not have reads as 0 (bpf_usdt_arg)
run absent -e "usdt:$PY:python:function__entry /str(arg1) == \"$FN\"/ { printf(\"%d %d\\n\", arg2, arg5); exit(); }"
rc=$?
if [ $rc -eq 0 ] && [ "$(sed -n 2p "$work/absent")" = "4 0" ]; then
	tap_ok "exec usdt: arg5 of a three-argument probe is 0"
else
	tap_fail "exec usdt: arg5 of a three-argument probe is 0" "rc=$rc" "$(cat "$work/absent" "$work/absent.err")"
fi

# 6. under --cgroup: the file is found through a process of the cgroup and
#    only that cgroup's tasks fire; an empty cgroup is a clear error
mnt=$(cgroup2_mnt)
cg=$mnt/tracegate-usdt-$$
mkdir -p "$cg/ctr"
IN=tg_usdt_inside_$$
OUT=tg_usdt_outside_$$
APP_IN=$(app "$IN")
APP_OUT=$(app "$OUT")
(echo "$BASHPID" >"$cg/ctr/cgroup.procs" && exec "$PY" "$APP_IN" 60) >/dev/null 2>&1 &
pids+=($!)
"$PY" "$APP_OUT" 60 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
run scoped --cgroup "$cg" --duration 2 -e "usdt:$PY:python:function__entry /str(arg1) == \"$IN\" || str(arg1) == \"$OUT\"/ { @[str(arg1)] = count(); }"
rc=$?
if [ $rc -eq 0 ] && grep -qE "^@\[$IN\]: [1-9]" "$work/scoped" && ! grep -q "$OUT" "$work/scoped"; then
	tap_ok "exec usdt: under --cgroup only the cgroup's python fires ($(grep "^@\[$IN\]" "$work/scoped"))"
else
	tap_fail "exec usdt: under --cgroup only the cgroup's python fires" "rc=$rc" "$(cat "$work/scoped" "$work/scoped.err")"
fi
run control --duration 2 -e "usdt:$PY:python:function__entry /str(arg1) == \"$IN\" || str(arg1) == \"$OUT\"/ { @[str(arg1)] = count(); }"
if grep -qE "^@\[$OUT\]: [1-9]" "$work/control"; then
	tap_ok "exec usdt: control: without a scope the other python fires too"
else
	tap_fail "exec usdt: control: without a scope the other python fires too" "$(cat "$work/control" "$work/control.err")"
fi
mkdir -p "$cg/empty"
run empty --cgroup "$cg/empty" --duration 1 -e "usdt:$PY:python:function__entry { @ = count(); }"
rc=$?
if [ $rc -ne 0 ] && grep -q "\"$cg/empty\": no process in its cgroup" "$work/empty.err" && ! grep -q Attaching "$work/empty"; then
	tap_ok "exec usdt: a cgroup without a process is a clear error naming it"
else
	tap_fail "exec usdt: a cgroup without a process is a clear error naming it" "rc=$rc" "$(cat "$work/empty" "$work/empty.err")"
fi
