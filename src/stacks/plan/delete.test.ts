// Planner table tests: deletion and deletion protection. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import type { ProviderType } from '../../providers/types.ts';
import { operationToken } from '../desired.ts';
import { NOW, UID, H_NEW, INPUT, TYPES, provider, stack, view, found, absent, input, cond, expectHealth, applied, appliedOld, updateOp, REF } from './fixtures.test-util.ts';
import { type Observed, plan } from './index.ts';

describe('plan: deletion', () => {
  it.each(TYPES)('%s: Delete policy deletes a settled stack with the id guard and a token', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), provider: provider(t) });
    expect(step.action).toEqual({ type: 'delete', retainResources: false, token: operationToken(UID, 2, 'delete', 0), ref: REF });
    expect(step.status.operation?.type).toBe('Delete');
    expectHealth(step, 'progressing', 'Deleting');
  });

  it('polls while the delete runs', () => {
    const st = { ...applied, operation: { type: 'Delete' as const, generation: 2, token: 't', startedAt: '2026-11-22T11:59:00Z', issuedAt: '2026-11-22T11:59:00Z' } };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('InProgress', 'delete'))));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });

  it.each([['absent', absent], ['DELETE_COMPLETE', found(view('Deleted', 'delete'))]] as [string, Observed][])(
    'releases the finalizer once the stack is %s',
    (_n, obs) => {
      const step = plan(input(stack({ deleting: true, status: applied }), obs));
      expect(step.action).toEqual({ type: 'removeFinalizer' });
    },
  );

  it('DELETE_FAILED keeps the finalizer and retries with backoff, with the reason in the condition', () => {
    const st = { ...applied, operation: { type: 'Delete' as const, generation: 2, token: 't', startedAt: '2026-11-22T11:59:00Z', issuedAt: '2026-11-22T11:59:00Z' } };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('DeleteFailed', 'delete', { reason: 'port in use' }))));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 30_000 });
    expect(cond(step, 'Ready')?.reason).toBe('DeleteFailed');
    expect(cond(step, 'Ready')?.message).toContain('port in use');
    const retry = plan({ ...input(stack({ deleting: true, status: step.status }), found(view('DeleteFailed', 'delete'))), now: NOW + 31_000 });
    expect(retry.action).toMatchObject({ type: 'delete', token: operationToken(UID, 2, 'delete', 1) });
  });

  it('Retain releases the finalizer without any provider call', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { deletionPolicy: 'Retain' } }), { kind: 'unknown' }));
    expect(step.action).toEqual({ type: 'removeFinalizer' });
    expect(step.events[0]?.reason).toBe('Retained');
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: RetainResources deletes the record and keeps the resources', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: false }, spec: { deletionPolicy: 'RetainResources' } }), found(view('Complete', 'update', { deletionProtection: false }))), provider: provider(t) });
    expect(step.action).toMatchObject({ type: 'delete', retainResources: true });
  });

  it.each(['heat', 'cloudfoundry'] as ProviderType[])('%s: RetainResources is Stalled where the provider cannot retain', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied, spec: { deletionPolicy: 'RetainResources' } }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'RetainResourcesUnsupported');
  });

  it('cancels a running update first when the Stack is deleted', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('InProgress'))));
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation?.cancelReason).toBe('Deleting');
  });

  it('rfs: waits for a running update to end before deleting', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan({ ...input(stack({ deleting: true, status: st }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Reconciling')?.message).toContain('cannot cancel');
  });

  it('deletes after the cancelled update settled', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'Deleting' }) };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('RolledBack', 'rollback'))));
    expect(step.action.type).toBe('delete');
  });

  it('never deletes a same-name stack owned by someone else: releases instead', () => {
    const step = plan(input(stack({ deleting: true, status: {} }), found(view('Complete', 'create', { ownerUid: 'other', id: 'id-9' }))));
    expect(step.action).toEqual({ type: 'removeFinalizer' });
  });

  it('deleting while suspended waits and says how to proceed', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { suspend: true } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Ready')?.reason).toBe('Suspended');
  });
});

describe('plan: deletion protection', () => {
  it.each(TYPES)('%s: a protected Stack deleted anyway keeps its finalizer: Stalled DeletionProtected + Warning', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied, spec: { deletionProtection: true } }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'DeletionProtected');
    expect(cond(step, 'Stalled')?.message).toContain('spec.deletionProtection to false');
    expect(step.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'DeletionProtected' })]);
  });

  it('the Warning is not repeated on every reconcile', () => {
    const first = plan(input(stack({ deleting: true, status: applied, spec: { deletionProtection: true } }), found(view('Complete'))));
    const again = plan(input(stack({ deleting: true, status: first.status, spec: { deletionProtection: true } }), found(view('Complete'))));
    expect(again.events).toEqual([]);
  });

  it('protected + Retain releases (Retain unblocks)', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { deletionProtection: true, deletionPolicy: 'Retain' } }), found(view('Complete'))));
    expect(step.action.type).toBe('removeFinalizer');
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: mirrors spec.deletionProtection to the provider flag', (t) => {
    const step = plan({ ...input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: false }))), provider: provider(t) });
    expect(step.action).toMatchObject({ type: 'setDeletionProtection', enabled: true });
    expect(step.afterCall?.mirroredDeletionProtection).toBe(true);
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: a create records the protection it set as mirrored, so unprotecting later lifts it', (t) => {
    const step = plan({ ...input(stack({ spec: { deletionProtection: true } }), absent), provider: provider(t) });
    expect(step.afterCall?.mirroredDeletionProtection).toBe(true);
    const lift = plan({
      ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: true } }), found(view('Complete', 'create', { deletionProtection: true }))),
      provider: provider(t),
    });
    expect(lift.action).toMatchObject({ type: 'setDeletionProtection', enabled: false });
  });

  it('heat (no native flag) never calls setDeletionProtection', () => {
    const step = plan(input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
  });

  it('a provider flag set outside Kubernetes is left alone at rest', () => {
    const step = plan({ ...input(stack({ status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expect(step.status.deletionProtection).toBe(true);
  });

  it('a provider flag set outside Kubernetes blocks deletion', () => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'DeletionProtected');
    expect(cond(step, 'Stalled')?.message).toContain('outside Kubernetes');
  });

  it('a flag we mirrored is lifted when the spec turns protection off on a terminating Stack', () => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('rfs') });
    expect(step.action).toMatchObject({ type: 'setDeletionProtection', enabled: false });
  });

  it('records a mirror that already matches without a call', () => {
    const step = plan({ ...input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expect(step.status.mirroredDeletionProtection).toBe(true);
  });
});

describe('plan: deletion carries the provider options', () => {
  it('the delete call gets spec.providerOptions (ros ramRoleName: the delete runs with the stack role)', () => {
    const withRole = { ...INPUT, options: { ramRoleName: 'deployer' } };
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), desired: { hash: H_NEW, input: withRole } });
    expect(step.action).toMatchObject({ type: 'delete', options: { ramRoleName: 'deployer' } });
  });
});
