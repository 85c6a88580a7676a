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
# burst N QUERY: N POSTs of alice's at once (their connections opened
# first); prints "CODE:COUNT ... | the commonest messages"
burst() {
	python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" "$(fixture_token alice)" "$1" "$2" <<'PY'
import http.client, json, ssl, sys, threading, collections
port, ca, tok, n, query = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
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
        c.request("POST", "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces" + query, body,
                  {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        r = c.getresponse()
        d = r.read()
        code = r.status
        msg = "" if code in (200, 429) else json.loads(d).get("message", "")[:120]
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
}
refused_none() {
	! grep -qE 'refused: (too many TLS handshakes|all connection slots|a TLS handshake in progress dropped)' "$TG_WORK/runner.log"
}
res=$(burst "$N" "?dryRun=All")
check "$N dry runs at once: every one 200 ($res)" test "${res%% |*}" = "200:$N"
check "the runner refused no handshake of the gateway's" refused_none
after=$(grep -c . "$TG_AUDIT")
check "each audited twice, with group commit ($before -> $after records)" test "$after" -eq $((before + 2 * N))

# Real starts at once: each counts the traces running (maxConcurrentTraces)
# by asking every runner for its sessions (GET /v1/sessions) until a
# snapshot is there.  Those calls went around the gateway's per-runner
# gate: a burst of them took the runner's 8 handshakes per address and
# the runner reset sessions the gate had let through (bench-load: 1 of
# 200 "503 runner unreachable or failed: Connection reset by peer").
res=$(burst "$N" "")
check "$N starts at once: each runs or is refused by alice's limit, no 503 ($res)" \
	bash -c '[[ "$1" =~ ^200:[0-9]+\ 429:[0-9]+\ \|\ $ ]]' _ "$res"
check "the runner refused no handshake of the gateway's" refused_none
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"

kill "$TG_RUNNER_PID" 2>/dev/null
wait "$TG_RUNNER_PID" 2>/dev/null
line=$(grep -o 'TLS handshakes since the start: [0-9]* full, [0-9]* resumed' "$TG_WORK/runner.log" | tail -1)
full=$(sed -E 's/.*: ([0-9]+) full.*/\1/' <<<"$line")
resumed=$(sed -E 's/.*full, ([0-9]+) resumed/\1/' <<<"$line")
check "the gateway resumed its TLS sessions with the runner ($line)" \
	test "${resumed:-0}" -ge $((N / 2)) -a "${resumed:-0}" -gt "${full:-0}"

# The gateway trusts only runnerTLS.ca (its identity and trust store are
# decoded once and handed to each connection): a runner whose certificate
# another CA signed, for the right address, is refused, and nothing starts.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$TG_WORK/rogue.key" -out "$TG_WORK/rogue.crt" 2>/dev/null
ROGUE_PORT=$(free_port)
tracegate-runner serve --listen "127.0.0.1:$ROGUE_PORT" --cert "$TG_WORK/rogue.crt" --key "$TG_WORK/rogue.key" \
	--client-ca "$TG_CERTS/ca.crt" --client-cn tracegate-gateway --node node-1 \
	--cgroup-root "$TG_CGROOT_REL" --cache-dir "$TG_WORK/cache" 2>>"$TG_WORK/rogue.log" &
TG_PIDS+=("$!")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ROGUE_PORT"
kill "$TG_GATEWAY_PID" 2>/dev/null
wait "$TG_GATEWAY_PID" 2>/dev/null
python3 - "$TG_WORK/gateway.json" "https://127.0.0.1:$ROGUE_PORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["runners"]["node-1"]["url"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
tracegate serve --config "$TG_WORK/gateway.json" 2>>"$TG_WORK/gateway.log" &
TG_GATEWAY_PID=$!
TG_PIDS+=("$TG_GATEWAY_PID")
wait_for 10 curl -sf --cacert "$TG_CERTS/ca.crt" "$TG_GATEWAY/healthz" -o /dev/null
got=$(curl -s --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $(fixture_token alice)" \
	-H 'Content-Type: application/json' -d '{"target":"pod/web-a","program":"BEGIN { exit(); }"}' \
	-w '\n%{http_code}' "$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces?dryRun=All")
check "a runner with a certificate of another CA: 503 naming the node and the certificate ($(tail -1 <<<"$got"))" \
	bash -c 'grep -q "^503$" <<<"$1" && grep -q "node-1" <<<"$1" && grep -qi "certificate" <<<"$1"' _ "$got"
check "the rogue runner started no session" bash -c "! grep -q 'outcome=' '$TG_WORK/rogue.log'"
