-- wrk script: a signed-in clinician's patient page in the staff console
-- (GET /staff/patients/{id} with the session cookie: authenticated,
-- decrypted, audited, rendered as HTML).
-- Environment: CUSTOS_COOKIE (the __Host-custos value), CUSTOS_SUBJECT.
wrk.method = "GET"
wrk.path = "/staff/patients/" .. os.getenv("CUSTOS_SUBJECT")
wrk.headers["Cookie"] = "__Host-custos=" .. os.getenv("CUSTOS_COOKIE")
