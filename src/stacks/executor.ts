// Runs one Step through the context: it maps the Step to effects (status, finalizer, provider call,
// outputs, events) and decides nothing. What to do after a failed provider call is asked of the
// planner (planCallFailure), like a controller-runtime error policy.
import { STACKS } from '../api/v1alpha1/resources.ts';
import { FINALIZER, type StackStatus } from '../api/v1alpha1/types.ts';
import { truncate } from '../lib/text.ts';
import { ProviderError, type StackOutput, type StackPreview, type StackProviderClient } from '../providers/types.ts';
import { awaitChange, requeueAfter, type Action as RuntimeAction } from '../runtime/controller.ts';
import { TransientError } from '../runtime/errors.ts';
import { addFinalizer, removeFinalizer } from '../runtime/finalizers.ts';
import type { Logger } from '../runtime/logging.ts';
import { mergePatchDiff } from '../runtime/merge-patch.ts';
import { patchStatus } from '../runtime/status.ts';
import type { StackContext, StackObject } from './context.ts';
import { writeOutputs } from './outputs.ts';
import { type CallFailure, type MutationAction, type Next, type PlanInput, type Step, type TargetRef, planCallFailure, planOutputsFailure, planRecord } from './plan/index.ts';

export type ExecResult = { kind: 'done'; action: RuntimeAction } | { kind: 'replan'; stack: StackObject };

export interface Execution {
  input: PlanInput;
  stack: StackObject;
  /** The provider's client; undefined when the provider could not be resolved (no call is planned then). */
  client: StackProviderClient | undefined;
  ctx: StackContext;
  signal: AbortSignal;
  log: Logger;
  /** A mutation Step's status already written (its record, written during the read: record-during-read.ts). */
  recorded?: StackObject;
}

export async function execute(step: Step, run: Execution): Promise<ExecResult> {
  const { ctx, signal } = run;
  const a = step.action;
  switch (a.type) {
    case 'addFinalizer': {
      const updated = await addFinalizer(ctx.client, STACKS, run.stack, FINALIZER, signal);
      ctx.crashPoint?.('after-finalizer-added', a.type);
      return follow(step.next, updated, true);
    }
    case 'removeFinalizer': {
      const written = await writeStatus(ctx, run.stack, step.status, false, signal);
      publish(ctx, written, step, 'Delete');
      ctx.crashPoint?.('before-finalizer-removed', a.type);
      await removeFinalizer(ctx.client, STACKS, written, FINALIZER, signal);
      run.log.info({ stackId: run.stack.status?.stackId }, 'finalizer released');
      return follow(step.next, written, false);
    }
    case 'none': {
      const written = await writeStatus(ctx, run.stack, step.status, false, signal);
      publish(ctx, written, step, 'Reconcile');
      return follow(step.next, written, true);
    }
    case 'writeOutputs': {
      const written = await writeStatus(ctx, run.stack, step.status, false, signal);
      publish(ctx, written, step, 'Reconcile');
      const outputs = a.outputs ?? (await readOutputs(run, a.ref));
      if (!outputs) return follow(step.next, written, true);
      try {
        await writeOutputs(ctx.client, written, a.targets, outputs, signal);
      } catch (err) {
        const fstep = planOutputsFailure(run.input, { ...step, status: written.status ?? {} }, err instanceof Error ? err.message : String(err));
        const failed = await writeStatus(ctx, written, fstep.status, false, signal);
        publish(ctx, failed, fstep, 'Reconcile');
        return follow(fstep.next, failed, false);
      }
      return follow(step.next, written, true);
    }
    case 'preview':
      return preview(step, a, run);
    default:
      return mutate(step, a, run);
  }
}

/** A plan (docs/plan-approve.md): the provider's preview, recorded as status.plan with the Step's status. */
async function preview(step: Step, a: Extract<Step['action'], { type: 'preview' }>, run: Execution): Promise<ExecResult> {
  const { ctx, signal } = run;
  const client = run.client;
  if (!client?.preview) return follow(step.next, run.stack, false);
  let answer: StackPreview;
  try {
    const holder = a.operation === 'Create' && a.ref ? { holder: a.ref } : {};
    const ref = a.operation === 'Update' ? a.ref : undefined;
    answer = await client.preview(a.input, ref, { token: a.plan.id, signal, ...(a.supersedes ? { supersedes: a.supersedes } : {}), ...holder });
  } catch (err) {
    const failure = failureOf(err);
    const fstep = planCallFailure(run.input, step, failure);
    const written = await writeStatus(ctx, run.stack, fstep.status, false, signal);
    publish(ctx, written, fstep, 'Preview');
    run.log.warn({ action: a.type, kind: failure.kind, message: truncate(failure.message, 300) }, 'provider preview failed');
    return follow(fstep.next, written, false);
  }
  const written = await writeStatus(ctx, run.stack, { ...step.status, plan: planRecord(a.plan, a.operation, answer) }, false, signal);
  publish(ctx, written, step, 'Preview');
  return follow(step.next, written, false);
}

/** A provider mutation: the operation record first, the call, then what the call confirmed. */
async function mutate(step: Step, a: MutationAction, run: Execution): Promise<ExecResult> {
  const { ctx, signal, log } = run;
  // The record first, with the resourceVersion precondition: a Step planned from a stale cache fails
  // here with a conflict, before any provider call.
  if (!run.client) return follow(step.next, run.stack, false);
  let written = run.recorded ?? (await recordOperation(ctx, run.stack, step, signal));
  ctx.crashPoint?.('after-operation-recorded', a.type);
  if (!ctx.mayMutate()) {
    // Fenced: the lease may be someone else's by now. The record stays; whoever leads resumes from it.
    log.warn({ action: a.type }, 'not leading with time to spare: provider call skipped');
    return { kind: 'done', action: requeueAfter(1000) };
  }
  let created: { id: string } | undefined;
  try {
    created = await call(run.client, a, signal);
  } catch (err) {
    const failure = failureOf(err);
    const fstep = planCallFailure(run.input, step, failure);
    written = await writeStatus(ctx, written, fstep.status, false, signal);
    publish(ctx, written, fstep, actionName(a.type));
    log.warn({ action: a.type, kind: failure.kind, message: truncate(failure.message, 300) }, 'provider call failed');
    return follow(fstep.next, written, false);
  }
  ctx.crashPoint?.('after-provider-call', a.type);
  const accepted: Partial<StackStatus> = { ...step.afterCall, ...(created ? { stackId: created.id } : {}) };
  if ((a.type === 'create' || a.type === 'update') && step.status.operation?.recordedDuringRead !== true) {
    // Carried by the Stack's next status write (accepted-calls.ts: why that is crash-safe).
    ctx.acceptedCalls.remember(written, a.token, accepted);
  } else {
    // A record written during the read is confirmed at once: until then recovery would judge it by the
    // clock, and a provider clock behind ours would make a crash here send the call again (record-during-read.ts).
    written = await writeStatus(ctx, written, { ...written.status, ...accepted }, false, signal);
  }
  publish(ctx, written, step, actionName(a.type));
  log.info({ action: a.type, stackId: accepted.stackId ?? written.status?.stackId }, 'provider call accepted');
  return follow(step.next, written, false);
}

/** Outputs the view did not carry; a failed read skips this write (the next completion writes them). */
async function readOutputs(run: Execution, ref: TargetRef): Promise<StackOutput[] | undefined> {
  try {
    return await run.client?.outputs(ref, { signal: run.signal });
  } catch (err) {
    run.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading outputs failed');
    return undefined;
  }
}

async function call(client: StackProviderClient, a: MutationAction, signal: AbortSignal): Promise<{ id: string } | undefined> {
  const cc = { token: a.token, signal };
  switch (a.type) {
    case 'create':
      return client.create(a.input, { ...cc, ...(a.providerPlanId ? { providerPlanId: a.providerPlanId } : {}) });
    case 'update':
      await client.update(a.ref, a.input, { ...cc, ...(a.providerPlanId ? { providerPlanId: a.providerPlanId } : {}) });
      return undefined;
    case 'cancelUpdate':
      await client.cancelUpdate(a.ref, a.mode, { ...cc, ...(a.options ? { options: a.options } : {}) });
      return undefined;
    case 'delete':
      await client.delete(a.ref, { retainResources: a.retainResources }, { ...cc, ...(a.options ? { options: a.options } : {}) });
      return undefined;
    case 'setDeletionProtection':
      await client.setDeletionProtection(a.ref, a.enabled, cc);
      return undefined;
  }
}

/** What the Step asked for next; a replan never follows a provider mutation (the view must be read again). */
function follow(next: Next, stack: StackObject, mayReplan: boolean): ExecResult {
  switch (next.type) {
    case 'await':
      return { kind: 'done', action: awaitChange() };
    case 'requeue':
      return { kind: 'done', action: requeueAfter(next.afterMs, { background: next.background === true }) };
    case 'replan':
      return mayReplan ? { kind: 'replan', stack } : { kind: 'done', action: requeueAfter(0) };
    case 'backoff':
      throw new TransientError(next.message);
  }
}

export function failureOf(err: unknown): CallFailure {
  if (err instanceof ProviderError) {
    return {
      kind: err.kind,
      message: err.message,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
      ...(err.field !== undefined ? { field: err.field } : {}),
    };
  }
  return { kind: 'Transient', message: err instanceof Error ? err.message : String(err) };
}

/** Whether taking `step` on `stack` would cause no effect at all: no call, no event, no status write (the `none` case above). */
export function hasNoEffect(step: Step, stack: StackObject): boolean {
  return step.action.type === 'none' && step.events.length === 0 && mergePatchDiff(stack.status ?? {}, step.status) === undefined;
}

/** A mutation's status with its operation record, written with the resourceVersion precondition even when unchanged. */
export function recordOperation(ctx: StackContext, stack: StackObject, step: Step, signal: AbortSignal): Promise<StackObject> {
  return writeStatus(ctx, stack, step.status, true, signal);
}

async function writeStatus(ctx: StackContext, stack: StackObject, status: StackStatus, force: boolean, signal: AbortSignal): Promise<StackObject> {
  const patch = mergePatchDiff(stack.status ?? {}, status);
  if (patch === undefined && !force) return stack;
  return patchStatus<StackObject>(
    ctx.client,
    STACKS,
    { namespace: stack.metadata.namespace, name: stack.metadata.name ?? '', resourceVersion: stack.metadata.resourceVersion ?? null },
    (patch ?? {}) as Record<string, unknown>,
    signal,
  );
}

function publish(ctx: StackContext, stack: StackObject, step: Step, action: string): void {
  for (const ev of step.events) ctx.events.record(stack, { type: ev.type, reason: ev.reason, action, note: ev.message });
}

function actionName(t: string): string {
  return t.charAt(0).toUpperCase() + t.slice(1);
}
