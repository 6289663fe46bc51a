-- spec.suspend: true: the operator makes no provider calls for this Stack. If spec.suspend is also
-- in git with another value, Argo CD shows the Stack OutOfSync (and self-heal reverts it).
obj.spec.suspend = true
return obj
