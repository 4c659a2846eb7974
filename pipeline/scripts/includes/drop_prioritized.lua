--[[
  drop_prioritized(prio_key, job_id) -> 1 when the job was in the prioritized set,
  else 0; removes it from the set and from its aging record (see push_waiting).
]]
--- @include "keys"
local function drop_prioritized(prio_key, job_id)
  redis.call("ZREM", prio_key .. KEY_PRIORITY_AGE, job_id)
  return redis.call("ZREM", prio_key, job_id)
end
