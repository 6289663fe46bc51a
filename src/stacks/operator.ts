// Assembles the operator on a runtime Manager: informers for Stacks and both provider kinds, the
// Stack controller, and one provider-readiness controller per provider kind.
import { AcceptedCalls } from './accepted-calls.ts';
import { LastViews } from './record-during-read.ts';
import { CLUSTER_STACK_PROVIDERS, STACKS, STACK_PROVIDERS } from '../api/v1alpha1/resources.ts';
import { ProviderRegistry } from '../providers/index.ts';
import { realClock } from '../runtime/clock.ts';
import type { Controller, EventType } from '../runtime/controller.ts';
import { EventRecorder } from '../runtime/events.ts';
import { type Informer, keepOnly, LAST_APPLIED_ANNOTATION } from '../runtime/informer.ts';
import type { KubeObject } from '../runtime/kube-client.ts';
import type { Manager } from '../runtime/manager.ts';
import { CachedReader } from './cached-reader.ts';
import { providerConditionGauge, stackConditionGauge } from './condition-metrics.ts';
import { inlineTemplateAsText } from './inline-template.ts';
import { type DependencyIndex, dependencyNames, readyAtGeneration, trackDependencies } from './dependencies.ts';
import type { CrashPoint, ProviderClients, ProviderObject, StackContext, StackObject } from './context.ts';
import type { PlannerSettings } from './plan/index.ts';
import { type ProviderKind, type ProviderReadinessContext, ProviderReadinessReconciler } from './provider-readiness.ts';
import { StackReconciler } from './reconciler.ts';

export interface OperatorOptions {
  /** Watch only these namespaces (Stacks and StackProviders); empty: all. */
  namespaces?: string[];
  /** Only Stacks matching this label selector (sharding). */
  labelSelector?: string;
  maxConcurrentReconciles?: number;
  pollIntervalMs?: number;
  resyncIntervalMs?: number;
  planner?: Partial<PlannerSettings>;
  /** Replaces the provider client registry (tests). */
  providerClients?: ProviderClients;
  /** Name of this instance in events (the pod name). */
  instance?: string;
  crashPoint?: (point: CrashPoint, action: string) => void;
  /** How long Secret / ConfigMap reads are cached. Default 10 s. */
  readCacheMs?: number;
  /** Per-key error backoff of the Stack controller. Default 1 s doubling to 5 min. */
  backoff?: { baseMs: number; capMs: number };
  /**
   * Deadline of one reconcile (its signal aborts every request still running). Default 2 min: longer
   * than any single provider request may take (their own deadlines are shorter), so only a stuck
   * reconcile hits it, and it frees its worker.
   */
  reconcileTimeoutMs?: number;
  /** LIST page size of the Stack informer. Default 500 (the informer's). */
  stackListPageSize?: number;
}

export interface Operator {
  stacks: Informer<StackObject>;
  stackController: Controller<StackContext>;
  providerClients: ProviderClients;
  close(): Promise<void>;
}

/** Status-only updates (our own writes) need no reconcile: the planner reached a fixed point. */
function changedForReconcile(event: EventType, obj: StackObject, old?: StackObject): boolean {
  if (event !== 'update' || !old) return true;
  return (
    obj.metadata.generation !== old.metadata.generation ||
    obj.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {}) ||
    JSON.stringify(obj.metadata.finalizers ?? []) !== JSON.stringify(old.metadata.finalizers ?? []) ||
    obj.metadata.uid !== old.metadata.uid
  );
}

/**
 * What the Stack controller, its planner and the dependency index read of a Stack. The rest stays out
 * of the cache: managedFields and kubectl's last-applied annotation (a second copy of the spec) are
 * as large as the Stack itself (docs/benchmarks.md, memory).
 */
/** The field filter alone (the cache view before the template is kept as text; test/bench/cache-size.ts compares both). */
export const keepStackFields = keepOnly<StackObject>({
  fields: ['apiVersion', 'kind', 'spec', 'status'],
  metadata: ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'labels', 'annotations', 'finalizers', 'ownerReferences'],
  dropAnnotations: [LAST_APPLIED_ANNOTATION],
});

/**
 * The Stack as the cache keeps it. A Stack's spec changes only with its generation (the API server
 * bumps it on every spec change of a custom resource with a status subresource), so an event with
 * the generation already cached (a status write, a label, a finalizer) keeps the cached spec: the
 * template is not serialised again, and what resolve.ts memoised for it (checks, hash) still holds
 * (test/bench/notes.md, twelfth round: a tenth of the CPU of 2,000 new Stacks).
 */
export function stackCacheView(obj: KubeObject, previous?: StackObject): StackObject {
  const stack = keepStackFields(obj);
  const now = stack.metadata;
  const before = previous?.metadata;
  if (previous && before && before.uid === now.uid && now.generation !== undefined && before.generation === now.generation) {
    stack.spec = previous.spec;
    return stack;
  }
  inlineTemplateAsText(stack.spec?.template as Record<string, unknown> | undefined);
  return stack;
}

export function buildOperator(manager: Manager, opts: OperatorOptions = {}): Operator {
  const client = manager.client;
  const namespaces = opts.namespaces ?? [];
  const stacks = manager.informer<StackObject>({
    resource: STACKS,
    namespaces,
    transform: stackCacheView,
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(opts.stackListPageSize ? { pageSize: opts.stackListPageSize } : {}),
  });
  const providers = manager.informer<ProviderObject>({ resource: STACK_PROVIDERS, namespaces });
  const clusterProviders = manager.informer<ProviderObject>({ resource: CLUSTER_STACK_PROVIDERS });
  const registry = opts.providerClients ?? new ProviderRegistry({ logger: manager.log });
  const reader = new CachedReader(client, opts.readCacheMs ?? 10_000);
  // Before any controller watches the Stack informer, so map functions and reconciles see new edges.
  const dependencies = trackDependencies(stacks);
  const events = new EventRecorder(client, { reportingController: 'stackoperator.dev/stack-operator', reportingInstance: (opts.instance ?? 'stack-operator').slice(0, 128), log: manager.log });
  const ctx: StackContext = {
    client,
    stacks,
    dependencies,
    providers,
    clusterProviders,
    reader,
    providerClients: registry,
    events,
    clock: realClock,
    random: Math.random,
    log: manager.log,
    // A label-selected (sharded) cache does not see every Stack either.
    seesAllNamespaces: namespaces.length === 0 && !opts.labelSelector,
    mayMutate: () => manager.holdsLeadership(),
    acceptedCalls: new AcceptedCalls(),
    lastViews: new LastViews(),
    ...(opts.crashPoint ? { crashPoint: opts.crashPoint } : {}),
  };
  const settings = {
    defaults: { pollIntervalMs: opts.pollIntervalMs ?? 5_000, resyncIntervalMs: opts.resyncIntervalMs ?? 600_000 },
    ...(opts.planner ? { planner: opts.planner } : {}),
  };
  const backoff = opts.backoff ?? { baseMs: 1000, capMs: 300_000 };
  const stackController = manager.controller<StackContext>({
    name: 'stack',
    reconciler: new StackReconciler(settings),
    context: ctx,
    maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 10,
    rateLimiterOptions: { baseDelayMs: backoff.baseMs, maxDelayMs: backoff.capMs, qps: 50, burst: 500 },
    reconcileTimeoutMs: opts.reconcileTimeoutMs ?? 120_000,
    // A restart re-reads every Stack at the provider's rate: starting on the LIST's first page rather
    // than after its last overlaps the two (the reconciler acts only on a complete cache; reconciler.ts).
    reconcileWhileListing: true,
  });
  stackController.for(stacks, { predicate: changedForReconcile });
  stackController.watch(stacks, relatedStacks(dependencies));
  stackController.watch(providers, stacksOfProvider(stacks, 'StackProvider'));
  stackController.watch(clusterProviders, stacksOfProvider(stacks, 'ClusterStackProvider'));
  for (const [kind, informer] of [['StackProvider', providers], ['ClusterStackProvider', clusterProviders]] as const) {
    const c = manager.controller<ProviderReadinessContext>({
      name: kind === 'StackProvider' ? 'stackprovider' : 'clusterstackprovider',
      reconciler: new ProviderReadinessReconciler(kind),
      context: { client, informer, reader, providerClients: registry, clock: realClock },
      maxConcurrentReconciles: 2,
    });
    c.for(informer, { predicate: (event, obj, old) => event !== 'update' || obj.metadata.generation !== old?.metadata.generation });
  }
  stackConditionGauge(stacks);
  providerConditionGauge([
    { list: () => providers.list(), labels: { kind: 'StackProvider' } },
    { list: () => clusterProviders.list(), labels: { kind: 'ClusterStackProvider' } },
  ]);
  const close = async (): Promise<void> => {
    // The events the last reconciles recorded, written before the process goes (bounded by their writes' timeouts).
    await events.flush();
    await registry.close?.();
  };
  return { stacks, stackController, providerClients: registry, close };
}

/** What dependents read of a Stack: a change re-plans them (docs/dependencies.md). */
function dependencyView(s: StackObject): string {
  return JSON.stringify([readyAtGeneration(s), s.status?.outputs ?? {}, s.metadata.generation, s.metadata.deletionTimestamp ?? '']);
}

/**
 * Stack events re-plan the Stacks related through dependencies, found in the index (never a scan):
 * its dependents when what they read of it changed (its status included: the primary predicate ignores
 * status-only updates of the Stack itself), and its dependencies when it is deleted or its
 * dependencies change (a dependency waiting on its dependents, or a cycle that may have formed or gone).
 */
function relatedStacks(index: DependencyIndex) {
  return (s: StackObject, event: EventType, old?: StackObject): string[] => {
    const ns = s.metadata.namespace ?? '';
    const keys = new Set<string>();
    const add = (names: string[]) => names.forEach((n) => keys.add(`${ns}/${n}`));
    if (event !== 'update' || !old || dependencyView(s) !== dependencyView(old)) add(index.dependentsOf(ns, s.metadata.name ?? ''));
    const before = old ? dependencyNames(old) : [];
    const now = dependencyNames(s);
    if (event === 'delete' || JSON.stringify(before) !== JSON.stringify(now)) add([...before, ...now]);
    return [...keys];
  };
}

const isReady = (p: ProviderObject | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * A provider created, changed or deleted re-plans every Stack that references it, and so does its
 * Ready condition turning True: Stacks Stalled on its credentials recover at once.
 */
function stacksOfProvider(stacks: Informer<StackObject>, kind: ProviderKind) {
  return (p: ProviderObject, event: EventType, old?: ProviderObject): string[] => {
    if (event === 'update' && old && old.metadata.generation === p.metadata.generation && (isReady(old) || !isReady(p))) return [];
    const out: string[] = [];
    for (const s of kind === 'StackProvider' ? stacks.list(p.metadata.namespace) : stacks.list()) {
      const ref = s.spec.providerRef;
      if ((ref.kind ?? 'StackProvider') === kind && ref.name === p.metadata.name) out.push(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`);
    }
    return out;
  };
}
