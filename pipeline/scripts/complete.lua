--[[
  complete: active -> completed, storing the handler's result.

  KEYS[1] job key   KEYS[2] active zset   KEYS[3] completed zset   KEYS[4] events stream
  KEYS[5] wait list   KEYS[6] prioritized zset   KEYS[7] delayed zset   KEYS[8] meta hash
  KEYS[9] priority seq   KEYS[10] idle consumers zset   KEYS[11] failed zset

  ARGV[1] job id    ARGV[2] lock token    ARGV[3] now (epoch ms, this host's clock: record timestamps)
  ARGV[4] result (JSON)
  ARGV[5] keep: -1 keep every completed job, 0 remove this one now, N keep the newest N
  ARGV[6] events max length   ARGV[7] job name
  ARGV[8] deduplication id to free if this job owns it ("" none)
  ARGV[9] how many next jobs to take for this worker   ARGV[10] lock duration ms
  ARGV[11] the worker's idle member   ARGV[12] its idle registration's lifetime, ms (0: none)

  Derived from the job key (same slot): the job's logs, the queue's metrics and
  deduplication keys, and the record prefixes used to trim.

  Returns: {code, taken, registered}: code (of pipeline/codes.py) DONE; NOT_HELD the job
  is no longer this worker's (removed, reclaimed after a stall, or already finished);
  CANCEL_PENDING a cancel was requested (nothing changed: the caller fails the job
  with the cancel reason).  taken: {id, message, attempts_made, token, ...} of the next jobs this
  worker now holds (as fetch returns them), so a busy worker needs no separate
  fetch.  Nothing is taken from a paused, rate-limited or aging queue: fetch
  handles those.  registered: 1 when nothing was left to take and the worker,
  with a thread now free, registered for direct handoffs (see includes/register_idle.lua)
  in the same call, as an empty fetch would have.
  Events: "completed" (result, prev = active); "waiting" per promoted delayed
  job and "active" per taken job; "failed" per unreadable record met (see
  includes/fail_unreadable.lua).

  Steps: check the lock, finish the job (record_metric, release_dedup,
  trim_finished), then take_next (promote_due, take_waiting, or register idle).
]]
--- @include "codes"
--- @include "keys"
--- @include "emit"
--- @include "queue_base"
--- @include "record_metric"
--- @include "release_dedup"
--- @include "take_next"
--- @include "trim_finished"

-- Redis's clock, read once per call: the finish score and the next jobs' locks share it.
local time = nil
local function clock_ms()
  time = time or redis.call("TIME")
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function finish_at()
  time = time or redis.call("TIME")
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000  -- as finish_score()
end

local job_key = KEYS[1]
local job_id = ARGV[1]
local now = tonumber(ARGV[3])
local state = redis.call("HMGET", job_key, "state", "token", "cancelled", "processed_on", "attempts_made")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return {NOT_HELD, {}, 0}
end
if state[3] then
  return {CANCEL_PENDING, {}, 0}
end
local base = queue_base(job_key, job_id)
local q = {
  active = KEYS[2], events = KEYS[4], wait = KEYS[5], prio = KEYS[6], delayed = KEYS[7], meta = KEYS[8],
  seq = KEYS[9], idle = KEYS[10], failed = KEYS[11], max_len = ARGV[6], prefix = base .. KEY_JOB,
}
redis.call("ZREM", KEYS[2], job_id)
if ARGV[8] ~= "" then release_dedup(base .. KEY_DEDUP .. ARGV[8], job_id) end
record_metric(base .. KEY_METRICS, "completed", ARGV[7], now, now - (tonumber(state[4]) or now))
emit(KEYS[4], ARGV[6], "completed", job_id, "result", ARGV[4], "prev", "active")
local keep = tonumber(ARGV[5])
if keep == 0 then
  redis.call("DEL", job_key, base .. KEY_LOGS .. job_id)
else
  redis.call("HSET", job_key, "state", "completed", "finished_on", now, "result", ARGV[4],
             "attempts_made", (tonumber(state[5]) or 0) + 1)
  redis.call("ZADD", KEYS[3], finish_at(), job_id)
  if keep > 0 then
    trim_finished(KEYS[3], keep, q.prefix, base .. KEY_LOGS)
  end
end
local taken, registered = take_next(q, tonumber(ARGV[9]), now, tonumber(ARGV[10]), ARGV[11],
                                    tonumber(ARGV[12]), clock_ms)
return {DONE, taken, registered}
