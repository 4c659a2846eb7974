--[[
  mark_waiting(job_key, kind): a delayed job's record says it waits, in its encoding
  (kind, see read_record): a pending string's state letter (see pending_value), any
  other record's state field.
]]
local function mark_waiting(job_key, kind)
  if kind == "string" then
    redis.call("SETRANGE", job_key, 0, "w")
  else
    redis.call("HSET", job_key, "state", "waiting")
  end
end
