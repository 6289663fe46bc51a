// Planner table tests: provider call failures, classified once. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { H_OLD, H_NEW, INPUT, NOW, stack, view, found, absent, input, cond, expectHealth, appliedOld, updateOp } from './fixtures.test-util.ts';
import { plan, planCallFailure } from './index.ts';

describe('planCallFailure: errors classified once', () => {
  const startUpdate = () => {
    const i = input(stack({ status: appliedOld }), found(view('Complete')));
    return { i, step: plan(i) };
  };

  it('Throttled honours retry-after', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Throttled', message: 'slow down', retryAfterMs: 7000 });
    expect(f.next).toEqual({ type: 'requeue', afterMs: 7000 });
    expect(cond(f, 'Ready')?.reason).toBe('Throttled');
    expect(f.status.operation).toBeUndefined();
  });

  it('Invalid is Stalled, names the field and blocks the desired state', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'unknown parameter', field: 'parameters.size' });
    expectHealth(f, 'stalled', 'InvalidSpec');
    expect(cond(f, 'Stalled')?.message).toContain('parameters.size');
    expect(f.status.blockedHash).toBe(H_NEW);
  });

  it('a refused cancel (the update just ended) polls instead of stalling', () => {
    const i = input(stack({ status: { ...appliedOld, operation: updateOp(H_OLD) } }), found(view('InProgress', 'update')));
    const step = plan(i);
    expect(step.action.type).toBe('cancelUpdate');
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'Cancelling update when stack is UPDATE_COMPLETE is not supported' });
    expectHealth(f, 'progressing', 'WaitingForOperation');
    expect(f.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });

  it('Unauthorized is Stalled until credentials change', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Unauthorized', message: '401' });
    expectHealth(f, 'stalled', 'Unauthorized');
    expect(f.next.type).toBe('await');
    expect(f.status.blockedHash).toBeUndefined();
  });

  it('Conflict polls again', () => {
    const { i, step } = startUpdate();
    expect(planCallFailure(i, step, { kind: 'Conflict', message: 'in progress' }).next).toEqual({ type: 'requeue', afterMs: 5000 });
  });

  it('Transient leaves the backoff to the work queue', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Transient', message: 'ECONNRESET' });
    expect(f.next.type).toBe('backoff');
    expect(cond(f, 'Reconciling')?.status).toBe('True');
  });

  it('after an Invalid create the operation record is dropped and nothing is created again', () => {
    const i = input(stack(), absent);
    const step = plan(i);
    expect(step.action.type).toBe('create');
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'bad template.' });
    expect(f.status.operation).toBeUndefined();
    expect(cond(f, 'Stalled')?.message).not.toContain('..');
    const next = plan(input(stack({ status: f.status }), absent));
    expect(next.action.type).toBe('none');
    expectHealth(next, 'stalled', 'InvalidSpec');
  });

  it('truncates long provider messages', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'x'.repeat(5000) });
    expect(cond(f, 'Ready')?.message.length).toBeLessThanOrEqual(1024);
  });
});

describe('lost replies (tenant-safety issue, item 8): never a second conflicting mutation', () => {
  const before = view('Complete', 'update', { updatedAt: '2026-11-22T11:00:00Z' });

  it('a transient failure of an update keeps the record, marked sent', () => {
    const i = input(stack({ status: appliedOld }), found(before));
    const step = plan(i);
    expect(step.status.operation?.observedUpdatedAt).toBe('2026-11-22T11:00:00Z');
    const f = planCallFailure(i, step, { kind: 'Transient', message: 'socket hang up' });
    expect(f.status.operation).toMatchObject({ type: 'Update', token: step.status.operation?.token, sentAt: new Date(NOW).toISOString() });
    expect(f.status.operation?.issuedAt).toBeUndefined();
  });

  const afterLost = () => {
    const i = input(stack({ status: appliedOld }), found(before));
    const step = plan(i);
    return planCallFailure(i, step, { kind: 'Transient', message: 'socket hang up' }).status;
  };

  it('the update never landed (the provider time did not move): sent again with the same token', () => {
    const st = afterLost();
    const next = plan({ ...input(stack({ status: st }), found(before)), now: NOW + 10_000 });
    expect(next.action).toMatchObject({ type: 'update', token: st.operation?.token });
  });

  it('the update landed and finished: not sent again, whatever the provider clock says (5 s behind)', () => {
    const st = afterLost();
    const landed = view('Complete', 'update', { updatedAt: new Date(NOW - 5_000).toISOString() });
    const next = plan({ ...input(stack({ status: st }), found(landed)), now: NOW + 10_000 });
    expect(next.action.type).toBe('none');
    expect(next.status.lastAppliedHash).toBe(H_NEW);
  });

  it('a record written during the read loses its mark when its reply is lost: a landed update is recognised with the provider clock behind', () => {
    // Its call went out only after the new read confirmed the observed values (record-during-read.ts).
    const i = input(stack({ status: appliedOld }), found(before), { recordDuringRead: true });
    const step = plan(i);
    expect(step.status.operation?.recordedDuringRead).toBe(true);
    const st = planCallFailure(i, step, { kind: 'Transient', message: 'socket hang up' }).status;
    expect(st.operation?.sentAt).toBeDefined();
    expect(st.operation?.recordedDuringRead).toBeUndefined();
    const landed = view('Complete', 'update', { updatedAt: new Date(NOW - 5_000).toISOString() });
    expect(plan({ ...input(stack({ status: st }), found(landed)), now: NOW + 10_000 }).action.type).toBe('none');
  });

  it('a stack never updated before (no update time): a landed update is recognised with the provider clock behind', () => {
    const fresh = view('Complete', 'create', { updatedAt: undefined, createdAt: '2026-11-22T11:00:00Z' });
    const i = input(stack({ status: appliedOld }), found(fresh));
    const st = planCallFailure(i, plan(i), { kind: 'Transient', message: 'reset' }).status;
    expect(st.operation?.observedUpdatedAt).toBe('');
    const landed = view('Complete', 'update', { updatedAt: new Date(NOW - 5_000).toISOString() });
    expect(plan({ ...input(stack({ status: st }), found(landed)), now: NOW + 10_000 }).action.type).toBe('none');
    expect(plan({ ...input(stack({ status: st }), found(fresh)), now: NOW + 10_000 }).action.type).toBe('update');
  });

  it('whole-second update times: an update that landed within the same second as the create is recognised by the operation', () => {
    const created = view('Complete', 'create', { updatedAt: '2026-11-22T11:59:59Z' });
    const i = input(stack({ status: appliedOld }), found(created));
    const st = planCallFailure(i, plan(i), { kind: 'Transient', message: 'reset' }).status;
    const landedSameSecond = view('Complete', 'update', { updatedAt: '2026-11-22T11:59:59Z' });
    expect(plan({ ...input(stack({ status: st }), found(landedSameSecond)), now: NOW + 10_000 }).action.type).toBe('none');
    expect(plan({ ...input(stack({ status: st }), found(created)), now: NOW + 10_000 }).action.type).toBe('update');
  });

  it('a lost create reply waits for the stack to show, then re-sends with the same token', () => {
    const i = input(stack(), absent);
    const step = plan(i);
    const st = planCallFailure(i, step, { kind: 'Transient', message: 'timeout' }).status;
    const soon = plan({ ...input(stack({ status: st }), absent), now: NOW + 1_000 });
    expect(soon.action.type).toBe('none');
    expect(cond(soon, 'Reconciling')?.message).toContain('appear');
    const late = plan({ ...input(stack({ status: st }), absent), now: NOW + 120_000 });
    expect(late.action).toMatchObject({ type: 'create', token: step.status.operation?.token });
  });

  it('deleting right after an unconfirmed create waits for the stack instead of leaking it', () => {
    const i = input(stack(), absent);
    const st = planCallFailure(i, plan(i), { kind: 'Transient', message: 'timeout' }).status;
    const del = plan({ ...input(stack({ status: st, deleting: true }), absent), now: NOW + 1_000 });
    expect(del.action.type).toBe('none');
    expectHealth(del, 'progressing', 'Deleting');
    const gone = plan({ ...input(stack({ status: st, deleting: true }), absent), now: NOW + 120_000 });
    expect(gone.action.type).toBe('removeFinalizer');
  });

  it('a parametersFrom change within one generation sends a new token (the content differs)', () => {
    const a = plan(input(stack({ status: appliedOld }), found(before)));
    const b = plan({ ...input(stack({ status: appliedOld }), found(before)), desired: { hash: 'hash-other', input: INPUT } });
    expect(a.action.type).toBe('update');
    expect((a.action as { token: string }).token).not.toBe((b.action as { token: string }).token);
  });
});
