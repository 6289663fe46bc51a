// Planner table tests: the condition policy. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { NOW, H_OLD, stack, view, found, input, cond, applied } from './fixtures.test-util.ts';
import { plan } from './index.ts';

describe('plan: conditions', () => {
  it('lastTransitionTime moves only when a status flips', () => {
    const a = plan(input(stack({ status: applied }), found(view('Complete'))));
    const b = plan({ ...input(stack({ status: a.status }), found(view('Complete'))), now: NOW + 60_000 });
    expect(cond(b, 'Ready')?.lastTransitionTime).toBe(cond(a, 'Ready')?.lastTransitionTime);
    const c = plan({ ...input(stack({ status: { ...b.status, lastAppliedHash: H_OLD } }), found(view('Complete'))), now: NOW + 120_000 });
    expect(cond(c, 'Ready')?.lastTransitionTime).toBe(new Date(NOW + 120_000).toISOString());
  });

  it('sets observedGeneration at top level', () => {
    expect(plan(input(stack({ status: applied }), found(view('Complete')))).status.observedGeneration).toBe(2);
  });
});
