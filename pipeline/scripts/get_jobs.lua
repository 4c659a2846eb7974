--[[
  get_jobs: read job records, whatever their encoding (pending string or hash).

  KEYS[1..] the job keys (all in the queue's slot)
  ARGV: none

  Returns: per job one entry: {} when missing, else a flat list of
  field, value pairs (a pending job gives msg, state and priority).
]]
--- @include "pending_record"

local out = {}
for i = 1, #KEYS do
  local job_key = KEYS[i]
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind == "string" then
    local letter, prio, msg = parse_pending(redis.call("GET", job_key))
    local state = (letter == "d") and "delayed" or "waiting"
    out[#out + 1] = {"msg", msg, "state", state, "priority", tostring(prio)}
  elseif kind == "hash" then
    out[#out + 1] = redis.call("HGETALL", job_key)
  else
    out[#out + 1] = {}
  end
end
return out
