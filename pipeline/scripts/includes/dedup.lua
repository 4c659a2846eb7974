--[[
  Deduplication keys (BullMQ's deduplication option): <prefix><dedup id> holds
  the id of the job that owns it.  Without a ttl the key lives until that job
  finishes or is removed; with one it simply expires (throttle).

  release_dedup(dedup_key, job_id): frees the key if this job still owns it.
  dedup_key_of(msg, dedup_prefix): the key named by an encoded message's
  options.deduplication.id, or nil (used on rare paths: remove, cancel).
]]
local function release_dedup(dedup_key, job_id)
  if dedup_key ~= nil and dedup_key ~= "" and redis.call("GET", dedup_key) == job_id then
    redis.call("DEL", dedup_key)
  end
end

local function dedup_key_of(msg, dedup_prefix)
  if not msg or not string.find(msg, '"deduplication"', 1, true) then return nil end
  local ok, decoded = pcall(cjson.decode, msg)
  if ok and type(decoded["options"]) == "table" and type(decoded["options"]["deduplication"]) == "table" then
    local id = decoded["options"]["deduplication"]["id"]
    if id then return dedup_prefix .. tostring(id) end
  end
  return nil
end
