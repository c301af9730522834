-- wrk script: answer PHQ-9 through its links as a browser posts the form
-- (parse, score, encrypt, raise the item-9 task, audit, durable commit), each
-- token once. Tokens come from CUSTOS_TOKENS.N (issue_links.lua); a thread
-- that runs out stops, and the script's caller reports it.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("CUSTOS_TOKENS") .. "." .. id) do
    tokens[#tokens + 1] = line
  end
  n = 0
end

local levels = {"LA6569-3", "LA6570-1", "LA6569-3", "LA6568-5", "LA6569-3", "LA6568-5",
                "LA6570-1", "LA6568-5", "LA6569-3"}
local fields = {}
for i, v in ipairs(levels) do fields[#fields + 1] = "a.phq9-" .. i .. "=" .. v end
local body = table.concat(fields, "&")
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}

function request()
  n = n + 1
  if n > #tokens then
    wrk.thread:stop()
    n = #tokens
  end
  return wrk.format("POST", "/q/" .. tokens[n], headers, body)
end
