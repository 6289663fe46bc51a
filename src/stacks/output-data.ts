// What a Stack's outputs objects hold: the data of the ConfigMap (non-sensitive outputs) and of the
// Secret (all outputs), and a hash of each, stamped on the object so that a later reconcile can tell
// whether it still holds what the stack reports. Pure.
import { createHash } from 'node:crypto';
import type { StackOutput } from '../providers/types.ts';
import { canonicalJson } from '../lib/canonical-json.ts';

export type TargetKind = 'secret' | 'configMap';

/** Annotation on an outputs object: the hash of the data the operator wrote. */
export const OUTPUTS_HASH_ANNOTATION = 'stackoperator.dev/outputs-hash';

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function outputData(outputs: StackOutput[], kind: TargetKind): Record<string, string> {
  return Object.fromEntries(outputs.filter((o) => kind === 'secret' || !o.sensitive).map((o) => [o.key, text(o.value)]));
}

/** Per object: the ConfigMap's hash never covers sensitive values. */
export function outputsHash(outputs: StackOutput[], kind: TargetKind): string {
  return createHash('sha256').update(canonicalJson(outputData(outputs, kind))).digest('hex').slice(0, 32);
}
