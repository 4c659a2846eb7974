--[[
  age_prioritized(prio_key, aging_ms, now): priority aging.  Every job that has
  waited `aging_ms` at its level moves up one level (never above priority 1),
  keeping its order within the level; at most 1000 moves per call.
]]
--- @include "keys"
local function age_prioritized(prio_key, aging_ms, now)
  local age_key = prio_key .. KEY_PRIORITY_AGE
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
