-- Runs an Argo CD health check the way Argo CD does: the script is a chunk that reads the global
-- `obj` and returns {status, message}. Argo CD (gopher-lua, Lua 5.1) opens only the base, table,
-- package and a safe os library for health checks, so the chunk gets that environment here too: a
-- script that uses string.* fails in this harness as it would in Argo CD.
--   lua5.1 health-harness.lua <health.lua> <object.lua>     (object.lua: `return { ... }`)
-- Prints the result as one JSON object.
local scriptPath, objectPath = arg[1], arg[2]
local obj = assert(loadfile(objectPath))()
local check = assert(loadfile(scriptPath))

local env = {
  obj = obj,
  assert = assert, error = error, ipairs = ipairs, pairs = pairs, next = next, pcall = pcall,
  select = select, tonumber = tonumber, tostring = tostring, type = type, unpack = unpack,
  rawequal = rawequal, rawget = rawget, rawset = rawset, getmetatable = getmetatable,
  setmetatable = setmetatable,
  table = table,
  os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
}
env._G = env
setfenv(check, env)
local ok, hs = pcall(check)
if not ok then
  io.stderr:write("health check raised: " .. tostring(hs) .. "\n")
  os.exit(3)
end
if type(hs) ~= "table" then
  io.stderr:write("health check returned " .. type(hs) .. ", want a table\n")
  os.exit(4)
end

local function jsonString(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or string.format('\\u%04x', string.byte(c))
  end)
  return '"' .. s .. '"'
end

local keys = {}
for k, v in pairs(hs) do
  if type(k) ~= "string" or type(v) ~= "string" then
    io.stderr:write("health check result has a non-string entry: " .. tostring(k) .. "\n")
    os.exit(5)
  end
  table.insert(keys, k)
end
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  table.insert(parts, jsonString(k) .. ":" .. jsonString(hs[k]))
end
print("{" .. table.concat(parts, ",") .. "}")
