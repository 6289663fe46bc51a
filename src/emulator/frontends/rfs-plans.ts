// RFS execution plans (CreateExecutionPlan / ListExecutionPlans / GetExecutionPlan /
// GetExecutionPlanMetadata / ApplyExecutionPlan / DeleteExecutionPlan, API "aos" v1): the plan is the
// engine's own diff of the stack's resources against the new template, the same diff the deployment then
// runs (docs/plan-approve.md). Paths, fields and states follow the Huawei Go SDK's aos model
// (huaweicloud-sdk-go-v3 services/aos/v1) and its API descriptions: the stack must exist (404), no plan is
// made or applied while the stack is *_IN_PROGRESS (403), a plan made before a later deployment has
// expired (403 on apply), a plan name is unique per stack (409). Error codes: docs/fidelity.md.
import type { PreviewChange, StackEngine, StackRecord } from '../engine/engine.ts';
import type { Template } from '../engine/template.ts';
import { isoSeconds } from '../http.ts';

export interface ExecutionPlan {
  id: string;
  name: string;
  stackId: string;
  description: string;
  template: Template;
  vars: Record<string, unknown>;
  varsStructure?: unknown[];
  items: PreviewChange[];
  createdAt: number;
  readyAt: number;
  /** The stack's deployment count when the plan was made: any later deployment expires it. */
  basis: number;
  appliedAt?: number;
}

export class PlanFail extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const NAME_RE = /^[\p{L}][\p{L}0-9_-]{0,127}$/u;

/** Deployments (and creates) the stack has run: what a plan's expiry is measured against. */
const deployments = (s: StackRecord): number => s.operations.filter((o) => o.action === 'CREATE' || o.action === 'UPDATE').length;

/** ExecutionPlanItem action for one previewed resource (unchanged ones are not items). */
function itemAction(c: PreviewChange): string {
  return c.change === 'create' ? 'ADD' : c.change === 'delete' ? 'DELETE' : c.change === 'replace' ? 'DELETE_THEN_ADD' : 'UPDATE';
}

export class ExecutionPlans {
  readonly #plans = new Map<string, ExecutionPlan>();
  readonly #engine: StackEngine;
  readonly #delayMs: number;

  constructor(engine: StackEngine, delayMs: number) {
    this.#engine = engine;
    this.#delayMs = delayMs;
  }

  create(stack: StackRecord, name: unknown, template: Template, vars: Record<string, unknown>, extra: { description?: unknown; varsStructure?: unknown }): ExecutionPlan {
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new PlanFail(400, 'RF.10011001', `execution_plan_name ${String(name)} is invalid.`);
    if (stack.status === 'IN_PROGRESS') throw new PlanFail(403, 'RF.10012547', `No execution plan can be created while the stack is ${stack.action}_IN_PROGRESS.`);
    if (this.list(stack).some((p) => p.name === name)) throw new PlanFail(409, 'RF.10013502', `The execution plan ${name} already exists.`);
    this.#engine.validateParams(template, vars);
    const now = this.#engine.clock.now();
    const items = this.#engine.previewChanges(stack.empty ? undefined : stack, template, vars).filter((c) => c.change !== 'unchanged');
    const plan: ExecutionPlan = {
      id: this.#engine.newId(),
      name,
      stackId: stack.id,
      description: typeof extra.description === 'string' ? extra.description : '',
      template,
      vars,
      ...(Array.isArray(extra.varsStructure) ? { varsStructure: extra.varsStructure } : {}),
      items,
      createdAt: now,
      readyAt: now + this.#delayMs,
      basis: deployments(stack),
    };
    this.#plans.set(plan.id, plan);
    if (this.#plans.size > 10_000) this.#plans.delete(this.#plans.keys().next().value!);
    return plan;
  }

  list(stack: StackRecord): ExecutionPlan[] {
    return [...this.#plans.values()].filter((p) => p.stackId === stack.id).sort((a, b) => b.createdAt - a.createdAt);
  }

  /** By name within the stack; an execution_plan_id that names another plan is 400 (the id guard). */
  find(stack: StackRecord, name: string, id: string | null | undefined): ExecutionPlan {
    const plan = this.list(stack).find((p) => p.name === name);
    if (!plan) throw new PlanFail(404, 'RF.10013001', `The execution plan ${name} does not exist.`);
    if (id && id !== plan.id) throw new PlanFail(400, 'RF.10011015', `The execution_plan_id ${id} does not match the execution plan ${name}.`);
    return plan;
  }

  status(p: ExecutionPlan, stack: StackRecord): string {
    if (p.appliedAt !== undefined) return stack.status === 'IN_PROGRESS' ? 'APPLY_IN_PROGRESS' : 'APPLIED';
    return this.#engine.clock.now() < p.readyAt ? 'CREATION_IN_PROGRESS' : 'AVAILABLE';
  }

  summary(p: ExecutionPlan, stack: StackRecord): Record<string, unknown> {
    return {
      stack_name: stack.name,
      stack_id: stack.id,
      execution_plan_id: p.id,
      execution_plan_name: p.name,
      description: p.description,
      status: this.status(p, stack),
      create_time: isoSeconds(p.createdAt),
      ...(p.appliedAt !== undefined ? { apply_time: isoSeconds(p.appliedAt) } : {}),
    };
  }

  metadata(p: ExecutionPlan, stack: StackRecord): Record<string, unknown> {
    const count = (a: string) => p.items.filter((c) => itemAction(c) === a || (a !== 'UPDATE' && itemAction(c) === 'DELETE_THEN_ADD')).length;
    return {
      ...this.summary(p, stack),
      ...(p.varsStructure ? { vars_structure: p.varsStructure } : {}),
      summary: { resource_add: count('ADD'), resource_update: count('UPDATE'), resource_delete: count('DELETE'), resource_import: 0 },
    };
  }

  /** Items (resource changes); none while the plan is still being created. */
  items(p: ExecutionPlan, stack: StackRecord): Record<string, unknown>[] {
    if (this.status(p, stack) === 'CREATION_IN_PROGRESS') return [];
    return p.items.map((c) => {
      // RFS resource names are `<terraform type>.<name>` in the engine; items carry them apart.
      const dot = c.name.indexOf('.');
      const physical = stack.resources.get(c.name)?.physicalId;
      return {
        resource_type: dot > 0 ? c.name.slice(0, dot) : c.type,
        resource_name: dot > 0 ? c.name.slice(dot + 1) : c.name,
        action: itemAction(c),
        action_reason: 'the template or its variables changed',
        provider_name: 'huaweicloud',
        mode: 'RESOURCE',
        drifted: false,
        imported: false,
        ...(physical ? { resource_id: physical } : {}),
        attributes: [],
      };
    });
  }

  /** Deploy the plan's template and variables; every other plan of the stack expires with it. */
  apply(p: ExecutionPlan, stack: StackRecord): string {
    const st = this.status(p, stack);
    if (st !== 'AVAILABLE') throw new PlanFail(403, 'RF.10012547', `The execution plan ${p.name} cannot be applied in status ${st}.`);
    if (stack.status === 'IN_PROGRESS') throw new PlanFail(403, 'RF.10012547', `The execution plan cannot be applied while the stack is ${stack.action}_IN_PROGRESS.`);
    if (deployments(stack) !== p.basis) {
      throw new PlanFail(403, 'RF.10012548', 'The stack has been deployed since the execution plan was generated: regenerate the execution plan based on the latest stack.');
    }
    const op = this.#engine.update(stack.id, { template: p.template, params: p.vars, paramMode: 'replace', whileInProgress: 'reject' });
    p.appliedAt = this.#engine.clock.now();
    stack.extra.varsStructure = p.varsStructure;
    stack.extra.varsBody = undefined;
    return op.id;
  }

  delete(p: ExecutionPlan, stack: StackRecord): void {
    const st = this.status(p, stack);
    if (st === 'CREATION_IN_PROGRESS' || st === 'APPLY_IN_PROGRESS') throw new PlanFail(403, 'RF.10012547', `The execution plan ${p.name} cannot be deleted in status ${st}.`);
    this.#plans.delete(p.id);
  }
}
