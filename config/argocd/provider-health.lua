-- Argo CD health check for stackoperator.dev/StackProvider and ClusterStackProvider (argocd-cm keys
-- resource.customizations.health.stackoperator.dev_StackProvider and ..._ClusterStackProvider). The
-- operator's provider controller keeps one condition, Ready: True once the credentials are accepted
-- and the endpoint answers, False with the reason (Unauthorized, InvalidSpec, ProviderUnavailable,
-- ...) otherwise (docs/api.md). Without this check Argo CD shows nothing for broken credentials.
-- Base library only, like health.lua.
local hs = {}

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

local ready = nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end

local function messageOf(c, fallback)
  local msg = fallback
  if c.message ~= nil and c.message ~= "" then
    msg = c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason .. ": " .. msg
  end
  return msg
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to check the credentials and endpoint"
  return hs
end

-- A verdict for an older spec says nothing about the current credentials or endpoint.
local observed = ready.observedGeneration
if observed == nil and obj.status ~= nil then
  observed = obj.status.observedGeneration
end
if generation ~= nil and observed ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to check generation " .. tostring(generation)
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "credentials accepted")
  return hs
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = messageOf(ready, "the provider is not usable")
  return hs
end
hs.status = "Progressing"
hs.message = messageOf(ready, "Checking the provider")
return hs
