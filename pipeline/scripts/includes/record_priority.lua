--[[
  record_priority(job_key) -> priority (number) of a job, whatever its encoding.
]]
--- @include "parse_pending"
local function record_priority(job_key)
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind == "string" then
    local _, prio = parse_pending(redis.call("GET", job_key))
    return prio
  elseif kind == "hash" then
    return tonumber(redis.call("HGET", job_key, "priority")) or 0
  end
  return 0
end
