// Table-driven tests of the pure planner: each provider phase against each spec situation (new,
// unchanged, changed, changed during an update, deleting, protected, suspended, cancelled). No I/O.
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_ADOPT,
  ANNOTATION_CANCEL_UPDATE,
  ANNOTATION_RECONCILE_REQUESTED_AT,
  FINALIZER,
  type Stack,
  type StackStatus,
} from '../api/v1alpha1/types.ts';
import type { ProviderCapabilities, ProviderType, StackInput, StackPhase, StackOperation, StackView } from '../providers/types.ts';
import { operationToken } from './desired.ts';
import { type Observed, type PlanInput, type ProviderInfo, type Step, plan, planCallFailure } from './plan.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const UID = 'uid-1';
const H_OLD = 'hash-old';
const H_NEW = 'hash-new';

const CAPS: Record<ProviderType, ProviderCapabilities> = {
  heat: { cancelModes: ['Rollback', 'NoRollback'], retainOnDelete: false, nativeDeletionProtection: false, tags: true, idempotencyTokens: false },
  rfs: { cancelModes: [], retainOnDelete: true, nativeDeletionProtection: true, tags: true, idempotencyTokens: true },
  ros: { cancelModes: ['Rollback', 'NoRollback'], retainOnDelete: true, nativeDeletionProtection: true, tags: true, idempotencyTokens: true },
  cloudfoundry: { cancelModes: ['Rollback'], retainOnDelete: false, nativeDeletionProtection: false, tags: true, idempotencyTokens: false },
};
const TYPES: ProviderType[] = ['heat', 'rfs', 'ros', 'cloudfoundry'];

function provider(type: ProviderType = 'heat'): ProviderInfo {
  return { type, capabilities: CAPS[type], pollIntervalMs: 5000, resyncIntervalMs: 600_000 };
}

function stack(opts: {
  spec?: Partial<Stack['spec']>;
  status?: StackStatus;
  annotations?: Record<string, string>;
  deleting?: boolean;
  finalizer?: boolean;
  generation?: number;
} = {}): Stack {
  return {
    apiVersion: 'stackoperator.dev/v1alpha1',
    kind: 'Stack',
    metadata: {
      name: 'web',
      namespace: 'ns',
      uid: UID,
      generation: opts.generation ?? 2,
      finalizers: opts.finalizer === false ? [] : [FINALIZER],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.deleting ? { deletionTimestamp: '2026-11-22T11:59:00Z' } : {}),
    },
    spec: { providerRef: { name: 'p' }, template: { inline: {} }, ...opts.spec },
    ...(opts.status ? { status: opts.status } : {}),
  };
}

function view(phase: StackPhase, operation: StackOperation = 'update', extra: Partial<StackView> = {}): StackView {
  const raw =
    phase === 'InProgress' ? `${operation.toUpperCase()}_IN_PROGRESS` : phase === 'Complete' ? `${operation.toUpperCase()}_COMPLETE` : `${operation.toUpperCase()}_${phase.toUpperCase()}`;
  return { id: 'id-1', name: 'web', phase, operation, rawStatus: raw, ownerUid: UID, updatedAt: '2026-11-22T11:00:00Z', ...extra };
}

const found = (v: StackView): Observed => ({ kind: 'found', view: v });
const absent: Observed = { kind: 'absent' };

function input(s: Stack, observed: Observed, extra: Partial<PlanInput> = {}): PlanInput {
  const stackInput = {} as StackInput;
  return { stack: s, provider: provider(), desired: { hash: H_NEW, input: stackInput }, observed, now: NOW, jitter: 0.5, ...extra };
}

const cond = (step: Step, type: string) => step.status.conditions?.find((c) => c.type === type);

function expectHealth(step: Step, health: 'ready' | 'progressing' | 'stalled', reason?: string) {
  const ready = cond(step, 'Ready');
  const reconciling = cond(step, 'Reconciling');
  const stalled = cond(step, 'Stalled');
  expect(ready?.status).toBe(health === 'ready' ? 'True' : 'False');
  expect(reconciling?.status).toBe(health === 'progressing' ? 'True' : 'False');
  expect(stalled?.status).toBe(health === 'stalled' ? 'True' : 'False');
  if (reason) expect(ready?.reason).toBe(reason);
  for (const c of [ready, reconciling, stalled]) expect(c?.observedGeneration).toBe(2);
}

const applied: StackStatus = { stackId: 'id-1', lastAppliedHash: H_NEW, lastAppliedGeneration: 2 };
const appliedOld: StackStatus = { stackId: 'id-1', lastAppliedHash: H_OLD, lastAppliedGeneration: 1 };
const updateOp = (hash: string, extra: Partial<NonNullable<StackStatus['operation']>> = {}): StackStatus['operation'] => ({
  type: 'Update',
  generation: 1,
  hash,
  token: 'tok',
  startedAt: '2026-11-22T11:55:00Z',
  issuedAt: '2026-11-22T11:55:00Z',
  ...extra,
});

describe('plan: finalizer and suspend', () => {
  it('adds the finalizer before anything else, even with a stack present', () => {
    const step = plan(input(stack({ finalizer: false }), found(view('Complete'))));
    expect(step.action).toEqual({ type: 'addFinalizer' });
    expect(step.requeueAfterMs).toBe(0);
  });

  it.each(TYPES)('%s: suspended makes no provider call and keeps Ready with reason Suspended', (t) => {
    const prev = plan({ ...input(stack({ status: applied }), found(view('Complete'))), provider: provider(t), desired: { hash: H_NEW, input: {} as StackInput } });
    const step = plan({ ...input(stack({ spec: { suspend: true }, status: prev.status }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Ready')?.status).toBe('True');
    expect(cond(step, 'Ready')?.reason).toBe('Suspended');
    expect(step.requeueAfterMs).toBeUndefined();
  });

  it('suspended without a previous Ready leaves it Unknown', () => {
    const step = plan(input(stack({ spec: { suspend: true } }), absent));
    expect(cond(step, 'Ready')?.status).toBe('Unknown');
  });

  it('without the finalizer and deleting: nothing to do', () => {
    const step = plan(input(stack({ finalizer: false, deleting: true }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
  });
});

describe('plan: new Stack', () => {
  it.each(TYPES)('%s: absent stack is created with a token derived from uid/generation', (t) => {
    const step = plan({ ...input(stack(), absent), provider: provider(t) });
    expect(step.action).toEqual({ type: 'create', token: operationToken(UID, 2, 'create', 0) });
    // The operation record is in the status written BEFORE the call.
    expect(step.status.operation).toMatchObject({ type: 'Create', generation: 2, hash: H_NEW });
    expect(step.status.operation?.issuedAt).toBeUndefined();
    expect(step.afterCall?.operation?.issuedAt).toBeDefined();
    expectHealth(step, 'progressing', 'Creating');
    expect(step.requeueAfterMs).toBe(5000);
    expect(step.events[0]?.reason).toBe('CreateStarted');
  });

  it('resumes a recorded create that never landed with the same token', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 'tok-create', startedAt: '2026-11-22T11:59:00Z' };
    const step = plan(input(stack({ status: { operation: op } }), absent));
    expect(step.action).toEqual({ type: 'create', token: 'tok-create' });
  });

  it('waits for a just-issued create to become visible', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:59:50Z', issuedAt: '2026-11-22T11:59:50Z' };
    const step = plan(input(stack({ status: { operation: op } }), absent));
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(5000);
  });

  it('finds its own stack after a crash between create and recording the id', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:59:00Z' };
    const step = plan(input(stack({ status: { operation: op } }), found(view('InProgress', 'create'))));
    expect(step.action.type).toBe('none');
    expect(step.status.stackId).toBe('id-1');
    expectHealth(step, 'progressing', 'Creating');
  });

  it('reports an unowned same-name stack as StackNameConflict', () => {
    const step = plan(input(stack(), found(view('Complete', 'create', { ownerUid: undefined }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Ready')?.message).toContain(ANNOTATION_ADOPT);
    expect(step.events.map((e) => e.reason)).toContain('StackNameConflict');
  });

  it('never touches a same-name stack owned by another Stack, even with adopt', () => {
    const step = plan(input(stack({ annotations: { [ANNOTATION_ADOPT]: 'true' } }), found(view('Complete', 'create', { ownerUid: 'other' }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'StackNameConflict');
    expect(cond(step, 'Ready')?.message).toContain('uid other');
  });

  it('adopts an unowned stack with the adopt annotation, then updates it to the spec', () => {
    const step = plan(input(stack({ annotations: { [ANNOTATION_ADOPT]: 'true' } }), found(view('Complete', 'create', { ownerUid: undefined }))));
    expect(step.status.stackId).toBe('id-1');
    expect(step.action.type).toBe('update');
    expect(step.events.map((e) => e.reason)).toContain('Adopted');
  });

  it('recreates a stack that vanished from the provider, with a warning', () => {
    const step = plan(input(stack({ status: applied }), absent));
    expect(step.action.type).toBe('create');
    expect(step.status.stackId).toBeUndefined();
    expect(step.events[0]).toMatchObject({ type: 'Warning', reason: 'StackMissing' });
  });

  it('waits without acting when the provider read failed', () => {
    const step = plan(input(stack({ status: applied }), { kind: 'unknown' }));
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(5000);
  });
});

describe('plan: unchanged spec at rest', () => {
  it.each(TYPES)('%s: complete and applied is Ready, resynced slowly with jitter, no mutation', (t) => {
    const step = plan({ ...input(stack({ status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: CAPS[t].nativeDeletionProtection ? false : undefined }))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.requeueAfterMs).toBe(600_000);
  });

  it('jitters the resync interval within +-10%', () => {
    const lo = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0 });
    const hi = plan({ ...input(stack({ status: applied }), found(view('Complete'))), jitter: 0.999999 });
    expect(lo.requeueAfterMs).toBe(540_000);
    expect(hi.requeueAfterMs).toBeCloseTo(660_000, -1);
  });

  it('is a fixed point: planning its own status again changes nothing', () => {
    const first = plan(input(stack({ status: applied }), found(view('Complete'))));
    const again = plan(input(stack({ status: first.status }), found(view('Complete'))));
    expect(again.status).toEqual(first.status);
    expect(again.events).toEqual([]);
  });

  it('copies non-sensitive outputs to status and asks for the outputs objects to be written when they change', () => {
    const v = view('Complete', 'update', { outputs: [{ key: 'url', value: 'http://x' }, { key: 'n', value: 3 }, { key: 'pw', value: 's3cret', sensitive: true }] });
    const step = plan(input(stack({ status: applied }), found(v)));
    expect(step.status.outputs).toEqual({ url: 'http://x', n: '3' });
    expect(step.writeOutputs).toBe(true);
    const again = plan(input(stack({ status: step.status }), found(v)));
    expect(again.writeOutputs).toBe(false);
  });

  it('reports a stack that failed outside the operator as Stalled ProviderStackFailed', () => {
    const step = plan(input(stack({ status: applied }), found(view('Failed', 'update', { reason: 'boom' }))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'ProviderStackFailed');
    expect(cond(step, 'Stalled')?.message).toContain('boom');
  });

  it.each(['RolledBack', 'RollbackFailed'] as StackPhase[])('at rest in %s without our operation is Stalled', (phase) => {
    const step = plan(input(stack({ status: applied }), found(view(phase, 'rollback'))));
    expectHealth(step, 'stalled', 'ProviderStackFailed');
  });
});

describe('plan: changed spec', () => {
  it.each(TYPES)('%s: a new hash starts an update with an operation record first', (t) => {
    const step = plan({ ...input(stack({ status: appliedOld }), found(view('Complete'))), provider: provider(t) });
    expect(step.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 0) });
    expect(step.status.operation).toMatchObject({ type: 'Update', generation: 2, hash: H_NEW, attempt: 0 });
    expectHealth(step, 'progressing', 'Updating');
  });

  it('an update that completed records lastApplied and becomes Ready', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ status: st }), found(view('Complete'))));
    expect(step.status.lastAppliedHash).toBe(H_NEW);
    expect(step.status.lastAppliedGeneration).toBe(2);
    expect(step.status.operation).toBeUndefined();
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.writeOutputs).toBe(true);
    expect(step.events.map((e) => e.reason)).toContain('Updated');
  });

  it('a create that completed becomes Ready', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:50:00Z', issuedAt: '2026-11-22T11:50:00Z' };
    const step = plan(input(stack({ status: { stackId: 'id-1', operation: op } }), found(view('Complete', 'create'))));
    expectHealth(step, 'ready', 'Succeeded');
    expect(step.events.map((e) => e.reason)).toContain('Created');
  });

  it('an applied older generation moves straight on to the newest spec', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD) };
    const step = plan(input(stack({ status: st }), found(view('Complete'))));
    expect(step.status.lastAppliedHash).toBe(H_OLD);
    expect(step.requeueAfterMs).toBe(0);
    expectHealth(step, 'progressing');
  });

  it.each(['Failed', 'RolledBack', 'RollbackFailed'] as StackPhase[])('an update that ended %s is retried after a backoff', (phase) => {
    const st = { ...appliedOld, operation: updateOp(H_NEW) };
    const step = plan(input(stack({ status: st }), found(view(phase, 'update', { reason: 'resource failed' }))));
    expect(step.action.type).toBe('none');
    expect(step.status.failures).toBe(1);
    expect(step.requeueAfterMs).toBe(30_000);
    expect(step.status.nextRetryAt).toBe(new Date(NOW + 30_000).toISOString());
    expectHealth(step, 'progressing', 'UpdateFailed');
    expect(step.events[0]).toMatchObject({ type: 'Warning', reason: 'UpdateFailed' });
  });

  it('waits for the retry time, then retries with a new token', () => {
    const st: StackStatus = { ...appliedOld, failures: 1, nextRetryAt: new Date(NOW + 10_000).toISOString() };
    const wait = plan(input(stack({ status: st }), found(view('Failed'))));
    expect(wait.action.type).toBe('none');
    expect(wait.requeueAfterMs).toBe(10_000);
    const go = plan({ ...input(stack({ status: st }), found(view('Failed'))), now: NOW + 10_001 });
    expect(go.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 1) });
  });

  it('gives up after maxAttempts with Stalled RetriesExhausted and blocks that desired state', () => {
    const st = { ...appliedOld, failures: 2, operation: updateOp(H_NEW) };
    const step = plan(input(stack({ status: st }), found(view('Failed', 'update', { reason: 'quota' }))));
    expectHealth(step, 'stalled', 'RetriesExhausted');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(cond(step, 'Stalled')?.message).toContain(ANNOTATION_RECONCILE_REQUESTED_AT);
    const later = plan(input(stack({ status: step.status }), found(view('Failed'))));
    expect(later.action.type).toBe('none');
    expectHealth(later, 'stalled', 'RetriesExhausted');
  });

  it('a create that failed is retried, then stalls', () => {
    const op = { type: 'Create' as const, generation: 2, hash: H_NEW, token: 't', startedAt: '2026-11-22T11:50:00Z', issuedAt: '2026-11-22T11:50:00Z' };
    const step = plan(input(stack({ status: { stackId: 'id-1', operation: op } }), found(view('Failed', 'create'))));
    expectHealth(step, 'progressing', 'CreateFailed');
  });

  it('a blocked desired state is applied again after a reconcile request', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: H_NEW, failures: 3 };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_RECONCILE_REQUESTED_AT]: 't1' } }), found(view('Failed'))));
    // A new token: the service must not answer the re-apply as a replay of the cancelled call.
    expect(step.action).toEqual({ type: 'update', token: operationToken(UID, 2, 'update', 0, 't1') });
    expect(operationToken(UID, 2, 'update', 0, 't1')).not.toBe(operationToken(UID, 2, 'update', 0));
    expect(step.status.lastHandledReconcileRequest).toBe('t1');
    expect(step.events.map((e) => e.reason)).toContain('ReconcileRequested');
  });

  it('a handled reconcile request is not handled twice', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: H_NEW, lastHandledReconcileRequest: 't1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_RECONCILE_REQUESTED_AT]: 't1' } }), found(view('Failed'))));
    expect(step.action.type).toBe('none');
  });

  it('a new spec (new hash) is applied even when an older one was blocked', () => {
    const st: StackStatus = { ...appliedOld, blockedHash: 'hash-blocked' };
    expect(plan(input(stack({ status: st }), found(view('RolledBack')))).action.type).toBe('update');
  });

  it('resumes a recorded update that never reached the provider, with the same token', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'update', { updatedAt: '2026-11-22T11:00:00Z' }))));
    expect(step.action).toEqual({ type: 'update', token: 'same' });
  });
});

describe('plan: crash around a recorded update (reliability T1, regression)', () => {
  it('does not re-send an update that landed within the same second as its record (whole-second provider time)', () => {
    // Recorded at 11:59:00.400, accepted at once; Heat shows updated_time 11:59:00 (no fraction).
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00.400Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'update', { updatedAt: '2026-11-22T11:59:00Z' }))));
    expect(step.action.type).toBe('none');
    expect(step.status.lastAppliedHash).toBe(H_NEW);
  });

  it('resumes a recorded update on a stack never updated (no update time, last operation create), not Ready at the old content', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { issuedAt: undefined, startedAt: '2026-11-22T11:59:00Z', token: 'same' }) };
    const step = plan(input(stack({ status: st }), found(view('Complete', 'create', { updatedAt: undefined, createdAt: '2026-11-22T11:00:00Z' }))));
    expect(step.action).toEqual({ type: 'update', token: 'same' });
    expect(step.status.lastAppliedHash).toBe(H_OLD);
  });
});

describe('plan: spec changed during an update', () => {
  const running = { ...appliedOld, operation: updateOp(H_OLD) };

  it.each(['heat', 'ros', 'cloudfoundry'] as ProviderType[])('%s: CancelAndUpdate cancels the running update', (t) => {
    const step = plan({ ...input(stack({ status: running }), found(view('InProgress', 'update'))), provider: provider(t) });
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation).toMatchObject({ cancelRequested: true, cancelReason: 'SpecChanged' });
    expectHealth(step, 'progressing', 'Cancelling');
  });

  it('rfs (no cancel) waits for the operation to end and says so', () => {
    const step = plan({ ...input(stack({ status: running }), found(view('InProgress', 'update'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'WaitingForOperation');
    expect(cond(step, 'Reconciling')?.message).toContain('cannot cancel');
  });

  it('WaitAndUpdate lets the running update finish', () => {
    const step = plan(input(stack({ status: running, spec: { updatePolicy: { onSpecChangeDuringUpdate: 'WaitAndUpdate' } } }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Reconciling')?.message).toContain('WaitAndUpdate');
  });

  it('uses cancelMode NoRollback when asked', () => {
    const step = plan(input(stack({ status: running, spec: { updatePolicy: { cancelMode: 'NoRollback' } } }), found(view('InProgress'))));
    expect(step.action).toMatchObject({ type: 'cancelUpdate', mode: 'NoRollback' });
  });

  it('falls back to the provider\'s only cancel mode', () => {
    const step = plan({ ...input(stack({ status: running, spec: { updatePolicy: { cancelMode: 'NoRollback' } } }), found(view('InProgress'))), provider: provider('cloudfoundry') });
    expect(step.action).toMatchObject({ type: 'cancelUpdate', mode: 'Rollback' });
  });

  it('does not cancel twice while the cancel settles', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged', cancelIssuedAt: '2026-11-22T11:59:00Z' }) };
    const step = plan(input(stack({ status: st }), found(view('InProgress', 'rollback'))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'Cancelling');
    // Heat reads UPDATE_IN_PROGRESS for a moment after an acknowledged cancel: still no second cancel.
    expect(plan(input(stack({ status: st }), found(view('InProgress', 'update')))).action.type).toBe('none');
  });

  it('a cancel recorded but never acknowledged (crash before the call) is sent again with the same token', () => {
    const first = plan(input(stack({ status: running }), found(view('InProgress', 'update'))));
    expect(first.action.type).toBe('cancelUpdate');
    expect(first.afterCall?.operation?.cancelIssuedAt).toBeDefined();
    // Crash: the record (first.status) was written, the call and afterCall were not.
    const again = plan(input(stack({ status: first.status }), found(view('InProgress', 'update'))));
    expect(again.action).toEqual(first.action);
    // Acknowledged: no second cancel.
    const acked = plan(input(stack({ status: { ...first.status, ...first.afterCall } }), found(view('InProgress', 'update'))));
    expect(acked.action.type).toBe('none');
  });

  it('after a superseding cancel settles, the newest spec is applied (not a failure)', () => {
    const st = { ...appliedOld, operation: updateOp(H_OLD, { cancelRequested: true, cancelReason: 'SpecChanged' }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expect(step.status.operation).toBeUndefined();
    expect(step.status.blockedHash).toBeUndefined();
    expect(step.status.failures).toBeUndefined();
    expect(step.requeueAfterMs).toBe(0);
    const next = plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback'))));
    expect(next.action.type).toBe('update');
  });

  it('an update of the current spec in progress just polls', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ status: st }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
    expectHealth(step, 'progressing', 'Updating');
    expect(step.requeueAfterMs).toBe(5000);
  });

  it.each(['create', 'delete', 'rollback'] as StackOperation[])('an in-progress %s of another party is waited for', (operation) => {
    const step = plan(input(stack({ status: appliedOld }), found(view('InProgress', operation))));
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(5000);
  });
});

describe('plan: update timeout', () => {
  it('cancels an update running past timeoutMinutes plus grace, reason UpdateTimedOut', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T10:00:00Z' }) };
    const step = plan(input(stack({ status: st, spec: { timeoutMinutes: 60 } }), found(view('InProgress'))));
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation?.cancelReason).toBe('UpdateTimedOut');
  });

  it('does not cancel within the grace period', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T10:58:00Z' }) };
    expect(plan(input(stack({ status: st, spec: { timeoutMinutes: 60 } }), found(view('InProgress')))).action.type).toBe('none');
  });

  it('after the timeout cancel settles: Stalled UpdateTimedOut, not re-applied', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'UpdateTimedOut' }) };
    const step = plan(input(stack({ status: st }), found(view('RolledBack', 'rollback'))));
    expectHealth(step, 'stalled', 'UpdateTimedOut');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(plan(input(stack({ status: step.status }), found(view('RolledBack', 'rollback')))).action.type).toBe('none');
  });

  it('rfs cannot cancel a timed-out update and keeps waiting', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, startedAt: '2026-11-22T09:00:00Z' }) };
    const step = plan({ ...input(stack({ status: st }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
  });
});

describe('plan: cancel-update annotation', () => {
  const running = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };

  it.each(['heat', 'ros'] as ProviderType[])('%s: a new value cancels the running update and is recorded', (t) => {
    const step = plan({ ...input(stack({ status: running, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))), provider: provider(t) });
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.lastHandledCancelRequest).toBe('c1');
    expect(step.status.operation?.cancelReason).toBe('CancelRequested');
  });

  it('the same value is not handled twice', () => {
    const st = { ...running, lastHandledCancelRequest: 'c1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))));
    expect(step.action.type).toBe('none');
  });

  it('after the requested cancel settles: Stalled UpdateCancelled and that generation is not re-applied', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'CancelRequested' }), lastHandledCancelRequest: 'c1' };
    const step = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('RolledBack', 'rollback'))));
    expectHealth(step, 'stalled', 'UpdateCancelled');
    expect(step.status.blockedHash).toBe(H_NEW);
    expect(step.requeueAfterMs).toBe(600_000);
    // Read *_FAILED "cancelled" before the rollback showed: keep polling to see it.
    const early = plan(input(stack({ status: st, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('Failed', 'update'))));
    expect(early.requeueAfterMs).toBe(5000);
    const again = plan(input(stack({ status: step.status, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('RolledBack', 'rollback'))));
    expect(again.action.type).toBe('none');
  });

  it('a cancel request with no update running is recorded as handled with an event', () => {
    const step = plan(input(stack({ status: applied, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c2' } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(step.status.lastHandledCancelRequest).toBe('c2');
    expect(step.events.map((e) => e.reason)).toContain('NothingToCancel');
  });

  it('rfs: a cancel request is recorded and the condition says it waits', () => {
    const step = plan({ ...input(stack({ status: running, annotations: { [ANNOTATION_CANCEL_UPDATE]: 'c1' } }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expect(step.status.lastHandledCancelRequest).toBe('c1');
    expect(step.events.map((e) => e.reason)).toContain('CancelUnsupported');
  });
});

describe('plan: deletion', () => {
  it.each(TYPES)('%s: Delete policy deletes a settled stack with the id guard and a token', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), provider: provider(t) });
    expect(step.action).toEqual({ type: 'delete', retainResources: false, token: operationToken(UID, 2, 'delete', 0) });
    expect(step.status.operation?.type).toBe('Delete');
    expectHealth(step, 'progressing', 'Deleting');
  });

  it('polls while the delete runs', () => {
    const st = { ...applied, operation: { type: 'Delete' as const, generation: 2, token: 't', startedAt: '2026-11-22T11:59:00Z', issuedAt: '2026-11-22T11:59:00Z' } };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('InProgress', 'delete'))));
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(5000);
  });

  it.each([['absent', absent], ['DELETE_COMPLETE', found(view('Deleted', 'delete'))]] as [string, Observed][])(
    'releases the finalizer once the stack is %s',
    (_n, obs) => {
      const step = plan(input(stack({ deleting: true, status: applied }), obs));
      expect(step.action).toEqual({ type: 'removeFinalizer' });
    },
  );

  it('DELETE_FAILED keeps the finalizer and retries with backoff, with the reason in the condition', () => {
    const st = { ...applied, operation: { type: 'Delete' as const, generation: 2, token: 't', startedAt: '2026-11-22T11:59:00Z', issuedAt: '2026-11-22T11:59:00Z' } };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('DeleteFailed', 'delete', { reason: 'port in use' }))));
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(30_000);
    expect(cond(step, 'Ready')?.reason).toBe('DeleteFailed');
    expect(cond(step, 'Ready')?.message).toContain('port in use');
    const retry = plan({ ...input(stack({ deleting: true, status: step.status }), found(view('DeleteFailed', 'delete'))), now: NOW + 31_000 });
    expect(retry.action).toMatchObject({ type: 'delete', token: operationToken(UID, 2, 'delete', 1) });
  });

  it('Retain releases the finalizer without any provider call', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { deletionPolicy: 'Retain' } }), { kind: 'unknown' }));
    expect(step.action).toEqual({ type: 'removeFinalizer' });
    expect(step.events[0]?.reason).toBe('Retained');
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: RetainResources deletes the record and keeps the resources', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: false }, spec: { deletionPolicy: 'RetainResources' } }), found(view('Complete', 'update', { deletionProtection: false }))), provider: provider(t) });
    expect(step.action).toMatchObject({ type: 'delete', retainResources: true });
  });

  it.each(['heat', 'cloudfoundry'] as ProviderType[])('%s: RetainResources is Stalled where the provider cannot retain', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied, spec: { deletionPolicy: 'RetainResources' } }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'RetainResourcesUnsupported');
  });

  it('cancels a running update first when the Stack is deleted', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('InProgress'))));
    expect(step.action.type).toBe('cancelUpdate');
    expect(step.status.operation?.cancelReason).toBe('Deleting');
  });

  it('rfs: waits for a running update to end before deleting', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan({ ...input(stack({ deleting: true, status: st }), found(view('InProgress'))), provider: provider('rfs') });
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Reconciling')?.message).toContain('cannot cancel');
  });

  it('deletes after the cancelled update settled', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2, cancelRequested: true, cancelReason: 'Deleting' }) };
    const step = plan(input(stack({ deleting: true, status: st }), found(view('RolledBack', 'rollback'))));
    expect(step.action.type).toBe('delete');
  });

  it('never deletes a same-name stack owned by someone else: releases instead', () => {
    const step = plan(input(stack({ deleting: true, status: {} }), found(view('Complete', 'create', { ownerUid: 'other', id: 'id-9' }))));
    expect(step.action).toEqual({ type: 'removeFinalizer' });
  });

  it('deleting while suspended waits and says how to proceed', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { suspend: true } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
    expect(cond(step, 'Ready')?.reason).toBe('Suspended');
  });
});

describe('plan: deletion protection', () => {
  it.each(TYPES)('%s: a protected Stack deleted anyway keeps its finalizer: Stalled DeletionProtected + Warning', (t) => {
    const step = plan({ ...input(stack({ deleting: true, status: applied, spec: { deletionProtection: true } }), found(view('Complete'))), provider: provider(t) });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'DeletionProtected');
    expect(cond(step, 'Stalled')?.message).toContain('spec.deletionProtection to false');
    expect(step.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'DeletionProtected' })]);
  });

  it('the Warning is not repeated on every reconcile', () => {
    const first = plan(input(stack({ deleting: true, status: applied, spec: { deletionProtection: true } }), found(view('Complete'))));
    const again = plan(input(stack({ deleting: true, status: first.status, spec: { deletionProtection: true } }), found(view('Complete'))));
    expect(again.events).toEqual([]);
  });

  it('protected + Retain releases (Retain unblocks)', () => {
    const step = plan(input(stack({ deleting: true, status: applied, spec: { deletionProtection: true, deletionPolicy: 'Retain' } }), found(view('Complete'))));
    expect(step.action.type).toBe('removeFinalizer');
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: mirrors spec.deletionProtection to the provider flag', (t) => {
    const step = plan({ ...input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: false }))), provider: provider(t) });
    expect(step.action).toMatchObject({ type: 'setDeletionProtection', enabled: true });
    expect(step.afterCall?.mirroredDeletionProtection).toBe(true);
  });

  it.each(['rfs', 'ros'] as ProviderType[])('%s: a create records the protection it set as mirrored, so unprotecting later lifts it', (t) => {
    const step = plan({ ...input(stack({ spec: { deletionProtection: true } }), absent), provider: provider(t) });
    expect(step.afterCall?.mirroredDeletionProtection).toBe(true);
    const lift = plan({
      ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: true } }), found(view('Complete', 'create', { deletionProtection: true }))),
      provider: provider(t),
    });
    expect(lift.action).toMatchObject({ type: 'setDeletionProtection', enabled: false });
  });

  it('heat (no native flag) never calls setDeletionProtection', () => {
    const step = plan(input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete'))));
    expect(step.action.type).toBe('none');
  });

  it('a provider flag set outside Kubernetes is left alone at rest', () => {
    const step = plan({ ...input(stack({ status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expect(step.status.deletionProtection).toBe(true);
  });

  it('a provider flag set outside Kubernetes blocks deletion', () => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: false } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expectHealth(step, 'stalled', 'DeletionProtected');
    expect(cond(step, 'Stalled')?.message).toContain('outside Kubernetes');
  });

  it('a flag we mirrored is lifted when the spec turns protection off on a terminating Stack', () => {
    const step = plan({ ...input(stack({ deleting: true, status: { ...applied, mirroredDeletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('rfs') });
    expect(step.action).toMatchObject({ type: 'setDeletionProtection', enabled: false });
  });

  it('records a mirror that already matches without a call', () => {
    const step = plan({ ...input(stack({ status: applied, spec: { deletionProtection: true } }), found(view('Complete', 'update', { deletionProtection: true }))), provider: provider('ros') });
    expect(step.action.type).toBe('none');
    expect(step.status.mirroredDeletionProtection).toBe(true);
  });
});

describe('plan: resolution problems', () => {
  it('a missing provider is Stalled ProviderNotFound with one Warning', () => {
    const step = plan({ ...input(stack({ status: applied }), { kind: 'unknown' }), provider: { error: { reason: 'ProviderNotFound', message: 'StackProvider p not found' } } });
    expectHealth(step, 'stalled', 'ProviderNotFound');
    expect(step.requeueAfterMs).toBeUndefined();
    expect(step.events[0]?.type).toBe('Warning');
  });

  it('a provider not Ready yet is retried, not Stalled', () => {
    const step = plan({ ...input(stack(), { kind: 'unknown' }), provider: { error: { reason: 'ProviderNotReady', message: 'not ready', transient: true } } });
    expectHealth(step, 'progressing', 'ProviderNotReady');
    expect(step.requeueAfterMs).toBe(30_000);
  });

  it('a missing template ConfigMap is Stalled TemplateNotFound', () => {
    const step = plan({ ...input(stack({ status: applied }), found(view('Complete'))), desired: { error: { reason: 'TemplateNotFound', message: 'ConfigMap tpl not found' } } });
    expectHealth(step, 'stalled', 'TemplateNotFound');
    expect(step.action.type).toBe('none');
  });

  it('deletion proceeds even when the template cannot be resolved', () => {
    const step = plan({ ...input(stack({ deleting: true, status: applied }), found(view('Complete'))), desired: { error: { reason: 'TemplateNotFound', message: 'gone' } } });
    expect(step.action.type).toBe('delete');
  });

  it('a running update is still polled when the template cannot be resolved', () => {
    const st = { ...appliedOld, operation: updateOp(H_NEW, { generation: 2 }) };
    const step = plan({ ...input(stack({ status: st }), found(view('InProgress'))), desired: { error: { reason: 'TemplateNotFound', message: 'gone' } } });
    expect(step.action.type).toBe('none');
    expect(step.requeueAfterMs).toBe(5000);
  });
});

describe('planCallFailure: errors classified once', () => {
  const startUpdate = () => {
    const i = input(stack({ status: appliedOld }), found(view('Complete')));
    return { i, step: plan(i) };
  };

  it('Throttled honours retry-after', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Throttled', message: 'slow down', retryAfterMs: 7000 });
    expect(f.requeueAfterMs).toBe(7000);
    expect(cond(f, 'Ready')?.reason).toBe('Throttled');
    expect(f.status.operation).toBeUndefined();
  });

  it('Invalid is Stalled, names the field and blocks the desired state', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'unknown parameter', field: 'parameters.size' });
    expectHealth(f, 'stalled', 'InvalidSpec');
    expect(cond(f, 'Stalled')?.message).toContain('parameters.size');
    expect(f.status.blockedHash).toBe(H_NEW);
  });

  it('a refused cancel (the update just ended) polls instead of stalling', () => {
    const i = input(stack({ status: { ...appliedOld, operation: updateOp(H_OLD) } }), found(view('InProgress', 'update')));
    const step = plan(i);
    expect(step.action.type).toBe('cancelUpdate');
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'Cancelling update when stack is UPDATE_COMPLETE is not supported' });
    expectHealth(f, 'progressing', 'WaitingForOperation');
    expect(f.requeueAfterMs).toBe(5000);
  });

  it('Unauthorized is Stalled until credentials change', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Unauthorized', message: '401' });
    expectHealth(f, 'stalled', 'Unauthorized');
    expect(f.requeueAfterMs).toBeUndefined();
    expect(f.status.blockedHash).toBeUndefined();
  });

  it('Conflict polls again', () => {
    const { i, step } = startUpdate();
    expect(planCallFailure(i, step, { kind: 'Conflict', message: 'in progress' }).requeueAfterMs).toBe(5000);
  });

  it('Transient leaves the backoff to the work queue', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Transient', message: 'ECONNRESET' });
    expect(f.requeueAfterMs).toBeUndefined();
    expect(cond(f, 'Reconciling')?.status).toBe('True');
  });

  it('after an Invalid create the operation record is dropped and nothing is created again', () => {
    const i = input(stack(), absent);
    const step = plan(i);
    expect(step.action.type).toBe('create');
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'bad template.' });
    expect(f.status.operation).toBeUndefined();
    expect(cond(f, 'Stalled')?.message).not.toContain('..');
    const next = plan(input(stack({ status: f.status }), absent));
    expect(next.action.type).toBe('none');
    expectHealth(next, 'stalled', 'InvalidSpec');
  });

  it('truncates long provider messages', () => {
    const { i, step } = startUpdate();
    const f = planCallFailure(i, step, { kind: 'Invalid', message: 'x'.repeat(5000) });
    expect(cond(f, 'Ready')?.message.length).toBeLessThanOrEqual(1024);
  });
});

describe('plan: conditions', () => {
  it('lastTransitionTime moves only when a status flips', () => {
    const a = plan(input(stack({ status: applied }), found(view('Complete'))));
    const b = plan({ ...input(stack({ status: a.status }), found(view('Complete'))), now: NOW + 60_000 });
    expect(cond(b, 'Ready')?.lastTransitionTime).toBe(cond(a, 'Ready')?.lastTransitionTime);
    const c = plan({ ...input(stack({ status: { ...b.status, lastAppliedHash: H_OLD } }), found(view('Complete'))), now: NOW + 120_000 });
    expect(cond(c, 'Ready')?.lastTransitionTime).toBe(new Date(NOW + 120_000).toISOString());
  });

  it('sets observedGeneration at top level', () => {
    expect(plan(input(stack({ status: applied }), found(view('Complete')))).status.observedGeneration).toBe(2);
  });
});
