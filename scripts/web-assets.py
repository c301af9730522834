#!/usr/bin/env python3
"""Fetches the NHS.UK frontend pinned in web/package-lock.json and lays out
the directory custos serves under /assets/<version>/ (docs/design.md, Pages).

    web-assets.py WEB_DIR OUT_DIR

`npm ci --ignore-scripts` installs exactly the locked version into
OUT_DIR.npm (beside OUT_DIR, in the build directory), checking the
tarball against the sha512 in the lock file: a tarball that does not match
fails the build. No package script runs. Then the compiled stylesheet and
script, the favicons, icons and logos, and the licence are copied into
OUT_DIR, with a file VERSION naming the version (custos refuses an asset
directory of another version). OUT_DIR is replaced whole, by a rename, so
an interrupted run leaves the previous directory or none.

Prints one line and exits 1 on any failure (npm missing, no network and no
cached tarball, integrity mismatch, a file missing from the package).
"""

import json
import os
import shutil
import subprocess
import sys

PACKAGE = "nhsuk-frontend"
# What custos serves, from the package: (source, destination) relative paths.
FILES = [("dist/nhsuk.min.css", "nhsuk.min.css"),
         ("dist/nhsuk.min.js", "nhsuk.min.js"),
         ("LICENSE", "LICENSE")]
DIRS = [("packages/assets/favicons", "favicons"),
        ("packages/assets/icons", "icons"),
        ("packages/assets/logos", "logos")]


def fail(msg):
    print("web-assets: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        fail("usage: web-assets.py WEB_DIR OUT_DIR")
    web, out = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(os.path.join(web, "package-lock.json")) as f:
        lock = json.load(f)
    entry = lock.get("packages", {}).get("node_modules/" + PACKAGE, {})
    version, integrity = entry.get("version"), entry.get("integrity", "")
    if not version or not integrity.startswith("sha512-"):
        fail("web/package-lock.json does not pin %s with a sha512 integrity" % PACKAGE)
    npm = shutil.which("npm")
    if not npm:
        fail("npm is not installed (apt-get install nodejs npm; `make` does it)")
    work = out + ".npm"
    os.makedirs(work, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(web, name), os.path.join(work, name))
    cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline",
           "--loglevel=error"]
    r = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        fail("npm ci failed for %s@%s:\n%s" % (PACKAGE, version, r.stdout.strip()))
    pkg = os.path.join(work, "node_modules", PACKAGE)
    with open(os.path.join(pkg, "package.json")) as f:
        got = json.load(f).get("version")
    if got != version:
        fail("npm installed %s@%s, the lock file pins %s" % (PACKAGE, got, version))
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for src, dst in FILES:
        p = os.path.join(pkg, src)
        if not os.path.isfile(p):
            fail("%s@%s has no %s" % (PACKAGE, version, src))
        shutil.copyfile(p, os.path.join(tmp, dst))
    for src, dst in DIRS:
        p = os.path.join(pkg, src)
        if not os.path.isdir(p):
            fail("%s@%s has no %s" % (PACKAGE, version, src))
        os.makedirs(os.path.join(tmp, dst))
        for name in sorted(os.listdir(p)):
            if os.path.isfile(os.path.join(p, name)):
                shutil.copyfile(os.path.join(p, name), os.path.join(tmp, dst, name))
    with open(os.path.join(tmp, "VERSION"), "w") as f:
        f.write(version + "\n")
    old = out + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(out):
        os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    main()
