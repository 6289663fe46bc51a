// What the provider confirmed about an accepted create / update (the stack id, issuedAt), held in memory
// until the Stack's next status write carries it, instead of a status write of its own right after the
// call (issue #16: fewer writes per new Stack; docs/benchmarks.md).
//
// Why this is safe: the operation record was persisted before the call, so losing this memory (a crash
// or a new leader) leaves exactly the state of a crash between the call and its confirmation, which
// the planner resumes from (settled.ts neverLanded, absent.ts, in-progress.ts; the crash suite's
// `after-provider-call` cases). While the process lives, the reconciler plans with the confirmation
// laid over the persisted status, so planning and provider reads (by stack id) are as if it had been
// written, and the next status write persists it because it is diffed against the persisted status.
import type { StackStatus } from '../api/v1alpha1/types.ts';
import { objectKey } from '../runtime/kube-client.ts';
import type { StackObject } from './context.ts';

interface Accepted {
  uid: string;
  token: string;
  confirmed: Partial<StackStatus>;
}

export class AcceptedCalls {
  /** By the Stack's namespace/name, the reconcile key (a Stack deleted meanwhile is forgotten by key). */
  readonly #byKey = new Map<string, Accepted>();

  /** Records the confirmation of the call with operation token `token` on this Stack. */
  remember(stack: StackObject, token: string, confirmed: Partial<StackStatus>): void {
    const uid = stack.metadata.uid;
    if (uid) this.#byKey.set(objectKey(stack), { uid, token, confirmed });
  }

  /**
   * The Stack as the planner should see it: with a remembered confirmation laid over its status while
   * the persisted record is still that call's and unconfirmed. A confirmation that was persisted, or
   * whose operation is no longer the recorded one, is forgotten.
   */
  view(stack: StackObject): StackObject {
    const key = objectKey(stack);
    const held = this.#byKey.get(key);
    if (!held) return stack;
    const op = stack.status?.operation;
    if (held.uid !== stack.metadata.uid || op?.token !== held.token || op.issuedAt !== undefined) {
      this.#byKey.delete(key);
      return stack;
    }
    return { ...stack, status: { ...stack.status, ...held.confirmed } };
  }

  /** Forgets the Stack of a reconcile key (it is gone from the cache). */
  forget(key: string): void {
    this.#byKey.delete(key);
  }

  get size(): number {
    return this.#byKey.size;
  }
}
