// `node --expose-gc test/bench/condition-gauges.ts [N]`: heap held and scrape time of the per-Stack
// condition gauges at N Stacks (default 10,000) with three conditions each, two ways: the series
// kept in a prom-client Gauge (how they were kept until the fifth round: set on every status change)
// and rendered from the cache at scrape time (src/stacks/condition-metrics.ts). In-memory only.
import { Gauge, register } from 'prom-client';
import type { Condition } from '../../src/api/v1alpha1/types.ts';
import { conditionSeries, stackConditionGauge } from '../../src/stacks/condition-metrics.ts';

const N = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const cond = (type: string, status: Condition['status']): Condition => ({ type, status, reason: 'Succeeded', message: 'stack UPDATE_COMPLETE', lastTransitionTime: '2026-11-28T00:00:00Z' });
const cache = Array.from({ length: N }, (_, i) => ({
  metadata: { namespace: 'bench-bulk', name: `bulk-${String(i).padStart(5, '0')}` },
  status: { conditions: [cond('Ready', 'True'), cond('Reconciling', 'False'), cond('Stalled', 'False')] },
}));

function heapMiB(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

async function scrapeMs(name: string): Promise<{ ms: number; bytes: number }> {
  await register.getSingleMetricAsString(name); // warm
  const t = performance.now();
  let text = '';
  for (let i = 0; i < 5; i++) text = await register.getSingleMetricAsString(name);
  return { ms: Math.round((performance.now() - t) / 5), bytes: text.length };
}

const base = heapMiB();
const kept = new Gauge({ name: 'kept_stack_condition', help: 'kept', labelNames: ['namespace', 'name', 'condition', 'status'] });
for (const v of conditionSeries([{ list: () => cache }])) kept.set(v.labels, v.value);
const keptHeap = heapMiB() - base;
const keptScrape = await scrapeMs('kept_stack_condition');
register.removeSingleMetric('kept_stack_condition');

const base2 = heapMiB();
stackConditionGauge({ list: () => cache });
const scrapedScrape = await scrapeMs('stack_operator_stack_condition');
const scrapedHeap = heapMiB() - base2;

const r = (x: number) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    stacks: N,
    kept: { heapMiB: r(keptHeap), bytesPerStack: Math.round((keptHeap * 1048576) / N), scrapeMs: keptScrape.ms, scrapeBytes: keptScrape.bytes },
    scraped: { heapMiB: r(scrapedHeap), bytesPerStack: Math.round((scrapedHeap * 1048576) / N), scrapeMs: scrapedScrape.ms, scrapeBytes: scrapedScrape.bytes },
  }),
);
