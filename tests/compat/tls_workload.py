#!/usr/bin/python3
"""TLS activity for the ssl tools (sslsnoop.bt, ssllatency.bt), run by
tools.py beside each tracer: handshakes through the system's libssl (Debian's
python3 links /lib/x86_64-linux-gnu/libssl.so.3, the library the tools'
uprobe:libssl resolves to), and one client handshake left blocked until the
tracer has exited, so that both tracers end with a call in flight and print
the same per-thread maps.  Without it, whether a tool saw any call, or held
one in flight at exit, depended on what else the host was doing.

Prints "ready" once the blocked handshake is waiting for the server (its
ClientHello arrived), then handshakes in a loop until killed.
"""
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time


def main():
    d = tempfile.mkdtemp(prefix="tg-tls.")
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "crt.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-subj", "/CN=localhost", "-days", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(crt, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for f in (key, crt):
        os.unlink(f)
    os.rmdir(d)

    # a listener that accepts and never speaks: the held handshake
    mute = socket.create_server(("127.0.0.1", 0))
    held = socket.create_connection(mute.getsockname())
    peer, _ = mute.accept()
    threading.Thread(target=lambda: cctx.wrap_socket(held), daemon=True).start()
    peer.settimeout(60)
    peer.recv(1, socket.MSG_PEEK)       # the ClientHello: the client is waiting
    print("ready", flush=True)

    srv = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            c, _ = srv.accept()
            try:
                with sctx.wrap_socket(c, server_side=True) as s:
                    s.sendall(s.recv(16))
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    while True:
        with cctx.wrap_socket(socket.create_connection(srv.getsockname())) as s:
            s.sendall(b"ping")
            s.recv(16)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
