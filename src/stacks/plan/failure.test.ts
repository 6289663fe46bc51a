// Planner table tests: provider call failures, classified once. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { H_OLD, H_NEW, stack, view, found, absent, input, cond, expectHealth, appliedOld, updateOp } from './fixtures.test-util.ts';
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
