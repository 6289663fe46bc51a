// Rules more than one phase applies: ownership, blocked and scheduled-retry waits, the cancel step,
// delays, and how a provider view maps into status. One home each, so the phases agree.
import { ANNOTATION_RECONCILE_REQUESTED_AT, type OperationRecord, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { CancelMode, ProviderCapabilities, StackView } from '../../providers/types.ts';
import { effectiveStackName, operationToken } from '../desired.ts';
import { REASONS, type Reason } from '../reasons.ts';
import { bounded, stalledCondition, withConditions } from './conditions.ts';
import { type EventSpec, type PlanCtx, type PlannerSettings, type ProviderInfo, type Step, type TargetRef, after, idle, mutate, resyncAfter } from './step.ts';

export function retryDelay(attempt: number, s: PlannerSettings): number {
  return Math.min(s.retryCapMs, s.retryBaseMs * 2 ** Math.max(0, attempt - 1));
}

export function resyncDelay(p: ProviderInfo, jitter: number): number {
  // Jitter of +-10% spreads the resync of thousands of Stacks started together.
  return Math.round(p.resyncIntervalMs * (0.9 + 0.2 * jitter));
}

export function opLabel(op: OperationRecord | undefined): string {
  return op ? `${op.type.toLowerCase()} of generation ${op.generation}` : 'operation';
}

export function inProgressReason(view: StackView): Reason {
  const reasons = { create: REASONS.Creating, update: REASONS.Updating, delete: REASONS.Deleting, rollback: REASONS.RollingBack, cancel: REASONS.Cancelling };
  return reasons[view.operation];
}

export const isSettled = (view: StackView): boolean => view.phase !== 'InProgress';

/** The provider's view as status fields. */
export function viewFields(view: StackView | undefined): Partial<StackStatus> {
  if (!view) return {};
  return {
    stackId: view.id,
    stackStatus: view.rawStatus,
    stackStatusReason: view.reason === undefined ? undefined : bounded(view.reason, 512),
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

/** Ours: it carries this Stack's UID, or it is the stack this Stack recorded (adopted). */
export function isOwned(ctx: PlanCtx, status: StackStatus, view: StackView): boolean {
  return view.ownerUid === ctx.stack.metadata.uid || (status.stackId !== undefined && status.stackId === view.id);
}

/** The stack a call addresses: the Stack's name and the id guard from the view. */
export function targetOf(ctx: PlanCtx, view: StackView): TargetRef {
  return { name: effectiveStackName(ctx.stack), id: view.id };
}

/** Cancelled, timed out or failed for good at this desired state: Stalled until something changes. */
export function blockedStep(ctx: PlanCtx, status: StackStatus, events: EventSpec[], requeueMs?: number): Step {
  const stalled = stalledCondition(status);
  const reason = (stalled?.reason as Reason | undefined) ?? REASONS.RetriesExhausted;
  const st = withConditions(status, ctx.stack, 'stalled', reason, stalled?.message ?? 'blocked until the spec changes', ctx.nowIso);
  return idle(st, requeueMs === undefined ? { type: 'await' } : resyncAfter(requeueMs), events);
}

/** A failed operation waits for its scheduled retry; undefined once the time has come. */
export function retryWait(ctx: PlanCtx, status: StackStatus, events: EventSpec[], reason: Reason = REASONS.RetryScheduled): Step | undefined {
  if (!status.nextRetryAt || Date.parse(status.nextRetryAt) <= ctx.input.now) return undefined;
  const what = reason === REASONS.RetryScheduled ? 'retrying' : 'retrying the delete';
  const st = withConditions(status, ctx.stack, 'failing', reason, `${what} at ${status.nextRetryAt}: ${status.lastError ?? ''}`, ctx.nowIso);
  return idle(st, after(Date.parse(status.nextRetryAt) - ctx.input.now), events);
}

export function pickCancelMode(ctx: PlanCtx, caps: ProviderCapabilities): CancelMode {
  const wanted: CancelMode = ctx.stack.spec.updatePolicy?.cancelMode ?? 'Rollback';
  if (caps.cancelModes.includes(wanted)) return wanted;
  return caps.cancelModes[0] ?? 'Rollback';
}

/** Cancel the running update: the record notes the cancel first, `cancelIssuedAt` once it was sent. */
export function cancelStep(
  ctx: PlanCtx,
  provider: ProviderInfo,
  view: StackView,
  status: StackStatus,
  why: { reason: Reason; message: string; events: EventSpec[] },
): Step {
  const op = status.operation;
  const token = operationToken(ctx.stack.metadata.uid ?? '', op?.generation ?? ctx.gen, 'cancel', op?.attempt ?? 0, status.lastHandledReconcileRequest);
  const operation: OperationRecord = {
    ...(op ?? { type: 'Update', generation: ctx.gen, token, startedAt: ctx.nowIso }),
    cancelRequested: true,
    cancelReason: why.reason,
  };
  const st = withConditions({ ...status, operation }, ctx.stack, 'progressing', REASONS.Cancelling, why.message, ctx.nowIso);
  // Provider options (e.g. ros cancelType) travel with the cancel, so they apply after a restart too.
  const options = 'error' in ctx.input.desired ? undefined : ctx.input.desired.input.options;
  return mutate(
    { type: 'cancelUpdate', token, ref: targetOf(ctx, view), mode: pickCancelMode(ctx, provider.capabilities), ...(options ? { options } : {}) },
    st,
    { operation: { ...operation, cancelIssuedAt: ctx.nowIso } },
    after(provider.pollIntervalMs),
    why.events,
  );
}

/** The hint every "waits for a change" message ends with. */
export const RETRY_HINT = `change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT}`;

/**
 * When to look again at a Stack Stalled on something outside it (a missing Secret, ConfigMap or
 * provider, an outputs object in the way): as long again as it has been stalled for this reason, at
 * least recheckBaseMs (30 s) and at most recheckCapMs, so a fresh problem is re-checked soon and an
 * old one rarely.
 */
export function recheckDelay(ctx: PlanCtx, reason: Reason): number {
  const stalled = stalledCondition(ctx.status0);
  const since = stalled?.reason === reason ? Date.parse(stalled.lastTransitionTime) : Number.NaN;
  const elapsed = Number.isFinite(since) ? ctx.input.now - since : 0;
  return Math.min(ctx.s.recheckCapMs, Math.max(ctx.s.recheckBaseMs, elapsed));
}
