--[[
  fail_unreadable(job_key, job_id, kind, reason, failed_key, events_key, max_len, now):
  the job ends failed with `reason`.
  Records a worker cannot run (written by something else, or damaged) fail
  where they stand instead of being dropped: a worker that pops such an id
  fails the job at once, with a reason naming what is wrong, so it never
  stalls and never holds up the jobs taken with it.  A pending string not in
  the pending format becomes a failed hash keeping the text as its message; a
  hash without a message is marked failed; a key of another Redis type is left
  as it is (it is not ours to rewrite) and only listed as failed.
  Emits "failed" (reason, prev = waiting).
]]
--- @include "finish_score"
--- @include "emit"
local function fail_unreadable(job_key, job_id, kind, reason, failed_key, events_key, max_len, now)
  if kind == "string" then
    local raw = redis.call("GET", job_key)
    redis.call("DEL", job_key)
    redis.call("HSET", job_key, "msg", raw)
  end
  if kind == "string" or kind == "hash" then
    redis.call("HSET", job_key, "state", "failed", "finished_on", now, "failed_reason", reason,
               "unreadable", reason)
  end
  redis.call("ZADD", failed_key, finish_score(), job_id)
  emit(events_key, max_len, "failed", job_id, "reason", reason, "prev", "waiting")
end
