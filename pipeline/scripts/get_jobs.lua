--[[
  get_jobs: read job records, whatever their encoding (pending string or hash).

  KEYS[1..] the job keys (all in the queue's slot)
  ARGV: none

  Returns: per job one entry: {} when missing, else a flat list of
  field, value pairs (a pending job gives msg, state and priority).  A record
  no worker could run is returned too, with an "unreadable" field saying why:
  a string not in the pending format (its text as msg, state waiting) or a
  key of another Redis type (state failed: a worker that meets it fails it).
]]
--- @include "parse_pending"

local out = {}
for i = 1, #KEYS do
  local job_key = KEYS[i]
  local kind = redis.call("TYPE", job_key)["ok"]
  if kind == "string" then
    local value = redis.call("GET", job_key)
    local letter, prio, msg = parse_pending(value)
    local state = (letter == "d") and "delayed" or "waiting"
    if msg then
      out[#out + 1] = {"msg", msg, "state", state, "priority", tostring(prio)}
    else
      out[#out + 1] = {"msg", value, "state", "waiting",
                       "unreadable", "unreadable job record: not in the pending job format"}
    end
  elseif kind == "hash" then
    out[#out + 1] = redis.call("HGETALL", job_key)
  elseif kind ~= "none" then
    local reason = "unreadable job record: a Redis " .. kind .. ", not a job"
    out[#out + 1] = {"msg", "", "state", "failed", "failed_reason", reason, "unreadable", reason}
  else
    out[#out + 1] = {}
  end
end
return out
