#!/usr/bin/env bash
# The runner's parent does not trust a session child to end itself: a child
# still alive past its duration and the grace period (--session-grace) is
# killed, and with it every program it held.  The child is frozen with
# SIGSTOP to stand for one that hangs or was subverted.
source "$(dirname "$0")/lib.sh"
need_bpf "runner watchdog" || exit 0

runner_alone watchdog || exit 0
UID_A=3c4d5e6f-aaaa-bbbb-cccc-0123456789ab
CTR=$(pod_make web-w $UID_A Burstable systemd)
pod_run "$CTR" bash -c 'while :; do sleep 0.1; done' >/dev/null

tracegate-runner serve --listen "127.0.0.1:$PORT" \
	--cert "$TG_CERTS/runner.crt" --key "$TG_CERTS/runner.key" \
	--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway \
	--node node-1 --cgroup-root "$TG_CGROOT_REL" --cache-dir "$TG_WORK/cache" \
	--session-grace 2 2>"$LOG" &
TG_RUNNER_PID=$!
TG_PIDS+=("$TG_RUNNER_PID")
wait_for 10 curl -sf "${GW[@]}" "$URL/healthz" || { tap_fail "runner starts" "$(cat "$LOG")"; exit 0; }

printf '%s' '{"trace":"wd-1","program":"tracepoint:syscalls:sys_enter_nanosleep { @ = count(); }","canonical":"tracepoint:syscalls:sys_enter_nanosleep\n{\n\t@ = count();\n}\n","params":[],"duration":6,
 "pods":[{"namespace":"team-a","name":"web-w","uid":"'$UID_A'","qos":"Burstable"}],
 "limits":{"maxMapEntries":64,"eventsPerSecond":0,"maxDuration":60,"cpuBudget":0}}' >"$TG_WORK/body.json"
curl -sS -N "${GW[@]}" -o "$TG_WORK/out" -H 'Content-Type: application/json' \
	--data-binary @"$TG_WORK/body.json" "$URL/v1/sessions" 2>"$TG_WORK/curl.err" &
TG_PIDS+=($!)
if ! wait_for 10 grep -q '"attached"' "$TG_WORK/out"; then
	tap_fail "the session attaches" "$(cat "$TG_WORK/out" "$LOG")"
	exit 0
fi
child=$(pgrep -P "$TG_RUNNER_PID" | head -1)
ids=$(runner_prog_ids)
check "the session child holds programs" test -n "$child" -a -n "$ids"
kill -STOP "$child"
start=$SECONDS
# duration 6 s + grace 2 s from the session's start: gone well within
# 20 s.  (A 2 s duration ended the session by itself on a loaded machine
# before the test had found and frozen its child.)
# shellcheck disable=SC2086
if wait_for 20 bash -c "! kill -0 $child 2>/dev/null" && wait_for 2 progs_gone $ids; then
	tap_ok "a frozen session child is killed past duration + grace ($((SECONDS - start)) s), its programs freed"
else
	tap_fail "a frozen session child is killed past duration + grace" "$(tail -5 "$LOG")"
fi
check "the runner says why" grep -q "past its duration; killing child $child" "$LOG"
check "the runner keeps serving" curl -sf "${GW[@]}" "$URL/healthz" -o /dev/null
