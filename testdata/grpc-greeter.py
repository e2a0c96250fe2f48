#!/usr/bin/python3
"""A gRPC server and client (Debian's python3-grpcio) for the HTTP/2 fixtures and replay tests.

  grpc-greeter.py serve PORT [HOST]   serves tb.test.Greeter on HOST (127.0.0.1):PORT; prints one line per call:
                                      "call /tb.test.Greeter/Method x-tb=VALUE" (flushed), then answers
  grpc-greeter.py calls PORT          the calls the capture holds (see CALLS), each channel one connection

Messages are protobuf on the wire, built by hand (field 1: a string, field 2: a varint) so no generated
code is needed: SayHello and Count are unary, Countdown streams N answers.
"""
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "tb.test.Greeter"
# channel -> list of (method, count): what `calls` makes, and what a replay must bring to the server.
CALLS = [
    [("SayHello", 20), ("Count", 10), ("Countdown", 3)],
    [("SayHello", 5), ("Count", 7)],
]


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def message(text, number):
    t = text.encode()
    return b"\x0a" + varint(len(t)) + t + b"\x10" + varint(number)


def read_number(msg):
    # field 2 varint after field 1 string
    i = 1
    n, shift = 0, 0
    ln = msg[i]
    i += 1 + ln
    if i < len(msg) and msg[i] == 0x10:
        i += 1
        while True:
            b = msg[i]
            n |= (b & 0x7F) << shift
            shift += 7
            i += 1
            if not b & 0x80:
                break
    return n


def serve(port, host="127.0.0.1"):
    lock = threading.Lock()

    def log(method, context):
        tb = dict(context.invocation_metadata()).get("x-tb", "")
        # Handlers run on several threads: print() writes the text and its newline separately, so two
        # calls at once could share a line and one would go uncounted. One write under a lock, each a line.
        with lock:
            sys.stdout.write("call /%s/%s x-tb=%s\n" % (SERVICE, method, tb))
            sys.stdout.flush()

    def say_hello(req, context):
        log("SayHello", context)
        return message("hello " + req[2:2 + req[1]].decode(), read_number(req))

    def count(req, context):
        log("Count", context)
        return message("count", read_number(req) + 1)

    def countdown(req, context):
        log("Countdown", context)
        for k in range(read_number(req), 0, -1):
            yield message("tick", k)

    ident = lambda b: b
    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello, ident, ident),
        "Count": grpc.unary_unary_rpc_method_handler(count, ident, ident),
        "Countdown": grpc.unary_stream_rpc_method_handler(countdown, ident, ident),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("%s:%d" % (host, port))
    server.start()
    print("serving %d" % port, flush=True)
    server.wait_for_termination()


def calls(port):
    for plan in CALLS:
        with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
            for method, n in plan:
                path = "/%s/%s" % (SERVICE, method)
                for k in range(n):
                    req = message("caller-%d" % k, k + 1)
                    if method == "Countdown":
                        got = list(ch.unary_stream(path)(req, timeout=10))
                        assert len(got) == k + 1, got
                    else:
                        got = ch.unary_unary(path)(req, timeout=10)
                        assert got, method


if __name__ == "__main__":
    {"serve": serve, "calls": calls}[sys.argv[1]](int(sys.argv[2]), *sys.argv[3:])
