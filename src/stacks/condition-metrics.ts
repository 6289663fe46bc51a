// Per-object condition gauges, like external-secrets' externalsecret_status_condition:
// stack_operator_stack_condition{namespace,name,condition,status} and
// stack_operator_provider_condition{kind,namespace,name,condition,status} are 1 for each condition's
// current status. Labels are bounded: one series per object and condition type (the series of the
// previous status is removed), and every series of a deleted object goes with it. The chart's
// PrometheusRule alerts on them (Stalled Stacks, providers not Ready).
import { Gauge, register } from 'prom-client';
import type { Condition } from '../api/v1alpha1/types.ts';

export interface ConditionSource<T> {
  onAdd(fn: (obj: T) => void): unknown;
  onUpdate(fn: (old: T, obj: T) => void): unknown;
  onDelete(fn: (obj: T) => void): unknown;
}

interface Tracked {
  metadata: { name?: string; namespace?: string };
  status?: { conditions?: Condition[] };
}

type Labels = Record<string, string>;

function gauge(name: string, help: string, labelNames: string[]): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames });
}

/** Keeps `g` equal to the current conditions of every object `source` reports. */
/** The two calls of a prom-client Gauge this needs. */
export interface SeriesSink {
  set(labels: Labels, value: number): void;
  remove(labels: Labels): void;
}

export function trackConditions<T extends Tracked>(source: ConditionSource<T>, g: SeriesSink, extra: Labels = {}): void {
  const current = new Map<string, Labels[]>();
  const key = (o: T) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  const sync = (o: T) => {
    const next = (o.status?.conditions ?? []).map((c) => ({ ...extra, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', condition: c.type, status: c.status }));
    for (const old of current.get(key(o)) ?? []) if (!next.some((n) => n.condition === old.condition && n.status === old.status)) g.remove(old);
    for (const n of next) g.set(n, 1);
    current.set(key(o), next);
  };
  source.onAdd(sync);
  source.onUpdate((_old, o) => sync(o));
  source.onDelete((o) => {
    for (const old of current.get(key(o)) ?? []) g.remove(old);
    current.delete(key(o));
  });
}

export const stackConditionGauge = (): Gauge =>
  gauge('stack_operator_stack_condition', 'Status of each condition of each Stack (1 for the current status)', ['namespace', 'name', 'condition', 'status']);

export const providerConditionGauge = (): Gauge =>
  gauge('stack_operator_provider_condition', 'Status of each condition of each StackProvider / ClusterStackProvider (1 for the current status)', [
    'kind',
    'namespace',
    'name',
    'condition',
    'status',
  ]);
