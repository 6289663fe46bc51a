// `node test/bench/desired-cost.ts`: CPU of one reconcile's desired-state resolution for the bench's
// realistic cached Stack (~4.4 KiB inline template, kept as JSON text by the Stack cache), and of its
// parts. Every reconcile pays it, resyncs at rest included: `resolveDesiredUs` is a resync (the same
// cached object again, whose template checks and hash are kept per text), `resolveDesiredFirstUs` the
// first reconcile of a cached object. Pure computation: no cluster, no provider.
import { canonicalJson } from '../../src/lib/canonical-json.ts';
import { resolveDesired, nestingDepth } from '../../src/stacks/resolve.ts';
import { stackCacheView } from '../../src/stacks/operator.ts';
import type { ResolveReader } from '../../src/stacks/resolve.ts';
import { realisticTemplate, stackManifest } from './lib.ts';

const reader: ResolveReader = { secret: () => Promise.resolve(undefined), configMap: () => Promise.resolve(undefined), namespaceLabels: () => Promise.resolve({}) };
const manifest = stackManifest('bulk-00001', 'bench-bulk', 'heat-bulk', realisticTemplate()) as { metadata: Record<string, unknown> };
Object.assign(manifest.metadata, { uid: 'uid-1', generation: 1 });
const cached = stackCacheView(JSON.parse(JSON.stringify(manifest)) as never);
// Distinct cached objects, each resolved once in the timed loop (after the 2,000 warm-up calls).
const fresh = Array.from({ length: 22_000 }, () => stackCacheView(JSON.parse(JSON.stringify(manifest)) as never));
let i = 0;
const template = realisticTemplate();
const text = JSON.stringify(template);

async function microseconds(fn: () => unknown, n = 20_000): Promise<number> {
  for (let i = 0; i < 2_000; i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return Math.round(((performance.now() - t) * 1000) / n * 10) / 10;
}

console.log(
  JSON.stringify({
    templateBytes: text.length,
    resolveDesiredUs: await microseconds(() => resolveDesired(cached, 'heat', reader)),
    resolveDesiredFirstUs: await microseconds(() => resolveDesired(fresh[i++ % fresh.length] as never, 'heat', reader), fresh.length - 2_000),
    parseTemplateUs: await microseconds(() => JSON.parse(text)),
    nestingDepthUs: await microseconds(() => nestingDepth(template)),
    canonicalJsonUs: await microseconds(() => canonicalJson(template)),
  }),
);
