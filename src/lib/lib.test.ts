import { describe, expect, it, vi } from 'vitest';
import { canonicalJson, jsonEqual } from './canonical-json.ts';
import { deadline } from './deadline.ts';
import { oneLine, truncate } from './text.ts';
import { matchesSelector, selectorText } from './label-selector.ts';

/** The implementation canonicalJson had until it moved to safe-stable-stringify: the oracle for its output. */
function canonicalJsonBefore(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJsonBefore).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJsonBefore(v)}`).join(',')}}`;
}

/** Seeded random JSON-like values (mulberry32), with the awkward cases: integer-like keys, escapes, undefined. */
function randomValue(next: () => number, depth: number): unknown {
  const strings = ['', 'a', 'B', '10', '2', '-1', '01', 'é', '😀', '\u2028', '"q"', '\\', 'a b', '\n', '__proto__x', 'Z'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const r = next();
  if (depth <= 0 || r < 0.35) return pick<unknown>([null, true, false, 0, -0, 1.5, -3, 1e21, 2 ** 53, 0.1, undefined, ...strings]);
  if (r < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth - 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) obj[pick(strings) + (next() < 0.3 ? String(Math.floor(next() * 20)) : '')] = randomValue(next, depth - 1);
  return obj;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('sorts integer-like keys as strings, as the previous implementation did (not in V8 index order)', () => {
    expect(canonicalJson({ '10': 1, '2': 2, '1': 3, a: [undefined] })).toBe('{"1":3,"10":1,"2":2,"a":[null]}');
  });
  // Every Stack's desired-state hash is computed from this text; a different text for the same value
  // would make the operator update every existing Stack once after an upgrade.
  it('gives byte for byte the text of the previous implementation for 5,000 random values', () => {
    const next = mulberry32(16);
    for (let i = 0; i < 5000; i++) {
      const v = randomValue(next, 5);
      expect(canonicalJson(v)).toBe(canonicalJsonBefore(v));
    }
  });
  it('refuses a circular value instead of hashing a placeholder', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expect(() => canonicalJson(a)).toThrow(TypeError);
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

describe('deadline', () => {
  it('aborts with a TimeoutError when the time is up, and never after dispose', () => {
    vi.useFakeTimers();
    try {
      const a = deadline(100);
      const b = deadline(100);
      b.dispose();
      vi.advanceTimersByTime(99);
      expect(a.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(a.signal.aborted).toBe(true);
      expect(a.expired).toBe(true);
      expect((a.signal.reason as DOMException).name).toBe('TimeoutError');
      vi.advanceTimersByTime(1000);
      expect(b.signal.aborted).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
  it('follows its parent until disposed, with the parent\'s reason', () => {
    vi.useFakeTimers();
    try {
      const parent = new AbortController();
      const d = deadline(100, parent.signal);
      parent.abort(new Error('stopping'));
      expect(d.signal.aborted).toBe(true);
      expect(d.expired).toBe(false);
      expect((d.signal.reason as Error).message).toBe('stopping');
      const other = new AbortController();
      const e = deadline(100, other.signal);
      e.dispose();
      other.abort();
      expect(e.signal.aborted).toBe(false);
      const gone = deadline(100, parent.signal);
      expect(gone.signal.aborted).toBe(true);
      d.dispose();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
