// Prometheus metrics with controller-runtime's names, labels and buckets, on prom-client's DEFAULT
// registry (so whoever serves `register.metrics()` exposes them, together with collectDefaultMetrics).
//
// Metrics are created lazily and at most once per process (get-or-create), so several controllers,
// queues or test files can share them. Series are labelled by controller / queue name only: never by
// object, to keep cardinality bounded.
import { Counter, Gauge, Histogram, register, type Metric } from 'prom-client';

const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75,
  2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** ExponentialBuckets(1e-8, 10, 12), as client-go's workqueue metrics. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * Math.pow(10, i)).toPrecision(1)));

function getOrCreate<M extends Metric>(name: string, make: () => M): M {
  const existing = register.getSingleMetric(name);
  return (existing as M | undefined) ?? make();
}

/** Work-queue state sampled at scrape time (unfinished work, longest running processor). */
export interface QueueSampler {
  name: string;
  /** Seconds of work in progress that has not called done() yet, summed over in-flight items. */
  unfinishedWorkSeconds(): number;
  /** Seconds the longest-running in-flight item has been processing. */
  longestRunningProcessorSeconds(): number;
}
const samplers = new Set<QueueSampler>();

function queueLabels(name: string): { name: string; controller: string } {
  return { name, controller: name };
}

/** Metrics for one named work queue (`name` = `controller` label, as controller-runtime does). */
export class QueueMetrics {
  readonly name: string;
  readonly #labels: { name: string; controller: string };
  #sampler: QueueSampler | undefined;

  constructor(name: string) {
    this.name = name;
    this.#labels = queueLabels(name);
    const m = queueMetrics();
    m.depth.set(this.#labels, 0);
    m.adds.inc(this.#labels, 0);
    m.retries.inc(this.#labels, 0);
    m.unfinished.set(this.#labels, 0);
    m.longest.set(this.#labels, 0);
  }
  depth(n: number): void {
    queueMetrics().depth.set(this.#labels, n);
  }
  add(): void {
    queueMetrics().adds.inc(this.#labels);
  }
  retry(): void {
    queueMetrics().retries.inc(this.#labels);
  }
  queueDuration(seconds: number): void {
    queueMetrics().queueDuration.observe(this.#labels, seconds);
  }
  workDuration(seconds: number): void {
    queueMetrics().workDuration.observe(this.#labels, seconds);
  }
  attach(sampler: Omit<QueueSampler, 'name'>): void {
    this.detach();
    this.#sampler = { name: this.name, ...sampler };
    samplers.add(this.#sampler);
  }
  detach(): void {
    if (this.#sampler) samplers.delete(this.#sampler);
    this.#sampler = undefined;
  }
}

interface QueueMetricSet {
  depth: Gauge<'name' | 'controller'>;
  adds: Counter<'name' | 'controller'>;
  retries: Counter<'name' | 'controller'>;
  queueDuration: Histogram<'name' | 'controller'>;
  workDuration: Histogram<'name' | 'controller'>;
  unfinished: Gauge<'name' | 'controller'>;
  longest: Gauge<'name' | 'controller'>;
}

function queueMetrics(): QueueMetricSet {
  const labelNames = ['name', 'controller'] as const;
  return {
    depth: getOrCreate('workqueue_depth', () => new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames })),
    adds: getOrCreate(
      'workqueue_adds_total',
      () => new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames }),
    ),
    retries: getOrCreate(
      'workqueue_retries_total',
      () => new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames }),
    ),
    queueDuration: getOrCreate(
      'workqueue_queue_duration_seconds',
      () =>
        new Histogram({
          name: 'workqueue_queue_duration_seconds',
          help: 'How long in seconds an item stays in workqueue before being requested',
          labelNames,
          buckets: QUEUE_BUCKETS,
        }),
    ),
    workDuration: getOrCreate(
      'workqueue_work_duration_seconds',
      () =>
        new Histogram({
          name: 'workqueue_work_duration_seconds',
          help: 'How long in seconds processing an item from workqueue takes.',
          labelNames,
          buckets: QUEUE_BUCKETS,
        }),
    ),
    unfinished: getOrCreate(
      'workqueue_unfinished_work_seconds',
      () =>
        new Gauge({
          name: 'workqueue_unfinished_work_seconds',
          help:
            'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. ' +
            'Large values indicate stuck threads.',
          labelNames,
          collect(): void {
            for (const s of samplers) this.set(queueLabels(s.name), s.unfinishedWorkSeconds());
          },
        }),
    ),
    longest: getOrCreate(
      'workqueue_longest_running_processor_seconds',
      () =>
        new Gauge({
          name: 'workqueue_longest_running_processor_seconds',
          help: 'How many seconds has the longest running processor for workqueue been running.',
          labelNames,
          collect(): void {
            for (const s of samplers) this.set(queueLabels(s.name), s.longestRunningProcessorSeconds());
          },
        }),
    ),
  };
}

export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/** Metrics for one named controller. */
export class ControllerMetrics {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
    const m = controllerMetrics();
    // controller-runtime pre-initialises every result series to 0.
    for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) {
      m.total.inc({ controller: name, result }, 0);
    }
    m.errors.inc({ controller: name }, 0);
    m.terminal.inc({ controller: name }, 0);
    m.panics.inc({ controller: name }, 0);
    m.active.set({ controller: name }, 0);
  }
  result(result: ReconcileResult): void {
    controllerMetrics().total.inc({ controller: this.name, result });
  }
  error(terminal: boolean): void {
    const m = controllerMetrics();
    m.errors.inc({ controller: this.name });
    if (terminal) m.terminal.inc({ controller: this.name });
  }
  /** An exception thrown synchronously / a non-Error rejection (our stand-in for a Go panic). */
  panic(): void {
    controllerMetrics().panics.inc({ controller: this.name });
  }
  time(seconds: number): void {
    controllerMetrics().time.observe({ controller: this.name }, seconds);
  }
  maxConcurrent(n: number): void {
    controllerMetrics().max.set({ controller: this.name }, n);
  }
  activeWorkers(delta: number): void {
    controllerMetrics().active.inc({ controller: this.name }, delta);
  }
}

function controllerMetrics(): {
  total: Counter<'controller' | 'result'>;
  errors: Counter<'controller'>;
  terminal: Counter<'controller'>;
  panics: Counter<'controller'>;
  time: Histogram<'controller'>;
  max: Gauge<'controller'>;
  active: Gauge<'controller'>;
} {
  return {
    total: getOrCreate(
      'controller_runtime_reconcile_total',
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_total',
          help: 'Total number of reconciliations per controller',
          labelNames: ['controller', 'result'],
        }),
    ),
    errors: getOrCreate(
      'controller_runtime_reconcile_errors_total',
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_errors_total',
          help: 'Total number of reconciliation errors per controller',
          labelNames: ['controller'],
        }),
    ),
    terminal: getOrCreate(
      'controller_runtime_terminal_reconcile_errors_total',
      () =>
        new Counter({
          name: 'controller_runtime_terminal_reconcile_errors_total',
          help: 'Total number of terminal reconciliation errors per controller',
          labelNames: ['controller'],
        }),
    ),
    panics: getOrCreate(
      'controller_runtime_reconcile_panics_total',
      () =>
        new Counter({
          name: 'controller_runtime_reconcile_panics_total',
          help: 'Total number of reconciliation panics per controller',
          labelNames: ['controller'],
        }),
    ),
    time: getOrCreate(
      'controller_runtime_reconcile_time_seconds',
      () =>
        new Histogram({
          name: 'controller_runtime_reconcile_time_seconds',
          help: 'Length of time per reconciliation per controller',
          labelNames: ['controller'],
          buckets: RECONCILE_BUCKETS,
        }),
    ),
    max: getOrCreate(
      'controller_runtime_max_concurrent_reconciles',
      () =>
        new Gauge({
          name: 'controller_runtime_max_concurrent_reconciles',
          help: 'Maximum number of concurrent reconciles per controller',
          labelNames: ['controller'],
        }),
    ),
    active: getOrCreate(
      'controller_runtime_active_workers',
      () =>
        new Gauge({
          name: 'controller_runtime_active_workers',
          help: 'Number of currently used workers per controller',
          labelNames: ['controller'],
        }),
    ),
  };
}

/** leader_election_master_status{name}: 1 while this process leads the named lease. */
export function setLeaderStatus(name: string, leading: boolean): void {
  const g = getOrCreate(
    'leader_election_master_status',
    () =>
      new Gauge({
        name: 'leader_election_master_status',
        help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease.',
        labelNames: ['name'],
      }),
  );
  g.set({ name }, leading ? 1 : 0);
}

/**
 * Prefix of the runtime's own metrics (the ones controller-runtime has no name for): the product
 * passes its own through ManagerOptions.metricsPrefix / InformerOptions.metricsPrefix. This default
 * only keeps today's series names for callers that do not pass one yet.
 */
export const DEFAULT_METRICS_PREFIX = 'stack_operator';

/** Informer health, under the caller's prefix (not in controller-runtime): restarts and relists by reason. */
export function informerEvent(prefix: string, resource: string, event: 'list' | 'list_restart' | 'relist_410' | 'watch_restart' | 'watchdog'): void {
  const name = `${prefix}_informer_events_total`;
  const c = getOrCreate(
    name,
    () =>
      new Counter({
        name,
        help: 'Informer list/watch lifecycle events by resource and kind of event',
        labelNames: ['resource', 'event'],
      }),
  );
  c.inc({ resource, event });
}
