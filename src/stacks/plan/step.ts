// The planner's vocabulary: what it reads (PlanInput), what it returns (Step) and the constructors
// every phase uses, so no Step is built by hand elsewhere. A Step carries everything the executor
// needs: the provider call with its full input, the status to write before and after it, the events,
// and what happens next. The executor maps it to effects and decides nothing.
import type { OperationRecord, Stack, StackStatus } from '../../api/v1alpha1/types.ts';
import type {
  CancelMode,
  ProviderCapabilities,
  ProviderErrorKind,
  ProviderType,
  StackInput,
  StackOutput,
  StackView,
} from '../../providers/types.ts';
import type { Reason } from '../reasons.ts';

export interface ProviderInfo {
  type: ProviderType;
  capabilities: ProviderCapabilities;
  pollIntervalMs: number;
  resyncIntervalMs: number;
  /** spec.adoption of the provider object: whether the adopt annotation may take an existing stack. */
  adoption: 'Allowed' | 'Disallowed';
  /** The client can preview a create / update (spec.approval.mode Manual needs it). */
  preview?: boolean;
}

/** A problem found before the provider is asked anything (missing provider, template, Secret...). */
export interface ResolveError {
  reason: Reason;
  message: string;
  /** True when it may fix itself (e.g. a provider not Ready yet): retried with backoff, not Stalled. */
  transient?: boolean;
}

export type Observed =
  /** ownerLive: the stack's owner UID is a Stack that exists (read from the cache); never adopted then. */
  | { kind: 'found'; view: StackView; ownerLive?: boolean }
  | { kind: 'absent' }
  /** Not read (suspended, provider unresolved) or the read failed; the planner must not act on it. */
  | { kind: 'unknown' };

/** A failed provider call (a read or a mutation), as classified by the provider layer. */
export interface CallFailure {
  kind: ProviderErrorKind;
  message: string;
  retryAfterMs?: number;
  field?: string;
}

export interface PlanInput {
  stack: Stack;
  provider: ProviderInfo | { error: ResolveError };
  desired: { hash: string; input: StackInput } | { error: ResolveError };
  observed: Observed;
  /** Set when reading the provider's view failed: the planner never acts on a guess. */
  readFailure?: CallFailure;
  /** The outputs Secret / ConfigMap named in spec.outputs, as read (unset: not read). */
  outputTargets?: { secret?: TargetObservation; configMap?: TargetObservation };
  /** Milliseconds since the epoch. */
  now: number;
  /** A random number in [0, 1), used to jitter the resync interval. */
  jitter: number;
  settings?: Partial<PlannerSettings>;
  /** The Stacks this one depends on, as the reconciler read them from the cache (docs/dependencies.md). */
  dependencies?: DependencyFacts[];
  /** A dependency cycle through this Stack (a -> b -> a), found over the operator's dependency index. */
  dependencyCycle?: string[];
  /** Stacks of the namespace that depend on this one (read while it is being deleted). */
  dependents?: string[];
  /**
   * `observed` is the view of the previous read, and the operation record of a create / update this
   * plan starts is written while the new read runs (its record is marked `recordedDuringRead`;
   * src/stacks/record-during-read.ts).
   */
  recordDuringRead?: boolean;
}

/** One dependency as read from the cache: whether it exists, is Ready at its generation, its outputs. */
export interface DependencyFacts {
  name: string;
  exists: boolean;
  deleting?: boolean;
  suspended?: boolean;
  /** Ready=True at its current generation. */
  ready?: boolean;
  readyReason?: string;
  /** Its status.outputs (non-sensitive outputs only). */
  outputs?: Record<string, string>;
}

export interface PlannerSettings {
  /** Attempts of one desired state (create/update that ended Failed) before Stalled RetriesExhausted. */
  maxAttempts: number;
  /** First retry delay after a failed operation; doubles per attempt, capped. */
  retryBaseMs: number;
  retryCapMs: number;
  /** Grace after timeoutMinutes before the operator cancels an update itself. */
  timeoutGraceMs: number;
  /** How long a just-created stack may stay invisible (eventual consistency) before the create is retried. */
  createVisibilityGraceMs: number;
  /** Shortest and longest wait between re-checks of a Stack Stalled on something outside it (a missing Secret...). */
  recheckBaseMs: number;
  recheckCapMs: number;
}

export const DEFAULT_SETTINGS: PlannerSettings = {
  maxAttempts: 3,
  retryBaseMs: 30_000,
  retryCapMs: 10 * 60_000,
  timeoutGraceMs: 5 * 60_000,
  createVisibilityGraceMs: 60_000,
  recheckBaseMs: 30_000,
  recheckCapMs: 10 * 60_000,
};

/** The cloud stack a call addresses: its name and the id guard (a same-name stack with another id is never hit). */
export interface TargetRef {
  name: string;
  id: string;
}

/** An outputs target as read: missing, someone else's, or ours (controlled by this Stack). */
export type TargetObservation =
  | { kind: 'absent' }
  | { kind: 'foreign'; owner: string }
  | { kind: 'ours'; resourceVersion: string; hash?: string };

/** One outputs object to write: created when resourceVersion is unset, else replaced at that version. */
export interface OutputTarget {
  name: string;
  resourceVersion?: string;
}

export interface OutputTargets {
  secret?: OutputTarget;
  configMap?: OutputTarget;
}

export type MutationAction =
  /** providerPlanId: execute that approved provider plan (docs/plan-approve.md) rather than send `input` again. */
  | { type: 'create'; token: string; input: StackInput; providerPlanId?: string }
  | { type: 'update'; token: string; ref: TargetRef; input: StackInput; providerPlanId?: string }
  | { type: 'cancelUpdate'; token: string; ref: TargetRef; mode: CancelMode; options?: Record<string, unknown> }
  | { type: 'delete'; token: string; ref: TargetRef; retainResources: boolean; options?: Record<string, unknown> }
  | { type: 'setDeletionProtection'; token: string; ref: TargetRef; enabled: boolean };

export type Action =
  | { type: 'none' }
  | { type: 'addFinalizer' }
  | { type: 'removeFinalizer' }
  /** Write the outputs to the Secret / ConfigMap named in spec.outputs; `outputs` unset: read them first. */
  | { type: 'writeOutputs'; ref: TargetRef; targets: OutputTargets; outputs?: StackOutput[] }
  /**
   * Ask the provider what the create / update of `input` would do (no change to the stack) and record
   * the answer as status.plan with `plan`'s identity (docs/plan-approve.md). `ref` of a Create: the
   * stack that holds the superseded create plan (view.planOnly); `supersedes`: the provider plan this
   * one replaces, deleted by the provider layer so no stale provider plan is left behind.
   */
  | { type: 'preview'; operation: 'Create' | 'Update'; input: StackInput; ref?: TargetRef; plan: PlanIdentity; supersedes?: string }
  | MutationAction;

/** What identifies a plan: it is valid only for this generation and desired-state hash. */
export interface PlanIdentity {
  id: string;
  generation: number;
  hash: string;
  createdAt: string;
}

/** What happens once the Step is taken. */
export type Next =
  /** Wait for a change of the object or of a watched source. */
  | { type: 'await' }
  /** background: a periodic re-read of a settled Stack, queued behind new and changed ones (docs/runtime.md). */
  | { type: 'requeue'; afterMs: number; background?: true }
  /** Plan again in this reconcile with the object as written (never after a provider mutation). */
  | { type: 'replan' }
  /** Fail the reconcile so that the work queue's per-key exponential backoff applies. */
  | { type: 'backoff'; message: string };

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Step {
  action: Action;
  /**
   * The status to hold once the Step is taken. For a provider mutation this is written BEFORE the call
   * (it carries the operation record); `afterCall` is merged in once the provider accepted it.
   */
  status: StackStatus;
  afterCall?: Partial<StackStatus>;
  events: EventSpec[];
  next: Next;
}

export const AWAIT: Next = { type: 'await' };
export const REPLAN: Next = { type: 'replan' };
export const after = (afterMs: number): Next => ({ type: 'requeue', afterMs: Math.max(0, afterMs) });
/** The resync of a settled Stack: low priority in the work queue, like the informer's initial list. */
export const resyncAfter = (afterMs: number): Next => ({ type: 'requeue', afterMs: Math.max(0, afterMs), background: true });

/** A Step without a provider call: write the status (when it changed) and the events. */
export function idle(status: StackStatus, next: Next, events: EventSpec[] = []): Step {
  return { action: { type: 'none' }, status, events, next };
}

/** A provider mutation: `status` (with the operation record) first, the call, then `afterCall`. */
export function mutate(action: MutationAction, status: StackStatus, afterCall: Partial<StackStatus>, next: Next, events: EventSpec[]): Step {
  return { action, status, afterCall, events, next };
}

export function isMutation(action: Action): action is MutationAction {
  return action.type === 'create' || action.type === 'update' || action.type === 'cancelUpdate' || action.type === 'delete' || action.type === 'setDeletionProtection';
}

/** What every phase function receives: the input and values derived once per plan. */
export interface PlanCtx {
  input: PlanInput;
  stack: Stack;
  s: PlannerSettings;
  nowIso: string;
  gen: number;
  /** The status as it was read, before this plan changed anything. */
  status0: StackStatus;
}

export type { OperationRecord };
