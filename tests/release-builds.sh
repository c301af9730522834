#!/usr/bin/env bash
# Compiles the custos binary in the configurations it is released in, with
# warnings as errors, and prints one TAP line per configuration (the build's
# last lines as diagnostics under a failure). Nothing is run: the test builds
# run the tests; these catch what only an optimising build warns about.
#   tests/release-builds.sh DIR
# DIR holds one meson build directory per configuration (made on first use,
# reused after; ninja reconfigures it when meson.build changes):
#   DIR/release  meson --buildtype=release (-O3)
#   DIR/dpkg     --buildtype=plain with Debian's packaging flags
#                (dpkg-buildflags, hardening=+all: -O2 -D_FORTIFY_SOURCE=2
#                -fstack-protector-strong -Werror=format-security, relro, now)
# Each released binary must also hold none of the test builds' hooks: no fault
# injection at the store (-Dfault_injection, off by default), so its message
# and its environment variable are nowhere in it.
set -u
dir=${1:?usage: tests/release-builds.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

configs=(release dpkg)
echo "1..$((2 * ${#configs[@]}))"
n=0
failed=0
for cfg in "${configs[@]}"; do
  n=$((n + 1))
  b="$dir/$cfg"
  log="$dir/$cfg.log"
  : >"$log"
  ok=1
  if [ ! -f "$b/build.ninja" ]; then
    rm -rf "$b"
    case $cfg in
      release)
        meson setup "$b" "$root" --buildtype=release --werror >>"$log" 2>&1 || ok=0
        ;;
      dpkg)
        if ! command -v dpkg-buildflags >/dev/null; then
          echo "dpkg-buildflags not found (package dpkg-dev)" >>"$log"
          ok=0
        else
          export DEB_BUILD_MAINT_OPTIONS=hardening=+all
          CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
          LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
            meson setup "$b" "$root" --buildtype=plain --werror >>"$log" 2>&1 || ok=0
        fi
        ;;
    esac
  fi
  if [ "$ok" -eq 1 ]; then
    ninja -C "$b" custos >>"$log" 2>&1 || ok=0
  fi
  if [ "$ok" -eq 1 ]; then
    echo "ok $n - $cfg build compiles with --werror"
  else
    failed=$((failed + 1))
    echo "not ok $n - $cfg build compiles with --werror"
    grep -E 'error|warning' "$log" | head -20 | sed 's/^/# /'
    tail -5 "$log" | sed 's/^/# /'
  fi
  n=$((n + 1))
  if [ "$ok" -eq 1 ] && [ -f "$b/custos" ] &&
     ! grep -a -q -e 'injected fault' -e 'CUSTOS_FAULT_AT' "$b/custos"; then
    echo "ok $n - $cfg build has no fault injection compiled in"
  else
    failed=$((failed + 1))
    echo "not ok $n - $cfg build has no fault injection compiled in"
  fi
done
[ "$failed" -eq 0 ]
