// The Stack reconciler: reads (cache, provider), asks the pure planner for the next Step, and runs it
// through the context. Everything with side effects goes through `StackContext`.
import { FINALIZER, type Stack, type StackProvider, type StackStatus } from '../api/v1alpha1/types.ts';
import type { ResolvedProviderConfig } from '../providers/config.ts';
import { ProviderError, type StackProviderClient, type StackView } from '../providers/types.ts';
import { awaitChange, requeueAfter, type Action as RuntimeAction, type ReconcileInfo } from '../runtime/controller.ts';
import { TransientError } from '../runtime/errors.ts';
import type { EventInput } from '../runtime/events.ts';
import { addFinalizer, removeFinalizer } from '../runtime/finalizers.ts';
import type { Informer } from '../runtime/informer.ts';
import { APPLY_PATCH, type KubeClient, type KubeObject, type ResourceRef } from '../runtime/kube-client.ts';
import type { Logger } from '../runtime/logging.ts';
import { mergePatchDiff } from '../runtime/merge-patch.ts';
import { patchStatus } from '../runtime/status.ts';
import {
  type CallFailure,
  type Observed,
  type PlanInput,
  type PlannerSettings,
  type ProviderInfo,
  type ResolveError,
  type Step,
  plan,
  planCallFailure,
  truncate,
} from './plan.ts';
import { REASONS } from './reasons.ts';
import { type ResolveReader, parseDuration, providerType, resolveDesired, resolveProviderConfig } from './resolve.ts';

export const STACKS: ResourceRef = { group: 'stackoperator.dev', version: 'v1alpha1', plural: 'stacks', kind: 'Stack' };
export const STACK_PROVIDERS: ResourceRef = { group: 'stackoperator.dev', version: 'v1alpha1', plural: 'stackproviders', kind: 'StackProvider' };
export const CLUSTER_STACK_PROVIDERS: ResourceRef = {
  group: 'stackoperator.dev',
  version: 'v1alpha1',
  plural: 'clusterstackproviders',
  kind: 'ClusterStackProvider',
};
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const CONFIG_MAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };

export type StackObject = Stack & KubeObject;
export type ProviderObject = StackProvider & KubeObject;

export interface ProviderClients {
  /** One shared client per provider config key (pool, token bucket, auth cache). */
  get(config: ResolvedProviderConfig): StackProviderClient;
}

/** Points at which the test-only fault switch may kill the process (docs/reliability.md). */
export type CrashPoint = 'after-operation-recorded' | 'after-provider-call' | 'after-finalizer-added' | 'before-finalizer-removed';

export interface StackContext {
  client: KubeClient;
  stacks: Informer<StackObject>;
  providers: Informer<ProviderObject>;
  clusterProviders: Informer<ProviderObject>;
  reader: ResolveReader;
  providerClients: ProviderClients;
  events: { publish(regarding: KubeObject, ev: EventInput): Promise<void> };
  now(): number;
  random(): number;
  log: Logger;
  defaults: { pollIntervalMs: number; resyncIntervalMs: number };
  planner?: Partial<PlannerSettings>;
  /** Test-only fault injection; inert unless STACK_OPERATOR_CRASH_AT is set. */
  crashPoint?: (point: CrashPoint, action: string) => void;
}

interface ResolvedProvider {
  info: ProviderInfo;
  client: StackProviderClient;
}

async function resolveProvider(stack: Stack, ctx: StackContext): Promise<ResolvedProvider | { error: ResolveError }> {
  const ref = stack.spec.providerRef;
  const kind = ref.kind ?? 'StackProvider';
  const obj =
    kind === 'ClusterStackProvider'
      ? ctx.clusterProviders.getObject(undefined, ref.name)
      : ctx.providers.getObject(stack.metadata.namespace, ref.name);
  if (!obj) {
    const where = kind === 'ClusterStackProvider' ? ref.name : `${stack.metadata.namespace ?? ''}/${ref.name}`;
    return { error: { reason: REASONS.ProviderNotFound, message: `${kind} ${where} not found; create it or fix spec.providerRef` } };
  }
  const resolved = await resolveProviderConfig(obj, ctx.reader);
  if ('error' in resolved) return resolved;
  const type = providerType(obj.spec);
  if (!type) return { error: { reason: REASONS.InvalidSpec, message: `${kind} ${ref.name} sets no provider block` } };
  const client = ctx.providerClients.get(resolved.ok);
  return {
    client,
    info: {
      type,
      capabilities: client.capabilities,
      pollIntervalMs: parseDuration(obj.spec.pollInterval, ctx.defaults.pollIntervalMs),
      resyncIntervalMs: parseDuration(obj.spec.resyncInterval, ctx.defaults.resyncIntervalMs),
    },
  };
}

function failureOf(err: unknown): CallFailure {
  if (err instanceof ProviderError) {
    return {
      kind: err.kind,
      message: err.message,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      ...(err.field !== undefined ? { field: err.field } : {}),
    };
  }
  return { kind: 'Transient', message: err instanceof Error ? err.message : String(err) };
}

function refOf(stack: Stack): { name: string; id?: string } {
  const name = stack.spec.stackName ?? stack.metadata.name ?? '';
  const id = stack.status?.stackId;
  return id ? { name, id } : { name };
}

function needsRead(stack: Stack): boolean {
  if (stack.spec.suspend) return false;
  if (stack.metadata.deletionTimestamp) return stack.spec.deletionPolicy !== 'Retain' && stack.spec.deletionProtection !== true;
  return (stack.metadata.finalizers ?? []).includes(FINALIZER);
}

async function readProvider(client: StackProviderClient, stack: Stack, signal: AbortSignal): Promise<{ observed: Observed; readFailure?: CallFailure }> {
  try {
    const view = await client.get(refOf(stack), { signal });
    return { observed: view ? { kind: 'found', view } : { kind: 'absent' } };
  } catch (err) {
    const failure = failureOf(err);
    if (failure.kind === 'NotFound') return { observed: { kind: 'absent' } };
    return { observed: { kind: 'unknown' }, readFailure: failure };
  }
}

/** The whole reconcile of one Stack key. */
export async function reconcileStack(key: string, ctx: StackContext, signal: AbortSignal, info: ReconcileInfo): Promise<RuntimeAction> {
  const cached = ctx.stacks.get(key);
  if (!cached) return awaitChange();
  const log = info.log;
  let stack: StackObject = cached;

  const provider = await resolveProvider(stack, ctx);
  const desired =
    'error' in provider
      ? ({ error: provider.error } as const)
      : await resolveDesired(stack, provider.info.type, ctx.reader).then((r) => ('ok' in r ? r.ok : r));

  let observed: Observed = { kind: 'unknown' };
  let readFailure: CallFailure | undefined;
  if (!('error' in provider) && needsRead(stack)) ({ observed, readFailure } = await readProvider(provider.client, stack, signal));

  // A few non-provider steps (finalizer, status-only transitions) may chain in one reconcile; a
  // provider mutation always ends it, because what the provider shows next must be read again.
  for (let round = 0; round < 4; round++) {
    const input: PlanInput = {
      stack,
      provider: 'error' in provider ? { error: provider.error } : provider.info,
      desired,
      observed,
      now: ctx.now(),
      jitter: ctx.random(),
      ...(ctx.planner ? { settings: ctx.planner } : {}),
    };
    let step = plan(input);
    if (readFailure && step.action.type !== 'addFinalizer' && step.action.type !== 'removeFinalizer') {
      step = planCallFailure(input, { ...step, action: { type: 'none' } }, readFailure);
      log.debug({ kind: readFailure.kind }, 'provider read failed');
    }
    const result = await execute(step, input, stack, provider, ctx, signal, log, readFailure);
    if (result.kind === 'continue') {
      // The finalizer was just persisted: read the provider now rather than a poll interval later
      // (docs/benchmarks.md: one status write and one poll interval less per new Stack).
      if (observed.kind === 'unknown' && !readFailure && !('error' in provider) && !needsRead(stack) && needsRead(result.stack)) {
        ({ observed, readFailure } = await readProvider(provider.client, result.stack, signal));
      }
      stack = result.stack;
      continue;
    }
    return result.action;
  }
  return requeueAfter(0);
}

type ExecResult = { kind: 'done'; action: RuntimeAction } | { kind: 'continue'; stack: StackObject };

function toAction(step: Step): RuntimeAction {
  return step.requeueAfterMs === undefined ? awaitChange() : requeueAfter(Math.max(0, step.requeueAfterMs));
}

async function writeStatus(ctx: StackContext, stack: StackObject, status: StackStatus, force: boolean, signal: AbortSignal): Promise<StackObject> {
  const patch = mergePatchDiff(stack.status ?? {}, status);
  if (patch === undefined && !force) return stack;
  return patchStatus<StackObject>(
    ctx.client,
    STACKS,
    { namespace: stack.metadata.namespace, name: stack.metadata.name ?? '', resourceVersion: stack.metadata.resourceVersion ?? null },
    (patch ?? {}) as Record<string, unknown>,
    signal,
  );
}

async function publish(ctx: StackContext, stack: StackObject, step: Step, action: string): Promise<void> {
  for (const ev of step.events) {
    await ctx.events.publish(stack, { type: ev.type, reason: ev.reason, action, note: ev.message });
  }
}

async function execute(
  step: Step,
  input: PlanInput,
  stack: StackObject,
  provider: ResolvedProvider | { error: ResolveError },
  ctx: StackContext,
  signal: AbortSignal,
  log: Logger,
  readFailure: CallFailure | undefined,
): Promise<ExecResult> {
  const a = step.action;
  switch (a.type) {
    case 'addFinalizer': {
      const updated = await addFinalizer(ctx.client, STACKS, stack, FINALIZER, signal);
      ctx.crashPoint?.('after-finalizer-added', a.type);
      return { kind: 'continue', stack: updated };
    }
    case 'removeFinalizer': {
      const written = await writeStatus(ctx, stack, step.status, false, signal);
      await publish(ctx, written, step, 'Delete');
      ctx.crashPoint?.('before-finalizer-removed', a.type);
      await removeFinalizer(ctx.client, STACKS, written, FINALIZER, signal);
      log.info({ stackId: stack.status?.stackId }, 'finalizer released');
      return { kind: 'done', action: awaitChange() };
    }
    case 'none': {
      const written = await writeStatus(ctx, stack, step.status, false, signal);
      await publish(ctx, written, step, 'Reconcile');
      if (step.writeOutputs && !('error' in provider) && input.observed.kind === 'found') {
        await writeOutputs(ctx, written, provider.client, input.observed.view, signal, log);
      }
      if (readFailure?.kind === 'Transient') {
        throw new TransientError(`provider read failed: ${readFailure.message}`);
      }
      if (step.requeueAfterMs === 0 && !readFailure) return { kind: 'continue', stack: written };
      return { kind: 'done', action: toAction(step) };
    }
    default: {
      if ('error' in provider) return { kind: 'done', action: toAction(step) };
      // 1. The operation record first (with the resourceVersion precondition: a Step planned from a
      //    stale cache fails here with a conflict, before any provider call).
      let written = await writeStatus(ctx, stack, step.status, true, signal);
      ctx.crashPoint?.('after-operation-recorded', a.type);
      const ref = { name: refOf(stack).name, id: stack.status?.stackId ?? '' };
      let created: { id: string } | undefined;
      try {
        const client = provider.client;
        const token = a.token;
        switch (a.type) {
          case 'create': {
            if (!('error' in input.desired)) created = await client.create(input.desired.input, { token, signal });
            break;
          }
          case 'update':
            if (!('error' in input.desired)) await client.update(ref, input.desired.input, { token, signal });
            break;
          case 'cancelUpdate': {
            // Provider options (e.g. ros cancelType) travel with the cancel, so they apply after a restart too.
            const options = 'error' in input.desired ? undefined : input.desired.input.options;
            await client.cancelUpdate(ref, a.mode, { token, signal, ...(options ? { options } : {}) });
            break;
          }
            break;
          case 'delete':
            await client.delete(ref, { retainResources: a.retainResources }, { token, signal });
            break;
          case 'setDeletionProtection':
            await client.setDeletionProtection(ref, a.enabled, { token, signal });
            break;
        }
      } catch (err) {
        const failure = failureOf(err);
        if (failure.kind === 'Conflict' && a.type === 'create') {
          // A same-name stack appeared (ours from a lost reply, or someone else's): read it next time.
          log.info('create answered conflict; reading the stack by name next');
        }
        // The failure is planned from the Stack as it was before this Step (its operation record, if any).
        const fstep = planCallFailure(input, step, failure);
        written = await writeStatus(ctx, written, fstep.status, false, signal);
        await publish(ctx, written, fstep, actionName(a.type));
        log.warn({ action: a.type, kind: failure.kind, message: truncate(failure.message, 300) }, 'provider call failed');
        if (failure.kind === 'Transient') throw new TransientError(`provider ${a.type} failed: ${failure.message}`);
        return { kind: 'done', action: toAction(fstep) };
      }
      ctx.crashPoint?.('after-provider-call', a.type);
      const after: StackStatus = { ...written.status, ...step.afterCall, ...(created ? { stackId: created.id } : {}) };
      written = await writeStatus(ctx, written, after, false, signal);
      await publish(ctx, written, step, actionName(a.type));
      log.info({ action: a.type, stackId: after.stackId }, 'provider call accepted');
      return { kind: 'done', action: toAction(step) };
    }
  }
}

function actionName(t: string): string {
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Outputs to the named Secret (all) and ConfigMap (non-sensitive), owned by the Stack. */
async function writeOutputs(
  ctx: StackContext,
  stack: StackObject,
  client: StackProviderClient,
  view: StackView,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const targets = stack.spec.outputs;
  if (!targets?.secretName && !targets?.configMapName) return;
  let outputs = view.outputs;
  if (!outputs && view.id) {
    try {
      outputs = await client.outputs({ name: view.name, id: view.id }, { signal });
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading outputs failed');
      return;
    }
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const owner = {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    name: stack.metadata.name,
    uid: stack.metadata.uid,
    controller: true,
    blockOwnerDeletion: false,
  };
  const ns = stack.metadata.namespace;
  const labels = { 'app.kubernetes.io/managed-by': 'stack-operator', 'stackoperator.dev/stack': stack.metadata.name ?? '' };
  const apply = async (r: ResourceRef, name: string, body: Record<string, unknown>): Promise<void> => {
    await ctx.client.patch(r, ns, name, { apiVersion: 'v1', kind: r.kind, metadata: { name, namespace: ns, labels, ownerReferences: [owner] }, ...body }, {
      contentType: APPLY_PATCH,
      query: { fieldManager: 'stack-operator', force: true },
      signal,
    });
  };
  const all = outputs ?? [];
  if (targets.configMapName) {
    await apply(CONFIG_MAPS, targets.configMapName, { data: Object.fromEntries(all.filter((o) => !o.sensitive).map((o) => [o.key, str(o.value)])) });
  }
  if (targets.secretName) {
    await apply(SECRETS, targets.secretName, { type: 'Opaque', stringData: Object.fromEntries(all.map((o) => [o.key, str(o.value)])) });
  }
}

export { ProviderError };
export type { ResolveReader };
