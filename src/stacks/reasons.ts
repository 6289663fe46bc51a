// Condition reasons: CamelCase, from this fixed set only (kstatus and kubectl users match on them).
export const REASONS = {
  // Ready=True
  Succeeded: 'Succeeded',
  // Reconciling=True
  Progressing: 'Progressing',
  Creating: 'Creating',
  Updating: 'Updating',
  Deleting: 'Deleting',
  RollingBack: 'RollingBack',
  Cancelling: 'Cancelling',
  WaitingForOperation: 'WaitingForOperation',
  Throttled: 'Throttled',
  ProviderUnavailable: 'ProviderUnavailable',
  RetryScheduled: 'RetryScheduled',
  CreateFailed: 'CreateFailed',
  UpdateFailed: 'UpdateFailed',
  DeleteFailed: 'DeleteFailed',
  ProviderNotReady: 'ProviderNotReady',
  OutputsFailed: 'OutputsFailed',
  AwaitingApproval: 'AwaitingApproval',
  WaitingForDependencies: 'WaitingForDependencies',
  DependentsExist: 'DependentsExist',
  // Stalled=True: needs a change to the spec, a credential, or an explicit retry
  InvalidSpec: 'InvalidSpec',
  TemplateNotFound: 'TemplateNotFound',
  TemplateTooLarge: 'TemplateTooLarge',
  ParametersNotFound: 'ParametersNotFound',
  ProviderNotFound: 'ProviderNotFound',
  CredentialsInvalid: 'CredentialsInvalid',
  Unauthorized: 'Unauthorized',
  StackNameConflict: 'StackNameConflict',
  UpdateCancelled: 'UpdateCancelled',
  UpdateTimedOut: 'UpdateTimedOut',
  RetriesExhausted: 'RetriesExhausted',
  ProviderStackFailed: 'ProviderStackFailed',
  DeletionProtected: 'DeletionProtected',
  RetainResourcesUnsupported: 'RetainResourcesUnsupported',
  OutputTargetConflict: 'OutputTargetConflict',
  ProviderNotAllowed: 'ProviderNotAllowed',
  DependencyCycle: 'DependencyCycle',
  // Ready keeps its status
  Suspended: 'Suspended',
  // operation.cancelReason values
  SpecChanged: 'SpecChanged',
  CancelRequested: 'CancelRequested',
} as const;

export type Reason = (typeof REASONS)[keyof typeof REASONS];
