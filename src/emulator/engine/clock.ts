// Injectable clock for the emulator engine: real timers in the server, a fake clock in unit tests
// (advance() fires due timers in order, so state machines are deterministic without sleeping).

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
}

/** Largest delay node's setTimeout accepts; longer waits are treated as "forever". */
export const MAX_TIMER_MS = 2_147_483_647;

export class RealClock implements Clock {
  #next = 1;
  #timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) return { id };
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

  clearTimer(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.#timers.get(handle.id);
    if (t) clearTimeout(t);
    this.#timers.delete(handle.id);
  }

  /** Cancel every pending timer (used by Emulator.close()). */
  clearAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  #seq = 0;
  #timers = new Map<number, FakeTimer>();

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    if (!Number.isFinite(ms)) return { id };
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return { id };
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle) this.#timers.delete(handle.id);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by ms, firing every timer that falls due (including ones scheduled meanwhile). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let due: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (!due || t.at < due.at || (t.at === due.at && t.seq < due.seq))) due = t;
      }
      if (!due) break;
      this.#timers.delete(due.id);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }

  /** Fire timers due now (zero-delay timers). */
  tick(): void {
    this.advance(0);
  }
}

/**
 * The provider's own clock: the wrapped clock plus offsetMs (negative = the provider is behind). Every
 * timestamp the emulator reports and every expiry it checks use it, like a real service whose clock is
 * skewed from the operator's; timers are relative and unaffected.
 */
export class OffsetClock implements Clock {
  readonly base: Clock;
  offsetMs: number;

  constructor(base: Clock, offsetMs = 0) {
    this.base = base;
    this.offsetMs = offsetMs;
  }

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimer(fn, ms);
  }

  clearTimer(handle: TimerHandle | undefined): void {
    this.base.clearTimer(handle);
  }
}
