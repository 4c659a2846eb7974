--[[
  push_waiting(wait_key, prio_key, seq_key, job_id, priority, lifo)
  Puts a job id where workers take waiting jobs from.
  - priority 0: the plain FIFO list (LPUSH in, RPOP out); lifo pushes on the out side.
  - priority > 0: the prioritized sorted set.  Score = priority * 2^32 + 2^31 +/- seq,
    so the lowest priority number comes out first, FIFO within a level (LIFO
    takes the front of its level).  Priorities go up to 2^21, keeping scores exact.
    The job's arrival time goes to <prio_key>:age (same slot), which priority
    aging reads (see age_prioritized).
]]
--- @include "keys"
local function push_waiting(wait_key, prio_key, seq_key, job_id, priority, lifo)
  if priority > 0 then
    local seq = redis.call("INCR", seq_key) % 2147483648
    local score
    if lifo then
      score = priority * 4294967296 + 2147483648 - seq
    else
      score = priority * 4294967296 + 2147483648 + seq
    end
    redis.call("ZADD", prio_key, score, job_id)
    local t = redis.call("TIME")
    redis.call("ZADD", prio_key .. KEY_PRIORITY_AGE, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), job_id)
  elseif lifo then
    redis.call("RPUSH", wait_key, job_id)
  else
    redis.call("LPUSH", wait_key, job_id)
  end
end
