// Planner table tests: an operation running: poll, cancel on spec change, timeout or request. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_CANCEL_UPDATE } from '../../api/v1alpha1/types.ts';
import type { ProviderType, StackOperation } from '../../providers/types.ts';
import { H_OLD, H_NEW, INPUT, provider, stack, view, found, input, cond, expectHealth, applied, appliedOld, updateOp } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: spec changed during an update', () => {
  const running = { ...appliedOld, operation: updateOp(H_OLD) };

  it.each(['heat', 'ros', 'cloudfoundry'] as ProviderType[])('%s: CancelAndUpdate cancels the running update', (t) => {
    const step = plan({ ...input(stack({ status: running }), found(view('InProgress', 'update'))), provider: provider(t) });
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation).toMatchObject({ cancelRequested: true, cancelReason: 'SpecChanged' });
    expectHealth(step, 'progressing', 'Cancelling');
  });

  it('rfs (no cancel) waits for the operation to end and says so', () => {
    const step = plan({ ...input(stack({ status: running }), found(view('InProgress', 'update'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForOperation');
    expect(cond(step, 'Reconciling')?.message).toContain('cannot cancel');
  });

  it('WaitAndUpdate lets the running update finish', () => {
    const step = plan(input(stack({ status: running, spec: { updatePolicy: { onSpecChangeDuringUpdate: 'WaitAndUpdate' } } }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Reconciling')?.message).toContain('WaitAndUpdate');
  });

  it('uses cancelMode NoRollback when asked', () => {
    const step = plan(input(stack({ status: running, spec: { updatePolicy: { cancelMode: 'NoRollback' } } }), found(view('InProgress'))));
    expect(step.action).toMatchObject({ type: 'cancelUpdate', mode: 'NoRollback' });
  });

  it('falls back to the provider\'s only cancel mode', () => {
    const step = plan({ ...input(stack({ status: running, spec: { updatePolicy: { cancelMode: 'NoRollback' } } }), found(view('InProgress'))), provider: provider('cloudfoundry') });
    expect(step.action).toMatchObject({ type: 'cancelUpdate', mode: 'Rollback' });
  });

  it('does not cancel twice while the cancel settles', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged', cancelIssuedAt: '2026-11-22T11:59:00Z' }) };
    const step = plan(input(stack({ status: st }), found(view('InProgress', 'rollback'))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'Cancelling');
    // Heat reads UPDATE_IN_PROGRESS for a moment after an acknowledged cancel: still no second cancel.
    expect(plan(input(stack({ status: st }), found(view('InProgress', 'update')))).action.type).toBe('none');
  });

  it('a cancel recorded but never acknowledged (crash before the call) is sent again with the same token', () => {
    const first = plan(input(stack({ status: running }), found(view('InProgress', 'update'))));
    expect(first.action.type).toBe('cancelUpdate');
    expect(first.afterCall?.operation?.cancelIssuedAt).toBeDefined();
    // Crash: the record (first.status) was written, the call and afterCall were not.
    const again = plan(input(stack({ status: first.status }), found(view('InProgress', 'update'))));
    expect(again.action).toEqual(first.action);
    // Acknowledged: no second cancel.
    const acked = plan(input(stack({ status: { ...first.status, ...first.afterCall } }), found(view('InProgress', 'update'))));
    expect(acked.action.type).toBe('none');
  });

  it('after a superseding cancel settles, the newest spec is applied (not a failure)', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged' }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expect(step.status.operation).toBeUndefined();
    // Blocked: the cancelled spec, never the newest one.
    expect(step.status.blockedHash).toBe(H_OLD);
    expect(step.status.failures).toBeUndefined();
    expect(step.next).toEqual({ type: 'replan' });
    const next = plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback'))));
    expect(next.action.type).toBe('update');
    expect(next.status.blockedHash).toBeUndefined();
  });

  it('a spec reverted to the applied one while the update runs: cancelled, then the rolled-back stack is updated to it', () => {
    // Applied H_NEW; the update to H_OLD is cancelled because the spec went back to H_NEW.
    const st = { ...applied, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged' }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expect(step.next).toEqual({ type: 'replan' });
    const next = plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback'))));
    expect(next.action).toMatchObject({ type: 'update', input: INPUT });
    expectHealth(next, 'progressing', 'Updating');
  });

  it.each(['CancelRequested', 'UpdateTimedOut'])('a %s cancel that settles after the spec changed back is superseded, not Stalled', (reason) => {
    const st = { ...applied, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: reason }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expect(cond(step, 'Stalled')?.status).toBe('False');
    expect(step.events.map((e) => e.reason)).toContain('UpdateCancelled');
    const next = plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback'))));
    expect(next.action.type).toBe('update');
  });

  it('an update of the current spec in progress just polls', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ status: st }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'Updating');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });

  it.each(['create', 'delete', 'rollback'] as StackOperation[])('an in-progress %s of another party is waited for', (operation) => {
    const step = plan(input(stack({ status: appliedOld }), found(view('InProgress', operation))));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });
});

describe('plan: update timeout', () => {
  it('cancels an update running past timeoutMinutes plus grace, reason UpdateTimedOut', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T10:00:00Z' }) };
    const step = plan(input(stack({ status: st, spec: { timeoutMinutes: 60 } }), found(view('InProgress'))));
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation?.cancelReason).toBe('UpdateTimedOut');
  });

  it('does not cancel within the grace period', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T10:58:00Z' }) };
    expect(plan(input(stack({ status: st, spec: { timeoutMinutes: 60 } }), found(view('InProgress')))).action.type).toBe('none');
  });

  it('after the timeout cancel settles: Stalled UpdateTimedOut, not re-applied', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'UpdateTimedOut' }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expectHealth(step, 'stalled', 'UpdateTimedOut');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback')))).action.type).toBe('none');
  });

  it('rfs cannot cancel a timed-out update and keeps waiting', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T09:00:00Z' }) };
    const step = plan({ ...input(stack({ status: st }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
  });
});

describe('plan: cancel-update annotation', () => {
  const running = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };

  it.each(['heat', 'ros'] as ProviderType[])('%s: a new value cancels the running update and is recorded', (t) => {
    const step = plan({ ...input(stack({ status: running, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))), provider: provider(t) });
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.lastHandledCancelRequest).toBe('c1');
    expect(step.status.operation?.cancelReason).toBe('CancelRequested');
  });

  it('the same value is not handled twice', () => {
    const st = { ...running, lastHandledCancelRequest: 'c1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
  });

  it('after the requested cancel settles: Stalled UpdateCancelled and that generation is not re-applied', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'CancelRequested' }), lastHandledCancelRequest: 'c1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('RolledBack', 'rollback'))));
    expectHealth(step, 'stalled', 'UpdateCancelled');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(step.next).toEqual({ type: 'requeue', afterMs: 600_000, background: true });
    // Read *_FAILED "cancelled" before the rollback showed: keep polling to see it.
    const early = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('Failed', 'update'))));
    expect(early.next).toEqual({ type: 'requeue', afterMs: 5000 });
    const again = plan(input(stack({ status: step.status, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('RolledBack', 'rollback'))));
    expect(again.action.type).toBe('none');
  });

  it('a cancel request with no update running is recorded as handled with an event', () => {
    const step = plan(input(stack({ status: applied, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c2' } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(step.status.lastHandledCancelRequest).toBe('c2');
    expect(step.events.map((e) => e.reason)).toContain('NothingToCancel');
  });

  it('rfs: a cancel request is recorded and the condition says it waits', () => {
    const step = plan({ ...input(stack({ status: running, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expect(step.status.lastHandledCancelRequest).toBe('c1');
    expect(step.events.map((e) => e.reason)).toContain('CancelUnsupported');
  });
});
