// A keyed work queue with client-go's semantics (util/workqueue): fair (FIFO), stingy (an item is
// never handed to two workers at once; repeated adds before processing collapse into one), with
// delayed adds and rate-limited requeues; and with controller-runtime's priorities (its default
// priority queue since v0.23): an item is added with a priority (default 0; LOW_PRIORITY for keys
// from an informer's initial list or a periodic resync) and higher priorities are handed out first,
// so a Stack whose operation runs is polled ahead of the thousands nobody has looked at yet
// (docs/benchmarks.md, throughput at 10,000 Stacks).
//
// # Guarantees
// - An item is in at most one of: queued, processing. `add` while processing marks it dirty and it
//   is queued again when `done` is called: it runs once more, afterwards, never concurrently.
// - `get` hands out the highest priority first, and within one priority items in the order they were
//   first added (FIFO). Repeated adds keep the highest priority asked for (controller-runtime).
// - `addAfter(item, d)` makes the item available no earlier than d from now; a second addAfter for
//   the same item keeps the earlier deadline.
// - After `shutDown`, adds are ignored. `get` keeps returning already queued items (client-go), or
//   none when shut down with `{ discardQueued: true }`; then it resolves `undefined`.
//   `shutDownWithDrain` additionally waits until every item handed out has been `done`.
//
// # Caveats
// - Pure logic over an injectable Clock; nothing here does I/O.
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { QueueMetrics } from './metrics.ts';

/** controller-runtime's handler.LowPriority: initial-list and resync adds. */
export const LOW_PRIORITY = -100;

/** Decides how long an item waits before a retry. */
export interface RateLimiter<T> {
  /** Delay for the next retry of `item` (records a failure). */
  when(item: T): number;
  /** Clears the item's failure history. */
  forget(item: T): void;
  /** Failures recorded for the item since the last forget. */
  numRequeues(item: T): number;
}

/** Per-item exponential backoff: base * 2^failures, capped (client-go ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter<T> implements RateLimiter<T> {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly #failures = new Map<T, number>();
  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }
  when(item: T): number {
    const n = this.#failures.get(item) ?? 0;
    this.#failures.set(item, n + 1);
    const delay = this.baseMs * Math.pow(2, Math.min(n, 62));
    return Number.isFinite(delay) ? Math.min(delay, this.maxMs) : this.maxMs;
  }
  forget(item: T): void {
    this.#failures.delete(item);
  }
  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** An overall token bucket (golang.org/x/time/rate semantics via reservations): qps refill, burst size. */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    this.qps = qps;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }
  when(_item: T): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.qps);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }
  forget(_item: T): void {}
  numRequeues(_item: T): number {
    return 0;
  }
}

/** The largest delay of several limiters (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  readonly #limiters: RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }
  when(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }
  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

export interface DefaultRateLimiterOptions {
  /** Per-item base delay. Default 5 ms. */
  baseDelayMs?: number;
  /** Per-item cap. Default 1000 s. */
  maxDelayMs?: number;
  /** Overall bucket refill rate. Default 10 per second. */
  qps?: number;
  /** Overall bucket size. Default 100. */
  burst?: number;
  clock?: Clock;
}

/** client-go's DefaultControllerRateLimiter: max(per-item 5 ms→1000 s, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter<T>(opts: DefaultRateLimiterOptions = {}): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialRateLimiter<T>(opts.baseDelayMs ?? 5, opts.maxDelayMs ?? 1_000_000),
    new BucketRateLimiter<T>(opts.qps ?? 10, opts.burst ?? 100, opts.clock ?? realClock),
  );
}

export interface WorkQueueOptions<T> {
  /** Name for metrics (workqueue_*{name}); no metrics when omitted. */
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
}

/** Shut down and nothing left to hand out. */
type Waiter<T> = (item: T | undefined) => void;

export class WorkQueue<T = string> {
  readonly name: string | undefined;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<T>;
  readonly #metrics: QueueMetrics | undefined;
  /** Queued items by priority, each FIFO (a Set keeps insertion order and O(1) membership). */
  readonly #queues = new Map<number, Set<T>>();
  /** The priorities that have a queue, highest first. */
  #priorities: number[] = [];
  #queued = 0;
  /** Items that must be processed (queued, or re-added while processing), with their priority. */
  readonly #dirty = new Map<T, number>();
  /** Items handed out and not yet done, with their start time. */
  readonly #processing = new Map<T, number>();
  /** When each queued item was added (queue duration metric). */
  readonly #addedAt = new Map<T, number>();
  /** Delayed items: earliest ready time and its timer. */
  readonly #waiting = new Map<T, { at: number; timer: TimerHandle; priority: number }>();
  readonly #waiters: Waiter<T>[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #discardQueued = false;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.name = opts.name;
    this.#clock = opts.clock ?? realClock;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>({ clock: this.#clock });
    if (opts.name !== undefined) {
      this.#metrics = new QueueMetrics(opts.name);
      this.#metrics.attach({
        unfinishedWorkSeconds: () => {
          const now = this.#clock.now();
          let sum = 0;
          for (const start of this.#processing.values()) sum += now - start;
          return sum / 1000;
        },
        longestRunningProcessorSeconds: () => {
          const now = this.#clock.now();
          let max = 0;
          for (const start of this.#processing.values()) max = Math.max(max, now - start);
          return max / 1000;
        },
      });
    }
  }

  /**
   * Marks the item as needing processing at `priority` (default 0). Already queued: it keeps its
   * place, moving up to a higher priority if asked. No-op while shutting down.
   */
  add(item: T, priority = 0): void {
    if (this.#shuttingDown) return;
    const had = this.#dirty.get(item);
    if (had !== undefined) {
      if (priority <= had) return;
      this.#dirty.set(item, priority);
      if (this.#processing.has(item)) return; // queued again by done(), at the higher priority
      this.#unqueue(item, had);
      this.#enqueue(item, priority);
      return;
    }
    this.#metrics?.add();
    this.#dirty.set(item, priority);
    if (this.#processing.has(item)) return; // queued again by done()
    this.#enqueue(item, priority);
  }

  /** Adds the item after `delayMs` (immediately when <= 0). An earlier pending deadline wins; so does the higher priority. */
  addAfter(item: T, delayMs: number, priority = 0): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(item, priority);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(item);
    if (existing && existing.at <= at) {
      existing.priority = Math.max(existing.priority, priority);
      return;
    }
    if (existing) this.#clock.clearTimeout(existing.timer);
    const timer = this.#clock.setTimeout(() => {
      const w = this.#waiting.get(item);
      if (w?.timer !== timer) return;
      this.#waiting.delete(item);
      this.add(item, w.priority);
    }, delayMs);
    this.#waiting.set(item, { at, timer, priority: Math.max(existing?.priority ?? priority, priority) });
  }

  /**
   * Adds the item after the rate limiter's delay (per-item exponential backoff combined with the
   * overall bucket), but no sooner than `atLeastMs` (e.g. a server's Retry-After). Counts a retry.
   */
  addRateLimited(item: T, atLeastMs = 0, priority = 0): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retry();
    this.addAfter(item, Math.max(this.#limiter.when(item), atLeastMs), priority);
  }

  /** Resets the item's backoff (call after a success). Does not remove it from the queue. */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  /** How many rate-limited requeues the item has had since the last forget. */
  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }

  /** Queued items (not counting delayed or in-flight ones). */
  len(): number {
    return this.#queued;
  }
  /** Items handed out and not yet done. */
  get inFlight(): number {
    return this.#processing.size;
  }
  /** Items waiting for an addAfter deadline. */
  get delayed(): number {
    return this.#waiting.size;
  }
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }
  isProcessing(item: T): boolean {
    return this.#processing.has(item);
  }

  /**
   * The next item to process, waiting if none is queued. Resolves `undefined` once the queue is shut
   * down (and, unless discarding, empty). The caller MUST call `done(item)` when finished.
   */
  get(): Promise<T | undefined> {
    const item = this.#tryGet();
    if (item !== undefined || this.#finished()) return Promise.resolve(item);
    return new Promise<T | undefined>((resolve) => this.#waiters.push(resolve));
  }

  /** Non-blocking get: an item, or undefined when none is queued right now. */
  tryGet(): T | undefined {
    return this.#tryGet();
  }

  /** Marks the item as processed; if it was re-added meanwhile it is queued again. */
  done(item: T): void {
    const start = this.#processing.get(item);
    if (start === undefined) return;
    this.#processing.delete(item);
    this.#metrics?.workDuration((this.#clock.now() - start) / 1000);
    const priority = this.#dirty.get(item);
    if (priority !== undefined && !(this.#shuttingDown && this.#discardQueued)) {
      this.#enqueue(item, priority);
    } else {
      this.#dirty.delete(item);
    }
    if (this.#processing.size === 0) this.#resolveDrain();
  }

  /**
   * Stops accepting items. Delayed items are dropped. With `discardQueued`, queued items are not
   * handed out either (stop reconciling now); otherwise workers finish what is queued (client-go).
   */
  shutDown(opts: { discardQueued?: boolean } = {}): void {
    this.#shuttingDown = true;
    if (opts.discardQueued) {
      this.#discardQueued = true;
      for (const q of this.#queues.values()) for (const item of q) this.#dirty.delete(item);
      this.#queues.clear();
      this.#priorities = [];
      this.#queued = 0;
      this.#addedAt.clear();
      this.#metrics?.depth(0);
    }
    for (const w of this.#waiting.values()) this.#clock.clearTimeout(w.timer);
    this.#waiting.clear();
    this.#wakeAll();
    if (this.#processing.size === 0) this.#resolveDrain();
  }

  /** shutDown, then resolves when every handed-out item is done (or after `timeoutMs`, returning false). */
  async shutDownWithDrain(opts: { discardQueued?: boolean; timeoutMs?: number } = {}): Promise<boolean> {
    this.shutDown(opts);
    if (this.#processing.size === 0 && this.#queued === 0) return true;
    const drained = new Promise<true>((resolve) => this.#drainWaiters.push(() => resolve(true)));
    if (opts.timeoutMs === undefined) return await drained;
    let timer: TimerHandle | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(false), opts.timeoutMs ?? 0);
    });
    const ok = await Promise.race([drained, timeout]);
    this.#clock.clearTimeout(timer);
    return ok;
  }

  /** Releases resources (metrics sampler, timers). Call after shutdown when the queue is discarded. */
  dispose(): void {
    this.shutDown({ discardQueued: true });
    this.#metrics?.detach();
  }

  #enqueue(item: T, priority: number): void {
    let q = this.#queues.get(priority);
    if (!q) {
      q = new Set<T>();
      this.#queues.set(priority, q);
      this.#priorities = [...this.#queues.keys()].sort((a, b) => b - a);
    }
    q.add(item);
    this.#queued++;
    if (!this.#addedAt.has(item)) this.#addedAt.set(item, this.#clock.now());
    this.#metrics?.depth(this.#queued);
    const waiter = this.#waiters.shift();
    if (waiter) {
      const next = this.#tryGet();
      waiter(next);
    }
  }

  /** Takes a queued item out of its priority's queue (it moves to another one). */
  #unqueue(item: T, priority: number): void {
    if (this.#queues.get(priority)?.delete(item)) this.#queued--;
  }

  #tryGet(): T | undefined {
    let item: T | undefined;
    for (const p of this.#priorities) {
      const first = this.#queues.get(p)?.values().next();
      if (first && !first.done) {
        item = first.value;
        this.#unqueue(item, p);
        break;
      }
    }
    if (item === undefined) return undefined;
    this.#dirty.delete(item);
    const now = this.#clock.now();
    const added = this.#addedAt.get(item);
    this.#addedAt.delete(item);
    if (added !== undefined) this.#metrics?.queueDuration((now - added) / 1000);
    this.#metrics?.depth(this.#queued);
    this.#processing.set(item, now);
    return item;
  }

  #finished(): boolean {
    return this.#shuttingDown && this.#queued === 0;
  }

  #wakeAll(): void {
    while (this.#waiters.length > 0) {
      const w = this.#waiters.shift();
      w?.(this.#tryGet());
    }
  }

  #resolveDrain(): void {
    if (this.#queued > 0 && !this.#discardQueued) return;
    while (this.#drainWaiters.length > 0) this.#drainWaiters.shift()?.();
  }
}
