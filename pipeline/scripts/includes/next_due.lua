--[[
  next_due(delayed_key, limited_key) -> the earliest time (Redis's clock) a delayed job
  or a job parked by a rate limit comes due, or nil when there are none.
]]
local function next_due(delayed_key, limited_key)
  local at = tonumber(redis.call("ZRANGE", delayed_key, 0, 0, "WITHSCORES")[2])
  local parked = tonumber(redis.call("ZRANGE", limited_key, 0, 0, "WITHSCORES")[2])
  if parked and (at == nil or parked < at) then return parked end
  return at
end
