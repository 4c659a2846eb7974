--[[
  read_job(job_key) -> kind ("string" pending / "hash" / "none"), message, pending priority.
]]
--- @include "parse_pending"
local function read_job(job_key)
  -- GET first: a pending string (the usual case) then costs one command, not TYPE and GET.
  local value = redis.pcall("GET", job_key)
  if type(value) == "string" then
    local _, prio, msg = parse_pending(value)
    return "string", msg, prio
  elseif value == false then
    return "none", nil, 0
  end
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind == "hash" then
    return kind, redis.call("HGET", job_key, "msg"), 0
  end
  return kind, nil, 0
end
