--[[
  activate(job_key, kind, msg, prio, now) -> lock token, attempts made: the record becomes
  an active hash (a pending string is converted; kind "none" creates it).
]]
local function activate(job_key, kind, msg, prio, now)
  if kind ~= "hash" then
    if kind == "string" then redis.call("DEL", job_key) end
    if prio > 0 then
      redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                 "token", 1, "attempts_made", 0, "priority", prio)
    else
      redis.call("HSET", job_key, "msg", msg, "state", "active", "processed_on", now,
                 "token", 1, "attempts_made", 0)
    end
    return 1, "0"
  end
  redis.call("HSET", job_key, "state", "active", "processed_on", now)
  local token = redis.call("HINCRBY", job_key, "token", 1)
  return token, redis.call("HGET", job_key, "attempts_made") or "0"
end
