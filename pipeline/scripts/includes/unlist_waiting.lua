--[[
  unlist_waiting(wait_key, prio_key, limited_key, job_id, priority): takes a
  waiting job off whichever structure holds it (parked by a rate limit,
  prioritized, or the plain list).
]]
--- @include "drop_prioritized"
local function unlist_waiting(wait_key, prio_key, limited_key, job_id, priority)
  if redis.call("ZREM", limited_key, job_id) == 1 then
    return
  elseif priority > 0 then
    drop_prioritized(prio_key, job_id)
  else
    redis.call("LREM", wait_key, 1, job_id)
  end
end
