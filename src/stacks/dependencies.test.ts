// The dependency index: edges both ways, removal (memory bounded by the cache), and cycles. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import type { Stack } from '../api/v1alpha1/types.ts';
import { DependencyIndex, dependencyNames, factsOf } from './dependencies.ts';

function stk(name: string, dependsOn: string[] = [], fromStacks: string[] = [], ns = 'ns'): Stack {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: { name, namespace: ns, generation: 1 },
    spec: {
      providerRef: { name: 'p' },
      template: { inline: {} },
      dependsOn: dependsOn.map((n) => ({ name: n })),
      parametersFrom: [{ kind: 'Secret', name: 'sec' }, ...fromStacks.map((n) => ({ kind: 'Stack' as const, name: n, key: 'k' }))],
    },
  };
}

describe('dependencyNames', () => {
  it('is dependsOn plus the Stack sources of parametersFrom, once each (Secrets are not Stacks)', () => {
    expect(dependencyNames(stk('app', ['db', 'net'], ['net', 'dns']))).toEqual(['db', 'net', 'dns']);
  });
});

describe('DependencyIndex', () => {
  it('answers dependents per namespace, follows changes and forgets removed Stacks', () => {
    const idx = new DependencyIndex();
    idx.set(stk('db', ['net']));
    idx.set(stk('app', [], ['net', 'db']));
    idx.set(stk('other', ['net'], [], 'ns2'));
    expect(idx.dependentsOf('ns', 'net')).toEqual(['app', 'db']);
    expect(idx.dependentsOf('ns2', 'net')).toEqual(['other']);
    idx.set(stk('app', ['db']));
    expect(idx.dependentsOf('ns', 'net')).toEqual(['db']);
    idx.remove(stk('app'));
    idx.remove(stk('db'));
    expect(idx.dependentsOf('ns', 'net')).toEqual([]);
    expect(idx.dependentsOf('ns', 'db')).toEqual([]);
    expect(idx.dependenciesOf('ns', 'db')).toEqual([]);
  });

  it('finds a cycle through a Stack and names it in order, and none where there is none', () => {
    const idx = new DependencyIndex();
    idx.set(stk('a', ['b']));
    idx.set(stk('b', [], ['c']));
    idx.set(stk('c', ['a', 'x']));
    idx.set(stk('d', ['a']));
    expect(idx.cycleThrough('ns', 'a')).toEqual(['a', 'b', 'c', 'a']);
    expect(idx.cycleThrough('ns', 'c')).toEqual(['c', 'a', 'b', 'c']);
    expect(idx.cycleThrough('ns', 'd')).toBeUndefined();
    idx.set(stk('c', ['x']));
    expect(idx.cycleThrough('ns', 'a')).toBeUndefined();
  });

  it('ends on a long chain without recursion limits', () => {
    const idx = new DependencyIndex();
    for (let i = 0; i < 20_000; i++) idx.set(stk(`s${i}`, [`s${i + 1}`]));
    expect(idx.cycleThrough('ns', 's0')).toBeUndefined();
    idx.set(stk('s20000', ['s0']));
    expect(idx.cycleThrough('ns', 's0')?.length).toBe(20_002);
  });
});

describe('factsOf', () => {
  it('Ready counts only at the current generation', () => {
    const s = stk('net');
    const cond = (gen: number) => [{ type: 'Ready', status: 'True' as const, reason: 'Succeeded', message: '', observedGeneration: gen, lastTransitionTime: '2026-01-01T00:00:00Z' }];
    expect(factsOf('net', { ...s, status: { observedGeneration: 1, conditions: cond(1), outputs: { k: 'v' } } })).toMatchObject({ ready: true, outputs: { k: 'v' } });
    expect(factsOf('net', { ...s, metadata: { ...s.metadata, generation: 2 }, status: { observedGeneration: 1, conditions: cond(1) } }).ready).toBe(false);
    expect(factsOf('net', undefined)).toEqual({ name: 'net', exists: false });
  });
});
