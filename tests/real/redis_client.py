#!/usr/bin/env python3
"""redis_client.py PORT [KEYS] - a bounded loopback client for redis-server.

Four connections SET and then GET every key (values derived from the key),
with pipelining, and check every reply. Exit status 0 when every reply was
right, 1 otherwise (the first wrong reply is printed).
"""
import socket
import sys
import threading


def value(i):
    return ("v%d-" % i) * (1 + i % 7)


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def bulk(self):
        head = self.line()
        if not head.startswith(b"$"):
            raise ValueError("expected a bulk reply, got %r" % head)
        n = int(head[1:])
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data


def worker(port, lo, hi, errors):
    try:
        c = Conn(port)
        for start in range(lo, hi, 100):
            end = min(hi, start + 100)
            c.s.sendall(b"".join(resp("SET", "k%d" % i, value(i)) for i in range(start, end)))
            for i in range(start, end):
                r = c.line()
                if r != b"+OK":
                    raise ValueError("SET k%d: %r" % (i, r))
            c.s.sendall(b"".join(resp("GET", "k%d" % i) for i in range(start, end)))
            for i in range(start, end):
                got = c.bulk()
                if got != value(i).encode():
                    raise ValueError("GET k%d: %r" % (i, got[:40]))
    except Exception as e:  # every failure is a test failure
        errors.append(str(e))


def main():
    port = int(sys.argv[1])
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    errors = []
    n = 4
    threads = [threading.Thread(target=worker, args=(port, k * keys // n, (k + 1) * keys // n, errors))
               for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("redis_client: " + errors[0], file=sys.stderr)
        return 1
    print("redis_client: %d keys set and read back" % keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
