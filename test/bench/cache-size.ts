// `node --expose-gc test/bench/cache-size.ts [N]`: heap bytes per cached Stack for the bench's
// realistic object (~4.4 KiB template, kubectl's last-applied annotation and managedFields, a Ready
// status), each parsed from its own JSON text as the informer does, in three representations:
// as the API server sends it, through the Stack cache transform (src/stacks/operator.ts, which keeps
// the inline template as JSON text), and through the field filter alone (the template parsed).
import { keepStackFields as fieldsOnly, stackCacheView } from '../../src/stacks/operator.ts';
import type { StackObject } from '../../src/stacks/context.ts';
import { LAST_APPLIED, realisticTemplate, stackManifest } from './lib.ts';

type Mode = 'as-sent' | 'fields-only' | 'cache-view';

function serverObject(i: number, template: Record<string, unknown>): string {
  const now = new Date().toISOString();
  const m = stackManifest(`bulk-${String(i).padStart(5, '0')}`, 'bench-bulk', 'heat-bulk', template) as { metadata: Record<string, unknown>; [k: string]: unknown };
  m.metadata['annotations'] = { [LAST_APPLIED]: `${JSON.stringify(m)}\n` };
  Object.assign(m.metadata, { uid: crypto.randomUUID(), resourceVersion: String(100_000 + i), generation: 1, creationTimestamp: now, finalizers: ['stackoperator.dev/finalizer'] });
  m.metadata['managedFields'] = [
    {
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      apiVersion: 'stackoperator.dev/v1alpha1',
      time: now,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:annotations': { '.': {}, [`f:${LAST_APPLIED}`]: {} }, 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } },
        'f:spec': { '.': {}, 'f:parameters': { '.': {}, 'f:message': {} }, 'f:providerRef': { '.': {}, 'f:name': {} }, 'f:template': { '.': {}, 'f:inline': {} } },
      },
    },
  ];
  const cond = (type: string, status: string) => ({ type, status, reason: 'Succeeded', message: 'CREATE_COMPLETE', lastTransitionTime: now, observedGeneration: 1 });
  m['status'] = { observedGeneration: 1, stackId: crypto.randomUUID(), stackStatus: 'CREATE_COMPLETE', conditions: [cond('Ready', 'True'), cond('Reconciling', 'False'), cond('Stalled', 'False')], outputs: { web_value: 'web-v1' } };
  return JSON.stringify(m);
}

export function bytesPerStack(mode: Mode, n: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const template = realisticTemplate();
  const store = new Map<string, unknown>();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    let o = JSON.parse(serverObject(i, template)) as StackObject;
    if (mode === 'fields-only') o = fieldsOnly(o);
    if (mode === 'cache-view') o = stackCacheView(o);
    store.set(String(i), o);
  }
  gc();
  gc();
  const per = (process.memoryUsage().heapUsed - before) / store.size;
  return Math.round(per);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 5000);
  for (const mode of ['as-sent', 'fields-only', 'cache-view'] as const) console.log(JSON.stringify({ mode, stacks: n, heapBytesPerStack: bytesPerStack(mode, n) }));
}
