// The one interface every stack-service adapter implements, the normalized stack view and the error
// taxonomy. The Stack controller only ever sees these types, so its decisions (retry, wait, cancel,
// give up) are the same for every provider.

export type ProviderType = 'heat' | 'rfs' | 'ros' | 'cloudfoundry';

/** Common phase over every provider's raw status. */
export type StackPhase =
  /** An operation runs; `operation` says which. */
  | 'InProgress'
  /** The last operation completed (create, update, rollback of a cancelled update counts as RolledBack). */
  | 'Complete'
  /** The last operation failed and nothing rolled it back. */
  | 'Failed'
  /** A failed or cancelled update/create was rolled back to the previous state. */
  | 'RolledBack'
  /** Rollback itself failed. */
  | 'RollbackFailed'
  /** Delete failed; the stack still exists. */
  | 'DeleteFailed'
  /** The stack is gone (deleted or DELETE_COMPLETE). */
  | 'Deleted';

export type StackOperation = 'create' | 'update' | 'delete' | 'rollback' | 'cancel';

export interface StackOutput {
  key: string;
  value: unknown;
  description?: string;
  /** The provider marks it sensitive (Heat `sensitive`, RFS `sensitive`, ROS NoEcho). */
  sensitive?: boolean;
}

export interface StackView {
  id: string;
  name: string;
  phase: StackPhase;
  /** The operation running (InProgress) or that last ran. */
  operation: StackOperation;
  /** The provider's own status string, e.g. UPDATE_IN_PROGRESS, DEPLOYMENT_COMPLETE, ACTIVE. */
  rawStatus: string;
  /** The provider's reason text, if any (never contains credentials). */
  reason?: string;
  /** Stack UID read back from the ownership tag or description mark; undefined when unmarked. */
  ownerUid?: string;
  /** The provider's own deletion-protection flag; undefined where the provider has none. */
  deletionProtection?: boolean;
  /** Outputs when the provider returns them with the stack (complete states). */
  outputs?: StackOutput[];
  /** Parameters as the provider reports them (non-secret values only). */
  parameters?: Record<string, string>;
  tags?: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
  /**
   * The stack exists only to hold the provider plan of its create and was never applied (no
   * resources): ROS REVIEW_IN_PROGRESS after a CREATE change set, an RFS stack made without a
   * template for an execution plan (docs/plan-approve.md). The controller treats it as not created yet.
   */
  planOnly?: boolean;
}

export interface StackEvent {
  id: string;
  time: string;
  resourceName?: string;
  status: string;
  reason?: string;
}

export type CancelMode = 'Rollback' | 'NoRollback';

export interface ProviderCapabilities {
  /** Cancel modes the service offers for an in-flight update; empty: no cancel (wait instead). */
  cancelModes: CancelMode[];
  /** Delete the stack record but keep its resources. */
  retainOnDelete: boolean;
  /** The service has its own deletion-protection flag. */
  nativeDeletionProtection: boolean;
  /** The service stores tags; otherwise ownership goes into the description. */
  tags: boolean;
  /** The service honours an idempotency token on mutations (ROS ClientToken, RFS Client-Request-Id). */
  idempotencyTokens: boolean;
}

/** Reference to an existing cloud stack. `id` is the guard: a same-name stack with another id is never hit. */
export interface StackRef {
  name: string;
  id?: string;
}

/** Everything needed to create or update a stack: the resolved desired state. */
export interface StackInput {
  name: string;
  /** Template body: a parsed object, or the raw string as the user wrote it (JSON or YAML). Unset with templateUrl. */
  template: unknown;
  /** Template the service fetches itself (Heat template_url, ROS TemplateURL, RFS template_uri). */
  templateUrl?: string;
  /** Extra files for templates that reference them (heat `files`). */
  files?: Record<string, string>;
  /** Heat environment (object), when given. */
  environment?: unknown;
  parameters: Record<string, string>;
  usePreviousParameters: boolean;
  disableRollback: boolean;
  timeoutMinutes: number;
  tags: Record<string, string>;
  /** The Stack's UID: written as an ownership tag (or description mark) on create. */
  ownerUid: string;
  deletionProtection: boolean;
  /** The provider-specific options block of the Stack spec (spec.providerOptions.<type>). */
  options: Record<string, unknown>;
}

/** Per-call context: the idempotency token (derived from uid, generation and operation) and abort. */
export interface CallContext {
  token: string;
  signal?: AbortSignal;
  /**
   * Optional: the Stack's provider options block (spec.providerOptions.<type>) for calls that take
   * no StackInput, e.g. cancelUpdate (ros `cancelType`). Adapters fall back to defaults without it.
   */
  options?: Record<string, unknown>;
  /**
   * create / update only: execute this approved provider plan (ROS ChangeSetId, RFS execution plan
   * id) instead of sending the input again, so exactly what was approved is applied.
   */
  providerPlanId?: string;
}

/** Per-preview context: the plan's token, and the provider plan it replaces (deleted by the preview). */
export interface PreviewContext extends CallContext {
  supersedes?: string;
  /** A create's plan: the stack that holds the superseded create plan (view.planOnly), if one does. */
  holder?: Required<StackRef>;
}

export interface ReadContext {
  signal?: AbortSignal;
}

export interface StackProviderClient {
  readonly type: ProviderType;
  readonly capabilities: ProviderCapabilities;
  /**
   * Read one stack. With `ref.id` the id must match (a re-created same-name stack is "not found");
   * with only a name, find by name. Returns null when absent or deleted.
   */
  get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null>;
  /** Start creating a stack; resolves with its id once the service accepted the request. */
  create(input: StackInput, ctx: CallContext): Promise<{ id: string }>;
  /** Start an update of the stack identified by ref (id required). */
  update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void>;
  /** Cancel the running update. Throws ProviderError kind 'Invalid' if mode is not in capabilities. */
  cancelUpdate(ref: Required<StackRef>, mode: CancelMode, ctx: CallContext): Promise<void>;
  /** Start deleting. retainResources: delete the stack record but keep resources (where capable). */
  delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void>;
  /** Mirror deletion protection to the provider's own flag (no-op where not capable). */
  setDeletionProtection(ref: Required<StackRef>, enabled: boolean, ctx: CallContext): Promise<void>;
  /** Outputs of a stack (complete states). */
  outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]>;
  /** Most recent events, newest first. */
  events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]>;
  /**
   * Optional (plan / approve, docs/plan-approve.md): what a create (`ref` unset) or an update of `ref`
   * with this input would do, without changing the stack. Absent: the provider has no preview yet.
   */
  preview?(input: StackInput, ref: Required<StackRef> | undefined, ctx: PreviewContext): Promise<StackPreview>;
  /** Cheap authenticated call proving endpoint and credentials work (for the provider's Ready). */
  checkConnection(ctx?: ReadContext): Promise<void>;
  /** Release sockets and timers. */
  close(): Promise<void>;
}

/** What a preview says happens to one resource. */
export type PlannedAction = 'Add' | 'Change' | 'Replace' | 'Remove';

export interface PlannedChange {
  /** Logical name in the template. */
  name: string;
  type: string;
  action: PlannedAction;
}

/** A provider's preview, normalized: the resources that change (unchanged ones are left out). */
export interface StackPreview {
  changes: PlannedChange[];
  /** The provider's own plan reference, where it keeps one (ROS ChangeSetId, RFS execution plan id). */
  providerPlanId?: string;
}

export type ProviderErrorKind =
  | 'NotFound'
  /** Conflict or action in progress: requeue and look again. */
  | 'Conflict'
  /** Rate limited: honour retryAfterMs. */
  | 'Throttled'
  /** Terminal: the request is wrong (template, parameter, name); `field` names what. */
  | 'Invalid'
  /** Terminal until credentials change. */
  | 'Unauthorized'
  /** Network errors, 5xx, timeouts: back off and retry. */
  | 'Transient';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  /** The provider's own error code (Heat error type, RF.xxxx, ROS Code, CF-xxx). */
  readonly code: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The offending field or parameter, for Invalid. */
  readonly field: string | undefined;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    details: { code?: string; httpStatus?: number; retryAfterMs?: number; field?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.code = details.code;
    this.httpStatus = details.httpStatus;
    this.retryAfterMs = details.retryAfterMs;
    this.field = details.field;
  }

  get terminal(): boolean {
    return this.kind === 'Invalid' || this.kind === 'Unauthorized';
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}
