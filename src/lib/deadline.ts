// A deadline that is cleared when the work is done. A leaf module: it imports nothing of the project.
//
// AbortSignal.timeout() cannot be cleared: its timer runs to the end, and a signal something listened
// to stays alive until then. One per reconcile (2 min) and per request (30 s) kept tens of thousands of
// signals and timers alive at 10,000 Stacks, each firing a TimeoutError long after its work had ended
// (the steady-state profile, docs/benchmarks.md, fourth round).

export interface Deadline {
  /** Aborted when the time is up (reason: a DOMException named TimeoutError, as AbortSignal.timeout's) or `parent` aborts (its reason). */
  readonly signal: AbortSignal;
  /** Whether the time ran out (not the parent). */
  readonly expired: boolean;
  /** Clears the timer and the listener on `parent`; the signal is never aborted after this. Idempotent. */
  dispose(): void;
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const ctrl = new AbortController();
  let expired = false;
  if (parent?.aborted) {
    ctrl.abort(parent.reason);
    return { signal: ctrl.signal, expired, dispose: () => undefined };
  }
  const onParentAbort = (): void => ctrl.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => {
    expired = true;
    ctrl.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, ms);
  // Like AbortSignal.timeout: a pending deadline does not keep the process alive.
  timer.unref();
  return {
    signal: ctrl.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
