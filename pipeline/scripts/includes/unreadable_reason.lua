--[[
  unreadable_reason(kind) -> why a job record of Redis type `kind` whose
  message could not be read cannot be run (see fail_unreadable).
]]
local function unreadable_reason(kind)
  if kind == "string" then return "unreadable job record: not in the pending job format" end
  if kind == "hash" then return "unreadable job record: it has no message" end
  return "unreadable job record: a Redis " .. kind .. ", not a job"
end
