--[[
  window_room(window_key, max, duration, now) -> how many may start now, and
  when (epoch ms) the next start becomes possible if none may.
  A sliding-window rate limiter: at most `max` job starts in any window of
  `duration` ms.  The window is a sorted set of start times (one member per
  start, see window_record), pruned as it slides, expiring when idle.
]]
local function window_room(window_key, max, duration, now)
  redis.call("ZREMRANGEBYSCORE", window_key, "-inf", now - duration)
  local room = max - redis.call("ZCARD", window_key)
  if room > 0 then return room, nil end
  local oldest = redis.call("ZRANGE", window_key, 0, 0, "WITHSCORES")
  return 0, tonumber(oldest[2]) + duration
end
