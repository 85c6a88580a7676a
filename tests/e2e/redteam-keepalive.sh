#!/usr/bin/env bash
# Attacks on the gateway's kept connections (issue 7, sixth red team),
# each a raw TLS client: requests pipelined in one write are answered one
# by one with each its own identity (a second request without
# Authorization is 401 system:anonymous, never the first's user, whatever
# Impersonate-* it carries); bytes after a streamed trace are not run; a
# refusal of the HTTP layer mid-pipeline (Transfer-Encoding) ends the
# connection, the requests after it not run; a request inside another's
# body is body, not a request.  Every request answered has its record.
source "$(dirname "$0")/lib.sh"
need_bpf "keep-alive attacks" || exit 0
stack_start || { tap_fail "stack starts" "$(tail -5 "$TG_WORK"/*.log 2>/dev/null)"; exit 0; }
tap_ok "stack starts"

TOK_A=$(fixture_token alice) python3 - "$TG_GATEWAY_PORT" "$TG_CERTS/ca.crt" "$TG_AUDIT" <<'PY'
import json, os, socket, ssl, sys
port, ca, audit = int(sys.argv[1]), sys.argv[2], sys.argv[3]
A = os.environ["TOK_A"]
ctx = ssl.create_default_context(cafile=ca)
P = "/apis/tracegate.dev/v1alpha1/namespaces/team-a/traces"
DRY = json.dumps({"target": "pod/web-a", "program": "BEGIN { exit(); }"}).encode()
RUN = json.dumps({"target": "pod/web-a", "program": "BEGIN { printf(\"hi\\n\"); exit(); }"}).encode()

def tap(ok, name, why=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else "  # " + why))

def req(method, path, tok=None, body=b"", extra=b""):
    h = b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method.encode(), path.encode())
    if tok:
        h += b"Authorization: Bearer " + tok.encode() + b"\r\n"
    if body or method == "POST":
        h += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return h + extra + b"\r\n" + body

def exchange(data):
    """Sends data in one write; reads until the server closes; returns the
    status codes of the responses, parsed one after another."""
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60), server_hostname="127.0.0.1")
    s.sendall(data)
    buf = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except (ssl.SSLError, OSError):
        pass
    codes = []
    while buf.startswith(b"HTTP/1.1 "):
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        codes.append(int(lines[0].split()[1]))
        hdr = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip() for l in lines[1:]}
        if hdr.get(b"transfer-encoding") == b"chunked":
            while True:
                size, _, rest = rest.partition(b"\r\n")
                n = int(size, 16)
                rest = rest[n + 2:]
                if n == 0:
                    break
        else:
            rest = rest[int(hdr.get(b"content-length", b"0")):]
        buf = rest
    return codes

def records(n0):
    recs = [json.loads(l) for l in open(audit) if l.strip()][n0:]
    return [(r["user"]["username"], r["responseStatus"]["code"], r["stage"]) for r in recs]

def each(got):
    """one entry per request: a dry run is two records (its decision, then
    the runners' outcome), one when the gateway's cache answers it"""
    return [g for i, g in enumerate(got) if i == 0 or g[:2] != got[i - 1][:2]]

def nrec():
    return sum(1 for l in open(audit) if l.strip())

n0 = nrec()
codes = exchange(req("POST", P + "?dryRun=All", A, DRY) + req("POST", P + "?dryRun=All", None, DRY))
got = records(n0)
# a dry run is two records (its decision, then the runners' outcome)
tap(codes == [200, 401] and got == [("alice", 200, "ResponseStarted"), ("alice", 200, "ResponseComplete"),
                                    ("system:anonymous", 401, "ResponseStarted")],
    "a pipelined request without Authorization is 401 anonymous, not the first's user (%s %s)" % (codes, got))

n0 = nrec()
codes = exchange(req("POST", P + "?dryRun=All", A, DRY) +
                 req("POST", P + "?dryRun=All", None, DRY, b"Impersonate-User: alice\r\n"))
got = records(n0)
tap(codes == [200, 401] and [g[0] for g in each(got)] == ["alice", "system:anonymous"],
    "nor does Impersonate-User alone inherit it (%s %s)" % (codes, got))

n0 = nrec()
codes = exchange(req("POST", P, A, RUN) + req("POST", P + "?dryRun=All", A, DRY))
got = records(n0)
tap(codes == [200] and got == [("alice", 200, "ResponseStarted"), ("alice", 200, "ResponseComplete")],
    "bytes after a streamed trace are not run (%s %s)" % (codes, got))

n0 = nrec()
te = (b"POST " + P.encode() + b"?dryRun=All HTTP/1.1\r\nAuthorization: Bearer " + A.encode() +
      b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
codes = exchange(req("POST", P + "?dryRun=All", A, DRY) + te + req("POST", P + "?dryRun=All", A, DRY))
got = records(n0)
tap(codes == [200, 501] and [g[1] for g in each(got)] == [200, 501],
    "a refusal mid-pipeline is audited and ends the connection, what follows not run (%s %s)" % (codes, got))

n0 = nrec()
codes = exchange(req("POST", P + "?dryRun=All", A, req("POST", P + "?dryRun=All", A, DRY)))
got = records(n0)
tap(codes == [400] and got == [("alice", 400, "ResponseStarted")],
    "a request inside another's body is body (%s %s)" % (codes, got))
PY
