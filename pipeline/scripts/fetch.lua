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
]]
--- @include "activate"
--- @include "age_prioritized"
--- @include "emit"
--- @include "fail_unreadable"
--- @include "parse_inbox_entry"
--- @include "pop_waiting"
--- @include "promote_due"
--- @include "push_waiting"
--- @include "read_job"
--- @include "reap_idle"
--- @include "record_priority"
--- @include "redis_ms"
--- @include "register_idle"
--- @include "take_inbox"
--- @include "unreadable_reason"
--- @include "window_record"
--- @include "window_room"

local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
-- Due times, locks, the limiter and aging count on Redis's clock (see includes/redis_ms.lua).
local clock = redis_ms()
local lock_until = clock + tonumber(ARGV[3])
local prefix = ARGV[4]
local max_len = ARGV[5]
local wake_at = nil
local function wake_by(t)
  if t and (wake_at == nil or t < wake_at) then wake_at = t end
end

promote_due(KEYS[3], KEYS[1], KEYS[2], KEYS[6], KEYS[7], max_len, prefix, clock)
reap_idle({
  active = KEYS[4], wait = KEYS[1], prio = KEYS[2], seq = KEYS[6], events = KEYS[7], max_len = max_len,
  prefix = prefix, idle = KEYS[10], handed = KEYS[11],
}, clock)

local released = redis.call("ZRANGEBYSCORE", KEYS[8], "-inf", clock, "LIMIT", 0, 1000)
for _, job_id in ipairs(released) do
  redis.call("ZREM", KEYS[8], job_id)
  push_waiting(KEYS[1], KEYS[2], KEYS[6], job_id, record_priority(prefix .. job_id), true)
end

local meta = redis.call("HMGET", KEYS[5], "paused", "limiter_max", "limiter_duration", "limiter_group",
                        "aging_ms")
local limit_max, limit_duration, group_field = tonumber(meta[2]), tonumber(meta[3]), meta[4]
local limited = limit_max ~= nil and limit_duration ~= nil
local limit_now = clock
if tonumber(meta[5]) then
  age_prioritized(KEYS[2], tonumber(meta[5]), limit_now)
end
if limited and not group_field then
  local room, free_at = window_room(KEYS[9], limit_max, limit_duration, limit_now)
  if room < count then count = room end
  wake_by(free_at)
end

local out = {}
local taken = 0
local scanned = 0
redis.call("ZREM", KEYS[11], ARGV[7])
for _, entry in ipairs(take_inbox(KEYS[10], ARGV[7])) do
  local job_id, token, attempts, msg = parse_inbox_entry(entry)
  if job_id then
    out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = job_id, msg, attempts, token
    taken = taken + 1
  end
end
local from_inbox = taken
if meta[1] ~= "1" then
  while taken < count and scanned < count + 100 do
    local job_id = pop_waiting(KEYS[1], KEYS[2])
    if not job_id then break end
    scanned = scanned + 1
    local job_key = prefix .. job_id
    local kind, raw_msg, pending_prio = read_job(job_key)
    if not raw_msg and kind ~= "none" then
      fail_unreadable(job_key, job_id, kind, unreadable_reason(kind), KEYS[12], KEYS[7], max_len, now)
    end
    local window = nil
    if raw_msg and limited and group_field then
      local ok, decoded = pcall(cjson.decode, raw_msg)
      local group = ""
      if ok and type(decoded["kwargs"]) == "table" and decoded["kwargs"][group_field] ~= nil then
        group = tostring(decoded["kwargs"][group_field])
      end
      window = ARGV[6] .. group
      local room, free_at = window_room(window, limit_max, limit_duration, limit_now)
      if room <= 0 then
        redis.call("ZADD", KEYS[8], free_at, job_id)
        wake_by(free_at)
        raw_msg = nil
      end
    end
    if raw_msg then
      local token, attempts = activate(job_key, kind, raw_msg, pending_prio, now)
      redis.call("ZADD", KEYS[4], lock_until, job_id)
      if limited then
        window_record(window or KEYS[9], limit_duration, limit_now, job_id .. ":" .. token)
      end
      if limited then
        -- the start time the limiter counted (Redis's clock), for anyone auditing the limit
        emit(KEYS[7], max_len, "active", job_id, "prev", "waiting", "at", limit_now)
      else
        emit(KEYS[7], max_len, "active", job_id, "prev", "waiting")
      end
      out[#out + 1] = job_id
      out[#out + 1] = raw_msg
      out[#out + 1] = attempts
      out[#out + 1] = tostring(token)
      taken = taken + 1
    end
  end
  if taken > from_inbox and redis.call("EXISTS", KEYS[1], KEYS[2]) == 0 then
    emit(KEYS[7], max_len, "drained", "")
  end
end

local next_due = redis.call("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")
wake_by(tonumber(next_due[2]))
local next_limited = redis.call("ZRANGE", KEYS[8], 0, 0, "WITHSCORES")
wake_by(tonumber(next_limited[2]))
local registered = 0
local ttl = tonumber(ARGV[8])
if ttl > 0 and taken == 0 and meta[1] ~= "1" and not limited and not meta[5]
   and redis.call("EXISTS", KEYS[1], KEYS[2]) == 0 then
  register_idle(KEYS[10], ARGV[7], ttl)
  registered = 1
else
  redis.call("ZREM", KEYS[10], ARGV[7])
end
return {out, wake_at and tostring(wake_at - clock) or "", limited and 1 or 0, registered}
