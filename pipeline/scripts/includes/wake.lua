--[[
  wake(marker_key)
  Tells one blocked worker that work may be ready.  The marker list is a
  doorbell, not a queue: it is capped so idle queues cost a few bytes.
]]
local function wake(marker_key)
  if redis.call("LPUSH", marker_key, "1") > 64 then
    redis.call("LTRIM", marker_key, 0, 63)
  end
end
