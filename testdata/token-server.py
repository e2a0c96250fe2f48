#!/usr/bin/env python3
# A small auth service for the middleware fixtures: GET /token answers a fresh random token (the body), GET
# /secure?token=T answers 200 "ok" for a token it issued and 403 "bad token" otherwise; GET /stats answers
# "accepted rejected issued". HTTP/1.1 keep-alive. Prints the port it listens on (argument: port, 0 for any).
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

issued = set()
counts = {"accepted": 0, "rejected": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/token":
            token = secrets.token_hex(8)
            with lock:
                issued.add(token)
            self.answer(200, token)
        elif url.path == "/secure":
            token = parse_qs(url.query).get("token", [""])[0]
            with lock:
                ok = token in issued
                counts["accepted" if ok else "rejected"] += 1
            self.answer(200 if ok else 403, "ok" if ok else "bad token")
        elif url.path == "/stats":
            with lock:
                self.answer(200, "%d %d %d" % (counts["accepted"], counts["rejected"], len(issued)))
        else:
            self.answer(404, "no such path")


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
