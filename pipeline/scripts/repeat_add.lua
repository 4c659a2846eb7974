--[[
  repeat_add: create or update one repeatable job's definition (Bull's repeat key
  dedupe: adding the same repeat again updates it, never makes a second).
  An existing definition keeps its count and its pending occurrence.  A
  definition with nothing pending (new, or finished and now allowed more by a
  higher limit or a later end) takes ARGV[2] as its pending occurrence.

  KEYS[1] the queue's set of definition ids   KEYS[2] the definition hash

  ARGV[1] definition id
  ARGV[2] first fire time (epoch ms), or "" when the trigger has none left
  ARGV[3..] field, value pairs of the definition (key, name, cron, every, tz,
            start, end, limit, spec); "" for an absent limit

  Returns: {created, next}: created DONE (of pipeline/codes.py) when `next` is a new pending occurrence the
  caller must add as a job; UNCHANGED when the pending one (or none, "") is kept.
]]
--- @include "codes"

local next_run = redis.call("HGET", KEYS[2], "next") or ""
local count = tonumber(redis.call("HGET", KEYS[2], "count") or "0")
redis.call("HSET", KEYS[2], unpack(ARGV, 3))
redis.call("HINCRBY", KEYS[2], "rev", 1)
redis.call("SADD", KEYS[1], ARGV[1])
local limit = tonumber(redis.call("HGET", KEYS[2], "limit"))
if next_run == "" and ARGV[2] ~= "" and (limit == nil or count < limit) then
  redis.call("HSET", KEYS[2], "next", ARGV[2], "count", count + 1)
  return {DONE, ARGV[2]}
end
redis.call("HSET", KEYS[2], "next", next_run, "count", count)
return {UNCHANGED, next_run}
