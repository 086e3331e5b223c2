#!/usr/bin/env python3
"""A small mTLS server in Python's standard library, for mtls-conformance --server-cmd.

Run by the suite as (see README, "Plugging in your server"):
  python3 examples/python-mtls-server.py {host} {port} {cert} {key} {ca} {canary} {crl}
It requires a client certificate from the CA bundle, honours the CRL bundle,
logs the CN of every served request to stderr, and on SIGHUP re-reads the CA
and CRL files for new connections.
"""
import http.server
import signal
import ssl
import sys

host, port, cert, key, ca, canary = sys.argv[1:7]
crl = sys.argv[7] if len(sys.argv) > 7 else ""


def make_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(cafile=ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if crl:
        ctx.load_verify_locations(cafile=crl)  # every CRL in the bundle
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


context = make_context()


def reload(_signum, _frame):
    global context
    context = make_context()
    print("reloaded CA and CRL", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('{"invoice":"INV-2026-0042","canary":"%s"}\n' % canary).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        subject = dict(rdn[0] for rdn in self.connection.getpeercert().get("subject", ()))
        # repr() escapes control characters, so a certificate cannot forge a log line.
        cn = repr(subject.get("commonName", ""))
        print("%s CN=%s %s" % (self.client_address[0], cn, fmt % args), file=sys.stderr, flush=True)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake runs in the handler thread, under the context current at accept time.
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as error:
            print("%s refused: %s" % (client_address[0], error), file=sys.stderr, flush=True)
            return
        super().finish_request(request, client_address)


signal.signal(signal.SIGHUP, reload)
Server((host, int(port)), Handler).serve_forever()
