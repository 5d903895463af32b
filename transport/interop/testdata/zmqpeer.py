#!/usr/bin/python3
"""A libzmq (pyzmq) socket driven over stdin/stdout, for Brine's interop tests.

Usage:
    zmqpeer.py TYPE (bind|connect) ENDPOINT [options]

TYPE is a libzmq socket type: REQ REP DEALER ROUTER PUB XPUB SUB XSUB PUSH
PULL. Options:
    --identity STR            ZMQ_ROUTING_ID
    --req-correlate           REQ: ZMQ_REQ_CORRELATE and ZMQ_REQ_RELAXED
    --subscribe HEX           SUB: subscribe to this prefix (repeatable)
    --heartbeat-ivl MS        ZMQ_HEARTBEAT_IVL (libzmq then sends PINGs)
    --heartbeat-timeout MS    ZMQ_HEARTBEAT_TIMEOUT
    --heartbeat-ttl MS        ZMQ_HEARTBEAT_TTL
    --timeout MS              bound of each receive (default 20000)

Once the socket is bound or connecting it prints "READY <endpoint>" (the
bound endpoint, with the real port for tcp port 0). Then it reads commands
from stdin, one a line, and runs them in order:

    SEND <msg>      send a message
    RECV            receive one message and print "MSG <msg>"
    ECHO <n>        REP/ROUTER: answer n requests, then print
                    "ECHOED <n> <id>,<id>..." (ROUTER: the distinct routing
                    ids seen, hex; REP: nothing after the count)
    PROBE <msg>     send msg every 5 ms until the next command arrives
    SUB <hex>       SUB/XSUB: subscribe to a prefix
    UNSUB <hex>     SUB/XSUB: cancel a subscription
    QUIT            close and exit (as does the end of stdin)

A message is its frames in hex, joined by commas ("" is one empty frame).
A server's answer to a request is the request with its envelope (frames
up to and including the first empty one; REP: none, libzmq keeps it) kept
as is and "re:" put before each remaining frame. Any failure prints
"ERR <reason>" and exits with status 1.
"""

import argparse
import os
import select
import sys

import zmq

TYPES = {
    "REQ": zmq.REQ,
    "REP": zmq.REP,
    "DEALER": zmq.DEALER,
    "ROUTER": zmq.ROUTER,
    "PUB": zmq.PUB,
    "XPUB": zmq.XPUB,
    "SUB": zmq.SUB,
    "XSUB": zmq.XSUB,
    "PUSH": zmq.PUSH,
    "PULL": zmq.PULL,
}


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def fail(reason):
    say("ERR " + reason)
    sys.exit(1)


def encode(frames):
    return ",".join(bytes(f).hex() for f in frames)


def decode(text):
    return [bytes.fromhex(part) for part in text.split(",")]


def subscribe(sock, kind, topic, on):
    if kind == "XSUB":
        # An XSUB subscribes by sending the subscription message itself;
        # it does not filter what it receives, so the test sees exactly
        # what the publisher sent.
        sock.send((b"\x01" if on else b"\x00") + topic)
    else:
        sock.setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)


def answer(frames, has_envelope):
    """The reply to a request: envelope kept, "re:" before each body frame."""
    start = 0
    if has_envelope:
        for i, f in enumerate(frames):
            if len(f) == 0:
                start = i + 1
                break
    return frames[:start] + [b"re:" + bytes(f) for f in frames[start:]]


class Lines:
    """Lines of stdin, read with os.read so that select() sees what is left."""

    def __init__(self):
        self.buf = b""
        self.eof = False

    def next(self, timeout=None):
        """The next line (without newline), None at end of input, or "" if
        timeout (seconds) passed first."""
        while b"\n" not in self.buf:
            if self.eof:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line.decode()
                return None
            ready, _, _ = select.select([0], [], [], timeout)
            if not ready:
                return ""
            chunk = os.read(0, 65536)
            if not chunk:
                self.eof = True
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("type", choices=sorted(TYPES))
    ap.add_argument("how", choices=["bind", "connect"])
    ap.add_argument("endpoint")
    ap.add_argument("--identity")
    ap.add_argument("--req-correlate", action="store_true")
    ap.add_argument("--subscribe", action="append", default=[])
    ap.add_argument("--heartbeat-ivl", type=int)
    ap.add_argument("--heartbeat-timeout", type=int)
    ap.add_argument("--heartbeat-ttl", type=int)
    ap.add_argument("--timeout", type=int, default=20000)
    args = ap.parse_args()

    ctx = zmq.Context()
    sock = ctx.socket(TYPES[args.type])
    sock.setsockopt(zmq.LINGER, 2000)
    sock.setsockopt(zmq.RCVTIMEO, args.timeout)
    sock.setsockopt(zmq.SNDTIMEO, args.timeout)
    if args.identity is not None:
        sock.setsockopt(zmq.ROUTING_ID, args.identity.encode())
    if args.heartbeat_ivl is not None:
        sock.setsockopt(zmq.HEARTBEAT_IVL, args.heartbeat_ivl)
    if args.heartbeat_timeout is not None:
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, args.heartbeat_timeout)
    if args.heartbeat_ttl is not None:
        sock.setsockopt(zmq.HEARTBEAT_TTL, args.heartbeat_ttl)
    if args.req_correlate:
        sock.setsockopt(zmq.REQ_CORRELATE, 1)
        sock.setsockopt(zmq.REQ_RELAXED, 1)
    for topic in args.subscribe:
        subscribe(sock, args.type, bytes.fromhex(topic), True)

    if args.how == "bind":
        sock.bind(args.endpoint)
    else:
        sock.connect(args.endpoint)
    say("READY " + sock.getsockopt(zmq.LAST_ENDPOINT).decode())

    lines = Lines()
    line = lines.next()
    try:
        while line is not None:
            cmd, _, rest = line.partition(" ")
            following = None
            if cmd == "SEND":
                sock.send_multipart(decode(rest))
            elif cmd == "RECV":
                say("MSG " + encode(sock.recv_multipart()))
            elif cmd == "ECHO":
                ids = []
                for _ in range(int(rest)):
                    frames = sock.recv_multipart()
                    if args.type == "ROUTER":
                        if frames[0] not in ids:
                            ids.append(frames[0])
                        sock.send_multipart(frames[:1] + answer(frames[1:], True))
                    else:
                        sock.send_multipart(answer(frames, False))
                say("ECHOED %s %s" % (rest, encode(ids) if ids else ""))
            elif cmd == "PROBE":
                probe = decode(rest)
                following = ""
                while following == "":
                    sock.send_multipart(probe)
                    following = lines.next(0.005)
            elif cmd in ("SUB", "UNSUB"):
                subscribe(sock, args.type, bytes.fromhex(rest), cmd == "SUB")
            elif cmd == "QUIT":
                break
            elif cmd:
                fail("unknown command " + repr(cmd))
            line = lines.next() if following is None else following
    except zmq.Again:
        fail("timed out in " + cmd)
    except zmq.ZMQError as e:
        fail("%s: %s" % (cmd, e))
    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
