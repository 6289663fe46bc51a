// Alibaba ROS stack Status → normalized phase (2019-09-10 and the legacy 2015-09-01 API).
import type { PhaseOf } from '../heat/status.ts';
import type { StackOperation, StackPhase } from '../types.ts';

/**
 * | Status                                   | phase          | operation |
 * |------------------------------------------|----------------|-----------|
 * | CREATE_IN_PROGRESS                       | InProgress     | create    |
 * | CREATE_COMPLETE                          | Complete       | create    |
 * | CREATE_FAILED                            | Failed         | create    |
 * | CREATE_ROLLBACK_IN_PROGRESS              | InProgress     | rollback  |
 * | CREATE_ROLLBACK_COMPLETE                 | RolledBack     | rollback  |
 * | CREATE_ROLLBACK_FAILED                   | RollbackFailed | rollback  |
 * | UPDATE_IN_PROGRESS / _COMPLETE / _FAILED | InProgress / Complete / Failed | update |
 * | ROLLBACK_IN_PROGRESS / _COMPLETE / _FAILED | InProgress / RolledBack / RollbackFailed | rollback |
 * | DELETE_IN_PROGRESS                       | InProgress     | delete    |
 * | DELETE_FAILED                            | DeleteFailed   | delete    |
 * | DELETE_COMPLETE                          | Deleted        | delete    |
 * | CHECK_IN_PROGRESS / _COMPLETE / _FAILED  | InProgress / Complete / Failed | update |
 * | REVIEW_IN_PROGRESS                       | Complete       | create    | (a CREATE change set's stack: nothing runs; view.planOnly) |
 * | IMPORT_CREATE_* / IMPORT_UPDATE_*        | as CREATE_* / UPDATE_* (incl. _ROLLBACK_*)  |
 * | anything else                            | InProgress     | update    | (unknown: keep polling)
 */
export function rosPhase(status: string): PhaseOf {
  let s = status;
  if (s.startsWith('IMPORT_')) s = s.slice('IMPORT_'.length);
  // Nothing runs on it until the change set is executed; it can be deleted (docs/plan-approve.md).
  if (s === 'REVIEW_IN_PROGRESS') return { phase: 'Complete', operation: 'create' };
  const m = /^(CREATE_ROLLBACK|UPDATE_ROLLBACK|CREATE|UPDATE|ROLLBACK|DELETE|CHECK)_(IN_PROGRESS|COMPLETE|FAILED)$/.exec(s);
  if (!m) return { phase: 'InProgress', operation: 'update' };
  const family = m[1] ?? '';
  const st = m[2] ?? '';
  const rollback = family.endsWith('ROLLBACK');
  const operation: StackOperation = rollback ? 'rollback' : family === 'CREATE' ? 'create' : family === 'DELETE' ? 'delete' : 'update';
  let phase: StackPhase;
  if (st === 'IN_PROGRESS') phase = 'InProgress';
  else if (family === 'DELETE') phase = st === 'COMPLETE' ? 'Deleted' : 'DeleteFailed';
  else if (rollback) phase = st === 'COMPLETE' ? 'RolledBack' : 'RollbackFailed';
  else phase = st === 'COMPLETE' ? 'Complete' : 'Failed';
  return { phase, operation };
}
