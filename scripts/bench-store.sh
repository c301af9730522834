# Sourced by the HTTP benchmarks (bench-http.sh, bench-heavy.sh): the store
# they share. With CUSTOS_STORE set, $custos the binary and $pw the password,
#   bench_store POLICY_FILE
# makes a store with one controller under POLICY_FILE ($ctl), a clinician
# "bench" and a normal subject on bench's care list ($reader): 8 top-level
# fields and 3 items.
bench_store() {
  "$custos" init >/dev/null
  ctl=$("$custos" controller add --name "Bench Trust" --policy "$1")
  echo "$pw" | "$custos" user add --controller "$ctl" --username bench --roles clinician >/dev/null
  reader=$("$custos" --purpose direct_care subject add --controller "$ctl" --kind patient <<'JSON'
{"name": "Bench Reader", "birth_date": "1970-01-31", "nhs_number": "999 000 0018",
 "email": "bench.reader@example.org", "phone": "01632 960000", "address": "1 Bench Road",
 "postcode": "EX1 1AA",
 "items": [{"category": "health", "field": "diagnosis", "value": "Breast cancer, in remission"},
           {"category": "health", "field": "phq9_total", "value": "7"},
           {"category": "family", "field": "next_of_kin", "value": "Partner"}]}
JSON
)
  "$custos" care add --user bench --subject "$reader" >/dev/null
}
