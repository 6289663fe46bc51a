// Time source for the runtime. Everything that waits (queue delays, backoff, watchdogs, leader
// election) goes through a Clock so unit tests can drive time with FakeClock instead of sleeping.

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock; used for timestamps and for intervals). */
  now(): number;
  /** Schedules `fn` after `ms` milliseconds. Real timers are unref'd: they never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

let nextId = 1;

class RealClock implements Clock {
  readonly #timers = new Map<number, NodeJS.Timeout>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    const t = setTimeout(
      () => {
        this.#timers.delete(id);
        fn();
      },
      Math.max(0, ms),
    );
    t.unref();
    this.#timers.set(id, t);
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.#timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(handle.id);
    }
  }
}

/** The process clock (Date.now + unref'd setTimeout). */
export const realClock: Clock = new RealClock();

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A manual clock for unit tests: time only moves on {@link FakeClock.advance}; due timers fire in
 * deadline order (ties in scheduling order) and microtasks are flushed between them.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, FakeTimer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.#timers.delete(handle.id);
  }
  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }
  /** Deadline of the next timer, if any. */
  nextAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }
  /** Moves time forward by `ms`, firing every timer that falls due (including ones scheduled meanwhile). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (let i = 0; i < 1_000_000; i++) {
      await flushMicrotasks();
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

/** Lets queued promise continuations run (a few macrotask-free rounds). */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
