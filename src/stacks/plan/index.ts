// The Stack planner: a PURE function from (Stack, provider view, clock) to the next Step. It performs
// no I/O; the executor runs the Step through the context. Every rule of docs/stack-controller.md "Semantics" lives in
// this folder (one file per phase), so the table-driven tests beside each file are the specification
// in executable form.
//
// One reconcile takes at most one provider mutation. Long operations are state, not awaits: the Step
// records the operation in status and asks to be requeued to poll.
import { ANNOTATION_ADOPT, ANNOTATION_CANCEL_UPDATE, ANNOTATION_RECONCILE_REQUESTED_AT, FINALIZER, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackView } from '../../providers/types.ts';
import { effectiveStackName } from '../desired.ts';
import { REASONS } from '../reasons.ts';
import { planAbsent } from './absent.ts';
import { isManual } from './approval.ts';
import { planAtRest } from './apply.ts';
import { eventOnce, withConditions } from './conditions.ts';
import { planDeletion } from './delete.ts';
import { dependencyWait } from './dependencies.ts';
import { withReadFailure } from './failure.ts';
import { planInProgress } from './in-progress.ts';
import { isOwned, isSettled, recheckDelay } from './rules.ts';
import { planSettled } from './settled.ts';
import { AWAIT, DEFAULT_SETTINGS, type EventSpec, type PlanCtx, type PlanInput, type ProviderInfo, type ResolveError, type Step, after, idle } from './step.ts';

export function plan(input: PlanInput): Step {
  return withReadFailure(input, planWithoutReadFailure(input));
}

function planWithoutReadFailure(input: PlanInput): Step {
  const { stack } = input;
  const ctx: PlanCtx = {
    input,
    stack,
    s: { ...DEFAULT_SETTINGS, ...input.settings },
    nowIso: new Date(input.now).toISOString(),
    gen: stack.metadata.generation ?? 0,
    status0: { ...(stack.status ?? {}) },
  };
  const hasFinalizer = (stack.metadata.finalizers ?? []).includes(FINALIZER);
  if (stack.metadata.deletionTimestamp) return hasFinalizer ? planDeletion(ctx) : idle(ctx.status0, AWAIT);
  // Finalizer first: persisted before any provider mutation (docs/stack-controller.md §3.1). Then
  // wait: the finalizer's own watch event (the Stack predicate lets finalizer changes through) brings
  // the next reconcile at once. Going on in this reconcile made that event a second, redundant
  // reconcile with its own provider read, and a status write when the create was still running.
  if (!hasFinalizer) return { action: { type: 'addFinalizer' }, status: ctx.status0, events: [], next: AWAIT };
  if (stack.spec.suspend) {
    return idle(withConditions(ctx.status0, stack, 'suspended', REASONS.Suspended, 'spec.suspend is true: no provider calls are made', ctx.nowIso), AWAIT);
  }
  if ('error' in input.provider) return resolveFailure(ctx, ctx.status0, input.provider.error, []);
  const provider = input.provider;
  const events: EventSpec[] = [];
  let status = reconcileRequest(ctx, { ...ctx.status0, providerType: provider.type, stackName: effectiveStackName(stack) }, events);
  if (input.observed.kind === 'unknown') {
    // Not read: never act on a guess (a failed read is planned by withReadFailure).
    return idle(withConditions(status, stack, 'progressing', REASONS.Progressing, 'waiting for the provider to answer', ctx.nowIso), after(provider.pollIntervalMs), events);
  }
  const view = input.observed.kind === 'found' ? input.observed.view : undefined;
  if (view && !isOwned(ctx, status, view)) {
    const adopted = adoptOrConflict(ctx, provider, view, status, events);
    if ('action' in adopted) return adopted;
    status = adopted.status;
  }
  // A stack holding only its create's provider plan was never applied: with Manual approval it is
  // planned as absent (docs/plan-approve.md); in Automatic mode it is an empty stack like any other.
  if (view?.planOnly && isManual(ctx)) return planNotCreated(ctx, provider, status, events);
  // Cancel request annotation (docs/stack-controller.md §3.4, third case).
  const cancelReq = stack.metadata.annotations?.[ANNOTATION_CANCEL_UPDATE];
  const newCancelRequest = cancelReq !== undefined && cancelReq !== status.lastHandledCancelRequest ? cancelReq : undefined;
  if (view && !isSettled(view)) return planInProgress(ctx, provider, view, status, events, newCancelRequest);
  if (newCancelRequest !== undefined) {
    status = { ...status, lastHandledCancelRequest: newCancelRequest };
    events.push({ type: 'Normal', reason: 'NothingToCancel', message: `cancel request ${newCancelRequest}: no update is running` });
  }
  // Dependencies gate every create and update; an operation already recorded is accounted for first.
  const waiting = dependencyWait(ctx, status, events);
  if (waiting && (!status.operation || 'error' in input.desired)) return waiting;
  if ('error' in input.desired) return resolveFailure(ctx, status, input.desired.error, events);
  // An operation we recorded has settled: account for it first.
  if (status.operation && view) return planSettled(ctx, provider, view, status, events, input.desired);
  if (!view) return planAbsent(ctx, provider, status, events, input.desired);
  return planAtRest(ctx, provider, view, status, events, input.desired);
}

function planNotCreated(ctx: PlanCtx, provider: ProviderInfo, status: StackStatus, events: EventSpec[]): Step {
  const waiting = dependencyWait(ctx, status, events);
  if (waiting && !status.operation) return waiting;
  if ('error' in ctx.input.desired) return resolveFailure(ctx, status, ctx.input.desired.error, events);
  return planAbsent(ctx, provider, status, events, ctx.input.desired);
}

/** A new reconcile-requested-at value clears a blocked state and the failure count, once. */
function reconcileRequest(ctx: PlanCtx, status: StackStatus, events: EventSpec[]): StackStatus {
  const req = ctx.stack.metadata.annotations?.[ANNOTATION_RECONCILE_REQUESTED_AT];
  if (req === undefined || req === status.lastHandledReconcileRequest) return status;
  events.push({ type: 'Normal', reason: 'ReconcileRequested', message: `reconcile requested (${req})` });
  return { ...status, lastHandledReconcileRequest: req, blockedHash: undefined, failures: 0, nextRetryAt: undefined };
}

/**
 * Ownership (docs/stack-controller.md §3.2): never touch a stack owned by another UID. The adopt
 * annotation takes an unowned stack, or one whose owning Stack no longer exists (left by Retain), and
 * only where the provider object allows adoption (spec.adoption).
 */
function adoptOrConflict(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus, events: EventSpec[]): Step | { status: StackStatus } {
  const ownerLive = ctx.input.observed.kind === 'found' && ctx.input.observed.ownerLive !== false;
  const orphan = view.ownerUid === undefined || !ownerLive;
  const wantsAdopt = ctx.stack.metadata.annotations?.[ANNOTATION_ADOPT] === 'true';
  if (wantsAdopt && orphan && provider.adoption === 'Allowed') {
    events.push({ type: 'Normal', reason: 'Adopted', message: `adopted existing stack ${view.name} (${view.id})` });
    return { status: { ...status, stackId: view.id } };
  }
  const who = view.ownerUid ? `${ownerLive ? 'another Stack' : 'a Stack that no longer exists'} (uid ${view.ownerUid})` : 'nobody (created outside stack-operator)';
  const advice =
    provider.adoption === 'Disallowed'
      ? `choose another spec.stackName (the provider sets spec.adoption: Disallowed, so the ${ANNOTATION_ADOPT} annotation is not honoured)`
      : orphan
        ? `choose another spec.stackName, or set the annotation ${ANNOTATION_ADOPT}: "true" to adopt it`
        : 'choose another spec.stackName (a stack owned by an existing Stack is never adopted)';
  const message = `a stack named ${view.name} (${view.id}) already exists and belongs to ${who}; ${advice}`;
  const st = withConditions({ ...status, stackStatus: view.rawStatus }, ctx.stack, 'stalled', REASONS.StackNameConflict, message, ctx.nowIso);
  return idle(st, after(recheckDelay(ctx, REASONS.StackNameConflict)), eventOnce(ctx.status0, REASONS.StackNameConflict, events));
}

/** The provider or the desired state could not be resolved: retried when it may fix itself, else Stalled. */
function resolveFailure(ctx: PlanCtx, status: StackStatus, err: ResolveError, events: EventSpec[]): Step {
  if (err.transient) return idle(withConditions(status, ctx.stack, 'progressing', err.reason, err.message, ctx.nowIso), after(30_000), events);
  // Recovers by itself once the missing object appears: re-checked with a growing delay (a change of
  // the Stack or of its provider is seen at once through the watches).
  const st = withConditions(status, ctx.stack, 'stalled', err.reason, err.message, ctx.nowIso);
  return idle(st, after(recheckDelay(ctx, err.reason)), eventOnce(ctx.status0, err.reason, events, err.message));
}

export { planCallFailure } from './failure.ts';
export { planId, planRecord } from './approval.ts';
export { planOutputsFailure } from './outputs.ts';
export { bounded, setCondition, withConditions, MESSAGE_LIMIT } from './conditions.ts';
export { statusOutputs } from './rules.ts';
export * from './step.ts';
