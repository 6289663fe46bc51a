// What counts as a change (correctness issue, items 4 and 5): a parametersFrom Secret that changes
// twice within one generation is applied both times (a new idempotency token each time, or ROS would
// answer the second as a mismatched replay and Cloud Foundry would skip it); a setting that is never
// sent on update (ros cancelType) causes no update call. The emulator's call counts are the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { mutations, until } from '../tenancy/util.ts';
import { type OperatorEnv, cond, isReady, stackManifest, startOperatorEnv, templateFor } from './harness.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['ros'] });
});

/**
 * A reconcile of every Stack of the provider without touching the Stacks (Secrets are not watched: a
 * change is picked up at the next reconcile, normally the resync): a changed provider spec re-plans them.
 */
let burst = 400;
async function reconcileAll(): Promise<void> {
  burst += 1;
  const r = await kubectl(['patch', 'stackprovider', 'ros', '-n', env.ns, '--type=merge', '-p', JSON.stringify({ spec: { rateLimit: { qps: 200, burst } } })]);
  expect(r.code, r.stderr).toBe(0);
}
afterAll(async () => env?.stop());

const secret = (value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ros-params' }, stringData: { message: value } });

describe('desired-state changes', () => {
  it('a parametersFrom Secret changed twice within one generation is applied twice', async () => {
    await env.apply(secret('one'));
    await env.apply(stackManifest('pf', 'ros', { template: { inline: templateFor('ros', 'x') }, parametersFrom: [{ kind: 'Secret', name: 'ros-params' }] }));
    const first = await env.waitStack('pf', (s) => isReady(s) && s.status?.outputs?.message === 'one', 'Ready with one');
    for (const value of ['two', 'three']) {
      await env.apply(secret(value));
      await reconcileAll();
      const s = await env.waitStack('pf', (x) => isReady(x) && x.status?.outputs?.message === value, `Ready with ${value}`);
      expect(s.metadata.generation).toBe(first.metadata.generation);
    }
    const c = mutations(env, 'ros', 'pf');
    expect(c.create).toBe(1);
    expect(c.update).toBe(2);
    expect(c.rejected).toBe(0);
  });

  it('a change of ros cancelType (never sent on update) causes no update call', async () => {
    await env.apply(stackManifest('ct', 'ros', { template: { inline: templateFor('ros', 'c') }, providerOptions: { ros: { cancelType: 'Safe' } } }));
    await env.waitStack('ct', isReady, 'Ready');
    const before = mutations(env, 'ros', 'ct');
    const r = await kubectl(['patch', 'stack', 'ct', '-n', env.ns, '--type=merge', '-p', '{"spec":{"providerOptions":{"ros":{"cancelType":"Quick"}}}}']);
    expect(r.code, r.stderr).toBe(0);
    const s = await until('the new generation observed', async () => {
      const x = await env.getStack('ct');
      return x && x.status?.observedGeneration === x.metadata.generation && cond(x, 'Ready')?.status === 'True' ? x : undefined;
    });
    expect(cond(s, 'Ready')?.reason).toBe('Succeeded');
    // Planned again later (a provider change re-plans it): still no update.
    await reconcileAll();
    await new Promise((res) => setTimeout(res, 2500));
    expect(mutations(env, 'ros', 'ct')).toEqual(before);
  });
});
