#!/usr/bin/env bash
# HTTP/1.1 keep-alive at the gateway (issue 8, "Connections"): a client
# with credentials sends several requests on one connection, each still
# audited; an idle kept connection goes after keepAliveSeconds; an
# unauthenticated refusal ends its connection.
source "$(dirname "$0")/lib.sh"
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

tok=$(fixture_token alice)
url="$TG_GATEWAY/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces?dryRun=All"
body='{"target":"pod/web-a","program":"BEGIN { exit(); }"}'
before=$(grep -c . "$TG_AUDIT")
got=$(curl -s --cacert "$TG_CERTS/ca.crt" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
	-d "$body" -o /dev/null -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' "$url" "$url" "$url")
check "three dry runs on one kept connection ($got)" test "$got" = "200:1 200:0 200:0 "
# each dry run is audited: its outcome, and its decision before a runner
# was asked (none when the gateway's dry-run cache answered: the outcome
# alone, docs/audit.md)
got=$(audit_py '(lambda new: (len([r for r in new if r["stage"] == "ResponseComplete"]), all(("from the gateway" in r["annotations"]["authorization.k8s.io/reason"]) != any(x["auditID"] == r["auditID"] and x["stage"] == "ResponseStarted" for x in new) for r in new if r["stage"] == "ResponseComplete"), len(new)))(recs['"$before"':])')
check "each is audited: its outcome, its decision when a runner was asked (outcomes, all so, records: $got)" \
	bash -c "[[ '$got' == '(3, True, '[45]')' ]]"
check "tracegate audit verify passes" bash -c "tracegate audit verify '$TG_AUDIT' >/dev/null"

got=$(curl -s --cacert "$TG_CERTS/ca.crt" -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
	"$TG_GATEWAY/nope" "$TG_GATEWAY/nope")
check "a refusal without credentials ends its connection ($got)" test "$got" = "404:1 404:1 "

# an idle kept connection: closed after keepAliveSeconds (5 by default)
got=$(python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" <<'PY'
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1")
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
out = b""
while b"\r\n\r\n" not in out:
    out += s.recv(65536)
head, rest = out.split(b"\r\n\r\n", 1)
n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
while len(rest) < n:
    rest += s.recv(65536)
kept = b"keep-alive: timeout=5" in head.lower()
t0 = time.time()
try:
    while s.recv(65536):
        pass
except (ssl.SSLError, OSError):
    pass
print(kept, 4 <= time.time() - t0 <= 9)
PY
)
check "an idle kept connection is closed after keepAliveSeconds ($got)" test "$got" = "True True"
