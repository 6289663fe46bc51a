import { describe, expect, it } from 'vitest';
import { applyMergePatch, mergePatchDiff } from './merge-patch.ts';

describe('mergePatchDiff', () => {
  it('is undefined when nothing changed (key order and undefined fields do not count)', () => {
    expect(mergePatchDiff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).toBeUndefined();
  });
  it('nulls removed fields, recursing into objects', () => {
    expect(mergePatchDiff({ a: 1, op: { t: 'x', issued: 'y' } }, { op: { t: 'x' } })).toEqual({ a: null, op: { issued: null } });
  });
  it('replaces arrays whole and adds new fields', () => {
    expect(mergePatchDiff({ c: [1, 2] }, { c: [1, 3], n: { x: 1 } })).toEqual({ c: [1, 3], n: { x: 1 } });
  });
  it('round-trips through applyMergePatch', () => {
    const before = { a: 1, o: { x: 1, y: [1] }, z: 'k' };
    const after = { a: 2, o: { y: [2] }, w: { q: true } };
    expect(applyMergePatch(before, mergePatchDiff(before, after))).toEqual(after);
  });
});
