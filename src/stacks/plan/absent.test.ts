// Planner table tests: no stack at the provider: create, resume, adopt, conflict. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_ADOPT } from '../../api/v1alpha1/types.ts';
import { operationToken } from '../desired.ts';
import { UID, H_NEW, TYPES, provider, stack, view, found, absent, input, cond, expectHealth, applied, INPUT } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: new Stack', () => {
  it.each(TYPES)('%s: absent stack is created with a token derived from uid/generation', (t) => {
    const step = plan({ ...input(stack(), absent), provider: provider(t) });
    expect(step.action).toEqual({ type: 'create', token: operationToken(UID, 2, 'create', 0, '', H_NEW), input: INPUT });
    // The operation record is in the status written BEFORE the call.
    expect(step.status.operation).toMatchObject({ type: 'Create', generation: 2, hash: H_NEW });
    expect(step.status.operation?.issuedAt).toBeUndefined();
    expect(step.afterCall?.operation?.issuedAt).toBeDefined();
    expectHealth(step, 'progressing', 'Creating');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
    expect(step.events).toEqual([]); // the completion's event says when it started
  });

  it('resumes a recorded create that never landed with the same token', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 'tok-create', startedAt: '2026-11-22T11:59:00Z' };
    const step = plan(input(stack({ status: { operation: op } }), absent));
    expect(step.action).toEqual({ type: 'create', token: 'tok-create', input: INPUT });
  });

  it('waits for a just-issued create to become visible', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:59:50Z', issuedAt: '2026-11-22T11:59:50Z' };
    const step = plan(input(stack({ status: { operation: op } }), absent));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });

  it('finds its own stack after a crash between create and recording the id', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:59:00Z' };
    const step = plan(input(stack({ status: { operation: op } }), found(view('InProgress', 'create'))));
    expect(step.action.type).toBe('none');
    expect(step.status.stackId).toBe('id-1');
    expectHealth(step, 'progressing', 'Creating');
  });

  it('reports an unowned same-name stack as StackNameConflict', () => {
    const step = plan(input(stack(), found(view('Complete', 'create', { ownerUid: undefined }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Ready')?.message).toContain(ANNOTATION_ADOPT);
    expect(step.events.map((e) => e.reason)).toContain('StackNameConflict');
  });

  it('never touches a same-name stack owned by another Stack, even with adopt', () => {
    const step = plan(input(stack({ annotations: { [ANNOTATION_ADOPT]: 'true' } }), found(view('Complete', 'create', { ownerUid: 'other' }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Ready')?.message).toContain('uid other');
  });

  it('adopts an unowned stack with the adopt annotation, then updates it to the spec', () => {
    const step = plan(input(stack({ annotations: { [ANNOTATION_ADOPT]: 'true' } }), found(view('Complete', 'create', { ownerUid: undefined }))));
    expect(step.status.stackId).toBe('id-1');
    expect(step.action.type).toBe('update');
    expect(step.events.map((e) => e.reason)).toContain('Adopted');
  });

  it('recreates a stack that vanished from the provider, with a warning', () => {
    const step = plan(input(stack({ status: applied }), absent));
    expect(step.action.type).toBe('create');
    expect(step.status.stackId).toBeUndefined();
    expect(step.events[0]).toMatchObject({ type: 'Warning', reason: 'StackMissing' });
  });

  it('waits without acting when the provider read failed', () => {
    const step = plan(input(stack({ status: applied }), { kind: 'unknown' }));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'requeue', afterMs: 5000 });
  });
});
