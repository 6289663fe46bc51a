-- Approve the plan shown in status.plan (spec.approval.mode Manual, docs/plan-approve.md): the
-- annotation stackoperator.dev/approve set to its id. The operator applies it only while that plan
-- is still the current one, so approving a plan that a later commit replaced does nothing.
if obj.status == nil or obj.status.plan == nil or obj.status.plan.id == nil then
  error("no plan to approve: status.plan is empty")
end
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["stackoperator.dev/approve"] = obj.status.plan.id
return obj
