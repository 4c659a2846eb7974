--[[
  put_back(job_key, job_id, token, active_key, wait_key, prio_key, seq_key, events_key, max_len)
    -> 1 when the job went back, else 0.
  A job a worker took but never started (shut down, or handed to a worker that
  went away before reading it) returns to the front of its level, keeping its
  attempt count and stall count: nothing ran.  Only the holder of `token` may
  put it back.  Emits "waiting" (prev = active).  The caller rings the doorbell.
]]
local function put_back(job_key, job_id, token, active_key, wait_key, prio_key, seq_key, events_key, max_len)
  local state = redis.call("HMGET", job_key, "state", "token", "priority")
  if state[1] ~= "active" or state[2] ~= token then return 0 end
  redis.call("ZREM", active_key, job_id)
  redis.call("HSET", job_key, "state", "waiting")
  redis.call("HDEL", job_key, "processed_on")
  push_waiting(wait_key, prio_key, seq_key, job_id, tonumber(state[3]) or 0, true)
  emit(events_key, max_len, "waiting", job_id, "prev", "active")
  return 1
end
