--[[
  take_waiting(q, want, max_pops, lock_until, now, out, limit) -> how many were taken,
  whether the waiting jobs ran out, and when the first group window that parked a job
  frees (Redis's clock, or nil).
  Pops waiting jobs (prioritized first, then FIFO), at most `max_pops`, until `want` are
  taken: each becomes active for this worker (take_job), locked until `lock_until`.  A
  record no worker can run fails where it stands (fail_unreadable).  With a per-group
  rate limit, a job whose group's window is full is parked in q.limited (still waiting)
  until that window frees: it uses no attempt and never blocks other groups.
  q = {wait =, prio =, active =, events =, max_len =, prefix = job key prefix, failed =,
       limited = (with a group limit)}
  limit = nil, or {max =, duration = (ms), now = Redis's clock, window = the queue-wide
          window, group = the job data field naming a job's group (or nil),
          group_prefix = prefix of the group windows}: each start is counted in its window.
]]
--- @include "pop_waiting"
--- @include "read_record"
--- @include "fail_unreadable"
--- @include "unreadable_reason"
--- @include "group_window"
--- @include "window_room"
--- @include "window_record"
--- @include "take_job"
local function take_waiting(q, want, max_pops, lock_until, now, out, limit)
  local taken, pops, parked_until = 0, 0, nil
  while taken < want and pops < max_pops do
    local job_id = pop_waiting(q.wait, q.prio)
    if not job_id then return taken, true, parked_until end
    pops = pops + 1
    local job_key = q.prefix .. job_id
    local kind, _, prio, msg = read_record(job_key)
    if not msg and kind ~= "none" then
      fail_unreadable(job_key, job_id, kind, unreadable_reason(kind), q.failed, q.events, q.max_len, now)
    end
    local window = limit and limit.window
    if msg and limit and limit.group then
      window = group_window(msg, limit.group, limit.group_prefix)
      local room, free_at = window_room(window, limit.max, limit.duration, limit.now)
      if room <= 0 then
        redis.call("ZADD", q.limited, free_at, job_id)
        if parked_until == nil or free_at < parked_until then parked_until = free_at end
        msg = nil
      end
    end
    if msg then
      local token = take_job(q, job_id, kind, msg, prio, lock_until, now, out, limit and limit.now)
      if limit then window_record(window, limit.duration, limit.now, job_id .. ":" .. token) end
      taken = taken + 1
    end
  end
  return taken, false, parked_until
end
