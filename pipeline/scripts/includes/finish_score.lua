--[[
  finish_score() -> the score of a finished job: Redis's clock in ms with the
  microseconds as the fraction, so jobs finishing in the same millisecond keep
  their order and "keep the newest N" keeps the right ones.
]]
local function finish_score()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
