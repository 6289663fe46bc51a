// An operation runs at the provider (docs/stack-controller.md §3.4): poll it, or cancel a running update when
// the spec changed (CancelAndUpdate), it ran past its timeout, or a cancel was requested.
import type { StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackView } from '../../providers/types.ts';
import { REASONS, type Reason } from '../reasons.ts';
import { withConditions } from './conditions.ts';
import { cancelStep, inProgressReason, opLabel, viewFields } from './rules.ts';
import { type EventSpec, type PlanCtx, type ProviderInfo, type Step, after, idle } from './step.ts';

export function planInProgress(ctx: PlanCtx, provider: ProviderInfo, view: StackView, status: StackStatus, events: EventSpec[], cancelRequest: string | undefined): Step {
  const op = status.operation;
  let st: StackStatus = { ...status, ...viewFields(view) };
  if (op && !op.issuedAt && op.type !== 'Delete') st = { ...st, operation: { ...op, issuedAt: ctx.nowIso } };
  const canCancel = provider.capabilities.cancelModes.length > 0;
  const cancel = (reason: Reason, message: string, base: StackStatus = st): Step =>
    cancelStep(ctx, provider, view, base, { reason, message, events: [...events, { type: 'Normal', reason: 'CancelRequested', message }] });

  // A cancel recorded but not known to have reached the provider (crash between the record and the
  // call): send it again; the token is the same, so a service that got it sees a replay.
  if (view.operation === 'update' && op?.cancelRequested && !op.cancelIssuedAt && canCancel) {
    return cancel((op.cancelReason as Reason | undefined) ?? REASONS.CancelRequested, `resuming the cancel of the update of generation ${op.generation}`);
  }
  if (view.operation === 'update' && !op?.cancelRequested) {
    if (cancelRequest !== undefined) {
      const handled = { ...st, lastHandledCancelRequest: cancelRequest };
      if (canCancel) return cancel(REASONS.CancelRequested, `cancelling the running update on request (${cancelRequest})`, handled);
      st = handled;
      events.push({ type: 'Warning', reason: 'CancelUnsupported', message: `provider ${provider.type} cannot cancel an update; waiting for it to finish` });
    }
    const decided = cancelForTimeoutOrSpec(ctx, provider, st, events, cancel);
    if (decided) return decided;
  } else if (cancelRequest !== undefined) {
    st = { ...st, lastHandledCancelRequest: cancelRequest };
    events.push({ type: 'Normal', reason: 'NothingToCancel', message: `cancel request ${cancelRequest}: the running ${view.operation} is not an update` });
  }
  const reason = op?.cancelRequested ? REASONS.Cancelling : inProgressReason(view);
  const next = withConditions(st, ctx.stack, 'progressing', reason, `${view.rawStatus}${op ? ` (${opLabel(op)})` : ''}`, ctx.nowIso);
  return idle(next, after(provider.pollIntervalMs), events);
}

/** Our update runs past its timeout, or a newer spec waits: cancel it, or say why it waits. */
function cancelForTimeoutOrSpec(
  ctx: PlanCtx,
  provider: ProviderInfo,
  st: StackStatus,
  events: EventSpec[],
  cancel: (reason: Reason, message: string) => Step,
): Step | undefined {
  const { stack, input } = ctx;
  const op = st.operation;
  if (!op) return undefined;
  const canCancel = provider.capabilities.cancelModes.length > 0;
  const timeoutMinutes = stack.spec.timeoutMinutes ?? 60;
  if (canCancel && input.now - Date.parse(op.startedAt) > timeoutMinutes * 60_000 + ctx.s.timeoutGraceMs) {
    return cancel(REASONS.UpdateTimedOut, `the update of generation ${op.generation} exceeded timeoutMinutes (${timeoutMinutes}); cancelling`);
  }
  const desiredHash = 'error' in input.desired ? undefined : input.desired.hash;
  if (desiredHash === undefined || op.hash === undefined || op.hash === desiredHash) return undefined;
  const policy = stack.spec.updatePolicy?.onSpecChangeDuringUpdate ?? 'CancelAndUpdate';
  if (policy === 'CancelAndUpdate' && canCancel) {
    return cancel(REASONS.SpecChanged, `the spec changed (generation ${ctx.gen}) while the update of generation ${op.generation} runs; cancelling it to apply the newest spec`);
  }
  const why = canCancel ? 'updatePolicy.onSpecChangeDuringUpdate is WaitAndUpdate' : `provider ${provider.type} cannot cancel an update`;
  const next = withConditions(st, stack, 'progressing', REASONS.WaitingForOperation, `generation ${ctx.gen} waits for the running update of generation ${op.generation} to finish (${why})`, ctx.nowIso);
  return idle(next, after(provider.pollIntervalMs), events);
}
