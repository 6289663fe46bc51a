// The manager wires the runtime together (controller-runtime's Manager, reduced):
//
//   start(): servers (metrics, probes) → informers (all replicas, "warm-up") → leader election →
//            controllers (only while leading) … until stop() or leadership loss.
//   stop():  not ready → controllers' signal aborts (no new keys; in-flight reconciles are told to
//            finish) → wait for them up to gracefulShutdownMs → release the Lease → stop informers →
//            close servers.
//   Leadership lost: controllers abort at once; start() rejects with LeaderElectionLostError and the
//            process must exit (non-zero) so it restarts as a follower, as controller-runtime does.
//
// Readiness (/readyz) = every registered informer has synced (followers are ready too).
// `handleSignals()` maps SIGTERM/SIGINT to stop(); a second signal exits(1) at once.
import type { KubeConfig } from '@kubernetes/client-node';
import { Controller, type ControllerOptions } from './controller.ts';
import { Informer, type InformerOptions } from './informer.ts';
import { type ClusterConnection, KubeClient, type KubeObject } from './kube-client.ts';
import { LeaderElector, type LeaderElectorOptions } from './leader-election.ts';
import { silentLogger, type Logger } from './logging.ts';
import { ProbeServer, type Check } from './server.ts';

export class LeaderElectionLostError extends Error {
  override readonly name = 'LeaderElectionLostError';
  constructor() {
    super('leader election lost');
  }
}

export type LeaderElectionConfig = Omit<LeaderElectorOptions, 'client' | 'onStartedLeading' | 'onStoppedLeading' | 'log' | 'clock'>;

export interface ManagerOptions {
  kubeConfig: KubeConfig | ClusterConnection;
  /** Default: a KubeClient on kubeConfig, rate-limited by kubeApi. */
  client?: KubeClient;
  /** Client-side QPS / burst of API requests (client-go's); unset or 0: none. */
  kubeApi?: { qps?: number; burst?: number; userAgent?: string };
  log?: Logger;
  /** /metrics listener. Default { port: 8080 }. `false` disables. */
  metrics?: { port?: number; host?: string } | false;
  /** /healthz + /readyz listener. Default { port: 8081 }. Same port as metrics → one server. `false` disables. */
  probes?: { port?: number; host?: string } | false;
  /** Default: no leader election (every replica reconciles). */
  leaderElection?: LeaderElectionConfig | false;
  /** Bound on waiting for in-flight reconciles at shutdown. Default 30 s. */
  gracefulShutdownMs?: number;
  /** Prefix of the runtime's own metrics (e.g. the product's name in snake case), given to its informers. */
  metricsPrefix?: string;
}

export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly #o: ManagerOptions;
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #controllers: Controller<unknown>[] = [];
  readonly #servers: ProbeServer[] = [];
  readonly #probe: ProbeServer | undefined;
  readonly #stopAbort = new AbortController();
  readonly #ctrlAbort = new AbortController();
  #elector: LeaderElector | undefined;
  #controllersRun: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #started = false;

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    this.client = opts.client ?? new KubeClient(opts.kubeConfig, { ...opts.kubeApi });
    this.log = opts.log ?? silentLogger;
    const metrics = opts.metrics === undefined ? { port: 8080 } : opts.metrics;
    const probes = opts.probes === undefined ? { port: 8081 } : opts.probes;
    if (metrics && probes && (metrics.port ?? 0) === (probes.port ?? 0) && (metrics.port ?? 0) !== 0) {
      this.#probe = new ProbeServer({ ...probes, log: this.log });
      this.#servers.push(this.#probe);
    } else {
      if (metrics) this.#servers.push(new ProbeServer({ ...metrics, probes: false, log: this.log }));
      if (probes) {
        this.#probe = new ProbeServer({ ...probes, metrics: false, log: this.log });
        this.#servers.push(this.#probe);
      }
    }
    this.#probe?.addReadyCheck('informers-synced', () => {
      const pending = this.#informers.filter((i) => !i.synced).map((i) => i.name);
      if (pending.length > 0) throw new Error(`not synced: ${pending.join(', ')}`);
    });
    this.#probe?.addReadyCheck('shutdown', () => {
      if (this.#stopAbort.signal.aborted) throw new Error('shutting down');
    });
  }

  /** Ports the servers listen on, after start (metrics first when separate). */
  get ports(): number[] {
    return this.#servers.map((s) => s.port);
  }
  get probeServer(): ProbeServer | undefined {
    return this.#probe;
  }
  get isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#started;
  }

  /**
   * Fencing: whether this process may cause an external side effect now. Without leader election,
   * whether it runs. With it, whether the lease is still ours for more than the margin a renewal may
   * take (leaseDuration - renewDeadline), so a leader that was paused past its lease never acts.
   */
  holdsLeadership(): boolean {
    const e = this.#elector;
    if (!e) return this.#started;
    return e.leaseRemainingMs() > e.leaseDurationMs - e.renewDeadlineMs;
  }
  /** Aborts when stop() begins. */
  get stopSignal(): AbortSignal {
    return this.#stopAbort.signal;
  }

  /** Creates and registers an informer (started by start()). */
  informer<T extends KubeObject>(opts: InformerOptions<T>): Informer<T> {
    const prefix = this.#o.metricsPrefix === undefined ? {} : { metricsPrefix: this.#o.metricsPrefix };
    const inf = new Informer<T>(this.client, { log: this.log, ...prefix, ...opts });
    this.#informers.push(inf as unknown as Informer<KubeObject>);
    return inf;
  }
  addInformer(inf: Informer<KubeObject>): void {
    this.#informers.push(inf);
  }

  /** Creates and registers a controller (run while leading). */
  controller<C>(opts: ControllerOptions<C>): Controller<C> {
    const c = new Controller<C>({ log: this.log, ...opts });
    this.#controllers.push(c as unknown as Controller<unknown>);
    return c;
  }
  addController(c: Controller<unknown>): void {
    this.#controllers.push(c);
  }
  addHealthCheck(name: string, check: Check): void {
    this.#probe?.addHealthCheck(name, check);
  }
  addReadyCheck(name: string, check: Check): void {
    this.#probe?.addReadyCheck(name, check);
  }

  /**
   * Runs until stop() (resolves) or leadership loss (rejects with LeaderElectionLostError, after
   * stopping everything without waiting for reconciles).
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('manager already started');
    this.#started = true;
    const le = this.#o.leaderElection;
    // Built before anything listens: a bad configuration fails start() with nothing left running.
    const elector = le ? this.#newElector(le) : undefined;
    try {
      for (const s of this.#servers) await s.listen();
    } catch (err) {
      // A port in use: close what already listens, so a failed start never leaves the process hanging.
      await this.#shutdownRest(0);
      throw err;
    }
    this.log.info({ ports: this.ports }, 'manager starting');
    for (const i of this.#informers) i.start();

    if (!elector) {
      this.#controllersRun = this.#runControllers(this.#ctrlAbort.signal);
      await new Promise<void>((resolve) => this.#stopAbort.signal.addEventListener('abort', () => resolve(), { once: true }));
      await this.#stopping;
      return;
    }

    const electorStop = new AbortController();
    // Graceful stop: the elector is stopped (and releases) only after controllers drained.
    const run = elector.run(electorStop.signal);
    this.#afterDrain = async () => {
      electorStop.abort(new Error('manager stopping'));
      await run;
    };
    const outcome = await run;
    if (outcome === 'lost' && !this.#stopAbort.signal.aborted) {
      this.log.error('leader election lost: stopping');
      this.#ctrlAbort.abort(new LeaderElectionLostError());
      await this.#shutdownRest(0);
      throw new LeaderElectionLostError();
    }
    if (!this.#stopAbort.signal.aborted) {
      // run() returned 'stopped' without stop(): nothing else aborts electorStop, so this is unreachable.
      await this.stop();
    }
    await this.#stopping;
  }

  #afterDrain: (() => Promise<unknown>) | undefined;

  #newElector(le: LeaderElectionConfig): LeaderElector {
    this.#elector = new LeaderElector({
      ...le,
      client: this.client,
      log: this.log,
      onStartedLeading: (leading) => {
        this.#controllersRun = this.#runControllers(AbortSignal.any([leading, this.#ctrlAbort.signal]));
      },
    });
    return this.#elector;
  }

  /** Graceful stop (idempotent). Resolves when everything is stopped. */
  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  /** SIGTERM/SIGINT → stop(); a second signal exits with 1. Returns an uninstaller. */
  handleSignals(onStopped: (err?: unknown) => void = () => {}): () => void {
    let count = 0;
    const handler = (sig: NodeJS.Signals): void => {
      count++;
      if (count > 1) {
        this.log.error({ signal: sig }, 'second signal: exiting now');
        process.exit(1);
      }
      this.log.info({ signal: sig }, 'signal received: shutting down');
      this.stop().then(
        () => onStopped(),
        (err: unknown) => onStopped(err),
      );
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    return () => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    };
  }

  async #doStop(): Promise<void> {
    this.#stopAbort.abort(new Error('manager stopping'));
    this.log.info('stopping controllers');
    this.#ctrlAbort.abort(new Error('manager stopping'));
    const budget = this.#o.gracefulShutdownMs ?? 30_000;
    if (this.#controllersRun) {
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        this.#controllersRun.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), budget);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!drained) this.log.warn({ gracefulShutdownMs: budget }, 'reconciles still running after the graceful shutdown period');
    }
    await this.#afterDrain?.();
    await this.#shutdownRest(budget);
  }

  async #shutdownRest(_budget: number): Promise<void> {
    await Promise.allSettled(this.#informers.map((i) => i.stop()));
    await Promise.allSettled(this.#servers.map((s) => s.close()));
    this.log.info('manager stopped');
  }

  async #runControllers(signal: AbortSignal): Promise<void> {
    const results = await Promise.allSettled(this.#controllers.map((c) => c.start(signal)));
    for (const r of results) if (r.status === 'rejected') this.log.error({ err: r.reason as unknown }, 'controller failed');
  }
}
