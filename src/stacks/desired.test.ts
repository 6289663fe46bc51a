import { describe, expect, it } from 'vitest';
import type { StackInput } from '../providers/types.ts';
import { desiredHash } from './desired.ts';

describe('desiredHash', () => {
  // Pinned: the operator compares this hash with the one recorded at the last create / update. A change
  // of the value for the same input (the serialisation, the fields hashed, the digest) would update
  // every existing Stack once after an upgrade. Only change it together with a migration of the record.
  it('is stable for the same input across releases', () => {
    const input = {
      name: 'web',
      template: {
        heat_template_version: '2018-08-31',
        resources: {
          '10': { type: 'OS::Heat::None' },
          '2': { type: 'OS::Heat::RandomString', properties: { length: 8 } },
          b: { type: 'OS::Heat::None', properties: { v: [1, null, 'é😀\u2028', { z: true, a: 1.5e21 }] } },
        },
        outputs: { x: { value: { get_attr: ['2', 'value'] } } },
      },
      parameters: { size: 'm1.small', '1': 'one' },
      usePreviousParameters: false,
      disableRollback: true,
      timeoutMinutes: 60,
      tags: { team: 'a', app: 'web' },
      ownerUid: 'u',
      deletionProtection: false,
      options: { environment: undefined },
    } as unknown as StackInput;
    expect(desiredHash(input)).toBe('c65aa3b3c8ab3c1a1491baed46efd00c');
  });

  it('ignores what never reaches the service and key order', () => {
    const base = { name: 'a', template: { b: 1, a: 2 }, parameters: {}, usePreviousParameters: false, disableRollback: false, timeoutMinutes: 60, tags: {}, ownerUid: 'u1', deletionProtection: false, options: {} } as StackInput;
    const other = { ...base, template: { a: 2, b: 1 }, name: 'b', ownerUid: 'u2', deletionProtection: true };
    expect(desiredHash(other)).toBe(desiredHash(base));
    expect(desiredHash({ ...base, parameters: { p: '1' } })).not.toBe(desiredHash(base));
  });
});
