--[[
  push_waiting(wait_key, prio_key, seq_key, job_id, priority, lifo)
  Puts a job id where workers take waiting jobs from.
  - priority 0: the plain FIFO list (LPUSH in, RPOP out); lifo pushes on the out side.
  - priority > 0: the prioritized sorted set.  Score = priority * 2^32 + 2^31 +/- seq,
    so the lowest priority number comes out first, FIFO within a level (LIFO
    takes the front of its level).  Priorities go up to 2^21, keeping scores exact.
    The job's arrival time goes to <prio_key>:age (same slot), which priority
    aging reads (see age_prioritized).

  drop_prioritized(prio_key, job_id): removes a job from both.
]]
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
    redis.call("ZADD", prio_key .. ":age", tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), job_id)
  elseif lifo then
    redis.call("RPUSH", wait_key, job_id)
  else
    redis.call("LPUSH", wait_key, job_id)
  end
end

local function drop_prioritized(prio_key, job_id)
  redis.call("ZREM", prio_key .. ":age", job_id)
  return redis.call("ZREM", prio_key, job_id)
end

--[[
  unlist_waiting(wait_key, prio_key, limited_key, job_id, priority): takes a
  waiting job off whichever structure holds it (parked by a rate limit,
  prioritized, or the plain list).
]]
local function unlist_waiting(wait_key, prio_key, limited_key, job_id, priority)
  if redis.call("ZREM", limited_key, job_id) == 1 then
    return
  elseif priority > 0 then
    drop_prioritized(prio_key, job_id)
  else
    redis.call("LREM", wait_key, 1, job_id)
  end
end

--[[
  age_prioritized(prio_key, aging_ms, now): priority aging.  Every job that has
  waited `aging_ms` at its level moves up one level (never above priority 1),
  keeping its order within the level; at most 1000 moves per call.
]]
local function age_prioritized(prio_key, aging_ms, now)
  local age_key = prio_key .. ":age"
  local due = redis.call("ZRANGEBYSCORE", age_key, "-inf", now - aging_ms, "WITHSCORES", "LIMIT", 0, 1000)
  for i = 1, #due, 2 do
    local job_id, since = due[i], tonumber(due[i + 1])
    local levels = math.floor((now - since) / aging_ms)
    local score = tonumber(redis.call("ZSCORE", prio_key, job_id))
    if score then
      local level = math.floor(score / 4294967296)
      local up = math.min(levels, level - 1)
      if up > 0 then
        redis.call("ZADD", prio_key, score - up * 4294967296, job_id)
      end
      redis.call("ZADD", age_key, since + levels * aging_ms, job_id)
    else
      redis.call("ZREM", age_key, job_id)
    end
  end
end
