// Cloud Foundry: the stack is an app; its phase comes from the app's latest deployment
// (status.value / status.reason), from a pending delete job, or from the app alone.
import type { PhaseOf } from '../heat/status.ts';

/**
 * | source                         | raw status (rawStatus)        | phase          | operation |
 * |--------------------------------|-------------------------------|----------------|-----------|
 * | deployment                     | ACTIVE/DEPLOYING              | InProgress     | update    |
 * | deployment (canary)            | ACTIVE/PAUSED                 | InProgress     | update    | (waits for continue)
 * | deployment                     | ACTIVE/CANCELING              | InProgress     | cancel    |
 * | deployment                     | FINALIZED/DEPLOYED            | Complete       | update    |
 * | deployment                     | FINALIZED/CANCELED            | RolledBack     | rollback  | (previous droplet restored)
 * | deployment                     | FINALIZED/SUPERSEDED          | Complete       | update    |
 * | deployment                     | ACTIVE/<other>                | InProgress     | update    |
 * | deployment                     | FINALIZED/<other>             | Failed         | update    |
 * | app, no deployment             | APP_<state> (STARTED/STOPPED) | Complete       | create    |
 * | delete job                     | DELETE_PROCESSING / DELETE_POLLING | InProgress | delete    |
 * | delete job                     | DELETE_FAILED                 | DeleteFailed   | delete    |
 * | delete job                     | DELETE_COMPLETE               | Deleted        | delete    |
 */
export function cfDeploymentPhase(value: string, reason: string): PhaseOf {
  if (value === 'ACTIVE') {
    if (reason === 'CANCELING') return { phase: 'InProgress', operation: 'cancel' };
    return { phase: 'InProgress', operation: 'update' };
  }
  if (value === 'FINALIZED') {
    if (reason === 'DEPLOYED' || reason === 'SUPERSEDED') return { phase: 'Complete', operation: 'update' };
    if (reason === 'CANCELED') return { phase: 'RolledBack', operation: 'rollback' };
    return { phase: 'Failed', operation: 'update' };
  }
  return { phase: 'InProgress', operation: 'update' };
}

export function cfJobPhase(state: string): PhaseOf {
  if (state === 'COMPLETE') return { phase: 'Deleted', operation: 'delete' };
  if (state === 'FAILED') return { phase: 'DeleteFailed', operation: 'delete' };
  return { phase: 'InProgress', operation: 'delete' };
}
