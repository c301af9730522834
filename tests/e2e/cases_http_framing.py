"""HTTP framing (RFC 9112): every ambiguous way to say where a request ends is
refused at once, 400 (501 for a transfer coding other than chunked), and the
connection closed, so nothing after the head is parsed as another request:
two Content-Length fields (different or equal), Transfer-Encoding with
Content-Length, a Content-Length with a sign, spaces or other non-digits,
whitespace before a colon, a line folded onto a framing field, two Host
fields, no Host in HTTP/1.1, a bare CR in a field. Sound framing (chunked,
pipelined requests, bare LF line ends, which RFC 9112 lets a server accept)
still works. Raw bytes over a socket."""

import json
import socket
import time

from harness import registry, check, eq
from http_client import Server, PROBLEM_PREFIX

CASES, case = registry()
ALONE = "a bound on the time to close a bad connection"  # --jobs: one by one

# What a request smuggled after the head would get if it were parsed.
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HEALTHY = b'"status":"ok"'


def converse(port, data, wait=5.0):
    """Sends raw bytes and reads until the server closes (or `wait` runs
    out): (everything received, closed by the server?, seconds to close)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    t0 = time.monotonic()
    buf, closed = b"", False
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = t0 + wait
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            except socket.timeout:
                break
            if not chunk:
                closed = True
                break
            buf += chunk
    finally:
        s.close()
    return buf, closed, time.monotonic() - t0


def status_of(buf):
    line = buf.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith("HTTP/") and \
        parts[1].isdigit() else None


def problem_of(buf):
    head, _, body = buf.partition(b"\r\n\r\n")
    check(b"application/problem+json" in head.lower(), "not a problem document", buf[:600])
    n = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip())
    check(n is not None, "no Content-Length in the answer", buf[:600])
    return json.loads(body[:n].decode())


def refused(port, what, data, status, kind=None):
    """The request is answered `status` at once, the connection closed, and
    nothing after the head (the smuggled request) is answered."""
    buf, closed, dt = converse(port, data)
    eq(status_of(buf), status, "status for " + what)
    check(closed, "the connection stayed open after: " + what, buf[:600])
    check(dt < 3.0, "%s: took %.1f s to close" % (what, dt))
    check(HEALTHY not in buf, "a request after the head was parsed and answered: " + what,
          buf[:1200])
    if kind is not None:
        j = problem_of(buf)
        eq(j.get("type"), PROBLEM_PREFIX + kind, "problem type for " + what)
        eq(j.get("status"), status, "problem status for " + what)
    return buf


def post(headers, body):
    return (b"POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + headers + b"\r\n" + body)


@case("http framing: two Content-Length fields, different or equal, are 400 and close the "
      "connection; the rest of the bytes is never a second request")
def t_two_lengths(ctx):
    cx = ctx.custos()
    cx.ok("init")
    body = b"{}" + SMUGGLED
    with Server(cx) as srv:
        for cls in ((b"2", str(len(body)).encode()), (str(len(body)).encode(), b"2"),
                    (b"2", b"2")):
            h = b"".join(b"Content-Length: " + v + b"\r\n" for v in cls)
            refused(srv.port, "Content-Length %r" % (cls,), post(h, body), 400, "invalid-input")
        # one field holding a list is not a number either
        refused(srv.port, "Content-Length: 2, 2", post(b"Content-Length: 2, 2\r\n", body), 400)


@case("http framing: Transfer-Encoding with Content-Length is 400; a coding other than chunked "
      "is 501 at once, not a hanging connection")
def t_transfer_coding(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx) as srv:
        chunked_smuggle = b"0\r\n\r\n" + SMUGGLED
        for h in (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                  b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                  b"Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"):
            refused(srv.port, h.decode().strip(), post(h, chunked_smuggle), 400, "invalid-input")
        for h in (b"Transfer-Encoding: gzip\r\n", b"Transfer-Encoding: gzip, chunked\r\n",
                  b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                  b"Transfer-Encoding: identity\r\n", b"Transfer-Encoding: chunked, gzip\r\n"):
            refused(srv.port, h.decode().strip(), post(h, b"5\r\nabcde\r\n0\r\n\r\n" + SMUGGLED),
                    501, "not-implemented")


@case("http framing: a Content-Length with a sign, spaces inside, hex or other non-digits, or "
      "whitespace before the colon, is 400 (over 64 bits 413) and closes the connection")
def t_bad_length(ctx):
    cx = ctx.custos()
    cx.ok("init")
    body = b"{}" + SMUGGLED
    with Server(cx) as srv:
        for v in (b"+2", b"-2", b"2 2", b"0x2", b"2a", b"2.0", b"1e1", b" 2 ", b""):
            refused(srv.port, "Content-Length: %r" % v, post(b"Content-Length: " + v + b"\r\n",
                                                               body), 400)
        # more than 64 bits of digits: too large, and closed all the same
        refused(srv.port, "a 23-digit Content-Length",
                post(b"Content-Length: 99999999999999999999999\r\n", body), 413)
        refused(srv.port, "whitespace before the colon",
                post(b"Content-Length : 2\r\n", body), 400, "invalid-input")
        refused(srv.port, "tab before the colon",
                post(b"Content-Length\t: 2\r\n", body), 400, "invalid-input")


@case("http framing: a line folded onto Content-Length or Transfer-Encoding, or folded into "
      "what looks like another field, is 400 and closes the connection")
def t_obs_fold(ctx):
    cx = ctx.custos()
    cx.ok("init")
    body = b"{}" + SMUGGLED
    with Server(cx) as srv:
        refused(srv.port, "fold onto Content-Length",
                post(b"Content-Length: 2\r\n 0\r\n", body), 400, "invalid-input")
        refused(srv.port, "fold onto Transfer-Encoding",
                post(b"Transfer-Encoding: gzip\r\n chunked\r\n", b"0\r\n\r\n" + SMUGGLED), 400,
                "invalid-input")
        refused(srv.port, "fold carrying a Content-Length",
                post(b"X-Note: a\r\n Content-Length: 40\r\nContent-Length: 2\r\n", body), 400,
                "invalid-input")


@case("http framing: two Host fields, or none in HTTP/1.1, and a bare CR inside a field are "
      "400; bare LF line ends are accepted as RFC 9112 allows")
def t_host_and_line_ends(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx) as srv:
        refused(srv.port, "two Host fields",
                b"GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n" + SMUGGLED,
                400, "invalid-input")
        refused(srv.port, "no Host in HTTP/1.1", b"GET /healthz HTTP/1.1\r\n\r\n" + SMUGGLED, 400)
        refused(srv.port, "bare CR inside a field",
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\rX-Smuggle: 1\r\n\r\n", 400,
                "invalid-input")
        refused(srv.port, "bare CR in the request line",
                b"GET /healthz HTTP/1.1\rX\r\nHost: 127.0.0.1\r\n\r\n", 400)
        # bare LF throughout: one request, answered
        buf, _, _ = converse(srv.port, b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n"
                                       b"Connection: close\n\n", wait=3)
        eq(status_of(buf), 200, "bare LF line ends")
        check(HEALTHY in buf, "no health answer", buf[:400])


@case("http framing: sound framing still works: a chunked body, and two pipelined requests on "
      "one connection each get their own answer")
def t_sound_framing(ctx):
    cx = ctx.custos()
    cx.ok("init")
    with Server(cx) as srv:
        body = json.dumps({"username": "nobody.here", "password": "x" * 20}).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        buf, _, _ = converse(srv.port, post(b"Transfer-Encoding: chunked\r\n"
                                            b"Connection: close\r\n", chunked), wait=5)
        eq(status_of(buf), 401, "a chunked sign-in with an unknown user")
        eq(problem_of(buf)["type"], PROBLEM_PREFIX + "unauthenticated", "chunked sign-in problem")
        two = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
               b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        buf, closed, _ = converse(srv.port, two, wait=5)
        eq(buf.count(HEALTHY), 2, "answers to two pipelined requests")
        check(closed, "Connection: close was not honoured")
