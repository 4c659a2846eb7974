--[[
  take_next(q, count, now, lock_ms, member, ttl_ms, clock) -> the jobs taken, and 1 when
  nothing was left to take and the worker registered idle (else 0).
  A worker that just finished a job takes up to `count` next ones in the same call, as
  fetch returns them ({id, message, attempts_made, token, ...}; due delayed jobs are
  promoted first), so a busy worker needs no separate fetch.  Nothing is taken from a
  paused, rate-limited or aging queue: fetch handles those.  When the waiting jobs ran
  out before any was taken, the worker, with a thread now free, registers as idle
  `member` for `ttl_ms` (0: it does not), as an empty fetch would have.
  q: the queue's keys (see take_waiting), with delayed, meta, seq and idle.
  clock() -> Redis's clock in ms (the caller may have read it already).
]]
--- @include "promote_due"
--- @include "take_waiting"
--- @include "register_idle"
local function take_next(q, count, now, lock_ms, member, ttl_ms, clock)
  local out = {}
  if count <= 0 then return out, 0 end
  local meta = redis.call("HMGET", q.meta, "paused", "limiter_max", "aging_ms")
  if meta[1] == "1" or meta[2] or meta[3] then return out, 0 end
  local at = clock()  -- due times and locks count on Redis's clock
  promote_due(q.delayed, q.wait, q.prio, q.seq, q.events, q.max_len, q.prefix, at)
  local _, ran_out = take_waiting(q, count, count, at + lock_ms, now, out, nil)
  if ran_out and #out == 0 and ttl_ms > 0 then
    register_idle(q.idle, member, ttl_ms)
    return out, 1
  end
  return out, 0
end
