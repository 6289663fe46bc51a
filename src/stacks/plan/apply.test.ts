// Planner table tests: at rest: Ready, resync, outputs, failed outside. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import type { StackPhase } from '../../providers/types.ts';
import { CAPS, TYPES, provider, stack, view, found, input, cond, expectHealth, applied, REF, requeueOf } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: unchanged spec at rest', () => {
  it.each(TYPES)('%s: complete and applied is Ready, resynced slowly with jitter, no mutation', (t) => {
    const step = plan({ ...input(stack({ status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: CAPS[t].nativeDeletionProtection ? false : undefined }))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 600_000 });
  });

  it('jitters the resync interval within +-10%', () => {
    const lo = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0 });
    const hi = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0.999999 });
    expect(lo.next).toEqual({ type: 'requeue', afterMs: 540_000 });
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
    expect(step.action).toEqual({ type: 'writeOutputs', ref: REF, targets: outputs, outputs: v.outputs });
    const again = plan(input(stack({ status: step.status, spec: { outputs } }), found(v)));
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
