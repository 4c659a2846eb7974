--[[
  claim_idle(q) -> the idle member registered longest ago and still live, moved to the
  handed set, and Redis's clock (ms), or false (see register_idle).  Lapsed members met
  on the way are reaped (return_inbox), and false once that put a job back (it now
  waits, and the caller's new job behind it).
]]
--- @include "redis_ms"
--- @include "return_inbox"
local function claim_idle(q)
  for _ = 1, 10 do
    local popped = redis.call("ZPOPMIN", q.idle)
    if not popped[1] then return false end
    local clock = redis_ms()
    if tonumber(popped[2]) >= clock then
      redis.call("ZADD", q.handed, popped[2], popped[1])
      return popped[1], clock
    end
    -- A lapsed member's jobs go back to waiting; the new job must then wait behind them.
    if return_inbox(q, popped[1]) > 0 then return false end
  end
  return false
end
