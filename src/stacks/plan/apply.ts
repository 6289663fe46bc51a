// A settled stack of ours with nothing in flight: apply a new desired state, mirror deletion
// protection, or report Ready (docs/stack-controller.md §3.3, §3.6, §3.9).
import type { OperationRecord, StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackInput, StackView } from '../../providers/types.ts';
import { effectiveStackName, operationToken } from '../desired.ts';
import { REASONS } from '../reasons.ts';
import { approvalGate, approvedProviderPlan, isManual } from './approval.ts';
import { withConditions } from './conditions.ts';
import { outputsStep } from './outputs.ts';
import { RETRY_HINT, blockedStep, resyncDelay, retryWait, statusOutputs, targetOf, viewFields } from './rules.ts';
import { type EventSpec, type PlanCtx, type ProviderInfo, type Step, after, idle, mutate, resyncAfter } from './step.ts';

export interface Desired {
  hash: string;
  input: StackInput;
}

/** Start a create or update of `desired`, recording the operation before the call. */
export function startOperation(
  ctx: PlanCtx,
  provider: ProviderInfo,
  status: StackStatus,
  events: EventSpec[],
  type: 'Create' | 'Update',
  desired: Desired,
  view: StackView | undefined,
): Step {
  if (isManual(ctx)) {
    const gate = approvalGate(ctx, provider, status, events, type, desired, view);
    if ('action' in gate) return gate;
    ({ status, events } = gate);
  }
  const { stack, nowIso, gen } = ctx;
  const attempt = status.failures ?? 0;
  const token = operationToken(stack.metadata.uid ?? '', gen, type === 'Create' ? 'create' : 'update', attempt, status.lastHandledReconcileRequest, desired.hash);
  const operation: OperationRecord = {
    type,
    generation: gen,
    hash: desired.hash,
    token,
    startedAt: nowIso,
    attempt,
    // The provider's own clock ('' for a stack never updated): whether the call landed is judged by a
    // change of it, never by comparing clocks (settled.ts).
    ...(view ? { observedUpdatedAt: view.updatedAt ?? '', observedOperation: view.operation } : {}),
    // Observed by the read before this one: recovery also compares clocks (settled.ts).
    ...(view && ctx.input.recordDuringRead ? { recordedDuringRead: true } : {}),
  };
  // The approved provider plan goes into the record: a resumed call executes that same plan. A retry
  // after a failure applies the approved desired state directly: an executed plan cannot run again
  // (ROS: "If the stack fails to be updated, you must create a new change set").
  const providerPlanId = attempt === 0 ? approvedProviderPlan(ctx, status) : undefined;
  if (providerPlanId) operation.providerPlanId = providerPlanId;
  const st = withConditions(
    // A new operation ends the block of an earlier desired state: returning to it later is a change.
    { ...status, ...viewFields(view), operation, nextRetryAt: undefined, blockedHash: undefined },
    stack,
    'progressing',
    type === 'Create' ? REASONS.Creating : REASONS.Updating,
    `${type === 'Create' ? 'creating' : 'updating'} stack ${effectiveStackName(stack)} (generation ${gen})`,
    nowIso,
  );
  // A create sets the provider's own protection flag from the spec: record it as mirrored by us.
  // A provider plan's create does not carry the flag (ROS change sets take none): mirrored afterwards.
  const mirrored =
    type === 'Create' && provider.capabilities.nativeDeletionProtection && !providerPlanId ? { mirroredDeletionProtection: stack.spec.deletionProtection ?? false } : {};
  // No event for the start: the Reconciling condition and status.operation say it while it runs, and
  // the completion's event carries when it started (docs/stack-controller.md, Events). One Event less
  // per create and update is one API server write less (docs/benchmarks.md, third round).
  return mutate(resendAction(ctx, type, token, desired.input, view, providerPlanId), st, { operation: { ...operation, issuedAt: nowIso }, ...mirrored }, after(provider.pollIntervalMs), events);
}

/** The create / update call for a recorded token (also when resuming a call that may not have landed). */
export function resendAction(ctx: PlanCtx, type: 'Create' | 'Update', token: string, input: StackInput, view: StackView | undefined, providerPlanId?: string) {
  const plan = providerPlanId ? { providerPlanId } : {};
  if (type === 'Create' || !view) return { type: 'create' as const, token, input, ...plan };
  return { type: 'update' as const, token, ref: targetOf(ctx, view), input, ...plan };
}

/** At rest, owned, nothing in flight. */
export function planAtRest(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status0: StackStatus, events: EventSpec[], desired: Desired): Step {
  const { input, stack, nowIso } = ctx;
  let status: StackStatus = { ...status0, ...viewFields(view) };
  if (status.blockedHash !== undefined && status.blockedHash === desired.hash) return blockedStep(ctx, status, events, resyncDelay(provider, input.jitter));
  if (status.lastAppliedHash !== desired.hash || (view.phase !== 'Complete' && reapplyAsked(ctx, status))) {
    return retryWait(ctx, status, events) ?? startOperation(ctx, provider, status, events, 'Update', desired, view);
  }
  const mirror = mirrorProtection(ctx, provider, view, status, events);
  if ('action' in mirror) return mirror;
  status = mirror.status;
  if (view.phase === 'Complete') {
    const outputs = statusOutputs(view);
    const st = withConditions({ ...status, failures: 0, lastError: undefined, nextRetryAt: undefined, ...(outputs ? { outputs } : {}) }, stack, 'ready', REASONS.Succeeded, `stack ${view.rawStatus}`, nowIso);
    return outputsStep(ctx, view, idle(st, resyncAfter(resyncDelay(provider, input.jitter)), events), outputsChanged(ctx.status0, st));
  }
  // Settled but not Complete, with nothing of ours in flight: changed outside, or failed earlier.
  const why = `the stack is ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}; ${RETRY_HINT} to re-apply`;
  return idle(withConditions(status, stack, 'stalled', REASONS.ProviderStackFailed, why, nowIso), resyncAfter(resyncDelay(provider, input.jitter)), events);
}

/**
 * A stack that is not Complete although its applied spec is the desired one is updated to it again
 * when (docs/troubleshooting.md, ProviderStackFailed):
 * - our own last attempt at another spec failed or was cancelled (`failures`, `blockedHash`), and the
 *   spec was since changed back: a revert after a cancelled update leaves the stack rolled back;
 * - the spec changed since the last verdict, or a new reconcile request came (a stack failed outside).
 * Without one of these it stays Stalled, so a stack that fails outside Kubernetes is never updated in
 * a loop; a re-apply that fails again ends blocked at this spec (settled.ts).
 */
function reapplyAsked(ctx: PlanCtx, status: StackStatus): boolean {
  const seen = ctx.status0.observedGeneration;
  return (
    (status.failures ?? 0) > 0 ||
    status.blockedHash !== undefined ||
    (seen !== undefined && seen < ctx.gen) ||
    status.lastHandledReconcileRequest !== ctx.status0.lastHandledReconcileRequest
  );
}

/**
 * Deletion protection mirror (docs/stack-controller.md §3.6, provider layer): only on spec transitions, so a flag set
 * outside Kubernetes is left alone (and blocks deletion).
 */
function mirrorProtection(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus, events: EventSpec[]): Step | { status: StackStatus } {
  const want = ctx.stack.spec.deletionProtection ?? false;
  if (!provider.capabilities.nativeDeletionProtection || (status.mirroredDeletionProtection ?? false) === want) return { status };
  if (view.deletionProtection === want) return { status: { ...status, mirroredDeletionProtection: want } };
  const token = operationToken(ctx.stack.metadata.uid ?? '', ctx.gen, 'protect', want ? 1 : 0);
  const st = withConditions(status, ctx.stack, 'progressing', REASONS.Progressing, `setting the provider's deletion protection to ${want}`, ctx.nowIso);
  return mutate(
    { type: 'setDeletionProtection', token, ref: targetOf(ctx, view), enabled: want },
    st,
    { mirroredDeletionProtection: want, deletionProtection: want },
    after(0),
    [...events, { type: 'Normal', reason: 'DeletionProtectionSet', message: `provider deletion protection set to ${want}` }],
  );
}

function outputsChanged(before: StackStatus, after: StackStatus): boolean {
  return JSON.stringify(before.outputs ?? null) !== JSON.stringify(after.outputs ?? null) || before.lastAppliedHash !== after.lastAppliedHash;
}
