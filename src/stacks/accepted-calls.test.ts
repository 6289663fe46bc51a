import { describe, expect, it } from 'vitest';
import type { OperationRecord } from '../api/v1alpha1/types.ts';
import { AcceptedCalls } from './accepted-calls.ts';
import type { StackObject } from './context.ts';

const op = (token: string, issuedAt?: string): OperationRecord =>
  ({ type: 'Create', token, generation: 1, hash: 'h', startedAt: '2026-11-27T10:00:00Z', attempt: 0, ...(issuedAt ? { issuedAt } : {}) });

const stack = (operation?: OperationRecord, uid = 'u1', name = 's'): StackObject =>
  ({
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { namespace: 'ns', name, uid },
    spec: { providerRef: { name: 'p' }, template: { inline: {} } },
    status: operation ? { operation } : {},
  }) as unknown as StackObject;

const confirmed = { operation: op('t1', '2026-11-27T10:00:01Z'), stackId: 'id-1' };

describe('AcceptedCalls', () => {
  it('lays the confirmation over a persisted record of the same call that is not confirmed yet', () => {
    const calls = new AcceptedCalls();
    const persisted = stack(op('t1'));
    calls.remember(persisted, 't1', confirmed);
    const seen = calls.view(persisted);
    expect(seen.status?.stackId).toBe('id-1');
    expect(seen.status?.operation?.issuedAt).toBe('2026-11-27T10:00:01Z');
    // The persisted object is untouched: the executor diffs against it, so the next write carries it.
    expect(persisted.status?.stackId).toBeUndefined();
    expect(calls.size).toBe(1);
  });

  it('forgets it once status carries it, once another operation is recorded, or for a new Stack of that name', () => {
    const calls = new AcceptedCalls();
    calls.remember(stack(op('t1')), 't1', confirmed);
    const written = stack(op('t1', '2026-11-27T10:00:01Z'));
    expect(calls.view(written)).toBe(written);
    expect(calls.size).toBe(0);

    calls.remember(stack(op('t1')), 't1', confirmed);
    const next = stack(op('t2'));
    expect(calls.view(next)).toBe(next);
    expect(calls.size).toBe(0);

    calls.remember(stack(op('t1')), 't1', confirmed);
    const settled = stack(undefined);
    expect(calls.view(settled)).toBe(settled);
    expect(calls.size).toBe(0);

    calls.remember(stack(op('t1')), 't1', confirmed);
    const recreated = stack(op('t1'), 'u2');
    expect(calls.view(recreated)).toBe(recreated);
    expect(calls.size).toBe(0);
  });

  it('forgets a deleted Stack by its reconcile key', () => {
    const calls = new AcceptedCalls();
    calls.remember(stack(op('t1')), 't1', confirmed);
    calls.forget('ns/s');
    expect(calls.size).toBe(0);
    const persisted = stack(op('t1'));
    expect(calls.view(persisted)).toBe(persisted);
  });
});
