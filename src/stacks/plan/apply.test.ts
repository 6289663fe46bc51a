// Planner table tests: at rest: Ready, resync, outputs, failed outside. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { outputsHash } from '../output-data.ts';
import type { StackPhase } from '../../providers/types.ts';
import { ANNOTATION_RECONCILE_REQUESTED_AT } from '../../api/v1alpha1/types.ts';
import { CAPS, TYPES, H_OLD, INPUT, provider, stack, view, found, input, cond, expectHealth, applied, REF, requeueOf } from './fixtures.test-util.ts';
import { type PlanInput, plan, planOutputsFailure } from './index.ts';

describe('plan: unchanged spec at rest', () => {
  it.each(TYPES)('%s: complete and applied is Ready, resynced slowly with jitter, no mutation', (t) => {
    const step = plan({ ...input(stack({ status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: CAPS[t].nativeDeletionProtection ? false : undefined }))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 600_000, background: true });
  });

  it('jitters the resync interval within +-10%', () => {
    const lo = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0 });
    const hi = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0.999999 });
    expect(lo.next).toEqual({ type: 'requeue', afterMs: 540_000, background: true });
    expect(requeueOf(hi)).toBeCloseTo(660_000, -1);
  });

  it('is a fixed point: planning its own status again changes nothing', () => {
    const first = plan(input(stack({ status: applied }), found(view('Complete'))));
    const again = plan(input(stack({ status: first.status }), found(view('Complete'))));
    expect(again.status).toEqual(first.status);
    expect(again.events).toEqual([]);
  });

  it('copies non-sensitive outputs to status and asks for the outputs objects to be written when they change', () => {
    const v = view('Complete', 'update', { outputs: [{ key: 'url', value: 'http://x' }, { key: 'n', value: 3 }, { key: 'pw', value: 's3cret', sensitive: true }] });
    const outputs = { configMapName: 'web-out' };
    const step = plan(input(stack({ status: applied, spec: { outputs } }), found(v)));
    expect(step.status.outputs).toEqual({ url: 'http://x', n: '3' });
    expect(step.action).toEqual({ type: 'writeOutputs', ref: REF, targets: { configMap: { name: 'web-out' } }, outputs: v.outputs });
    const written = { configMap: { kind: 'ours' as const, resourceVersion: '7', hash: outputsHash(v.outputs ?? [], 'configMap') } };
    const again = plan({ ...input(stack({ status: step.status, spec: { outputs } }), found(v)), outputTargets: written });
    expect(again.action.type).toBe('none');
    const noTargets = plan(input(stack({ status: applied }), found(v)));
    expect(noTargets.action.type).toBe('none');
  });

  it('reports a stack that failed outside the operator as Stalled ProviderStackFailed', () => {
    const step = plan(input(stack({ status: applied }), found(view('Failed', 'update', { reason: 'boom' }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'ProviderStackFailed');
    expect(cond(step, 'Stalled')?.message).toContain('boom');
  });

  it.each(['RolledBack', 'RollbackFailed'] as StackPhase[])('at rest in %s without our operation is Stalled', (phase) => {
    const step = plan(input(stack({ status: applied }), found(view(phase, 'rollback'))));
    expectHealth(step, 'stalled', 'ProviderStackFailed');
  });
});

describe('plan: a failed or rolled-back stack at the applied spec is re-applied when the user asks', () => {
  const stalledAt = (gen: number) => plan(input(stack({ status: applied, generation: gen }), found(view('Failed', 'update', { reason: 'boom' })))).status;

  it('Stalled ProviderStackFailed stays so on every resync: never an update loop', () => {
    const again = plan(input(stack({ status: stalledAt(2) }), found(view('Failed', 'update'))));
    expect(again.action.type).toBe('none');
    expectHealth(again, 'stalled', 'ProviderStackFailed');
  });

  it('a spec change (even one that leaves the desired state as applied) runs an update to it', () => {
    const step = plan(input(stack({ status: stalledAt(1), generation: 2 }), found(view('Failed', 'update'))));
    expect(step.action).toMatchObject({ type: 'update', ref: REF, input: INPUT });
    expectHealth(step, 'progressing', 'Updating');
  });

  it('a new reconcile-requested-at runs an update to it, once', () => {
    const annotations = { [ANNOTATION_RECONCILE_REQUESTED_AT]: 'r1' };
    const step = plan(input(stack({ status: stalledAt(2), annotations }), found(view('RolledBack', 'rollback'))));
    expect(step.action.type).toBe('update');
    // The request handled (the update failed and was given up): the same value asks nothing again.
    const handled = { ...stalledAt(2), lastHandledReconcileRequest: 'r1' };
    expect(plan(input(stack({ status: handled, annotations }), found(view('RolledBack', 'rollback')))).action.type).toBe('none');
  });

  it('after our update of another spec was given up, the spec changed back to the applied one is re-applied', () => {
    const gaveUp = { ...applied, observedGeneration: 2, failures: 3, blockedHash: H_OLD };
    const step = plan(input(stack({ status: gaveUp }), found(view('Failed', 'update'))));
    expect(step.action.type).toBe('update');
    expect(step.status.blockedHash).toBeUndefined();
  });

  it('a Complete stack at the applied spec is Ready, whatever was blocked before', () => {
    const step = plan(input(stack({ status: { ...applied, blockedHash: H_OLD } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'ready', 'Succeeded');
  });
});

describe('plan: outputs are ensured and never take over', () => {
  const v = view('Complete', 'update', { outputs: [{ key: 'url', value: 'http://x' }, { key: 'pw', value: 's3cret', sensitive: true }] });
  const spec = { outputs: { secretName: 'web-secret', configMapName: 'web-cm' } };
  const ours = (kind: 'secret' | 'configMap', hash = outputsHash(v.outputs ?? [], kind)) => ({ kind: 'ours' as const, resourceVersion: '5', hash });
  const at = (outputTargets: PlanInput['outputTargets']) => plan({ ...input(stack({ status: { ...applied, outputs: { url: 'http://x' } }, spec }), found(v)), outputTargets });

  it('a Ready Stack whose outputs objects are in place writes nothing', () => {
    expect(at({ secret: ours('secret'), configMap: ours('configMap') }).action.type).toBe('none');
  });

  it('an outputs object deleted by hand (or outputs added to a Ready Stack) is created again', () => {
    const step = at({ secret: ours('secret'), configMap: { kind: 'absent' } });
    expect(step.action).toEqual({ type: 'writeOutputs', ref: REF, targets: { configMap: { name: 'web-cm' } }, outputs: v.outputs });
    expectHealth(step, 'ready', 'Succeeded');
  });

  it('an object of ours holding something else is replaced at the version it was read at', () => {
    const step = at({ secret: ours('secret', 'stale'), configMap: ours('configMap') });
    expect(step.action).toMatchObject({ type: 'writeOutputs', targets: { secret: { name: 'web-secret', resourceVersion: '5' } } });
  });

  it("someone else's object is never written: Stalled OutputTargetConflict naming the owner, re-checked later", () => {
    const step = at({ secret: { kind: 'foreign', owner: 'controlled by Stack other' }, configMap: { kind: 'absent' } });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'OutputTargetConflict');
    expect(cond(step, 'Stalled')?.message).toContain('controlled by Stack other');
    expect(cond(step, 'Stalled')?.message).toContain('spec.outputs.secretName');
    expect(step.events.map((e) => e.reason)).toEqual(['OutputTargetConflict']);
    expect(requeueOf(step)).toBe(30_000);
  });

  it('the ConfigMap hash never covers sensitive outputs', () => {
    const other = [{ key: 'url', value: 'http://x' }, { key: 'pw', value: 'other', sensitive: true }];
    expect(outputsHash(other, 'configMap')).toBe(outputsHash(v.outputs ?? [], 'configMap'));
    expect(outputsHash(other, 'secret')).not.toBe(outputsHash(v.outputs ?? [], 'secret'));
  });

  it('writing the outputs failed: Reconciling OutputsFailed with a Warning, retried through the backoff', () => {
    const i = { ...input(stack({ status: applied, spec }), found(v)), outputTargets: { configMap: { kind: 'absent' as const } } };
    const f = planOutputsFailure(i, plan(i), 'Secret web-secret is immutable');
    expectHealth(f, 'progressing', 'OutputsFailed');
    expect(cond(f, 'Reconciling')?.message).toContain('immutable');
    expect(f.next.type).toBe('backoff');
    expect(f.events[0]?.type).toBe('Warning');
  });
});
