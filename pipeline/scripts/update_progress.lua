--[[
  update_progress: store a running job's progress (a number or JSON value).

  KEYS[1] job key

  ARGV[1] lock token   ARGV[2] progress (JSON)

  Returns: 1 stored; -1 rejected (the job is no longer this worker's).
]]
local state = redis.call("HMGET", KEYS[1], "state", "token")
if state[1] ~= "active" or state[2] ~= ARGV[1] then
  return -1
end
redis.call("HSET", KEYS[1], "progress", ARGV[2])
return 1
