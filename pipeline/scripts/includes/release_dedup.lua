--[[
  release_dedup(dedup_key, job_id): frees a deduplication key if this job still owns it.
  Deduplication keys (BullMQ's deduplication option) hold the id of the job that
  owns them.  Without a ttl the key lives until that job finishes or is removed;
  with one it simply expires (throttle).
]]
local function release_dedup(dedup_key, job_id)
  if dedup_key ~= nil and dedup_key ~= "" and redis.call("GET", dedup_key) == job_id then
    redis.call("DEL", dedup_key)
  end
end
