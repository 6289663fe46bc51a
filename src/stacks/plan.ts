// The Stack planner: a PURE function from (Stack, provider view, clock) to the next Step. It performs
// no I/O; the executor runs the Step through the context. Every rule of design.md section 3 lives
// here, so the table-driven tests in plan.test.ts are the specification in executable form.
//
// One reconcile takes at most one provider mutation. Long operations are state, not awaits: the Step
// records the operation in status and asks to be requeued to poll.
import {
  ANNOTATION_ADOPT,
  ANNOTATION_CANCEL_UPDATE,
  ANNOTATION_RECONCILE_REQUESTED_AT,
  FINALIZER,
  type Condition,
  type OperationRecord,
  type Stack,
  type StackStatus,
} from '../api/v1alpha1/types.ts';
import type {
  CancelMode,
  ProviderCapabilities,
  ProviderErrorKind,
  ProviderType,
  StackInput,
  StackView,
} from '../providers/types.ts';
import { effectiveStackName, operationToken } from './desired.ts';
import { setCondition as setRuntimeCondition } from '../runtime/conditions.ts';
import { REASONS, type Reason } from './reasons.ts';

export interface ProviderInfo {
  type: ProviderType;
  capabilities: ProviderCapabilities;
  pollIntervalMs: number;
  resyncIntervalMs: number;
}

/** A problem found before the provider is asked anything (missing provider, template, Secret...). */
export interface ResolveError {
  reason: Reason;
  message: string;
  /** True when it may fix itself (e.g. a provider not Ready yet): retried with backoff, not Stalled. */
  transient?: boolean;
}

export type Observed =
  | { kind: 'found'; view: StackView }
  | { kind: 'absent' }
  /** Not read (suspended, provider unresolved) or the read failed; the planner must not act on it. */
  | { kind: 'unknown' };

export interface PlanInput {
  stack: Stack;
  provider: ProviderInfo | { error: ResolveError };
  desired: { hash: string; input: StackInput } | { error: ResolveError };
  observed: Observed;
  /** Milliseconds since the epoch. */
  now: number;
  /** A random number in [0, 1), used to jitter the resync interval. */
  jitter: number;
  settings?: Partial<PlannerSettings>;
}

export interface PlannerSettings {
  /** Attempts of one desired state (create/update that ended Failed) before Stalled RetriesExhausted. */
  maxAttempts: number;
  /** First retry delay after a failed operation; doubles per attempt, capped. */
  retryBaseMs: number;
  retryCapMs: number;
  /** Grace after timeoutMinutes before the operator cancels an update itself. */
  timeoutGraceMs: number;
  /** How long a just-created stack may stay invisible (eventual consistency) before the create is retried. */
  createVisibilityGraceMs: number;
}

export const DEFAULT_SETTINGS: PlannerSettings = {
  maxAttempts: 3,
  retryBaseMs: 30_000,
  retryCapMs: 10 * 60_000,
  timeoutGraceMs: 5 * 60_000,
  createVisibilityGraceMs: 60_000,
};

export type Action =
  | { type: 'none' }
  | { type: 'addFinalizer' }
  | { type: 'removeFinalizer' }
  | { type: 'create'; token: string }
  | { type: 'update'; token: string }
  | { type: 'cancelUpdate'; mode: CancelMode; token: string }
  | { type: 'delete'; retainResources: boolean; token: string }
  | { type: 'setDeletionProtection'; enabled: boolean; token: string };

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Step {
  action: Action;
  /**
   * The status to hold once the Step is taken. For a provider mutation this is written BEFORE the call
   * (it carries the operation record); `afterCall` is merged in once the provider accepted it.
   */
  status: StackStatus;
  afterCall?: Partial<StackStatus>;
  /** Requeue after this long; undefined waits for a change of the object (or a watched source). */
  requeueAfterMs?: number;
  events: EventSpec[];
  /** Write the outputs to the Secret / ConfigMap named in spec.outputs (from the observed view). */
  writeOutputs?: boolean;
}

// ---------------------------------------------------------------------------------------------

const MESSAGE_LIMIT = 1024;

export function truncate(message: string, limit = MESSAGE_LIMIT): string {
  return message.length <= limit ? message : `${message.slice(0, limit - 1)}…`;
}

/**
 * Sets one condition through the runtime's helper (lastTransitionTime moves only when the status
 * flips), with the planner's clock and a truncated message.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  generation: number,
  nowIso: string,
): Condition[] {
  return setRuntimeCondition(
    conditions,
    { type, status, reason, message: truncate(message), observedGeneration: generation, lastTransitionTime: nowIso },
    Date.parse(nowIso),
  );
}

type Health = 'ready' | 'progressing' | 'stalled' | 'suspended' | 'failing';

/** The three kstatus conditions, consistent with each other, from one verdict. */
function withConditions(
  status: StackStatus,
  stack: Stack,
  health: Health,
  reason: Reason,
  message: string,
  nowIso: string,
): StackStatus {
  const gen = stack.metadata.generation ?? 0;
  let c = status.conditions;
  switch (health) {
    case 'ready':
      c = setCondition(c, 'Ready', 'True', reason, message, gen, nowIso);
      c = setCondition(c, 'Reconciling', 'False', reason, message, gen, nowIso);
      c = setCondition(c, 'Stalled', 'False', reason, message, gen, nowIso);
      break;
    case 'progressing':
    case 'failing':
      // failing: an operation failed and will be retried by itself; still Reconciling, not Stalled.
      c = setCondition(c, 'Ready', 'False', reason, message, gen, nowIso);
      c = setCondition(c, 'Reconciling', 'True', reason, message, gen, nowIso);
      c = setCondition(c, 'Stalled', 'False', reason, message, gen, nowIso);
      break;
    case 'stalled':
      c = setCondition(c, 'Ready', 'False', reason, message, gen, nowIso);
      c = setCondition(c, 'Reconciling', 'False', reason, message, gen, nowIso);
      c = setCondition(c, 'Stalled', 'True', reason, message, gen, nowIso);
      break;
    case 'suspended': {
      // Ready keeps its value, with reason Suspended (design.md section 3.10).
      const ready = c?.find((x) => x.type === 'Ready');
      c = setCondition(c, 'Ready', ready?.status ?? 'Unknown', reason, message, gen, nowIso);
      c = setCondition(c, 'Reconciling', 'False', reason, message, gen, nowIso);
      c = setCondition(c, 'Stalled', 'False', reason, message, gen, nowIso);
      break;
    }
  }
  return { ...status, conditions: c, observedGeneration: gen };
}

function viewFields(view: StackView | undefined): Partial<StackStatus> {
  if (!view) return {};
  return {
    stackId: view.id,
    stackStatus: view.rawStatus,
    stackStatusReason: view.reason === undefined ? undefined : truncate(view.reason, 512),
    ...(view.deletionProtection === undefined ? {} : { deletionProtection: view.deletionProtection }),
  };
}

/** Non-sensitive outputs for status.outputs: strings as they are, everything else JSON. */
export function statusOutputs(view: StackView): Record<string, string> | undefined {
  if (!view.outputs) return undefined;
  const out: Record<string, string> = {};
  for (const o of view.outputs) {
    if (o.sensitive) continue;
    out[o.key] = typeof o.value === 'string' ? o.value : JSON.stringify(o.value);
  }
  return out;
}

function retryDelay(attempt: number, s: PlannerSettings): number {
  return Math.min(s.retryCapMs, s.retryBaseMs * 2 ** Math.max(0, attempt - 1));
}

function resyncDelay(p: ProviderInfo, jitter: number): number {
  // Jitter of +-10% spreads the resync of thousands of Stacks started together.
  return Math.round(p.resyncIntervalMs * (0.9 + 0.2 * jitter));
}

function opLabel(op: OperationRecord | undefined): string {
  return op ? `${op.type.toLowerCase()} of generation ${op.generation}` : 'operation';
}

function inProgressReason(view: StackView): Reason {
  switch (view.operation) {
    case 'create':
      return REASONS.Creating;
    case 'update':
      return REASONS.Updating;
    case 'delete':
      return REASONS.Deleting;
    case 'rollback':
      return REASONS.RollingBack;
    case 'cancel':
      return REASONS.Cancelling;
  }
}

function isSettled(view: StackView): boolean {
  return view.phase !== 'InProgress';
}

/** A settled phase that means the last operation did what it was asked. */
function succeeded(view: StackView): boolean {
  return view.phase === 'Complete';
}

// ---------------------------------------------------------------------------------------------

export function plan(input: PlanInput): Step {
  const s: PlannerSettings = { ...DEFAULT_SETTINGS, ...input.settings };
  const { stack } = input;
  const nowIso = new Date(input.now).toISOString();
  const status0: StackStatus = { ...(stack.status ?? {}) };
  const gen = stack.metadata.generation ?? 0;
  const hasFinalizer = (stack.metadata.finalizers ?? []).includes(FINALIZER);
  const ctx: Ctx = { input, s, nowIso, gen, status0 };

  if (stack.metadata.deletionTimestamp) {
    if (!hasFinalizer) return none(status0);
    return planDeletion(ctx);
  }

  // Finalizer first: persisted before any provider mutation (design.md 3.1).
  if (!hasFinalizer) {
    return { action: { type: 'addFinalizer' }, status: status0, requeueAfterMs: 0, events: [] };
  }

  if (stack.spec.suspend) {
    const status = withConditions(status0, stack, 'suspended', REASONS.Suspended, 'spec.suspend is true: no provider calls are made', nowIso);
    return { action: { type: 'none' }, status, events: [] };
  }

  if ('error' in input.provider) return resolveFailure(ctx, input.provider.error);
  const provider = input.provider;

  // One-shot reconcile request: a new value clears a blocked state and the failure count.
  let status: StackStatus = { ...status0, providerType: provider.type, stackName: effectiveStackName(stack) };
  const events: EventSpec[] = [];
  const reconcileReq = stack.metadata.annotations?.[ANNOTATION_RECONCILE_REQUESTED_AT];
  if (reconcileReq !== undefined && reconcileReq !== status.lastHandledReconcileRequest) {
    status = { ...status, lastHandledReconcileRequest: reconcileReq, blockedHash: undefined, failures: 0, nextRetryAt: undefined };
    events.push({ type: 'Normal', reason: 'ReconcileRequested', message: `reconcile requested (${reconcileReq})` });
  }

  const observed = input.observed;
  if (observed.kind === 'unknown') {
    // The read failed: never act on a guess. The executor requeues with backoff.
    const st = withConditions(status, stack, 'progressing', REASONS.Progressing, 'waiting for the provider to answer', nowIso);
    return { action: { type: 'none' }, status: st, requeueAfterMs: provider.pollIntervalMs, events };
  }

  const view = observed.kind === 'found' ? observed.view : undefined;

  // Ownership (design.md 3.2): never touch a stack owned by another UID.
  if (view) {
    const owned = view.ownerUid === stack.metadata.uid || (status.stackId !== undefined && status.stackId === view.id);
    if (!owned) {
      if (stack.metadata.annotations?.[ANNOTATION_ADOPT] === 'true' && view.ownerUid === undefined) {
        status = { ...status, stackId: view.id };
        events.push({ type: 'Normal', reason: 'Adopted', message: `adopted existing stack ${view.name} (${view.id})` });
      } else {
        const who = view.ownerUid ? `another Stack (uid ${view.ownerUid})` : 'nobody (created outside stack-operator)';
        const st = withConditions(
          { ...status, stackStatus: view.rawStatus },
          stack,
          'stalled',
          REASONS.StackNameConflict,
          `a stack named ${view.name} (${view.id}) already exists and belongs to ${who}; ` +
            `choose another spec.stackName, or set the annotation ${ANNOTATION_ADOPT}: "true" to adopt an unowned stack`,
          nowIso,
        );
        return { action: { type: 'none' }, status: st, events: eventOnce(status0, REASONS.StackNameConflict, events) };
      }
    }
  }

  // Cancel request annotation (design.md 3.4, third case).
  const cancelReq = stack.metadata.annotations?.[ANNOTATION_CANCEL_UPDATE];
  const newCancelRequest = cancelReq !== undefined && cancelReq !== status.lastHandledCancelRequest;

  if (view && !isSettled(view)) {
    return planInProgress(ctx, provider, view, status, events, newCancelRequest ? cancelReq : undefined);
  }
  if (newCancelRequest) {
    status = { ...status, lastHandledCancelRequest: cancelReq };
    events.push({ type: 'Normal', reason: 'NothingToCancel', message: `cancel request ${cancelReq}: no update is running` });
  }

  if ('error' in input.desired) return resolveFailure({ ...ctx, status0: status }, input.desired.error, events);
  const desired = input.desired;

  // An operation we recorded has settled: account for it first.
  const op = status.operation;
  if (op && view) return planSettled(ctx, provider, view, status, events, desired.hash);

  if (!view) return planAbsent(ctx, provider, status, events, desired.hash);

  // At rest, owned, nothing in flight.
  status = { ...status, ...viewFields(view) };

  if (status.blockedHash !== undefined && status.blockedHash === desired.hash) {
    // Cancelled, timed out or failed for good at this desired state: wait for a change.
    const stalled = status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    const reason = (stalled?.reason as Reason | undefined) ?? REASONS.RetriesExhausted;
    const st = withConditions(status, stack, 'stalled', reason, stalled?.message ?? 'blocked until the spec changes', nowIso);
    return { action: { type: 'none' }, status: st, events, requeueAfterMs: resyncDelay(provider, input.jitter) };
  }

  if (status.lastAppliedHash !== desired.hash) {
    // Failed earlier at this hash: wait for the retry time.
    if (status.nextRetryAt && Date.parse(status.nextRetryAt) > input.now) {
      const st = withConditions(status, stack, 'failing', REASONS.RetryScheduled, `retrying at ${status.nextRetryAt}: ${status.lastError ?? ''}`, nowIso);
      return { action: { type: 'none' }, status: st, events, requeueAfterMs: Date.parse(status.nextRetryAt) - input.now };
    }
    return startOperation(ctx, provider, status, events, 'Update', desired.hash, view);
  }

  // Deletion protection mirror (design.md 3.6, provider layer): only on spec transitions, so a flag
  // set outside Kubernetes is left alone (and blocks deletion).
  const wantProtection = stack.spec.deletionProtection ?? false;
  if (provider.capabilities.nativeDeletionProtection && (status.mirroredDeletionProtection ?? false) !== wantProtection) {
    if (view.deletionProtection === wantProtection) {
      status = { ...status, mirroredDeletionProtection: wantProtection };
    } else {
      const token = operationToken(stack.metadata.uid ?? '', gen, 'protect', wantProtection ? 1 : 0);
      const st = withConditions(status, stack, 'progressing', REASONS.Progressing, `setting the provider's deletion protection to ${wantProtection}`, nowIso);
      return {
        action: { type: 'setDeletionProtection', enabled: wantProtection, token },
        status: st,
        afterCall: { mirroredDeletionProtection: wantProtection, deletionProtection: wantProtection },
        requeueAfterMs: 0,
        events: [...events, { type: 'Normal', reason: 'DeletionProtectionSet', message: `provider deletion protection set to ${wantProtection}` }],
      };
    }
  }

  if (view.phase === 'Complete') {
    const outputs = statusOutputs(view);
    const st = withConditions(
      { ...status, failures: 0, lastError: undefined, nextRetryAt: undefined, ...(outputs ? { outputs } : {}) },
      stack,
      'ready',
      REASONS.Succeeded,
      `stack ${view.rawStatus}`,
      nowIso,
    );
    return {
      action: { type: 'none' },
      status: st,
      events,
      requeueAfterMs: resyncDelay(provider, input.jitter),
      writeOutputs: outputsChanged(status0, st),
    };
  }

  // Settled but not Complete, with nothing of ours in flight: changed outside, or failed earlier.
  const st = withConditions(
    status,
    stack,
    'stalled',
    REASONS.ProviderStackFailed,
    `the stack is ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}; change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to re-apply`,
    nowIso,
  );
  return { action: { type: 'none' }, status: st, events, requeueAfterMs: resyncDelay(provider, input.jitter) };
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  input: PlanInput;
  s: PlannerSettings;
  nowIso: string;
  gen: number;
  status0: StackStatus;
}

function none(status: StackStatus): Step {
  return { action: { type: 'none' }, status, events: [] };
}

/** A Warning event only when the Stalled reason is new, so a stalled Stack does not spam events. */
function eventOnce(prev: StackStatus, reason: Reason, events: EventSpec[], message?: string): EventSpec[] {
  const was = prev.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === reason);
  if (was) return events;
  return [...events, { type: 'Warning', reason, message: message ?? reason }];
}

function outputsChanged(before: StackStatus, after: StackStatus): boolean {
  return JSON.stringify(before.outputs ?? null) !== JSON.stringify(after.outputs ?? null) || before.lastAppliedHash !== after.lastAppliedHash;
}

function resolveFailure(ctx: Ctx, err: ResolveError, events: EventSpec[] = []): Step {
  const { input, nowIso } = ctx;
  if (err.transient) {
    const st = withConditions(ctx.status0, input.stack, 'progressing', err.reason, err.message, nowIso);
    return { action: { type: 'none' }, status: st, events, requeueAfterMs: 30_000 };
  }
  const st = withConditions(ctx.status0, input.stack, 'stalled', err.reason, err.message, nowIso);
  // Waits for a change: the Stack, or a watched provider / Secret / ConfigMap it references.
  return { action: { type: 'none' }, status: st, events: eventOnce(ctx.status0, err.reason, events, err.message) };
}

function startOperation(
  ctx: Ctx,
  provider: ProviderInfo,
  status: StackStatus,
  events: EventSpec[],
  type: 'Create' | 'Update',
  hash: string,
  view: StackView | undefined,
): Step {
  const { input, nowIso, gen } = ctx;
  const stack = input.stack;
  const attempt = status.failures ?? 0;
  const token = operationToken(stack.metadata.uid ?? '', gen, type === 'Create' ? 'create' : 'update', attempt, status.lastHandledReconcileRequest);
  const operation: OperationRecord = { type, generation: gen, hash, token, startedAt: nowIso, attempt };
  const reason = type === 'Create' ? REASONS.Creating : REASONS.Updating;
  const st = withConditions(
    { ...status, ...viewFields(view), operation, nextRetryAt: undefined },
    stack,
    'progressing',
    reason,
    `${type === 'Create' ? 'creating' : 'updating'} stack ${effectiveStackName(stack)} (generation ${gen})`,
    nowIso,
  );
  // A create sets the provider's own protection flag from the spec: record it as mirrored by us.
  const mirrored =
    type === 'Create' && provider.capabilities.nativeDeletionProtection ? { mirroredDeletionProtection: stack.spec.deletionProtection ?? false } : {};
  return {
    action: type === 'Create' ? { type: 'create', token } : { type: 'update', token },
    status: st,
    afterCall: { operation: { ...operation, issuedAt: nowIso }, ...mirrored },
    requeueAfterMs: provider.pollIntervalMs,
    events: [...events, { type: 'Normal', reason: type === 'Create' ? 'CreateStarted' : 'UpdateStarted', message: `${type.toLowerCase()} of generation ${gen} started` }],
  };
}

function planAbsent(ctx: Ctx, provider: ProviderInfo, status: StackStatus, events: EventSpec[], hash: string): Step {
  const { input, s, nowIso } = ctx;
  const op = status.operation;
  if (status.blockedHash === hash) {
    // Failed for good at this desired state (e.g. the provider rejected the template): wait for a change.
    const stalled = status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    const st = withConditions(status, input.stack, 'stalled', (stalled?.reason as Reason | undefined) ?? REASONS.RetriesExhausted, stalled?.message ?? 'blocked until the spec changes', nowIso);
    return { action: { type: 'none' }, status: st, events };
  }
  if (op?.type === 'Create' && op.issuedAt && input.now - Date.parse(op.issuedAt) < s.createVisibilityGraceMs) {
    // Just created; some services list a new stack a moment later.
    const st = withConditions(status, input.stack, 'progressing', REASONS.Creating, 'waiting for the new stack to appear', nowIso);
    return { action: { type: 'none' }, status: st, events, requeueAfterMs: provider.pollIntervalMs };
  }
  if (op?.type === 'Create' && op.hash === hash) {
    // Crash between recording and the call, or the call never landed: the same token again, so a
    // service that did receive it recognises the replay.
    const st = withConditions(status, input.stack, 'progressing', REASONS.Creating, `resuming create of generation ${op.generation}`, nowIso);
    return {
      action: { type: 'create', token: op.token },
      status: st,
      afterCall: { operation: { ...op, issuedAt: nowIso } },
      requeueAfterMs: provider.pollIntervalMs,
      events,
    };
  }
  if (status.nextRetryAt && Date.parse(status.nextRetryAt) > input.now && status.blockedHash !== hash) {
    const st = withConditions(status, input.stack, 'failing', REASONS.RetryScheduled, `retrying at ${status.nextRetryAt}: ${status.lastError ?? ''}`, nowIso);
    return { action: { type: 'none' }, status: st, events, requeueAfterMs: Date.parse(status.nextRetryAt) - input.now };
  }
  const recreated = status.stackId !== undefined;
  const base: StackStatus = {
    ...status,
    stackId: undefined,
    stackStatus: undefined,
    stackStatusReason: undefined,
    operation: undefined,
    lastAppliedHash: undefined,
    mirroredDeletionProtection: undefined,
    deletionProtection: undefined,
  };
  const step = startOperation(ctx, provider, base, events, 'Create', hash, undefined);
  if (recreated) {
    step.events.unshift({ type: 'Warning', reason: 'StackMissing', message: `stack ${status.stackId} is gone from the provider; creating it again` });
  }
  return step;
}

/**
 * Whether a recorded Create / Update without issuedAt (a crash between the record and the call, or
 * right after the call) certainly never reached the provider. An update that landed makes the stack's
 * last operation an update (or its rollback) and moves its update time to after the record. Provider
 * timestamps often have whole-second precision (Heat `updated_time`), so the record's time is compared
 * at that precision: a change within the same second counts as ours (never a second call).
 */
function neverLanded(op: OperationRecord, view: StackView): boolean {
  if (op.type === 'Update' && view.operation === 'create') return true;
  const changed = view.updatedAt ?? (op.type === 'Update' ? view.createdAt : undefined);
  if (changed === undefined) return false;
  const changedMs = Date.parse(changed);
  const recordedMs = Math.floor(Date.parse(op.startedAt) / 1000) * 1000;
  return Number.isFinite(changedMs) && changedMs < recordedMs;
}

function planSettled(
  ctx: Ctx,
  provider: ProviderInfo,
  view: StackView,
  status: StackStatus,
  events: EventSpec[],
  hash: string,
): Step {
  const { input, s, nowIso } = ctx;
  const stack = input.stack;
  const op = status.operation as OperationRecord;
  const base: StackStatus = { ...status, ...viewFields(view), operation: undefined };

  if (op.type === 'Create' || op.type === 'Update') {
    // A recorded update whose call may never have landed: the stack is settled and untouched since.
    if (!op.issuedAt && !op.cancelRequested && neverLanded(op, view)) {
      const st = withConditions(status, stack, 'progressing', REASONS.Updating, `resuming ${opLabel(op)}`, nowIso);
      return {
        action: op.type === 'Create' ? { type: 'create', token: op.token } : { type: 'update', token: op.token },
        status: st,
        afterCall: { operation: { ...op, issuedAt: nowIso } },
        requeueAfterMs: provider.pollIntervalMs,
        events,
      };
    }

    if (op.cancelRequested) {
      // Superseded by a newer spec: not a failure, apply the newest spec next (the hash differs).
      if (op.cancelReason === REASONS.SpecChanged) {
        const st = withConditions(base, stack, 'progressing', REASONS.Progressing, `update of generation ${op.generation} cancelled (${view.rawStatus}); applying the newest spec`, nowIso);
        return { action: { type: 'none' }, status: st, requeueAfterMs: 0, events: [...events, { type: 'Normal', reason: 'UpdateCancelled', message: `superseded update of generation ${op.generation} ended ${view.rawStatus}` }] };
      }
      const reason = op.cancelReason === REASONS.UpdateTimedOut ? REASONS.UpdateTimedOut : REASONS.UpdateCancelled;
      const message =
        reason === REASONS.UpdateTimedOut
          ? `the update of generation ${op.generation} ran past timeoutMinutes and was cancelled (${view.rawStatus}); change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to retry`
          : `the update of generation ${op.generation} was cancelled on request (${view.rawStatus}); change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to apply it again`;
      const st = withConditions({ ...base, blockedHash: op.hash }, stack, 'stalled', reason, message, nowIso);
      // A cancelled update may read *_FAILED just before the provider's rollback starts: keep reading at
      // the poll interval until the rollback shows, then at the resync interval.
      const rollbackPending = view.phase === 'Failed' && stack.spec.disableRollback !== true && stack.spec.updatePolicy?.cancelMode !== 'NoRollback';
      return {
        action: { type: 'none' },
        status: st,
        events: [...events, { type: 'Warning', reason, message }],
        requeueAfterMs: rollbackPending ? provider.pollIntervalMs : resyncDelay(provider, input.jitter),
      };
    }

    if (succeeded(view)) {
      const outputs = statusOutputs(view);
      const st = withConditions(
        {
          ...base,
          lastAppliedHash: op.hash,
          lastAppliedGeneration: op.generation,
          failures: 0,
          lastError: undefined,
          nextRetryAt: undefined,
          ...(outputs ? { outputs } : {}),
        },
        stack,
        op.hash === hash ? 'ready' : 'progressing',
        op.hash === hash ? REASONS.Succeeded : REASONS.Progressing,
        op.hash === hash ? `stack ${view.rawStatus}` : `generation ${op.generation} applied; applying the newest spec`,
        nowIso,
      );
      return {
        action: { type: 'none' },
        status: st,
        requeueAfterMs: op.hash === hash ? resyncDelay(provider, input.jitter) : 0,
        writeOutputs: true,
        events: [...events, { type: 'Normal', reason: op.type === 'Create' ? 'Created' : 'Updated', message: `${opLabel(op)} completed: ${view.rawStatus}` }],
      };
    }

    // Failed, rolled back, rollback failed.
    const failures = (status.failures ?? 0) + 1;
    const why = `${opLabel(op)} ended ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}`;
    if (failures >= s.maxAttempts) {
      const message = `${why}; gave up after ${failures} attempts. Change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to try again`;
      const st = withConditions({ ...base, failures, lastError: truncate(why), blockedHash: op.hash, nextRetryAt: undefined }, stack, 'stalled', REASONS.RetriesExhausted, message, nowIso);
      return { action: { type: 'none' }, status: st, events: [...events, { type: 'Warning', reason: REASONS.RetriesExhausted, message }] };
    }
    const delay = retryDelay(failures, s);
    const nextRetryAt = new Date(input.now + delay).toISOString();
    const st = withConditions(
      { ...base, failures, lastError: truncate(why), nextRetryAt },
      stack,
      'failing',
      op.type === 'Create' ? REASONS.CreateFailed : REASONS.UpdateFailed,
      `${why}; attempt ${failures} of ${s.maxAttempts}, retrying at ${nextRetryAt}`,
      nowIso,
    );
    return {
      action: { type: 'none' },
      status: st,
      requeueAfterMs: delay,
      events: [...events, { type: 'Warning', reason: op.type === 'Create' ? REASONS.CreateFailed : REASONS.UpdateFailed, message: why }],
    };
  }

  // Any other recorded operation (a Delete outside deletion cannot happen; be safe): drop it.
  return { action: { type: 'none' }, status: base, requeueAfterMs: 0, events };
}

function planInProgress(
  ctx: Ctx,
  provider: ProviderInfo,
  view: StackView,
  status: StackStatus,
  events: EventSpec[],
  cancelRequest: string | undefined,
): Step {
  const { input, s, nowIso } = ctx;
  const stack = input.stack;
  const op = status.operation;
  let st: StackStatus = { ...status, ...viewFields(view) };
  if (op && !op.issuedAt && op.type !== 'Delete') st = { ...st, operation: { ...op, issuedAt: nowIso } };
  const desiredHash = 'error' in input.desired ? undefined : input.desired.hash;
  const canCancel = provider.capabilities.cancelModes.length > 0;
  const isUpdate = view.operation === 'update';
  const cancelMode = pickCancelMode(stack, provider.capabilities);

  const cancel = (reason: Reason, message: string, extra: Partial<StackStatus> = {}): Step => {
    const token = operationToken(stack.metadata.uid ?? '', op?.generation ?? ctx.gen, 'cancel', op?.attempt ?? 0, st.lastHandledReconcileRequest);
    const operation: OperationRecord = {
      ...(op ?? { type: 'Update', generation: ctx.gen, token, startedAt: nowIso }),
      cancelRequested: true,
      cancelReason: reason,
    };
    const next = withConditions({ ...st, ...extra, operation }, stack, 'progressing', REASONS.Cancelling, message, nowIso);
    return {
      action: { type: 'cancelUpdate', mode: cancelMode, token },
      status: next,
      afterCall: { operation: { ...operation, cancelIssuedAt: nowIso } },
      requeueAfterMs: provider.pollIntervalMs,
      events: [...events, { type: 'Normal', reason: 'CancelRequested', message }],
    };
  };

  // A cancel recorded but not known to have reached the provider (crash between the record and the
  // call): send it again; the token is the same, so a service that got it sees a replay.
  if (isUpdate && op?.cancelRequested && !op.cancelIssuedAt && canCancel) {
    return cancel((op.cancelReason as Reason | undefined) ?? REASONS.CancelRequested, `resuming the cancel of the update of generation ${op.generation}`);
  }

  if (isUpdate && !op?.cancelRequested) {
    if (cancelRequest !== undefined) {
      if (canCancel) {
        return cancel(REASONS.CancelRequested, `cancelling the running update on request (${cancelRequest})`, { lastHandledCancelRequest: cancelRequest });
      }
      st = { ...st, lastHandledCancelRequest: cancelRequest };
      events.push({ type: 'Warning', reason: 'CancelUnsupported', message: `provider ${provider.type} cannot cancel an update; waiting for it to finish` });
    }
    const timeoutMs = (stack.spec.timeoutMinutes ?? 60) * 60_000 + s.timeoutGraceMs;
    if (op && canCancel && input.now - Date.parse(op.startedAt) > timeoutMs) {
      return cancel(REASONS.UpdateTimedOut, `the update of generation ${op.generation} exceeded timeoutMinutes (${stack.spec.timeoutMinutes ?? 60}); cancelling`);
    }
    const policy = stack.spec.updatePolicy?.onSpecChangeDuringUpdate ?? 'CancelAndUpdate';
    if (op && desiredHash !== undefined && op.hash !== undefined && op.hash !== desiredHash) {
      if (policy === 'CancelAndUpdate' && canCancel) {
        return cancel(REASONS.SpecChanged, `the spec changed (generation ${ctx.gen}) while the update of generation ${op.generation} runs; cancelling it to apply the newest spec`);
      }
      const why = canCancel
        ? 'updatePolicy.onSpecChangeDuringUpdate is WaitAndUpdate'
        : `provider ${provider.type} cannot cancel an update`;
      const next = withConditions(st, stack, 'progressing', REASONS.WaitingForOperation, `generation ${ctx.gen} waits for the running update of generation ${op.generation} to finish (${why})`, nowIso);
      return { action: { type: 'none' }, status: next, requeueAfterMs: provider.pollIntervalMs, events };
    }
  } else if (cancelRequest !== undefined) {
    st = { ...st, lastHandledCancelRequest: cancelRequest };
    events.push({ type: 'Normal', reason: 'NothingToCancel', message: `cancel request ${cancelRequest}: the running ${view.operation} is not an update` });
  }

  const reason = op?.cancelRequested ? REASONS.Cancelling : inProgressReason(view);
  const msg = `${view.rawStatus}${op ? ` (${opLabel(op)})` : ''}`;
  const next = withConditions(st, stack, 'progressing', reason, msg, nowIso);
  return { action: { type: 'none' }, status: next, requeueAfterMs: provider.pollIntervalMs, events };
}

function pickCancelMode(stack: Stack, caps: ProviderCapabilities): CancelMode {
  const wanted: CancelMode = stack.spec.updatePolicy?.cancelMode ?? 'Rollback';
  if (caps.cancelModes.includes(wanted)) return wanted;
  return caps.cancelModes[0] ?? 'Rollback';
}

// ---------------------------------------------------------------------------------------------
// Deletion (design.md 3.5 and 3.6)

function planDeletion(ctx: Ctx): Step {
  const { input, nowIso, s } = ctx;
  const stack = input.stack;
  const policy = stack.spec.deletionPolicy ?? 'Delete';
  let status: StackStatus = { ...ctx.status0 };
  const events: EventSpec[] = [];

  if (policy === 'Retain') {
    return {
      action: { type: 'removeFinalizer' },
      status,
      events: [{ type: 'Normal', reason: 'Retained', message: `deletionPolicy Retain: the cloud stack ${status.stackId ?? effectiveStackName(stack)} is left in place` }],
    };
  }

  if (stack.spec.deletionProtection === true) {
    const message =
      'spec.deletionProtection is true: the cloud stack is kept and this object waits. To delete it, set ' +
      'spec.deletionProtection to false (or spec.deletionPolicy to Retain to keep the cloud stack)';
    const st = withConditions(status, stack, 'stalled', REASONS.DeletionProtected, message, nowIso);
    return { action: { type: 'none' }, status: st, events: eventOnce(ctx.status0, REASONS.DeletionProtected, [], message) };
  }

  if (stack.spec.suspend) {
    const st = withConditions(status, stack, 'suspended', REASONS.Suspended, 'deletion waits: spec.suspend is true (no provider calls); unsuspend, or set deletionPolicy Retain', nowIso);
    return { action: { type: 'none' }, status: st, events };
  }

  if ('error' in input.provider) {
    const err = input.provider.error;
    const st = withConditions(status, stack, err.transient ? 'progressing' : 'stalled', err.reason, `cannot delete: ${err.message}`, nowIso);
    return { action: { type: 'none' }, status: st, events: eventOnce(ctx.status0, err.reason, events, err.message), requeueAfterMs: err.transient ? 30_000 : undefined };
  }
  const provider = input.provider;
  const observed = input.observed;
  if (observed.kind === 'unknown') {
    const st = withConditions(status, stack, 'progressing', REASONS.Deleting, 'waiting for the provider to answer', nowIso);
    return { action: { type: 'none' }, status: st, requeueAfterMs: provider.pollIntervalMs, events };
  }

  const view = observed.kind === 'found' ? observed.view : undefined;
  const ours = view !== undefined && (view.ownerUid === stack.metadata.uid || (status.stackId !== undefined && status.stackId === view.id));
  if (!view || view.phase === 'Deleted' || !ours) {
    // Gone, never created, or not ours (a same-name stack of someone else is never deleted).
    const message = !view || view.phase === 'Deleted' ? `stack ${status.stackId ?? effectiveStackName(stack)} is deleted` : `stack ${view.name} is not owned by this Stack; left in place`;
    return { action: { type: 'removeFinalizer' }, status, events: [{ type: 'Normal', reason: 'Deleted', message }] };
  }
  status = { ...status, ...viewFields(view) };

  // A provider-side protection flag we did not set (set outside Kubernetes) blocks deletion too.
  if (view.deletionProtection === true) {
    if (status.mirroredDeletionProtection === true && provider.capabilities.nativeDeletionProtection) {
      // We set it from the spec, which is now false: lift it, then delete.
      const token = operationToken(stack.metadata.uid ?? '', ctx.gen, 'protect', 0);
      const st = withConditions(status, stack, 'progressing', REASONS.Deleting, 'lifting the provider\'s deletion protection before deleting', nowIso);
      return {
        action: { type: 'setDeletionProtection', enabled: false, token },
        status: st,
        afterCall: { mirroredDeletionProtection: false, deletionProtection: false },
        requeueAfterMs: 0,
        events: [{ type: 'Normal', reason: 'DeletionProtectionSet', message: 'provider deletion protection lifted for deletion' }],
      };
    }
    const message = `the provider's own deletion protection is on for stack ${view.name} (set outside Kubernetes); turn it off there to let the deletion proceed`;
    const st = withConditions(status, stack, 'stalled', REASONS.DeletionProtected, message, nowIso);
    return { action: { type: 'none' }, status: st, requeueAfterMs: provider.resyncIntervalMs, events: eventOnce(ctx.status0, REASONS.DeletionProtected, [], message) };
  }

  const op = status.operation;
  if (!isSettled(view)) {
    if (view.operation === 'delete') {
      const st = withConditions(status, stack, 'progressing', REASONS.Deleting, `${view.rawStatus}`, nowIso);
      return { action: { type: 'none' }, status: st, requeueAfterMs: provider.pollIntervalMs, events };
    }
    // An update runs: cancel it (design.md 3.4, fourth case), or wait where the provider cannot.
    if (view.operation === 'update' && provider.capabilities.cancelModes.length > 0 && (!op?.cancelRequested || !op.cancelIssuedAt)) {
      const token = operationToken(stack.metadata.uid ?? '', op?.generation ?? ctx.gen, 'cancel', op?.attempt ?? 0, status.lastHandledReconcileRequest);
      const operation: OperationRecord = {
        ...(op ?? { type: 'Update', generation: ctx.gen, token, startedAt: ctx.nowIso }),
        cancelRequested: true,
        cancelReason: REASONS.Deleting,
      };
      const st = withConditions({ ...status, operation }, stack, 'progressing', REASONS.Cancelling, 'the Stack is being deleted while an update runs: cancelling the update first', nowIso);
      return {
        action: { type: 'cancelUpdate', mode: pickCancelMode(stack, provider.capabilities), token },
        status: st,
        afterCall: { operation: { ...operation, cancelIssuedAt: nowIso } },
        requeueAfterMs: provider.pollIntervalMs,
        events: [{ type: 'Normal', reason: 'CancelRequested', message: 'cancelling the running update before deleting' }],
      };
    }
    const why = provider.capabilities.cancelModes.length === 0 ? ` (provider ${provider.type} cannot cancel)` : '';
    const st = withConditions(status, stack, 'progressing', REASONS.WaitingForOperation, `deletion waits for the running ${view.operation} to finish${why}: ${view.rawStatus}`, nowIso);
    return { action: { type: 'none' }, status: st, requeueAfterMs: provider.pollIntervalMs, events };
  }

  const retain = policy === 'RetainResources';
  if (retain && !provider.capabilities.retainOnDelete) {
    const message = `deletionPolicy RetainResources is not supported by provider ${provider.type}; set deletionPolicy to Retain (keep the stack) or Delete`;
    const st = withConditions(status, stack, 'stalled', REASONS.RetainResourcesUnsupported, message, nowIso);
    return { action: { type: 'none' }, status: st, events: eventOnce(ctx.status0, REASONS.RetainResourcesUnsupported, [], message) };
  }

  let failures = status.failures ?? 0;
  if (op?.type === 'Delete' && view.phase === 'DeleteFailed') {
    failures += 1;
    const why = `delete ended ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}`;
    const delay = retryDelay(failures, s);
    const nextRetryAt = new Date(input.now + delay).toISOString();
    const st = withConditions(
      { ...status, operation: undefined, failures, lastError: truncate(why), nextRetryAt },
      stack,
      'failing',
      REASONS.DeleteFailed,
      `${why}; retrying at ${nextRetryAt} (attempt ${failures})`,
      nowIso,
    );
    return { action: { type: 'none' }, status: st, requeueAfterMs: delay, events: [{ type: 'Warning', reason: REASONS.DeleteFailed, message: why }] };
  }
  if (status.nextRetryAt && Date.parse(status.nextRetryAt) > input.now) {
    const st = withConditions(status, stack, 'failing', REASONS.DeleteFailed, `retrying the delete at ${status.nextRetryAt}: ${status.lastError ?? ''}`, nowIso);
    return { action: { type: 'none' }, status: st, requeueAfterMs: Date.parse(status.nextRetryAt) - input.now, events };
  }

  const token = operationToken(stack.metadata.uid ?? '', ctx.gen, 'delete', failures, status.lastHandledReconcileRequest);
  const operation: OperationRecord = { type: 'Delete', generation: ctx.gen, token, startedAt: nowIso, attempt: failures, reason: REASONS.Deleting };
  const st = withConditions({ ...status, operation, failures, nextRetryAt: undefined }, stack, 'progressing', REASONS.Deleting, `deleting stack ${view.name} (${view.id})${retain ? ', retaining its resources' : ''}`, nowIso);
  return {
    action: { type: 'delete', retainResources: retain, token },
    status: st,
    afterCall: { operation: { ...operation, issuedAt: nowIso } },
    requeueAfterMs: provider.pollIntervalMs,
    events: [{ type: 'Normal', reason: 'DeleteStarted', message: `deleting stack ${view.name}${retain ? ' (retaining resources)' : ''}` }],
  };
}

// ---------------------------------------------------------------------------------------------
// Provider call failures: classified once (design.md 3.8), also pure.

export interface CallFailure {
  kind: ProviderErrorKind;
  message: string;
  retryAfterMs?: number;
  field?: string;
}

/**
 * The Step after a provider mutation failed. `step` is the Step that was being executed (its status,
 * with the operation record, may already be written).
 */
export function planCallFailure(input: PlanInput, step: Step, failure: CallFailure): Step {
  const stack = input.stack;
  const nowIso = new Date(input.now).toISOString();
  const poll = 'error' in input.provider ? 30_000 : input.provider.pollIntervalMs;
  const message = truncate(failure.message.replace(/[.\s]+$/, ''));
  const action = step.action.type;
  // The call did not land (it failed): forget an operation record it created, keep one that existed.
  const prevOp = input.stack.status?.operation;
  const base: StackStatus = { ...step.status, operation: prevOp, lastError: message };

  switch (failure.kind) {
    case 'Throttled': {
      const st = withConditions(base, stack, 'progressing', REASONS.Throttled, `the provider is throttling requests: ${message}`, nowIso);
      return { action: { type: 'none' }, status: st, requeueAfterMs: Math.max(failure.retryAfterMs ?? 0, 1000), events: [] };
    }
    case 'Conflict': {
      const st = withConditions(base, stack, 'progressing', REASONS.WaitingForOperation, `the provider reports a conflicting operation: ${message}`, nowIso);
      return { action: { type: 'none' }, status: st, requeueAfterMs: poll, events: [] };
    }
    case 'NotFound': {
      // The stack vanished between the read and the call: look again, at the poll interval so that a
      // provider answering 404 to a mutation forever can never become a hot loop.
      const st = withConditions(base, stack, 'progressing', REASONS.Progressing, `the provider answered not found: ${message}`, nowIso);
      return { action: { type: 'none' }, status: st, requeueAfterMs: poll, events: [] };
    }
    case 'Unauthorized': {
      const text = `the provider rejected the credentials: ${message}. Fix the credentials Secret or the provider's settings`;
      const st = withConditions(base, stack, 'stalled', REASONS.Unauthorized, text, nowIso);
      return { action: { type: 'none' }, status: st, events: eventOnce(input.stack.status ?? {}, REASONS.Unauthorized, [], text) };
    }
    case 'Invalid': {
      if (action === 'cancelUpdate') {
        // The update ended between the read and the cancel ("nothing to cancel"): read again.
        const st = withConditions(base, stack, 'progressing', REASONS.WaitingForOperation, `the provider refused the cancel: ${message}`, nowIso);
        return { action: { type: 'none' }, status: st, requeueAfterMs: poll, events: [] };
      }
      const hash = 'error' in input.desired ? undefined : input.desired.hash;
      const where = failure.field ? ` (${failure.field})` : '';
      const text = `the provider rejected the ${action === 'create' ? 'create' : action === 'update' ? 'update' : action}${where}: ${message}`;
      const blocks = action === 'create' || action === 'update';
      const st = withConditions(
        { ...base, ...(blocks && hash ? { blockedHash: hash } : {}) },
        stack,
        'stalled',
        REASONS.InvalidSpec,
        `${text}. Fix the spec${blocks ? '' : ` or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to retry`}`,
        nowIso,
      );
      return { action: { type: 'none' }, status: st, events: [{ type: 'Warning', reason: REASONS.InvalidSpec, message: text }] };
    }
    case 'Transient': {
      const st = withConditions(base, stack, 'progressing', REASONS.ProviderUnavailable, `provider call failed, retrying: ${message}`, nowIso);
      // undefined requeue: the executor rethrows so the work queue backs off (exponential, capped).
      return { action: { type: 'none' }, status: st, events: [] };
    }
  }
}

export { REASONS };
