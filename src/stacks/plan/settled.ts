// An operation we recorded has settled at the provider: account for it (docs/stack-controller.md §3.3, §3.4):
// success, a cancel we asked for, a failure to retry or give up on, or a call that never landed.
import { ANNOTATION_RECONCILE_REQUESTED_AT, type OperationRecord, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackView } from '../../providers/types.ts';
import { REASONS } from '../reasons.ts';
import { type Desired, resendAction } from './apply.ts';
import { outputsStep } from './outputs.ts';
import { bounded, withConditions } from './conditions.ts';
import { RETRY_HINT, opLabel, resyncDelay, retryDelay, statusOutputs, viewFields } from './rules.ts';
import { type EventSpec, type PlanCtx, type ProviderInfo, REPLAN, type Step, after, idle, mutate, resyncAfter } from './step.ts';

export function planSettled(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus, events: EventSpec[], desired: Desired): Step {
  const op = status.operation as OperationRecord;
  const base: StackStatus = { ...status, ...viewFields(view), operation: undefined };
  // Any other recorded operation (a Delete outside deletion cannot happen; be safe): drop it.
  if (op.type !== 'Create' && op.type !== 'Update') return idle(base, REPLAN, events);
  // A recorded call that may never have landed: the stack is settled and untouched since.
  if (!op.issuedAt && !op.cancelRequested && neverLanded(op, view)) {
    const st = withConditions(status, ctx.stack, 'progressing', REASONS.Updating, `resuming ${opLabel(op)}`, ctx.nowIso);
    return mutate(resendAction(ctx, op.type, op.token, desired.input, view, op.providerPlanId), st, { operation: { ...op, issuedAt: ctx.nowIso } }, after(provider.pollIntervalMs), events);
  }
  if (op.cancelRequested) return cancelSettled(ctx, provider, view, op, base, events, desired.hash);
  if (view.phase === 'Complete') return succeeded(ctx, provider, view, op, base, events, desired.hash);
  return failed(ctx, op, view, status, base, events);
}

/**
 * Whether a recorded Create / Update without issuedAt (a crash between the record and the call, or
 * right after the call, or a reply lost) certainly never reached the provider. An update that landed makes the stack's
 * last operation an update (or its rollback) and moves its update time to after the record. Provider
 * timestamps often have whole-second precision (Heat `updated_time`), so the record's time is compared
 * at that precision: a change within the same second counts as ours (never a second call).
 */
export function neverLanded(op: OperationRecord, view: StackView): boolean {
  if (op.type === 'Update' && view.operation === 'create') return true;
  // Best: the provider's own view, unchanged since the record (no clock comparison at all). Update
  // times have whole-second precision on some services (RFS, Heat): a last operation that changed
  // (e.g. create -> update) also shows the call landed within the same second. An update sent within
  // the same second as the previous one stays ambiguous and is sent again (the same content).
  if (op.observedUpdatedAt !== undefined) {
    const unchanged = (view.updatedAt ?? '') === op.observedUpdatedAt;
    if (unchanged && (op.observedOperation === undefined || op.observedOperation === view.operation)) return true;
    // Observed by the read before the record's (record-during-read.ts): a change made outside between
    // that read and the record, then a crash before the new read, must not pass for this call. A change
    // older than the record is not ours; one in the record's second or later is (as below).
    return op.recordedDuringRead === true && changedBefore(op, view);
  }
  return changedBefore(op, view);
}

/** The stack's last change (update time, else creation time for an update) is older than the record, at whole-second precision. */
function changedBefore(op: OperationRecord, view: StackView): boolean {
  const changed = view.updatedAt ?? (op.type === 'Update' ? view.createdAt : undefined);
  if (changed === undefined) return false;
  const changedMs = Date.parse(changed);
  const recordedMs = Math.floor(Date.parse(op.startedAt) / 1000) * 1000;
  return Number.isFinite(changedMs) && changedMs < recordedMs;
}

function cancelSettled(ctx: PlanCtx, provider: ProviderInfo, view: StackView, op: OperationRecord, base: StackStatus, events: EventSpec[], hash: string): Step {
  const { stack, nowIso } = ctx;
  // Superseded by a newer spec (the cancel's reason, or a change while any cancel ran): not a failure,
  // apply the newest spec next. The cancelled hash is blocked, so that the newest spec is applied even
  // when it is the one the stack rolled back to (apply.ts, reapplyAsked).
  if (op.cancelReason === REASONS.SpecChanged || (op.hash !== undefined && op.hash !== hash)) {
    const st = withConditions({ ...base, ...(op.hash ? { blockedHash: op.hash } : {}) }, stack, 'progressing', REASONS.Progressing, `update of generation ${op.generation} cancelled (${view.rawStatus}); applying the newest spec`, nowIso);
    return idle(st, REPLAN, [...events, { type: 'Normal', reason: 'UpdateCancelled', message: `superseded update of generation ${op.generation} ended ${view.rawStatus}` }]);
  }
  const reason = op.cancelReason === REASONS.UpdateTimedOut ? REASONS.UpdateTimedOut : REASONS.UpdateCancelled;
  const message =
    reason === REASONS.UpdateTimedOut
      ? `the update of generation ${op.generation} ran past timeoutMinutes and was cancelled (${view.rawStatus}); ${RETRY_HINT} to retry`
      : `the update of generation ${op.generation} was cancelled on request (${view.rawStatus}); ${RETRY_HINT} to apply it again`;
  const st = withConditions({ ...base, blockedHash: op.hash }, stack, 'stalled', reason, message, nowIso);
  // A cancelled update may read *_FAILED just before the provider's rollback starts: keep reading at
  // the poll interval until the rollback shows, then at the resync interval.
  const rollbackPending = view.phase === 'Failed' && stack.spec.disableRollback !== true && stack.spec.updatePolicy?.cancelMode !== 'NoRollback';
  return idle(st, rollbackPending ? after(provider.pollIntervalMs) : resyncAfter(resyncDelay(provider, ctx.input.jitter)), [...events, { type: 'Warning', reason, message }]);
}

function succeeded(ctx: PlanCtx, provider: ProviderInfo, view: StackView, op: OperationRecord, base: StackStatus, events: EventSpec[], hash: string): Step {
  const outputs = statusOutputs(view);
  const current = op.hash === hash;
  const st = withConditions(
    { ...base, lastAppliedHash: op.hash, lastAppliedGeneration: op.generation, failures: 0, lastError: undefined, nextRetryAt: undefined, ...(outputs ? { outputs } : {}) },
    ctx.stack,
    current ? 'ready' : 'progressing',
    current ? REASONS.Succeeded : REASONS.Progressing,
    current ? `stack ${view.rawStatus}` : `generation ${op.generation} applied; applying the newest spec`,
    ctx.nowIso,
  );
  const done: EventSpec = { type: 'Normal', reason: op.type === 'Create' ? 'Created' : 'Updated', message: `${opLabel(op)} completed: ${view.rawStatus}${tookSince(op.startedAt, ctx.input.now)}` };
  // The outputs are written before the newest spec is applied (a replan after a status-only Step).
  return outputsStep(ctx, view, idle(st, current ? resyncAfter(resyncDelay(provider, ctx.input.jitter)) : REPLAN, [...events, done]), true);
}

/** " in 1m12s (started 2026-11-28T02:00:00Z)": the completion's event is the only one of an operation. */
function tookSince(startedAt: string, now: number): string {
  const ms = now - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  const took = s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return ` in ${took} (started ${startedAt})`;
}

/** Failed, rolled back, rollback failed: retry with backoff, then give up. */
function failed(ctx: PlanCtx, op: OperationRecord, view: StackView, status: StackStatus, base: StackStatus, events: EventSpec[]): Step {
  const { s, stack, nowIso } = ctx;
  const failures = (status.failures ?? 0) + 1;
  const why = `${opLabel(op)} ended ${view.rawStatus}${view.reason ? `: ${view.reason}` : ''}`;
  if (failures >= s.maxAttempts) {
    const message = `${why}; gave up after ${failures} attempts. Change the spec or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to try again`;
    const st = withConditions({ ...base, failures, lastError: bounded(why), blockedHash: op.hash, nextRetryAt: undefined }, stack, 'stalled', REASONS.RetriesExhausted, message, nowIso);
    return idle(st, { type: 'await' }, [...events, { type: 'Warning', reason: REASONS.RetriesExhausted, message }]);
  }
  const delay = retryDelay(failures, s);
  const nextRetryAt = new Date(ctx.input.now + delay).toISOString();
  const reason = op.type === 'Create' ? REASONS.CreateFailed : REASONS.UpdateFailed;
  const st = withConditions({ ...base, failures, lastError: bounded(why), nextRetryAt }, stack, 'failing', reason, `${why}; attempt ${failures} of ${s.maxAttempts}, retrying at ${nextRetryAt}`, nowIso);
  return idle(st, after(delay), [...events, { type: 'Warning', reason, message: why }]);
}
