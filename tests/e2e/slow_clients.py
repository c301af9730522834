"""Slow clients against `custos serve`: many connections from several loopback
addresses, each sending a request line and then one header line every few
seconds and never finishing its head, while a normal client on another address
times its requests. Used by cases_http_slow.py and scripts/bench-slow-clients.py.
Python 3 standard library only.

    python3 slow_clients.py attack PORT SECONDS SOURCES PER_SOURCE INTERVAL

runs the attack alone and prints a JSON summary of what each slow connection
saw (see Attack.summary)."""

import http.client
import json
import selectors
import socket
import subprocess
import sys
import time


class Attack:
    """One process holding up to PER_SOURCE slow connections from each source
    address for SECONDS, reopening every one the server closes."""

    def __init__(self, port, seconds, sources, per_source, interval):
        self.port, self.seconds, self.interval = port, seconds, interval
        self.sources, self.per_source = sources, per_source
        self.sel = selectors.DefaultSelector()
        self.conns = {}  # socket -> record
        self.done = []   # finished records
        self.peak = {s: 0 for s in sources}

    def open(self, source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((source, 0))
        rec = {"source": source, "t0": time.monotonic(), "data": b"", "lines": 0}
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            rec["end"], rec["error"] = time.monotonic(), "connect"
            self.done.append(rec)
            return
        self.conns[s] = rec
        self.sel.register(s, selectors.EVENT_READ)

    def close(self, s, why):
        rec = self.conns.pop(s)
        self.sel.unregister(s)
        s.close()
        rec["end"], rec["why"] = time.monotonic(), why
        self.done.append(rec)

    def dribble(self, s):
        rec = self.conns[s]
        line = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" if rec["lines"] == 0
                else b"X-Slow-%d: still coming\r\n" % rec["lines"])
        try:
            s.send(line)
            rec["lines"] += 1
        except BlockingIOError:
            pass
        except OSError:
            self.close(s, "send")

    def run(self):
        end = time.monotonic() + self.seconds
        next_tick = next_open = 0.0
        while time.monotonic() < end:
            now = time.monotonic()
            # keep PER_SOURCE connections per source, opening at most 20 per
            # source every 50 ms so that refusals do not make it spin
            if now >= next_open:
                for src in self.sources:
                    have = sum(1 for r in self.conns.values() if r["source"] == src)
                    for _ in range(min(20, self.per_source - have)):
                        self.open(src)
                next_open = now + 0.05
            if now >= next_tick:
                for s in list(self.conns):
                    self.dribble(s)
                next_tick = now + self.interval
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    b = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    self.close(s, "reset")
                    continue
                if not b:
                    self.close(s, "eof")
                else:
                    self.conns[s]["data"] += b
        for s in list(self.conns):
            self.close(s, "attack over")

    def summary(self):
        """timed_out: connections answered 408 then closed, with the seconds
        from connect to close (min, max); refused: closed with no answer
        within a second of connecting; other: anything else (answered
        otherwise, or closed late without an answer) besides those still open
        when the attack ended."""
        out = {"timed_out": 0, "refused": 0, "open_at_end": 0, "other": [],
               "lived_min": None, "lived_max": None}
        for r in self.done:
            lived = r["end"] - r["t0"]
            if r.get("why") == "attack over":
                out["open_at_end"] += 1
            elif r["data"].startswith(b"HTTP/1.1 408 ") and \
                    b"urn:custos:problem:request-timeout" in r["data"]:
                out["timed_out"] += 1
                out["lived_min"] = lived if out["lived_min"] is None else min(out["lived_min"], lived)
                out["lived_max"] = lived if out["lived_max"] is None else max(out["lived_max"], lived)
            elif not r["data"] and lived < 1.0:
                out["refused"] += 1
            else:
                out["other"].append({"lived": round(lived, 3), "why": r.get("why"),
                                     "data": r["data"][:200].decode("latin-1")})
        out["other"] = out["other"][:10]
        return out


def start_attack(port, seconds, sources, per_source, interval):
    """The attack in a process of its own (so the normal client's timings are
    not the attacker's); returns the Popen, whose stdout is the summary."""
    return subprocess.Popen([sys.executable, __file__, "attack", str(port), str(seconds),
                             ",".join(sources), str(per_source), str(interval)],
                            stdout=subprocess.PIPE)


def finish_attack(proc, timeout):
    out, _ = proc.communicate(timeout=timeout)
    return json.loads(out.decode())


def latencies(port, seconds, path="/healthz", source="127.0.0.1"):
    """A normal client: one request after another, each on a fresh
    connection, for SECONDS; returns (sorted latencies in ms, failures)."""
    lat, failures = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                           source_address=(source, 0))
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                failures.append("status %d" % r.status)
                continue
        except OSError as e:
            failures.append("%s: %s" % (type(e).__name__, e))
            continue
        lat.append((time.monotonic() - t) * 1000.0)
        time.sleep(0.005)
    lat.sort()
    return lat, failures


def percentile(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    i = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[i]


if __name__ == "__main__":
    if len(sys.argv) != 7 or sys.argv[1] != "attack":
        sys.exit("usage: slow_clients.py attack PORT SECONDS SOURCES PER_SOURCE INTERVAL")
    a = Attack(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(","),
               int(sys.argv[5]), float(sys.argv[6]))
    a.run()
    print(json.dumps(a.summary()))
