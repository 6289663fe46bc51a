// Planner table tests: a recorded create / update that settled, and the crash cases around it. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_RECONCILE_REQUESTED_AT, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackPhase } from '../../providers/types.ts';
import { operationToken } from '../desired.ts';
import { NOW, UID, H_OLD, H_NEW, TYPES, provider, stack, view, found, input, cond, expectHealth, appliedOld, updateOp, INPUT, REF } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: changed spec', () => {
  it.each(TYPES)('%s: a new hash starts an update with an operation record first', (t) => {
    const step = plan({ ...input(stack({ status: appliedOld }), found(view('Complete'))), provider: provider(t) });
    expect(step.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 0, '', H_NEW), ref: REF, input: INPUT });
    expect(step.status.operation).toMatchObject({ type: 'Update', generation: 2, hash: H_NEW, attempt: 0 });
    expectHealth(step, 'progressing', 'Updating');
  });

  it('an update that completed records lastApplied and becomes Ready', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ status: st, spec: { outputs: { secretName: 'web-out' } } }), found(view('Complete'))));
    expect(step.status.lastAppliedHash).toBe(H_NEW);
    expect(step.status.lastAppliedGeneration).toBe(2);
    expect(step.status.operation).toBeUndefined();
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.action).toEqual({ type: 'writeOutputs', ref: REF, targets: { secret: { name: 'web-out' } } });
    expect(step.events.map((e) => e.reason)).toContain('Updated');
  });

  it('a create that completed becomes Ready', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:50:00Z', issuedAt: '2026-11-22T11:50:00Z' };
    const step = plan(input(stack({ status: { stackId: 'id-1', operation: op } }), found(view('Complete', 'create'))));
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.events.map((e) => e.reason)).toContain('Created');
    // The only Event of a create: it says when the create started and how long it took.
    const created = step.events.find((e) => e.reason === 'Created');
    expect(created?.message).toMatch(/^create of generation 2 completed: CREATE_COMPLETE in \d+m\d{2}s \(started 2026-11-22T11:50:00Z\)$/);
  });

  it('an applied older generation moves straight on to the newest spec', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD) };
    const step = plan(input(stack({ status: st }), found(view('Complete'))));
    expect(step.status.lastAppliedHash).toBe(H_OLD);
    expect(step.next).toEqual({ type: 'replan' });
    expectHealth(step, 'progressing');
  });

  it.each(['Failed', 'RolledBack', 'RollbackFailed'] as StackPhase[])('an update that ended %s is retried after a backoff', (phase) => {
    const st = { ...appliedOld, operation: updateOp(H_NEW) };
    const step = plan(input(stack({ status: st }), found(view(phase, 'update', { reason: 'resource failed' }))));
    expect(step.action.type).toBe('none');
    expect(step.status.failures).toBe(1);
    expect(step.next).toEqual({ type: 'requeue', afterMs: 30_000 });
    expect(step.status.nextRetryAt).toBe(new Date(NOW + 30_000).toISOString());
    expectHealth(step, 'progressing', 'UpdateFailed');
    expect(step.events[0]).toMatchObject({ type: 'Warning', reason: 'UpdateFailed' });
  });

  it('waits for the retry time, then retries with a new token', () => {
    const st: StackStatus = { ...appliedOld, failures: 1, nextRetryAt: new Date(NOW + 10_000).toISOString() };
    const wait = plan(input(stack({ status: st }), found(view('Failed'))));
    expect(wait.action.type).toBe('none');
    expect(wait.next).toEqual({ type: 'requeue', afterMs: 10_000 });
    const go = plan({ ...input(stack({ status: st }), found(view('Failed'))), now: NOW + 10_001 });
    expect(go.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 1, '', H_NEW), ref: REF, input: INPUT });
  });

  it('gives up after maxAttempts with Stalled RetriesExhausted and blocks that desired state', () => {
    const st = { ...appliedOld, failures: 2, operation: updateOp(H_NEW) };
    const step = plan(input(stack({ status: st }), found(view('Failed', 'update', { reason: 'quota' }))));
    expectHealth(step, 'stalled', 'RetriesExhausted');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(cond(step, 'Stalled')?.message).toContain(ANNOTATION_RECONCILE_REQUESTED_AT);
    const later = plan(input(stack({ status: step.status }), found(view('Failed'))));
    expect(later.action.type).toBe('none');
    expectHealth(later, 'stalled', 'RetriesExhausted');
  });

  it('a create that failed is retried, then stalls', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:50:00Z', issuedAt: '2026-11-22T11:50:00Z' };
    const step = plan(input(stack({ status: { stackId: 'id-1', operation: op } }), found(view('Failed', 'create'))));
    expectHealth(step, 'progressing', 'CreateFailed');
  });

  it('a blocked desired state is applied again after a reconcile request', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: H_NEW, failures: 3 };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_RECONCILE_REQUESTED_AT]: 't1' } }), found(view('Failed'))));
    // A new token: the service must not answer the re-apply as a replay of the cancelled call.
    expect(step.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 0, 't1', H_NEW), ref: REF, input: INPUT });
    expect(operationToken(UID, 2, 'update', 0, 't1')).not.toBe(operationToken(UID, 2, 'update', 0));
    expect(step.status.lastHandledReconcileRequest).toBe('t1');
    expect(step.events.map((e) => e.reason)).toContain('ReconcileRequested');
  });

  it('a handled reconcile request is not handled twice', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: H_NEW, lastHandledReconcileRequest: 't1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_RECONCILE_REQUESTED_AT]: 't1' } }), found(view('Failed'))));
    expect(step.action.type).toBe('none');
  });

  it('a new spec (new hash) is applied even when an older one was blocked', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: 'hash-blocked' };
    expect(plan(input(stack({ status: st }), found(view('RolledBack')))).action.type).toBe('update');
  });

  it('resumes a recorded update that never reached the provider, with the same token', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'update', { updatedAt: '2026-11-22T11:00:00Z' }))));
    expect(step.action).toEqual({ type: 'update', token: 'same', ref: REF, input: INPUT });
  });
});

describe('plan: crash around a recorded update (reliability T1, regression)', () => {
  it('does not re-send an update that landed within the same second as its record (whole-second provider time)', () => {
    // Recorded at 11:59:00.400, accepted at once; Heat shows updated_time 11:59:00 (no fraction).
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00.400Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'update', { updatedAt: '2026-11-22T11:59:00Z' }))));
    expect(step.action.type).toBe('none');
    expect(step.status.lastAppliedHash).toBe(H_NEW);
  });

  it('resumes a recorded update on a stack never updated (no update time, last operation create), not Ready at the old content', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'create', { updatedAt: undefined, createdAt: '2026-11-22T11:00:00Z' }))));
    expect(step.action).toEqual({ type: 'update', token: 'same', ref: REF, input: INPUT });
    expect(step.status.lastAppliedHash).toBe(H_OLD);
  });
});

// A record written while the read ran (src/stacks/record-during-read.ts) carries the observed values of
// the read before it. A crash before the new read ended can leave it behind a change made outside in
// between: that change must not pass for the call (the call was never sent).
describe('plan: crash around a record written during the read', () => {
  const recorded = (extra: Record<string, unknown>) => ({
    ...appliedOld,
    operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00.400Z', token: 'same', observedUpdatedAt: '2026-11-22T10:00:00Z', observedOperation: 'update', ...extra }),
  });
  // Changed outside at 11:58:30, after the previous read (10:00) and before the record (11:59:00.400).
  const changedOutside = found(view('Complete', 'update', { updatedAt: '2026-11-22T11:58:30Z' }));

  it('marked: a change older than the record is not the call: the update is sent (same token)', () => {
    const step = plan(input(stack({ status: recorded({ recordedDuringRead: true }) }), changedOutside));
    expect(step.action).toEqual({ type: 'update', token: 'same', ref: REF, input: INPUT });
    expect(step.status.lastAppliedHash).toBe(H_OLD);
  });

  it('unmarked (observed by the read just before the record): the same change counts as the call, as before', () => {
    const step = plan(input(stack({ status: recorded({}) }), changedOutside));
    expect(step.action.type).toBe('none');
    expect(step.status.lastAppliedHash).toBe(H_NEW);
  });

  it('marked: a change in the record\'s second or later is the call (never a second update)', () => {
    for (const updatedAt of ['2026-11-22T11:59:00Z', '2026-11-22T11:59:03Z']) {
      const step = plan(input(stack({ status: recorded({ recordedDuringRead: true }) }), found(view('Complete', 'update', { updatedAt }))));
      expect(step.action.type).toBe('none');
      expect(step.status.lastAppliedHash).toBe(H_NEW);
    }
  });

  it('marked: nothing changed since the previous read: the update is sent (same token)', () => {
    const step = plan(input(stack({ status: recorded({ recordedDuringRead: true }) }), found(view('Complete', 'update', { updatedAt: '2026-11-22T10:00:00Z' }))));
    expect(step.action).toEqual({ type: 'update', token: 'same', ref: REF, input: INPUT });
  });
});
