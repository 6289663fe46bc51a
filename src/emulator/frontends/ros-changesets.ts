// ROS change sets (CreateChangeSet / GetChangeSet / ExecuteChangeSet / DeleteChangeSet, API 2019-09-10):
// the plan is the engine's own diff of the stack's resources against the new template, the same diff
// the execution then runs (docs/plan-approve.md). Field names follow the official SDK's models
// (@alicloud/ros20190910) and the ROS "Data structures" page of change sets (Change.ResourceChange:
// Action Add / Modify / Remove, Replacement True / False). Status values follow the ROS references;
// the error codes ChangeSetNotFound / InvalidChangeSetStatus are the emulator's (docs/fidelity.md).
import type { PreviewChange, StackEngine, StackRecord } from '../engine/engine.ts';
import type { Template } from '../engine/template.ts';

const rosTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

export interface ChangeSet {
  id: string;
  name: string;
  type: 'CREATE' | 'UPDATE';
  stackId: string;
  region: string;
  description: string;
  template: Template;
  /** The user parameters the execution passes (merged with the stack's for UsePreviousParameters). */
  params: Record<string, unknown>;
  timeoutMins?: number;
  disableRollback: boolean;
  changes: PreviewChange[];
  createdAt: number;
  /** Created asynchronously: CREATE_IN_PROGRESS until then. */
  readyAt: number;
  /** The stack's update time when the diff was made: a later update makes the change set OBSOLETE. */
  basis: number | undefined;
  executed: boolean;
}

export class ChangeSetError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** ROS Change.ResourceChange for one previewed resource; unchanged resources are not listed. */
function resourceChange(c: PreviewChange, stack: StackRecord): Record<string, unknown> {
  const action = c.change === 'create' ? 'Add' : c.change === 'delete' ? 'Remove' : 'Modify';
  const physical = stack.resources.get(c.name)?.physicalId;
  return {
    Type: 'Resource',
    ResourceChange: {
      Action: action,
      LogicalResourceId: c.name,
      ResourceType: c.type,
      ...(physical ? { PhysicalResourceId: physical } : {}),
      ...(action === 'Modify' ? { Replacement: c.change === 'replace' ? 'True' : 'False', Scope: ['Properties'] } : {}),
    },
  };
}

export class ChangeSetStore {
  readonly #sets = new Map<string, ChangeSet>();
  readonly #engine: StackEngine;
  readonly #delayMs: number;

  constructor(engine: StackEngine, delayMs: number) {
    this.#engine = engine;
    this.#delayMs = delayMs;
  }

  add(cs: Omit<ChangeSet, 'createdAt' | 'readyAt' | 'executed' | 'changes' | 'basis'>, stack: StackRecord): ChangeSet {
    const now = this.#engine.clock.now();
    for (const other of this.#sets.values()) {
      if (other.stackId === cs.stackId && other.name === cs.name) throw new ChangeSetError(409, 'ChangeSetExists', `The ChangeSet (${cs.name}) already exists.`);
    }
    const changes = this.#engine.previewChanges(stack.empty ? undefined : stack, cs.template, cs.params).filter((c) => c.change !== 'unchanged');
    const full: ChangeSet = { ...cs, changes, createdAt: now, readyAt: now + this.#delayMs, basis: stack.updatedAt, executed: false };
    this.#sets.set(cs.id, full);
    if (this.#sets.size > 10_000) this.#sets.delete(this.#sets.keys().next().value!);
    return full;
  }

  /** A change set of a live stack of this region; ChangeSetNotFound otherwise (its stack's deletion deletes it). */
  get(id: string | undefined, region: string): { cs: ChangeSet; stack: StackRecord } {
    const cs = id ? this.#sets.get(id) : undefined;
    const stack = cs ? this.#engine.get(cs.stackId) : undefined;
    if (!cs || cs.region !== region || !stack || stack.deleted) throw new ChangeSetError(404, 'ChangeSetNotFound', `The ChangeSet (${id ?? ''}) could not be found.`);
    return { cs, stack };
  }

  /** Status and ExecutionStatus as GetChangeSet reports them now. */
  state(cs: ChangeSet, stack: StackRecord): { Status: string; ExecutionStatus: string } {
    if (this.#engine.clock.now() < cs.readyAt) return { Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE' };
    if (cs.executed) {
      const ex = stack.status === 'IN_PROGRESS' ? 'EXECUTE_IN_PROGRESS' : stack.status === 'COMPLETE' ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
      return { Status: 'CREATE_COMPLETE', ExecutionStatus: ex };
    }
    if (stack.updatedAt !== cs.basis) return { Status: 'CREATE_COMPLETE', ExecutionStatus: 'OBSOLETE' };
    return { Status: 'CREATE_COMPLETE', ExecutionStatus: stack.status === 'IN_PROGRESS' ? 'UNAVAILABLE' : 'AVAILABLE' };
  }

  view(cs: ChangeSet, stack: StackRecord, withTemplate: boolean): Record<string, unknown> {
    return {
      ChangeSetId: cs.id,
      ChangeSetName: cs.name,
      ChangeSetType: cs.type,
      StackId: stack.id,
      StackName: stack.name,
      RegionId: cs.region,
      Description: cs.description,
      CreateTime: rosTime(cs.createdAt),
      DisableRollback: cs.disableRollback,
      TimeoutInMinutes: cs.timeoutMins ?? stack.timeoutMins,
      ...this.state(cs, stack),
      Parameters: Object.entries(cs.params).map(([ParameterKey, v]) => ({ ParameterKey, ParameterValue: typeof v === 'string' ? v : JSON.stringify(v) })),
      Changes: cs.changes.map((c) => resourceChange(c, stack)),
      ...(withTemplate ? { TemplateBody: JSON.stringify(cs.template.raw) } : {}),
    };
  }

  /**
   * Run the change set: a CREATE creates its REVIEW_IN_PROGRESS stack, an UPDATE updates the stack.
   * The other change sets of the stack are deleted ("they become invalid", ROS: Execute a change set).
   */
  execute(id: string, region: string): void {
    const { cs, stack } = this.get(id, region);
    const { ExecutionStatus } = this.state(cs, stack);
    if (ExecutionStatus !== 'AVAILABLE') throw new ChangeSetError(400, 'InvalidChangeSetStatus', `The ChangeSet (${id}) cannot be executed: its ExecutionStatus is ${ExecutionStatus}.`);
    if (cs.type === 'CREATE') this.#engine.createFromEmpty(stack.id, cs.template, cs.params);
    else this.#engine.update(stack.id, { template: cs.template, params: cs.params, paramMode: 'replace', ...(cs.timeoutMins !== undefined ? { timeoutMins: cs.timeoutMins } : {}), whileInProgress: 'reject' });
    cs.executed = true;
    for (const [k, other] of this.#sets) if (other.stackId === cs.stackId && k !== cs.id) this.#sets.delete(k);
  }

  delete(id: string, region: string): void {
    const { cs, stack } = this.get(id, region);
    if (this.state(cs, stack).ExecutionStatus === 'EXECUTE_IN_PROGRESS') {
      throw new ChangeSetError(400, 'InvalidChangeSetStatus', `The ChangeSet (${id}) is being executed and cannot be deleted.`);
    }
    this.#sets.delete(id);
  }

  list(stackId: string): ChangeSet[] {
    return [...this.#sets.values()].filter((c) => c.stackId === stackId);
  }
}
