--[[
  put_back(q, job_id, token) -> 1 when the job went back, else 0.
  A job a worker took but never started (shut down, or handed to a worker that
  went away before reading it) returns to the front of its level, keeping its
  attempt count and stall count: nothing ran.  Only the holder of `token` may
  put it back.  Emits "waiting" (prev = active).  The caller rings the doorbell.

  q is the keys a job's way back to waiting needs, as one table (built once per call):
    q = {active = ..., wait = ..., prio = ..., seq = ..., events = ..., max_len = ...,
         prefix = <job key prefix>, idle = ..., handed = ...}
  (idle and handed only where the idle consumer functions use it, see claim_idle).
]]
--- @include "push_waiting"
--- @include "emit"
local function put_back(q, job_id, token)
  local job_key = q.prefix .. job_id
  local state = redis.call("HMGET", job_key, "state", "token", "priority")
  if state[1] ~= "active" or state[2] ~= token then return 0 end
  redis.call("ZREM", q.active, job_id)
  redis.call("HSET", job_key, "state", "waiting")
  redis.call("HDEL", job_key, "processed_on")
  push_waiting(q.wait, q.prio, q.seq, job_id, tonumber(state[3]) or 0, true)
  emit(q.events, q.max_len, "waiting", job_id, "prev", "active")
  return 1
end
