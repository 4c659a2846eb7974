--[[
  redis_ms() -> Redis's clock in epoch ms.
  Every time that decides who may run what is read from this one clock: lock
  expiry, idle registrations, rate-limit windows, priority aging.  Workers on
  hosts whose clocks disagree then still agree on when a lock has expired, so
  a sweep on a fast host never reclaims a job a slow host is running.
]]
local function redis_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
