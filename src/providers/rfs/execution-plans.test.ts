// RFS execution plan items → planned changes (docs/plan-approve.md). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { executionPlanName, rfsPlannedChanges } from './execution-plans.ts';

describe('rfsPlannedChanges', () => {
  it('maps ADD / UPDATE / DELETE, both replacement orders to Replace, and leaves NO_OPERATION out', () => {
    const items = [
      { resource_type: 'huaweicloud_vpc', resource_name: 'a', action: 'ADD' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'b', action: 'UPDATE' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'c', action: 'DELETE' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'd', action: 'ADD_THEN_DELETE' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'e', action: 'DELETE_THEN_ADD' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'f', action: 'NO_OPERATION' },
      { resource_type: 'huaweicloud_vpc', resource_name: 'g', index: '1', action: 'ADD' },
    ];
    expect(rfsPlannedChanges(items).map((c) => `${c.action}:${c.type}.${c.name}`)).toEqual([
      'Add:huaweicloud_vpc.a',
      'Change:huaweicloud_vpc.b',
      'Remove:huaweicloud_vpc.c',
      'Replace:huaweicloud_vpc.d',
      'Replace:huaweicloud_vpc.e',
      'Add:huaweicloud_vpc.g[1]',
    ]);
    expect(rfsPlannedChanges(null)).toEqual([]);
  });

  it('names the plan after the plan id, within the RFS name rule (a letter first, at most 128)', () => {
    expect(executionPlanName('0a1b2c3d4e')).toMatch(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/);
  });
});
