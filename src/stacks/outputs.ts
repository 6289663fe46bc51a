// Writes a Stack's outputs to the Secret (all) and ConfigMap (non-sensitive) its spec names, owned by
// the Stack. The planner decides when (a writeOutputs Step); this file only performs the writes.
import { CONFIG_MAPS, SECRETS } from '../api/v1alpha1/resources.ts';
import type { StackOutput } from '../providers/types.ts';
import { APPLY_PATCH, type KubeClient, type ResourceRef } from '../runtime/kube-client.ts';
import type { StackObject } from './context.ts';
import type { OutputTargets } from './plan/index.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export async function writeOutputs(client: KubeClient, stack: StackObject, targets: OutputTargets, outputs: StackOutput[], signal: AbortSignal): Promise<void> {
  const owner = {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    name: stack.metadata.name,
    uid: stack.metadata.uid,
    controller: true,
    blockOwnerDeletion: false,
  };
  const ns = stack.metadata.namespace;
  const labels = { 'app.kubernetes.io/managed-by': 'stack-operator', 'stackoperator.dev/stack': stack.metadata.name ?? '' };
  const apply = async (r: ResourceRef, name: string, body: Record<string, unknown>): Promise<void> => {
    await client.patch(r, ns, name, { apiVersion: 'v1', kind: r.kind, metadata: { name, namespace: ns, labels, ownerReferences: [owner] }, ...body }, {
      contentType: APPLY_PATCH,
      query: { fieldManager: 'stack-operator', force: true },
      signal,
    });
  };
  if (targets.configMapName) {
    await apply(CONFIG_MAPS, targets.configMapName, { data: Object.fromEntries(outputs.filter((o) => !o.sensitive).map((o) => [o.key, str(o.value)])) });
  }
  if (targets.secretName) {
    await apply(SECRETS, targets.secretName, { type: 'Opaque', stringData: Object.fromEntries(outputs.map((o) => [o.key, str(o.value)])) });
  }
}
