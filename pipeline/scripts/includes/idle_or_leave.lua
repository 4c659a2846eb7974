--[[
  idle_or_leave(idle_key, member, ttl_ms, free, wait_key, prio_key) -> 1 when the consumer
  is now registered idle for `ttl_ms` (see register_idle), else 0: it leaves the idle set.
  It registers only with a lifetime (ttl_ms > 0), when `free` (it took nothing, from a
  queue that is not paused, rate limited or aging: fetch alone serves those) and when
  nothing waits, so that add hands it the next job directly.
]]
--- @include "register_idle"
local function idle_or_leave(idle_key, member, ttl_ms, free, wait_key, prio_key)
  if ttl_ms > 0 and free and redis.call("EXISTS", wait_key, prio_key) == 0 then
    register_idle(idle_key, member, ttl_ms)
    return 1
  end
  redis.call("ZREM", idle_key, member)
  return 0
end
