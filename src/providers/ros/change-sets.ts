// ROS change sets as the provider's plan (docs/plan-approve.md): CreateChangeSet (ChangeSetType CREATE
// for a new stack, UPDATE for an existing one), GetChangeSet for the resource changes, ExecuteChangeSet
// on approval, DeleteChangeSet for a superseded one. Request and response fields: the official SDK's
// models (@alicloud/ros20190910) and the ROS change-set references (docs/providers/ros.md).
import { isRecord, str } from '../common.ts';
import { ProviderError, type PlannedChange, type StackPreview } from '../types.ts';

export type Rpc = (action: string, params: Record<string, string>, opts: { idempotent: boolean; signal?: AbortSignal | undefined }) => Promise<Record<string, unknown>>;

/** How long a preview waits for a change set to be created before it is retried (same ClientToken). */
const POLL_MS = 200;
const POLL_LIMIT = 50;

/** ChangeSetName for the operator's plan id: letters, digits, "-" and "_", starting with a letter (ROS reference). */
export const changeSetName = (planId: string): string => `stackop-${planId}`;

/**
 * Change.ResourceChange → a planned change. Modify with Replacement True is a replacement; Conditional
 * ("may be replaced", depending on values known only at execution) is shown as one too, so a plan
 * never understates what may happen. Pure (tested).
 */
export function rosPlannedChanges(changes: unknown): PlannedChange[] {
  if (!Array.isArray(changes)) return [];
  const out: PlannedChange[] = [];
  for (const c of changes) {
    const rc = isRecord(c) && isRecord(c['ResourceChange']) ? c['ResourceChange'] : undefined;
    if (!rc) continue;
    const action = str(rc['Action']);
    const name = str(rc['LogicalResourceId']) ?? '';
    const type = str(rc['ResourceType']) ?? '';
    const replacement = str(rc['Replacement']);
    if (action === 'Add') out.push({ name, type, action: 'Add' });
    else if (action === 'Remove') out.push({ name, type, action: 'Remove' });
    else if (action === 'Modify') out.push({ name, type, action: replacement === 'True' || replacement === 'Conditional' ? 'Replace' : 'Change' });
  }
  return out;
}

/** Wait (bounded) until the change set is created; CREATE_FAILED is the provider refusing the plan. */
export async function awaitChangeSet(rpc: Rpc, id: string, signal: AbortSignal | undefined, sleep = defaultSleep): Promise<StackPreview> {
  for (let i = 0; i < POLL_LIMIT; i++) {
    const cs = await rpc('GetChangeSet', { ChangeSetId: id }, { idempotent: true, signal });
    const status = str(cs['Status']) ?? '';
    if (status === 'CREATE_COMPLETE') return { changes: rosPlannedChanges(cs['Changes']), providerPlanId: id };
    if (status === 'CREATE_FAILED') {
      throw new ProviderError('Invalid', `ros: change set ${id} failed: ${str(cs['StatusReason']) ?? 'no reason given'}`, { code: 'ChangeSetCreateFailed', field: 'template' });
    }
    await sleep(POLL_MS, signal);
  }
  throw new ProviderError('Transient', `ros: change set ${id} is still being created`, { code: 'ChangeSetPending' });
}

/**
 * Execute an approved change set. A change set already executed (the reply of an earlier execution
 * was lost) is not executed again; one of another stack is refused (the id guard).
 */
export async function executeChangeSet(rpc: Rpc, id: string, clientToken: string, expectStackId: string | undefined, signal: AbortSignal | undefined): Promise<{ id: string }> {
  const cs = await rpc('GetChangeSet', { ChangeSetId: id }, { idempotent: true, signal });
  const stackId = str(cs['StackId']) ?? '';
  if (expectStackId !== undefined && stackId !== expectStackId) {
    throw new ProviderError('Invalid', `ros: change set ${id} belongs to stack ${stackId}, not ${expectStackId}`, { code: 'ChangeSetStackMismatch' });
  }
  if ((str(cs['ExecutionStatus']) ?? '').startsWith('EXECUTE_')) return { id: stackId };
  await rpc('ExecuteChangeSet', { ChangeSetId: id, ClientToken: clientToken }, { idempotent: true, signal });
  return { id: stackId };
}

/** Delete a superseded change set; one already gone (executed elsewhere, its stack deleted) is fine. */
export async function deleteChangeSet(rpc: Rpc, id: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await rpc('DeleteChangeSet', { ChangeSetId: id }, { idempotent: true, signal });
  } catch (e) {
    if (e instanceof ProviderError && (e.kind === 'NotFound' || e.code === 'ChangeSetNotFound')) return;
    throw e;
  }
}

/** A wait that ends early (rejecting) when the reconcile is aborted. */
export function defaultSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });
}
