// Plan, then approve (docs/plan-approve.md): with spec.approval.mode Manual every create or update
// first becomes a plan (the provider's preview, recorded in status.plan) and waits until the annotation
// stackoperator.dev/approve names that plan. A plan is valid only for the generation and desired-state
// hash it was made for, so an approval can never apply something the approver did not see. Resuming an
// operation already recorded is not gated: the record proves the approval (crash between approval and
// apply). Deletion is never gated (deletion protection is that gate).
import { createHash } from 'node:crypto';
import { ANNOTATION_APPROVE, type PlanChange, type StackPlan, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { StackInput, StackPreview, StackView } from '../../providers/types.ts';
import { REASONS } from '../reasons.ts';
import { eventOnce, withConditions } from './conditions.ts';
import { recheckDelay, targetOf } from './rules.ts';
import { AWAIT, type EventSpec, type PlanCtx, type PlanIdentity, type ProviderInfo, type Step, after, idle } from './step.ts';

/** status.plan.changes holds at most this many entries (the rest is counted, and `truncated` set). */
export const MAX_PLAN_CHANGES = 100;

export const isManual = (ctx: PlanCtx): boolean => ctx.stack.spec.approval?.mode === 'Manual';

/**
 * Short and stable: the same generation and desired state always give the same id. `epoch` is the last
 * reconcile request handled: a new one makes a new plan, the way out when the provider refuses to run
 * an approved plan it has since made stale (ROS OBSOLETE, an expired RFS plan). Without one the id is
 * what it always was, so no waiting plan changes its id on an upgrade.
 */
export function planId(generation: number, hash: string, epoch?: string): string {
  return createHash('sha256')
    .update(epoch === undefined ? `${generation}/${hash}` : `${generation}/${hash}/${epoch}`)
    .digest('hex')
    .slice(0, 10);
}

/** The exact command that approves plan `id` of this Stack. */
export function approveCommand(ctx: PlanCtx, id: string): string {
  const ns = ctx.stack.metadata.namespace ? ` -n ${ctx.stack.metadata.namespace}` : '';
  return `kubectl annotate stack ${ctx.stack.metadata.name ?? ''}${ns} ${ANNOTATION_APPROVE}=${id} --overwrite`;
}

/**
 * The gate in front of a new create / update. Returns the Step to take instead (a preview, or the wait
 * for approval), or the status and events to start the operation with when the current plan is approved.
 */
export function approvalGate(
  ctx: PlanCtx,
  provider: ProviderInfo,
  status: StackStatus,
  events: EventSpec[],
  type: 'Create' | 'Update',
  desired: { hash: string; input: StackInput },
  view: StackView | undefined,
): Step | { status: StackStatus; events: EventSpec[] } {
  if (!provider.preview) {
    const message = `spec.approval.mode Manual is not supported on provider type ${provider.type} yet (it has no preview); use Automatic`;
    const st = withConditions(status, ctx.stack, 'stalled', REASONS.InvalidSpec, message, ctx.nowIso);
    return idle(st, after(recheckDelay(ctx, REASONS.InvalidSpec)), eventOnce(ctx.status0, REASONS.InvalidSpec, events, message));
  }
  const id = planId(ctx.gen, desired.hash, status.lastHandledReconcileRequest);
  const approval = ctx.stack.metadata.annotations?.[ANNOTATION_APPROVE];
  const current = status.plan?.id === id && status.plan.operation === type ? status.plan : undefined;
  if (current && approval === id) {
    if (status.lastHandledApproval === id) return { status, events };
    const approved: EventSpec = { type: 'Normal', reason: 'PlanApproved', message: `plan ${id} approved: ${type.toLowerCase()} of generation ${ctx.gen} starts` };
    return { status: { ...status, lastHandledApproval: id }, events: [...events, approved] };
  }
  let st = status;
  let evs = events;
  if (approval !== undefined && approval !== id && approval !== status.lastHandledApproval) {
    // Stale: made for another generation or desired state. Never applied; the current plan is shown.
    evs = [...evs, { type: 'Warning', reason: 'StaleApproval', message: `approval of plan ${approval} ignored: the current plan is ${id}` }];
    st = { ...st, lastHandledApproval: approval };
  }
  const message = `plan ${id} (${type.toLowerCase()}, see status.plan) awaits approval: ${approveCommand(ctx, id)}`;
  st = withConditions(st, ctx.stack, 'awaiting', REASONS.AwaitingApproval, message, ctx.nowIso);
  if (current) return idle(st, AWAIT, evs);
  const plan: PlanIdentity = { id, generation: ctx.gen, hash: desired.hash, createdAt: ctx.nowIso };
  const made: EventSpec = { type: 'Normal', reason: 'PlanCreated', message: `plan ${id} made for the ${type.toLowerCase()} of generation ${ctx.gen}; it awaits approval` };
  // The stack that holds a superseded create plan, and the provider plan the new one replaces.
  const target = type === 'Update' ? view : planHolder(ctx);
  // An approved plan was executed (or is being executed): the provider keeps it, it is not ours to delete.
  const supersedes = status.plan && status.plan.id !== status.lastHandledApproval ? status.plan.providerPlanId : undefined;
  return {
    action: { type: 'preview', operation: type, input: desired.input, ...(target ? { ref: targetOf(ctx, target) } : {}), plan, ...(supersedes ? { supersedes } : {}) },
    status: st,
    events: [...evs, made],
    next: AWAIT,
  };
}

/** An observed stack that only holds the provider plan of its create (never applied), if any. */
export function planHolder(ctx: PlanCtx): StackView | undefined {
  const o = ctx.input.observed;
  return o.kind === 'found' && o.view.planOnly ? o.view : undefined;
}

/** The provider plan an approval executes: the current plan's, when the provider keeps one. */
export function approvedProviderPlan(ctx: PlanCtx, status: StackStatus): string | undefined {
  return isManual(ctx) ? status.plan?.providerPlanId : undefined;
}

/** status.plan from a provider's preview (pure; the executor calls it with the preview's answer). */
export function planRecord(plan: PlanIdentity, operation: 'Create' | 'Update', preview: StackPreview): StackPlan {
  const summary = { add: 0, change: 0, replace: 0, remove: 0 };
  for (const c of preview.changes) summary[c.action === 'Add' ? 'add' : c.action === 'Change' ? 'change' : c.action === 'Replace' ? 'replace' : 'remove']++;
  const changes: PlanChange[] = preview.changes
    .slice(0, MAX_PLAN_CHANGES)
    .map((c) => ({ name: c.name, type: c.type, action: c.action, replacement: c.action === 'Replace' }));
  return {
    ...plan,
    operation,
    summary,
    summaryText: `${summary.add} to add, ${summary.change} to change, ${summary.replace} to replace, ${summary.remove} to remove`,
    changes,
    truncated: preview.changes.length > MAX_PLAN_CHANGES,
    ...(preview.providerPlanId ? { providerPlanId: preview.providerPlanId } : {}),
  };
}
