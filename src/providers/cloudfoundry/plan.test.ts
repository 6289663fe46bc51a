// The Cloud Foundry plan computed by the operator (docs/plan-approve.md). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { cfCreatePlan, cfUpdatePlan } from './plan.ts';

describe('cloudfoundry plans', () => {
  it('a create adds the app and its variables, and a deployment only with a droplet or revision', () => {
    expect(cfCreatePlan('web', { A: '1' }, {})).toEqual([
      { name: 'web', type: 'cf:app', action: 'Add' },
      { name: 'env.A', type: 'cf:environment_variable', action: 'Add' },
    ]);
    expect(cfCreatePlan('web', {}, { dropletGuid: 'd1', strategy: 'canary' })).toContainEqual({ name: 'deployment (canary, droplet d1)', type: 'cf:deployment', action: 'Add' });
  });

  it('an update adds, changes and (replacing the parameters) removes variables, then deploys', () => {
    const plan = cfUpdatePlan({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' }, false, { revisionGuid: 'r1' });
    expect(plan).toEqual([
      { name: 'env.B', type: 'cf:environment_variable', action: 'Change' },
      { name: 'env.D', type: 'cf:environment_variable', action: 'Add' },
      { name: 'env.C', type: 'cf:environment_variable', action: 'Remove' },
      { name: 'deployment (rolling, revision r1)', type: 'cf:deployment', action: 'Add' },
    ]);
    // usePreviousParameters merges: nothing is removed.
    expect(cfUpdatePlan({ C: '3' }, {}, true, {}).map((c) => c.action)).toEqual(['Add']);
  });
});
