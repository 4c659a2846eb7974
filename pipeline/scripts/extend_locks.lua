--[[
  extend_locks: a live worker renews the locks of the jobs it holds, and learns
  which of them were cancelled or taken away.

  KEYS[1] active zset

  ARGV[1] new lock expiry (epoch ms)   ARGV[2] job key prefix
  ARGV[3..] pairs: job id, lock token

  Returns: { {ids whose cancel was requested}, {ids this worker no longer holds} }
]]
local cancelled, lost = {}, {}
for i = 3, #ARGV, 2 do
  local job_id = ARGV[i]
  local fields = redis.call("HMGET", ARGV[2] .. job_id, "state", "token", "cancelled")
  if fields[1] == "active" and fields[2] == ARGV[i + 1] then
    redis.call("ZADD", KEYS[1], "XX", ARGV[1], job_id)
    if fields[3] then cancelled[#cancelled + 1] = job_id end
  else
    lost[#lost + 1] = job_id
  end
end
return {cancelled, lost}
