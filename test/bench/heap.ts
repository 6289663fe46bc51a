// `node test/bench/heap.ts <file.heapsnapshot> [top]`: self size by node type and constructor name
// (no retained sizes: enough to see what fills the operator's heap). Used to find the memory hotspots
// reported in docs/benchmarks.md; the bench takes the snapshot with `--heap-snapshot`.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summariseHeap(file: string, top = 25): { totalMiB: number; rows: { kind: string; name: string; count: number; selfMiB: number }[] } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const agg = new Map<string, { kind: string; name: string; count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const kind = types[snap.nodes[i + iType] as number] ?? '?';
    let name = kind === 'object' || kind === 'closure' || kind === 'native' || kind === 'hidden' ? (snap.strings[snap.nodes[i + iName] as number] ?? '?') : '';
    if (kind === 'string' || kind === 'concatenated string' || kind === 'sliced string') name = '';
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const size = snap.nodes[i + iSize] as number;
    total += size;
    const key = `${kind}\u0000${name}`;
    const e = agg.get(key) ?? { kind, name, count: 0, bytes: 0 };
    e.count++;
    e.bytes += size;
    agg.set(key, e);
  }
  const rows = [...agg.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top)
    .map((e) => ({ kind: e.kind, name: e.name, count: e.count, selfMiB: Math.round((e.bytes / 2 ** 20) * 100) / 100 }));
  return { totalMiB: Math.round((total / 2 ** 20) * 10) / 10, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node test/bench/heap.ts <file.heapsnapshot> [top]');
  const r = summariseHeap(file, Number(process.argv[3] ?? 25));
  console.log(`total self size ${r.totalMiB} MiB`);
  for (const x of r.rows) console.log(`${String(x.selfMiB).padStart(8)} MiB ${String(x.count).padStart(8)}  ${x.kind} ${x.name}`);
}
