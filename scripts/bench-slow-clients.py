#!/usr/bin/env python3
"""Slow-client benchmark: a normal client's latency against `custos serve`,
first alone, then while slow clients hold connections from five loopback
addresses (each sends a request line, then one header line every INTERVAL
seconds, and reopens as soon as the server closes it).

    scripts/bench-slow-clients.py BUILD_DIR [SECONDS] [PER_SOURCE] [INTERVAL]

Defaults: 20 s of timing in each phase, 220 connections per address (1,100 in
all), a header line every 5 s, and the server's default limits. Prints the
normal client's requests, failures and p50/p90/p99/max latency (ms; GET
/healthz, each on a fresh connection) for both phases, and what the slow
connections saw. The store lives in a scratch directory, removed afterwards."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.dont_write_bytecode = True
import slow_clients  # noqa: E402


def report(name, lat, failures):
    p = lambda q: slow_clients.percentile(lat, q)  # noqa: E731
    print("%-14s requests %5d  failures %4d  p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms" %
          (name, len(lat), len(failures), p(50), p(90), p(99), lat[-1] if lat else float("nan")))
    if failures:
        print("  first failures: %s" % failures[:3])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[4])
    custos = os.path.join(os.path.abspath(sys.argv[1]), "custos")
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    per_source = int(sys.argv[3]) if len(sys.argv) > 3 else 220
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
    sources = ["127.0.0.%d" % i for i in range(2, 7)]
    tmp = tempfile.mkdtemp(prefix="custos-bench-slow.")
    env = dict(os.environ, CUSTOS_STORE=os.path.join(tmp, "store"))
    srv = None
    try:
        subprocess.run([custos, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        srv = subprocess.Popen([custos, "serve", "--listen", "127.0.0.1:0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = srv.stdout.readline().decode().strip()
        port = int(line.rsplit(":", 1)[1])
        print("custos serve on port %d; %d slow connections from %d addresses, a header "
              "line every %g s; %g s of timing per phase" %
              (port, per_source * len(sources), len(sources), interval, secs))
        lat, failures = slow_clients.latencies(port, secs)
        report("no attack", lat, failures)
        warmup = 5.0
        proc = slow_clients.start_attack(port, warmup + secs + 1, sources, per_source, interval)
        time.sleep(warmup)
        lat, failures = slow_clients.latencies(port, secs)
        summary = slow_clients.finish_attack(proc, warmup + secs + 60)
        report("under attack", lat, failures)
        print("slow connections: %(timed_out)d answered 408 (closed %(lived_min).2f-"
              "%(lived_max).2f s after connecting), %(refused)d refused at accept, "
              "%(open_at_end)d open when the attack ended, %(n_other)d otherwise" %
              dict(summary, n_other=len(summary["other"]), lived_min=summary["lived_min"] or 0,
                   lived_max=summary["lived_max"] or 0))
    finally:
        if srv is not None:
            srv.send_signal(signal.SIGTERM)
            srv.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
