// Planner table tests: finalizer, suspend and resolution problems (the dispatcher). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_ADOPT } from '../../api/v1alpha1/types.ts';
import { H_NEW, INPUT, NOW, TYPES, provider, stack, view, found, absent, input, cond, expectHealth, applied, appliedOld, updateOp, requeueOf } from './fixtures.test-util.ts';
import { type Observed, plan } from './index.ts';

describe('plan: finalizer and suspend', () => {
  it('adds the finalizer before anything else, even with a stack present', () => {
    const step = plan(input(stack({ finalizer: false }), found(view('Complete'))));
    expect(step.action).toEqual({ type: 'addFinalizer' });
    // The finalizer's own watch event starts the next reconcile (no second one in this reconcile).
    expect(step.next).toEqual({ type: 'await' });
  });

  it.each(TYPES)('%s: suspended makes no provider call and keeps Ready with reason Suspended', (t) => {
    const prev = plan({ ...input(stack({ status: applied }), found(view('Complete'))), provider: provider(t), desired: { hash: H_NEW, input: INPUT } });
    const step = plan({ ...input(stack({ spec: { suspend: true }, status: prev.status }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Ready')?.status).toBe('True');
    expect(cond(step, 'Ready')?.reason).toBe('Suspended');
    expect(step.next.type).toBe('await');
  });

  it('suspended without a previous Ready leaves it Unknown', () => {
    const step = plan(input(stack({ spec: { suspend: true } }), absent));
    expect(cond(step, 'Ready')?.status).toBe('Unknown');
  });

  it('without the finalizer and deleting: nothing to do', () => {
    const step = plan(input(stack({ finalizer: false, deleting: true }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
  });
});

describe('plan: resolution problems', () => {
  it('a missing provider is Stalled ProviderNotFound with one Warning', () => {
    const step = plan({ ...input(stack({ status: applied }), { kind: 'unknown' }), provider: { error: { reason: 'ProviderNotFound', message: 'StackProvider p not found' } } });
    expectHealth(step, 'stalled', 'ProviderNotFound');
    // Re-checked by itself (the object may appear): 30 s after stalling at first.
    expect(step.next).toEqual({ type: 'requeue', afterMs: 30_000 });
    expect(step.events[0]?.type).toBe('Warning');
  });

  it('a provider not Ready yet is retried, not Stalled', () => {
    const step = plan({ ...input(stack(), { kind: 'unknown' }), provider: { error: { reason: 'ProviderNotReady', message: 'not ready', transient: true } } });
    expectHealth(step, 'progressing', 'ProviderNotReady');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 30_000 });
  });

  it('a missing template ConfigMap is Stalled TemplateNotFound', () => {
    const step = plan({ ...input(stack({ status: applied }), found(view('Complete'))), desired: { error: { reason: 'TemplateNotFound', message: 'ConfigMap tpl not found' } } });
    expectHealth(step, 'stalled', 'TemplateNotFound');
    expect(step.action.type).toBe('none');
  });

  it('deletion proceeds even when the template cannot be resolved', () => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), desired: { error: { reason: 'TemplateNotFound', message: 'gone' } } });
    expect(step.action.type).toBe('delete');
  });

  it('a running update is still polled when the template cannot be resolved', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan({ ...input(stack({ status: st }), found(view('InProgress'))), desired: { error: { reason: 'TemplateNotFound', message: 'gone' } } });
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });
});

describe('plan: recovery from a Stalled reference', () => {
  const missing = { error: { reason: 'TemplateNotFound' as const, message: 'template ConfigMap ns/tpl not found' } };
  const stalledSince = (ms: number) => plan({ ...input(stack({ status: applied }), found(view('Complete'))), desired: missing, now: NOW - ms }).status;

  it('re-checks as long again as it has been stalled, at least 30 s', () => {
    const fresh = plan({ ...input(stack({ status: stalledSince(5_000) }), found(view('Complete'))), desired: missing });
    expect(requeueOf(fresh)).toBe(30_000);
    const older = plan({ ...input(stack({ status: stalledSince(120_000) }), found(view('Complete'))), desired: missing });
    expect(requeueOf(older)).toBe(120_000);
  });

  it('never waits longer than the resync cap', () => {
    const old = plan({ ...input(stack({ status: stalledSince(86_400_000) }), found(view('Complete'))), desired: missing, settings: { recheckCapMs: 600_000 } });
    expect(requeueOf(old)).toBe(600_000);
  });

  it('becomes Ready by itself once the reference resolves', () => {
    const step = plan(input(stack({ status: stalledSince(60_000) }), found(view('Complete'))));
    expectHealth(step, 'ready', 'Succeeded');
  });
});

describe('plan: adoption (tenant safety)', () => {
  const foreign = (ownerUid: string | undefined, ownerLive?: boolean): Observed => ({
    kind: 'found',
    view: { ...view('Complete'), ownerUid },
    ...(ownerLive === undefined ? {} : { ownerLive }),
  });
  const adopt = { [ANNOTATION_ADOPT]: 'true' };

  it('adopts a stack left by a Stack that no longer exists (Retain, then adopt)', () => {
    const step = plan(input(stack({ annotations: adopt }), foreign('uid-gone', false)));
    expect(step.status.stackId).toBe('id-1');
    expect(step.events.map((e) => e.reason)).toContain('Adopted');
  });

  it('never adopts a stack owned by a live Stack', () => {
    const step = plan(input(stack({ annotations: adopt }), foreign('uid-live', true)));
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Stalled')?.message).toContain('never adopted');
  });

  it('an owner that could not be looked up counts as live', () => {
    expectHealth(plan(input(stack({ annotations: adopt }), foreign('uid-unknown'))), 'stalled', 'StackNameConflict');
  });

  it('a provider with adoption Disallowed refuses the annotation, and says so', () => {
    const step = plan({ ...input(stack({ annotations: adopt }), foreign(undefined)), provider: { ...provider(), adoption: 'Disallowed' } });
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Stalled')?.message).toContain('adoption: Disallowed');
  });
});
