// Provider call failures, classified once (docs/stack-controller.md §3.8): the single home of every rule for
// a failed mutation and for a failed read of the provider's view. Pure, like the rest of the planner.
import { ANNOTATION_RECONCILE_REQUESTED_AT, type OperationRecord, type StackStatus } from '../../api/v1alpha1/types.ts';
import { REASONS } from '../reasons.ts';
import { bounded, eventOnce, withConditions } from './conditions.ts';
import { AWAIT, type CallFailure, type PlanInput, type Step, after, idle } from './step.ts';

/**
 * The Step after a provider call failed. `step` is the Step that was being executed (its status, with
 * the operation record, may already be written); for a failed read it is the Step planned without
 * the provider's view.
 */
export function planCallFailure(input: PlanInput, step: Step, failure: CallFailure): Step {
  const stack = input.stack;
  const nowIso = new Date(input.now).toISOString();
  const poll = 'error' in input.provider ? 30_000 : input.provider.pollIntervalMs;
  const message = bounded(failure.message.replace(/[.\s]+$/, ''));
  const action = step.action.type;
  const base: StackStatus = { ...step.status, operation: recordAfterFailure(input, step, failure, nowIso), lastError: message };
  const progressing = (reason: (typeof REASONS)[keyof typeof REASONS], text: string) => withConditions(base, stack, 'progressing', reason, text, nowIso);

  switch (failure.kind) {
    case 'Throttled':
      return idle(progressing(REASONS.Throttled, `the provider is throttling requests: ${message}`), after(Math.max(failure.retryAfterMs ?? 0, 1000)));
    case 'Conflict':
      return idle(progressing(REASONS.WaitingForOperation, `the provider reports a conflicting operation: ${message}`), after(poll));
    case 'NotFound':
      // The stack vanished between the read and the call: look again, at the poll interval so that a
      // provider answering 404 to a mutation forever can never become a hot loop.
      return idle(progressing(REASONS.Progressing, `the provider answered not found: ${message}`), after(poll));
    case 'Unauthorized': {
      const text = `the provider rejected the credentials: ${message}. Fix the credentials Secret or the provider's settings`;
      return idle(withConditions(base, stack, 'stalled', REASONS.Unauthorized, text, nowIso), AWAIT, eventOnce(input.stack.status ?? {}, REASONS.Unauthorized, [], text));
    }
    case 'Invalid':
      if (action === 'cancelUpdate') {
        // The update ended between the read and the cancel ("nothing to cancel"): read again.
        return idle(progressing(REASONS.WaitingForOperation, `the provider refused the cancel: ${message}`), after(poll));
      }
      return invalid(input, step, base, failure, message);
    case 'Transient':
      // The work queue backs off (exponential, capped) from the reconcile's failure.
      return idle(progressing(REASONS.ProviderUnavailable, `provider call failed, retrying: ${message}`), { type: 'backoff', message: `provider call failed: ${message}` });
  }
}

/**
 * A refused call did not land: forget the operation record it created, keep one that existed. A
 * transient failure of a create, update or delete may have landed with its reply lost (a reset or a
 * timeout after the service acted): keep the record, marked sent, so the next reconcile decides from
 * the provider's view and never sends a second, conflicting mutation (docs/stack-controller.md §3.3).
 */
function recordAfterFailure(input: PlanInput, step: Step, failure: CallFailure, nowIso: string): OperationRecord | undefined {
  const recorded = step.status.operation;
  const type = step.action.type;
  // A record written during the read was confirmed by the new read before its call went out: its
  // observed values hold, so recovery needs no clock (record-during-read.ts).
  if (failure.kind === 'Transient' && recorded && (type === 'create' || type === 'update' || type === 'delete')) return { ...recorded, sentAt: nowIso, recordedDuringRead: undefined };
  return input.stack.status?.operation;
}

/** The provider refused the request itself: Stalled, and a refused create / update blocks that desired state. */
function invalid(input: PlanInput, step: Step, base: StackStatus, failure: CallFailure, message: string): Step {
  const action = step.action.type;
  const hash = 'error' in input.desired ? undefined : input.desired.hash;
  const where = failure.field ? ` (${failure.field})` : '';
  const text = `the provider rejected the ${action === 'none' ? 'request' : action}${where}: ${message}`;
  // A refused preview is the same refusal a create / update would meet (docs/plan-approve.md).
  const blocks = action === 'create' || action === 'update' || action === 'preview';
  // An approved provider plan the provider refuses to run (made stale since): a reconcile request makes
  // a new plan (approval.ts, planId), as the spec may be right.
  const call = step.action;
  const stalePlan = (call.type === 'create' || call.type === 'update') && call.providerPlanId !== undefined;
  const advice = stalePlan
    ? `. Set ${ANNOTATION_RECONCILE_REQUESTED_AT} to make a new plan (the approved one can no longer run), or change the spec`
    : `. Fix the spec${blocks ? '' : ` or set ${ANNOTATION_RECONCILE_REQUESTED_AT} to retry`}`;
  const st = withConditions(
    { ...base, ...(blocks && hash ? { blockedHash: hash } : {}) },
    input.stack,
    'stalled',
    REASONS.InvalidSpec,
    `${text}${advice}`,
    new Date(input.now).toISOString(),
  );
  return idle(st, AWAIT, [{ type: 'Warning', reason: REASONS.InvalidSpec, message: text }]);
}

/**
 * The provider's view could not be read: the Step planned without it is replaced by the failure's
 * Step (never acting on a guess), except for finalizer Steps, which need no view.
 */
export function withReadFailure(input: PlanInput, step: Step): Step {
  const failure = input.readFailure;
  if (!failure || step.action.type === 'addFinalizer' || step.action.type === 'removeFinalizer') return step;
  return planCallFailure(input, { ...step, action: { type: 'none' } }, failure);
}
