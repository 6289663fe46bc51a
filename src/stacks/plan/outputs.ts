// Outputs are ensured, not only written on change (docs/stack-controller.md "Outputs"): the outputs
// Secret / ConfigMap is created when missing and rewritten when it no longer holds what the stack
// reports. An existing object that this Stack does not control is never touched: Stalled
// OutputTargetConflict, naming its owner.
import type { StackView } from '../../providers/types.ts';
import { type TargetKind, outputsHash } from '../output-data.ts';
import { REASONS } from '../reasons.ts';
import { eventOnce, withConditions } from './conditions.ts';
import { recheckDelay, targetOf } from './rules.ts';
import { type OutputTargets, type PlanCtx, type PlanInput, type Step, after, idle } from './step.ts';

const KINDS: { kind: TargetKind; field: 'secretName' | 'configMapName'; label: string }[] = [
  { kind: 'secret', field: 'secretName', label: 'Secret' },
  { kind: 'configMap', field: 'configMapName', label: 'ConfigMap' },
];

/**
 * `base` (a Ready or progressing Step after a completed stack) plus the outputs write it needs, if any.
 * `changed`: the outputs or the applied state changed in this plan (used where the view carries no
 * outputs to hash, e.g. rfs, whose outputs the executor reads).
 */
export function outputsStep(ctx: PlanCtx, view: StackView, base: Step, changed: boolean): Step {
  const spec = ctx.stack.spec.outputs ?? {};
  const observed = ctx.input.outputTargets ?? {};
  const targets: OutputTargets = {};
  for (const { kind, field, label } of KINDS) {
    const name = spec[field];
    if (!name) continue;
    const o = observed[kind] ?? { kind: 'absent' };
    if (o.kind === 'foreign') return conflict(ctx, base, label, name, field, o.owner);
    const stale = o.kind === 'absent' || (view.outputs ? o.hash !== outputsHash(view.outputs, kind) : changed);
    if (stale) targets[kind] = { name, ...(o.kind === 'ours' ? { resourceVersion: o.resourceVersion } : {}) };
  }
  if (!targets.secret && !targets.configMap) return base;
  return { ...base, action: { type: 'writeOutputs', ref: targetOf(ctx, view), targets, ...(view.outputs ? { outputs: view.outputs } : {}) } };
}

function conflict(ctx: PlanCtx, base: Step, label: string, name: string, field: string, owner: string): Step {
  const message =
    `${label} ${ctx.stack.metadata.namespace ?? ''}/${name} already exists and is not controlled by this Stack (${owner}); ` +
    `it is left untouched. Choose another spec.outputs.${field}, or delete that ${label} if it may go`;
  const st = withConditions(base.status, ctx.stack, 'stalled', REASONS.OutputTargetConflict, message, ctx.nowIso);
  return idle(st, after(recheckDelay(ctx, REASONS.OutputTargetConflict)), eventOnce(ctx.status0, REASONS.OutputTargetConflict, base.events, message));
}

/** Writing the outputs failed (e.g. an immutable Secret): shown in the conditions, retried with backoff. */
export function planOutputsFailure(input: PlanInput, step: Step, message: string): Step {
  const text = `writing the outputs failed: ${message}`;
  const st = withConditions(step.status, input.stack, 'failing', REASONS.OutputsFailed, text, new Date(input.now).toISOString());
  return idle(st, { type: 'backoff', message: text }, [{ type: 'Warning', reason: REASONS.OutputsFailed, message: text }]);
}
