-- Cancel the running update now (spec.updatePolicy.cancelMode decides rollback or not): a new value
-- of the one-shot annotation stackoperator.dev/cancel-update (docs/api.md).
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["stackoperator.dev/cancel-update"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
