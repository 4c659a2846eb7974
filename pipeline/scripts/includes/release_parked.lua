--[[
  release_parked(limited_key, q, now): jobs parked by a per-group rate limit whose
  window has freed (scored at or before `now`, Redis's clock) go back to the front of
  waiting (at most 1000).  q: the queue's keys (see take_waiting), with seq.
]]
--- @include "push_waiting"
--- @include "read_record"
local function release_parked(limited_key, q, now)
  local released = redis.call("ZRANGEBYSCORE", limited_key, "-inf", now, "LIMIT", 0, 1000)
  for _, job_id in ipairs(released) do
    redis.call("ZREM", limited_key, job_id)
    local _, _, prio = read_record(q.prefix .. job_id)
    push_waiting(q.wait, q.prio, q.seq, job_id, prio, true)
  end
end
