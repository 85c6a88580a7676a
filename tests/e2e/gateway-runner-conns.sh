#!/usr/bin/env bash
# Connections from the gateway to a runner (issue 8, "200 concurrent
# sessions"): every session is a new mTLS connection to the runner, which
# allows one address 8 TLS handshakes in progress once half its slots are
# taken (a defence against strangers: redteam-runner-slots.sh).  The
# gateway is one address, so a burst of sessions used to be cut by its own
# runner ("runner unreachable or failed: SSL_ERROR_SYSCALL", the runner
# logging "too many TLS handshakes in progress from this address").  Now
# the gateway connects at most GW_RUNNER_HANDSHAKES (4) at once per runner
# and queues the rest, and resumes its TLS sessions from the runner's
# tickets.  Here: 100 dry runs at once (each a runner session: a child,
# the check, no load) must all be answered 200, the runner must have
# refused nothing, most handshakes must have been resumed, and the audit
# log (group commit: 200 records) must verify.
source "$(dirname "$0")/lib.sh"
need_bpf "gateway runner connections" || exit 0
TG_RUNNER_ARGS="--max-sessions 128"
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts (runner with 128 sessions)"

# the gateway takes 100 clients of one address at once
kill "$TG_GATEWAY_PID" 2>/dev/null
wait "$TG_GATEWAY_PID" 2>/dev/null
python3 - "$TG_WORK/gateway.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["limits"] = {"maxSessions": 128, "maxConnections": 512, "maxPendingPerPeer": 256}
json.dump(c, open(sys.argv[1], "w"))
PY
tracegate serve --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
TG_GATEWAY_PID=$!
TG_PIDS+=("$TG_GATEWAY_PID")
check "the gateway restarts with maxSessions 128" \
	wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null

N=100
before=$(grep -c . "$TG_AUDIT")
res=$(python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" "$(fixture_token alice)" "$N" <<'PY'
import http.client, json, ssl, sys, threading, collections
port, ca, tok, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
body = json.dumps({"target": "pod/web-a", "program": "BEGIN { exit(); }"})
go = threading.Event()
codes = collections.Counter()
msgs = collections.Counter()
lock = threading.Lock()
def one():
    ctx = ssl.create_default_context(cafile=ca)
    try:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
        c.connect()
        go.wait()
        c.request("POST", "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces?dryRun=All", body,
                  {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        r = c.getresponse()
        d = r.read()
        code = r.status
        msg = "" if code == 200 else json.loads(d).get("message", "")[:120]
    except Exception as e:
        code, msg = 0, repr(e)[:120]
    with lock:
        codes[code] += 1
        if msg:
            msgs[msg] += 1
ts = [threading.Thread(target=one) for _ in range(n)]
for t in ts: t.start()
go.set()
for t in ts: t.join()
print(" ".join("%s:%d" % kv for kv in sorted(codes.items())), "|", "; ".join("%dx %s" % (v, k) for k, v in msgs.most_common(3)))
PY
)
check "$N dry runs at once: every one 200 ($res)" test "${res%% |*}" = "200:$N"
check "the runner refused no handshake of the gateway's" \
	bash -c "! grep -qE 'refused: (too many TLS handshakes|all connection slots|a TLS handshake in progress dropped)' '$TG_WORK/runner.log'"
after=$(grep -c . "$TG_AUDIT")
check "each audited twice, with group commit ($before -> $after records)" test "$after" -eq $((before + 2 * N))
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"

kill "$TG_RUNNER_PID" 2>/dev/null
wait "$TG_RUNNER_PID" 2>/dev/null
line=$(grep -o 'TLS handshakes since the start: [0-9]* full, [0-9]* resumed' "$TG_WORK/runner.log" | tail -1)
full=$(sed -E 's/.*: ([0-9]+) full.*/\1/' <<<"$line")
resumed=$(sed -E 's/.*full, ([0-9]+) resumed/\1/' <<<"$line")
check "the gateway resumed its TLS sessions with the runner ($line)" \
	test "${resumed:-0}" -ge $((N / 2)) -a "${resumed:-0}" -gt "${full:-0}"
