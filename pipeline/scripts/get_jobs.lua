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
--- @include "read_record"
--- @include "unreadable_reason"

local out = {}
for i = 1, #KEYS do
  local kind, state, prio, msg, stored = read_record(KEYS[i], true)
  if kind == "string" then
    if msg then
      out[#out + 1] = {"msg", msg, "state", state, "priority", tostring(prio)}
    else
      out[#out + 1] = {"msg", stored, "state", state, "unreadable", unreadable_reason(kind)}
    end
  elseif kind == "hash" then
    out[#out + 1] = stored
  elseif kind ~= "none" then
    local reason = unreadable_reason(kind)
    out[#out + 1] = {"msg", "", "state", "failed", "failed_reason", reason, "unreadable", reason}
  else
    out[#out + 1] = {}
  end
end
return out
