// Writing a new operation's record while the provider read runs (issue 16, reaction latency;
// docs/stack-controller.md, "The record written during the read").
//
// A reconcile reads the provider, plans, and a create / update writes its operation record before the
// call: read + status write + call, one after the other. When the reconciler holds the view of the
// Stack's previous read and the spec changed, it plans with that view at once and, if the Step starts an
// update, writes its record while the new read runs. The call is made only if the Step planned with
// the new view is the same Step (same record, same observed update time): the record then says exactly
// what the usual order would have written. Otherwise the new Step is taken, written over the early record.
//
// A crash before the new read ended leaves a record whose observed update time may predate a change
// made outside since the previous read; the record is marked `recordedDuringRead`, and recovery then
// also requires the change to be no older than the record (plan/settled.ts, neverLanded). Once the new
// read confirmed the record, that clock rule must not decide (a provider clock behind ours would send
// a landed call again): the call's confirmation is written right after it (executor.ts) and a lost
// reply's `sentAt` drops the mark (plan/failure.ts).
import type { StackView } from '../providers/types.ts';
import { objectKey } from '../runtime/kube-client.ts';
import type { StackObject } from './context.ts';
import { isMutation, type Step } from './plan/index.ts';

interface Held {
  uid: string;
  view: StackView;
}

/** The view of each Stack's last provider read, without outputs, parameters and tags (not planned on). */
export class LastViews {
  /** By reconcile key (namespace/name), checked against the UID: a Stack re-created under the name starts over. */
  readonly #byKey = new Map<string, Held>();

  remember(stack: StackObject, view: StackView | undefined): void {
    const uid = stack.metadata.uid;
    if (!view || !uid) this.#byKey.delete(objectKey(stack));
    else this.#byKey.set(objectKey(stack), { uid, view: compact(view) });
  }

  get(stack: StackObject): StackView | undefined {
    const held = this.#byKey.get(objectKey(stack));
    return held && held.uid === stack.metadata.uid ? held.view : undefined;
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }

  get size(): number {
    return this.#byKey.size;
  }
}

/**
 * Whether a reconcile may plan on the previous view and write a record during the read: the spec changed
 * since it was last observed, nothing is in flight, the Stack is not being deleted. Other reconciles
 * (resyncs, polls) plan once, after the read, as before.
 */
export function mayRecordDuringRead(stack: StackObject): boolean {
  const st = stack.status;
  return st !== undefined && st.operation === undefined && !stack.metadata.deletionTimestamp && st.observedGeneration !== stack.metadata.generation;
}

/** A Step planned on the previous view whose record may be written before the new view is in: a new create / update. */
export function recordable(step: Step): boolean {
  const op = step.status.operation;
  return isMutation(step.action) && (step.action.type === 'create' || step.action.type === 'update') && op?.recordedDuringRead === true && op.issuedAt === undefined;
}

function compact(view: StackView): StackView {
  const { outputs: _o, parameters: _p, tags: _t, ...rest } = view;
  return rest;
}
