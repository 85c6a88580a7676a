#!/usr/bin/env python3
"""A flood of idle and slow TCP connections to 127.0.0.1:PORT from ten peer
addresses (127.0.0.2-11, standing for ten hostile pods), for the red team's
slot tests (redteam-runner-slots.sh, redteam-gateway-slots.sh).

    flood.py PORT STATS PER_PEER idle|half-slow

Each address keeps PER_PEER connections open, reopening each 0.1 s after
the server closed it; with half-slow, every second one sends a TLS
handshake record one byte every half second.  Every half second STATS is
rewritten as "open attempts closed peak".  Runs until killed.
"""
import errno, os, selectors, socket, sys, time
port, stats, PER_PEER, mode = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
PEERS = ["127.0.0.%d" % i for i in range(2, 12)]
sel = selectors.DefaultSelector()
conns = {}            # socket -> [peer, slow, next drip time, connected]
reopen = []           # (time, peer, slow): reopened 0.1 s after the server closed it
attempts = peak = closed = 0
def open_one(peer, slow):
    global attempts
    s = socket.socket()
    s.setblocking(False)
    s.bind((peer, 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return
    attempts += 1
    conns[s] = [peer, slow, time.monotonic() + 0.5, False]
    sel.register(s, selectors.EVENT_READ)
for peer in PEERS:
    for k in range(PER_PEER):
        open_one(peer, mode == "half-slow" and k % 2 == 1)
last = 0
while True:
    for key, _ in sel.select(timeout=0.05):
        s = key.fileobj
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:     # closed by the server: reopen it a little later
            peer, slow = conns[s][0], conns[s][1]
            sel.unregister(s)
            s.close()
            del conns[s]
            closed += 1
            reopen.append((time.monotonic() + 0.1, peer, slow))
    now = time.monotonic()
    while reopen and reopen[0][0] <= now:
        _, peer, slow = reopen.pop(0)
        open_one(peer, slow)
    for s, c in list(conns.items()):
        if c[1] and now >= c[2]:   # slow: a TLS handshake record, one byte at a time
            c[2] = now + 0.5
            try:
                s.send(b"\x16")
            except OSError:
                pass
    peak = max(peak, len(conns))
    if now - last > 0.5:
        last = now
        with open(stats + ".tmp", "w") as f:
            f.write("%d %d %d %d\n" % (len(conns), attempts, closed, peak))
        os.rename(stats + ".tmp", stats)
