import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonEqual } from './canonical-json.ts';
import { oneLine, truncate } from './text.ts';
import { matchesSelector, selectorText } from './label-selector.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('jsonEqual ignores key order but not values', () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
  });
});

describe('text', () => {
  it('truncates with an ellipsis only when needed', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
  });
  it('oneLine folds whitespace before cutting', () => {
    expect(oneLine('  a \n\t b  ', 10)).toBe('a b');
  });
});

describe('label selectors (apimachinery semantics)', () => {
  const ns = { team: 'a', env: 'prod' };
  it('matchLabels needs every label', () => {
    expect(matchesSelector({ matchLabels: { team: 'a' } }, ns)).toBe(true);
    expect(matchesSelector({ matchLabels: { team: 'a', env: 'dev' } }, ns)).toBe(false);
    expect(matchesSelector({}, undefined)).toBe(true);
  });
  it.each([
    ['In', ['prod', 'stage'], true],
    ['In', ['dev'], false],
    ['NotIn', ['dev'], true],
    ['NotIn', ['prod'], false],
  ] as const)('env %s %j -> %s', (operator, values, want) => {
    expect(matchesSelector({ matchExpressions: [{ key: 'env', operator, values: [...values] }] }, ns)).toBe(want);
  });
  it('Exists / DoesNotExist, and NotIn holds for a missing label', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, ns)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, ns)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, ns)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['x'] }] }, ns)).toBe(false);
  });
  it('prints like kubectl', () => {
    expect(selectorText({ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }, { key: 'x', operator: 'DoesNotExist' }] })).toBe(
      'team=a,env in (prod),!x',
    );
  });
});
