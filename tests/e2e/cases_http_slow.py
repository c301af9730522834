"""Slow clients cannot stop the service: a request head must arrive within
--head-timeout, a body at --body-rate after that, else 408 (a problem
document) and the connection is closed; a kept-alive connection's next head
has the same deadline from its request line; connections waiting for their
request are capped per address (--per-ip-incomplete) and in all
(--max-incomplete), and one beyond a cap is closed as it is accepted. The
attack case holds hundreds of slow connections from five addresses while a
normal client is timed (bounded: about 12 s)."""

import socket
import time

from harness import registry, check, eq
from http_client import Server, PROBLEM_PREFIX
import slow_clients

CASES, case = registry()
ALONE = "bounds on latency and time to close under slow clients"  # --jobs: one by one

TIMEOUT_TYPE = (PROBLEM_PREFIX + "request-timeout").encode()


def read_until_closed(s, wait):
    """Everything until the server closes: (bytes, closed?, seconds)."""
    t0 = time.monotonic()
    buf = b""
    while time.monotonic() - t0 < wait:
        s.settimeout(max(0.05, wait - (time.monotonic() - t0)))
        try:
            b = s.recv(65536)
        except socket.timeout:
            return buf, False, time.monotonic() - t0
        except ConnectionResetError:
            return buf, True, time.monotonic() - t0
        if not b:
            return buf, True, time.monotonic() - t0
        buf += b
    return buf, False, time.monotonic() - t0


def connect(port, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def waiting(port, source):
    """A connection that is accepted and sends nothing: True if the server
    keeps it (no answer within 0.5 s), False if it closes it at once."""
    s = connect(port, source)
    s.settimeout(0.5)
    try:
        b = s.recv(1)
    except socket.timeout:
        return s
    except ConnectionResetError:
        b = b""
    s.close()
    check(b == b"", "a waiting connection got an answer: %r" % b)
    return None


def health(port, source):
    s = connect(port, source)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    buf, closed, _ = read_until_closed(s, 5)
    s.close()
    return buf.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in buf


@case("http slow: 500 slow connections from five addresses dribbling header lines: a normal "
      "client's p99 stays under 100 ms, each slow one gets 408 and is closed by the deadline, "
      "those beyond the per-address cap are refused at once")
def t_attack(ctx):
    cx = ctx.custos()
    cx.ok("init")
    head = 3
    with Server(cx, "--head-timeout", str(head)) as srv:
        sources = ["127.0.0.%d" % i for i in range(2, 7)]
        proc = slow_clients.start_attack(srv.port, 9, sources, 100, 1.0)
        try:
            time.sleep(1.0)  # let the attack fill its share
            lat, failures = slow_clients.latencies(srv.port, 7)
        finally:
            summary = slow_clients.finish_attack(proc, 40)
        check(not failures, "the normal client failed under the attack", failures[:10])
        check(len(lat) >= 50, "only %d requests answered in 7 s" % len(lat))
        p99 = slow_clients.percentile(lat, 99)
        check(p99 < 100.0, "p99 %.1f ms under the attack (p50 %.1f, max %.1f)" %
              (p99, slow_clients.percentile(lat, 50), lat[-1]))
        # 64 a source waiting at a time, each for 3 s, over 9 s: at least two rounds
        check(summary["timed_out"] >= 2 * 64 * len(sources),
              "too few slow connections answered 408", summary)
        check(summary["lived_min"] >= head - 0.1, "a slow connection was cut before the "
              "deadline", summary)
        check(summary["lived_max"] <= head + 1.5, "a slow connection outlived the deadline",
              summary)
        check(summary["refused"] > 0, "nothing was refused beyond --per-ip-incomplete", summary)
        eq(summary["other"], [], "slow connections that were neither 408 nor refused")
        check(health(srv.port, "127.0.0.2"), "an attacking address is not served afterwards")


@case("http slow: a head not complete within --head-timeout gets a 408 problem and the "
      "connection is closed; so does a kept-alive connection's next head, timed from its "
      "request line, not from the previous answer")
def t_head_deadline(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx, "--head-timeout", "2") as srv:
        s = connect(srv.port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        buf, closed, dt = read_until_closed(s, 6)
        s.close()
        check(buf.startswith(b"HTTP/1.1 408 ") and TIMEOUT_TYPE in buf, "no 408 problem", buf)
        check(b"application/problem+json" in buf and b"Connection: close" in buf,
              "408 without problem type or Connection: close", buf)
        check(closed and 1.9 <= dt <= 3.5, "closed=%r after %.2f s" % (closed, dt))

        # bytes trickling in do not move the deadline
        s = connect(srv.port)
        t0 = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        for i in range(12):
            time.sleep(0.25)
            try:
                s.sendall(b"X-%d: y\r\n" % i)
            except OSError:
                break
        buf, closed, _ = read_until_closed(s, 4)
        dt = time.monotonic() - t0
        s.close()
        check(buf.startswith(b"HTTP/1.1 408 ") and closed and dt <= 4.0,
              "a trickling head was not cut at its deadline (%.2f s)" % dt, buf[:300])

        # keep-alive: idle 2.5 s (longer than the head's deadline), then a prompt request
        s = connect(srv.port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(5)
        first = s.recv(65536)
        check(first.startswith(b"HTTP/1.1 200 "), "first request", first)
        time.sleep(2.5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        second = s.recv(65536)
        check(second.startswith(b"HTTP/1.1 200 "), "a prompt request after an idle pause "
              "was not served", second)
        # then a request line and nothing more
        t0 = time.monotonic()
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        buf, closed, _ = read_until_closed(s, 6)
        dt = time.monotonic() - t0
        s.close()
        check(buf.startswith(b"HTTP/1.1 408 ") and closed and 1.9 <= dt <= 3.5,
              "kept-alive head: closed=%r after %.2f s" % (closed, dt), buf[:300])


@case("http slow: a body slower than --body-rate once the head's time is over gets 408 and is "
      "closed; one at the rate is served")
def t_body_rate(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx, "--head-timeout", "1", "--body-rate", "1000") as srv:
        s = connect(srv.port)
        s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        t0 = time.monotonic()
        closed = False
        buf = b""
        while time.monotonic() - t0 < 6 and not closed:
            try:
                s.sendall(b" " * 20)  # 40 bytes a second
            except OSError:
                pass
            s.settimeout(0.5)
            try:
                b = s.recv(65536)
                buf += b
                closed = not b
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
        dt = time.monotonic() - t0
        s.close()
        check(buf.startswith(b"HTTP/1.1 408 ") and TIMEOUT_TYPE in buf, "no 408", buf[:300])
        check(closed and 1.0 <= dt <= 3.5, "closed=%r after %.2f s" % (closed, dt))

        # 3000 bytes at about 2000 bytes a second: served (401: no such user)
        body = b'{"username": "nobody.here", "password": "' + b"p" * 200 + b'"}'
        body = body + b" " * (3000 - len(body))
        s = connect(srv.port)
        s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 3000\r\n\r\n")
        for i in range(0, 3000, 200):
            s.sendall(body[i:i + 200])
            time.sleep(0.1)
        buf, _, _ = read_until_closed(s, 5)
        s.close()
        check(buf.startswith(b"HTTP/1.1 401 "), "a body at the rate was not served", buf[:300])


@case("http slow: --per-ip-incomplete and --max-incomplete: a connection beyond either is "
      "closed as it is accepted; others' and answered connections are not counted")
def t_caps(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx, "--per-ip-incomplete", "3", "--max-incomplete", "5",
                "--head-timeout", "30") as srv:
        a = [waiting(srv.port, "127.0.0.21") for _ in range(3)]
        check(all(a), "the first three waiting connections from one address were refused")
        check(waiting(srv.port, "127.0.0.21") is None, "a fourth waiting connection from the "
              "same address was kept")
        check(health(srv.port, "127.0.0.22"), "another address is not served")
        # one of the three completes a request and stays open, kept alive
        a[0].settimeout(5)
        a[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        check(a[0].recv(65536).startswith(b"HTTP/1.1 200 "), "the waiting one was not served")
        a.append(waiting(srv.port, "127.0.0.21"))
        check(a[-1] is not None, "an answered connection still counts against its address")
        # two waiting from another address: five in all
        b = [waiting(srv.port, "127.0.0.23") for _ in range(2)]
        check(all(b), "waiting connections from a third address were refused")
        check(waiting(srv.port, "127.0.0.24") is None, "a sixth waiting connection in all "
              "was kept beyond --max-incomplete")
        # the server frees the slots when they close
        for s in a + b:
            s.close()
        deadline = time.monotonic() + 5
        ok = None
        while time.monotonic() < deadline and ok is None:
            time.sleep(0.2)
            ok = waiting(srv.port, "127.0.0.24")
        check(ok is not None, "slots were not freed when the waiting connections closed")
        ok.close()
        check(health(srv.port, "127.0.0.21"), "the first address is not served afterwards")
