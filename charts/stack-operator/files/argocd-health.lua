-- Argo CD health check for stackoperator.dev/Stack (argocd-cm key
-- resource.customizations.health.stackoperator.dev_Stack). Reads the kstatus-style conditions the
-- operator writes (Ready, Reconciling, Stalled) and observedGeneration, so health never reports a
-- result computed for an older spec. Uses only the base library (Argo CD does not open the string
-- library for health checks unless useOpenLibs is set).
local hs = {}

local function findCondition(conditions, conditionType)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- A condition counts only when it was written for the current generation (or carries no
-- observedGeneration at all).
local function current(c, generation)
  if c == nil then
    return false
  end
  if c.observedGeneration == nil or generation == nil then
    return true
  end
  return c.observedGeneration >= generation
end

local function messageOf(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    if c.reason ~= nil and c.reason ~= "" then
      return c.reason .. ": " .. c.message
    end
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Stack is suspended (spec.suspend: true): the operator makes no provider calls"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the Stack"
  return hs
end

if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local stalled = findCondition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" and current(stalled, generation) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled, "Stack is stalled")
  return hs
end

local reconciling = findCondition(status.conditions, "Reconciling")
-- A plan waits for a person (spec.approval.mode Manual, docs/plan-approve.md): Argo CD's word for
-- that is Suspended. Reconciling stays True, so kstatus still reads the Stack as in progress.
if reconciling ~= nil and reconciling.status == "True" and reconciling.reason == "AwaitingApproval" and current(reconciling, generation) then
  hs.status = "Suspended"
  hs.message = messageOf(reconciling, "A plan awaits approval")
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling, "Stack is reconciling")
  return hs
end

local ready = findCondition(status.conditions, "Ready")
if ready ~= nil and ready.status == "True" and current(ready, generation) then
  hs.status = "Healthy"
  hs.message = messageOf(ready, "Stack is ready")
  return hs
end

hs.status = "Progressing"
if ready ~= nil and not current(ready, generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
else
  hs.message = messageOf(ready, "Waiting for the Stack to become Ready")
end
return hs
