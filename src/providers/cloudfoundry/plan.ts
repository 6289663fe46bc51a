// Cloud Foundry has no preview API: the plan of a create / update is computed by the operator from
// reads only (docs/plan-approve.md). The "resources" are the app, each environment variable (by name;
// values never leave the cluster in a plan) and the deployment that rolls the app out. Pure (tested).
import type { PlannedChange } from '../types.ts';
import type { CfDeploymentSpec } from './client.ts';

const ENV = 'cf:environment_variable';

/** What create() does: the app, its variables, and a deployment when a droplet or revision is given. */
export function cfCreatePlan(appName: string, params: Record<string, string>, spec: CfDeploymentSpec): PlannedChange[] {
  return [
    { name: appName, type: 'cf:app', action: 'Add' },
    ...Object.keys(params).map((k): PlannedChange => ({ name: `env.${k}`, type: ENV, action: 'Add' })),
    ...(spec.dropletGuid || spec.revisionGuid ? [deployment(spec)] : []),
  ];
}

/**
 * What update() does: variables set (or, without usePreviousParameters, removed when no longer given),
 * then a new deployment, which replaces the running instances (rolling or canary).
 */
export function cfUpdatePlan(current: Record<string, unknown>, params: Record<string, string>, merge: boolean, spec: CfDeploymentSpec): PlannedChange[] {
  const changes: PlannedChange[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (!(k in current)) changes.push({ name: `env.${k}`, type: ENV, action: 'Add' });
    else if (String(current[k]) !== v) changes.push({ name: `env.${k}`, type: ENV, action: 'Change' });
  }
  if (!merge) for (const k of Object.keys(current)) if (!(k in params)) changes.push({ name: `env.${k}`, type: ENV, action: 'Remove' });
  changes.push(deployment(spec));
  return changes;
}

function deployment(spec: CfDeploymentSpec): PlannedChange {
  const what = spec.dropletGuid ? `droplet ${spec.dropletGuid}` : spec.revisionGuid ? `revision ${spec.revisionGuid}` : 'current droplet';
  return { name: `deployment (${spec.strategy ?? 'rolling'}, ${what})`, type: 'cf:deployment', action: 'Add' };
}
