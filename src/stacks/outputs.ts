// Reads and writes a Stack's outputs objects. The planner decides (plan/outputs.ts); this file only
// observes the Secret / ConfigMap named in spec.outputs and performs a writeOutputs Step: create a
// missing object, or replace ours at the resourceVersion it was read at, so an object that changed
// hands in between is never overwritten (a conflict, retried with backoff).
import { CONFIG_MAPS, SECRETS } from '../api/v1alpha1/resources.ts';
import type { StackOutput } from '../providers/types.ts';
import { isNotFound } from '../runtime/errors.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../runtime/kube-client.ts';
import type { StackObject } from './context.ts';
import { OUTPUTS_HASH_ANNOTATION, type TargetKind, outputData, outputsHash } from './output-data.ts';
import type { OutputTarget, OutputTargets, TargetObservation } from './plan/index.ts';

/** Labels every outputs object carries from its creation (the admission policy keys on managed-by). */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'stack-operator' };

const RESOURCE: Record<TargetKind, ResourceRef> = { secret: SECRETS, configMap: CONFIG_MAPS };

interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** The outputs objects named in spec.outputs, as the planner needs them. */
export async function observeOutputTargets(
  client: KubeClient,
  stack: StackObject,
  signal: AbortSignal,
): Promise<{ secret?: TargetObservation; configMap?: TargetObservation }> {
  const spec = stack.spec.outputs ?? {};
  const out: { secret?: TargetObservation; configMap?: TargetObservation } = {};
  if (spec.secretName) out.secret = await observe(client, stack, 'secret', spec.secretName, signal);
  if (spec.configMapName) out.configMap = await observe(client, stack, 'configMap', spec.configMapName, signal);
  return out;
}

async function observe(client: KubeClient, stack: StackObject, kind: TargetKind, name: string, signal: AbortSignal): Promise<TargetObservation> {
  let obj: KubeObject;
  try {
    obj = await client.get<KubeObject>(RESOURCE[kind], stack.metadata.namespace, name, signal);
  } catch (err) {
    if (isNotFound(err)) return { kind: 'absent' };
    throw err;
  }
  const refs = (obj.metadata as { ownerReferences?: OwnerReference[] }).ownerReferences ?? [];
  const controller = refs.find((r) => r.controller);
  if (controller?.uid !== stack.metadata.uid) {
    return { kind: 'foreign', owner: controller ? `controlled by ${controller.kind ?? '?'} ${controller.name ?? '?'}` : 'no controller owner' };
  }
  const hash = obj.metadata.annotations?.[OUTPUTS_HASH_ANNOTATION];
  return { kind: 'ours', resourceVersion: obj.metadata.resourceVersion ?? '', ...(hash ? { hash } : {}) };
}

export async function writeOutputs(client: KubeClient, stack: StackObject, targets: OutputTargets, outputs: StackOutput[], signal: AbortSignal): Promise<void> {
  for (const kind of ['configMap', 'secret'] as const) {
    const target = targets[kind];
    if (target) await write(client, stack, kind, target, outputs, signal);
  }
}

async function write(client: KubeClient, stack: StackObject, kind: TargetKind, target: OutputTarget, outputs: StackOutput[], signal: AbortSignal): Promise<void> {
  const ns = stack.metadata.namespace;
  const owner = { apiVersion: 'stackoperator.dev/v1alpha1', kind: 'Stack', name: stack.metadata.name, uid: stack.metadata.uid, controller: true, blockOwnerDeletion: false };
  const metadata = {
    name: target.name,
    namespace: ns,
    labels: { ...MANAGED_BY, 'stackoperator.dev/stack': stack.metadata.name ?? '' },
    annotations: { [OUTPUTS_HASH_ANNOTATION]: outputsHash(outputs, kind) },
    ownerReferences: [owner],
    ...(target.resourceVersion ? { resourceVersion: target.resourceVersion } : {}),
  };
  const data = outputData(outputs, kind);
  const body = kind === 'secret' ? { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', stringData: data } : { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
  if (target.resourceVersion) await client.replace(RESOURCE[kind], ns, target.name, body, signal);
  else await client.create(RESOURCE[kind], ns, body, signal);
}
