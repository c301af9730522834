-- wrk script: POST one health item to a subject (encrypt + audit + durable commit).
-- Environment: CUSTOS_TOKEN, CUSTOS_SUBJECT.
wrk.method = "POST"
wrk.path = "/v1/subjects/" .. os.getenv("CUSTOS_SUBJECT") .. "/items"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CUSTOS_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"items": [{"category": "health", "field": "phq9_total", "value": "12", ' ..
           '"source": "subject", "collected_at": "2026-11-01"}]}'
