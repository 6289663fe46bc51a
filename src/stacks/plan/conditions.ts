// The condition policy: the three kstatus conditions (Ready, Reconciling, Stalled), set consistently
// from one verdict, with the planner's clock and bounded messages (docs/stack-controller.md §3.7).
import type { Condition, Stack, StackStatus } from '../../api/v1alpha1/types.ts';
import { truncate } from '../../lib/text.ts';
import { setCondition as setRuntimeCondition } from '../../runtime/conditions.ts';
import type { Reason } from '../reasons.ts';
import type { EventSpec } from './step.ts';

/** Condition messages and status texts are bounded, so a huge provider message cannot bloat the object. */
export const MESSAGE_LIMIT = 1024;

export function bounded(message: string, limit = MESSAGE_LIMIT): string {
  return truncate(message, limit);
}

/**
 * Sets one condition through the runtime's helper (lastTransitionTime moves only when the status
 * flips), with the planner's clock and a bounded message.
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
    { type, status, reason, message: bounded(message), observedGeneration: generation, lastTransitionTime: nowIso },
    Date.parse(nowIso),
  );
}

/**
 * ready: Ready=True. progressing / failing: Reconciling=True (failing: an operation failed and is
 * retried by itself, so not Stalled). stalled: Stalled=True, waits for a change. suspended: Ready keeps
 * its value (docs/stack-controller.md §3.10). awaiting: Reconciling=True, Ready keeps True if it was
 * (docs/plan-approve.md).
 */
export type Health = 'ready' | 'progressing' | 'stalled' | 'suspended' | 'failing' | 'awaiting';

const TRUTH: Record<Exclude<Health, 'suspended' | 'awaiting'>, [Condition['status'], Condition['status'], Condition['status']]> = {
  ready: ['True', 'False', 'False'],
  progressing: ['False', 'True', 'False'],
  failing: ['False', 'True', 'False'],
  stalled: ['False', 'False', 'True'],
};

/** The three kstatus conditions, consistent with each other, from one verdict. */
export function withConditions(status: StackStatus, stack: Stack, health: Health, reason: Reason, message: string, nowIso: string): StackStatus {
  const gen = stack.metadata.generation ?? 0;
  let c = status.conditions;
  const readyBefore = c?.find((x) => x.type === 'Ready')?.status;
  // awaiting (a plan waits for approval): Ready keeps describing the stack as last applied, so a Ready
  // stack with an unapproved update stays Ready; Reconciling=True keeps kstatus reading it as in progress.
  const [ready, reconciling, stalled] =
    health === 'suspended'
      ? [readyBefore ?? 'Unknown', 'False' as const, 'False' as const]
      : health === 'awaiting'
        ? [readyBefore === 'True' ? ('True' as const) : ('False' as const), 'True' as const, 'False' as const]
        : TRUTH[health];
  c = setCondition(c, 'Ready', ready, reason, message, gen, nowIso);
  c = setCondition(c, 'Reconciling', reconciling, reason, message, gen, nowIso);
  c = setCondition(c, 'Stalled', stalled, reason, message, gen, nowIso);
  return { ...status, conditions: c, observedGeneration: gen };
}

/** A Warning event only when the Stalled reason is new, so a stalled Stack does not spam events. */
export function eventOnce(prev: StackStatus, reason: Reason, events: EventSpec[], message?: string): EventSpec[] {
  const was = prev.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === reason);
  if (was) return events;
  return [...events, { type: 'Warning', reason, message: message ?? reason }];
}

/** The Stalled condition currently true, if any. */
export function stalledCondition(status: StackStatus): Condition | undefined {
  return status.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
}
