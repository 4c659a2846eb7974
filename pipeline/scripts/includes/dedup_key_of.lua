--[[
  dedup_key_of(msg, dedup_prefix) -> the deduplication key named by an encoded
  message's options.deduplication.id, or nil (used on rare paths: remove, cancel).
]]
local function dedup_key_of(msg, dedup_prefix)
  if not msg or not string.find(msg, '"deduplication"', 1, true) then return nil end
  local ok, decoded = pcall(cjson.decode, msg)
  if ok and type(decoded["options"]) == "table" and type(decoded["options"]["deduplication"]) == "table" then
    local id = decoded["options"]["deduplication"]["id"]
    if id then return dedup_prefix .. tostring(id) end
  end
  return nil
end
