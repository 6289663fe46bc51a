// Heat / RTS raw stack_status → normalized phase. stack_status is ACTION_STATUS.
import type { StackOperation, StackPhase } from '../types.ts';

export interface PhaseOf {
  phase: StackPhase;
  operation: StackOperation;
}

const ACTION_OP: Record<string, StackOperation> = {
  CREATE: 'create',
  ADOPT: 'create',
  UPDATE: 'update',
  RESTORE: 'update',
  CHECK: 'update',
  SUSPEND: 'update',
  RESUME: 'update',
  SNAPSHOT: 'update',
  ROLLBACK: 'rollback',
  DELETE: 'delete',
};

/**
 * | stack_status                         | phase          | operation |
 * |--------------------------------------|----------------|-----------|
 * | *_IN_PROGRESS                        | InProgress     | by action |
 * | CREATE/UPDATE/ADOPT/RESTORE_COMPLETE | Complete       | by action |
 * | CHECK/SUSPEND/RESUME/SNAPSHOT_COMPLETE | Complete     | update    |
 * | CREATE/UPDATE/ADOPT/RESTORE/CHECK/SUSPEND/RESUME/SNAPSHOT_FAILED | Failed | by action |
 * | ROLLBACK_COMPLETE                    | RolledBack     | rollback  |
 * | ROLLBACK_FAILED                      | RollbackFailed | rollback  |
 * | DELETE_FAILED                        | DeleteFailed   | delete    |
 * | DELETE_COMPLETE                      | Deleted        | delete    |
 * | anything else                        | InProgress     | update (unknown: keep polling) |
 */
export function heatPhase(stackStatus: string): PhaseOf {
  const m = /^([A-Z]+)_(IN_PROGRESS|COMPLETE|FAILED)$/.exec(stackStatus);
  if (!m) return { phase: 'InProgress', operation: 'update' };
  const action = m[1] ?? '';
  const status = m[2];
  const operation = ACTION_OP[action] ?? 'update';
  if (status === 'IN_PROGRESS') return { phase: 'InProgress', operation };
  if (action === 'DELETE') return { phase: status === 'COMPLETE' ? 'Deleted' : 'DeleteFailed', operation };
  if (action === 'ROLLBACK') return { phase: status === 'COMPLETE' ? 'RolledBack' : 'RollbackFailed', operation };
  return { phase: status === 'COMPLETE' ? 'Complete' : 'Failed', operation };
}
