// Huawei RFS stack status → normalized phase.
import type { PhaseOf } from '../heat/status.ts';

/**
 * | status                 | phase          | operation |
 * |------------------------|----------------|-----------|
 * | CREATION_COMPLETE      | Complete       | create    |
 * | DEPLOYMENT_IN_PROGRESS | InProgress     | update    |
 * | DEPLOYMENT_COMPLETE    | Complete       | update    |
 * | DEPLOYMENT_FAILED      | Failed         | update    |
 * | ROLLBACK_IN_PROGRESS   | InProgress     | rollback  |
 * | ROLLBACK_COMPLETE      | RolledBack     | rollback  |
 * | ROLLBACK_FAILED        | RollbackFailed | rollback  |
 * | DELETION_IN_PROGRESS   | InProgress     | delete    |
 * | DELETION_FAILED        | DeleteFailed   | delete    |
 * | DELETION_COMPLETE      | Deleted        | delete    | (not documented; the stack normally 404s)
 * | other *_IN_PROGRESS    | InProgress     | update    |
 * | other *_FAILED         | Failed         | update    |
 * | anything else          | InProgress     | update    | (unknown: keep polling)
 * A create with a template is a DEPLOYMENT_*: the controller knows from its own operation record
 * whether that deployment was the create.
 */
const TABLE: Record<string, PhaseOf> = {
  CREATION_COMPLETE: { phase: 'Complete', operation: 'create' },
  DEPLOYMENT_IN_PROGRESS: { phase: 'InProgress', operation: 'update' },
  DEPLOYMENT_COMPLETE: { phase: 'Complete', operation: 'update' },
  DEPLOYMENT_FAILED: { phase: 'Failed', operation: 'update' },
  ROLLBACK_IN_PROGRESS: { phase: 'InProgress', operation: 'rollback' },
  ROLLBACK_COMPLETE: { phase: 'RolledBack', operation: 'rollback' },
  ROLLBACK_FAILED: { phase: 'RollbackFailed', operation: 'rollback' },
  DELETION_IN_PROGRESS: { phase: 'InProgress', operation: 'delete' },
  DELETION_FAILED: { phase: 'DeleteFailed', operation: 'delete' },
  DELETION_COMPLETE: { phase: 'Deleted', operation: 'delete' },
};

export function rfsPhase(status: string): PhaseOf {
  const known = TABLE[status];
  if (known) return known;
  if (status.endsWith('_FAILED')) return { phase: 'Failed', operation: 'update' };
  return { phase: 'InProgress', operation: 'update' };
}
