// Dependencies between Stacks of one namespace (docs/dependencies.md): the names a Stack depends on,
// the facts the planner needs about them, and an index from dependency to dependents kept up to date
// by the Stack informer's events, so no event scans every Stack.
import type { Stack } from '../api/v1alpha1/types.ts';
import type { Informer } from '../runtime/informer.ts';
import type { StackObject } from './context.ts';
import type { DependencyFacts } from './plan/index.ts';

/** The Stacks this one depends on: spec.dependsOn plus every parametersFrom source of kind Stack, once each. */
export function dependencyNames(stack: Stack): string[] {
  const names = new Set<string>();
  for (const d of stack.spec.dependsOn ?? []) names.add(d.name);
  for (const p of stack.spec.parametersFrom ?? []) if (p.kind === 'Stack') names.add(p.name);
  return [...names];
}

/** Ready=True for the current generation: a Ready condition left from an older spec does not count. */
export function readyAtGeneration(stack: Stack): boolean {
  const gen = stack.metadata.generation ?? 0;
  const ready = stack.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && ready.observedGeneration === gen && stack.status?.observedGeneration === gen;
}

/** What the planner learns about one dependency, read from the cache (undefined: not in the cache). */
export function factsOf(name: string, dep: Stack | undefined): DependencyFacts {
  if (!dep) return { name, exists: false };
  const ready = dep.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name,
    exists: true,
    deleting: dep.metadata.deletionTimestamp !== undefined,
    suspended: dep.spec.suspend === true,
    ready: readyAtGeneration(dep),
    ...(ready?.reason ? { readyReason: ready.reason } : {}),
    outputs: dep.status?.outputs ?? {},
  };
}

const keyOf = (ns: string, name: string): string => `${ns}/${name}`;

/**
 * Dependency edges of the cached Stacks, both ways. Memory is bounded by the cache: at most
 * 32 dependsOn + 50 parametersFrom edges per cached Stack, dropped when the Stack leaves the cache.
 */
export class DependencyIndex {
  readonly #deps = new Map<string, string[]>();
  readonly #dependents = new Map<string, Set<string>>();

  set(stack: Stack): void {
    this.remove(stack);
    const ns = stack.metadata.namespace ?? '';
    const key = keyOf(ns, stack.metadata.name ?? '');
    const names = dependencyNames(stack);
    if (names.length === 0) return;
    this.#deps.set(key, names);
    for (const n of names) {
      const set = this.#dependents.get(keyOf(ns, n)) ?? new Set<string>();
      set.add(stack.metadata.name ?? '');
      this.#dependents.set(keyOf(ns, n), set);
    }
  }

  remove(stack: Stack): void {
    const ns = stack.metadata.namespace ?? '';
    const key = keyOf(ns, stack.metadata.name ?? '');
    for (const n of this.#deps.get(key) ?? []) {
      const set = this.#dependents.get(keyOf(ns, n));
      set?.delete(stack.metadata.name ?? '');
      if (set?.size === 0) this.#dependents.delete(keyOf(ns, n));
    }
    this.#deps.delete(key);
  }

  /** Names of the Stacks in `ns` that depend on `name`, sorted. */
  dependentsOf(ns: string, name: string): string[] {
    return [...(this.#dependents.get(keyOf(ns, name)) ?? [])].sort();
  }

  dependenciesOf(ns: string, name: string): string[] {
    return this.#deps.get(keyOf(ns, name)) ?? [];
  }

  /**
   * A cycle through `name`, as the names along it ending where it started (a -> b -> a), or undefined.
   * Depth-first over the index without recursion; each Stack is visited at most once, so it ends on any graph.
   */
  cycleThrough(ns: string, name: string): string[] | undefined {
    const parent = new Map<string, string>();
    const todo = [name];
    while (todo.length > 0) {
      const at = todo.pop() as string;
      for (const next of this.dependenciesOf(ns, at)) {
        if (next === name) return pathTo(parent, name, at);
        if (parent.has(next)) continue;
        parent.set(next, at);
        todo.push(next);
      }
    }
    return undefined;
  }
}

function pathTo(parent: Map<string, string>, start: string, last: string): string[] {
  const back: string[] = [];
  for (let at = last; at !== start; at = parent.get(at) ?? start) back.push(at);
  return [start, ...back.reverse(), start];
}

/**
 * An index kept current by the informer's own handlers. Create it before any controller watches the
 * informer: handlers run in registration order, so a map function or reconcile sees the new edges.
 */
export function trackDependencies(informer: Informer<StackObject>): DependencyIndex {
  const idx = new DependencyIndex();
  for (const s of informer.list()) idx.set(s);
  informer.onAdd((s) => idx.set(s));
  informer.onUpdate((_old, s) => idx.set(s));
  informer.onDelete((s) => idx.remove(s));
  return idx;
}
