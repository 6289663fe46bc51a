// No stack at the provider (docs/stack-controller.md §3.3): create it, resume a recorded create, or wait for
// a new stack to become visible. A stack that only holds the provider plan of its create (view.planOnly,
// docs/plan-approve.md) counts as not created yet.
import type { OperationRecord, StackStatus } from '../../api/v1alpha1/types.ts';
import { REASONS } from '../reasons.ts';
import { type Desired, resendAction, startOperation } from './apply.ts';
import { withConditions } from './conditions.ts';
import { blockedStep, retryWait } from './rules.ts';
import { type EventSpec, type PlanCtx, type ProviderInfo, type Step, after, idle, mutate } from './step.ts';

export function planAbsent(ctx: PlanCtx, provider: ProviderInfo, status: StackStatus, events: EventSpec[], desired: Desired): Step {
  const { input, s, stack, nowIso } = ctx;
  const op = status.operation;
  // Failed for good at this desired state (e.g. the provider rejected the template): wait for a change.
  if (status.blockedHash === desired.hash) return blockedStep(ctx, status, events);
  if (op?.type === 'Create' && createMayBeInvisible(op, input.now, s.createVisibilityGraceMs)) {
    // Just created; some services list a new stack a moment later.
    const st = withConditions(status, stack, 'progressing', REASONS.Creating, 'waiting for the new stack to appear', nowIso);
    return idle(st, after(provider.pollIntervalMs), events);
  }
  if (op?.type === 'Create' && op.hash === desired.hash) {
    // Crash between recording and the call, or the call never landed: the same token again, so a
    // service that did receive it recognises the replay.
    const st = withConditions(status, stack, 'progressing', REASONS.Creating, `resuming create of generation ${op.generation}`, nowIso);
    return mutate(resendAction(ctx, 'Create', op.token, desired.input, undefined, op.providerPlanId), st, { operation: { ...op, issuedAt: nowIso } }, after(provider.pollIntervalMs), events);
  }
  const waiting = retryWait(ctx, status, events);
  if (waiting) return waiting;
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
  const step = startOperation(ctx, provider, base, events, 'Create', desired, undefined);
  if (status.stackId === undefined) return step;
  const missing: EventSpec = { type: 'Warning', reason: 'StackMissing', message: `stack ${status.stackId} is gone from the provider; creating it again` };
  return { ...step, events: [missing, ...step.events] };
}

/** A create was accepted, or sent with its reply lost, so recently that the new stack may not be listed yet. */
export function createMayBeInvisible(op: OperationRecord, now: number, graceMs: number): boolean {
  const sent = op.issuedAt ?? op.sentAt;
  return sent !== undefined && now - Date.parse(sent) < graceMs;
}
