--[[
  inbox_entry(job_id, token, attempts, msg) -> "<token> <attempts> <id length> <id><message>":
  a job handed to an idle consumer's inbox (see register_idle, parse_inbox_entry).
]]
local function inbox_entry(job_id, token, attempts, msg)
  return tostring(token) .. " " .. tostring(attempts) .. " " .. #job_id .. " " .. job_id .. msg
end
