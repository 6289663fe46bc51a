// Fixtures shared by the planner's table tests (one test file per phase, beside its code). Pure: no I/O.
import { expect } from 'vitest';
import { FINALIZER, type Stack, type StackStatus } from '../../api/v1alpha1/types.ts';
import type { ProviderCapabilities, ProviderType, StackInput, StackPhase, StackOperation, StackView } from '../../providers/types.ts';
import type { Observed, PlanInput, ProviderInfo, Step, TargetRef } from './index.ts';

export const NOW = Date.parse('2026-11-22T12:00:00Z');
export const UID = 'uid-1';
export const H_OLD = 'hash-old';
export const H_NEW = 'hash-new';

export const CAPS: Record<ProviderType, ProviderCapabilities> = {
  heat: { cancelModes: ['Rollback', 'NoRollback'], retainOnDelete: false, nativeDeletionProtection: false, tags: true, idempotencyTokens: false },
  rfs: { cancelModes: [], retainOnDelete: true, nativeDeletionProtection: true, tags: true, idempotencyTokens: false },
  ros: { cancelModes: ['Rollback'], retainOnDelete: true, nativeDeletionProtection: true, tags: true, idempotencyTokens: true },
  cloudfoundry: { cancelModes: ['Rollback'], retainOnDelete: false, nativeDeletionProtection: false, tags: true, idempotencyTokens: false },
};
export const TYPES: ProviderType[] = ['heat', 'rfs', 'ros', 'cloudfoundry'];

export function provider(type: ProviderType = 'heat'): ProviderInfo {
  return { type, capabilities: CAPS[type], pollIntervalMs: 5000, resyncIntervalMs: 600_000, adoption: 'Allowed' };
}

export function stack(opts: {
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

export function view(phase: StackPhase, operation: StackOperation = 'update', extra: Partial<StackView> = {}): StackView {
  const raw =
    phase === 'InProgress' ? `${operation.toUpperCase()}_IN_PROGRESS` : phase === 'Complete' ? `${operation.toUpperCase()}_COMPLETE` : `${operation.toUpperCase()}_${phase.toUpperCase()}`;
  return { id: 'id-1', name: 'web', phase, operation, rawStatus: raw, ownerUid: UID, updatedAt: '2026-11-22T11:00:00Z', ...extra };
}

export const found = (v: StackView): Observed => ({ kind: 'found', view: v });
export const absent: Observed = { kind: 'absent' };

export function input(s: Stack, observed: Observed, extra: Partial<PlanInput> = {}): PlanInput {
  return { stack: s, provider: provider(), desired: { hash: H_NEW, input: INPUT }, observed, now: NOW, jitter: 0.5, ...extra };
}

export const cond = (step: Step, type: string) => step.status.conditions?.find((c) => c.type === type);

export function expectHealth(step: Step, health: 'ready' | 'progressing' | 'stalled', reason?: string) {
  const ready = cond(step, 'Ready');
  const reconciling = cond(step, 'Reconciling');
  const stalled = cond(step, 'Stalled');
  expect(ready?.status).toBe(health === 'ready' ? 'True' : 'False');
  expect(reconciling?.status).toBe(health === 'progressing' ? 'True' : 'False');
  expect(stalled?.status).toBe(health === 'stalled' ? 'True' : 'False');
  if (reason) expect(ready?.reason).toBe(reason);
  for (const c of [ready, reconciling, stalled]) expect(c?.observedGeneration).toBe(2);
}

export const applied: StackStatus = { stackId: 'id-1', lastAppliedHash: H_NEW, lastAppliedGeneration: 2 };
export const appliedOld: StackStatus = { stackId: 'id-1', lastAppliedHash: H_OLD, lastAppliedGeneration: 1 };
export const updateOp = (hash: string, extra: Partial<NonNullable<StackStatus['operation']>> = {}): StackStatus['operation'] => ({
  type: 'Update',
  generation: 1,
  hash,
  token: 'tok',
  startedAt: '2026-11-22T11:55:00Z',
  issuedAt: '2026-11-22T11:55:00Z',
  ...extra,
});


/** What every create / update Step sends: the resolved desired state, unchanged. */
export const INPUT = { name: 'web' } as StackInput;
/** The cloud stack a call addresses: the Stack's name and the id guard from the view. */
export const REF: TargetRef = { name: 'web', id: 'id-1' };

/** The requeue delay of a Step that asks for one. */
export function requeueOf(step: Step): number | undefined {
  return step.next.type === 'requeue' ? step.next.afterMs : undefined;
}
