// The Stack reconciler: reads (cache, Secrets, provider), asks the pure planner for the next Step, and
// hands it to the executor. A few non-provider Steps (finalizer, status-only transitions) may chain in
// one reconcile; a provider mutation always ends it.
//
// While the Stack cache's first list is still arriving (a restart: the controller reconciles page by
// page, `reconcileWhileListing`), a reconcile may read but not act: a Step that would write or call
// anything, or a plan that looked at other Stacks (which may not be listed yet), waits for the complete
// cache (awaitCacheSync). A Stack that is as it should be costs its provider read and nothing else.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FINALIZER, type Stack } from '../api/v1alpha1/types.ts';
import type { ResolvedProviderConfig } from '../providers/config.ts';
import { ProviderError, type ProviderType, type StackProviderClient, type StackView } from '../providers/types.ts';
import { matchesSelector, selectorText } from '../lib/label-selector.ts';
import { awaitCacheSync, awaitChange, requeueAfter, type Action as RuntimeAction, type ReconcileInfo, type Reconciler } from '../runtime/controller.ts';
import { hasFinalizer } from '../runtime/finalizers.ts';
import type { ProviderObject, StackContext, StackObject, StackSettings } from './context.ts';
import { DependencyIndex, dependencyNames, factsOf } from './dependencies.ts';
import { observeOutputTargets } from './outputs.ts';
import { effectiveStackName } from './desired.ts';
import { execute, failureOf, hasNoEffect, recordOperation } from './executor.ts';
import { jsonEqual } from '../lib/canonical-json.ts';
import { mayRecordDuringRead, recordable } from './record-during-read.ts';
import { type CallFailure, type Observed, type PlanInput, type ProviderInfo, type ResolveError, type Step, plan } from './plan/index.ts';
import { REASONS } from './reasons.ts';
import { parseDuration, providerType, resolveDesired, resolveProviderConfig } from './resolve.ts';

const NO_DEPENDENCIES = new DependencyIndex();

interface ResolvedProvider {
  info: ProviderInfo;
  client: StackProviderClient;
}

interface Reads {
  observed: Observed;
  readFailure?: CallFailure;
  outputTargets?: PlanInput['outputTargets'];
}

export class StackReconciler implements Reconciler<StackContext> {
  readonly #settings: StackSettings;

  constructor(settings: StackSettings) {
    this.#settings = settings;
  }

  /** The whole reconcile of one Stack key. */
  async reconcile(key: string, ctx: StackContext, signal: AbortSignal, info: ReconcileInfo): Promise<RuntimeAction> {
    let stack = ctx.stacks.get(key);
    if (!stack) {
      ctx.acceptedCalls.forget(key);
      ctx.lastViews.forget(key);
      return awaitChange();
    }
    if (!info.primarySynced && actsForSure(stack)) return awaitCacheSync();
    const peers = new PeerReads(ctx);
    const provider = await this.#resolveProvider(stack, ctx);
    const desired = 'error' in provider ? ({ error: provider.error } as const) : await desiredOf(stack, provider.info.type, ctx, peers);
    const client = 'error' in provider ? undefined : provider.client;
    const fixed: Fixed = { provider: 'error' in provider ? { error: provider.error } : provider.info, desired, ...dependencyInput(stack, peers) };
    const inputOf = (s: StackObject, reads: Reads, at: PlannedAt): PlanInput => this.#input(ctx, s, fixed, reads, at);
    const reading = client !== undefined && needsRead(stack);
    const read: Promise<Reads> = reading ? readProvider(client, ctx.acceptedCalls.view(stack), ctx, peers, signal) : Promise.resolve({ observed: { kind: 'unknown' } });
    // Awaited below; a read failing while the early record is planned is not an unhandled rejection.
    read.catch(() => undefined);
    const early = reading && info.primarySynced ? await recordEarly(ctx, stack, inputOf, signal) : undefined;
    const reads = await read;

    for (let round = 0; round < 4; round++) {
      // After an early record, planned at its time: an unchanged view then gives the same Step.
      const input = inputOf(stack, reads, round === 0 && early ? early.at : { now: ctx.clock.now(), jitter: ctx.random() });
      const taken = round === 0 && early ? await afterEarly(early, input) : { step: plan(input), input, stack };
      if (!info.primarySynced && !takeableWhileListing(taken.step, stack, peers.looked)) return awaitCacheSync();
      const result = await execute(taken.step, { input: taken.input, stack: taken.stack, client, ctx, signal, log: info.log, ...(taken.recorded ? { recorded: taken.recorded } : {}) });
      if (result.kind === 'done') return result.action;
      stack = result.stack;
    }
    return requeueAfter(0);
  }

  /**
   * Planned with what the provider confirmed but status does not carry yet; written against the
   * persisted status, so the next write carries it (accepted-calls.ts).
   */
  #input(ctx: StackContext, stack: StackObject, fixed: Fixed, reads: Reads, at: PlannedAt): PlanInput {
    const settings = { recheckCapMs: this.#settings.defaults.resyncIntervalMs, ...this.#settings.planner };
    return { stack: ctx.acceptedCalls.view(stack), ...fixed, ...reads, ...at, settings };
  }

  async #resolveProvider(stack: Stack, ctx: StackContext): Promise<ResolvedProvider | { error: ResolveError }> {
    const ref = stack.spec.providerRef;
    const kind = ref.kind ?? 'StackProvider';
    const obj = kind === 'ClusterStackProvider' ? ctx.clusterProviders.getObject(undefined, ref.name) : ctx.providers.getObject(stack.metadata.namespace, ref.name);
    if (!obj) {
      const where = kind === 'ClusterStackProvider' ? ref.name : `${stack.metadata.namespace ?? ''}/${ref.name}`;
      return { error: { reason: REASONS.ProviderNotFound, message: `${kind} ${where} not found; create it or fix spec.providerRef` } };
    }
    const notAllowed = await namespaceNotAllowed(obj, stack, ctx);
    if (notAllowed) return { error: notAllowed };
    const resolved = await resolveProviderConfig(obj, ctx.reader);
    if ('error' in resolved) return resolved;
    const type = providerType(obj.spec);
    if (!type) return { error: { reason: REASONS.InvalidSpec, message: `${kind} ${ref.name} sets no provider block` } };
    const made = clientFor(ctx, resolved.ok);
    if ('error' in made) return made;
    const client = made.client;
    const { defaults } = this.#settings;
    return {
      client,
      info: {
        type,
        capabilities: client.capabilities,
        pollIntervalMs: parseDuration(obj.spec.pollInterval, defaults.pollIntervalMs),
        resyncIntervalMs: parseDuration(obj.spec.resyncInterval, defaults.resyncIntervalMs),
        adoption: obj.spec.adoption ?? (kind === 'ClusterStackProvider' ? 'Disallowed' : 'Allowed'),
        preview: typeof client.preview === 'function',
      },
    };
  }
}

type Fixed = Pick<PlanInput, 'provider' | 'desired' | 'dependencies' | 'dependencyCycle' | 'dependents'>;
type PlannedAt = Pick<PlanInput, 'now' | 'jitter'>;

interface Early {
  step: Step;
  written: Promise<StackObject>;
  at: PlannedAt;
}

/**
 * With the Stack's previous view, plans at once; a Step that starts a create / update has its record
 * written now, while the read runs (record-during-read.ts).
 */
async function recordEarly(
  ctx: StackContext,
  stack: StackObject,
  inputOf: (s: StackObject, reads: Reads, at: PlannedAt) => PlanInput,
  signal: AbortSignal,
): Promise<Early | undefined> {
  const view = ctx.lastViews.get(stack);
  if (!view || !mayRecordDuringRead(stack)) return undefined;
  // The read goes out first: it is the longer of the two.
  await nextTurn();
  const at = { now: ctx.clock.now(), jitter: ctx.random() };
  const step = plan({ ...inputOf(stack, { observed: { kind: 'found', view } }, at), recordDuringRead: true });
  if (!recordable(step)) return undefined;
  const written = recordOperation(ctx, stack, step, signal);
  // Awaited after the read; a read that throws first must not leave its rejection unhandled.
  written.then(() => ctx.crashPoint?.('record-written-during-read', step.action.type), () => undefined);
  return { step, written, at };
}

/**
 * The Step after the read when a record was written during it: the same Step (then its call goes out on
 * the record written), or the Step of the new view, taken on the Stack as the early write left it.
 */
async function afterEarly(early: Early, input: PlanInput): Promise<{ step: Step; input: PlanInput; stack: StackObject; recorded?: StackObject }> {
  // A failed write (a conflict: the cache was stale) fails the reconcile before any call, as the record's own write would.
  const written = await early.written;
  const marked: PlanInput = { ...input, recordDuringRead: true };
  const step = plan(marked);
  if (jsonEqual(step, early.step)) return { step, input: marked, stack: written, recorded: written };
  return { step: plan(input), input, stack: written };
}

/**
 * The reconcile's reads of other Stacks: dependencies, dependents, a cloud stack's owner. `looked`: one
 * was made, so the plan may rest on a Stack that an incomplete cache does not hold yet.
 */
class PeerReads {
  looked = false;
  readonly #ctx: StackContext;
  constructor(ctx: StackContext) {
    this.#ctx = ctx;
  }
  get(ns: string | undefined, name: string): StackObject | undefined {
    this.looked = true;
    return this.#ctx.stacks.getObject(ns, name);
  }
  list(): StackObject[] {
    this.looked = true;
    return this.#ctx.stacks.list();
  }
  get index(): DependencyIndex {
    this.looked = true;
    return this.#ctx.dependencies ?? NO_DEPENDENCIES;
  }
}

/**
 * A Stack whose reconcile writes for sure (no finalizer yet, a spec not yet observed, a deletion): before
 * the Stack LIST is complete it waits at once, without resolving or reading anything. 10,000 new Stacks
 * at a start would otherwise be planned twice, the first time competing with the LIST itself.
 */
export function actsForSure(stack: StackObject): boolean {
  if (stack.metadata.deletionTimestamp) return true;
  if (!hasFinalizer(stack, FINALIZER)) return true;
  return stack.status?.observedGeneration !== stack.metadata.generation;
}

/**
 * Whether a Step may be taken before the Stack cache's first list is complete: it writes nothing,
 * records no event and calls nothing, and its plan did not look at another Stack (one not listed yet
 * reads as missing, and even a Step that changes nothing, e.g. "await", would then rest on that).
 */
export function takeableWhileListing(step: Step, stack: StackObject, lookedAtOtherStacks: boolean): boolean {
  if (lookedAtOtherStacks) return false;
  if (step.next.type !== 'await' && step.next.type !== 'requeue') return false;
  return hasNoEffect(step, stack);
}

function refOf(stack: Stack): { name: string; id?: string } {
  const id = stack.status?.stackId;
  return id ? { name: effectiveStackName(stack), id } : { name: effectiveStackName(stack) };
}

function needsRead(stack: StackObject): boolean {
  if (stack.spec.suspend) return false;
  if (stack.metadata.deletionTimestamp) return stack.spec.deletionPolicy !== 'Retain' && stack.spec.deletionProtection !== true;
  return hasFinalizer(stack, FINALIZER);
}

async function readProvider(client: StackProviderClient, stack: StackObject, ctx: StackContext, peers: PeerReads, signal: AbortSignal): Promise<Reads> {
  let view: StackView | null;
  try {
    view = await client.get(refOf(stack), { signal });
  } catch (err) {
    const failure = failureOf(err);
    if (failure.kind === 'NotFound') {
      ctx.lastViews.remember(stack, undefined);
      return { observed: { kind: 'absent' } };
    }
    return { observed: { kind: 'unknown' }, readFailure: failure };
  }
  ctx.lastViews.remember(stack, view ?? undefined);
  if (!view) return { observed: { kind: 'absent' } };
  view = await withOutputs(client, stack, view, ctx, peers, signal);
  const foreignOwner = view.ownerUid !== undefined && view.ownerUid !== stack.metadata.uid;
  const observed: Observed = { kind: 'found', view, ...(foreignOwner ? { ownerLive: ownerIsLive(view.ownerUid as string, ctx, peers) } : {}) };
  // The outputs objects matter once the stack is complete (the planner ensures them then).
  const outputTargets = view.phase === 'Complete' && !stack.metadata.deletionTimestamp ? await observeOutputTargets(ctx.client, stack, signal) : undefined;
  return { observed, ...(outputTargets ? { outputTargets } : {}) };
}

/**
 * A provider whose stack view carries no outputs (rfs: a separate call) reads them when they can have
 * changed or are wanted: an operation of ours just settled, status.outputs was never filled, or another
 * Stack depends on this one. Not on every resync: that would double the calls at rest (an update made
 * outside Kubernetes shows in status.outputs after the next operation; docs/providers/rfs.md).
 */
async function withOutputs(client: StackProviderClient, stack: StackObject, view: StackView, ctx: StackContext, peers: PeerReads, signal: AbortSignal): Promise<StackView> {
  if (view.outputs !== undefined || view.phase !== 'Complete' || stack.metadata.deletionTimestamp) return view;
  const wanted =
    stack.status?.operation !== undefined ||
    stack.status?.outputs === undefined ||
    peers.index.dependentsOf(stack.metadata.namespace ?? '', stack.metadata.name ?? '').length > 0;
  if (!wanted) return view;
  try {
    return { ...view, outputs: await client.outputs({ name: view.name, id: view.id }, { signal }) };
  } catch (err) {
    // status.outputs keeps its last value and dependents keep waiting (they name the missing output);
    // the next reconcile reads again.
    ctx.log.debug({ err, stack: stack.metadata.name }, 'reading the stack outputs failed');
    return view;
  }
}

/**
 * Whether a cloud stack's owner UID is a Stack that exists. Only a cache that sees every namespace can
 * say no; a namespace-restricted operator answers "live" (never adopt what it cannot see).
 */
function ownerIsLive(uid: string, ctx: StackContext, peers: PeerReads): boolean {
  if (!ctx.seesAllNamespaces) return true;
  return peers.list().some((s) => s.metadata.uid === uid);
}

/** The desired state; a template that cannot even be hashed (pathological nesting) is InvalidSpec, never a crash. */
async function desiredOf(stack: Stack, type: ProviderType, ctx: StackContext, peers: PeerReads): Promise<PlanInput['desired']> {
  try {
    const ns = stack.metadata.namespace;
    const r = await resolveDesired(stack, type, ctx.reader, (name) => peers.get(ns, name)?.status?.outputs);
    return 'ok' in r ? r.ok : r;
  } catch (err) {
    if (err instanceof RangeError) return { error: { reason: REASONS.InvalidSpec, message: `the template cannot be processed: ${err.message}` } };
    throw err;
  }
}

/**
 * The dependencies' state, a cycle through this Stack, and (while it is being deleted) its dependents,
 * from the Stack cache and the dependency index (docs/dependencies.md). A Stack in a cycle with this one
 * does not hold its deletion: the two would wait for each other forever.
 */
function dependencyInput(stack: Stack, peers: PeerReads): Pick<PlanInput, 'dependencies' | 'dependencyCycle' | 'dependents'> {
  const ns = stack.metadata.namespace ?? '';
  const name = stack.metadata.name ?? '';
  const names = dependencyNames(stack);
  if (names.length === 0 && !stack.metadata.deletionTimestamp) return {};
  const index = peers.index;
  // Only a Stack with dependencies can be on a cycle.
  const cycle = names.length > 0 ? index.cycleThrough(ns, name) : undefined;
  if (stack.metadata.deletionTimestamp) {
    const inCycle = new Set(cycle ?? []);
    return { dependents: index.dependentsOf(ns, name).filter((d) => !inCycle.has(d)) };
  }
  const dependencies = names.map((d) => factsOf(d, peers.get(ns, d)));
  return { ...(dependencies.length > 0 ? { dependencies } : {}), ...(cycle ? { dependencyCycle: cycle } : {}) };
}

/** A ClusterStackProvider's namespaceSelector that does not select the Stack's namespace. */
async function namespaceNotAllowed(provider: ProviderObject, stack: Stack, ctx: StackContext): Promise<ResolveError | undefined> {
  const selector = provider.kind === 'ClusterStackProvider' ? provider.spec.namespaceSelector : undefined;
  if (!selector) return undefined;
  const ns = stack.metadata.namespace ?? '';
  const labels = await ctx.reader.namespaceLabels(ns);
  if (matchesSelector(selector, labels)) return undefined;
  return {
    reason: REASONS.ProviderNotAllowed,
    message: `ClusterStackProvider ${provider.metadata.name ?? ''} does not serve namespace ${ns} (its namespaceSelector is ${selectorText(selector)}); use a provider this namespace may use`,
  };
}

/** The provider's shared client; a config the provider layer refuses (e.g. plain http) is the Stack's InvalidSpec. */
function clientFor(ctx: StackContext, config: ResolvedProviderConfig): { client: StackProviderClient } | { error: ResolveError } {
  try {
    return { client: ctx.providerClients.get(config) };
  } catch (err) {
    if (err instanceof ProviderError && err.terminal) return { error: { reason: REASONS.InvalidSpec, message: err.message } };
    throw err;
  }
}
