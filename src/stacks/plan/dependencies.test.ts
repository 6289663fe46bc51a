// Planner table tests: dependencies between Stacks (docs/dependencies.md). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import type { ResolveReader } from '../resolve.ts';
import { resolveDesired } from '../resolve.ts';
import { NOW, absent, applied, cond, expectHealth, found, input, stack, view } from './fixtures.test-util.ts';
import { type DependencyFacts, type PlanInput, plan } from './index.ts';

const ready = (name: string, outputs: Record<string, string> = {}): DependencyFacts => ({ name, exists: true, ready: true, readyReason: 'Succeeded', outputs });
const notReady = (name: string, reason = 'Creating'): DependencyFacts => ({ name, exists: true, ready: false, readyReason: reason, outputs: {} });
const net = { parametersFrom: [{ kind: 'Stack' as const, name: 'net', key: 'subnet_id', parameter: 'subnet' }] };
const withDeps = (s: ReturnType<typeof stack>, observed: PlanInput['observed'], dependencies: DependencyFacts[], extra: Partial<PlanInput> = {}) =>
  plan({ ...input(s, observed), dependencies, ...extra });
const message = (step: ReturnType<typeof plan>) => cond(step, 'Reconciling')?.message ?? '';

describe('plan: waiting for dependencies', () => {
  it.each([
    ['does not exist', { name: 'net', exists: false }],
    ['is being deleted', { ...ready('net'), deleting: true }],
    ['is not Ready at its current generation (Creating)', notReady('net')],
  ] as [string, DependencyFacts][])('a dependency that %s: WaitingForDependencies naming it, no provider call', (why, dep) => {
    const step = withDeps(stack({ spec: { dependsOn: [{ name: 'net' }] } }), absent, [dep]);
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForDependencies');
    expect(message(step)).toContain(`Stack net ${why}`);
    expect(step.next.type).toBe('requeue');
  });

  it('names every dependency that is not satisfied, and only those', () => {
    const step = withDeps(stack({ spec: { dependsOn: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } }), absent, [notReady('a'), ready('b'), { name: 'c', exists: false }]);
    expect(message(step)).toMatch(/Stack a is not Ready.*Stack c does not exist/);
    expect(message(step)).not.toContain('Stack b');
  });

  it('all dependencies Ready (with the outputs it reads): the create goes ahead', () => {
    const step = withDeps(stack({ spec: { dependsOn: [{ name: 'db' }], ...net } }), absent, [ready('db'), ready('net', { subnet_id: 's-1' })]);
    expect(step.action.type).toBe('create');
  });

  it('a Ready dependency without the output read from it: waits, naming the output and why sensitive ones never count', () => {
    const step = withDeps(stack({ spec: net }), absent, [ready('net', { other: 'x' })]);
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForDependencies');
    expect(message(step)).toContain('Stack net has no output subnet_id');
    expect(message(step)).toContain('non-sensitive');
  });

  it('a dependency deleted under a Ready Stack: it waits and never touches its cloud stack', () => {
    const step = withDeps(stack({ status: applied, spec: net }), found(view('Complete')), [{ name: 'net', exists: false }]);
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForDependencies');
  });

  it('a dependency being updated (not Ready at its new generation) holds the dependent update', () => {
    const step = withDeps(stack({ status: { ...applied, lastAppliedHash: 'old' }, spec: net }), found(view('Complete')), [notReady('net', 'Updating')]);
    expect(step.action.type).toBe('none');
    expect(message(step)).toContain('(Updating)');
  });

  it('an update already running is polled even while a dependency is not Ready', () => {
    const st = { ...applied, operation: { type: 'Update' as const, generation: 2, hash: 'hash-new', token: 't', startedAt: '2026-11-22T11:59:00Z', issuedAt: '2026-11-22T11:59:00Z' } };
    const step = withDeps(stack({ status: st, spec: net }), found(view('InProgress')), [notReady('net')]);
    expectHealth(step, 'progressing', 'Updating');
  });
});

describe('plan: suspend of a dependency', () => {
  it('a suspended dependency that is Ready at its generation satisfies its dependents (its stack and outputs stand)', () => {
    const step = withDeps(stack({ spec: net }), absent, [{ ...ready('net', { subnet_id: 's-1' }), suspended: true, readyReason: 'Suspended' }]);
    expect(step.action.type).toBe('create');
  });

  it('a suspended dependency that is not Ready: waits, saying it is suspended', () => {
    const step = withDeps(stack({ spec: net }), absent, [{ ...notReady('net', 'Suspended'), suspended: true }]);
    expect(step.action.type).toBe('none');
    expect(message(step)).toContain('(suspended, Suspended)');
  });
});

describe('plan: dependency cycle', () => {
  it('is Stalled DependencyCycle naming the cycle, with one Warning event, re-checked later', () => {
    const s = stack({ spec: { dependsOn: [{ name: 'b' }] } });
    const step = withDeps(s, absent, [ready('b')], { dependencyCycle: ['web', 'b', 'web'] });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'DependencyCycle');
    expect(cond(step, 'Stalled')?.message).toContain('web -> b -> web');
    expect(step.events.map((e) => e.reason)).toEqual(['DependencyCycle']);
    expect(step.next.type).toBe('requeue');
    const again = withDeps(stack({ spec: { dependsOn: [{ name: 'b' }] }, status: step.status }), absent, [ready('b')], { dependencyCycle: ['web', 'b', 'web'] });
    expect(again.events).toEqual([]);
  });
});

describe('plan: deletion and dependents', () => {
  it('dependents block the deletion: DependentsExist naming them, the cloud stack stays', () => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), dependents: ['app', 'db'] });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'DependentsExist');
    expect(message(step)).toContain('app, db');
    expect(step.next.type).toBe('requeue');
  });

  it('once the dependents are gone the delete is sent', () => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), dependents: [] });
    expect(step.action.type).toBe('delete');
  });

  it('deletionPolicy Retain is never blocked by dependents', () => {
    const step = plan({ ...input(stack({ deleting: true, status: applied, spec: { deletionPolicy: 'Retain' } }), { kind: 'unknown' }), dependents: ['app'] });
    expect(step.action).toEqual({ type: 'removeFinalizer' });
  });
});

describe('desired state: an output read from a Stack', () => {
  const reader: ResolveReader = { secret: async () => undefined, configMap: async () => undefined, namespaceLabels: async () => ({}) };
  const s = stack({ spec: { ...net, template: { inline: { heat_template_version: '2018-08-31' } } } });

  it('becomes the parameter; a changed value is a new hash, so the dependent updates with a new token', async () => {
    const v1 = await resolveDesired(s, 'heat', reader, () => ({ subnet_id: 's-1' }));
    const v2 = await resolveDesired(s, 'heat', reader, () => ({ subnet_id: 's-2' }));
    if (!('ok' in v1) || !('ok' in v2)) throw new Error('not resolved');
    expect(v1.ok.input.parameters).toEqual({ subnet: 's-1' });
    expect(v2.ok.hash).not.toBe(v1.ok.hash);
    const deps = [ready('net', { subnet_id: 's-2' })];
    const step = plan({ ...input(stack({ spec: net, status: { ...applied, lastAppliedHash: v1.ok.hash } }), found(view('Complete'))), desired: v2.ok, dependencies: deps });
    expect(step.action.type).toBe('update');
    if (step.action.type !== 'update') return;
    expect(step.action.input.parameters).toEqual({ subnet: 's-2' });
    const same = plan({ ...input(stack({ spec: net, status: { ...applied, lastAppliedHash: v1.ok.hash } }), found(view('Complete'))), desired: v1.ok, dependencies: deps, now: NOW });
    expect(same.action.type).not.toBe('update');
  });

  it('an output not there yet is a transient wait, never a parameter left out', async () => {
    const r = await resolveDesired(s, 'heat', reader, () => ({}));
    expect(r).toMatchObject({ error: { reason: 'WaitingForDependencies', transient: true } });
  });
});

describe('plan: approval of a dependent (plan/approve and dependencies together)', () => {
  const manual = { approval: { mode: 'Manual' as const }, dependsOn: [{ name: 'net' }] };
  const previewing = (i: PlanInput): PlanInput => ({ ...i, provider: 'error' in i.provider ? i.provider : { ...i.provider, preview: true } });

  it('a Manual dependent waits for its dependencies first: no plan is made for a state that cannot apply yet', () => {
    const step = plan(previewing({ ...input(stack({ spec: manual }), absent), dependencies: [notReady('net')] }));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForDependencies');
    expect(step.status.plan).toBeUndefined();
  });

  it('once its dependencies are Ready, the Manual dependent previews and waits for approval', () => {
    const step = plan(previewing({ ...input(stack({ spec: manual }), absent), dependencies: [ready('net')] }));
    expect(step.action).toMatchObject({ type: 'preview', operation: 'Create' });
  });
});
