// An Event recorder on events.k8s.io/v1 (what `kubectl describe` and `kubectl events` show).
//
// Repeats of the same (regarding, type, reason, action, note) within `seriesTtlMs` (default 6 min,
// as kube-rs) become a merge patch of `series: {count, lastObservedTime}` on the first Event instead
// of new objects. The cache is bounded (LRU, default 1024 entries).
// Events are best effort: publish never throws; failures are logged at debug/warn.
import { randomBytes } from 'node:crypto';
import { realClock, type Clock } from './clock.ts';
import { errorSummary, isNotFound } from './errors.ts';
import { MERGE_PATCH, type KubeClient, type KubeObject, type ResourceRef } from './kube-client.ts';
import { microTime } from './leader-election.ts';
import { silentLogger, type Logger } from './logging.ts';

export const EVENTS_RESOURCE: ResourceRef = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' };

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, ≤128 chars, e.g. UpdateStarted. */
  reason: string;
  /** Machine-readable action, ≤128 chars, e.g. Update. */
  action: string;
  /** Human-readable, truncated to 1 kB. */
  note: string;
  related?: ObjectReference;
}

export interface EventRecorderOptions {
  /** e.g. "example.com/my-operator". */
  reportingController: string;
  /** e.g. the pod name. ≤128 chars. */
  reportingInstance: string;
  cacheSize?: number;
  seriesTtlMs?: number;
  /** Events being written at once by record(); more are dropped and counted (client-go: 1,000). */
  maxPending?: number;
  log?: Logger;
  clock?: Clock;
}

interface Entry {
  name: string;
  namespace: string;
  count: number;
  lastAt: number;
  chain: Promise<void>;
}

/** A reference to an object (uid, resourceVersion included). */
export function referenceTo(obj: KubeObject): ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
  };
}

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #cache = new Map<string, Entry>();
  readonly #size: number;
  readonly #ttl: number;
  readonly #pending = new Set<Promise<void>>();
  readonly #maxPending: number;
  #dropped = 0;

  constructor(client: KubeClient, opts: EventRecorderOptions) {
    this.#client = client;
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.log ?? silentLogger).child({ component: 'events' });
    this.#size = Math.max(1, opts.cacheSize ?? 1024);
    this.#ttl = opts.seriesTtlMs ?? 6 * 60_000;
    this.#maxPending = Math.max(1, opts.maxPending ?? 1000);
  }

  /** Events dropped because maxPending were being written (the apiserver was slower than the events). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Records an event without waiting for its write, as client-go's recorder does: a reconcile must not
   * hold a worker for an Event's round trip to the apiserver (docs/benchmarks.md: 117 ms of API server
   * time per Event with 10,000 new Stacks). Bounded: beyond maxPending writes in flight the event is
   * dropped and logged, never queued without limit.
   */
  record(regarding: KubeObject | ObjectReference, ev: EventInput): void {
    if (this.#pending.size >= this.#maxPending) {
      this.#dropped++;
      this.#log.warn({ reason: ev.reason, dropped: this.#dropped }, 'event dropped: too many event writes in flight');
      return;
    }
    const p: Promise<void> = this.publish(regarding, ev).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Waits for the events record() started (at shutdown, and in tests). publish() never rejects. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Entries in the dedup cache (bounded by cacheSize). */
  get cacheEntries(): number {
    return this.#cache.size;
  }

  /** Records an event about `regarding`. Never throws. */
  async publish(regarding: KubeObject | ObjectReference, ev: EventInput): Promise<void> {
    const ref = 'metadata' in regarding ? referenceTo(regarding) : (regarding);
    const note = ev.note.length > 1024 ? `${ev.note.slice(0, 1021)}...` : ev.note;
    const key = JSON.stringify([ref.uid ?? '', ref.kind ?? '', ref.namespace ?? '', ref.name ?? '', ev.type, ev.reason, ev.action, note]);
    let entry = this.#cache.get(key);
    const now = this.#clock.now();
    if (entry && now - entry.lastAt > this.#ttl) {
      this.#cache.delete(key);
      entry = undefined;
    }
    if (entry) {
      // LRU touch.
      this.#cache.delete(key);
      this.#cache.set(key, entry);
      const e = entry;
      e.count++;
      e.lastAt = now;
      const count = e.count;
      e.chain = e.chain.then(() => this.#patchSeries(e, count, now, ref, ev, note));
      await e.chain;
      return;
    }
    const e: Entry = {
      name: `${(ref.name ?? 'object').slice(0, 200)}.${randomBytes(8).toString('hex')}`,
      namespace: ref.namespace || 'default',
      count: 1,
      lastAt: now,
      chain: Promise.resolve(),
    };
    this.#cache.set(key, e);
    while (this.#cache.size > this.#size) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
    e.chain = this.#create(e, now, ref, ev, note);
    await e.chain;
  }

  async #create(e: Entry, now: number, ref: ObjectReference, ev: EventInput, note: string): Promise<void> {
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: e.name, namespace: e.namespace },
      eventTime: microTime(now),
      reportingController: this.#o.reportingController,
      reportingInstance: this.#o.reportingInstance.slice(0, 128),
      action: ev.action.slice(0, 128),
      reason: ev.reason.slice(0, 128),
      note,
      type: ev.type,
      regarding: ref,
      ...(ev.related ? { related: ev.related } : {}),
      ...(e.count > 1 ? { series: { count: e.count, lastObservedTime: microTime(now) } } : {}),
    };
    try {
      await this.#client.create(EVENTS_RESOURCE, e.namespace, body);
    } catch (err) {
      this.#log.warn({ err: errorSummary(err), reason: ev.reason }, 'could not create event');
    }
  }

  async #patchSeries(e: Entry, count: number, now: number, ref: ObjectReference, ev: EventInput, note: string): Promise<void> {
    try {
      await this.#client.patch(EVENTS_RESOURCE, e.namespace, e.name, { series: { count, lastObservedTime: microTime(now) } }, { contentType: MERGE_PATCH });
    } catch (err) {
      if (isNotFound(err)) {
        // The first Event expired or was never written: start over with a fresh object.
        e.name = `${(ref.name ?? 'object').slice(0, 200)}.${randomBytes(8).toString('hex')}`;
        e.count = 1;
        await this.#create(e, now, ref, ev, note);
        return;
      }
      this.#log.warn({ err: errorSummary(err), reason: ev.reason }, 'could not update event series');
    }
  }
}
