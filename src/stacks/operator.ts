// Assembles the operator on a runtime Manager: informers for Stacks and both provider kinds, the
// Stack controller, and the provider controller that maintains each provider's Ready condition.
import type { StackProviderStatus } from '../api/v1alpha1/types.ts';
import { ProviderRegistry } from '../providers/index.ts';
import type { ResolvedProviderConfig } from '../providers/config.ts';
import { ProviderError, type StackProviderClient } from '../providers/types.ts';
import { awaitChange, requeueAfter, type Controller, type EventType } from '../runtime/controller.ts';
import { isNotFound } from '../runtime/errors.ts';
import { EventRecorder } from '../runtime/events.ts';
import type { Informer } from '../runtime/informer.ts';
import type { KubeClient, KubeObject } from '../runtime/kube-client.ts';
import type { Logger } from '../runtime/logging.ts';
import type { Manager } from '../runtime/manager.ts';
import { mergePatchDiff } from '../runtime/merge-patch.ts';
import { patchStatus } from '../runtime/status.ts';
import { setCondition, truncate } from './plan.ts';
import type { PlannerSettings } from './plan.ts';
import {
  CLUSTER_STACK_PROVIDERS,
  CONFIG_MAPS,
  type CrashPoint,
  type ProviderClients,
  type ProviderObject,
  SECRETS,
  STACKS,
  STACK_PROVIDERS,
  type StackContext,
  type StackObject,
  reconcileStack,
} from './reconciler.ts';
import { REASONS } from './reasons.ts';
import { type KeyedData, type ResolveReader, resolveProviderConfig } from './resolve.ts';

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
  providerClients?: ProviderClients & { close?(): Promise<void> };
  /** Name of this instance in events (pod name). */
  instance?: string;
  crashPoint?: (point: CrashPoint, action: string) => void;
  /** How long Secret / ConfigMap reads are cached. Default 10 s. */
  readCacheMs?: number;
  /** Per-key error backoff of the Stack controller. Default 1 s doubling to 5 min. */
  backoff?: { baseMs: number; capMs: number };
}

/** Reads Secrets and ConfigMaps with a short cache, so 1,000 Stacks sharing one Secret read it once. */
export class CachedReader implements ResolveReader {
  readonly #client: KubeClient;
  readonly #ttl: number;
  readonly #cache = new Map<string, { at: number; value: Promise<KeyedData | undefined> }>();

  constructor(client: KubeClient, ttlMs: number) {
    this.#client = client;
    this.#ttl = ttlMs;
  }

  secret(namespace: string, name: string): Promise<KeyedData | undefined> {
    return this.#get('s', namespace, name);
  }

  configMap(namespace: string, name: string): Promise<KeyedData | undefined> {
    return this.#get('c', namespace, name);
  }

  #get(kind: 's' | 'c', namespace: string, name: string): Promise<KeyedData | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#ttl) return hit.value;
    const value = this.#fetch(kind, namespace, name);
    this.#cache.set(key, { at: now, value });
    value.catch(() => this.#cache.delete(key));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return value;
  }

  async #fetch(kind: 's' | 'c', namespace: string, name: string): Promise<KeyedData | undefined> {
    try {
      const obj = await this.#client.get<KubeObject & { data?: Record<string, string> }>(kind === 's' ? SECRETS : CONFIG_MAPS, namespace, name);
      const raw = obj.data ?? {};
      const data = kind === 's' ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : raw;
      return { data };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

function changedForReconcile(event: EventType, obj: StackObject, old?: StackObject): boolean {
  if (event !== 'update' || !old) return true;
  // Status-only updates (our own writes) do not need a reconcile: the planner reached a fixed point.
  return (
    obj.metadata.generation !== old.metadata.generation ||
    obj.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {}) ||
    JSON.stringify(obj.metadata.finalizers ?? []) !== JSON.stringify(old.metadata.finalizers ?? []) ||
    obj.metadata.uid !== old.metadata.uid
  );
}

export interface Operator {
  stacks: Informer<StackObject>;
  stackController: Controller<StackContext>;
  providerClients: ProviderClients & { close?(): Promise<void> };
  close(): Promise<void>;
}

export function buildOperator(manager: Manager, opts: OperatorOptions = {}): Operator {
  const log: Logger = manager.log;
  const client = manager.client;
  const namespaces = opts.namespaces ?? [];
  const stacks = manager.informer<StackObject>({
    resource: STACKS,
    namespaces,
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
  });
  const providers = manager.informer<ProviderObject>({ resource: STACK_PROVIDERS, namespaces });
  const clusterProviders = manager.informer<ProviderObject>({ resource: { ...CLUSTER_STACK_PROVIDERS, namespaced: false } });
  const registry = opts.providerClients ?? new ProviderRegistry({ logger: log });
  const reader = new CachedReader(client, opts.readCacheMs ?? 10_000);
  const events = new EventRecorder(client, {
    reportingController: 'stackoperator.dev/stack-operator',
    reportingInstance: (opts.instance ?? process.env.POD_NAME ?? 'stack-operator').slice(0, 128),
    log,
  });

  const ctx: StackContext = {
    client,
    stacks,
    providers,
    clusterProviders,
    reader,
    providerClients: registry,
    events,
    now: () => Date.now(),
    random: Math.random,
    log,
    defaults: { pollIntervalMs: opts.pollIntervalMs ?? 5_000, resyncIntervalMs: opts.resyncIntervalMs ?? 600_000 },
    ...(opts.planner ? { planner: opts.planner } : {}),
    ...(opts.crashPoint ? { crashPoint: opts.crashPoint } : {}),
  };

  const backoff = opts.backoff ?? { baseMs: 1000, capMs: 300_000 };
  const stackController = manager.controller<StackContext>({
    name: 'stack',
    reconciler: reconcileStack,
    context: ctx,
    maxConcurrentReconciles: opts.maxConcurrentReconciles ?? 10,
    rateLimiterOptions: { baseDelayMs: backoff.baseMs, maxDelayMs: backoff.capMs, qps: 50, burst: 500 },
  });
  stackController.for(stacks, { predicate: changedForReconcile });
  // A provider created, changed or deleted re-plans every Stack that references it.
  const providerMap =
    (kind: 'StackProvider' | 'ClusterStackProvider') =>
    (p: ProviderObject, event: EventType, old?: ProviderObject): string[] => {
      if (event === 'update' && old && old.metadata.generation === p.metadata.generation) return [];
      const out: string[] = [];
      for (const s of kind === 'StackProvider' ? stacks.list(p.metadata.namespace) : stacks.list()) {
        const ref = s.spec.providerRef;
        if ((ref.kind ?? 'StackProvider') === kind && ref.name === p.metadata.name) out.push(`${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`);
      }
      return out;
    };
  stackController.watch(providers, providerMap('StackProvider'));
  stackController.watch(clusterProviders, providerMap('ClusterStackProvider'));

  for (const [kind, informer] of [
    ['StackProvider', providers],
    ['ClusterStackProvider', clusterProviders],
  ] as const) {
    const c = manager.controller<null>({
      name: kind === 'StackProvider' ? 'stackprovider' : 'clusterstackprovider',
      context: null,
      maxConcurrentReconciles: 2,
      reconciler: async (key, _ctx, signal) => {
        const p = informer.get(key);
        if (!p) return awaitChange();
        const resource = kind === 'StackProvider' ? STACK_PROVIDERS : CLUSTER_STACK_PROVIDERS;
        const { status, retryMs } = await checkProvider(p, reader, registry, signal);
        const patch = mergePatchDiff(p.status ?? {}, status);
        if (patch !== undefined) {
          await patchStatus(client, resource, { namespace: p.metadata.namespace, name: p.metadata.name ?? '', resourceVersion: p.metadata.resourceVersion ?? null }, patch as Record<string, unknown>, signal);
        }
        return requeueAfter(retryMs);
      },
    });
    c.for(informer, { predicate: (event, obj, old) => event !== 'update' || obj.metadata.generation !== old?.metadata.generation });
  }

  return {
    stacks,
    stackController,
    providerClients: registry,
    close: async () => {
      await registry.close?.();
    },
  };
}

/** Credentials accepted and endpoint reachable: the provider's Ready condition. */
async function checkProvider(
  p: ProviderObject,
  reader: ResolveReader,
  registry: ProviderClients,
  signal: AbortSignal,
): Promise<{ status: StackProviderStatus; retryMs: number }> {
  const gen = p.metadata.generation ?? 0;
  const now = new Date().toISOString();
  const base: StackProviderStatus = { ...(p.status ?? {}), observedGeneration: gen };
  const done = (ok: boolean, reason: string, message: string, retryMs: number, type?: string) => {
    const conditions = setCondition(base.conditions, 'Ready', ok ? 'True' : 'False', reason, message, gen, now);
    const st: StackProviderStatus = { ...base, conditions, ...(type ? { type } : {}) };
    if (conditions.find((c) => c.type === 'Ready')?.lastTransitionTime === now) st.lastCheckedTime = now;
    return { status: st, retryMs };
  };
  let resolved: { ok: ResolvedProviderConfig } | { error: { reason: string; message: string } };
  try {
    resolved = await resolveProviderConfig(p, reader);
  } catch (err) {
    return done(false, REASONS.ProviderUnavailable, `reading the credentials Secret failed: ${String(err)}`, 60_000);
  }
  if ('error' in resolved) return done(false, resolved.error.reason, resolved.error.message, 60_000);
  let client: StackProviderClient;
  try {
    client = registry.get(resolved.ok);
    await client.checkConnection({ signal });
  } catch (err) {
    if (err instanceof ProviderError) {
      const reason = err.kind === 'Unauthorized' ? REASONS.Unauthorized : err.kind === 'Invalid' ? REASONS.InvalidSpec : REASONS.ProviderUnavailable;
      return done(false, reason, truncate(err.message), err.terminal ? 300_000 : 60_000, resolved.ok.type);
    }
    return done(false, REASONS.ProviderUnavailable, truncate(err instanceof Error ? err.message : String(err)), 60_000, resolved.ok.type);
  }
  return done(true, 'Connected', `credentials accepted by ${resolved.ok.type} endpoint`, 600_000, resolved.ok.type);
}
