--[[
  A pending job that no worker has taken yet is stored as one compact string:
  a state letter ("w" waiting, "d" delayed), its priority digits when it has
  one, then the encoded Dramatiq message (which starts with "{").  Once a
  worker takes it, the record becomes a hash (see to_hash).

  parse_pending(value) -> state letter, priority (number), message
]]
local function parse_pending(value)
  local state, prio, msg = string.match(value, "^(%a)(%d*)({.*)$")
  return state, tonumber(prio) or 0, msg
end

--[[
  record_priority(job_key) -> priority (number) of a job, whatever its encoding.
]]
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
