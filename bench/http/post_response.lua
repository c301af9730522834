-- wrk script: a clinician enters a PHQ-9 for a patient (JSON
-- QuestionnaireResponse: parse, score, encrypt, raise the item-9 task, audit,
-- durable commit). Environment: CUSTOS_TOKEN, CUSTOS_SUBJECT.
wrk.method = "POST"
wrk.path = "/v1/subjects/" .. os.getenv("CUSTOS_SUBJECT") .. "/questionnaire-responses"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CUSTOS_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Custos-Purpose"] = "questionnaires"
local levels = {"LA6569-3", "LA6570-1", "LA6569-3", "LA6568-5", "LA6569-3", "LA6568-5",
                "LA6570-1", "LA6568-5", "LA6569-3"}
local items = {}
for i, v in ipairs(levels) do
  items[#items + 1] = '{"linkId": "phq9-' .. i .. '", "answer": [{"valueCoding": ' ..
                      '{"system": "http://loinc.org", "code": "' .. v .. '"}}]}'
end
wrk.body = '{"resourceType": "QuestionnaireResponse", ' ..
           '"questionnaire": "urn:custos:questionnaire:phq-9|1", "status": "completed", ' ..
           '"item": [' .. table.concat(items, ", ") .. ']}'
