// ROS change set → planned changes (docs/plan-approve.md). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { changeSetName, rosPlannedChanges } from './change-sets.ts';

const rc = (ResourceChange: Record<string, unknown>) => ({ Type: 'Resource', ResourceChange });

describe('rosPlannedChanges', () => {
  it('maps Add / Modify / Remove, with Replacement True and Conditional as replacements', () => {
    const changes = [
      rc({ Action: 'Add', LogicalResourceId: 'a', ResourceType: 'T::A' }),
      rc({ Action: 'Modify', LogicalResourceId: 'b', ResourceType: 'T::B', Replacement: 'False' }),
      rc({ Action: 'Modify', LogicalResourceId: 'c', ResourceType: 'T::C', Replacement: 'True' }),
      rc({ Action: 'Modify', LogicalResourceId: 'd', ResourceType: 'T::D', Replacement: 'Conditional' }),
      rc({ Action: 'Remove', LogicalResourceId: 'e', ResourceType: 'T::E' }),
    ];
    expect(rosPlannedChanges(changes)).toEqual([
      { name: 'a', type: 'T::A', action: 'Add' },
      { name: 'b', type: 'T::B', action: 'Change' },
      { name: 'c', type: 'T::C', action: 'Replace' },
      { name: 'd', type: 'T::D', action: 'Replace' },
      { name: 'e', type: 'T::E', action: 'Remove' },
    ]);
  });

  it('ignores entries that are not resource changes, and a missing list', () => {
    expect(rosPlannedChanges([{ Type: 'Other' }, rc({ Action: 'Import', LogicalResourceId: 'x' }), null])).toEqual([]);
    expect(rosPlannedChanges(undefined)).toEqual([]);
  });

  it('names the change set after the plan id, within the ROS name rule (a letter first)', () => {
    expect(changeSetName('0a1b2c3d4e')).toMatch(/^[A-Za-z][A-Za-z0-9_-]{0,254}$/);
  });
});
