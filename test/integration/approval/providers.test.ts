// Plan, then approve on the other provider types (docs/plan-approve.md), on the real API server with
// the emulator: Cloud Foundry's plan is computed by the operator; ROS plans are change sets and RFS
// plans execution plans, executed on approval. The emulator is the oracle: the create / update
// operations its engine ran (a plan runs none; an approval exactly one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, isReady, stackManifest, startOperatorEnv, templateFor } from '../stacks/harness.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { mutations, until } from '../tenancy/util.ts';

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

  it.each(['ros', 'rfs'] as const)('%s: create plan -> approve -> Ready; update plan -> approve; a stale approval is ignored (its superseded provider plan is deleted, see test/integration/providers/plans.test.ts)', async (p) => {
    const name = `gated-${p}`;
    const scope = p === 'ros' ? env.emu.credentials.ros.regionId : env.emu.credentials.rfs.projectId;
    const cloud = () => env.emu.engine.findByName(p, scope, name);
    const applied = () => cloud()?.operations.filter((o) => o.action === 'CREATE' || o.action === 'UPDATE').length ?? 0;
    const output = () => String(env.emu.engine.outputs(cloud()!).find((o) => o.key === 'message')?.value);
    const at = (gen: number) => (x: StackObject) => awaiting(x) && x.status?.plan?.generation === gen;

    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'a') }, ...MANUAL }));
    const s1 = await env.waitStack(name, at(1), 'create plan');
    expect(s1.status?.plan).toMatchObject({ operation: 'Create', summary: { add: 1, change: 0, replace: 0, remove: 0 } });
    expect(s1.status?.plan?.changes?.map((c) => `${c.action}:${c.name}`)).toEqual(['Add:app']);
    expect(s1.status?.plan?.providerPlanId).toBeTruthy();
    expect(cond(s1, 'Ready')?.status).toBe('False');
    // The plan's stack exists (ROS REVIEW_IN_PROGRESS, an empty RFS stack) with nothing applied.
    expect(cloud()?.resources.size).toBe(0);
    expect(applied()).toBe(0);

    const message = cond(s1, 'Reconciling')?.message ?? '';
    const r1 = await kubectl(message.slice(message.indexOf('kubectl annotate')).split(' ').slice(1));
    expect(r1.code, r1.stderr).toBe(0);
    const ready = await env.waitStack(name, (x) => isReady(x) && x.status?.lastAppliedGeneration === 1, 'Ready');
    expect(output()).toBe('a');
    expect(ready.status?.stackId).toBe(cloud()?.id);
    expect(applied()).toBe(1);

    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'b') }, ...MANUAL }));
    const s2 = await env.waitStack(name, at(2), 'update plan');
    expect(s2.status?.plan).toMatchObject({ operation: 'Update', summary: { add: 0, change: 1, replace: 0, remove: 0 } });
    expect(cond(s2, 'Ready')?.status).toBe('True');
    const stale = s2.status!.plan!;

    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'c') }, ...MANUAL }));
    const s3 = await env.waitStack(name, at(3), 'newer plan');
    expect(s3.status?.plan?.providerPlanId).not.toBe(stale.providerPlanId);
    const r2 = await kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/approve=${stale.id}`, '--overwrite']);
    expect(r2.code, r2.stderr).toBe(0);
    await env.waitStack(name, (x) => x.status?.lastHandledApproval === stale.id, 'stale approval handled');
    const still = await env.waitStack(name, at(3), 'still awaiting');
    expect(still.status?.plan?.id).toBe(s3.status?.plan?.id);
    expect(applied()).toBe(1);

    const r3 = await kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/approve=${s3.status!.plan!.id}`, '--overwrite']);
    expect(r3.code, r3.stderr).toBe(0);
    const done = await env.waitStack(name, (x) => isReady(x) && x.status?.lastAppliedGeneration === 3, 'Ready at generation 3');
    expect(output()).toBe('c');
    expect(done.status?.operation).toBeUndefined();
    await until('one more reconcile settles', async () => applied() === 2);
    expect(applied()).toBe(2);
    expect(mutations(env, p, name).delete).toBe(0);
  });

  it('ros: an approved change set made OBSOLETE outside Kubernetes is refused; reconcile-requested-at makes a new plan, which applies', async () => {
    const name = 'stale-ros';
    const cloud = () => env.emu.engine.findByName('ros', env.emu.credentials.ros.regionId, name);
    const at = (gen: number) => (x: StackObject) => awaiting(x) && x.status?.plan?.generation === gen;
    const approve = async (id: string) => {
      const r = await kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/approve=${id}`, '--overwrite']);
      expect(r.code, r.stderr).toBe(0);
    };
    await env.apply(stackManifest(name, 'ros', { template: { inline: templateFor('ros', 'a') }, ...MANUAL }));
    await approve((await env.waitStack(name, at(1), 'create plan')).status!.plan!.id);
    await env.waitStack(name, (x) => isReady(x) && x.status?.lastAppliedGeneration === 1, 'Ready');
    await env.apply(stackManifest(name, 'ros', { template: { inline: templateFor('ros', 'b') }, ...MANUAL }));
    const planned = await env.waitStack(name, at(2), 'update plan');
    // Someone updates the stack on ROS itself: the change set shown for approval no longer applies.
    env.emu.engine.update(cloud()!.id, { params: {}, paramMode: 'patch' });
    await until('the outside update ends', () => cloud()?.status === 'COMPLETE');
    await approve(planned.status!.plan!.id);
    const refused = await env.waitStack(name, (x) => cond(x, 'Stalled')?.reason === 'InvalidSpec', 'execution refused');
    expect(cond(refused, 'Stalled')?.message).toContain('OBSOLETE');
    expect(cond(refused, 'Stalled')?.message).toContain('reconcile-requested-at to make a new plan');
    const r = await kubectl(['annotate', 'stack', name, '-n', env.ns, 'stackoperator.dev/reconcile-requested-at=r1', '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    const fresh = await env.waitStack(name, (x) => at(2)(x) && x.status?.plan?.id !== planned.status?.plan?.id, 'a new plan');
    expect(fresh.status?.plan?.providerPlanId).not.toBe(planned.status?.plan?.providerPlanId);
    await approve(fresh.status!.plan!.id);
    await env.waitStack(name, (x) => isReady(x) && x.status?.lastAppliedGeneration === 2, 'Ready at generation 2');
    expect(String(env.emu.engine.outputs(cloud()!).find((o) => o.key === 'message')?.value)).toBe('b');
  });

  it.each(['ros', 'rfs'] as const)('%s: deleting a Stack whose create plan waits deletes the plan\'s stack (nothing leaks)', async (p) => {
    const name = `gated-del-${p}`;
    const scope = p === 'ros' ? env.emu.credentials.ros.regionId : env.emu.credentials.rfs.projectId;
    await env.apply(stackManifest(name, p, { template: { inline: templateFor(p, 'x') }, ...MANUAL }));
    await env.waitStack(name, awaiting, 'create plan');
    expect(env.emu.engine.findByName(p, scope, name)).toBeDefined();
    const d = await kubectl(['delete', 'stack', name, '-n', env.ns]);
    expect(d.code, d.stderr).toBe(0);
    await env.waitGone(name);
    expect(env.emu.engine.findByName(p, scope, name)).toBeUndefined();
  });
});
