// TypeScript shapes of the v1alpha1 API. schemas.ts is the source of truth (CRDs, validation);
// these mirror it field by field, and test/unit/api/types.test.ts checks the two stay in step.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface SecretReference {
  name: string;
  namespace?: string;
}

export interface HeatProviderSpec {
  authUrl: string;
  endpoint?: string;
  region?: string;
  interface?: 'public' | 'internal' | 'admin';
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  userDomainName?: string;
  credentialsSecretRef: SecretReference;
}

export interface RfsProviderSpec {
  endpoint?: string;
  region: string;
  projectId: string;
  credentialsSecretRef: SecretReference;
}

export interface RosProviderSpec {
  endpoint?: string;
  regionId: string;
  apiVersion?: '2019-09-10' | '2015-09-01';
  signatureVersion?: 'ACS3-HMAC-SHA256' | 'HMAC-SHA1';
  credentialsSecretRef: SecretReference;
}

export interface CloudFoundryProviderSpec {
  apiUrl: string;
  uaaUrl?: string;
  spaceGuid: string;
  credentialsSecretRef: SecretReference;
}

export interface StackProviderSpec {
  heat?: HeatProviderSpec;
  rfs?: RfsProviderSpec;
  ros?: RosProviderSpec;
  cloudFoundry?: CloudFoundryProviderSpec;
  /** Allow http:// endpoints (emulator, tests). Default false. */
  allowPlainHTTP?: boolean;
  tls?: { caBundle?: string; insecureSkipVerify?: boolean };
  rateLimit?: { qps?: number; burst?: number };
  pollInterval?: string;
  resyncInterval?: string;
  adoption?: 'Allowed' | 'Disallowed';
  /** ClusterStackProvider only. */
  namespaceSelector?: LabelSelector;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface StackProviderStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  type?: string;
  lastCheckedTime?: string;
}

export interface StackProvider {
  apiVersion: 'stackoperator.dev/v1alpha1';
  kind: 'StackProvider' | 'ClusterStackProvider';
  metadata: ObjectMeta;
  spec: StackProviderSpec;
  status?: StackProviderStatus;
}

export type ProviderKind = 'StackProvider' | 'ClusterStackProvider';
export type DeletionPolicy = 'Delete' | 'Retain' | 'RetainResources';
export type OnSpecChangeDuringUpdate = 'CancelAndUpdate' | 'WaitAndUpdate';
export type CancelModeSpec = 'Rollback' | 'NoRollback';

export interface TemplateSource {
  inline?: unknown;
  configMapRef?: { name: string; key: string };
  url?: string;
}

export interface ParametersFromSource {
  kind: 'Secret' | 'ConfigMap' | 'Stack';
  name: string;
  key?: string;
  parameter?: string;
  optional?: boolean;
}

export interface ProviderOptions {
  heat?: { environment?: Record<string, unknown>; files?: Record<string, string> };
  rfs?: { enableAutoRollback?: boolean; agencies?: { providerName: string; agencyName: string }[] };
  ros?: {
    replacementOption?: 'Enabled' | 'Disabled';
    stackPolicyBody?: Record<string, unknown>;
    stackPolicyURL?: string;
    stackPolicyDuringUpdateBody?: Record<string, unknown>;
    stackPolicyDuringUpdateURL?: string;
    ramRoleName?: string;
    cancelType?: 'Safe' | 'Quick';
    parallelism?: number;
  };
  cloudFoundry?: {
    appName?: string;
    strategy?: 'rolling' | 'canary';
    dropletGuid?: string;
    revisionGuid?: string;
    maxInFlight?: number;
    canarySteps?: number[];
  };
}

export interface StackSpec {
  providerRef: { kind?: ProviderKind; name: string };
  stackName?: string;
  template: TemplateSource;
  parameters?: Record<string, string>;
  parametersFrom?: ParametersFromSource[];
  dependsOn?: { name: string }[];
  usePreviousParameters?: boolean;
  disableRollback?: boolean;
  timeoutMinutes?: number;
  tags?: Record<string, string>;
  deletionPolicy?: DeletionPolicy;
  deletionProtection?: boolean;
  updatePolicy?: { onSpecChangeDuringUpdate?: OnSpecChangeDuringUpdate; cancelMode?: CancelModeSpec };
  suspend?: boolean;
  outputs?: { secretName?: string; configMapName?: string };
  providerOptions?: ProviderOptions;
  approval?: { mode?: ApprovalMode };
}

export type ApprovalMode = 'Automatic' | 'Manual';
export type PlanAction = 'Add' | 'Change' | 'Replace' | 'Remove';

export interface PlanChange {
  name: string;
  type: string;
  action: PlanAction;
  replacement: boolean;
}

export interface StackPlan {
  id: string;
  generation: number;
  hash?: string;
  operation: 'Create' | 'Update';
  createdAt: string;
  summary: { add: number; change: number; replace: number; remove: number };
  summaryText?: string;
  changes?: PlanChange[];
  truncated?: boolean;
  providerPlanId?: string;
}

export type OperationType = 'Create' | 'Update' | 'CancelUpdate' | 'Delete';

export interface OperationRecord {
  type: OperationType;
  generation: number;
  hash?: string;
  token: string;
  startedAt: string;
  reason?: string;
  attempt?: number;
  issuedAt?: string;
  cancelRequested?: boolean;
  cancelIssuedAt?: string;
  cancelReason?: string;
  sentAt?: string;
  observedUpdatedAt?: string;
  observedOperation?: string;
  recordedDuringRead?: boolean;
  providerPlanId?: string;
}

export interface StackStatus {
  observedGeneration?: number;
  stackId?: string;
  stackName?: string;
  providerType?: string;
  stackStatus?: string;
  stackStatusReason?: string;
  conditions?: Condition[];
  outputs?: Record<string, string>;
  operation?: OperationRecord;
  lastAppliedGeneration?: number;
  lastAppliedHash?: string;
  blockedHash?: string;
  lastHandledCancelRequest?: string;
  lastHandledReconcileRequest?: string;
  deletionProtection?: boolean;
  mirroredDeletionProtection?: boolean;
  lastError?: string;
  nextRetryAt?: string;
  failures?: number;
  plan?: StackPlan;
  lastHandledApproval?: string;
}

export interface Stack {
  apiVersion: 'stackoperator.dev/v1alpha1';
  kind: 'Stack';
  metadata: ObjectMeta;
  spec: StackSpec;
  status?: StackStatus;
}

// Annotations and finalizer names are part of the public contract (docs/api.md).
export const FINALIZER = 'stackoperator.dev/finalizer';
export const ANNOTATION_CANCEL_UPDATE = 'stackoperator.dev/cancel-update';
export const ANNOTATION_RECONCILE_REQUESTED_AT = 'stackoperator.dev/reconcile-requested-at';
export const ANNOTATION_ADOPT = 'stackoperator.dev/adopt';
export const ANNOTATION_APPROVE = 'stackoperator.dev/approve';
