import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonEqual } from './canonical-json.ts';
import { oneLine, truncate } from './text.ts';

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
