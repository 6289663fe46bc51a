// Plan, then approve on the other provider types (docs/plan-approve.md), on the real API server with
// the emulator: Cloud Foundry's plan is computed by the operator; ROS and RFS have no preview yet, so
// Manual is refused (Stalled/InvalidSpec) and nothing is created. The emulator's counts are the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, isReady, stackManifest, startOperatorEnv, templateFor } from '../stacks/harness.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { mutations } from '../tenancy/util.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['cloudfoundry', 'ros', 'rfs'] });
});
afterAll(async () => {
  await env?.stop();
});

const MANUAL = { approval: { mode: 'Manual' } };
const awaiting = (s: StackObject): boolean => cond(s, 'Reconciling')?.reason === 'AwaitingApproval' && s.status?.plan?.summary !== undefined;

describe('plan / approve on the other providers', () => {
  it('cloudfoundry: the operator computes the plan, nothing is created until it is approved, then once', async () => {
    await env.apply(stackManifest('gated-cf', 'cloudfoundry', { template: { inline: templateFor('cloudfoundry', 'c') }, parameters: { GREETING: 'hi' }, ...MANUAL }));
    const s = await env.waitStack('gated-cf', awaiting, 'AwaitingApproval');
    expect(s.status?.plan).toMatchObject({ operation: 'Create', summary: { add: 2, change: 0, replace: 0, remove: 0 } });
    expect(s.status?.plan?.changes?.map((c) => c.name)).toEqual(['gated-cf', 'env.GREETING']);
    expect(mutations(env, 'cloudfoundry', 'gated-cf').create).toBe(0);
    const id = s.status?.plan?.id ?? '';
    const r = await kubectl(['annotate', 'stack', 'gated-cf', '-n', env.ns, `stackoperator.dev/approve=${id}`, '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    await env.waitStack('gated-cf', isReady, 'Ready');
    expect(mutations(env, 'cloudfoundry', 'gated-cf').create).toBe(1);
  });

  it.each(['ros', 'rfs'] as const)('%s: Manual is Stalled InvalidSpec (no preview yet) and nothing is created', async (p) => {
    const name = `gated-${p}`;
    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'x') }, ...MANUAL }));
    const s = await env.waitStack(name, (x) => cond(x, 'Stalled')?.reason === 'InvalidSpec', 'Stalled InvalidSpec');
    expect(cond(s, 'Stalled')?.message).toContain(`spec.approval.mode Manual is not supported on provider type ${p}`);
    expect(mutations(env, p, name)).toMatchObject({ create: 0, update: 0 });
  });
});
