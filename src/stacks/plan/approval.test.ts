// Planner table tests: plan, then approve (spec.approval.mode Manual, docs/plan-approve.md). Pure: no I/O.
import { describe, expect, it } from 'vitest';
import type { StackPlan, StackStatus } from '../../api/v1alpha1/types.ts';
import { H_NEW, H_OLD, INPUT, REF, absent, appliedOld, cond, found, input, provider, stack, updateOp, view } from './fixtures.test-util.ts';
import { MAX_PLAN_CHANGES, planId, planRecord } from './approval.ts';
import { type PlanInput, type Step, plan, planCallFailure } from './index.ts';

const MANUAL = { approval: { mode: 'Manual' as const } };
const ID = planId(2, H_NEW);
const previewing = { ...provider('heat'), preview: true };
const at = (i: PlanInput): Step => plan({ ...i, provider: 'error' in i.provider ? i.provider : { ...i.provider, preview: true } });
const planOf = (operation: 'Create' | 'Update', id = ID, generation = 2, hash = H_NEW): StackPlan => ({
  id,
  generation,
  hash,
  operation,
  createdAt: '2026-11-22T11:59:00Z',
  summary: { add: 1, change: 0, replace: 0, remove: 0 },
});
const readyOld: StackStatus = {
  ...appliedOld,
  conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-11-22T10:00:00Z' }],
};
const approve = (id: string) => ({ 'stackoperator.dev/approve': id });
const reconciling = (s: Step) => cond(s, 'Reconciling');

describe('plan: Manual approval gates creates and updates', () => {
  it('Manual create: previews, waits with AwaitingApproval naming the plan and the kubectl command, creates nothing', () => {
    const step = at(input(stack({ spec: MANUAL }), absent));
    expect(step.action).toEqual({ type: 'preview', operation: 'Create', input: INPUT, plan: { id: ID, generation: 2, hash: H_NEW, createdAt: '2026-11-22T12:00:00.000Z' } });
    expect(step.next).toEqual({ type: 'await' });
    expect(reconciling(step)).toMatchObject({ status: 'True', reason: 'AwaitingApproval' });
    expect(reconciling(step)?.message).toContain(`kubectl annotate stack web -n ns stackoperator.dev/approve=${ID} --overwrite`);
    expect(cond(step, 'Ready')?.status).toBe('False');
    expect(cond(step, 'Stalled')?.status).toBe('False');
    expect(step.events.map((e) => e.reason)).toEqual(['PlanCreated']);
  });

  it('Manual update: previews against the stack (id guard) and Ready keeps describing the stack as last applied', () => {
    const step = at(input(stack({ spec: MANUAL, status: readyOld }), found(view('Complete'))));
    expect(step.action).toMatchObject({ type: 'preview', operation: 'Update', ref: REF, input: INPUT });
    expect(cond(step, 'Ready')?.status).toBe('True');
    expect(reconciling(step)).toMatchObject({ status: 'True', reason: 'AwaitingApproval' });
  });

  it('Automatic (the default) never previews', () => {
    const step = at(input(stack({ status: readyOld }), found(view('Complete'))));
    expect(step.action.type).toBe('update');
  });

  it('a plan already made and not approved: waits, without another preview or event', () => {
    const step = at(input(stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update') } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(step.next).toEqual({ type: 'await' });
    expect(step.events).toEqual([]);
    expect(reconciling(step)?.reason).toBe('AwaitingApproval');
  });

  it('approval of the current plan applies it, once: the operation record is written before the call', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update') }, annotations: approve(ID) });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action).toMatchObject({ type: 'update', ref: REF, input: INPUT });
    expect(step.status.operation).toMatchObject({ type: 'Update', generation: 2, hash: H_NEW });
    expect(step.status.lastHandledApproval).toBe(ID);
    expect(step.events.map((e) => e.reason)).toEqual(['PlanApproved']);
  });

  it('approval of a create plan creates the stack', () => {
    const step = at(input(stack({ spec: MANUAL, status: { plan: planOf('Create') }, annotations: approve(ID) }), absent));
    expect(step.action).toMatchObject({ type: 'create', input: INPUT });
  });

  it('a stale approval (another generation or desired state) is ignored with an event, and a new plan is made', () => {
    const old = planId(1, H_OLD);
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update', old, 1, H_OLD) }, annotations: approve(old) });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action).toMatchObject({ type: 'preview', operation: 'Update', plan: { id: ID } });
    expect(step.events.map((e) => e.reason)).toEqual(['StaleApproval', 'PlanCreated']);
    expect(step.events[0]?.type).toBe('Warning');
    expect(step.status.lastHandledApproval).toBe(old);
    // Once the new plan is recorded, the same stale annotation is not reported again.
    const again = at(input(stack({ spec: MANUAL, status: { ...step.status, plan: planOf('Update') }, annotations: approve(old) }), found(view('Complete'))));
    expect(again.action.type).toBe('none');
    expect(again.events).toEqual([]);
  });

  it('a spec change while awaiting approval replaces the plan (reject by changing the spec)', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update', planId(1, H_OLD), 1, H_OLD) } });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action).toMatchObject({ type: 'preview', plan: { id: ID, generation: 2, hash: H_NEW } });
    expect(planId(1, H_OLD)).not.toBe(ID);
  });

  it('the same generation and desired state give the same short id; another of either gives another', () => {
    expect(planId(2, H_NEW)).toBe(ID);
    expect(ID).toMatch(/^[0-9a-f]{10}$/);
    expect(planId(3, H_NEW)).not.toBe(ID);
    expect(planId(2, H_OLD)).not.toBe(ID);
  });

  it('crash between approval and apply: the recorded operation is resumed with its token, never gated or sent twice', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 'tok-1', startedAt: '2026-11-22T11:59:59Z' };
    const s = stack({ spec: MANUAL, status: { plan: planOf('Create'), lastHandledApproval: ID, operation: op }, annotations: approve(ID) });
    const resumed = at(input(s, absent));
    expect(resumed.action).toEqual({ type: 'create', token: 'tok-1', input: INPUT });
    // An approved update recorded but never landed is resent with its own token, too.
    const upd = updateOp(H_NEW, { issuedAt: undefined, generation: 2, token: 'tok-2', observedUpdatedAt: '2026-11-22T11:00:00Z' });
    const u = at(input(stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update'), lastHandledApproval: ID, operation: upd } }), found(view('Complete'))));
    expect(u.action).toMatchObject({ type: 'update', token: 'tok-2' });
  });

  it('a retry of an approved plan after a failure needs no second approval', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update'), lastHandledApproval: ID, failures: 1 }, annotations: approve(ID) });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action.type).toBe('update');
    expect(step.events).toEqual([]);
  });

  it('a provider without preview: Stalled InvalidSpec, nothing is created', () => {
    const step = plan({ ...input(stack({ spec: MANUAL }), absent), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(step, 'Stalled')?.message).toContain('spec.approval.mode Manual is not supported on provider type ros');
  });

  it('a preview the provider refuses blocks that desired state until the spec changes (no preview loop)', async () => {
    const { planCallFailure } = await import('./index.ts');
    const i = { ...input(stack({ spec: MANUAL }), absent), provider: previewing };
    const failed = planCallFailure(i, plan(i), { kind: 'Invalid', message: 'bad template' });
    expect(failed.status.blockedHash).toBe(H_NEW);
    const after = plan({ ...i, stack: stack({ spec: MANUAL, status: failed.status }) });
    expect(after.action.type).toBe('none');
  });
});

describe('plan: what approval does not gate', () => {
  it('suspend: no preview and no apply, even with an approval', () => {
    const s = stack({ spec: { ...MANUAL, suspend: true }, status: { ...readyOld, plan: planOf('Update') }, annotations: approve(ID) });
    const step = at(input(s, { kind: 'unknown' }));
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Ready')?.reason).toBe('Suspended');
  });

  it('deletion while awaiting approval deletes (deletion protection is that gate)', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update') }, deleting: true });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action).toMatchObject({ type: 'delete', ref: REF });
  });

  it('a cancel request while awaiting approval has nothing to cancel; the plan still waits', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: planOf('Update') }, annotations: { 'stackoperator.dev/cancel-update': 'c1' } });
    const step = at(input(s, found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(step.events.map((e) => e.reason)).toEqual(['NothingToCancel']);
    expect(reconciling(step)?.reason).toBe('AwaitingApproval');
  });

  it('a spec change during an approved update cancels it (updatePolicy) and the newest spec gets its own plan', () => {
    const running = { ...readyOld, plan: planOf('Update', planId(1, H_OLD), 1, H_OLD), operation: updateOp(H_OLD) };
    const cancel = at(input(stack({ spec: MANUAL, status: running }), found(view('InProgress'))));
    expect(cancel.action.type).toBe('cancelUpdate');
    const cancelled = { ...running, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged', cancelIssuedAt: '2026-11-22T11:58:00Z' }) };
    const settled = at(input(stack({ spec: MANUAL, status: cancelled }), found(view('RolledBack', 'rollback'))));
    expect(settled.next).toEqual({ type: 'replan' });
    const next = at(input(stack({ spec: MANUAL, status: settled.status }), found(view('RolledBack', 'rollback'))));
    expect(next.action).toMatchObject({ type: 'preview', operation: 'Update', plan: { id: ID } });
  });
});

describe('planRecord', () => {
  it('summarizes the preview and keeps at most 100 changes, flagging the rest', () => {
    const changes = [
      { name: 'a', type: 'T', action: 'Add' as const },
      { name: 'b', type: 'T', action: 'Replace' as const },
      { name: 'c', type: 'T', action: 'Remove' as const },
      ...Array.from({ length: MAX_PLAN_CHANGES }, (_, i) => ({ name: `u${i}`, type: 'T', action: 'Change' as const })),
    ];
    const rec = planRecord({ id: ID, generation: 2, hash: H_NEW, createdAt: 'now' }, 'Update', { changes, providerPlanId: 'cs-1' });
    expect(rec.summary).toEqual({ add: 1, change: 100, replace: 1, remove: 1 });
    expect(rec.summaryText).toBe('1 to add, 100 to change, 1 to replace, 1 to remove');
    expect(rec.changes).toHaveLength(MAX_PLAN_CHANGES);
    expect(rec.changes?.[1]).toEqual({ name: 'b', type: 'T', action: 'Replace', replacement: true });
    expect(rec.truncated).toBe(true);
    expect(rec.providerPlanId).toBe('cs-1');
  });
});

describe('plan: provider plans (ROS change sets, RFS execution plans)', () => {
  const withPlan = (p: StackPlan, providerPlanId: string): StackPlan => ({ ...p, providerPlanId });
  const ros = { ...provider('ros'), preview: true };
  const holder = view('Complete', 'create', { rawStatus: 'REVIEW_IN_PROGRESS', planOnly: true, updatedAt: '' });

  it('approval of the current plan executes that provider plan, and records it for a resume', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update'), 'cs-1') }, annotations: approve(ID) });
    const step = plan({ ...input(s, found(view('Complete'))), provider: ros });
    expect(step.action).toMatchObject({ type: 'update', ref: REF, input: INPUT, providerPlanId: 'cs-1' });
    expect(step.status.operation?.providerPlanId).toBe('cs-1');
  });

  it('an approved create executes the plan held by the plan-only stack; the protection flag is mirrored afterwards', () => {
    const s = stack({ spec: { ...MANUAL, deletionProtection: true }, status: { plan: withPlan(planOf('Create'), 'cs-c') }, annotations: approve(ID) });
    const step = plan({ ...input(s, found(holder)), provider: ros });
    expect(step.action).toMatchObject({ type: 'create', input: INPUT, providerPlanId: 'cs-c' });
    expect(step.afterCall?.mirroredDeletionProtection).toBeUndefined();
    expect(step.status.operation).toMatchObject({ type: 'Create', providerPlanId: 'cs-c' });
  });

  it('a plan-only stack is not created yet: an unapproved create plan waits (never Ready, never an update plan)', () => {
    const s = stack({ spec: MANUAL, status: { plan: withPlan(planOf('Create'), 'cs-c') } });
    const step = plan({ ...input(s, found(holder)), provider: ros });
    expect(step.action.type).toBe('none');
    expect(reconciling(step)?.reason).toBe('AwaitingApproval');
    expect(cond(step, 'Ready')?.status).toBe('False');
  });

  it('stale approval: a new preview deletes the superseded provider plan (and replaces the plan-only stack of a create)', () => {
    const old = planId(1, H_OLD);
    const upd = stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update', old, 1, H_OLD), 'cs-old') }, annotations: approve(old) });
    const u = plan({ ...input(upd, found(view('Complete'))), provider: ros });
    expect(u.action).toMatchObject({ type: 'preview', operation: 'Update', ref: REF, supersedes: 'cs-old', plan: { id: ID } });
    expect(u.events.map((e) => e.reason)).toEqual(['StaleApproval', 'PlanCreated']);
    const crt = stack({ spec: MANUAL, status: { plan: withPlan(planOf('Create', old, 1, H_OLD), 'cs-old') }, annotations: approve(old) });
    const c = plan({ ...input(crt, found(holder)), provider: ros });
    expect(c.action).toMatchObject({ type: 'preview', operation: 'Create', ref: REF, supersedes: 'cs-old' });
  });

  it('an executed plan is never deleted as superseded (the provider keeps it)', () => {
    const old = planId(1, H_OLD);
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update', old, 1, H_OLD), 'cs-done'), lastHandledApproval: old } });
    const step = plan({ ...input(s, found(view('Complete'))), provider: ros });
    expect(step.action.type).toBe('preview');
    expect(step.action).not.toHaveProperty('supersedes');
  });

  it('crash between approval and apply: the same provider plan is executed with the same token, once', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 'tok-1', startedAt: '2026-11-22T11:59:59Z', providerPlanId: 'cs-c' };
    const s = stack({ spec: MANUAL, status: { plan: withPlan(planOf('Create'), 'cs-c'), lastHandledApproval: ID, operation: op }, annotations: approve(ID) });
    const resumed = plan({ ...input(s, found(holder)), provider: ros });
    expect(resumed.action).toEqual({ type: 'create', token: 'tok-1', input: INPUT, providerPlanId: 'cs-c' });
    expect(resumed.events.map((e) => e.reason)).not.toContain('PlanApproved');
    // An approved update recorded but never landed: the same change set again, with the same token.
    const upd = updateOp(H_NEW, { issuedAt: undefined, generation: 2, token: 'tok-2', observedUpdatedAt: '2026-11-22T11:00:00Z', providerPlanId: 'cs-u' });
    const u = plan({ ...input(stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update'), 'cs-u'), lastHandledApproval: ID, operation: upd } }), found(view('Complete'))), provider: ros });
    expect(u.action).toEqual({ type: 'update', token: 'tok-2', ref: REF, input: INPUT, providerPlanId: 'cs-u' });
    // The call landed (the stack left the plan-only state): the create is followed, never sent again.
    const landed = plan({ ...input(s, found(view('InProgress', 'create'))), provider: ros });
    expect(landed.action.type).toBe('none');
  });

  it('a retry after a failed execution applies the approved desired state directly (an executed plan cannot run again)', () => {
    const s = stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update'), 'cs-1'), lastHandledApproval: ID, failures: 1 }, annotations: approve(ID) });
    const step = plan({ ...input(s, found(view('Complete'))), provider: ros });
    expect(step.action).toMatchObject({ type: 'update', ref: REF, input: INPUT });
    expect(step.action).not.toHaveProperty('providerPlanId');
    expect(step.status.operation?.providerPlanId).toBeUndefined();
  });

  it('an approved provider plan refused at execution (made stale outside Kubernetes): blocked, and reconcile-requested-at makes a new plan', () => {
    const approved = stack({ spec: MANUAL, status: { ...readyOld, plan: withPlan(planOf('Update'), 'cs-1') }, annotations: approve(ID) });
    const i = { ...input(approved, found(view('Complete'))), provider: ros };
    const run = plan(i);
    expect(run.action).toMatchObject({ type: 'update', providerPlanId: 'cs-1' });
    const refused = planCallFailure(i, run, { kind: 'Invalid', message: 'The ChangeSet (cs-1) is OBSOLETE' });
    expect(cond(refused, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cond(refused, 'Stalled')?.message).toContain('Set stackoperator.dev/reconcile-requested-at to make a new plan');
    // Nothing changes: no loop of refused executions.
    const again = plan({ ...i, stack: stack({ spec: MANUAL, status: refused.status, annotations: approve(ID) }) });
    expect(again.action.type).toBe('none');
    // A reconcile request: a new plan (a new id) is made and waits for its own approval.
    const req = { ...approve(ID), 'stackoperator.dev/reconcile-requested-at': 'r1' };
    const fresh = plan({ ...i, stack: stack({ spec: MANUAL, status: refused.status, annotations: req }) });
    expect(fresh.action).toMatchObject({ type: 'preview', operation: 'Update', plan: { id: planId(2, H_NEW, 'r1') } });
    expect(planId(2, H_NEW, 'r1')).not.toBe(ID);
    expect(reconciling(fresh)?.reason).toBe('AwaitingApproval');
  });

  it('deletion while a create plan waits deletes the plan-only stack', () => {
    const s = stack({ spec: MANUAL, status: { plan: withPlan(planOf('Create'), 'cs-c') }, deleting: true });
    const step = plan({ ...input(s, found(holder)), provider: ros });
    expect(step.action).toMatchObject({ type: 'delete', ref: REF });
  });
});
