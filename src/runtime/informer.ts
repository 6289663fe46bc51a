// A generic informer: paginated LIST, then WATCH from the list's resourceVersion, keeping a local
// store keyed by namespace/name and notifying add/update/delete handlers.
//
// # Guarantees
// - The store reflects the server: after a 410 Gone (history compacted) the scope is re-listed and
//   the new list is diffed against the store, so objects deleted in the gap produce `delete` and
//   changed ones `update`. Objects whose resourceVersion did not change produce no event: a relist
//   or a re-watch after an apiserver restart causes no duplicate handler storm.
// - The store is updated before handlers run, so a handler (or a reconcile it triggers) reads the
//   state that includes the event.
// - Any other failure (connection refused/reset, non-410 error status, ERROR event, a closed
//   stream) restarts the watch from the last seen resourceVersion with backoff (800 ms doubling to
//   30 s with jitter, reset after a healthy run of 2 min). A watch that delivers nothing, not even a
//   bookmark, for `watchdogMs` is aborted and restarted (the silent-death failure of long watches).
// - `synced` turns true (and `waitForSync` resolves) once the first LIST of every scope is stored.
//   Each LIST page is stored, and its handlers run, as it arrives: before `synced` the store is a
//   true but incomplete picture (objects missing, none stale).
//
// # Caveats
// - Handlers must be cheap and must not throw (a throw is caught and logged): map events to queue
//   keys, do work in the controller.
// - `metadata.managedFields` is dropped by the default transform to save memory; `keepOnly()` builds
//   a narrower transform from what the caller's controllers read.
// - With a list of namespaces, each namespace has its own list+watch (the RBAC a namespaced
//   operator usually has); without one, one cluster-wide list+watch.
import { Backoff, type BackoffOptions } from './backoff.ts';
import { realClock, sleep, type Clock, type TimerHandle } from './clock.ts';
import { errorSummary, isGone, statusCode } from './errors.ts';
import { objectKey, resourcePath, type KubeClient, type KubeList, type KubeObject, type Query, type ResourceRef } from './kube-client.ts';
import { silentLogger, type Logger } from './logging.ts';
import { DEFAULT_METRICS_PREFIX, informerEvent } from './metrics.ts';

export interface InformerOptions<T extends KubeObject> {
  resource: ResourceRef;
  /** Namespaces to watch, one list+watch each. Empty/undefined: all namespaces (or cluster-scoped). */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size (limit/continue). Default 500. */
  pageSize?: number;
  /** Restart a watch that delivered nothing (events or bookmarks) for this long. Default 150 s. */
  watchdogMs?: number;
  /** Server-side watch timeout, picked uniformly in [min, max] seconds per watch. Default [300, 600]. */
  watchTimeoutSeconds?: { min: number; max: number };
  /**
   * Level-triggered safety net: re-LIST (and diff) each scope this often, even if the watch looks
   * healthy. Default 0 = off (the watchdog and 410 handling cover the known failure modes).
   */
  relistPeriodMs?: number;
  /** Reconnect backoff. Default 800 ms → 30 s, ×2, jitter, reset after 120 s healthy. */
  backoff?: BackoffOptions;
  /**
   * Applied to every object before it is stored. Default: drop metadata.managedFields. `previous` is
   * the object stored under the same key (none for a new key or a deletion): a transform may keep
   * parts of it that did not change, rather than hold a new copy of them.
   */
  transform?: (obj: KubeObject, previous: T | undefined) => T;
  /** Name for logs and metrics. Default group/plural. */
  name?: string;
  /** Prefix of the informer's own metric (`<prefix>_informer_events_total`); the product's name, from the caller. */
  metricsPrefix?: string;
  log?: Logger;
  clock?: Clock;
}

/** initialList: the add comes from the first LIST of the informer's scope (controller-runtime's IsInInitialList). */
export type AddHandler<T> = (obj: T, info: { initialList: boolean }) => void;
export type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
export type DeleteHandler<T> = (obj: T) => void;

export interface InformerStats {
  lists: number;
  relists410: number;
  /** LISTs started over because their continue token expired mid-list (410 on a continue request). */
  listRestarts: number;
  periodicRelists: number;
  watchStarts: number;
  watchErrors: number;
  watchdogRestarts: number;
  events: number;
  bookmarks: number;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

type WatchEnd = { kind: 'closed' } | { kind: 'gone' } | { kind: 'watchdog' } | { kind: 'relist' } | { kind: 'error'; error: unknown };

function defaultTransform<T extends KubeObject>(obj: KubeObject): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete obj.metadata.managedFields;
  return obj as T;
}

/** The annotation `kubectl apply` (client-side) writes: the whole applied object again, as JSON. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A cache transform that keeps only the named top-level fields and metadata fields, minus the named
 * annotations, in place (no copy). The cache then holds what its controllers read and not what
 * clients wrote for themselves (managedFields, kubectl's last-applied copy of the object): the
 * dropped parts can be as large as the object (docs/benchmarks.md, memory).
 */
export function keepOnly<T extends KubeObject>(opts: { fields: string[]; metadata: string[]; dropAnnotations?: string[] }): (obj: KubeObject) => T {
  const fields = new Set([...opts.fields, 'metadata']);
  const meta = new Set(opts.metadata);
  const drop = opts.dropAnnotations ?? [];
  return (obj) => {
    for (const k of Object.keys(obj)) if (!fields.has(k)) delete obj[k];
    const m = obj.metadata ?? {};
    for (const k of Object.keys(m)) if (!meta.has(k)) delete m[k];
    const a = m.annotations;
    if (a) {
      for (const k of drop) delete a[k];
      if (Object.keys(a).length === 0) delete m.annotations;
    }
    return obj as T;
  };
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly name: string;
  readonly #metricsPrefix: string;
  readonly stats: InformerStats = { lists: 0, relists410: 0, listRestarts: 0, periodicRelists: 0, watchStarts: 0, watchErrors: 0, watchdogRestarts: 0, events: 0, bookmarks: 0 };
  readonly #client: KubeClient;
  readonly #opts: InformerOptions<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #transform: (obj: KubeObject, previous: T | undefined) => T;
  readonly #store = new Map<string, T>();
  readonly #onAdd = new Set<AddHandler<T>>();
  readonly #onUpdate = new Set<UpdateHandler<T>>();
  readonly #onDelete = new Set<DeleteHandler<T>>();
  readonly #scopes: (string | undefined)[];
  readonly #syncedScopes = new Set<string | undefined>();
  #syncWaiters: (() => void)[] = [];
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];

  constructor(client: KubeClient, opts: InformerOptions<T>) {
    this.#client = client;
    this.#opts = opts;
    this.resource = opts.resource;
    this.name = opts.name ?? `${opts.resource.plural}${opts.resource.group ? `.${opts.resource.group}` : ''}`;
    this.#metricsPrefix = opts.metricsPrefix ?? DEFAULT_METRICS_PREFIX;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.log ?? silentLogger).child({ informer: this.name });
    this.#transform = opts.transform ?? defaultTransform;
    const ns = opts.resource.namespaced === false ? [] : (opts.namespaces ?? []);
    this.#scopes = ns.length === 0 ? [undefined] : [...new Set(ns)];
  }

  // ---- handlers -------------------------------------------------------------------------------

  /** Registers a handler; returns an unsubscribe function. Objects already in the store are not replayed. */
  onAdd(fn: AddHandler<T>): () => void {
    this.#onAdd.add(fn);
    return () => this.#onAdd.delete(fn);
  }
  onUpdate(fn: UpdateHandler<T>): () => void {
    this.#onUpdate.add(fn);
    return () => this.#onUpdate.delete(fn);
  }
  onDelete(fn: DeleteHandler<T>): () => void {
    this.#onDelete.add(fn);
    return () => this.#onDelete.delete(fn);
  }

  // ---- store ----------------------------------------------------------------------------------

  /** The cached object for a key ("namespace/name" or "name"). */
  get(key: string): T | undefined {
    return this.#store.get(key);
  }
  getObject(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace ? `${namespace}/${name}` : name);
  }
  /** Cached objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }
  keys(): string[] {
    return [...this.#store.keys()];
  }
  get size(): number {
    return this.#store.size;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  get synced(): boolean {
    return this.#syncedScopes.size === this.#scopes.length;
  }
  get running(): boolean {
    return this.#abort !== undefined && !this.#abort.signal.aborted;
  }

  /** Resolves once synced; rejects on `signal` abort or after `timeoutMs`. */
  async waitForSync(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.synced) return;
    const signals = [opts.signal, opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new Error(`informer ${this.name}: not synced (${String(signal.reason)})`));
        return;
      }
      const onAbort = (): void => reject(new Error(`informer ${this.name}: not synced (${String(signal?.reason)})`));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Starts the list+watch loops (idempotent). */
  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loops = this.#scopes.map((scope) => this.#run(scope, abort.signal));
  }

  /** Stops every loop and waits for them to end. The store is kept (no delete events). */
  async stop(): Promise<void> {
    this.#abort?.abort(new Error('informer stopped'));
    await Promise.allSettled(this.#loops);
    this.#loops = [];
  }

  // ---- the loop -------------------------------------------------------------------------------

  async #run(scope: string | undefined, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#opts.backoff);
    let rv: string | undefined;
    let needList = true;
    let lastGoneWithoutProgress = false;
    let listedAt = 0;
    const log = scope === undefined ? this.#log : this.#log.child({ namespace: scope });
    for (let iter = 0; !signal.aborted; iter++) {
      try {
        if (needList) {
          rv = await this.#listInto(scope, signal);
          listedAt = this.#clock.now();
          needList = false;
          this.#markSynced(scope);
        }
        const started = this.#clock.now();
        const progressBefore = this.stats.events + this.stats.bookmarks;
        const relistAt = (this.#opts.relistPeriodMs ?? 0) > 0 ? listedAt + (this.#opts.relistPeriodMs ?? 0) : undefined;
        const end = await this.#watchOnce(scope, rv ?? '', signal, (newRv) => (rv = newRv), relistAt);
        if (signal.aborted) break;
        const now = this.#clock.now();
        backoff.noteRunEnded(started, now);
        const progressed = this.stats.events + this.stats.bookmarks > progressBefore;
        switch (end.kind) {
          case 'gone':
            this.stats.relists410++;
            informerEvent(this.#metricsPrefix, this.name, 'relist_410');
            log.info({ resourceVersion: rv }, 'watch expired (410 Gone): relisting');
            needList = true;
            // Relist at once; only a repeated 410 without progress backs off.
            if (lastGoneWithoutProgress && !progressed) await sleep(this.#clock, backoff.next(), signal);
            lastGoneWithoutProgress = !progressed;
            continue;
          case 'closed':
            // A normal server-side timeout: re-watch from the last RV at once, unless it was instant.
            lastGoneWithoutProgress = false;
            if (now - started >= 1000 || progressed) continue;
            break;
          case 'relist':
            this.stats.periodicRelists++;
            needList = true;
            continue;
          case 'watchdog':
            this.stats.watchdogRestarts++;
            informerEvent(this.#metricsPrefix, this.name, 'watchdog');
            log.warn({ watchdogMs: this.#watchdogMs }, 'watch silent for too long: restarting');
            continue;
          case 'error':
            this.stats.watchErrors++;
            log.warn({ err: errorSummary(end.error) }, 'watch failed: restarting with backoff');
            break;
        }
        informerEvent(this.#metricsPrefix, this.name, 'watch_restart');
        await sleep(this.#clock, backoff.next(), signal);
      } catch (err) {
        if (signal.aborted) break;
        this.stats.watchErrors++;
        log.warn({ err: errorSummary(err), list: needList }, needList ? 'list failed: retrying with backoff' : 'watch failed');
        try {
          await sleep(this.#clock, backoff.next(), signal);
        } catch {
          break;
        }
      }
      if (iter > 1e12) break; // bounded (never reached in practice)
    }
  }

  get #watchdogMs(): number {
    return this.#opts.watchdogMs ?? 150_000;
  }

  #baseQuery(): Query {
    return { labelSelector: this.#opts.labelSelector, fieldSelector: this.#opts.fieldSelector };
  }

  /**
   * Paginated LIST of one scope into the store, diffing against it. Returns the list's RV. Each page is
   * stored (and its handlers run) as it arrives, so a controller that may reconcile during the first
   * list (`reconcileWhileListing`) starts on page one; what the finished list no longer holds is deleted.
   */
  async #listInto(scope: string | undefined, signal: AbortSignal): Promise<string> {
    const path = resourcePath(this.resource, scope);
    const limit = this.#opts.pageSize ?? 500;
    const initialList = !this.#syncedScopes.has(scope);
    // Transformed page by page: only one page of objects as the server sent them is alive at a time
    // (10,000 realistic Stacks as sent are ~175 MB of heap, transformed ~78 MB; docs/benchmarks.md).
    const seen = new Set<string>();
    let rv = '';
    let cont: string | undefined;
    for (let page = 0; page < 1_000_000; page++) {
      let list: KubeList;
      try {
        list = await this.#client.request<KubeList>({
          method: 'GET',
          path,
          query: { ...this.#baseQuery(), limit, continue: cont },
          signal,
          timeoutMs: 60_000,
        });
      } catch (err) {
        if (cont !== undefined && isGone(err)) {
          // The continue token expired mid-list: start over (objects already stored stay; the new
          // list's end decides what is gone).
          this.#log.info('list continue token expired: restarting the list');
          this.stats.listRestarts++;
          informerEvent(this.#metricsPrefix, this.name, 'list_restart');
          seen.clear();
          cont = undefined;
          continue;
        }
        throw err;
      }
      for (const it of list.items ?? []) {
        const key = objectKey(it);
        const obj = this.#transform(it, this.#store.get(key));
        seen.add(key);
        this.#upsert(key, obj, initialList);
      }
      list.items = [];
      rv = list.metadata?.resourceVersion ?? rv;
      cont = list.metadata?.continue || undefined;
      if (!cont) break;
    }
    this.stats.lists++;
    informerEvent(this.#metricsPrefix, this.name, 'list');
    this.#dropUnseen(scope, seen);
    return rv;
  }

  /** After a complete list of a scope: deletes (with handlers) what the list did not hold. */
  #dropUnseen(scope: string | undefined, seen: Set<string>): void {
    for (const [key, old] of [...this.#store]) {
      if (seen.has(key)) continue;
      if (scope !== undefined && old.metadata.namespace !== scope) continue;
      this.#store.delete(key);
      this.#emitDelete(old);
    }
  }

  #upsert(key: string, obj: T, initialList = false): void {
    const old = this.#store.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.#store.set(key, obj);
    if (old) this.#emitUpdate(old, obj);
    else this.#emitAdd(obj, initialList);
  }

  async #watchOnce(
    scope: string | undefined,
    rv: string,
    signal: AbortSignal,
    setRv: (rv: string) => void,
    relistAt: number | undefined,
  ): Promise<WatchEnd> {
    const ctrl = new AbortController();
    const onOuterAbort = (): void => ctrl.abort(signal.reason);
    signal.addEventListener('abort', onOuterAbort, { once: true });
    let lastActivity = this.#clock.now();
    let watchdogFired = false;
    let timer: TimerHandle | undefined;
    const watchdogMs = this.#watchdogMs;
    const arm = (ms: number): void => {
      timer = this.#clock.setTimeout(() => {
        const idle = this.#clock.now() - lastActivity;
        if (idle >= watchdogMs) {
          watchdogFired = true;
          ctrl.abort(new Error('watchdog'));
        } else {
          arm(watchdogMs - idle);
        }
      }, ms);
    };
    arm(watchdogMs);
    let relistDue = false;
    const relistTimer =
      relistAt === undefined
        ? undefined
        : this.#clock.setTimeout(() => {
            relistDue = true;
            ctrl.abort(new Error('periodic relist'));
          }, relistAt - this.#clock.now());
    const range = this.#opts.watchTimeoutSeconds ?? { min: 300, max: 600 };
    const timeoutSeconds = Math.round(range.min + Math.random() * Math.max(0, range.max - range.min));
    this.stats.watchStarts++;
    try {
      const lines = await this.#client.stream({
        path: resourcePath(this.resource, scope),
        query: { ...this.#baseQuery(), watch: true, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds },
        signal: ctrl.signal,
      });
      for await (const line of lines) {
        lastActivity = this.#clock.now();
        let ev: WatchEvent;
        try {
          ev = JSON.parse(line) as WatchEvent;
        } catch {
          this.#log.warn({ line: line.slice(0, 200) }, 'unparseable watch line');
          continue;
        }
        const end = this.#handleEvent(ev, setRv);
        if (end) return end;
      }
      if (relistDue) return { kind: 'relist' };
      return watchdogFired ? { kind: 'watchdog' } : { kind: 'closed' };
    } catch (err) {
      if (relistDue) return { kind: 'relist' };
      if (watchdogFired) return { kind: 'watchdog' };
      if (signal.aborted) return { kind: 'closed' };
      if (isGone(err)) return { kind: 'gone' };
      return { kind: 'error', error: err };
    } finally {
      this.#clock.clearTimeout(timer);
      this.#clock.clearTimeout(relistTimer);
      signal.removeEventListener('abort', onOuterAbort);
      ctrl.abort(new Error('watch ended'));
    }
  }

  #handleEvent(ev: WatchEvent, setRv: (rv: string) => void): WatchEnd | undefined {
    const obj = ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        this.stats.events++;
        const key = objectKey(obj);
        const o = this.#transform(obj, this.#store.get(key));
        if (o.metadata.resourceVersion) setRv(o.metadata.resourceVersion);
        this.#upsert(key, o);
        return undefined;
      }
      case 'DELETED': {
        this.stats.events++;
        const o = this.#transform(obj, undefined);
        if (o.metadata.resourceVersion) setRv(o.metadata.resourceVersion);
        const key = objectKey(o);
        const had = this.#store.get(key);
        this.#store.delete(key);
        if (had) this.#emitDelete(o);
        return undefined;
      }
      case 'BOOKMARK':
        this.stats.bookmarks++;
        if (obj?.metadata?.resourceVersion) setRv(obj.metadata.resourceVersion);
        return undefined;
      case 'ERROR': {
        const code = obj?.code ?? statusCode(obj);
        if (code === 410) return { kind: 'gone' };
        return { kind: 'error', error: Object.assign(new Error(obj?.message ?? 'watch ERROR event'), { code, body: obj }) };
      }
      default:
        return undefined;
    }
  }

  #markSynced(scope: string | undefined): void {
    this.#syncedScopes.add(scope);
    if (this.synced) {
      const waiters = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  #emitAdd(obj: T, initialList: boolean): void {
    for (const h of this.#onAdd) this.#safe(() => h(obj, { initialList }));
  }
  #emitUpdate(oldObj: T, newObj: T): void {
    for (const h of this.#onUpdate) this.#safe(() => h(oldObj, newObj));
  }
  #emitDelete(obj: T): void {
    for (const h of this.#onDelete) this.#safe(() => h(obj));
  }
  #safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, 'informer handler threw');
    }
  }
}
