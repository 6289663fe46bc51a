// Heap held by the reconciler's kept provider views (src/stacks/record-during-read.ts, LastViews) per
// Stack: N views parsed from Heat-shaped replies (fresh strings, as an adapter makes them) are kept, and
// the heap after a full GC is compared with the heap before. No I/O.
//   node --expose-gc test/bench/last-views-heap.ts [stacks]
import { LastViews } from '../../src/stacks/record-during-read.ts';
import type { StackObject } from '../../src/stacks/context.ts';
import type { StackView } from '../../src/providers/types.ts';

const n = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const stacks = Array.from({ length: n }, (_, i) => ({ metadata: { namespace: `bench-${i % 10}`, name: `stack-${String(i).padStart(5, '0')}`, uid: crypto.randomUUID() } }) as StackObject);
const reply = (i: number): string =>
  JSON.stringify({
    id: crypto.randomUUID(),
    name: stacks[i]?.metadata.name,
    phase: 'Complete',
    operation: 'update',
    rawStatus: 'UPDATE_COMPLETE',
    reason: 'Stack UPDATE completed successfully',
    ownerUid: stacks[i]?.metadata.uid,
    createdAt: '2026-11-29T01:00:00Z',
    updatedAt: '2026-11-29T01:10:00Z',
    outputs: [{ key: 'message', value: 'x'.repeat(40) }],
    parameters: { message: 'm' },
    tags: { 'stackoperator.dev/uid': stacks[i]?.metadata.uid },
  });
gc();
gc();
const before = process.memoryUsage().heapUsed;
const views = new LastViews();
for (let i = 0; i < n; i++) views.remember(stacks[i] as StackObject, JSON.parse(reply(i)) as StackView);
gc();
gc();
const delta = process.memoryUsage().heapUsed - before;
console.log(JSON.stringify({ stacks: n, kept: views.size, heapMiB: +(delta / 1048576).toFixed(2), bytesPerStack: Math.round(delta / n) }));
