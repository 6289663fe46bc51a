import { describe, expect, it } from 'vitest';
import type { StackInput } from '../providers/types.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.ts';
import { mulberry32 } from '../lib/seeded-random.test-util.ts';
import { desiredHash, desiredHashWith } from './desired.ts';

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

function randomJson(next: () => number, depth: number): unknown {
  const strings = ['', 'a', 'B', '10', '2', 'é', '😀', '\u2028', '"q"', '\\', 'template', 'tags'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const r = next();
  if (depth <= 0 || r < 0.35) return pick<unknown>([null, true, false, 0, 1.5, -3, 1e21, undefined, ...strings]);
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth - 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) obj[pick(strings) + String(Math.floor(next() * 3))] = randomJson(next, depth - 1);
  return obj;
}

describe('desiredHashWith (the template canonicalised once per cached text, resolve.ts)', () => {
  // The oracle is the hash as computed before desiredHashWith existed: canonicalJson of the whole
  // object. Every existing Stack's recorded hash was made that way.
  const before = (i: StackInput): string => {
    const { template, templateUrl, files, environment, parameters, usePreviousParameters, disableRollback, timeoutMinutes, tags, options } = i;
    const text = canonicalJson({ template, templateUrl, files, environment, parameters, usePreviousParameters, disableRollback, timeoutMinutes, tags, options });
    return createHash('sha256').update(text).digest('hex').slice(0, 32);
  };

  it('gives the hash of the whole object, byte for byte, for 3,000 random inputs', () => {
    const next = mulberry32(28);
    const maybe = <T>(v: T): T | undefined => (next() < 0.3 ? undefined : v);
    for (let n = 0; n < 3000; n++) {
      const input = {
        name: 'x',
        template: next() < 0.1 ? undefined : next() < 0.2 ? 'heat_template_version: 2021-02-26\n' : randomJson(next, 4),
        templateUrl: maybe('https://example.invalid/t.yaml'),
        files: maybe({ 'a.yaml': 'x', '10': 'y' }),
        environment: maybe(randomJson(next, 2)),
        parameters: randomJson(next, 1) as Record<string, string>,
        usePreviousParameters: next() < 0.5,
        disableRollback: next() < 0.5,
        timeoutMinutes: Math.floor(next() * 100),
        tags: { team: 'a', '1': String(next()) },
        ownerUid: 'u',
        deletionProtection: false,
        options: { a: maybe(1), environment: undefined, z: randomJson(next, 2) },
      } as unknown as StackInput;
      const expected = before(input);
      expect(desiredHash(input)).toBe(expected);
      expect(desiredHashWith(input, input.template === undefined ? undefined : canonicalJson(input.template))).toBe(expected);
    }
  });
});
