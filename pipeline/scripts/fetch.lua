--[[
  fetch: promote due delayed jobs and release rate-limited ones, then move up
  to `count` waiting jobs to active for one worker (prioritized first, then
  FIFO), within the queue's rate limit.  Each taken job gets a new lock token;
  completion must present it, so a worker whose job was taken away (stalled,
  removed) cannot overwrite the outcome.

  KEYS[1] wait list        KEYS[2] prioritized zset   KEYS[3] delayed zset
  KEYS[4] active zset      KEYS[5] meta hash          KEYS[6] priority seq
  KEYS[7] events stream    KEYS[8] limited zset (jobs parked by a per-group limit)
  KEYS[9] limiter window zset (queue-wide limit)   KEYS[10] idle consumers zset
  KEYS[11] handed consumers zset   KEYS[12] failed zset

  ARGV[1] now (epoch ms, this host's clock: record timestamps only)
  ARGV[2] count   ARGV[3] lock duration ms
  ARGV[4] job key prefix   ARGV[5] events max length
  ARGV[6] prefix of per-group limiter windows
  ARGV[7] the consumer's idle member
  ARGV[8] how long its idle registration lasts, ms (0: it has no free thread, do not register)

  Returns: { {id, message, attempts_made, token, ...}, ms until the next delayed
             or parked job is due (on Redis's clock) or "",
             1 when a rate limit applies to the queue else 0,
             1 when the consumer is now registered idle else 0 }
  Events: "waiting" (prev = delayed) per promoted job, "active" per taken job,
  "failed" (reason) per unreadable record met (see includes/fail_unreadable.lua),
  (with "at", the start time the rate limiter counted, when one applies);
  "drained" when this fetch took the last waiting job.

  Priority aging (meta aging_ms): a prioritized job moves up one level for
  every aging_ms it waits, so low priorities cannot starve.

  Rate limit (meta limiter_max / limiter_duration / limiter_group): at most max
  starts per sliding window.  With a group field, each value of that field of
  the job data has its own window; a job whose group is full is parked in the
  limited set (still "waiting") until its window frees, so it never blocks
  other groups, uses no attempt and is not failed.

  Idle registration (see includes/register_idle.lua): lapsed members (workers that went
  away) are reaped first, their inbox jobs back to waiting without a stall, so
  any live worker's next fetch recovers them.  Jobs already handed to this
  consumer's inbox are taken next (they are active and locked for it).  A
  consumer that took nothing from a queue that is not paused, rate limited or
  aging, with nothing left waiting, registers so that add hands it the next job
  directly; otherwise it leaves the idle set.

  Steps, each an include of its own: promote_due, reap_idle, release_parked,
  age_prioritized, take_handed (the inbox), take_waiting (within the limit),
  next_due, idle_or_leave.
]]
--- @include "age_prioritized"
--- @include "emit"
--- @include "idle_or_leave"
--- @include "next_due"
--- @include "promote_due"
--- @include "reap_idle"
--- @include "redis_ms"
--- @include "release_parked"
--- @include "take_handed"
--- @include "take_waiting"
--- @include "window_room"

local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
-- Due times, locks, the limiter and aging count on Redis's clock (see includes/redis_ms.lua).
local clock = redis_ms()
local max_len = ARGV[5]
local member = ARGV[7]
local q = {
  wait = KEYS[1], prio = KEYS[2], active = KEYS[4], seq = KEYS[6], events = KEYS[7], max_len = max_len,
  prefix = ARGV[4], limited = KEYS[8], idle = KEYS[10], handed = KEYS[11], failed = KEYS[12],
}
local wake_at = nil
local function wake_by(t)
  if t and (wake_at == nil or t < wake_at) then wake_at = t end
end

promote_due(KEYS[3], KEYS[1], KEYS[2], KEYS[6], KEYS[7], max_len, q.prefix, clock)
reap_idle(q, clock)
release_parked(KEYS[8], q, clock)

local meta = redis.call("HMGET", KEYS[5], "paused", "limiter_max", "limiter_duration", "limiter_group",
                        "aging_ms")
local paused, aging = meta[1] == "1", meta[5]
local limit = nil
if tonumber(meta[2]) ~= nil and tonumber(meta[3]) ~= nil then
  limit = {max = tonumber(meta[2]), duration = tonumber(meta[3]), now = clock, window = KEYS[9],
           group = meta[4] or nil, group_prefix = ARGV[6]}
end
if tonumber(aging) then
  age_prioritized(KEYS[2], tonumber(aging), clock)
end
if limit and not limit.group then
  local room, free_at = window_room(KEYS[9], limit.max, limit.duration, clock)
  if room < count then count = room end
  wake_by(free_at)
end

local out = {}
local handed = take_handed(KEYS[10], KEYS[11], member, out)
if not paused then
  local taken, _, parked_until = take_waiting(q, count - handed, count + 100, clock + tonumber(ARGV[3]),
                                              now, out, limit)
  wake_by(parked_until)
  if taken > 0 and redis.call("EXISTS", KEYS[1], KEYS[2]) == 0 then
    emit(KEYS[7], max_len, "drained", "")
  end
end

wake_by(next_due(KEYS[3], KEYS[8]))
local free = #out == 0 and not paused and not limit and not aging
local registered = idle_or_leave(KEYS[10], member, tonumber(ARGV[8]), free, KEYS[1], KEYS[2])
return {out, wake_at and tostring(wake_at - clock) or "", limit and 1 or 0, registered}
