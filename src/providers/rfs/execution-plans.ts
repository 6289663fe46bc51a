// RFS execution plans as the provider's plan (docs/plan-approve.md): CreateExecutionPlan, then
// GetExecutionPlanMetadata until AVAILABLE and GetExecutionPlan for the items; ApplyExecutionPlan on
// approval; DeleteExecutionPlan for a superseded one. Paths and JSON fields: the Huawei Go SDK's aos
// model (services/aos/v1), as docs/providers/rfs.md lists them. Plans are addressed by name in the path
// and guarded by their id in the query or body, like stacks.
import type { HttpMethod, HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { isRecord, str } from '../common.ts';
import { ProviderError, type PlannedChange, type StackPreview } from '../types.ts';

export type Call = (operation: string, method: HttpMethod, path: string, opts: { body?: unknown; requestId?: string; signal?: AbortSignal | undefined; accept?: (s: number) => boolean }) => Promise<HttpResponse>;

const POLL_MS = 200;
const POLL_LIMIT = 50;
const enc = encodeURIComponent;

/** execution_plan_name for the operator's plan id (a letter first; letters, digits, "_" and "-"). */
export const executionPlanName = (planId: string): string => `stackop-${planId}`;

/** ExecutionPlanItem → a planned change; NO_OPERATION (dependencies only) is not a change. Pure (tested). */
export function rfsPlannedChanges(items: unknown): PlannedChange[] {
  if (!Array.isArray(items)) return [];
  const out: PlannedChange[] = [];
  for (const it of items) {
    if (!isRecord(it)) continue;
    const type = str(it['resource_type']) ?? '';
    const index = str(it['index']);
    const name = `${str(it['resource_name']) ?? ''}${index !== undefined ? `[${index}]` : ''}`;
    const action = str(it['action']);
    if (action === 'ADD') out.push({ name, type, action: 'Add' });
    else if (action === 'UPDATE') out.push({ name, type, action: 'Change' });
    else if (action === 'DELETE') out.push({ name, type, action: 'Remove' });
    else if (action === 'ADD_THEN_DELETE' || action === 'DELETE_THEN_ADD') out.push({ name, type, action: 'Replace' });
  }
  return out;
}

function body(res: HttpResponse): Record<string, unknown> {
  const b = parseJson(res.text);
  if (!isRecord(b)) throw new ProviderError('Transient', 'rfs: execution plan answer is not an object', { code: 'BadResponse' });
  return b;
}

/** The plans of a stack, newest first. */
export async function listPlans(call: Call, stack: { name: string; id: string }, signal: AbortSignal | undefined): Promise<Record<string, unknown>[]> {
  const res = await call('listExecutionPlans', 'GET', `/stacks/${enc(stack.name)}/execution-plans?stack_id=${enc(stack.id)}`, { signal });
  const list = body(res)['execution_plans'];
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/** Create the plan (or find it, when an earlier attempt made it), wait until AVAILABLE, read its items. */
export async function makePlan(
  call: Call,
  stack: { name: string; id: string },
  planId: string,
  request: Record<string, unknown>,
  opts: { requestId: string; signal: AbortSignal | undefined; sleep?: (ms: number) => Promise<void> },
): Promise<StackPreview> {
  const name = executionPlanName(planId);
  let id = (await listPlans(call, stack, opts.signal)).map((p) => (str(p['execution_plan_name']) === name ? str(p['execution_plan_id']) : undefined)).find(Boolean);
  if (!id) {
    const res = await call('createExecutionPlan', 'POST', `/stacks/${enc(stack.name)}/execution-plans`, {
      body: { stack_id: stack.id, execution_plan_name: name, description: `stack-operator plan ${planId}`, ...request },
      requestId: opts.requestId,
      signal: opts.signal,
    });
    id = str(body(res)['execution_plan_id']);
    if (!id) throw new ProviderError('Transient', 'rfs: CreateExecutionPlan returned no execution_plan_id', { code: 'BadResponse' });
  }
  const path = `/stacks/${enc(stack.name)}/execution-plans/${enc(name)}`;
  const q = `?stack_id=${enc(stack.id)}&execution_plan_id=${enc(id)}`;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 0; i < POLL_LIMIT; i++) {
    const meta = body(await call('getExecutionPlanMetadata', 'GET', `${path}/metadata${q}`, { signal: opts.signal }));
    const status = str(meta['status']);
    if (status === 'CREATION_FAILED') {
      throw new ProviderError('Invalid', `rfs: execution plan ${name} failed: ${str(meta['status_message']) ?? 'no message'}`, { code: 'ExecutionPlanFailed', field: 'template' });
    }
    if (status !== 'CREATION_IN_PROGRESS') {
      const items = body(await call('getExecutionPlan', 'GET', `${path}${q}`, { signal: opts.signal }))['execution_plan_items'];
      return { changes: rfsPlannedChanges(items), providerPlanId: id };
    }
    await sleep(POLL_MS);
  }
  throw new ProviderError('Transient', `rfs: execution plan ${name} is still being created`, { code: 'ExecutionPlanPending' });
}

/** The plan's name by its id (the path needs the name); undefined when the stack has no such plan. */
async function nameOf(call: Call, stack: { name: string; id: string }, id: string, signal: AbortSignal | undefined): Promise<{ name: string; status: string } | undefined> {
  const p = (await listPlans(call, stack, signal)).find((x) => str(x['execution_plan_id']) === id);
  const name = p ? str(p['execution_plan_name']) : undefined;
  return p && name ? { name, status: str(p['status']) ?? '' } : undefined;
}

/** Apply an approved plan; one already applying or applied (a lost reply) is not applied again. */
export async function applyPlan(call: Call, stack: { name: string; id: string }, id: string, opts: { requestId: string; signal: AbortSignal | undefined }): Promise<void> {
  const plan = await nameOf(call, stack, id, opts.signal);
  if (!plan) throw new ProviderError('Invalid', `rfs: execution plan ${id} does not exist on stack ${stack.name}: it cannot be applied`, { code: 'ExecutionPlanNotFound' });
  if (plan.status === 'APPLY_IN_PROGRESS' || plan.status === 'APPLIED') return;
  try {
    await call('applyExecutionPlan', 'POST', `/stacks/${enc(stack.name)}/execution-plans/${enc(plan.name)}`, {
      body: { stack_id: stack.id, execution_plan_id: id },
      requestId: opts.requestId,
      signal: opts.signal,
    });
  } catch (e) {
    // Expired (the stack was deployed since; RFS answers 403 "... regenerate the execution plan"): it
    // will never apply, so it is terminal, not the state conflict a bare 403 is read as.
    if (e instanceof ProviderError && e.httpStatus === 403 && /regenerate|expired|deployed since/i.test(e.message)) {
      throw new ProviderError('Invalid', `rfs: execution plan ${plan.name} expired: the stack changed since it was made (${e.message})`, { code: e.code ?? 'ExecutionPlanExpired', httpStatus: 403, field: 'spec' });
    }
    throw e;
  }
}

/** Delete a superseded plan; one already gone is fine. */
export async function deletePlan(call: Call, stack: { name: string; id: string }, id: string, opts: { requestId: string; signal: AbortSignal | undefined }): Promise<void> {
  const plan = await nameOf(call, stack, id, opts.signal);
  if (!plan) return;
  await call('deleteExecutionPlan', 'DELETE', `/stacks/${enc(stack.name)}/execution-plans/${enc(plan.name)}?stack_id=${enc(stack.id)}&execution_plan_id=${enc(id)}`, {
    requestId: opts.requestId,
    signal: opts.signal,
    accept: (s) => (s >= 200 && s < 300) || s === 404,
  });
}
