--[[
  update_progress: store a running job's progress (a number or JSON value).

  KEYS[1] job key   KEYS[2] events stream

  ARGV[1] job id   ARGV[2] lock token   ARGV[3] progress (JSON)   ARGV[4] events max length

  Returns (codes of pipeline/codes.py): DONE stored; NOT_HELD the job is no longer this worker's.
  Events: "progress" (data).
]]
--- @include "codes"
--- @include "emit"

local state = redis.call("HMGET", KEYS[1], "state", "token")
if state[1] ~= "active" or state[2] ~= ARGV[2] then
  return NOT_HELD
end
redis.call("HSET", KEYS[1], "progress", ARGV[3])
emit(KEYS[2], ARGV[4], "progress", ARGV[1], "data", ARGV[3])
return DONE
