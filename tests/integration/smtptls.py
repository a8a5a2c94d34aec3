#!/usr/bin/env python3
"""A small SMTP server with STARTTLS for tests/integration/tls.sh.

The harness OpenSMTPD (Debian 12's 6.8.0p2 built on OpenSSL 3) cannot serve
TLS, so the SMTP client's certificate checks are tested against this one:

    smtptls.py PORT CERT KEY SPOOL

It offers STARTTLS, requires it before MAIL, and writes each message it
accepts to SPOOL/N.eml. A client that refuses the certificate closes the
connection in the handshake; that is logged to stderr and nothing is stored.
"""
import os
import socketserver
import ssl
import sys

PORT, CERT, KEY, SPOOL = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CTX.load_cert_chain(CERT, KEY)


class Session(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        tls = False
        self.send("220 smtptls.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("latin-1").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.send("250-smtptls.test" if not tls else "250 smtptls.test")
                if not tls:
                    self.send("250 STARTTLS")
            elif verb == "STARTTLS" and not tls:
                self.send("220 go ahead")
                try:
                    conn = CTX.wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    print("smtptls: handshake refused: %s" % exc, file=sys.stderr)
                    return
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls = True
            elif verb in ("MAIL", "RCPT") and not tls:
                self.send("530 5.7.0 STARTTLS first")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.send("250 ok")
            elif verb == "DATA":
                self.send("354 go on")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data += chunk
                n = len(os.listdir(SPOOL)) + 1
                with open(os.path.join(SPOOL, "%d.eml" % n), "wb") as f:
                    f.write(data)
                self.send("250 ok queued as %d" % n)
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 5.5.2 not here")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", PORT), Session) as srv:
        print("smtptls: listening on %d" % PORT, file=sys.stderr, flush=True)
        srv.serve_forever()
