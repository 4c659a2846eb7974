--[[
  extend_locks: a live worker renews the locks of the jobs it holds, and learns
  which of them were cancelled or taken away.

  KEYS[1] active zset

  ARGV[1] lock duration ms (the new expiry counts on Redis's clock)   ARGV[2] job key prefix
  ARGV[3..] pairs: job id, lock token

  Returns: { {ids whose cancel was requested}, {ids another worker or a stall sweep
  took from this one} }; a job that finished (or is gone) meanwhile is neither.
]]
--- @include "clock"

local lock_until = redis_ms() + tonumber(ARGV[1])
local cancelled, lost = {}, {}
for i = 3, #ARGV, 2 do
  local job_id = ARGV[i]
  local fields = redis.call("HMGET", ARGV[2] .. job_id, "state", "token", "cancelled")
  if fields[1] == "active" and fields[2] == ARGV[i + 1] then
    redis.call("ZADD", KEYS[1], "XX", lock_until, job_id)
    if fields[3] then cancelled[#cancelled + 1] = job_id end
  elseif fields[1] and fields[1] ~= "completed" and fields[1] ~= "failed" then
    lost[#lost + 1] = job_id
  end
end
return {cancelled, lost}
