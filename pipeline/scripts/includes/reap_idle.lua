--[[
  reap_idle(q, clock) -> jobs put back from every lapsed idle or handed member (a worker
  that went away, see register_idle); clock: Redis's, if the caller already read it.
]]
--- @include "redis_ms"
--- @include "return_inbox"
local function reap_idle(q, clock)
  local now = "(" .. (clock or redis_ms())
  local moved = 0
  for _, set_key in ipairs({q.idle, q.handed}) do
    for _, member in ipairs(redis.call("ZRANGEBYSCORE", set_key, "-inf", now, "LIMIT", 0, 100)) do
      moved = moved + return_inbox(q, member)
    end
  end
  return moved
end
