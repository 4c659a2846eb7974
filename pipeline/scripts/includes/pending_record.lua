--[[
  A pending job that no worker has taken yet is stored as one compact string:
  a state letter ("w" waiting, "d" delayed), its priority digits when it has
  one, then the encoded Dramatiq message.  A JSON message starts with "{";
  a message of another encoder (any bytes, e.g. pickle) is preceded by ":",
  so a leading digit of it is never read as priority.  Once a worker takes
  it, the record becomes a hash (see to_hash).

  pending_value(letter, prio_tag, msg) -> the string to store.
  parse_pending(value) -> state letter, priority (number), message
]]
local function pending_value(letter, prio_tag, msg)
  if string.byte(msg, 1) == 123 then return letter .. prio_tag .. msg end
  return letter .. prio_tag .. ":" .. msg
end

local function parse_pending(value)
  local state, prio, msg = string.match(value, "^(%a)(%d*)(.*)$")
  if msg and string.byte(msg, 1) == 58 then msg = string.sub(msg, 2) end
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
