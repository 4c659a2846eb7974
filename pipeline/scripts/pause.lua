--[[
  pause / resume a queue for every worker (Bull's queue.pause()/resume()).

  KEYS[1] meta hash   KEYS[2] marker list   KEYS[3] events stream

  ARGV[1] "pause" or "resume"   ARGV[2] events max length

  Returns (codes of pipeline/codes.py): DONE the state changed; UNCHANGED it already was so.
  Events: "paused" or "resumed" when the state changed.  Resuming rings the
  doorbell for every blocked worker.
]]
--- @include "codes"
--- @include "emit"

if ARGV[1] == "pause" then
  if redis.call("HGET", KEYS[1], "paused") == "1" then
    return UNCHANGED
  end
  redis.call("HSET", KEYS[1], "paused", "1")
  emit(KEYS[3], ARGV[2], "paused", "")
  return DONE
end
if redis.call("HDEL", KEYS[1], "paused") == 0 then
  return UNCHANGED
end
for _ = 1, 64 do redis.call("LPUSH", KEYS[2], "1") end
redis.call("LTRIM", KEYS[2], 0, 63)
emit(KEYS[3], ARGV[2], "resumed", "")
return DONE
