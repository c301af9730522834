#!/bin/bash
# Installs the npm packages the browser tests use (tests/browser/package.json:
# axe-core, and puppeteer-core, which drives Debian's chromium and never
# fetches a browser of its own; versions and sha512 checksums pinned in its
# package-lock.json) into
# BUILD_DIR/browser, never into the source tree. `npm ci` refuses a package
# whose checksum differs from the lock file's.
#   scripts/browser-deps.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: scripts/browser-deps.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$build/browser
mkdir -p "$dest"
if cmp -s "$root/tests/browser/package-lock.json" "$dest/package-lock.json" &&
   [ -f "$dest/node_modules/axe-core/axe.min.js" ] &&
   [ -f "$dest/node_modules/puppeteer-core/package.json" ]; then
  exit 0
fi
cp "$root/tests/browser/package.json" "$root/tests/browser/package-lock.json" "$dest/"
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
test -f "$dest/node_modules/axe-core/axe.min.js"
test -f "$dest/node_modules/puppeteer-core/package.json"
