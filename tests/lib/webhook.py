#!/usr/bin/env python3
"""An HTTPS webhook receiver for the tests: it checks the HMAC-SHA256
signature dmarc-agent puts on each POST and keeps what it got.

  webhook.py --cert CRT --key KEY --secret-file F --dir D

Listens on 127.0.0.1, on a port the kernel picks, written to D/port once
it listens.  Each request N (from 1) leaves D/N.body (the body as
received) and D/N.meta (one line: "METHOD PATH SIG-OK CONTENT-TYPE"),
SIG-OK being "good" when the X-DMARC-Agent-Signature header is "sha256="
and the hex HMAC-SHA256 of the body under the first line of F, "bad"
otherwise.  The answer: 503 while D/refuse holds a number over 0 (each
refusal takes one off), else 401 for a bad signature, else 200.
"""
import argparse
import hashlib
import hmac
import http.server
import os
import ssl
import sys

MAX_BODY = 1 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    with open(a.secret_file, "rb") as f:
        secret = f.readline().rstrip(b"\r\n")
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("webhook.py: " + (fmt % args) + "\n")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(min(n, MAX_BODY))
            count[0] += 1
            want = "sha256=" + hmac.new(secret, body,
                                        hashlib.sha256).hexdigest()
            got = self.headers.get("X-DMARC-Agent-Signature", "")
            ok = hmac.compare_digest(want, got)
            base = os.path.join(a.dir, str(count[0]))
            with open(base + ".body", "wb") as f:
                f.write(body)
            with open(base + ".meta", "w") as f:
                f.write("%s %s %s %s\n" % (
                    self.command, self.path, "good" if ok else "bad",
                    self.headers.get("Content-Type", "-")))
            refuse = os.path.join(a.dir, "refuse")
            left = 0
            if os.path.exists(refuse):
                with open(refuse) as f:
                    left = int(f.read().strip() or "0")
            if left > 0:
                with open(refuse, "w") as f:
                    f.write("%d\n" % (left - 1))
                code = 503
            else:
                code = 200 if ok else 401
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = os.path.join(a.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(a.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
