// Informer + controller against the shared real kube-apiserver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, awaitCacheSync, awaitChange, requeueAfter } from '../../../src/runtime/controller.ts';
import { Informer, keepOnly, LAST_APPLIED_ANNOTATION } from '../../../src/runtime/informer.ts';
import { KubeClient, objectKey, type KubeObject } from '../../../src/runtime/kube-client.ts';
import { deleteNamespace, kubectl, testKubeConfig, uniqueNamespace } from '../../env/kube.ts';
import { CONFIGMAPS, HeldListClient, configMap, waitFor } from './util.ts';

const kc = testKubeConfig();
const client = new KubeClient(kc);
let ns1 = '';
let ns2 = '';

beforeAll(async () => {
  ns1 = await uniqueNamespace('rt-inf');
  ns2 = await uniqueNamespace('rt-inf');
});
afterAll(async () => {
  await deleteNamespace(ns1);
  await deleteNamespace(ns2);
});

describe('Informer (shared apiserver)', () => {
  it('paginates the initial list, then follows adds, updates and deletes; scoped by namespaces and labels', async () => {
    for (let i = 0; i < 7; i++) await client.create(CONFIGMAPS, ns1, configMap(ns1, `cm-${i}`, { i: String(i) }, { app: 'x' }));
    await client.create(CONFIGMAPS, ns1, configMap(ns1, 'unlabelled'));
    await client.create(CONFIGMAPS, ns2, configMap(ns2, 'other', {}, { app: 'x' }));

    const inf = new Informer<KubeObject & { data?: Record<string, string> }>(client, {
      resource: CONFIGMAPS,
      namespaces: [ns1, ns2],
      labelSelector: 'app=x',
      pageSize: 2,
    });
    const events: string[] = [];
    inf.onAdd((o) => events.push(`add ${objectKey(o)}`));
    inf.onUpdate((_o, n) => events.push(`update ${objectKey(n)} ${n.data?.v ?? ''}`));
    inf.onDelete((o) => events.push(`delete ${objectKey(o)}`));
    inf.start();
    await inf.waitForSync({ timeoutMs: 30_000 });
    try {
      expect(inf.synced).toBe(true);
      expect(inf.size).toBe(8);
      expect(inf.get(`${ns1}/unlabelled`)).toBeUndefined();
      expect(inf.stats.lists).toBe(2); // one per namespace
      expect(events.filter((e) => e.startsWith('add')).length).toBe(8);
      expect(inf.get(`${ns1}/cm-0`)?.metadata.managedFields).toBeUndefined();

      await client.patch(CONFIGMAPS, ns1, 'cm-1', { data: { v: 'one' } }, { contentType: 'application/merge-patch+json' });
      await client.delete(CONFIGMAPS, ns1, 'cm-2');
      await client.create(CONFIGMAPS, ns2, configMap(ns2, 'late', {}, { app: 'x' }));
      await waitFor('events', () => inf.size === 8 && inf.get(`${ns2}/late`) !== undefined && inf.get(`${ns1}/cm-1`)?.data?.v === 'one');
      expect(events).toContain(`update ${ns1}/cm-1 one`);
      expect(events).toContain(`delete ${ns1}/cm-2`);
      expect(events).toContain(`add ${ns2}/late`);
      // Dropping the label makes it leave the selection: a delete.
      await client.patch(CONFIGMAPS, ns1, 'cm-3', { metadata: { labels: { app: null } } }, { contentType: 'application/merge-patch+json' });
      await waitFor('label removal', () => inf.get(`${ns1}/cm-3`) === undefined);
      expect(events).toContain(`delete ${ns1}/cm-3`);
    } finally {
      await inf.stop();
    }
  });

  it('never reconciles a key concurrently under many workers and rapid updates, and ends on the final state', async () => {
    const N_KEYS = 6;
    const UPDATES = 25;
    for (let k = 0; k < N_KEYS; k++) await client.create(CONFIGMAPS, ns2, configMap(ns2, `hot-${k}`, { n: '0' }, { hot: 'y' }));
    const inf = new Informer<KubeObject & { data?: Record<string, string> }>(client, { resource: CONFIGMAPS, namespaces: [ns2], labelSelector: 'hot=y' });
    const inFlight = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    let reconciles = 0;
    const lastSeen = new Map<string, string>();
    const c = new Controller<null>({
      name: `rt-concurrency-${ns2}`,
      context: null,
      maxConcurrentReconciles: 8,
      reconciler: async (key) => {
        const n = (inFlight.get(key) ?? 0) + 1;
        inFlight.set(key, n);
        total++;
        reconciles++;
        maxPerKey = Math.max(maxPerKey, n);
        maxTotal = Math.max(maxTotal, total);
        try {
          await sleep(5 + Math.floor(Math.random() * 20));
          const obj = inf.get(key);
          if (obj) lastSeen.set(key, obj.data?.n ?? '');
          return awaitChange();
        } finally {
          inFlight.set(key, n - 1);
          total--;
        }
      },
    }).for(inf);
    inf.start();
    const abort = new AbortController();
    const run = c.start(abort.signal);
    await inf.waitForSync({ timeoutMs: 30_000 });
    try {
      // Rapid concurrent updates on every key.
      await Promise.all(
        Array.from({ length: N_KEYS }, async (_, k) => {
          for (let u = 1; u <= UPDATES; u++) {
            await client.patch(CONFIGMAPS, ns2, `hot-${k}`, { data: { n: String(u) } }, { contentType: 'application/merge-patch+json' });
          }
        }),
      );
      await waitFor('final state reconciled', () => {
        for (let k = 0; k < N_KEYS; k++) if (lastSeen.get(`${ns2}/hot-${k}`) !== String(UPDATES)) return false;
        return total === 0 && c.queue.len() === 0;
      });
      expect(maxPerKey).toBe(1);
      expect(maxTotal).toBeGreaterThan(1);
      expect(reconciles).toBeLessThanOrEqual(N_KEYS * (UPDATES + 1)); // dedup: never more than one per event
    } finally {
      abort.abort();
      await run;
      await inf.stop();
    }
  });
  it('keys of the initial list wait behind everything else: a requeued key and a new object overtake them', async () => {
    // One worker, 60 objects listed at start. The first key reconciled asks to be polled again; an
    // object created meanwhile is a watch add. Both run before the initial list is through
    // (controller-runtime's priority queue; without it both wait behind every listed key).
    const N = 60;
    await Promise.all(Array.from({ length: N }, (_, i) => client.create(CONFIGMAPS, ns1, configMap(ns1, `prio-${String(i).padStart(2, '0')}`, {}, { prio: 'y' }))));
    const inf = new Informer(client, { resource: CONFIGMAPS, namespaces: [ns1], labelSelector: 'prio=y' });
    const order: string[] = [];
    let polled: string | undefined;
    const c = new Controller<null>({
      name: `rt-priority-${ns1}`,
      context: null,
      maxConcurrentReconciles: 1,
      reconciler: async (key) => {
        order.push(key);
        await sleep(20);
        if (polled === undefined) {
          polled = key;
          return requeueAfter(50);
        }
        return awaitChange();
      },
    }).for(inf);
    inf.start();
    const abort = new AbortController();
    const run = c.start(abort.signal);
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      await client.create(CONFIGMAPS, ns1, configMap(ns1, 'prio-new', {}, { prio: 'y' }));
      await waitFor('every key reconciled', () => order.length >= N + 2 && c.queue.len() === 0);
      const first = polled ?? '';
      const secondPoll = order.indexOf(first, order.indexOf(first) + 1);
      const lastListed = Math.max(...Array.from({ length: N }, (_, i) => order.indexOf(`${ns1}/prio-${String(i).padStart(2, '0')}`)));
      expect(secondPoll).toBeGreaterThan(0);
      expect(secondPoll).toBeLessThan(lastListed);
      expect(order.indexOf(`${ns1}/prio-new`)).toBeLessThan(lastListed);
    } finally {
      abort.abort();
      await run;
      await inf.stop();
    }
  });

  it('reconcileWhileListing: the first LIST page is reconciled before the list ends, awaitCacheSync() keys run again after it; other controllers wait', async () => {
    for (let i = 0; i < 5; i++) await client.create(CONFIGMAPS, ns2, configMap(ns2, `page-${i}`, {}, { listing: 'y' }));
    const held = new HeldListClient(kc, 'configmaps');
    const inf = new Informer(held, { resource: CONFIGMAPS, namespaces: [ns2], labelSelector: 'listing=y', pageSize: 2 });
    const runs: { key: string; primarySynced: boolean; cached: number }[] = [];
    const eager = new Controller<null>({
      name: `rt-while-listing-${ns2}`,
      context: null,
      maxConcurrentReconciles: 2,
      reconcileWhileListing: true,
      reconciler: async (key, _ctx, _signal, info) => {
        runs.push({ key, primarySynced: info.primarySynced, cached: inf.size });
        return info.primarySynced ? awaitChange() : awaitCacheSync();
      },
    }).for(inf);
    let plainRuns = 0;
    const plain = new Controller<null>({
      name: `rt-after-listing-${ns2}`,
      context: null,
      reconciler: async () => {
        plainRuns++;
        return awaitChange();
      },
    }).for(inf);
    const abort = new AbortController();
    inf.start();
    const running = [eager.start(abort.signal), plain.start(abort.signal)];
    try {
      await waitFor('the first page reconciled', () => runs.length === 2);
      expect(runs.every((r) => !r.primarySynced && r.cached === 2)).toBe(true);
      expect(inf.synced).toBe(false);
      expect(plainRuns).toBe(0);
      const firstPage = runs.map((r) => r.key);
      held.release();
      await waitFor('every key reconciled on the complete cache', () => new Set(runs.filter((r) => r.primarySynced).map((r) => r.key)).size === 5);
      await waitFor('the default controller, after the list', () => plainRuns === 5);
      const runsOf = (k: string) => runs.filter((r) => r.key === k).map((r) => r.primarySynced);
      for (const k of firstPage) expect(runsOf(k)).toEqual([false, true]);
      // The later pages arrive after the release, before or as the list completes: each key is
      // reconciled once on the complete cache, after at most one deferred run.
      for (let i = 2; i < 5; i++) expect([[false, true], [true]]).toContainEqual(runsOf(`${ns2}/page-${i}`));
    } finally {
      held.release();
      abort.abort();
      await Promise.all(running);
      await inf.stop();
    }
  });

  it('periodic relist (safety net) re-reads the server without firing events for unchanged objects', async () => {
    await client.create(CONFIGMAPS, ns1, configMap(ns1, 'periodic', {}, { periodic: 'y' }));
    const inf = new Informer(client, { resource: CONFIGMAPS, namespaces: [ns1], labelSelector: 'periodic=y', relistPeriodMs: 700 });
    const events: string[] = [];
    inf.onAdd((o) => events.push(`add ${objectKey(o)}`));
    inf.onUpdate((_o, n) => events.push(`update ${objectKey(n)}`));
    inf.onDelete((o) => events.push(`delete ${objectKey(o)}`));
    inf.start();
    try {
      await inf.waitForSync({ timeoutMs: 30_000 });
      // The relist counter moves when a relist starts, `lists` when its LIST finished: wait for both.
      await waitFor('two periodic relists', () => inf.stats.periodicRelists >= 2 && inf.stats.lists >= 3, 10_000);
      expect(inf.stats.lists).toBeGreaterThanOrEqual(3);
      expect(events).toEqual([`add ${ns1}/periodic`]);
    } finally {
      await inf.stop();
    }
  });
  it('keepOnly(): the cache holds what was asked for, not what kubectl apply wrote for itself', async () => {
    const manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns1, labels: { app: 'y' }, annotations: { keep: 'me' } }, data: { k: 'v' } };
    const applied = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    expect(applied.code, applied.stderr).toBe(0);
    const server = await client.get(CONFIGMAPS, ns1, 'applied');
    expect(server.metadata.annotations?.[LAST_APPLIED_ANNOTATION]).toContain('"k":"v"');
    expect(server.metadata.managedFields).toBeDefined();
    const inf = new Informer<KubeObject & { data?: Record<string, string> }>(client, {
      resource: CONFIGMAPS,
      namespaces: [ns1],
      labelSelector: 'app=y',
      transform: keepOnly({ fields: ['data'], metadata: ['name', 'namespace', 'resourceVersion', 'annotations'], dropAnnotations: [LAST_APPLIED_ANNOTATION] }),
    });
    inf.start();
    await inf.waitForSync({ timeoutMs: 30_000 });
    try {
      expect(inf.get(`${ns1}/applied`)).toEqual({ metadata: { name: 'applied', namespace: ns1, resourceVersion: server.metadata.resourceVersion, annotations: { keep: 'me' } }, data: { k: 'v' } });
      // Watch events go through the same transform; an object left with no annotation has none.
      await kubectl(['annotate', '-n', ns1, 'configmap', 'applied', 'keep-']);
      await waitFor('watch update', () => inf.get(`${ns1}/applied`)?.metadata.annotations === undefined && inf.get(`${ns1}/applied`)?.metadata.resourceVersion !== server.metadata.resourceVersion);
      expect(Object.keys(inf.get(`${ns1}/applied`) ?? {}).sort()).toEqual(['data', 'metadata']);
    } finally {
      await inf.stop();
    }
  });

  it('a transform is given the object stored under the same key: none for the first list, the cached one for an update', async () => {
    await client.create(CONFIGMAPS, ns2, configMap(ns2, 'previous', { k: 'v1' }, { app: 'prev' }));
    const calls: { name: string; data: string | undefined; previous: string | undefined }[] = [];
    const inf = new Informer<KubeObject & { data?: Record<string, string> }>(client, {
      resource: CONFIGMAPS,
      namespaces: [ns2],
      labelSelector: 'app=prev',
      transform: (obj, previous) => {
        const o = obj as KubeObject & { data?: Record<string, string> };
        calls.push({ name: o.metadata.name ?? '', data: o.data?.['k'], previous: previous?.data?.['k'] });
        return o;
      },
    });
    inf.start();
    await inf.waitForSync({ timeoutMs: 30_000 });
    try {
      await client.patch(CONFIGMAPS, ns2, 'previous', { data: { k: 'v2' } }, { contentType: 'application/merge-patch+json' });
      await waitFor('watch update', () => inf.get(`${ns2}/previous`)?.data?.['k'] === 'v2');
      expect(calls).toEqual([
        { name: 'previous', data: 'v1', previous: undefined },
        { name: 'previous', data: 'v2', previous: 'v1' },
      ]);
    } finally {
      await inf.stop();
    }
  });
});
