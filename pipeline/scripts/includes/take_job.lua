--[[
  take_job(q, job_id, kind, msg, prio, lock_until, now, out, limited_at) -> the lock token:
  a waiting job (record `kind`, see read_record) becomes active for this worker
  (activate), locked until `lock_until` (Redis's clock), and is appended to out as
  {id, message, attempts_made, token}.  q: the queue's keys (see take_waiting).
  Emits "active" (prev = waiting; with "at" = limited_at, the start time the rate
  limiter counted, when one applies).
]]
--- @include "activate"
--- @include "emit"
local function take_job(q, job_id, kind, msg, prio, lock_until, now, out, limited_at)
  local token, attempts = activate(q.prefix .. job_id, kind, msg, prio, now)
  redis.call("ZADD", q.active, lock_until, job_id)
  if limited_at then
    emit(q.events, q.max_len, "active", job_id, "prev", "waiting", "at", limited_at)
  else
    emit(q.events, q.max_len, "active", job_id, "prev", "waiting")
  end
  out[#out + 1] = job_id
  out[#out + 1] = msg
  out[#out + 1] = attempts
  out[#out + 1] = tostring(token)
  return token
end
