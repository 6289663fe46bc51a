-- Argo CD resource actions for stackoperator.dev/Stack (argocd-cm key
-- resource.customizations.actions.stackoperator.dev_Stack, assembled from this directory into
-- ../actions.yaml by scripts/sync-chart-crds.ts). Each action only writes what a person would write
-- with kubectl (docs/api.md): a one-shot annotation or spec.suspend. An action that cannot do
-- anything now is listed but disabled.
local actions = {}

local function awaitingApproval()
  if obj.status == nil or obj.status.plan == nil or obj.status.conditions == nil then
    return false
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Reconciling" and c.status == "True" and c.reason == "AwaitingApproval" then
      return true
    end
  end
  return false
end

local suspended = obj.spec ~= nil and obj.spec.suspend == true
local updating = obj.status ~= nil and obj.status.operation ~= nil and obj.status.operation.type == "Update"

actions["reconcile"] = {["disabled"] = suspended}
actions["cancel-update"] = {["disabled"] = not updating}
actions["suspend"] = {["disabled"] = suspended}
actions["resume"] = {["disabled"] = not suspended}
actions["approve"] = {["disabled"] = not awaitingApproval()}
return actions
