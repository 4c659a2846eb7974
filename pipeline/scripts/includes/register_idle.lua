--[[
  register_idle(idle_key, member, ttl_ms): (re)registers a consumer for direct handoffs.

  Direct handoff to idle workers (the pickup fast path).  A consumer whose fetch
  found nothing registers in the queue's idle set and blocks on its own inbox
  list and on the doorbell.  When add creates a job that would be the only
  waiting one, it gives the job to the idle consumer registered longest ago
  instead (claim_idle): the job becomes active with a lock at once and the fetch
  record goes to that consumer's inbox (inbox_entry), so the worker starts it
  without a second round trip.  The consumer leaves the idle set with the
  handoff and moves to the handed set until its next fetch, which registers it
  again if it finds nothing.

  Members of both sets are "<lock ms>|<consumer id>" (member_lock_ms), scored by
  when the registration lapses on Redis's clock; a consumer re-registers at
  least once per blocking wait, so a lapsed member is a worker that went away.
  Its inbox is "<idle key>:<member>" (same slot).  The stall sweep puts the jobs
  of lapsed inboxes back without counting a stall (reap_idle); registrations
  lapse well before a handed job's lock does.
]]
--- @include "redis_ms"
local function register_idle(idle_key, member, ttl_ms)
  redis.call("ZADD", idle_key, redis_ms() + ttl_ms, member)
end
