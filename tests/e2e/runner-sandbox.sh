#!/usr/bin/env bash
# The session child's seccomp filter (runner/sandbox.c) with real sessions
# of tracegate-runner serve, driven with curl as the gateway would: once
# attached the child is under a filter (Seccomp: 2, no_new_privs), and a
# session that uses everything a running session does after attach still
# works: printf, counts, hist, sums printed and cleared from an interval
# timer under the scope (BPF_PROG_TEST_RUN), END, ksym (/proc/kallsyms),
# kstack, ustack of the pod's long-lived shell (ELF files, /proc/PID/maps),
# username of a uid in no file (glibc's NSS: nscd and systemd-userdb
# refused, a module loaded), cgroup_path, time(), cat(), the CPU budget (run-time stats), exit().
# A bad TRACEGATE_SANDBOX refuses sessions; "log" runs them unfiltered
# with a warning.
source "$(dirname "$0")/lib.sh"

need_bpf "runner sandbox" || exit 0
command -v setpriv >/dev/null || { tap_skip_or_fail "runner sandbox" "needs setpriv (util-linux)"; exit 0; }

runner_alone sandbox || exit 1
UID_A=5a5b5c5d-aaaa-bbbb-cccc-0123456789ab
MARK=$TG_WORK/marker
: >"$MARK"
chmod 755 "$TG_WORK"
chmod 644 "$MARK"
CTR=$(pod_make web-s $UID_A Burstable systemd)
# the pod's process runs as a uid no file names, as a container's often does
pod_run "$CTR" setpriv --reuid 31337 --regid 31337 --clear-groups bash -c "$(opener "$MARK")" >/dev/null
POD="team-a/web-s/$UID_A/Burstable"

# runner_up LOG [ENV=VALUE]: starts a runner, sets PORT, URL and RUNNER
runner_up() {
	local log=$1
	shift
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	env "$@" tracegate-runner serve --listen "127.0.0.1:$PORT" \
		--cert "$TG_CERTS/runner.crt" --key "$TG_CERTS/runner.key" \
		--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway \
		--node node-1 --cgroup-root "$TG_CGROOT_REL" --cache-dir "$TG_WORK/cache" 2>"$log" &
	RUNNER=$!
	TG_PIDS+=("$RUNNER")
	wait_for 10 curl -sf "${GW[@]}" "$URL/healthz"
}
# body TRACE DURATION CPUBUDGET PROGRAM
body() {
	python3 - "$@" "$POD" <<'EOF'
import json, sys
trace, dur, budget, prog, pod = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
ns, name, uid, qos = pod.split("/")
print(json.dumps({"trace": trace, "program": prog, "canonical": __import__("subprocess").run(["tracegate", "policy", "print", "-e", prog], capture_output=True, text=True).stdout or "unparsed", "params": [], "duration": dur,
                  "pods": [{"namespace": ns, "name": name, "uid": uid, "qos": qos}],
                  "limits": {"maxMapEntries": 4096, "eventsPerSecond": 0, "maxDuration": 60, "cpuBudget": budget}}))
EOF
}
session() {
	timeout 40 curl -sS -N "${GW[@]}" -D "$2.h" -o "$2" -H 'Content-Type: application/json' \
		--data-binary @"$1" "$URL/v1/sessions" 2>"$2.err"
}
session_bg() {
	timeout 40 curl -sS -N "${GW[@]}" -D "$2.h" -o "$2" -H 'Content-Type: application/json' \
		--data-binary @"$1" "$URL/v1/sessions" 2>"$2.err" &
}
py() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = "".join(l.get("text", "") for l in lines if l.get("type") == "output")
maps = {l["name"]: l for l in lines if l.get("type") == "map" and not l.get("print")}
ok = eval(sys.argv[2])
if not ok:
    print("\n".join(json.dumps(l)[:300] for l in lines[-12:]))
sys.exit(0 if ok else 1)
EOF
}
child_status() { grep -E "^($2):" "/proc/$1/status" 2>/dev/null | awk '{print $2}'; }

ADDR=$(awk '$3=="do_sys_openat2" {print "0x"$1; exit}' /proc/kallsyms)
PROG='tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK'"/ {
	printf("open %s %s %s %s\n", comm, username, ksym('$ADDR'), cgroup_path(cgroup));
	@c[comm] = count(); @h = hist(pid); @s[pid] = sum(1);
	@k[kstack(3)] = count();
	time("at %H:%M:%S\n");
	cat("/proc/%d/comm", pid);
}
tracepoint:syscalls:sys_enter_wait4 { @u[ustack(2)] = count(); }
interval:ms:100 { @ticks = count(); }
interval:ms:700 { print(@s); clear(@s); }
END { printf("end %d\n", 7); }'

# ---- enforcing (the default) ------------------------------------------------------
runner_up "$TG_WORK/runner.log" || { tap_fail "runner starts" "$(cat "$TG_WORK/runner.log")"; exit 1; }
body t-full 3 0.5 "$PROG" >"$TG_WORK/full.json"
session_bg "$TG_WORK/full.json" "$TG_WORK/full.out"
S=$!
TG_PIDS+=("$S")
if wait_for 20 grep -q '"attached"' "$TG_WORK/full.out"; then
	CHILD=$(pgrep -P "$RUNNER" | head -1)
	check "an attached session child runs under a seccomp filter (Seccomp: 2)" \
		test "$(child_status "$CHILD" Seccomp)" = 2
	check "an attached session child has no_new_privs" test "$(child_status "$CHILD" NoNewPrivs)" = 1
	check "the filter covers every thread of the child" bash -c \
		"for t in /proc/$CHILD/task/*; do grep -q '^Seccomp:[[:space:]]*2' \$t/status || exit 1; done"
	check "the runner itself is not filtered" test "$(child_status "$RUNNER" Seccomp)" = 0
else
	tap_fail "the full session attaches" "$(cat "$TG_WORK/full.out" "$TG_WORK/runner.log")"
fi
wait "$S"
check "full session: ends with reason duration, not a crash" py "$TG_WORK/full.out" \
	'lines[-1]["type"]=="end" and lines[-1]["reason"]=="duration"'
check "full session: printf with username of uid 31337, ksym and cgroup_path" py "$TG_WORK/full.out" \
	'"open cat 31337 do_sys_openat2 unified:'$TG_CGROOT_REL'/" in out or "open cat 31337 do_sys_openat2 " in out'
check "full session: time() and cat() output" py "$TG_WORK/full.out" \
	'"at " in out and "\ncat\n" in "\n"+out'
check "full session: END ran (BPF_PROG_TEST_RUN after detach)" py "$TG_WORK/full.out" '"end 7\n" in out'
check "full session: interval timers under the scope ran (@ticks >= 10)" py "$TG_WORK/full.out" \
	'maps["@ticks"]["entries"][0]["value"] >= 10'
check "full session: print(@s) from a timer, then clear()" py "$TG_WORK/full.out" \
	'sum(1 for l in lines if l["type"]=="map" and l.get("print") and l["name"]=="@s") >= 2'
check "full session: count and hist maps" py "$TG_WORK/full.out" \
	'maps["@c"]["entries"][0]["key"]=="cat" and maps["@c"]["entries"][0]["value"]>0 and sum(maps["@h"]["entries"][0]["value"]["buckets"])>0'
check "full session: kstack and ustack maps symbolised" py "$TG_WORK/full.out" \
	'any("do_syscall_64+" in e["key"] for e in maps["@k"]["entries"]) and any("wait4+" in e["key"] for e in maps["@u"]["entries"])'
check "full session: the CPU budget read the programs' run time (cpuNs > 0)" py "$TG_WORK/full.out" \
	'lines[-1]["cpuNs"]>0 and lines[-1]["events"]>0'
check "full session: the child exited normally" bash -c "! grep -q 'outcome=crashed' '$TG_WORK/runner.log'"

body t-budget 10 0.000000001 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK'"/ { @n = count(); }' \
	>"$TG_WORK/budget.json"
session "$TG_WORK/budget.json" "$TG_WORK/budget.out"
check "over the CPU budget: a warning, then reason cpu-budget" py "$TG_WORK/budget.out" \
	'lines[-1]["reason"]=="cpu-budget" and any(l["type"]=="error" and "cpu budget" in l["message"] for l in lines)'

LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null || true)
if [ -n "$LIBC" ] && [ -f "$LIBC" ]; then
	body t-uprobe 2 0 'uprobe:'$LIBC':wait4 { @w = count(); } uretprobe:'$LIBC':wait4 { @r = count(); }' \
		>"$TG_WORK/uprobe.json"
	session "$TG_WORK/uprobe.json" "$TG_WORK/uprobe.out"
	check "uprobe and uretprobe: counted, detached under the filter" py "$TG_WORK/uprobe.out" \
		'lines[-1]["reason"]=="duration" and maps["@w"]["entries"][0]["value"]>0 and maps["@r"]["entries"][0]["value"]>0'
else
	tap_ok "uprobe and uretprobe under the filter # SKIP no libc.so.6 at the Debian path"
fi

body t-exit 10 0 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK'"/ { printf("bye\n"); exit(); } END { printf("end\n"); }' \
	>"$TG_WORK/exit.json"
session "$TG_WORK/exit.json" "$TG_WORK/exit.out"
check "exit(): reason exit, END's output" py "$TG_WORK/exit.out" \
	'lines[-1]["reason"]=="exit" and out=="bye\nend\n"'
check "no session child was killed by the filter" bash -c \
	"! grep -q 'outcome=crashed' '$TG_WORK/runner.log' && [ \$(grep -c 'outcome=' '$TG_WORK/runner.log') -eq 4 ]"

# What the parent sees when the filter kills a child: SIGSYS (sent here by
# hand: no program can make the child call what the filter forbids).
prog_ids_of() {
	local f
	for f in /proc/"$1"/fdinfo/*; do sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null; done | sort -u
}
body t-sigsys 20 0 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK'"/ { @n = count(); }' \
	>"$TG_WORK/sigsys.json"
session_bg "$TG_WORK/sigsys.json" "$TG_WORK/sigsys.out"
S=$!
TG_PIDS+=("$S")
wait_for 20 grep -q '"attached"' "$TG_WORK/sigsys.out"
CHILD=$(pgrep -P "$RUNNER" | head -1)
mapfile -t IDS < <([ -n "$CHILD" ] && prog_ids_of "$CHILD")
[ -n "$CHILD" ] && kill -SYS "$CHILD"
wait "$S" 2>/dev/null
check "a child dead of SIGSYS is logged as killed by its sandbox" wait_for 5 grep -q \
	'session t-sigsys pods=team-a/web-s outcome=crashed: child [0-9]* killed by signal 31 (SIGSYS: a system call its sandbox forbids)' \
	"$TG_WORK/runner.log"
check "the stream ends without an end record (the gateway reports the node failed)" py "$TG_WORK/sigsys.out" \
	'not any(l.get("type")=="end" for l in lines)'
if [ "${#IDS[@]}" -eq 0 ]; then
	tap_fail "a child dead of SIGSYS leaves no program loaded" "found no programs before the kill"
elif wait_for 3 bash -c "! bpftool prog show 2>/dev/null | grep -qE '^($(IFS='|'; echo "${IDS[*]}")):'"; then
	tap_ok "a child dead of SIGSYS leaves no program loaded"
else
	tap_fail "a child dead of SIGSYS leaves no program loaded" "still loaded: ${IDS[*]}"
fi
kill "$RUNNER"
wait "$RUNNER" 2>/dev/null

# ---- a bad mode refuses; log mode warns ------------------------------------------------
runner_up "$TG_WORK/bad.log" TRACEGATE_SANDBOX=off || { tap_fail "runner starts (bad mode)"; exit 1; }
body t-bad 2 0 "$PROG" >"$TG_WORK/bad.json"
session "$TG_WORK/bad.json" "$TG_WORK/bad.out"
check "TRACEGATE_SANDBOX=off: the session is refused with 500" py "$TG_WORK/bad.out" \
	'lines[0]["kind"]=="Status" and lines[0]["code"]==500'
check "TRACEGATE_SANDBOX=off: the log names the variable and value" \
	grep -q 'TRACEGATE_SANDBOX "off": neither "enforce" nor "log"' "$TG_WORK/bad.log"
check "TRACEGATE_SANDBOX=off: nothing was compiled" bash -c "! grep -q '\"compiled\"' '$TG_WORK/bad.out'"
kill "$RUNNER"
wait "$RUNNER" 2>/dev/null

runner_up "$TG_WORK/logmode.log" TRACEGATE_SANDBOX=log || { tap_fail "runner starts (log mode)"; exit 1; }
body t-log 2 0 'tracepoint:syscalls:sys_enter_openat /str(args->filename) == "'$MARK'"/ { printf("x\n"); exit(); }' >"$TG_WORK/log.json"
session "$TG_WORK/log.json" "$TG_WORK/log.out"
check "TRACEGATE_SANDBOX=log: the session runs" py "$TG_WORK/log.out" 'lines[-1]["reason"]=="exit"'
check "TRACEGATE_SANDBOX=log: the runner warns that calls are only logged" \
	grep -q 'session t-log: sandbox in log-only mode' "$TG_WORK/logmode.log"
kill "$RUNNER"
wait "$RUNNER" 2>/dev/null
