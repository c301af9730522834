#!/usr/bin/env bash
# Creates a demo store (once) with two demo controllers, each under one of the
# shipped policies (profiles/), and synthetic subjects.
#   scripts/demo-store.sh PATH/TO/custos STORE_DIR
# Every value is invented; every NHS number is from the 999 test range.
set -euo pipefail
umask 077
custos=${1:?custos binary}
store=${2:?store directory}
export CUSTOS_STORE=$store

# A SQLite store is its file; a store in PostgreSQL (CUSTOS_DATABASE) exists
# once init has written its key beside the directory's configuration.
if [ -f "$store/custos.db" ] || { [ -n "${CUSTOS_DATABASE:-}" ] && [ -f "$store/master.key" ]; }; then
  echo "demo store already exists in $store"
  exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
"$custos" init
ctl=$("$custos" controller add --name "THERAPYAUDIT Limited (demo)" \
  --policy "$root/profiles/therapyaudit.json")
web=$("$custos" controller add --name "healthya (demo)" \
  --policy "$root/profiles/healthya.json")

# Every use of personal data names a purpose of the controller's policy.
add() { "$custos" --purpose "$3" subject add --controller "$1" --kind "$2"; }

ada=$(add "$ctl" patient direct_care <<'JSON'
{"name": "Ada Testpatient", "birth_date": "1961-04-12", "nhs_number": "999 000 0018",
 "email": "ada.testpatient@example.org", "phone": "01632 960001",
 "address": "1 Example Road, Exampleton", "postcode": "EX1 1AA",
 "source": "nhs_organisation",
 "items": [
   {"category": "health", "field": "diagnosis", "value": "Breast cancer, completed treatment 2024",
    "collected_at": "2024-09-30"},
   {"category": "health", "field": "follow_up_pathway", "value": "Personalised stratified follow-up"},
   {"category": "family", "field": "next_of_kin", "value": "Partner: Sam Testpatient"}
 ]}
JSON
)

bram=$(add "$ctl" patient direct_care <<'JSON'
{"name": "Bram Sample", "birth_date": "1984-11-02", "nhs_number": "999 000 0026",
 "email": "bram.sample@example.org", "source": "subject",
 "items": [
   {"category": "health", "field": "phq9_total", "value": "12", "collected_at": "2026-10-01"},
   {"category": "health", "field": "gad7_total", "value": "9", "collected_at": "2026-10-01"},
   {"category": "special_category", "field": "religion", "value": "Prefers not to say"}
 ]}
JSON
)

add "$ctl" patient direct_care >/dev/null <<'JSON'
{"name": "Cleo Example", "birth_date": "2011-06-20", "nhs_number": "999 000 0034",
 "source": "nhs_organisation",
 "items": [
   {"category": "health", "field": "referral_reason", "value": "Anxiety, school refusal"},
   {"category": "family", "field": "parent_contact", "value": "Parent: Dana Example, 01632 960002"}
 ]}
JSON

eli=$(add "$web" web_user service_contract <<'JSON'
{"email": "enquiry.visitor@example.net", "name": "Eli Visitor",
 "items": [
   {"category": "online_identifier", "field": "ip_address", "value": "192.0.2.44"},
   {"category": "contact", "field": "enquiry", "value": "Please send information about the service"}
 ]}
JSON
)
"$custos" consent give "$eli" newsletters --method web_form \
  --evidence "newsletter sign-up form, demo" >/dev/null

add "$web" employee employment >/dev/null <<'JSON'
{"name": "Fay Staffmember", "email": "fay.staffmember@example.com", "source": "subject",
 "items": [
   {"category": "workplace_education_financial", "field": "job_title", "value": "Clinical analyst"},
   {"category": "workplace_education_financial", "field": "ig_training_completed", "value": "2026-03-01"}
 ]}
JSON

# Demo staff of the trust, one per role. The password is for this demo store
# only; real accounts get their own (custos user add reads it from stdin).
pw=demo-password-2026
for u in clinician:clinician nurse:clinician reception:care_admin analyst:analyst \
         auditor:auditor; do
  echo "$pw" | "$custos" user add --controller "$ctl" --username "${u%%:*}" \
    --roles "${u##*:}" >/dev/null
done
echo "$pw" | "$custos" user add --controller "$ctl" --username dpo --roles dpo \
  > "$store/demo-dpo-totp.txt"
"$custos" care add --user clinician --subject "$ada" >/dev/null
"$custos" care add --user clinician --subject "$bram" >/dev/null

# The shipped questionnaires and the example follow-up pathway; Ada is on it,
# her treatment having ended 30 days ago, so her first questionnaire is due.
for q in phq-9 gad-7 psfu-example; do
  "$custos" questionnaire add "$root/questionnaires/$q.json" >/dev/null
done
"$custos" pathway add "$root/pathways/psfu-example.json" >/dev/null
"$custos" --purpose questionnaires pathway enrol "$ada" psfu-example \
  --start "$(date -u -d '30 days ago' +%Y-%m-%d)" >/dev/null

echo "demo store created in $store (synthetic data; NHS numbers from the 999 test range)"
