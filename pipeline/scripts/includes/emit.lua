--[[
  emit(events_key, max_len, event, job_id, ...)
  Appends a lifecycle event to the queue's stream in the same script that
  changes the state, so events never disagree with the store.  The stream is
  capped (approximately) at max_len entries.  Extra arguments are field/value
  pairs of the event's payload.
]]
local function emit(events_key, max_len, event, job_id, ...)
  redis.call("XADD", events_key, "MAXLEN", "~", max_len, "*", "event", event, "job_id", job_id, ...)
end
