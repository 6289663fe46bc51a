// Plan, then approve, end to end (issue 17, docs/plan-approve.md): the real operator on the real API
// server against the emulator's Heat API over HTTP. The emulator's mutation counts are the oracle: a
// Manual Stack makes no create / update until its current plan is approved, then exactly one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../env/kube.ts';
import { type OperatorEnv, cond, hot, isReady, stackManifest, startOperatorEnv } from '../stacks/harness.ts';
import type { StackObject } from '../../../src/stacks/context.ts';
import { mutations, until } from '../tenancy/util.ts';

let env: OperatorEnv;
beforeAll(async () => {
  env = await startOperatorEnv({ providers: ['heat'] });
});
afterAll(async () => {
  await env?.stop();
});

const MANUAL = { approval: { mode: 'Manual' } };
const awaiting = (s: StackObject): boolean =>
  cond(s, 'Reconciling')?.reason === 'AwaitingApproval' && s.status?.plan?.generation === s.metadata.generation && s.status?.plan?.summary !== undefined;

/** The command the AwaitingApproval message gives, run as written (what docs/plan-approve.md tells users to do). */
async function runApproveCommand(s: StackObject): Promise<void> {
  const message = cond(s, 'Reconciling')?.message ?? '';
  const command = message.slice(message.indexOf('kubectl annotate'));
  expect(command).toMatch(/^kubectl annotate stack \S+ -n \S+ stackoperator\.dev\/approve=[0-9a-f]{10} --overwrite$/);
  const r = await kubectl(command.split(' ').slice(1));
  expect(r.code, r.stderr).toBe(0);
}

async function annotate(name: string, id: string): Promise<void> {
  const r = await kubectl(['annotate', 'stack', name, '-n', env.ns, `stackoperator.dev/approve=${id}`, '--overwrite']);
  expect(r.code, r.stderr).toBe(0);
}

async function eventReasons(name: string): Promise<string[]> {
  const r = await kubectl(['get', 'events', '-n', env.ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  const items = (JSON.parse(r.stdout) as { items: { reason?: string }[] }).items;
  return items.map((e) => e.reason ?? '');
}

describe('plan / approve on heat', () => {
  it('Manual create waits with AwaitingApproval and creates nothing; approving applies it exactly once', async () => {
    await env.apply(stackManifest('gated', 'heat', { template: { inline: hot('a') }, ...MANUAL }));
    const s = await env.waitStack('gated', awaiting, 'AwaitingApproval');
    expect(s.status?.plan).toMatchObject({ operation: 'Create', generation: 1, summary: { add: 1, change: 0, replace: 0, remove: 0 }, truncated: false });
    expect(s.status?.plan?.changes).toEqual([{ name: 'app', type: 'OS::Heat::TestResource', action: 'Add', replacement: false }]);
    const id = s.status?.plan?.id ?? '';
    expect(cond(s, 'Reconciling')?.message).toContain(`plan ${id}`);
    expect(cond(s, 'Ready')?.status).toBe('False');
    expect(mutations(env, 'heat', 'gated').create).toBe(0);
    expect(env.emu.engine.findByName('heat', env.emu.credentials.keystone.projectId, 'gated')).toBeUndefined();

    await runApproveCommand(s);
    const ready = await env.waitStack('gated', isReady, 'Ready');
    expect(ready.status?.lastHandledApproval).toBe(id);
    expect(mutations(env, 'heat', 'gated')).toMatchObject({ create: 1, update: 0 });
    expect(await eventReasons('gated')).toEqual(expect.arrayContaining(['PlanCreated', 'PlanApproved']));
  });

  it('an update is planned by Heat preview, shown by kubectl get -o wide, and a stale approval is ignored', async () => {
    await env.apply(stackManifest('gated', 'heat', { template: { inline: hot('b') }, ...MANUAL }));
    const planned = await env.waitStack('gated', (s) => awaiting(s) && s.metadata.generation === 2, 'update plan');
    expect(planned.status?.plan).toMatchObject({ operation: 'Update', summary: { add: 0, change: 1, replace: 0, remove: 0 } });
    expect(cond(planned, 'Ready')?.status).toBe('True'); // the stack as last applied is still fine
    const wide = await kubectl(['get', 'stacks', 'gated', '-n', env.ns, '-o', 'wide']);
    expect(wide.stdout).toMatch(/PLAN\s+PLAN SUMMARY/);
    expect(wide.stdout).toContain(`${planned.status?.plan?.id}   0 to add, 1 to change, 0 to replace, 0 to remove`);
    const staleId = planned.status?.plan?.id ?? '';

    // The spec moves on before the approval arrives: the approval names a plan that no longer holds.
    await env.apply(stackManifest('gated', 'heat', { template: { inline: hot('c') }, ...MANUAL }));
    const replanned = await env.waitStack('gated', (s) => awaiting(s) && s.metadata.generation === 3, 'new plan');
    expect(replanned.status?.plan?.id).not.toBe(staleId);
    await annotate('gated', staleId);
    await env.waitStack('gated', (s) => s.status?.lastHandledApproval === staleId, 'stale approval handled');
    await until('StaleApproval event', async () => (await eventReasons('gated')).includes('StaleApproval'));
    const still = await env.waitStack('gated', awaiting, 'still awaiting');
    expect(still.status?.plan?.id).toBe(replanned.status?.plan?.id);
    expect(mutations(env, 'heat', 'gated').update).toBe(0);

    await runApproveCommand(still);
    const done = await env.waitStack('gated', (s) => isReady(s) && s.status?.lastAppliedGeneration === 3, 'Ready at generation 3');
    expect(done.status?.outputs?.['message']).toContain('c');
    expect(mutations(env, 'heat', 'gated')).toMatchObject({ create: 1, update: 1 });
  });

  it('deletion is not gated', async () => {
    await env.apply(stackManifest('gated', 'heat', { template: { inline: hot('d') }, ...MANUAL }));
    await env.waitStack('gated', (s) => awaiting(s) && s.metadata.generation === 4, 'plan');
    const d = await kubectl(['delete', 'stack', 'gated', '-n', env.ns]);
    expect(d.code, d.stderr).toBe(0);
    await env.waitGone('gated');
    expect(mutations(env, 'heat', 'gated')).toMatchObject({ update: 1, delete: 1 });
  });
});
