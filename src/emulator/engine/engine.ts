// The emulator's single in-memory stack engine. Every provider front-end maps its wire protocol onto
// these records and renders the generic ACTION/STATUS into its own status vocabulary.
//
// A stack moves through Heat-like (ACTION, STATUS) pairs. Each operation diffs the current resources
// against the target template and schedules one timer per resource step, driven by the resource's
// OS::Heat::TestResource-style properties (wait_secs, action_wait_secs, fail, ...). No timer fires
// synchronously: a create always answers IN_PROGRESS first.
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.ts';
import { RealClock } from './clock.ts';
import { requestScope } from '../http.ts';
import { coerceParam, resolve, type ResolveContext, type Template } from './template.ts';

export type ProviderType = 'heat' | 'rfs' | 'ros' | 'cloudfoundry';
export type StackAction = 'CREATE' | 'UPDATE' | 'DELETE' | 'ROLLBACK';
export type StackStatus = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';
export type OpOutcome = 'COMPLETE' | 'FAILED' | 'CANCELLED' | 'SUPERSEDED';

export type EngineErrorKind =
  | 'NotFound'
  | 'Exists'
  | 'InProgress'
  | 'NotSupported'
  | 'Protected'
  | 'UserParameterMissing'
  | 'UnknownUserParameter'
  | 'ImmutableParameterModified';

export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ResourceState {
  name: string;
  type: string;
  physicalId: string;
  action: StackAction | 'INIT';
  status: StackStatus;
  statusReason: string;
  /** resolved properties of the last applied definition */
  properties: Record<string, unknown>;
  attributes: Record<string, unknown>;
  createdAt: number;
  updatedAt?: number;
}

export interface StackEvent {
  id: string;
  time: number;
  opId: string;
  resourceName: string;
  physicalResourceId: string;
  resourceType: string;
  action: string;
  status: string;
  reason: string;
  /** true for stack-level events */
  stack: boolean;
}

export interface Operation {
  id: string;
  action: StackAction;
  startedAt: number;
  endedAt?: number;
  outcome?: OpOutcome;
  reason?: string;
  /** for ROLLBACK: the operation that is being rolled back */
  rollbackOf?: string;
  /** canary-style: hold before completing until continueOperation() */
  pauseBeforeComplete: boolean;
  paused: boolean;
  retainResources: boolean;
  /** front-end data (CF deployment options, RFS deployment id, ...) */
  info: Record<string, unknown>;
  timers: TimerHandle[];
  pending: Set<string>;
  /** when each pending resource step is due (clock ms; Infinity = never) */
  endsAt: Map<string, number>;
}

export interface StackRecord {
  id: string;
  provider: ProviderType;
  scope: string;
  name: string;
  description: string;
  action: StackAction;
  status: StackStatus;
  statusReason: string;
  /** action the current ROLLBACK undoes (CREATE or UPDATE) */
  rollbackOf?: 'CREATE' | 'UPDATE';
  /** created without a template and never deployed (RFS CREATION_COMPLETE, CF app) */
  empty: boolean;
  template: Template | null;
  params: Record<string, unknown>;
  /** rollback target: template and parameters before the running update (null: empty template) */
  previous: { template: Template | null; params: Record<string, unknown> } | null;
  tags: string[] | Record<string, string>;
  disableRollback: boolean;
  timeoutMins: number;
  deletionProtection: boolean;
  createdAt: number;
  updatedAt?: number;
  deletedAt?: number;
  deleted: boolean;
  resources: Map<string, ResourceState>;
  events: StackEvent[];
  op?: Operation;
  operations: Operation[];
  extra: Record<string, unknown>;
  timeoutTimer?: TimerHandle;
  /** clock ms before which GET / list do not show the stack (hide-new fault) */
  visibleAt?: number;
}

export interface MutationCounts {
  stackIds: string[];
  create: number;
  update: number;
  delete: number;
  cancel: number;
  other: number;
  rejected: number;
}

export interface EngineOptions {
  clock?: Clock;
  /** multiplies every operation duration (0.01 = 100x faster; 0 = next tick) */
  durationMultiplier?: number;
  /** extra duration of every operation in ms (before the multiplier) */
  baseOperationMs?: number;
  idGenerator?: () => string;
}

export interface CreateInput {
  provider: ProviderType;
  scope: string;
  name: string;
  template: Template | null;
  params?: Record<string, unknown>;
  description?: string;
  tags?: string[] | Record<string, string>;
  disableRollback?: boolean;
  timeoutMins?: number;
  deletionProtection?: boolean;
  extra?: Record<string, unknown>;
  info?: Record<string, unknown>;
}

export interface UpdateInput {
  /** undefined: keep the current template */
  template?: Template;
  params?: Record<string, unknown>;
  /** replace: parameters not supplied take template defaults; patch: merge over the current ones */
  paramMode?: 'replace' | 'patch';
  clearParams?: string[];
  tags?: string[] | Record<string, string>;
  disableRollback?: boolean;
  timeoutMins?: number;
  /** what to do with an operation in progress: reject (InProgress) or supersede it (Heat convergence, CF) */
  whileInProgress?: 'reject' | 'supersede';
  /** With supersede: resource steps already running finish before the new update's steps start (Heat convergence). */
  waitInFlight?: boolean;
  pauseBeforeComplete?: boolean;
  info?: Record<string, unknown>;
}

export type Listener = (stack: StackRecord, event: StackEvent) => void;

/** One resource in a preview: what an operation to the previewed template would do to it. */
export interface PreviewChange {
  name: string;
  type: string;
  change: 'create' | 'update' | 'replace' | 'delete' | 'unchanged';
}

const FOREVER_SECS = 1e8;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) o[k] = canonical(v[k]);
    return o;
  }
  return v;
}

/** Seconds a resource waits for an action, from its TestResource-style knobs; Infinity = forever. */
export function waitSeconds(type: string, props: Record<string, unknown>, action: 'create' | 'update' | 'delete'): number {
  let secs: number | undefined;
  if (type === 'OS::Heat::Delay') {
    const actions = Array.isArray(props.actions) ? props.actions.map(String) : ['CREATE'];
    secs = actions.includes(action.toUpperCase()) ? (num(props.min_wait) ?? 0) : 0;
  } else {
    const per = isObj(props.action_wait_secs) ? num(props.action_wait_secs[action]) : undefined;
    secs = per ?? num(props.wait_secs) ?? 0;
  }
  if (secs < 0 || secs >= FOREVER_SECS) return Infinity;
  return secs;
}

function randomString(length: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < length; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

interface Step {
  resource: string;
  kind: 'create' | 'update' | 'replace' | 'delete';
  waitMs: number;
  fail?: string;
  type: string;
  props: Record<string, unknown>;
}

export class StackEngine {
  readonly clock: Clock;
  durationMultiplier: number;
  baseOperationMs: number;
  readonly #ids: () => string;
  readonly #stacks = new Map<string, StackRecord>();
  readonly #byName = new Map<string, string>();
  readonly #counts = new Map<string, MutationCounts>();
  readonly #listeners = new Set<Listener>();

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    this.durationMultiplier = options.durationMultiplier ?? 1;
    this.baseOperationMs = options.baseOperationMs ?? 0;
    this.#ids = options.idGenerator ?? randomUUID;
  }

  newId(): string {
    return this.#ids();
  }

  onEvent(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ------------------------------------------------------------------ queries

  /** A stack a client may see: a stack created under the hide-new fault stays hidden until visibleAt. */
  #visible(s: StackRecord | undefined, includeHidden = false): StackRecord | undefined {
    if (!s || includeHidden || s.visibleAt === undefined || s.visibleAt <= this.clock.now()) return s;
    return undefined;
  }

  get(id: string, opts: { includeHidden?: boolean } = {}): StackRecord | undefined {
    return this.#visible(this.#stacks.get(id), opts.includeHidden);
  }

  /** Live (not deleted) stack by name within a provider scope. */
  findByName(provider: ProviderType, scope: string, name: string, opts: { includeHidden?: boolean } = {}): StackRecord | undefined {
    const id = this.#byName.get(`${provider}/${scope}/${name}`);
    return id === undefined ? undefined : this.#visible(this.#stacks.get(id), opts.includeHidden);
  }

  list(filter: { provider?: ProviderType; scope?: string; includeDeleted?: boolean; includeHidden?: boolean } = {}): StackRecord[] {
    const out: StackRecord[] = [];
    for (const s of this.#stacks.values()) {
      if (!this.#visible(s, filter.includeHidden)) continue;
      if (filter.provider && s.provider !== filter.provider) continue;
      if (filter.scope !== undefined && s.scope !== filter.scope) continue;
      if (s.deleted && !filter.includeDeleted) continue;
      out.push(s);
    }
    return out;
  }

  /** Mutating calls per stack name (create/update/delete/cancel accepted, plus rejected attempts). */
  mutationCounts(provider?: ProviderType, name?: string): Record<string, MutationCounts> {
    const out: Record<string, MutationCounts> = {};
    for (const [k, v] of this.#counts) {
      const [p, , n] = k.split('/', 3);
      if (provider && p !== provider) continue;
      if (name !== undefined && n !== name && !v.stackIds.includes(name)) continue;
      out[k] = { ...v, stackIds: [...v.stackIds] };
    }
    return out;
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  countCall(provider: ProviderType, scope: string, name: string, kind: keyof Omit<MutationCounts, 'stackIds'>, stackId?: string): void {
    const key = `${provider}/${scope}/${name}`;
    let c = this.#counts.get(key);
    if (!c) {
      c = { stackIds: [], create: 0, update: 0, delete: 0, cancel: 0, other: 0, rejected: 0 };
      this.#counts.set(key, c);
    }
    c[kind]++;
    if (stackId && !c.stackIds.includes(stackId)) c.stackIds.push(stackId);
  }

  #counted<T>(stack: { provider: ProviderType; scope: string; name: string; id?: string }, kind: 'create' | 'update' | 'delete' | 'cancel' | 'other', fn: () => T): T {
    try {
      const r = fn();
      this.countCall(stack.provider, stack.scope, stack.name, kind, stack.id ?? (r as { id?: string } | undefined)?.id);
      return r;
    } catch (e) {
      if (e instanceof EngineError) this.countCall(stack.provider, stack.scope, stack.name, 'rejected', stack.id);
      throw e;
    }
  }

  #mustGet(id: string): StackRecord {
    const s = this.#stacks.get(id);
    if (!s) throw new EngineError('NotFound', `The Stack (${id}) could not be found.`);
    return s;
  }

  /** Resolve template parameters: validate and apply defaults. Returns the coerced values. */
  effectiveParams(template: Template, params: Record<string, unknown>, stack?: StackRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(template.parameters)) {
      if (name in params) out[name] = coerceParam(def, params[name]);
      else if (def.hasDefault) out[name] = coerceParam(def, def.default);
      else throw new EngineError('UserParameterMissing', `The Parameter (${name}) was not provided.`);
    }
    if (stack) {
      out['OS::stack_id'] = stack.id;
      out['OS::stack_name'] = stack.name;
      out['ALIYUN::StackId'] = stack.id;
      out['ALIYUN::StackName'] = stack.name;
    }
    return out;
  }

  validateParams(template: Template, params: Record<string, unknown>): void {
    for (const k of Object.keys(params)) {
      if (!(k in template.parameters)) throw new EngineError('UnknownUserParameter', `The Parameter (${k}) was not defined in template.`);
    }
    this.effectiveParams(template, params);
  }

  // ------------------------------------------------------------------ previews (no state change)

  /**
   * What an update of `stack` (a create when undefined) to this template and these parameters would do,
   * from the same diff an operation runs, so a preview always matches the change then applied (Heat
   * stack / update preview, docs/plan-approve.md). Resources the template keeps as they are: unchanged.
   */
  previewChanges(stack: StackRecord | undefined, template: Template, params: Record<string, unknown>): PreviewChange[] {
    // A create is previewed against a stack with no resources yet (only what #plan reads is needed).
    const base = stack ?? ({ id: 'None', name: '', resources: new Map() } as unknown as StackRecord);
    const steps = this.#plan(base, stack ? 'UPDATE' : 'CREATE', template, params, false);
    const out: PreviewChange[] = steps.map((st) => ({
      name: st.resource,
      type: st.type,
      // A resource whose type changed is created anew in place of the old one: a replacement.
      change: st.kind === 'create' && base.resources.has(st.resource) ? 'replace' : st.kind,
    }));
    const touched = new Set(steps.map((st) => st.resource));
    for (const r of base.resources.values()) if (!touched.has(r.name)) out.push({ name: r.name, type: r.type, change: 'unchanged' });
    return out;
  }

  // ------------------------------------------------------------------ mutations

  create(input: CreateInput): StackRecord {
    return this.#counted(input, 'create', () => {
      if (this.findByName(input.provider, input.scope, input.name, { includeHidden: true })) {
        throw new EngineError('Exists', `The Stack (${input.name}) already exists.`);
      }
      const params = { ...(input.params ?? {}) };
      if (input.template) this.validateParams(input.template, params);
      const now = this.clock.now();
      const stack: StackRecord = {
        id: this.#ids(),
        provider: input.provider,
        scope: input.scope,
        name: input.name,
        description: input.description ?? input.template?.description ?? '',
        action: 'CREATE',
        status: input.template ? 'IN_PROGRESS' : 'COMPLETE',
        statusReason: input.template ? 'Stack CREATE started' : 'Stack CREATE completed successfully',
        empty: !input.template,
        template: input.template,
        params,
        previous: null,
        tags: input.tags ?? [],
        disableRollback: input.disableRollback ?? false,
        timeoutMins: input.timeoutMins ?? 60,
        deletionProtection: input.deletionProtection ?? false,
        createdAt: now,
        deleted: false,
        resources: new Map(),
        events: [],
        operations: [],
        extra: { ...(input.extra ?? {}) },
      };
      const hideMs = requestScope.getStore()?.hideNewForMs ?? 0;
      if (hideMs > 0) stack.visibleAt = now + hideMs;
      this.#stacks.set(stack.id, stack);
      this.#byName.set(`${stack.provider}/${stack.scope}/${stack.name}`, stack.id);
      if (input.template) this.#startOp(stack, 'CREATE', input.template, params, { info: input.info ?? {} });
      return stack;
    });
  }

  update(id: string, input: UpdateInput): Operation {
    const stack = this.#mustGet(id);
    return this.#counted(stack, 'update', () => {
      if (stack.deleted) throw new EngineError('NotFound', `The Stack (${stack.name}) could not be found.`);
      if (stack.action === 'DELETE' && stack.status === 'IN_PROGRESS') {
        throw new EngineError('NotSupported', 'Updating a stack when it is deleting is not supported.');
      }
      const running = stack.status === 'IN_PROGRESS';
      if (running && (input.whileInProgress ?? 'reject') === 'reject') {
        throw new EngineError('InProgress', `Stack ${stack.name} already has an action (${stack.action}) in progress.`);
      }
      const template = input.template ?? stack.template;
      if (!template) throw new EngineError('NotSupported', 'PATCH update to a stack without a template is not supported.');
      let params: Record<string, unknown>;
      if ((input.paramMode ?? 'replace') === 'patch') {
        params = { ...stack.params };
        for (const c of input.clearParams ?? []) delete params[c];
        for (const k of Object.keys(params)) if (!(k in template.parameters)) delete params[k];
        Object.assign(params, input.params ?? {});
      } else {
        params = { ...(input.params ?? {}) };
      }
      for (const k of Object.keys(input.params ?? {})) {
        if (!(k in template.parameters)) throw new EngineError('UnknownUserParameter', `The Parameter (${k}) was not defined in template.`);
      }
      const eff = this.effectiveParams(template, params);
      if (stack.template) {
        const oldEff = this.effectiveParams(stack.template, stack.params);
        const immutable = Object.entries(template.parameters)
          .filter(([k, d]) => d.immutable && k in oldEff && !deepEqual(oldEff[k], eff[k]))
          .map(([k]) => k);
        if (immutable.length > 0) {
          throw new EngineError('ImmutableParameterModified', `The following parameters are immutable and may not be updated: ${immutable.join(', ')}`);
        }
      }
      // Heat convergence: a superseding update does not interrupt resource actions already running; its
      // own steps begin after them (verified against real Heat, docs/real-heat.md).
      let inFlight = 0;
      if (running && stack.op) {
        if (input.waitInFlight) {
          const now = this.clock.now();
          for (const name of stack.op.pending) inFlight = Math.max(inFlight, (stack.op.endsAt.get(name) ?? now) - now);
        }
        this.#stopOp(stack, 'SUPERSEDED');
      } else stack.previous = { template: stack.template, params: stack.params };
      if (input.tags !== undefined) stack.tags = input.tags;
      if (input.disableRollback !== undefined) stack.disableRollback = input.disableRollback;
      if (input.timeoutMins !== undefined) stack.timeoutMins = input.timeoutMins;
      stack.template = template;
      stack.params = params;
      stack.empty = false;
      stack.updatedAt = this.clock.now();
      return this.#startOp(stack, 'UPDATE', template, params, {
        pauseBeforeComplete: input.pauseBeforeComplete ?? false,
        info: input.info ?? {},
        extraDelayMs: inFlight,
      });
    });
  }

  /**
   * Run the CREATE of a stack made empty to hold a create plan (ROS CREATE change set, docs/plan-approve.md):
   * the stack keeps its id and goes CREATE_IN_PROGRESS with this template, as a create would.
   */
  createFromEmpty(id: string, template: Template, params: Record<string, unknown>, info: Record<string, unknown> = {}): Operation {
    const stack = this.#mustGet(id);
    return this.#counted(stack, 'create', () => {
      if (stack.deleted || !stack.empty || stack.status === 'IN_PROGRESS') {
        throw new EngineError('NotSupported', `The Stack (${stack.name}) is not empty: it cannot be created from a plan.`);
      }
      this.validateParams(template, params);
      stack.template = template;
      stack.params = { ...params };
      stack.empty = false;
      return this.#startOp(stack, 'CREATE', template, stack.params, { info });
    });
  }

  /**
   * Cancel the running CREATE/UPDATE. rollback=true starts a rollback to the previous template
   * (ROLLBACK_IN_PROGRESS); false leaves the stack {ACTION}_FAILED "Stack {ACTION} cancelled".
   * delayMs > 0 lets the in-flight work run that long before the cancel takes effect (ROS Safe).
   * Which states may be cancelled is the front-end's rule; the engine only requires a running CREATE/UPDATE.
   */
  cancel(id: string, opts: { rollback: boolean; delayMs?: number; waitInFlight?: boolean }): void {
    const stack = this.#mustGet(id);
    this.#counted(stack, 'cancel', () => {
      if (stack.status !== 'IN_PROGRESS' || (stack.action !== 'CREATE' && stack.action !== 'UPDATE') || !stack.op) {
        throw new EngineError('NotSupported', `Cancelling update when stack is ${stack.action}_${stack.status} is not supported.`);
      }
      const op = stack.op;
      const doCancel = (): void => {
        if (stack.op !== op || op.outcome) return;
        const action = op.action;
        // Heat convergence: resource actions already running are not interrupted; the rollback
        // traversal only ends after them.
        let inFlight = 0;
        if (opts.waitInFlight) {
          const now = this.clock.now();
          for (const name of op.pending) inFlight = Math.max(inFlight, (op.endsAt.get(name) ?? now) - now);
        }
        this.#stopOp(stack, 'CANCELLED', `Stack ${action} cancelled`);
        this.#setStatus(stack, action, 'FAILED', `Stack ${action} cancelled`, op.id);
        if (opts.rollback) this.#startRollback(stack, op, inFlight);
      };
      const delay = (opts.delayMs ?? 0) * this.durationMultiplier;
      if (delay > 0) op.timers.push(this.clock.setTimer(doCancel, delay));
      else doCancel();
    });
  }

  /**
   * Roll back a stack left {CREATE,UPDATE}_FAILED without automatic rollback (Cloud Foundry cancel of a
   * failing deployment, RFS-style manual recovery).
   */
  rollbackFailed(id: string): Operation {
    const stack = this.#mustGet(id);
    return this.#counted(stack, 'cancel', () => {
      const op = stack.op;
      if (stack.status !== 'FAILED' || (stack.action !== 'CREATE' && stack.action !== 'UPDATE') || !op) {
        throw new EngineError('NotSupported', `Rolling back a stack in state ${stack.action}_${stack.status} is not supported.`);
      }
      this.#startRollback(stack, op);
      return stack.op!;
    });
  }

  /** Release a paused (canary) operation. */
  continueOperation(id: string): void {
    const stack = this.#mustGet(id);
    const op = stack.op;
    if (!op || !op.paused || op.outcome) throw new EngineError('NotSupported', 'The operation is not paused.');
    op.paused = false;
    op.pauseBeforeComplete = false;
    this.#finishOp(stack, op);
  }

  delete(id: string, opts: { retainResources?: boolean; info?: Record<string, unknown> } = {}): Operation {
    const stack = this.#mustGet(id);
    return this.#counted(stack, 'delete', () => {
      if (stack.deleted) throw new EngineError('NotFound', `The Stack (${stack.name}) could not be found.`);
      if (stack.deletionProtection) throw new EngineError('Protected', `Stack ${stack.name} has deletion protection enabled.`);
      if (stack.action === 'DELETE' && stack.status === 'IN_PROGRESS' && stack.op) return stack.op;
      if (stack.status === 'IN_PROGRESS' && stack.op) this.#stopOp(stack, 'SUPERSEDED');
      return this.#startOp(stack, 'DELETE', null, stack.params, { retainResources: opts.retainResources ?? false, info: opts.info ?? {} });
    });
  }

  setDeletionProtection(id: string, enabled: boolean): void {
    const stack = this.#mustGet(id);
    this.#counted(stack, 'other', () => {
      stack.deletionProtection = enabled;
    });
  }

  // ------------------------------------------------------------------ outputs

  resolveContext(stack: StackRecord): ResolveContext {
    const params = stack.template ? safeParams(this, stack.template, stack.params, stack) : {};
    return {
      params,
      attr: (r, a) => {
        const res = stack.resources.get(r);
        if (!res) throw new AttributeUnavailable(`The Referenced Attribute (${r} ${a ?? ''}) is incorrect.`);
        if (a === undefined) return res.attributes;
        return res.attributes[a] ?? null;
      },
      resourceId: (r) => stack.resources.get(r)?.physicalId ?? null,
    };
  }

  outputs(stack: StackRecord): { key: string; value: unknown; description?: string; sensitive: boolean; error?: string }[] {
    if (!stack.template) return [];
    const ctx = this.resolveContext(stack);
    return Object.entries(stack.template.outputs).map(([key, def]) => {
      try {
        const value = resolve(def.value, ctx);
        return { key, value, sensitive: def.sensitive, ...(def.description !== undefined ? { description: def.description } : {}) };
      } catch (e) {
        return { key, value: null, sensitive: def.sensitive, error: (e as Error).message, ...(def.description !== undefined ? { description: def.description } : {}) };
      }
    });
  }

  /** Stop every timer (used on close). */
  shutdown(): void {
    for (const s of this.#stacks.values()) {
      if (s.op) for (const t of s.op.timers) this.clock.clearTimer(t);
      this.clock.clearTimer(s.timeoutTimer);
    }
  }

  /** Remove every stack and counter (control API reset). */
  reset(): void {
    this.shutdown();
    this.#stacks.clear();
    this.#byName.clear();
    this.#counts.clear();
  }

  // ------------------------------------------------------------------ internals

  #event(stack: StackRecord, opId: string, e: Omit<StackEvent, 'id' | 'time' | 'opId'>): void {
    const ev: StackEvent = { id: this.#ids(), time: this.clock.now(), opId, ...e };
    stack.events.push(ev);
    if (stack.events.length > 2000) stack.events.splice(0, stack.events.length - 2000);
    for (const l of this.#listeners) l(stack, ev);
  }

  #setStatus(stack: StackRecord, action: StackAction, status: StackStatus, reason: string, opId: string): void {
    stack.action = action;
    stack.status = status;
    stack.statusReason = reason;
    this.#event(stack, opId, {
      resourceName: stack.name,
      physicalResourceId: stack.id,
      resourceType: 'OS::Heat::Stack',
      action,
      status,
      reason,
      stack: true,
    });
  }

  #plan(stack: StackRecord, action: StackAction, template: Template | null, params: Record<string, unknown>, retain: boolean): Step[] {
    const steps: Step[] = [];
    const mult = this.durationMultiplier;
    const ms = (secs: number): number => (Number.isFinite(secs) ? secs * 1000 * mult : Infinity);
    if (action === 'DELETE') {
      for (const r of stack.resources.values()) {
        if (retain) steps.push({ resource: r.name, kind: 'delete', waitMs: 0, type: r.type, props: r.properties });
        else
          steps.push({
            resource: r.name,
            kind: 'delete',
            waitMs: ms(waitSeconds(r.type, r.properties, 'delete')),
            type: r.type,
            props: r.properties,
            ...(bool(r.properties.fail_delete) ? { fail: `Error: resources.${r.name}: Test Resource delete failed ${r.name}` } : {}),
          });
      }
      return steps;
    }
    const target = template?.resources ?? {};
    const ctx: ResolveContext = {
      params: template ? safeParams(this, template, params, stack) : {},
      attr: (r, a) => {
        const res = stack.resources.get(r);
        if (!res) return null;
        return a === undefined ? res.attributes : (res.attributes[a] ?? null);
      },
      resourceId: (r) => stack.resources.get(r)?.physicalId ?? null,
    };
    for (const [name, def] of Object.entries(target)) {
      const resolved = resolve(def.properties, ctx);
      const props = isObj(resolved) ? resolved : {};
      const cur = stack.resources.get(name);
      const failMsg = (): string | undefined => {
        if (action === 'ROLLBACK') {
          const curProps = cur?.properties ?? {};
          return bool(curProps.fail_rollback) ? `Error: resources.${name}: Test Resource rollback failed ${name}` : undefined;
        }
        return bool(props.fail) ? `ValueError: resources.${name}: Test Resource failed ${name}` : undefined;
      };
      if (!cur || cur.action === 'INIT' || (cur.action === 'CREATE' && cur.status !== 'COMPLETE') || cur.type !== def.type) {
        const f = failMsg();
        steps.push({ resource: name, kind: 'create', waitMs: ms(waitSeconds(def.type, props, 'create')), type: def.type, props, ...(f ? { fail: f } : {}) });
        continue;
      }
      const changed = !deepEqual(cur.properties, props) || cur.status === 'FAILED';
      if (!changed) continue;
      const valueChanged = !deepEqual(cur.properties.value, props.value);
      const replace =
        (def.type === 'OS::Heat::RandomString' && !deepEqual(cur.properties, props)) ||
        (bool(props.update_replace) && valueChanged) ||
        !deepEqual(cur.properties.update_replace_value, props.update_replace_value);
      const f = failMsg();
      if (replace) {
        const w = waitSeconds(def.type, props, 'create') + waitSeconds(cur.type, cur.properties, 'delete');
        steps.push({ resource: name, kind: 'replace', waitMs: ms(w), type: def.type, props, ...(f ? { fail: f } : {}) });
      } else {
        const w = valueChanged || action === 'ROLLBACK' ? waitSeconds(def.type, props, 'update') : 0;
        steps.push({ resource: name, kind: 'update', waitMs: ms(w), type: def.type, props, ...(f ? { fail: f } : {}) });
      }
    }
    for (const r of stack.resources.values()) {
      if (!(r.name in target)) {
        steps.push({ resource: r.name, kind: 'delete', waitMs: ms(waitSeconds(r.type, r.properties, 'delete')), type: r.type, props: r.properties });
      }
    }
    return steps;
  }

  #startOp(
    stack: StackRecord,
    action: StackAction,
    template: Template | null,
    params: Record<string, unknown>,
    opts: { retainResources?: boolean; pauseBeforeComplete?: boolean; info?: Record<string, unknown>; rollbackOf?: string; extraDelayMs?: number },
  ): Operation {
    const op: Operation = {
      id: this.#ids(),
      action,
      startedAt: this.clock.now(),
      pauseBeforeComplete: opts.pauseBeforeComplete ?? false,
      paused: false,
      retainResources: opts.retainResources ?? false,
      info: opts.info ?? {},
      timers: [],
      pending: new Set(),
      endsAt: new Map(),
      ...(opts.rollbackOf ? { rollbackOf: opts.rollbackOf } : {}),
    };
    stack.op = op;
    stack.operations.push(op);
    if (stack.operations.length > 100) stack.operations.splice(0, stack.operations.length - 100);
    if (action !== 'ROLLBACK') delete stack.rollbackOf;
    this.#setStatus(stack, action, 'IN_PROGRESS', `Stack ${action} started`, op.id);
    this.clock.clearTimer(stack.timeoutTimer);
    if (action !== 'DELETE' && stack.timeoutMins > 0) {
      stack.timeoutTimer = this.clock.setTimer(() => {
        if (stack.op !== op || op.outcome || op.paused) return;
        this.#stopOp(stack, 'FAILED', 'Timed out');
        this.#failed(stack, op, 'Timed out');
      }, stack.timeoutMins * 60_000);
    }
    const steps = this.#plan(stack, action, template, params, op.retainResources);
    const base = this.baseOperationMs * this.durationMultiplier + (opts.extraDelayMs ?? 0);
    for (const step of steps) {
      op.pending.add(step.resource);
      op.endsAt.set(step.resource, this.clock.now() + base + step.waitMs);
      const res = this.#beginStep(stack, op, step);
      op.timers.push(this.clock.setTimer(() => this.#endStep(stack, op, step, res), base + step.waitMs));
    }
    if (steps.length === 0) {
      op.timers.push(this.clock.setTimer(() => this.#finishOp(stack, op), base));
    }
    return op;
  }

  #beginStep(stack: StackRecord, op: Operation, step: Step): ResourceState {
    const now = this.clock.now();
    let res = stack.resources.get(step.resource);
    const stepAction: StackAction = step.kind === 'delete' ? 'DELETE' : step.kind === 'update' ? 'UPDATE' : 'CREATE';
    if (!res || step.kind === 'replace' || (step.kind === 'create' && res.type !== step.type)) {
      res = {
        name: step.resource,
        type: step.type,
        physicalId: '',
        action: 'INIT',
        status: 'COMPLETE',
        statusReason: '',
        properties: step.props,
        attributes: {},
        createdAt: now,
      };
      stack.resources.set(step.resource, res);
    }
    res.action = stepAction;
    res.status = 'IN_PROGRESS';
    // like TestResource.handle_update: the new value is stored when the update starts
    if (step.kind === 'update' && !step.fail && res.physicalId) res.attributes = this.#attributes(res, step.props);
    res.statusReason = 'state changed';
    res.updatedAt = now;
    this.#event(stack, op.id, {
      resourceName: res.name,
      physicalResourceId: res.physicalId,
      resourceType: res.type,
      action: stepAction,
      status: 'IN_PROGRESS',
      reason: 'state changed',
      stack: false,
    });
    return res;
  }

  #endStep(stack: StackRecord, op: Operation, step: Step, res: ResourceState): void {
    if (stack.op !== op || op.outcome) return;
    op.pending.delete(step.resource);
    if (step.fail) {
      res.status = 'FAILED';
      res.statusReason = step.fail;
      this.#event(stack, op.id, {
        resourceName: res.name,
        physicalResourceId: res.physicalId,
        resourceType: res.type,
        action: res.action,
        status: 'FAILED',
        reason: step.fail,
        stack: false,
      });
      const reason = `Resource ${res.action} failed: ${step.fail}`;
      this.#stopOp(stack, 'FAILED', reason);
      this.#failed(stack, op, reason);
      return;
    }
    if (step.kind === 'delete') {
      stack.resources.delete(step.resource);
    } else {
      if (!res.physicalId) res.physicalId = this.#ids();
      res.properties = step.props;
      res.attributes = this.#attributes(res, step.props);
    }
    res.status = 'COMPLETE';
    res.statusReason = 'state changed';
    res.updatedAt = this.clock.now();
    this.#event(stack, op.id, {
      resourceName: res.name,
      physicalResourceId: res.physicalId,
      resourceType: res.type,
      action: res.action,
      status: 'COMPLETE',
      reason: 'state changed',
      stack: false,
    });
    if (op.pending.size === 0) this.#finishOp(stack, op);
  }

  #attributes(res: ResourceState, props: Record<string, unknown>): Record<string, unknown> {
    switch (res.type) {
      case 'OS::Heat::TestResource':
        return { output: props.value ?? 'test_string' };
      case 'OS::Heat::Value':
        return { value: props.value ?? null };
      case 'OS::Heat::RandomString': {
        const prev = res.attributes.value;
        return { value: typeof prev === 'string' ? prev : randomString(num(props.length) ?? 32) };
      }
      case 'OS::Heat::None':
      case 'OS::Heat::Delay':
        return {};
      default:
        return { ...props, id: res.physicalId, output: props.value ?? 'test_string', value: props.value ?? 'test_string' };
    }
  }

  #finishOp(stack: StackRecord, op: Operation): void {
    if (stack.op !== op || op.outcome) return;
    if (op.pauseBeforeComplete) {
      op.paused = true;
      return;
    }
    this.clock.clearTimer(stack.timeoutTimer);
    op.outcome = 'COMPLETE';
    op.endedAt = this.clock.now();
    op.timers = [];
    if (op.action === 'DELETE') {
      stack.deleted = true;
      stack.deletedAt = this.clock.now();
      this.#byName.delete(`${stack.provider}/${stack.scope}/${stack.name}`);
    }
    this.#setStatus(stack, op.action, 'COMPLETE', `Stack ${op.action} completed successfully`, op.id);
  }

  #stopOp(stack: StackRecord, outcome: OpOutcome, reason?: string): void {
    const op = stack.op;
    if (!op || op.outcome) return;
    for (const t of op.timers) this.clock.clearTimer(t);
    op.timers = [];
    op.outcome = outcome;
    op.endedAt = this.clock.now();
    if (reason !== undefined) op.reason = reason;
    this.clock.clearTimer(stack.timeoutTimer);
    for (const name of op.pending) {
      const r = stack.resources.get(name);
      if (r && r.status === 'IN_PROGRESS') {
        r.status = 'FAILED';
        r.statusReason = outcome === 'SUPERSEDED' ? 'superseded' : (reason ?? outcome);
      }
    }
    op.pending.clear();
  }

  #failed(stack: StackRecord, op: Operation, reason: string): void {
    this.#setStatus(stack, op.action, 'FAILED', reason, op.id);
    // updateAlwaysRollsBack: ROS ignores DisableRollback during an update (UpdateStack API reference, seed 004)
    const rollback = op.action === 'UPDATE' && stack.extra.updateAlwaysRollsBack === true ? true : !stack.disableRollback;
    if ((op.action === 'CREATE' || op.action === 'UPDATE') && rollback) this.#startRollback(stack, op);
  }

  #startRollback(stack: StackRecord, failedOp: Operation, extraDelayMs = 0): void {
    const target = failedOp.action === 'CREATE' ? null : (stack.previous?.template ?? null);
    const params = failedOp.action === 'CREATE' ? {} : (stack.previous?.params ?? {});
    stack.rollbackOf = failedOp.action === 'CREATE' ? 'CREATE' : 'UPDATE';
    if (failedOp.action === 'CREATE') stack.previous = null;
    else {
      // the rollback target's template and parameters are the stack's from now on
      stack.template = target;
      stack.params = params;
    }
    this.#startOp(stack, 'ROLLBACK', target, params, { rollbackOf: failedOp.id, info: failedOp.info, extraDelayMs });
    stack.rollbackOf = failedOp.action === 'CREATE' ? 'CREATE' : 'UPDATE';
  }
}

export class AttributeUnavailable extends Error {}

function safeParams(engine: StackEngine, template: Template, params: Record<string, unknown>, stack: StackRecord): Record<string, unknown> {
  try {
    return engine.effectiveParams(template, params, stack);
  } catch {
    return { ...params };
  }
}
