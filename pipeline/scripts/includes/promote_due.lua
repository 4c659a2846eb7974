--[[
  promote_due(delayed_key, wait_key, prio_key, seq_key, events_key, max_len, prefix, now):
  moves delayed jobs that are due to waiting (at most 1000).
  Events: "waiting" (prev = delayed) per job.
]]
--- @include "push_waiting"
--- @include "emit"
--- @include "mark_waiting"
--- @include "read_record"
local function promote_due(delayed_key, wait_key, prio_key, seq_key, events_key, max_len, prefix, now)
  local due = redis.call("ZRANGEBYSCORE", delayed_key, "-inf", now, "LIMIT", 0, 1000)
  for _, job_id in ipairs(due) do
    redis.call("ZREM", delayed_key, job_id)
    local job_key = prefix .. job_id
    local kind, _, prio = read_record(job_key)
    if kind ~= "none" then
      mark_waiting(job_key, kind)
      push_waiting(wait_key, prio_key, seq_key, job_id, prio, false)
      emit(events_key, max_len, "waiting", job_id, "prev", "delayed")
    end
  end
end
