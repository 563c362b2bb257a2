#!/usr/bin/env python3
"""An SMTP server that does not offer STARTTLS (RFC 3207), for the tests:
a client that requires TLS must give up after EHLO without sending mail.

  smtp_nostarttls.py DIR

Listens on 127.0.0.1 on a port the kernel picks, written to DIR/port;
every line a client sends is appended to DIR/lines.  It answers EHLO
without STARTTLS and accepts everything else, so a client that does not
insist on TLS would deliver in clear text (and DIR/lines would show it).
"""
import os
import socketserver
import sys

DIR = sys.argv[1]


class Session(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 plain.test.example ESMTP no TLS here\r\n")
        data = False
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            with open(os.path.join(DIR, "lines"), "ab") as f:
                f.write(line)
            if data:
                if line == b".\r\n":
                    data = False
                    self.wfile.write(b"250 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-plain.test.example\r\n250 SIZE 1000000\r\n")
            elif verb == b"DATA":
                data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


socketserver.TCPServer.allow_reuse_address = True
srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
