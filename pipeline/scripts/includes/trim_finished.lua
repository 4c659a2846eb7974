--[[
  trim_finished(set_key, keep, job_prefix, logs_prefix)
  Keeps only the newest `keep` jobs of a completed/failed set, deleting the
  records and logs of the rest.
]]
local function trim_finished(set_key, keep, job_prefix, logs_prefix)
  local excess = redis.call("ZCARD", set_key) - keep
  if excess > 0 then
    local old = redis.call("ZRANGE", set_key, 0, excess - 1)
    for _, old_id in ipairs(old) do
      redis.call("DEL", job_prefix .. old_id, logs_prefix .. old_id)
    end
    redis.call("ZREMRANGEBYRANK", set_key, 0, excess - 1)
  end
end
