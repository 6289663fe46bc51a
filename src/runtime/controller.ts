// A controller: informer events → work-queue keys → N workers calling a level-based reconciler.
//
// # Contract
// `reconcile(key, ctx, signal, info)` gets only the key ("namespace/name"); it reads the current
// object itself (normally from the informer cache) and returns an Action:
// - `{ requeueAfterMs: n }` (n > 0): forget the backoff, reconcile again after n ms (polling); with
//   `background: true` at low priority (a periodic re-check: new and changed objects go first);
// - `{ requeueAfterMs: 0 }`: requeue through the rate limiter (controller-runtime's deprecated
//   Requeue: true; prefer a delay);
// - `{ done: true }`: wait for the next change of a watched object.
// A thrown error is classified once: TerminalError → logged and counted, no retry until a watched
// object changes; anything else → rate-limited requeue (per-key exponential backoff, overall
// bucket), no sooner than the error's `retryAfterMs` if it carries one.
//
// # Guarantees
// - A key is never reconciled by two workers at once (the queue's processing set), however many
//   workers and however fast its object changes; changes during a reconcile trigger exactly one more.
// - An exception (or rejection, or a non-Error throw) in one reconcile never affects another.
// - `signal` aborts when the controller stops (shutdown, or leadership lost); workers then take no
//   new keys and `start` resolves once in-flight reconciles have returned.
import { randomUUID } from 'node:crypto';
import { deadline } from '../lib/deadline.ts';
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { errorSummary, isTerminal, retryAfterMs } from './errors.ts';
import type { Informer } from './informer.ts';
import { objectKey, type KubeObject } from './kube-client.ts';
import { lazyChild, silentLogger, type Logger } from './logging.ts';
import { ControllerMetrics, type ReconcileResult } from './metrics.ts';
import { LOW_PRIORITY, WorkQueue, defaultControllerRateLimiter, type DefaultRateLimiterOptions, type RateLimiter } from './workqueue.ts';

export type Action = { requeueAfterMs: number; background?: boolean } | { done: true } | { afterSync: true };

/**
 * Reconcile again after `ms` (resets the key's error backoff). `background`: a periodic re-check, not
 * work anyone waits for; it is queued at LOW_PRIORITY, behind new and changed objects (docs/runtime.md).
 */
export function requeueAfter(ms: number, opts: { background?: boolean } = {}): Action {
  return opts.background ? { requeueAfterMs: ms, background: true } : { requeueAfterMs: ms };
}
/** Nothing more to do until a watched object changes. */
export function awaitChange(): Action {
  return { done: true };
}
/**
 * Reconcile again once the primary informer's first list is complete: for a controller with
 * `reconcileWhileListing`, a reconcile that would act on (or look across) an incomplete cache.
 */
export function awaitCacheSync(): Action {
  return { afterSync: true };
}

/** Per-call information handed to the reconciler in addition to the shared context. */
export interface ReconcileInfo {
  /** A fresh UUID per call (also on the logger as reconcileID). */
  reconcileID: string;
  /** Child logger with controller, namespace, name, reconcileID. */
  log: Logger;
  /** Rate-limited requeues of this key since its last success (0 on a first attempt). */
  requeues: number;
  /** The primary informer's first list is complete (always true unless `reconcileWhileListing`). */
  primarySynced: boolean;
}

export type ReconcileFn<C> = (key: string, ctx: C, signal: AbortSignal, info: ReconcileInfo) => Promise<Action>;

export interface Reconciler<C> {
  reconcile: ReconcileFn<C>;
}

export type EventType = 'add' | 'update' | 'delete';

/** Maps an event of a watched (secondary) object to the primary keys to reconcile. */
export type MapFn<S> = (obj: S, event: EventType, oldObj?: S) => Iterable<string> | string | undefined | null;

/** Filters primary events (e.g. skip updates that changed neither generation nor metadata). */
export type Predicate<T> = (event: EventType, obj: T, oldObj?: T) => boolean;

export interface ControllerOptions<C> {
  /** The `controller` label of metrics and logs, and the queue name. */
  name: string;
  reconciler: Reconciler<C> | ReconcileFn<C>;
  /** Shared context passed to every reconcile (all I/O lives there). */
  context: C;
  /** Workers (max concurrent reconciles). Default 1, like controller-runtime. */
  maxConcurrentReconciles?: number;
  /** Custom rate limiter; default per-key 5 ms → 1000 s combined with a 10 qps / 100 burst bucket. */
  rateLimiter?: RateLimiter<string>;
  rateLimiterOptions?: DefaultRateLimiterOptions;
  /** How long start() waits for the informers to sync. Default 2 min. */
  cacheSyncTimeoutMs?: number;
  /**
   * Start the workers once the watched sources other than the primary have synced, and reconcile the
   * primary's keys as its first list arrives page by page, instead of after the whole list
   * (controller-runtime waits for every cache). The reconciler must then check `primarySynced` and
   * return `awaitCacheSync()` for anything that needs the complete cache (docs/runtime.md).
   */
  reconcileWhileListing?: boolean;
  /** Aborts one reconcile's signal after this long. Default none. */
  reconcileTimeoutMs?: number;
  /** Re-enqueue every primary key periodically (±10% jitter). Default 0 = off. */
  resyncPeriodMs?: number;
  log?: Logger;
  clock?: Clock;
}

export class Controller<C = unknown> {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly maxConcurrentReconciles: number;
  readonly #reconcile: ReconcileFn<C>;
  readonly #ctx: C;
  readonly #opts: ControllerOptions<C>;
  readonly #metrics: ControllerMetrics;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #informers = new Set<Informer<KubeObject>>();
  #primary: Informer<KubeObject> | undefined;
  /** Keys that returned awaitCacheSync() before the primary synced. */
  readonly #afterSync = new Set<string>();
  #active = 0;
  #started = false;

  constructor(opts: ControllerOptions<C>) {
    this.name = opts.name;
    this.#opts = opts;
    this.#ctx = opts.context;
    const r = opts.reconciler;
    this.#reconcile = typeof r === 'function' ? r : (key, ctx, signal, info) => r.reconcile(key, ctx, signal, info);
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.log ?? silentLogger).child({ controller: opts.name });
    this.maxConcurrentReconciles = Math.max(1, opts.maxConcurrentReconciles ?? 1);
    this.queue = new WorkQueue<string>({
      name: opts.name,
      clock: this.#clock,
      rateLimiter: opts.rateLimiter ?? defaultControllerRateLimiter({ clock: this.#clock, ...opts.rateLimiterOptions }),
    });
    this.#metrics = new ControllerMetrics(opts.name);
    this.#metrics.maxConcurrent(this.maxConcurrentReconciles);
  }

  /** Reconciles currently running. */
  get activeWorkers(): number {
    return this.#active;
  }

  /** The primary resource: every add/update/delete enqueues the object's own key. */
  for<T extends KubeObject>(informer: Informer<T>, opts: { predicate?: Predicate<T> } = {}): this {
    const pred = opts.predicate;
    this.#primary = informer as unknown as Informer<KubeObject>;
    return this.watch(informer, (obj, event, oldObj) => (!pred || pred(event, obj, oldObj) ? objectKey(obj) : undefined));
  }

  /** A watched source: its events enqueue the keys `map` returns (e.g. the objects referencing a Secret). */
  watch<S extends KubeObject>(informer: Informer<S>, map: MapFn<S>): this {
    this.#informers.add(informer as unknown as Informer<KubeObject>);
    // Keys from an informer's initial list go behind everything else (controller-runtime's priority
    // queue): after a restart, or with thousands of new objects, what is already under way goes first.
    const enqueue = (obj: S, event: EventType, oldObj?: S, priority = 0): void => {
      let keys: ReturnType<MapFn<S>>;
      try {
        keys = map(obj, event, oldObj);
      } catch (err) {
        this.#log.error({ err }, 'map function threw');
        return;
      }
      if (keys === undefined || keys === null) return;
      if (typeof keys === 'string') this.queue.add(keys, priority);
      else for (const k of keys) this.queue.add(k, priority);
    };
    informer.onAdd((o, info) => enqueue(o, 'add', undefined, info.initialList ? LOW_PRIORITY : 0));
    informer.onUpdate((o, n) => enqueue(n, 'update', o));
    informer.onDelete((o) => enqueue(o, 'delete'));
    return this;
  }

  /** Enqueues a key by hand. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Waits for the watched informers to sync (they must be started by the caller/manager), then runs
   * the workers until `signal` aborts. Resolves when every worker has returned. One-shot.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    const onAbort = (): void => this.queue.shutDown({ discardQueued: true });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const timeoutMs = this.#opts.cacheSyncTimeoutMs ?? 120_000;
      await Promise.all(this.#syncBeforeWorkers().map((i) => i.waitForSync({ signal, timeoutMs })));
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      this.queue.dispose();
      if (signal.aborted) return;
      throw err;
    }
    this.#log.info({ workers: this.maxConcurrentReconciles, primarySynced: this.#primarySynced }, 'starting workers');
    this.#releaseAfterSync(signal);
    const stopResync = this.#startResync(signal);
    const workers = Array.from({ length: this.maxConcurrentReconciles }, () => this.#worker(signal));
    await Promise.all(workers);
    stopResync();
    signal.removeEventListener('abort', onAbort);
    this.queue.dispose();
    this.#log.info('workers stopped');
  }

  /** The informers start() waits for: all of them, or all but the primary with `reconcileWhileListing`. */
  #syncBeforeWorkers(): Informer<KubeObject>[] {
    const all = [...this.#informers];
    return this.#opts.reconcileWhileListing ? all.filter((i) => i !== this.#primary) : all;
  }

  get #primarySynced(): boolean {
    return this.#primary?.synced ?? true;
  }

  /** Once the primary has synced, queues the keys that waited for it (behind changed objects, like the list). */
  #releaseAfterSync(signal: AbortSignal): void {
    const primary = this.#primary;
    if (!primary || primary.synced) return;
    primary.waitForSync({ signal }).then(
      () => {
        for (const k of this.#afterSync) this.queue.add(k, LOW_PRIORITY);
        this.#afterSync.clear();
      },
      () => {}, // aborted: the controller is stopping
    );
  }

  #startResync(signal: AbortSignal): () => void {
    const period = this.#opts.resyncPeriodMs ?? 0;
    if (period <= 0 || !this.#primary) return () => {};
    const primary = this.#primary;
    let timer: TimerHandle | undefined;
    const schedule = (): void => {
      timer = this.#clock.setTimeout(
        () => {
          if (signal.aborted) return;
          for (const k of primary.keys()) this.queue.add(k, LOW_PRIORITY);
          schedule();
        },
        period * (0.9 + Math.random() * 0.2),
      );
    };
    schedule();
    return () => this.#clock.clearTimeout(timer);
  }

  async #worker(signal: AbortSignal): Promise<void> {
    for (let i = 0; ; i++) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        if (signal.aborted) continue;
        await this.#process(key, signal);
      } finally {
        this.queue.done(key);
      }
      if (i > Number.MAX_SAFE_INTEGER - 1) return;
    }
  }

  async #process(key: string, runSignal: AbortSignal): Promise<void> {
    const reconcileID = randomUUID();
    const slash = key.indexOf('/');
    const log = lazyChild(this.#log, slash < 0 ? { name: key, reconcileID } : { namespace: key.slice(0, slash), name: key.slice(slash + 1), reconcileID });
    const requeues = this.queue.numRequeues(key);
    const limit = this.#opts.reconcileTimeoutMs !== undefined ? deadline(this.#opts.reconcileTimeoutMs, runSignal) : undefined;
    const signal = limit?.signal ?? runSignal;
    const t0 = this.#clock.now();
    this.#active++;
    this.#metrics.activeWorkers(1);
    let result: ReconcileResult;
    try {
      const primarySynced = this.#primarySynced;
      const action = await Promise.resolve().then(() => this.#reconcile(key, this.#ctx, signal, { reconcileID, log, requeues, primarySynced }));
      if (action && 'afterSync' in action) {
        this.queue.forget(key);
        this.#deferUntilSynced(key);
        result = 'requeue';
      } else if (action && 'requeueAfterMs' in action && typeof action.requeueAfterMs === 'number') {
        if (action.requeueAfterMs > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, action.requeueAfterMs, action.background ? LOW_PRIORITY : 0);
          result = 'requeue_after';
        } else {
          this.queue.addRateLimited(key);
          result = 'requeue';
        }
      } else {
        this.queue.forget(key);
        result = 'success';
      }
    } catch (err) {
      result = 'error';
      const terminal = isTerminal(err);
      this.#metrics.error(terminal);
      if (!(err instanceof Error)) this.#metrics.panic();
      if (runSignal.aborted) {
        log.info({ err: errorSummary(err) }, 'reconcile ended by shutdown');
      } else if (terminal) {
        this.queue.forget(key);
        log.error({ err: errorSummary(err) }, 'reconcile failed (terminal): waiting for a change');
      } else {
        const floor = retryAfterMs(err) ?? 0;
        this.queue.addRateLimited(key, floor);
        log.warn({ err: errorSummary(err), requeues: requeues + 1, retryAfterMs: floor || undefined }, 'reconcile failed: requeued with backoff');
      }
    } finally {
      limit?.dispose();
      this.#active--;
      this.#metrics.activeWorkers(-1);
    }
    this.#metrics.result(result);
    this.#metrics.time((this.#clock.now() - t0) / 1000);
  }

  #deferUntilSynced(key: string): void {
    // The primary may have synced during the reconcile: then its release already ran.
    if (this.#primarySynced) this.queue.add(key, LOW_PRIORITY);
    else this.#afterSync.add(key);
  }
}
