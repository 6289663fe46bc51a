// Dependencies between Stacks (docs/dependencies.md): a Stack waits for the Stacks it depends on
// before any create or update, a cycle is Stalled, and a Stack others depend on is deleted only after
// them. The reconciler reads the facts from the cache; nothing here does I/O.
import { REASONS } from '../reasons.ts';
import { eventOnce, withConditions } from './conditions.ts';
import { recheckDelay } from './rules.ts';
import { type DependencyFacts, type EventSpec, type PlanCtx, type Step, after, idle } from './step.ts';
import type { StackStatus } from '../../api/v1alpha1/types.ts';

/** Stalled on a cycle, waiting for a dependency, or undefined when every dependency is satisfied. */
export function dependencyWait(ctx: PlanCtx, status: StackStatus, events: EventSpec[]): Step | undefined {
  const { stack, nowIso } = ctx;
  const cycle = ctx.input.dependencyCycle;
  if (cycle) {
    const message = `dependency cycle: ${cycle.join(' -> ')}; remove one of these spec.dependsOn or parametersFrom (kind: Stack) entries`;
    const st = withConditions(status, stack, 'stalled', REASONS.DependencyCycle, message, nowIso);
    return idle(st, after(recheckDelay(ctx, REASONS.DependencyCycle)), eventOnce(ctx.status0, REASONS.DependencyCycle, events, message));
  }
  const problems: string[] = [];
  for (const d of ctx.input.dependencies ?? []) {
    const p = problemOf(d, wantedOutputs(ctx, d.name));
    if (p) problems.push(p);
  }
  if (problems.length === 0) return undefined;
  const message = `waiting for dependencies: ${problems.join('; ')}`;
  // The dependency's own status change enqueues this Stack at once (the operator's dependency index);
  // the requeue is only a safety net.
  return idle(withConditions(status, stack, 'progressing', REASONS.WaitingForDependencies, message, nowIso), after(ctx.s.recheckCapMs), events);
}

/** The outputs of Stack `name` that this Stack reads through parametersFrom. */
function wantedOutputs(ctx: PlanCtx, name: string): string[] {
  return (ctx.stack.spec.parametersFrom ?? []).filter((p) => p.kind === 'Stack' && p.name === name && p.key).map((p) => p.key as string);
}

function problemOf(d: DependencyFacts, keys: string[]): string | undefined {
  if (!d.exists) return `Stack ${d.name} does not exist`;
  if (d.deleting) return `Stack ${d.name} is being deleted`;
  if (!d.ready) {
    const why = [d.suspended ? 'suspended' : '', d.readyReason ?? ''].filter(Boolean).join(', ');
    return `Stack ${d.name} is not Ready at its current generation${why ? ` (${why})` : ''}`;
  }
  const missing = keys.filter((k) => d.outputs?.[k] === undefined);
  if (missing.length === 0) return undefined;
  return (
    `Stack ${d.name} has no output ${missing.join(', ')} in status.outputs (only non-sensitive outputs can be wired; ` +
    'pass a sensitive one through its spec.outputs.secretName and parametersFrom kind: Secret)'
  );
}

/** Deletion waits while other Stacks depend on this one (deletionPolicy Retain is checked before). */
export function dependentsWait(ctx: PlanCtx): Step | undefined {
  const dependents = ctx.input.dependents ?? [];
  if (dependents.length === 0) return undefined;
  const message =
    `deletion waits until the Stacks that depend on this one are deleted: ${dependents.join(', ')} ` +
    '(delete them, remove the dependency, or set deletionPolicy: Retain to leave the cloud stack)';
  return idle(withConditions(ctx.status0, ctx.stack, 'progressing', REASONS.DependentsExist, message, ctx.nowIso), after(ctx.s.recheckCapMs));
}
