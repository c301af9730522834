-- wrk script: make questionnaire links (an audited write each) and keep their
-- tokens, one file per wrk thread (CUSTOS_TOKENS.N), for submit_form.lua.
-- Environment: CUSTOS_TOKEN, CUSTOS_SUBJECT, CUSTOS_TOKENS.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  out = io.open(os.getenv("CUSTOS_TOKENS") .. "." .. id, "w")
  out:setvbuf("line")
end

wrk.method = "POST"
wrk.path = "/v1/subjects/" .. os.getenv("CUSTOS_SUBJECT") .. "/questionnaire-links"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CUSTOS_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Custos-Purpose"] = "questionnaires"
wrk.body = '{"questionnaire": "urn:custos:questionnaire:phq-9", "purpose": "questionnaires"}'

function response(status, headers, body)
  if status == 201 then
    local t = body:match('"token"%s*:%s*"(cuq_[A-Za-z0-9_-]+)"')
    if t then out:write(t, "\n") end
  end
end
