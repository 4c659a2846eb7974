--[[
  read_record(job_key, as_stored) -> kind, state, priority, message, stored
  A job record, whatever its encoding: the one place that reads them all.
  - kind "string": a pending job (see pending_value): state "waiting" or "delayed", its
    priority and message; the message is nil when the string is not in the pending format.
  - kind "hash": a job a worker has taken: its state, priority and msg fields (the
    message is nil when it has none).
  - kind "none": no record.  Any other kind is another Redis type: not a job (no state,
    no message).
  priority is a number (0: none).  With as_stored, stored is the record as Redis holds
  it: a string's text, or a hash's fields and values (as HGETALL gives them).
  One command for a pending string or no record, two for a hash (GET first: the usual
  record on the hot path is a pending string).
]]
--- @include "parse_pending"
local function read_record(job_key, as_stored)
  local value = redis.pcall("GET", job_key)
  if type(value) == "string" then
    local letter, prio, msg = parse_pending(value)
    return "string", (letter == "d") and "delayed" or "waiting", prio, msg, value
  elseif value == false then
    return "none", nil, 0, nil, nil
  end
  -- Not a string: a hash answers, any other type refuses (and TYPE names it).
  local fields
  if as_stored then
    fields = redis.pcall("HGETALL", job_key)
  else
    fields = redis.pcall("HMGET", job_key, "state", "priority", "msg")
  end
  if fields.err then
    return redis.call("TYPE", job_key)["ok"], nil, 0, nil, nil
  end
  if not as_stored then
    return "hash", fields[1] or nil, tonumber(fields[2]) or 0, fields[3] or nil, nil
  end
  local named = {}
  for i = 1, #fields, 2 do named[fields[i]] = fields[i + 1] end
  return "hash", named["state"], tonumber(named["priority"]) or 0, named["msg"], fields
end
