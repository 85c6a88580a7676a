#!/usr/bin/env bash
# e2e: alone (a flood of events at full speed: other lanes would share its CPU)
# Flow control through the whole path (issue 8, "Events at full speed"):
# a client that stops reading slows only its own trace.  The gateway
# stops reading that trace's runner stream once the client's output
# backs up (outputHighWater), the runner's session stops reading its ring
# buffer once its socket is full, the ring buffer fills and the drops are
# counted in that trace's end record and audit record; the duration still
# ends the session on time.  Another tenant's trace at the same time, on the same
# runner and gateway, gets every line at once and drops nothing.  When the
# slow client reads again, it gets every line the runner counted.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway flow control" || exit 0

# restricted's permissions with room for a flood (its 1000 events/s and
# 0.05 CPU would drop the events before the flow control is reached)
pols=$(mktemp -d /tmp/tg-flow-pol.XXXXXX)
cp "$TG_TOP"/policy/presets/*.yaml "$pols/"
sed -e 's/^  name: restricted$/  name: flow/' \
	-e 's/^    eventsPerSecond: .*/    eventsPerSecond: 100000000/' \
	-e 's/^    cpuBudget: .*/    cpuBudget: 2/' \
	-e 's/^    maxOutputBytes: .*/    maxOutputBytes: 1Gi/' \
	"$TG_TOP/policy/presets/restricted.yaml" >"$pols/flow.yaml"
export TG_POLICIES=$pols
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; rm -rf "$pols"; exit 0; }
trap 'if [ "$BASHPID" = "$$" ]; then stack_stop; rm -rf "$pols"; fi' EXIT
tap_ok "stack starts (policy flow: no event rate limit)"

PROG='tracepoint:syscalls:sys_enter_getppid { printf("%d %s\n", pid, comm); }'
LOOP=$TG_TOP/build/tests/tools/lib-syscall-loop
outa=$TG_WORK/slow.json
erra=$TG_WORK/slow.err
outb=$TG_WORK/fast.json
errb=$TG_WORK/fast.err
# lines received: the text of every output record, counted by its
# newlines; with a pid, only the lines that begin with it
lines_of() {
	python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("type") == "output":
        n += sum(1 for t in d["text"].split("\n")[:-1] if len(sys.argv) < 3 or t.split(" ")[0] == sys.argv[2])
print(n)' "$@"
}
end_of() { grep '"type":"end"' "$1" | json_get "$2"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$TG_GATEWAY_PID/status"; }

# ---- 1. alice's client stops reading in the middle of a flood ----------------
: >"$outa"
kt_bg alice run pod/web-a -n team-a --duration 20 -o json -e "$PROG" >"$outa" 2>"$erra" &
apid=$!
if ! wait_for 30 grep -q '"phase":"attached"' "$outa"; then
	tap_fail "alice's trace attaches" "$(cat "$outa" "$erra" | tail -5)" "$(tail -5 "$TG_WORK/gateway.log")"
	exit 0
fi
kill -STOP "$apid"
t_attached=$(date +%s)
rss0=$(rss_kib)
# 3,000,000 events of about 20 bytes: 60 MB, far beyond every buffer on the
# way (runner ring buffer 2 MiB, socket buffers, the gateway's 256 KiB)
floodpid=$(pod_run "$TG_CTR_A" "$LOOP" 3000000)
# the runner's session is held: its writes wait, so alice's ring buffer
# fills; wait until the flood is over (its loop exits)
check "alice's flood runs to its end while her client reads nothing" wait_for 120 bash -c "! kill -0 $floodpid 2>/dev/null"
# her session lasts 20 s from "attached": on a machine loaded enough that
# the flood outlasts it, its last calls come after the end and are not hers
flood_s=$(($(date +%s) - t_attached))

# ---- 2. bob's trace at the same time: every line, at once, no drops -----------
N=20000
: >"$outb"
kt_bg bob run pod/web-b -n team-b --duration 8 -o json -e "$PROG" >"$outb" 2>"$errb" &
bpid=$!
if wait_for 30 grep -q '"phase":"attached"' "$outb"; then
	t0=$(date +%s.%N)
	# paced: 100 calls every 10 ms, about 10,000 a second
	looppid=$(pod_run "$TG_CTR_B" python3 -c '
import os, time
import sys
n, t = int(sys.argv[1]), time.monotonic()
for i in range(0, n, 100):
    for _ in range(100):
        os.getppid()
    t += 0.01
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)' "$N")
	# (the pod's own processes call getppid too: the loop's lines are counted)
	got_all() { [ "$(lines_of "$outb" "$looppid")" -ge "$N" ]; }
	check "bob gets all $N lines while alice's client is stopped" wait_for 60 got_all
	t1=$(date +%s.%N)
	wait "$bpid"
	rc=$?
	check "bob's trace ends on its own (rc $rc)" test "$rc" -eq 0
	got=$(end_of "$outb" '(d["reason"], d["events"] >= '"$N"', d["drops"])')
	check "bob's end: duration, at least $N events, no drop ($got)" test "$got" = "('duration', True, 0)"
	# (python's own start calls getppid a few times too)
	check "bob received all his loop's $N lines ($(lines_of "$outb" "$looppid"))" \
		test "$(lines_of "$outb" "$looppid")" -ge "$N"
	ev=$(end_of "$outb" 'd["events"]')
	check "bob received every line his runner counted ($(lines_of "$outb") of $ev)" \
		test "$(lines_of "$outb")" -eq "$ev"
	log "bob's $N lines arrived within $(python3 -c "print(round($t1 - $t0, 1))") s of his loop's start"
else
	tap_fail "bob's trace attaches while alice's client is stopped" "$(cat "$outb" "$errb" | tail -5)"
fi
kill -0 "$apid" 2>/dev/null
check "alice's client is still there, stopped, when bob's trace is over" test $? -eq 0
# her session does not wait in a write: it leaves the ring buffer alone,
# so its duration still ends it and its programs go (a session waiting in
# its write held them until the gateway gave up on the client, after
# stallTimeoutSeconds: 60 s, and then her end was lost)
check "alice's programs are gone after her 20 s, though her client still reads nothing" \
	wait_for 30 no_progs_left
kill -0 "$apid" 2>/dev/null
check "(her client was still stopped then)" test $? -eq 0
rss1=$(rss_kib)
check "the gateway did not buffer alice's flood: RSS ${rss0} -> ${rss1} KiB (< +16 MiB)" \
	test "$((rss1 - rss0))" -lt 16384

# ---- 3. alice reads again: her drops are hers, counted -------------------------
kill -CONT "$apid"
check "alice's trace ends after its duration" wait_for 90 bash -c "! kill -0 $apid 2>/dev/null"
wait "$apid"
rc=$?
check "alice's client exits 0 ($rc)" test "$rc" -eq 0
if [ "$flood_s" -lt 19 ]; then
	got=$(end_of "$outa" '(d["reason"], d["drops"] > 0, d["events"] + d["drops"] >= 3000000)')
	check "alice's end: duration, her drops counted, events + drops cover the flood ($got)" \
		test "$got" = "('duration', True, True)"
else
	got=$(end_of "$outa" '(d["reason"], d["drops"] > 0, d["events"] + d["drops"] > 0)')
	check "alice's end: duration, her drops counted (the flood took ${flood_s} s of her 20: not all of it was in her trace) ($got)" \
		test "$got" = "('duration', True, True)"
fi
ev=$(end_of "$outa" 'd["events"]')
check "alice received every line her runner counted ($(lines_of "$outa") of $ev)" \
	test "$(lines_of "$outa")" -eq "$ev"
got=$(audit_py '[(r["user"]["username"], r["tracegate"]["drops"] > 0) for r in recs if r["stage"] == "ResponseComplete"]')
check "audit: alice's ResponseComplete has her drops, bob's none ($got)" \
	test "$got" = "[('bob', False), ('alice', True)]"

# ---- 4. a client stopped past stallTimeoutSeconds is gone, with its counts ----
kill "$TG_GATEWAY_PID"
wait "$TG_GATEWAY_PID" 2>/dev/null
python3 - "$TG_WORK/gateway.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("limits", {})["stallTimeoutSeconds"] = 3
json.dump(c, open(sys.argv[1], "w"))
PY
tracegate serve --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
TG_GATEWAY_PID=$!
TG_PIDS+=("$TG_GATEWAY_PID")
if ! wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null; then
	tap_fail "the gateway restarts with stallTimeoutSeconds 3" "$(tail -5 "$TG_WORK/gateway.log")"
	exit 0
fi
# long lines and a flood that goes on until the gateway gives up: the
# socket buffers on the way (megabytes, autotuned) must fill before the
# client's connection stalls, however much of the flood the runner gets to
pad=$(printf 'x%.0s' {1..200})
# a fresh output file: section 1's trace left "attached" in $outa, and the
# wait below must see this trace's, not stop the client before it starts
outa=$TG_WORK/stall.json
erra=$TG_WORK/stall.err
: >"$outa"
kt_bg alice run pod/web-a -n team-a --duration 120 -o json \
	-e "tracepoint:syscalls:sys_enter_getppid { printf(\"%d %s $pad\\n\", pid, comm); }" >"$outa" 2>"$erra" &
apid=$!
if wait_for 30 grep -q '"phase":"attached"' "$outa"; then
	kill -STOP "$apid"
	floodpid=$(pod_run "$TG_CTR_A" bash -c "while :; do $LOOP 1000000; done")
	gone() { grep -q 'end=client events=' "$TG_WORK/gateway.log"; }
	t0=$(date +%s)
	if wait_for 90 gone; then
		tap_ok "a client that reads nothing for 3 s is gone (end=client, after $(($(date +%s) - t0)) s)"
	else
		# what held it: the trace's end if it ended otherwise, the
		# runner's session, the bytes queued towards the client
		tap_fail "a client that reads nothing for 3 s is gone (end=client)" \
			"gateway: $(grep 'end=' "$TG_WORK/gateway.log" | tail -1)" \
			"runner: $(grep 'outcome=' "$TG_WORK/runner.log" | tail -1)" \
			"queues (state recv-q send-q local peer): $(ss -tnH "( sport = :$TG_GATEWAY_PORT or dport = :$TG_GATEWAY_PORT )" | tr '\n' ';')" \
			"gateway process: $(kill -0 "$TG_GATEWAY_PID" 2>/dev/null && echo alive || echo GONE)" \
			"client: $(tr '\0' ' ' </proc/$apid/cmdline 2>/dev/null | cut -c1-60) state $(awk '/^State/ {print $2}' /proc/$apid/status 2>/dev/null); lines so far $(grep -c . "$outa")" \
			"gateway log tail: $(tail -4 "$TG_WORK/gateway.log" | tr '\n' ';')" \
			"load: $(cut -d' ' -f1-3 /proc/loadavg)"
	fi
	logline=$(grep -m1 'end=client events=' "$TG_WORK/gateway.log")
	got=$(audit_py '[(r["tracegate"]["endReason"], r["tracegate"]["events"] > 0, r["tracegate"]["drops"] > 0) for r in recs if r["stage"] == "ResponseComplete"][-1]')
	check "its audit record: reason client, the runner's events and drops ($got)" \
		test "$got" = "('client', True, True)"
	ev=$(audit_py '[r["tracegate"]["events"] for r in recs if r["stage"] == "ResponseComplete"][-1]')
	check "the log line has the same counts ($logline)" grep -q "end=client events=$ev drops=[1-9]" <<<"$logline"
	kill -STOP "$floodpid"
	pkill -KILL -P "$floodpid" 2>/dev/null
	kill -KILL "$apid" "$floodpid" 2>/dev/null
	wait "$apid" 2>/dev/null
	check "its programs are gone" wait_for 10 no_progs_left
else
	tap_fail "alice's trace attaches (stall)" "$(cat "$outa" "$erra" | tail -5)"
	kill -KILL "$apid" 2>/dev/null
fi
