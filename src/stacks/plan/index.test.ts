// Planner table tests: finalizer, suspend and resolution problems (the dispatcher). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { H_NEW, INPUT, TYPES, provider, stack, view, found, absent, input, cond, expectHealth, applied, appliedOld, updateOp } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: finalizer and suspend', () => {
  it('adds the finalizer before anything else, even with a stack present', () => {
    const step = plan(input(stack({ finalizer: false }), found(view('Complete'))));
    expect(step.action).toEqual({ type: 'addFinalizer' });
    expect(step.next).toEqual({ type: 'replan' });
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
    expect(step.next.type).toBe('await');
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
