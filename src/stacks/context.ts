// Everything with side effects that the Stack controllers use, in one object (docs/architecture.md):
// the kube client, the informers' caches, the Secret / ConfigMap reader, the provider clients, the
// event recorder and the clock. Settings (intervals, planner tuning) travel separately.
import type { AcceptedCalls } from './accepted-calls.ts';
import type { LastViews } from './record-during-read.ts';
import type { Stack, StackProvider } from '../api/v1alpha1/types.ts';
import type { ResolvedProviderConfig } from '../providers/config.ts';
import type { StackProviderClient } from '../providers/types.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventInput } from '../runtime/events.ts';
import type { Informer } from '../runtime/informer.ts';
import type { KubeClient, KubeObject } from '../runtime/kube-client.ts';
import type { Logger } from '../runtime/logging.ts';
import type { DependencyIndex } from './dependencies.ts';
import type { PlannerSettings } from './plan/index.ts';
import type { ResolveReader } from './resolve.ts';

export type StackObject = Stack & KubeObject;
export type ProviderObject = StackProvider & KubeObject;

export interface ProviderClients {
  /** One shared client per provider object (pool, token bucket, auth cache), replaced when its config changes. */
  get(config: ResolvedProviderConfig): StackProviderClient;
  /** Close and drop the client of a deleted provider object (its identity: Kind/namespace/name). */
  remove(identity: string): Promise<void>;
  close?(): Promise<void>;
}

/** Points at which the test-only fault switch may kill the process (docs/reliability.md). */
export type CrashPoint = 'after-operation-recorded' | 'record-written-during-read' | 'after-provider-call' | 'after-finalizer-added' | 'before-finalizer-removed';

export interface StackContext {
  client: KubeClient;
  stacks: Informer<StackObject>;
  /** Dependency edges of the cached Stacks, both ways (unset: no Stack has dependents or a cycle). */
  dependencies?: DependencyIndex;
  providers: Informer<ProviderObject>;
  clusterProviders: Informer<ProviderObject>;
  reader: ResolveReader;
  providerClients: ProviderClients;
  /** Not awaited by the reconcile (EventRecorder.record). */
  events: { record(regarding: KubeObject, ev: EventInput): void };
  clock: Pick<Clock, 'now'>;
  /** A random number in [0, 1) (jitter). */
  random(): number;
  log: Logger;
  /** The Stack cache covers every namespace (no namespace restriction): it can tell that a UID is gone. */
  seesAllNamespaces: boolean;
  /** Confirmations of accepted calls not yet written to status (accepted-calls.ts). */
  acceptedCalls: AcceptedCalls;
  /** Each Stack's last provider view, planned on while the next read runs (record-during-read.ts). */
  lastViews: LastViews;
  /** Fencing: false when this process must not cause a provider mutation now (lease lost or nearly so). */
  mayMutate(): boolean;
  /** Test-only fault injection; inert unless STACK_OPERATOR_CRASH_AT is set. */
  crashPoint?: (point: CrashPoint, action: string) => void;
}

export interface StackSettings {
  /** Used when a provider object sets no pollInterval / resyncInterval. */
  defaults: { pollIntervalMs: number; resyncIntervalMs: number };
  planner?: Partial<PlannerSettings>;
}
