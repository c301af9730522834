-- wrk script: GET one subject (authenticate + decrypt + audit + durable commit).
-- Environment: CUSTOS_TOKEN, CUSTOS_SUBJECT.
wrk.method = "GET"
wrk.path = "/v1/subjects/" .. os.getenv("CUSTOS_SUBJECT")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CUSTOS_TOKEN")
