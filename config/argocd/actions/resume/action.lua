-- spec.suspend: false: the operator reconciles the Stack again.
obj.spec.suspend = false
return obj
