// What a reconcile may do while the Stack cache's first list is still arriving (docs/stack-controller.md,
// "Restart"): only a Step that changes nothing, planned without looking at another Stack. Pure: no I/O.
// The wiring (the runtime holding and re-running the other keys) is tested on a real API server in
// test/integration/stacks/restart-while-listing.test.ts.
import { describe, expect, it } from 'vitest';
import type { Stack } from '../api/v1alpha1/types.ts';
import type { StackObject } from './context.ts';
import { absent, applied, found, input, stack, view } from './plan/fixtures.test-util.ts';
import { plan, type Step } from './plan/index.ts';
import { actsForSure, takeableWhileListing } from './reconciler.ts';

const obj = (s: Stack): StackObject => s as StackObject;

/** A settled Stack as its last reconcile left it, and the Step of its next resync. */
function atRest(): { stack: StackObject; step: Step } {
  const first = stack({ status: applied });
  const settled = obj({ ...first, status: plan(input(first, found(view('Complete')))).status });
  return { stack: settled, step: plan(input(settled, found(view('Complete')))) };
}

describe('takeableWhileListing', () => {
  it("a settled Stack's resync (no call, no event, the status as stored) is taken", () => {
    const { stack: s, step } = atRest();
    expect(step.action.type).toBe('none');
    expect(step.events).toEqual([]);
    expect(takeableWhileListing(step, s, false)).toBe(true);
  });

  it('the same Step waits when its plan looked at another Stack, which may not be listed yet', () => {
    const { stack: s, step } = atRest();
    expect(takeableWhileListing(step, s, true)).toBe(false);
  });

  it('a status write, an event or a replan waits', () => {
    const { stack: s, step } = atRest();
    const conditions = (step.status.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, message: 'changed' } : c));
    expect(takeableWhileListing({ ...step, status: { ...step.status, conditions } }, s, false)).toBe(false);
    expect(takeableWhileListing({ ...step, events: [{ type: 'Normal', reason: 'X', message: 'y' }] }, s, false)).toBe(false);
    expect(takeableWhileListing({ ...step, next: { type: 'replan' } }, s, false)).toBe(false);
  });

  it('a provider call waits (a create of a Stack whose cloud stack is absent)', () => {
    const s = obj(stack());
    const step = plan(input(s, absent));
    expect(step.action.type).toBe('create');
    expect(takeableWhileListing(step, s, false)).toBe(false);
  });
});

describe('actsForSure: the Stacks that wait for the whole list without being planned', () => {
  it('a new Stack (no finalizer), a spec not yet observed and a deletion wait; a settled Stack is planned', () => {
    const { stack: settled } = atRest();
    expect(settled.status?.observedGeneration).toBe(settled.metadata.generation);
    expect(actsForSure(settled)).toBe(false);
    expect(actsForSure(obj({ ...settled, metadata: { ...settled.metadata, finalizers: [] } }))).toBe(true);
    expect(actsForSure(obj({ ...settled, metadata: { ...settled.metadata, generation: 3 } }))).toBe(true);
    expect(actsForSure(obj({ ...settled, metadata: { ...settled.metadata, deletionTimestamp: '2026-11-22T12:00:00Z' } }))).toBe(true);
  });
});
