import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/types.ts';
import { type ConditionSource, trackConditions } from './condition-metrics.ts';

type Obj = { metadata: { name: string; namespace: string }; status?: { conditions?: Condition[] } };

function source() {
  const h: { add?: (o: Obj) => void; update?: (a: Obj, b: Obj) => void; del?: (o: Obj) => void } = {};
  const s: ConditionSource<Obj> = { onAdd: (f) => (h.add = f), onUpdate: (f) => (h.update = f), onDelete: (f) => (h.del = f) };
  return { s, h };
}

function fakeGauge() {
  const series = new Map<string, number>();
  const k = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
  return { series, set: (l: Record<string, string>, v: number) => void series.set(k(l), v), remove: (l: Record<string, string>) => void series.delete(k(l)) };
}

const cond = (type: string, status: Condition['status']): Condition => ({ type, status, reason: 'R', message: '', lastTransitionTime: '' });
const stack = (conditions: Condition[]): Obj => ({ metadata: { name: 'web', namespace: 'a' }, status: { conditions } });

describe('condition gauges', () => {
  it('one series per object and condition, the old status removed, all removed on delete', () => {
    const { s, h } = source();
    const g = fakeGauge();
    trackConditions(s, g);
    h.add?.(stack([cond('Ready', 'False'), cond('Stalled', 'True')]));
    expect(g.series.size).toBe(2);
    h.update?.(stack([]), stack([cond('Ready', 'True'), cond('Stalled', 'False')]));
    expect(g.series.size).toBe(2);
    expect([...g.series.keys()].join()).toContain('"True"');
    expect([...g.series.keys()].some((key) => key.includes('Stalled') && key.includes('"True"'))).toBe(false);
    h.del?.(stack([cond('Ready', 'True')]));
    expect(g.series.size).toBe(0);
  });
});
