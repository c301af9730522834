#!/usr/bin/env python3
"""End-to-end tests for custos: drive the real binary as a user would.

    python3 tests/e2e/run.py --binary build-asan/custos [--filter WORD] [--verbose]

Prints TAP: "1..N", then "ok N - ..." or "not ok N - ..." with "# ..."
diagnostics. Exit status 0 only if every case passed. Every case runs in its
own temporary store directory; nothing touches ./var.
"""

import argparse
import os
import shutil
import sys
import time
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Custos, Fail, TempDirs  # noqa: E402
import cases_basic  # noqa: E402
import cases_security  # noqa: E402
import cases_input  # noqa: E402
import cases_audit  # noqa: E402
import cases_http_authz  # noqa: E402
import cases_http_input  # noqa: E402
import cases_http_session  # noqa: E402
import cases_http_misc  # noqa: E402
import cases_openapi  # noqa: E402
import cases_http_edges  # noqa: E402
import cases_policy  # noqa: E402
import cases_http_policy  # noqa: E402
import cases_http_requests  # noqa: E402
import cases_erasure  # noqa: E402
import cases_sar  # noqa: E402
import cases_trail  # noqa: E402
import cases_http_framing  # noqa: E402
import cases_http_slow  # noqa: E402
import cases_http_pseudonym  # noqa: E402
import cases_http_breakglass  # noqa: E402
import cases_rotate  # noqa: E402
import cases_items_page  # noqa: E402
import cases_rows_subjects  # noqa: E402
import cases_rows_staff  # noqa: E402
import cases_deploy  # noqa: E402
import cases_logs  # noqa: E402
import cases_disk_full  # noqa: E402
import cases_defects  # noqa: E402
import cases_faults  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True, help="path to the custos binary")
    ap.add_argument("--filter", default="", help="run only cases whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="print timings per case")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("1..0 # SKIP no executable binary at %s" % binary)
        print("# custos binary not found: %s" % binary, file=sys.stderr)
        return 2

    cases = []
    for mod in (cases_basic, cases_security, cases_input, cases_audit,
                cases_http_authz, cases_http_input, cases_http_session,
                cases_http_misc, cases_openapi,
                cases_http_edges, cases_policy, cases_http_policy, cases_http_requests,
                cases_erasure, cases_sar,
                cases_trail,
                cases_http_framing,
                cases_http_slow,
                cases_http_pseudonym,
                cases_http_breakglass,
                cases_rotate,
                cases_items_page,
                cases_rows_subjects,
                cases_rows_staff,
                cases_deploy,
                cases_logs,
                cases_disk_full,
                cases_defects,
                cases_faults):
        cases.extend(mod.CASES)
    if args.filter:
        cases = [c for c in cases if args.filter in c[0]]

    print("1..%d" % len(cases))
    sys.stdout.flush()
    failed = 0
    t_all = time.monotonic()
    calls = 0
    for n, (name, fn) in enumerate(cases, 1):
        tmp = TempDirs()
        ctx = Context(binary, tmp)
        t0 = time.monotonic()
        diag = None
        try:
            fn(ctx)
        except Fail as e:
            diag = str(e)
        except Exception:  # a bug in the test or an unexpected crash: still a failure
            diag = "unexpected exception:\n" + traceback.format_exc()
        finally:
            calls += ctx.calls()
            tmp.cleanup()
        dt = time.monotonic() - t0
        if diag is None:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in diag.rstrip().split("\n"):
                print("# " + line)
        if args.verbose:
            print("# %.2fs" % dt)
        sys.stdout.flush()
    total = time.monotonic() - t_all
    print("# %d of %d cases passed; %d custos runs in %.1fs" % (
        len(cases) - failed, len(cases), calls, total))
    return 1 if failed else 0


class Context:
    """What a case gets: fresh temporary directories and custos instances."""

    def __init__(self, binary, tmp):
        self.binary = binary
        self.tmp = tmp
        self._instances = []

    def custos(self, store=None, key_file=None, use_env_store=False):
        if store is None:
            store = os.path.join(self.tmp.make(), "store")
        cx = Custos(self.binary, store, key_file=key_file, use_env_store=use_env_store)
        self._instances.append(cx)
        return cx

    def copy_store(self, template, key_file=None):
        """A copy of a template store in a fresh directory (modes kept)."""
        dst = os.path.join(self.tmp.make(), "store")
        shutil.copytree(template.store, dst)
        return self.custos(dst, key_file=key_file)

    def calls(self):
        return sum(cx.calls for cx in self._instances)


if __name__ == "__main__":
    sys.exit(main())
