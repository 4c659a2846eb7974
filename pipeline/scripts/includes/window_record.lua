--[[
  window_record(window_key, duration, now, member): counts one start in a rate
  limiter's sliding window (see window_room).
]]
local function window_record(window_key, duration, now, member)
  redis.call("ZADD", window_key, now, member)
  redis.call("PEXPIRE", window_key, duration)
end
