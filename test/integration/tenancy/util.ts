// Small helpers for the tenancy tests: counts of provider mutations (the emulator is the oracle) and
// reads of plain Kubernetes objects.
import { CONFIG_MAPS, SECRETS } from '../../../src/api/v1alpha1/resources.ts';
import type { KubeObject } from '../../../src/runtime/kube-client.ts';
import type { OperatorEnv } from '../stacks/harness.ts';

export type Counts = { create: number; update: number; delete: number; cancel: number; other: number; rejected: number };

export function mutations(env: OperatorEnv, provider: 'heat' | 'rfs' | 'ros' | 'cloudfoundry', name: string): Counts {
  const out: Counts = { create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0 };
  for (const [k, v] of Object.entries(env.emu.engine.mutationCounts(provider, name))) {
    if (!k.endsWith(`/${name}`)) continue;
    for (const f of Object.keys(out) as (keyof Counts)[]) out[f] += v[f];
  }
  return out;
}

export type Plain = KubeObject & { data?: Record<string, string>; metadata: KubeObject['metadata'] & { ownerReferences?: unknown[] } };

export async function getObject(env: OperatorEnv, kind: 'Secret' | 'ConfigMap', name: string): Promise<Plain | undefined> {
  try {
    return await env.client.get<Plain>(kind === 'Secret' ? SECRETS : CONFIG_MAPS, env.ns, name);
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}
