-- Reconcile now, and retry a stalled generation: a new value of the one-shot annotation
-- stackoperator.dev/reconcile-requested-at (docs/api.md). The time is the token, so two requests
-- within one second count once.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["stackoperator.dev/reconcile-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
