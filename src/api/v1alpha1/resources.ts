// The REST coordinates of every kind the operator reads or writes. They belong with the API, so the
// controller, the tests and the tools name a resource one way. Structurally a runtime ResourceRef.
import { GROUP, VERSION } from './schemas.ts';

export const STACKS = { group: GROUP, version: VERSION, plural: 'stacks', kind: 'Stack' };
export const STACK_PROVIDERS = { group: GROUP, version: VERSION, plural: 'stackproviders', kind: 'StackProvider' };
export const CLUSTER_STACK_PROVIDERS = { group: GROUP, version: VERSION, plural: 'clusterstackproviders', kind: 'ClusterStackProvider', namespaced: false };
export const SECRETS = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const CONFIG_MAPS = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
export const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
