// Deletion (docs/stack-controller.md §3.5, §3.6): Retain releases at once; otherwise protection, a running
// operation and the provider's own flag are honoured before the delete call, and the finalizer goes
// only once the stack is gone.
import type { OperationRecord, StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackView } from '../../providers/types.ts';
import { effectiveStackName, operationToken } from '../desired.ts';
import { REASONS } from '../reasons.ts';
import { createMayBeInvisible } from './absent.ts';
import { dependentsWait } from './dependencies.ts';
import { bounded, eventOnce, withConditions } from './conditions.ts';
import { cancelStep, isOwned, isSettled, retryDelay, retryWait, targetOf, viewFields } from './rules.ts';
import { AWAIT, type PlanCtx, type ProviderInfo, type Step, after, idle, mutate } from './step.ts';

export function planDeletion(ctx: PlanCtx): Step {
  const { input, stack, nowIso } = ctx;
  const status = ctx.status0;
  if ((stack.spec.deletionPolicy ?? 'Delete') === 'Retain') {
    const message = `deletionPolicy Retain: the cloud stack ${status.stackId ?? effectiveStackName(stack)} is left in place`;
    return { action: { type: 'removeFinalizer' }, status, events: [{ type: 'Normal', reason: 'Retained', message }], next: AWAIT };
  }
  const blocked = dependentsWait(ctx);
  if (blocked) return blocked;
  if (stack.spec.deletionProtection === true) {
    const message =
      'spec.deletionProtection is true: the cloud stack is kept and this object waits. To delete it, set ' +
      'spec.deletionProtection to false (or spec.deletionPolicy to Retain to keep the cloud stack)';
    return idle(withConditions(status, stack, 'stalled', REASONS.DeletionProtected, message, nowIso), AWAIT, eventOnce(status, REASONS.DeletionProtected, [], message));
  }
  if (stack.spec.suspend) {
    const message = 'deletion waits: spec.suspend is true (no provider calls); unsuspend, or set deletionPolicy Retain';
    return idle(withConditions(status, stack, 'suspended', REASONS.Suspended, message, nowIso), AWAIT);
  }
  if ('error' in input.provider) {
    const err = input.provider.error;
    const st = withConditions(status, stack, err.transient ? 'progressing' : 'stalled', err.reason, `cannot delete: ${err.message}`, nowIso);
    return idle(st, err.transient ? after(30_000) : AWAIT, eventOnce(status, err.reason, [], err.message));
  }
  const provider = input.provider;
  if (input.observed.kind === 'unknown') {
    return idle(withConditions(status, stack, 'progressing', REASONS.Deleting, 'waiting for the provider to answer', nowIso), after(provider.pollIntervalMs));
  }
  const view = input.observed.kind === 'found' ? input.observed.view : undefined;
  const op = status.operation;
  if (!view && op?.type === 'Create' && createMayBeInvisible(op, input.now, ctx.s.createVisibilityGraceMs)) {
    // A create whose reply was lost may still appear: releasing now would leak the stack.
    const message = `waiting for the create of generation ${op.generation} to show at the provider before deleting`;
    return idle(withConditions(status, stack, 'progressing', REASONS.Deleting, message, nowIso), after(provider.pollIntervalMs));
  }
  if (!view || view.phase === 'Deleted' || !isOwned(ctx, status, view)) {
    // Gone, never created, or not ours (a same-name stack of someone else is never deleted).
    const message = !view || view.phase === 'Deleted' ? `stack ${status.stackId ?? effectiveStackName(stack)} is deleted` : `stack ${view.name} is not owned by this Stack; left in place`;
    return { action: { type: 'removeFinalizer' }, status, events: [{ type: 'Normal', reason: 'Deleted', message }], next: AWAIT };
  }
  return planDeleteOwned(ctx, provider, view, { ...status, ...viewFields(view) });
}

function planDeleteOwned(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus): Step {
  if (view.deletionProtection === true) return providerProtected(ctx, provider, view, status);
  if (!isSettled(view)) return deleteWhileRunning(ctx, provider, view, status);
  const retain = ctx.stack.spec.deletionPolicy === 'RetainResources';
  if (retain && !provider.capabilities.retainOnDelete) {
    const message = `deletionPolicy RetainResources is not supported by provider ${provider.type}; set deletionPolicy to Retain (keep the stack) or Delete`;
    const st = withConditions(status, ctx.stack, 'stalled', REASONS.RetainResourcesUnsupported, message, ctx.nowIso);
    return idle(st, AWAIT, eventOnce(ctx.status0, REASONS.RetainResourcesUnsupported, [], message));
  }
  const op = status.operation;
  if (op?.type === 'Delete' && view.phase === 'DeleteFailed') return deleteFailed(ctx, view, status);
  return retryWait(ctx, status, [], REASONS.DeleteFailed) ?? startDelete(ctx, provider, view, status, retain);
}

/** A provider-side protection flag blocks deletion, unless it is the one we mirrored from the spec. */
function providerProtected(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus): Step {
  if (status.mirroredDeletionProtection === true && provider.capabilities.nativeDeletionProtection) {
    // We set it from the spec, which is now false: lift it, then delete.
    const token = operationToken(ctx.stack.metadata.uid ?? '', ctx.gen, 'protect', 0);
    const st = withConditions(status, ctx.stack, 'progressing', REASONS.Deleting, "lifting the provider's deletion protection before deleting", ctx.nowIso);
    return mutate(
      { type: 'setDeletionProtection', token, ref: targetOf(ctx, view), enabled: false },
      st,
      { mirroredDeletionProtection: false, deletionProtection: false },
      after(0),
      [{ type: 'Normal', reason: 'DeletionProtectionSet', message: 'provider deletion protection lifted for deletion' }],
    );
  }
  const message = `the provider's own deletion protection is on for stack ${view.name} (set outside Kubernetes); turn it off there to let the deletion proceed`;
  const st = withConditions(status, ctx.stack, 'stalled', REASONS.DeletionProtected, message, ctx.nowIso);
  return idle(st, after(provider.resyncIntervalMs), eventOnce(ctx.status0, REASONS.DeletionProtected, [], message));
}

/** An operation runs: poll a delete, cancel an update (docs/stack-controller.md §3.4, fourth case), or wait. */
function deleteWhileRunning(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus): Step {
  const op = status.operation;
  if (view.operation === 'delete') {
    return idle(withConditions(status, ctx.stack, 'progressing', REASONS.Deleting, view.rawStatus, ctx.nowIso), after(provider.pollIntervalMs));
  }
  const canCancel = provider.capabilities.cancelModes.length > 0;
  if (view.operation === 'update' && canCancel && (!op?.cancelRequested || !op.cancelIssuedAt)) {
    return cancelStep(ctx, provider, view, status, {
      reason: REASONS.Deleting,
      message: 'the Stack is being deleted while an update runs: cancelling the update first',
      events: [{ type: 'Normal', reason: 'CancelRequested', message: 'cancelling the running update before deleting' }],
    });
  }
  const why = canCancel ? '' : ` (provider ${provider.type} cannot cancel)`;
  const message = `deletion waits for the running ${view.operation} to finish${why}: ${view.rawStatus}`;
  return idle(withConditions(status, ctx.stack, 'progressing', REASONS.WaitingForOperation, message, ctx.nowIso), after(provider.pollIntervalMs));
}

/** DELETE_FAILED keeps the finalizer and retries with bounded backoff, the reason in the condition. */
function deleteFailed(ctx: PlanCtx, view: StackView, status: StackStatus): Step {
  const failures = (status.failures ?? 0) + 1;
  const why = `delete ended ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}`;
  const delay = retryDelay(failures, ctx.s);
  const nextRetryAt = new Date(ctx.input.now + delay).toISOString();
  const st = withConditions(
    { ...status, operation: undefined, failures, lastError: bounded(why), nextRetryAt },
    ctx.stack,
    'failing',
    REASONS.DeleteFailed,
    `${why}; retrying at ${nextRetryAt} (attempt ${failures})`,
    ctx.nowIso,
  );
  return idle(st, after(delay), [{ type: 'Warning', reason: REASONS.DeleteFailed, message: why }]);
}

function startDelete(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus, retain: boolean): Step {
  const failures = status.failures ?? 0;
  const token = operationToken(ctx.stack.metadata.uid ?? '', ctx.gen, 'delete', failures, status.lastHandledReconcileRequest);
  const operation: OperationRecord = { type: 'Delete', generation: ctx.gen, token, startedAt: ctx.nowIso, attempt: failures, reason: REASONS.Deleting };
  const what = `deleting stack ${view.name} (${view.id})${retain ? ', retaining its resources' : ''}`;
  const st = withConditions({ ...status, operation, failures, nextRetryAt: undefined }, ctx.stack, 'progressing', REASONS.Deleting, what, ctx.nowIso);
  // Provider options travel with the delete (e.g. ros ramRoleName: the delete runs with the stack's role).
  const options = 'error' in ctx.input.desired ? undefined : ctx.input.desired.input.options;
  return mutate(
    { type: 'delete', token, ref: targetOf(ctx, view), retainResources: retain, ...(options ? { options } : {}) },
    st,
    { operation: { ...operation, issuedAt: ctx.nowIso } },
    after(provider.pollIntervalMs),
    [{ type: 'Normal', reason: 'DeleteStarted', message: `deleting stack ${view.name}${retain ? ' (retaining resources)' : ''}` }],
  );
}
