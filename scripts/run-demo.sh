#!/usr/bin/env bash
# What `make run` runs: the demo store, a tour, then the HTTP API in the
# foreground (Ctrl-C stops it cleanly).
#   scripts/run-demo.sh PATH/TO/custos STORE_DIR LISTEN
set -euo pipefail
custos=${1:?custos binary}
store=${2:?store directory}
listen=${3:-127.0.0.1:8080}
export CUSTOS_STORE=$store

scripts/demo-store.sh "$custos" "$store"
"$custos" --purpose direct_care status --tour
subject=$("$custos" --purpose direct_care subject find --nhs-number 9990000018 2>/dev/null \
  | head -n 1 || true)
ctl=$("$custos" controller list | head -n 1 | cut -d' ' -f1)
# The demo DPO's one-time code secret: printed for this demo store only (a real
# account's secret is shown once, to its owner, by custos user add).
dpo_secret=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$store/demo-dpo-totp.txt" | head -n 1)
url="http://$listen"
# A PHQ-9 for Ada to answer in a browser: single use, no sign-in.
qlink=$("$custos" --purpose questionnaires questionnaire send "$subject" \
  urn:custos:questionnaire:phq-9 --public-url "$url" | head -n 1)
cat <<TXT

The HTTP API (docs/api.md, docs/openapi.yaml) is starting on $url
Demo staff (password demo-password-2026): clinician, nurse, reception (care_admin),
analyst, auditor, and dpo, which also needs a one-time code. The demo DPO's secret
is $dpo_secret (demo store only; also in $store/demo-dpo-totp.txt);
make a current code with: oathtool --totp -b $dpo_secret

  TOKEN=\$(curl -s -X POST $url/v1/sessions -H 'Content-Type: application/json' \\
      -d '{"username": "clinician", "password": "demo-password-2026"}' \\
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  curl -s $url/v1/subjects/$subject -H "Authorization: Bearer \$TOKEN"
  curl -s $url/v1/subjects/$subject/access-log -H "Authorization: Bearer \$TOKEN"
  curl -s $url/v1/subjects/$subject -H "Authorization: Bearer \$TOKEN" \\
      -H 'Custos-Purpose: service_marketing'      # refused: not a purpose for patients
  curl -s $url/metrics
  DPO=\$(curl -s -X POST $url/v1/sessions -H 'Content-Type: application/json' \\
      -d "{\\"username\\": \\"dpo\\", \\"password\\": \\"demo-password-2026\\", \\"code\\": \\"\$(oathtool --totp -b $dpo_secret)\\"}" \\
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  curl -s "$url/v1/audit?subject=$subject&limit=5" -H "Authorization: Bearer \$DPO"

The privacy notice generated from the policy (no sign-in): $url/v1/controllers/$ctl/notice

A PHQ-9 sent to Ada Testpatient, to answer in a browser (no sign-in; the link
works once; answering item 9 above "Not at all" raises an urgent task):
  $qlink
then sign in to the staff console as clinician (password demo-password-2026) to
see the task it raised and Ada's record: $url/staff/sign-in
or, as the operator:
  build/custos --store $store tasks list --controller $ctl
  build/custos --store $store --purpose questionnaires questionnaire responses $subject

Ctrl-C (or SIGTERM) finishes requests in flight and stops the server.
TXT
exec "$custos" serve --listen "$listen"
