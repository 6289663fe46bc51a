// Per-object condition gauges, like external-secrets' externalsecret_status_condition:
// stack_operator_stack_condition{namespace,name,condition,status} and
// stack_operator_provider_condition{kind,namespace,name,condition,status} are 1 for each condition's
// current status. The chart's PrometheusRule alerts on them (Stalled Stacks, providers not Ready).
//
// The series are rendered at scrape time from the informers' caches, so nothing per object is held
// between scrapes and a deleted object's series cannot be left behind. Kept as prom-client series
// they cost 931 B of heap per Stack (docs/benchmarks.md, fourth round) for data the cache already has.
import { Gauge, register } from 'prom-client';
import type { Condition } from '../api/v1alpha1/types.ts';

interface Tracked {
  metadata: { name?: string; namespace?: string };
  status?: { conditions?: Condition[] };
}

type Labels = Record<string, string>;

/** Where a gauge's objects come from: a cache's current objects, and labels every series of them carries. */
export interface ConditionSource {
  list(): readonly Tracked[];
  labels?: Labels;
}

type Series = Awaited<ReturnType<Gauge['get']>>['values'];

/** One series per object and condition, at the condition's current status. */
export function conditionSeries(sources: readonly ConditionSource[]): Series {
  const values: Series = [];
  for (const source of sources) {
    for (const o of source.list()) {
      const namespace = o.metadata.namespace ?? '';
      const name = o.metadata.name ?? '';
      for (const c of o.status?.conditions ?? []) values.push({ value: 1, labels: { ...source.labels, namespace, name, condition: c.type, status: c.status } });
    }
  }
  return values;
}

/** A prom-client Gauge whose values are read from `sources` at each scrape instead of kept. */
class ScrapedGauge extends Gauge {
  readonly #sources: readonly ConditionSource[];

  constructor(name: string, help: string, labelNames: string[], sources: readonly ConditionSource[]) {
    super({ name, help, labelNames });
    this.#sources = sources;
  }

  override async get(): ReturnType<Gauge['get']> {
    return { ...(await super.get()), values: conditionSeries(this.#sources) };
  }
}

/** (Re)registers a gauge on the default registry: the newest operator's caches are the ones scraped. */
function scraped(name: string, help: string, labelNames: string[], sources: readonly ConditionSource[]): Gauge {
  register.removeSingleMetric(name);
  return new ScrapedGauge(name, help, labelNames, sources);
}

export const stackConditionGauge = (stacks: ConditionSource): Gauge =>
  scraped('stack_operator_stack_condition', 'Status of each condition of each Stack (1 for the current status)', ['namespace', 'name', 'condition', 'status'], [stacks]);

export const providerConditionGauge = (providers: readonly ConditionSource[]): Gauge =>
  scraped(
    'stack_operator_provider_condition',
    'Status of each condition of each StackProvider / ClusterStackProvider (1 for the current status)',
    ['kind', 'namespace', 'name', 'condition', 'status'],
    providers,
  );
