// Leader election on a coordination.k8s.io/v1 Lease, after client-go's tools/leaderelection.
//
// # Semantics
// - Acquire: every retryPeriod (jittered ×[1, 2.2)) read the Lease. If it is absent, create it. If
//   another holder's record has not changed for leaseDuration *as observed by our local clock*
//   (client-go does not trust timestamps in the record), or holderIdentity is empty (released),
//   take it over with an update carrying the read resourceVersion (optimistic concurrency: a 409
//   means someone else won the race). Taking over bumps leaseTransitions and sets acquireTime.
// - Renew: every retryPeriod update renewTime. If no renew has succeeded for renewDeadline,
//   leadership is lost. Stricter than client-go: a renew that reads another holder in the Lease
//   (someone stole or force-took it) also loses leadership at once.
// - On loss the signal given to onStartedLeading aborts immediately, then onStoppedLeading runs.
//   The process should stop reconciling at once (the manager exits).
// - On graceful stop (the run signal aborts while leading) the Lease is released when
//   releaseOnCancel (default true): holderIdentity cleared, leaseDurationSeconds 1, so a standby
//   takes over at its next retry instead of waiting out the lease.
//
// # Caveats
// - Fencing is the caller's: leaseRemainingMs() says how long the lease is still ours by our own
//   clock, counted from the moment the last successful acquire / renew was *sent* (a standby waits a
//   full leaseDuration after it saw that renew). A process paused past its lease resumes with a
//   negative remainder, so a caller that checks it right before an external side effect never acts
//   on a lease it lost (Manager.holdsLeadership).
// - Defaults 15 s / 10 s / 2 s; checked: leaseDuration > renewDeadline > 1.2 × retryPeriod.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { realClock, sleep, type Clock } from './clock.ts';
import { errorSummary, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import type { KubeClient, KubeObject, ResourceRef } from './kube-client.ts';
import { silentLogger, type Logger } from './logging.ts';
import { setLeaderStatus } from './metrics.ts';

export const LEASE_RESOURCE: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  /** Lease name (also the `name` label of leader_election_master_status). */
  name: string;
  /** Default `${hostname}_${uuid}` (controller-runtime). */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the Lease on graceful stop. Default true. */
  releaseOnCancel?: boolean;
  /** Called once leadership is acquired; `signal` aborts when it is lost or the elector stops. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once after leading ends (lost or stopped). */
  onStoppedLeading?: (reason: 'lost' | 'stopped') => void;
  /** Called when the observed leader changes (including to us). */
  onNewLeader?: (identity: string) => void;
  log?: Logger;
  clock?: Clock;
}

/** MicroTime: RFC 3339 with exactly 6 fractional digits (the apiserver rejects other widths). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly #o: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #observed: { key: string; at: number; spec: LeaseSpec; rv: string | undefined } | undefined;
  #leader = false;
  /** Local time at which the last successful acquire / renew was sent. */
  #validFrom: number | undefined;
  #lastLeader: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#o = opts;
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > 1.2 * this.retryPeriodMs)) throw new Error('renewDeadline must be greater than 1.2 × retryPeriod');
    if (this.retryPeriodMs < 1) throw new Error('retryPeriod must be positive');
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.log ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}`, identity: this.identity });
    setLeaderStatus(opts.name, false);
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /** How long the lease is still ours by the local clock (<= 0 when not leading or expired). */
  leaseRemainingMs(): number {
    if (!this.#leader || this.#validFrom === undefined) return 0;
    return this.leaseDurationMs - (this.#clock.now() - this.#validFrom);
  }

  /** The holder seen in the last read of the Lease. */
  get observedLeader(): string | undefined {
    return this.#observed?.spec.holderIdentity ?? undefined;
  }

  /**
   * Campaigns until leading, leads until the lease is lost or `signal` aborts, then returns
   * ('lost' | 'stopped'). Never throws for API errors (they are retried).
   */
  async run(signal: AbortSignal): Promise<'lost' | 'stopped'> {
    // Acquire.
    for (let i = 0; !signal.aborted; i++) {
      const r = await this.#tryAcquireOrRenew(signal, this.renewDeadlineMs);
      if (r === 'ok') break;
      try {
        await sleep(this.#clock, this.retryPeriodMs * (1 + 1.2 * Math.random()), signal);
      } catch {
        break;
      }
    }
    if (signal.aborted) return 'stopped';

    // Lead.
    this.#leader = true;
    setLeaderStatus(this.#o.name, true);
    this.#log.info('became leader');
    const leading = new AbortController();
    void Promise.resolve()
      .then(() => this.#o.onStartedLeading(leading.signal))
      .catch((err: unknown) => this.#log.error({ err }, 'onStartedLeading failed'));

    const reason = await this.#renewLoop(signal);
    leading.abort(new Error(reason === 'lost' ? 'leader election lost' : 'leader election stopped'));
    this.#leader = false;
    setLeaderStatus(this.#o.name, false);
    if (reason === 'lost') this.#log.error('leader election lost');
    else if (this.#o.releaseOnCancel ?? true) await this.#release();
    try {
      this.#o.onStoppedLeading?.(reason);
    } catch (err) {
      this.#log.error({ err }, 'onStoppedLeading failed');
    }
    return reason;
  }

  async #renewLoop(signal: AbortSignal): Promise<'lost' | 'stopped'> {
    let lastRenew = this.#clock.now();
    for (let i = 0; ; i++) {
      try {
        await sleep(this.#clock, this.retryPeriodMs, signal);
      } catch {
        return 'stopped';
      }
      const remaining = this.renewDeadlineMs - (this.#clock.now() - lastRenew);
      const r = await this.#tryAcquireOrRenew(signal, Math.max(1, remaining));
      if (signal.aborted) return 'stopped';
      if (r === 'ok') {
        lastRenew = this.#clock.now();
        continue;
      }
      if (r === 'held') {
        this.#log.error({ holder: this.observedLeader }, 'lease taken by another holder');
        return 'lost';
      }
      if (this.#clock.now() - lastRenew >= this.renewDeadlineMs) {
        this.#log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew lease within the renew deadline');
        return 'lost';
      }
      if (i > Number.MAX_SAFE_INTEGER - 1) return 'lost';
    }
  }

  /** 'ok' = we hold it now; 'held' = another live holder; 'failed' = API error / lost race. */
  async #tryAcquireOrRenew(signal: AbortSignal, budgetMs: number): Promise<'ok' | 'held' | 'failed'> {
    const o = this.#o;
    const reqSignal = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, Math.min(budgetMs, this.renewDeadlineMs)))]);
    const now = this.#clock.now();
    const desired = (old: LeaseSpec | undefined): LeaseSpec => {
      const ours = old?.holderIdentity === this.identity;
      return {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
        acquireTime: ours && old?.acquireTime ? old.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: ours ? (old?.leaseTransitions ?? 0) : old ? (old.leaseTransitions ?? 0) + 1 : 0,
      };
    };
    let lease: Lease;
    try {
      lease = await o.client.get<Lease>(LEASE_RESOURCE, o.namespace, o.name, reqSignal);
    } catch (err) {
      if (!isNotFound(err)) {
        this.#log.warn({ err: errorSummary(err) }, 'reading lease failed');
        return 'failed';
      }
      try {
        const created = await o.client.create<Lease>(
          LEASE_RESOURCE,
          o.namespace,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.name, namespace: o.namespace }, spec: { ...desired(undefined), leaseTransitions: 0 } },
          reqSignal,
        );
        this.#observe(created, this.#clock.now());
        this.#validFrom = now;
        return 'ok';
      } catch (err2) {
        if (!isAlreadyExists(err2)) this.#log.warn({ err: errorSummary(err2) }, 'creating lease failed');
        return 'failed';
      }
    }
    const spec = lease.spec ?? {};
    this.#observe(lease, now);
    const holder = spec.holderIdentity ?? '';
    const observedAt = this.#observed?.at ?? now;
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    if (holder !== '' && holder !== this.identity && observedAt + durationMs > now) return 'held';
    if (holder !== '' && holder !== this.identity && this.#leader) return 'held'; // stolen while we led
    try {
      const updated = await o.client.replace<Lease>(
        LEASE_RESOURCE,
        o.namespace,
        o.name,
        { ...lease, metadata: { ...lease.metadata, resourceVersion: lease.metadata.resourceVersion }, spec: { ...spec, ...desired(spec) } },
        reqSignal,
      );
      this.#observe(updated, this.#clock.now());
      this.#validFrom = now;
      return 'ok';
    } catch (err) {
      if (!isConflict(err)) this.#log.warn({ err: errorSummary(err) }, 'updating lease failed');
      return 'failed';
    }
  }

  #observe(lease: Lease, now: number): void {
    const spec = lease.spec ?? {};
    const key = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.leaseDurationSeconds ?? 0, spec.leaseTransitions ?? 0]);
    if (this.#observed?.key !== key) this.#observed = { key, at: now, spec, rv: lease.metadata.resourceVersion };
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      try {
        this.#o.onNewLeader?.(holder);
      } catch (err) {
        this.#log.error({ err }, 'onNewLeader failed');
      }
    }
  }

  async #release(): Promise<void> {
    const o = this.#o;
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const lease = await o.client.get<Lease>(LEASE_RESOURCE, o.namespace, o.name, signal);
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.#clock.now());
      await o.client.replace<Lease>(
        LEASE_RESOURCE,
        o.namespace,
        o.name,
        {
          ...lease,
          spec: { holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
        },
        signal,
      );
      this.#log.info('released lease');
    } catch (err) {
      this.#log.warn({ err: errorSummary(err) }, 'releasing lease failed');
    }
  }
}
