# custos — the two set-up commands live here: `make run` and `make test`.
# Both install missing Debian packages first (as root), so a fresh Debian 12
# machine needs nothing but this repository and make.

SHELL := /bin/bash
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
# `make test` also compiles the binary as it is released (tests/release-builds.sh).
BUILD_RELEASE ?= build-release
STORE      ?= $(CURDIR)/var
LISTEN     ?= 127.0.0.1:8080

# Debian packages the build, the tests and the demo need.
DEB_PKGS := gcc meson ninja-build pkg-config libsodium-dev libsqlite3-dev \
            libjansson-dev libcmocka-dev nettle-dev libmicrohttpd-dev python3 \
            libcurl4-openssl-dev openssl python3-jsonschema nodejs npm oathtool curl \
            chromium dpkg-dev nginx-light systemd postgresql-15 libpq-dev
# (nodejs and npm: the build fetches the NHS.UK frontend the pages use,
# web/package-lock.json, with `npm ci --ignore-scripts` into BUILD/assets;
# oathtool: one-time codes for the demo DPO; chromium: the access letter's
# phone and A4 checks; dpkg-dev: Debian's packaging flags for the release
# build test; nginx-light and systemd: the tests of deploy/, nginx -t and
# systemd-analyze verify; postgresql-15: the throw-away cluster make test
# starts on a port of its own (tests/pg/cluster.py), not the package's
# system cluster; libpq-dev: the PostgreSQL backend.)
# Extra packages for `make bench` (load generator and the nginx baseline).
BENCH_PKGS := wrk nginx-light curl
# Extra packages for `make fuzz` (libFuzzer ships with clang's runtime).
FUZZ_PKGS := clang libclang-rt-14-dev

.PHONY: all deps build run run-nodes test fuzz fuzz-deps bench clean

all: build

deps:
	@scripts/ensure-packages.sh $(DEB_PKGS)

build: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then meson setup $(BUILD) --buildtype=debugoptimized -Db_ndebug=false --werror >/dev/null; fi
	@ninja -C $(BUILD) >/dev/null
	@echo "built $(BUILD)/custos"

run: build
	@scripts/run-demo.sh $(BUILD)/custos $(STORE) $(LISTEN)

# The demo store in a throw-away PostgreSQL cluster, served by two nodes.
run-nodes: build
	@scripts/run-nodes-demo.sh $(BUILD)/custos $(STORE)-nodes $(LISTEN)

test: deps
	@if [ ! -f $(BUILD_ASAN)/build.ninja ]; then meson setup $(BUILD_ASAN) --buildtype=debug --werror -Db_sanitize=address,undefined -Db_lundef=false -Dtest_clock=true -Dfault_injection=true >/dev/null; fi
	@# A build directory made before the fault-injection option existed gets it.
	@meson introspect --buildoptions $(BUILD_ASAN) | python3 -c 'import json, sys; sys.exit(not any(o["name"] == "fault_injection" and o["value"] is True for o in json.load(sys.stdin)))' || meson setup --reconfigure $(BUILD_ASAN) --werror -Dfault_injection=true >/dev/null
	@ninja -C $(BUILD_ASAN) >/dev/null
	@scripts/fhir-schema.sh $(BUILD_ASAN)
	@scripts/browser-deps.sh $(BUILD_ASAN)
	@CUSTOS_RELEASE_BUILDS=$(BUILD_RELEASE) tests/run.sh $(BUILD_ASAN)

fuzz-deps:
	@scripts/ensure-packages.sh $(DEB_PKGS) $(FUZZ_PKGS)

# Coverage-guided fuzzing with libFuzzer: FUZZ_SECONDS per harness.
FUZZ_SECONDS ?= 60
fuzz: fuzz-deps
	@if [ ! -f $(BUILD_FUZZ)/build.ninja ]; then CC=clang meson setup $(BUILD_FUZZ) --buildtype=debug --werror -Dfuzzing=true -Db_lundef=false >/dev/null; fi
	@ninja -C $(BUILD_FUZZ) >/dev/null
	@scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

bench: build
	@scripts/ensure-packages.sh $(BENCH_PKGS)
	@scripts/bench.sh $(BUILD)
	@scripts/bench-http.sh $(BUILD) 10 64 3
	@scripts/bench-submit.sh $(BUILD) 10 64 3
	@scripts/bench-pages.sh $(BUILD) 10 64 3
	@scripts/bench-heavy.sh $(BUILD) 10 8 5000
	@scripts/bench-slow-clients.py $(BUILD) 20 220 5

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_RELEASE)
